//! `trainer pipeline`: search → retrain the found genotype with QAT → export the model
//! file → evaluate it with core's integer engine on the test sets (Set5, Set14, B100)
//! against bicubic → a short report (markdown + JSON) in the run folder.
//!
//! Validation (the search's PSNR column, the retraining's best checkpoint) uses
//! `--val-data` (default `data/Val`, five BSD200 images); it is never a test set.
//!
//! ```text
//! RUN/search/        the search run folder (genotype.json, alphas.svg, …)
//! RUN/train/         the retraining run folder (checkpoints, metrics.csv, …)
//! RUN/model.qnm      the exported integer model (best validation checkpoint)
//! RUN/eval/NAME.json `trainer eval --json` of the model on each test set (NAME: Set5, …)
//! RUN/report.md      genotype, cost, PSNR/SSIM per dataset vs bicubic, timings
//! RUN/report.json    the same, machine-readable
//! ```
//! Every stage is resumable: run the same command with `--resume RUN` after a kill, at any
//! moment. A finished search (`search/genotype.json`, written last) is skipped; a search or
//! retraining folder continues from its last checkpoint, or starts afresh when the kill
//! came before its first one (a folder without `config.json` is created again); export,
//! evaluation and the report are redone. The retraining must be of the search's genotype.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{ArgMatches, Args};
use quantnas_core::arch::{Arch, Bits, SCALE};
use quantnas_core::cost::{REPORT_LR_SIDE, cost};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::eval::evaluate;
use crate::export::{export_run, write_model};
use crate::run::dir::{CONFIG_FILE, has_config, read_config_as, write_file_atomic};
use crate::run::{Session, default_run_dir};
use crate::search::config::SearchConfig;
use crate::search::run::search;
use crate::settings::{Preset, fill_ungiven};
use crate::train::config::{GENOTYPE_CPU_LR, GENOTYPE_CPU_STEPS, TrainConfig};
use crate::train::fit::{RunSummary, resume, start};
use crate::train::folder::read_config;

/// Search, retrain, export and evaluate in one go, with a report.
///
/// Takes every option of `trainer search`, plus the retraining's. `--preset` picks both
/// stages' presets: cpu retrains a genotype with the defaults shown under Retraining,
/// paper with `trainer train --preset paper`'s values. With the cpu preset the whole
/// pipeline takes under an hour on 2 cores. No BitOps budget applies unless
/// `--max-gbitops` sets one: the penalty alone sets the network's cost, as in the paper.
///
/// Example: `trainer pipeline --out runs/pipeline` (and `--resume runs/pipeline` after a kill)
#[derive(Debug, Clone, Args)]
pub struct PipelineArgs {
    /// Pipeline folder to create (default: runs/pipeline-<seconds since 1970>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Continue the pipeline in this folder: finished stages are kept, the interrupted
    /// one continues from its last checkpoint (the folder's own settings apply).
    #[arg(long, conflicts_with = "out")]
    pub resume: Option<PathBuf>,
    /// No progress output (see `trainer search --help`).
    #[arg(long)]
    pub quiet: bool,
    /// Test sets to evaluate and report, repeatable (none of them may be --val-data).
    #[arg(long, default_values = TEST_SETS)]
    pub dataset: Vec<PathBuf>,
    /// The search's settings; `--preset` also picks the retraining's preset.
    #[command(flatten, next_help_heading = "Search")]
    pub search: SearchConfig,
    /// The retraining's settings.
    #[command(flatten, next_help_heading = "Retraining")]
    pub train: RetrainArgs,
}

/// The retraining stage's options (seed and data are the search's).
#[derive(Debug, Clone, PartialEq, Args, Serialize, Deserialize)]
pub struct RetrainArgs {
    /// Retraining steps.
    #[arg(long, default_value_t = retrain_cpu().train_steps)]
    pub train_steps: u64,
    /// Retraining batch size.
    #[arg(long, default_value_t = retrain_cpu().train_batch)]
    pub train_batch: usize,
    /// Retraining LR patch side in pixels.
    #[arg(long, default_value_t = retrain_cpu().train_patch)]
    pub train_patch: usize,
    /// Retraining peak learning rate.
    #[arg(long, default_value_t = retrain_cpu().train_lr)]
    pub train_lr: f64,
    /// Validate/checkpoint the retraining every N steps.
    #[arg(long, default_value_t = retrain_cpu().train_eval_every)]
    pub train_eval_every: u64,
}

fn retrain_cpu() -> RetrainArgs {
    RetrainArgs::preset(&Arch::Espcn { bits: Bits::B8 }, Preset::Cpu)
}

impl RetrainArgs {
    /// The pipeline's retraining of `arch` with `preset`: the training preset, with the
    /// genotype recipe's steps and learning rate on cpu.
    fn preset(arch: &Arch, preset: Preset) -> Self {
        let t = TrainConfig::preset(arch.clone(), preset);
        let (steps, lr) = match preset {
            Preset::Cpu => (GENOTYPE_CPU_STEPS, GENOTYPE_CPU_LR),
            Preset::Paper => (t.steps, t.lr),
        };
        RetrainArgs {
            train_steps: steps,
            train_batch: t.batch,
            train_patch: t.patch,
            train_lr: lr,
            train_eval_every: t.eval_every,
        }
    }

    /// The retraining's settings for `arch` found by `search`.
    ///
    /// # Errors
    /// Settings that cannot train `arch` (see [`TrainConfig::validate`]).
    pub fn config(&self, arch: &Arch, search: &SearchConfig) -> Result<TrainConfig> {
        let config = TrainConfig {
            steps: self.train_steps,
            batch: self.train_batch,
            patch: self.train_patch,
            lr: self.train_lr,
            eval_every: self.train_eval_every,
            seed: search.seed,
            train_data: search.train_data.clone(),
            val_data: search.val_data.clone(),
            backend: search.backend,
            ..TrainConfig::preset(arch.clone(), search.preset)
        };
        config.validate()?;
        Ok(config)
    }
}

/// A pipeline's settings, resolved once and saved as `RUN/config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineConfig {
    /// The search's.
    pub search: SearchConfig,
    /// The retraining's (the found network's preset values filled in).
    pub retrain: RetrainArgs,
    /// Test sets.
    pub datasets: Vec<PathBuf>,
}

impl PipelineConfig {
    /// Resolves the command line: presets fill what was not given.
    ///
    /// # Errors
    /// Settings that cannot work, or a test set that is the validation set.
    pub fn resolve(args: &PipelineArgs, m: &ArgMatches) -> Result<Self> {
        let mut search = args.search.clone();
        search.resolve(m)?;
        check_test_sets(&args.dataset, &search.val_data)?;
        let mut retrain = args.train.clone();
        fill_ungiven!(
            m,
            retrain,
            Self::retrain_preset(&search)?,
            [
                train_steps,
                train_batch,
                train_patch,
                train_lr,
                train_eval_every
            ]
        );
        Ok(PipelineConfig {
            search,
            retrain,
            datasets: args.dataset.clone(),
        })
    }

    /// The retraining settings a pipeline with `search` starts from (its preset's; they
    /// depend only on whether the network is quantized).
    ///
    /// # Errors
    /// A malformed bit-width list.
    pub fn retrain_preset(search: &SearchConfig) -> Result<RetrainArgs> {
        let bits = if search.search_bits()?.0 == [Bits::B32] {
            Bits::B32
        } else {
            Bits::B8
        };
        Ok(RetrainArgs::preset(&Arch::Espcn { bits }, search.preset))
    }

    /// Checks settings built without the command line (`trainer study`): the search's,
    /// and that no test set is the validation set.
    ///
    /// # Errors
    /// As [`SearchConfig::validate`] and [`PipelineConfig::resolve`].
    pub fn validate(&self) -> Result<()> {
        self.search.validate()?;
        check_test_sets(&self.datasets, &self.search.val_data)
    }
}

/// The bundled test sets, the pipeline's default `--dataset`s.
pub const TEST_SETS: [&str; 3] = ["data/Set5", "data/Set14", "data/B100"];

/// Runs the pipeline.
///
/// # Errors
/// The first stage that fails, with its context.
pub fn run(args: &PipelineArgs, m: &ArgMatches) -> Result<()> {
    let started = Instant::now();
    let root = args
        .resume
        .clone()
        .or_else(|| args.out.clone())
        .unwrap_or_else(|| default_run_dir("pipeline"));
    std::fs::create_dir_all(&root).with_context(|| format!("cannot create {}", root.display()))?;
    // Resolved once and kept: a resumed pipeline runs with its own settings.
    let config = if args.resume.is_some() && has_config(&root) {
        read_config_as::<PipelineConfig>(&root)?
    } else {
        let c = PipelineConfig::resolve(args, m)?;
        write_file_atomic(&root.join(CONFIG_FILE), &serde_json::to_vec_pretty(&c)?)?;
        c
    };
    run_stages(&root, &config, args.quiet, started)
}

/// Runs the pipeline of `config` in `root` (the library entry point, used by `trainer
/// study`): writes `config.json` when the folder has none, continues the pipeline there
/// when it has the same one, and refuses a folder of other settings.
///
/// # Errors
/// A folder of another pipeline, or the first stage that fails.
pub fn run_in(root: &Path, config: &PipelineConfig, quiet: bool) -> Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    if has_config(root) {
        let there = read_config_as::<PipelineConfig>(root)?;
        if &there != config {
            anyhow::bail!(
                "{} holds a pipeline with other settings; remove it or use another folder",
                root.display()
            );
        }
    } else {
        config.validate()?;
        write_file_atomic(&root.join(CONFIG_FILE), &serde_json::to_vec_pretty(config)?)?;
    }
    run_stages(root, config, quiet, started)
}

/// The search of `config` in `dir`, resumed if the folder has a checkpoint and skipped if
/// it finished; returns its `genotype.json`.
///
/// # Errors
/// As [`search`].
pub fn search_once(dir: &Path, config: &SearchConfig, quiet: bool) -> Result<PathBuf> {
    let genotype_file = dir.join("genotype.json");
    if !genotype_file.is_file() {
        let session = Session {
            progress: !quiet,
            stop_after: None,
        };
        // config.json is written atomically: with it the folder is a search (resumed from
        // its checkpoint or, killed before the first, started afresh); without it the
        // search never started and its folder is created again.
        if has_config(dir) {
            search(dir, None, &session)?;
        } else {
            search(dir, Some(config), &session)?;
        }
    }
    Ok(genotype_file)
}

/// The stages, in `root` whose `config.json` is `config`.
fn run_stages(root: &Path, config: &PipelineConfig, quiet: bool, started: Instant) -> Result<()> {
    let root = root.to_path_buf();
    let search_config = &config.search;

    // 1. Search (resumed if its folder has a checkpoint, skipped if it finished).
    let genotype_file = search_once(&root.join("search"), search_config, quiet)?;
    let arch = crate::archspec::resolve_arch(&genotype_file.to_string_lossy(), None)?;
    let search_s = started.elapsed().as_secs_f64();
    eprintln!("searched genotype: {}", genotype_file.display());

    // 2. Retrain from scratch with QAT.
    let train_dir = root.join("train");
    let t0 = Instant::now();
    let retrain_config = config.retrain.config(&arch, search_config)?;
    let summary = retrain(&train_dir, &retrain_config, quiet)?;
    let train_s = t0.elapsed().as_secs_f64();

    // 3–4. Export the best checkpoint, evaluate the integer model and bicubic.
    let rows = export_and_evaluate(&root, &train_dir, &config.datasets)?;
    write_report(
        &root,
        &arch,
        &rows,
        summary.steps,
        search_s,
        train_s,
        started.elapsed().as_secs_f64(),
    )?;
    println!("pipeline done: {}", root.join("report.md").display());
    Ok(())
}

/// Trains `config` in `train_dir`: continues the run there (which must be of the same
/// network), or starts it.
///
/// # Errors
/// A folder that trains another network, or a failed training.
pub fn retrain(train_dir: &Path, config: &TrainConfig, quiet: bool) -> Result<RunSummary> {
    let session = Session {
        progress: !quiet,
        stop_after: None,
    };
    if has_config(train_dir) {
        check_train_arch(train_dir, &config.arch)?;
        resume(train_dir, &session)
    } else {
        start(train_dir, config, &session)
    }
}

/// Test-set results of one model: the dataset, the model's report, bicubic's.
pub type EvalRows = Vec<(PathBuf, crate::eval::EvalReport, crate::eval::EvalReport)>;

/// Exports the best checkpoint of `train_dir` to `root/model.qnm` and evaluates it (core's
/// integer engine) and bicubic on `datasets`, writing the model's `root/eval/NAME.json`.
///
/// # Errors
/// A failed export, an unreadable dataset, unwritable files.
pub fn export_and_evaluate(
    root: &Path,
    train_dir: &Path,
    datasets: &[PathBuf],
) -> Result<EvalRows> {
    let model_path = root.join("model.qnm");
    let model = export_run(train_dir, "best")?;
    write_model(&model, &model_path)?;
    let eval_dir = root.join("eval");
    std::fs::create_dir_all(&eval_dir)
        .with_context(|| format!("cannot create {}", eval_dir.display()))?;
    let mut rows = Vec::new();
    for set in datasets {
        let ours = evaluate(&model_path.to_string_lossy(), set, SCALE)?;
        let bic = evaluate("bicubic", set, SCALE)?;
        let name = set
            .file_name()
            .map_or_else(|| "dataset".into(), |n| n.to_string_lossy().into_owned());
        let file = eval_dir.join(format!("{name}.json"));
        write_file_atomic(&file, serde_json::to_string(&ours)?.as_bytes())
            .with_context(|| format!("writing {}", file.display()))?;
        eprintln!(
            "{}: model {:.2} dB / {:.4}, bicubic {:.2} dB / {:.4}",
            set.display(),
            ours.mean_psnr,
            ours.mean_ssim,
            bic.mean_psnr,
            bic.mean_ssim
        );
        rows.push((set.clone(), ours, bic));
    }
    Ok(rows)
}

/// Refuses a test set that is also the validation set: a checkpoint picked on it would be
/// reported on it.
///
/// # Errors
/// The first test set that is `val`.
pub fn check_test_sets(sets: &[PathBuf], val: &Path) -> Result<()> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if let Some(set) = sets.iter().find(|s| same(s, val)) {
        anyhow::bail!(
            "--dataset {} is the validation set (--val-data); results are reported on test sets only",
            set.display()
        );
    }
    Ok(())
}

/// Checks that the retraining in `train_dir` is of `arch` (the search's genotype): a
/// folder from another search, or a search redone since, must not be continued as if it
/// were this one's.
///
/// # Errors
/// An unreadable `config.json`, or one of another architecture.
pub fn check_train_arch(train_dir: &Path, arch: &Arch) -> Result<()> {
    let config = read_config(train_dir)?;
    if &config.arch != arch {
        anyhow::bail!(
            "{} retrains {}, not the search's genotype {}; remove that folder to retrain the genotype, or use another --out",
            train_dir.display(),
            serde_json::to_string(&config.arch)?,
            serde_json::to_string(arch)?
        );
    }
    Ok(())
}

fn write_report(
    root: &Path,
    arch: &Arch,
    rows: &EvalRows,
    steps: u64,
    search_s: f64,
    train_s: f64,
    total_s: f64,
) -> Result<()> {
    let c = cost(&arch.graph(), REPORT_LR_SIDE, REPORT_LR_SIDE)?;
    let Arch::Genotype { genotype } = arch else {
        anyhow::bail!("the search returns genotypes")
    };
    let mut md = String::from("# QuantNAS pipeline report\n\n");
    md += &format!(
        "Genotype ({}, {}): {:.3} GBitOps at 32×32 LR, {} parameters, {} MMACs.\n\n| slot | op | bits |\n|---|---|---|\n",
        genotype.space,
        genotype.residual.name(),
        c.bitops as f64 / 1e9,
        c.params,
        c.macs / 1_000_000
    );
    for (slot, ch) in genotype.slots() {
        md += &format!("| {} | {} | {} |\n", slot.name, ch.op, ch.bits);
    }
    let argmax_file = root.join("search").join("genotype_argmax.json");
    let argmax_bitops = match std::fs::read_to_string(&argmax_file) {
        Ok(text) => {
            let g = quantnas_core::arch::Genotype::from_json(&text)
                .with_context(|| format!("reading {}", argmax_file.display()))?;
            let b = cost(&g.graph(), REPORT_LR_SIDE, REPORT_LR_SIDE)?.bitops;
            md += &format!(
                "\nThe search's argmax genotype (`search/genotype_argmax.json`) costs {:.3} GBitOps, above the budget; the moves that brought it within are in `search/log.txt`.\n",
                b as f64 / 1e9
            );
            Some(b)
        }
        Err(_) => None,
    };
    md += "\nx4 Y-PSNR / SSIM of the exported integer model (core's engine) vs bicubic:\n\n| dataset | model PSNR | model SSIM | bicubic PSNR | bicubic SSIM | gain |\n|---|---|---|---|---|---|\n";
    let mut sets = Vec::new();
    for (set, ours, bic) in rows {
        md += &format!(
            "| {} | {:.3} | {:.4} | {:.3} | {:.4} | {:+.3} dB |\n",
            set.display(),
            ours.mean_psnr,
            ours.mean_ssim,
            bic.mean_psnr,
            bic.mean_ssim,
            ours.mean_psnr - bic.mean_psnr
        );
        sets.push(json!({"dataset": set.display().to_string(), "model": ours, "bicubic": bic, "gain_db": ours.mean_psnr - bic.mean_psnr}));
    }
    md += &format!(
        "\nRetraining: {steps} steps. Wall time: search {search_s:.0} s, retraining {train_s:.0} s, total {total_s:.0} s (this session).\n"
    );
    md += "\nFiles: `search/genotype.json`, `search/genotype.svg`, `search/alphas.svg`, `train/metrics.csv`, `model.qnm`.\n";
    std::fs::write(root.join("report.md"), md).context("writing report.md")?;
    let j = json!({
        "genotype": genotype, "bitops": c.bitops, "argmax_bitops": argmax_bitops, "params": c.params, "macs": c.macs,
        "train_steps": steps, "search_seconds": search_s, "train_seconds": train_s, "total_seconds": total_s,
        "results": sets,
    });
    std::fs::write(root.join("report.json"), serde_json::to_string_pretty(&j)?)
        .context("writing report.json")
}
