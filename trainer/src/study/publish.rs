//! `trainer study --publish DIR`: the study's networks for the page. The Pareto front of
//! the QuantNAS runs as the paper proposes it (SAN, ADQ, entropy, bits {4, 8}; every
//! penalty and seed) and every uniform baseline go into the page's models folder, each
//! with its evaluation files, under `study-NAME`; the page's manifest lists them after
//! its own networks, and `DIR/results.json` is the study's, so the chart draws every run.
//!
//! Every file is copied, nothing is recomputed: the page shows the numbers the study
//! reported, and the tests re-evaluate the copied models against them.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::plan::{LastStage, Method, RunSpec};
use super::plots::pareto_front;
use super::results::Entry;
use crate::run::dir::write_file_atomic;

/// Prefix of the page's files that come from a study (replaced at each publication).
pub const PREFIX: &str = "study-";

/// The page's list of networks in its models folder.
const MANIFEST: &str = "manifest.json";

/// The entries to bundle: the headline QuantNAS runs on their Set14 Pareto front and
/// every uniform run, by increasing BitOps.
pub fn front(entries: &[Entry]) -> Vec<&Entry> {
    let headline: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.setup.is_headline() && e.set14.is_some())
        .collect();
    let points: Vec<(f64, f64)> = headline
        .iter()
        .filter_map(|e| e.set14.map(|s| (e.gbitops, s.psnr)))
        .collect();
    let on_front = pareto_front(&points);
    let mut out: Vec<&Entry> = headline
        .into_iter()
        .filter(|e| {
            e.set14
                .is_some_and(|s| on_front.contains(&(e.gbitops, s.psnr)))
        })
        .chain(entries.iter().filter(|e| e.setup.method == Method::Uniform))
        .collect();
    out.sort_by(|a, b| a.gbitops.total_cmp(&b.gbitops));
    out
}

/// The retraining steps of a run (the description names them).
fn steps(spec: &RunSpec) -> u64 {
    match spec.job.last_stage() {
        LastStage::Pipeline(c) => c.retrain.train_steps,
        LastStage::Train { train, .. } => train.steps,
    }
}

/// A manifest entry of the bundled run `e` (no figures: those are in its evaluation files).
fn manifest_entry(file: &str, e: &Entry, spec: &RunSpec, plan: &str, study: &Path) -> Value {
    let title = match e.setup.method {
        Method::Quantnas => format!(
            "QuantNAS η {} seed {} (study)",
            e.setup
                .penalty
                .map_or_else(|| "—".into(), |p| p.to_string()),
            e.seed
        ),
        _ => format!("{} (study)", e.setup.label()),
    };
    let how = match e.setup.method {
        Method::Quantnas => format!(
            "found by a SAN + ADQ + entropy search of {} at bits {{{}}}, then",
            e.setup.space, e.setup.bits
        ),
        _ => format!("{}, LSQ + HWGQ,", e.setup.label()),
    };
    json!({
        "file": file,
        "title": title,
        "description": format!(
            "Run `{}` of `trainer study {plan}`: {how} retrained for {} steps on 2 CPU cores, \
             as every run of the study (its numbers are the study's; the networks above \
             trained longer). Genotype and settings: {}.",
            e.name,
            steps(spec),
            Path::new(&e.model)
                .parent()
                .map_or_else(String::new, |p| study.join(p).display().to_string())
        ),
    })
}

/// Copies `from` to `to`, atomically.
fn copy(from: &Path, to: &Path) -> Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    write_file_atomic(to, &bytes).with_context(|| format!("writing {}", to.display()))
}

/// Bundles the front of `entries` (the runs `specs`, finished in `study`) into the page's
/// models folder `dir`: models, evaluation files, `results.json`, the manifest's entries.
///
/// # Errors
/// No manifest in `dir`, or a file that cannot be read or written.
pub fn publish(
    study: &Path,
    entries: &[Entry],
    specs: &[RunSpec],
    plan: &str,
    dir: &Path,
) -> Result<usize> {
    let manifest_path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path).with_context(|| {
        format!(
            "reading {} (--publish takes the page's models folder)",
            manifest_path.display()
        )
    })?;
    let mut manifest: Value = serde_json::from_str(&text)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let Some(models) = manifest.get_mut("models").and_then(Value::as_array_mut) else {
        bail!("{} has no `models` list", manifest_path.display());
    };
    // A new publication replaces the last one's. Under a kill at any moment the manifest
    // lists only files that exist: the new files are written (each atomically) before the
    // manifest that names them, and the old ones go after it.
    models.retain(|m| {
        !m.get("file")
            .and_then(Value::as_str)
            .is_some_and(|f| f.starts_with(PREFIX))
    });
    let bundled = front(entries);
    let mut written = vec![];
    for e in &bundled {
        let Some(spec) = specs.iter().find(|s| s.name == e.name) else {
            bail!("run {} is not in the plan", e.name);
        };
        let stem = format!("{PREFIX}{}", e.name);
        let model = study.join(&e.model);
        let evals = model
            .parent()
            .with_context(|| format!("run {}: its model {} has no folder", e.name, e.model))?
            .join("eval");
        let qnm = format!("{stem}.qnm");
        copy(&model, &dir.join(&qnm))?;
        written.push(qnm.clone());
        for set in spec.job.datasets() {
            let Some(name) = set.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let to = format!("{stem}.{}.json", name.to_ascii_lowercase());
            copy(&evals.join(format!("{name}.json")), &dir.join(&to))?;
            written.push(to);
        }
        models.push(manifest_entry(&qnm, e, spec, plan, study));
    }
    copy(&study.join("results.json"), &dir.join("results.json"))?;
    let mut out = serde_json::to_string_pretty(&manifest)?;
    out.push('\n');
    write_file_atomic(&manifest_path, out.as_bytes())
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    for old in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let old = old?.path();
        let stale = old
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(PREFIX) && !written.iter().any(|w| w == n));
        if stale {
            std::fs::remove_file(&old).with_context(|| format!("removing {}", old.display()))?;
        }
    }
    Ok(bundled.len())
}
