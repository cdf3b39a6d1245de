//! The float convolution of 32-bit layers: ReLU on the input, `f32` weights and sums.

use alloc::vec;
use alloc::vec::Vec;

use super::conv::{COB, Geometry, RowLayout, conv_row_tiled, conv_scalar, conv_tiled, pack};
use super::int_conv::OutMode;
use super::quant::hwgq_code;
use super::tensor::{Data, Tensor};

/// A prepared 32-bit conv.
#[derive(Clone, Debug)]
pub(crate) struct FloatConv {
    pub geom: Geometry,
    weights: Vec<f32>,
    packed: Vec<f32>,
}

impl FloatConv {
    pub fn new(geom: Geometry, weights: &[f32]) -> FloatConv {
        FloatConv {
            geom,
            weights: weights.to_vec(),
            packed: pack(&geom, weights),
        }
    }

    fn relu_row(x: &Tensor, ci: usize, iy: usize, dst: &mut [f32]) {
        let start = (ci * x.h + iy) * x.w;
        for (d, &s) in dst.iter_mut().zip(&x.values()[start..start + x.w]) {
            *d = if s > 0.0 { s } else { 0.0 };
        }
    }

    /// Runs the conv on a float tensor; returns the output (floats, or codes when every
    /// reader quantizes it the same way) and the scratch bytes used.
    pub fn run(&self, x: &Tensor, mode: OutMode) -> (Tensor, usize) {
        let g = &self.geom;
        let (oh, ow) = g.out_size(x.h, x.w);
        let plane = oh * ow;
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
            let mut tile = vec![0f32; COB * RowLayout::new(g, x.w).owp];
            let scratch = conv_tiled::<f32>(
                g,
                x.h,
                x.w,
                |ci, iy, dst| Self::relu_row(x, ci, iy, dst),
                |win, lay, acc| {
                    conv_row_tiled::<f32>(win, g, lay, &self.packed, &mut tile, acc);
                    tile.capacity() * 4
                },
                |y, acc, lay| {
                    for co in 0..g.cout {
                        let row = &acc[co * lay.owp..][..ow];
                        match mode {
                            OutMode::F32 => out[co * plane + y * ow..][..ow].copy_from_slice(row),
                            OutMode::Codes { step, max } => {
                                for (d, &v) in
                                    codes[co * plane + y * ow..][..ow].iter_mut().zip(row)
                                {
                                    *d = hwgq_code(v, step, max);
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
            let mut act = vec![0f32; g.cin * x.h * x.w];
            for ci in 0..g.cin {
                for iy in 0..x.h {
                    Self::relu_row(x, ci, iy, &mut act[(ci * x.h + iy) * x.w..][..x.w]);
                }
            }
            (
                conv_scalar::<f32>(&act, x.h, x.w, g, &self.weights),
                act.capacity() * 4,
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
}
