//! Whole-image inference with a trained [`Network`] (the trainer's own evaluation
//! forward, which export parity is measured against).

use anyhow::{Context, Result};
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use quantnas_core::arch::SCALE;
use quantnas_core::image::{Planes, RgbImage8};

use super::network::Network;

/// A network in evaluation mode (running batch-norm statistics, no autodiff).
#[derive(Debug, Clone)]
pub struct Upscaler {
    model: Network,
    device: Device,
}

impl Upscaler {
    /// Evaluation copy of `model` on `device` (a plain device, e.g. `Device::flex()`).
    pub fn new(model: &Network, device: &Device) -> Self {
        Upscaler {
            model: model.valid().to_device(device),
            device: device.clone(),
        }
    }

    /// The float output of the network for planar RGB `[3, h, w]` in [0, 1]: `[3, 4h, 4w]`,
    /// not clamped.
    ///
    /// # Errors
    /// A tensor read-back failure.
    pub fn forward_planes(&self, lr: &Planes) -> Result<Planes> {
        let x = Tensor::<4>::from_data(
            TensorData::new(lr.data.clone(), [1, lr.channels, lr.height, lr.width]),
            &self.device,
        );
        let y = self.model.forward(x);
        let [_, c, h, w] = y.dims();
        let data = y
            .into_data()
            .try_into_vec::<f32>()
            .map_err(|e| anyhow::anyhow!("{e:?}"))
            .context("reading the network output")?;
        Ok(Planes::new(c, h, w, data)?)
    }

    /// Super-resolves an 8-bit image: `[0,255] → [0,1]`, network, clamp, round to 8 bits.
    ///
    /// # Errors
    /// As [`Upscaler::forward_planes`].
    pub fn upscale(&self, lr: &RgbImage8) -> Result<RgbImage8> {
        let out = self.forward_planes(&lr.to_planes())?;
        debug_assert_eq!(out.width, lr.width * SCALE);
        Ok(out.to_rgb8_rounded()?)
    }
}
