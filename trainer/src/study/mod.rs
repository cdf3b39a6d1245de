//! `trainer study`: the paper's comparisons as one command. A plan ([`plan`]) lists
//! experiments; each runs, one seed at a time, in its own folder named from its settings
//! ([`name`]), is skipped when it finished before and resumes after a kill ([`runner`]);
//! after each run the study writes `results.json` ([`results`]), `report.md` ([`report`])
//! with its SVG plots ([`plots`]) and the claims table ([`claims`]) of the runs finished
//! so far, so a plan of many hours has a report at every moment and a kill loses none.
//!
//! ```text
//! DIR/runs/NAME-sSEED-HASH/   one run: a pipeline folder (search/, train/, model.qnm, eval/)
//!                             or a training (train/, model.qnm, eval/); run.json when done
//! DIR/results.json            one entry per run, in plan order
//! DIR/report.md               claims, configurations, runs
//! DIR/set14_vs_gbitops.svg    Set14 PSNR vs GBitOps, each method's Pareto front
//! DIR/alpha_dynamics.svg      the searches' mean max softmax per epoch, ± entropy
//! DIR/search_timing.json      ms per search iteration by mode and bit widths (Fig. 8),
//! DIR/search_timing.svg       measured once after the runs (the plan's `[timing]`)
//! ```

pub mod claims;
pub mod name;
pub mod plan;
pub mod plots;
pub mod publish;
pub mod random;
pub mod report;
pub mod results;
pub mod runner;
pub mod timing;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

use crate::backend::BackendKind;
use plan::{Bundled, Plan};
use runner::{Outcome, execute};

/// Run a study: a plan of searches, retrainings and baselines, with a report.
///
/// Each experiment of the plan (a QuantNAS pipeline, a uniform-bit fixed network, a
/// random-search network or the two-fold baseline: a full-precision op search, then a
/// bit-only search over the network it found) runs once per seed, in `DIR/runs/` under a
/// name made of its own and a hash of its settings.
/// A finished run is skipped; an interrupted one continues where it stopped, so after a
/// kill run the same command again. After every run, of the runs finished so far:
/// `DIR/results.json`, `DIR/report.md` (with the claims of the paper and whether they
/// hold here; the runs still to come are listed), `DIR/set14_vs_gbitops.svg` and
/// `DIR/alpha_dynamics.svg`. After the last run, the plan's `[timing]` (ms per search
/// iteration of each mixing mode as the searched bit widths grow, the paper's Fig. 8) is
/// measured once into `DIR/search_timing.json` and drawn in `DIR/search_timing.svg`.
///
/// Example: `trainer study --plan cpu --out runs/study` (or `trainer study PLAN.toml --out DIR`)
#[derive(Debug, Clone, Args)]
pub struct StudyArgs {
    /// Plan file (TOML; format in `trainer/plans/cpu.toml`).
    #[arg(required_unless_present = "plan", conflicts_with = "plan")]
    pub file: Option<PathBuf>,
    /// A bundled plan: cpu (the paper's comparisons at CPU scale; hours) or tiny (seconds).
    #[arg(long, value_enum)]
    pub plan: Option<Bundled>,
    /// Study folder (runs, results, report).
    #[arg(long, short)]
    pub out: PathBuf,
    /// List the runs and their folders; run nothing.
    #[arg(long)]
    pub list: bool,
    /// Write results, report and plots of the runs finished so far; run nothing (e.g.
    /// while another process works through the plan, or after a report change).
    #[arg(long, conflicts_with = "list")]
    pub report_only: bool,
    /// Also bundle the study's front for the page into this models folder (e.g.
    /// web/models) once the report is written: the Pareto front of the QuantNAS runs and
    /// every uniform baseline as `study-NAME.qnm` with their evaluation files, the
    /// manifest's entries for them, and the study's results.json.
    #[arg(long, value_name = "DIR")]
    pub publish: Option<PathBuf>,
    /// No progress output from the runs.
    #[arg(long)]
    pub quiet: bool,
    /// Where every run computes: cpu, cuda, cuda:N, wgpu or auto (see `trainer search
    /// --help`). Runs on a device other than cpu are other runs, in their own folders.
    #[arg(long = "device", value_name = "DEVICE", default_value = "cpu")]
    pub device: BackendKind,
}

/// Runs `trainer study`.
///
/// # Errors
/// An unreadable or invalid plan, or the first run that fails (the finished ones stay).
pub fn run(args: &StudyArgs) -> Result<()> {
    let (text, origin, command) = match (&args.file, args.plan) {
        (Some(f), _) => (
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?,
            f.display().to_string(),
            f.display().to_string(),
        ),
        (None, Some(b)) => (
            b.text().to_string(),
            format!("bundled `{}`", bundled_name(b)),
            format!("--plan {}", bundled_name(b)),
        ),
        (None, None) => anyhow::bail!("give a plan file or --plan"),
    };
    let plan = Plan::parse_on(&text, &origin, args.device.resolve()?)?;
    if args.list {
        for r in &plan.runs {
            println!(
                "{}\t{}\t{}/{}",
                r.name,
                r.method.name(),
                runner::RUNS_DIR,
                r.folder
            );
        }
        return Ok(());
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    // Computed once (seconds): every report of this invocation shows the same reference.
    let reference = bicubic(&plan)?;
    // The timing kept in the folder, or (`measure`) measured now when missing.
    let timing = |measure: bool| -> Result<Option<timing::Timing>> {
        match &plan.timing {
            Some(t) => timing::load_or_measure(&args.out, t, measure),
            None => Ok(None),
        }
    };
    let report = |done: &[results::Entry], timing: Option<&timing::Timing>| -> Result<()> {
        let pending: Vec<&str> = plan
            .runs
            .iter()
            .filter(|r| !done.iter().any(|e| e.name == r.name))
            .map(|r| r.name.as_str())
            .collect();
        results::write(&args.out.join("results.json"), done)?;
        plots::pareto_plot(&args.out, done)?;
        plots::alpha_plot(&args.out, done)?;
        if let Some(t) = timing {
            plots::timing_plot(&args.out, t)?;
        }
        report::write(&args.out, &origin, done, &pending, &reference, timing)
    };
    let publish = |done: &[results::Entry]| -> Result<()> {
        let Some(dir) = &args.publish else {
            return Ok(());
        };
        let n = publish::publish(&args.out, done, &plan.runs, &command, dir)
            .with_context(|| format!("publishing to {}", dir.display()))?;
        println!("published {n} networks to {}", dir.display());
        Ok(())
    };
    let mut entries = Vec::new();
    if args.report_only {
        for r in &plan.runs {
            if let Some(e) = runner::finished(&args.out, r)? {
                entries.push(e);
            }
        }
        report(&entries, timing(false)?.as_ref())?;
        publish(&entries)?;
        println!(
            "report of {} finished runs of {}: {}",
            entries.len(),
            plan.runs.len(),
            args.out.join("report.md").display()
        );
        return Ok(());
    }
    for (i, r) in plan.runs.iter().enumerate() {
        let n = plan.runs.len();
        eprintln!(
            "study: run {}/{n} {} ({}/{})",
            i + 1,
            r.name,
            runner::RUNS_DIR,
            r.folder
        );
        let (entry, outcome) =
            execute(&args.out, r, args.quiet).with_context(|| format!("run {}", r.name))?;
        entries.push(entry);
        if outcome == Outcome::Skipped {
            println!(
                "skipped {} (finished: {}/{})",
                r.name,
                runner::RUNS_DIR,
                r.folder
            );
        } else {
            // The report of the runs so far, before the next run starts (hours, maybe).
            report(&entries, timing(false)?.as_ref())?;
            println!("finished {}", r.name);
        }
    }
    // Timed after the runs, on the machine they leave idle (minutes, once).
    report(&entries, timing(true)?.as_ref())?;
    publish(&entries)?;
    println!("study done: {}", args.out.join("report.md").display());
    Ok(())
}

/// Bicubic's score on each test set of the plan's runs, in order of first use (computed
/// each time: seconds, and nothing to keep in step).
fn bicubic(plan: &Plan) -> Result<Vec<(String, results::Score)>> {
    let mut sets: Vec<&std::path::Path> = Vec::new();
    for r in &plan.runs {
        for d in r.job.datasets() {
            if !sets.contains(&d.as_path()) {
                sets.push(d);
            }
        }
    }
    sets.iter()
        .map(|d| {
            let e = crate::eval::evaluate("bicubic", d, quantnas_core::arch::SCALE)?;
            let name = d
                .file_name()
                .map_or_else(|| d.display().to_string(), |n| n.to_string_lossy().into());
            Ok((
                name,
                results::Score {
                    psnr: e.mean_psnr,
                    ssim: e.mean_ssim,
                },
            ))
        })
        .collect()
}

fn bundled_name(b: Bundled) -> String {
    clap::ValueEnum::to_possible_value(&b).map_or_else(String::new, |v| v.get_name().to_string())
}
