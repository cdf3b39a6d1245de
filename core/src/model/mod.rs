//! Deployable models: parameters of a network, the `.qnm` file format, random models.
//!
//! The trainer fills a [`Model`] when it exports (quantized codes and steps of every conv,
//! folded batch norms, ADQ scalars) and writes it with [`Model::to_bytes`]; the engine
//! ([`crate::engine`]) reads it back with [`Model::from_bytes`] and runs it.

mod checksum;
mod error;
pub mod format;
mod network;
mod params;
mod random;
mod write;

pub use checksum::crc32;
pub use error::ModelError;
pub use format::{
    EXTENSION, HEADER_FORMAT, MAGIC, MAX_CHANNELS, MAX_FILE_LEN, MAX_JSON_LEN, MAX_KERNEL,
    MAX_NODES, MAX_RECORDS, VERSION,
};
pub use network::{LayerBits, Model};
pub use params::{
    ConvParams, NodeParams, ParamSpec, check_params, lsq_initial_step, param_specs, sum_scales,
    weight_code,
};
pub use random::Pcg32;
pub use write::reseal;
