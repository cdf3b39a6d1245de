//! The activation quantizer at inference (spec §3, "HWGQ"): uniform, unsigned, fixed step.
//!
//! Both executors and every conv use this one function, so the integer path and the
//! fake-quant reference see exactly the same activation codes.

use crate::arch::{Bits, TWO_POW_23, round_code, round_code_small};

/// Largest activation code of a quantized width, as `u8` (15 or 255).
pub fn max_code(bits: Bits) -> u8 {
    // Quantized widths are 2 to 8 bits, so the code fits a byte.
    bits.activation_max_code().min(255) as u8
}

/// HWGQ code of `x`: `round(clamp(x, 0, step·max_code) / step)` with the project's one
/// rounding rule, [`round_code`] (ties away from zero). NaN gives 0. The dequantized
/// activation is `code·step`.
///
/// The clamped quotient is non-negative and at most `max_code`, so it rounds with a
/// branch-free, vectorisable twin of the rule: the same result as [`hwgq_code_plain`]
/// for every input (tested exhaustively).
#[inline(always)]
pub fn hwgq_code(x: f32, step: f32, max_code: u8) -> u8 {
    let top = step * f32::from(max_code);
    let v = if x > 0.0 {
        if x < top { x } else { top }
    } else {
        0.0
    };
    // The rounded quotient is an integer of at most 255; adding 2²³ back puts it in the
    // low mantissa bits (exact), read without a float-to-int conversion.
    ((round_code_small(v / step) + TWO_POW_23).to_bits() & 0xFF) as u8
}

/// The plain twin of [`hwgq_code`], written as the definition reads.
pub fn hwgq_code_plain(x: f32, step: f32, max_code: u8) -> u8 {
    let v = if x.is_nan() {
        0.0
    } else {
        x.clamp(0.0, step * f32::from(max_code))
    };
    round_code(v / step) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_clip_and_round() {
        let s = Bits::B4.activation_step().expect("step");
        assert_eq!(max_code(Bits::B4), 15);
        assert_eq!(max_code(Bits::B8), 255);
        assert_eq!(hwgq_code(-1.0, s, 15), 0);
        assert_eq!(hwgq_code(f32::NAN, s, 15), 0);
        assert_eq!(hwgq_code(100.0, s, 15), 15);
        assert_eq!(hwgq_code(s * 2.4, s, 15), 2);
        assert_eq!(hwgq_code(s * 2.6, s, 15), 3);
        assert_eq!(hwgq_code(s * 15.0, s, 15), 15);
        // A tie rounds away from zero (the project's one rule), not to even.
        assert_eq!(hwgq_code(0.5, 1.0, 15), 1);
        assert_eq!(hwgq_code(2.5, 1.0, 15), 3);
        assert_eq!(hwgq_code_plain(2.5, 1.0, 15), 3);
    }

    fn twin_agrees(x: f32, step: f32, m: u8) {
        assert_eq!(
            hwgq_code(x, step, m),
            hwgq_code_plain(x, step, m),
            "{x:e} step {step}"
        );
    }

    /// Every float within 2000 ulps of every rounding boundary `(k + ½)·step` and of the
    /// clip point, a stride through the rest, and the special values.
    #[test]
    fn fast_quantizer_equals_its_plain_twin() {
        for bits in Bits::ALL.into_iter().filter(|b| b.is_quantized()) {
            let step = bits.activation_step().expect("step");
            let m = max_code(bits);
            let mut centres: alloc::vec::Vec<f32> =
                (0..=m).map(|k| (f32::from(k) + 0.5) * step).collect();
            centres.push(step * f32::from(m));
            for c in centres {
                for d in 0..4000u32 {
                    twin_agrees(f32::from_bits(c.to_bits() - 2000 + d), step, m);
                }
            }
            let mut x = 0.0f32;
            while x <= 2.0 * step * f32::from(m) {
                twin_agrees(x, step, m);
                x = f32::from_bits(x.to_bits() + 9973);
            }
            for x in [
                -0.0,
                -1e-30,
                -5.0,
                f32::NEG_INFINITY,
                f32::INFINITY,
                f32::NAN,
                1e30,
                f32::MIN_POSITIVE,
            ] {
                twin_agrees(x, step, m);
            }
        }
    }

    /// Every float from 0 to past the clip point, at both widths (about 2.2·10⁹ values,
    /// ~30 s on one core in release). Skipped in debug builds only, where it takes many
    /// minutes: `cargo test --release`, which `scripts/test-all.sh` runs, includes it.
    #[test]
    #[cfg_attr(debug_assertions, ignore = "exhaustive: run with --release")]
    fn fast_quantizer_equals_its_plain_twin_exhaustively() {
        for bits in Bits::ALL.into_iter().filter(|b| b.is_quantized()) {
            let step = bits.activation_step().expect("step");
            let m = max_code(bits);
            let top = step * f32::from(m) * 1.01;
            let mut x = 0.0f32;
            while x <= top {
                twin_agrees(x, step, m);
                x = f32::from_bits(x.to_bits() + 1);
            }
        }
    }
}
