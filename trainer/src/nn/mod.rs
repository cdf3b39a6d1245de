//! burn modules built from `quantnas-core` graphs: the quantizers (§3), quantized convs,
//! ADQ (§4), parameter-free ops with the engine's exact conventions, the graph
//! interpreter and whole-image inference.

pub mod adq;
pub mod conv;
pub mod fixed;
pub mod flex;
pub mod infer;
pub mod network;
pub mod ops;
pub mod qconv;
pub mod quant;

pub use adq::Adq;
pub use fixed::{FixedParams, ParamSlot};
pub use infer::Upscaler;
pub use network::Network;
pub use qconv::QConv;
