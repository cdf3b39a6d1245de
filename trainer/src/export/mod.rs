//! `trainer export`: turns a trained [`Network`] into `quantnas-core`'s deployable
//! [`Model`] and writes it as a `.qnm` file.
//!
//! Per parameter node, in graph order: quantized convs become integer LSQ codes (core's
//! [`ConvParams::quantize`], the rounding the engine assumes) with their per-channel steps
//! and the fixed HWGQ step of their input; 32-bit convs keep float weights; batch norms are
//! folded with their running statistics into `scale = γ/√(var+ε)`, `shift = β − mean·scale`
//! (inference never needs them apart); ADQ nodes keep γ and β.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, Tensor};
use clap::Args;
use quantnas_core::arch::Bits;
use quantnas_core::model::{ConvParams, Model, NodeParams as ModelParams};

use crate::nn::network::BN_EPS;
use crate::nn::{Network, NodeParams};
use crate::train::checkpoint;
use crate::train::run_dir::read_config;

fn values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("reading a parameter: {e:?}"))
}

/// Fills a core [`Model`] from a trained network.
///
/// # Errors
/// Parameters that do not fit the architecture (e.g. a negative LSQ step); the message
/// names the node.
pub fn to_model(
    net: &Network,
    arch: quantnas_core::arch::Arch,
    name: &str,
    meta: serde_json::Value,
) -> Result<Model> {
    net.sync_running_stats();
    let mut params = Vec::new();
    for p in &net.params {
        match *p {
            NodeParams::None => {}
            NodeParams::Conv(k) => {
                let c = &net.convs[k];
                let w = values(c.weight.val())?;
                let bits = c.bits();
                let conv = match c.steps() {
                    Some(step) if bits != Bits::B32 => {
                        ConvParams::quantize(bits, &w, &values(step)?)
                    }
                    _ => ConvParams::Float { weights: w },
                };
                params.push(ModelParams::Conv(conv));
            }
            NodeParams::Norm(k) => {
                let bn = &net.norms[k];
                let (g, b) = (values(bn.gamma.val())?, values(bn.beta.val())?);
                let (m, v) = (
                    values(bn.running_mean.value_sync())?,
                    values(bn.running_var.value_sync())?,
                );
                let scale: Vec<f32> = g
                    .iter()
                    .zip(&v)
                    .map(|(g, v)| g / (v + BN_EPS as f32).sqrt())
                    .collect();
                let shift = b
                    .iter()
                    .zip(&m)
                    .zip(&scale)
                    .map(|((b, m), s)| b - m * s)
                    .collect();
                params.push(ModelParams::BatchNorm { scale, shift });
            }
            NodeParams::Adq(k) => {
                let a = &net.adqs[k];
                let (g, b) = (values(a.gamma.val())?, values(a.beta.val())?);
                params.push(ModelParams::Adq {
                    gamma: g[0],
                    beta: b[0],
                });
            }
        }
    }
    let model = Model {
        name: name.to_string(),
        arch,
        meta,
        params,
    };
    model
        .validate()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("the exported parameters do not fit the architecture")?;
    Ok(model)
}

/// Loads checkpoint `which` (`best` or `last`) of a run folder as a network on `device`.
///
/// # Errors
/// Not a run folder, or a missing checkpoint.
pub fn load_run(
    run: &Path,
    which: &str,
    device: &Device,
) -> Result<(Network, crate::train::TrainConfig, checkpoint::TrainState)> {
    let config = read_config(run)?;
    let net = Network::init(&config.arch.graph(), config.seed, device)?;
    let (net, _, state) = checkpoint::load(run, which, net, None)?;
    Ok((net, config, state))
}

/// Exports checkpoint `which` of `run` to a core model.
///
/// # Errors
/// See [`load_run`] and [`to_model`].
pub fn export_run(run: &Path, which: &str) -> Result<Model> {
    let (net, config, state) = load_run(run, which, &Device::flex())?;
    let name = run
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| config.arch.name());
    let meta = serde_json::json!({
        "trainer": env!("CARGO_PKG_VERSION"),
        "run": run.display().to_string(),
        "checkpoint": which,
        "step": state.step,
        "val_data": config.val_data.display().to_string(),
        "val_psnr": state.best_psnr,
        "train_data": config.train_data.display().to_string(),
        "preset": config.preset,
        "steps": config.steps,
        "train_seconds": state.elapsed_s,
    });
    to_model(&net, config.arch.clone(), &name, meta)
}

/// Writes `model` to `path` atomically (through `path.tmp`).
///
/// # Errors
/// A model that does not serialise, or an unwritable path.
pub fn write_model(model: &Model, path: &Path) -> Result<()> {
    let bytes = model
        .to_bytes()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("serialising the model")?;
    let tmp = path.with_extension("qnm.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Export a trained run to a model file for `quantnas-core`'s integer engine (and the web demo).
///
/// Example: `trainer export runs/espcn8 -o web/models/espcn-8bit.qnm`
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Run folder written by `trainer train`.
    pub run: PathBuf,
    /// Output model file (.qnm).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Which checkpoint: `best` (validation PSNR) or `last`.
    #[arg(long, default_value = "best")]
    pub checkpoint: String,
}

/// Runs `trainer export`.
///
/// # Errors
/// See [`export_run`] and [`write_model`].
pub fn run(args: &ExportArgs) -> Result<()> {
    if args.checkpoint != "best" && args.checkpoint != "last" {
        bail!(
            "--checkpoint must be `best` or `last`, got {:?}",
            args.checkpoint
        );
    }
    let model = export_run(&args.run, &args.checkpoint)?;
    write_model(&model, &args.output)?;
    let bits: Vec<String> = model
        .layer_bits()
        .iter()
        .map(|l| format!("{}:{}", l.name, l.bits))
        .collect();
    println!(
        "wrote {} ({}; {} parameter nodes; layers {})",
        args.output.display(),
        model.arch.name(),
        model.params.len(),
        bits.join(" ")
    );
    Ok(())
}
