//! The WebAssembly SIMD128 kernel: 16 bytes (4 pixels × 4 taps) zero-extended to two
//! `i16x8`, `i32x4.dot_i16x8_s` with the channel's quad splat gives two half-sums per
//! pixel, added once after the last quad. 4 pixels × 4 channels at a time.
//!
//! Built only with `-C target-feature=+simd128` (as `web/build.sh` builds the page's
//! module), so every instruction here exists wherever the module validates. The loads
//! take raw pointers, which is the only `unsafe`; [`DotTiles::check`](super::DotTiles)
//! has bounded them.
#![allow(unsafe_code)]

use core::arch::wasm32::*;

use super::{DotTiles, TILE};

const QROW: usize = TILE * 4;

pub(super) fn dot_tiles(d: &DotTiles<'_>, acc: &mut [i32]) {
    let (kq, owp) = (d.kq, d.tiles * TILE);
    for t in 0..d.tiles {
        for part in 0..TILE / 4 {
            // SAFETY: tile `t` spans `kq·QROW` bytes of `a`, part `p` bytes
            // `16p..16p + 16` of each quad row; channel `c < chans` has `kq` quads; row `c`
            // of `acc` has `owp ≥ (t + 1)·TILE` sums (all checked by `DotTiles::check`).
            let at = unsafe { d.a.as_ptr().add(t * kq * QROW + part * 16) };
            for c in (0..d.chans).step_by(4) {
                let w = unsafe { d.w16x2.as_ptr().add(2 * c * kq) };
                let mut s = [[i32x4_splat(0); 2]; 4];
                for q in 0..kq {
                    let x = unsafe { v128_load(at.add(q * QROW).cast()) };
                    let (a0, a1) = (u16x8_extend_low_u8x16(x), u16x8_extend_high_u8x16(x));
                    for (j, s) in s.iter_mut().enumerate() {
                        let wv = unsafe { v128_load(w.add(2 * (j * kq + q)).cast()) };
                        s[0] = i32x4_add(s[0], i32x4_dot_i16x8(a0, wv));
                        s[1] = i32x4_add(s[1], i32x4_dot_i16x8(a1, wv));
                    }
                }
                for (j, s) in s.iter().enumerate() {
                    let even = i32x4_shuffle::<0, 2, 4, 6>(s[0], s[1]);
                    let odd = i32x4_shuffle::<1, 3, 5, 7>(s[0], s[1]);
                    let out = unsafe { acc.as_mut_ptr().add((c + j) * owp + t * TILE + part * 4) };
                    unsafe { v128_store(out.cast(), i32x4_add(even, odd)) };
                }
            }
        }
    }
}

/// The relaxed-SIMD kernel for activation codes ≤ 63: one
/// `i32x4.relaxed_dot_i8x16_i7x16_add_s` multiplies 4 pixels × 4 taps by the channel's
/// quad (splat as `i32`) and adds into the 4 pixels' sums. Its second operand is exact for
/// bytes below 128 on every engine, so with activation codes there the result is the
/// exact `i32` sum. 8 pixels × 4 channels at a time.
#[cfg(target_feature = "relaxed-simd")]
pub(super) fn dot_tiles_relaxed(d: &DotTiles<'_>, acc: &mut [i32]) {
    debug_assert!(d.max_act <= 63);
    let (kq, owp) = (d.kq, d.tiles * TILE);
    for t in 0..d.tiles {
        for part in 0..TILE / 8 {
            // SAFETY: as in `dot_tiles`; part `p` is bytes `32p..32p + 32` of each quad
            // row and sums `8p..8p + 8` of a tile.
            let at = unsafe { d.a.as_ptr().add(t * kq * QROW + part * 32) };
            for c in (0..d.chans).step_by(4) {
                let w = unsafe { d.w8.as_ptr().add(c * kq) };
                let mut s = [[i32x4_splat(0); 2]; 4];
                for q in 0..kq {
                    let (a0, a1) = unsafe {
                        (
                            v128_load(at.add(q * QROW).cast()),
                            v128_load(at.add(q * QROW + 16).cast()),
                        )
                    };
                    for (j, s) in s.iter_mut().enumerate() {
                        let wv = i32x4_splat(unsafe { *w.add(j * kq + q) });
                        s[0] = i32x4_relaxed_dot_i8x16_i7x16_add(wv, a0, s[0]);
                        s[1] = i32x4_relaxed_dot_i8x16_i7x16_add(wv, a1, s[1]);
                    }
                }
                for (j, s) in s.iter().enumerate() {
                    let out = unsafe { acc.as_mut_ptr().add((c + j) * owp + t * TILE + part * 8) };
                    unsafe {
                        v128_store(out.cast(), s[0]);
                        v128_store(out.add(4).cast(), s[1]);
                    }
                }
            }
        }
    }
}
