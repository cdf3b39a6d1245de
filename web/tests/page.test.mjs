// End-to-end test of the demo page: serves web/ on 127.0.0.1, drives the system Chromium
// headless, runs benchmark mode on Set5 images and checks what a visitor sees. Saves a
// screenshot to $CI_OUT/demo.png (default .ci-out/demo.png).
//
//   node web/tests/page.test.mjs        (after ./web/build.sh and npm ci in web/tests)
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO_DIR, WEB_DIR, launch, readTable, serve, waitForRun } from "./harness.mjs";
import { png } from "./png.mjs";

/** Bicubic ×4 PSNR of Set5 butterfly from core natively (wasm/tests/suite: 22.0996 dB). */
const BUTTERFLY_BICUBIC_PSNR = "22.10";
const outDir = path.resolve(REPO_DIR, process.env.CI_OUT || ".ci-out");
const manifest = JSON.parse(readFileSync(path.join(WEB_DIR, "models/manifest.json"), "utf8"));
const modelCount = manifest.models.length;
// The page is a demo of the bundled models: with none, every model check below would pass
// vacuously.
assert.ok(modelCount > 0, "web/models/manifest.json lists no model");

const problems = [];
const server = await serve();
const { context, close } = await launch();
let passed = false;
try {
  const page = await context.newPage();
  page.on("console", (m) => m.type() === "error" && problems.push(`console error: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  page.on("crash", () => problems.push("the tab crashed"));
  let runs = 0;
  const step = (name) => console.log(`page test: ${name}`);

  step("open the page; it benchmarks the first bundled image by itself");
  await page.goto(server.url);
  assert.equal(await waitForRun(page, ++runs), "done", await page.textContent("#message"));
  let table = await readTable(page);
  assert.equal(table.length, 1 + modelCount, "a row for bicubic and for each bundled model");
  for (const row of table) assert.match(row.psnr, /^\d+\.\d\d$/, `${row.title} shows a PSNR`);

  step("bad inputs give a message, and the page goes on working");
  const bad = [
    [{ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not an image") }, /could not be decoded/],
    [{ name: "broken.png", mimeType: "image/png", buffer: png(64, 64).subarray(0, 60) }, /could not be decoded/],
    [{ name: "big.png", mimeType: "image/png", buffer: png(600, 600) }, /at most 512×512 px/],
    [{ name: "huge.png", mimeType: "image/png", buffer: png(2100, 8) }, /at most 2048×2048 px/],
    [{ name: "empty.png", mimeType: "image/png", buffer: Buffer.alloc(0) }, /is empty/],
  ];
  for (const [file, message] of bad) {
    await page.setInputFiles("#file-input", file);
    assert.equal(await waitForRun(page, ++runs), "error", `${file.name} is refused`);
    assert.match(await page.textContent("#message"), message, file.name);
    assert.ok(await page.isVisible("#message"), `${file.name}: the message is shown`);
    assert.equal(await page.evaluate(() => 6 * 7), 42, "the page still responds");
  }

  step("benchmark mode on Set5 butterfly");
  await page.selectOption("#image-select", { label: "Set5 butterfly (256×256)" });
  assert.equal(await waitForRun(page, ++runs), "done", await page.textContent("#message"));
  assert.ok(await page.isChecked('input[value="benchmark"]'), "bundled images default to benchmark mode");
  table = await readTable(page);
  assert.equal(table.length, 1 + modelCount);
  const bicubic = table.find((r) => r.method === "bicubic");
  assert.equal(bicubic.psnr, BUTTERFLY_BICUBIC_PSNR, "bicubic in the page equals core's native bicubic");
  const models = table.filter((r) => r.method.startsWith("model:"));
  for (const row of models) {
    assert.match(row.psnr, /^\d+\.\d\d$/, `${row.title} shows a PSNR`);
    assert.match(row.ssim, /^0\.\d{4}$/, `${row.title} shows an SSIM`);
    assert.match(row.bitops, /^\d[\d.]* [kMGTP]$/, `${row.title} shows its BitOps`);
    assert.ok(row.time > 0, `${row.title} shows a time`);
  }
  // Browser equals native: the trainer's own evaluation of each model (`<stem>.set5.json`
  // next to it, written by `trainer eval`), where there is one.
  manifest.models.forEach((entry, i) => {
    const evalFile = path.join(WEB_DIR, "models", entry.file.replace(/\.qnm$/, ".set5.json"));
    assert.ok(existsSync(evalFile), `${entry.file} has no trainer evaluation ${evalFile}`);
    const native = JSON.parse(readFileSync(evalFile, "utf8")).images.find((im) => im.name === "butterfly");
    const row = table.find((r) => r.method === `model:${i}`);
    assert.equal(row.psnr, native.psnr.toFixed(2), `${entry.file}: page PSNR equals native (${evalFile})`);
  });
  assert.equal(models.length, modelCount, "a result row for every bundled model");
  const best = Math.max(...models.map((r) => Number(r.psnr)));
  assert.ok(best > Number(bicubic.psnr), `a bundled model (${best} dB) beats bicubic (${bicubic.psnr} dB)`);
  assert.equal(await page.locator("#zoom figure").count(), 3 + modelCount, "zoom: HR, LR, bicubic, each model");

  step("live BitOps follow the network and the image size");
  assert.match(await page.textContent("#bitops-readout"), /64×64 → 256×256/);
  const firstNetwork = await page.inputValue("#cost-select");
  await page.selectOption("#cost-select", { label: "ESPCN 8-bit" });
  // Spec §8: 37,056 MACs per LR pixel; 64×64 at 8 bits is 9.71 GBitOps, 32×32 2.43 G.
  assert.equal(await page.textContent('[data-testid="bitops-total"]'), "9.71 G");
  assert.equal(await page.textContent('[data-testid="bitops-reported"]'), "2.43 G");
  assert.equal(await page.locator("#layer-bars rect").count(), 3, "one bar per ESPCN conv");
  assert.equal(await page.locator("#arch .slot").count(), 3, "ESPCN drawn as its three convs");
  // The bit-width colours are core's (set from wasm at start-up): an 8-bit bar is painted
  // with --b8, and --b8 is a colour.
  const colours = await page.evaluate(() => {
    const b8 = getComputedStyle(document.documentElement).getPropertyValue("--b8").trim();
    const probe = document.createElement("div");
    probe.style.color = b8;
    document.body.append(probe);
    const want = getComputedStyle(probe).color;
    probe.remove();
    return { b8, want, bar: getComputedStyle(document.querySelector("#layer-bars rect.b8")).fill };
  });
  assert.match(colours.b8, /^#[0-9a-f]{6}$/, "core's 8-bit colour is in the page's CSS");
  assert.equal(colours.bar, colours.want, "8-bit layers are drawn in core's 8-bit colour");
  await page.selectOption("#cost-select", firstNetwork);
  assert.match(await page.textContent('[data-testid="bitops-total"]'), /^\d[\d.]* [kMGTP]$/);
  assert.ok((await page.locator("#layer-bars rect").count()) > 0, "per-layer bars drawn");
  assert.ok((await page.locator("#arch .slot").count()) > 0, "architecture drawn");

  assert.deepEqual(problems, [], "no console errors, failed requests or crashes");
  mkdirSync(outDir, { recursive: true });
  const shot = path.join(outDir, "demo.png");
  await page.screenshot({ path: shot, fullPage: true });
  step(`screenshot saved to ${shot}`);
  console.log(`page test: bicubic ${bicubic.psnr} dB; ${models.map((r) => `${r.title} ${r.psnr} dB`).join("; ") || "no bundled model"}`);
  passed = true;
} finally {
  await close();
  server.stop();
  if (!passed && problems.length) console.error(problems.join("\n"));
}
console.log("page test: ok");
