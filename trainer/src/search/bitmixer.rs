//! BitMixer (spec §5): one supernet slot instance, the weighted mixture of every candidate
//! op at every searched bit width.
//!
//! With p the softmax of the slot's alphas, op o gets `a_b = p[o·|B| + b]`, its scale
//! `S_o = Σ_b a_b` and the normalised bit mixture `â_b = a_b / S_o`; the slot returns
//! `Σ_o S_o · op_o(x)`. Inside op o every conv mixes its input and its weights over the
//! bit widths; how depends on the [`MixMode`]:
//!
//! - `shared` (paper eq. 4, "w/o SAN"): `x̃ = Σ â_b·HWGQ_b(x)`, `W̃ = Σ â_b·LSQ_b(W)` with
//!   one learnable LSQ step vector per bit width.
//! - `san` (paper eq. 5): `x̃ = Σ â_b·clip_b(x) + (Σ â_b·Δ_b/2)·z`,
//!   `W̃ = W + (Σ â_b·Δ_b/2)·z'`, z, z' ~ N(0, 1) drawn fresh each forward. One
//!   standard-normal draw per tensor serves every bit width (scaled by the mixed Δ/2): the
//!   noise of each width still has standard deviation Δ_b/2, and the draw, the expensive
//!   part on a CPU, happens once instead of |B| times.
//! - `independent` (paper eq. 3): as `shared` but with one weight copy per bit width.
//!
//! Without noise (validation), SAN mixes the clipped activations and uses W itself.

use crate::nn::conv::conv2d;
use burn::module::{Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use quantnas_core::arch::{Bits, ConvNode, ConvShape, MixedNode, Role};
use rand::Rng;

use super::noise::NoiseSource;
use crate::nn::qconv::{init_weights, log_param};
use crate::nn::quant::{
    NoiseFill, StraightThrough, activation_clip, in_host_memory, lsq_init_steps, lsq_weight,
    straight_through_composed, straight_through_parts,
};

/// How a slot mixes bit widths.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum MixMode {
    /// Shared weights, noise instead of quantization (SAN, paper eq. 5; the default).
    San,
    /// Shared weights, direct LSQ/HWGQ quantization mixed per bit width (paper eq. 4).
    Shared,
    /// One weight copy per bit width, directly quantized (paper eq. 3).
    Independent,
}

impl MixMode {
    /// The name on the command line and in reports (`san`, `shared`, `independent`).
    pub fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map_or_else(String::new, |v| v.get_name().to_string())
    }
}

/// Which Δ the SAN noise uses.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SanDelta {
    /// The quantizer's own step: LSQ's per-channel init rule for weights, the fixed HWGQ
    /// step for activations (this project's default).
    Step,
    /// The reference code's `(max − min)/(2^b − 1)` over the whole tensor.
    Range,
}

/// How a forward pass mixes: mode, bit widths, and whether SAN draws noise.
#[derive(Clone, Debug)]
pub struct MixContext {
    /// Mixing mode.
    pub mode: MixMode,
    /// SAN's Δ.
    pub delta: SanDelta,
    /// Searched bit widths, in alpha order.
    pub bits: Vec<Bits>,
    /// Draw SAN noise (training) or not (validation).
    pub noise: bool,
    /// Where SAN's noise comes from.
    pub rng: NoiseSource,
}

/// One conv of a candidate op, with its weights shared across bit widths (or one copy per
/// width in `independent` mode) and one LSQ step vector per width.
#[derive(Module, Debug)]
pub struct MixedConv {
    /// `[cout, cin/groups, kh, kw]`; one entry, or one per bit width (`independent`).
    pub weights: Vec<Param<Tensor<4>>>,
    /// ln of the LSQ steps `[cout]` per bit width (`None` for 32 bits); logarithms keep
    /// the steps positive under Adam, as in [`crate::nn::QConv`].
    pub log_steps: Vec<Option<Param<Tensor<1>>>>,
    /// Zero padding (rows).
    pub pad_h: usize,
    /// Zero padding (columns).
    pub pad_w: usize,
    /// Groups.
    pub groups: usize,
}

/// A candidate op: a chain of [`MixedConv`]s.
#[derive(Module, Debug)]
pub struct MixedOp {
    /// The chain.
    pub convs: Vec<MixedConv>,
}

/// A supernet slot instance.
#[derive(Module, Debug)]
pub struct BitMixer {
    /// One entry per candidate op.
    pub ops: Vec<MixedOp>,
    /// Slot (alpha) index.
    pub slot: usize,
}

fn scalar4(t: Tensor<1>) -> Tensor<4> {
    t.reshape([1, 1, 1, 1])
}

/// A stride-1 conv node of `shape` at `bits`, to reuse the child network's initialiser.
fn conv_node(shape: ConvShape, bits: Bits, m: &MixedNode, op: quantnas_core::arch::Op) -> ConvNode {
    ConvNode {
        input: m.input,
        shape,
        stride: 1,
        padding: (shape.kh / 2, shape.kw / 2),
        bits,
        role: Role::Slot { slot: m.slot, op },
    }
}

impl MixedConv {
    fn init(
        shape: ConvShape,
        node: &MixedNode,
        op: quantnas_core::arch::Op,
        ctx: &MixContext,
        rng: &mut impl Rng,
        device: &Device,
    ) -> Self {
        let copies = if ctx.mode == MixMode::Independent {
            ctx.bits.len()
        } else {
            1
        };
        let node0 = conv_node(shape, ctx.bits[0], node, op);
        let ws: Vec<Vec<f32>> = (0..copies).map(|_| init_weights(&node0, rng)).collect();
        let dims = [shape.cout, shape.cin / shape.groups, shape.kh, shape.kw];
        let steps = ctx
            .bits
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                b.is_quantized().then(|| {
                    log_param(
                        &lsq_init_steps(&ws[i.min(copies - 1)], shape.cout, b),
                        device,
                    )
                })
            })
            .collect();
        let weights = ws
            .into_iter()
            .map(|w| Param::from_data(TensorData::new(w, dims), device))
            .collect();
        MixedConv {
            weights,
            log_steps: steps,
            pad_h: shape.kh / 2,
            pad_w: shape.kw / 2,
            groups: shape.groups,
        }
    }

    fn options(&self) -> ConvOptions<2> {
        ConvOptions::new([1, 1], [self.pad_h, self.pad_w], [1, 1], self.groups)
    }

    /// The weight used at bit index `i` (shared or own copy), quantized by LSQ.
    fn lsq_at(&self, i: usize, bits: Bits) -> Tensor<4> {
        let w = self.weights[i.min(self.weights.len() - 1)].val();
        match &self.log_steps[i] {
            Some(s) => lsq_weight(w, s.val().exp(), bits),
            None => w,
        }
    }

    /// The mixed conv of `x` with bit mixture `ahat` (`[|B|]`).
    ///
    /// # Shapes
    /// `[n, cin, h, w] → [n, cout, h, w]`
    pub fn forward(&self, x: Tensor<4>, ahat: &[Tensor<1>], ctx: &MixContext) -> Tensor<4> {
        let input = SlotInput::new(x, ctx);
        self.forward_prepared(&input, ahat, ctx)
    }

    /// As [`MixedConv::forward`] on an input already prepared by [`SlotInput::new`] (shared
    /// by every op of a slot).
    pub fn forward_prepared(
        &self,
        input: &SlotInput,
        ahat: &[Tensor<1>],
        ctx: &MixContext,
    ) -> Tensor<4> {
        let (xm, wm) = self.mixed_operands(input, ahat, ctx);
        conv2d(xm, wm, self.options())
    }

    /// The mixed input x̃ and weight W̃ the conv multiplies.
    fn mixed_operands(
        &self,
        input: &SlotInput,
        ahat: &[Tensor<1>],
        ctx: &MixContext,
    ) -> (Tensor<4>, Tensor<4>) {
        let w = self.weights[0].val();
        let mut xm: Option<Tensor<4>> = None;
        let mut wm: Option<Tensor<4>> = None;
        let mut w_sigma: Option<Tensor<4>> = None;
        for (i, ((&b, a), pre)) in ctx.bits.iter().zip(ahat).zip(&input.per_bit).enumerate() {
            let a = scalar4(a.clone());
            let term = pre.clone() * a.clone();
            xm = Some(xm.map_or(term.clone(), |t| t + term));
            match ctx.mode {
                MixMode::Shared | MixMode::Independent => {
                    let wq = self.lsq_at(i, b) * a;
                    wm = Some(wm.map_or(wq.clone(), |t| t + wq));
                }
                MixMode::San if input.noisy && b.is_quantized() => {
                    // σ_W = Σ_b â_b·Δ_b/2 with Δ_b = base·factor_b: the per-tensor
                    // statistic is computed once per conv, the widths only scale it.
                    let ws = a.mul_scalar(0.5 * weight_delta_factor(b, ctx.delta));
                    w_sigma = Some(w_sigma.map_or(ws.clone(), |t| t + ws));
                }
                MixMode::San => {}
            }
        }
        let xm = xm.unwrap_or_else(|| input.raw.clone());
        let mut wm = wm.unwrap_or(w);
        if let Some(ws) = w_sigma {
            let zw: Tensor<4> = ctx.rng.normal(wm.shape(), &wm.device());
            wm = wm.clone() + zw * (weight_delta_base(&wm, ctx.delta) * ws);
        }
        (xm, wm)
    }
}

/// A conv input transformed once for every bit width, so that the ops of a slot, which
/// all read the slot input, share the work.
///
/// In `san` mode with noise the activation noise is folded in here:
/// `per_bit[b] = clip_b(x) + (Δ_b/2)·z` with one standard-normal draw z for all widths, so
/// an op's mixture `Σ â_b·per_bit[b]` is exactly eq. 5's `Σ â_b·(clip_b(x) + N_b(x))` and
/// costs an op no more than `shared` mode's `Σ â_b·HWGQ_b(x)`.
pub struct SlotInput {
    /// The input itself.
    pub raw: Tensor<4>,
    /// Per bit width: HWGQ_b(x) (`shared`, `independent`), clip_b(x) + noise (`san`); ReLU
    /// at 32 bits.
    pub per_bit: Vec<Tensor<4>>,
    /// Whether SAN noise is on (the weights then get theirs too).
    pub noisy: bool,
}

impl SlotInput {
    /// Prepares `x` for the mixing of `ctx`. On the CPU backends: one host pass over `x`
    /// for all quantized widths (see [`straight_through_parts`]), in `san` mode with noise
    /// generating the one standard-normal draw for all widths inside that pass. On a GPU, or
    /// with noise drawn on the device: the composed tensor expressions on the device
    /// (`SlotInput::composed`).
    pub fn new(x: Tensor<4>, ctx: &MixContext) -> Self {
        if in_host_memory(&x.device()) && ctx.rng.on_host() {
            Self::host_pass(x, ctx)
        } else {
            Self::composed(x, ctx)
        }
    }

    /// Whether SAN noise is on for `ctx`.
    fn noisy(ctx: &MixContext) -> bool {
        ctx.mode == MixMode::San && ctx.noise && ctx.bits.iter().any(|b| b.is_quantized())
    }

    /// The straight-through target of width `b` in `ctx` (`None` at 32 bits).
    fn target(x: &Tensor<4>, b: Bits, ctx: &MixContext) -> Option<(f32, StraightThrough)> {
        let clip = activation_clip(b)?;
        let kind = if ctx.mode == MixMode::San {
            StraightThrough::Noise {
                sigma: activation_sigma(x, b, ctx.delta),
            }
        } else {
            StraightThrough::Round {
                step: b.activation_step()?,
            }
        };
        Some((clip, kind))
    }

    /// The slot input of `x` with each quantized width's tensor from `quantized` (called
    /// once per such width, in order): ReLU at 32 bits and, in `san` mode without noise
    /// (validation), the plain clipped input.
    fn assemble(
        x: Tensor<4>,
        ctx: &MixContext,
        noisy: bool,
        mut quantized: impl FnMut(Bits) -> Tensor<4>,
    ) -> Self {
        let per_bit = ctx
            .bits
            .iter()
            .map(|&b| match activation_clip(b) {
                None => relu(x.clone()),
                Some(clip) if ctx.mode == MixMode::San && !noisy => x.clone().clamp(0.0, clip),
                Some(_) => quantized(b),
            })
            .collect();
        SlotInput {
            raw: x,
            per_bit,
            noisy,
        }
    }

    /// [`SlotInput::new`] on the CPU backends: one host pass for every width.
    fn host_pass(x: Tensor<4>, ctx: &MixContext) -> Self {
        let noisy = Self::noisy(ctx);
        let draw = noisy.then(|| ctx.rng.draw());
        let fill = |c: usize, out: &mut [f32]| {
            if let Some(d) = draw {
                d.fill(c, out);
            }
        };
        // SAN without noise mixes the plain clipped inputs: nothing to prepare.
        let mut parts = if ctx.mode == MixMode::San && !noisy {
            Vec::new()
        } else {
            let targets: Vec<(f32, StraightThrough)> = ctx
                .bits
                .iter()
                .filter_map(|&b| Self::target(&x, b, ctx))
                .collect();
            straight_through_parts(&x, &targets, noisy.then_some(&fill as NoiseFill<'_>))
        }
        .into_iter();
        let xs = x.clone();
        Self::assemble(x, ctx, noisy, |_| match parts.next() {
            // `parts` holds one entry per quantized width, in order.
            Some((m, r)) => xs.clone() * m + r,
            None => unreachable!("one part per quantized width"),
        })
    }

    /// [`SlotInput::new`] as tensor expressions on `x`'s device, the plain twin of
    /// [`SlotInput::host_pass`] (the same values and gradients bit for bit on flex,
    /// tested). The noise is `ctx.rng`'s: on the device
    /// ([`NoisePlace::Device`](super::noise::NoisePlace::Device)), or the
    /// host's draw uploaded once per slot input (the same values on every device, so a
    /// seeded search derives the same genotype). Nothing is read back from the device.
    fn composed(x: Tensor<4>, ctx: &MixContext) -> Self {
        let noisy = Self::noisy(ctx);
        let z: Option<Tensor<4>> = noisy.then(|| ctx.rng.normal(x.shape(), &x.device()));
        // `Range`'s Δ stays a device tensor here: reading it back, as the host pass does,
        // would stall a GPU's queue once per slot input.
        let range = (noisy && ctx.delta == SanDelta::Range).then(|| tensor_range(&x));
        let xs = x.clone();
        Self::assemble(x, ctx, noisy, |b| match (&range, &z, activation_clip(b)) {
            (Some(r), Some(z), Some(clip)) => {
                xs.clone().clamp(0.0, clip) + z.clone() * range_sigma(r.clone(), b)
            }
            _ => match Self::target(&xs, b, ctx) {
                Some((clip, kind)) => straight_through_composed(xs.clone(), clip, kind, z.clone()),
                None => unreachable!("a quantized width has a target"),
            },
        })
    }
}

/// SAN's noise scale Δ_b/2 for an activation tensor (no gradient).
fn activation_sigma(x: &Tensor<4>, b: Bits, delta: SanDelta) -> f32 {
    match delta {
        SanDelta::Step => b.activation_step().unwrap_or(0.0) * 0.5,
        SanDelta::Range => range_sigma(tensor_range(x), b).into_scalar::<f32>(),
    }
}

/// `max − min` over the whole of `t` as `[1, 1, 1, 1]` (no gradient).
fn tensor_range(t: &Tensor<4>) -> Tensor<4> {
    let td = t.clone().detach();
    (td.clone().max() - td.min()).reshape([1, 1, 1, 1])
}

/// `Range`'s activation σ_b = Δ_b/2 = range/(2^b − 1)/2, from [`tensor_range`].
fn range_sigma(range: Tensor<4>, b: Bits) -> Tensor<4> {
    range
        .div_scalar(b.activation_max_code() as f32)
        .mul_scalar(0.5)
}

/// The per-tensor part of SAN's weight Δ (no gradient): `mean|W_c|` per output channel
/// `[cout, 1, 1, 1]` for `Step`, `max W − min W` as `[1, 1, 1, 1]` for `Range`.
fn weight_delta_base(w: &Tensor<4>, delta: SanDelta) -> Tensor<4> {
    let wd = w.clone().detach();
    match delta {
        SanDelta::Step => {
            let [cout, ..] = wd.dims();
            wd.abs()
                .reshape([cout as i32, -1])
                .mean_dim(1)
                .reshape([cout, 1, 1, 1])
        }
        SanDelta::Range => tensor_range(&wd),
    }
}

/// The bit-width part of SAN's weight Δ_b = base·factor_b: LSQ's initialisation rule
/// `2/√q_p` (`Step`), or `1/(2^b − 1)` (`Range`).
fn weight_delta_factor(b: Bits, delta: SanDelta) -> f32 {
    match delta {
        SanDelta::Step => 2.0 / (b.weight_code_range().1 as f32).sqrt(),
        SanDelta::Range => 1.0 / b.activation_max_code() as f32,
    }
}

impl BitMixer {
    /// A mixer for supernet node `node` with weights drawn from `rng`.
    pub fn init(node: &MixedNode, ctx: &MixContext, rng: &mut impl Rng, device: &Device) -> Self {
        let ops = node
            .candidates
            .iter()
            .map(|&op| MixedOp {
                convs: op
                    .convs(node.cin, node.cout, node.width)
                    .into_iter()
                    .map(|shape| MixedConv::init(shape, node, op, ctx, rng, device))
                    .collect(),
            })
            .collect();
        BitMixer {
            ops,
            slot: node.slot,
        }
    }

    /// `Σ_o S_o · op_o(x)` for slot probabilities `p` (`[|ops|·|B|]`).
    ///
    /// # Shapes
    /// `x`: `[n, cin, h, w]` → `[n, cout, h, w]`
    pub fn forward(&self, x: Tensor<4>, p: Tensor<1>, ctx: &MixContext) -> Tensor<4> {
        let nb = ctx.bits.len();
        let input = SlotInput::new(x.clone(), ctx);
        let mut out: Option<Tensor<4>> = None;
        for (o, op) in self.ops.iter().enumerate() {
            let a = p.clone().slice(o * nb..(o + 1) * nb);
            let s = a.clone().sum();
            let ahat_all = a / s.clone();
            let ahat: Vec<Tensor<1>> = (0..nb).map(|b| ahat_all.clone().slice(b..b + 1)).collect();
            let mut convs = op.convs.iter();
            let mut y = match convs.next() {
                Some(first) => first.forward_prepared(&input, &ahat, ctx),
                None => x.clone(),
            };
            for conv in convs {
                y = conv.forward(y, &ahat, ctx);
            }
            let term = y * scalar4(s);
            out = Some(out.map_or(term.clone(), |t| t + term));
        }
        out.unwrap_or(x)
    }

    /// Weights and LSQ step of conv `j` of op `o` at bit index `i`, as plain numbers, for
    /// building the derived child network from the supernet.
    ///
    /// # Errors
    /// See [`tensor_to_vec`](crate::search::alphas::tensor_to_vec).
    pub fn conv_params(
        &self,
        o: usize,
        j: usize,
        i: usize,
    ) -> anyhow::Result<(Vec<f32>, Option<Vec<f32>>)> {
        use crate::search::alphas::tensor_to_vec;
        let c = &self.ops[o].convs[j];
        let w = tensor_to_vec(c.weights[i.min(c.weights.len() - 1)].val())?;
        let s = c.log_steps[i]
            .as_ref()
            .map(|s| tensor_to_vec(s.val().exp()))
            .transpose()?;
        Ok((w, s))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use quantnas_core::arch::Op;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn node() -> MixedNode {
        MixedNode {
            input: 0,
            slot: 0,
            cin: 3,
            cout: 6,
            width: 6,
            candidates: vec![Op::simple(3), Op::separable(3)],
        }
    }

    fn ctx(mode: MixMode, noise: bool) -> MixContext {
        ctx_with(mode, noise, SanDelta::Step)
    }

    fn ctx_with(mode: MixMode, noise: bool, delta: SanDelta) -> MixContext {
        MixContext {
            mode,
            delta,
            bits: vec![Bits::B4, Bits::B8],
            noise,
            rng: NoiseSource::new(3),
        }
    }

    fn vec4(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    /// The GPU form of a slot input (tensor expressions, the noise uploaded) against the
    /// CPU's host pass, on flex: every mode, values and gradients bit for bit.
    #[test]
    fn composed_slot_input_equals_the_host_pass() {
        let d = Device::flex().autodiff();
        let xs: Vec<f32> = (0..2 * 3 * 40 * 37)
            .map(|i| (i as f32 * 0.618_034).sin() * 9.0 + 0.4)
            .collect();
        for (mode, noise, delta) in [
            (MixMode::San, true, SanDelta::Step),
            (MixMode::San, true, SanDelta::Range),
            (MixMode::San, false, SanDelta::Step),
            (MixMode::Shared, false, SanDelta::Step),
            (MixMode::Independent, false, SanDelta::Step),
        ] {
            let run = |prepare: fn(Tensor<4>, &MixContext) -> SlotInput| {
                let c = ctx_with(mode, noise, delta);
                let x = Tensor::<4>::from_data(TensorData::new(xs.clone(), [2, 3, 40, 37]), &d)
                    .require_grad();
                let input = prepare(x.clone(), &c);
                assert_eq!(input.noisy, noise);
                let values: Vec<Vec<f32>> = input
                    .per_bit
                    .iter()
                    .map(|t| vec4(t.clone().detach()))
                    .collect();
                // Weighted so that each width's gradient counts apart.
                let loss = input
                    .per_bit
                    .into_iter()
                    .enumerate()
                    .map(|(i, t)| t.mul_scalar(i as f32 + 1.0).sum())
                    .reduce(|a, b| a + b)
                    .unwrap();
                let grad = vec4(x.grad(&loss.backward()).unwrap());
                (values, grad)
            };
            let (host, host_grad) = run(SlotInput::host_pass);
            let (composed, composed_grad) = run(SlotInput::composed);
            for (b, (h, c)) in host.iter().zip(&composed).enumerate() {
                let same = h
                    .iter()
                    .zip(c)
                    .all(|(a, b)| a.to_bits() == b.to_bits() || a == b);
                assert!(same, "{mode:?} noise {noise} {delta:?}: width {b} differs");
            }
            assert_eq!(
                host_grad, composed_grad,
                "{mode:?} noise {noise} {delta:?}: gradients"
            );
        }
    }

    #[test]
    fn san_noise_has_half_step_deviation_and_none_in_eval() {
        let d = Device::flex();
        d.seed(3);
        let c = ctx(MixMode::San, true);
        let m = BitMixer::init(&node(), &c, &mut StdRng::seed_from_u64(1), &d);
        let conv = &m.ops[0].convs[0];
        // All mixture weight on 8 bits: activation noise has σ = step_8/2.
        let one = |v: f32| Tensor::<1>::from_floats([v], &d);
        let ahat = [one(0.0), one(1.0)];
        let x = Tensor::<4>::full([4, 3, 32, 32], 1.0, &d);
        let (xm, _) = conv.mixed_operands(&SlotInput::new(x.clone(), &c), &ahat, &c);
        let v = vec4(xm);
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        let sd = (v.iter().map(|t| (t - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt();
        let want = Bits::B8.activation_step().unwrap() / 2.0;
        assert!((mean - 1.0).abs() < 0.01 * want * 10.0, "{mean}");
        assert!((sd / want - 1.0).abs() < 0.05, "sd {sd} vs {want}");
        // Weight noise: per-channel σ = Δ_c/2 = mean|W_c|/√q_p.
        let (_, wm) = conv.mixed_operands(&SlotInput::new(x.clone(), &c), &ahat, &c);
        let w = conv.weights[0].val();
        let diff = vec4(wm - w.clone());
        let wv = vec4(w);
        let per = diff.len() / 6;
        let mut ratio = 0.0;
        for ch in 0..6 {
            let d = &diff[ch * per..(ch + 1) * per];
            let sd = (d.iter().map(|t| t * t).sum::<f32>() / per as f32).sqrt();
            let mean_abs = wv[ch * per..(ch + 1) * per]
                .iter()
                .map(|t| t.abs())
                .sum::<f32>()
                / per as f32;
            ratio += sd / (mean_abs / 127f32.sqrt()) / 6.0;
        }
        // 27 weights per channel: a loose but discriminating bound on the average ratio.
        assert!((ratio - 1.0).abs() < 0.25, "{ratio}");
        // No noise in evaluation: the clipped input and W themselves.
        let e = ctx(MixMode::San, false);
        let (xe, we) = conv.mixed_operands(&SlotInput::new(x, &e), &ahat, &e);
        assert!(vec4(xe).iter().all(|&t| (t - 1.0).abs() < 1e-6));
        assert_eq!(vec4(we), wv);
    }

    #[test]
    fn one_hot_mixture_is_the_chosen_quantized_op() {
        let d = Device::flex();
        let c = ctx(MixMode::Shared, false);
        let n = node();
        let m = BitMixer::init(&n, &c, &mut StdRng::seed_from_u64(2), &d);
        let x = Tensor::<4>::random(
            [1, 3, 7, 5],
            burn::tensor::Distribution::Uniform(0.0, 1.0),
            &d,
        );
        // p one-hot on (op 1 = conv_3x1_1x3, 4 bits) = index 2.
        let p = Tensor::<1>::from_floats([0.0, 0.0, 1.0, 0.0], &d);
        let y = m.forward(x.clone(), p, &c);
        let mut want = x;
        for (j, shape) in Op::separable(3).convs(3, 6, 6).into_iter().enumerate() {
            let (w, s) = m.conv_params(1, j, 0).unwrap();
            let mut q = crate::nn::QConv::from_weights(
                &conv_node(shape, Bits::B4, &n, Op::separable(3)),
                w,
                &d,
            );
            if let Some(s) = s {
                q.set_steps(&s, &d);
            }
            want = q.forward(want);
        }
        let (a, b) = (vec4(y), vec4(want));
        let max = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(max < 1e-5, "{max}");
    }
}
