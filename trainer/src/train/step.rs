//! One optimisation step: forward, L1 loss on RGB, backward, global-norm clipping, Adam.

use anyhow::{Result, bail};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};

use super::clip::clip_grad_norm;
use crate::backend::read_scalars;
use crate::data::Batch;
use crate::nn::Network;

/// What a step measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepStats {
    /// Mean absolute error of the batch (before the update).
    pub loss: f32,
    /// Global gradient norm before clipping.
    pub grad_norm: f32,
}

/// A network and its optimiser on a training (autodiff) device.
pub struct Learner {
    /// The network.
    pub model: Network,
    /// Adam state.
    pub optim: ModuleOptimizer,
    /// The autodiff device.
    pub device: Device,
    /// Global gradient-norm clip.
    pub grad_clip: f32,
}

/// Adam as the spec uses it (β = 0.9, 0.999, ε = 1e-8, no weight decay).
pub fn adam() -> ModuleOptimizer {
    AdamConfig::new().with_epsilon(1e-8).init()
}

/// Batch tensors on `device`.
///
/// # Shapes
/// `lr`: `[n, 3, h, w]`, `hr`: `[n, 3, 4h, 4w]`
pub fn batch_tensors(batch: &Batch, device: &Device) -> (Tensor<4>, Tensor<4>) {
    let (n, l, h) = (batch.n, batch.lr_size, batch.hr_size);
    let x = Tensor::<4>::from_data(TensorData::new(batch.lr.clone(), [n, 3, l, l]), device);
    let y = Tensor::<4>::from_data(TensorData::new(batch.hr.clone(), [n, 3, h, h]), device);
    (x, y)
}

impl Learner {
    /// Wraps a network (already on `device`) with a fresh Adam.
    pub fn new(model: Network, device: Device, grad_clip: f32) -> Self {
        Learner {
            model,
            optim: adam(),
            device,
            grad_clip,
        }
    }

    /// One step at learning rate `lr`.
    ///
    /// # Errors
    /// A non-finite loss or gradient norm; the model is then left as it was before the step.
    pub fn step(&mut self, batch: &Batch, lr: f64) -> Result<StepStats> {
        let (x, y) = batch_tensors(batch, &self.device);
        let out = self.model.forward(x);
        let loss = (out - y).abs().mean();
        let grads = loss.clone().backward();
        let mut grads = GradientsParams::from_grads(grads, &self.model);
        let norm = clip_grad_norm(&self.model, &mut grads, self.grad_clip, &self.device);
        // One read for both (one wait for a GPU's queue per step).
        let [loss_v, norm] = read_scalars([loss, norm])?;
        if !loss_v.is_finite() {
            bail!("the loss became {loss_v}");
        }
        if !norm.is_finite() {
            bail!("the gradient norm became {norm} (loss {loss_v})");
        }
        self.model = self.optim.step(lr, self.model.clone(), grads);
        Ok(StepStats {
            loss: loss_v,
            grad_norm: norm,
        })
    }
}
