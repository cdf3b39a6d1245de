//! Image containers of the SR pipeline: 8-bit interleaved RGB as read from disk
//! ([`RgbImage8`]) and planar `f32` channels as fed to networks ([`Planes`]).
//!
//! Conversions follow MATLAB (`im2double`, `im2uint8`) because the published benchmark
//! tables were produced with it (spec §7): `u8 → f32` divides by 255, `f32 → u8` clamps to
//! [0, 1], multiplies by 255 and rounds half away from zero.

use alloc::vec;
use alloc::vec::Vec;

/// Errors of the image, resize, colour and metric functions of this crate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// A pixel buffer does not have the length its dimensions need.
    #[error("pixel buffer holds {got} values, but {width}x{height}x{channels} needs {expected}")]
    DataLength {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// Number of channels.
        channels: usize,
        /// `width * height * channels`.
        expected: usize,
        /// Length of the buffer that was given.
        got: usize,
    },
    /// An operation needs a given number of channels.
    #[error("expected {expected} channels, got {got}")]
    Channels {
        /// Number of channels the operation needs.
        expected: usize,
        /// Number of channels the image has.
        got: usize,
    },
    /// Two images that must have the same size do not.
    #[error("image sizes differ: {a_width}x{a_height} vs {b_width}x{b_height}")]
    SizeMismatch {
        /// Width of the first image.
        a_width: usize,
        /// Height of the first image.
        a_height: usize,
        /// Width of the second image.
        b_width: usize,
        /// Height of the second image.
        b_height: usize,
    },
    /// An image is too small for a metric once its border is cropped.
    #[error(
        "image {width}x{height} is too small: after cropping {crop} px per border it must be at least {min}x{min}"
    )]
    TooSmall {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// Pixels cropped at every border.
        crop: usize,
        /// Smallest side the cropped image may have.
        min: usize,
    },
}

/// An 8-bit RGB image, row-major, channels interleaved (`R G B R G B ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage8 {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `height * width * 3` bytes, row by row.
    pub data: Vec<u8>,
}

impl RgbImage8 {
    /// Wraps a pixel buffer, checking that it holds `width * height * 3` bytes.
    pub fn new(width: usize, height: usize, data: Vec<u8>) -> Result<Self, ImageError> {
        let expected = width * height * 3;
        if data.len() != expected {
            return Err(ImageError::DataLength {
                width,
                height,
                channels: 3,
                expected,
                got: data.len(),
            });
        }
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// The `[r, g, b]` bytes of pixel (`x`, `y`).
    ///
    /// # Panics
    /// If the pixel is outside the image.
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        assert!(x < self.width && y < self.height, "pixel out of range");
        let i = (y * self.width + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }

    /// Crops the right and bottom edges so that both sides are multiples of `scale`
    /// (MATLAB `modcrop`). A `scale` of 0 or 1 returns a copy.
    pub fn modcrop(&self, scale: usize) -> Self {
        if scale <= 1 {
            return self.clone();
        }
        let width = self.width - self.width % scale;
        let height = self.height - self.height % scale;
        let mut data = Vec::with_capacity(width * height * 3);
        for y in 0..height {
            let start = y * self.width * 3;
            data.extend_from_slice(&self.data[start..start + width * 3]);
        }
        Self {
            width,
            height,
            data,
        }
    }

    /// Planar copy with values `v / 255` in [0, 1] (MATLAB `im2double`).
    pub fn to_planes(&self) -> Planes {
        let plane = self.width * self.height;
        let mut data = vec![0.0f32; 3 * plane];
        for (i, px) in self.data.chunks_exact(3).enumerate() {
            for (c, &v) in px.iter().enumerate() {
                data[c * plane + i] = f32::from(v) / 255.0;
            }
        }
        Planes {
            channels: 3,
            height: self.height,
            width: self.width,
            data,
        }
    }
}

/// A planar `f32` image, `channels x height x width` (CHW), row-major within a plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Planes {
    /// Number of channels.
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// `channels * height * width` values, plane after plane.
    pub data: Vec<f32>,
}

impl Planes {
    /// Wraps a CHW buffer, checking that it holds `channels * height * width` values.
    pub fn new(
        channels: usize,
        height: usize,
        width: usize,
        data: Vec<f32>,
    ) -> Result<Self, ImageError> {
        let expected = channels * height * width;
        if data.len() != expected {
            return Err(ImageError::DataLength {
                width,
                height,
                channels,
                expected,
                got: data.len(),
            });
        }
        Ok(Self {
            channels,
            height,
            width,
            data,
        })
    }

    /// An image filled with zeros.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
            data: vec![0.0; channels * height * width],
        }
    }

    /// The value of channel `c` at row `y`, column `x`.
    ///
    /// # Panics
    /// If the index is outside the image.
    pub fn get(&self, c: usize, y: usize, x: usize) -> f32 {
        assert!(
            c < self.channels && y < self.height && x < self.width,
            "plane index out of range"
        );
        self.data[(c * self.height + y) * self.width + x]
    }

    /// Clamps to [0, 1], scales by 255 and rounds half away from zero (MATLAB
    /// `im2uint8`). Needs exactly 3 channels. NaN becomes 0.
    pub fn to_rgb8_rounded(&self) -> Result<RgbImage8, ImageError> {
        if self.channels != 3 {
            return Err(ImageError::Channels {
                expected: 3,
                got: self.channels,
            });
        }
        let plane = self.width * self.height;
        let mut data = vec![0u8; 3 * plane];
        for i in 0..plane {
            for c in 0..3 {
                data[3 * i + c] = unit_to_u8(self.data[c * plane + i]);
            }
        }
        Ok(RgbImage8 {
            width: self.width,
            height: self.height,
            data,
        })
    }
}

/// `round(clamp(v, 0, 1) * 255)`, half away from zero; NaN gives 0.
fn unit_to_u8(v: f32) -> u8 {
    let v = if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) };
    // The product is in [0, 255], so the cast cannot truncate.
    libm::round(f64::from(v) * 255.0) as u8
}

/// Rounds a value on the 0..255 scale to a byte, half away from zero, saturating
/// (MATLAB's conversion of `double` to `uint8`). NaN gives 0.
pub fn round_to_u8(v: f64) -> u8 {
    if v.is_nan() {
        return 0;
    }
    libm::round(v.clamp(0.0, 255.0)) as u8
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn new_checks_length() {
        assert!(RgbImage8::new(2, 2, vec![0; 12]).is_ok());
        assert_eq!(
            RgbImage8::new(2, 2, vec![0; 11]),
            Err(ImageError::DataLength {
                width: 2,
                height: 2,
                channels: 3,
                expected: 12,
                got: 11
            })
        );
        assert!(Planes::new(1, 2, 3, vec![0.0; 6]).is_ok());
        assert!(Planes::new(1, 2, 3, vec![0.0; 5]).is_err());
    }

    #[test]
    fn modcrop_keeps_top_left() {
        // 5x3 image whose red byte is x + 10 y.
        let mut data = vec![];
        for y in 0..3u8 {
            for x in 0..5u8 {
                data.extend_from_slice(&[x + 10 * y, 0, 0]);
            }
        }
        let img = RgbImage8::new(5, 3, data).unwrap();
        let c = img.modcrop(2);
        assert_eq!((c.width, c.height), (4, 2));
        assert_eq!(c.pixel(3, 1), [13, 0, 0]);
        assert_eq!(c.pixel(0, 1), [10, 0, 0]);
        assert_eq!(img.modcrop(1), img);
    }

    #[test]
    fn planes_round_trip() {
        let img = RgbImage8::new(2, 1, vec![0, 128, 255, 1, 2, 254]).unwrap();
        let p = img.to_planes();
        assert_eq!((p.channels, p.height, p.width), (3, 1, 2));
        assert_eq!(p.get(1, 0, 0), 128.0 / 255.0);
        assert_eq!(p.get(2, 0, 1), 254.0 / 255.0);
        assert_eq!(p.to_rgb8_rounded().unwrap(), img);
    }

    #[test]
    fn rounding_clamps_and_goes_half_away() {
        // 0.6/255 rounds up to 1; out-of-range values saturate.
        let p = Planes::new(3, 1, 1, vec![0.6 / 255.0, -0.3, 1.7]).unwrap();
        assert_eq!(p.to_rgb8_rounded().unwrap().data, vec![1, 0, 255]);
        assert_eq!(
            Planes::zeros(1, 1, 1).to_rgb8_rounded(),
            Err(ImageError::Channels {
                expected: 3,
                got: 1
            })
        );
        assert_eq!(round_to_u8(2.5), 3);
        assert_eq!(round_to_u8(2.49), 2);
        assert_eq!(round_to_u8(300.0), 255);
        assert_eq!(round_to_u8(-4.0), 0);
    }
}
