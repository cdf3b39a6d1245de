//! The element-wise row loops around the dot kernels: quantizing an input row, laying a
//! row's taps out as quads, and rescaling a row of sums.
//!
//! At 1–4 MACs per output value (1×1 and thin convs at SR resolution) these loops, not
//! the dot products, take most of a conv's time, so each one is also compiled for the
//! wider vector units of the CPU ([`dot`](super::dot) dispatches them with the kernel's
//! [`Isa`]). They are plain IEEE arithmetic, so every build gives the same bits.

use super::conv::{Geometry, RowLayout};
use super::dot::{Isa, TILE};
use super::quant::hwgq_code;

/// HWGQ codes of a row of `f32` values.
#[inline(always)]
pub(crate) fn codes_from_f32(src: &[f32], step: f32, max: u8, dst: &mut [u8]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = hwgq_code(s, step, max);
    }
}

/// A row of sums rescaled by `scale` (in `f64`, rounded to `f32` once).
#[inline(always)]
pub(crate) fn f32_from_sums(sums: &[i32], scale: f64, dst: &mut [f32]) {
    for (o, &a) in dst.iter_mut().zip(sums) {
        *o = (f64::from(a) * scale) as f32;
    }
}

/// A row of sums rescaled by `scale`, then HWGQ-quantized for the next conv.
#[inline(always)]
pub(crate) fn codes_from_sums(sums: &[i32], scale: f64, step: f32, max: u8, dst: &mut [u8]) {
    for (o, &a) in dst.iter_mut().zip(sums) {
        *o = hwgq_code((f64::from(a) * scale) as f32, step, max);
    }
}

/// The activation quads of one group for the current output row, from its part of the
/// window: `quads[t][q][p][j]` is tap `4q + j` at column `t·TILE + p`; taps past the
/// group's last read `zeros`.
#[inline(always)]
pub(crate) fn im2col(
    wg: &[u8],
    g: &Geometry,
    lay: &RowLayout,
    kq: usize,
    zeros: &[u8],
    quads: &mut [u8],
) {
    let (kw, taps, owp) = (g.kw, g.kk(), lay.owp);
    let tiles = owp / TILE;
    let tap = |k: usize| -> &[u8] {
        if k < taps {
            &wg[lay.row_start(k / kw, g.kh) + k % kw..][..owp]
        } else {
            &zeros[..owp]
        }
    };
    for q in 0..kq {
        let src: [&[u8]; 4] = core::array::from_fn(|j| tap(4 * q + j));
        for t in 0..tiles {
            let dst = &mut quads[(t * kq + q) * TILE * 4..][..TILE * 4];
            let [s0, s1, s2, s3] = src.map(|s| &s[t * TILE..][..TILE]);
            for ((((d, &a), &b), &c), &e) in dst.chunks_exact_mut(4).zip(s0).zip(s1).zip(s2).zip(s3)
            {
                d.copy_from_slice(&[a, b, c, e]);
            }
        }
    }
}

/// Dispatches each row loop to its build for `isa`'s vector width.
pub(crate) mod on {
    use super::*;

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    use super::super::dot::x86::wide;

    /// [`codes_from_f32`](super::codes_from_f32) on `isa`.
    pub fn codes_from_f32(isa: Isa, src: &[f32], step: f32, max: u8, dst: &mut [u8]) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if let Some(w) = wide(isa) {
            return w.codes_from_f32(src, step, max, dst);
        }
        let _ = isa;
        super::codes_from_f32(src, step, max, dst)
    }

    /// [`f32_from_sums`](super::f32_from_sums) on `isa`.
    pub fn f32_from_sums(isa: Isa, sums: &[i32], scale: f64, dst: &mut [f32]) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if let Some(w) = wide(isa) {
            return w.f32_from_sums(sums, scale, dst);
        }
        let _ = isa;
        super::f32_from_sums(sums, scale, dst)
    }

    /// [`codes_from_sums`](super::codes_from_sums) on `isa`.
    pub fn codes_from_sums(isa: Isa, sums: &[i32], scale: f64, step: f32, max: u8, dst: &mut [u8]) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if let Some(w) = wide(isa) {
            return w.codes_from_sums(sums, scale, step, max, dst);
        }
        let _ = isa;
        super::codes_from_sums(sums, scale, step, max, dst)
    }

    /// [`im2col`](super::im2col) on `isa`.
    pub fn im2col(
        isa: Isa,
        wg: &[u8],
        g: &Geometry,
        lay: &RowLayout,
        kq: usize,
        zeros: &[u8],
        quads: &mut [u8],
    ) {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        if let Some(w) = wide(isa) {
            return w.im2col(wg, g, lay, kq, zeros, quads);
        }
        let _ = isa;
        super::im2col(wg, g, lay, kq, zeros, quads)
    }
}
