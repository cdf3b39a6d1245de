//! `trainer search`: the command-line face of the QuantNAS search.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use quantnas_core::arch::SearchSpace;

use super::bitmixer::{MixMode, SanDelta};
use super::config::{SearchConfig, SearchOverrides};
use super::run::{SearchOutcome, Session, search};
use crate::archspec::ResidualArg;
use crate::train::config::Preset;

/// Search an x4 super-resolution network and its per-layer bit widths (QuantNAS).
///
/// A supernet holds every candidate op of every slot at every bit width; alternating steps
/// train its weights (L1) and the architecture parameters (L1 + η·BitOps/BitOps₀ + μ(t)·
/// entropy) on two disjoint halves of the training images. The argmax of the alphas is the
/// found genotype, written as JSON (for `trainer train --arch`) and drawn as SVG.
///
/// With no options: Basic space B, bits {4,8}, SAN + ADQ + entropy, η = 3e-2, on the bundled
/// T91 images, in under 10 minutes on 2 cores (`--preset cpu`).
///
/// Example: `trainer search --penalty 1e-4 --out runs/search-e4`
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// Settings to start from; the options below override them.
    #[arg(long, value_enum, default_value = "cpu")]
    pub preset: Preset,
    /// Run folder to create (default: runs/search-<seconds since 1970>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Continue the search in this folder from its last checkpoint (its own settings
    /// apply); a search killed before its first checkpoint starts afresh, a finished one
    /// writes its result again.
    #[arg(long, conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// Search space: basic-b (small lists, for quantized search), basic-a (big lists, for
    /// full-precision search) or rfdn.
    #[arg(long)]
    pub space: Option<SearchSpace>,
    /// Bit widths to search over, e.g. `4,8`; `32` alone is a full-precision search.
    #[arg(long)]
    pub bits: Option<String>,
    /// How bit widths are mixed: san (noise, default), shared (direct quantization, "w/o
    /// SAN"), independent (one weight copy per width).
    #[arg(long, value_enum)]
    pub mode: Option<MixMode>,
    /// SAN's noise scale: `step` (the quantizer's own step, default) or `range` (the
    /// reference code's (max−min)/(2^b−1)).
    #[arg(long, value_enum)]
    pub san_delta: Option<SanDelta>,
    /// Residual wrapping: adq (default), adadm, batchnorm, none.
    #[arg(long, value_enum)]
    pub adq: Option<ResidualArg>,
    /// BitOps penalty η (larger: cheaper networks).
    #[arg(long)]
    pub penalty: Option<f64>,
    /// Peak entropy coefficient of the μ(t) schedule.
    #[arg(long)]
    pub entropy_coef: Option<f64>,
    /// Epochs (checkpoints, validation and the entropy schedule follow them).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Iterations (alpha step + weight step) per epoch.
    #[arg(long)]
    pub iters_per_epoch: Option<usize>,
    /// Samples per batch.
    #[arg(long)]
    pub batch: Option<usize>,
    /// LR crop side in pixels.
    #[arg(long)]
    pub lr_size: Option<usize>,
    /// Alpha learning rate.
    #[arg(long)]
    pub alpha_lr: Option<f64>,
    /// Peak weight learning rate (cosine decay).
    #[arg(long)]
    pub weight_lr: Option<f64>,
    /// Seed of weights, data and noise.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Training images (split into a weight half and an alpha half).
    #[arg(long)]
    pub train_data: Option<PathBuf>,
    /// Validation images (centre crops scored each epoch).
    #[arg(long)]
    pub val_data: Option<PathBuf>,
    /// Data loader threads.
    #[arg(long)]
    pub workers: Option<usize>,
    /// BitOps budget in GBitOps at 32×32 LR: an argmax genotype above it is moved to
    /// cheaper choices, the least alpha given up per BitOps saved first (the plain argmax
    /// is kept as `genotype_argmax.json`). `trainer pipeline` defaults to 3.
    #[arg(long)]
    pub max_gbitops: Option<f64>,
    /// No progress output. Without it, stderr shows a bar on a terminal and plain lines
    /// (every 5% of the iterations, each epoch) otherwise.
    #[arg(long)]
    pub quiet: bool,
}

impl SearchArgs {
    /// The overrides given.
    pub fn overrides(&self) -> SearchOverrides {
        SearchOverrides {
            space: self.space,
            bits: self.bits.clone(),
            mode: self.mode,
            san_delta: self.san_delta,
            adq: self.adq,
            penalty: self.penalty,
            entropy_coef: self.entropy_coef,
            epochs: self.epochs,
            iters_per_epoch: self.iters_per_epoch,
            batch: self.batch,
            lr_size: self.lr_size,
            alpha_lr: self.alpha_lr,
            weight_lr: self.weight_lr,
            seed: self.seed,
            train_data: self.train_data.clone(),
            val_data: self.val_data.clone(),
            workers: self.workers,
            max_gbitops: self.max_gbitops,
        }
    }
}

/// A new run folder name under `runs/`.
pub fn default_run_dir(prefix: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Path::new("runs").join(format!("{prefix}-{secs}"))
}

/// Runs the search (new or resumed) and returns its outcome.
///
/// # Errors
/// As [`search`].
pub fn run_search(args: &SearchArgs) -> Result<SearchOutcome> {
    let session = Session {
        quiet: args.quiet,
        stop_at: None,
    };
    let out = match &args.resume {
        Some(run) => search(run, None, &session)?,
        None => {
            let config = SearchConfig::resolve(args.preset, &args.overrides())?;
            let run = args
                .out
                .clone()
                .unwrap_or_else(|| default_run_dir("search"));
            search(&run, Some(&config), &session)?
        }
    };
    out.ok_or_else(|| anyhow::anyhow!("the search stopped before its end"))
}

/// `trainer search`.
///
/// # Errors
/// As [`search`].
pub fn run(args: &SearchArgs) -> Result<()> {
    let out = run_search(args)?;
    println!("{}", out.genotype.to_json());
    println!(
        "BitOps @32x32: {:.3} G   params: {}   mean max softmax: {:.3}   time: {:.0} s",
        out.bitops as f64 / 1e9,
        out.params,
        out.max_prob,
        out.elapsed_s
    );
    println!("run folder: {}", out.run.display());
    println!(
        "retrain it (the pipeline's recipe): cargo run --release -p trainer -- train --arch {} --steps {} --lr {}",
        out.run.join("genotype.json").display(),
        crate::pipeline::CPU_TRAIN_STEPS,
        crate::pipeline::CPU_TRAIN_LR
    );
    Ok(())
}
