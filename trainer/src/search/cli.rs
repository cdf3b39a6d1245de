//! `trainer search`: the command-line face of the QuantNAS search.

use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgMatches, Args};

use super::config::SearchConfig;
use super::run::{SearchOutcome, search};
use crate::run::{Session, default_run_dir};

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
    /// Run folder to create (default: runs/search-<seconds since 1970>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Continue the search in this folder from its last checkpoint (its own settings
    /// apply); a search killed before its first checkpoint starts afresh, a finished one
    /// writes its result again.
    #[arg(long, conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// No progress output. Without it, stderr shows a bar on a terminal and plain lines
    /// (every 5% of the iterations, each epoch) otherwise.
    #[arg(long)]
    pub quiet: bool,
    /// The search's settings.
    #[command(flatten)]
    pub config: SearchConfig,
}

/// Runs the search (new or resumed) and returns its outcome.
///
/// # Errors
/// As [`search`].
pub fn run_search(args: &SearchArgs, m: &ArgMatches) -> Result<SearchOutcome> {
    let session = Session {
        progress: !args.quiet,
        stop_after: None,
    };
    let out = match &args.resume {
        Some(run) => search(run, None, &session)?,
        None => {
            let mut config = args.config.clone();
            config.resolve(m)?;
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
pub fn run(args: &SearchArgs, m: &ArgMatches) -> Result<()> {
    let out = run_search(args, m)?;
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
        crate::train::config::GENOTYPE_CPU_STEPS,
        crate::train::config::GENOTYPE_CPU_LR
    );
    Ok(())
}
