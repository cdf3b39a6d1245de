// The page's side of the worker (../worker.js): starts it, and hands each message of the
// current run to `handlers` ({ready, fatal, status, image, result, done, error}); messages
// of an older run are dropped.
import { state } from "./state.js";

let handlers = null;

/** Starts a fresh worker (ending the old one) that reports to `h`. */
export function startWorker(h) {
  handlers = h;
  if (state.worker) state.worker.terminate();
  const worker = new Worker(new URL("../worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (e) => dispatch(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    handlers.fatal(`The worker failed to start (${e.message || "module error"}). Was ./web/build.sh run?`);
  };
  worker.postMessage({ type: "init" });
  state.worker = worker;
}

/** Asks the worker to run request `req` ({runId, mode, width, height, rgba, models}). */
export function postRun(req) {
  state.worker.postMessage({ type: "run", ...req }, [req.rgba]);
}

function dispatch(msg) {
  if (msg.type === "ready") return handlers.ready(msg);
  if (msg.type === "fatal") return handlers.fatal(msg.message);
  if (msg.runId !== state.runId) return; // an older run
  const h = handlers[msg.type];
  if (h) h(msg);
}
