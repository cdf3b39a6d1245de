//! RGBA pixels from a canvas in, RGBA pixels out; core works on RGB ([`RgbImage8`]).

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use quantnas_core::image::RgbImage8;
use quantnas_core::resize::{bicubic_rgb8, output_len};

use crate::error::{Error, Failure, fail};

/// Largest side of any image the bindings accept or produce. Stops a hostile or mistaken
/// input (a 30000-pixel-wide PNG, a huge resize factor) from exhausting the 4 GiB wasm
/// memory; 8192 covers a ×4 upscale of the page's largest input (core's `limits`: 2048 px
/// in benchmark mode gives 512 px LR, upscale mode accepts 512 px LR).
pub const MAX_IMAGE_SIDE: usize = 8192;

/// Smallest resize factor. Shrinking by `s` reads `4 / s` input pixels per output pixel,
/// so this stops a tiny factor from building a kernel of billions of taps.
pub const MIN_SCALE: f64 = 1.0 / 64.0;

/// An 8-bit RGB image held in wasm memory. Alpha is dropped on the way in (the networks
/// see RGB) and set to 255 on the way out.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub(crate) rgb: RgbImage8,
}

fn check_size(width: usize, height: usize) -> Result<(), Error> {
    if width == 0 || height == 0 || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(Error::ImageSize {
            width,
            height,
            max: MAX_IMAGE_SIDE,
        });
    }
    Ok(())
}

impl Image {
    /// Wraps a core image, checking the size limit.
    pub fn from_rgb(rgb: RgbImage8) -> Result<Image, Error> {
        check_size(rgb.width, rgb.height)?;
        Ok(Image { rgb })
    }

    /// The core image.
    pub fn as_rgb(&self) -> &RgbImage8 {
        &self.rgb
    }
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl Image {
    /// An image from `width * height * 4` RGBA bytes (as in `ImageData.data`).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = fromRgba))]
    pub fn from_rgba(rgba: &[u8], width: u32, height: u32) -> Result<Image, Failure> {
        let (w, h) = (width as usize, height as usize);
        check_size(w, h).map_err(fail)?;
        let expected = w * h * 4;
        if rgba.len() != expected {
            return Err(fail(Error::RgbaLength {
                width,
                height,
                expected,
                got: rgba.len(),
            }));
        }
        let data = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        Ok(Image {
            rgb: RgbImage8::new(w, h, data).map_err(fail)?,
        })
    }

    /// Width in pixels.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn width(&self) -> u32 {
        self.rgb.width as u32
    }

    /// Height in pixels.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn height(&self) -> u32 {
        self.rgb.height as u32
    }

    /// The pixels as RGBA bytes with alpha 255 (for `new ImageData(...)`).
    pub fn rgba(&self) -> Vec<u8> {
        self.rgb
            .data
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect()
    }

    /// Whether every pixel has R = G = B, e.g. a grayscale PNG (Set14 `bridge`) as a
    /// browser decodes it. Such a ground truth is scored on its gray values (spec §7).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, js_name = isGray))]
    pub fn is_gray(&self) -> bool {
        self.rgb
            .data
            .chunks_exact(3)
            .all(|p| p[0] == p[1] && p[1] == p[2])
    }

    /// Crops right and bottom so both sides are multiples of `scale` (MATLAB `modcrop`).
    pub fn modcrop(&self, scale: u32) -> Result<Image, Failure> {
        Image::from_rgb(self.rgb.modcrop(scale as usize)).map_err(fail)
    }

    /// MATLAB-compatible bicubic resize by `scale` (0.25 makes the LR input of the
    /// benchmarks, 4 is the bicubic baseline), exactly core's `bicubic_rgb8`.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = resizeBicubic))]
    pub fn resize_bicubic(&self, scale: f64) -> Result<Image, Failure> {
        if !(scale.is_finite() && scale >= MIN_SCALE) {
            return Err(fail(Error::Scale { scale }));
        }
        // Checked before resizing: the output, not the input, is what could be huge.
        let (w, h) = (
            output_len(self.rgb.width, scale),
            output_len(self.rgb.height, scale),
        );
        check_size(w, h).map_err(fail)?;
        Image::from_rgb(bicubic_rgb8(&self.rgb, scale)).map_err(fail)
    }
}

#[cfg(all(test, not(target_family = "wasm")))] // they read `Error` values; wasm runs tests/*
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn rgba_round_trip_drops_alpha() {
        let img = Image::from_rgba(&[1, 2, 3, 9, 4, 5, 6, 0], 2, 1).unwrap();
        assert_eq!(img.as_rgb().data, [1, 2, 3, 4, 5, 6]);
        assert_eq!(img.rgba(), [1, 2, 3, 255, 4, 5, 6, 255]);
        assert!(!img.is_gray());
        assert!(Image::from_rgba(&[7, 7, 7, 1], 1, 1).unwrap().is_gray());
    }

    #[test]
    fn bad_sizes_are_errors() {
        let e = Image::from_rgba(&[0; 7], 2, 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "RGBA buffer holds 7 bytes, but 2x1 pixels need 8"
        );
        assert!(matches!(
            Image::from_rgba(&[], 0, 0),
            Err(Error::ImageSize { .. })
        ));
        let img = Image::from_rgba(&[0; 4 * 4000], 4000, 1).unwrap();
        assert!(matches!(
            img.resize_bicubic(4.0),
            Err(Error::ImageSize { width: 16000, .. })
        ));
        assert!(matches!(
            img.resize_bicubic(f64::NAN),
            Err(Error::Scale { .. })
        ));
        assert!(matches!(img.resize_bicubic(-1.0), Err(Error::Scale { .. })));
        assert!(matches!(img.resize_bicubic(1e-9), Err(Error::Scale { .. })));
    }
}
