//! `results.json`: one entry per run, its numbers read from the run's own files (the
//! evaluation JSONs the pipeline writes) and its cost from core's cost counting.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use quantnas_core::arch::{Arch, Bits, Genotype, Residual};
use quantnas_core::cost::{REPORT_LR_SIDE, cost};
use serde::{Deserialize, Serialize};

use super::plan::{LastStage, Method, RunSpec};
use crate::run::dir::write_file_atomic;
use crate::search::bitmixer::MixMode;

/// Mean Y-PSNR (dB) and SSIM of a model on a test set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Mean PSNR.
    pub psnr: f64,
    /// Mean SSIM.
    pub ssim: f64,
}

/// What a run is, but its seed: the runs of one configuration differ only in that.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Setup {
    /// quantnas or uniform.
    pub method: Method,
    /// Search space (`basic-b`, …) or, for a fixed network, its name (`espcn`, …).
    pub space: String,
    /// Bit widths searched (`4,8`) or used (`8`).
    pub bits: String,
    /// Bit mixing of the search (`san`, `shared`, `independent`); none without a search.
    pub mode: Option<MixMode>,
    /// Residual wrapping of the search space; none for a fixed network.
    pub residual: Option<Residual>,
    /// BitOps penalty η of the search.
    pub penalty: Option<f64>,
    /// Peak entropy coefficient of the search.
    pub entropy: Option<f64>,
    /// `random`: the BitOps target of the draw (absent for the other methods).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_gbitops: Option<f64>,
}

/// One run's result (its JSON is flat: the setup's fields follow the name).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// `EXPERIMENT-sSEED`.
    pub name: String,
    /// The configuration.
    #[serde(flatten)]
    pub setup: Setup,
    /// Seed.
    pub seed: u64,
    /// The found genotype; none for a fixed network.
    pub genotype: Option<Genotype>,
    /// The exported integer model, relative to the study folder.
    pub model: String,
    /// GBitOps at 32×32 LR (core's cost counting).
    pub gbitops: f64,
    /// Parameters.
    pub params: u64,
    /// Scores on the bundled test sets the run evaluated (none for one it did not).
    pub set5: Option<Score>,
    /// Set14.
    pub set14: Option<Score>,
    /// B100.
    pub b100: Option<Score>,
}

/// The part of a `trainer eval --json` file the study reads.
#[derive(Deserialize)]
struct EvalFile {
    mean_psnr: f64,
    mean_ssim: f64,
}

/// The entry of the finished run `spec` in `study/folder`.
///
/// # Errors
/// A missing or unreadable genotype or evaluation file.
pub fn entry(study: &Path, folder: &Path, spec: &RunSpec) -> Result<Entry> {
    let (arch, space, bits, search) = match spec.job.last_stage() {
        LastStage::Pipeline(c) => {
            let file = folder.join("search").join("genotype.json");
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let g = Genotype::from_json(&text).with_context(|| format!("{}", file.display()))?;
            let arch = Arch::Genotype { genotype: g };
            (
                arch,
                c.search.space.to_string(),
                c.search.bits.clone(),
                Some(&c.search),
            )
        }
        LastStage::Train { train, .. } => {
            let (space, bits) = fixed_name(&train.arch);
            let bits = spec.drawn.as_ref().map_or(bits, |d| d.bits.clone());
            (train.arch.clone(), space, bits, None)
        }
    };
    // A drawn genotype (random search) has the residual wrapping of its space.
    let residual = match &arch {
        Arch::Genotype { genotype } => Some(genotype.residual),
        _ => None,
    };
    let c = cost(&arch.graph(), REPORT_LR_SIDE, REPORT_LR_SIDE)?;
    let score = |set: &str| -> Result<Option<Score>> {
        let Some(dataset) = spec.job.datasets().iter().find(|d| dataset_key(d) == set) else {
            return Ok(None);
        };
        let name = dataset
            .file_name()
            .map_or_else(|| "dataset".into(), |n| n.to_string_lossy().into_owned());
        let file = folder.join("eval").join(format!("{name}.json"));
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let e: EvalFile =
            serde_json::from_str(&text).with_context(|| format!("reading {}", file.display()))?;
        Ok(Some(Score {
            psnr: e.mean_psnr,
            ssim: e.mean_ssim,
        }))
    };
    let model = folder.join("model.qnm");
    Ok(Entry {
        name: spec.name.clone(),
        setup: Setup {
            method: spec.method,
            space,
            bits,
            mode: search.map(|s| s.mode),
            residual: search.map(|s| s.adq).or(residual),
            penalty: search.map(|s| s.penalty),
            entropy: search.map(|s| s.entropy_coef),
            target_gbitops: spec.drawn.as_ref().map(|d| d.target_gbitops),
        },
        seed: spec.seed,
        genotype: match arch {
            Arch::Genotype { genotype } => Some(genotype),
            _ => None,
        },
        model: relative(study, &model).display().to_string(),
        gbitops: c.bitops as f64 / 1e9,
        params: c.params,
        set5: score("set5")?,
        set14: score("set14")?,
        b100: score("b100")?,
    })
}

/// A trained network's name without its bits (`espcn`, `srresnet`, `rfdn`, or a
/// genotype's space) and its bits (a genotype's distinct widths, `4,8`).
fn fixed_name(arch: &Arch) -> (String, String) {
    match arch {
        Arch::Espcn { bits } => ("espcn".into(), bits.to_string()),
        Arch::SrResNet { bits } => ("srresnet".into(), bits.to_string()),
        Arch::Rfdn { bits } => ("rfdn".into(), bits.to_string()),
        Arch::Genotype { genotype } => {
            let bits: Vec<String> = genotype.bit_widths().iter().map(Bits::to_string).collect();
            (genotype.space.to_string(), bits.join(","))
        }
    }
}

/// `set5`, `set14`, `b100` for the bundled test folders (their names, lower case).
fn dataset_key(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// `path` relative to `base` when it is under it.
fn relative(base: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map_or_else(|_| path.to_path_buf(), Path::to_path_buf)
}

/// Writes `entries` as `path` (pretty JSON, one object per run, in plan order).
///
/// # Errors
/// An unwritable file.
pub fn write(path: &Path, entries: &[Entry]) -> Result<()> {
    let mut text = serde_json::to_string_pretty(entries)?;
    text.push('\n');
    write_file_atomic(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Reads a run's `run.json`, or `None` when it has none (not finished).
///
/// # Errors
/// A `run.json` that cannot be read.
pub fn read_entry(path: &Path) -> Result<Option<Entry>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(
            serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
