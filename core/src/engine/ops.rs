//! The non-conv operations of the graph, on planar `f32` tensors (spec §2–§4).
//!
//! # Shapes
//! Every function takes and returns `C×H×W` tensors in CHW order; the shapes are those of
//! [`Graph::shapes`](crate::arch::Graph::shapes).

use alloc::vec::Vec;

use super::pool::Pool;
use super::tensor::{Data, Tensor};

/// `dst += src`, element-wise.
pub(crate) fn add_assign(dst: &mut [f32], src: &[f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d += s;
    }
}

/// `dst *= src`, element-wise.
pub(crate) fn mul_assign(dst: &mut [f32], src: &[f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d *= s;
    }
}

/// Channels of `inputs` one after the other.
pub(crate) fn concat(inputs: &[&Tensor]) -> Tensor {
    let (h, w) = (inputs[0].h, inputs[0].w);
    let c = inputs.iter().map(|t| t.c).sum();
    let mut data = Vec::with_capacity(c * h * w);
    for t in inputs {
        data.extend_from_slice(t.values());
    }
    Tensor::f32(c, h, w, data)
}

/// Output channel `k` is input channel `k mod C`.
pub(crate) fn tile(x: &Tensor, times: usize) -> Tensor {
    let mut data = Vec::with_capacity(x.c * times * x.plane());
    for _ in 0..times {
        data.extend_from_slice(x.values());
    }
    Tensor::f32(x.c * times, x.h, x.w, data)
}

/// Depth-to-space: `out[c, y·r+i, x·r+j] = in[c·r²+i·r+j, y, x]`, on floats or on codes
/// (a permutation commutes with the element-wise quantizer), into a buffer of `pool`.
pub(crate) fn pixel_shuffle(x: &Tensor, r: usize, pool: &mut Pool) -> Tensor {
    let (c, h, w) = (x.c / (r * r), x.h, x.w);
    let n = c * h * w * r * r;
    // `shuffle` writes every value.
    let data = match &x.data {
        Data::F32(v) => {
            let mut out = pool.f32_overwritten(n);
            shuffle(v, c, h, w, r, &mut out);
            Data::F32(out)
        }
        Data::Codes(v) => {
            let mut out = pool.codes_overwritten(n);
            shuffle(v, c, h, w, r, &mut out);
            Data::Codes(out)
        }
    };
    Tensor {
        c,
        h: h * r,
        w: w * r,
        data,
    }
}

fn shuffle<T: Copy>(v: &[T], c: usize, h: usize, w: usize, r: usize, out: &mut [T]) {
    match r {
        2 => shuffle_by::<T, 2>(v, c, h, w, out),
        3 => shuffle_by::<T, 3>(v, c, h, w, out),
        4 => shuffle_by::<T, 4>(v, c, h, w, out),
        _ => {
            let ow = w * r;
            for (k, d) in out.iter_mut().enumerate() {
                let (co, oy, ox) = (k / (h * r * ow), (k / ow) % (h * r), k % ow);
                let (y, i, x, j) = (oy / r, oy % r, ox / r, ox % r);
                *d = v[((co * r * r + i * r + j) * h + y) * w + x];
            }
        }
    }
}

/// [`shuffle`] by a factor known at compile time: the `R` sources of one output row are
/// a fixed array (no allocation per row), read in step so each output value is written
/// once, in order.
fn shuffle_by<T: Copy, const R: usize>(v: &[T], c: usize, h: usize, w: usize, out: &mut [T]) {
    let ow = w * R;
    for co in 0..c {
        for y in 0..h {
            for i in 0..R {
                let dst = &mut out[(co * h * R + y * R + i) * ow..][..ow];
                let src: [&[T]; R] =
                    core::array::from_fn(|j| &v[((co * R * R + i * R + j) * h + y) * w..][..w]);
                for (x, d) in dst.chunks_exact_mut(R).enumerate() {
                    for (d, s) in d.iter_mut().zip(&src) {
                        *d = s[x];
                    }
                }
            }
        }
    }
}

/// Inference batch norm in place: `v = scale_c·v + shift_c`.
pub(crate) fn batch_norm_assign(v: &mut [f32], plane: usize, scale: &[f32], shift: &[f32]) {
    for ((chunk, &a), &b) in v.chunks_exact_mut(plane).zip(scale).zip(shift) {
        for x in chunk {
            *x = a * *x + b;
        }
    }
}

/// Inference batch norm of `src` into `dst` (cleared first): `scale_c·x + shift_c`.
pub(crate) fn batch_norm_into(
    src: &[f32],
    plane: usize,
    scale: &[f32],
    shift: &[f32],
    dst: &mut Vec<f32>,
) {
    dst.clear();
    for ((chunk, &a), &b) in src.chunks_exact(plane).zip(scale).zip(shift) {
        dst.extend(chunk.iter().map(|&x| a * x + b));
    }
}

/// Unbiased standard deviation (divides by N − 1) of all values, two-pass in `f64`;
/// 0 for fewer than 2 values.
///
/// Each pass sums in `LANES` (8) interleaved partial sums added at the end (one sequential
/// `f64` chain is bound by the adder's latency and does not vectorise; this is also a
/// little more accurate). The result is fixed by the values alone, so the integer path and
/// the reference executor get the same σ.
pub fn unbiased_std(v: &[f32]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let n = v.len() as f64;
    let mean = lane_sum(v, |x| x) / n;
    let ss = lane_sum(v, |x| (x - mean) * (x - mean));
    libm::sqrt(ss / (n - 1.0))
}

/// Partial sums of [`unbiased_std`].
const LANES: usize = 8;

/// `Σ f(v_i)` in [`LANES`] partial sums (lane `i mod LANES`), then the lanes in order, then
/// the tail.
#[inline(always)]
fn lane_sum(v: &[f32], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0f64; LANES];
    let chunks = v.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f(f64::from(x));
        }
    }
    acc.iter().sum::<f64>() + tail.iter().map(|&x| f(f64::from(x))).sum::<f64>()
}

/// ADQ's factor `γ·σ(skip) + β` (spec §4), rounded to `f32`.
pub fn adq_factor(skip: &[f32], gamma: f32, beta: f32) -> f32 {
    (f64::from(gamma) * unbiased_std(skip) + f64::from(beta)) as f32
}

/// ADQ in place on the branch: `branch = branch·factor + skip`.
pub(crate) fn adq_assign(branch: &mut [f32], skip: &[f32], factor: f32) {
    for (b, &s) in branch.iter_mut().zip(skip) {
        *b = *b * factor + s;
    }
}

/// Max pooling, window `k`, stride `s`, no padding, floor.
pub(crate) fn max_pool(x: &Tensor, k: usize, s: usize) -> Tensor {
    let oh = (x.h - k) / s + 1;
    let ow = (x.w - k) / s + 1;
    let v = x.values();
    let mut out = Vec::with_capacity(x.c * oh * ow);
    for c in 0..x.c {
        let p = &v[c * x.plane()..][..x.plane()];
        for oy in 0..oh {
            for ox in 0..ow {
                let mut m = f32::NEG_INFINITY;
                for ky in 0..k {
                    for &val in &p[(oy * s + ky) * x.w + ox * s..][..k] {
                        m = m.max(val);
                    }
                }
                out.push(m);
            }
        }
    }
    Tensor::f32(x.c, oh, ow, out)
}

/// Logistic sigmoid `1 / (1 + e^−x)` in place, computed in `f64` and rounded once to
/// `f32`, so that the value is the sigmoid's to within `f32` rounding whatever `exp` a
/// platform has (the exact ONNX export spells out the same `double` ops).
pub(crate) fn sigmoid_assign(v: &mut [f32]) {
    for x in v {
        *x = (1.0 / (1.0 + libm::exp(-f64::from(*x)))) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(c: usize, h: usize, w: usize) -> Tensor {
        Tensor::f32(c, h, w, (0..c * h * w).map(|i| i as f32).collect())
    }

    /// Every factor's path (the fixed-array ones and the general one) follows the
    /// formula on floats and on codes.
    #[test]
    fn every_shuffle_factor_follows_the_formula() {
        for r in 1..=5 {
            let (c, h, w) = (2, 3, 4);
            let v: Vec<u8> = (0..c * r * r * h * w).map(|i| (i % 251) as u8).collect();
            let mut out = alloc::vec![0; v.len()];
            shuffle(&v, c, h, w, r, &mut out);
            for co in 0..c {
                for oy in 0..h * r {
                    for ox in 0..w * r {
                        let (y, i, x, j) = (oy / r, oy % r, ox / r, ox % r);
                        let want = v[((co * r * r + i * r + j) * h + y) * w + x];
                        assert_eq!(out[(co * h * r + oy) * w * r + ox], want, "r {r}");
                    }
                }
            }
        }
    }

    #[test]
    fn pixel_shuffle_follows_the_formula() {
        // 4 channels of 1×2 -> 1 channel of 2×4.
        let x = t(4, 1, 2);
        let y = pixel_shuffle(&x, 2, &mut Pool::default());
        assert_eq!((y.c, y.h, y.w), (1, 2, 4));
        // Row 0: channels 0 (i=0,j=0) and 1 (i=0,j=1) interleaved; row 1: channels 2, 3.
        assert_eq!(y.values(), &[0., 2., 1., 3., 4., 6., 5., 7.]);
    }

    #[test]
    fn tile_concat_pool() {
        let x = t(2, 1, 1);
        assert_eq!(tile(&x, 3).values(), &[0., 1., 0., 1., 0., 1.]);
        let c = concat(&[&x, &t(1, 1, 1)]);
        assert_eq!((c.c, c.values()), (3, &[0., 1., 0.][..]));
        let p = max_pool(&t(1, 5, 5), 3, 2);
        assert_eq!((p.h, p.w, p.values()), (2, 2, &[12., 14., 22., 24.][..]));
    }

    #[test]
    fn std_and_adq() {
        // Values 1..4: mean 2.5, unbiased variance 5/3.
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((unbiased_std(&v) - libm::sqrt(5.0 / 3.0)).abs() < 1e-12);
        assert_eq!(unbiased_std(&[3.0]), 0.0);
        let mut b = [1.0f32, 1.0, 1.0, 1.0];
        let f = adq_factor(&v, 2.0, 0.5);
        adq_assign(&mut b, &v, f);
        assert!((b[0] - (f + 1.0)).abs() < 1e-6);
        let mut s = [0.0f32, 100.0, -100.0];
        sigmoid_assign(&mut s);
        // e⁻¹⁰⁰ ≈ 3.72·10⁻⁴⁴, a subnormal f32 (an f32 `exp` would overflow and give 0).
        assert_eq!(s[..2], [0.5, 1.0]);
        assert!((s[2] - 3.72e-44).abs() < 2e-45, "{}", s[2]);
        let mut bn = [1.0f32, 2.0, 3.0, 4.0];
        batch_norm_assign(&mut bn, 2, &[2.0, -1.0], &[1.0, 0.5]);
        assert_eq!(bn, [3.0, 5.0, -2.5, -3.5]);
    }
}
