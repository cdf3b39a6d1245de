//! The fake-quant reference executor: the definition of what a model computes, written
//! for clarity, used to check the integer engine.
//!
//! Each conv quantizes its input (`code·step`), dequantizes its weights (`code·step_c`)
//! and convolves with the textbook loop, summing in `f64` so that the only rounding that
//! matters is the final one to `f32`; 32-bit convs sum their exact `f32` products in
//! `f64` too and round once. Every other op is written per output element,
//! straight from its formula, independently of the engine's row-wise versions (only the
//! quantizer [`hwgq_code`] is shared: it *is* the definition). All intermediate values are
//! `f32` tensors; dead ones are dropped.

use alloc::vec::Vec;

use crate::arch::{ConvNode, Graph, NodeKind};
use crate::image::Planes;
use crate::model::{ConvParams, Model, NodeParams, param_specs};

use super::ops::unbiased_std;
use super::quant::{hwgq_code, max_code};

/// A `C×H×W` tensor.
struct T {
    c: usize,
    h: usize,
    w: usize,
    v: Vec<f32>,
}

impl T {
    fn new(c: usize, h: usize, w: usize, f: impl Fn(usize, usize, usize) -> f32) -> T {
        let mut v = Vec::with_capacity(c * h * w);
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    v.push(f(ch, y, x));
                }
            }
        }
        T { c, h, w, v }
    }

    fn at(&self, c: usize, y: usize, x: usize) -> f32 {
        self.v[(c * self.h + y) * self.w + x]
    }
}

/// Input activation then convolution, exactly as spec §2.1 and §3 define it.
///
/// A quantized conv sums exact products of dequantized codes in `f64`, so its result is
/// the correctly rounded value of the fake-quant convolution. A 32-bit conv sums its
/// products (exact in `f64`) in (input channel, kernel row, kernel column) order and
/// rounds once; its result is within an `f32` rounding of any other order's.
fn conv(x: &T, node: &ConvNode, p: &ConvParams) -> T {
    let s = node.shape;
    let (cpg, opg) = (s.cin / s.groups, s.cout / s.groups);
    let oh = (x.h + 2 * node.padding.0 - s.kh) / node.stride + 1;
    let ow = (x.w + 2 * node.padding.1 - s.kw) / node.stride + 1;
    // Calls `f(weight index, input index)` for every tap of output (co, oy, ox) that lands
    // inside the image (the zero padding contributes nothing).
    let taps = |co: usize, oy: usize, ox: usize, f: &mut dyn FnMut(usize, usize)| {
        let g = co / opg;
        for cl in 0..cpg {
            let ci = g * cpg + cl;
            for ky in 0..s.kh {
                for kx in 0..s.kw {
                    let iy = (oy * node.stride + ky) as isize - node.padding.0 as isize;
                    let ix = (ox * node.stride + kx) as isize - node.padding.1 as isize;
                    if iy < 0 || ix < 0 || iy >= x.h as isize || ix >= x.w as isize {
                        continue;
                    }
                    f(
                        ((co * cpg + cl) * s.kh + ky) * s.kw + kx,
                        (ci * x.h + iy as usize) * x.w + ix as usize,
                    );
                }
            }
        }
    };
    match p {
        ConvParams::Quantized {
            bits,
            codes,
            weight_steps,
            act_step,
        } => {
            // Dequantized activations and weights, exact in f64 (codes times f32 steps).
            let m = max_code(*bits);
            let act: Vec<f64> =
                x.v.iter()
                    .map(|&v| f64::from(hwgq_code(v, *act_step, m)) * f64::from(*act_step))
                    .collect();
            let per = cpg * s.kh * s.kw;
            let w: Vec<f64> = codes
                .iter()
                .enumerate()
                .map(|(i, &q)| f64::from(q) * f64::from(weight_steps[i / per]))
                .collect();
            T::new(s.cout, oh, ow, |co, oy, ox| {
                let mut sum = 0f64;
                taps(co, oy, ox, &mut |wi, ai| sum += w[wi] * act[ai]);
                sum as f32
            })
        }
        ConvParams::Float { weights } => {
            let act: Vec<f64> = x.v.iter().map(|&v| f64::from(v.max(0.0))).collect();
            T::new(s.cout, oh, ow, |co, oy, ox| {
                let mut sum = 0f64;
                taps(co, oy, ox, &mut |wi, ai| {
                    sum += f64::from(weights[wi]) * act[ai]
                });
                sum as f32
            })
        }
    }
}

/// Half-pixel source coordinate of output index `d` (PyTorch `align_corners=False`).
fn source(d: usize, in_len: usize, out_len: usize) -> (usize, usize, f32) {
    let src = ((d as f32 + 0.5) * (in_len as f32 / out_len as f32) - 0.5).max(0.0);
    let i0 = (src as usize).min(in_len - 1);
    (i0, (i0 + 1).min(in_len - 1), src - i0 as f32)
}

/// Runs `model` (whose graph is `graph`) on `x`; the caller has checked the input.
pub(crate) fn run(graph: &Graph, model: &Model, x: &Planes) -> Planes {
    let params: Vec<Option<&NodeParams>> = {
        let mut p = alloc::vec![None; graph.nodes.len()];
        if let Ok(specs) = param_specs(graph) {
            for ((id, _), np) in specs.iter().zip(&model.params) {
                p[*id] = Some(np);
            }
        }
        p
    };
    let last = graph.last_use();
    let mut vals: Vec<Option<T>> = (0..graph.nodes.len()).map(|_| None).collect();
    let empty = T {
        c: 0,
        h: 0,
        w: 0,
        v: Vec::new(),
    };
    for (i, node) in graph.nodes.iter().enumerate() {
        let get = |j: usize| vals[j].as_ref().unwrap_or(&empty);
        let out = match (&node.kind, params[i]) {
            (NodeKind::Input { .. }, _) => T {
                c: x.channels,
                h: x.height,
                w: x.width,
                v: x.data.clone(),
            },
            (NodeKind::Conv(c), Some(NodeParams::Conv(p))) => conv(get(c.input), c, p),
            (NodeKind::Add { a, b }, _) => {
                let (a, b) = (get(*a), get(*b));
                T::new(a.c, a.h, a.w, |c, y, x| a.at(c, y, x) + b.at(c, y, x))
            }
            (NodeKind::Mul { a, b }, _) => {
                let (a, b) = (get(*a), get(*b));
                T::new(a.c, a.h, a.w, |c, y, x| a.at(c, y, x) * b.at(c, y, x))
            }
            (NodeKind::Concat { inputs }, _) => {
                let ts: Vec<&T> = inputs.iter().map(|&j| get(j)).collect();
                let c = ts.iter().map(|t| t.c).sum();
                T::new(c, ts[0].h, ts[0].w, |mut c, y, x| {
                    let mut k = 0;
                    while c >= ts[k].c {
                        c -= ts[k].c;
                        k += 1;
                    }
                    ts[k].at(c, y, x)
                })
            }
            (NodeKind::PixelShuffle { input, factor: r }, _) => {
                let t = get(*input);
                let r = *r;
                T::new(t.c / (r * r), t.h * r, t.w * r, |c, y, x| {
                    t.at(c * r * r + (y % r) * r + x % r, y / r, x / r)
                })
            }
            (NodeKind::Tile { input, times }, _) => {
                let t = get(*input);
                T::new(t.c * times, t.h, t.w, |c, y, x| t.at(c % t.c, y, x))
            }
            (NodeKind::BatchNorm { input }, Some(NodeParams::BatchNorm { scale, shift })) => {
                let t = get(*input);
                T::new(t.c, t.h, t.w, |c, y, x| scale[c] * t.at(c, y, x) + shift[c])
            }
            (NodeKind::Adq { branch, skip }, Some(NodeParams::Adq { gamma, beta })) => {
                let (b, s) = (get(*branch), get(*skip));
                let factor = (f64::from(*gamma) * unbiased_std(&s.v) + f64::from(*beta)) as f32;
                T::new(s.c, s.h, s.w, |c, y, x| {
                    b.at(c, y, x) * factor + s.at(c, y, x)
                })
            }
            (
                NodeKind::MaxPool {
                    input,
                    kernel: k,
                    stride,
                },
                _,
            ) => {
                let t = get(*input);
                let (oh, ow) = ((t.h - k) / stride + 1, (t.w - k) / stride + 1);
                T::new(t.c, oh, ow, |c, y, x| {
                    let mut m = f32::NEG_INFINITY;
                    for ky in 0..*k {
                        for kx in 0..*k {
                            m = m.max(t.at(c, y * stride + ky, x * stride + kx));
                        }
                    }
                    m
                })
            }
            (NodeKind::ResizeBilinear { input, like }, _) => {
                let (t, l) = (get(*input), get(*like));
                T::new(t.c, l.h, l.w, |c, y, x| {
                    let (y0, y1, ly) = source(y, t.h, l.h);
                    let (x0, x1, lx) = source(x, t.w, l.w);
                    let top = (1.0 - lx) * t.at(c, y0, x0) + lx * t.at(c, y0, x1);
                    let bottom = (1.0 - lx) * t.at(c, y1, x0) + lx * t.at(c, y1, x1);
                    (1.0 - ly) * top + ly * bottom
                })
            }
            (NodeKind::Sigmoid { input }, _) => {
                let t = get(*input);
                T::new(t.c, t.h, t.w, |c, y, x| {
                    (1.0 / (1.0 + libm::exp(-f64::from(t.at(c, y, x))))) as f32
                })
            }
            // A validated model has parameters wherever the graph needs them, and no
            // supernet slots.
            _ => T {
                c: 0,
                h: 0,
                w: 0,
                v: Vec::new(),
            },
        };
        vals[i] = Some(out);
        for j in node.kind.inputs() {
            if last[j] == i {
                vals[j] = None;
            }
        }
    }
    let out = vals[graph.output].take().unwrap_or(empty);
    Planes {
        channels: out.c,
        height: out.h,
        width: out.w,
        data: out.v,
    }
}
