// The status line, the message box and `data-state` on <body> (loading, running, done or
// error; the page test waits on it).
import { state, ui } from "./state.js";

export function setStatus(text, done = 0, total = 1) {
  ui.statusText.textContent = text;
  ui.progress.max = total;
  ui.progress.value = done;
}

export function showMessage(text, kind = "error") {
  ui.message.textContent = text;
  ui.message.className = kind === "info" ? "message info" : "message";
  ui.message.hidden = !text;
}

/** Model load problems, or the note that no model is bundled; else nothing. */
export function showBaseMessage() {
  if (state.loadProblems) showMessage(`Some models did not load:\n${state.loadProblems}`);
  else if (!state.models.length) {
    showMessage("No trained model is bundled yet (web/models/manifest.json lists none): only bicubic runs.", "info");
  } else showMessage("");
}

export function setPageState(s) {
  document.body.dataset.state = s;
}

/** Stops the page with a message: nothing can run (no wasm, no worker). */
export function fatal(text) {
  showMessage(text);
  setStatus("Stopped.");
  setPageState("error");
  ui.runButton.disabled = true;
}
