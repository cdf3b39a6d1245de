//! The convolution machinery shared by the integer and the float kernels: geometry, the
//! per-row input window, a register-tiled direct convolution and its plain scalar twin.
//!
//! The fast kernel computes one output row at a time. It first copies the `kh` input rows
//! that row needs, for every input channel, into a zero-padded *window* (so no bounds
//! checks or padding logic remain in the inner loop, and no padded copy of the whole input
//! is ever made), then, for blocks of [`COB`] output channels and [`TX`] output columns,
//! accumulates in a fixed-size array the compiler keeps in vector registers: each input
//! vector is loaded once and used for `COB` output channels. Weights are pre-packed
//! `[group][channel block][cin/groups·kh·kw][COB]` so they are read contiguously.
//! No im2col matrix, no `unsafe`; the loops are shaped so that LLVM vectorises them.

use alloc::vec;
use alloc::vec::Vec;

use crate::arch::ConvNode;

/// Output columns per register tile.
pub(crate) const TX: usize = 8;
/// Output channels per register tile.
pub(crate) const COB: usize = 4;

/// One multiply-accumulate type: activations `Self`, weights `W`, accumulator `Acc`.
pub(crate) trait Mac: Copy + Default {
    /// Weight type.
    type W: Copy + Default;
    /// Accumulator type.
    type Acc: Copy + Default;
    /// `acc + w·a`.
    fn mac(acc: Self::Acc, w: Self::W, a: Self) -> Self::Acc;
}

/// Integer path: unsigned activation codes (≤ 255) times signed weight codes (in
/// [−128, 127], held as `i16`). The product fits `i16` (|product| ≤ 32 640), which lets the
/// compiler use 16-bit vector multiplies; sums are `i32`.
impl Mac for u8 {
    type W = i16;
    type Acc = i32;
    #[inline(always)]
    fn mac(acc: i32, w: i16, a: u8) -> i32 {
        acc.wrapping_add(i32::from(w.wrapping_mul(i16::from(a))))
    }
}

/// Float path of 32-bit layers ([`FloatSums::F64`](super::FloatSums)): `f32` activations
/// and weights widened to `f64`, so every product is exact and the sum is rounded to `f32`
/// once, at the end (as the integer path's rescale is). The result then hardly depends on
/// the order of summation, which lets other runtimes (the exact ONNX form) reproduce it.
impl Mac for f64 {
    type W = f64;
    type Acc = f64;
    #[inline(always)]
    fn mac(acc: f64, w: f64, a: f64) -> f64 {
        acc + w * a
    }
}

/// The fast float path ([`FloatSums::F32`](super::FloatSums)): `f32` sums, whose value
/// depends on the order of summation.
impl Mac for f32 {
    type W = f32;
    type Acc = f32;
    #[inline(always)]
    fn mac(acc: f32, w: f32, a: f32) -> f32 {
        acc + w * a
    }
}

/// Shape of a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub cin: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub groups: usize,
    pub stride: usize,
    pub pad_h: usize,
    pub pad_w: usize,
}

impl Geometry {
    pub fn of(node: &ConvNode) -> Geometry {
        Geometry {
            cin: node.shape.cin,
            cout: node.shape.cout,
            kh: node.shape.kh,
            kw: node.shape.kw,
            groups: node.shape.groups,
            stride: node.stride,
            pad_h: node.padding.0,
            pad_w: node.padding.1,
        }
    }

    /// Input channels per group.
    pub fn cpg(&self) -> usize {
        self.cin / self.groups
    }

    /// Output channels per group.
    pub fn opg(&self) -> usize {
        self.cout / self.groups
    }

    /// Weights per output channel.
    pub fn kk(&self) -> usize {
        self.cpg() * self.kh * self.kw
    }

    /// Output size for an `h`×`w` input (the graph has checked it is positive).
    pub fn out_size(&self, h: usize, w: usize) -> (usize, usize) {
        let oh = (h + 2 * self.pad_h).saturating_sub(self.kh) / self.stride + 1;
        let ow = (w + 2 * self.pad_w).saturating_sub(self.kw) / self.stride + 1;
        (oh, ow)
    }

    /// Whether the tiled kernel applies (stride 1; ESA's strided conv takes the scalar path).
    pub fn tiled(&self) -> bool {
        self.stride == 1
    }
}

/// Weights `[cout][cin/groups][kh][kw]` packed for [`conv_row_tiled`]:
/// `[group][block of COB output channels][cin/groups·kh·kw][COB]`, zero-filled past the
/// group's last channel.
pub(crate) fn pack<W: Copy + Default>(g: &Geometry, weights: &[W]) -> Vec<W> {
    let (opg, kk) = (g.opg(), g.kk());
    let blocks = opg.div_ceil(COB);
    let mut out = vec![W::default(); g.groups * blocks * kk * COB];
    for grp in 0..g.groups {
        for b in 0..blocks {
            for j in 0..COB.min(opg - b * COB) {
                let co = grp * opg + b * COB + j;
                for k in 0..kk {
                    out[((grp * blocks + b) * kk + k) * COB + j] = weights[co * kk + k];
                }
            }
        }
    }
    out
}

/// Row geometry of the window and accumulators for an input of width `w`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowLayout {
    /// Output width.
    pub ow: usize,
    /// Output width rounded up to whole tiles (accumulator row length).
    pub owp: usize,
    /// Window row length: `owp + kw − 1`.
    pub wwin: usize,
    /// Ring rotation of the current output row `y`: `y mod kh` (see [`fill_window`]).
    pub rot: usize,
}

impl RowLayout {
    pub fn new(g: &Geometry, w: usize) -> RowLayout {
        RowLayout::aligned(g, w, TX)
    }

    /// The layout with accumulator rows rounded up to a multiple of `align` columns.
    pub fn aligned(g: &Geometry, w: usize, align: usize) -> RowLayout {
        let ow = g.out_size(1, w).1;
        let owp = ow.div_ceil(align) * align;
        RowLayout {
            ow,
            owp,
            wwin: owp + g.kw - 1,
            rot: 0,
        }
    }

    /// Start, in a group's part of the window, of kernel row `ky` of that group's input
    /// channel `cl` for the current output row (`r = cl·kh + ky`).
    #[inline]
    pub fn row_start(&self, r: usize, kh: usize) -> usize {
        let (cl, ky) = (r / kh, r % kh);
        (cl * kh + (ky + self.rot) % kh) * self.wwin
    }

    /// Window length: `cin·kh` rows.
    pub fn window_len(&self, g: &Geometry) -> usize {
        g.cin * g.kh * self.wwin
    }
}

/// Brings the window to output row `y` (stride 1; rows are visited in order from
/// `first`, where all `kh` rows are filled).
///
/// The window is a ring of `kh` rows per input channel: the row that kernel row `ky` of
/// output row `y` needs (input row `y + ky − pad_h`, placed at column `pad_w`, zeros
/// around and outside the image) lives in slot `(y + ky) mod kh`. Output row `y` only
/// needs one new input row per channel, so every input row is quantized or copied once
/// per conv. `row(ci, iy, dst)` writes the `w` window values of input row `iy` of channel
/// `ci` of the `(h, w)` input. Sets `lay.rot`.
pub(crate) fn fill_window<A: Copy + Default>(
    win: &mut [A],
    g: &Geometry,
    lay: &mut RowLayout,
    (h, w): (usize, usize),
    y: usize,
    first: usize,
    mut row: impl FnMut(usize, usize, &mut [A]),
) {
    lay.rot = y % g.kh;
    let new_rows = if y == first { 0..g.kh } else { g.kh - 1..g.kh };
    for ci in 0..g.cin {
        for ky in new_rows.clone() {
            let slot = (y + ky) % g.kh;
            let dst = &mut win[(ci * g.kh + slot) * lay.wwin..][..lay.wwin];
            let iy = (y + ky).wrapping_sub(g.pad_h);
            if iy >= h {
                dst.fill(A::default());
            } else {
                dst[..g.pad_w].fill(A::default());
                row(ci, iy, &mut dst[g.pad_w..g.pad_w + w]);
                dst[g.pad_w + w..].fill(A::default());
            }
        }
    }
}

/// One output row of every output channel from a filled window: `acc[co·owp + x]` for
/// `x < ow`. `tile` is scratch of `COB·owp` accumulators.
///
/// For each block of [`COB`] output channels the block's accumulator rows stay in L1
/// while every (input channel, kernel row, kernel column) tap streams one shifted window
/// row through them: one contiguous multiply-add loop per tap that the compiler
/// vectorises, each loaded input vector feeding `COB` channels.
pub(crate) fn conv_row_tiled<A: Mac>(
    win: &[A],
    g: &Geometry,
    lay: &RowLayout,
    packed: &[A::W],
    tile: &mut [A::Acc],
    acc: &mut [A::Acc],
) {
    let (cpg, opg, kk, kw, ow) = (g.cpg(), g.opg(), g.kk(), g.kw, lay.ow);
    let blocks = opg.div_ceil(COB);
    let rows = cpg * g.kh;
    for grp in 0..g.groups {
        let wg = &win[grp * rows * lay.wwin..][..rows * lay.wwin];
        for b in 0..blocks {
            let wp = &packed[(grp * blocks + b) * kk * COB..][..kk * COB];
            let co0 = grp * opg + b * COB;
            let nco = COB.min(opg - b * COB);
            tile.fill(<A::Acc>::default());
            let [t0, t1, t2, t3] = split4(tile, lay.owp);
            let (t0, t1, t2, t3) = (&mut t0[..ow], &mut t1[..ow], &mut t2[..ow], &mut t3[..ow]);
            // Taps in pairs: each pass over the accumulators adds two products per
            // element, halving the accumulator loads and stores per multiply-add.
            let taps = rows * kw;
            let tap = |k: usize| &wg[lay.row_start(k / kw, g.kh) + k % kw..][..ow];
            let mut k = 0;
            while k + 1 < taps {
                let (a, bb) = (tap(k), tap(k + 1));
                let (wa, wb) = (&wp[k * COB..][..COB], &wp[(k + 1) * COB..][..COB]);
                for (((((&x, &z), y0), y1), y2), y3) in a
                    .iter()
                    .zip(bb)
                    .zip(t0.iter_mut())
                    .zip(t1.iter_mut())
                    .zip(t2.iter_mut())
                    .zip(t3.iter_mut())
                {
                    *y0 = A::mac(A::mac(*y0, wa[0], x), wb[0], z);
                    *y1 = A::mac(A::mac(*y1, wa[1], x), wb[1], z);
                    *y2 = A::mac(A::mac(*y2, wa[2], x), wb[2], z);
                    *y3 = A::mac(A::mac(*y3, wa[3], x), wb[3], z);
                }
                k += 2;
            }
            if k < taps {
                let a = tap(k);
                let wa = &wp[k * COB..][..COB];
                for ((((&x, y0), y1), y2), y3) in a
                    .iter()
                    .zip(t0.iter_mut())
                    .zip(t1.iter_mut())
                    .zip(t2.iter_mut())
                    .zip(t3.iter_mut())
                {
                    *y0 = A::mac(*y0, wa[0], x);
                    *y1 = A::mac(*y1, wa[1], x);
                    *y2 = A::mac(*y2, wa[2], x);
                    *y3 = A::mac(*y3, wa[3], x);
                }
            }
            for j in 0..nco {
                acc[(co0 + j) * lay.owp..][..ow].copy_from_slice(&tile[j * lay.owp..][..ow]);
            }
        }
    }
}

/// The four `len`-long rows of a `COB·len` buffer.
pub(crate) fn split4<T>(buf: &mut [T], len: usize) -> [&mut [T]; COB] {
    let (a, rest) = buf.split_at_mut(len);
    let (b, rest) = rest.split_at_mut(len);
    let (c, d) = rest.split_at_mut(len);
    [a, b, c, d]
}

/// The plain twin of the tiled kernel, for any stride: `act` is the whole input
/// (`cin·h·w`, already quantized or ReLU'd), `weights` unpacked `[cout][cin/g][kh][kw]`;
/// returns `cout·oh·ow` accumulators.
pub(crate) fn conv_scalar<A: Mac>(
    act: &[A],
    h: usize,
    w: usize,
    g: &Geometry,
    weights: &[A::W],
) -> Vec<A::Acc> {
    let (oh, ow) = g.out_size(h, w);
    let (cpg, opg) = (g.cpg(), g.opg());
    let mut out = vec![<A::Acc>::default(); g.cout * oh * ow];
    for co in 0..g.cout {
        let grp = co / opg;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut s = <A::Acc>::default();
                for cl in 0..cpg {
                    let ci = grp * cpg + cl;
                    for ky in 0..g.kh {
                        let iy = (oy * g.stride + ky).wrapping_sub(g.pad_h);
                        if iy >= h {
                            continue;
                        }
                        for kx in 0..g.kw {
                            let ix = (ox * g.stride + kx).wrapping_sub(g.pad_w);
                            if ix >= w {
                                continue;
                            }
                            let wt = weights[((co * cpg + cl) * g.kh + ky) * g.kw + kx];
                            s = A::mac(s, wt, act[(ci * h + iy) * w + ix]);
                        }
                    }
                }
                out[(co * oh + oy) * ow + ox] = s;
            }
        }
    }
    out
}

/// Runs a row kernel over all output rows (stride 1): fills the window of each output
/// row, calls `kernel(window, acc)` to fill `acc` (`cout·owp`, see [`conv_row_tiled`]) and
/// passes it to `emit(y, acc, layout)`. Returns the scratch bytes used.
pub(crate) fn conv_tiled<A: Mac>(
    g: &Geometry,
    h: usize,
    w: usize,
    mut row: impl FnMut(usize, usize, &mut [A]),
    mut kernel: impl FnMut(&[A], &RowLayout, &mut [A::Acc]) -> usize,
    mut emit: impl FnMut(usize, &[A::Acc], &RowLayout),
) -> usize {
    let mut lay = RowLayout::new(g, w);
    let (oh, _) = g.out_size(h, w);
    let mut win = vec![A::default(); lay.window_len(g)];
    let mut acc = vec![<A::Acc>::default(); g.cout * lay.owp];
    let mut kernel_scratch = 0;
    for y in 0..oh {
        fill_window(&mut win, g, &mut lay, (h, w), y, 0, &mut row);
        kernel_scratch = kernel(&win, &lay, &mut acc);
        emit(y, &acc, &lay);
    }
    win.capacity() * core::mem::size_of::<A>()
        + acc.capacity() * core::mem::size_of::<A::Acc>()
        + kernel_scratch
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Pcg32;

    /// Runs the generic tiled kernel over a whole `u8` input and returns `cout·oh·ow` sums.
    fn tiled_all(act: &[u8], h: usize, w: usize, g: &Geometry, weights: &[i16]) -> Vec<i32> {
        let packed = pack(g, weights);
        let (oh, ow) = g.out_size(h, w);
        let mut out = vec![0; g.cout * oh * ow];
        let mut tile = vec![0; COB * RowLayout::new(g, w).owp];
        conv_tiled::<u8>(
            g,
            h,
            w,
            |ci, iy, dst| dst.copy_from_slice(&act[(ci * h + iy) * w..][..w]),
            |win, lay, acc| {
                conv_row_tiled::<u8>(win, g, lay, &packed, &mut tile, acc);
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
    fn tiled_kernel_equals_scalar_twin_exactly() {
        let mut rng = Pcg32::new(5);
        let cases = [
            // cin, cout, kh, kw, groups, pad_h, pad_w, h, w
            (3, 5, 3, 3, 1, 1, 1, 7, 9),
            (6, 6, 5, 1, 1, 2, 0, 4, 17),
            (6, 9, 1, 5, 3, 0, 2, 3, 8),
            (4, 8, 1, 1, 2, 0, 0, 2, 3),
            (12, 12, 3, 3, 1, 0, 0, 5, 5),
            (8, 3, 5, 5, 1, 2, 2, 1, 1),
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
            let act: Vec<u8> = (0..cin * h * w).map(|_| rng.below(256) as u8).collect();
            let weights: Vec<i16> = (0..cout * g.kk())
                .map(|_| rng.below(256) as i16 - 128)
                .collect();
            // Extreme values too: the product must not overflow i16.
            let mut act2 = act.clone();
            act2.iter_mut().step_by(3).for_each(|a| *a = 255);
            let mut w2 = weights.clone();
            w2.iter_mut().step_by(2).for_each(|x| *x = -128);
            for (a, wt) in [(&act, &weights), (&act2, &w2)] {
                assert_eq!(
                    tiled_all(a, h, w, &g, wt),
                    conv_scalar::<u8>(a, h, w, &g, wt),
                    "{g:?}"
                );
            }
        }
    }

    #[test]
    fn scalar_conv_by_hand() {
        // 1 channel 3×3 input, 3×3 kernel of ones, padding 1: sums of 3×3 neighbourhoods.
        let g = Geometry {
            cin: 1,
            cout: 1,
            kh: 3,
            kw: 3,
            groups: 1,
            stride: 1,
            pad_h: 1,
            pad_w: 1,
        };
        let act: Vec<u8> = (1..=9).collect();
        let out = conv_scalar::<u8>(&act, 3, 3, &g, &[1; 9]);
        assert_eq!(out, vec![12, 21, 16, 27, 45, 33, 24, 39, 28]);
        // Stride 2 without padding on a 5×5 input gives 2×2.
        let g = Geometry {
            stride: 2,
            pad_h: 0,
            pad_w: 0,
            ..g
        };
        let act: Vec<u8> = (0..25).collect();
        let out = conv_scalar::<u8>(&act, 5, 5, &g, &[1; 9]);
        assert_eq!(out, vec![54, 72, 144, 162]);
    }
}
