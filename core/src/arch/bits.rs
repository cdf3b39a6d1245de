//! Bit widths of weights and activations (spec §3).

use core::fmt;

use serde::{Deserialize, Serialize};

/// Bit width of a layer's weights and of its input activations (always equal here).
///
/// 32 means full precision: unquantized weights and a ReLU instead of the quantizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Bits(u8);

impl Bits {
    /// 2-bit integer layer (the paper's timing study, Fig. 8, searches 2 and 3 bits too).
    pub const B2: Bits = Bits(2);
    /// 3-bit integer layer.
    pub const B3: Bits = Bits(3);
    /// 4-bit integer layer.
    pub const B4: Bits = Bits(4);
    /// 8-bit integer layer.
    pub const B8: Bits = Bits(8);
    /// Full-precision (f32) layer.
    pub const B32: Bits = Bits(32);
    /// Every width a layer may take, ascending.
    pub const ALL: [Bits; 5] = [Bits::B2, Bits::B3, Bits::B4, Bits::B8, Bits::B32];
    /// The widths of the paper's mixed-precision search and of its uniform references
    /// (spec §3): the default searched set.
    pub const MAIN: [Bits; 2] = [Bits::B4, Bits::B8];

    /// The width, if it is one of 2, 3, 4, 8 or 32.
    pub fn new(bits: u32) -> Option<Bits> {
        match bits {
            2 | 3 | 4 | 8 | 32 => Some(Bits(bits as u8)),
            _ => None,
        }
    }

    /// Number of bits.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }

    /// Whether this layer is quantized (2, 3, 4 or 8 bits).
    pub fn is_quantized(self) -> bool {
        self.0 < 32
    }

    /// The colour that stands for this width wherever the project draws a network: the
    /// trainer's SVG pictures and the web page (which sets its CSS from it), so a 4-bit
    /// layer looks the same in both.
    pub fn colour(self) -> &'static str {
        match self.0 {
            2 => "#8e3b9b",
            3 => "#f2a541",
            4 => "#e4572e",
            8 => "#2e86ab",
            _ => "#76b041",
        }
    }

    /// The width for people, in legends: `4-bit`, `8-bit`, `32-bit (float)`.
    pub fn label(self) -> &'static str {
        match self.0 {
            2 => "2-bit",
            3 => "3-bit",
            4 => "4-bit",
            8 => "8-bit",
            _ => "32-bit (float)",
        }
    }

    /// BitOps per MAC: weight bits × activation bits (spec §8).
    pub fn bitops_per_mac(self) -> u64 {
        u64::from(self.0) * u64::from(self.0)
    }

    /// Fixed HWGQ activation step for this width (spec §3); `None` at 32 bits.
    pub fn activation_step(self) -> Option<f32> {
        match self.0 {
            2 => Some(0.635_636_7),
            3 => Some(0.372_064_6),
            4 => Some(0.213_056_07),
            8 => Some(0.020_300_568),
            _ => None,
        }
    }

    /// Whether a weight code fits a two's complement nibble (2, 3 and 4 bits): the model
    /// file packs such codes two to a byte, the ONNX export can store them as `int4`.
    pub fn fits_nibble(self) -> bool {
        self.0 <= 4
    }

    /// Largest unsigned activation code, `2^b − 1`.
    pub fn activation_max_code(self) -> u32 {
        (1u32 << self.0.min(31)) - 1
    }

    /// Signed weight code range `[−2^(b−1), 2^(b−1) − 1]`.
    pub fn weight_code_range(self) -> (i32, i32) {
        let half = 1i32 << (self.0.min(31) - 1);
        (-half, half - 1)
    }
}

impl TryFrom<u32> for Bits {
    type Error = BadBits;

    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Bits::new(value).ok_or(BadBits(value))
    }
}

impl From<Bits> for u32 {
    fn from(b: Bits) -> u32 {
        b.get()
    }
}

impl fmt::Display for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A bit width outside {2, 3, 4, 8, 32}.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadBits(pub u32);

impl fmt::Display for BadBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bit width {} is not one of 2, 3, 4, 8, 32", self.0)
    }
}

impl core::error::Error for BadBits {}

/// The rounding rule of every quantizer of the project — LSQ weight codes and HWGQ
/// activation codes, in training (the trainer's fake quantizers), in export (the stored
/// weight codes) and in inference (both executors): to the nearest integer, **ties away
/// from zero** (`libm::roundf`; 2.5 → 3, −2.5 → −3).
///
/// One rule, so that a value trained as code k is exported and executed as code k. Ties
/// away from zero rather than PyTorch's ties to even because the engine and the model
/// files used it first and the bundled models were exported with it.
#[inline]
pub fn round_code(v: f32) -> f32 {
    libm::roundf(v)
}

/// [`round_code`] for `0 ≤ t` (a clamped activation quotient), written so that it
/// vectorises: [`round_code_small`] below 2²³; at and above it every float is an integer
/// already. NaN gives 0.
#[inline(always)]
pub fn round_code_nonneg(t: f32) -> f32 {
    if t < TWO_POW_23 {
        round_code_small(t)
    } else if t >= TWO_POW_23 {
        t
    } else {
        0.0
    }
}

/// 2²³: from here on every `f32` is an integer.
pub const TWO_POW_23: f32 = 8_388_608.0;

/// [`round_code`] of `0 ≤ t < 2²³`, branch-free and without a float-to-int conversion
/// (Rust's saturating `as` does not vectorise on x86): `(t + 2²³) − 2²³` is `t` rounded to
/// an integer `r`, ties to even (exact: `t + 2²³` lies where floats are 1 apart), and a
/// tie that went down (`t − r = ½`, exact by Sterbenz) goes up instead. The project's one
/// fast form of the rule: the trainer's HWGQ pass ([`round_code_nonneg`]) and the
/// engine's quantizer ([`hwgq_code`](crate::engine::hwgq_code)) are built on it.
#[inline(always)]
pub fn round_code_small(t: f32) -> f32 {
    let r = (t + TWO_POW_23) - TWO_POW_23;
    r + if t - r == 0.5 { 1.0 } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_2_3_4_8_32_are_widths() {
        assert_eq!(Bits::new(2), Some(Bits::B2));
        assert_eq!(Bits::new(3), Some(Bits::B3));
        assert_eq!(Bits::new(4), Some(Bits::B4));
        assert_eq!(Bits::new(1), None);
        assert_eq!(Bits::new(5), None);
        assert_eq!(Bits::new(32), Some(Bits::B32));
        assert_eq!(Bits::new(16), None);
        assert_eq!(Bits::new(0), None);
    }

    #[test]
    fn code_ranges() {
        assert_eq!(Bits::B4.weight_code_range(), (-8, 7));
        assert_eq!(Bits::B8.weight_code_range(), (-128, 127));
        assert_eq!(Bits::B4.activation_max_code(), 15);
        assert_eq!(Bits::B8.activation_max_code(), 255);
        assert_eq!(Bits::B32.bitops_per_mac(), 1024);
        assert_eq!(Bits::B2.weight_code_range(), (-2, 1));
        assert_eq!(Bits::B3.activation_max_code(), 7);
    }

    /// The steps are the spec's (§3) to f32 precision: HWGQ's optimal uniform steps for a
    /// half-Gaussian of unit variance.
    #[test]
    fn activation_steps_are_the_specs() {
        for (b, want) in [
            (Bits::B2, 0.6356366866203315),
            (Bits::B3, 0.3720645813370479),
            (Bits::B4, 0.21305606790772952),
            (Bits::B8, 0.020300567823662602),
        ] {
            assert_eq!(b.activation_step(), Some(want as f32), "{b}");
        }
        assert_eq!(Bits::B32.activation_step(), None);
    }

    #[test]
    fn codes_round_ties_away_from_zero() {
        for (v, want) in [
            (0.5, 1.0),
            (1.5, 2.0),
            (2.5, 3.0),
            (-0.5, -1.0),
            (-2.5, -3.0),
            (2.4999998, 2.0),
            (0.49999997, 0.0),
            (7.5, 8.0),
            (8_388_607.5, 8_388_608.0),
            (8_388_608.0, 8_388_608.0),
            (3e9, 3e9),
        ] {
            assert_eq!(round_code(v), want, "{v}");
            if v >= 0.0 {
                assert_eq!(round_code_nonneg(v), want, "{v}");
            }
        }
    }

    /// The fast form equals the rule on every float in [0, 2^9) — every code of every
    /// width and far past the clip points, about 1.1·10⁹ values (seconds in release;
    /// skipped in debug builds, where it takes minutes: `cargo test --release` runs it).
    #[test]
    #[cfg_attr(debug_assertions, ignore = "exhaustive: run with --release")]
    fn fast_rounding_equals_the_rule_exhaustively() {
        let end = 512.0f32.to_bits();
        let mut bad = 0u64;
        for b in 0..end {
            let t = f32::from_bits(b);
            bad += u64::from(round_code_nonneg(t) != round_code(t));
        }
        assert_eq!(bad, 0);
        assert_eq!(round_code_nonneg(f32::NAN), 0.0);
    }
}
