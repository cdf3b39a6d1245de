// Live BitOps: readouts, the share of BitOps per bit width, one bar per conv coloured by
// its bit width, and the architecture drawn as groups of slots (op and bits).
import { bits as fmtBits, si } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

export function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

export function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/**
 * Fills the readout list. `report` is core's CostReport of this request (null when there
 * is none: no image, or one refused), `reported` at the reporting size `side`×`side`;
 * `sizes` is the request's {lr, sr} (null with `report`).
 */
export function renderReadout(dl, report, reported, sizes, side) {
  const none = '<span class="hint">— (no image run)</span>';
  const rows = [
    ["Input → output", sizes ? `${sizes.lr.width}×${sizes.lr.height} → ${sizes.sr.width}×${sizes.sr.height}` : none],
    ["BitOps (this image)", `<b data-testid="bitops-total">${report ? si(report.bitops) : "—"}</b>`],
    ["MACs (this image)", report ? si(report.macs) : "—"],
    [`BitOps @ ${side}×${side} LR`, `<span data-testid="bitops-reported">${si(reported.bitops)}</span> <span class="hint">(as the paper reports)</span>`],
    ["Parameters", si(reported.params)],
    ["Conv layers", String(reported.layers.length)],
  ];
  dl.replaceChildren();
  for (const [k, v] of rows) {
    dl.append(el("dt", {}, k));
    const dd = el("dd");
    dd.innerHTML = v; // only our own formatted numbers
    dl.append(dd);
  }
}

/** A stacked bar of the BitOps share of each bit width (`widths`: core's, ascending). */
export function renderShare(div, report, widths) {
  const by = new Map();
  for (const l of report.layers) by.set(l.bits, (by.get(l.bits) || 0) + l.bitops);
  div.replaceChildren();
  for (const b of widths) {
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
    t.textContent = `${l.name} — ${l.label ? `${l.label}, ` : ""}${l.kernel}, ${l.bits}-bit: ${si(l.bitops)}BitOps, ${si(l.macs)}MACs`;
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

/** A fixed network's conv layers grouped by the first part of their names (`block3.conv1`). */
function layerGroups(report) {
  const groups = new Map();
  for (const l of report.layers) {
    const dot = l.name.indexOf(".");
    const key = dot < 0 ? l.name : l.name.slice(0, dot);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(box(dot < 0 ? l.name : l.name.slice(dot + 1), l.kernel, l.bits));
  }
  return groups;
}

/**
 * Draws the architecture: a found network as core describes its genotype (parts with
 * their slots' ops and bits, and a note on what the slots leave out), a fixed network as
 * its conv layers. `scale` is core's upscaling factor.
 */
export function renderArchitecture(div, info, entry, report, scale) {
  div.replaceChildren();
  div.append(el("div", { class: "io" }, "LR\n3×H×W"));
  const genotype = entry.genotype;
  if (genotype && entry.parts) {
    info.textContent = `${entry.title}: ${genotype.space} space, residual ${genotype.residual}, ${genotype.slots.length} slots, bits ${fmtBits(entry.bitWidths)}`;
    for (const part of entry.parts) {
      const g = group(part.name, part.note);
      g.append(...part.slots.map((s) => box(s.short, s.label, s.bits)));
      div.append(arrow(), g);
    }
  } else {
    info.textContent = `${entry.title}: fixed network, ${report.layers.length} convs, bits ${fmtBits(entry.bitWidths)}`;
    for (const [key, boxes] of layerGroups(report)) {
      const g = group(key);
      g.append(...boxes);
      div.append(arrow(), g);
    }
  }
  div.append(arrow(), el("div", { class: "io" }, `SR\n3×${scale}H×${scale}W`));
}
