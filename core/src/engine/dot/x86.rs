//! The x86 kernels: SSE2 and AVX2 `pmaddwd` on zero-extended activation codes, AVX-VNNI
//! and AVX-512 VNNI `vpdpbusd` on the bytes themselves.
//!
//! This is the crate's only `unsafe` code, for two reasons: a function compiled for an
//! instruction set may only be called once the CPU is known to have it (checked by
//! [`available`], at run time with `std`), and vector loads and stores take raw
//! pointers. Every kernel is entered through [`dot_tiles`], after
//! [`DotTiles::check`](super::DotTiles) has asserted that each slice is as long as the
//! loops read, so every pointer stays inside its slice.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86")]
use core::arch::x86::*;
#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::*;

use super::{DotTiles, Isa, TILE};

/// Whether this CPU has everything `isa`'s kernel is compiled for.
pub(super) fn available(isa: Isa) -> bool {
    #[cfg(feature = "std")]
    macro_rules! has {
        ($($f:tt),+) => { $(std::is_x86_feature_detected!($f))&&+ };
    }
    #[cfg(not(feature = "std"))]
    macro_rules! has {
        ($($f:tt),+) => { $(cfg!(target_feature = $f))&&+ };
    }
    match isa {
        Isa::Sse2 => has!("sse2"),
        Isa::Avx2 => has!("avx2"),
        Isa::AvxVnni => has!("avx2", "avxvnni"),
        Isa::Avx512Vnni => has!("avx512f", "avx512bw", "avx512vnni"),
        _ => false,
    }
}

/// Runs `isa`'s kernel; the caller has checked the slices and [`available`].
pub(super) fn dot_tiles(isa: Isa, d: &DotTiles<'_>, acc: &mut [i32]) {
    debug_assert!(available(isa));
    // SAFETY: `available(isa)` holds (checked by the caller, `super::dot_tiles`), so the
    // CPU has every feature the kernel is compiled with; `d.check(acc)` bounds the loads.
    unsafe {
        match isa {
            Isa::Sse2 => sse2(d, acc),
            Isa::Avx2 => avx2(d, acc),
            Isa::AvxVnni => avx_vnni(d, acc),
            Isa::Avx512Vnni => avx512_vnni(d, acc),
            _ => unreachable!("not an x86 kernel: {isa}"),
        }
    }
}

/// Bytes of one quad row of a tile: `TILE` pixels × 4 taps.
const QROW: usize = TILE * 4;

/// AVX-512 VNNI: a tile is two `zmm` of 16 pixels × 4 taps; 8 channels × 2 vectors of
/// sums stay in registers while the tile's quads stream once.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
unsafe fn avx512_vnni(d: &DotTiles<'_>, acc: &mut [i32]) {
    let (kq, owp) = (d.kq, d.tiles * TILE);
    for t in 0..d.tiles {
        // SAFETY (all pointer arithmetic below): tile `t` spans `kq·QROW` bytes of `a`
        // (checked), channel `c < chans` has `kq` quads (checked), and row `c` of `acc`
        // has `owp ≥ (t + 1)·TILE` sums (checked).
        let at = unsafe { d.a.as_ptr().add(t * kq * QROW) };
        let mut c = 0;
        while c < d.chans {
            let wc = unsafe { d.w8.as_ptr().add(c * kq) };
            let out = unsafe { acc.as_mut_ptr().add(c * owp + t * TILE) };
            if c + 8 <= d.chans {
                unsafe { avx512_block::<8>(at, kq, wc, out, owp) };
                c += 8;
            } else {
                unsafe { avx512_block::<4>(at, kq, wc, out, owp) };
                c += 4;
            }
        }
    }
}

#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
#[inline]
unsafe fn avx512_block<const C: usize>(
    at: *const u8,
    kq: usize,
    w: *const i32,
    out: *mut i32,
    owp: usize,
) {
    let mut s = [[_mm512_setzero_si512(); 2]; C];
    for q in 0..kq {
        // SAFETY: see `avx512_vnni`.
        let (a0, a1) = unsafe {
            (
                _mm512_loadu_si512(at.add(q * QROW).cast()),
                _mm512_loadu_si512(at.add(q * QROW + 64).cast()),
            )
        };
        for (c, s) in s.iter_mut().enumerate() {
            let wv = _mm512_set1_epi32(unsafe { *w.add(c * kq + q) });
            s[0] = _mm512_dpbusd_epi32(s[0], a0, wv);
            s[1] = _mm512_dpbusd_epi32(s[1], a1, wv);
        }
    }
    for (c, s) in s.iter().enumerate() {
        unsafe {
            _mm512_storeu_si512(out.add(c * owp).cast(), s[0]);
            _mm512_storeu_si512(out.add(c * owp + 16).cast(), s[1]);
        }
    }
}

/// AVX-VNNI (no AVX-512, so 16 `ymm` registers): half a tile (two `ymm` of 8 pixels) ×
/// 4 channels at a time.
#[target_feature(enable = "avx2,avxvnni")]
unsafe fn avx_vnni(d: &DotTiles<'_>, acc: &mut [i32]) {
    let (kq, owp) = (d.kq, d.tiles * TILE);
    for t in 0..d.tiles {
        for half in 0..2 {
            // SAFETY: as in `avx512_vnni`; half `h` is bytes `64h..64h + 64` of a quad row
            // and sums `16h..16h + 16` of a tile.
            let at = unsafe { d.a.as_ptr().add(t * kq * QROW + half * 64) };
            for c in (0..d.chans).step_by(4) {
                let w = unsafe { d.w8.as_ptr().add(c * kq) };
                let mut s = [[_mm256_setzero_si256(); 2]; 4];
                for q in 0..kq {
                    let (a0, a1) = unsafe {
                        (
                            _mm256_loadu_si256(at.add(q * QROW).cast()),
                            _mm256_loadu_si256(at.add(q * QROW + 32).cast()),
                        )
                    };
                    for (j, s) in s.iter_mut().enumerate() {
                        let wv = _mm256_set1_epi32(unsafe { *w.add(j * kq + q) });
                        s[0] = _mm256_dpbusd_avx_epi32(s[0], a0, wv);
                        s[1] = _mm256_dpbusd_avx_epi32(s[1], a1, wv);
                    }
                }
                for (j, s) in s.iter().enumerate() {
                    let out = unsafe { acc.as_mut_ptr().add((c + j) * owp + t * TILE + half * 16) };
                    unsafe {
                        _mm256_storeu_si256(out.cast(), s[0]);
                        _mm256_storeu_si256(out.add(8).cast(), s[1]);
                    }
                }
            }
        }
    }
}

/// AVX2: 16 bytes (4 pixels × 4 taps) zero-extended to 16 `i16`, `vpmaddwd` with the
/// channel's quad broadcast gives two half-sums per pixel; they are added once, after
/// the last quad. 8 pixels × 4 channels at a time.
#[target_feature(enable = "avx2")]
unsafe fn avx2(d: &DotTiles<'_>, acc: &mut [i32]) {
    let (kq, owp) = (d.kq, d.tiles * TILE);
    for t in 0..d.tiles {
        for part in 0..TILE / 8 {
            // SAFETY: as in `avx512_vnni`; part `p` is bytes `32p..32p + 32` of a quad row
            // and sums `8p..8p + 8` of a tile.
            let at = unsafe { d.a.as_ptr().add(t * kq * QROW + part * 32) };
            for c in (0..d.chans).step_by(4) {
                let w = unsafe { d.w16.as_ptr().add(c * kq) };
                let mut s = [[_mm256_setzero_si256(); 2]; 4];
                for q in 0..kq {
                    let (a0, a1) = unsafe {
                        (
                            _mm256_cvtepu8_epi16(_mm_loadu_si128(at.add(q * QROW).cast())),
                            _mm256_cvtepu8_epi16(_mm_loadu_si128(at.add(q * QROW + 16).cast())),
                        )
                    };
                    for (j, s) in s.iter_mut().enumerate() {
                        let wv = _mm256_set1_epi64x(unsafe { *w.add(j * kq + q) });
                        s[0] = _mm256_add_epi32(s[0], _mm256_madd_epi16(a0, wv));
                        s[1] = _mm256_add_epi32(s[1], _mm256_madd_epi16(a1, wv));
                    }
                }
                for (j, s) in s.iter().enumerate() {
                    // Lanes (2p, 2p + 1) hold pixel p's half-sums; `hadd` pairs them within
                    // 128-bit halves, giving pixels [0 1 4 5 | 2 3 6 7]; the permute orders
                    // the 64-bit pairs as [0 1 2 3 4 5 6 7].
                    let r =
                        _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_hadd_epi32(s[0], s[1]));
                    let out = unsafe { acc.as_mut_ptr().add((c + j) * owp + t * TILE + part * 8) };
                    unsafe { _mm256_storeu_si256(out.cast(), r) };
                }
            }
        }
    }
}

/// SSE2: as AVX2 at half the width; 4 pixels × 4 channels at a time.
#[target_feature(enable = "sse2")]
unsafe fn sse2(d: &DotTiles<'_>, acc: &mut [i32]) {
    let (kq, owp) = (d.kq, d.tiles * TILE);
    let zero = _mm_setzero_si128();
    for t in 0..d.tiles {
        for part in 0..TILE / 4 {
            // SAFETY: as in `avx512_vnni`; part `p` is bytes `16p..16p + 16` of a quad row
            // and sums `4p..4p + 4` of a tile.
            let at = unsafe { d.a.as_ptr().add(t * kq * QROW + part * 16) };
            for c in (0..d.chans).step_by(4) {
                let w = unsafe { d.w16x2.as_ptr().add(2 * c * kq) };
                let mut s = [[_mm_setzero_si128(); 2]; 4];
                for q in 0..kq {
                    let x = unsafe { _mm_loadu_si128(at.add(q * QROW).cast()) };
                    let (a0, a1) = (_mm_unpacklo_epi8(x, zero), _mm_unpackhi_epi8(x, zero));
                    for (j, s) in s.iter_mut().enumerate() {
                        let wv = unsafe { _mm_loadu_si128(w.add(2 * (j * kq + q)).cast()) };
                        s[0] = _mm_add_epi32(s[0], _mm_madd_epi16(a0, wv));
                        s[1] = _mm_add_epi32(s[1], _mm_madd_epi16(a1, wv));
                    }
                }
                for (j, s) in s.iter().enumerate() {
                    // [p0 p0' p1 p1'] and [p2 p2' p3 p3'] → [p0 p1 p2 p3] + [p0' p1' p2' p3'].
                    let (x, y) = (_mm_castsi128_ps(s[0]), _mm_castsi128_ps(s[1]));
                    let even = _mm_castps_si128(_mm_shuffle_ps::<0b10_00_10_00>(x, y));
                    let odd = _mm_castps_si128(_mm_shuffle_ps::<0b11_01_11_01>(x, y));
                    let out = unsafe { acc.as_mut_ptr().add((c + j) * owp + t * TILE + part * 4) };
                    unsafe { _mm_storeu_si128(out.cast(), _mm_add_epi32(even, odd)) };
                }
            }
        }
    }
}

/// A vector width the row loops of [`rows`](crate::engine::rows) can be compiled for;
/// only made by [`wide`], once the CPU is known to have it.
#[derive(Clone, Copy)]
pub(crate) enum Wide {
    /// 256-bit AVX2.
    Avx2,
    /// 512-bit AVX-512 (F, BW, DQ, VL).
    Avx512,
}

/// The row loops' build for `isa`, if it is wider than the baseline and available.
pub(crate) fn wide(isa: Isa) -> Option<Wide> {
    match isa {
        Isa::Avx512Vnni if available(isa) && avx512_rows() => Some(Wide::Avx512),
        Isa::Avx2 | Isa::AvxVnni | Isa::Avx512Vnni if available(Isa::Avx2) => Some(Wide::Avx2),
        _ => None,
    }
}

fn avx512_rows() -> bool {
    #[cfg(feature = "std")]
    return std::is_x86_feature_detected!("avx512dq") && std::is_x86_feature_detected!("avx512vl");
    #[cfg(not(feature = "std"))]
    return cfg!(target_feature = "avx512dq") && cfg!(target_feature = "avx512vl");
}

/// Defines the methods of [`Wide`], one per row loop of
/// [`rows::row_loops`](crate::engine::rows), each running that portable
/// `#[inline(always)]` loop compiled for the width.
macro_rules! wide_methods {
    ($($name:ident($($arg:ident: $ty:ty),* $(,)?);)*) => {$(
        pub fn $name(self, $($arg: $ty),*) {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2($($arg: $ty),*) {
                crate::engine::rows::$name($($arg),*)
            }
            #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
            unsafe fn avx512($($arg: $ty),*) {
                crate::engine::rows::$name($($arg),*)
            }
            // SAFETY: a `Wide` is only made by `wide`, after checking the CPU has the
            // features of its variant.
            unsafe {
                match self {
                    Wide::Avx2 => avx2($($arg),*),
                    Wide::Avx512 => avx512($($arg),*),
                }
            }
        }
    )*};
}

use crate::engine::conv::{Geometry, RowLayout};

impl Wide {
    crate::engine::rows::row_loops!(wide_methods);
}
