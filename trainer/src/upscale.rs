//! `trainer upscale`: ×4 super-resolution of image files on `quantnas-core`'s integer
//! engine, with the web page's input limits (core's [`limits`](quantnas_core::limits)).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use quantnas_core::arch::SCALE;
use quantnas_core::engine::Engine;
use quantnas_core::image::RgbImage8;
use quantnas_core::limits::{MAX_INPUT_BYTES, MAX_UPSCALE_SIDE};

use crate::imageio::load_rgb8;

/// Output file extensions `trainer upscale` writes (lower case).
pub const OUTPUT_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Upscale images ×4 with a model file, on quantnas-core's integer engine (the numbers the
/// web page shows).
///
/// Inputs are PNG or JPEG (BMP also read), at most 40 MiB and 512 pixels a side (the
/// page's limits); grayscale is expanded to RGB and alpha dropped. With one input, OUT is
/// the output file (.png, .jpg or .jpeg) or a folder; with several, OUT is a folder
/// (created if missing) that receives NAME.png for each input NAME.
///
/// Example: `trainer upscale data/Set5/baby.png -o baby-x4.png --model web/models/espcn-8bit.qnm`
#[derive(Debug, Clone, Args)]
pub struct UpscaleArgs {
    /// Input images.
    #[arg(required = true, num_args = 1..)]
    pub inputs: Vec<PathBuf>,
    /// Output image (one input) or folder.
    #[arg(long, short)]
    pub output: PathBuf,
    /// Model file (.qnm), e.g. web/models/espcn-8bit.qnm.
    #[arg(long)]
    pub model: PathBuf,
}

/// Reads an input image, refusing what the page refuses: a file over
/// [`MAX_INPUT_BYTES`], a side over [`MAX_UPSCALE_SIDE`], or one the network cannot run.
///
/// # Errors
/// A missing, oversized or undecodable file, or an image outside the limits; the message
/// names the file and the limit.
pub fn read_input(path: &Path, engine: &Engine) -> Result<RgbImage8> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if len > MAX_INPUT_BYTES as u64 {
        bail!(
            "{} is {len} bytes; the largest input file is {MAX_INPUT_BYTES} bytes",
            path.display()
        );
    }
    let (image, _) = load_rgb8(path)?;
    if image.width.max(image.height) > MAX_UPSCALE_SIDE {
        bail!(
            "{} is {}x{}; the largest input side is {MAX_UPSCALE_SIDE} pixels (x{SCALE}: \
             {} pixels)",
            path.display(),
            image.width,
            image.height,
            MAX_UPSCALE_SIDE * SCALE
        );
    }
    engine
        .check_input(3, image.height, image.width)
        .with_context(|| {
            format!(
                "{} ({}x{}) cannot be upscaled by this model",
                path.display(),
                image.width,
                image.height
            )
        })?;
    Ok(image)
}

/// Whether `path` names an image file `trainer upscale` writes.
fn is_output_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| OUTPUT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Where each input's result goes.
///
/// # Errors
/// Several inputs with a file as OUT, an unsupported output extension, or two inputs of
/// one name.
pub fn output_paths(inputs: &[PathBuf], output: &Path) -> Result<Vec<PathBuf>> {
    let into_folder = output.is_dir() || inputs.len() > 1;
    if !into_folder {
        if !is_output_image(output) {
            bail!(
                "-o {}: the output must end in .png, .jpg or .jpeg (or be a folder)",
                output.display()
            );
        }
        return Ok(vec![output.to_path_buf()]);
    }
    if output.exists() && !output.is_dir() {
        bail!(
            "-o {} is a file, but {} inputs need an output folder",
            output.display(),
            inputs.len()
        );
    }
    let mut paths: Vec<PathBuf> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let stem = input
            .file_stem()
            .with_context(|| format!("{} has no file name", input.display()))?;
        let path = output.join(stem).with_extension("png");
        if paths.contains(&path) {
            bail!(
                "two inputs would both be written to {}; rename one",
                path.display()
            );
        }
        paths.push(path);
    }
    Ok(paths)
}

/// Writes an 8-bit RGB image as PNG or JPEG (quality 95), by extension.
fn save(path: &Path, img: &RgbImage8) -> Result<()> {
    let (w, h) = (u32::try_from(img.width)?, u32::try_from(img.height)?);
    let buf = image::RgbImage::from_raw(w, h, img.data.clone())
        .with_context(|| format!("pixel buffer does not match {w}x{h}"))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("jpg" | "jpeg")) {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let mut enc =
            image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(file), 95);
        enc.encode_image(&buf)
            .with_context(|| format!("cannot write {}", path.display()))
    } else {
        buf.save_with_format(path, image::ImageFormat::Png)
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// Runs `trainer upscale`; returns the files written.
///
/// # Errors
/// An unreadable model, a bad input (see [`read_input`]) or output (see
/// [`output_paths`]); every input is checked before anything is written.
pub fn run(args: &UpscaleArgs) -> Result<Vec<PathBuf>> {
    let bytes = std::fs::read(&args.model)
        .with_context(|| format!("cannot read model {}", args.model.display()))?;
    let engine = Engine::from_bytes(&bytes)
        .with_context(|| format!("{} is not a valid model file", args.model.display()))?;
    let outputs = output_paths(&args.inputs, &args.output)?;
    let images = args
        .inputs
        .iter()
        .map(|p| read_input(p, &engine))
        .collect::<Result<Vec<_>>>()?;
    if args.inputs.len() > 1 || args.output.is_dir() {
        std::fs::create_dir_all(&args.output)
            .with_context(|| format!("cannot create {}", args.output.display()))?;
    }
    for ((input, image), out) in args.inputs.iter().zip(&images).zip(&outputs) {
        let sr = engine
            .upscale(image)
            .with_context(|| format!("upscaling {}", input.display()))?;
        save(out, &sr)?;
        println!(
            "{} ({}x{}) -> {} ({}x{})",
            input.display(),
            image.width,
            image.height,
            out.display(),
            sr.width,
            sr.height
        );
    }
    Ok(outputs)
}
