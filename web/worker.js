// The demo's Web Worker: loads the wasm package and the bundled models, and does all
// image work (bicubic, model upscales, PSNR/SSIM) so the page stays responsive.
//
// Messages in:  {type: "init"}
//               {type: "run", runId, mode: "benchmark"|"upscale", width, height, rgba,
//                models: [model index...]}
// Messages out: {type: "ready", version, kernel, models: [{file, title, description, metadata}],
//                failed: [{file, message}]}
//               {type: "status", runId, text, done, total}
//               {type: "image", runId, role: "hr"|"lr"|"input", width, height, rgba}
//               {type: "result", runId, method, width, height, rgba, ms, psnr, ssim}
//               (or {type: "result", runId, method, error} when that method refused the input)
//               {type: "done", runId} · {type: "error", runId, message}
// The relaxed-SIMD build where this browser validates it (faster 4-bit layers), else the
// SIMD128 one; both give the same numbers.
async function loadPackage() {
  try {
    const res = await fetch("./pkg-relaxed/quantnas_wasm_bg.wasm");
    if (res.ok && WebAssembly.validate(await res.arrayBuffer())) {
      return await import("./pkg-relaxed/quantnas_wasm.js");
    }
  } catch {
    // fall through to the SIMD128 build
  }
  return await import("./pkg/quantnas_wasm.js");
}
let wasm = null; // the loaded package: {default: init, Image, Model, score, scale, version, kernel}

const models = []; // {file, model}
let ready = null;
let latestRun = 0;

const errorText = (e) => (e && e.message) || String(e);
const yieldToMessages = () => new Promise((resolve) => setTimeout(resolve, 0));

async function load() {
  wasm = await loadPackage();
  await wasm.default();
  const failed = [];
  const listed = [];
  let manifest;
  try {
    const res = await fetch("models/manifest.json", { cache: "no-cache" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    manifest = await res.json();
  } catch (e) {
    failed.push({ file: "models/manifest.json", message: `could not read the model list: ${errorText(e)}` });
    manifest = { models: [] };
  }
  for (const entry of manifest.models || []) {
    try {
      const res = await fetch(`models/${entry.file}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const model = wasm.Model.fromBytes(new Uint8Array(await res.arrayBuffer()));
      const metadata = JSON.parse(model.metadata());
      models.push({ file: entry.file, model });
      listed.push({
        file: entry.file,
        title: entry.title || metadata.name,
        description: entry.description || "",
        metadata,
      });
    } catch (e) {
      failed.push({ file: entry.file, message: errorText(e) });
    }
  }
  return { version: wasm.version(), kernel: wasm.kernel(), models: listed, failed };
}

function post(msg, image) {
  if (image) {
    const rgba = image.rgba();
    msg.width = image.width;
    msg.height = image.height;
    msg.rgba = rgba;
    self.postMessage(msg, [rgba.buffer]);
  } else {
    self.postMessage(msg);
  }
}

// Runs one request; returns early when a newer request has arrived.
async function run(req) {
  const { runId } = req;
  const stale = () => runId !== latestRun;
  const owned = []; // wasm objects to free
  const keep = (x) => (owned.push(x), x);
  try {
    const input = keep(wasm.Image.fromRgba(new Uint8Array(req.rgba), req.width, req.height));
    let hr = null;
    let lr = input;
    const scale = wasm.scale(); // core's upscaling factor
    if (req.mode === "benchmark") {
      hr = keep(input.modcrop(scale));
      lr = keep(hr.resizeBicubic(1 / scale));
      post({ type: "image", runId, role: "hr" }, hr);
    }
    post({ type: "image", runId, role: "lr" }, lr);
    const methods = [{ method: "bicubic", label: "bicubic" }].concat(
      req.models.map((i) => ({ method: `model:${i}`, label: models[i].file, model: models[i].model })),
    );
    for (const [k, m] of methods.entries()) {
      self.postMessage({ type: "status", runId, text: `Upscaling with ${m.label} (${k + 1}/${methods.length})…`, done: k, total: methods.length });
      await yieldToMessages();
      if (stale()) return;
      let sr;
      const t0 = performance.now();
      try {
        sr = keep(m.model ? m.model.upscale(lr) : lr.resizeBicubic(scale));
      } catch (e) {
        // A trap may leave the instance broken: fail the run (the page restarts the worker).
        if (e instanceof WebAssembly.RuntimeError) throw e;
        // A refusal (e.g. an input below the network's smallest side) fails this method only.
        self.postMessage({ type: "result", runId, method: m.method, error: errorText(e) });
        continue;
      }
      const ms = performance.now() - t0;
      let psnr = null;
      let ssim = null;
      if (hr) {
        const s = wasm.score(sr, hr);
        psnr = s.psnr;
        ssim = s.ssim;
        s.free();
      }
      post({ type: "result", runId, method: m.method, ms, psnr, ssim }, sr);
    }
    self.postMessage({ type: "done", runId });
  } catch (e) {
    self.postMessage({ type: "error", runId, message: errorText(e) });
  } finally {
    for (const x of owned) x.free();
  }
}

self.onmessage = async (event) => {
  const req = event.data;
  if (req.type === "init") {
    ready = ready || load();
    try {
      self.postMessage({ type: "ready", ...(await ready) });
    } catch (e) {
      self.postMessage({ type: "fatal", message: `could not start WebAssembly: ${errorText(e)}` });
    }
  } else if (req.type === "run") {
    latestRun = req.runId;
    try {
      await ready;
    } catch {
      return; // reported by init
    }
    await run(req);
  }
};
