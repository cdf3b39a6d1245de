//! The model file (`.qnm`): a versioned, checksummed binary container for a [`Model`].
//!
//! All integers and floats are little-endian; `f32` is IEEE-754 binary32.
//!
//! ```text
//! offset      size  field
//! ──────────  ────  ─────────────────────────────────────────────────────────────
//! 0           8     magic  "QNASMDL\0"  (51 4E 41 53 4D 44 4C 00)
//! 8           4     u32    format version = 1
//! 12          8     u64    length of the whole file in bytes, checksum included
//! 20          4     u32    J = length of the JSON header
//! 24          J     UTF-8 JSON header:
//!                          {"format": "quantnas-model", "name": "...",
//!                           "arch": {"kind": "genotype", "genotype": {...}}   (or
//!                                   {"kind": "espcn"|"srresnet"|"rfdn", "bits": 8}),
//!                           "meta": {...free-form...}}
//! 24+J        4     u32    R = number of parameter records
//! 28+J        ...   R records, one per parameter node of the graph, in graph order
//! len−4       4     u32    CRC-32 (IEEE) of bytes [0, len−4)
//!
//! record:     1     u8     tag: 1 quantized conv, 2 float conv, 3 batch norm, 4 ADQ
//!             4     u32    node index in the graph
//!   tag 1:    1     u8     bits (2, 3, 4 or 8)
//!             4     u32    cout
//!             4     u32    cin / groups
//!             1     u8     kh
//!             1     u8     kw
//!             4     f32    activation step of the input quantizer
//!             4·cout f32   weight step per output channel
//!             n or ⌈n/2⌉   weight codes, n = cout·(cin/groups)·kh·kw, order
//!                          [cout][cin/groups][kh][kw]; 8-bit: one i8 each; 2- to 4-bit:
//!                          two's complement nibbles, code i in the low nibble of byte i/2 when
//!                          i is even and in the high nibble when odd; an odd n leaves the
//!                          last high nibble 0
//!   tag 2:    4     u32    cout
//!             4     u32    cin / groups
//!             1     u8     kh
//!             1     u8     kw
//!             4·n   f32    weights, [cout][cin/groups][kh][kw]
//!   tag 3:    4     u32    C
//!             4·C   f32    scale (folded: y = scale·x + shift)
//!             4·C   f32    shift
//!   tag 4:    4     f32    γ
//!             4     f32    β
//! ```
//!
//! The reader trusts nothing: it checks magic, version, the declared length and the
//! checksum before it parses anything, every size against a limit and against what the
//! architecture in the header needs *before* it allocates, and every value after reading
//! (codes in range, steps ≥ 0, all finite). A truncated, corrupted or hostile file is a
//! [`ModelError`] naming the field and byte offset, never a panic, a huge allocation or a
//! hang.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::arch::{Arch, ConvShape, Graph};

use super::checksum::crc32;
use super::error::ModelError;
use super::network::Model;
use super::params::{ConvParams, NodeParams, ParamSpec, check_params, param_specs};

/// The first 8 bytes of every model file.
pub const MAGIC: [u8; 8] = *b"QNASMDL\0";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;
/// The `format` field of the JSON header.
pub const HEADER_FORMAT: &str = "quantnas-model";
/// Conventional file extension.
pub const EXTENSION: &str = "qnm";

/// Largest file accepted (64 MiB; SRResNet in f32 is about 6 MiB). Stops a header that
/// claims a multi-gigabyte file from making a caller read or hash it.
pub const MAX_FILE_LEN: u64 = 64 << 20;
/// Largest JSON header (1 MiB). Stops a length field that would make the JSON parser
/// allocate and walk gigabytes; serde_json's recursion limit stops deep nesting.
pub const MAX_JSON_LEN: u64 = 1 << 20;
/// Most graph nodes an architecture may have. Stops a header that describes an absurdly
/// large network (whose graph alone would exhaust memory).
pub const MAX_NODES: usize = 4096;
/// Most parameter records. Stops a record count that would make the reader loop or
/// reserve memory for millions of records.
pub const MAX_RECORDS: u64 = MAX_NODES as u64;
/// Most channels of a conv or batch norm. Stops a record whose channel count would make
/// a weight tensor of gigabytes (checked again against the architecture).
pub const MAX_CHANNELS: u64 = 1024;
/// Largest kernel side. Stops kernel sizes that multiply into huge weight tensors.
pub const MAX_KERNEL: u64 = 9;

pub(super) const TAG_QCONV: u8 = 1;
pub(super) const TAG_FCONV: u8 = 2;
pub(super) const TAG_BN: u8 = 3;
pub(super) const TAG_ADQ: u8 = 4;
/// Bytes before the JSON header.
pub(super) const PREAMBLE: usize = 24;
/// Bytes of the trailing checksum.
pub(super) const CRC_LEN: usize = 4;

/// The JSON header.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Header {
    pub(super) format: String,
    pub(super) name: String,
    pub(super) arch: Arch,
    #[serde(default)]
    pub(super) meta: serde_json::Value,
}

fn tag_name(tag: u8) -> String {
    match tag {
        TAG_QCONV => String::from("quantized conv"),
        TAG_FCONV => String::from("float conv"),
        TAG_BN => String::from("batch norm"),
        TAG_ADQ => String::from("ADQ"),
        t => alloc::format!("unknown tag {t}"),
    }
}

/// A bounds-checked cursor over the bytes before the checksum.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], ModelError> {
        let available = self.bytes.len() - self.pos;
        if n > available as u64 {
            return Err(ModelError::Truncated {
                offset: self.pos,
                what,
                needed: n,
                available,
            });
        }
        let n = n as usize;
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ModelError> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, ModelError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, ModelError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn f32(&mut self, what: &'static str) -> Result<f32, ModelError> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }

    /// `n` floats; `n` comes from the architecture, and the bytes are checked to be there
    /// before the vector is allocated.
    fn f32s(&mut self, n: usize, what: &'static str) -> Result<Vec<f32>, ModelError> {
        let s = self.take(4 * n as u64, what)?;
        Ok(s.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

/// A size field of a record: over the limit, or different from the architecture's.
fn check_field(
    node: &str,
    offset: usize,
    what: &'static str,
    got: u64,
    expected: u64,
    max: u64,
) -> Result<(), ModelError> {
    if got > max {
        return Err(ModelError::OverLimit {
            what,
            offset,
            got,
            max,
        });
    }
    if got != expected {
        return Err(ModelError::Shape {
            node: String::from(node),
            offset,
            what,
            expected,
            got,
        });
    }
    Ok(())
}

/// Reads `cout`, `cin/groups`, `kh`, `kw` and checks them against `shape`.
fn read_conv_dims(r: &mut Reader<'_>, node: &str, shape: &ConvShape) -> Result<(), ModelError> {
    let fields: [(&'static str, bool, u64, u64); 4] = [
        ("cout", true, shape.cout as u64, MAX_CHANNELS),
        (
            "cin / groups",
            true,
            (shape.cin / shape.groups) as u64,
            MAX_CHANNELS,
        ),
        ("kernel height", false, shape.kh as u64, MAX_KERNEL),
        ("kernel width", false, shape.kw as u64, MAX_KERNEL),
    ];
    for (what, wide, expected, max) in fields {
        let offset = r.pos;
        let got = if wide {
            u64::from(r.u32(what)?)
        } else {
            u64::from(r.u8(what)?)
        };
        check_field(node, offset, what, got, expected, max)?;
    }
    Ok(())
}

/// Unpacks `n` 4-bit two's complement codes; a non-zero padding nibble is an error.
fn unpack_nibbles(
    bytes: &[u8],
    n: usize,
    node: &str,
    offset: usize,
) -> Result<Vec<i8>, ModelError> {
    let mut codes = Vec::with_capacity(n);
    for i in 0..n {
        let byte = bytes[i / 2];
        let nib = if i % 2 == 0 { byte & 0x0F } else { byte >> 4 };
        // Shift the nibble to the top and back to sign-extend it.
        codes.push(((nib << 4) as i8) >> 4);
    }
    if n % 2 == 1 && bytes[n / 2] >> 4 != 0 {
        return Err(ModelError::PaddingNibble {
            node: String::from(node),
            offset: offset + n / 2,
        });
    }
    Ok(codes)
}

fn read_record(
    r: &mut Reader<'_>,
    record: usize,
    id: usize,
    node: &str,
    spec: &ParamSpec,
) -> Result<NodeParams, ModelError> {
    let offset = r.pos;
    let tag = r.u8("record tag")?;
    let got_node = r.u32("record node index")?;
    if got_node as usize != id {
        return Err(ModelError::RecordNode {
            record,
            offset,
            expected: id,
            node: String::from(node),
            got: u64::from(got_node),
        });
    }
    let expected_tag = match spec {
        ParamSpec::Conv { bits, .. } if bits.is_quantized() => TAG_QCONV,
        ParamSpec::Conv { .. } => TAG_FCONV,
        ParamSpec::BatchNorm { .. } => TAG_BN,
        ParamSpec::Adq => TAG_ADQ,
    };
    if tag != expected_tag {
        return Err(ModelError::RecordKind {
            node: String::from(node),
            offset,
            expected: spec.kind_name(),
            got: tag_name(tag),
        });
    }
    Ok(match *spec {
        ParamSpec::Conv { shape, bits } if bits.is_quantized() => {
            let at = r.pos;
            let b = r.u8("bit width")?;
            check_field(
                node,
                at,
                "bit width",
                u64::from(b),
                u64::from(bits.get()),
                32,
            )?;
            read_conv_dims(r, node, &shape)?;
            let act_step = r.f32("activation step")?;
            let weight_steps = r.f32s(shape.cout, "weight steps")?;
            let n = shape.weight_count();
            let at = r.pos;
            let codes = if bits.fits_nibble() {
                let packed = r.take(n.div_ceil(2) as u64, "nibble-packed weight codes")?;
                unpack_nibbles(packed, n, node, at)?
            } else {
                r.take(n as u64, "8-bit weight codes")?
                    .iter()
                    .map(|&b| b as i8)
                    .collect()
            };
            NodeParams::Conv(ConvParams::Quantized {
                bits,
                codes,
                weight_steps,
                act_step,
            })
        }
        ParamSpec::Conv { shape, .. } => {
            read_conv_dims(r, node, &shape)?;
            NodeParams::Conv(ConvParams::Float {
                weights: r.f32s(shape.weight_count(), "float weights")?,
            })
        }
        ParamSpec::BatchNorm { channels } => {
            let at = r.pos;
            let c = r.u32("batch-norm channels")?;
            check_field(
                node,
                at,
                "batch-norm channels",
                u64::from(c),
                channels as u64,
                MAX_CHANNELS,
            )?;
            let scale = r.f32s(channels, "batch-norm scale")?;
            let shift = r.f32s(channels, "batch-norm shift")?;
            NodeParams::BatchNorm { scale, shift }
        }
        ParamSpec::Adq => {
            let gamma = r.f32("ADQ gamma")?;
            let beta = r.f32("ADQ beta")?;
            NodeParams::Adq { gamma, beta }
        }
    })
}

/// Checks the graph against the format's limits before records are read.
fn check_graph_limits(graph: &Graph) -> Result<(), ModelError> {
    if graph.nodes.len() > MAX_NODES {
        return Err(ModelError::OverLimit {
            what: "graph node count",
            offset: PREAMBLE,
            got: graph.nodes.len() as u64,
            max: MAX_NODES as u64,
        });
    }
    Ok(())
}

pub(super) fn json_error(e: &serde_json::Error) -> ModelError {
    ModelError::HeaderJson {
        line: e.line(),
        column: e.column(),
        message: alloc::string::ToString::to_string(e),
    }
}

impl Model {
    /// Parses and validates a model file (see the [module docs](self) for the layout).
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        let mut r = Reader { bytes, pos: 0 };
        let magic: [u8; 8] = r.array("magic")?;
        if magic != MAGIC {
            return Err(ModelError::BadMagic { found: magic });
        }
        let version = r.u32("version")?;
        if version != VERSION {
            return Err(ModelError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        let declared = r.u64("file length")?;
        if declared > MAX_FILE_LEN {
            return Err(ModelError::OverLimit {
                what: "file length",
                offset: 12,
                got: declared,
                max: MAX_FILE_LEN,
            });
        }
        if declared != bytes.len() as u64 {
            return Err(ModelError::LengthMismatch {
                declared,
                actual: bytes.len(),
            });
        }
        if bytes.len() < PREAMBLE + CRC_LEN {
            return Err(ModelError::Truncated {
                offset: r.pos,
                what: "JSON header length and checksum",
                needed: (PREAMBLE + CRC_LEN - r.pos) as u64,
                available: bytes.len() - r.pos,
            });
        }
        let body_len = bytes.len() - CRC_LEN;
        let tail = &bytes[body_len..];
        let stored = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
        let computed = crc32(&bytes[..body_len]);
        if stored != computed {
            return Err(ModelError::Checksum { stored, computed });
        }
        // From here on the reader only sees the checksummed body.
        let mut r = Reader {
            bytes: &bytes[..body_len],
            pos: r.pos,
        };
        let json_offset = r.pos;
        let json_len = u64::from(r.u32("JSON header length")?);
        if json_len > MAX_JSON_LEN {
            return Err(ModelError::OverLimit {
                what: "JSON header length",
                offset: json_offset,
                got: json_len,
                max: MAX_JSON_LEN,
            });
        }
        let json = r.take(json_len, "JSON header")?;
        let header: Header = serde_json::from_slice(json).map_err(|e| json_error(&e))?;
        if header.format != HEADER_FORMAT {
            return Err(ModelError::HeaderFormat {
                found: header.format,
            });
        }
        let graph = header.arch.graph();
        check_graph_limits(&graph)?;
        let specs = param_specs(&graph)?;
        let count_offset = r.pos;
        let count = u64::from(r.u32("record count")?);
        if count > MAX_RECORDS {
            return Err(ModelError::OverLimit {
                what: "record count",
                offset: count_offset,
                got: count,
                max: MAX_RECORDS,
            });
        }
        if count != specs.len() as u64 {
            return Err(ModelError::RecordCount {
                expected: specs.len(),
                got: count,
            });
        }
        let mut params = Vec::with_capacity(specs.len());
        for (record, (id, spec)) in specs.iter().enumerate() {
            let name = &graph.nodes[*id].name;
            let p = read_record(&mut r, record, *id, name, spec)?;
            check_params(name, spec, &p)?;
            params.push(p);
        }
        if r.pos != body_len {
            return Err(ModelError::TrailingBytes {
                offset: r.pos,
                count: body_len - r.pos,
            });
        }
        Ok(Model {
            name: header.name,
            arch: header.arch,
            meta: header.meta,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{Arch, Bits, rfdn_genotype};
    use crate::model::write::reseal;

    #[test]
    fn round_trip_is_exact() {
        for arch in [
            Arch::Espcn { bits: Bits::B2 },
            Arch::Espcn { bits: Bits::B3 },
            Arch::Espcn { bits: Bits::B4 },
            Arch::Espcn { bits: Bits::B32 },
            Arch::Genotype {
                genotype: rfdn_genotype(Bits::B4),
            },
        ] {
            let m = Model::random(arch, 11).expect("random");
            let bytes = m.to_bytes().expect("write");
            assert_eq!(&bytes[..8], &MAGIC);
            assert_eq!(Model::from_bytes(&bytes).expect("read"), m);
        }
    }

    #[test]
    fn odd_nibble_count_pads_with_zero() {
        let codes = [1i8, -8, 7];
        let bytes = [0x81u8, 0x07];
        assert_eq!(unpack_nibbles(&bytes, 3, "n", 0).expect("unpack"), codes);
        assert!(matches!(
            unpack_nibbles(&[0x81, 0x17], 3, "n", 100),
            Err(ModelError::PaddingNibble { offset: 101, .. })
        ));
    }

    #[test]
    fn reseal_makes_edits_reach_the_parser() {
        let m = Model::random(Arch::Espcn { bits: Bits::B8 }, 1).expect("random");
        let mut bytes = m.to_bytes().expect("write");
        bytes.truncate(bytes.len() - CRC_LEN);
        // Edit the record count.
        let json_len = u32::from_le_bytes([bytes[20], bytes[21], bytes[22], bytes[23]]) as usize;
        bytes[PREAMBLE + json_len] = 2;
        reseal(&mut bytes);
        assert_eq!(
            Model::from_bytes(&bytes),
            Err(ModelError::RecordCount {
                expected: 3,
                got: 2
            })
        );
    }
}
