// Number formatting for the readouts.

/** 2.43e9 → "2.43 G"; keeps three significant digits. */
export function si(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  const units = [[1e15, "P"], [1e12, "T"], [1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [v, u] of units) {
    if (Math.abs(n) >= v) return `${(n / v).toPrecision(3)} ${u}`;
  }
  return String(n);
}

/** Milliseconds, 1 decimal below 100 ms. */
export function ms(t) {
  if (t === null || t === undefined) return "—";
  return t < 100 ? `${t.toFixed(1)} ms` : `${Math.round(t)} ms`;
}

export function psnr(p) {
  if (p === null || p === undefined) return "—";
  return Number.isFinite(p) ? p.toFixed(2) : "∞";
}

export function ssim(s) {
  return s === null || s === undefined ? "—" : s.toFixed(4);
}

/** Distinct bit widths as "4/8". */
export function bits(list) {
  return list && list.length ? list.join("/") : "—";
}

/** Milliseconds as seconds with two decimals: 1234 → "1.23 s". */
export function seconds(t) {
  return `${(t / 1000).toFixed(2)} s`;
}
