// Module worker of bench-ort.mjs: the page's engine (web/pkg, wasm SIMD, one thread) and
// onnxruntime-web (wasm EP, SIMD, one thread) on the same trained ESPCN-8 and the same
// 256×256 input, interleaved round by round in this one worker.
import * as ort from "./ort/ort.wasm.min.mjs";

// The page's choice of module (web/worker.js): relaxed SIMD where it validates.
async function loadPackage() {
  const res = await fetch("../pkg-relaxed/quantnas_wasm_bg.wasm");
  if (res.ok && WebAssembly.validate(await res.arrayBuffer())) return import("../pkg-relaxed/quantnas_wasm.js");
  return import("../pkg/quantnas_wasm.js");
}
// Started here, awaited in the handler: the handler must be set while the module is first
// evaluated. (Awaiting the package at the top level, as ad010cf did, set it only after
// the fetch, so the bench's message arrived with no handler and was dropped; the worker
// never answered and the page was closed by the time-out.)
const pkg = loadPackage();

self.onmessage = async (e) => {
  const { rounds, side } = e.data;
  try {
    const { default: init, Image, Model, kernel } = await pkg;
    await init();
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.simd = true;
    ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href;
    const bytes = new Uint8Array(await (await fetch("../models/espcn-8bit.qnm")).arrayBuffer());
    const model = Model.fromBytes(bytes);
    // The engine_timer's synthetic image, as RGBA for the page's entry point and as
    // [1, 3, H, W] floats (the same values /255) for ORT.
    const rgba = new Uint8Array(side * side * 4);
    const planes = new Float32Array(3 * side * side);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        for (let c = 0; c < 3; c++) {
          const v = 0.5 + 0.45 * (Math.sin(x * 0.05 + c) * Math.cos(y * 0.07));
          const b = Math.round(v * 255);
          rgba[(y * side + x) * 4 + c] = b;
          planes[(c * side + y) * side + x] = b / 255;
        }
        rgba[(y * side + x) * 4 + 3] = 255;
      }
    }
    const img = Image.fromRgba(rgba, side, side);
    const opts = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    const sessions = {
      "onnxruntime-web fp32": await ort.InferenceSession.create("./models/espcn.onnx", opts),
      "onnxruntime-web int8 QDQ": await ort.InferenceSession.create("./models/espcn.int8.onnx", opts),
    };
    const input = new ort.Tensor("float32", planes, [1, 3, side, side]);
    const runners = { [`engine (page's wasm, ${kernel()})`]: () => model.upscale(img).free() };
    for (const [k, s] of Object.entries(sessions)) runners[k] = () => s.run({ input });
    const ms = {};
    for (const [k, r] of Object.entries(runners)) {
      await r(); // warm-up
      ms[k] = [];
    }
    for (let i = 0; i < rounds; i++) {
      for (const [k, r] of Object.entries(runners)) {
        const t = performance.now();
        await r();
        ms[k].push(performance.now() - t);
      }
    }
    self.postMessage({ ms, kernel: kernel() });
  } catch (err) {
    self.postMessage({ error: String((err && err.stack) || err) });
  }
};
