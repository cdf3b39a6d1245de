//! `trainer export --format onnx`: a core [`Model`] as a standard ONNX model, in one of
//! two [`Encoding`]s.
//!
//! In both, the graph is the quantized network itself. **QDQ** (the default): every
//! 4/8-bit conv reads its input through the HWGQ quantizer as a
//! QuantizeLinear/DequantizeLinear pair (fixed step, zero point 0) and its weights as LSQ
//! codes behind a per-channel DequantizeLinear — the form quantization-aware runtimes
//! (ONNX Runtime's QDQ fusion, TensorRT, OpenVINO) recognise and turn into integer
//! kernels where they can. **Exact**: the engine's arithmetic itself — `ConvInteger` on
//! the codes, its rescale and roundings spelled out ([`exact`]) — so that ONNX Runtime
//! computes the engine's very values. 32-bit convs are a ReLU and a float conv in both.
//! Pixel shuffle is DepthToSpace (CRD), ADQ is spelled out from ReduceMean/Shape, the
//! output is clamped to [0, 1] as the engine's upscale does. One input `float32 [N, 3, H,
//! W]`, one output `float32 [N, 3, 4H, 4W]`, H and W free. Opset 21 (the first with
//! `int4`/`uint4`), IR version 10.
//!
//! Files: [`proto`] the generated protobuf types, [`tensors`] initializer encodings,
//! [`builder`] node/name bookkeeping, [`quant`] the Q/DQ pairs, [`exact`] the exact
//! form's ops, [`lower`] the per-op lowering, [`meta`] the metadata.

pub mod builder;
pub mod exact;
pub mod lower;
pub mod meta;
pub mod proto;
pub mod quant;
pub mod tensors;

use anyhow::{Context, Result};
use prost::Message;
use quantnas_core::arch::SCALE;
use quantnas_core::model::Model;

use proto::tensor_proto::DataType;
use proto::tensor_shape_proto::{Dimension, dimension::Value as Dim};
use proto::{
    GraphProto, ModelProto, OperatorSetIdProto, TensorShapeProto, TypeProto, ValueInfoProto,
    type_proto,
};
pub use quant::FourBit;

/// How the quantized network is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// QuantizeLinear/DequantizeLinear pairs around float ops, 4-bit tensors stored as
    /// given. Runtimes fuse what they can into integer kernels and run the rest in float,
    /// so a conv sum within a float rounding error of a quantizer's half-step may take the
    /// neighbouring code (the engine sums codes exactly).
    Qdq(FourBit),
    /// The engine's integer arithmetic in standard ops (see [`exact`]): ONNX Runtime's
    /// output equals the engine's except where 32-bit float convs meet quantizers.
    Exact,
}

impl Default for Encoding {
    fn default() -> Self {
        Encoding::Qdq(FourBit::default())
    }
}

impl Encoding {
    /// A line for the metadata and the export's report.
    pub fn describe(self) -> &'static str {
        match self {
            Encoding::Qdq(FourBit::Int4) => "qdq, 4-bit tensors as int4/uint4",
            Encoding::Qdq(FourBit::Int8) => {
                "qdq, 4-bit tensors in int8/uint8 containers (codes in [-8, 7], activations in [0, 15])"
            }
            Encoding::Exact => {
                "exact: ConvInteger on uint8/int8 codes, rescaled in double, ties away from zero"
            }
        }
    }
}

/// ONNX opset written: 21 is the first whose QuantizeLinear/DequantizeLinear take
/// `int4`/`uint4`.
pub const OPSET: i64 = 21;
/// IR version of opset 21.
pub const IR_VERSION: i64 = 10;

/// A `float32` tensor type of shape `[N, 3, h, w]` with symbolic dimensions.
fn image_type(name: &str, h: &str, w: &str) -> ValueInfoProto {
    let dim = |s: &str| Dimension {
        value: Some(match s.parse::<i64>() {
            Ok(v) => Dim::DimValue(v),
            Err(_) => Dim::DimParam(s.to_string()),
        }),
        ..Default::default()
    };
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto {
                    dim: vec![dim("N"), dim("3"), dim(h), dim(w)],
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The ONNX model of `model`; `qnm` is the model file it came from (its checksum goes
/// into the metadata).
///
/// # Errors
/// A model that does not validate or has no cost (a supernet).
pub fn to_onnx(model: &Model, qnm: &[u8], enc: Encoding) -> Result<ModelProto> {
    model
        .validate()
        .context("the model does not fit its architecture")?;
    let g = lower::lower(model, enc)?;
    let graph = GraphProto {
        name: Some(model.name.clone()),
        node: g.nodes,
        initializer: g.initializers,
        input: vec![image_type(lower::INPUT, "H", "W")],
        output: vec![image_type(
            lower::OUTPUT,
            &format!("H_x{SCALE}"),
            &format!("W_x{SCALE}"),
        )],
        doc_string: Some(format!(
            "{}: RGB in [0, 1] to RGB x{SCALE} in [0, 1]",
            model.arch.name()
        )),
        ..Default::default()
    };
    Ok(ModelProto {
        ir_version: Some(IR_VERSION),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(OPSET),
        }],
        producer_name: Some("quantnas-trainer".to_string()),
        producer_version: Some(env!("CARGO_PKG_VERSION").to_string()),
        doc_string: Some(format!(
            "QuantNAS x4 super-resolution network with its own HWGQ activation and LSQ \
             weight quantizers ({})",
            enc.describe()
        )),
        graph: Some(graph),
        metadata_props: meta::props(model, qnm, enc)?,
        ..Default::default()
    })
}

/// [`to_onnx`], serialised.
///
/// # Errors
/// See [`to_onnx`].
pub fn to_bytes(model: &Model, qnm: &[u8], enc: Encoding) -> Result<Vec<u8>> {
    Ok(to_onnx(model, qnm, enc)?.encode_to_vec())
}
