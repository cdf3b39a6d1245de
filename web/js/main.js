// The page: picks an image, sends it to the worker, shows what comes back, and keeps the
// live BitOps readouts in step with the image size and the chosen network.
import { Compare, REGION_SIDE, renderZoom, telltaleRegion } from "./compare.js";
import { renderArchitecture, renderLayerBars, renderReadout, renderShare } from "./cost-view.js";
import { MAX_BENCHMARK_SIDE, MAX_FILE_BYTES, MAX_UPSCALE_SIDE, MIN_BENCHMARK_SIDE, decode } from "./decode.js";
import * as fmt from "./format.js";

const SCALE = 4;
/** Fixed networks shown for their cost only (no weights are loaded for them). */
const REFERENCES = [
  { title: "ESPCN 8-bit", arch: { kind: "espcn", bits: 8 } },
  { title: "ESPCN 4-bit", arch: { kind: "espcn", bits: 4 } },
  { title: "SRResNet 8-bit", arch: { kind: "srresnet", bits: 8 } },
  { title: "SRResNet 4-bit", arch: { kind: "srresnet", bits: 4 } },
  { title: "RFDN 8-bit", arch: { kind: "rfdn", bits: 8 } },
  { title: "RFDN 4-bit", arch: { kind: "rfdn", bits: 4 } },
];

const $ = (id) => document.getElementById(id);
const ui = {
  imageSelect: $("image-select"),
  fileInput: $("file-input"),
  modelSelect: $("model-select"),
  costSelect: $("cost-select"),
  runButton: $("run-button"),
  progress: $("progress"),
  statusText: $("status-text"),
  message: $("message"),
  leftSelect: $("left-select"),
  rightSelect: $("right-select"),
  imageInfo: $("image-info"),
  zoom: $("zoom"),
  zoomInfo: $("zoom-info"),
  tbody: document.querySelector("#results-table tbody"),
  resultsInfo: $("results-info"),
  readout: $("bitops-readout"),
  share: $("bit-share"),
  bars: $("layer-bars"),
  arch: $("arch"),
  archInfo: $("arch-info"),
  limits: $("limits"),
  drop: $("drop-overlay"),
};

const state = {
  wasm: null, // the wasm package on the main thread (cost counting only)
  worker: null,
  images: [], // {set, file, name}
  models: [], // {title, description, file, metadata, arch, genotype, bitWidths, kind: "model"}
  source: null, // {name, bundled, data: ImageData}
  mode: "benchmark",
  runId: 0,
  views: new Map(), // id → {label, canvas, imageData, scale, caption}
  rows: new Map(), // method → {psnr, ssim, ms}
  region: null,
  userPickedView: false,
  loadProblems: "",
};

// ---------- status and messages ----------

function setStatus(text, done = 0, total = 1) {
  ui.statusText.textContent = text;
  ui.progress.max = total;
  ui.progress.value = done;
}

function showMessage(text, kind = "error") {
  ui.message.textContent = text;
  ui.message.className = kind === "info" ? "message info" : "message";
  ui.message.hidden = !text;
}

/** Model load problems, or the note that no model is bundled; else nothing. */
function showBaseMessage() {
  if (state.loadProblems) showMessage(`Some models did not load:\n${state.loadProblems}`);
  else if (!state.models.length) {
    showMessage("No trained model is bundled yet (web/models/manifest.json lists none): only bicubic runs.", "info");
  } else showMessage("");
}

/** `data-state` on <body>: loading, running, done or error (the page test waits on it). */
function setRunning() {
  document.body.dataset.state = "running";
}

// ---------- networks and their costs ----------

function costEntries() {
  return state.models.concat(REFERENCES.map((r) => ({ ...r, kind: "reference", genotype: null })));
}

function lrSize() {
  if (!state.source) return { width: 32, height: 32 };
  const { width, height } = state.source.data;
  return state.mode === "benchmark"
    ? { width: Math.floor(width / SCALE), height: Math.floor(height / SCALE) }
    : { width, height };
}

function cost(arch, lr) {
  return JSON.parse(state.wasm.archCost(JSON.stringify(arch), lr.height, lr.width));
}

function updateCost() {
  if (!state.wasm) return;
  const entry = costEntries()[Number(ui.costSelect.value)];
  if (!entry) return;
  const lr = lrSize();
  try {
    const report = cost(entry.arch, lr);
    const reported = cost(entry.arch, { width: 32, height: 32 });
    entry.bitWidths = entry.bitWidths || [...new Set(report.layers.map((l) => l.bits))].sort((a, b) => a - b);
    renderReadout(ui.readout, report, reported, lr);
    renderShare(ui.share, report);
    renderLayerBars(ui.bars, report);
    renderArchitecture(ui.arch, ui.archInfo, entry, report);
  } catch (e) {
    ui.readout.replaceChildren();
    ui.bars.replaceChildren();
    ui.share.replaceChildren();
    const dt = document.createElement("dt");
    dt.textContent = `${entry.title} cannot run on ${lr.width}×${lr.height}: ${e.message || e}`;
    ui.readout.append(dt);
  }
  updateTableCosts();
}

function fillNetworkSelects() {
  ui.modelSelect.replaceChildren();
  state.models.forEach((m, i) => ui.modelSelect.append(new Option(m.title, String(i))));
  if (!state.models.length) ui.modelSelect.append(new Option("(no trained model bundled)", ""));
  ui.modelSelect.disabled = !state.models.length;
  ui.costSelect.replaceChildren();
  const entries = costEntries();
  const found = document.createElement("optgroup");
  found.label = "Bundled models";
  const refs = document.createElement("optgroup");
  refs.label = "Reference networks (cost only)";
  entries.forEach((e, i) => (e.kind === "model" ? found : refs).append(new Option(e.title, String(i))));
  if (found.children.length) ui.costSelect.append(found);
  ui.costSelect.append(refs);
  ui.costSelect.value = "0";
}

// ---------- results table ----------

function methods() {
  const list = [{ method: "bicubic", title: "Bicubic", sub: "MATLAB imresize", bits: "—" }];
  state.models.forEach((m, i) =>
    list.push({ method: `model:${i}`, title: m.title, sub: m.description, bits: fmt.bits(m.bitWidths), model: m }),
  );
  return list;
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function renderTable(runMethods) {
  ui.tbody.replaceChildren();
  for (const m of methods()) {
    if (!runMethods.includes(m.method)) continue;
    const tr = document.createElement("tr");
    tr.dataset.method = m.method;
    tr.className = "pending";
    const name = cell(m.title);
    if (m.sub) {
      const s = document.createElement("span");
      s.className = "sub clamp";
      s.textContent = m.sub;
      s.title = m.sub;
      name.append(s);
    }
    tr.append(
      name,
      cell(m.bits),
      cell("…", "psnr"),
      cell("…", "ssim"),
      cell("—", "bitops"),
      cell(m.model ? fmt.si(m.model.metadata.bitopsReported) : "—", "bitops32"),
      cell(m.model ? fmt.si(m.model.metadata.params) : "—", "params"),
      cell("…", "time"),
    );
    ui.tbody.append(tr);
  }
  updateTableCosts();
}

function updateTableCosts() {
  const lr = lrSize();
  for (const tr of ui.tbody.querySelectorAll("tr")) {
    const m = tr.dataset.method;
    if (!m.startsWith("model:")) continue;
    const model = state.models[Number(m.slice(6))];
    try {
      tr.querySelector(".bitops").textContent = fmt.si(cost(model.arch, lr).bitops);
    } catch {
      tr.querySelector(".bitops").textContent = "—";
    }
  }
}

function updateRow(msg) {
  const tr = ui.tbody.querySelector(`tr[data-method="${msg.method}"]`);
  if (!tr) return;
  tr.classList.remove("pending");
  const p = tr.querySelector(".psnr");
  p.textContent = fmt.psnr(msg.psnr);
  if (msg.psnr !== null) p.dataset.value = String(msg.psnr);
  tr.querySelector(".ssim").textContent = fmt.ssim(msg.ssim);
  tr.querySelector(".time").textContent = fmt.ms(msg.ms);
  tr.querySelector(".time").dataset.value = String(msg.ms);
  let best = null;
  for (const row of ui.tbody.querySelectorAll("tr")) {
    row.classList.remove("best");
    const v = Number(row.querySelector(".psnr").dataset.value);
    if (row.querySelector(".psnr").dataset.value && (!best || v > best.v)) best = { row, v };
  }
  if (best) best.row.classList.add("best");
}

/** A method that refused the input: its row says why. */
function failRow(msg) {
  const tr = ui.tbody.querySelector(`tr[data-method="${msg.method}"]`);
  if (!tr) return;
  tr.classList.remove("pending");
  tr.classList.add("failed");
  for (const c of ["psnr", "ssim", "time"]) tr.querySelector(`.${c}`).textContent = "—";
  tr.cells[0].title = msg.error;
  const note = document.createElement("span");
  note.className = "sub";
  note.textContent = `not run: ${msg.error}`;
  tr.cells[0].append(note);
}

// ---------- comparison view ----------

const compare = new Compare(
  {
    compare: $("compare"),
    left: $("left-canvas"),
    right: $("right-canvas"),
    divider: $("divider"),
    region: $("region"),
    split: $("split"),
    leftLabel: $("left-label"),
    rightLabel: $("right-label"),
  },
  (region) => {
    state.region = region;
    drawZoom();
  },
);

function toCanvas(imageData) {
  const c = document.createElement("canvas");
  c.width = imageData.width;
  c.height = imageData.height;
  c.getContext("2d").putImageData(imageData, 0, 0);
  return c;
}

function viewLabel(id) {
  if (id === "hr") return "HR (ground truth)";
  if (id === "lr") return state.mode === "benchmark" ? "LR input (nearest)" : "Input (nearest)";
  if (id === "bicubic") return "Bicubic";
  return state.models[Number(id.slice(6))].title;
}

function caption(id) {
  const r = state.rows.get(id);
  if (!r) return id === "lr" ? "what the networks see" : "";
  return r.psnr !== null ? `${fmt.psnr(r.psnr)} dB · ${fmt.ms(r.ms)}` : fmt.ms(r.ms);
}

function addView(id, msg, scale = 1) {
  const imageData = new ImageData(new Uint8ClampedArray(msg.rgba.buffer), msg.width, msg.height);
  state.views.set(id, { label: viewLabel(id), canvas: toCanvas(imageData), imageData, scale });
  const order = ["hr", "bicubic", ...state.models.map((_, i) => `model:${i}`), "lr"];
  for (const sel of [ui.leftSelect, ui.rightSelect]) {
    const keep = sel.value;
    sel.replaceChildren();
    for (const v of order) if (state.views.has(v) && v !== "lr") sel.append(new Option(viewLabel(v), v));
    if (keep && state.views.has(keep)) sel.value = keep;
  }
}

function defaultViews() {
  const chosen = ui.modelSelect.value !== "" ? `model:${ui.modelSelect.value}` : null;
  const right = chosen && state.views.has(chosen) ? chosen : state.views.has("hr") ? "hr" : "bicubic";
  return { left: "bicubic", right };
}

function showViews() {
  if (!state.userPickedView) {
    const d = defaultViews();
    if (state.views.has(d.left)) ui.leftSelect.value = d.left;
    if (state.views.has(d.right)) ui.rightSelect.value = d.right;
  }
  compare.show(state.views.get(ui.leftSelect.value) || null, state.views.get(ui.rightSelect.value) || null);
}

function drawZoom() {
  if (!state.region) {
    ui.zoom.replaceChildren();
    return;
  }
  const order = ["hr", "lr", "bicubic", ...state.models.map((_, i) => `model:${i}`)];
  const items = order
    .filter((id) => state.views.has(id))
    .map((id) => ({ ...state.views.get(id), label: viewLabel(id), caption: caption(id) }));
  renderZoom(ui.zoom, items, state.region);
  const r = state.region;
  ui.zoomInfo.textContent = `${r.side}×${r.side} px at (${r.x}, ${r.y}), magnified; click the image to move it`;
}

/** Starts the zoom where the model on the right (else the first model) gains most. */
function autoRegion() {
  const bic = state.views.get("bicubic");
  if (!bic) return;
  const right = ui.rightSelect.value;
  const model = right.startsWith("model:")
    ? state.views.get(right)
    : [...state.views.entries()].find(([k]) => k.startsWith("model:"))?.[1];
  const hr = state.views.get("hr");
  if (model) {
    state.region = telltaleRegion(bic.imageData, model.imageData, hr ? hr.imageData : null);
  } else {
    const side = Math.min(REGION_SIDE, bic.canvas.width, bic.canvas.height);
    state.region = { x: (bic.canvas.width - side) >> 1, y: (bic.canvas.height - side) >> 1, side };
  }
  compare.region = state.region;
  compare.drawRegion();
  drawZoom();
}

// ---------- worker ----------

function startWorker() {
  if (state.worker) state.worker.terminate();
  const worker = new Worker(new URL("../worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (e) => onWorkerMessage(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    fatal(`The worker failed to start (${e.message || "module error"}). Was ./web/build.sh run?`);
  };
  worker.postMessage({ type: "init" });
  state.worker = worker;
  return worker;
}

function fatal(text) {
  showMessage(text);
  setStatus("Stopped.");
  document.body.dataset.state = "error";
  ui.runButton.disabled = true;
}

let onReady = null;

function onWorkerMessage(msg) {
  if (msg.type === "ready") {
    // Which conv kernel the worker's module runs (for the tests and benchmarks).
    document.body.dataset.kernel = msg.kernel;
    state.models = msg.models.map((m) => ({
      ...m,
      kind: "model",
      arch: m.metadata.arch,
      genotype: m.metadata.genotype,
      bitWidths: m.metadata.bitWidths,
    }));
    state.loadProblems = msg.failed.map((f) => `${f.file}: ${f.message}`).join("\n");
    if (onReady) {
      const f = onReady;
      onReady = null;
      f(msg);
    }
    return;
  }
  if (msg.type === "fatal") return fatal(msg.message);
  if (msg.runId !== state.runId) return; // an older run
  switch (msg.type) {
    case "status":
      setStatus(msg.text, msg.done, msg.total);
      break;
    case "image":
      addView(msg.role, msg, msg.role === "lr" ? SCALE : 1);
      if (msg.role === "lr") ui.imageInfo.textContent = `LR ${msg.width}×${msg.height} → ${SCALE * msg.width}×${SCALE * msg.height}`;
      showViews();
      break;
    case "result":
      if (msg.error) {
        failRow(msg);
        break;
      }
      state.rows.set(msg.method, { psnr: msg.psnr, ssim: msg.ssim, ms: msg.ms });
      addView(msg.method, msg);
      updateRow(msg);
      showViews();
      break;
    case "done": {
      const total = [...state.rows.values()].reduce((s, r) => s + r.ms, 0);
      setStatus(`Done: ${state.rows.size} upscales in ${(total / 1000).toFixed(2)} s of compute.`, 1, 1);
      autoRegion();
      showViews();
      ui.runButton.disabled = false;
      document.body.dataset.state = "done";
      break;
    }
    case "error":
      showMessage(`The run failed: ${msg.message}`);
      setStatus("Failed.");
      ui.runButton.disabled = false;
      document.body.dataset.state = "error";
      // A trap can leave the wasm instance unusable: start a fresh worker.
      onReady = () => {};
      startWorker();
      break;
    default:
      break;
  }
}

// ---------- inputs ----------

function limitsText() {
  return `Limits: upscale mode takes images up to ${MAX_UPSCALE_SIDE}×${MAX_UPSCALE_SIDE} px (output up to ${SCALE * MAX_UPSCALE_SIDE}×${SCALE * MAX_UPSCALE_SIDE}); benchmark mode takes ground truths from ${MIN_BENCHMARK_SIDE} to ${MAX_BENCHMARK_SIDE} px per side; files up to ${MAX_FILE_BYTES / 2 ** 20} MB.`;
}

function checkModeLimits() {
  const { width: w, height: h } = state.source.data;
  const name = state.source.name;
  if (state.mode === "upscale" && (w > MAX_UPSCALE_SIDE || h > MAX_UPSCALE_SIDE)) {
    return `“${name}” is ${w}×${h} px; upscale mode accepts at most ${MAX_UPSCALE_SIDE}×${MAX_UPSCALE_SIDE} px (use benchmark mode, which shrinks it first).`;
  }
  if (state.mode === "benchmark" && (w < MIN_BENCHMARK_SIDE || h < MIN_BENCHMARK_SIDE)) {
    return `“${name}” is ${w}×${h} px; benchmark mode needs at least ${MIN_BENCHMARK_SIDE}×${MIN_BENCHMARK_SIDE} px.`;
  }
  return null;
}

/** Ends the current request with a message (bad input): counts as a run that failed. */
function failRun(text) {
  state.runId += 1;
  document.body.dataset.run = String(state.runId);
  showMessage(text);
  setStatus("Not run.");
  ui.runButton.disabled = !state.source;
  document.body.dataset.state = "error";
}

function run() {
  if (!state.source || !state.worker) return;
  const problem = checkModeLimits();
  updateCost();
  if (problem) return failRun(problem);
  showBaseMessage();
  state.runId += 1;
  document.body.dataset.run = String(state.runId);
  state.views.clear();
  state.rows.clear();
  state.region = null;
  state.userPickedView = false;
  const models =
    state.mode === "benchmark"
      ? state.models.map((_, i) => i)
      : ui.modelSelect.value !== ""
        ? [Number(ui.modelSelect.value)]
        : [];
  renderTable(["bicubic", ...models.map((i) => `model:${i}`)]);
  ui.resultsInfo.textContent = `${state.source.name}, ${state.mode === "benchmark" ? "benchmark (scored against the HR)" : "upscale (no ground truth)"}`;
  const { data, width, height } = state.source.data;
  const rgba = data.slice().buffer;
  setRunning();
  ui.runButton.disabled = true;
  setStatus("Starting…", 0, 1 + models.length);
  state.worker.postMessage({ type: "run", runId: state.runId, mode: state.mode, width, height, rgba, models }, [rgba]);
}

async function useSource(loader, name, bundled) {
  showMessage("");
  setStatus(`Decoding ${name}…`);
  try {
    const data = await loader();
    state.source = { name, bundled, data };
    setMode(bundled ? "benchmark" : "upscale", false);
    run();
  } catch (e) {
    failRun(e.message || String(e));
  }
}

function useBundled(index) {
  const img = state.images[index];
  useSource(() => decode(`images/${img.file}`, img.file, MAX_BENCHMARK_SIDE), img.name, true);
}

function useFile(file) {
  if (!file) return;
  useSource(
    async () => {
      const data = await decode(file, file.name, MAX_BENCHMARK_SIDE);
      let opt = ui.imageSelect.querySelector('option[value="user"]');
      if (!opt) {
        opt = new Option("", "user");
        ui.imageSelect.prepend(opt);
      }
      opt.textContent = `Your image: ${file.name} (${data.width}×${data.height})`;
      ui.imageSelect.value = "user";
      return data;
    },
    file.name,
    false,
  );
}

function setMode(mode, rerun = true) {
  state.mode = mode;
  for (const r of document.querySelectorAll('input[name="mode"]')) r.checked = r.value === mode;
  if (rerun) run();
  else updateCost();
}

async function loadImageList() {
  const res = await fetch("images/manifest.json");
  if (!res.ok) throw new Error(`images/manifest.json: HTTP ${res.status}`);
  const manifest = await res.json();
  for (const set of manifest.sets) {
    const group = document.createElement("optgroup");
    group.label = set.name;
    for (const img of set.images) {
      const name = `${set.name} ${img.file.split("/").pop().replace(/\.png$/, "")}`;
      state.images.push({ file: img.file, name });
      group.append(new Option(`${name} (${img.width}×${img.height})`, String(state.images.length - 1)));
    }
    ui.imageSelect.append(group);
  }
}

function wireInputs() {
  ui.imageSelect.addEventListener("change", () => {
    if (ui.imageSelect.value === "user") return run();
    useBundled(Number(ui.imageSelect.value));
  });
  ui.fileInput.addEventListener("change", () => {
    useFile(ui.fileInput.files[0]);
    ui.fileInput.value = "";
  });
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    r.addEventListener("change", () => r.checked && setMode(r.value));
  }
  ui.modelSelect.addEventListener("change", () => {
    ui.costSelect.value = ui.modelSelect.value;
    updateCost();
    state.userPickedView = false;
    if (state.mode === "upscale") run();
    else showViews();
  });
  ui.costSelect.addEventListener("change", updateCost);
  ui.runButton.addEventListener("click", run);
  for (const sel of [ui.leftSelect, ui.rightSelect]) {
    sel.addEventListener("change", () => {
      state.userPickedView = true;
      showViews();
    });
  }
  let depth = 0;
  window.addEventListener("dragenter", (e) => {
    e.preventDefault();
    depth += 1;
    ui.drop.hidden = false;
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) ui.drop.hidden = true;
  });
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    ui.drop.hidden = true;
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) useFile(file);
    else showMessage("Nothing to open: drop an image file.");
  });
}

// ---------- start ----------

async function main() {
  ui.limits.textContent = limitsText();
  if (location.protocol === "file:") {
    return fatal("Open this page through a web server (see web/README.md): browsers do not run module workers from file:// URLs.");
  }
  wireInputs();
  try {
    const wasm = await import("../pkg/quantnas_wasm.js");
    await wasm.default();
    state.wasm = wasm;
    // Bit-width colours come from core, as in the trainer's SVG pictures.
    for (const b of [4, 8, 32]) {
      document.documentElement.style.setProperty(`--b${b}`, wasm.bitsColour(b));
    }
  } catch (e) {
    return fatal(`The WebAssembly package is missing or broken (${e.message || e}). Build it with ./web/build.sh.`);
  }
  try {
    await loadImageList();
  } catch (e) {
    showMessage(`Could not list the bundled images: ${e.message}`);
  }
  setStatus("Loading models…");
  await new Promise((resolve) => {
    onReady = resolve;
    startWorker();
  });
  fillNetworkSelects();
  updateCost();
  showBaseMessage();
  // Results without a click: benchmark the first bundled image.
  if (state.images.length) useBundled(0);
  else setStatus("Ready: open an image.");
}

main();
