// Browser benchmark: time per bundled model for a 256×256 → 1024×1024 upscale in headless
// Chromium (Set5 butterfly in upscale mode), as the page measures it (the upscale call in
// the worker). Prints a Markdown table and writes $CI_OUT/browser-bench.json.
//
//   node web/tests/bench.mjs [repeats]     (after ./web/build.sh and npm ci in web/tests)
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CHROMIUM, REPO_DIR, WEB_DIR, launch, readTable, serve, waitForRun } from "./harness.mjs";

const repeats = Number(process.argv[2] || 3);
const outDir = path.resolve(REPO_DIR, process.env.CI_OUT || ".ci-out");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const server = await serve();
const { context, close } = await launch();
const rows = [];
let kernel = "unknown";
try {
  const page = await context.newPage();
  await page.goto(server.url);
  let runs = 1;
  await waitForRun(page, runs);
  kernel = await page.evaluate(() => document.body.dataset.kernel || "unknown");
  await page.setInputFiles("#file-input", path.join(WEB_DIR, "images/Set5/butterfly.png"));
  if ((await waitForRun(page, ++runs)) !== "done") throw new Error(await page.textContent("#message"));
  const options = await page.$$eval("#model-select option", (os) => os.map((o) => ({ value: o.value, label: o.textContent })));
  const models = options.filter((o) => o.value !== "");
  const bicubic = [];
  for (const m of models.length ? models : [null]) {
    let cold = null;
    if (m) {
      await page.selectOption("#model-select", m.value); // upscale mode: re-runs with this model
      if ((await waitForRun(page, ++runs)) !== "done") throw new Error(await page.textContent("#message"));
      cold = (await readTable(page)).find((r) => r.method !== "bicubic").time;
    }
    const times = [];
    for (let k = 0; k < repeats; k++) {
      await page.click("#run-button");
      if ((await waitForRun(page, ++runs)) !== "done") throw new Error(await page.textContent("#message"));
      const table = await readTable(page);
      bicubic.push(table.find((r) => r.method === "bicubic").time);
      if (m) times.push(table.find((r) => r.method !== "bicubic").time);
    }
    if (m) rows.push({ model: m.label, ms: median(times), runs: times, cold });
    const info = await page.textContent("#image-info");
    if (!info.includes("256×256 → 1024×1024")) throw new Error(`unexpected sizes: ${info}`);
  }
  rows.unshift({ model: "bicubic (MATLAB imresize)", ms: median(bicubic), runs: bicubic, cold: null });
} finally {
  await close();
  server.stop();
}

const chromium = execFileSync(CHROMIUM, ["--version"], { encoding: "utf8" }).trim();
const cpu = `${os.cpus()[0].model}, ${os.cpus().length} logical cores`;
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, "browser-bench.json"), JSON.stringify({ chromium, cpu, repeats, rows }, null, 2));
console.log(`${chromium}; ${cpu}; conv kernel ${kernel}; median of ${repeats} runs after a first (cold) run\n`);
console.log("| method | 256×256 → 1024×1024, median (ms) | runs (ms) | first run (ms) |");
console.log("|---|---:|---|---:|");
const f = (t) => (t === null ? "—" : t.toFixed(0));
for (const r of rows) console.log(`| ${r.model} | ${f(r.ms)} | ${r.runs.map(f).join(", ")} | ${f(r.cold)} |`);
