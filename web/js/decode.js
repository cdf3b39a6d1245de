// Turns a user's file into RGBA pixels, with the page's limits checked before the image
// is decoded into a canvas (an <img> reports its size from the header).
import { fileProblem, largestSide, sizeProblem } from "./limits.js";

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
 * Decodes `source` (a File, or the URL of a bundled image) to ImageData, meant for `mode`.
 * Sizes beyond what any mode accepts are refused before the pixels are decoded, with the
 * message of `mode`'s limit; the mode's own limits are checked by the caller, so that an
 * image too big for upscale mode can still be benchmarked. The decoder is strict (a
 * truncated file is an error, not a partial image) and applies no colour management, so
 * pixels are the file's values. Throws Error with a message for the page.
 */
export async function decode(source, name, facts, mode) {
  let blob = source;
  if (!(source instanceof Blob)) {
    const res = await fetch(source);
    if (!res.ok) throw new Error(`“${name}” could not be loaded (HTTP ${res.status}).`);
    blob = await res.blob();
  }
  const tooBig = fileProblem(facts, name, blob.size);
  if (tooBig) throw new Error(tooBig);
  const url = URL.createObjectURL(blob);
  let size;
  try {
    size = await headerSize(url, name);
  } finally {
    URL.revokeObjectURL(url);
  }
  const { width: w, height: h } = size;
  if (!w || !h) throw new Error(`“${name}” has no pixels.`);
  if (w > largestSide(facts) || h > largestSide(facts)) {
    // Over every mode's limit, so over `mode`'s: its message names that limit.
    throw new Error(sizeProblem(facts, mode, name, w, h));
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
