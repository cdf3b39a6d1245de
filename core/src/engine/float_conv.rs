//! The float convolution of 32-bit layers: ReLU on the input, `f32` weights, and sums in
//! the precision [`FloatSums`] picks (by default `f64`, rounded once to `f32`).

use alloc::vec;
use alloc::vec::Vec;

use super::conv::{COB, Geometry, Mac, RowLayout, conv_row_tiled, conv_scalar, conv_tiled, pack};
use super::int_conv::OutMode;
use super::quant::hwgq_code;
use super::tensor::{Data, Tensor};

/// How 32-bit convs add up their products.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FloatSums {
    /// Exact `f32` products summed in `f64` and rounded once: the model's definition (the
    /// reference executor and the exact ONNX form compute the same), and the default.
    #[default]
    F64,
    /// `f32` sums: about 1.8× faster on 32-bit layers, but the value depends on the
    /// order of summation. The benches' "f32 path" peer runs this.
    F32,
}

/// A sum type of the float path: `f32` widened into it exactly, rounded back once.
trait FloatSum: Mac<W = Self, Acc = Self> {
    fn widen(v: f32) -> Self;
    fn narrow(self) -> f32;
}

impl FloatSum for f64 {
    #[inline(always)]
    fn widen(v: f32) -> f64 {
        f64::from(v)
    }
    #[inline(always)]
    fn narrow(self) -> f32 {
        self as f32
    }
}

impl FloatSum for f32 {
    #[inline(always)]
    fn widen(v: f32) -> f32 {
        v
    }
    #[inline(always)]
    fn narrow(self) -> f32 {
        self
    }
}

/// Weights in a sum type: plain `[cout][cin/groups][kh][kw]` and packed for the tiled kernel.
#[derive(Clone, Debug)]
struct Prepared<S> {
    plain: Vec<S>,
    packed: Vec<S>,
}

impl<S: FloatSum> Prepared<S> {
    fn new(geom: &Geometry, weights: &[f32]) -> Prepared<S> {
        let plain: Vec<S> = weights.iter().map(|&w| S::widen(w)).collect();
        Prepared {
            packed: pack(geom, &plain),
            plain,
        }
    }
}

#[derive(Clone, Debug)]
enum Kernel {
    F64(Prepared<f64>),
    F32(Prepared<f32>),
}

/// A prepared 32-bit conv.
#[derive(Clone, Debug)]
pub(crate) struct FloatConv {
    pub geom: Geometry,
    kernel: Kernel,
}

impl FloatConv {
    pub fn new(geom: Geometry, weights: &[f32], sums: FloatSums) -> FloatConv {
        let kernel = match sums {
            FloatSums::F64 => Kernel::F64(Prepared::new(&geom, weights)),
            FloatSums::F32 => Kernel::F32(Prepared::new(&geom, weights)),
        };
        FloatConv { geom, kernel }
    }

    /// The same conv summing in `sums` (the weights narrow back to `f32` exactly).
    pub fn with_sums(&self, sums: FloatSums) -> FloatConv {
        let weights: Vec<f32> = match &self.kernel {
            Kernel::F64(p) => p.plain.iter().map(|&w| w.narrow()).collect(),
            Kernel::F32(p) => p.plain.clone(),
        };
        FloatConv::new(self.geom, &weights, sums)
    }

    /// Runs the conv on a float tensor; returns the output (floats, or codes when every
    /// reader quantizes it the same way) and the scratch bytes used.
    pub fn run(&self, x: &Tensor, mode: OutMode) -> (Tensor, usize) {
        match &self.kernel {
            Kernel::F64(p) => run(&self.geom, p, x, mode),
            Kernel::F32(p) => run(&self.geom, p, x, mode),
        }
    }
}

fn relu_row<S: FloatSum>(x: &Tensor, ci: usize, iy: usize, dst: &mut [S]) {
    let start = (ci * x.h + iy) * x.w;
    for (d, &s) in dst.iter_mut().zip(&x.values()[start..start + x.w]) {
        *d = S::widen(if s > 0.0 { s } else { 0.0 });
    }
}

fn run<S: FloatSum>(g: &Geometry, p: &Prepared<S>, x: &Tensor, mode: OutMode) -> (Tensor, usize) {
    let (oh, ow) = g.out_size(x.h, x.w);
    let plane = oh * ow;
    let bytes = core::mem::size_of::<S>();
    let (mut out, scratch) = if g.tiled() {
        let mut out = vec![
            0f32;
            if mode == OutMode::F32 {
                g.cout * plane
            } else {
                0
            }
        ];
        let mut codes = vec![
            0u8;
            if mode == OutMode::F32 {
                0
            } else {
                g.cout * plane
            }
        ];
        let mut tile = vec![S::default(); COB * RowLayout::new(g, x.w).owp];
        let scratch = conv_tiled::<S>(
            g,
            x.h,
            x.w,
            |ci, iy, dst| relu_row(x, ci, iy, dst),
            |win, lay, acc| {
                conv_row_tiled::<S>(win, g, lay, &p.packed, &mut tile, acc);
                tile.capacity() * bytes
            },
            |y, acc, lay| {
                for co in 0..g.cout {
                    let row = &acc[co * lay.owp..][..ow];
                    match mode {
                        OutMode::F32 => {
                            for (d, &v) in out[co * plane + y * ow..][..ow].iter_mut().zip(row) {
                                *d = v.narrow();
                            }
                        }
                        OutMode::Codes { step, max } => {
                            for (d, &v) in codes[co * plane + y * ow..][..ow].iter_mut().zip(row) {
                                *d = hwgq_code(v.narrow(), step, max);
                            }
                        }
                    }
                }
            },
        );
        if mode != OutMode::F32 {
            return (
                Tensor {
                    c: g.cout,
                    h: oh,
                    w: ow,
                    data: Data::Codes(codes),
                },
                scratch,
            );
        }
        (out, scratch)
    } else {
        let mut act = vec![S::default(); g.cin * x.h * x.w];
        for ci in 0..g.cin {
            for iy in 0..x.h {
                relu_row(x, ci, iy, &mut act[(ci * x.h + iy) * x.w..][..x.w]);
            }
        }
        let sums = conv_scalar::<S>(&act, x.h, x.w, g, &p.plain);
        (
            sums.iter().map(|&v| v.narrow()).collect(),
            (act.capacity() + sums.capacity()) * bytes,
        )
    };
    if let OutMode::Codes { step, max } = mode {
        let codes = out.iter().map(|&v| hwgq_code(v, step, max)).collect();
        return (
            Tensor {
                c: g.cout,
                h: oh,
                w: ow,
                data: Data::Codes(codes),
            },
            scratch + out.capacity() * 4,
        );
    }
    out.shrink_to_fit();
    (
        Tensor {
            c: g.cout,
            h: oh,
            w: ow,
            data: Data::F32(out),
        },
        scratch,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Pcg32;

    fn tensor(c: usize, h: usize, w: usize, v: Vec<f32>) -> Tensor {
        Tensor {
            c,
            h,
            w,
            data: Data::F32(v),
        }
    }

    /// The tiled kernel equals its plain twin bit for bit in both sum types, and the two
    /// sum types differ by no more than `f32` rounding of the sums.
    #[test]
    fn tiled_equals_scalar_twin_in_both_sum_types() {
        let mut rng = Pcg32::new(11);
        let cases = [
            // cin, cout, kh, kw, groups, pad_h, pad_w, h, w
            (3, 5, 3, 3, 1, 1, 1, 7, 9),
            (6, 9, 1, 5, 3, 0, 2, 3, 8),
            (32, 12, 3, 3, 1, 1, 1, 6, 13),
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
            // Negative inputs too: the ReLU must zero them.
            let x: Vec<f32> = (0..cin * h * w).map(|_| rng.uniform(-1.0, 2.0)).collect();
            let weights: Vec<f32> = (0..cout * g.kk()).map(|_| rng.uniform(-0.5, 0.5)).collect();
            let relu: Vec<f32> = x.iter().map(|&v| v.max(0.0)).collect();
            let mut outs = Vec::new();
            for sums in [FloatSums::F64, FloatSums::F32] {
                let k = FloatConv::new(g, &weights, sums);
                let (t, _) = k.run(&tensor(cin, h, w, x.clone()), OutMode::F32);
                let twin: Vec<f32> = match sums {
                    FloatSums::F64 => {
                        let a: Vec<f64> = relu.iter().map(|&v| f64::from(v)).collect();
                        let wt: Vec<f64> = weights.iter().map(|&v| f64::from(v)).collect();
                        conv_scalar::<f64>(&a, h, w, &g, &wt)
                            .iter()
                            .map(|&v| v as f32)
                            .collect()
                    }
                    FloatSums::F32 => conv_scalar::<f32>(&relu, h, w, &g, &weights),
                };
                let got = t.values().to_vec();
                assert_eq!(
                    got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    twin.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "{g:?} {sums:?}"
                );
                outs.push(got);
            }
            let bound = g.kk() as f32 * 2.0 * f32::EPSILON;
            for (a, b) in outs[0].iter().zip(&outs[1]) {
                assert!((a - b).abs() <= bound, "{g:?}: {a} vs {b}");
            }
        }
    }
}
