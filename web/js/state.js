// What the page holds between events, and the elements it writes to. Every other module
// reads and updates this one object, so there is one place that says what a run is.

export const $ = (id) => document.getElementById(id);

export const ui = {
  imageSelect: $("image-select"),
  fileInput: $("file-input"),
  modelSelect: $("model-select"),
  costSelect: $("cost-select"),
  runButton: $("run-button"),
  progress: $("progress"),
  statusText: $("status-text"),
  message: $("message"),
  leftSelect: $("left-select"),
  rightSelect: $("right-select"),
  imageInfo: $("image-info"),
  zoom: $("zoom"),
  zoomInfo: $("zoom-info"),
  tbody: document.querySelector("#results-table tbody"),
  resultsInfo: $("results-info"),
  readout: $("bitops-readout"),
  share: $("bit-share"),
  bars: $("layer-bars"),
  legend: $("bit-legend"),
  arch: $("arch"),
  archInfo: $("arch-info"),
  limits: $("limits"),
  drop: $("drop-overlay"),
};

export const state = {
  wasm: null, // the wasm package on the main thread (facts and cost counting only)
  facts: null, // what core says, read once from wasm (see facts.js)
  worker: null,
  images: [], // {set, stem, file, name}
  models: [], // {title, description, file, metadata, arch, genotype, parts, bitWidths, kind: "model"}
  source: null, // {name, bundled, data: ImageData}
  userSource: null, // the visitor's last decoded file, as `source`
  // The source was refused in the current mode: nothing of it is run or costed.
  refused: false,
  mode: "benchmark",
  runId: 0,
  views: new Map(), // id → {label, canvas, imageData, scale}
  rows: new Map(), // method → {psnr, ssim, ms}
  region: null,
  userPickedView: false,
  loadProblems: "",
};
