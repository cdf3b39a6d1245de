//! The model's description in the ONNX file's `metadata_props`: what network it is, its
//! bits per layer and BitOps, and which `.qnm` it was converted from.

use anyhow::Result;
use quantnas_core::arch::Arch;
use quantnas_core::model::{Model, crc32};
use sha2::{Digest, Sha256};

use super::Encoding;
use super::proto::StringStringEntryProto;

/// LR size the reported BitOps are counted at (the paper's tables use 32×32).
pub const BITOPS_SIDE: usize = 32;

/// `(key, value)` pairs: `name`, `arch` (core's JSON of the architecture), `genotype` (the
/// genotype JSON, or the fixed network's name), `bits_per_layer` (JSON object, conv name
/// → bits), `bitops_32x32`, `macs_32x32`, `encoding` ([`Encoding::describe`]),
/// `source_qnm_sha256` and `source_qnm_crc32` of the model file's bytes, and `qnm_meta`
/// (the model file's own metadata JSON).
pub fn props(model: &Model, qnm: &[u8], enc: Encoding) -> Result<Vec<StringStringEntryProto>> {
    let cost = model.cost(BITOPS_SIDE, BITOPS_SIDE)?;
    let genotype = match &model.arch {
        Arch::Genotype { genotype } => genotype.to_json(),
        other => other.name(),
    };
    let bits: serde_json::Map<String, serde_json::Value> = model
        .layer_bits()
        .into_iter()
        .map(|l| (l.name, serde_json::Value::from(l.bits.get())))
        .collect();
    let sha: String = Sha256::digest(qnm)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let pairs = [
        ("name", model.name.clone()),
        ("arch", serde_json::to_string(&model.arch)?),
        ("genotype", genotype),
        ("bits_per_layer", serde_json::to_string(&bits)?),
        ("bitops_32x32", cost.bitops.to_string()),
        ("macs_32x32", cost.macs.to_string()),
        ("encoding", enc.describe().to_string()),
        ("source_qnm_sha256", sha),
        ("source_qnm_crc32", format!("{:08x}", crc32(qnm))),
        ("qnm_meta", model.meta.to_string()),
    ];
    Ok(pairs
        .into_iter()
        .map(|(k, v)| StringStringEntryProto {
            key: Some(k.to_string()),
            value: Some(v),
        })
        .collect())
}
