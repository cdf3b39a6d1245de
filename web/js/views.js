// The comparison view and the zoom: the images of the current run (HR, LR, bicubic and
// each model), which two are compared, and where the zoom looks.
import { Compare, REGION_SIDE, renderZoom, telltaleRegion } from "./compare.js";
import * as fmt from "./format.js";
import { $, state, ui } from "./state.js";

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

/** Adds the image `msg` ({width, height, rgba}) as view `id`; `scale` is how much smaller
 * than the output it is (the scale for the LR input, else 1). */
export function addView(id, msg, scale = 1) {
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

/** Forgets every view of the last run and blanks the comparison and the zoom. */
export function clearViews() {
  state.views.clear();
  state.rows.clear();
  state.region = null;
  state.userPickedView = false;
  ui.leftSelect.replaceChildren();
  ui.rightSelect.replaceChildren();
  ui.imageInfo.textContent = "";
  ui.zoomInfo.textContent = "";
  compare.region = null;
  compare.show(null, null);
  drawZoom();
}

/** Bicubic on the left; on the right the chosen model once it has run, else the HR. */
function defaultViews() {
  const chosen = ui.modelSelect.value !== "" ? `model:${ui.modelSelect.value}` : null;
  const right = chosen && state.views.has(chosen) ? chosen : state.views.has("hr") ? "hr" : "bicubic";
  return { left: "bicubic", right };
}

export function showViews() {
  if (!state.userPickedView) {
    const d = defaultViews();
    if (state.views.has(d.left)) ui.leftSelect.value = d.left;
    if (state.views.has(d.right)) ui.rightSelect.value = d.right;
  }
  compare.show(state.views.get(ui.leftSelect.value) || null, state.views.get(ui.rightSelect.value) || null);
}

export function drawZoom() {
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
export function autoRegion() {
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
