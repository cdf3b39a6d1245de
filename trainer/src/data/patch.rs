//! One training sample: a random HR crop of `lr·scale` pixels, randomly flipped and
//! rotated by a multiple of 90°, and its LR made with MATLAB-compatible bicubic (spec §7),
//! both as planar RGB in [0, 1].

use quantnas_core::image::RgbImage8;
use quantnas_core::resize::bicubic_rgb8;
use rand::Rng;

/// A dihedral transform of a square crop: optional transpose, then optional horizontal
/// and vertical flips (the 8 combinations are the flips and 90° rotations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Augment {
    /// Swap rows and columns.
    pub transpose: bool,
    /// Mirror left-right.
    pub hflip: bool,
    /// Mirror top-bottom.
    pub vflip: bool,
}

impl Augment {
    /// A uniformly random one of the 8 transforms.
    pub fn random(rng: &mut impl Rng) -> Self {
        Augment {
            transpose: rng.random(),
            hflip: rng.random(),
            vflip: rng.random(),
        }
    }

    /// Applies the transform to a square image.
    ///
    /// # Panics
    /// If the image is not square.
    pub fn apply(self, img: &RgbImage8) -> RgbImage8 {
        let n = img.width;
        assert_eq!(n, img.height, "augmentation needs a square crop");
        let mut data = vec![0u8; n * n * 3];
        for y in 0..n {
            for x in 0..n {
                let (mut sx, mut sy) = (x, y);
                if self.hflip {
                    sx = n - 1 - sx;
                }
                if self.vflip {
                    sy = n - 1 - sy;
                }
                if self.transpose {
                    std::mem::swap(&mut sx, &mut sy);
                }
                let s = (sy * n + sx) * 3;
                let d = (y * n + x) * 3;
                data[d..d + 3].copy_from_slice(&img.data[s..s + 3]);
            }
        }
        RgbImage8 {
            width: n,
            height: n,
            data,
        }
    }
}

/// An HR/LR training pair, planar RGB in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    /// LR `[3, lr, lr]`.
    pub lr: Vec<f32>,
    /// HR `[3, lr·scale, lr·scale]`.
    pub hr: Vec<f32>,
}

/// Crops `side×side` pixels at (`x`, `y`).
pub fn crop(img: &RgbImage8, x: usize, y: usize, side: usize) -> RgbImage8 {
    let mut data = Vec::with_capacity(side * side * 3);
    for row in y..y + side {
        let s = (row * img.width + x) * 3;
        data.extend_from_slice(&img.data[s..s + side * 3]);
    }
    RgbImage8 {
        width: side,
        height: side,
        data,
    }
}

/// A random training pair from `img` with an LR side of `lr` pixels.
///
/// # Panics
/// If the image is smaller than `lr·scale` on a side.
pub fn make_patch(
    img: &RgbImage8,
    lr: usize,
    scale: usize,
    augment: bool,
    rng: &mut impl Rng,
) -> Patch {
    let side = lr * scale;
    assert!(
        img.width >= side && img.height >= side,
        "image smaller than a {side}px crop"
    );
    let x = rng.random_range(0..=img.width - side);
    let y = rng.random_range(0..=img.height - side);
    let mut hr = crop(img, x, y, side);
    if augment {
        hr = Augment::random(rng).apply(&hr);
    }
    let small = bicubic_rgb8(&hr, 1.0 / scale as f64);
    debug_assert_eq!((small.width, small.height), (lr, lr));
    Patch {
        lr: small.to_planes().data,
        hr: hr.to_planes().data,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn ramp(n: usize) -> RgbImage8 {
        let data = (0..n * n)
            .flat_map(|i| [(i % 251) as u8, (i / n) as u8, 7])
            .collect();
        RgbImage8::new(n, n, data).unwrap()
    }

    #[test]
    fn eight_distinct_transforms() {
        let img = ramp(3);
        let mut seen = Vec::new();
        for t in 0..8 {
            let a = Augment {
                transpose: t & 1 != 0,
                hflip: t & 2 != 0,
                vflip: t & 4 != 0,
            };
            let out = a.apply(&img);
            assert!(!seen.contains(&out.data));
            seen.push(out.data);
        }
        // hflip moves the top-left pixel to the top-right.
        let h = Augment {
            hflip: true,
            ..Default::default()
        }
        .apply(&img);
        assert_eq!(h.pixel(2, 0), img.pixel(0, 0));
    }

    #[test]
    fn patches_are_seeded_and_sized() {
        let img = ramp(40);
        let a = make_patch(&img, 5, 4, true, &mut StdRng::seed_from_u64(3));
        let b = make_patch(&img, 5, 4, true, &mut StdRng::seed_from_u64(3));
        assert_eq!(a, b);
        assert_eq!(a.lr.len(), 3 * 5 * 5);
        assert_eq!(a.hr.len(), 3 * 20 * 20);
        assert!(a.hr.iter().all(|v| (0.0..=1.0).contains(v)));
        // The blue channel is constant 7: bicubic keeps it.
        assert!(a.lr[50..75].iter().all(|&v| (v - 7.0 / 255.0).abs() < 1e-6));
    }
}
