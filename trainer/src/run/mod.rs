//! Run folders, shared by the search, the training and the pipeline: their layout and
//! atomic files ([`dir`]), checkpoints ([`checkpoint`]), progress output ([`progress`]),
//! and the options of one session of a run.

use std::path::{Path, PathBuf};

pub mod checkpoint;
pub mod dir;
pub mod progress;

/// How one session of a run goes; not part of the run's settings.
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// Show progress on stderr: a bar on a terminal, plain lines otherwise.
    pub progress: bool,
    /// Stop once this session has done this many steps (training: before the next step;
    /// search: at the next checkpoint), as if killed there; `--resume` continues. Tests
    /// of resumption use it.
    pub stop_after: Option<u64>,
}

/// A new run folder name under `runs/`: `runs/PREFIX-<seconds since 1970>`.
pub fn default_run_dir(prefix: &str) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Path::new("runs").join(format!("{prefix}-{secs}"))
}
