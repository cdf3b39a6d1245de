//! Errors of model files, model parameters and the inference engine.

use alloc::string::String;

use crate::arch::ArchError;
use crate::image::ImageError;

/// Why a model file, a model or an inference request is invalid.
///
/// Offsets are byte offsets into the model file; `node` is the graph node's name.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// The file ends before a field it must hold.
    #[error(
        "file truncated at byte {offset}: {what} needs {needed} bytes but only {available} remain"
    )]
    Truncated {
        /// Where the field starts.
        offset: usize,
        /// The field.
        what: &'static str,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes left in the file.
        available: usize,
    },
    /// The first 8 bytes are not `QNASMDL\0`.
    #[error("not a QuantNAS model file: magic bytes are {found:02x?}, expected \"QNASMDL\\0\"")]
    BadMagic {
        /// The first 8 bytes.
        found: [u8; 8],
    },
    /// A format version this build does not read.
    #[error("model file version {found} is not supported (this build reads version {supported})")]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// The length written in the header is not the length of the file.
    #[error(
        "the header says the file is {declared} bytes long but it is {actual} bytes (truncated or padded)"
    )]
    LengthMismatch {
        /// Length in the header.
        declared: u64,
        /// Length of the bytes given.
        actual: usize,
    },
    /// A size field is over one of the format's limits.
    #[error("{what} at byte {offset} is {got}, over the limit of {max}")]
    OverLimit {
        /// The field.
        what: &'static str,
        /// Where the field starts.
        offset: usize,
        /// Its value.
        got: u64,
        /// The limit.
        max: u64,
    },
    /// The trailing CRC-32 does not match the content.
    #[error(
        "checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (the file is corrupted)"
    )]
    Checksum {
        /// CRC-32 stored in the file.
        stored: u32,
        /// CRC-32 of the bytes before it.
        computed: u32,
    },
    /// The JSON header is not valid UTF-8 JSON of the expected shape.
    #[error("invalid JSON header at line {line}, column {column}: {message}")]
    HeaderJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The header's `format` field is not `quantnas-model`.
    #[error("header format is `{found}`, expected `quantnas-model`")]
    HeaderFormat {
        /// The `format` field.
        found: String,
    },
    /// The architecture is invalid.
    #[error(transparent)]
    Arch(#[from] ArchError),
    /// The graph has a node the engine cannot execute (a supernet slot).
    #[error("node `{node}` is a supernet slot: derive a genotype before exporting a model")]
    NotExecutable {
        /// Node name.
        node: String,
    },
    /// The number of parameter records differs from what the architecture needs.
    #[error("the architecture needs {expected} parameter records but the model has {got}")]
    RecordCount {
        /// Parameter nodes in the graph.
        expected: usize,
        /// Records given.
        got: u64,
    },
    /// A record belongs to another node than the one expected at its position.
    #[error(
        "record {record} at byte {offset} is for node #{got}, expected node #{expected} `{node}`"
    )]
    RecordNode {
        /// Record position.
        record: usize,
        /// Where the record starts.
        offset: usize,
        /// Node id the graph expects.
        expected: usize,
        /// Name of that node.
        node: String,
        /// Node id in the record.
        got: u64,
    },
    /// A record's kind does not fit its node (e.g. float weights for a 4-bit conv).
    #[error("node `{node}` (byte {offset}): expected a {expected} record, got {got}")]
    RecordKind {
        /// Node name.
        node: String,
        /// Where the record starts (0 for in-memory models).
        offset: usize,
        /// Kind the graph needs.
        expected: &'static str,
        /// Kind found (tag name or number).
        got: String,
    },
    /// A size or bit width in a record differs from what the architecture says.
    #[error("node `{node}` (byte {offset}): {what} is {got}, the architecture says {expected}")]
    Shape {
        /// Node name.
        node: String,
        /// Where the field starts (0 for in-memory models).
        offset: usize,
        /// The field.
        what: &'static str,
        /// Value the graph needs.
        expected: u64,
        /// Value found.
        got: u64,
    },
    /// A weight code outside the signed range of its bit width.
    #[error(
        "node `{node}`: weight code {code} at index {index} is outside [{min}, {max}] for {bits}-bit weights"
    )]
    CodeRange {
        /// Node name.
        node: String,
        /// Index into the codes.
        index: usize,
        /// The code.
        code: i32,
        /// Smallest allowed.
        min: i32,
        /// Largest allowed.
        max: i32,
        /// Bit width.
        bits: u32,
    },
    /// A NaN, infinite or out-of-domain parameter (negative step, zero activation step).
    #[error("node `{node}`: {what}[{index}] = {value} is not allowed ({rule})")]
    BadValue {
        /// Node name.
        node: String,
        /// The tensor.
        what: &'static str,
        /// Index into it.
        index: usize,
        /// The value.
        value: f32,
        /// What is required.
        rule: &'static str,
    },
    /// The padding nibble after an odd number of 4-bit codes is not zero.
    #[error(
        "node `{node}`: the unused high nibble of the last 4-bit code byte (byte {offset}) is not zero"
    )]
    PaddingNibble {
        /// Node name.
        node: String,
        /// Where the byte is.
        offset: usize,
    },
    /// Bytes left between the last record and the checksum.
    #[error("{count} unexpected bytes after the last record at byte {offset}")]
    TrailingBytes {
        /// Where they start.
        offset: usize,
        /// How many.
        count: usize,
    },
    /// An input image over [`MAX_INPUT_PIXELS`](crate::engine::MAX_INPUT_PIXELS).
    #[error("input {height}×{width} has more than {max} pixels")]
    InputTooLarge {
        /// Height.
        height: usize,
        /// Width.
        width: usize,
        /// Largest pixel count accepted.
        max: usize,
    },
    /// An input image the network cannot take (too small, or not 3 channels).
    #[error(
        "input {channels}×{height}×{width} is not accepted: the network needs 3 channels and at least {min_height}×{min_width} pixels"
    )]
    BadInput {
        /// Channels.
        channels: usize,
        /// Height.
        height: usize,
        /// Width.
        width: usize,
        /// Smallest height ([`Graph::min_input_size`](crate::arch::Graph::min_input_size)).
        min_height: usize,
        /// Smallest width.
        min_width: usize,
    },
    /// An image conversion failed.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A broken invariant of the engine's execution plan: a bug, not a bad input.
    #[error("internal engine error: {0} (a bug in quantnas-core; please report it)")]
    Internal(&'static str),
    /// A conv kernel was asked for that this CPU (or this build) cannot run.
    #[error("the {isa} conv kernel needs instructions this CPU or build lacks")]
    IsaUnavailable {
        /// The kernel asked for.
        isa: crate::engine::Isa,
    },
}
