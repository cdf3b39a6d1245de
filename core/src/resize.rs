//! MATLAB-compatible bicubic `imresize` (spec §7).
//!
//! The published SR tables make their LR inputs with MATLAB's `imresize(img, 1/s)`, whose
//! bicubic differs from PIL's in three ways that all move PSNR:
//! - the cubic kernel uses a = −0.5 (Keys);
//! - when shrinking (scale < 1) the kernel is stretched by 1/scale and its height scaled by
//!   `scale` (antialiasing), so it spans `4 / scale` input pixels;
//! - samples outside the image are mirrored with the edge pixel repeated (symmetric
//!   padding), through the index table `[1..n, n..1]` taken modulo `2n`.
//!
//! Output pixel `x` (1-based) sits at input coordinate `u = x / scale + 0.5 (1 − 1 / scale)`,
//! reads `P = ceil(kernel_width) + 2` taps starting at `floor(u − kernel_width / 2)`, and
//! normalises their weights to sum 1. The two axes are resized one after the other, the
//! axis with the smaller scale first (height first on a tie), as MATLAB does. For `uint8`
//! images MATLAB rounds to `uint8` after each pass; [`bicubic_rgb8`] does the same.
//! Arithmetic is `f64` throughout.

use alloc::vec;
use alloc::vec::Vec;

use crate::image::{Planes, RgbImage8, round_to_u8};

/// Width of the bicubic kernel in input pixels at scale ≥ 1.
const KERNEL_WIDTH: f64 = 4.0;

/// Keys' cubic convolution kernel with a = −0.5 (MATLAB's `cubic`).
fn cubic(x: f64) -> f64 {
    let ax = libm::fabs(x);
    let ax2 = ax * ax;
    let ax3 = ax2 * ax;
    if ax <= 1.0 {
        1.5 * ax3 - 2.5 * ax2 + 1.0
    } else if ax <= 2.0 {
        -0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0
    } else {
        0.0
    }
}

/// Output length for an input length and a scale: `ceil(in_len * scale)`.
///
/// A product within 1e-9 of an integer counts as that integer, so that float noise
/// (e.g. `255 * (1/3)`) never adds a pixel.
///
/// # Panics
/// If `scale` is not finite and positive.
pub fn output_len(in_len: usize, scale: f64) -> usize {
    assert!(
        scale.is_finite() && scale > 0.0,
        "resize scale must be finite and positive, got {scale}"
    );
    let exact = in_len as f64 * scale;
    let nearest = libm::round(exact);
    if libm::fabs(exact - nearest) < 1e-9 {
        nearest as usize
    } else {
        libm::ceil(exact) as usize
    }
}

/// The interpolation table of one axis: for every output pixel, `taps` input indices
/// (0-based, already mirrored into range) and their weights (summing to 1).
///
/// Build it once per (input length, output length, scale) and reuse it for every row or
/// column, and every image of that size.
#[derive(Debug, Clone, PartialEq)]
pub struct ResizeWeights {
    in_len: usize,
    out_len: usize,
    taps: usize,
    indices: Vec<usize>,
    weights: Vec<f64>,
}

impl ResizeWeights {
    /// Table for resizing `in_len` samples to `out_len` samples with the given `scale`
    /// (MATLAB's `contributions`). `scale` is normally `out_len / in_len`; `imresize` with
    /// a scalar factor passes the factor itself.
    ///
    /// # Panics
    /// If `scale` is not finite and positive, or `in_len` is 0 while `out_len` is not.
    pub fn new(in_len: usize, out_len: usize, scale: f64) -> Self {
        assert!(
            scale.is_finite() && scale > 0.0,
            "resize scale must be finite and positive, got {scale}"
        );
        assert!(
            in_len > 0 || out_len == 0,
            "cannot resize an empty axis to {out_len} samples"
        );
        // Antialiasing: when shrinking, stretch the kernel by 1/scale and scale its height.
        let (kernel_scale, kernel_width) = if scale < 1.0 {
            (scale, KERNEL_WIDTH / scale)
        } else {
            (1.0, KERNEL_WIDTH)
        };
        let p = libm::ceil(kernel_width) as usize + 2;
        let mut indices = vec![0usize; out_len * p];
        let mut weights = vec![0.0f64; out_len * p];
        let period = 2 * in_len as i64;
        for o in 0..out_len {
            let x = (o + 1) as f64;
            let u = x / scale + 0.5 * (1.0 - 1.0 / scale);
            let left = libm::floor(u - kernel_width / 2.0) as i64;
            let row = o * p;
            let mut sum = 0.0;
            for k in 0..p {
                let idx = left + k as i64; // 1-based, may be out of range
                let w = kernel_scale * cubic(kernel_scale * (u - idx as f64));
                weights[row + k] = w;
                sum += w;
                // Symmetric padding: aux = [1..n, n..1], aux(mod(idx - 1, 2n) + 1).
                let m = (idx - 1).rem_euclid(period) as usize;
                indices[row + k] = if m < in_len {
                    m
                } else {
                    period as usize - 1 - m
                };
            }
            for w in &mut weights[row..row + p] {
                *w /= sum;
            }
        }
        // Drop tap columns that are zero for every output pixel (MATLAB trims them too;
        // it saves work and never changes a result).
        let keep: Vec<usize> = (0..p)
            .filter(|&k| (0..out_len).any(|o| weights[o * p + k] != 0.0))
            .collect();
        let taps = keep.len();
        let mut kept_indices = Vec::with_capacity(out_len * taps);
        let mut kept_weights = Vec::with_capacity(out_len * taps);
        for o in 0..out_len {
            for &k in &keep {
                kept_indices.push(indices[o * p + k]);
                kept_weights.push(weights[o * p + k]);
            }
        }
        Self {
            in_len,
            out_len,
            taps,
            indices: kept_indices,
            weights: kept_weights,
        }
    }

    /// Number of input samples.
    pub fn in_len(&self) -> usize {
        self.in_len
    }

    /// Number of output samples.
    pub fn out_len(&self) -> usize {
        self.out_len
    }

    /// Number of taps per output sample.
    pub fn taps(&self) -> usize {
        self.taps
    }

    /// Input indices (0-based) and weights of output sample `o`.
    ///
    /// # Panics
    /// If `o >= out_len`.
    pub fn row(&self, o: usize) -> (&[usize], &[f64]) {
        let r = o * self.taps..(o + 1) * self.taps;
        (&self.indices[r.clone()], &self.weights[r])
    }
}

/// What happens to values between the two passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Between {
    /// Keep full `f64` precision.
    Keep,
    /// Round and saturate to `u8` (MATLAB's behaviour on `uint8` images).
    RoundU8,
}

/// Resizes along the height: `[c][h][w] → [c][out_h][w]`.
fn resize_height(src: &[f64], channels: usize, h: usize, w: usize, t: &ResizeWeights) -> Vec<f64> {
    debug_assert_eq!(t.in_len(), h);
    let oh = t.out_len();
    let mut out = vec![0.0f64; channels * oh * w];
    for c in 0..channels {
        let plane = &src[c * h * w..(c + 1) * h * w];
        for oy in 0..oh {
            let dst = &mut out[(c * oh + oy) * w..(c * oh + oy + 1) * w];
            let (idx, wts) = t.row(oy);
            for (&i, &wt) in idx.iter().zip(wts) {
                let line = &plane[i * w..(i + 1) * w];
                for (d, &s) in dst.iter_mut().zip(line) {
                    *d += wt * s;
                }
            }
        }
    }
    out
}

/// Resizes along the width: `[c][h][w] → [c][h][out_w]`.
fn resize_width(src: &[f64], channels: usize, h: usize, w: usize, t: &ResizeWeights) -> Vec<f64> {
    debug_assert_eq!(t.in_len(), w);
    let ow = t.out_len();
    let mut out = vec![0.0f64; channels * h * ow];
    for (line, dst) in src
        .chunks_exact(w.max(1))
        .zip(out.chunks_exact_mut(ow.max(1)))
    {
        for (ox, d) in dst.iter_mut().enumerate() {
            let (idx, wts) = t.row(ox);
            *d = idx.iter().zip(wts).map(|(&i, &wt)| wt * line[i]).sum();
        }
    }
    out
}

/// Resizes a CHW `f64` buffer to `out_h x out_w` with per-axis scales, ordering the
/// passes as MATLAB does.
#[allow(clippy::too_many_arguments)] // private plumbing shared by the public entry points
fn resize_chw(
    src: &[f64],
    channels: usize,
    h: usize,
    w: usize,
    out_h: usize,
    out_w: usize,
    scale_h: f64,
    scale_w: f64,
    between: Between,
) -> Vec<f64> {
    if channels == 0 || out_h == 0 || out_w == 0 {
        return vec![0.0; channels * out_h * out_w];
    }
    let th = ResizeWeights::new(h, out_h, scale_h);
    let tw = ResizeWeights::new(w, out_w, scale_w);
    let fix = |mut v: Vec<f64>| {
        if between == Between::RoundU8 {
            for x in &mut v {
                *x = f64::from(round_to_u8(*x));
            }
        }
        v
    };
    // MATLAB: [~, order] = sort(scale), a stable sort, so height first on a tie.
    if scale_w < scale_h {
        let mid = fix(resize_width(src, channels, h, w, &tw));
        resize_height(&mid, channels, h, out_w, &th)
    } else {
        let mid = fix(resize_height(src, channels, h, w, &th));
        resize_width(&mid, channels, out_h, w, &tw)
    }
}

/// Resizes every channel by `scale` (MATLAB `imresize(img, scale, 'bicubic')` on a
/// `double` image). The output is `ceil(h * scale) x ceil(w * scale)` (see
/// [`output_len`]); values are not clamped.
///
/// # Shapes
/// `[c, h, w] → [c, ceil(h·scale), ceil(w·scale)]`
///
/// # Panics
/// If `scale` is not finite and positive.
pub fn imresize(src: &Planes, scale: f64) -> Planes {
    let out_h = output_len(src.height, scale);
    let out_w = output_len(src.width, scale);
    resize_planes(src, out_h, out_w, scale, scale)
}

/// Resizes every channel to `out_h x out_w` (MATLAB `imresize(img, [out_h out_w])`), the
/// scale of each axis being `out / in`. Values are not clamped.
///
/// # Shapes
/// `[c, h, w] → [c, out_h, out_w]`
///
/// # Panics
/// If an input side is 0 while the matching output side is not.
pub fn imresize_to(src: &Planes, out_h: usize, out_w: usize) -> Planes {
    let scale_h = out_h as f64 / src.height.max(1) as f64;
    let scale_w = out_w as f64 / src.width.max(1) as f64;
    assert!(
        (src.height > 0 || out_h == 0) && (src.width > 0 || out_w == 0),
        "cannot resize an empty image to {out_h}x{out_w}"
    );
    resize_planes(
        src,
        out_h,
        out_w,
        if scale_h > 0.0 { scale_h } else { 1.0 },
        if scale_w > 0.0 { scale_w } else { 1.0 },
    )
}

fn resize_planes(src: &Planes, out_h: usize, out_w: usize, scale_h: f64, scale_w: f64) -> Planes {
    let data: Vec<f64> = src.data.iter().map(|&v| f64::from(v)).collect();
    let out = resize_chw(
        &data,
        src.channels,
        src.height,
        src.width,
        out_h,
        out_w,
        scale_h,
        scale_w,
        Between::Keep,
    );
    Planes {
        channels: src.channels,
        height: out_h,
        width: out_w,
        data: out.into_iter().map(|v| v as f32).collect(),
    }
}

/// Bicubic resize of an 8-bit image by `scale`, exactly as MATLAB `imresize(uint8_img,
/// scale)`: values stay on the 0..255 scale, and the result of each of the two passes is
/// rounded half away from zero and saturated to `u8`.
///
/// # Panics
/// If `scale` is not finite and positive.
pub fn bicubic_rgb8(src: &RgbImage8, scale: f64) -> RgbImage8 {
    let (h, w) = (src.height, src.width);
    let out_h = output_len(h, scale);
    let out_w = output_len(w, scale);
    let plane = h * w;
    let mut chw = vec![0.0f64; 3 * plane];
    for (i, px) in src.data.chunks_exact(3).enumerate() {
        for c in 0..3 {
            chw[c * plane + i] = f64::from(px[c]);
        }
    }
    let out = resize_chw(&chw, 3, h, w, out_h, out_w, scale, scale, Between::RoundU8);
    let out_plane = out_h * out_w;
    let mut data = vec![0u8; 3 * out_plane];
    for i in 0..out_plane {
        for c in 0..3 {
            data[3 * i + c] = round_to_u8(out[c * out_plane + i]);
        }
    }
    RgbImage8 {
        width: out_w,
        height: out_h,
        data,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use alloc::vec;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        libm::fabs(a - b) <= tol
    }

    #[test]
    fn kernel_values() {
        // cubic(0.25) = 1.5/64 − 2.5/16 + 1; cubic(1.75) = −0.5·1.75³ + 2.5·1.75² − 7 + 2.
        assert_eq!(cubic(0.0), 1.0);
        assert_eq!(cubic(0.25), 0.8671875);
        assert_eq!(cubic(0.75), 0.2265625);
        assert_eq!(cubic(1.25), -0.0703125);
        assert_eq!(cubic(1.75), -0.0234375);
        assert_eq!(cubic(2.0), 0.0);
        assert_eq!(cubic(-1.0), 0.0);
    }

    #[test]
    fn shrink_4_to_2_weights() {
        // scale 0.5: kernel width 8, P = 10, h(d) = 0.5·cubic(0.5·d).
        // Output 1: u = 1/0.5 + 0.5·(1 − 2) = 1.5, taps at 1-based -3..6, distances
        // 4.5 .. -4.5. Non-zero weights: d = ±3.5 → 0.5·cubic(1.75) = -0.01171875,
        // ±2.5 → 0.5·cubic(1.25) = -0.03515625, ±1.5 → 0.5·cubic(0.75) = 0.11328125,
        // ±0.5 → 0.5·cubic(0.25) = 0.43359375 (sum 1). Mirroring with aux = [1 2 3 4 4 3 2 1]
        // maps -2 → 3, -1 → 2, 0 → 1 and 5 → 4, so pixel 1 gets 0.11328125 + 0.43359375
        // = 0.546875, pixel 2 0.43359375 − 0.03515625 = 0.3984375, pixel 3 0.11328125 −
        // 0.01171875 = 0.1015625 and pixel 4 −0.03515625 − 0.01171875 = −0.046875.
        let t = ResizeWeights::new(4, 2, 0.5);
        let mut per_pixel = [0.0f64; 4];
        let (idx, wts) = t.row(0);
        for (&i, &w) in idx.iter().zip(wts) {
            per_pixel[i] += w;
        }
        let expect = [0.546875, 0.3984375, 0.1015625, -0.046875];
        for (g, e) in per_pixel.iter().zip(expect) {
            assert!(close(*g, e, 1e-15), "{per_pixel:?}");
        }
        // The two all-zero tap columns (d = ±4.5) are trimmed.
        assert_eq!(t.taps(), 8);

        // A 4x4 image with value 10·(col+1) + 100·(row+1): by linearity and symmetry
        // column part [14.609375, 35.390625] (10·0.546875 + 20·0.3984375 + 30·0.1015625
        // − 40·0.046875 = 14.609375), row part ten times that.
        let mut data = vec![];
        for r in 0..4 {
            for c in 0..4 {
                data.push((10 * (c + 1) + 100 * (r + 1)) as f32);
            }
        }
        let src = Planes::new(1, 4, 4, data).unwrap();
        let out = imresize(&src, 0.5);
        assert_eq!((out.height, out.width), (2, 2));
        let cols = [14.609375, 35.390625];
        for r in 0..2 {
            for c in 0..2 {
                let e = cols[c] + 10.0 * cols[r];
                assert!(close(f64::from(out.get(0, r, c)), e, 1e-4), "{out:?}");
            }
        }
    }

    #[test]
    fn enlarge_2_to_4_weights() {
        // scale 2: plain kernel, width 4, P = 6. Output 1: u = 0.5 + 0.25 = 0.75, taps
        // -2..3, distances 2.75 .. -2.25 → weights 0, cubic(1.75), cubic(0.75),
        // cubic(0.25), cubic(1.25), 0; aux = [1 2 2 1] maps -1 → 2 and 0 → 1, so
        // out1 = 1.09375·p1 − 0.09375·p2. Output 2: u = 1.25, taps -1..4 → weights 0,
        // cubic(1.25), cubic(0.25), cubic(0.75), cubic(1.75), 0 on pixels 1 1 2 2, so
        // out2 = 0.796875·p1 + 0.203125·p2. Outputs 3 and 4 mirror these.
        // For p = [10, 20]: [9.0625, 12.03125, 17.96875, 20.9375].
        let src = Planes::new(1, 1, 2, vec![10.0, 20.0]).unwrap();
        let out = imresize_to(&src, 1, 4);
        let expect = [9.0625, 12.03125, 17.96875, 20.9375];
        for (x, e) in expect.iter().enumerate() {
            assert!(close(f64::from(out.get(0, 0, x)), *e, 1e-5), "{out:?}");
        }
        // Same along both axes: value(r, c) = a[r] + a[c] for p = [10, 20] + [10, 20].
        let src = Planes::new(1, 2, 2, vec![20.0, 30.0, 30.0, 40.0]).unwrap();
        let out = imresize(&src, 2.0);
        assert_eq!((out.height, out.width), (4, 4));
        for r in 0..4 {
            for c in 0..4 {
                let e = expect[r] + expect[c];
                assert!(close(f64::from(out.get(0, r, c)), e, 1e-4));
            }
        }
    }

    #[test]
    fn weights_are_normalised_and_in_range() {
        for &(n, s) in &[
            (7usize, 0.25),
            (9, 1.0 / 3.0),
            (5, 3.0),
            (1, 4.0),
            (13, 0.5),
        ] {
            let out = output_len(n, s);
            let t = ResizeWeights::new(n, out, s);
            for o in 0..out {
                let (idx, w) = t.row(o);
                assert!(idx.iter().all(|&i| i < n));
                assert!(close(w.iter().sum::<f64>(), 1.0, 1e-12));
            }
        }
        assert_eq!(output_len(255, 1.0 / 3.0), 85);
        assert_eq!(output_len(10, 0.25), 3);
        assert_eq!(output_len(3, 4.0), 12);
    }

    #[test]
    fn constant_image_stays_constant() {
        let src = Planes::new(2, 5, 7, vec![0.3; 70]).unwrap();
        for s in [0.25, 0.5, 1.0 / 3.0, 2.0, 3.0, 4.0] {
            let out = imresize(&src, s);
            assert!(out.data.iter().all(|&v| close(f64::from(v), 0.3, 1e-6)));
        }
        let out = imresize_to(&src, 11, 3);
        assert_eq!((out.channels, out.height, out.width), (2, 11, 3));
        assert!(out.data.iter().all(|&v| close(f64::from(v), 0.3, 1e-6)));

        let img = RgbImage8::new(8, 4, [17u8, 200, 3].repeat(32)).unwrap();
        let down = bicubic_rgb8(&img, 0.25);
        assert_eq!((down.width, down.height), (2, 1));
        assert!(down.data.chunks(3).all(|p| p == [17, 200, 3]));
        let up = bicubic_rgb8(&down, 4.0);
        assert_eq!((up.width, up.height), (8, 4));
        assert!(up.data.chunks(3).all(|p| p == [17, 200, 3]));
    }

    #[test]
    fn rgb8_rounds_and_saturates() {
        // A 1x2 black/white edge enlarged x2 overshoots (1.09375·255 > 255, −0.09375·255 < 0)
        // and must saturate; out2 = 0.203125·255 = 51.796875 rounds to 52.
        let img = RgbImage8::new(2, 1, vec![0, 0, 0, 255, 255, 255]).unwrap();
        let up = bicubic_rgb8(&img, 2.0);
        assert_eq!((up.width, up.height), (4, 2));
        let row: Vec<u8> = up.data.chunks(3).take(4).map(|p| p[0]).collect();
        assert_eq!(row, vec![0, 52, 203, 255]);
    }
}
