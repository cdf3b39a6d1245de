//! The exact form's lowerings: the engine's own arithmetic spelled out in standard ops, so
//! that a runtime with IEEE element-wise ops and exact integer convolutions (ONNX Runtime's
//! CPU provider) computes the very values `quantnas_core::engine` computes.
//!
//! - Activation codes: `round(clamp(x, 0, top) / step)` with the engine's rule, ties away
//!   from zero (`Round` is ties-to-even, so a tie that went down is moved up), as `uint8`.
//! - Convs: `ConvInteger` on the codes (exact `int32` sums), then the engine's rescale:
//!   the sum times `weight_step·act_step` in `double`, rounded once to `float`.
//! - 32-bit convs: the engine sums their exact `float` products in `double` and rounds
//!   once. ONNX Runtime has no `double` Conv, so the conv is an im2col (`Pad`, one strided
//!   `Slice` per kernel tap, stacked) and a `double` `MatMul`.
//! - Sigmoid in `double` (the engine's definition), and ESA's bilinear resize from the
//!   engine's own taps (`Gather`, then the same two `float` products and sum per axis).
//!
//! What can still differ: a `double` sum in another order than the engine's, when the
//! exact value lies within about 10⁻¹⁶ (relative) of an `f32` rounding boundary.

use quantnas_core::arch::Bits;

use super::builder::{Attr, GraphBuilder};
use super::proto::tensor_proto::DataType;
use super::tensors;

/// `Cast` of `x` to `to`.
pub fn cast(g: &mut GraphBuilder, x: &str, to: DataType, hint: &str) -> String {
    g.op("Cast", &[x], &[Attr::Int("to", to as i64)], hint)
}

/// A scalar `float` constant.
fn scalar(g: &mut GraphBuilder, v: f32, hint: &str) -> String {
    g.constant(hint, |n| tensors::f32s(n, &[], &[v]))
}

/// HWGQ codes of `x` as `uint8` (see the module doc), exactly as
/// `quantnas_core::engine::hwgq_code` computes them.
pub fn codes(g: &mut GraphBuilder, x: &str, bits: Bits, step: f32, hint: &str) -> String {
    let zero = scalar(g, 0.0, &format!("{hint}.act_min"));
    // The engine's clip point, `step·max_code` rounded to f32.
    let top = scalar(
        g,
        step * bits.activation_max_code() as f32,
        &format!("{hint}.act_max"),
    );
    let s = scalar(g, step, &format!("{hint}.act_step"));
    let half = scalar(g, 0.5, &format!("{hint}.half"));
    let clipped = g.op(
        "Clip",
        &[x, &zero, &top],
        &[],
        &format!("{hint}.act_clipped"),
    );
    let t = g.op("Div", &[&clipped, &s], &[], &format!("{hint}.act_quotient"));
    let even = g.op("Round", &[&t], &[], &format!("{hint}.act_round_even"));
    // `t − even` is exact (Sterbenz), and ½ only at a tie rounded down.
    let off = g.op("Sub", &[&t, &even], &[], &format!("{hint}.act_offset"));
    let tie = g.op("Equal", &[&off, &half], &[], &format!("{hint}.act_tie"));
    let up = cast(g, &tie, DataType::Float, &format!("{hint}.act_tie_up"));
    let rounded = g.op("Add", &[&even, &up], &[], &format!("{hint}.act_rounded"));
    cast(g, &rounded, DataType::Uint8, &format!("{hint}.act_codes"))
}

/// `ConvInteger` of activation codes by weight codes (`int8`, 4-bit codes in their 8-bit
/// range), rescaled per output channel by `scale[c] = weight_step_c · act_step` (exact in
/// `double`) and rounded once to `float`: the engine's integer conv.
pub fn conv(
    g: &mut GraphBuilder,
    codes: &str,
    dims: &[usize; 4],
    weights: &[i8],
    scale: &[f64],
    attrs: &[Attr<'_>],
    hint: &str,
) -> String {
    let w = g.constant(&format!("{hint}.weight_codes"), |n| {
        tensors::codes(n, dims, weights, false)
    });
    let s = g.constant(&format!("{hint}.rescale"), |n| {
        tensors::f64s(n, &[1, dims[0], 1, 1], scale)
    });
    let sums = g.op("ConvInteger", &[codes, &w], attrs, &format!("{hint}.sums"));
    let wide = cast(g, &sums, DataType::Double, &format!("{hint}.sums_f64"));
    let v = g.op("Mul", &[&wide, &s], &[], &format!("{hint}.rescaled"));
    cast(g, &v, DataType::Float, hint)
}

/// The geometry of a 32-bit conv for [`float_conv`].
pub struct FloatGeometry {
    /// `[cout, cin/groups, kh, kw]`.
    pub dims: [usize; 4],
    pub groups: usize,
    pub stride: usize,
    /// Zero padding of height and width.
    pub pads: (usize, usize),
}

/// A 32-bit conv of `act` (already ReLU'd, `float [N, C, H, W]`) by `weights`
/// (`[cout][cin/groups][kh][kw]`) as the engine computes it: every product exact in
/// `double`, summed in `double` (`MatMul` over an im2col), rounded once to `float`.
pub fn float_conv(
    g: &mut GraphBuilder,
    act: &str,
    geom: &FloatGeometry,
    weights: &[f32],
    hint: &str,
) -> String {
    let [cout, cpg, kh, kw] = geom.dims;
    let (ph, pw) = geom.pads;
    let padded = if ph == 0 && pw == 0 {
        act.to_string()
    } else {
        let (ph, pw) = (ph as i64, pw as i64);
        let pads = g.constant(&format!("{hint}.pads"), |n| {
            tensors::i64s(n, &[8], &[0, 0, ph, pw, 0, 0, ph, pw])
        });
        g.op("Pad", &[act, &pads], &[], &format!("{hint}.padded"))
    };
    // Tap (ky, kx) reads rows ky, ky + s, … up to `kh − 1 − ky` rows before the padded
    // end (likewise for columns): exactly the output size, for any input size.
    let end = |k: usize, len: usize| match len - 1 - k {
        0 => i64::MAX,
        back => -(back as i64),
    };
    let s = geom.stride as i64;
    let axes = g.constant(&format!("{hint}.tap_axes"), |n| {
        tensors::i64s(n, &[2], &[2, 3])
    });
    let steps = g.constant(&format!("{hint}.tap_steps"), |n| {
        tensors::i64s(n, &[2], &[s, s])
    });
    let stack_axis = g.constant(&format!("{hint}.tap_axis"), |n| {
        tensors::i64s(n, &[1], &[2])
    });
    let mut taps = Vec::with_capacity(kh * kw);
    let mut first = None;
    for ky in 0..kh {
        for kx in 0..kw {
            let t = format!("{hint}.tap{ky}_{kx}");
            let starts = g.constant(&format!("{t}.starts"), |n| {
                tensors::i64s(n, &[2], &[ky as i64, kx as i64])
            });
            let ends = g.constant(&format!("{t}.ends"), |n| {
                tensors::i64s(n, &[2], &[end(ky, kh), end(kx, kw)])
            });
            let slice = g.op("Slice", &[&padded, &starts, &ends, &axes, &steps], &[], &t);
            first.get_or_insert_with(|| slice.clone());
            taps.push(g.op(
                "Unsqueeze",
                &[&slice, &stack_axis],
                &[],
                &format!("{t}.stacked"),
            ));
        }
    }
    let first = first.unwrap_or_else(|| padded.clone());
    let refs: Vec<&str> = taps.iter().map(String::as_str).collect();
    // [N, C, K, OH, OW]: input channel major, tap minor, as the weights are laid out.
    let cols = if refs.len() == 1 {
        taps[0].clone()
    } else {
        g.op(
            "Concat",
            &refs,
            &[Attr::Int("axis", 2)],
            &format!("{hint}.im2col"),
        )
    };
    let wide = cast(g, &cols, DataType::Double, &format!("{hint}.im2col_f64"));
    let groups = geom.groups;
    let k = cpg * kh * kw;
    let mat_shape = g.constant(&format!("{hint}.im2col_shape"), |n| {
        tensors::i64s(n, &[4], &[0, groups as i64, k as i64, -1])
    });
    let mat = g.op(
        "Reshape",
        &[&wide, &mat_shape],
        &[],
        &format!("{hint}.im2col_matrix"),
    );
    let w64: Vec<f64> = weights.iter().map(|&w| f64::from(w)).collect();
    let w = g.constant(&format!("{hint}.weight_f64"), |n| {
        tensors::f64s(n, &[groups, cout / groups, k], &w64)
    });
    // [G, cout/G, K] × [N, G, K, OH·OW] → [N, G, cout/G, OH·OW].
    let sums = g.op("MatMul", &[&w, &mat], &[], &format!("{hint}.sums_f64"));
    let hw = g.op(
        "Shape",
        &[&first],
        &[Attr::Int("start", 2)],
        &format!("{hint}.out_hw"),
    );
    let nc = g.constant(&format!("{hint}.out_nc"), |n| {
        tensors::i64s(n, &[2], &[0, cout as i64])
    });
    let shape = g.op(
        "Concat",
        &[&nc, &hw],
        &[Attr::Int("axis", 0)],
        &format!("{hint}.out_shape"),
    );
    let out = g.op("Reshape", &[&sums, &shape], &[], &format!("{hint}.out_f64"));
    cast(g, &out, DataType::Float, hint)
}

/// `1 / (1 + e^−x)` in `double`, rounded to `float`, as the engine computes it.
pub fn sigmoid(g: &mut GraphBuilder, x: &str, hint: &str) -> String {
    let one = g.constant(&format!("{hint}.one"), |n| tensors::f64s(n, &[], &[1.0]));
    let wide = cast(g, x, DataType::Double, &format!("{hint}.f64"));
    let neg = g.op("Neg", &[&wide], &[], &format!("{hint}.neg"));
    let e = g.op("Exp", &[&neg], &[], &format!("{hint}.exp"));
    let d = g.op("Add", &[&e, &one], &[], &format!("{hint}.denominator"));
    let r = g.op("Reciprocal", &[&d], &[], &format!("{hint}.f64_out"));
    cast(g, &r, DataType::Float, hint)
}

/// The taps of a 1-D resize of axis `axis` of `x` to the length of the same axis of
/// `like`, as `quantnas_core::engine::bilinear::weights` computes them in `float`:
/// `src = max((d + ½)·(in/out) − ½, 0)`, `i0 = ⌊src⌋`, `i1 = min(i0 + 1, in − 1)`,
/// `λ = src − i0`. Returns `(i0, i1, λ)`, each of the output length.
fn taps(
    g: &mut GraphBuilder,
    x: &str,
    like: &str,
    axis: i64,
    hint: &str,
) -> (String, String, String) {
    let len = |g: &mut GraphBuilder, t: &str, tag: &str| {
        let attrs = [Attr::Int("start", axis), Attr::Int("end", axis + 1)];
        g.op("Shape", &[t], &attrs, &format!("{hint}.{tag}"))
    };
    let n_in = len(g, x, "in_len");
    let n_out = len(g, like, "out_len");
    let zero_i = g.constant(&format!("{hint}.zero_i"), |n| tensors::i64s(n, &[], &[0]));
    let one_i = g.constant(&format!("{hint}.one_i"), |n| tensors::i64s(n, &[1], &[1]));
    let out_scalar = g.op("Squeeze", &[&n_out], &[], &format!("{hint}.out_len_scalar"));
    let one_s = g.constant(&format!("{hint}.step_i"), |n| tensors::i64s(n, &[], &[1]));
    let d = g.op(
        "Range",
        &[&zero_i, &out_scalar, &one_s],
        &[],
        &format!("{hint}.dst"),
    );
    let df = cast(g, &d, DataType::Float, &format!("{hint}.dst_f32"));
    let fin = cast(g, &n_in, DataType::Float, &format!("{hint}.in_len_f32"));
    let fout = cast(g, &n_out, DataType::Float, &format!("{hint}.out_len_f32"));
    let scale = g.op("Div", &[&fin, &fout], &[], &format!("{hint}.scale"));
    let half = scalar(g, 0.5, &format!("{hint}.half"));
    let zero = scalar(g, 0.0, &format!("{hint}.zero"));
    let centre = g.op("Add", &[&df, &half], &[], &format!("{hint}.centre"));
    let scaled = g.op("Mul", &[&centre, &scale], &[], &format!("{hint}.scaled"));
    let shifted = g.op("Sub", &[&scaled, &half], &[], &format!("{hint}.shifted"));
    let src = g.op("Max", &[&shifted, &zero], &[], &format!("{hint}.src"));
    let last = g.op("Sub", &[&n_in, &one_i], &[], &format!("{hint}.last"));
    let fl = g.op("Floor", &[&src], &[], &format!("{hint}.floor"));
    let fl_i = cast(g, &fl, DataType::Int64, &format!("{hint}.floor_i"));
    let i0 = g.op("Min", &[&fl_i, &last], &[], &format!("{hint}.i0"));
    let next = g.op("Add", &[&i0, &one_i], &[], &format!("{hint}.next"));
    let i1 = g.op("Min", &[&next, &last], &[], &format!("{hint}.i1"));
    let i0f = cast(g, &i0, DataType::Float, &format!("{hint}.i0_f32"));
    let lambda = g.op("Sub", &[&src, &i0f], &[], &format!("{hint}.lambda"));
    (i0, i1, lambda)
}

/// `(1 − λ)·x[i0] + λ·x[i1]` along `axis` of `x` (rank 4), `λ` broadcast along it.
fn interpolate(g: &mut GraphBuilder, x: &str, like: &str, axis: i64, hint: &str) -> String {
    let (i0, i1, lambda) = taps(g, x, like, axis, hint);
    // λ as [out] along the last axis, or [out, 1] along the one before it.
    let lam = if axis == 3 {
        lambda
    } else {
        let ax = g.constant(&format!("{hint}.unsqueeze_axis"), |n| {
            tensors::i64s(n, &[1], &[1])
        });
        g.op(
            "Unsqueeze",
            &[&lambda, &ax],
            &[],
            &format!("{hint}.lambda_col"),
        )
    };
    let one = scalar(g, 1.0, &format!("{hint}.one"));
    let keep = g.op("Sub", &[&one, &lam], &[], &format!("{hint}.keep"));
    let attrs = [Attr::Int("axis", axis)];
    let a = g.op("Gather", &[x, &i0], &attrs, &format!("{hint}.a"));
    let b = g.op("Gather", &[x, &i1], &attrs, &format!("{hint}.b"));
    let wa = g.op("Mul", &[&keep, &a], &[], &format!("{hint}.wa"));
    let wb = g.op("Mul", &[&lam, &b], &[], &format!("{hint}.wb"));
    g.op("Add", &[&wa, &wb], &[], hint)
}

/// Bilinear resize of `x` to the height and width of `like`: along the width first, then
/// the height, as the engine's `resize` does.
pub fn resize(g: &mut GraphBuilder, x: &str, like: &str, hint: &str) -> String {
    let rows = interpolate(g, x, like, 3, &format!("{hint}.rows"));
    interpolate(g, &rows, like, 2, hint)
}
