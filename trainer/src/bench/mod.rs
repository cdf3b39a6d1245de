//! `trainer bench`: every benchmark of the trainer (training step, search iteration, SAN's
//! noise, core's integer engine) and the statistics they report. Nothing outside this
//! module depends on it except the command line.

pub mod infer;
pub mod noise;
pub mod search_step;
pub mod stats;
pub mod train_step;

use anyhow::Result;
use clap::Subcommand;
use quantnas_core::arch::SCALE;
use rand::Rng;
use rand::rngs::StdRng;

use crate::data::Batch;

/// Time a training step, a search iteration, SAN's noise or an upscale on core's engine;
/// each compares its variants interleaved in the same run.
#[derive(Debug, Clone, Subcommand)]
pub enum BenchCommand {
    /// Milliseconds per training step on each backend (flex, and ndarray when built with
    /// `--features ndarray`), same weights and batches for all.
    ///
    /// Example: `trainer bench train-step --arch espcn --bits 8 --batch 16 --patch 32`
    TrainStep(train_step::TrainStepArgs),
    /// Milliseconds per search iteration (alpha step + weight step) for each mixing mode
    /// (`san`, `shared`, `independent`), all in the same run.
    ///
    /// Example: `trainer bench search-step --mode san,shared --batch 16 --lr-size 32`
    SearchStep(search_step::SearchStepArgs),
    /// Time of one upscale on core's integer engine (per conv kernel and thread count) vs
    /// the engine's own f32 path on the same weights, interleaved.
    ///
    /// Example: `trainer bench infer --arch web/models/quantnas-basic-b-mixed48.qnm --isa all`
    Infer(infer::InferArgs),
    /// Nanoseconds per standard-normal sample: SAN's ziggurat, the polar method it
    /// replaced, and burn's `Tensor::random`, interleaved in the same run.
    ///
    /// Example: `trainer bench noise --samples 4194304 --rounds 5`
    Noise(noise::NoiseArgs),
}

/// Runs `trainer bench`.
///
/// # Errors
/// Those of the chosen benchmark.
pub fn run(cmd: &BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::TrainStep(args) => train_step::run(args),
        BenchCommand::SearchStep(args) => search_step::run(args),
        BenchCommand::Infer(args) => infer::run(args),
        BenchCommand::Noise(args) => noise::run(args),
    }
}

/// A batch of `n` uniformly random LR crops of side `lr_size` and their HR targets
/// (timing does not depend on pixel values); LR values are drawn before HR values.
pub fn random_batch(rng: &mut StdRng, n: usize, lr_size: usize, index: u64) -> Batch {
    let hr_size = lr_size * SCALE;
    Batch {
        index,
        n,
        lr_size,
        hr_size,
        lr: (0..n * 3 * lr_size * lr_size)
            .map(|_| rng.random::<f32>())
            .collect(),
        hr: (0..n * 3 * hr_size * hr_size)
            .map(|_| rng.random::<f32>())
            .collect(),
    }
}
