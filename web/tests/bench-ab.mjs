// Browser A/B benchmark: the page of another build (a baseline web/ folder, e.g. one made
// from an older commit with its own ./web/build.sh) against this one, in two tabs of one
// headless Chromium, run in interleaved rounds (baseline, this, baseline, this, …) so
// that machine load hits both alike. Times are what each page measures (the upscale call
// in its Web Worker), Set5 butterfly in upscale mode, 256×256 → 1024×1024. Prints, per
// model, both medians and the median over rounds of baseline time ÷ this time.
//
//   git archive OLD | tar -x -C /tmp/old && (cd /tmp/old && ./web/build.sh)
//   node web/tests/bench-ab.mjs /tmp/old/web [rounds] [model label regex] [this web dir]
// (the last defaults to this checkout's web/, after ./web/build.sh)
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { CHROMIUM, WEB_DIR, launch, readTable, serve, waitForRun } from "./harness.mjs";

const baseDir = path.resolve(process.argv[2] || "");
const rounds = Number(process.argv[3] || 7);
const only = new RegExp(process.argv[4] || ".", "i");
const thisDir = path.resolve(process.argv[5] || WEB_DIR);
if (!process.argv[2]) throw new Error("usage: node web/tests/bench-ab.mjs BASELINE_WEB_DIR [rounds] [model regex]");
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

/** A tab of the page in `dir`, with the butterfly loaded; `runs` counts its runs. */
async function open(context, dir) {
  const server = await serve(dir);
  const page = await context.newPage();
  await page.goto(server.url);
  const tab = { server, page, runs: 1 };
  await waitForRun(page, tab.runs);
  await page.setInputFiles("#file-input", path.join(WEB_DIR, "images/Set5/butterfly.png"));
  await run(tab);
  tab.kernel = await page.evaluate(() => document.body.dataset.kernel || "simd128 (not named)");
  return tab;
}

/** Waits for the tab's next run; throws with the page's message when it failed. */
async function run(tab) {
  if ((await waitForRun(tab.page, ++tab.runs)) !== "done") throw new Error(await tab.page.textContent("#message"));
}

/** The model's time in the results table. */
async function time(tab) {
  const row = (await readTable(tab.page)).find((r) => r.method !== "bicubic");
  if (!row) throw new Error("no model row in the results table");
  return row.time;
}

const { context, close } = await launch();
const tabs = [];
try {
  tabs.push(await open(context, baseDir), await open(context, thisDir));
  const [base, now] = tabs;
  const labels = await now.page.$$eval("#model-select option", (os) => os.filter((o) => o.value !== "").map((o) => o.textContent));
  const version = (await context.browser()?.version()) || execFileSync(CHROMIUM, ["--version"], { encoding: "utf8" }).trim();
  console.log(`${version}; ${os.cpus()[0].model}, ${os.cpus().length} logical cores; load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`baseline ${baseDir} (kernel ${base.kernel}) vs ${thisDir} (kernel ${now.kernel}), ${rounds} interleaved rounds after a warm-up\n`);
  console.log("| model | baseline median (ms) | this median (ms) | baseline ÷ this (median per round) | per round |");
  console.log("|---|---:|---:|---:|---|");
  for (const label of labels.filter((l) => only.test(l))) {
    for (const tab of tabs) {
      const values = await tab.page.$$eval("#model-select option", (os, l) => os.filter((o) => o.textContent === l).map((o) => o.value), label);
      if (!values.length) throw new Error(`the baseline page has no model "${label}"`);
      await tab.page.selectOption("#model-select", values[0]); // upscale mode: runs it once (warm-up)
      await run(tab);
    }
    const ms = [[], []];
    for (let i = 0; i < rounds; i++) {
      for (const [k, tab] of tabs.entries()) {
        await tab.page.bringToFront();
        await tab.page.click("#run-button");
        await run(tab);
        ms[k].push(await time(tab));
      }
    }
    const ratios = ms[0].map((b, i) => b / ms[1][i]);
    const f = (x) => x.toFixed(0);
    console.log(`| ${label} | ${f(median(ms[0]))} | ${f(median(ms[1]))} | **${median(ratios).toFixed(2)}×** | ${ratios.map((r) => r.toFixed(2)).join(", ")} |`);
  }
  console.log(`\nload after: ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
} finally {
  await close();
  for (const t of tabs) t.server.stop();
}
