//! `trainer train`: the command-line face of the training loop.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::{ArgMatches, Args};

use super::config::{TrainConfig, parse_arch};
use super::fit::{resume, start};
use crate::run::Session;

/// Train a network with quantization-aware training (LSQ weights, HWGQ activations).
///
/// L1 loss on RGB, Adam, cosine learning-rate decay, global gradient-norm clipping.
/// Every run writes a folder (config.json, log.txt, metrics.csv, checkpoints/best and
/// checkpoints/last, samples/); a killed run continues with `--resume RUN_DIR`.
///
/// Example: `trainer train --arch espcn --bits 8 --out runs/espcn8` (the `cpu` preset:
/// T91, validated on data/Val, under 30 minutes on 2 cores).
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Network: `espcn`, `srresnet`, `rfdn`, or a genotype JSON file from the search.
    #[arg(long, required_unless_present = "resume")]
    pub arch: Option<String>,

    /// Bits of every layer (2, 3, 4, 8, or 32 = full precision). Default 8 for a fixed network;
    /// for a genotype, its own per-slot bits unless given.
    #[arg(long)]
    pub bits: Option<u32>,

    /// Run folder to create (default: runs/NETWORK-<seconds since 1970>, NETWORK the network's name).
    #[arg(long, short)]
    pub out: Option<PathBuf>,

    /// Continue the run in this folder from its last checkpoint (its own settings apply);
    /// a run killed before its first checkpoint starts afresh, a finished one returns.
    #[arg(long, conflicts_with_all = ["arch", "out"])]
    pub resume: Option<PathBuf>,

    /// The run's settings.
    #[command(flatten)]
    pub config: TrainConfig,

    /// No progress output. Without it, stderr shows a bar on a terminal and plain lines
    /// (every 5% of the steps, each validation) otherwise.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `trainer train`.
///
/// # Errors
/// Bad settings, unreadable data, a diverged run, or unwritable files.
pub fn run(args: &TrainArgs, m: &ArgMatches) -> Result<()> {
    let session = Session {
        progress: !args.quiet,
        stop_after: None,
    };
    let summary = if let Some(run) = &args.resume {
        println!("resuming {}", run.display());
        let s = resume(run, &session)?;
        (run.clone(), s)
    } else {
        let Some(arch) = &args.arch else {
            bail!("--arch is required for a new run")
        };
        let mut config = args.config.clone();
        config.resolve(parse_arch(arch, args.bits)?, m)?;
        let out = args.out.clone().unwrap_or_else(|| {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            PathBuf::from("runs").join(format!("{}-{t}", config.arch.name()))
        });
        println!(
            "training {} into {} ({} steps, batch {}, patch {}, lr {})",
            config.arch.name(),
            out.display(),
            config.steps,
            config.batch,
            config.patch,
            config.lr
        );
        (out.clone(), start(&out, &config, &session)?)
    };
    let (run, s) = summary;
    println!(
        "done: {} steps in {:.0} s; best validation PSNR {:.3} dB at step {} ({})",
        s.steps,
        s.elapsed_s,
        s.best_psnr,
        s.best_step,
        run.join("checkpoints/best").display()
    );
    Ok(())
}
