//! # quantnas-wasm
//!
//! wasm-bindgen bindings over `quantnas-core` for the browser demo in `web/`. Nothing here
//! computes anything itself: every function converts browser data (RGBA bytes, model file
//! bytes, JSON) into core's types, calls core, and converts back.
//!
//! Every export is written as a plain Rust item under
//! `cfg_attr(target_family = "wasm", wasm_bindgen)`, so the same functions are tested
//! natively (`cargo test -p quantnas-wasm`) and inside wasm (node and headless Chromium).
//! Errors are [`Error`] natively and a JavaScript `Error` with the same message in wasm
//! (see [`Failure`]).
//!
//! ```
//! use quantnas_wasm::{arch_cost, Image};
//! // A 16x16 grey image, bicubic x4 through the bindings.
//! let img = Image::from_rgba(&[128; 16 * 16 * 4], 16, 16).unwrap();
//! let up = img.resize_bicubic(4.0).unwrap();
//! assert_eq!((up.width(), up.height()), (64, 64));
//! // BitOps of 8-bit ESPCN at the reporting size (spec §8): 2.43·10^9.
//! let report: serde_json::Value =
//!     serde_json::from_str(&arch_cost(r#"{"kind":"espcn","bits":8}"#, 32, 32).unwrap()).unwrap();
//! assert_eq!(report["bitops"], 37_056u64 * 1024 * 64);
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod cost;
mod error;
mod facts;
mod image;
mod metrics;
mod model;

pub use cost::{arch_cost, bits_colour, bits_label, kernel, version};
pub use error::{Error, Failure};
pub use facts::{
    bit_widths, limits, op_label, reference_networks, report_lr_side, request_sizes, scale,
};
pub use image::{Image, MAX_IMAGE_SIDE, MIN_SCALE};
pub use metrics::{Score, score};
pub use model::Model;
