//! `trainer eval`: scores a super-resolution model on a folder of HR images with the
//! benchmark protocol of spec §7.
//!
//! Per image: crop the HR to a multiple of the scale, make the LR with MATLAB-compatible
//! bicubic on the 8-bit image (rounded to `u8`), super-resolve it, round the output to
//! 8 bits, and score it with [`score_sr`] (Y-PSNR/SSIM, `scale` pixels cropped at every
//! border; grayscale HR scored on its gray values). The dataset score is the mean.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use quantnas_core::image::RgbImage8;
use quantnas_core::metrics::score_sr;
use quantnas_core::resize::bicubic_rgb8;
use serde::Serialize;

use crate::imageio::load_folder;
use crate::nn::Upscaler;
use crate::train::folder::load_run;
use burn::tensor::Device;
use quantnas_core::arch::SCALE;
use quantnas_core::engine::Engine;

/// Model name that selects plain bicubic upscaling.
pub const BICUBIC: &str = "bicubic";

/// Smallest and largest supported upscaling factors.
const SCALES: std::ops::RangeInclusive<usize> = 2..=8;

/// Score a model (or plain bicubic) on a dataset: Y-PSNR and SSIM per image and mean.
///
/// Each HR image is cropped to a multiple of --scale, shrunk with MATLAB-compatible
/// bicubic to make the LR input, super-resolved, rounded to 8 bits and compared with the
/// HR on the Y channel (BT.601), with --scale pixels cut from every border. This is the
/// protocol of the published SR tables.
///
/// Example: `trainer eval --model bicubic --dataset data/Set5 --scale 4` prints the
/// bicubic baseline, 28.42 dB / 0.8104.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// What produces the SR images: `bicubic` (plain bicubic upscaling, the baseline), a
    /// run folder of `trainer train` (its best checkpoint, run by the trainer's own float
    /// forward), or a `.qnm` model file (run by quantnas-core's integer engine, as the web
    /// demo does). Networks are x4 only.
    #[arg(long, default_value = BICUBIC)]
    pub model: String,

    /// Folder of HR ground-truth images (png, jpg, bmp), e.g. data/Set5.
    #[arg(long)]
    pub dataset: PathBuf,

    /// Upscaling factor (2 to 8).
    #[arg(long, default_value_t = 4)]
    pub scale: usize,

    /// Print one JSON object (mean_psnr, mean_ssim, scale, dataset, model, images)
    /// instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Score of one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageScore {
    /// File name without extension.
    pub name: String,
    /// PSNR in dB (infinite for a perfect reconstruction, written as `null` in JSON).
    pub psnr: f64,
    /// Mean SSIM.
    pub ssim: f64,
}

/// Result of evaluating a model on a dataset.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    /// Mean PSNR over the images, in dB.
    pub mean_psnr: f64,
    /// Mean SSIM over the images.
    pub mean_ssim: f64,
    /// Upscaling factor.
    pub scale: usize,
    /// Dataset folder as given.
    pub dataset: String,
    /// Model as given.
    pub model: String,
    /// Per-image scores, sorted by file name.
    pub images: Vec<ImageScore>,
}

/// What makes the SR images.
enum Method {
    /// Bicubic upscaling.
    Bicubic,
    /// A training run's best checkpoint on the trainer's forward.
    Run(Box<Upscaler>),
    /// A model file on the integer engine.
    Engine(Box<Engine>),
}

/// Resolves `--model`.
fn method(model: &str, scale: usize) -> Result<Method> {
    if model == BICUBIC {
        return Ok(Method::Bicubic);
    }
    if scale != SCALE {
        bail!("networks upscale x{SCALE}; --scale {scale} works only with --model {BICUBIC}");
    }
    let path = Path::new(model);
    if path.is_dir() {
        let dev = Device::flex();
        let (net, _, _) =
            load_run(path, "best", &dev).with_context(|| format!("loading run {model}"))?;
        return Ok(Method::Run(Box::new(Upscaler::new(&net, &dev))));
    }
    if path.is_file() {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {model}"))?;
        let engine =
            Engine::from_bytes(&bytes).with_context(|| format!("loading model file {model}"))?;
        return Ok(Method::Engine(Box::new(engine)));
    }
    bail!("--model {model:?} is not `{BICUBIC}`, a run folder or a model file")
}

/// Makes the SR image of one HR image (already cropped to a multiple of `scale`).
fn super_resolve(method: &Method, hr: &RgbImage8, scale: usize) -> Result<RgbImage8> {
    let s = scale as f64;
    let lr = bicubic_rgb8(hr, 1.0 / s);
    match method {
        Method::Bicubic => Ok(bicubic_rgb8(&lr, s)),
        Method::Run(up) => up.upscale(&lr),
        Method::Engine(e) => Ok(e.upscale(&lr)?),
    }
}

/// Evaluates `model` on every image of `dataset` at `scale`.
///
/// # Errors
/// An unknown model, a scale outside 2..=8, a dataset folder that is missing, empty or
/// holds an undecodable image, or an image too small to score.
pub fn evaluate(model: &str, dataset: &Path, scale: usize) -> Result<EvalReport> {
    if !SCALES.contains(&scale) {
        bail!(
            "--scale must be between {} and {}, got {scale}",
            SCALES.start(),
            SCALES.end()
        );
    }
    let method = method(model, scale)?;
    let images =
        load_folder(dataset).with_context(|| format!("loading dataset {}", dataset.display()))?;
    let mut scores = Vec::with_capacity(images.len());
    for item in &images {
        let hr = item.image.modcrop(scale);
        let sr = super_resolve(&method, &hr, scale)?;
        let score = score_sr(&sr, &hr, item.gray, scale)
            .with_context(|| format!("scoring {}", item.path.display()))?;
        scores.push(ImageScore {
            name: item.name.clone(),
            psnr: score.psnr,
            ssim: score.ssim,
        });
    }
    let n = scores.len() as f64;
    Ok(EvalReport {
        mean_psnr: scores.iter().map(|s| s.psnr).sum::<f64>() / n,
        mean_ssim: scores.iter().map(|s| s.ssim).sum::<f64>() / n,
        scale,
        dataset: dataset.display().to_string(),
        model: model.to_string(),
        images: scores,
    })
}

/// Runs `trainer eval`: evaluates and prints a table, or one JSON object with `--json`.
pub fn run(args: &EvalArgs) -> Result<()> {
    let report = evaluate(&args.model, &args.dataset, args.scale)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(());
    }
    let width = report
        .images
        .iter()
        .map(|s| s.name.len())
        .chain([4])
        .max()
        .unwrap_or(4);
    println!("{} x{} on {}", report.model, report.scale, report.dataset);
    println!("{:<width$}  {:>8}  {:>7}", "image", "PSNR", "SSIM");
    for s in &report.images {
        println!("{:<width$}  {:>8.4}  {:>7.5}", s.name, s.psnr, s.ssim);
    }
    println!(
        "{:<width$}  {:>8.4}  {:>7.5}",
        "mean", report.mean_psnr, report.mean_ssim
    );
    Ok(())
}
