//! `trainer bench train-step`: milliseconds per training step (forward, L1, backward,
//! clipping, Adam) of a network on every compiled-in backend, in the same run, on the
//! same seeded weights and batches, so the numbers and the losses are comparable.

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::backend::BackendKind;
use crate::data::Batch;
use crate::nn::Network;
use crate::train::{Learner, parse_arch};

use super::random_batch;

/// Options of `trainer bench train-step`.
#[derive(Debug, Clone, Args)]
pub struct TrainStepArgs {
    /// Network: `espcn`, `srresnet`, `rfdn` or a genotype JSON file.
    #[arg(long, default_value = "espcn")]
    pub arch: String,
    /// Bits (2, 3, 4, 8, 32; default 8 for fixed networks).
    #[arg(long)]
    pub bits: Option<u32>,
    /// Samples per step.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// LR patch side.
    #[arg(long, default_value_t = 32)]
    pub patch: usize,
    /// Timed steps per backend.
    #[arg(long, default_value_t = 10)]
    pub steps: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Devices to time on, comma separated: cpu (flex), cuda, cuda:N, wgpu, auto, ndarray
    /// (default: every CPU backend compiled in).
    #[arg(
        long = "device",
        alias = "backends",
        value_name = "DEVICE",
        value_delimiter = ','
    )]
    pub backends: Vec<BackendKind>,
}

/// One backend's measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct StepTiming {
    /// Backend.
    pub backend: BackendKind,
    /// Mean milliseconds per timed step.
    pub ms_per_step: f64,
    /// Loss of the last step.
    pub last_loss: f32,
}

/// Times `args.steps` training steps on `backend`.
///
/// # Errors
/// An unknown network or backend, or a diverging step.
pub fn time_train_step(args: &TrainStepArgs, backend: BackendKind) -> Result<StepTiming> {
    let arch = parse_arch(&args.arch, args.bits)?;
    let device = backend.autodiff_device()?;
    let model = Network::init(&arch.graph(), 1, &device)?;
    let mut learner = Learner::new(model, device, 5.0);
    let mut rng = StdRng::seed_from_u64(5);
    let batches: Vec<Batch> = (0..args.warmup + args.steps)
        .map(|i| random_batch(&mut rng, args.batch, args.patch, i as u64))
        .collect();
    let mut last = 0.0;
    for b in &batches[..args.warmup] {
        last = learner.step(b, 1e-3)?.loss;
    }
    let t = Instant::now();
    for b in &batches[args.warmup..] {
        last = learner.step(b, 1e-3)?.loss;
    }
    let ms = t.elapsed().as_secs_f64() * 1e3 / args.steps.max(1) as f64;
    Ok(StepTiming {
        backend,
        ms_per_step: ms,
        last_loss: last,
    })
}

/// Runs `trainer bench train-step`.
///
/// # Errors
/// See [`time_train_step`].
pub fn run(args: &TrainStepArgs) -> Result<()> {
    let backends = if args.backends.is_empty() {
        BackendKind::available()
    } else {
        args.backends
            .iter()
            .map(|b| b.resolve())
            .collect::<Result<Vec<_>>>()?
    };
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "train step: {} batch {} LR {}x{} ({} warm-up + {} timed steps, {threads} CPU threads)",
        args.arch, args.batch, args.patch, args.patch, args.warmup, args.steps
    );
    if !backends.contains(&BackendKind::Ndarray) {
        println!("(ndarray not compiled in; build with `--features ndarray` to time it too)");
    }
    let mut rows = Vec::new();
    for b in backends {
        let r = time_train_step(args, b)?;
        println!(
            "{:<8} {:>9.1} ms/step   last loss {:.6}",
            b.name(),
            r.ms_per_step,
            r.last_loss
        );
        rows.push(r);
    }
    if let (Some(f), Some(n)) = (
        rows.iter().find(|r| r.backend == BackendKind::Flex),
        rows.iter().find(|r| r.backend == BackendKind::Ndarray),
    ) {
        println!(
            "flex is {:.1}x faster than ndarray",
            n.ms_per_step / f.ms_per_step
        );
    }
    Ok(())
}
