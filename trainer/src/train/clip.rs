//! Global gradient-norm clipping (PyTorch's `clip_grad_norm_`): all gradients of a module
//! are scaled by `min(1, max_norm/‖g‖)` with `‖g‖` the norm over all of them together.
//! burn's own `GradientClipping::Norm` clips each parameter tensor separately.

use anyhow::Result;
use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::backend::read_scalar;

struct Ids(Vec<(ParamId, usize)>);

impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

fn sum_sq<const D: usize>(grads: &GradientsParams, id: ParamId) -> Option<Tensor<1>> {
    grads.get::<D>(id).map(|g| g.square().sum())
}

fn scale<const D: usize>(grads: &mut GradientsParams, id: ParamId, f: f32) {
    if let Some(g) = grads.remove::<D>(id) {
        grads.register::<D>(id, g.mul_scalar(f));
    }
}

/// Dispatches a rank known at run time to a const-generic function (ranks 1 to 5).
macro_rules! by_rank {
    ($rank:expr, $f:ident, $($arg:expr),*) => {
        match $rank {
            1 => $f::<1>($($arg),*),
            2 => $f::<2>($($arg),*),
            3 => $f::<3>($($arg),*),
            4 => $f::<4>($($arg),*),
            _ => $f::<5>($($arg),*),
        }
    };
}

/// The global L2 norm of `module`'s gradients in `grads`.
///
/// # Errors
/// The device failed to compute it (see [`read_scalar`]).
pub fn grad_norm<M: Module>(module: &M, grads: &GradientsParams) -> Result<f32> {
    let mut ids = Ids(Vec::new());
    module.visit(&mut ids);
    let parts: Vec<Tensor<1>> = ids
        .0
        .iter()
        .filter_map(|&(id, d)| by_rank!(d, sum_sq, grads, id))
        .collect();
    if parts.is_empty() {
        return Ok(0.0);
    }
    Ok(read_scalar(Tensor::cat(parts, 0).sum())?.sqrt())
}

/// Clips the gradients to a global norm of at most `max_norm`; returns the norm before
/// clipping (NaN or infinite if a gradient is).
///
/// # Errors
/// As [`grad_norm`].
pub fn clip_grad_norm<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f32,
) -> Result<f32> {
    let norm = grad_norm(module, grads)?;
    if norm.is_finite() && norm > max_norm {
        let f = max_norm / (norm + 1e-6);
        let mut ids = Ids(Vec::new());
        module.visit(&mut ids);
        for (id, d) in ids.0 {
            by_rank!(d, scale, grads, id, f);
        }
    }
    Ok(norm)
}
