//! A training run's folder as training sees it: its settings, metrics header, the
//! progress state of its checkpoints, and the trained network in it (the generic layout,
//! atomic writes and checkpoints are [`crate::run`]'s).

use std::path::Path;

use anyhow::Result;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::config::TrainConfig;
use crate::nn::Network;
use crate::run::checkpoint;
use crate::run::dir::{RunDir, read_config_as};

/// Metrics file header of a training run.
pub const METRICS_HEADER: &str = "step,lr,loss,grad_norm,val_psnr,val_ssim,elapsed_s";

/// Where a run stands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainState {
    /// Optimiser steps done.
    pub step: u64,
    /// Best validation PSNR so far (dB).
    pub best_psnr: f64,
    /// Step of the best validation PSNR.
    pub best_step: u64,
    /// Wall time spent training so far, over all sessions (seconds).
    pub elapsed_s: f64,
    /// Bytes of `log.txt` when this checkpoint was written: a resume cuts the log back to
    /// it (absent in checkpoints written before it was recorded).
    #[serde(default)]
    pub log_len: Option<u64>,
}

/// Creates a training run folder with `config` (see [`RunDir::create`]).
///
/// # Errors
/// As [`RunDir::create`].
pub fn create(path: &Path, config: &TrainConfig) -> Result<RunDir> {
    RunDir::create(path, config, METRICS_HEADER)
}

/// Reads a training run's `config.json`.
///
/// # Errors
/// A missing or invalid file.
pub fn read_config(run: &Path) -> Result<TrainConfig> {
    read_config_as(run)
}

/// Loads checkpoint `name` of a training run into `model`, and the optimiser state into
/// `optim` if given.
///
/// # Errors
/// A missing checkpoint or files that do not match the model.
pub fn load<M: Module>(
    run: &Path,
    name: &str,
    model: M,
    optim: Option<ModuleOptimizer>,
) -> Result<(M, Option<ModuleOptimizer>, TrainState)> {
    checkpoint::load_as(run, name, model, optim)
}

/// Loads checkpoint `which` (`best` or `last`) of a run folder as a network on `device`.
///
/// # Errors
/// Not a run folder, or a missing checkpoint.
pub fn load_run(
    run: &Path,
    which: &str,
    device: &Device,
) -> Result<(Network, TrainConfig, TrainState)> {
    let config = read_config(run)?;
    let net = Network::init(&config.arch.graph(), config.seed, device)?;
    let (net, _, state) = load(run, which, net, None)?;
    Ok((net, config, state))
}
