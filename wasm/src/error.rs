//! The error type of the bindings, and what it becomes at the JavaScript boundary.

use quantnas_core::arch::{ArchError, BadBits, UnknownOp};
use quantnas_core::image::ImageError;
use quantnas_core::model::ModelError;

/// Why a binding call failed. In wasm it reaches JavaScript as an `Error` whose message is
/// this type's `Display`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An RGBA buffer does not match its dimensions.
    #[error("RGBA buffer holds {got} bytes, but {width}x{height} pixels need {expected}")]
    RgbaLength {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// `width * height * 4`.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// An image (given, or one a resize would produce) has a side of 0 or above the limit.
    #[error("image size {width}x{height} is outside 1..={max} pixels per side")]
    ImageSize {
        /// Width in pixels.
        width: usize,
        /// Height in pixels.
        height: usize,
        /// Largest side allowed.
        max: usize,
    },
    /// A resize factor that is not finite or below [`MIN_SCALE`](crate::MIN_SCALE).
    #[error("resize scale {scale} is not a finite number of at least 1/64")]
    Scale {
        /// The scale given.
        scale: f64,
    },
    /// An image, resize or metric function of core failed.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// An architecture is invalid or cannot run on the requested size.
    #[error(transparent)]
    Arch(#[from] ArchError),
    /// A model file that does not load, or an input the model cannot run on.
    #[error(transparent)]
    Model(ModelError),
    /// A bit width other than 2, 3, 4, 8 or 32.
    #[error(transparent)]
    Bits(#[from] BadBits),
    /// An op name outside core's grammar.
    #[error("{0}")]
    Op(UnknownOp),
    /// A request mode other than `benchmark` or `upscale`.
    #[error("unknown mode `{0}` (expected benchmark or upscale)")]
    Mode(String),
    /// Architecture JSON that does not parse.
    #[error("invalid architecture JSON at line {line}, column {column}: {message}")]
    ArchJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
}

impl From<UnknownOp> for Error {
    fn from(e: UnknownOp) -> Self {
        Error::Op(e)
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::ArchJson {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }
}

/// The error half of every exported `Result`: a JavaScript `Error` in wasm (thrown as an
/// exception), [`Error`] natively so that tests can read it (building a `JsError` outside
/// wasm would abort).
#[cfg(target_family = "wasm")]
pub type Failure = wasm_bindgen::JsError;
/// The error half of every exported `Result`: a JavaScript `Error` in wasm (thrown as an
/// exception), [`Error`] natively so that tests can read it (building a `JsError` outside
/// wasm would abort).
#[cfg(not(target_family = "wasm"))]
pub type Failure = Error;

/// Converts an error of the bindings into the boundary's [`Failure`].
pub(crate) fn fail(e: impl Into<Error>) -> Failure {
    #[cfg(target_family = "wasm")]
    {
        wasm_bindgen::JsError::from(e.into())
    }
    #[cfg(not(target_family = "wasm"))]
    {
        e.into()
    }
}
