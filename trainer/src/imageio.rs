//! Reading and writing 8-bit images (PNG, JPEG, BMP) as [`RgbImage8`].
//!
//! Grayscale files are expanded to three equal channels and flagged, because the SR
//! benchmarks score them on their gray values (spec §7, Set14 `bridge.png`). An alpha
//! channel is dropped.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use quantnas_core::image::RgbImage8;

/// File extensions (lower case) that [`load_folder`] treats as images.
pub const IMAGE_EXTENSIONS: [&str; 4] = ["png", "jpg", "jpeg", "bmp"];

/// An image read from a dataset folder.
#[derive(Debug, Clone)]
pub struct NamedImage {
    /// File name without its extension (`baby` for `baby.png`).
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// The pixels, grayscale expanded to R = G = B.
    pub image: RgbImage8,
    /// Whether the file was grayscale.
    pub gray: bool,
}

/// Reads an image file as 8-bit RGB; the flag says whether the file was grayscale.
///
/// The format is guessed from the content, not the extension, so a mislabelled file
/// still loads, and a file that is not an image gives an error that names it.
pub fn load_rgb8(path: &Path) -> Result<(RgbImage8, bool)> {
    let decoded = image::ImageReader::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .with_guessed_format()
        .with_context(|| format!("cannot read {}", path.display()))?
        .decode()
        .with_context(|| format!("{} is not a decodable image", path.display()))?;
    let gray = !decoded.color().has_color();
    let rgb = decoded.into_rgb8();
    let (w, h) = rgb.dimensions();
    let image = RgbImage8::new(w as usize, h as usize, rgb.into_raw())
        .with_context(|| format!("decoding {}", path.display()))?;
    Ok((image, gray))
}

/// Writes an image as an 8-bit RGB PNG.
pub fn save_png(path: &Path, img: &RgbImage8) -> Result<()> {
    let (w, h) = (u32::try_from(img.width)?, u32::try_from(img.height)?);
    let buf = image::RgbImage::from_raw(w, h, img.data.clone())
        .with_context(|| format!("pixel buffer does not match {w}x{h}"))?;
    buf.save_with_format(path, image::ImageFormat::Png)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Whether a path has one of the [`IMAGE_EXTENSIONS`] (case-insensitive).
pub fn is_image_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads every image (by extension, see [`IMAGE_EXTENSIONS`]) of a folder, sorted by
/// file name. Other files and sub-folders are ignored.
///
/// # Errors
/// A missing or unreadable folder, a folder without images, or an image file that does
/// not decode (the error names it).
pub fn load_folder(dir: &Path) -> Result<Vec<NamedImage>> {
    if !dir.is_dir() {
        if dir.exists() {
            bail!("{} is not a folder", dir.display());
        }
        bail!("dataset folder {} does not exist", dir.display());
    }
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if path.is_file() && is_image_file(&path) {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        bail!(
            "no images ({}) in {}",
            IMAGE_EXTENSIONS.join(", "),
            dir.display()
        );
    }
    paths.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    paths
        .into_iter()
        .map(|path| {
            let (image, gray) = load_rgb8(&path)?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Ok(NamedImage {
                name,
                path,
                image,
                gray,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("quantnas-imageio-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn png_round_trip_and_gray_flag() {
        let dir = temp_dir("roundtrip");
        let img = RgbImage8::new(3, 2, (0..18).map(|v| v * 14).collect()).unwrap();
        let path = dir.join("b.png");
        save_png(&path, &img).unwrap();
        let (back, gray) = load_rgb8(&path).unwrap();
        assert_eq!(back, img);
        assert!(!gray);

        image::GrayImage::from_raw(2, 1, vec![7, 200])
            .unwrap()
            .save(dir.join("a.png"))
            .unwrap();
        fs::write(dir.join("notes.txt"), "not an image").unwrap();
        let all = load_folder(&dir).unwrap();
        let names: Vec<&str> = all.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(all[0].gray);
        assert_eq!(all[0].image.data, vec![7, 7, 7, 200, 200, 200]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
