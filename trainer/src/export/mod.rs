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
use quantnas_core::model::{ConvParams, Model, NodeParams};

use crate::nn::network::BN_EPS;
use crate::nn::{Network, ParamSlot};
use crate::train::folder::load_run;

pub mod onnx;

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
            ParamSlot::None => {}
            ParamSlot::Conv(k) => {
                let c = &net.fixed.convs[k];
                let w = values(c.weight.val())?;
                let bits = c.bits();
                let conv = match c.steps() {
                    Some(step) if bits != Bits::B32 => {
                        ConvParams::quantize(bits, &w, &values(step)?)
                    }
                    _ => ConvParams::Float { weights: w },
                };
                params.push(NodeParams::Conv(conv));
            }
            ParamSlot::Norm(k) => {
                let bn = &net.fixed.norms[k];
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
                params.push(NodeParams::BatchNorm { scale, shift });
            }
            ParamSlot::Adq(k) => {
                let a = &net.fixed.adqs[k];
                let (g, b) = (values(a.gamma.val())?, values(a.beta.val())?);
                params.push(NodeParams::Adq {
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
        .context("the exported parameters do not fit the architecture")?;
    Ok(model)
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
    let bytes = model.to_bytes().context("serialising the model")?;
    let tmp = path.with_extension("qnm.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Output format of `trainer export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The project's model file, for `quantnas-core`'s engine and the web page.
    Qnm,
    /// A standard ONNX model (opset 21) for ONNX Runtime and other runtimes.
    Onnx,
}

/// Export a trained run (or convert a model file) to a `.qnm` model file for
/// `quantnas-core`'s integer engine and the web demo, or to an ONNX model.
///
/// The ONNX model is the quantized network itself, input `float32 [N, 3, H, W]` RGB in
/// [0, 1], output `[N, 3, 4H, 4W]` clamped to [0, 1]: QuantizeLinear/DequantizeLinear
/// pairs with the model's own activation steps and per-channel weight steps (`qdq`), or the
/// engine's integer arithmetic in standard ops (`exact`, equal to the engine's output in
/// ONNX Runtime). A run is exported to `.qnm` in memory first, so every format holds the
/// same numbers.
///
/// Examples: `trainer export runs/espcn8 -o web/models/espcn-8bit.qnm`,
/// `trainer export web/models/espcn-8bit.qnm --format onnx -o espcn.onnx`
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Run folder written by `trainer train`, or a `.qnm` model file.
    pub run: PathBuf,
    /// Output file (.qnm or .onnx).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "qnm")]
    pub format: Format,
    /// ONNX only: `qdq`, QuantizeLinear/DequantizeLinear pairs around float convs (what
    /// ONNX Runtime, TensorRT and OpenVINO fuse into integer kernels); `exact`, the
    /// engine's arithmetic (ConvInteger on the codes, its rescale and rounding spelled
    /// out), whose output through ONNX Runtime equals the engine's.
    #[arg(long, value_enum, default_value = "qdq")]
    pub onnx_form: OnnxForm,
    /// ONNX `qdq` only: how 4-bit weights and activations are stored. `int4`: ONNX
    /// int4/uint4 tensors; `int8`: int8/uint8 containers holding 4-bit codes (runs on
    /// 8-bit integer kernels) [default: int4].
    #[arg(long, value_enum)]
    pub four_bit: Option<onnx::FourBit>,
    /// Run folders only: which checkpoint, `best` (validation PSNR) or `last`.
    #[arg(long, default_value = "best")]
    pub checkpoint: String,
}

/// The two ONNX forms (see [`onnx::Encoding`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnnxForm {
    /// QuantizeLinear/DequantizeLinear pairs.
    Qdq,
    /// The engine's integer arithmetic.
    Exact,
}

impl ExportArgs {
    /// The ONNX encoding the options ask for.
    ///
    /// # Errors
    /// `--four-bit` with the exact form (which stores every code in 8 bits).
    pub fn encoding(&self) -> Result<onnx::Encoding> {
        match (self.onnx_form, self.four_bit) {
            (OnnxForm::Qdq, four) => Ok(onnx::Encoding::Qdq(four.unwrap_or_default())),
            (OnnxForm::Exact, None) => Ok(onnx::Encoding::Exact),
            (OnnxForm::Exact, Some(_)) => bail!(
                "--four-bit applies to --onnx-form qdq only (the exact form stores 4-bit codes \
                 in int8, as ConvInteger reads them)"
            ),
        }
    }
}

/// The model and its `.qnm` bytes: a model file as read, or a run exported in memory.
///
/// # Errors
/// An unreadable or invalid model file, or see [`export_run`].
pub fn load_model(input: &Path, checkpoint: &str) -> Result<(Model, Vec<u8>)> {
    if input.is_dir() {
        let model = export_run(input, checkpoint)?;
        let bytes = model.to_bytes().context("serialising the model")?;
        return Ok((model, bytes));
    }
    let bytes = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let model = Model::from_bytes(&bytes)
        .with_context(|| format!("{} is not a valid model file", input.display()))?;
    Ok((model, bytes))
}

/// Writes `bytes` to `path` atomically (through a `.tmp` sibling).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `trainer export`.
///
/// # Errors
/// See [`load_model`], [`onnx::to_bytes`] and [`write_model`].
pub fn run(args: &ExportArgs) -> Result<()> {
    if args.checkpoint != "best" && args.checkpoint != "last" {
        bail!(
            "--checkpoint must be `best` or `last`, got {:?}",
            args.checkpoint
        );
    }
    let encoding = args.encoding()?;
    let (model, qnm) = load_model(&args.run, &args.checkpoint)?;
    match args.format {
        Format::Qnm => write_atomic(&args.output, &qnm)?,
        Format::Onnx => {
            let bytes = onnx::to_bytes(&model, &qnm, encoding)
                .with_context(|| format!("converting {} to ONNX", args.run.display()))?;
            write_atomic(&args.output, &bytes)?;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(form: OnnxForm, four_bit: Option<onnx::FourBit>) -> ExportArgs {
        ExportArgs {
            run: "m.qnm".into(),
            output: "m.onnx".into(),
            format: Format::Onnx,
            onnx_form: form,
            four_bit,
            checkpoint: "best".into(),
        }
    }

    #[test]
    fn onnx_options_resolve_to_one_encoding() {
        use onnx::{Encoding, FourBit};
        let enc = |f, b| args(f, b).encoding().ok();
        assert_eq!(enc(OnnxForm::Qdq, None), Some(Encoding::Qdq(FourBit::Int4)));
        assert_eq!(
            enc(OnnxForm::Qdq, Some(FourBit::Int8)),
            Some(Encoding::Qdq(FourBit::Int8))
        );
        assert_eq!(enc(OnnxForm::Exact, None), Some(Encoding::Exact));
        let err = args(OnnxForm::Exact, Some(FourBit::Int4)).encoding();
        assert!(err.is_err_and(|e| e.to_string().contains("--four-bit")));
    }
}
