//! Background batch loading. Batch `k` is a pure function of `(seed, k)`: its own
//! generator picks the images, crops and augmentations. Worker threads claim batch
//! numbers in order and the consumer puts them back in order, so any number of workers
//! gives the same stream, and a resumed run continues it exactly by starting at its step.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use anyhow::{Result, anyhow, bail};
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::cache::ImageCache;
use super::patch::make_patch;

/// What a batch looks like.
#[derive(Clone, Debug)]
pub struct LoaderConfig {
    /// Samples per batch.
    pub batch: usize,
    /// LR patch side in pixels.
    pub lr_size: usize,
    /// Upscaling factor.
    pub scale: usize,
    /// Random flips and 90° rotations.
    pub augment: bool,
    /// Base seed of the stream.
    pub seed: u64,
    /// Worker threads (at least 1).
    pub workers: usize,
    /// Batches prepared ahead per worker.
    pub prefetch: usize,
}

/// A batch of training pairs, planar RGB in [0, 1], samples one after another.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Its number in the stream.
    pub index: u64,
    /// Samples.
    pub n: usize,
    /// LR side.
    pub lr_size: usize,
    /// HR side.
    pub hr_size: usize,
    /// `[n, 3, lr, lr]`.
    pub lr: Vec<f32>,
    /// `[n, 3, hr, hr]`.
    pub hr: Vec<f32>,
}

/// The generator of batch `index` (SplitMix-style mixing of seed and index).
fn batch_rng(seed: u64, index: u64) -> StdRng {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

/// Builds batch `index` on the calling thread.
///
/// # Errors
/// An image that does not decode.
pub fn make_batch(
    cache: &ImageCache,
    eligible: &[usize],
    cfg: &LoaderConfig,
    index: u64,
) -> Result<Batch> {
    let mut rng = batch_rng(cfg.seed, index);
    let hr_size = cfg.lr_size * cfg.scale;
    let mut lr = Vec::with_capacity(cfg.batch * 3 * cfg.lr_size * cfg.lr_size);
    let mut hr = Vec::with_capacity(cfg.batch * 3 * hr_size * hr_size);
    for _ in 0..cfg.batch {
        let i = eligible[rng.random_range(0..eligible.len())];
        let img = cache.get(i)?;
        let p = make_patch(&img, cfg.lr_size, cfg.scale, cfg.augment, &mut rng);
        lr.extend_from_slice(&p.lr);
        hr.extend_from_slice(&p.hr);
    }
    Ok(Batch {
        index,
        n: cfg.batch,
        lr_size: cfg.lr_size,
        hr_size,
        lr,
        hr,
    })
}

/// A stream of batches made by background threads.
pub struct Loader {
    rx: Receiver<(u64, Result<Batch>)>,
    pending: BTreeMap<u64, Result<Batch>>,
    next: u64,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl Loader {
    /// Starts the workers; the first batch returned is number `start`.
    ///
    /// # Errors
    /// If no image is at least `lr_size·scale` pixels on both sides.
    pub fn start(cache: Arc<ImageCache>, cfg: LoaderConfig, start: u64) -> Result<Self> {
        let side = cfg.lr_size * cfg.scale;
        let eligible: Vec<usize> = (0..cache.len())
            .filter(|&i| {
                let (w, h) = cache.size(i);
                w >= side && h >= side
            })
            .collect();
        if eligible.is_empty() {
            bail!(
                "no training image is at least {side}x{side} pixels (LR patch {} x{})",
                cfg.lr_size,
                cfg.scale
            );
        }
        let eligible = Arc::new(eligible);
        let workers_n = cfg.workers.max(1);
        let (tx, rx) = sync_channel(workers_n * cfg.prefetch.max(1));
        let counter = Arc::new(AtomicU64::new(start));
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..workers_n)
            .map(|_| {
                let (cache, eligible, cfg) =
                    (Arc::clone(&cache), Arc::clone(&eligible), cfg.clone());
                let (tx, counter, stop): (SyncSender<_>, _, _) =
                    (tx.clone(), Arc::clone(&counter), Arc::clone(&stop));
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let k = counter.fetch_add(1, Ordering::Relaxed);
                        let b = make_batch(&cache, &eligible, &cfg, k);
                        if tx.send((k, b)).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        Ok(Loader {
            rx,
            pending: BTreeMap::new(),
            next: start,
            stop,
            workers,
        })
    }

    /// The next batch, in stream order (blocks until it is ready).
    ///
    /// # Errors
    /// An image that did not decode, or workers that died.
    pub fn next_batch(&mut self) -> Result<Batch> {
        loop {
            if let Some(b) = self.pending.remove(&self.next) {
                self.next += 1;
                return b;
            }
            let (k, b) = self
                .rx
                .recv()
                .map_err(|_| anyhow!("the data loader threads stopped"))?;
            self.pending.insert(k, b);
        }
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Unblock workers waiting on a full channel, then wait for them.
        while self.rx.try_recv().is_ok() {}
        for w in self.workers.drain(..) {
            while !w.is_finished() {
                while self.rx.try_recv().is_ok() {}
                std::thread::yield_now();
            }
            let _ = w.join();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::imageio::save_png;
    use quantnas_core::image::RgbImage8;

    #[test]
    fn stream_is_seeded_ordered_and_resumable() {
        let dir = std::env::temp_dir().join(format!("quantnas-loader-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for k in 0..3u8 {
            let img = RgbImage8::new(
                20,
                18,
                (0..20 * 18 * 3)
                    .map(|v| (v as u8).wrapping_mul(k + 1))
                    .collect(),
            )
            .unwrap();
            save_png(&dir.join(format!("{k}.png")), &img).unwrap();
        }
        // Too small for a 4×4 crop; never picked.
        save_png(
            &dir.join("tiny.png"),
            &RgbImage8::new(8, 30, vec![9; 8 * 30 * 3]).unwrap(),
        )
        .unwrap();
        let cache = Arc::new(ImageCache::open(&dir).unwrap());
        let cfg = LoaderConfig {
            batch: 2,
            lr_size: 4,
            scale: 4,
            augment: true,
            seed: 11,
            workers: 3,
            prefetch: 2,
        };
        let mut one = Loader::start(
            Arc::clone(&cache),
            LoaderConfig {
                workers: 1,
                ..cfg.clone()
            },
            0,
        )
        .unwrap();
        let mut three = Loader::start(Arc::clone(&cache), cfg.clone(), 0).unwrap();
        let a: Vec<Batch> = (0..6).map(|_| one.next_batch().unwrap()).collect();
        let b: Vec<Batch> = (0..6).map(|_| three.next_batch().unwrap()).collect();
        assert_eq!(a, b);
        assert_ne!(a[0].lr, a[1].lr);
        let mut resumed = Loader::start(cache, cfg, 4).unwrap();
        assert_eq!(resumed.next_batch().unwrap(), a[4]);
        assert_eq!(a[0].hr.len(), 2 * 3 * 16 * 16);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
