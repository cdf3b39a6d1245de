//! QuantNAS trainer: data, evaluation, QAT, search and export on top of `quantnas-core`.

pub mod archspec;
pub mod backend;
pub mod bench;
pub mod cost;
pub mod data;
pub mod eval;
pub mod export;
pub mod imageio;
pub mod malloc;
pub mod nn;
pub mod pipeline;
pub mod run;
pub mod search;
pub mod settings;
pub mod study;
pub mod train;
pub mod upscale;
