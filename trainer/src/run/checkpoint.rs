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
use burn::store::ModuleRecord;

use crate::nn::fixed::legacy_path;
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

/// Loads burnpack weights into `model`. Files written before the fixed-node parameters
/// had their own module are read with their record paths renamed
/// ([`legacy_path`]), so older run folders still resume and export.
///
/// # Errors
/// A missing file or one that does not match the module.
pub fn load_module<M: Module>(model: M, path: &Path) -> Result<M> {
    read_record(path)
        .and_then(|r| {
            model
                .try_load_record(r)
                .map_err(|e| anyhow::anyhow!("{e:?}"))
        })
        .with_context(|| format!("loading {}", path.display()))
}

/// The record in the burnpack file at `path`, legacy paths renamed.
fn read_record(path: &Path) -> Result<ModuleRecord> {
    let err = |e: burn_pack::Error| anyhow::anyhow!("{e}");
    let reader = burn_pack::Reader::from_file(path).map_err(err)?;
    if !reader
        .tensor_names()
        .iter()
        .any(|n| legacy_path(n).is_some())
    {
        return ModuleRecord::load(path).map_err(|e| anyhow::anyhow!("{e:?}"));
    }
    let mut tensors = reader.into_tensors().map_err(err)?;
    for t in &mut tensors {
        if let Some(new) = legacy_path(&t.name) {
            t.name = new;
        }
    }
    let bytes = burn_pack::Writer::new(tensors).into_bytes().map_err(err)?;
    ModuleRecord::from_bytes(bytes).map_err(|e| anyhow::anyhow!("{e:?}"))
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

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::nn::Network;
    use burn::tensor::Device;
    use quantnas_core::arch::{Bits, Choice, Genotype, Residual, SearchSpace};

    /// A network with convs, batch norms and ADQ nodes.
    fn graph(residual: Residual) -> quantnas_core::arch::Graph {
        let space = SearchSpace::BasicB;
        Genotype {
            space,
            residual,
            choices: space
                .slots()
                .iter()
                .map(|s| Choice {
                    op: s.candidates[0],
                    bits: Bits::B8,
                })
                .collect(),
        }
        .graph()
    }

    fn values(net: &Network) -> Vec<f32> {
        let mut v = Vec::new();
        for c in &net.fixed.convs {
            v.extend(c.weight.val().into_data().try_into_vec::<f32>().unwrap());
        }
        for n in &net.fixed.norms {
            v.extend(n.gamma.val().into_data().try_into_vec::<f32>().unwrap());
        }
        for a in &net.fixed.adqs {
            v.extend(a.gamma.val().into_data().try_into_vec::<f32>().unwrap());
        }
        v
    }

    /// A checkpoint written with the record paths of before `FixedParams` (`convs.0…`)
    /// loads into today's network with the same values.
    #[test]
    fn legacy_record_paths_still_load() {
        let dir = std::env::temp_dir().join(format!("quantnas-ckpt-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let d = Device::flex();
        for residual in [Residual::BatchNorm, Residual::Adq] {
            let g = graph(residual);
            let net = Network::init(&g, 3, &d).unwrap();
            let new = dir.join("new.bpk");
            save_module(&net, &new).unwrap();
            let mut tensors = burn_pack::Reader::from_file(&new)
                .unwrap()
                .into_tensors()
                .unwrap();
            for t in &mut tensors {
                t.name = t.name.strip_prefix("fixed.").unwrap().to_string();
            }
            let old = dir.join("old.bpk");
            burn_pack::Writer::new(tensors).write_to_file(&old).unwrap();
            let loaded = load_module(Network::init(&g, 9, &d).unwrap(), &old).unwrap();
            let fresh = values(&Network::init(&g, 9, &d).unwrap());
            assert_eq!(values(&loaded), values(&net), "{residual}");
            assert_ne!(fresh, values(&net), "the seeds give different networks");
            // Today's paths load as they are.
            let same = load_module(Network::init(&g, 9, &d).unwrap(), &new).unwrap();
            assert_eq!(values(&same), values(&net));
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
