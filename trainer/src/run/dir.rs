//! A run folder (of a search, a training or a pipeline; the search's metrics have other
//! columns, see `search/run.rs`):
//!
//! ```text
//! RUN/config.json        resolved settings (what --resume reads back)
//! RUN/log.txt            human-readable log, appended by every session
//! RUN/metrics.csv        step,lr,loss,grad_norm,val_psnr,val_ssim,elapsed_s
//! RUN/checkpoints/last/  model.bpk optim.bpk state.json (see [`super::checkpoint`])
//! RUN/checkpoints/best/  model.bpk state.json (best validation PSNR)
//! RUN/samples/           SR outputs of the first validation images at each validation
//! ```
//!
//! A run killed at any moment can be continued: `config.json` is written atomically (a
//! folder without it never started and may be created again), and on resume the log and
//! the metrics are cut back to what the checkpoint had seen ([`cut_csv`], [`cut_log`]),
//! so that no row is written twice.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Settings file of a run folder.
pub const CONFIG_FILE: &str = "config.json";
/// Log file of a run folder.
pub const LOG_FILE: &str = "log.txt";
/// Metrics file of a run folder.
pub const METRICS_FILE: &str = "metrics.csv";

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

/// Writes `bytes` to `path` through a temporary file and a rename, so that a kill leaves
/// either the old file (or none) or the new one, never a part of it.
///
/// # Errors
/// A file that cannot be written or moved.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Whether `path` holds nothing but what an interrupted [`RunDir::create`] leaves
/// before its config is in place: empty folders and a temporary config file.
fn is_blank(path: &Path) -> bool {
    let Ok(entries) = fs::read_dir(path) else {
        return false;
    };
    for e in entries {
        let Ok(e) = e else { return false };
        let p = e.path();
        if p.is_dir() {
            if !is_blank(&p) {
                return false;
            }
        } else if e.file_name() != format!(".{CONFIG_FILE}.tmp").as_str() {
            return false;
        }
    }
    true
}

/// Makes the folder and its `checkpoints/` and `samples/`, where missing.
fn make_sub_dirs(path: &Path) -> Result<()> {
    for sub in ["checkpoints", "samples"] {
        fs::create_dir_all(path.join(sub))
            .with_context(|| format!("cannot create {}", path.join(sub).display()))?;
    }
    Ok(())
}

impl RunDir {
    /// Creates a new run folder (it must not exist, be empty, or hold only what a start
    /// killed before writing its config left), writes its config and the metrics header.
    ///
    /// # Errors
    /// A folder with a run in it (use `--resume` to continue it), or files that cannot be
    /// written.
    pub fn create(
        path: &Path,
        config: &impl serde::Serialize,
        metrics_header: &str,
    ) -> Result<Self> {
        if path.exists() && !is_blank(path) {
            bail!(
                "run folder {} already exists; continue it with --resume {0} or pick another --out",
                path.display()
            );
        }
        make_sub_dirs(path)?;
        // Once config.json exists the folder is a run: a resume rewrites the metrics
        // header if a kill came before it ([`cut_csv`]).
        write_file_atomic(
            &path.join(CONFIG_FILE),
            serde_json::to_string_pretty(config)?.as_bytes(),
        )?;
        write_file_atomic(
            &path.join(METRICS_FILE),
            format!("{metrics_header}\n").as_bytes(),
        )?;
        Self::open(path)
    }

    /// Opens an existing run folder for appending. Its `checkpoints/` and `samples/` are
    /// made again if they are gone: a run folder kept in git (as the study's are) comes
    /// back without them, and resumes from its first step.
    ///
    /// # Errors
    /// Log or metrics files that cannot be opened, or sub-folders that cannot be made.
    pub fn open(path: &Path) -> Result<Self> {
        make_sub_dirs(path)?;
        Ok(RunDir {
            path: path.to_path_buf(),
            log: append(&path.join(LOG_FILE))?,
            metrics: append(&path.join(METRICS_FILE))?,
        })
    }

    /// Appends a line to `log.txt`.
    pub fn log(&mut self, line: &str) {
        // Logging must never stop training; a full disk shows up at the next checkpoint.
        let _ = writeln!(self.log, "{line}");
    }

    /// Bytes in `log.txt` so far (saved with a checkpoint, to cut the log back to on
    /// resume). The file is unbuffered, so this is what a reader of the file sees.
    pub fn log_len(&self) -> Option<u64> {
        self.log.metadata().ok().map(|m| m.len())
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

/// Cuts a CSV whose first column is a step (or epoch) counter back to its header and the
/// complete rows whose counter is at most `max`: of the rows a killed session wrote after
/// its last checkpoint none is kept, so the resumed session writes each row once. Rows are
/// appended in counter order, so what stays is a prefix of the file, and cutting is one
/// truncation in place: a kill during it cannot lose a kept row, and handles opened for
/// appending stay valid. A missing file (or one cut inside its header) gets `header`.
///
/// # Errors
/// A file that cannot be read or written.
pub fn cut_csv(path: &Path, header: &str, max: u64) -> Result<()> {
    let text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let Some(header_end) = text.iter().position(|&b| b == b'\n') else {
        // Nothing complete to lose; rewritten in place so that open handles stay valid.
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        return writeln!(f, "{header}").with_context(|| format!("cannot write {}", path.display()));
    };
    let mut keep = header_end + 1;
    // Only lines that end in a newline are complete; a kill mid-write leaves a partial
    // last line, which goes with the rest of the session's rows.
    while let Some(n) = text[keep..].iter().position(|&b| b == b'\n') {
        let line = String::from_utf8_lossy(&text[keep..keep + n]);
        let key = line.split(',').next().and_then(|k| k.parse::<u64>().ok());
        if key.is_none_or(|k| k > max) {
            break;
        }
        keep += n + 1;
    }
    if keep < text.len() {
        OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(keep as u64))
            .with_context(|| format!("cannot truncate {}", path.display()))?;
    }
    Ok(())
}

/// Cuts `log.txt` back to `len` bytes (its length when the checkpoint was written), so
/// the lines a killed session wrote after its last checkpoint go with it. `None` (a
/// checkpoint from before lengths were recorded) keeps the log as it is.
///
/// # Errors
/// A file that cannot be opened or truncated.
pub fn cut_log(path: &Path, len: Option<u64>) -> Result<()> {
    let Some(len) = len else { return Ok(()) };
    let f = match OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
    };
    let now = f
        .metadata()
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if now > len {
        f.set_len(len)
            .with_context(|| format!("cannot truncate {}", path.display()))?;
    }
    Ok(())
}

/// Whether `run` holds a run (its `config.json` exists; it is written atomically, so an
/// existing one is complete).
pub fn has_config(run: &Path) -> bool {
    run.join(CONFIG_FILE).is_file()
}

/// Reads `RUN/config.json` (a search's, a training's, a pipeline's).
///
/// # Errors
/// A missing or invalid file.
pub fn read_config_as<C: serde::de::DeserializeOwned>(run: &Path) -> Result<C> {
    let p = run.join(CONFIG_FILE);
    let text = fs::read_to_string(&p).with_context(|| {
        format!(
            "{} is not a run folder (no {CONFIG_FILE}; a run killed before writing it never started: run its first command again)",
            run.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", p.display()))
}
