// End-to-end test of the demo page: serves web/ on 127.0.0.1, drives the system Chromium
// headless, runs benchmark mode on Set5 images and checks what a visitor sees. Saves a
// screenshot to $CI_OUT/demo.png (default .ci-out/demo.png).
//
//   node web/tests/page.test.mjs        (after ./web/build.sh and npm ci in web/tests)
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
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

// What the page should open on, worked out here from the files, not from the page: core's
// facts and each model's metadata through the built wasm package in node, and the
// trainer's evaluations next to the models.
const wasm = await import(pathToFileURL(path.join(WEB_DIR, "pkg/quantnas_wasm.js")).href);
wasm.initSync({ module: readFileSync(path.join(WEB_DIR, "pkg/quantnas_wasm_bg.wasm")) });
const limits = JSON.parse(wasm.limits());
const metadata = manifest.models.map((m) =>
  JSON.parse(wasm.Model.fromBytes(readFileSync(path.join(WEB_DIR, "models", m.file))).metadata()),
);
const images = JSON.parse(readFileSync(path.join(WEB_DIR, "images/manifest.json"), "utf8"));
const evals = manifest.models.map((m) => {
  const psnr = new Map();
  for (const set of images.sets) {
    const file = path.join(WEB_DIR, "models", m.file.replace(/\.qnm$/, `.${set.name.toLowerCase()}.json`));
    if (!existsSync(file)) continue;
    for (const im of JSON.parse(readFileSync(file, "utf8")).images) psnr.set(`${set.name} ${im.name}`, im.psnr);
  }
  return psnr;
});
const meanPsnr = (i) => [...evals[i].values()].reduce((a, b) => a + b, 0) / evals[i].size;
const found = metadata.map((_, i) => i).filter((i) => metadata[i].genotype !== null);
assert.ok(found.length > 0, "no bundled model is a found network");
const bestFound = found.reduce((a, b) => (meanPsnr(b) > meanPsnr(a) ? b : a));
const spreads = [...evals[0].keys()].map((name) => {
  const v = evals.map((e) => e.get(name)).filter((x) => x !== undefined);
  return { name, spread: Math.max(...v) - Math.min(...v) };
});
const opening = spreads.reduce((a, b) => (b.spread > a.spread ? b : a));
console.log(
  `page test: expect the opening on ${manifest.models[bestFound].title} (found, mean ${meanPsnr(bestFound).toFixed(2)} dB) and ${opening.name} (models ${opening.spread.toFixed(2)} dB apart)`,
);

/** Whether the results table fits its panel and the page scrolls not sideways. */
function tableFit(page) {
  return page.evaluate(() => {
    const panel = document.getElementById("results");
    const table = document.getElementById("results-table");
    const p = panel.getBoundingClientRect();
    const style = getComputedStyle(panel);
    const inner = p.right - parseFloat(style.paddingRight) - parseFloat(style.borderRightWidth);
    const cells = [...table.querySelectorAll("td, th")].filter((c) => c.getClientRects().length);
    const widest = Math.max(table.getBoundingClientRect().right, ...cells.map((c) => c.getBoundingClientRect().right));
    return {
      tableRight: widest,
      panelInner: inner,
      overflow: table.scrollWidth > table.clientWidth + 1,
      pageWidth: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
      rows: table.querySelectorAll("tbody tr").length,
    };
  });
}

async function assertTableFits(page, what) {
  const fit = await tableFit(page);
  assert.ok(fit.rows > 0, `${what}: the table has rows`);
  assert.ok(fit.tableRight <= fit.panelInner + 0.5, `${what}: table ends at ${fit.tableRight} px, panel at ${fit.panelInner}`);
  assert.ok(!fit.overflow, `${what}: the table scrolls sideways`);
  assert.ok(fit.pageWidth <= fit.viewport, `${what}: the page is ${fit.pageWidth} px wide in a ${fit.viewport} px viewport`);
}

/** What is on screen of a run: nothing of one may remain after a refused input. */
function onScreen(page) {
  return page.evaluate(() => ({
    rows: document.querySelectorAll("#results-table tbody tr").length,
    zoom: document.querySelectorAll("#zoom figure").length,
    imageInfo: document.getElementById("image-info").textContent,
    resultsInfo: document.getElementById("results-info").textContent,
    labels: document.getElementById("left-label").textContent + document.getElementById("right-label").textContent,
    views: document.getElementById("right-select").options.length,
    region: !document.getElementById("region").hidden,
    bitops: document.querySelector('[data-testid="bitops-total"]').textContent,
    readout: document.getElementById("bitops-readout").textContent,
    image: document.getElementById("image-select").selectedOptions[0]?.textContent || "",
  }));
}

/** The Set14 means the chart shows without a benchmark run: the trainer's evaluation
 * files, read here (key "bicubic" or "model:I"). */
const set14 = new Map();
{
  const mean = (stem) => {
    const file = path.join(WEB_DIR, "models", `${stem}.set14.json`);
    return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).mean_psnr : undefined;
  };
  set14.set("bicubic", mean("bicubic"));
  manifest.models.forEach((m, i) => set14.set(`model:${i}`, mean(m.file.replace(/\.qnm$/, ""))));
  for (const [k, v] of set14) assert.ok(Number.isFinite(v), `no Set14 evaluation for ${k}`);
}
/** Core's GBitOps at 32×32 of each chart key, through wasm in node (bicubic: 0). */
const gbitopsOf = (key) => (key === "bicubic" ? 0 : metadata[Number(key.slice(6))].bitopsReported / 1e9);

/** The Pareto chart's points, legend, fronts and caption as the page shows them. */
function readChart(page) {
  return page.evaluate(() => {
    const box = document.getElementById("pareto-chart");
    return {
      basis: box.dataset.basis,
      caption: document.getElementById("pareto-caption").textContent,
      legend: document.getElementById("pareto-legend").textContent,
      points: [...box.querySelectorAll(".pt")].map((g) => ({
        key: g.dataset.key,
        model: g.dataset.model ?? null,
        run: g.classList.contains("run"),
        selected: g.classList.contains("selected"),
        gbitops: Number(g.dataset.gbitops),
        psnr: Number(g.dataset.psnr),
        label: g.getAttribute("aria-label"),
        title: g.querySelector("title").textContent,
        role: g.getAttribute("role"),
        tabindex: g.getAttribute("tabindex"),
      })),
      fronts: Object.fromEntries([...box.querySelectorAll("path.front")].map((p) => [p.dataset.method, Number(p.dataset.front)])),
    };
  });
}

/** One point per bundled model and bicubic, each at core's GBitOps, with its PSNR in
 * its label and title; `psnrOf(key)` is the PSNR it must show. */
function assertNetworkPoints(chart, psnrOf, what) {
  const points = chart.points.filter((p) => !p.run);
  assert.deepEqual(
    points.map((p) => p.key).sort(),
    ["bicubic", ...manifest.models.map((_, i) => `model:${i}`)].sort(),
    `${what}: a point per bundled model and bicubic`,
  );
  for (const p of points) {
    assert.equal(p.gbitops, gbitopsOf(p.key), `${what}: ${p.key} at core's GBitOps`);
    psnrOf(p);
    const title = p.key === "bicubic" ? "Bicubic" : manifest.models[Number(p.key.slice(6))].title;
    for (const part of [title, `${p.gbitops.toFixed(2)} GBitOps`, `${p.psnr.toFixed(2)} dB`]) {
      assert.ok(p.label.includes(part) && p.title.includes(part), `${what}: ${p.key} is labelled with ${part}: ${p.label}`);
    }
    assert.equal(p.tabindex, "0", `${what}: ${p.key} is focusable`);
  }
}

/** Whether the chart fits the results panel (and the page does not scroll sideways). */
async function assertChartFits(page, what) {
  const fit = await page.evaluate(() => {
    const panel = document.getElementById("results").getBoundingClientRect();
    const chart = document.querySelector("#pareto-chart svg").getBoundingClientRect();
    const texts = [...document.querySelectorAll("#pareto-chart text")].map((t) => t.getBoundingClientRect());
    // Networks' names must not cover one another.
    const names = [...document.querySelectorAll("#pareto-chart text.name")].map((t) => t.getBoundingClientRect());
    const overlaps = names.filter((a, i) => names.some((b, j) => j > i && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)).length;
    return {
      panel: { left: panel.left, right: panel.right },
      chart: { left: chart.left, right: chart.right, width: chart.width, height: chart.height },
      textLeft: Math.min(...texts.map((r) => r.left)),
      textRight: Math.max(...texts.map((r) => r.right)),
      pageWidth: document.documentElement.scrollWidth,
      viewport: window.innerWidth,
      names: names.length,
      overlaps,
    };
  });
  assert.ok(fit.names > 0, `${what}: the networks are named`);
  assert.equal(fit.overlaps, 0, `${what}: names cover one another`);
  assert.ok(fit.chart.width > 200 && fit.chart.height > 100, `${what}: the chart is ${fit.chart.width}×${fit.chart.height} px`);
  for (const [l, r, name] of [[fit.chart.left, fit.chart.right, "chart"], [fit.textLeft, fit.textRight, "labels"]]) {
    assert.ok(l >= fit.panel.left && r <= fit.panel.right + 0.5, `${what}: ${name} ${l}–${r} px, panel ${fit.panel.left}–${fit.panel.right}`);
  }
  assert.ok(fit.pageWidth <= fit.viewport, `${what}: the page is ${fit.pageWidth} px wide in a ${fit.viewport} px viewport`);
}

/**
 * A results.json in the study's format (README, Study) for the chart's study path, which
 * no bundled file exercises yet: a run per bundled model (its real genotype, core's
 * GBitOps and its Set14 evaluation, so the page must recognise it as that model), plus
 * made-up runs of other methods placed between bicubic and the models, one of them
 * dominated, and one without a Set14 score. `bundledOf`: run → bundled model index.
 */
function studyFixture() {
  const bundledOf = new Map();
  const base = { mode: "san", residual: "adq", penalty: 0.03, entropy: 0.02, seed: 1, set5: null, b100: null };
  const study = manifest.models.map((m, i) => {
    const g = metadata[i].genotype;
    const run = {
      ...base,
      name: `${m.file.replace(/\.qnm$/, "")}-s1`,
      method: g ? "quantnas" : "uniform",
      space: g ? g.space : metadata[i].arch.kind,
      bits: metadata[i].bitWidths.join(","),
      genotype: g,
      model: `runs/${m.file.replace(/\.qnm$/, "")}/model.qnm`,
      gbitops: gbitopsOf(`model:${i}`),
      params: metadata[i].params,
      set14: { psnr: set14.get(`model:${i}`), ssim: 0.7 },
    };
    bundledOf.set(run, i);
    return run;
  });
  const low = set14.get("bicubic");
  const made = (name, method, gbitops, gain, extra = {}) => ({
    ...base, name, method, space: "basic-b", bits: "4,8", genotype: null, model: `runs/${name}/model.qnm`,
    gbitops, params: 1000, set14: { psnr: low + gain, ssim: 0.7 }, ...extra,
  });
  study.push(
    made("random-1.5-s1", "random", 1.5, 0.3, { target_gbitops: 1.5 }),
    made("random-2.5-s1", "random", 2.5, 0.2, { target_gbitops: 2.5 }), // dominated by the one above
    made("random-4-s1", "random", 4.0, 0.5, { target_gbitops: 4.0 }),
    made("two-fold-s1", "two-fold", 2.0, 0.4),
    made("edmips-s1", "edmips", 2.2, 0.35, { set14: null }), // skipped: no Set14 score
  );
  return { study, bundledOf };
}

/** How many runs no other run beats in both GBitOps (fewer) and PSNR (more). */
function frontSize(runs) {
  const dominated = (p) =>
    runs.some((q) => q !== p && q.gbitops <= p.gbitops && q.set14.psnr >= p.set14.psnr && (q.gbitops < p.gbitops || q.set14.psnr > p.set14.psnr));
  return runs.filter((p) => !dominated(p)).length;
}

/** The study bundled with the page (`trainer study --publish web/models`), if any. */
const bundledStudyFile = path.join(WEB_DIR, "models", "results.json");
const bundledStudy = existsSync(bundledStudyFile) ? JSON.parse(readFileSync(bundledStudyFile, "utf8")) : null;

/** The study's results.json is optional in web/models/: its 404 is no problem. */
const OPTIONAL = "/models/results.json";
const optional = (url) => new URL(url).pathname === OPTIONAL;
const problems = [];
/** Collects console errors, failed requests and crashes of `page` into `problems`. */
function watch(page) {
  page.on("console", (m) => m.type() === "error" && !optional(m.location().url || "http://x/") && problems.push(`console error: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => r.status() >= 400 && !(r.status() === 404 && optional(r.url())) && problems.push(`HTTP ${r.status()}: ${r.url()}`));
  page.on("crash", () => problems.push("the tab crashed"));
}
const server = await serve();
const { context, close } = await launch();
let passed = false;
try {
  const page = await context.newPage();
  watch(page);
  let runs = 0;
  const step = (name) => console.log(`page test: ${name}`);

  step("open the page at 1280 px; it benchmarks the opening image by itself");
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(server.url);
  assert.equal(await waitForRun(page, ++runs), "done", await page.textContent("#message"));
  let table = await readTable(page);
  assert.equal(table.length, 1 + modelCount, "a row for bicubic and for each bundled model");
  for (const row of table) assert.match(row.psnr, /^\d+\.\d\d$/, `${row.title} shows a PSNR`);

  step(`it opens on ${opening.name} and on the best found network, ${manifest.models[bestFound].title}`);
  const firstImage = await page.evaluate(() => document.getElementById("image-select").selectedOptions[0].textContent);
  assert.ok(firstImage.startsWith(`${opening.name} (`), `opening image ${firstImage}, expected ${opening.name}`);
  assert.match(await page.textContent("#results-info"), new RegExp(`^${opening.name},`));
  const bestTitle = manifest.models[bestFound].title;
  assert.equal(await page.inputValue("#model-select"), String(bestFound), "model selector");
  assert.equal(await page.inputValue("#cost-select"), String(bestFound), "live BitOps network");
  assert.equal(await page.inputValue("#right-select"), `model:${bestFound}`, "right-hand view");
  assert.equal(await page.textContent("#right-label"), bestTitle, "right-hand view label");
  assert.ok((await page.textContent("#arch-info")).startsWith(`${bestTitle}:`), "architecture of the opening network");
  // The architecture notes are core's description of this genotype (its residual mode).
  const notes = await page.$$eval("#arch .group .hint", (els) => els.map((e) => e.textContent));
  assert.deepEqual(notes, metadata[bestFound].parts.filter((p) => p.note).map((p) => p.note), "architecture notes");
  assert.equal(await page.locator("#arch .slot").count(), metadata[bestFound].genotype.slots.length, "a box per slot");
  const wrap = metadata[bestFound].genotype.residual;
  assert.ok(notes.some((n) => n.includes(wrap === "adq" ? "ADQ" : wrap === "adadm" ? "AdaDM" : "residual")), notes.join(" | "));
  const ownBitops = JSON.parse(wasm.archCost(JSON.stringify(metadata[bestFound].arch), 64, 64)).bitops;
  assert.equal(
    (await readTable(page)).find((r) => r.method === `model:${bestFound}`).bitops,
    await page.textContent('[data-testid="bitops-total"]'),
    "live BitOps show the opening network on this image",
  );
  assert.ok(ownBitops > 0);

  step("the Pareto chart plots each network's PSNR on the opening image at core's GBitOps");
  table = await readTable(page);
  let chart = await readChart(page);
  assert.equal(chart.basis, "image", "benchmark mode plots this image's scores");
  const liveScore = (p) => assert.equal(p.psnr.toFixed(2), table.find((r) => r.method === p.key).psnr, `${p.key}: the chart shows the table's score`);
  assertNetworkPoints(chart, liveScore, "opening run");
  assert.ok(chart.caption.includes(`PSNR on ${opening.name} from this benchmark run.`), chart.caption);
  assert.equal(chart.points.filter((p) => p.run).length, 0, "the study's Set14 runs stay off a chart of this image");
  assert.deepEqual(chart.points.filter((p) => p.selected).map((p) => p.key), [`model:${bestFound}`], "the chosen network is marked");

  step("its Set14 view shows the trainer's evaluation means");
  await page.click('input[name="pareto-basis"][value="set14"]');
  chart = await readChart(page);
  assert.equal(chart.basis, "set14");
  assertNetworkPoints(chart, (p) => assert.equal(p.psnr, set14.get(p.key), `${p.key}: its Set14 mean`), "Set14 view");
  assert.match(chart.caption, /^PSNR: Set14 means from the trainer's evaluations/);
  if (bundledStudy) {
    // The bundled study (trainer study --publish web/models): a point per run with a Set14
    // score, and each `study-NAME` network recognised as its run NAME.
    const scored = bundledStudy.filter((r) => r.set14);
    const runPoints = chart.points.filter((p) => p.run);
    assert.equal(runPoints.length, scored.length, "a point per bundled study run");
    manifest.models.forEach((m, i) => {
      const name = m.file.match(/^study-(.+)\.qnm$/)?.[1];
      if (!name) return;
      const k = bundledStudy.findIndex((r) => r.name === name);
      assert.ok(k >= 0, `${m.file} is a run of models/results.json`);
      assert.equal(runPoints.find((p) => p.key === `run:${k}`)?.model, String(i), `run ${name} is the bundled ${m.file}`);
    });
  }

  step("clicking a point selects that network and shows it against bicubic");
  // A network whose marker is not covered by another point (with many bundled, some may be).
  const other = await page.evaluate((best) => {
    for (const g of document.querySelectorAll("#pareto-chart .pt[data-model]:not(.run)")) {
      if (g.dataset.model === String(best)) continue;
      const r = g.lastElementChild.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      if (hit?.closest(".pt") === g) return Number(g.dataset.model);
    }
    return -1;
  }, bestFound);
  if (modelCount > 1) assert.ok(other >= 0, "some other network's point can be clicked");
  if (other >= 0) {
    // On its marker (the point's box also spans its name).
    await page.click(`#pareto-chart .pt[data-key="model:${other}"] > :last-child`);
    assert.equal(await page.inputValue("#model-select"), String(other), "model selector follows the click");
    assert.equal(await page.inputValue("#cost-select"), String(other), "live BitOps follow the click");
    assert.equal(await page.inputValue("#left-select"), "bicubic", "left-hand view is bicubic");
    assert.equal(await page.inputValue("#right-select"), `model:${other}`, "right-hand view is the clicked network");
    assert.equal(await page.textContent("#right-label"), manifest.models[other].title);
    assert.ok((await readChart(page)).points.find((p) => p.key === `model:${other}`).selected, "the clicked point is marked");
  }
  // From the keyboard: a focused point takes Enter, and keeps the focus after the redraw.
  await page.focus(`#pareto-chart .pt[data-key="model:${bestFound}"]`);
  await page.keyboard.press("Enter");
  assert.equal(await page.inputValue("#model-select"), String(bestFound), "Enter on a point selects it");
  assert.equal(await page.inputValue("#right-select"), `model:${bestFound}`);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.key), `model:${bestFound}`, "focus stays on the point");

  step("the results table fits its panel at 1280 px and on a 390 px phone");
  await assertTableFits(page, "1280 px");
  await assertChartFits(page, "1280 px");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(100);
  await assertTableFits(page, "390 px");
  await assertChartFits(page, "390 px");
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.waitForTimeout(100);

  step("the limits line names the current mode's limits, from core");
  const up = `${limits.maxUpscaleSide}×${limits.maxUpscaleSide}`;
  const bench = `${limits.maxBenchmarkSide}×${limits.maxBenchmarkSide}`;
  assert.match(
    await page.textContent("#limits"),
    new RegExp(`^Limits in benchmark mode: ground truths of ${limits.minBenchmarkSide} to ${limits.maxBenchmarkSide} px`),
  );

  step("bad inputs give a message naming the current mode's limit, and clear the last run");
  const bad = [
    [{ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("not an image") }, /could not be decoded/],
    [{ name: "broken.png", mimeType: "image/png", buffer: png(64, 64).subarray(0, 60) }, /could not be decoded/],
    [{ name: "big.png", mimeType: "image/png", buffer: png(600, 600) }, new RegExp(`upscale mode accepts at most ${up} px \\(benchmark mode.* ${bench} px\\)`)],
    [{ name: "huge.png", mimeType: "image/png", buffer: png(2100, 8) }, new RegExp(`upscale mode accepts at most ${up} px \\(benchmark mode.* ${bench} px\\)`)],
    [{ name: "empty.png", mimeType: "image/png", buffer: Buffer.alloc(0) }, /is empty/],
    [
      { name: "large.png", mimeType: "image/png", buffer: Buffer.alloc(limits.maxFileBytes + 1) },
      new RegExp(`files up to ${limits.maxFileBytes / 2 ** 20} MB are read \\(in either mode\\)`),
    ],
  ];
  for (const [file, message] of bad) {
    // A good run first, so that there is something the refusal must clear.
    await page.selectOption("#image-select", { label: "Set5 head (280×280)" });
    assert.equal(await waitForRun(page, ++runs), "done", await page.textContent("#message"));
    await page.setInputFiles("#file-input", file);
    assert.equal(await waitForRun(page, ++runs), "error", `${file.name} is refused`);
    assert.match(await page.textContent("#message"), message, file.name);
    assert.ok(await page.isVisible("#message"), `${file.name}: the message is shown`);
    const seen = await onScreen(page);
    assert.equal(seen.rows, 0, `${file.name}: no result rows of the last run`);
    assert.equal(seen.zoom, 0, `${file.name}: no zoom of the last run`);
    assert.equal(seen.views, 0, `${file.name}: no views of the last run`);
    assert.equal(seen.labels, "", `${file.name}: no view labels`);
    assert.ok(!seen.region, `${file.name}: no zoom region`);
    assert.equal(seen.imageInfo, "", `${file.name}: no LR size of the last run`);
    assert.ok(!seen.resultsInfo.includes("head"), `${file.name}: results info ${seen.resultsInfo}`);
    assert.equal(seen.bitops, "—", `${file.name}: no BitOps of an image that did not run`);
    assert.ok(!seen.readout.includes("70×70"), `${file.name}: live BitOps keep no size of the last run`);
    assert.ok(seen.image.includes(file.name), `${file.name}: the image selector names the refused file (${seen.image})`);
    assert.ok(!seen.image.includes("head"), `${file.name}: the image selector shows no earlier image`);
    assert.match(await page.textContent("#limits"), /^Limits in upscale mode/, `${file.name}: limits of upscale mode`);
    assert.equal(await page.evaluate(() => 6 * 7), 42, "the page still responds");
  }

  step("an image refused in one mode runs in the other, and limits follow the mode");
  await page.setInputFiles("#file-input", { name: "big.png", mimeType: "image/png", buffer: png(600, 600) });
  assert.equal(await waitForRun(page, ++runs), "error", "600×600 is refused in upscale mode");
  await page.click('input[value="benchmark"]');
  assert.equal(await waitForRun(page, ++runs), "done", "and runs in benchmark mode");
  assert.equal((await readTable(page)).length, 1 + modelCount);
  assert.match(await page.textContent("#image-info"), /^LR 150×150 → 600×600$/);
  assert.match(await page.textContent("#limits"), /^Limits in benchmark mode/);
  await page.setInputFiles("#file-input", { name: "small.png", mimeType: "image/png", buffer: png(16, 16) });
  assert.equal(await waitForRun(page, ++runs), "done", "16×16 upscales");
  chart = await readChart(page);
  assert.equal(chart.basis, "set14", "an upscale has no scores: the chart shows Set14 means");
  assert.match(chart.caption, /upscale mode has no ground truth/);
  assertNetworkPoints(chart, (p) => assert.equal(p.psnr, set14.get(p.key)), "upscale mode");
  await page.click('input[value="benchmark"]');
  assert.equal(await waitForRun(page, ++runs), "error", "16×16 is too small to score");
  const side = `${limits.minBenchmarkSide}×${limits.minBenchmarkSide}`;
  assert.match(await page.textContent("#message"), new RegExp(`benchmark mode needs at least ${side} px`));
  assert.equal((await onScreen(page)).rows, 0, "no rows of the 16×16 upscale remain");

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
  chart = await readChart(page);
  assert.equal(chart.basis, "image", "a new benchmark run plots its own scores");
  table = await readTable(page);
  assertNetworkPoints(chart, liveScore, "Set5 butterfly");
  assert.equal(chart.points.find((p) => p.key === "bicubic").psnr.toFixed(2), BUTTERFLY_BICUBIC_PSNR);

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
  const legend = [...wasm.bitWidths()].map((b) => wasm.bitsLabel(b)).join(" ");
  assert.equal((await page.textContent("#bit-legend")).trim(), legend, "the legend is core's widths and labels");
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

  step("with the study's results.json (a fixture): its runs by method, each method's front");
  const { study, bundledOf } = studyFixture();
  const page2 = await context.newPage();
  watch(page2);
  await page2.route("**/models/results.json", (route) =>
    route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(study) }),
  );
  await page2.setViewportSize({ width: 1280, height: 900 });
  await page2.goto(server.url);
  assert.equal(await waitForRun(page2, 1), "done", await page2.textContent("#message"));
  const scored = study.filter((r) => r.set14);
  chart = await readChart(page2);
  assert.equal(chart.basis, "image");
  assert.equal(chart.points.filter((p) => p.run).length, 0, "the study's Set14 runs stay off a chart of this image");
  assert.ok(chart.caption.includes(`The study's ${scored.length} runs`), chart.caption);
  await page2.click('input[name="pareto-basis"][value="set14"]');
  chart = await readChart(page2);
  assertNetworkPoints(chart, (p) => assert.equal(p.psnr, set14.get(p.key)), "with the study");
  const runPoints = chart.points.filter((p) => p.run);
  assert.equal(runPoints.length, scored.length, "a point per study run with a Set14 score");
  scored.forEach((r, k) => {
    const p = runPoints.find((q) => q.key === `run:${study.indexOf(r)}`);
    assert.ok(p, `run ${r.name} is drawn (${k})`);
    assert.equal(p.gbitops, r.gbitops, `${r.name}: GBitOps from results.json`);
    assert.equal(p.psnr, r.set14.psnr, `${r.name}: Set14 PSNR from results.json`);
    assert.ok(p.label.includes(r.name) && p.label.includes(r.method), p.label);
    assert.equal(p.model, bundledOf.has(r) ? String(bundledOf.get(r)) : null, `${r.name}: which bundled model it is`);
  });
  const methods = [...new Set(scored.map((r) => r.method))];
  for (const m of methods) assert.ok(chart.legend.includes(m), `legend names ${m}: ${chart.legend}`);
  assert.deepEqual(chart.fronts, Object.fromEntries(methods.map((m) => [m, frontSize(scored.filter((r) => r.method === m))])), "one front per method, of its non-dominated runs");
  assert.ok(chart.caption.includes(`With the study's ${scored.length} runs`), chart.caption);
  // A run that is a bundled model selects it, from the keyboard (its bundled point is on top).
  const selectedNow = await page2.inputValue("#model-select");
  const bundledRun = scored.find((r) => bundledOf.has(r) && String(bundledOf.get(r)) !== selectedNow);
  if (bundledRun) {
    await page2.focus(`#pareto-chart .pt[data-key="run:${study.indexOf(bundledRun)}"]`);
    await page2.keyboard.press("Enter");
    assert.equal(await page2.inputValue("#model-select"), String(bundledOf.get(bundledRun)), "a study run's point selects its bundled model");
  }
  await assertChartFits(page2, "1280 px with the study");
  await page2.locator("#pareto").screenshot({ path: path.join(outDir, "pareto-study.png") });
  await page2.setViewportSize({ width: 390, height: 844 });
  await page2.waitForTimeout(100);
  await assertChartFits(page2, "390 px with the study");
  await page2.close();
  assert.deepEqual(problems, [], "no console errors, failed requests or crashes with results.json");
  passed = true;
} finally {
  await close();
  server.stop();
  if (!passed && problems.length) console.error(problems.join("\n"));
}
console.log("page test: ok");
