//! ADQ (paper §III-B, spec §4): the residual branch is rescaled by the spread of the
//! block input, `out = branch·(γ·σ(skip) + β) + skip`, with σ the unbiased standard
//! deviation of each sample over C, H, W and γ, β learnable scalars. The batch norm in
//! front of the branch is a separate `BatchNorm` node of the graph.

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};

/// Initial γ of ADQ.
pub const ADQ_GAMMA_INIT: f32 = 1.5;
/// Initial β of ADQ.
pub const ADQ_BETA_INIT: f32 = 0.0;
/// Added to the variance before the square root so that a constant input (σ = 0) does
/// not make the gradient infinite. Negligible against real activations (variance ≥ 1e-6
/// moves σ by less than 1e-4 relative).
pub const ADQ_VAR_EPS: f32 = 1e-10;

/// The learnable scalars of one ADQ node.
#[derive(Module, Debug)]
pub struct Adq {
    /// γ, shape `[1]`.
    pub gamma: Param<Tensor<1>>,
    /// β, shape `[1]`.
    pub beta: Param<Tensor<1>>,
}

/// Per-sample unbiased standard deviation over C, H, W.
///
/// # Shapes
/// `[n, c, h, w] → [n, 1, 1, 1]`
pub fn sample_std(x: Tensor<4>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    x.reshape([n, c * h * w])
        .var(1)
        .add_scalar(ADQ_VAR_EPS)
        .sqrt()
        .reshape([n, 1, 1, 1])
}

impl Adq {
    /// γ = 1.5, β = 0.
    pub fn init(device: &Device) -> Self {
        Adq {
            gamma: Param::from_data(TensorData::new(vec![ADQ_GAMMA_INIT], [1]), device),
            beta: Param::from_data(TensorData::new(vec![ADQ_BETA_INIT], [1]), device),
        }
    }

    /// `branch·(γ·σ(skip) + β) + skip`.
    ///
    /// # Shapes
    /// `branch`, `skip`: `[n, c, h, w]`; output the same.
    pub fn forward(&self, branch: Tensor<4>, skip: Tensor<4>) -> Tensor<4> {
        let g = self.gamma.val().reshape([1, 1, 1, 1]);
        let b = self.beta.val().reshape([1, 1, 1, 1]);
        let scale = sample_std(skip.clone()) * g + b;
        branch * scale + skip
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn adq_scales_by_unbiased_std() {
        let d = Device::flex();
        let adq = Adq::init(&d);
        // Sample 0: values 0, 2 (unbiased std √2); sample 1: 1, 1 (std 0).
        let skip = Tensor::<4>::from_data(
            TensorData::new(vec![0.0f32, 2.0, 1.0, 1.0], [2, 1, 1, 2]),
            &d,
        );
        let branch = Tensor::<4>::ones([2, 1, 1, 2], &d);
        let out = adq
            .forward(branch, skip)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let s = 1.5 * 2f32.sqrt();
        let want = [s, 2.0 + s, 1.0, 1.0];
        for (o, w) in out.iter().zip(want) {
            assert!((o - w).abs() < 1e-4, "{out:?}");
        }
    }
}
