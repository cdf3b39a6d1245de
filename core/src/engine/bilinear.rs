//! Bilinear resize with half-pixel centres (PyTorch `align_corners=False`, no
//! antialiasing), as ESA uses it to bring its pooled map back to full size (spec §2.3).
//!
//! [`weights`] is public so that the trainer builds the very same interpolation.

use alloc::vec;
use alloc::vec::Vec;

use super::tensor::Tensor;

/// One output position of a 1-D bilinear resize: it reads inputs `i0` and `i1` and is
/// `(1 − lambda)·in[i0] + lambda·in[i1]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tap {
    /// First input index.
    pub i0: usize,
    /// Second input index (`i0 + 1`, or `i0` at the last input).
    pub i1: usize,
    /// Weight of `i1`.
    pub lambda: f32,
}

/// The taps of a 1-D resize from `in_len` to `out_len` samples: source coordinate
/// `src = max((dst + 0.5)·in_len/out_len − 0.5, 0)` (in `f32`), `i0 = ⌊src⌋`,
/// `i1 = min(i0 + 1, in_len − 1)`, `lambda = src − i0`.
pub fn weights(in_len: usize, out_len: usize) -> Vec<Tap> {
    let scale = in_len as f32 / out_len as f32;
    (0..out_len)
        .map(|d| {
            let src = ((d as f32 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (src as usize).min(in_len.saturating_sub(1));
            let i1 = (i0 + 1).min(in_len.saturating_sub(1));
            Tap {
                i0,
                i1,
                lambda: src - i0 as f32,
            }
        })
        .collect()
}

/// Resizes every channel of `x` to `oh`×`ow`: rows first, then columns of those rows, in
/// the same float operations as the per-pixel formula
/// `(1−ly)·((1−lx)·a + lx·b) + ly·((1−lx)·c + lx·d)`.
pub(crate) fn resize(x: &Tensor, oh: usize, ow: usize) -> Tensor {
    let tx = weights(x.w, ow);
    let ty = weights(x.h, oh);
    let v = x.values();
    let mut out = vec![0f32; x.c * oh * ow];
    let mut rows = vec![0f32; x.h * ow];
    for c in 0..x.c {
        let p = &v[c * x.plane()..][..x.plane()];
        for (y, row) in rows.chunks_exact_mut(ow).enumerate() {
            let src = &p[y * x.w..][..x.w];
            for (o, t) in row.iter_mut().zip(&tx) {
                *o = (1.0 - t.lambda) * src[t.i0] + t.lambda * src[t.i1];
            }
        }
        for (y, t) in ty.iter().enumerate() {
            let dst = &mut out[(c * oh + y) * ow..][..ow];
            let (r0, r1) = (&rows[t.i0 * ow..][..ow], &rows[t.i1 * ow..][..ow]);
            for ((o, &a), &b) in dst.iter_mut().zip(r0).zip(r1) {
                *o = (1.0 - t.lambda) * a + t.lambda * b;
            }
        }
    }
    Tensor::f32(x.c, oh, ow, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_match_pytorch_half_pixel() {
        // 2 -> 4: src = (d + 0.5)/2 − 0.5 = −0.25 (clamped 0), 0.25, 0.75, 1.25.
        let t = weights(2, 4);
        assert_eq!(
            t[0],
            Tap {
                i0: 0,
                i1: 1,
                lambda: 0.0
            }
        );
        assert_eq!(
            t[1],
            Tap {
                i0: 0,
                i1: 1,
                lambda: 0.25
            }
        );
        assert_eq!(
            t[2],
            Tap {
                i0: 0,
                i1: 1,
                lambda: 0.75
            }
        );
        assert_eq!(
            t[3],
            Tap {
                i0: 1,
                i1: 1,
                lambda: 0.25
            }
        );
        // 1 -> n is constant.
        assert!(weights(1, 5).iter().all(|t| t.i0 == 0 && t.i1 == 0));
        // Same size is the identity.
        assert!(
            weights(7, 7)
                .iter()
                .enumerate()
                .all(|(i, t)| t.i0 == i && t.lambda == 0.0)
        );
    }

    #[test]
    fn resize_2x2_to_4x4() {
        // torch.nn.functional.interpolate([[1,2],[3,4]], size=4, mode="bilinear") rows:
        // [1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3, 3.25, 3.75, 4].
        let x = Tensor::f32(1, 2, 2, vec![1.0, 2.0, 3.0, 4.0]);
        let y = resize(&x, 4, 4);
        let want = [
            1.0, 1.25, 1.75, 2.0, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3.0, 3.25, 3.75, 4.0,
        ];
        assert_eq!(y.values(), &want);
    }
}
