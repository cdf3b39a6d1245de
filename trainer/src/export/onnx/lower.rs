//! Lowers each node of a core [`Graph`] to ONNX ops, with the model's parameters, exactly
//! as `quantnas_core::engine` computes it (its reference executor, `ref_exec.rs`, is the
//! definition followed here op by op).

use std::collections::HashMap;

use anyhow::{Result, bail};
use quantnas_core::arch::{ConvNode, Graph, NodeKind};
use quantnas_core::model::{ConvParams, Model, NodeParams, sum_scales};

use super::builder::{Attr, GraphBuilder};
use super::proto::tensor_proto::DataType;
use super::{Encoding, exact, quant, tensors};

/// Name of the graph input: `float32 [N, 3, H, W]`, RGB in [0, 1].
pub const INPUT: &str = "input";
/// Name of the graph output: `float32 [N, 3, 4H, 4W]`, clamped to [0, 1].
pub const OUTPUT: &str = "output";

/// Lowering state: the ONNX value of each core node, and each conv input activation
/// already emitted (convs reading one tensor at one width share its quantizer).
struct Lowering<'a> {
    g: GraphBuilder,
    enc: Encoding,
    graph: &'a Graph,
    values: Vec<String>,
    activations: HashMap<(usize, u32, u32), String>,
}

/// Appends the nodes of `model` to a fresh builder; the last node writes [`OUTPUT`].
pub fn lower(model: &Model, enc: Encoding) -> Result<GraphBuilder> {
    let graph = model.graph();
    let mut params: Vec<Option<&NodeParams>> = vec![None; graph.nodes.len()];
    for ((id, _), p) in model.specs()?.iter().zip(&model.params) {
        params[*id] = Some(p);
    }
    let mut l = Lowering {
        g: GraphBuilder::default(),
        enc,
        graph: &graph,
        values: Vec::with_capacity(graph.nodes.len()),
        activations: HashMap::new(),
    };
    l.g.reserve(INPUT);
    l.g.reserve(OUTPUT);
    for (i, node) in graph.nodes.iter().enumerate() {
        let v = l.node(i, &node.kind, params[i])?;
        l.values.push(v);
    }
    // The engine's upscale clamps the float output to [0, 1] before rounding to 8 bits.
    let zero = l.g.constant("out.min", |n| tensors::f32s(n, &[], &[0.0]));
    let one = l.g.constant("out.max", |n| tensors::f32s(n, &[], &[1.0]));
    let last = l.values[graph.output].clone();
    l.g.op_into("Clip", &[&last, &zero, &one], &[], OUTPUT);
    Ok(l.g)
}

impl Lowering<'_> {
    fn node(&mut self, i: usize, kind: &NodeKind, p: Option<&NodeParams>) -> Result<String> {
        let name = self.graph.nodes[i].name.clone();
        Ok(match (kind, p) {
            (NodeKind::Input { .. }, _) => INPUT.to_string(),
            (NodeKind::Conv(c), Some(NodeParams::Conv(p))) => self.conv(c, p, &name),
            (NodeKind::Add { a, b }, _) => {
                let (a, b) = (self.values[*a].clone(), self.values[*b].clone());
                self.g.op("Add", &[&a, &b], &[], &name)
            }
            (NodeKind::Mul { a, b }, _) => {
                let (a, b) = (self.values[*a].clone(), self.values[*b].clone());
                self.g.op("Mul", &[&a, &b], &[], &name)
            }
            (NodeKind::Concat { inputs }, _) => {
                let ins: Vec<String> = inputs.iter().map(|&j| self.values[j].clone()).collect();
                let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
                self.g.op("Concat", &refs, &[Attr::Int("axis", 1)], &name)
            }
            // Channel c·r²+i·r+j to pixel (y·r+i, x·r+j) of c: DepthToSpace's CRD order.
            (NodeKind::PixelShuffle { input, factor }, _) => {
                let x = self.values[*input].clone();
                let attrs = [
                    Attr::Int("blocksize", *factor as i64),
                    Attr::Str("mode", "CRD"),
                ];
                self.g.op("DepthToSpace", &[&x], &attrs, &name)
            }
            (NodeKind::Tile { input, times }, _) => {
                let x = self.values[*input].clone();
                let reps = self.g.constant(&format!("{name}.repeats"), |n| {
                    tensors::i64s(n, &[4], &[1, *times as i64, 1, 1])
                });
                self.g.op("Tile", &[&x, &reps], &[], &name)
            }
            (NodeKind::BatchNorm { input }, Some(NodeParams::BatchNorm { scale, shift })) => {
                let x = self.values[*input].clone();
                let c = scale.len();
                let s = self.g.constant(&format!("{name}.scale"), |n| {
                    tensors::f32s(n, &[1, c, 1, 1], scale)
                });
                let t = self.g.constant(&format!("{name}.shift"), |n| {
                    tensors::f32s(n, &[1, c, 1, 1], shift)
                });
                let y = self.g.op("Mul", &[&x, &s], &[], &format!("{name}.scaled"));
                self.g.op("Add", &[&y, &t], &[], &name)
            }
            (NodeKind::Adq { branch, skip }, Some(NodeParams::Adq { gamma, beta })) => {
                let (b, s) = (self.values[*branch].clone(), self.values[*skip].clone());
                // The exact form computes σ in double, as the engine does.
                let wide = self.enc == Encoding::Exact;
                self.adq(&b, &s, *gamma, *beta, wide, &name)
            }
            (
                NodeKind::MaxPool {
                    input,
                    kernel,
                    stride,
                },
                _,
            ) => {
                let x = self.values[*input].clone();
                let (k, s) = (*kernel as i64, *stride as i64);
                let attrs = [
                    Attr::Ints("kernel_shape", vec![k, k]),
                    Attr::Ints("strides", vec![s, s]),
                ];
                self.g.op("MaxPool", &[&x], &attrs, &name)
            }
            (NodeKind::ResizeBilinear { input, like }, _) => {
                let (x, l) = (self.values[*input].clone(), self.values[*like].clone());
                match self.enc {
                    Encoding::Qdq(_) => self.resize(&x, &l, &name),
                    Encoding::Exact => exact::resize(&mut self.g, &x, &l, &name),
                }
            }
            (NodeKind::Sigmoid { input }, _) => {
                let x = self.values[*input].clone();
                match self.enc {
                    Encoding::Qdq(_) => self.g.op("Sigmoid", &[&x], &[], &name),
                    Encoding::Exact => exact::sigmoid(&mut self.g, &x, &name),
                }
            }
            (NodeKind::Mixed(_), _) => bail!("node {name} is a supernet slot, not a network"),
            _ => bail!("node {name} has no parameters of its kind (an unvalidated model)"),
        })
    }

    /// HWGQ (4/8 bits) or ReLU (32 bits) on the input, then the convolution (no bias).
    fn conv(&mut self, c: &ConvNode, p: &ConvParams, name: &str) -> String {
        let s = c.shape;
        let dims = [s.cout, s.cin / s.groups, s.kh, s.kw];
        let (ph, pw) = (c.padding.0 as i64, c.padding.1 as i64);
        let st = c.stride as i64;
        let attrs = [
            Attr::Ints("kernel_shape", vec![s.kh as i64, s.kw as i64]),
            Attr::Ints("pads", vec![ph, pw, ph, pw]),
            Attr::Ints("strides", vec![st, st]),
            Attr::Int("group", s.groups as i64),
        ];
        let (act, w) = match (p, self.enc) {
            (
                ConvParams::Quantized {
                    bits,
                    codes,
                    weight_steps,
                    act_step,
                },
                Encoding::Exact,
            ) => {
                let x = self.input(c.input, bits.get(), *act_step, |g, x| {
                    exact::codes(g, x, *bits, *act_step, name)
                });
                let scale = sum_scales(weight_steps, *act_step);
                return exact::conv(&mut self.g, &x, &dims, codes, &scale, &attrs, name);
            }
            (
                ConvParams::Quantized {
                    bits,
                    codes,
                    weight_steps,
                    act_step,
                },
                Encoding::Qdq(four),
            ) => {
                let act = self.input(c.input, bits.get(), *act_step, |g, x| {
                    quant::activation(g, x, *bits, *act_step, four, name)
                });
                let w = quant::weights(&mut self.g, &dims, *bits, codes, weight_steps, four, name);
                (act, w)
            }
            (ConvParams::Float { weights }, enc) => {
                let act = self.input(c.input, 32, 0.0, |g, x| {
                    g.op("Relu", &[x], &[], &format!("{name}.act"))
                });
                if enc == Encoding::Exact {
                    let geom = exact::FloatGeometry {
                        dims,
                        groups: s.groups,
                        stride: c.stride,
                        pads: c.padding,
                    };
                    return exact::float_conv(&mut self.g, &act, &geom, weights, name);
                }
                let w = self.g.constant(&format!("{name}.weight"), |n| {
                    tensors::f32s(n, &dims, weights)
                });
                (act, w)
            }
        };
        self.g.op("Conv", &[&act, &w], &attrs, name)
    }

    /// The conv input made from node `input` at `bits` with `step` by `make`, emitted
    /// once per (tensor, width, step) and shared by every conv reading it.
    fn input(
        &mut self,
        input: usize,
        bits: u32,
        step: f32,
        make: impl FnOnce(&mut GraphBuilder, &str) -> String,
    ) -> String {
        let key = (input, bits, step.to_bits());
        if let Some(a) = self.activations.get(&key) {
            return a.clone();
        }
        let x = self.values[input].clone();
        let a = make(&mut self.g, &x);
        self.activations.insert(key, a.clone());
        a
    }

    /// `branch·(γ·σ(skip) + β) + skip`, σ the unbiased standard deviation of each sample
    /// over C, H and W (spec §4): `√(Σ(skip − mean)²/(n−1))`, n = C·H·W taken from the
    /// runtime shape, so H and W stay free. With `wide` the factor is computed in `double`
    /// and rounded once to `float`, as the engine computes it; otherwise in `float`.
    fn adq(
        &mut self,
        branch: &str,
        skip: &str,
        gamma: f32,
        beta: f32,
        wide: bool,
        name: &str,
    ) -> String {
        let g = &mut self.g;
        let ty = if wide {
            DataType::Double
        } else {
            DataType::Float
        };
        let number = |t: &str, v: f32| {
            if wide {
                tensors::f64s(t, &[], &[f64::from(v)])
            } else {
                tensors::f32s(t, &[], &[v])
            }
        };
        let axes = g.constant(&format!("{name}.axes"), |n| {
            tensors::i64s(n, &[3], &[1, 2, 3])
        });
        let x = if wide {
            exact::cast(g, skip, ty, &format!("{name}.skip_f64"))
        } else {
            skip.to_string()
        };
        let keep = [Attr::Int("keepdims", 1)];
        let mean = g.op("ReduceMean", &[&x, &axes], &keep, &format!("{name}.mean"));
        let d = g.op("Sub", &[&x, &mean], &[], &format!("{name}.centred"));
        let sq = g.op("Mul", &[&d, &d], &[], &format!("{name}.squares"));
        let ss = g.op(
            "ReduceSum",
            &[&sq, &axes],
            &keep,
            &format!("{name}.sum_squares"),
        );
        let shape = g.op(
            "Shape",
            &[skip],
            &[Attr::Int("start", 1)],
            &format!("{name}.chw"),
        );
        let count = g.op(
            "ReduceProd",
            &[&shape],
            &[Attr::Int("keepdims", 1)],
            &format!("{name}.count_i64"),
        );
        let n = exact::cast(g, &count, ty, &format!("{name}.count"));
        let one = g.constant(&format!("{name}.one"), |t| number(t, 1.0));
        let n1 = g.op("Sub", &[&n, &one], &[], &format!("{name}.count_minus_1"));
        let var = g.op("Div", &[&ss, &n1], &[], &format!("{name}.variance"));
        let sd = g.op("Sqrt", &[&var], &[], &format!("{name}.sigma"));
        let gm = g.constant(&format!("{name}.gamma"), |t| number(t, gamma));
        let bt = g.constant(&format!("{name}.beta"), |t| number(t, beta));
        let gs = g.op("Mul", &[&sd, &gm], &[], &format!("{name}.gamma_sigma"));
        let f = g.op("Add", &[&gs, &bt], &[], &format!("{name}.factor"));
        let factor = if wide {
            exact::cast(g, &f, DataType::Float, &format!("{name}.factor_f32"))
        } else {
            f
        };
        let scaled = g.op("Mul", &[branch, &factor], &[], &format!("{name}.scaled"));
        g.op("Add", &[&scaled, skip], &[], name)
    }

    /// Bilinear resize of `x` to the height and width of `like`, half-pixel centres, no
    /// antialiasing (PyTorch's `align_corners=False`).
    fn resize(&mut self, x: &str, like: &str, name: &str) -> String {
        let g = &mut self.g;
        let nc = g.op("Shape", &[x], &[Attr::Int("end", 2)], &format!("{name}.nc"));
        let hw = g.op(
            "Shape",
            &[like],
            &[Attr::Int("start", 2)],
            &format!("{name}.hw"),
        );
        let sizes = g.op(
            "Concat",
            &[&nc, &hw],
            &[Attr::Int("axis", 0)],
            &format!("{name}.sizes"),
        );
        let attrs = [
            Attr::Str("mode", "linear"),
            Attr::Str("coordinate_transformation_mode", "half_pixel"),
        ];
        g.op("Resize", &[x, "", "", &sizes], &attrs, name)
    }
}
