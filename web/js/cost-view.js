// Live BitOps: readouts, the share of BitOps per bit width, one bar per conv coloured by
// its bit width, and the architecture drawn as groups of slots (op and bits).
import { bits as fmtBits, opName, si } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/**
 * Fills the readout list. `report` is core's CostReport at the LR size, `reported` at
 * 32×32; `lr` is {width, height}.
 */
export function renderReadout(dl, report, reported, lr) {
  const rows = [
    ["Input → output", `${lr.width}×${lr.height} → ${4 * lr.width}×${4 * lr.height}`],
    ["BitOps (this image)", `<b data-testid="bitops-total">${si(report.bitops)}</b>`],
    ["MACs (this image)", si(report.macs)],
    ["BitOps @ 32×32 LR", `<span data-testid="bitops-reported">${si(reported.bitops)}</span> <span class="hint">(as the paper reports)</span>`],
    ["Parameters", si(report.params)],
    ["Conv layers", String(report.layers.length)],
  ];
  dl.replaceChildren();
  for (const [k, v] of rows) {
    dl.append(el("dt", {}, k));
    const dd = el("dd");
    dd.innerHTML = v; // only our own formatted numbers
    dl.append(dd);
  }
}

/** A stacked bar of the BitOps share of each bit width. */
export function renderShare(div, report) {
  const by = new Map();
  for (const l of report.layers) by.set(l.bits, (by.get(l.bits) || 0) + l.bitops);
  div.replaceChildren();
  for (const b of [4, 8, 32]) {
    const v = by.get(b) || 0;
    if (!v) continue;
    const pct = (100 * v) / report.bitops;
    const s = el("span", { class: `bits-${b}`, title: `${b}-bit layers: ${si(v)}BitOps (${pct.toFixed(1)}%)` });
    s.style.width = `${pct}%`;
    div.append(s);
  }
}

/** One column per conv layer, height ∝ BitOps, coloured by bit width. */
export function renderLayerBars(div, report) {
  const n = report.layers.length;
  const W = 600;
  const H = 150;
  const top = 14;
  const bottom = 16;
  const max = Math.max(...report.layers.map((l) => l.bitops), 1);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img" });
  const slot = W / Math.max(n, 1);
  const gap = slot > 6 ? Math.min(3, slot * 0.2) : 0;
  report.layers.forEach((l, i) => {
    const h = Math.max(1, ((H - top - bottom) * l.bitops) / max);
    const r = svg("rect", {
      x: (i * slot + gap / 2).toFixed(2),
      y: (H - bottom - h).toFixed(2),
      width: Math.max(0.5, slot - gap).toFixed(2),
      height: h.toFixed(2),
      class: `b${l.bits}`,
    });
    const t = svg("title");
    t.textContent = `${l.name} — ${l.op === "fixed" ? "" : opName(l.op) + ", "}${l.kernel}, ${l.bits}-bit: ${si(l.bitops)}BitOps, ${si(l.macs)}MACs`;
    r.append(t);
    root.append(r);
  });
  const label = svg("text", { x: 2, y: 10 });
  label.textContent = `max ${si(max)}BitOps per layer`;
  const axis = svg("text", { x: 2, y: H - 3 });
  axis.textContent = `${n} conv layers →`;
  root.append(label, axis);
  div.replaceChildren(root);
}

/** Group name → note shown under it (what the drawing leaves out). */
const NOTES = {
  body: "×3 cells, each ADQ-residual; cells share the genotype",
  upsample: "then PixelShuffle ×4",
  tail: "residual around the tail",
};

function group(title, note) {
  const g = el("div", { class: "group" });
  g.append(el("h3", {}, title));
  if (note) g.append(el("span", { class: "hint" }, note));
  return g;
}

function box(name, detail, bits) {
  const b = el("div", { class: `slot bits-${bits}`, title: `${name}: ${detail}, ${bits}-bit` });
  b.append(el("b", {}, `${name} · ${bits}b`), document.createTextNode(detail));
  return b;
}

const arrow = () => el("span", { class: "arrow" }, "→");
const prefix = (name) => (name.includes(".") ? name.slice(0, name.indexOf(".")) : name);
const rest = (name) => (name.includes(".") ? name.slice(name.indexOf(".") + 1) : name);

/**
 * Draws the architecture: the genotype's slots (op and bits) grouped by part of the
 * network when there is one, else the conv layers of the fixed network.
 */
export function renderArchitecture(div, info, entry, report) {
  div.replaceChildren();
  div.append(el("div", { class: "io" }, "LR\n3×H×W"));
  const groups = new Map();
  const genotype = entry.genotype;
  if (genotype) {
    for (const s of genotype.slots) {
      const key = prefix(s.slot);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(box(rest(s.slot), opName(s.op), s.bits));
    }
    const extras = genotype.space === "rfdn" ? "+ fixed 1×1 fusion and ESA, 8-bit" : null;
    info.textContent = `${entry.title}: ${genotype.space} space, residual ${genotype.residual}, ${genotype.slots.length} slots, bits ${fmtBits(entry.bitWidths)}`;
    for (const [key, boxes] of groups) {
      const note = key.startsWith("cell") ? extras : NOTES[key];
      const g = group(key, note);
      g.append(...boxes);
      div.append(arrow(), g);
    }
  } else {
    for (const l of report.layers) {
      const key = prefix(l.name);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(box(rest(l.name), l.kernel, l.bits));
    }
    info.textContent = `${entry.title}: fixed network, ${report.layers.length} convs, bits ${fmtBits(entry.bitWidths)}`;
    for (const [key, boxes] of groups) {
      const g = group(key);
      g.append(...boxes);
      div.append(arrow(), g);
    }
  }
  div.append(arrow(), el("div", { class: "io" }, "SR\n3×4H×4W"));
}
