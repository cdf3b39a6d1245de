//! Errors of architecture descriptions.

use alloc::string::String;

/// Why a genotype or architecture description is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArchError {
    /// The JSON text could not be parsed.
    #[error("invalid genotype JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The file is not a genotype of a version this build reads.
    #[error(
        "unsupported genotype format `{format}` version {version} (expected `quantnas-genotype` version 1)"
    )]
    Format {
        /// The `format` field.
        format: String,
        /// The `version` field.
        version: u32,
    },
    /// A slot names an op that is not in the catalogue.
    #[error("slot `{slot}`: unknown op `{op}`")]
    UnknownOp {
        /// Slot name.
        slot: String,
        /// The op as written.
        op: String,
    },
    /// A slot names an op that exists but is not a candidate of that slot.
    #[error("slot `{slot}`: op `{op}` is not a candidate of this slot in space {space}")]
    OpNotInSlot {
        /// Slot name.
        slot: String,
        /// The op.
        op: String,
        /// The space.
        space: &'static str,
    },
    /// A slot's candidate list, given to restrict a supernet, that cannot be searched.
    #[error("slot `{slot}`: {reason}")]
    Candidates {
        /// Slot name.
        slot: String,
        /// What is wrong with the list.
        reason: &'static str,
    },
    /// A bit width outside {2, 3, 4, 8, 32}.
    #[error("slot `{slot}`: bit width {bits} is not one of 2, 3, 4, 8, 32")]
    BadBits {
        /// Slot name.
        slot: String,
        /// The width as written.
        bits: u32,
    },
    /// Fewer slots than the space has.
    #[error(
        "space {space} has {expected} slots but the genotype has {got}: slot `{missing}` is missing"
    )]
    MissingSlot {
        /// The space.
        space: &'static str,
        /// Slots in the space.
        expected: usize,
        /// Slots given.
        got: usize,
        /// First missing slot.
        missing: String,
    },
    /// More slots than the space has.
    #[error(
        "space {space} has {expected} slots but the genotype has {got}: slot `{extra}` is extra"
    )]
    ExtraSlot {
        /// The space.
        space: &'static str,
        /// Slots in the space.
        expected: usize,
        /// Slots given.
        got: usize,
        /// First extra slot.
        extra: String,
    },
    /// Slot at position `index` has the wrong name.
    #[error("slot {index} should be `{expected}` but is `{got}`")]
    SlotName {
        /// Position.
        index: usize,
        /// Name the space expects there.
        expected: String,
        /// Name found.
        got: String,
    },
    /// A name (of a search space, a residual mode, …) that is not one of the known ones.
    #[error("unknown {what} `{name}` (expected {expected})")]
    UnknownName {
        /// What was named, e.g. "search space".
        what: &'static str,
        /// The name as written.
        name: String,
        /// The known names, comma-separated.
        expected: String,
    },
    /// An unknown fixed network name.
    #[error("unknown architecture `{0}` (expected espcn, srresnet, rfdn or a genotype JSON file)")]
    UnknownArch(String),
    /// LR input too small for the network (RFDN's ESA blocks need 15 px: a strided 3×3
    /// conv then a 7×7 max-pool with stride 3).
    #[error(
        "input {height}×{width} is too small for {what}: this network needs at least {min_height}×{min_width}"
    )]
    InputTooSmall {
        /// Height.
        height: usize,
        /// Width.
        width: usize,
        /// Smallest height the network accepts ([`Graph::min_input_size`](super::Graph::min_input_size)).
        min_height: usize,
        /// Smallest width the network accepts.
        min_width: usize,
        /// What needs it.
        what: &'static str,
    },
    /// A size or count derived from the input size overflows its integer type (`usize`
    /// for shapes, `u64` for costs).
    #[error("input {height}×{width} is too large: {what} overflows")]
    SizeOverflow {
        /// Height.
        height: usize,
        /// Width.
        width: usize,
        /// The quantity that overflowed, e.g. "the BitOps of layer `head`".
        what: String,
    },
}
