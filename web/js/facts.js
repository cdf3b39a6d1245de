// What core owns, asked of the wasm package once at start-up: the scale, the bit widths,
// the reference networks, the reporting LR size and the input limits. No module writes
// any of these numbers itself.

/** Reads the facts from the loaded wasm package. */
export function readFacts(wasm) {
  return {
    scale: wasm.scale(),
    bitWidths: [...wasm.bitWidths()],
    reportSide: wasm.reportLrSide(),
    references: JSON.parse(wasm.referenceNetworks()),
    limits: JSON.parse(wasm.limits()),
  };
}

/** `{hr, lr, sr}` sizes of a request of `mode` on a `width`×`height` image (core's rule). */
export function requestSizes(wasm, mode, width, height) {
  return JSON.parse(wasm.requestSizes(mode, width, height));
}

/** Fills every `[data-fact]` element of the page (`scale`, `report-side`, `crop`). */
export function fillFactText(facts) {
  const text = {
    scale: String(facts.scale),
    "report-side": `${facts.reportSide}×${facts.reportSide}`,
    // The benchmark scoring crops `scale` pixels at each border.
    crop: String(facts.scale),
  };
  for (const el of document.querySelectorAll("[data-fact]")) {
    const t = text[el.dataset.fact];
    if (t !== undefined) el.textContent = t;
  }
}
