//! A run folder:
//!
//! ```text
//! RUN/config.json        resolved settings (what --resume reads back)
//! RUN/log.txt            human-readable log, appended by every session
//! RUN/metrics.csv        step,lr,loss,grad_norm,val_psnr,val_ssim,elapsed_s
//! RUN/checkpoints/last/  model.bpk optim.bpk state.json (see checkpoint.rs)
//! RUN/checkpoints/best/  model.bpk state.json (best validation PSNR)
//! RUN/samples/           SR outputs of the first validation images at each validation
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::config::TrainConfig;

/// Settings file of a run folder.
pub const CONFIG_FILE: &str = "config.json";
/// Metrics file header.
pub const METRICS_HEADER: &str = "step,lr,loss,grad_norm,val_psnr,val_ssim,elapsed_s";

/// An open run folder.
#[derive(Debug)]
pub struct RunDir {
    /// The folder.
    pub path: PathBuf,
    log: File,
    metrics: File,
}

fn append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))
}

impl RunDir {
    /// Creates a new run folder (it must not exist, or be empty) and writes its config.
    ///
    /// # Errors
    /// A non-empty folder (use `--resume` to continue a run), or files that cannot be written.
    pub fn create(path: &Path, config: &TrainConfig) -> Result<Self> {
        Self::create_with(path, config, METRICS_HEADER)
    }

    /// [`RunDir::create`] for any serialisable config and metrics header (the search uses
    /// the same folder layout).
    ///
    /// # Errors
    /// As [`RunDir::create`].
    pub fn create_with(
        path: &Path,
        config: &impl serde::Serialize,
        metrics_header: &str,
    ) -> Result<Self> {
        if path.exists()
            && fs::read_dir(path)
                .map(|mut d| d.next().is_some())
                .unwrap_or(true)
        {
            bail!(
                "run folder {} already exists; continue it with --resume {0} or pick another --out",
                path.display()
            );
        }
        for sub in ["checkpoints", "samples"] {
            fs::create_dir_all(path.join(sub))
                .with_context(|| format!("cannot create {}", path.join(sub).display()))?;
        }
        fs::write(
            path.join(CONFIG_FILE),
            serde_json::to_string_pretty(config)?,
        )
        .with_context(|| format!("cannot write {}", path.join(CONFIG_FILE).display()))?;
        let mut metrics = append(&path.join("metrics.csv"))?;
        writeln!(metrics, "{metrics_header}")?;
        Ok(RunDir {
            path: path.to_path_buf(),
            log: append(&path.join("log.txt"))?,
            metrics,
        })
    }

    /// Opens an existing run folder and reads its config.
    ///
    /// # Errors
    /// A folder without a readable `config.json`.
    pub fn open(path: &Path) -> Result<(Self, TrainConfig)> {
        let config = read_config(path)?;
        Ok((Self::open_with(path)?, config))
    }

    /// Opens an existing run folder for appending, whatever its config type.
    ///
    /// # Errors
    /// Log or metrics files that cannot be opened.
    pub fn open_with(path: &Path) -> Result<Self> {
        Ok(RunDir {
            path: path.to_path_buf(),
            log: append(&path.join("log.txt"))?,
            metrics: append(&path.join("metrics.csv"))?,
        })
    }

    /// Appends a line to `log.txt`.
    pub fn log(&mut self, line: &str) {
        // Logging must never stop training; a full disk shows up at the next checkpoint.
        let _ = writeln!(self.log, "{line}");
    }

    /// Appends a row to `metrics.csv`.
    ///
    /// # Errors
    /// A write failure.
    pub fn metrics_row(&mut self, row: &str) -> Result<()> {
        writeln!(self.metrics, "{row}").context("writing metrics.csv")?;
        self.metrics.flush().context("writing metrics.csv")
    }
}

/// Reads `RUN/config.json`.
///
/// # Errors
/// A missing or invalid file.
pub fn read_config(run: &Path) -> Result<TrainConfig> {
    read_config_as(run)
}

/// Reads `RUN/config.json` as any config type.
///
/// # Errors
/// A missing or invalid file.
pub fn read_config_as<C: serde::de::DeserializeOwned>(run: &Path) -> Result<C> {
    let p = run.join(CONFIG_FILE);
    let text = fs::read_to_string(&p)
        .with_context(|| format!("{} is not a run folder (no {CONFIG_FILE})", run.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))
}
