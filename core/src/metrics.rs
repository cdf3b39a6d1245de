//! Image-quality metrics of the SR benchmarks (spec §7): PSNR and SSIM on the luma of
//! 8-bit images, with `scale` pixels cropped at every border.
//!
//! - PSNR: `10 log10(255² / MSE)` over the cropped region.
//! - SSIM (Wang et al. 2004): 11×11 Gaussian window with σ = 1.5 normalised to sum 1,
//!   `C1 = (0.01·255)²`, `C2 = (0.03·255)²`, local statistics filtered 'valid' (no
//!   padding) over the cropped image, and the mean of the SSIM map.
//!
//! Luma planes are row-major `f64` slices of `width * height` values on the 0..255 scale.

use alloc::vec;
use alloc::vec::Vec;

use crate::color::{luma_full, y_channel};
use crate::image::{ImageError, RgbImage8};

/// Peak signal value of 8-bit images.
const PEAK: f64 = 255.0;
/// Side of the SSIM window.
const WINDOW: usize = 11;
/// Standard deviation of the SSIM window, in pixels.
const SIGMA: f64 = 1.5;
/// SSIM stabiliser constants, relative to the peak.
const K1: f64 = 0.01;
const K2: f64 = 0.03;

/// The cropped region `[crop, height − crop) × [crop, width − crop)`, or `None` when the
/// slices do not hold `width * height` values or nothing is left after cropping.
fn region(
    a: &[f64],
    b: &[f64],
    width: usize,
    height: usize,
    crop: usize,
) -> Option<(usize, usize)> {
    let n = width.checked_mul(height)?;
    if a.len() != n || b.len() != n || 2 * crop >= width || 2 * crop >= height {
        return None;
    }
    Some((width - 2 * crop, height - 2 * crop))
}

/// PSNR in dB (peak 255) between two planes of `width * height` values, ignoring `crop`
/// pixels at each border.
///
/// Identical regions give `f64::INFINITY`. The result is NaN only when the input is
/// unusable: a slice whose length is not `width * height`, or no pixel left after
/// cropping. This function never panics.
pub fn psnr(a: &[f64], b: &[f64], width: usize, height: usize, crop: usize) -> f64 {
    let Some((w, h)) = region(a, b, width, height, crop) else {
        return f64::NAN;
    };
    let mut sum = 0.0;
    for y in crop..crop + h {
        let row = y * width;
        for x in crop..crop + w {
            let d = a[row + x] - b[row + x];
            sum += d * d;
        }
    }
    let mse = sum / (w * h) as f64;
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * libm::log10(PEAK * PEAK / mse)
}

/// The normalised 1-D Gaussian; the 2-D window is its outer product (which is also
/// normalised, since the sum of the product is the square of the sum).
fn gaussian() -> [f64; WINDOW] {
    let mut g = [0.0; WINDOW];
    let half = (WINDOW / 2) as f64;
    for (i, v) in g.iter_mut().enumerate() {
        let x = i as f64 - half;
        *v = libm::exp(-(x * x) / (2.0 * SIGMA * SIGMA));
    }
    let sum: f64 = g.iter().sum();
    g.map(|v| v / sum)
}

/// 'valid' separable filtering of a `w x h` plane: output `(w − 10) x (h − 10)`.
fn filter_valid(src: &[f64], w: usize, h: usize, g: &[f64; WINDOW]) -> Vec<f64> {
    let ow = w - (WINDOW - 1);
    let oh = h - (WINDOW - 1);
    // Horizontal pass: h rows of ow values.
    let mut tmp = vec![0.0; h * ow];
    for y in 0..h {
        let line = &src[y * w..(y + 1) * w];
        for x in 0..ow {
            tmp[y * ow + x] = g.iter().zip(&line[x..x + WINDOW]).map(|(k, v)| k * v).sum();
        }
    }
    // Vertical pass.
    let mut out = vec![0.0; oh * ow];
    for y in 0..oh {
        let dst = &mut out[y * ow..(y + 1) * ow];
        for (k, &gk) in g.iter().enumerate() {
            let line = &tmp[(y + k) * ow..(y + k + 1) * ow];
            for (d, &v) in dst.iter_mut().zip(line) {
                *d += gk * v;
            }
        }
    }
    out
}

/// Mean SSIM (Wang et al.) between two planes of `width * height` values on the 0..255
/// scale, after cropping `crop` pixels at each border.
///
/// Identical regions give exactly 1. The result is NaN only when the input is unusable:
/// a slice whose length is not `width * height`, or a cropped region smaller than the
/// 11×11 window. This function never panics.
pub fn ssim(a: &[f64], b: &[f64], width: usize, height: usize, crop: usize) -> f64 {
    let Some((w, h)) = region(a, b, width, height, crop) else {
        return f64::NAN;
    };
    if w < WINDOW || h < WINDOW {
        return f64::NAN;
    }
    let n = w * h;
    let mut planes = [
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    ];
    for y in crop..crop + h {
        let row = y * width;
        for x in crop..crop + w {
            let (p, q) = (a[row + x], b[row + x]);
            planes[0].push(p);
            planes[1].push(q);
            planes[2].push(p * p);
            planes[3].push(q * q);
            planes[4].push(p * q);
        }
    }
    let g = gaussian();
    let [mu_a, mu_b, aa, bb, ab] = planes.map(|p| filter_valid(&p, w, h, &g));
    let c1 = (K1 * PEAK) * (K1 * PEAK);
    let c2 = (K2 * PEAK) * (K2 * PEAK);
    let mut total = 0.0;
    for i in 0..mu_a.len() {
        let (ma, mb) = (mu_a[i], mu_b[i]);
        let var_a = aa[i] - ma * ma;
        let var_b = bb[i] - mb * mb;
        let cov = ab[i] - ma * mb;
        let num = (2.0 * ma * mb + c1) * (2.0 * cov + c2);
        let den = (ma * ma + mb * mb + c1) * (var_a + var_b + c2);
        total += num / den;
    }
    total / mu_a.len() as f64
}

/// PSNR (dB) and SSIM of one image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// PSNR in dB; infinite for a perfect reconstruction.
    pub psnr: f64,
    /// Mean SSIM, at most 1.
    pub ssim: f64,
}

/// Smallest side an image may have to be scored with `crop` pixels cropped at every
/// border: what is left must hold one SSIM window.
pub const fn min_scored_side(crop: usize) -> usize {
    2 * crop + WINDOW
}

/// Scores a super-resolved image against its ground truth as the SR benchmarks do:
/// `scale` pixels cropped at every border, PSNR and SSIM on luma.
///
/// Colour ground truth: Y (BT.601, 16–235) of both images. Grayscale ground truth
/// (`hr_is_gray`, e.g. Set14 `bridge.png` expanded to R = G = B): the ground truth's gray
/// value (its R channel) against the full-range luma `0.299 R + 0.587 G + 0.114 B` of the
/// output.
///
/// # Errors
/// [`ImageError::SizeMismatch`] if the sizes differ, [`ImageError::TooSmall`] if less
/// than 11×11 pixels remain after cropping.
pub fn score_sr(
    sr: &RgbImage8,
    hr: &RgbImage8,
    hr_is_gray: bool,
    scale: usize,
) -> Result<Score, ImageError> {
    if sr.width != hr.width || sr.height != hr.height {
        return Err(ImageError::SizeMismatch {
            a_width: sr.width,
            a_height: sr.height,
            b_width: hr.width,
            b_height: hr.height,
        });
    }
    let (w, h) = (hr.width, hr.height);
    if w < min_scored_side(scale) || h < min_scored_side(scale) {
        return Err(ImageError::TooSmall {
            width: w,
            height: h,
            crop: scale,
            min: WINDOW,
        });
    }
    let (a, b) = if hr_is_gray {
        let gray: Vec<f64> = hr.data.chunks_exact(3).map(|p| f64::from(p[0])).collect();
        (luma_full(sr), gray)
    } else {
        (y_channel(sr), y_channel(hr))
    };
    Ok(Score {
        psnr: psnr(&a, &b, w, h, scale),
        ssim: ssim(&a, &b, w, h, scale),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use alloc::vec;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        libm::fabs(a - b) <= tol
    }

    #[test]
    fn psnr_known_values() {
        // All differences 1: MSE 1, PSNR = 20 log10(255) = 48.1308 dB.
        let a = vec![10.0; 16];
        let b = vec![11.0; 16];
        assert!(close(psnr(&a, &b, 4, 4, 0), 48.130_803_608_679_1, 1e-9));
        // Differences only in the border are cropped away.
        let mut c = a.clone();
        c[0] = 200.0;
        assert_eq!(psnr(&a, &c, 4, 4, 1), f64::INFINITY);
        // Half the 2x2 centre off by 2: MSE 2, PSNR = 10 log10(255²/2) = 45.1205 dB.
        c[5] = 12.0;
        c[6] = 8.0;
        assert!(close(psnr(&a, &c, 4, 4, 1), 45.120_503_652_015_3, 1e-9));
    }

    #[test]
    fn psnr_edge_cases() {
        let a = vec![3.0; 9];
        assert_eq!(psnr(&a, &a, 3, 3, 0), f64::INFINITY);
        assert!(psnr(&a, &a, 3, 3, 2).is_nan());
        assert!(psnr(&a, &a[..8], 3, 3, 0).is_nan());
        assert!(psnr(&a, &a, usize::MAX, 2, 0).is_nan());
    }

    #[test]
    fn window_is_normalised() {
        let g = gaussian();
        assert!(close(g.iter().sum::<f64>(), 1.0, 1e-15));
        // Centre / neighbour ratio = exp(1 / 4.5).
        assert!(close(g[5] / g[4], libm::exp(1.0 / 4.5), 1e-12));
    }

    #[test]
    fn ssim_identical_and_constant_shift() {
        let a: Vec<f64> = (0..400).map(|i| f64::from((i * 37 % 251) as u8)).collect();
        assert!(close(ssim(&a, &a, 20, 20, 2), 1.0, 1e-12));
        // Two constant images u and v: every window has zero variance and covariance, so
        // SSIM = (2uv + C1) / (u² + v² + C1) with C1 = 6.5025. For u = 100, v = 110:
        // 22006.5025 / 22106.5025 = 0.995476...
        let u = vec![100.0; 144];
        let v = vec![110.0; 144];
        let expect = 22_006.502_5 / 22_106.502_5;
        assert!(close(ssim(&u, &v, 12, 12, 0), expect, 1e-12));
        assert!(ssim(&u, &v, 12, 12, 1).is_nan());
    }

    #[test]
    fn ssim_known_pair() {
        // An 11x11 checkerboard of 0/255 against its negative: one window. With m the
        // Gaussian-weighted mean of the board, the negative has mean 255 − m; both have
        // variance s² = 255 m − m² (x² = 255 x), and the covariance is −s²
        // (E[x (255 − x)] − m (255 − m)). SSIM = (2 m m' + C1)(C2 − 2 s²) /
        // ((m² + m'² + C1)(2 s² + C2)), strongly negative.
        let board: Vec<f64> = (0..121)
            .map(|i| {
                if (i / 11 + i % 11) % 2 == 0 {
                    255.0
                } else {
                    0.0
                }
            })
            .collect();
        let neg: Vec<f64> = board.iter().map(|v| 255.0 - v).collect();
        let g = gaussian();
        let m_board: f64 = (0..121)
            .map(|i| g[i / 11] * g[i % 11] * board[i])
            .sum::<f64>();
        let m_neg = 255.0 - m_board;
        let s2 = 255.0 * m_board - m_board * m_board; // equal for both images
        let c1 = 6.5025;
        let c2 = 58.5225;
        let expect = (2.0 * m_board * m_neg + c1) * (c2 - 2.0 * s2)
            / ((m_board * m_board + m_neg * m_neg + c1) * (2.0 * s2 + c2));
        let got = ssim(&board, &neg, 11, 11, 0);
        assert!(close(got, expect, 1e-9), "{got} vs {expect}");
        assert!(got < -0.99);
    }

    #[test]
    fn score_checks_sizes_and_gray() {
        let hr = RgbImage8::new(16, 16, vec![90; 768]).unwrap();
        let small = RgbImage8::new(15, 16, vec![90; 720]).unwrap();
        assert!(matches!(
            score_sr(&small, &hr, false, 2),
            Err(ImageError::SizeMismatch { .. })
        ));
        assert!(matches!(
            score_sr(&hr, &hr, false, 3),
            Err(ImageError::TooSmall { .. })
        ));
        // A 16-pixel side is too small at crop 3 (17 needed) and enough at crop 2 (15).
        assert_eq!(min_scored_side(2), 15);
        assert_eq!(min_scored_side(3), 17);
        let s = score_sr(&hr, &hr, true, 2).unwrap();
        assert_eq!(s.psnr, f64::INFINITY);
        assert!(close(s.ssim, 1.0, 1e-12));
        // Gray ground truth 90 vs output gray 91: difference 1 on the 0..255 scale
        // (on Y it would be 219/255 per level).
        let sr = RgbImage8::new(16, 16, vec![91; 768]).unwrap();
        let gray = score_sr(&sr, &hr, true, 2).unwrap();
        assert!(close(gray.psnr, 48.130_803_608_679_1, 1e-9));
        let colour = score_sr(&sr, &hr, false, 2).unwrap();
        let expect = 10.0 * libm::log10(255.0 * 255.0 / (219.0f64 / 255.0).powi(2));
        assert!(close(colour.psnr, expect, 1e-9));
    }
}
