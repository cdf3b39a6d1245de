// The Pareto chart in the results panel: PSNR against GBitOps at the reporting LR size of
// every bundled network, and bicubic at 0 BitOps. In benchmark mode it shows each
// network's score on the chosen image from the page's own run, point by point as the
// results arrive; otherwise (an own image without ground truth, or before a run) the
// Set14 means of the trainer's evaluations next to the models. Where the study's
// `models/results.json` is bundled, its runs are drawn too (on Set14, their only
// score), one marker per method, each method's Pareto front as a step line.
//
// Every cost is core's: a bundled model's from its metadata (wasm), a study run's from
// results.json (the trainer's cost counting with the same core). Nothing is counted here.
import { el, svg } from "./cost-view.js";
import { evaluation } from "./opening.js";
import { state, ui } from "./state.js";

/** The set whose means the chart falls back to (the evaluation files' `.set14.json`). */
const SET = "Set14";
// The drawing's size in CSS pixels, set from the chart's width at each draw (so that its
// text keeps its size on a phone); the SVG then scales only between redraws.
let W = 480;
let H = 270;
const M = { left: 46, right: 14, top: 12, bottom: 36 };
/** The study's methods (README, Study), each with a colour and a marker shape. */
const METHODS = {
  quantnas: { colour: "#2f6fdb", shape: "square" },
  edmips: { colour: "#d9822b", shape: "diamond" },
  "two-fold": { colour: "#8e44ad", shape: "triangle" },
  random: { colour: "#6b7580", shape: "down" },
  uniform: { colour: "#1f8a4c", shape: "plus" },
};
const OTHER = { colour: "#a0522d", shape: "diamond" };
const SYMBOL = { square: "■", diamond: "◆", triangle: "▲", down: "▼", plus: "✚" };

const chart = {
  set14: new Map(), // "bicubic" | "model:I" → Set14 mean PSNR
  noEval: [], // titles of the networks without a Set14 evaluation
  study: [], // results.json entries with a Set14 score
  studyProblem: "",
  choice: null, // "image" | "set14" picked by the visitor for this run; null: automatic
};

/** Reads the Set14 evaluations and, where there is one, the study's results.json. */
export async function loadParetoData() {
  const [bicubic, ...models] = await Promise.all([
    evaluation("bicubic", SET),
    ...state.models.map((m) => evaluation(m.file, SET)),
  ]);
  chart.set14.clear();
  chart.noEval = [];
  if (Number.isFinite(bicubic?.mean_psnr)) chart.set14.set("bicubic", bicubic.mean_psnr);
  else chart.noEval.push("Bicubic");
  models.forEach((e, i) => {
    if (Number.isFinite(e?.mean_psnr)) chart.set14.set(`model:${i}`, e.mean_psnr);
    else chart.noEval.push(state.models[i].title);
  });
  chart.study = [];
  chart.studyProblem = "";
  try {
    // Optional: bundled with the study's front models; absent, the chart has no runs.
    const res = await fetch("models/results.json");
    if (!res.ok) return;
    const runs = await res.json();
    if (!Array.isArray(runs)) throw new Error("not a list of runs");
    chart.study = runs.filter((r) => r && Number.isFinite(r.gbitops) && Number.isFinite(r.set14?.psnr));
  } catch (e) {
    chart.studyProblem = `models/results.json could not be read (${e.message || e})`;
  }
}

const gbitops = (model) => model.metadata.bitopsReported / 1e9;

/**
 * The bundled model a study run is, or -1: the same network has the same cost (core's,
 * both ways) and the same Set14 mean (both read from the run's own evaluation file).
 */
function bundledIndex(run) {
  return state.models.findIndex(
    (m, i) =>
      Math.abs(gbitops(m) - run.gbitops) < 1e-6 && Math.abs((chart.set14.get(`model:${i}`) ?? NaN) - run.set14.psnr) < 1e-6,
  );
}

/** Whether the current run scores against a ground truth and has a score yet. */
function liveScores() {
  if (state.mode !== "benchmark" || !state.source || state.refused) return false;
  return [...state.rows.values()].some((r) => Number.isFinite(r.psnr));
}

function basis() {
  const live = liveScores();
  if (chart.choice === "set14" || !live) return "set14";
  return "image";
}

/** A new run: the chart goes back to its automatic choice of scores. */
export function resetParetoBasis() {
  chart.choice = null;
}

/** The bundled networks and bicubic with a score on `which` basis. */
function networkPoints(which) {
  const score = (key) => (which === "image" ? state.rows.get(key)?.psnr : chart.set14.get(key));
  const list = [{ key: "bicubic", title: "Bicubic", gbitops: 0, model: null }].concat(
    state.models.map((m, i) => ({ key: `model:${i}`, title: m.title, gbitops: gbitops(m), model: i })),
  );
  return list.map((p) => ({ ...p, psnr: score(p.key) })).filter((p) => Number.isFinite(p.psnr));
}

function studyPoints() {
  return chart.study.map((r, k) => {
    const i = bundledIndex(r);
    return {
      key: `run:${k}`,
      title: r.name,
      method: r.method,
      gbitops: r.gbitops,
      psnr: r.set14.psnr,
      model: i >= 0 ? i : null,
    };
  });
}

/** The non-dominated runs (no other has fewer BitOps and more PSNR), by BitOps. */
export function paretoFront(points) {
  const sorted = [...points].sort((a, b) => a.gbitops - b.gbitops || b.psnr - a.psnr);
  const front = [];
  for (const p of sorted) if (!front.length || p.psnr > front[front.length - 1].psnr) front.push(p);
  return front;
}

/** 1, 2, 2.5 or 5 times a power of ten, at least `raw`. */
function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => s >= raw - 1e-12);
}

function axes(points) {
  const xMax0 = Math.max(...points.map((p) => p.gbitops), 0);
  const xStep = niceStep(Math.max(xMax0, 0.5) / 4);
  const xMax = Math.ceil((xMax0 * 1.04) / xStep) * xStep || xStep;
  const lo = Math.min(...points.map((p) => p.psnr));
  const hi = Math.max(...points.map((p) => p.psnr));
  const yStep = niceStep(Math.max(hi - lo, 0.4) / 4);
  const yMin = Math.floor((lo - 0.1) / yStep) * yStep;
  const yMax = Math.ceil((hi + 0.1) / yStep) * yStep;
  // x = 0 (bicubic) sits a dot's width right of the axis, clear of the PSNR labels.
  const pad = 8;
  const x = (v) => M.left + pad + ((W - M.left - M.right - pad) * v) / xMax;
  const y = (v) => H - M.bottom - ((H - M.top - M.bottom) * (v - yMin)) / (yMax - yMin);
  return { x, y, xMax, xStep, yMin, yMax, yStep };
}

function text(x, y, s, attrs = {}) {
  const t = svg("text", { x: x.toFixed(1), y: y.toFixed(1), ...attrs });
  t.textContent = s;
  return t;
}

function drawAxes(root, a) {
  // As few decimals as the step needs (0.5 → 1, 0.25 → 2, 1 → 0).
  const digits = (step) => [0, 1, 2, 3].find((d) => Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) < 1e-6) ?? 3;
  for (let v = 0; v <= a.xMax + 1e-9; v += a.xStep) {
    root.append(svg("line", { class: "grid", x1: a.x(v), x2: a.x(v), y1: M.top, y2: H - M.bottom }));
    root.append(text(a.x(v), H - M.bottom + 13, v.toFixed(digits(a.xStep)), { "text-anchor": "middle" }));
  }
  for (let v = a.yMin; v <= a.yMax + 1e-9; v += a.yStep) {
    root.append(svg("line", { class: "grid", x1: M.left, x2: W - M.right, y1: a.y(v), y2: a.y(v) }));
    root.append(text(M.left - 4, a.y(v) + 3.5, v.toFixed(digits(a.yStep)), { "text-anchor": "end" }));
  }
  const side = state.facts.reportSide;
  root.append(text((M.left + W - M.right) / 2, H - 4, `GBitOps @ ${side}×${side} LR`, { "text-anchor": "middle", class: "axis" }));
  const yLabel = text(12, (M.top + H - M.bottom) / 2, "PSNR (dB)", { "text-anchor": "middle", class: "axis" });
  yLabel.setAttribute("transform", `rotate(-90 12 ${((M.top + H - M.bottom) / 2).toFixed(1)})`);
  root.append(yLabel);
}

function marker(shape, cx, cy, r) {
  const pts = (list) => list.map(([dx, dy]) => `${(cx + dx * r).toFixed(1)},${(cy + dy * r).toFixed(1)}`).join(" ");
  if (shape === "square") return svg("rect", { x: cx - r * 0.85, y: cy - r * 0.85, width: r * 1.7, height: r * 1.7 });
  if (shape === "diamond") return svg("polygon", { points: pts([[0, -1.2], [1.2, 0], [0, 1.2], [-1.2, 0]]) });
  if (shape === "triangle") return svg("polygon", { points: pts([[0, -1.2], [1.1, 0.9], [-1.1, 0.9]]) });
  if (shape === "down") return svg("polygon", { points: pts([[0, 1.2], [1.1, -0.9], [-1.1, -0.9]]) });
  if (shape === "plus") {
    const t = 0.4;
    return svg("polygon", {
      points: pts([[-t, -1.1], [t, -1.1], [t, -t], [1.1, -t], [1.1, t], [t, t], [t, 1.1], [-t, 1.1], [-t, t], [-1.1, t], [-1.1, -t], [-t, -t]]),
    });
  }
  return svg("circle", { cx, cy, r });
}

/** Selects bundled model `i` as the model selector does (it then shows against bicubic). */
function choose(i) {
  ui.modelSelect.value = String(i);
  ui.modelSelect.dispatchEvent(new Event("change"));
}

function point(p, a, shape, which) {
  const gb = p.gbitops.toFixed(2);
  const where = which === "image" ? `on ${state.source.name}` : `${SET} mean`;
  const label = `${p.title}${p.method ? ` (${p.method})` : ""}: ${gb} GBitOps, ${p.psnr.toFixed(2)} dB PSNR ${where}`;
  const g = svg("g", {
    class: `pt${p.model !== null ? " pick" : ""}${p.method ? " run" : ""}`,
    tabindex: "0",
    role: p.model !== null ? "button" : "img",
    "aria-label": p.model !== null ? `${label}; select it` : label,
    "data-key": p.key,
    "data-gbitops": String(p.gbitops),
    "data-psnr": String(p.psnr),
  });
  if (p.model !== null) {
    g.dataset.model = String(p.model);
    if (ui.modelSelect.value === String(p.model)) g.classList.add("selected");
    g.addEventListener("click", () => choose(p.model));
    g.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" && e.key !== " ") return;
      e.preventDefault();
      choose(p.model);
    });
  }
  const t = svg("title");
  t.textContent = label;
  const cx = a.x(p.gbitops);
  const cy = a.y(p.psnr);
  // A study run's marker is larger than a bundled network's dot: where a run is a bundled
  // model, the dot sits inside its run's marker and both show.
  const m = marker(shape, cx, cy, p.method ? 6 : 4.5);
  if (p.method) m.style.fill = (METHODS[p.method] || OTHER).colour;
  // A wider invisible target, for fingers.
  g.append(t, svg("circle", { class: "hit", cx, cy, r: 11 }));
  if (!p.method) {
    // Bundled networks are few: each is named beside its point (left of it in the right
    // half, so that no name runs off the chart), cut short where long (the title has all).
    const right = cx > (M.left + W - M.right) / 2;
    const name = p.title.length > 26 ? `${p.title.slice(0, 25)}…` : p.title;
    g.append(text(right ? cx - 9 : cx + 9, cy - 7, name, { class: "name", "text-anchor": right ? "end" : "start" }));
  }
  g.append(m);
  return g;
}

function frontLine(points, a, colour) {
  const f = paretoFront(points);
  let d = `M${a.x(f[0].gbitops).toFixed(1)},${a.y(f[0].psnr).toFixed(1)}`;
  for (const p of f.slice(1)) d += `H${a.x(p.gbitops).toFixed(1)}V${a.y(p.psnr).toFixed(1)}`;
  return svg("path", { class: "front", d, stroke: colour, "data-front": String(f.length) });
}

function caption(which, shown, studyShown) {
  const side = state.facts.reportSide;
  const cost = `GBitOps at ${side}×${side} LR from core's cost counting; bicubic at 0.`;
  let scores;
  if (which === "image") {
    const total = 1 + state.models.length;
    const done = shown.length < total ? ` (${shown.length} of ${total} scored so far)` : "";
    scores = `PSNR on ${state.source.name} from this benchmark run${done}.`;
  } else {
    const why = !state.source || state.refused
      ? "no image run yet"
      : state.mode !== "benchmark"
        ? "upscale mode has no ground truth"
        : liveScores()
          ? "chosen above"
          : "before this run's scores";
    scores = `PSNR: ${SET} means from the trainer's evaluations (models/*.${SET.toLowerCase()}.json; ${why}).`;
    if (chart.noEval.length) scores += ` No ${SET} evaluation: ${chart.noEval.join(", ")}.`;
  }
  let study = "";
  if (chart.study.length) {
    study = which === "set14"
      ? ` With the study's ${studyShown} runs (models/results.json), each method's Pareto front as a step line.`
      : ` The study's ${chart.study.length} runs (models/results.json) have ${SET} scores only: pick “${SET} mean” to see them.`;
  }
  const problem = chart.studyProblem ? ` ${chart.studyProblem}.` : "";
  return `${scores} ${cost}${study}${problem} Click a network to compare it with bicubic.`;
}

function legend(div, which) {
  div.replaceChildren(el("span", { class: "key bundled" }, "● bundled network"));
  if (which !== "set14") return;
  for (const method of [...new Set(chart.study.map((r) => r.method))]) {
    const look = METHODS[method] || OTHER;
    const key = el("span", { class: "key", "data-method": method }, `${SYMBOL[look.shape]} ${method}`);
    key.style.color = look.colour;
    div.append(key);
  }
}

/**
 * Keeps the networks' names apart: best PSNR first, a name that would cover one already
 * placed (or leave the plot) tries the other side of its point, and is dropped where
 * both do (its point's title and label still name it).
 */
function placeNames(root) {
  const plot = { left: 0, right: W, top: 0, bottom: H - M.bottom };
  const placed = [];
  const clear = (b) =>
    b.x >= plot.left && b.x + b.width <= plot.right && b.y >= plot.top &&
    placed.every((o) => b.x + b.width < o.x || o.x + o.width < b.x || b.y + b.height < o.y || o.y + o.height < b.y);
  const names = [...root.querySelectorAll("text.name")];
  names.sort((a, b) => Number(b.parentNode.dataset.psnr) - Number(a.parentNode.dataset.psnr));
  for (const t of names) {
    let b = t.getBBox();
    if (!clear(b)) {
      const cx = Number(t.getAttribute("x")) + (t.getAttribute("text-anchor") === "end" ? 9 : -9);
      const end = t.getAttribute("text-anchor") !== "end";
      t.setAttribute("text-anchor", end ? "end" : "start");
      t.setAttribute("x", (end ? cx - 9 : cx + 9).toFixed(1));
      b = t.getBBox();
    }
    if (clear(b)) placed.push(b);
    else t.remove();
  }
}

/** Draws the chart for the current run (or the Set14 means when it has no scores). */
export function renderPareto() {
  const box = document.getElementById("pareto-chart");
  if (!box || !state.facts) return;
  const which = basis();
  for (const r of document.querySelectorAll('input[name="pareto-basis"]')) {
    r.checked = r.value === which;
    if (r.value === "image") r.disabled = !liveScores();
  }
  const shown = networkPoints(which);
  const runs = which === "set14" ? studyPoints() : [];
  const all = shown.concat(runs);
  box.dataset.basis = which;
  legend(document.getElementById("pareto-legend"), which);
  document.getElementById("pareto-caption").textContent = caption(which, shown, runs.length);
  if (!all.length) {
    box.replaceChildren(el("p", { class: "hint" }, "No scores to plot yet."));
    return;
  }
  W = Math.round(Math.min(Math.max(box.clientWidth || 480, 300), 640));
  H = Math.round(Math.min(Math.max(W * 0.56, 220), 300));
  // A redraw keeps the keyboard where it was (a point picked with Enter stays focused).
  const focused = box.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  const a = axes(all);
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "group",
    "aria-label": `PSNR against GBitOps, ${all.length} points`,
  });
  drawAxes(root, a);
  const methods = [...new Set(runs.map((r) => r.method))];
  for (const method of methods) {
    const line = frontLine(runs.filter((r) => r.method === method), a, (METHODS[method] || OTHER).colour);
    line.dataset.method = method;
    root.append(line);
  }
  for (const r of runs) root.append(point(r, a, (METHODS[r.method] || OTHER).shape, which));
  for (const p of shown) {
    const g = point(p, a, "circle", which);
    if (p.key === "bicubic") g.classList.add("bicubic");
    root.append(g);
  }
  box.replaceChildren(root);
  placeNames(root);
  if (focused) root.querySelector(`[data-key="${focused}"]`)?.focus();
}

/** The basis radios and the model selector redraw the chart. */
export function wirePareto() {
  for (const r of document.querySelectorAll('input[name="pareto-basis"]')) {
    r.addEventListener("change", () => {
      if (!r.checked) return;
      chart.choice = r.value;
      renderPareto();
    });
  }
  ui.modelSelect.addEventListener("change", renderPareto);
  const box = document.getElementById("pareto-chart");
  let width = box.clientWidth;
  new ResizeObserver(() => {
    if (Math.abs(box.clientWidth - width) < 2) return;
    width = box.clientWidth;
    renderPareto();
  }).observe(box);
}
