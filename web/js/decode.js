// Turns a user's file into RGBA pixels, with the page's limits checked before the image
// is decoded into a canvas (an <img> reports its size from the header).

/** Largest file accepted. */
export const MAX_FILE_BYTES = 40 * 1024 * 1024;
/** Upscale mode: largest input side (the ×4 output is at most 2048×2048). */
export const MAX_UPSCALE_SIDE = 512;
/** Benchmark mode: largest HR side (its LR input is at most 512×512). */
export const MAX_BENCHMARK_SIDE = 2048;
/** Benchmark mode: smallest HR side (scoring crops 4 px per border, SSIM needs 11). */
export const MIN_BENCHMARK_SIDE = 20;

/** Reads the size from the image header (an <img> does not decode the pixels for it). */
function headerSize(url, name) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve({ width: img.naturalWidth, height: img.naturalHeight });
    img.onerror = () => reject(undecodable(name));
    img.src = url;
  });
}

const undecodable = (name) =>
  new Error(`“${name}” could not be decoded as an image (PNG, JPEG, WebP, GIF or BMP expected).`);

/**
 * Decodes `source` (a File, or the URL of a bundled image) to ImageData after checking its
 * size against `maxSide`. The decoder is strict (a truncated file is an error, not a
 * partial image) and applies no colour management, so pixels are the file's values.
 * Throws Error with a message for the page.
 */
export async function decode(source, name, maxSide) {
  let blob = source;
  if (!(source instanceof Blob)) {
    const res = await fetch(source);
    if (!res.ok) throw new Error(`“${name}” could not be loaded (HTTP ${res.status}).`);
    blob = await res.blob();
  }
  if (blob.size > MAX_FILE_BYTES) {
    throw new Error(`“${name}” is ${(blob.size / 2 ** 20).toFixed(1)} MB; the limit is ${MAX_FILE_BYTES / 2 ** 20} MB.`);
  }
  if (blob.size === 0) throw new Error(`“${name}” is empty.`);
  const url = URL.createObjectURL(blob);
  let size;
  try {
    size = await headerSize(url, name);
  } finally {
    URL.revokeObjectURL(url);
  }
  const { width: w, height: h } = size;
  if (!w || !h) throw new Error(`“${name}” has no pixels.`);
  if (w > maxSide || h > maxSide) {
    throw new Error(`“${name}” is ${w}×${h} px; this mode accepts at most ${maxSide}×${maxSide} px.`);
  }
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch {
    throw undecodable(name);
  }
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return ctx.getImageData(0, 0, canvas.width, canvas.height);
}
