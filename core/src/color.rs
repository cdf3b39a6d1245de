//! BT.601 colour conversions as MATLAB `rgb2ycbcr` / `ycbcr2rgb` define them (spec §7).
//!
//! With R, G, B in [0, 1]:
//!
//! ```text
//! Y  =  16 + 65.481 R + 128.553 G +  24.966 B     (in [16, 235])
//! Cb = 128 − 37.797 R −  74.203 G + 112.000 B     (in [16, 240])
//! Cr = 128 + 112.000 R −  93.786 G −  18.214 B     (in [16, 240])
//! ```
//!
//! SR papers report PSNR/SSIM on this Y, unrounded.

use alloc::vec::Vec;

use crate::image::RgbImage8;

/// Offsets added to (Y, Cb, Cr).
const OFFSET: [f64; 3] = [16.0, 128.0, 128.0];

/// Rows of the RGB ([0, 1]) → YCbCr (0..255 scale) matrix.
const RGB_TO_YCBCR: [[f64; 3]; 3] = [
    [65.481, 128.553, 24.966],
    [-37.797, -74.203, 112.0],
    [112.0, -93.786, -18.214],
];

/// Converts RGB in [0, 1] to (Y, Cb, Cr) on the 0..255 scale (MATLAB `rgb2ycbcr` on a
/// `double` image, times 255).
pub fn rgb_to_ycbcr(rgb: [f64; 3]) -> [f64; 3] {
    let mut out = OFFSET;
    for (o, row) in out.iter_mut().zip(RGB_TO_YCBCR) {
        *o += row[0] * rgb[0] + row[1] * rgb[1] + row[2] * rgb[2];
    }
    out
}

/// Converts (Y, Cb, Cr) on the 0..255 scale back to RGB in [0, 1] (the exact inverse of
/// [`rgb_to_ycbcr`], MATLAB `ycbcr2rgb`). The result is not clamped.
pub fn ycbcr_to_rgb(ycbcr: [f64; 3]) -> [f64; 3] {
    let m = RGB_TO_YCBCR;
    let v = [
        ycbcr[0] - OFFSET[0],
        ycbcr[1] - OFFSET[1],
        ycbcr[2] - OFFSET[2],
    ];
    // Cramer's rule: rgb = adj(M) v / det(M), with adj(M) the transposed cofactors.
    let cof = |r: usize, c: usize| {
        let (r0, r1) = ((r + 1) % 3, (r + 2) % 3);
        let (c0, c1) = ((c + 1) % 3, (c + 2) % 3);
        m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0]
    };
    let det = m[0][0] * cof(0, 0) + m[0][1] * cof(0, 1) + m[0][2] * cof(0, 2);
    let mut rgb = [0.0; 3];
    for (i, out) in rgb.iter_mut().enumerate() {
        *out = (cof(0, i) * v[0] + cof(1, i) * v[1] + cof(2, i) * v[2]) / det;
    }
    rgb
}

/// The Y (luma) of every pixel of an 8-bit image, row-major, unrounded, in [16, 235].
pub fn y_channel(img: &RgbImage8) -> Vec<f64> {
    img.data
        .chunks_exact(3)
        .map(|p| {
            let rgb = [p[0], p[1], p[2]].map(|v| f64::from(v) / 255.0);
            rgb_to_ycbcr(rgb)[0]
        })
        .collect()
}

/// Full-range luma `0.299 R + 0.587 G + 0.114 B` of every pixel, on the 0..255 scale.
/// Equals the gray value exactly when R = G = B; used to score outputs against a
/// grayscale ground truth (spec §7), so that a perfect gray output scores an infinite PSNR
/// and an SSIM of exactly 1.
pub fn luma_full(img: &RgbImage8) -> Vec<f64> {
    img.data
        .chunks_exact(3)
        .map(|p| {
            let [r, g, b] = [p[0], p[1], p[2]].map(f64::from);
            // The weights sum to 1, so this is the same sum written around R: it is R
            // itself when G − R = B − R = 0 (the plain sum is off by an ulp for 65 of the
            // 256 grays, e.g. 8 → 7.999999999999999, found by fuzzing `score`).
            r + 0.587 * (g - r) + 0.114 * (b - r)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use alloc::vec;

    fn close3(a: [f64; 3], b: [f64; 3], tol: f64) -> bool {
        a.iter().zip(b).all(|(x, y)| libm::fabs(x - y) <= tol)
    }

    #[test]
    fn known_colours() {
        // Black: the offsets. White: Y = 16 + 219 = 235, Cb = 128 + 0 = 128 (−37.797 −
        // 74.203 + 112 = 0), Cr = 128 (112 − 93.786 − 18.214 = 0). Red: the first column.
        assert!(close3(rgb_to_ycbcr([0.0; 3]), [16.0, 128.0, 128.0], 1e-12));
        assert!(close3(rgb_to_ycbcr([1.0; 3]), [235.0, 128.0, 128.0], 1e-12));
        assert!(close3(
            rgb_to_ycbcr([1.0, 0.0, 0.0]),
            [81.481, 90.203, 240.0],
            1e-12
        ));
    }

    #[test]
    fn inverse_round_trips() {
        for rgb in [[0.0; 3], [1.0; 3], [1.0, 0.0, 0.0], [0.2, 0.7, 0.4]] {
            assert!(close3(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, 1e-12));
        }
        // MATLAB's ycbcr2rgb matrix starts with 255/219 ≈ 1.1644 for Y and ≈ 1.5960 for Cr.
        let r = ycbcr_to_rgb([17.0, 128.0, 128.0]);
        assert!(libm::fabs(r[0] * 255.0 - 255.0 / 219.0) < 1e-9);
        let r = ycbcr_to_rgb([16.0, 128.0, 129.0]);
        assert!(libm::fabs(r[0] * 255.0 - 1.596_027) < 1e-6);
    }

    #[test]
    fn y_and_luma_of_an_image() {
        let img = RgbImage8::new(3, 1, vec![0, 0, 0, 255, 255, 255, 255, 0, 0]).unwrap();
        let y = y_channel(&img);
        assert!(close3([y[0], y[1], y[2]], [16.0, 235.0, 81.481], 1e-9));
        let l = luma_full(&img);
        assert!(close3(
            [l[0], l[1], l[2]],
            [0.0, 255.0, 0.299 * 255.0],
            1e-9
        ));
        let gray = RgbImage8::new(1, 1, vec![77, 77, 77]).unwrap();
        assert!(libm::fabs(luma_full(&gray)[0] - 77.0) < 1e-9);
    }
}
