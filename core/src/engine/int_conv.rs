//! The integer convolution of 4- and 8-bit layers (spec §3).
//!
//! The input is turned into unsigned HWGQ codes, the weights are signed LSQ codes, the
//! sums are exact `i32`, and each output channel is rescaled once by
//! `weight_step_c · act_step`. The rescale is done in `f64` and rounded to `f32` once, so
//! the result is the exactly rounded value of the fake-quant convolution (what the
//! reference executor computes with `f64` sums).

use alloc::vec;
use alloc::vec::Vec;

use crate::arch::Bits;

use super::conv::{COB, Geometry, RowLayout, conv_scalar, conv_tiled, pack, split4};
use super::quant::{hwgq_code, max_code};
use super::tensor::{Data, Tensor};

/// What a conv writes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum OutMode {
    /// Float values.
    F32,
    /// HWGQ codes at this step and largest code: every reader is a conv quantizing the
    /// same way, so quantizing here saves memory (4× less) and work.
    Codes {
        /// Step.
        step: f32,
        /// Largest code.
        max: u8,
    },
}

/// A prepared 4/8-bit conv.
#[derive(Clone, Debug)]
pub(crate) struct IntConv {
    pub geom: Geometry,
    /// Step of the input quantizer.
    pub act_step: f32,
    /// Largest input code.
    pub max_code: u8,
    /// Weight codes `[cout][cin/g][kh][kw]` for the scalar path.
    codes: Vec<i16>,
    /// The same, packed for the tiled kernel.
    packed: Vec<i16>,
    /// `weight_step_c · act_step` per output channel.
    scale: Vec<f64>,
    /// Per (group, channel block) of the packed weights: how many taps can be summed in
    /// `i16` without overflow.
    runs: Vec<usize>,
}

/// For each (group, block of [`COB`] output channels), the number of taps whose products
/// can be summed in `i16` without overflow: `⌊32767 / (max|w| · max_code)⌋`, at least 1.
/// LSQ codes rarely reach the ends of their range (its initial step puts most weights
/// within ±12 of 0 at 8 bits), so several taps usually fit, and each `i16` multiply-add
/// then needs no widening.
fn i16_runs(g: &Geometry, codes: &[i16], max_code: u8) -> Vec<usize> {
    let (opg, kk) = (g.opg(), g.kk());
    let blocks = opg.div_ceil(COB);
    let mut runs = Vec::with_capacity(g.groups * blocks);
    for grp in 0..g.groups {
        for b in 0..blocks {
            let first = grp * opg + b * COB;
            let last = (first + COB).min(grp * opg + opg);
            let maxw = codes[first * kk..last * kk]
                .iter()
                .map(|q| q.unsigned_abs())
                .max()
                .unwrap_or(0);
            let per_tap = usize::from(maxw) * usize::from(max_code);
            runs.push(
                (i16::MAX as usize)
                    .checked_div(per_tap)
                    .map_or(kk, |n| n.max(1)),
            );
        }
    }
    runs
}

/// Scratch of [`conv_row_int`].
struct IntScratch {
    t16: Vec<i16>,
    t32: Vec<i32>,
}

/// One output row of every output channel from a filled window of codes (see
/// [`conv_row_tiled`](super::conv::conv_row_tiled) for the layout): for each block of
/// [`COB`] channels, runs of taps are summed in `i16` rows (two taps per pass) and each
/// run is widened into the `i32` rows once.
fn conv_row_int(
    win: &[u8],
    g: &Geometry,
    lay: &RowLayout,
    packed: &[i16],
    runs: &[usize],
    s: &mut IntScratch,
    acc: &mut [i32],
) {
    let (cpg, opg, kk, kw, ow, owp) = (g.cpg(), g.opg(), g.kk(), g.kw, lay.ow, lay.owp);
    let blocks = opg.div_ceil(COB);
    let rows = cpg * g.kh;
    for grp in 0..g.groups {
        let wg = &win[grp * rows * lay.wwin..][..rows * lay.wwin];
        let tap = |k: usize| &wg[lay.row_start(k / kw, g.kh) + k % kw..][..ow];
        for b in 0..blocks {
            let wp = &packed[(grp * blocks + b) * kk * COB..][..kk * COB];
            let run = runs[grp * blocks + b];
            s.t32.fill(0);
            let mut k0 = 0;
            while k0 < kk {
                let k1 = (k0 + run).min(kk);
                s.t16.fill(0);
                let [y0, y1, y2, y3] = split4(&mut s.t16, owp);
                let (y0, y1, y2, y3) = (&mut y0[..ow], &mut y1[..ow], &mut y2[..ow], &mut y3[..ow]);
                let mut k = k0;
                while k + 1 < k1 {
                    let (a, c) = (tap(k), tap(k + 1));
                    let (wa, wc) = (&wp[k * COB..][..COB], &wp[(k + 1) * COB..][..COB]);
                    for (((((&x, &z), o0), o1), o2), o3) in a
                        .iter()
                        .zip(c)
                        .zip(y0.iter_mut())
                        .zip(y1.iter_mut())
                        .zip(y2.iter_mut())
                        .zip(y3.iter_mut())
                    {
                        let (x, z) = (i16::from(x), i16::from(z));
                        *o0 = o0
                            .wrapping_add(wa[0].wrapping_mul(x))
                            .wrapping_add(wc[0].wrapping_mul(z));
                        *o1 = o1
                            .wrapping_add(wa[1].wrapping_mul(x))
                            .wrapping_add(wc[1].wrapping_mul(z));
                        *o2 = o2
                            .wrapping_add(wa[2].wrapping_mul(x))
                            .wrapping_add(wc[2].wrapping_mul(z));
                        *o3 = o3
                            .wrapping_add(wa[3].wrapping_mul(x))
                            .wrapping_add(wc[3].wrapping_mul(z));
                    }
                    k += 2;
                }
                if k < k1 {
                    let a = tap(k);
                    let wa = &wp[k * COB..][..COB];
                    for ((((&x, o0), o1), o2), o3) in a
                        .iter()
                        .zip(y0.iter_mut())
                        .zip(y1.iter_mut())
                        .zip(y2.iter_mut())
                        .zip(y3.iter_mut())
                    {
                        let x = i16::from(x);
                        *o0 = o0.wrapping_add(wa[0].wrapping_mul(x));
                        *o1 = o1.wrapping_add(wa[1].wrapping_mul(x));
                        *o2 = o2.wrapping_add(wa[2].wrapping_mul(x));
                        *o3 = o3.wrapping_add(wa[3].wrapping_mul(x));
                    }
                }
                for (d, &v) in s.t32.iter_mut().zip(s.t16.iter()) {
                    *d = d.wrapping_add(i32::from(v));
                }
                k0 = k1;
            }
            let nco = COB.min(opg - b * COB);
            let co0 = grp * opg + b * COB;
            for j in 0..nco {
                acc[(co0 + j) * owp..][..ow].copy_from_slice(&s.t32[j * owp..][..ow]);
            }
        }
    }
}

impl IntConv {
    /// Prepares a conv from its codes and steps (already validated against `geom`).
    pub fn new(
        geom: Geometry,
        bits: Bits,
        codes: &[i8],
        weight_steps: &[f32],
        act_step: f32,
    ) -> IntConv {
        let codes: Vec<i16> = codes.iter().map(|&q| i16::from(q)).collect();
        let packed = pack(&geom, &codes);
        let scale = weight_steps
            .iter()
            .map(|&s| f64::from(s) * f64::from(act_step))
            .collect();
        let max_code = max_code(bits);
        let runs = i16_runs(&geom, &codes, max_code);
        IntConv {
            geom,
            act_step,
            max_code,
            codes,
            packed,
            scale,
            runs,
        }
    }

    /// Input codes of one input row.
    fn quantize_row(&self, x: &Tensor, ci: usize, iy: usize, dst: &mut [u8]) {
        let start = (ci * x.h + iy) * x.w;
        match &x.data {
            Data::F32(v) => {
                for (d, &s) in dst.iter_mut().zip(&v[start..start + x.w]) {
                    *d = hwgq_code(s, self.act_step, self.max_code);
                }
            }
            Data::Codes(c) => dst.copy_from_slice(&c[start..start + x.w]),
        }
    }

    /// Runs the conv; returns the output and the scratch bytes it used.
    pub fn run(&self, x: &Tensor, mode: OutMode) -> (Tensor, usize) {
        let g = &self.geom;
        let (oh, ow) = g.out_size(x.h, x.w);
        let plane = oh * ow;
        let mut out_f32 = Vec::new();
        let mut out_codes = Vec::new();
        match mode {
            OutMode::F32 => out_f32 = vec![0f32; g.cout * plane],
            OutMode::Codes { .. } => out_codes = vec![0u8; g.cout * plane],
        }
        let mut emit_row = |co: usize, y: usize, accs: &[i32]| {
            let s = self.scale[co];
            let base = co * plane + y * ow;
            match mode {
                OutMode::F32 => {
                    for (o, &a) in out_f32[base..base + ow].iter_mut().zip(accs) {
                        *o = (f64::from(a) * s) as f32;
                    }
                }
                OutMode::Codes { step, max } => {
                    for (o, &a) in out_codes[base..base + ow].iter_mut().zip(accs) {
                        *o = hwgq_code((f64::from(a) * s) as f32, step, max);
                    }
                }
            }
        };
        let scratch = if g.tiled() {
            let owp = RowLayout::new(g, x.w).owp;
            let mut s = IntScratch {
                t16: vec![0; COB * owp],
                t32: vec![0; COB * owp],
            };
            conv_tiled::<u8>(
                g,
                x.h,
                x.w,
                |ci, iy, dst| self.quantize_row(x, ci, iy, dst),
                |win, lay, acc| {
                    conv_row_int(win, g, lay, &self.packed, &self.runs, &mut s, acc);
                    s.t16.capacity() * 2 + s.t32.capacity() * 4
                },
                |y, acc, lay| {
                    for co in 0..g.cout {
                        emit_row(co, y, &acc[co * lay.owp..][..ow]);
                    }
                },
            )
        } else {
            let mut act = vec![0u8; g.cin * x.h * x.w];
            for ci in 0..g.cin {
                for iy in 0..x.h {
                    self.quantize_row(x, ci, iy, &mut act[(ci * x.h + iy) * x.w..][..x.w]);
                }
            }
            let acc = conv_scalar::<u8>(&act, x.h, x.w, g, &self.codes);
            for co in 0..g.cout {
                for y in 0..oh {
                    emit_row(co, y, &acc[(co * oh + y) * ow..][..ow]);
                }
            }
            act.capacity() + acc.capacity() * 4
        };
        let data = match mode {
            OutMode::F32 => Data::F32(out_f32),
            OutMode::Codes { .. } => Data::Codes(out_codes),
        };
        (
            Tensor {
                c: g.cout,
                h: oh,
                w: ow,
                data,
            },
            scratch,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Pcg32;

    /// The integer kernel's sums for a whole code image, `cout·oh·ow`.
    fn int_sums(k: &IntConv, act: &[u8], h: usize, w: usize) -> Vec<i32> {
        let g = &k.geom;
        let (oh, ow) = g.out_size(h, w);
        let mut out = vec![0; g.cout * oh * ow];
        let owp = RowLayout::new(g, w).owp;
        let mut s = IntScratch {
            t16: vec![0; COB * owp],
            t32: vec![0; COB * owp],
        };
        conv_tiled::<u8>(
            g,
            h,
            w,
            |ci, iy, dst| dst.copy_from_slice(&act[(ci * h + iy) * w..][..w]),
            |win, lay, acc| {
                conv_row_int(win, g, lay, &k.packed, &k.runs, &mut s, acc);
                0
            },
            |y, acc, lay| {
                for co in 0..g.cout {
                    out[(co * oh + y) * ow..][..ow].copy_from_slice(&acc[co * lay.owp..][..ow]);
                }
            },
        );
        out
    }

    #[test]
    fn integer_kernel_equals_scalar_twin_exactly() {
        let mut rng = Pcg32::new(9);
        let cases = [
            // cin, cout, kh, kw, groups, pad_h, pad_w, h, w
            (3, 5, 3, 3, 1, 1, 1, 7, 9),
            (6, 6, 5, 1, 1, 2, 0, 4, 17),
            (6, 9, 1, 5, 3, 0, 2, 3, 8),
            (4, 8, 1, 1, 2, 0, 0, 2, 3),
            (12, 12, 3, 3, 1, 0, 0, 5, 5),
            (8, 3, 5, 5, 1, 2, 2, 1, 1),
            (36, 48, 3, 3, 1, 1, 1, 6, 13),
        ];
        for (cin, cout, kh, kw, groups, pad_h, pad_w, h, w) in cases {
            let g = Geometry {
                cin,
                cout,
                kh,
                kw,
                groups,
                stride: 1,
                pad_h,
                pad_w,
            };
            for bits in [Bits::B4, Bits::B8] {
                let (lo, hi) = bits.weight_code_range();
                let m = max_code(bits);
                // Small codes (long i16 runs), full-range codes (runs of 1) and extremes.
                for spread in [3, hi, hi] {
                    let mut codes: Vec<i8> = (0..cout * g.kk())
                        .map(|_| {
                            (rng.below(2 * spread as usize + 1) as i32 - spread).clamp(lo, hi) as i8
                        })
                        .collect();
                    let mut act: Vec<u8> = (0..cin * h * w)
                        .map(|_| rng.below(usize::from(m) + 1) as u8)
                        .collect();
                    if spread == hi {
                        codes.iter_mut().step_by(2).for_each(|q| *q = lo as i8);
                        act.iter_mut().step_by(3).for_each(|a| *a = m);
                    }
                    let k = IntConv::new(g, bits, &codes, &vec![0.1; cout], 0.2);
                    assert_eq!(
                        int_sums(&k, &act, h, w),
                        conv_scalar::<u8>(&act, h, w, &g, &k.codes),
                        "{g:?} {bits}"
                    );
                }
            }
        }
    }

    #[test]
    fn runs_bound_the_i16_sums() {
        let g = Geometry {
            cin: 2,
            cout: 5,
            kh: 3,
            kw: 3,
            groups: 1,
            stride: 1,
            pad_h: 1,
            pad_w: 1,
        };
        let mut codes = vec![1i16; 5 * 18];
        codes[4 * 18] = -128;
        // Block 0 (channels 0–3): max |w| 1, 255 per tap: 128 taps fit. Block 1: 1 tap.
        assert_eq!(i16_runs(&g, &codes, 255), vec![128, 1]);
        assert_eq!(i16_runs(&g, &[0; 5 * 18], 15), vec![18, 18]);
    }
}
