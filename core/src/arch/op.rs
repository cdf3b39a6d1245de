//! The op catalogue (spec §2.1): every candidate op is a chain of convolutions.
//!
//! Each conv of a chain applies its own input activation (quantizer or ReLU), so a
//! two-conv op has a nonlinearity between its convs. Convs have no bias, "same" padding
//! and stride 1.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// The shape of an op's chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpFamily {
    /// `simple_kxk[_grouped_g]`: one k×k conv C_in→C_out.
    Simple,
    /// `conv_kx1_1xk`: k×1 C_in→C, then 1×k C→C_out.
    Separable,
    /// `growth2_kxk`: k×k C_in→2C, then k×k 2C→C_out.
    Growth2,
    /// `growth1_kxk`: k×k C_in→C, then k×k C→C_out (RFDN space).
    Growth1,
    /// `decenc_kxk_2`: k×k C_in→C/2, k×k C/2→C/2, k×k C/2→C_out.
    DecEnc,
}

/// One candidate op: a family, a kernel size and a group count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Op {
    /// Chain shape.
    pub family: OpFamily,
    /// Kernel size k.
    pub k: usize,
    /// Conv groups (only `Simple` ops are grouped).
    pub groups: usize,
}

/// One convolution of an op chain, before it is placed in a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Groups.
    pub groups: usize,
}

impl ConvShape {
    /// A square, ungrouped conv.
    pub fn square(cin: usize, cout: usize, k: usize) -> Self {
        ConvShape {
            cin,
            cout,
            kh: k,
            kw: k,
            groups: 1,
        }
    }

    /// Multiply-accumulates per output pixel; `None` if it overflows `u64` (or `groups`
    /// is 0). Counted in `u64` so a 32-bit target gets the same answer as a 64-bit one.
    pub fn macs_per_pixel(&self) -> Option<u64> {
        [self.cout, self.kh, self.kw]
            .into_iter()
            .try_fold(self.cin as u64, |acc, x| acc.checked_mul(x as u64))?
            .checked_div(self.groups as u64)
    }

    /// Number of weights.
    pub fn weight_count(&self) -> usize {
        self.cout * (self.cin / self.groups) * self.kh * self.kw
    }
}

/// Why an op name could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownOp(pub String);

impl fmt::Display for UnknownOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown op `{}`", self.0)
    }
}

impl Op {
    /// `simple_kxk`.
    pub const fn simple(k: usize) -> Op {
        Op {
            family: OpFamily::Simple,
            k,
            groups: 1,
        }
    }
    /// `simple_kxk_grouped_g`.
    pub const fn grouped(k: usize, groups: usize) -> Op {
        Op {
            family: OpFamily::Simple,
            k,
            groups,
        }
    }
    /// `conv_kx1_1xk`.
    pub const fn separable(k: usize) -> Op {
        Op {
            family: OpFamily::Separable,
            k,
            groups: 1,
        }
    }
    /// `growth2_kxk`.
    pub const fn growth2(k: usize) -> Op {
        Op {
            family: OpFamily::Growth2,
            k,
            groups: 1,
        }
    }
    /// `growth1_kxk`.
    pub const fn growth1(k: usize) -> Op {
        Op {
            family: OpFamily::Growth1,
            k,
            groups: 1,
        }
    }
    /// `decenc_kxk_2`.
    pub const fn decenc(k: usize) -> Op {
        Op {
            family: OpFamily::DecEnc,
            k,
            groups: 1,
        }
    }

    /// Canonical name, as in the genotype JSON.
    pub fn name(&self) -> String {
        let k = self.k;
        match self.family {
            OpFamily::Simple if self.groups == 1 => format!("simple_{k}x{k}"),
            OpFamily::Simple => format!("simple_{k}x{k}_grouped_{}", self.groups),
            OpFamily::Separable => format!("conv_{k}x1_1x{k}"),
            OpFamily::Growth2 => format!("growth2_{k}x{k}"),
            OpFamily::Growth1 => format!("growth1_{k}x{k}"),
            OpFamily::DecEnc => format!("decenc_{k}x{k}_2"),
        }
    }

    /// The name for people: `simple 3×3`, `simple 3×3 g3`, `conv 5×1 1×5`, `growth2 3×3`,
    /// `decenc 3×3 /2` (pictures of a genotype; [`name`](Op::name) is the file form).
    pub fn label(&self) -> String {
        let k = self.k;
        match self.family {
            OpFamily::Simple if self.groups == 1 => format!("simple {k}×{k}"),
            OpFamily::Simple => format!("simple {k}×{k} g{}", self.groups),
            OpFamily::Separable => format!("conv {k}×1 1×{k}"),
            OpFamily::Growth2 => format!("growth2 {k}×{k}"),
            OpFamily::Growth1 => format!("growth1 {k}×{k}"),
            OpFamily::DecEnc => format!("decenc {k}×{k} /2"),
        }
    }

    /// The convs of this op placed between `cin` and `cout` channels in a block of
    /// width `width` (the spec's C).
    pub fn convs(&self, cin: usize, cout: usize, width: usize) -> Vec<ConvShape> {
        let k = self.k;
        match self.family {
            OpFamily::Simple => vec![ConvShape {
                cin,
                cout,
                kh: k,
                kw: k,
                groups: self.groups,
            }],
            OpFamily::Separable => vec![
                ConvShape {
                    cin,
                    cout: width,
                    kh: k,
                    kw: 1,
                    groups: 1,
                },
                ConvShape {
                    cin: width,
                    cout,
                    kh: 1,
                    kw: k,
                    groups: 1,
                },
            ],
            OpFamily::Growth2 => vec![
                ConvShape::square(cin, 2 * width, k),
                ConvShape::square(2 * width, cout, k),
            ],
            OpFamily::Growth1 => vec![
                ConvShape::square(cin, width, k),
                ConvShape::square(width, cout, k),
            ],
            OpFamily::DecEnc => vec![
                ConvShape::square(cin, width / 2, k),
                ConvShape::square(width / 2, width / 2, k),
                ConvShape::square(width / 2, cout, k),
            ],
        }
    }

    /// Whether the op's groups divide both channel counts of every conv.
    pub fn fits(&self, cin: usize, cout: usize, width: usize) -> bool {
        self.convs(cin, cout, width)
            .iter()
            .all(|c| c.groups > 0 && c.cin % c.groups == 0 && c.cout % c.groups == 0)
    }

    /// Multiply-accumulates per output pixel of the whole chain ("same" padding keeps
    /// the spatial size, so this times H·W is the op's MAC count); `None` on overflow.
    pub fn macs_per_pixel(&self, cin: usize, cout: usize, width: usize) -> Option<u64> {
        self.convs(cin, cout, width)
            .iter()
            .try_fold(0u64, |acc, c| acc.checked_add(c.macs_per_pixel()?))
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

fn parse_kernel(s: &str) -> Option<usize> {
    let (a, b) = s.split_once('x')?;
    let k: usize = a.parse().ok()?;
    (b.parse::<usize>().ok()? == k && matches!(k, 1 | 3 | 5 | 7 | 9)).then_some(k)
}

impl FromStr for Op {
    type Err = UnknownOp;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || UnknownOp(String::from(s));
        let op = if let Some(rest) = s.strip_prefix("simple_") {
            match rest.split_once("_grouped_") {
                Some((k, g)) => {
                    let groups: usize = g.parse().map_err(|_| bad())?;
                    if !(2..=64).contains(&groups) {
                        return Err(bad());
                    }
                    Op::grouped(parse_kernel(k).ok_or_else(bad)?, groups)
                }
                None => Op::simple(parse_kernel(rest).ok_or_else(bad)?),
            }
        } else if let Some(rest) = s.strip_prefix("conv_") {
            let (a, b) = rest.split_once('_').ok_or_else(bad)?;
            let k: usize = a
                .strip_suffix("x1")
                .ok_or_else(bad)?
                .parse()
                .map_err(|_| bad())?;
            if b != format!("1x{k}") || !matches!(k, 3 | 5 | 7) {
                return Err(bad());
            }
            Op::separable(k)
        } else if let Some(rest) = s.strip_prefix("growth2_") {
            Op::growth2(parse_kernel(rest).ok_or_else(bad)?)
        } else if let Some(rest) = s.strip_prefix("growth1_") {
            Op::growth1(parse_kernel(rest).ok_or_else(bad)?)
        } else if let Some(rest) = s.strip_prefix("decenc_") {
            let k = rest.strip_suffix("_2").ok_or_else(bad)?;
            Op::decenc(parse_kernel(k).ok_or_else(bad)?)
        } else {
            return Err(bad());
        };
        Ok(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for op in [
            Op::simple(3),
            Op::grouped(5, 3),
            Op::grouped(1, 2),
            Op::separable(5),
            Op::growth2(3),
            Op::growth1(1),
            Op::decenc(5),
        ] {
            assert_eq!(op.name().parse::<Op>(), Ok(op), "{op}");
        }
        assert_eq!(Op::separable(3).name(), "conv_3x1_1x3");
        assert_eq!(Op::decenc(3).name(), "decenc_3x3_2");
        assert_eq!(Op::grouped(3, 3).label(), "simple 3×3 g3");
        assert_eq!(Op::separable(5).label(), "conv 5×1 1×5");
        assert_eq!(Op::decenc(5).label(), "decenc 5×5 /2");
        for bad in [
            "simple_3x5",
            "simple_4x4",
            "sep_3x3",
            "conv_3x1_1x5",
            "decenc_3x3",
            "simple_3x3_grouped_x",
            "",
        ] {
            assert!(bad.parse::<Op>().is_err(), "{bad}");
        }
    }

    #[test]
    fn chains_and_macs() {
        // conv_5x1_1x5 from 36 to 48 channels: 5·36·36 + 5·36·48.
        assert_eq!(
            Op::separable(5).macs_per_pixel(36, 48, 36),
            Some(5 * 36 * 36 + 5 * 36 * 48)
        );
        // growth2_3x3 3→36: 9·3·72 + 9·72·36.
        assert_eq!(
            Op::growth2(3).macs_per_pixel(3, 36, 36),
            Some(9 * 3 * 72 + 9 * 72 * 36)
        );
        // decenc_3x3_2 36→36: three convs through 18 channels.
        assert_eq!(Op::decenc(3).convs(36, 36, 36).len(), 3);
        assert_eq!(
            Op::decenc(3).macs_per_pixel(36, 36, 36),
            Some(9 * (36 * 18 + 18 * 18 + 18 * 36))
        );
        // grouped: 3→36 groups 3 is 3·36·9/3.
        assert_eq!(
            Op::grouped(3, 3).macs_per_pixel(3, 36, 36),
            Some(3 * 36 * 9 / 3)
        );
        // Channel counts whose product passes u64 are refused, not wrapped.
        let huge = usize::MAX / 2;
        assert_eq!(Op::simple(3).macs_per_pixel(huge, huge, huge), None);
        assert!(Op::grouped(3, 3).fits(3, 36, 36));
        assert!(!Op::grouped(3, 2).fits(3, 36, 36));
    }
}
