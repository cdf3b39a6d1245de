//! Inference: the integer engine and the fake-quant reference executor.
//!
//! [`Engine`] runs any executable [`Graph`](crate::arch::Graph) (the children of the
//! Basic and RFDN spaces, ESPCN, SRResNet, RFDN) at 2, 3, 4, 8 or 32 bits per layer on any image
//! size from the graph's minimum up to [`MAX_INPUT_PIXELS`]. Quantized convs run on integer
//! codes with `i32` sums ([`hwgq_code`] for activations, LSQ codes for weights) and one
//! per-channel rescale; 32-bit convs multiply `f32` values, sum in `f64` and round once. The reference executor
//! ([`Engine::upscale_planes_reference`]) computes the same network by quantize–dequantize
//! and float convolution, and is what the integer path is tested against.
//!
//! ```
//! use quantnas_core::arch::{Arch, Bits};
//! use quantnas_core::engine::Engine;
//! use quantnas_core::image::RgbImage8;
//! use quantnas_core::model::Model;
//!
//! let model = Model::random(Arch::Espcn { bits: Bits::B8 }, 1)?;
//! let bytes = model.to_bytes()?;
//! let engine = Engine::from_bytes(&bytes)?;
//! let lr = RgbImage8::new(5, 4, vec![128; 5 * 4 * 3])?;
//! let sr = engine.upscale(&lr)?;
//! assert_eq!((sr.width, sr.height), (20, 16));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bilinear;
mod conv;
mod dot;
mod exec;
mod float_conv;
mod int_conv;
mod ops;
mod pool;
mod quant;
mod ref_exec;
mod rows;
mod tensor;
mod threads;

pub use dot::Isa;
pub use exec::{Engine, MAX_INPUT_PIXELS, RunStats};
pub use float_conv::FloatSums;
pub use ops::{adq_factor, unbiased_std};
pub use quant::{hwgq_code, hwgq_code_plain, max_code};
#[doc(hidden)]
pub use rows::row_loops_agree;
