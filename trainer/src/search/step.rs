//! One search iteration (spec §6): an alpha step on an alpha batch, then a weight step on
//! a weight batch, first-order only.
//!
//! Alpha step: L(α) = L1 + η·L_hw + μ·L_e, Adam (lr 3e-4, β (0.5, 0.999), no weight decay);
//! the supernet weights are frozen for it (no weight gradients are computed).
//! Weight step: L1, Adam (cosine lr, weight decay 3e-8), global gradient-norm clip 5; the
//! alphas enter as constants.

use anyhow::{Result, bail};
use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};

use quantnas_core::arch::{Residual, SearchSpace, Slot};

use super::alphas::{Alphas, SearchBits};
use super::bitmixer::MixContext;
use super::penalty::BitOpsPenalty;
use super::supernet::Supernet;
use crate::backend::read_scalars;
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

/// A copy of `module` whose parameters take no gradient, leaving `module` itself trainable.
///
/// `module.clone().no_grad()` alone is not that: burn's clones of a parameter share its lazy
/// initialisation until it is first read (`BatchNorm`'s γ and β start lazy), and
/// `set_require_grad` on a clone of a parameter not read yet rewrites that shared pending
/// initialisation. The first read, in the frozen copy's forward, then creates one untracked
/// tensor for both, so the supernet's batch-norm γ and β got no gradient and never trained;
/// a resumed search loaded them as ordinary trainable tensors and trained them, which is how
/// resumed and uninterrupted searches came apart. Reading every parameter first initialises
/// it as configured (trainable); `no_grad` then maps the copy to values of its own.
pub fn frozen_copy<M: Module>(module: &M) -> M {
    struct Init;
    impl ModuleVisitor for Init {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    module.visit(&mut Init);
    module.clone().no_grad()
}

impl SearchLearner {
    /// A fresh learner: a supernet of `space` over the candidates of `slots` with weights
    /// seeded by `seed`, zero alphas over them and `ctx.bits`, and the BitOps penalty at
    /// `lr_size`² LR.
    ///
    /// # Errors
    /// As [`Supernet::init`] and [`BitOpsPenalty::new`].
    pub fn new(
        space: SearchSpace,
        residual: Residual,
        slots: &[Slot],
        ctx: MixContext,
        seed: u64,
        lr_size: usize,
        device: &Device,
    ) -> Result<Self> {
        let bits = SearchBits(ctx.bits.clone());
        let net = Supernet::init(space, residual, slots, &ctx, seed, device)?;
        let penalty = BitOpsPenalty::new(&net.graph, slots.len(), &bits, lr_size, lr_size)?;
        Ok(SearchLearner {
            net,
            alphas: Alphas::zeros(slots, &bits, device),
            weight_optim: weight_adam(),
            alpha_optim: alpha_adam(),
            ctx,
            penalty,
            device: device.clone(),
        })
    }

    /// One alpha step then one weight step.
    ///
    /// The six statistics are read back once, at the end (one wait for a GPU's queue per
    /// iteration); until then the new alphas and their Adam state are kept apart, so that a
    /// failed iteration changes nothing.
    ///
    /// # Errors
    /// A non-finite loss or gradient, or a failed device; the learner keeps its previous state.
    pub fn iterate(
        &mut self,
        alpha_batch: &Batch,
        weight_batch: &Batch,
        p: IterParams,
    ) -> Result<IterStats> {
        // Alpha step: weights frozen, noise on (SAN trains alphas under noise).
        let (x, y) = batch_tensors(alpha_batch, &self.device);
        let frozen = frozen_copy(&self.net);
        let probs = self.alphas.probs();
        let out = frozen.forward(x, &probs, &self.ctx);
        let alpha_l1 = (out - y).abs().mean();
        let hw = self.penalty.loss(&probs, &self.device);
        let ent = self.alphas.entropy();
        let alpha_loss =
            alpha_l1.clone() + hw.clone().mul_scalar(p.eta) + ent.clone().mul_scalar(p.mu);
        let grads = GradientsParams::from_grads(alpha_loss.backward(), &self.alphas);
        let mut alpha_optim = self.alpha_optim.clone();
        let alphas = alpha_optim.step(p.alpha_lr, self.alphas.clone(), grads);

        // Weight step: alphas as constants.
        let (x, y) = batch_tensors(weight_batch, &self.device);
        let probs: Vec<Tensor<1>> = alphas.probs().into_iter().map(Tensor::detach).collect();
        let out = self.net.forward(x, &probs, &self.ctx);
        let weight_l1 = (out - y).abs().mean();
        let mut grads = GradientsParams::from_grads(weight_l1.backward(), &self.net);
        let grad_norm = clip_grad_norm(&self.net, &mut grads, p.grad_clip, &self.device);

        let [alpha_l1, hw, entropy, alpha_loss, weight_l1, grad_norm] =
            read_scalars([alpha_l1, hw, ent, alpha_loss, weight_l1, grad_norm])?;
        let s = IterStats {
            alpha_l1,
            hw,
            entropy,
            alpha_loss,
            weight_l1,
            grad_norm,
        };
        if !s.alpha_loss.is_finite() {
            bail!(
                "the alpha loss became {} (L1 {}, BitOps term {}, entropy {})",
                s.alpha_loss,
                s.alpha_l1,
                s.hw,
                s.entropy
            );
        }
        if !s.weight_l1.is_finite() {
            bail!("the weight loss became {}", s.weight_l1);
        }
        if !s.grad_norm.is_finite() {
            bail!(
                "the weight gradient norm became {} (loss {})",
                s.grad_norm,
                s.weight_l1
            );
        }
        self.alphas = alphas;
        self.alpha_optim = alpha_optim;
        self.net = self.weight_optim.step(p.weight_lr, self.net.clone(), grads);
        Ok(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use burn::nn::BatchNormConfig;
    use burn::tensor::Distribution;

    /// A frozen copy used before the original (as the alpha step does) leaves every
    /// parameter of the original trainable, lazily initialised ones (batch norm) included.
    #[test]
    fn frozen_copy_leaves_the_original_trainable() {
        let d = Device::flex().autodiff();
        let bn = BatchNormConfig::new(2).init(&d);
        let x = Tensor::<4>::random([2, 2, 3, 3], Distribution::Default, &d).require_grad();
        let frozen = frozen_copy(&bn);
        let g = GradientsParams::from_grads(frozen.forward(x.clone()).sum().backward(), &frozen);
        assert!(g.get::<1>(frozen.gamma.id).is_none(), "the copy is frozen");
        let g = GradientsParams::from_grads(bn.forward(x).sum().backward(), &bn);
        assert!(
            g.get::<1>(bn.gamma.id).is_some(),
            "γ of the original trains"
        );
        assert!(g.get::<1>(bn.beta.id).is_some(), "β of the original trains");
    }
}
