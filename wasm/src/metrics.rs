//! PSNR/SSIM of a result against its ground truth, as the SR benchmarks compute them.

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use quantnas_core::arch::SCALE;
use quantnas_core::metrics::score_sr;

use crate::error::{Failure, fail};
use crate::image::Image;

/// Y-PSNR (dB) and SSIM of one image (spec §7).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// PSNR in dB; infinite for a perfect reconstruction.
    pub psnr: f64,
    /// Mean SSIM, at most 1.
    pub ssim: f64,
}

/// Scores `sr` against the ground truth `hr` with core's `score_sr`: ×4 border crop, Y
/// channel, or gray values when `hr` is gray (R = G = B everywhere).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn score(sr: &Image, hr: &Image) -> Result<Score, Failure> {
    let s = score_sr(&sr.rgb, &hr.rgb, hr.is_gray(), SCALE).map_err(fail)?;
    Ok(Score {
        psnr: s.psnr,
        ssim: s.ssim,
    })
}

#[cfg(all(test, not(target_family = "wasm")))] // they read `Error` values; wasm runs tests/*
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn identical_images_score_infinite_psnr() {
        let rgba: Vec<u8> = (0..32 * 32 * 4).map(|i| (i * 7 % 251) as u8).collect();
        let a = Image::from_rgba(&rgba, 32, 32).unwrap();
        let s = score(&a, &a).unwrap();
        assert_eq!(s.psnr, f64::INFINITY);
        assert!((s.ssim - 1.0).abs() < 1e-12);
        let small = Image::from_rgba(&rgba[..16 * 16 * 4], 16, 16).unwrap();
        let e = score(&small, &a).unwrap_err();
        assert_eq!(e.to_string(), "image sizes differ: 16x16 vs 32x32");
    }
}
