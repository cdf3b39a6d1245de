//! Global gradient-norm clipping (PyTorch's `clip_grad_norm_`): all gradients of a module
//! are scaled by `min(1, max_norm/‖g‖)` with `‖g‖` the norm over all of them together.
//! burn's own `GradientClipping::Norm` clips each parameter tensor separately.
//!
//! The norm and the clipping factor stay on the gradients' device: deciding on the host
//! would read the norm back and stall a GPU's queue in the middle of every step.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Tensor};

struct Ids(Vec<(ParamId, usize)>);

impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

fn ids<M: Module>(module: &M) -> Vec<(ParamId, usize)> {
    let mut ids = Ids(Vec::new());
    module.visit(&mut ids);
    ids.0
}

fn sum_sq<const D: usize>(grads: &GradientsParams, id: ParamId) -> Option<Tensor<1>> {
    grads.get::<D>(id).map(|g| g.square().sum())
}

fn scale<const D: usize>(grads: &mut GradientsParams, id: ParamId, f: &Tensor<1>) {
    if let Some(g) = grads.remove::<D>(id) {
        grads.register::<D>(id, g * f.clone().reshape([1; D]));
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

/// The global L2 norm of `module`'s gradients in `grads`, `[1]` on `device` (0 without
/// gradients).
pub fn grad_norm<M: Module>(module: &M, grads: &GradientsParams, device: &Device) -> Tensor<1> {
    let parts: Vec<Tensor<1>> = ids(module)
        .into_iter()
        .filter_map(|(id, d)| by_rank!(d, sum_sq, grads, id))
        .collect();
    if parts.is_empty() {
        return Tensor::zeros([1], device);
    }
    Tensor::cat(parts, 0).sum().sqrt()
}

/// Clips the gradients to a global norm of at most `max_norm`; returns the norm before
/// clipping, `[1]` (NaN or infinite if a gradient is: the caller must then discard the
/// gradients, which are not clipped meaningfully).
///
/// Below the limit every gradient is multiplied by exactly 1, so the values are those of
/// not clipping at all, bit for bit.
pub fn clip_grad_norm<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f32,
    device: &Device,
) -> Tensor<1> {
    let norm = grad_norm(module, grads, device);
    let over = norm.clone().greater_elem(max_norm);
    // The host's `max_norm / (norm + 1e-6)` as one f32 division, as before this moved here.
    let ratio = Tensor::<1>::full([1], max_norm, device) / norm.clone().add_scalar(1e-6);
    let f = Tensor::<1>::ones([1], device).mask_where(over, ratio);
    for (id, d) in ids(module) {
        by_rank!(d, scale, grads, id, &f);
    }
    norm
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::TensorData;

    fn grads_of(lin: &Linear, x: &Tensor<2>, k: f32) -> GradientsParams {
        GradientsParams::from_grads(lin.forward(x.clone()).mul_scalar(k).sum().backward(), lin)
    }

    fn flat(lin: &Linear, grads: &GradientsParams) -> Vec<f32> {
        let w = grads.get::<2>(lin.weight.id).unwrap().into_data();
        let b = grads
            .get::<1>(lin.bias.as_ref().unwrap().id)
            .unwrap()
            .into_data();
        let mut v = w.try_to_vec::<f32>().unwrap();
        v.extend(b.try_to_vec::<f32>().unwrap());
        v
    }

    /// The norm is over all tensors together; above the limit every gradient shrinks by one
    /// factor to the limit, below it nothing changes, bit for bit.
    #[test]
    fn clipping_scales_all_gradients_to_the_limit_or_leaves_them_alone() {
        let d = Device::flex().autodiff();
        let lin = LinearConfig::new(3, 2).init(&d);
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.5f32, -1.0, 2.0], [1, 3]), &d);
        let plain = flat(&lin, &grads_of(&lin, &x, 3.0));
        let norm = plain.iter().map(|g| g * g).sum::<f32>().sqrt();

        let mut grads = grads_of(&lin, &x, 3.0);
        let got = clip_grad_norm(&lin, &mut grads, norm * 2.0, &d);
        assert!((got.into_scalar::<f32>() - norm).abs() < 1e-5 * norm);
        assert_eq!(flat(&lin, &grads), plain, "below the limit: untouched");

        let mut grads = grads_of(&lin, &x, 3.0);
        let _ = clip_grad_norm(&lin, &mut grads, norm / 4.0, &d);
        let clipped = flat(&lin, &grads);
        let clipped_norm = clipped.iter().map(|g| g * g).sum::<f32>().sqrt();
        assert!(
            (clipped_norm - norm / 4.0).abs() < 1e-4 * norm,
            "{clipped_norm}"
        );
        for (c, p) in clipped.iter().zip(&plain) {
            assert!(
                (c * 4.0 - p).abs() <= 1e-5 * p.abs().max(1.0),
                "one factor for all"
            );
        }
    }

    #[test]
    fn a_module_without_gradients_has_norm_zero() {
        let d = Device::flex().autodiff();
        let lin = LinearConfig::new(3, 2).init(&d);
        let mut grads = GradientsParams::new();
        let n = clip_grad_norm(&lin, &mut grads, 1.0, &d);
        assert_eq!(n.into_scalar::<f32>(), 0.0);
    }
}
