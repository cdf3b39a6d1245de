//! # quantnas-core
//!
//! The runtime half of QuantNAS: what an architecture is (search spaces, op catalogue,
//! genotypes, fixed reference networks), what it costs (MACs, BitOps), the standard SR
//! image pipeline (MATLAB-compatible bicubic, BT.601 YCbCr, Y-PSNR/SSIM).
//!
//! `no_std` + `alloc`; the `std` feature only adds `std::error::Error` conveniences.
#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]
// `unsafe` lives only in the SIMD kernels (`engine::dot`), where each module allows it
// and says why each use is sound.
#![deny(unsafe_code)]

extern crate alloc;

pub mod arch;
pub mod color;
pub mod cost;
pub mod engine;
pub mod image;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod resize;
