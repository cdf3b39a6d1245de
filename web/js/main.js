// The page's start-up: loads the wasm package (facts and costs on this thread), the image
// list and the worker with the models, then opens on the best found network and the
// image where the models differ most. Each job lives in its own module:
//   state.js (what the page holds), facts.js (what core says), limits.js (input limits),
//   decode.js (file → pixels), networks.js (selectors, live BitOps), results.js (table),
//   views.js (comparison and zoom), run.js (one request), worker-client.js (messages),
//   inputs.js (controls), opening.js (first selection), pareto.js (PSNR vs BitOps chart),
//   cost-view.js, compare.js, format.js.
import { fillFactText, readFacts } from "./facts.js";
import { loadImageList, setMode, useBundled, wireInputs } from "./inputs.js";
import { fillNetworkSelects, updateCost } from "./networks.js";
import { chooseOpening } from "./opening.js";
import { loadParetoData, renderPareto, wirePareto } from "./pareto.js";
import { workerHandlers } from "./run.js";
import { state, ui } from "./state.js";
import { fatal, setStatus, showBaseMessage, showMessage } from "./status.js";
import { startWorker } from "./worker-client.js";

/** Bit-width colours and the legend come from core, as in the trainer's SVG pictures. */
function paintBitWidths(wasm, widths) {
  ui.legend.replaceChildren();
  for (const b of widths) {
    document.documentElement.style.setProperty(`--b${b}`, wasm.bitsColour(b));
    const swatch = document.createElement("span");
    swatch.className = `swatch b${b}`;
    ui.legend.append(swatch, `${wasm.bitsLabel(b)} `);
  }
}

async function main() {
  if (location.protocol === "file:") {
    return fatal("Open this page through a web server (see web/README.md): browsers do not run module workers from file:// URLs.");
  }
  try {
    const wasm = await import("../pkg/quantnas_wasm.js");
    await wasm.default();
    state.wasm = wasm;
    state.facts = readFacts(wasm);
    fillFactText(state.facts);
    paintBitWidths(wasm, state.facts.bitWidths);
  } catch (e) {
    return fatal(`The WebAssembly package is missing or broken (${e.message || e}). Build it with ./web/build.sh.`);
  }
  wireInputs();
  setMode("benchmark", false);
  try {
    await loadImageList();
  } catch (e) {
    showMessage(`Could not list the bundled images: ${e.message}`);
  }
  setStatus("Loading models…");
  await new Promise((resolve) => startWorker(workerHandlers(resolve)));
  const opening = await chooseOpening(state.models, state.images);
  fillNetworkSelects(opening.model);
  document.body.dataset.opening = opening.why;
  await loadParetoData();
  wirePareto();
  renderPareto();
  updateCost();
  showBaseMessage();
  // Results without a click: benchmark the opening image.
  if (state.images.length) useBundled(opening.image);
  else setStatus("Ready: open an image.");
}

main();
