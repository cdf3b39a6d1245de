//! `trainer bench infer`: core's integer engine against its fake-quant reference executor
//! on one image, in the same run (the figures of `cargo bench -p quantnas-core`, for any
//! architecture or model file).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use quantnas_core::engine::Engine;
use quantnas_core::image::Planes;
use quantnas_core::model::Model;

use crate::archspec::resolve_arch;

/// Time one upscale of an N×N image: integer path vs reference path.
///
/// A model file is timed with its own weights; an architecture gets random weights
/// (LSQ-initialised steps), which is fine for timing. One thread.
#[derive(Debug, Clone, Args)]
pub struct InferArgs {
    /// `espcn`, `srresnet`, `rfdn`, a genotype JSON file, or a `.qnm` model file.
    #[arg(long, default_value = "espcn")]
    pub arch: String,
    /// Bits of every layer (architectures only; fixed nets default to 8).
    #[arg(long)]
    pub bits: Option<u32>,
    /// LR side N (the output is 4N×4N).
    #[arg(long, default_value_t = 128)]
    pub size: usize,
    /// Timed runs of the integer path (the reference runs once: it is slow on purpose).
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// Print one JSON object (`int_ms`, `ref_ms`, `gmacs`, …).
    #[arg(long)]
    pub json: bool,
}

fn engine(args: &InferArgs) -> Result<Engine> {
    let path = Path::new(&args.arch);
    let model = if path.extension().is_some_and(|e| e == "qnm") {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Model::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("loading {}", path.display()))?
    } else {
        Model::random(resolve_arch(&args.arch, args.bits)?, 7)
            .map_err(|e| anyhow::anyhow!("{e}"))?
    };
    Engine::new(model).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs the benchmark.
///
/// # Errors
/// An unknown architecture, an unreadable model, or a size the network refuses.
pub fn run(args: &InferArgs) -> Result<()> {
    let engine = engine(args)?;
    let n = args.size;
    // A smooth synthetic image (timing does not depend on the content).
    let data = (0..3 * n * n)
        .map(|i| (i % 251) as f32 / 250.0 * 0.8 + 0.1)
        .collect();
    let x = Planes::new(3, n, n, data)?;
    let macs = engine.cost(n, n).map_err(|e| anyhow::anyhow!("{e}"))?.macs;
    let mut int = Vec::new();
    for _ in 0..args.runs.max(1) {
        let t = Instant::now();
        engine
            .upscale_planes(&x)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        int.push(t.elapsed().as_secs_f64() * 1e3);
    }
    int.sort_by(f64::total_cmp);
    let int_ms = int[int.len() / 2];
    let t = Instant::now();
    engine
        .upscale_planes_reference(&x)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ref_ms = t.elapsed().as_secs_f64() * 1e3;
    let gmacs = macs as f64 / (int_ms * 1e-3) / 1e9;
    if args.json {
        let v = serde_json::json!({
            "arch": args.arch, "size": n, "macs": macs, "int_ms": int_ms, "ref_ms": ref_ms,
            "gmacs": gmacs, "ref_gmacs": macs as f64 / (ref_ms * 1e-3) / 1e9, "speedup": ref_ms / int_ms,
        });
        println!("{v}");
    } else {
        println!(
            "{} {n}x{n} -> {}x{} ({:.3} GMAC), one thread:",
            args.arch,
            4 * n,
            4 * n,
            macs as f64 / 1e9
        );
        println!(
            "  integer path   {int_ms:>10.1} ms  {gmacs:>6.2} GMAC/s (median of {})",
            int.len()
        );
        println!(
            "  reference path {ref_ms:>10.1} ms  ({:.1}x slower)",
            ref_ms / int_ms
        );
    }
    Ok(())
}
