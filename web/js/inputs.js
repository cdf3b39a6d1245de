// Where images come from (the bundled list, a file, a drop) and the controls that start a
// run: image, mode, model, network and view selectors.
import { decode } from "./decode.js";
import { limitsText } from "./limits.js";
import { updateCost } from "./networks.js";
import { refuse, run } from "./run.js";
import { state, ui } from "./state.js";
import { setStatus, showMessage } from "./status.js";
import { showViews } from "./views.js";

async function useSource(loader, name, bundled) {
  showMessage("");
  setStatus(`Decoding ${name}…`);
  const mode = bundled ? "benchmark" : "upscale";
  try {
    const data = await loader(mode);
    state.source = { name, bundled, data };
    setMode(mode, false);
    run();
  } catch (e) {
    // Not decoded: no source, so nothing of it, and nothing of the last run, stays.
    state.source = null;
    setMode(mode, false);
    refuse(e.message || String(e));
  }
}

export function useBundled(index) {
  const img = state.images[index];
  ui.imageSelect.value = String(index);
  useSource((mode) => decode(`images/${img.file}`, img.file, state.facts, mode), img.name, true);
}

/** The image selector's entry for the visitor's own file, created on first use. */
function userOption() {
  let opt = ui.imageSelect.querySelector('option[value="user"]');
  if (!opt) {
    opt = new Option("", "user");
    ui.imageSelect.prepend(opt);
  }
  ui.imageSelect.value = "user";
  return opt;
}

function useFile(file) {
  if (!file) return;
  useSource(
    async (mode) => {
      try {
        const data = await decode(file, file.name, state.facts, mode);
        state.userSource = { name: file.name, bundled: false, data };
        userOption().textContent = `Your image: ${file.name} (${data.width}×${data.height})`;
        return data;
      } catch (e) {
        state.userSource = null;
        userOption().textContent = `Your image: ${file.name} (refused)`;
        throw e;
      }
    },
    file.name,
    false,
  );
}

function setMode(mode, rerun = true) {
  state.mode = mode;
  for (const r of document.querySelectorAll('input[name="mode"]')) r.checked = r.value === mode;
  ui.limits.textContent = limitsText(state.facts, mode);
  if (rerun && state.source) run();
  else updateCost();
}

/** Lists the bundled images (images/manifest.json) in the image selector. */
export async function loadImageList() {
  const res = await fetch("images/manifest.json");
  if (!res.ok) throw new Error(`images/manifest.json: HTTP ${res.status}`);
  const manifest = await res.json();
  for (const set of manifest.sets) {
    const group = document.createElement("optgroup");
    group.label = set.name;
    for (const img of set.images) {
      const stem = img.file.split("/").pop().replace(/\.png$/, "");
      const name = `${set.name} ${stem}`;
      state.images.push({ set: set.name, stem, file: img.file, name });
      group.append(new Option(`${name} (${img.width}×${img.height})`, String(state.images.length - 1)));
    }
    ui.imageSelect.append(group);
  }
}

export function wireInputs() {
  ui.imageSelect.addEventListener("change", () => {
    if (ui.imageSelect.value === "user") {
      // Back to the visitor's own image (null when it was refused).
      state.source = state.userSource;
      return state.source ? setMode("upscale") : refuse("Open an image: your last one was refused.");
    }
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

export { setMode };
