// One request: what a run sends to the worker, what it shows as results come back, and
// what a refused input leaves on screen (nothing of the last run).
import * as fmt from "./format.js";
import { currentSizes, requestBitops, updateCost } from "./networks.js";
import { clearTable, failRow, renderTable, updateRow } from "./results.js";
import { state, ui } from "./state.js";
import { fatal, setPageState, setStatus, showBaseMessage, showMessage } from "./status.js";
import { addView, autoRegion, clearViews, showViews } from "./views.js";
import { postRun, startWorker } from "./worker-client.js";
import { sizeProblem } from "./limits.js";
import { renderPareto, resetParetoBasis } from "./pareto.js";

function nextRun() {
  state.runId += 1;
  document.body.dataset.run = String(state.runId);
}

/**
 * Ends the current request with `text` (bad input; counts as a run that failed). The
 * last run's results, views and readouts go: none of them is of the refused image.
 */
export function refuse(text) {
  nextRun();
  state.refused = true;
  clearViews();
  clearTable();
  ui.resultsInfo.textContent = state.source ? `${state.source.name}: not run` : "";
  updateCost();
  renderPareto();
  showMessage(text);
  setStatus("Not run.");
  ui.runButton.disabled = !state.source;
  setPageState("error");
}

/** Runs the current source in the current mode (benchmark: every model; upscale: the
 * chosen one). */
export function run() {
  if (!state.source || !state.worker) return;
  const { width, height } = state.source.data;
  const problem = sizeProblem(state.facts, state.mode, state.source.name, width, height);
  state.refused = Boolean(problem);
  if (problem) return refuse(problem);
  updateCost();
  showBaseMessage();
  nextRun();
  clearViews();
  const models =
    state.mode === "benchmark"
      ? state.models.map((_, i) => i)
      : ui.modelSelect.value !== ""
        ? [Number(ui.modelSelect.value)]
        : [];
  renderTable(["bicubic", ...models.map((i) => `model:${i}`)], requestBitops);
  resetParetoBasis();
  renderPareto();
  ui.resultsInfo.textContent = `${state.source.name}, ${state.mode === "benchmark" ? "benchmark (scored against the HR)" : "upscale (no ground truth)"}`;
  const rgba = state.source.data.data.slice().buffer;
  setPageState("running");
  ui.runButton.disabled = true;
  setStatus("Starting…", 0, 1 + models.length);
  postRun({ runId: state.runId, mode: state.mode, width, height, rgba, models });
}

/** What the worker's messages do to the page; `onReady` runs once the models are in. */
export function workerHandlers(onReady) {
  return {
    ready(msg) {
      // Which conv kernel the worker's module runs (for the tests and benchmarks).
      document.body.dataset.kernel = msg.kernel;
      state.models = msg.models.map((m) => ({
        ...m,
        kind: "model",
        arch: m.metadata.arch,
        genotype: m.metadata.genotype,
        parts: m.metadata.parts,
        bitWidths: m.metadata.bitWidths,
      }));
      state.loadProblems = msg.failed.map((f) => `${f.file}: ${f.message}`).join("\n");
      if (onReady) {
        const f = onReady;
        onReady = null;
        f(msg);
      }
    },
    fatal,
    status(msg) {
      setStatus(msg.text, msg.done, msg.total);
    },
    image(msg) {
      const scale = state.facts.scale;
      addView(msg.role, msg, msg.role === "lr" ? scale : 1);
      if (msg.role === "lr") {
        const s = currentSizes();
        ui.imageInfo.textContent = `LR ${s.lr.width}×${s.lr.height} → ${s.sr.width}×${s.sr.height}`;
      }
      showViews();
    },
    result(msg) {
      if (msg.error) return failRow(msg);
      state.rows.set(msg.method, { psnr: msg.psnr, ssim: msg.ssim, ms: msg.ms });
      addView(msg.method, msg);
      updateRow(msg);
      renderPareto();
      showViews();
    },
    done() {
      const total = [...state.rows.values()].reduce((s, r) => s + r.ms, 0);
      setStatus(`Done: ${state.rows.size} upscales in ${fmt.seconds(total)} of compute.`, 1, 1);
      autoRegion();
      showViews();
      ui.runButton.disabled = false;
      setPageState("done");
    },
    error(msg) {
      showMessage(`The run failed: ${msg.message}`);
      setStatus("Failed.");
      ui.runButton.disabled = false;
      setPageState("error");
      // A trap can leave the wasm instance unusable: start a fresh worker.
      startWorker(workerHandlers(null));
    },
  };
}
