//! `trainer bench search-step`: milliseconds per search iteration (alpha step + weight
//! step) for each mixing mode, all measured in the same run on the same data.

use std::time::Instant;

use anyhow::Result;
use burn::tensor::Device;
use clap::Args;
use quantnas_core::arch::{Residual, SearchSpace};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::alphas::{Alphas, SearchBits};
use super::bitmixer::{MixContext, MixMode, SanDelta};
use super::noise::NoiseSource;
use super::penalty::BitOpsPenalty;
use super::step::{IterParams, SearchLearner, alpha_adam, weight_adam};
use super::supernet::Supernet;
use crate::data::Batch;

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
    /// Residual wrapping.
    #[arg(long, value_enum, default_value = "adq")]
    pub adq: ResidualArg,
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
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `--adq` values.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ResidualArg {
    /// ADQ (default).
    Adq,
    /// AdaDM.
    Adadm,
    /// Plain batch norm in the branch.
    Batchnorm,
    /// Plain residual.
    None,
}

impl From<ResidualArg> for Residual {
    fn from(r: ResidualArg) -> Residual {
        match r {
            ResidualArg::Adq => Residual::Adq,
            ResidualArg::Adadm => Residual::AdaDm,
            ResidualArg::Batchnorm => Residual::BatchNorm,
            ResidualArg::None => Residual::None,
        }
    }
}

fn random_batch(rng: &mut StdRng, n: usize, lr: usize) -> Batch {
    let hr = lr * 4;
    let lr_v = (0..n * 3 * lr * lr).map(|_| rng.random::<f32>()).collect();
    let hr_v = (0..n * 3 * hr * hr).map(|_| rng.random::<f32>()).collect();
    Batch {
        index: 0,
        n,
        lr_size: lr,
        hr_size: hr,
        lr: lr_v,
        hr: hr_v,
    }
}

/// A learner for timing and tests.
pub fn learner(
    space: SearchSpace,
    residual: Residual,
    ctx: MixContext,
    lr_size: usize,
    device: &Device,
) -> Result<SearchLearner> {
    let bits = SearchBits(ctx.bits.clone());
    let net = Supernet::init(space, residual, &ctx, 1, device);
    let penalty = BitOpsPenalty::new(&net.graph, space.slots().len(), &bits, lr_size, lr_size)?;
    Ok(SearchLearner {
        net,
        alphas: Alphas::zeros(space, &bits, device),
        weight_optim: weight_adam(),
        alpha_optim: alpha_adam(),
        ctx,
        penalty,
        device: device.clone(),
    })
}

/// Runs the benchmark.
pub fn run(args: &SearchStepArgs) -> Result<()> {
    let bits = SearchBits::parse(&args.bits)?;
    let device = Device::flex().autodiff();
    device.seed(1);
    let mut rng = StdRng::seed_from_u64(7);
    let batches: Vec<Batch> = (0..2)
        .map(|_| random_batch(&mut rng, args.batch, args.lr_size))
        .collect();
    let mut learners = args
        .mode
        .iter()
        .map(|&mode| {
            let ctx = MixContext {
                mode,
                delta: SanDelta::Step,
                bits: bits.0.clone(),
                noise: true,
                rng: NoiseSource::new(1),
            };
            learner(args.space, args.adq.into(), ctx, args.lr_size, &device)
        })
        .collect::<Result<Vec<_>>>()?;
    let p = IterParams {
        alpha_lr: 3e-4,
        weight_lr: 1e-3,
        eta: 1e-4,
        mu: 0.0,
        grad_clip: 5.0,
    };
    // rounds[i][k]: milliseconds of mode k in timed round i.
    let mut rounds: Vec<Vec<f64>> = Vec::with_capacity(args.iters);
    for it in 0..args.warmup + args.iters {
        let mut round = Vec::with_capacity(learners.len());
        for l in &mut learners {
            let t = Instant::now();
            l.iterate(&batches[0], &batches[1], p)?;
            round.push(t.elapsed().as_secs_f64() * 1e3);
        }
        if it >= args.warmup {
            rounds.push(round);
        }
    }
    let ms: Vec<f64> = (0..learners.len())
        .map(|k| rounds.iter().map(|r| r[k]).sum::<f64>() / rounds.len().max(1) as f64)
        .collect();
    // Machine noise moves whole rounds; the per-round ratio to a reference mode cancels
    // most of it, and its median ignores the odd disturbed round.
    let reference = args
        .mode
        .iter()
        .position(|&m| m == MixMode::Shared)
        .unwrap_or(0);
    let ratios: Vec<f64> = (0..learners.len())
        .map(|k| median(rounds.iter().map(|r| r[k] / r[reference]).collect()))
        .collect();
    let reference_name = mode_name(args.mode[reference]);
    if args.json {
        // One number per mode, keyed by the mode's name.
        let per_mode = |values: &[f64]| -> serde_json::Map<String, serde_json::Value> {
            args.mode
                .iter()
                .zip(values)
                .map(|(&m, &v)| (mode_name(m), v.into()))
                .collect()
        };
        let v = serde_json::json!({
            "space": args.space.name(), "bits": bits.to_string(), "batch": args.batch,
            "lr_size": args.lr_size, "iters": args.iters, "ms_per_iter": per_mode(&ms),
            "reference": reference_name, "median_round_ratio": per_mode(&ratios),
        });
        println!("{v}");
    } else {
        println!(
            "search iteration (alpha + weight step), {} bits {}, batch {} at {}x{} LR, {} iterations:",
            args.space, bits, args.batch, args.lr_size, args.lr_size, args.iters
        );
        for ((&m, v), r) in args.mode.iter().zip(&ms).zip(&ratios) {
            println!(
                "  {:<12} {:>9.1} ms/iter   {:.3}× {reference_name} (median per round)",
                mode_name(m),
                v,
                r
            );
        }
    }
    Ok(())
}

/// A mode's name as the command line spells it (`san`, `shared`, `independent`).
fn mode_name(m: MixMode) -> String {
    format!("{m:?}").to_lowercase()
}

/// The median (mean of the middle two for an even count); NaN for none.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
