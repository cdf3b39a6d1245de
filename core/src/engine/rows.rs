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

/// A row of sums rescaled by `scale`, then HWGQ-quantized for the next conv: the same
/// codes as [`codes_from_sums_plain`], with no `f64` and no division for most values.
///
/// Each group of 16 sums is first rounded as `round(clamp(a·k, 0, max))` in `f32`, with
/// `k = scale/step`. That value is within `3·10⁻⁷` (relative) of the real `a·scale/step`,
/// and so is the exact quotient the plain path rounds (two `f32` roundings after an exact
/// `f64` product), so the two round alike unless the value lies within `10⁻³` of a half
/// integer (at most 255.5·3·10⁻⁷ < 10⁻⁴ apart): a group with such a value is redone on
/// the plain path (a few groups in a hundred), as is a `k` that is not a positive normal
/// float. Tested against the plain loop across every rounding boundary
/// ([`row_loops_agree`]).
#[inline(always)]
pub(crate) fn codes_from_sums(sums: &[i32], scale: f64, step: f32, max: u8, dst: &mut [u8]) {
    const MAGIC: f32 = 8_388_608.0; // 2²³: adding it rounds a value in [0, 2²³) to an integer
    let k = (scale / f64::from(step)) as f32;
    if !(k.is_normal() && k > 0.0 && scale > 0.0 && step > 0.0) {
        return codes_from_sums_plain(sums, scale, step, max, dst);
    }
    let top = f32::from(max);
    let n = sums.len().min(dst.len());
    let (sums, dst) = (&sums[..n], &mut dst[..n]);
    let mut groups = dst.chunks_exact_mut(16);
    for (d, s) in (&mut groups).zip(sums.chunks_exact(16)) {
        let mut near = 0u32;
        for (d, &a) in d.iter_mut().zip(s) {
            let u = a as f32 * k;
            let v = if u > 0.0 {
                if u < top { u } else { top }
            } else {
                0.0
            };
            let m = v + MAGIC;
            // Distance to the nearest integer; near ½ means near a rounding boundary.
            let off = v - (m - MAGIC);
            near |= u32::from(off.abs() > 0.499);
            *d = (m.to_bits() & 0xFF) as u8;
        }
        if near != 0 {
            codes_from_sums_plain(s, scale, step, max, d);
        }
    }
    let done = n - groups.into_remainder().len();
    codes_from_sums_plain(&sums[done..], scale, step, max, &mut dst[done..]);
}

/// The plain twin of [`codes_from_sums`], as the definition reads: rescaled in `f64`,
/// rounded to `f32` once, then [`hwgq_code`].
#[inline(always)]
pub(crate) fn codes_from_sums_plain(sums: &[i32], scale: f64, step: f32, max: u8, dst: &mut [u8]) {
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

/// The row loops that have wider builds, with their signatures: the one list from which
/// [`on`]'s dispatchers and the x86 `Wide` methods (`dot/x86.rs`) are both made, by
/// handing it to the macro `$then`.
macro_rules! row_loops {
    ($then:ident) => {
        $then! {
            codes_from_f32(src: &[f32], step: f32, max: u8, dst: &mut [u8]);
            f32_from_sums(sums: &[i32], scale: f64, dst: &mut [f32]);
            codes_from_sums(sums: &[i32], scale: f64, step: f32, max: u8, dst: &mut [u8]);
            im2col(
                wg: &[u8],
                g: &Geometry,
                lay: &RowLayout,
                kq: usize,
                zeros: &[u8],
                quads: &mut [u8]
            );
        }
    };
}
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub(crate) use row_loops;

/// Dispatches each row loop to its build for `isa`'s vector width.
pub(crate) mod on {
    use super::*;

    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    use super::super::dot::x86::wide;

    macro_rules! dispatchers {
        ($($name:ident($($arg:ident: $ty:ty),* $(,)?);)*) => {$(
            #[doc = concat!("[`", stringify!($name), "`](super::", stringify!($name), ") on `isa`.")]
            pub fn $name(isa: Isa, $($arg: $ty),*) {
                #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
                if let Some(w) = wide(isa) {
                    return w.$name($($arg),*);
                }
                let _ = isa;
                super::$name($($arg),*)
            }
        )*};
    }

    row_loops!(dispatchers);
}

/// Checks each row loop's build for `isa` ([`on`]) against the plain loop, bit for bit,
/// on rows that cross every HWGQ rounding boundary and the clip point at both widths
/// (floats a few ulps either side, and the sums whose rescaled values land there), plus
/// negative, huge and NaN inputs and row lengths that leave every tail length. Returns
/// the first disagreement. Public for the wasm tests (`wasm/tests/kernels.rs`), which run
/// the SIMD128 builds in node, where core's own unit tests cannot run.
#[doc(hidden)]
pub fn row_loops_agree(isa: Isa) -> Result<(), alloc::string::String> {
    use alloc::format;
    use alloc::vec::Vec;
    for bits in crate::arch::Bits::ALL
        .into_iter()
        .filter(|b| b.is_quantized())
    {
        let step = bits.activation_step().unwrap_or(0.1);
        let max = super::quant::max_code(bits);
        let mut xs: Vec<f32> = Vec::new();
        for k in 0..=u32::from(max) + 1 {
            let c = (k as f32 + 0.5) * step;
            let top = step * f32::from(max);
            for centre in [c, top, k as f32 * step] {
                for d in 0..9u32 {
                    xs.push(f32::from_bits((centre.to_bits() + d).saturating_sub(4)));
                }
            }
        }
        xs.extend([
            -0.0,
            -1.0,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            1e30,
            -1e-30,
        ]);
        for len in [xs.len(), xs.len() - 1, 15, 17, 3] {
            let src = &xs[..len];
            let (mut want, mut got) = (alloc::vec![0u8; len], alloc::vec![1u8; len]);
            codes_from_f32(src, step, max, &mut want);
            on::codes_from_f32(isa, src, step, max, &mut got);
            if want != got {
                return Err(format!("codes_from_f32 on {isa}, {bits}, {len} values"));
            }
        }
        // Every sum from below 0 to past the clip point, at scales that put 64 sums per
        // step (each boundary hit exactly), an irrational-looking number of them, and
        // many (8-bit outputs of a 4-bit layer); plus the extremes.
        for per_step in [64.0, 64.000_01, 7.389_056, 731.7] {
            let scale = f64::from(step) / per_step;
            let end = ((f64::from(max) + 2.0) * per_step) as i32;
            let mut sums: Vec<i32> = (-70..end).collect();
            sums.extend([i32::MAX, i32::MIN, i32::MAX - 1, 1 << 24, (1 << 24) + 1]);
            for len in [sums.len(), sums.len() - 3, 16, 5] {
                let s = &sums[..len];
                let (mut want, mut got) = (alloc::vec![0u8; len], alloc::vec![1u8; len]);
                codes_from_sums_plain(s, scale, step, max, &mut want);
                on::codes_from_sums(isa, s, scale, step, max, &mut got);
                if let Some(i) = (0..len).find(|&i| want[i] != got[i]) {
                    return Err(format!(
                        "codes_from_sums on {isa}, {bits}, sum {} at scale step/{per_step}: {} not {}",
                        s[i], got[i], want[i]
                    ));
                }
                let (mut want, mut got) = (alloc::vec![0f32; len], alloc::vec![1f32; len]);
                f32_from_sums(s, scale, &mut want);
                on::f32_from_sums(isa, s, scale, &mut got);
                if want
                    .iter()
                    .zip(&got)
                    .any(|(a, b)| a.to_bits() != b.to_bits())
                {
                    return Err(format!("f32_from_sums on {isa}, {len} values"));
                }
            }
        }
        // A scale too small for the fast path's float.
        let (mut want, mut got) = ([0u8; 20], [1u8; 20]);
        let s: Vec<i32> = (0..20).map(|i| i << 26).collect();
        codes_from_sums_plain(&s, 1e-45, step, max, &mut want);
        on::codes_from_sums(isa, &s, 1e-45, step, max, &mut got);
        if want != got {
            return Err(format!("codes_from_sums on {isa} at a tiny scale"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_row_loop_build_equals_the_plain_loop() {
        for isa in super::Isa::available() {
            assert_eq!(super::row_loops_agree(isa), Ok(()));
        }
    }
}
