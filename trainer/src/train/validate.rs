//! Validation during training with the benchmark protocol of `trainer eval` (spec §7):
//! LR made by MATLAB bicubic from the HR cropped to a multiple of 4, the SR output
//! rounded to 8 bits, Y-PSNR/SSIM with 4 border pixels cut.

use std::path::Path;

use anyhow::{Context, Result};
use quantnas_core::arch::SCALE;
use quantnas_core::image::RgbImage8;
use quantnas_core::metrics::score_sr;
use quantnas_core::resize::bicubic_rgb8;

use crate::imageio::load_folder;
use crate::nn::Upscaler;

/// One validation image, its LR input prepared once.
#[derive(Debug, Clone)]
pub struct ValImage {
    /// File name without extension.
    pub name: String,
    /// HR cropped to a multiple of the scale.
    pub hr: RgbImage8,
    /// Bicubic LR.
    pub lr: RgbImage8,
    /// Grayscale file (scored on gray values).
    pub gray: bool,
}

/// Loads a validation folder.
///
/// # Errors
/// A missing folder or an undecodable image.
pub fn load_val(dir: &Path) -> Result<Vec<ValImage>> {
    let images =
        load_folder(dir).with_context(|| format!("loading validation set {}", dir.display()))?;
    Ok(images
        .into_iter()
        .map(|n| {
            let hr = n.image.modcrop(SCALE);
            let lr = bicubic_rgb8(&hr, 1.0 / SCALE as f64);
            ValImage {
                name: n.name,
                hr,
                lr,
                gray: n.gray,
            }
        })
        .collect())
}

/// Mean PSNR and SSIM over the set, and the SR images.
///
/// # Errors
/// A network or scoring failure.
pub fn validate(up: &Upscaler, set: &[ValImage]) -> Result<(f64, f64, Vec<RgbImage8>)> {
    let (mut p, mut s) = (0.0, 0.0);
    let mut outs = Vec::with_capacity(set.len());
    for v in set {
        let sr = up.upscale(&v.lr)?;
        let score =
            score_sr(&sr, &v.hr, v.gray, SCALE).with_context(|| format!("scoring {}", v.name))?;
        p += score.psnr;
        s += score.ssim;
        outs.push(sr);
    }
    let n = set.len().max(1) as f64;
    Ok((p / n, s / n, outs))
}
