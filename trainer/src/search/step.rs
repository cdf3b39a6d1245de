//! One search iteration (spec §6): an alpha step on an alpha batch, then a weight step on
//! a weight batch, first-order only.
//!
//! Alpha step: L(α) = L1 + η·L_hw + μ·L_e, Adam (lr 3e-4, β (0.5, 0.999), no weight decay);
//! the supernet weights are frozen for it (no weight gradients are computed).
//! Weight step: L1, Adam (cosine lr, weight decay 3e-8), global gradient-norm clip 5; the
//! alphas enter as constants.

use anyhow::{Result, bail};
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};

use super::alphas::Alphas;
use super::bitmixer::MixContext;
use super::penalty::BitOpsPenalty;
use super::supernet::Supernet;
use crate::data::Batch;
use crate::train::clip::clip_grad_norm;
use crate::train::step::batch_tensors;

/// What one iteration measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct IterStats {
    /// L1 of the alpha batch.
    pub alpha_l1: f32,
    /// L_hw = F(α)/F0.
    pub hw: f32,
    /// Σ entropies.
    pub entropy: f32,
    /// Total alpha loss.
    pub alpha_loss: f32,
    /// L1 of the weight batch.
    pub weight_l1: f32,
    /// Weight gradient norm before clipping.
    pub grad_norm: f32,
}

/// Hyper-parameters of one iteration that change over the run.
#[derive(Clone, Copy, Debug)]
pub struct IterParams {
    /// Alpha learning rate.
    pub alpha_lr: f64,
    /// Weight learning rate (after the cosine schedule).
    pub weight_lr: f64,
    /// BitOps penalty η.
    pub eta: f64,
    /// Entropy weight μ(t).
    pub mu: f64,
    /// Weight gradient-norm clip.
    pub grad_clip: f32,
}

/// Supernet, alphas and their optimisers on an autodiff device.
pub struct SearchLearner {
    /// Supernet weights.
    pub net: Supernet,
    /// Architecture parameters.
    pub alphas: Alphas,
    /// Adam of the weights.
    pub weight_optim: ModuleOptimizer,
    /// Adam of the alphas.
    pub alpha_optim: ModuleOptimizer,
    /// Mixing.
    pub ctx: MixContext,
    /// BitOps penalty.
    pub penalty: BitOpsPenalty,
    /// Autodiff device.
    pub device: Device,
}

/// The weights' Adam (spec §6).
pub fn weight_adam() -> ModuleOptimizer {
    AdamConfig::new()
        .with_epsilon(1e-8)
        .with_weight_decay(Some(WeightDecayConfig::new(3e-8)))
        .init()
}

/// The alphas' Adam (spec §6).
pub fn alpha_adam() -> ModuleOptimizer {
    AdamConfig::new()
        .with_beta_1(0.5)
        .with_beta_2(0.999)
        .with_epsilon(1e-8)
        .init()
}

fn scalar(t: Tensor<1>) -> f32 {
    t.into_scalar::<f32>()
}

impl SearchLearner {
    /// One alpha step then one weight step.
    ///
    /// # Errors
    /// A non-finite loss or gradient; the learner keeps its previous state.
    pub fn iterate(
        &mut self,
        alpha_batch: &Batch,
        weight_batch: &Batch,
        p: IterParams,
    ) -> Result<IterStats> {
        let mut s = IterStats::default();
        // Alpha step: weights frozen, noise on (SAN trains alphas under noise).
        let (x, y) = batch_tensors(alpha_batch, &self.device);
        let frozen = self.net.clone().no_grad();
        let probs = self.alphas.probs();
        let out = frozen.forward(x, &probs, &self.ctx);
        let l1 = (out - y).abs().mean();
        let hw = self.penalty.loss(&probs, &self.device);
        let ent = self.alphas.entropy();
        let loss = l1.clone() + hw.clone().mul_scalar(p.eta) + ent.clone().mul_scalar(p.mu);
        s.alpha_l1 = scalar(l1);
        s.hw = scalar(hw);
        s.entropy = scalar(ent);
        s.alpha_loss = scalar(loss.clone());
        if !s.alpha_loss.is_finite() {
            bail!(
                "the alpha loss became {} (L1 {}, BitOps term {}, entropy {})",
                s.alpha_loss,
                s.alpha_l1,
                s.hw,
                s.entropy
            );
        }
        let grads = GradientsParams::from_grads(loss.backward(), &self.alphas);
        self.alphas = self
            .alpha_optim
            .step(p.alpha_lr, self.alphas.clone(), grads);

        // Weight step: alphas as constants.
        let (x, y) = batch_tensors(weight_batch, &self.device);
        let probs: Vec<Tensor<1>> = self
            .alphas
            .probs()
            .into_iter()
            .map(Tensor::detach)
            .collect();
        let out = self.net.forward(x, &probs, &self.ctx);
        let l1 = (out - y).abs().mean();
        s.weight_l1 = scalar(l1.clone());
        if !s.weight_l1.is_finite() {
            bail!("the weight loss became {}", s.weight_l1);
        }
        let mut grads = GradientsParams::from_grads(l1.backward(), &self.net);
        s.grad_norm = clip_grad_norm(&self.net, &mut grads, p.grad_clip);
        if !s.grad_norm.is_finite() {
            bail!(
                "the weight gradient norm became {} (loss {})",
                s.grad_norm,
                s.weight_l1
            );
        }
        self.net = self.weight_optim.step(p.weight_lr, self.net.clone(), grads);
        Ok(s)
    }
}

#[cfg(test)]
mod dbg_tests {
    use burn::module::Module;
    use burn::nn::BatchNormConfig;
    use burn::tensor::{Device, Distribution, Tensor};

    #[test]
    fn dbg_no_grad_clone_freezes_lazy_original() {
        let d = Device::flex().autodiff();
        let bn = BatchNormConfig::new(2).init(&d);
        eprintln!(
            "before: init={} req={}",
            bn.gamma.is_initialized(),
            bn.gamma.is_require_grad()
        );
        let frozen = bn.clone().no_grad();
        let x = Tensor::<4>::random([2, 2, 3, 3], Distribution::Default, &d);
        let _ = frozen.forward(x);
        eprintln!(
            "after: init={} req={} val.req={}",
            bn.gamma.is_initialized(),
            bn.gamma.is_require_grad(),
            bn.gamma.val().is_require_grad()
        );
        let bn2 = BatchNormConfig::new(2).init(&d);
        let _ = bn2.gamma.val();
        let frozen2 = bn2.clone().no_grad();
        let x = Tensor::<4>::random([2, 2, 3, 3], Distribution::Default, &d);
        let _ = frozen2.forward(x);
        eprintln!(
            "materialized first: req={} val.req={}",
            bn2.gamma.is_require_grad(),
            bn2.gamma.val().is_require_grad()
        );
    }
}
