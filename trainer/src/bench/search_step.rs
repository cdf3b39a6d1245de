//! `trainer bench search-step`: milliseconds per search iteration (alpha step + weight
//! step) for each mixing mode, all measured in the same run on the same data.

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use quantnas_core::arch::{Bits, Residual, SearchSpace};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::random_batch;
use super::stats::{median, median_ci95};
use crate::backend::BackendKind;
use crate::data::Batch;
use crate::search::alphas::SearchBits;
use crate::search::bitmixer::{MixContext, MixMode, SanDelta};
use crate::search::noise::{NoisePlace, NoiseSource};
use crate::search::step::{IterParams, SearchLearner};

/// Time search iterations of every requested mixing mode in one run.
///
/// Each mode gets a fresh supernet with the same seed, a few warm-up iterations, then the
/// timed ones; batches are random images of the requested size (timing does not depend on
/// pixel values). Modes are interleaved round-robin so that machine noise hits them alike.
#[derive(Debug, Clone, Args)]
pub struct SearchStepArgs {
    /// Mixing modes to time (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "san,shared,independent")]
    pub mode: Vec<MixMode>,
    /// Searched bit widths.
    #[arg(long, default_value = "4,8")]
    pub bits: String,
    /// Search space.
    #[arg(long, default_value = "basic-b")]
    pub space: SearchSpace,
    /// Residual wrapping: adq, adadm, batchnorm or none (core's names).
    #[arg(long, default_value_t = Residual::Adq)]
    pub adq: Residual,
    /// Samples per batch.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// LR crop side.
    #[arg(long, default_value_t = 32)]
    pub lr_size: usize,
    /// Timed iterations per mode.
    #[arg(long, default_value_t = 5)]
    pub iters: usize,
    /// Untimed warm-up iterations per mode.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Also time the same supernet at full precision (bits {32}: the same convolutions,
    /// no quantizer and no noise) in the same rounds: the floor that no mixing mode can
    /// go below, so `mode − fp` is what quantization-aware mixing costs.
    #[arg(long)]
    pub fp_floor: bool,
    /// Devices to time on, comma separated: cpu (flex), cuda, cuda:N, wgpu, auto, ndarray
    /// (GPUs and ndarray need a build with their cargo feature). With more than one, every
    /// mode is timed on each, interleaved in the same rounds, and rows are named
    /// `MODE DEVICE`.
    #[arg(
        long = "device",
        alias = "backend",
        value_name = "DEVICE",
        value_delimiter = ',',
        default_value = "cpu"
    )]
    pub backend: Vec<BackendKind>,
    /// Where SAN's noise is drawn: auto (host for cpu, device for a GPU), host or device
    /// (as `trainer search --noise`). `host` makes the rows of two devices draw the same
    /// values, so their losses can be compared.
    #[arg(long, value_enum, default_value_t = NoisePlace::Auto)]
    pub noise: NoisePlace,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// One timed row of `bench search-step`.
#[derive(Clone, Debug)]
pub struct ModeTiming {
    /// `san`, `shared`, `independent` or `fp (bits 32)`, followed by the backend when
    /// several are timed.
    pub name: String,
    /// Mean milliseconds per iteration.
    pub ms_per_iter: f64,
    /// Median over rounds of (its time ÷ the reference row's time in the same round).
    pub ratio: f64,
    /// 95 % confidence interval of that median ([`median_ci95`]; from 6 rounds on).
    pub ratio_ci: Option<(f64, f64)>,
    /// L1 of the last weight batch: the same seed, batches and mode on two backends give
    /// nearly the same value, a check that both ran the same computation.
    pub last_weight_l1: f32,
    /// MiB the device's allocator held after the row's last iteration (cubecl's pools on a
    /// GPU: at least the peak of live tensors, plus pages kept for reuse; rows on one
    /// device share the pools, so a later row's figure includes the earlier rows'). `None`
    /// on the CPU backends, which do not report it.
    pub device_reserved_mib: Option<f64>,
}

/// Times the rows of `args`, interleaved round by round. Returns them with the index of
/// the reference row (`shared` on the first backend when timed, else the first row).
///
/// # Errors
/// Bad `--bits`, a backend not compiled in, or a failed iteration.
pub fn measure(args: &SearchStepArgs) -> Result<(Vec<ModeTiming>, usize)> {
    let bits = SearchBits::parse(&args.bits)?;
    let mut rng = StdRng::seed_from_u64(7);
    let batches: Vec<Batch> = (0..2)
        .map(|_| random_batch(&mut rng, args.batch, args.lr_size, 0))
        .collect();
    // One entry per timed row: its name, mode, bit widths and backend.
    let mut rows: Vec<(String, MixMode, Vec<Bits>, BackendKind)> = Vec::new();
    let backends = if args.backend.is_empty() {
        vec![BackendKind::Flex]
    } else {
        // Rows are named after the device that ran, not `auto`.
        args.backend
            .iter()
            .map(|b| b.resolve())
            .collect::<Result<Vec<_>>>()?
    };
    for &backend in &backends {
        let named = |name: String| match backends.len() {
            1 => name,
            _ => format!("{name} {}", backend.name()),
        };
        for &m in &args.mode {
            rows.push((named(m.name()), m, bits.0.clone(), backend));
        }
        if args.fp_floor {
            rows.push((
                named("fp (bits 32)".into()),
                MixMode::Shared,
                vec![Bits::B32],
                backend,
            ));
        }
    }
    let mut learners = rows
        .iter()
        .map(|(_, mode, bits, backend)| {
            let device = backend.autodiff_device()?;
            device.seed(1);
            let ctx = MixContext {
                mode: *mode,
                delta: SanDelta::Step,
                bits: bits.clone(),
                noise: true,
                rng: NoiseSource::at(args.noise.on(&device), 1),
            };
            SearchLearner::new(
                args.space,
                args.adq,
                &args.space.slots(),
                ctx,
                1,
                args.lr_size,
                &device,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let p = IterParams {
        alpha_lr: 3e-4,
        weight_lr: 1e-3,
        eta: 1e-4,
        mu: 0.0,
        grad_clip: 5.0,
    };
    // rounds[i][k]: milliseconds of row k in timed round i.
    let mut rounds: Vec<Vec<f64>> = Vec::with_capacity(args.iters);
    let mut last_l1 = vec![f32::NAN; learners.len()];
    for it in 0..args.warmup + args.iters {
        let mut round = Vec::with_capacity(learners.len());
        for (l, last) in learners.iter_mut().zip(&mut last_l1) {
            let t = Instant::now();
            *last = l.iterate(&batches[0], &batches[1], p)?.weight_l1;
            round.push(t.elapsed().as_secs_f64() * 1e3);
        }
        if it >= args.warmup {
            rounds.push(round);
        }
    }
    let reserved: Vec<Option<f64>> = learners
        .iter()
        .map(|l| {
            l.device
                .memory_pool_usage()
                .map(|u| u.bytes_reserved as f64 / f64::from(1u32 << 20))
        })
        .collect();
    let reference = args
        .mode
        .iter()
        .position(|&m| m == MixMode::Shared)
        .unwrap_or(0);
    let timings = rows
        .into_iter()
        .enumerate()
        .map(|(k, (name, ..))| {
            let ratios: Vec<f64> = rounds.iter().map(|r| r[k] / r[reference]).collect();
            ModeTiming {
                name,
                ms_per_iter: rounds.iter().map(|r| r[k]).sum::<f64>() / rounds.len().max(1) as f64,
                ratio: median(ratios.clone()),
                ratio_ci: median_ci95(ratios),
                last_weight_l1: last_l1[k],
                device_reserved_mib: reserved[k],
            }
        })
        .collect();
    Ok((timings, reference))
}

/// Runs the benchmark.
pub fn run(args: &SearchStepArgs) -> Result<()> {
    let bits = SearchBits::parse(&args.bits)?;
    let (timings, reference) = measure(args)?;
    let reference_name = timings
        .get(reference)
        .map(|t| t.name.clone())
        .unwrap_or_default();
    if args.json {
        // One value per row, keyed by the row's name.
        let per_row = |value: fn(&ModeTiming) -> serde_json::Value| {
            timings
                .iter()
                .map(|t| (t.name.clone(), value(t)))
                .collect::<serde_json::Map<_, _>>()
        };
        let v = serde_json::json!({
            "space": args.space.name(), "bits": bits.to_string(), "batch": args.batch,
            "lr_size": args.lr_size, "iters": args.iters,
            "ms_per_iter": per_row(|t| t.ms_per_iter.into()),
            "reference": reference_name, "median_round_ratio": per_row(|t| t.ratio.into()),
            "median_round_ratio_ci95": per_row(|t| t.ratio_ci.map_or(serde_json::Value::Null, |(lo, hi)| serde_json::json!([lo, hi]))),
            "last_weight_l1": per_row(|t| f64::from(t.last_weight_l1).into()),
            "device_reserved_mib": per_row(|t| t.device_reserved_mib.map_or(serde_json::Value::Null, Into::into)),
        });
        println!("{v}");
    } else {
        println!(
            "search iteration (alpha + weight step), {} bits {}, batch {} at {}x{} LR, {} iterations:",
            args.space, bits, args.batch, args.lr_size, args.lr_size, args.iters
        );
        for t in &timings {
            let ci = t
                .ratio_ci
                .map(|(lo, hi)| format!(", 95% CI {lo:.3}–{hi:.3}"))
                .unwrap_or_default();
            let memory = t
                .device_reserved_mib
                .map(|m| format!("   device memory reserved {m:.0} MiB"))
                .unwrap_or_default();
            println!(
                "  {:<20} {:>9.1} ms/iter   {:.3}× {reference_name} (median per round{ci})   last L1 {:.6}{memory}",
                t.name, t.ms_per_iter, t.ratio, t.last_weight_l1
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SearchStepArgs,
    }

    /// `measure` of san and shared, one iteration of a 1 × 4² batch, plus `extra` options.
    fn tiny(extra: &[&str]) -> (Vec<ModeTiming>, usize) {
        let base = [
            "t",
            "--mode",
            "san,shared",
            "--batch",
            "1",
            "--lr-size",
            "4",
            "--iters",
            "1",
            "--warmup",
            "0",
        ];
        let cli = Cli::parse_from(base.iter().chain(extra));
        measure(&cli.args).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_mode_and_the_fp_floor_are_timed_against_shared() {
        let (t, reference) = tiny(&["--fp-floor"]);
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["san", "shared", "fp (bits 32)"]);
        assert_eq!(reference, 1);
        assert_eq!(t[1].ratio, 1.0);
        assert!(
            t.iter()
                .all(|t| t.ms_per_iter > 0.0 && t.ratio > 0.0 && t.last_weight_l1.is_finite()),
            "{t:?}"
        );
    }

    /// `--adq` takes core's names of the residual modes and refuses others.
    #[test]
    fn adq_takes_cores_residual_names() {
        let cli = Cli::parse_from(["t", "--adq", "adadm"]);
        assert_eq!(cli.args.adq, Residual::AdaDm);
        assert_eq!(Cli::parse_from(["t"]).args.adq, Residual::Adq);
        assert!(Cli::try_parse_from(["t", "--adq", "adaq"]).is_err());
    }

    /// Rows of each backend are named after it and computed from the same seeds: the same
    /// backend twice gives the same losses, row for row.
    #[test]
    fn every_backend_gets_the_same_rows_and_seeds() {
        let (t, reference) = tiny(&["--backend", "flex,flex"]);
        let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            names,
            ["san flex", "shared flex", "san flex", "shared flex"]
        );
        assert_eq!(reference, 1);
        assert_eq!(t[0].last_weight_l1, t[2].last_weight_l1);
        assert_eq!(t[1].last_weight_l1, t[3].last_weight_l1);
        assert_ne!(
            t[0].last_weight_l1, t[1].last_weight_l1,
            "san and shared differ"
        );
    }
}
