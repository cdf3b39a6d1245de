// Browser benchmark against onnxruntime-web: the page's engine (web/pkg) and
// onnxruntime-web 1.30 (wasm EP, SIMD, one thread) on the same trained ESPCN-8, fp32 and
// int8 QDQ, 256×256 → 1024×1024, interleaved in one worker in headless Chromium. Prints
// medians and the median over rounds of engine time ÷ ORT time.
//
//   python3 scripts/bench-ort.py --save /tmp/ort-models     (the two ONNX models)
//   (cd web/tests/ort && npm ci)                            (onnxruntime-web, pinned)
//   node web/tests/bench-ort.mjs /tmp/ort-models [rounds]   (after ./web/build.sh)
import { cpSync, mkdtempSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { WEB_DIR, launch, serve } from "./harness.mjs";

const models = path.resolve(process.argv[2] || "/tmp/ort-models");
const rounds = Number(process.argv[3] || 9);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

// A served folder: the page's pkg and models, onnxruntime-web's dist, the ONNX models.
const root = mkdtempSync(path.join(os.tmpdir(), "bench-ort-web-"));
symlinkSync(path.join(WEB_DIR, "pkg"), path.join(root, "pkg"));
symlinkSync(path.join(WEB_DIR, "pkg-relaxed"), path.join(root, "pkg-relaxed"));
symlinkSync(path.join(WEB_DIR, "models"), path.join(root, "models"));
const bench = path.join(root, "bench");
cpSync(path.join(WEB_DIR, "tests/ort/bench-worker.js"), path.join(bench, "bench-worker.js"));
symlinkSync(path.join(WEB_DIR, "tests/ort/node_modules/onnxruntime-web/dist"), path.join(bench, "ort"));
symlinkSync(models, path.join(bench, "models"));
cpSync(path.join(WEB_DIR, "tests/ort/bench.html"), path.join(bench, "index.html"));

const server = await serve(root);
const { context, close } = await launch();
try {
  const page = await context.newPage();
  await page.goto(`${server.url}bench/`);
  const result = await page.evaluate(
    ({ rounds }) =>
      new Promise((resolve) => {
        const w = new Worker("bench-worker.js", { type: "module" });
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => resolve({ error: e.message });
        w.postMessage({ rounds, side: 256 });
      }),
    { rounds },
  );
  if (result.error) throw new Error(result.error);
  const engine = Object.values(result.ms)[0];
  const version = (await context.browser()?.version()) || "Chromium";
  console.log(`ESPCN-8 trained, 256x256 -> 1024x1024, ${version}, one thread, ${rounds} interleaved rounds`);
  console.log(`| variant | median ms | engine ÷ it (median per round) |\n|---|---|---|`);
  for (const [k, v] of Object.entries(result.ms)) {
    const ratio = median(engine.map((e, i) => e / v[i]));
    console.log(`| ${k} | ${median(v).toFixed(1)} | ${ratio.toFixed(3)} |`);
  }
} finally {
  await close();
  server.stop();
}
