//! A convolution of a core [`ConvNode`] with its input activation: HWGQ (4/8 bits) or
//! ReLU (32 bits) on the input, then a bias-free conv whose weights go through the LSQ
//! quantizer (4/8 bits) or stay float (32 bits). Spec §2.1, §3.

use crate::nn::conv::conv2d;
use burn::module::{Module, Param};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, TensorData};
use quantnas_core::arch::{Bits, ConvNode};
use rand::Rng;

use super::quant::{input_activation, lsq_init_steps, lsq_weight};

/// A quantized (or full-precision) convolution.
#[derive(Module, Debug)]
pub struct QConv {
    /// Float weights `[cout, cin/groups, kh, kw]` (the LSQ latent weights when quantized).
    pub weight: Param<Tensor<4>>,
    /// Natural logarithm of the LSQ step per output channel `[cout]`; `None` at 32 bits.
    /// Read and set steps with [`QConv::steps`] and [`QConv::set_steps`].
    ///
    /// Why a logarithm: Adam's update is scale-free (about `lr` per step whatever the
    /// gradient's size, so LSQ's gradient scaling has no effect under Adam). On the step
    /// itself (≈0.005–0.02 for 8-bit ESPCN) `lr = 1e-3` makes it random-walk across zero:
    /// measured, 61 of 144 ESPCN steps were ≤ 0 after 4000 steps, and a negative step cannot
    /// be exported. On `ln s` the same update is a 0.1 % relative change and the step stays
    /// positive.
    pub log_step: Option<Param<Tensor<1>>>,
    /// Weight and activation bits (2, 3, 4, 8 or 32).
    pub bits: u32,
    /// Stride (both axes).
    pub stride: usize,
    /// Zero padding of rows.
    pub pad_h: usize,
    /// Zero padding of columns.
    pub pad_w: usize,
    /// Groups.
    pub groups: usize,
}

/// PyTorch's default conv initialisation (Kaiming uniform, a = √5): uniform in
/// `±1/√fan_in`, drawn from `rng` so that initial weights do not depend on the backend.
pub fn init_weights(node: &ConvNode, rng: &mut impl Rng) -> Vec<f32> {
    let s = node.shape;
    let fan_in = (s.cin / s.groups) * s.kh * s.kw;
    let bound = 1.0 / (fan_in as f32).sqrt();
    (0..s.weight_count())
        .map(|_| rng.random_range(-bound..bound))
        .collect()
}

/// A `[n]` parameter holding `ln` of the given (positive) steps.
pub fn log_param(steps: &[f32], device: &Device) -> Param<Tensor<1>> {
    let logs: Vec<f32> = steps
        .iter()
        .map(|s| s.max(f32::MIN_POSITIVE).ln())
        .collect();
    Param::from_data(TensorData::new(logs, [steps.len()]), device)
}

impl QConv {
    /// A conv for `node` with weights drawn from `rng` and LSQ steps set by the LSQ rule.
    pub fn init(node: &ConvNode, rng: &mut impl Rng, device: &Device) -> Self {
        let w = init_weights(node, rng);
        Self::from_weights(node, w, device)
    }

    /// A conv for `node` with the given weights (`[cout, cin/groups, kh, kw]` row-major).
    ///
    /// # Panics
    /// If the weight count does not match the node's shape.
    pub fn from_weights(node: &ConvNode, w: Vec<f32>, device: &Device) -> Self {
        let s = node.shape;
        assert_eq!(w.len(), s.weight_count(), "weights of a {s:?} conv");
        let log_step = node
            .bits
            .is_quantized()
            .then(|| log_param(&lsq_init_steps(&w, s.cout, node.bits), device));
        let weight = Param::from_data(
            TensorData::new(w, [s.cout, s.cin / s.groups, s.kh, s.kw]),
            device,
        );
        QConv {
            weight,
            log_step,
            bits: node.bits.get(),
            stride: node.stride,
            pad_h: node.padding.0,
            pad_w: node.padding.1,
            groups: s.groups,
        }
    }

    /// The layer's bit width.
    pub fn bits(&self) -> Bits {
        // `bits` is only ever set from a valid `Bits`.
        Bits::new(self.bits).unwrap_or(Bits::B32)
    }

    /// The LSQ steps `[cout]` (`exp` of [`QConv::log_step`]); `None` at 32 bits.
    pub fn steps(&self) -> Option<Tensor<1>> {
        self.log_step.as_ref().map(|p| p.val().exp())
    }

    /// Replaces the LSQ steps (each must be positive); ignored at 32 bits.
    ///
    /// # Panics
    /// If the number of steps is not the conv's output channel count.
    pub fn set_steps(&mut self, steps: &[f32], device: &Device) {
        let [cout, ..] = self.weight.val().dims();
        assert_eq!(steps.len(), cout, "one LSQ step per output channel");
        if self.log_step.is_some() {
            self.log_step = Some(log_param(steps, device));
        }
    }

    /// The weights the conv multiplies with: LSQ fake-quantized, or the float weights at
    /// 32 bits.
    ///
    /// # Shapes
    /// `[cout, cin/groups, kh, kw]`
    pub fn effective_weight(&self) -> Tensor<4> {
        match self.steps() {
            Some(step) => lsq_weight(self.weight.val(), step, self.bits()),
            None => self.weight.val(),
        }
    }

    /// Conv options (stride, padding, groups).
    pub fn options(&self) -> ConvOptions<2> {
        ConvOptions::new(
            [self.stride; 2],
            [self.pad_h, self.pad_w],
            [1, 1],
            self.groups,
        )
    }

    /// Input activation, then the conv.
    ///
    /// # Shapes
    /// `[n, cin, h, w] → [n, cout, h', w']`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let a = input_activation(x, self.bits());
        conv2d(a, self.effective_weight(), self.options())
    }
}
