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
    let tiles = lay.owp / TILE;
    for q in 0..kq {
        // Plain slices and loops (no array `map`/`from_fn`, whose closures would be
        // compiled outside the vector-width build of this function).
        let tap = |k: usize| tap_row(wg, zeros, g, lay, k);
        let (t0, t1, t2, t3) = (tap(4 * q), tap(4 * q + 1), tap(4 * q + 2), tap(4 * q + 3));
        for t in 0..tiles {
            let dst = &mut quads[(t * kq + q) * TILE * 4..][..TILE * 4];
            let s0 = &t0[t * TILE..][..TILE];
            let s1 = &t1[t * TILE..][..TILE];
            let s2 = &t2[t * TILE..][..TILE];
            let s3 = &t3[t * TILE..][..TILE];
            for p in 0..TILE {
                dst[4 * p] = s0[p];
                dst[4 * p + 1] = s1[p];
                dst[4 * p + 2] = s2[p];
                dst[4 * p + 3] = s3[p];
            }
        }
    }
}

/// Window row of tap `k` (input channel, kernel row, kernel column) for the current
/// output row, or `zeros` past the last tap.
#[inline(always)]
fn tap_row<'a>(wg: &'a [u8], zeros: &'a [u8], g: &Geometry, lay: &RowLayout, k: usize) -> &'a [u8] {
    if k < g.kk() {
        &wg[lay.row_start(k / g.kw, g.kh) + k % g.kw..][..lay.owp]
    } else {
        &zeros[..lay.owp]
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
