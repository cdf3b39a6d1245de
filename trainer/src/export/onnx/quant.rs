//! The model's quantizers as QuantizeLinear/DequantizeLinear pairs.
//!
//! An activation quantizer is HWGQ (spec §3): `code = round(clamp(x, 0, step·(2^b−1)) /
//! step)`, dequantized as `code·step` — a Q/DQ pair with scale `step` and zero point 0 into
//! an unsigned type, whose saturation is the clamp: `uint8` at 8 bits, `uint4` at 4 bits
//! (or, for fewer bits than the container holds — 4 bits in `uint8`, and 2 and 3 bits,
//! always in `uint8` — a pair, a `Clip` at `(2^b−1)·step` and a second pair).
//! Weights are stored as their LSQ codes (`int8`, or `int4` at 2 to 4 bits) and dequantized per
//! output channel (axis 0) with the LSQ steps. ONNX rounds ties to even where the engine
//! rounds them away from zero; a tie needs `x/step` to be exactly `k + ½`, which the tests'
//! one-level tolerance covers.

use quantnas_core::arch::Bits;

use super::builder::{Attr, GraphBuilder};
use super::tensors;

/// How 4-bit values are stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum FourBit {
    /// ONNX `int4`/`uint4` (opset 21): the file says the layer is 4-bit. ONNX Runtime's
    /// CPU provider runs such layers as float convs on the dequantized weights.
    #[default]
    Int4,
    /// `int8`/`uint8` containers whose codes stay in the 4-bit range (activations clipped
    /// at `15·step`): runtimes with 8-bit integer kernels (ONNX Runtime's QLinearConv)
    /// then run 4-bit layers on them too.
    Int8,
}

/// Emits the HWGQ quantizer of `bits` with `step` on `x`; returns the dequantized value.
pub fn activation(
    g: &mut GraphBuilder,
    x: &str,
    bits: Bits,
    step: f32,
    four: FourBit,
    hint: &str,
) -> String {
    // `uint4` only where it is the clamp itself (4 bits): 2- and 3-bit codes take the
    // `uint8` pair and a Clip, since ONNX Runtime's Clip → QuantizeLinear fusion fails on a
    // `uint4` zero point ("Unexpected data type for QuantizeLinear input y_zero_point").
    let int4 = four == FourBit::Int4 && bits.activation_max_code() == 15;
    let scale = g.constant(&format!("{hint}.act_step"), |n| {
        tensors::f32s(n, &[], &[step])
    });
    let zero = g.constant(&format!("{hint}.act_zero"), |n| {
        tensors::zeros(n, &[], false, int4)
    });
    let pair = |g: &mut GraphBuilder, x: &str, tag: &str| {
        let q = g.op(
            "QuantizeLinear",
            &[x, &scale, &zero],
            &[],
            &format!("{hint}.act_codes{tag}"),
        );
        g.op(
            "DequantizeLinear",
            &[&q, &scale, &zero],
            &[],
            &format!("{hint}.act{tag}"),
        )
    };
    let dq = pair(g, x, "");
    let container_max = if int4 { 15 } else { 255 };
    if bits.activation_max_code() == container_max {
        return dq;
    }
    // Narrower codes than the container (4-, 3- or 2-bit codes in uint8): the pair saturates at the container's top, so clip the dequantized value at
    // (2^b − 1)·step and quantize again (exact: that value over step rounds to 2^b − 1). Clipping after the
    // first pair rather than before keeps `Conv → QuantizeLinear` adjacent for the conv
    // that feeds it (ONNX Runtime then fuses that conv into QLinearConv), and the second
    // pair keeps `DequantizeLinear → Conv` for the conv that reads it.
    let top = step * bits.activation_max_code() as f32;
    let top = g.constant(&format!("{hint}.clip_max"), |n| {
        tensors::f32s(n, &[], &[top])
    });
    let clipped = g.op("Clip", &[&dq, "", &top], &[], &format!("{hint}.clipped"));
    pair(g, &clipped, &format!("_{bits}bit"))
}

/// Emits a conv's weights as codes and a per-output-channel DequantizeLinear; returns
/// the dequantized weight tensor `[cout, cin/groups, kh, kw]`.
pub fn weights(
    g: &mut GraphBuilder,
    dims: &[usize; 4],
    bits: Bits,
    codes: &[i8],
    steps: &[f32],
    four: FourBit,
    hint: &str,
) -> String {
    let int4 = bits.fits_nibble() && four == FourBit::Int4;
    let w = g.constant(&format!("{hint}.weight_codes"), |n| {
        tensors::codes(n, dims, codes, int4)
    });
    let scale = g.constant(&format!("{hint}.weight_steps"), |n| {
        tensors::f32s(n, &[dims[0]], steps)
    });
    let zero = g.constant(&format!("{hint}.weight_zero"), |n| {
        tensors::zeros(n, &[dims[0]], true, int4)
    });
    g.op(
        "DequantizeLinear",
        &[&w, &scale, &zero],
        &[Attr::Int("axis", 0)],
        &format!("{hint}.weight"),
    )
}
