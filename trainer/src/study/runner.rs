//! Runs one plan run in its folder, or skips it when it finished before.
//!
//! A run is finished when its folder holds `run.json` (its results entry, written
//! atomically after everything else). Without it the run is (re)started through the
//! pipeline's own resumable stages: a search or training killed at any moment continues
//! from its last checkpoint, export and evaluation are redone.

use std::path::Path;

use anyhow::{Context, Result};

use super::plan::{Job, RunSpec};
use super::results::{Entry, entry, read_entry};
use crate::pipeline::{export_and_evaluate, retrain, run_in, search_once};
use crate::run::dir::{CONFIG_FILE, has_config, read_config_as, write_file_atomic};

/// The finished-run marker and results entry in each run folder.
pub const RUN_FILE: &str = "run.json";

/// A two-fold run's first (full-precision op) search, in its run folder.
pub const OPS_DIR: &str = "ops";

/// An EdMIPS run's fixed network (a genotype file), in its run folder.
pub const NETWORK_FILE: &str = "network.json";

/// Folder of the runs under the study folder.
pub const RUNS_DIR: &str = "runs";

/// Whether [`execute`] ran the run or found it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Run (or resumed) in this invocation.
    Ran,
    /// Finished before: skipped.
    Skipped,
}

/// The results entry of `spec` if it finished in `study` before.
///
/// # Errors
/// An unreadable or corrupt `run.json`.
pub fn finished(study: &Path, spec: &RunSpec) -> Result<Option<Entry>> {
    read_entry(&study.join(RUNS_DIR).join(&spec.folder).join(RUN_FILE))
}

/// Runs `spec` in `study/runs/FOLDER` unless it finished there before.
///
/// # Errors
/// A folder of other settings, or the first stage that fails.
pub fn execute(study: &Path, spec: &RunSpec, quiet: bool) -> Result<(Entry, Outcome)> {
    if let Some(done) = finished(study, spec)? {
        return Ok((done, Outcome::Skipped));
    }
    let folder = study.join(RUNS_DIR).join(&spec.folder);
    let marker = folder.join(RUN_FILE);
    match &spec.job {
        Job::Pipeline(config) => run_in(&folder, config, quiet)?,
        Job::TwoFold { ops, bits } => {
            // The first search in its own folder; the second stage is the pipeline in the
            // run folder, searching only the bit widths of what the first one found.
            let found = search_once(&folder.join(OPS_DIR), ops, quiet)?;
            let mut bits = bits.clone();
            bits.search.fix_ops = Some(found);
            run_in(&folder, &bits, quiet)?;
        }
        Job::Edmips { network, bits } => {
            std::fs::create_dir_all(&folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
            let file = folder.join(NETWORK_FILE);
            write_file_atomic(&file, network.to_json().as_bytes())
                .with_context(|| format!("writing {}", file.display()))?;
            let mut bits = bits.clone();
            bits.search.fix_ops = Some(file);
            run_in(&folder, &bits, quiet)?;
        }
        Job::Train { train, datasets } => {
            std::fs::create_dir_all(&folder)
                .with_context(|| format!("cannot create {}", folder.display()))?;
            // The folder's own record of what it runs, as the pipeline keeps one.
            if has_config(&folder) {
                let there: Job = read_config_as::<TrainJob>(&folder)?.into_job();
                anyhow::ensure!(
                    there == spec.job,
                    "{} holds a run of other settings; remove it or use another --out",
                    folder.display()
                );
            } else {
                let record = TrainJob {
                    train: train.clone(),
                    datasets: datasets.clone(),
                };
                write_file_atomic(
                    &folder.join(CONFIG_FILE),
                    &serde_json::to_vec_pretty(&record)?,
                )?;
            }
            retrain(&folder.join("train"), train, quiet)?;
            export_and_evaluate(&folder, &folder.join("train"), datasets)?;
        }
    }
    let e = entry(study, &folder, spec)?;
    let mut text = serde_json::to_string_pretty(&e)?;
    text.push('\n');
    write_file_atomic(&marker, text.as_bytes())
        .with_context(|| format!("writing {}", marker.display()))?;
    Ok((e, Outcome::Ran))
}

/// A uniform run's `config.json`.
#[derive(serde::Serialize, serde::Deserialize)]
struct TrainJob {
    train: crate::train::config::TrainConfig,
    datasets: Vec<std::path::PathBuf>,
}

impl TrainJob {
    fn into_job(self) -> Job {
        Job::Train {
            train: self.train,
            datasets: self.datasets,
        }
    }
}
