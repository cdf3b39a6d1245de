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
    /// 4-bit integer layer.
    pub const B4: Bits = Bits(4);
    /// 8-bit integer layer.
    pub const B8: Bits = Bits(8);
    /// Full-precision (f32) layer.
    pub const B32: Bits = Bits(32);
    /// Every width a layer may take.
    pub const ALL: [Bits; 3] = [Bits::B4, Bits::B8, Bits::B32];

    /// The width, if it is one of 4, 8 or 32.
    pub fn new(bits: u32) -> Option<Bits> {
        match bits {
            4 | 8 | 32 => Some(Bits(bits as u8)),
            _ => None,
        }
    }

    /// Number of bits.
    pub fn get(self) -> u32 {
        u32::from(self.0)
    }

    /// Whether this layer is quantized (4 or 8 bits).
    pub fn is_quantized(self) -> bool {
        self.0 < 32
    }

    /// The colour that stands for this width wherever the project draws a network: the
    /// trainer's SVG pictures and the web page (which sets its CSS from it), so a 4-bit
    /// layer looks the same in both.
    pub fn colour(self) -> &'static str {
        match self.0 {
            4 => "#e4572e",
            8 => "#2e86ab",
            _ => "#76b041",
        }
    }

    /// BitOps per MAC: weight bits × activation bits (spec §8).
    pub fn bitops_per_mac(self) -> u64 {
        u64::from(self.0) * u64::from(self.0)
    }

    /// Fixed HWGQ activation step for this width (spec §3); `None` at 32 bits.
    pub fn activation_step(self) -> Option<f32> {
        match self.0 {
            4 => Some(0.213_056_07),
            8 => Some(0.020_300_568),
            _ => None,
        }
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

/// A bit width outside {4, 8, 32}.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadBits(pub u32);

impl fmt::Display for BadBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bit width {} is not one of 4, 8, 32", self.0)
    }
}

impl core::error::Error for BadBits {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_4_8_32_are_widths() {
        assert_eq!(Bits::new(4), Some(Bits::B4));
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
    }
}
