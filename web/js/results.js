// The results table: one row per method of the current run, filled as results arrive.
import * as fmt from "./format.js";
import { state, ui } from "./state.js";

function methods() {
  const list = [{ method: "bicubic", title: "Bicubic", sub: "MATLAB imresize", bits: "—" }];
  state.models.forEach((m, i) =>
    list.push({ method: `model:${i}`, title: m.title, sub: m.description, bits: fmt.bits(m.bitWidths), model: m }),
  );
  return list;
}

/** A cell; `label` is its column's name, shown beside the value where rows are stacked. */
function cell(text, cls, label) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  if (label) td.dataset.label = label;
  return td;
}

/** The column names, from the table's own header (one source for both layouts). */
function columnLabels() {
  return [...document.querySelectorAll("#results-table thead th")].map((th) => th.textContent.trim());
}

/** Empty rows for `runMethods`; `bitops(model)` gives the BitOps of this run's input. */
export function renderTable(runMethods, bitops) {
  ui.tbody.replaceChildren();
  const labels = columnLabels();
  for (const m of methods()) {
    if (!runMethods.includes(m.method)) continue;
    const tr = document.createElement("tr");
    tr.dataset.method = m.method;
    tr.className = "pending";
    const name = cell(m.title, "method");
    if (m.sub) {
      const s = document.createElement("span");
      s.className = "sub clamp";
      s.textContent = m.sub;
      s.title = m.sub;
      name.append(s);
    }
    tr.append(
      name,
      cell(m.bits, "bits", labels[1]),
      cell("…", "psnr", labels[2]),
      cell("…", "ssim", labels[3]),
      cell("—", "bitops", labels[4]),
      cell(m.model ? fmt.si(m.model.metadata.bitopsReported) : "—", "bitops32", labels[5]),
      cell(m.model ? fmt.si(m.model.metadata.params) : "—", "params", labels[6]),
      cell("…", "time", labels[7]),
    );
    ui.tbody.append(tr);
  }
  updateTableCosts(bitops);
}

/** Empties the table (a refused input has no results, and keeps none of the last run's). */
export function clearTable() {
  ui.tbody.replaceChildren();
}

/** Refreshes the BitOps column; `bitops(model)` is null where the model cannot run. */
export function updateTableCosts(bitops) {
  for (const tr of ui.tbody.querySelectorAll("tr")) {
    const m = tr.dataset.method;
    if (!m.startsWith("model:")) continue;
    tr.querySelector(".bitops").textContent = fmt.si(bitops(state.models[Number(m.slice(6))]));
  }
}

export function updateRow(msg) {
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
export function failRow(msg) {
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
