//! Checkpoints: `checkpoints/last` and `checkpoints/best` of a run folder, each a folder
//! with `model.bpk` (burnpack: weights, LSQ steps, batch-norm statistics, ADQ scalars),
//! `optim.bpk` (Adam moments, `last` only) and `state.json`.
//!
//! Writes are atomic: a checkpoint is written to `.NAME.tmp` and swapped in with renames,
//! so a run killed while saving still has its previous checkpoint (and [`load_as`] also
//! accepts the `.NAME.old` left by a kill between the two renames). A half-written
//! `.NAME.tmp` is never read, and the next save replaces it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use serde::Serialize;

/// Model weights file inside a checkpoint folder.
pub const MODEL_FILE: &str = "model.bpk";
/// Optimiser state file inside a checkpoint folder.
pub const OPTIM_FILE: &str = "optim.bpk";
/// Progress file inside a checkpoint folder.
pub const STATE_FILE: &str = "state.json";

/// `run/checkpoints/name`.
pub fn dir(run: &Path, name: &str) -> PathBuf {
    run.join("checkpoints").join(name)
}

/// Saves a checkpoint atomically.
///
/// # Errors
/// A file that cannot be written.
pub fn save<M: Module>(
    run: &Path,
    name: &str,
    model: &M,
    optim: Option<&ModuleOptimizer>,
    state: &impl Serialize,
) -> Result<()> {
    write_atomic(run, name, |tmp| {
        save_module(model, &tmp.join(MODEL_FILE))?;
        if let Some(o) = optim {
            save_optim(o, &tmp.join(OPTIM_FILE))?;
        }
        fs::write(tmp.join(STATE_FILE), serde_json::to_string_pretty(state)?)
            .with_context(|| format!("writing {}", tmp.join(STATE_FILE).display()))
    })
}

/// Writes a module as burnpack.
///
/// # Errors
/// A file that cannot be written.
pub fn save_module<M: Module>(model: &M, path: &Path) -> Result<()> {
    model
        .clone()
        .save_file(path)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes an optimiser state as burnpack.
///
/// # Errors
/// A file that cannot be written.
pub fn save_optim(optim: &ModuleOptimizer, path: &Path) -> Result<()> {
    optim
        .save(path)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .with_context(|| format!("writing {}", path.display()))
}

/// Fills `run/checkpoints/.NAME.tmp` with `write`, then swaps it in as
/// `run/checkpoints/NAME` with renames, so that a kill at any moment leaves a complete
/// checkpoint (the new one, the previous one, or the previous one as `.NAME.old`).
///
/// # Errors
/// A file that cannot be written or moved.
pub fn write_atomic(run: &Path, name: &str, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let root = run.join("checkpoints");
    let tmp = root.join(format!(".{name}.tmp"));
    let old = root.join(format!(".{name}.old"));
    let target = root.join(name);
    if tmp.exists() {
        fs::remove_dir_all(&tmp).with_context(|| format!("cannot remove {}", tmp.display()))?;
    }
    fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    write(&tmp)?;
    // With no complete `NAME` (a kill came between the two renames of the previous save),
    // `.NAME.old` is the only checkpoint there is: it stays until the new one is in place.
    if target.join(STATE_FILE).is_file() {
        if old.exists() {
            fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
        }
        fs::rename(&target, &old).with_context(|| format!("cannot move {}", target.display()))?;
    } else if target.exists() {
        fs::remove_dir_all(&target)
            .with_context(|| format!("cannot remove {}", target.display()))?;
    }
    fs::rename(&tmp, &target)
        .with_context(|| format!("cannot move {} into place", tmp.display()))?;
    if old.exists() {
        fs::remove_dir_all(&old).with_context(|| format!("cannot remove {}", old.display()))?;
    }
    Ok(())
}

/// The folder of checkpoint `name`, or the `.old` one a kill left behind.
///
/// # Errors
/// If neither exists.
pub fn find(run: &Path, name: &str) -> Result<PathBuf> {
    let target = dir(run, name);
    if target.join(STATE_FILE).is_file() {
        return Ok(target);
    }
    let old = run.join("checkpoints").join(format!(".{name}.old"));
    if old.join(STATE_FILE).is_file() {
        return Ok(old);
    }
    bail!("{} has no `{name}` checkpoint", run.display())
}

/// Loads checkpoint `name` into `model` (which must have the run's architecture), the
/// optimiser state into `optim` if given, and the checkpoint's progress state.
///
/// # Errors
/// A missing checkpoint or files that do not match the model.
pub fn load_as<M: Module, S: serde::de::DeserializeOwned>(
    run: &Path,
    name: &str,
    model: M,
    optim: Option<ModuleOptimizer>,
) -> Result<(M, Option<ModuleOptimizer>, S)> {
    let d = find(run, name)?;
    let model = load_module(model, &d.join(MODEL_FILE))?;
    let optim = match optim {
        Some(o) => Some(load_optim(o, &d.join(OPTIM_FILE))?),
        None => None,
    };
    let text = fs::read_to_string(d.join(STATE_FILE))
        .with_context(|| format!("reading {}", d.join(STATE_FILE).display()))?;
    let state = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", d.join(STATE_FILE).display()))?;
    Ok((model, optim, state))
}

/// Loads burnpack weights into `model`.
///
/// # Errors
/// A missing file or one that does not match the module.
pub fn load_module<M: Module>(model: M, path: &Path) -> Result<M> {
    model
        .try_load_file(path)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .with_context(|| format!("loading {}", path.display()))
}

/// Loads an optimiser state.
///
/// # Errors
/// A missing or unreadable file.
pub fn load_optim(optim: ModuleOptimizer, path: &Path) -> Result<ModuleOptimizer> {
    optim
        .load(path)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .with_context(|| format!("loading {}", path.display()))
}

/// Removes checkpoint `name` with whatever a killed save left of it (`.NAME.tmp`,
/// `.NAME.old`): a run that starts afresh must not pick up a checkpoint of the session it
/// replaces.
///
/// # Errors
/// A folder that cannot be removed.
pub fn remove(run: &Path, name: &str) -> Result<()> {
    let root = run.join("checkpoints");
    for d in [
        root.join(name),
        root.join(format!(".{name}.tmp")),
        root.join(format!(".{name}.old")),
    ] {
        if d.exists() {
            fs::remove_dir_all(&d).with_context(|| format!("cannot remove {}", d.display()))?;
        }
    }
    Ok(())
}
