//! The activation quantizer at inference (spec §3, "HWGQ"): uniform, unsigned, fixed step.
//!
//! Both executors and every conv use this one function, so the integer path and the
//! fake-quant reference see exactly the same activation codes.

use crate::arch::Bits;

/// Largest activation code of a quantized width, as `u8` (15 or 255).
pub fn max_code(bits: Bits) -> u8 {
    // Quantized widths are 4 or 8, so the code fits a byte.
    bits.activation_max_code().min(255) as u8
}

/// HWGQ code of `x`: `round(clamp(x, 0, step·max_code) / step)`, rounding half away from
/// zero. NaN gives 0. The dequantized activation is `code·step`.
#[inline]
pub fn hwgq_code(x: f32, step: f32, max_code: u8) -> u8 {
    let top = step * f32::from(max_code);
    let v = if x > 0.0 {
        if x < top { x } else { top }
    } else {
        0.0
    };
    // v / step is in [0, max_code] (up to rounding), so the cast cannot truncate.
    libm::roundf(v / step) as u8
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
    }
}
