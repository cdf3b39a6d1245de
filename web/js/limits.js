// The input limits (core's `limits`, through wasm) as the page states them: every
// message names the limit of the mode the image is meant for.

const MB = 2 ** 20;

/** The paragraph under the controls: the current mode's limits first. */
export function limitsText(facts, mode) {
  const l = facts.limits;
  const up = `${l.maxUpscaleSide}×${l.maxUpscaleSide}`;
  const out = `${facts.scale * l.maxUpscaleSide}×${facts.scale * l.maxUpscaleSide}`;
  const bench = `${l.minBenchmarkSide} to ${l.maxBenchmarkSide} px per side`;
  const files = `files up to ${l.maxFileBytes / MB} MB`;
  return mode === "upscale"
    ? `Limits in upscale mode: images up to ${up} px (output up to ${out}); ${files}. Benchmark mode takes ground truths of ${bench}.`
    : `Limits in benchmark mode: ground truths of ${bench}; ${files}. Upscale mode takes images up to ${up} px (output up to ${out}).`;
}

/** Why a `w`×`h` image named `name` cannot run in `mode`, or null when it can. */
export function sizeProblem(facts, mode, name, w, h) {
  const l = facts.limits;
  const side = (n) => `${n}×${n} px`;
  if (mode === "upscale" && (w > l.maxUpscaleSide || h > l.maxUpscaleSide)) {
    return `“${name}” is ${w}×${h} px; upscale mode accepts at most ${side(l.maxUpscaleSide)} (benchmark mode, which shrinks it first, takes up to ${side(l.maxBenchmarkSide)}).`;
  }
  if (mode === "benchmark" && (w > l.maxBenchmarkSide || h > l.maxBenchmarkSide)) {
    return `“${name}” is ${w}×${h} px; benchmark mode accepts at most ${side(l.maxBenchmarkSide)}.`;
  }
  if (mode === "benchmark" && (w < l.minBenchmarkSide || h < l.minBenchmarkSide)) {
    return `“${name}” is ${w}×${h} px; benchmark mode needs at least ${side(l.minBenchmarkSide)} (upscale mode takes any size up to ${side(l.maxUpscaleSide)}).`;
  }
  return null;
}

/** Why a file of `bytes` bytes is not read, or null. The same limit in either mode. */
export function fileProblem(facts, name, bytes) {
  const max = facts.limits.maxFileBytes;
  if (bytes > max) return `“${name}” is ${(bytes / MB).toFixed(1)} MB; files up to ${max / MB} MB are read (in either mode).`;
  if (bytes === 0) return `“${name}” is empty.`;
  return null;
}

/** The largest side any mode accepts: above it the pixels are never decoded. */
export const largestSide = (facts) => Math.max(facts.limits.maxUpscaleSide, facts.limits.maxBenchmarkSide);
