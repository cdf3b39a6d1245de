//! The parameters of one graph node, and what the graph expects of them.
//!
//! Weights are laid out `[cout][cin/groups][kh][kw]`, as in PyTorch and burn. A quantized
//! conv keeps signed integer codes (4- and 8-bit codes both as `i8` in memory), one LSQ step
//! per output channel and the step of its input quantizer (spec §3); a 32-bit conv keeps
//! plain `f32` weights. Batch norm is stored folded for inference as `y = scale_c·x +
//! shift_c` (the trainer folds running mean/var, γ, β and ε, because inference never needs
//! them separately); ADQ keeps its two scalars γ, β (spec §4).

use alloc::string::String;
use alloc::vec::Vec;

use crate::arch::{Bits, ConvShape, Graph, NodeId, NodeKind, round_code};

use super::error::ModelError;

/// Weights of one convolution.
#[derive(Clone, Debug, PartialEq)]
pub enum ConvParams {
    /// A 4- or 8-bit conv.
    Quantized {
        /// Weight and activation bit width (4 or 8).
        bits: Bits,
        /// Signed weight codes in `[−2^(b−1), 2^(b−1)−1]`, `[cout][cin/groups][kh][kw]`.
        codes: Vec<i8>,
        /// LSQ step of each output channel (≥ 0; the weight is `code·step`).
        weight_steps: Vec<f32>,
        /// Step of the HWGQ quantizer applied to this conv's input (> 0).
        act_step: f32,
    },
    /// A 32-bit conv (ReLU on its input, float weights).
    Float {
        /// Weights, `[cout][cin/groups][kh][kw]`.
        weights: Vec<f32>,
    },
}

/// Parameters of one node that has any.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeParams {
    /// A convolution.
    Conv(ConvParams),
    /// Inference batch norm `y = scale_c·x + shift_c`.
    BatchNorm {
        /// Per-channel factor.
        scale: Vec<f32>,
        /// Per-channel offset.
        shift: Vec<f32>,
    },
    /// ADQ's scalars: `out = branch·(gamma·σ(skip) + beta) + skip`.
    Adq {
        /// γ.
        gamma: f32,
        /// β.
        beta: f32,
    },
}

/// What the graph needs at a node that has parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamSpec {
    /// A conv of this shape and bit width.
    Conv {
        /// Channels, kernel, groups.
        shape: ConvShape,
        /// Bit width.
        bits: Bits,
    },
    /// A batch norm over this many channels.
    BatchNorm {
        /// Channels.
        channels: usize,
    },
    /// An ADQ node.
    Adq,
}

impl ParamSpec {
    /// Short name of the record kind this spec needs.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ParamSpec::Conv { bits, .. } if bits.is_quantized() => "quantized conv",
            ParamSpec::Conv { .. } => "float conv",
            ParamSpec::BatchNorm { .. } => "batch norm",
            ParamSpec::Adq => "ADQ",
        }
    }
}

impl NodeParams {
    /// Short name of this kind of parameters.
    pub fn kind_name(&self) -> &'static str {
        match self {
            NodeParams::Conv(ConvParams::Quantized { .. }) => "quantized conv",
            NodeParams::Conv(ConvParams::Float { .. }) => "float conv",
            NodeParams::BatchNorm { .. } => "batch norm",
            NodeParams::Adq { .. } => "ADQ",
        }
    }
}

/// The nodes of `graph` that carry parameters, in graph order, with what each needs.
///
/// Fails on supernet slots, which have no single set of weights to run.
pub fn param_specs(graph: &Graph) -> Result<Vec<(NodeId, ParamSpec)>, ModelError> {
    let mut channels: Vec<usize> = Vec::with_capacity(graph.nodes.len());
    let mut out = Vec::new();
    for (id, node) in graph.nodes.iter().enumerate() {
        let c = match &node.kind {
            NodeKind::Input { channels } => *channels,
            NodeKind::Conv(conv) => {
                out.push((
                    id,
                    ParamSpec::Conv {
                        shape: conv.shape,
                        bits: conv.bits,
                    },
                ));
                conv.shape.cout
            }
            NodeKind::Mixed(_) => {
                return Err(ModelError::NotExecutable {
                    node: node.name.clone(),
                });
            }
            NodeKind::BatchNorm { input } => {
                out.push((
                    id,
                    ParamSpec::BatchNorm {
                        channels: channels[*input],
                    },
                ));
                channels[*input]
            }
            NodeKind::Adq { skip, .. } => {
                out.push((id, ParamSpec::Adq));
                channels[*skip]
            }
            NodeKind::Add { a, .. } | NodeKind::Mul { a, .. } => channels[*a],
            NodeKind::Concat { inputs } => inputs.iter().map(|&i| channels[i]).sum(),
            NodeKind::PixelShuffle { input, factor } => channels[*input] / (factor * factor),
            NodeKind::Tile { input, times } => channels[*input] * times,
            NodeKind::MaxPool { input, .. } | NodeKind::Sigmoid { input } => channels[*input],
            NodeKind::ResizeBilinear { input, .. } => channels[*input],
        };
        channels.push(c);
    }
    Ok(out)
}

/// LSQ weight code: `round(clamp(w / step, −2^(b−1), 2^(b−1)−1))` with the project's one
/// rounding rule ([`round_code`]: ties away from zero, as the trainer's LSQ rounds), 0 when
/// `step` is 0.
pub fn weight_code(w: f32, step: f32, bits: Bits) -> i8 {
    let (lo, hi) = bits.weight_code_range();
    if step <= 0.0 || !step.is_finite() || w.is_nan() {
        return 0;
    }
    // Clamped to at most [−128, 127], so the cast cannot truncate.
    round_code((w / step).clamp(lo as f32, hi as f32)) as i8
}

/// The LSQ initial step of one output channel: `2·mean|W_c| / √q_p` (spec §3).
pub fn lsq_initial_step(channel_weights: &[f32], bits: Bits) -> f32 {
    let (_, qp) = bits.weight_code_range();
    if channel_weights.is_empty() {
        return 0.0;
    }
    let mean = channel_weights
        .iter()
        .map(|w| f64::from(w.abs()))
        .sum::<f64>()
        / channel_weights.len() as f64;
    (2.0 * mean / libm::sqrt(f64::from(qp))) as f32
}

/// Per output channel, the factor that turns a quantized conv's exact integer sum of code
/// products into its output: `weight_step_c · act_step`, exact in `f64` (a product of two
/// `f32`s). The engine rescales its sums by it and rounds once to `f32`; the exact ONNX
/// export multiplies by the same values.
pub fn sum_scales(weight_steps: &[f32], act_step: f32) -> Vec<f64> {
    weight_steps
        .iter()
        .map(|&s| f64::from(s) * f64::from(act_step))
        .collect()
}

impl ConvParams {
    /// Quantizes float weights `[cout][cin/groups][kh][kw]` with one step per output
    /// channel; the activation step is the fixed HWGQ step of `bits`.
    ///
    /// A 32-bit `bits` keeps the weights as they are (steps are ignored).
    pub fn quantize(bits: Bits, weights: &[f32], steps: &[f32]) -> ConvParams {
        let Some(act_step) = bits.activation_step() else {
            return ConvParams::Float {
                weights: weights.to_vec(),
            };
        };
        let per = if steps.is_empty() {
            0
        } else {
            weights.len() / steps.len()
        };
        let codes = weights
            .iter()
            .enumerate()
            .map(|(i, &w)| {
                let step = steps.get(i / per.max(1)).copied().unwrap_or(0.0);
                weight_code(w, step, bits)
            })
            .collect();
        ConvParams::Quantized {
            bits,
            codes,
            weight_steps: steps.to_vec(),
            act_step,
        }
    }

    /// Bit width: 4, 8, or 32 for float weights.
    pub fn bits(&self) -> Bits {
        match self {
            ConvParams::Quantized { bits, .. } => *bits,
            ConvParams::Float { .. } => Bits::B32,
        }
    }

    /// The weights as the network uses them: `code·step` or the float weights.
    pub fn dequantized(&self) -> Vec<f32> {
        match self {
            ConvParams::Quantized {
                codes,
                weight_steps,
                ..
            } => {
                let per = codes.len() / weight_steps.len().max(1);
                codes
                    .iter()
                    .enumerate()
                    .map(|(i, &q)| {
                        f32::from(q) * weight_steps.get(i / per.max(1)).copied().unwrap_or(0.0)
                    })
                    .collect()
            }
            ConvParams::Float { weights } => weights.clone(),
        }
    }
}

fn check_finite(node: &str, what: &'static str, values: &[f32]) -> Result<(), ModelError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ModelError::BadValue {
            node: String::from(node),
            what,
            index,
            value: values[index],
            rule: "must be finite",
        }),
        None => Ok(()),
    }
}

fn check_len(
    node: &str,
    what: &'static str,
    expected: usize,
    got: usize,
) -> Result<(), ModelError> {
    if expected == got {
        Ok(())
    } else {
        Err(ModelError::Shape {
            node: String::from(node),
            offset: 0,
            what,
            expected: expected as u64,
            got: got as u64,
        })
    }
}

/// Checks one node's parameters against what the graph needs there: kind, bit width,
/// every tensor length, code ranges and that every value is finite (steps ≥ 0,
/// activation step > 0).
pub fn check_params(node: &str, spec: &ParamSpec, params: &NodeParams) -> Result<(), ModelError> {
    let kind_error = || ModelError::RecordKind {
        node: String::from(node),
        offset: 0,
        expected: spec.kind_name(),
        got: String::from(params.kind_name()),
    };
    match (spec, params) {
        (ParamSpec::Conv { shape, bits }, NodeParams::Conv(conv)) => {
            if conv.bits() != *bits {
                return Err(ModelError::Shape {
                    node: String::from(node),
                    offset: 0,
                    what: "bit width",
                    expected: u64::from(bits.get()),
                    got: u64::from(conv.bits().get()),
                });
            }
            match conv {
                ConvParams::Quantized {
                    bits,
                    codes,
                    weight_steps,
                    act_step,
                } => {
                    check_len(node, "weight code count", shape.weight_count(), codes.len())?;
                    check_len(node, "weight step count", shape.cout, weight_steps.len())?;
                    let (min, max) = bits.weight_code_range();
                    if let Some(index) = codes
                        .iter()
                        .position(|&q| !(min..=max).contains(&i32::from(q)))
                    {
                        return Err(ModelError::CodeRange {
                            node: String::from(node),
                            index,
                            code: i32::from(codes[index]),
                            min,
                            max,
                            bits: bits.get(),
                        });
                    }
                    check_finite(node, "weight_steps", weight_steps)?;
                    if let Some(index) = weight_steps.iter().position(|&s| s < 0.0) {
                        return Err(ModelError::BadValue {
                            node: String::from(node),
                            what: "weight_steps",
                            index,
                            value: weight_steps[index],
                            rule: "must be ≥ 0",
                        });
                    }
                    if !(act_step.is_finite() && *act_step > 0.0) {
                        return Err(ModelError::BadValue {
                            node: String::from(node),
                            what: "act_step",
                            index: 0,
                            value: *act_step,
                            rule: "must be finite and > 0",
                        });
                    }
                    Ok(())
                }
                ConvParams::Float { weights } => {
                    check_len(node, "weight count", shape.weight_count(), weights.len())?;
                    check_finite(node, "weights", weights)
                }
            }
        }
        (ParamSpec::BatchNorm { channels }, NodeParams::BatchNorm { scale, shift }) => {
            check_len(node, "batch-norm scale length", *channels, scale.len())?;
            check_len(node, "batch-norm shift length", *channels, shift.len())?;
            check_finite(node, "scale", scale)?;
            check_finite(node, "shift", shift)
        }
        (ParamSpec::Adq, NodeParams::Adq { gamma, beta }) => {
            check_finite(node, "adq", &[*gamma, *beta])
        }
        _ => Err(kind_error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::espcn;
    use alloc::vec;

    #[test]
    fn weight_codes_clamp_and_round_half_away() {
        assert_eq!(weight_code(0.25, 0.1, Bits::B8), 3);
        assert_eq!(weight_code(-0.25, 0.1, Bits::B8), -3);
        assert_eq!(weight_code(0.15, 0.1, Bits::B4), 2); // 1.5 rounds away from zero
        assert_eq!(weight_code(-0.15, 0.1, Bits::B4), -2);
        assert_eq!(weight_code(5.0, 0.1, Bits::B4), 7);
        assert_eq!(weight_code(-5.0, 0.1, Bits::B4), -8);
        assert_eq!(weight_code(500.0, 0.1, Bits::B8), 127);
        assert_eq!(weight_code(1.0, 0.0, Bits::B8), 0);
    }

    #[test]
    fn quantize_uses_one_step_per_output_channel() {
        let c = ConvParams::quantize(Bits::B8, &[0.1, 0.2, 0.1, 0.2], &[0.1, 0.05]);
        let ConvParams::Quantized { codes, .. } = &c else {
            panic!("quantized")
        };
        assert_eq!(codes, &vec![1, 2, 2, 4]);
        let d = c.dequantized();
        assert!((d[3] - 0.2).abs() < 1e-7);
        assert_eq!(
            ConvParams::quantize(Bits::B32, &[0.5], &[]),
            ConvParams::Float { weights: vec![0.5] }
        );
    }

    #[test]
    fn specs_follow_the_graph() {
        let specs = param_specs(&espcn(Bits::B4)).expect("specs");
        assert_eq!(specs.len(), 3);
        assert!(
            matches!(specs[1].1, ParamSpec::Conv { shape, bits: Bits::B4 } if shape.cin == 64 && shape.cout == 32)
        );
        let sup =
            crate::arch::supernet(crate::arch::SearchSpace::BasicB, crate::arch::Residual::Adq);
        assert!(matches!(
            param_specs(&sup),
            Err(ModelError::NotExecutable { .. })
        ));
    }

    #[test]
    fn check_params_names_the_problem() {
        let spec = ParamSpec::Conv {
            shape: ConvShape::square(1, 2, 1),
            bits: Bits::B4,
        };
        let ok = NodeParams::Conv(ConvParams::Quantized {
            bits: Bits::B4,
            codes: vec![1, -8],
            weight_steps: vec![0.1, 0.2],
            act_step: 0.2,
        });
        assert_eq!(check_params("c", &spec, &ok), Ok(()));
        let mut bad = ok.clone();
        if let NodeParams::Conv(ConvParams::Quantized { codes, .. }) = &mut bad {
            codes[1] = 9;
        }
        assert!(matches!(
            check_params("c", &spec, &bad),
            Err(ModelError::CodeRange {
                index: 1,
                code: 9,
                ..
            })
        ));
        let float = NodeParams::Conv(ConvParams::Float {
            weights: vec![0.0; 2],
        });
        assert!(matches!(
            check_params("c", &spec, &float),
            Err(ModelError::Shape {
                what: "bit width",
                ..
            })
        ));
        let adq = NodeParams::Adq {
            gamma: f32::NAN,
            beta: 0.0,
        };
        assert!(matches!(
            check_params("a", &ParamSpec::Adq, &adq),
            Err(ModelError::BadValue { .. })
        ));
        assert!(matches!(
            check_params("a", &spec, &adq),
            Err(ModelError::RecordKind { .. })
        ));
    }
}
