// The comparison view: two results stacked, the right one clipped at a draggable divider,
// and a zoom region whose crops are drawn side by side, magnified without smoothing.

/** Side of the zoom region, in output pixels. */
export const REGION_SIDE = 48;
/** Tallest the comparison view gets, in CSS pixels. */
const MAX_VIEW_HEIGHT = 540;

export class Compare {
  /**
   * @param {object} el  {compare, left, right, divider, region, split, leftLabel, rightLabel}
   * @param {(region: {x: number, y: number, side: number}) => void} onRegion
   */
  constructor(el, onRegion) {
    this.el = el;
    this.onRegion = onRegion;
    this.width = 0;
    this.height = 0;
    this.region = null;
    this.setSplit(50);
    el.split.addEventListener("input", () => this.setSplit(Number(el.split.value)));
    let down = null;
    el.compare.addEventListener("pointerdown", (e) => {
      down = { x: e.clientX, y: e.clientY, moved: false };
      el.compare.setPointerCapture(e.pointerId);
    });
    el.compare.addEventListener("pointermove", (e) => {
      if (!down) return;
      if (Math.abs(e.clientX - down.x) + Math.abs(e.clientY - down.y) > 4) down.moved = true;
      if (down.moved) this.setSplit(this.fraction(e).fx * 100);
    });
    el.compare.addEventListener("pointerup", (e) => {
      if (down && !down.moved && this.width) {
        const { fx, fy } = this.fraction(e);
        this.centreRegion(fx * this.width, fy * this.height);
        this.onRegion(this.region);
      }
      down = null;
    });
    window.addEventListener("resize", () => this.fit());
    el.compare.addEventListener("keydown", (e) => {
      const step = e.key === "ArrowLeft" ? -2 : e.key === "ArrowRight" ? 2 : 0;
      if (step) this.setSplit(Number(el.split.value) + step);
    });
  }

  fraction(e) {
    const r = this.el.compare.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, v));
    return { fx: clamp((e.clientX - r.left) / r.width), fy: clamp((e.clientY - r.top) / r.height) };
  }

  setSplit(pct) {
    const p = Math.min(100, Math.max(0, pct));
    this.el.split.value = String(p);
    this.el.right.style.clipPath = `inset(0 0 0 ${p}%)`;
    this.el.divider.style.left = `${p}%`;
  }

  /** Shows `left` and `right` ({label, canvas}); either may be null. */
  show(left, right) {
    for (const [side, item, label] of [
      ["left", left, this.el.leftLabel],
      ["right", right, this.el.rightLabel],
    ]) {
      const dst = this.el[side];
      if (!item) {
        label.textContent = "";
        dst.getContext("2d").clearRect(0, 0, dst.width, dst.height);
        continue;
      }
      if (dst.width !== item.canvas.width || dst.height !== item.canvas.height) {
        dst.width = item.canvas.width;
        dst.height = item.canvas.height;
      }
      dst.getContext("2d").drawImage(item.canvas, 0, 0);
      label.textContent = item.label;
    }
    const size = (left || right || { canvas: { width: 0, height: 0 } }).canvas;
    if (size.width !== this.width || size.height !== this.height) {
      this.width = size.width;
      this.height = size.height;
      this.region = null;
    }
    this.fit();
    this.drawRegion();
  }

  /** Scales the view to the frame's width (at most MAX_VIEW_HEIGHT tall), up or down;
   * magnified views show their pixels unsmoothed. */
  fit() {
    if (!this.width) return;
    const frame = this.el.compare.parentElement.clientWidth || this.width;
    const scale = Math.min(frame / this.width, MAX_VIEW_HEIGHT / this.height);
    const left = this.el.left.style;
    left.width = `${Math.floor(this.width * scale)}px`;
    left.height = `${Math.floor(this.height * scale)}px`;
    const rendering = scale >= 2 ? "pixelated" : "auto";
    left.imageRendering = rendering;
    this.el.right.style.imageRendering = rendering;
  }

  /** Moves the region so it is centred on (x, y), inside the image. */
  centreRegion(x, y) {
    const side = Math.min(REGION_SIDE, this.width, this.height);
    const rx = Math.round(Math.min(this.width - side, Math.max(0, x - side / 2)));
    const ry = Math.round(Math.min(this.height - side, Math.max(0, y - side / 2)));
    this.region = { x: rx, y: ry, side };
    this.drawRegion();
  }

  drawRegion() {
    const box = this.el.region;
    if (!this.region || !this.width) {
      box.hidden = true;
      return;
    }
    const { x, y, side } = this.region;
    box.hidden = false;
    box.style.left = `${(100 * x) / this.width}%`;
    box.style.top = `${(100 * y) / this.height}%`;
    box.style.width = `${(100 * side) / this.width}%`;
    box.style.height = `${(100 * side) / this.height}%`;
  }
}

/**
 * Draws the crop of `region` from every item ({label, caption, canvas, scale}) into
 * `container`; `scale` is how much smaller than the output the item's canvas is (core's
 * scale for the LR input).
 */
export function renderZoom(container, items, region) {
  container.replaceChildren();
  if (!region) return;
  for (const item of items) {
    const fig = document.createElement("figure");
    const c = document.createElement("canvas");
    const s = item.scale || 1;
    const side = Math.max(1, Math.round(region.side / s));
    c.width = side;
    c.height = side;
    const ctx = c.getContext("2d");
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(item.canvas, Math.floor(region.x / s), Math.floor(region.y / s), side, side, 0, 0, side, side);
    const cap = document.createElement("figcaption");
    const b = document.createElement("b");
    b.textContent = item.label;
    cap.append(b);
    if (item.caption) cap.append(document.createElement("br"), item.caption);
    fig.append(c, cap);
    container.append(fig);
  }
}

/**
 * Where a zoom shows most: the region of the largest gain of `model` over `bicubic`
 * (ImageData of one size) against `hr` when there is a ground truth, else where the two
 * differ most.
 */
export function telltaleRegion(bicubic, model, hr) {
  const { width: w, height: h } = bicubic;
  const side = Math.min(REGION_SIDE, w, h);
  const a = bicubic.data;
  const b = model.data;
  const t = hr ? hr.data : null;
  // Integral image of the per-pixel value, summed over RGB.
  const sat = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      const i = 4 * (y * w + x);
      for (let c = 0; c < 3; c++) {
        row += t ? Math.abs(a[i + c] - t[i + c]) - Math.abs(b[i + c] - t[i + c]) : Math.abs(a[i + c] - b[i + c]);
      }
      sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
    }
  }
  const at = (x, y) => sat[y * (w + 1) + x];
  let best = { x: Math.floor((w - side) / 2), y: Math.floor((h - side) / 2), v: -Infinity };
  for (let y = 0; y + side <= h; y += 4) {
    for (let x = 0; x + side <= w; x += 4) {
      const v = at(x + side, y + side) - at(x + side, y) - at(x, y + side) + at(x, y);
      if (v > best.v) best = { x, y, v };
    }
  }
  return { x: best.x, y: best.y, side };
}
