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
use crate::model::sum_scales;

use super::conv::{Geometry, RowLayout, conv_scalar, fill_window};
use super::dot::{DotTiles, Isa, TILE, Weights, dot_tiles};
use super::pool::Pool;
use super::quant::max_code;
use super::rows;
use super::tensor::{Data, Tensor};
use super::threads::{Threads, even_ranges, split_planes};

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
    /// Weight codes `[cout][cin/g][kh][kw]` for the scalar path (strided convs).
    codes: Vec<i16>,
    /// The same as quads for the dot kernels, `[group][chans][kq]`.
    weights: Weights,
    /// Output channels per group, rounded up to 4 (the kernels' channel blocks).
    chans: usize,
    /// Quads per output pixel: `⌈cin/g·kh·kw / 4⌉`.
    kq: usize,
    /// `weight_step_c · act_step` per output channel.
    scale: Vec<f64>,
}

/// Buffers of one pass over output rows.
struct RowScratch {
    win: Vec<u8>,
    /// Activation quads of one group, `[tile][kq][TILE][4]`.
    quads: Vec<u8>,
    /// Sums `[group][chans][owp]`.
    acc: Vec<i32>,
    /// `owp` zeros: the taps past a group's last one.
    zeros: Vec<u8>,
}

impl RowScratch {
    fn bytes(&self) -> usize {
        self.win.capacity()
            + self.quads.capacity()
            + self.acc.capacity() * 4
            + self.zeros.capacity()
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
        let (opg, kk) = (geom.opg(), geom.kk());
        let chans = opg.div_ceil(4) * 4;
        let mut weights = Weights::default();
        for grp in 0..geom.groups {
            let w = Weights::pack(&codes[grp * opg * kk..][..opg * kk], opg, kk, chans - opg);
            weights.w8.extend(w.w8);
            weights.w16.extend(w.w16);
            weights.w16x2.extend(w.w16x2);
        }
        let scale = sum_scales(weight_steps, act_step);
        IntConv {
            geom,
            act_step,
            max_code: max_code(bits),
            codes: codes.iter().map(|&q| i16::from(q)).collect(),
            weights,
            chans,
            kq: kk.div_ceil(4),
            scale,
        }
    }

    /// Input codes of one input row.
    fn quantize_row(&self, isa: Isa, x: &Tensor, ci: usize, iy: usize, dst: &mut [u8]) {
        let start = (ci * x.h + iy) * x.w;
        match &x.data {
            Data::F32(v) => rows::on::codes_from_f32(
                isa,
                &v[start..start + x.w],
                self.act_step,
                self.max_code,
                dst,
            ),
            Data::Codes(c) => dst.copy_from_slice(&c[start..start + x.w]),
        }
    }

    /// The sums of output rows `rows` of every channel on `isa`'s kernel, each handed to
    /// `emit(co, y, sums)`; returns the scratch bytes used. Rows are independent, so any
    /// split of the rows gives the same sums.
    fn sums_rows(
        &self,
        isa: Isa,
        x: &Tensor,
        rows: core::ops::Range<usize>,
        mut emit: impl FnMut(usize, usize, &[i32]),
    ) -> usize {
        let g = &self.geom;
        let mut lay = RowLayout::aligned(g, x.w, TILE);
        let (owp, ow, kq, chans) = (lay.owp, lay.ow, self.kq, self.chans);
        let tiles = owp / TILE;
        let (opg, rows_g) = (g.opg(), g.cpg() * g.kh);
        let mut s = RowScratch {
            win: vec![0; lay.window_len(g)],
            quads: vec![0; tiles * kq * TILE * 4],
            acc: vec![0; g.groups * chans * owp],
            zeros: vec![0; owp],
        };
        let first = rows.start;
        for y in rows {
            fill_window(
                &mut s.win,
                g,
                &mut lay,
                (x.h, x.w),
                y,
                first,
                |ci, iy, dst| self.quantize_row(isa, x, ci, iy, dst),
            );
            for grp in 0..g.groups {
                let wg = &s.win[grp * rows_g * lay.wwin..][..rows_g * lay.wwin];
                rows::on::im2col(isa, wg, g, &lay, kq, &s.zeros, &mut s.quads);
                let d = DotTiles {
                    a: &s.quads,
                    kq,
                    tiles,
                    w8: &self.weights.w8[grp * chans * kq..][..chans * kq],
                    w16: &self.weights.w16[grp * chans * kq..][..chans * kq],
                    w16x2: &self.weights.w16x2[2 * grp * chans * kq..][..2 * chans * kq],
                    chans,
                    max_act: self.max_code,
                };
                dot_tiles(isa, &d, &mut s.acc[grp * chans * owp..][..chans * owp]);
            }
            for co in 0..g.cout {
                let (grp, c) = (co / opg, co % opg);
                emit(co, y, &s.acc[(grp * chans + c) * owp..][..ow]);
            }
        }
        s.bytes()
    }

    /// Rescales one row of sums into `dst`: `f32` values or HWGQ codes (see [`OutMode`]).
    fn emit(&self, isa: Isa, co: usize, sums: &[i32], mode: OutMode, dst: OutRow<'_>) {
        let s = self.scale[co];
        match (dst, mode) {
            (OutRow::F32(o), _) => rows::on::f32_from_sums(isa, sums, s, o),
            (OutRow::Codes(o), OutMode::Codes { step, max }) => {
                rows::on::codes_from_sums(isa, sums, s, step, max, o)
            }
            (OutRow::Codes(_), OutMode::F32) => {
                debug_assert!(false, "code output for an f32 conv")
            }
        }
    }

    /// Runs the conv on `isa`'s kernel, its output rows split over `threads`; returns the
    /// output and the scratch bytes it used. With `shuffle = r > 1` the output is written
    /// pixel-shuffled by `r` (depth-to-space, as [`ops::pixel_shuffle`](super::ops)), so
    /// the shuffle that reads it costs nothing. The result is the same for every kernel
    /// and thread count.
    pub fn run(
        &self,
        x: &Tensor,
        mode: OutMode,
        isa: Isa,
        threads: &Threads,
        pool: &mut Pool,
        shuffle: usize,
    ) -> (Tensor, usize) {
        let g = &self.geom;
        let r = shuffle.max(1);
        let (oh, ow) = g.out_size(x.h, x.w);
        // Output planes of `r` rows of `ow·r` values per conv row.
        let (planes, plane, row) = (g.cout / (r * r), oh * ow * r * r, ow * r * r);
        // Every value is written below (all rows of every channel).
        let mut data = pool.overwritten(mode != OutMode::F32, g.cout * oh * ow);
        let parts = even_ranges(oh, if g.tiled() { threads.count() } else { 1 });
        // Channel `co` is sub-row `i`, sub-column `j` of output plane `c`.
        let place = |co: usize, y: usize| {
            let (c, i, j) = (co / (r * r), (co / r) % r, co % r);
            (c, (y * r + i) * ow * r + j)
        };
        let outs: Vec<Vec<OutRow<'_>>> = match &mut data {
            Data::F32(v) => split_planes(v, plane, row, &parts)
                .into_iter()
                .map(|p| p.into_iter().map(OutRow::F32).collect())
                .collect(),
            Data::Codes(v) => split_planes(v, plane, row, &parts)
                .into_iter()
                .map(|p| p.into_iter().map(OutRow::Codes).collect())
                .collect(),
        };
        let scratch = if g.tiled() {
            let jobs: Vec<_> = parts.into_iter().zip(outs).collect();
            threads
                .map(jobs, |(rows, mut outs)| {
                    let y0 = rows.start;
                    // Shuffled: the `r` channels of one output row (sub-column j = co mod r)
                    // are rescaled into `tmp` one after the other, then interleaved.
                    let mut tmp = match mode {
                        OutMode::F32 => Data::F32(vec![0.0; r * ow]),
                        OutMode::Codes { .. } => Data::Codes(vec![0; r * ow]),
                    };
                    self.sums_rows(isa, x, rows, |co, y, sums| {
                        let (c, at) = place(co, y - y0);
                        if r == 1 {
                            return self.emit(isa, co, sums, mode, outs[c].at(at, ow));
                        }
                        let j = co % r;
                        let t = match &mut tmp {
                            Data::F32(v) => OutRow::F32(&mut v[j * ow..][..ow]),
                            Data::Codes(v) => OutRow::Codes(&mut v[j * ow..][..ow]),
                        };
                        self.emit(isa, co, sums, mode, t);
                        if j == r - 1 {
                            match (&tmp, outs[c].at(at - j, ow * r)) {
                                (Data::F32(t), OutRow::F32(d)) => interleave(t, r, d),
                                (Data::Codes(t), OutRow::Codes(d)) => interleave(t, r, d),
                                _ => debug_assert!(false, "output and scratch kinds differ"),
                            }
                        }
                    })
                })
                .into_iter()
                .sum()
        } else {
            let mut act = vec![0u8; g.cin * x.h * x.w];
            for ci in 0..g.cin {
                for iy in 0..x.h {
                    self.quantize_row(isa, x, ci, iy, &mut act[(ci * x.h + iy) * x.w..][..x.w]);
                }
            }
            let acc = conv_scalar::<u8>(&act, x.h, x.w, g, &self.codes);
            debug_assert_eq!(r, 1, "only stride-1 convs write shuffled outputs");
            let mut outs: Vec<OutRow<'_>> = outs.into_iter().flatten().collect();
            for co in 0..g.cout {
                for y in 0..oh {
                    let sums = &acc[(co * oh + y) * ow..][..ow];
                    self.emit(isa, co, sums, mode, outs[co].at(y * ow, ow));
                }
            }
            act.capacity() + acc.capacity() * 4
        };
        (
            Tensor {
                c: planes,
                h: oh * r,
                w: ow * r,
                data,
            },
            scratch,
        )
    }
}

/// `dst[x·r + j] = src[j·n + x]` for the `r` rows of `n` values in `src`.
fn interleave<T: Copy>(src: &[T], r: usize, dst: &mut [T]) {
    fn by<T: Copy, const R: usize>(src: &[T], dst: &mut [T]) {
        let n = dst.len() / R;
        for (x, d) in dst.chunks_exact_mut(R).enumerate() {
            for (j, d) in d.iter_mut().enumerate() {
                *d = src[j * n + x];
            }
        }
    }
    match r {
        2 => by::<T, 2>(src, dst),
        4 => by::<T, 4>(src, dst),
        _ => {
            let n = dst.len() / r;
            for (x, d) in dst.chunks_exact_mut(r).enumerate() {
                for (j, d) in d.iter_mut().enumerate() {
                    *d = src[j * n + x];
                }
            }
        }
    }
}

/// Where a part's output rows of one channel go.
enum OutRow<'a> {
    F32(&'a mut [f32]),
    Codes(&'a mut [u8]),
}

impl OutRow<'_> {
    /// The `len` values from `at`.
    fn at(&mut self, at: usize, len: usize) -> OutRow<'_> {
        match self {
            OutRow::F32(v) => OutRow::F32(&mut v[at..][..len]),
            OutRow::Codes(v) => OutRow::Codes(&mut v[at..][..len]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Pcg32;

    /// The integer kernel's sums for a whole code image, `cout·oh·ow`, computed in chunks
    /// of `chunk` output rows (each chunk starts a fresh window, as a thread would).
    fn int_sums(k: &IntConv, act: &[u8], h: usize, w: usize, isa: Isa, chunk: usize) -> Vec<i32> {
        let g = &k.geom;
        let (oh, ow) = g.out_size(h, w);
        let x = Tensor {
            c: g.cin,
            h,
            w,
            data: Data::Codes(act.to_vec()),
        };
        let mut out = vec![0; g.cout * oh * ow];
        for y0 in (0..oh).step_by(chunk) {
            k.sums_rows(isa, &x, y0..(y0 + chunk).min(oh), |co, y, s| {
                out[(co * oh + y) * ow..][..ow].copy_from_slice(s)
            });
        }
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
            (3, 64, 5, 5, 1, 2, 2, 5, 70),
            (36, 36, 3, 3, 3, 1, 1, 4, 33),
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
            for bits in Bits::ALL.into_iter().filter(|b| b.is_quantized()) {
                let (lo, hi) = bits.weight_code_range();
                let m = max_code(bits);
                // Small codes, full-range codes and extremes.
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
                    let want = conv_scalar::<u8>(&act, h, w, &g, &k.codes);
                    for isa in Isa::available() {
                        for chunk in [h, 1, 2] {
                            assert_eq!(
                                int_sums(&k, &act, h, w, isa, chunk),
                                want,
                                "{g:?} {bits} {isa} rows by {chunk}"
                            );
                        }
                    }
                }
            }
        }
    }
}
