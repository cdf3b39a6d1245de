//! Writing the model file (layout in [`super::format`]).

use alloc::string::String;
use alloc::vec::Vec;

use super::checksum::crc32;
use super::error::ModelError;
use super::format::{
    CRC_LEN, HEADER_FORMAT, Header, MAGIC, MAX_FILE_LEN, MAX_JSON_LEN, PREAMBLE, TAG_ADQ, TAG_BN,
    TAG_FCONV, TAG_QCONV, VERSION, json_error,
};
use super::network::Model;
use super::params::{ConvParams, NodeParams, ParamSpec, param_specs};

impl Model {
    /// Serialises the model (validated first) to the file format.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ModelError> {
        self.validate()?;
        let graph = self.arch.graph();
        let specs = param_specs(&graph)?;
        let header = Header {
            format: String::from(HEADER_FORMAT),
            name: self.name.clone(),
            arch: self.arch.clone(),
            meta: self.meta.clone(),
        };
        let json = serde_json::to_vec(&header).map_err(|e| json_error(&e))?;
        if json.len() as u64 > MAX_JSON_LEN {
            return Err(ModelError::OverLimit {
                what: "JSON header length",
                offset: 20,
                got: json.len() as u64,
                max: MAX_JSON_LEN,
            });
        }
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // length, patched below
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        out.extend_from_slice(&(specs.len() as u32).to_le_bytes());
        let put_f32s = |out: &mut Vec<u8>, v: &[f32]| {
            v.iter()
                .for_each(|x| out.extend_from_slice(&x.to_le_bytes()))
        };
        for ((id, spec), params) in specs.iter().zip(&self.params) {
            let node = (*id as u32).to_le_bytes();
            match (spec, params) {
                (ParamSpec::Conv { shape, .. }, NodeParams::Conv(conv)) => {
                    let dims = |out: &mut Vec<u8>| {
                        out.extend_from_slice(&(shape.cout as u32).to_le_bytes());
                        out.extend_from_slice(&((shape.cin / shape.groups) as u32).to_le_bytes());
                        out.push(shape.kh as u8);
                        out.push(shape.kw as u8);
                    };
                    match conv {
                        ConvParams::Quantized {
                            bits,
                            codes,
                            weight_steps,
                            act_step,
                        } => {
                            out.push(TAG_QCONV);
                            out.extend_from_slice(&node);
                            out.push(bits.get() as u8);
                            dims(&mut out);
                            out.extend_from_slice(&act_step.to_le_bytes());
                            put_f32s(&mut out, weight_steps);
                            if bits.fits_nibble() {
                                for pair in codes.chunks(2) {
                                    let lo = pair[0] as u8 & 0x0F;
                                    let hi = pair.get(1).map_or(0, |&q| q as u8 & 0x0F);
                                    out.push(lo | hi << 4);
                                }
                            } else {
                                out.extend(codes.iter().map(|&q| q as u8));
                            }
                        }
                        ConvParams::Float { weights } => {
                            out.push(TAG_FCONV);
                            out.extend_from_slice(&node);
                            dims(&mut out);
                            put_f32s(&mut out, weights);
                        }
                    }
                }
                (ParamSpec::BatchNorm { channels }, NodeParams::BatchNorm { scale, shift }) => {
                    out.push(TAG_BN);
                    out.extend_from_slice(&node);
                    out.extend_from_slice(&(*channels as u32).to_le_bytes());
                    put_f32s(&mut out, scale);
                    put_f32s(&mut out, shift);
                }
                (ParamSpec::Adq, NodeParams::Adq { gamma, beta }) => {
                    out.push(TAG_ADQ);
                    out.extend_from_slice(&node);
                    out.extend_from_slice(&gamma.to_le_bytes());
                    out.extend_from_slice(&beta.to_le_bytes());
                }
                // `validate` has checked that every entry fits its spec.
                (spec, params) => {
                    return Err(ModelError::RecordKind {
                        node: graph.nodes[*id].name.clone(),
                        offset: 0,
                        expected: spec.kind_name(),
                        got: String::from(params.kind_name()),
                    });
                }
            }
        }
        let len = (out.len() + CRC_LEN) as u64;
        if len > MAX_FILE_LEN {
            return Err(ModelError::OverLimit {
                what: "file length",
                offset: 12,
                got: len,
                max: MAX_FILE_LEN,
            });
        }
        out[12..20].copy_from_slice(&len.to_le_bytes());
        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        Ok(out)
    }
}

/// Rewrites the length field and the trailing checksum of `bytes` in place so that they
/// match the content: for tools, tests and fuzzing that edit a file on purpose and want
/// the reader to look past the checksum. Does nothing to inputs shorter than the preamble.
pub fn reseal(bytes: &mut Vec<u8>) {
    if bytes.len() < PREAMBLE {
        return;
    }
    let len = (bytes.len() + CRC_LEN) as u64;
    bytes[12..20].copy_from_slice(&len.to_le_bytes());
    let crc = crc32(bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
}
