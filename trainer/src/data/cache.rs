//! An image folder whose files are decoded on first use (by whichever thread asks
//! first) and kept in memory, so each file is decoded exactly once per process.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result, bail};
use quantnas_core::image::RgbImage8;

use crate::imageio::{IMAGE_EXTENSIONS, is_image_file, load_rgb8};

/// Lazily decoded, cached images of one folder.
#[derive(Debug)]
pub struct ImageCache {
    paths: Vec<PathBuf>,
    sizes: Vec<(usize, usize)>,
    slots: Vec<OnceLock<Arc<RgbImage8>>>,
}

impl ImageCache {
    /// Lists the images (png, jpg, jpeg, bmp; sorted by file name) of `dir`, recursing
    /// into sub-folders (DIV2K unpacks into `DIV2K_train_HR/`). Only the headers are read (for the sizes); nothing is decoded yet.
    ///
    /// # Errors
    /// A missing folder or one without images.
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.is_dir() {
            let hint = if dir.ends_with(super::download::DIV2K[0].folder) {
                " (`trainer data download div2k` fetches DIV2K, the paper presets' training set)"
            } else {
                ""
            };
            bail!(
                "training data folder {} does not exist{hint}",
                dir.display()
            );
        }
        let mut paths = Vec::new();
        collect(dir, &mut paths, 0)?;
        if paths.is_empty() {
            bail!(
                "no images ({}) in {}",
                IMAGE_EXTENSIONS.join(", "),
                dir.display()
            );
        }
        paths.sort();
        let sizes = paths
            .iter()
            .map(|p| {
                let (w, h) = image::image_dimensions(p)
                    .with_context(|| format!("{} is not a readable image", p.display()))?;
                Ok((w as usize, h as usize))
            })
            .collect::<Result<Vec<_>>>()?;
        let slots = paths.iter().map(|_| OnceLock::new()).collect();
        Ok(ImageCache {
            paths,
            sizes,
            slots,
        })
    }

    /// Splits the images into two disjoint halves, alternating in file-name order (even
    /// positions first): the search trains weights on one and alphas on the other.
    ///
    /// # Errors
    /// Fewer than two images.
    pub fn split_alternate(self) -> Result<(Self, Self)> {
        if self.paths.len() < 2 {
            bail!(
                "the search needs at least two training images (one for the weights, one for the alphas)"
            );
        }
        let mut halves = (
            ImageCache {
                paths: vec![],
                sizes: vec![],
                slots: vec![],
            },
            ImageCache {
                paths: vec![],
                sizes: vec![],
                slots: vec![],
            },
        );
        for (i, (path, size)) in self.paths.into_iter().zip(self.sizes).enumerate() {
            let half = if i % 2 == 0 {
                &mut halves.0
            } else {
                &mut halves.1
            };
            half.paths.push(path);
            half.sizes.push(size);
            half.slots.push(OnceLock::new());
        }
        Ok(halves)
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether there are no images (never true for an opened cache).
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// Path of image `i`.
    pub fn path(&self, i: usize) -> &Path {
        &self.paths[i]
    }

    /// Width and height of image `i` (read from the file header).
    pub fn size(&self, i: usize) -> (usize, usize) {
        self.sizes[i]
    }

    /// Image `i`, decoded on first use (grayscale expanded to RGB).
    ///
    /// # Errors
    /// If the file cannot be decoded (the error names it). A failed decode is retried on
    /// the next call.
    pub fn get(&self, i: usize) -> Result<Arc<RgbImage8>> {
        if let Some(img) = self.slots[i].get() {
            return Ok(Arc::clone(img));
        }
        let (img, _gray) = load_rgb8(&self.paths[i])?;
        Ok(Arc::clone(self.slots[i].get_or_init(|| Arc::new(img))))
    }

    /// Decodes every image now (used to fail early on a broken file).
    ///
    /// # Errors
    /// The first image that does not decode.
    pub fn decode_all(&self) -> Result<()> {
        for i in 0..self.len() {
            self.get(i)
                .with_context(|| format!("decoding training image {}", self.paths[i].display()))?;
        }
        Ok(())
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        if path.is_dir() && depth < 4 {
            collect(&path, out, depth + 1)?;
        } else if path.is_file() && is_image_file(&path) {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_div2k_folder_says_how_to_fetch_it() {
        let missing = std::env::temp_dir().join("quantnas-no-such-dir/DIV2K_train_HR");
        let e = ImageCache::open(&missing)
            .map(drop)
            .expect_err("no folder")
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        assert!(e.contains("trainer data download div2k"), "{e}");
        // The `paper` presets train there.
        assert!(crate::data::download::div2k_train_dir().ends_with("DIV2K_train_HR"));
        let other = ImageCache::open(Path::new("no-such-folder"))
            .map(drop)
            .expect_err("no folder");
        assert!(!other.to_string().contains("download"), "{other}");
    }
}
