//! `trainer bench infer`: core's integer engine on one image, per conv kernel and thread
//! count, against the engine's own `f32` path on the same weights, interleaved in rounds
//! (and, on request, once against the fake-quant reference executor).

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use quantnas_core::engine::{Engine, FloatSums, Isa};
use quantnas_core::image::Planes;
use quantnas_core::model::Model;

use super::stats::median;
use crate::archspec::resolve_arch;

/// Time one upscale of an N×N image on the integer path vs the engine's `f32` path.
///
/// A model file is timed with its own weights (the bundled trained models first: that is
/// what the page runs); an architecture gets random weights (LSQ-initialised steps). The
/// `f32` path is the same network at 32 bits on the dequantized weights. Variants run in
/// interleaved rounds; the table gives each one's median and the median over rounds of
/// its time ÷ the `f32` path's time in the same round.
#[derive(Debug, Clone, Args)]
pub struct InferArgs {
    /// `espcn`, `srresnet`, `rfdn`, a genotype JSON file, or a `.qnm` model file.
    #[arg(long, default_value = "web/models/espcn-8bit.qnm")]
    pub arch: String,
    /// Bits of every layer (architectures only; fixed nets default to 8).
    #[arg(long)]
    pub bits: Option<u32>,
    /// LR side N (the output is 4N×4N).
    #[arg(long, default_value_t = 256)]
    pub size: usize,
    /// Interleaved rounds (each times every variant once).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Thread counts of the integer path (output rows split over a pool; same bits).
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
    /// Conv kernels to time on one thread: `best`, `all`, or names
    /// (portable, sse2, avx2, avx-vnni, avx512-vnni, wasm-simd128).
    #[arg(long, value_delimiter = ',', default_value = "best")]
    pub isa: Vec<String>,
    /// Also time the fake-quant reference executor once (slow on purpose).
    #[arg(long)]
    pub reference: bool,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

fn load(args: &InferArgs) -> Result<Model> {
    let path = Path::new(&args.arch);
    if path.extension().is_some_and(|e| e == "qnm") {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Model::from_bytes(&bytes).with_context(|| format!("loading {}", path.display()))
    } else {
        Ok(Model::random(resolve_arch(&args.arch, args.bits)?, 7)?)
    }
}

fn kernels(names: &[String]) -> Result<Vec<Isa>> {
    let mut out = Vec::new();
    for n in names {
        match n.as_str() {
            "best" => out.push(Isa::best()),
            "all" => out.extend(Isa::available()),
            name => {
                let isa =
                    Isa::from_name(name).with_context(|| format!("unknown kernel `{name}`"))?;
                anyhow::ensure!(isa.is_available(), "this CPU cannot run the {isa} kernel");
                out.push(isa);
            }
        }
    }
    out.dedup();
    Ok(out)
}

struct Variant {
    name: String,
    engine: Engine,
    ms: Vec<f64>,
}

/// Runs the benchmark.
///
/// # Errors
/// An unknown architecture or kernel, an unreadable model, or a size the network refuses.
pub fn run(args: &InferArgs) -> Result<()> {
    let model = load(args)?;
    let base = Engine::new(model.clone())?;
    let n = args.size;
    // A smooth synthetic image (timing does not depend on the content).
    let data = (0..3 * n * n)
        .map(|i| (i % 251) as f32 / 250.0 * 0.8 + 0.1)
        .collect();
    let x = Planes::new(3, n, n, data)?;
    let macs = base.cost(n, n)?.macs;
    let mut variants = vec![Variant {
        name: "f32 path".into(),
        engine: Engine::new(model.float_twin()?)?.with_float_sums(FloatSums::F32),
        ms: Vec::new(),
    }];
    for isa in kernels(&args.isa)? {
        for &t in args
            .threads
            .iter()
            .filter(|&&t| t == 1 || isa == Isa::best())
        {
            variants.push(Variant {
                name: format!(
                    "integer, {isa}, {t} thread{}",
                    if t == 1 { "" } else { "s" }
                ),
                engine: base.clone().with_isa(isa)?.with_threads(t),
                ms: Vec::new(),
            });
        }
    }
    for v in &variants {
        v.engine.upscale_planes(&x)?; // warm-up: first-touch pages, caches
    }
    for _ in 0..args.rounds.max(1) {
        for v in &mut variants {
            let t = Instant::now();
            std::hint::black_box(v.engine.upscale_planes(&x)?);
            v.ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    let ref_ms = if args.reference {
        let t = Instant::now();
        base.upscale_planes_reference(&x)?;
        Some(t.elapsed().as_secs_f64() * 1e3)
    } else {
        None
    };
    let f32_ms = variants[0].ms.clone();
    let rows: Vec<(String, f64, f64, f64)> = variants
        .iter()
        .map(|v| {
            let ms = median(v.ms.clone());
            let ratios: Vec<f64> = v.ms.iter().zip(&f32_ms).map(|(a, b)| a / b).collect();
            let gmacs = macs as f64 / (ms * 1e-3) / 1e9;
            (v.name.clone(), ms, gmacs, median(ratios))
        })
        .collect();
    if args.json {
        let v = serde_json::json!({
            "arch": args.arch, "size": n, "macs": macs, "rounds": args.rounds,
            "best_kernel": Isa::best().name(), "ref_ms": ref_ms,
            "variants": rows.iter().map(|(name, ms, gmacs, ratio)| serde_json::json!({
                "variant": name, "median_ms": ms, "gmacs": gmacs, "ratio_to_f32": ratio,
            })).collect::<Vec<_>>(),
        });
        println!("{v}");
        return Ok(());
    }
    println!(
        "{} {n}x{n} -> {}x{} ({:.3} GMAC), {} interleaved rounds, best kernel on this CPU: {}",
        args.arch,
        4 * n,
        4 * n,
        macs as f64 / 1e9,
        args.rounds,
        Isa::best()
    );
    println!(
        "  {:<36} {:>10} {:>8} {:>18}",
        "variant", "median ms", "GMAC/s", "÷ f32 path (median)"
    );
    for (name, ms, gmacs, ratio) in &rows {
        println!("  {name:<36} {ms:>10.1} {gmacs:>8.2} {ratio:>18.3}");
    }
    if let Some(r) = ref_ms {
        println!("  {:<36} {r:>10.1} (one run)", "fake-quant reference");
    }
    Ok(())
}
