// The networks the page knows (bundled models, and core's reference networks for their
// cost only), their selectors, and the live BitOps of the chosen one.
import { renderArchitecture, renderLayerBars, renderReadout, renderShare } from "./cost-view.js";
import { requestSizes } from "./facts.js";
import { updateTableCosts } from "./results.js";
import { state, ui } from "./state.js";

export function costEntries() {
  const refs = state.facts.references.map((r) => ({ ...r, kind: "reference", genotype: null, parts: null }));
  return state.models.concat(refs);
}

/** Sizes `{hr, lr, sr}` of the current request; null when there is none (no image, or
 * one refused in this mode). */
export function currentSizes() {
  if (!state.source || state.refused) return null;
  const { width, height } = state.source.data;
  return requestSizes(state.wasm, state.mode, width, height);
}

function cost(arch, lr) {
  return JSON.parse(state.wasm.archCost(JSON.stringify(arch), lr.height, lr.width));
}

/** BitOps of `model` on the current request's LR input; null where there is none. */
export function requestBitops(model) {
  const sizes = currentSizes();
  if (!sizes) return null;
  try {
    return cost(model.arch, sizes.lr).bitops;
  } catch {
    return null; // the model refuses this size; its row says so after the run
  }
}

export function updateCost() {
  if (!state.wasm) return;
  const entry = costEntries()[Number(ui.costSelect.value)];
  if (!entry) return;
  const sizes = currentSizes();
  const side = state.facts.reportSide;
  try {
    const reported = cost(entry.arch, { width: side, height: side });
    const report = sizes ? cost(entry.arch, sizes.lr) : null;
    entry.bitWidths = entry.bitWidths || [...new Set(reported.layers.map((l) => l.bits))].sort((a, b) => a - b);
    renderReadout(ui.readout, report, reported, sizes, side);
    // The pictures follow this image where there is one, else the reporting size.
    const shown = report || reported;
    renderShare(ui.share, shown, state.facts.bitWidths);
    renderLayerBars(ui.bars, shown);
    renderArchitecture(ui.arch, ui.archInfo, entry, shown, state.facts.scale);
  } catch (e) {
    ui.readout.replaceChildren();
    ui.bars.replaceChildren();
    ui.share.replaceChildren();
    const dt = document.createElement("dt");
    const lr = sizes ? sizes.lr : { width: side, height: side };
    dt.textContent = `${entry.title} cannot run on ${lr.width}×${lr.height}: ${e.message || e}`;
    ui.readout.append(dt);
  }
  updateTableCosts(requestBitops);
}

/** Fills the model and network selectors and selects model `chosen` (an index or null). */
export function fillNetworkSelects(chosen) {
  ui.modelSelect.replaceChildren();
  state.models.forEach((m, i) => ui.modelSelect.append(new Option(m.title, String(i))));
  if (!state.models.length) ui.modelSelect.append(new Option("(no trained model bundled)", ""));
  ui.modelSelect.disabled = !state.models.length;
  ui.costSelect.replaceChildren();
  const found = document.createElement("optgroup");
  found.label = "Bundled models";
  const refs = document.createElement("optgroup");
  refs.label = "Reference networks (cost only)";
  costEntries().forEach((e, i) => (e.kind === "model" ? found : refs).append(new Option(e.title, String(i))));
  if (found.children.length) ui.costSelect.append(found);
  ui.costSelect.append(refs);
  const pick = chosen === null || chosen === undefined ? "0" : String(chosen);
  if (state.models.length) ui.modelSelect.value = pick;
  ui.costSelect.value = pick;
}
