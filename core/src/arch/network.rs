//! A concrete network: a searched genotype or one of the fixed reference networks.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::bits::Bits;
use super::build::{espcn, rfdn_genotype, srresnet};
use super::error::ArchError;
use super::genotype::Genotype;
use super::graph::Graph;

/// A network that can be trained, costed, exported and run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Arch {
    /// A child of a search space.
    Genotype {
        /// The genotype.
        genotype: Genotype,
    },
    /// ESPCN at uniform bits.
    Espcn {
        /// Bits of every layer.
        bits: Bits,
    },
    /// SRResNet at uniform bits.
    SrResNet {
        /// Bits of every layer.
        bits: Bits,
    },
    /// RFDN at uniform bits (ESA and fusion convs stay at 8 bits).
    Rfdn {
        /// Bits of every slot.
        bits: Bits,
    },
}

impl Arch {
    /// A fixed network by name (`espcn`, `srresnet`, `rfdn`).
    pub fn fixed(name: &str, bits: Bits) -> Result<Arch, ArchError> {
        match name.to_ascii_lowercase().as_str() {
            "espcn" => Ok(Arch::Espcn { bits }),
            "srresnet" => Ok(Arch::SrResNet { bits }),
            "rfdn" => Ok(Arch::Rfdn { bits }),
            _ => Err(ArchError::UnknownArch(name.to_string())),
        }
    }

    /// Short human name.
    pub fn name(&self) -> String {
        match self {
            Arch::Genotype { genotype } => alloc::format!("quantnas-{}", genotype.space),
            Arch::Espcn { bits } => alloc::format!("espcn-{bits}bit"),
            Arch::SrResNet { bits } => alloc::format!("srresnet-{bits}bit"),
            Arch::Rfdn { bits } => alloc::format!("rfdn-{bits}bit"),
        }
    }

    /// The fixed reference networks the project compares against (spec §9): ESPCN,
    /// SRResNet and RFDN, each at the paper's widths (8 and 4 bits), widest first.
    pub fn references() -> Vec<Arch> {
        let widths = || Bits::MAIN.into_iter().rev();
        let mut out = Vec::new();
        for make in [
            (|bits| Arch::Espcn { bits }) as fn(Bits) -> Arch,
            |bits| Arch::SrResNet { bits },
            |bits| Arch::Rfdn { bits },
        ] {
            out.extend(widths().map(make));
        }
        out
    }

    /// Name for people: `ESPCN 8-bit`, `QuantNAS basic-b`.
    pub fn title(&self) -> String {
        match self {
            Arch::Genotype { genotype } => alloc::format!("QuantNAS {}", genotype.space),
            Arch::Espcn { bits } => alloc::format!("ESPCN {bits}-bit"),
            Arch::SrResNet { bits } => alloc::format!("SRResNet {bits}-bit"),
            Arch::Rfdn { bits } => alloc::format!("RFDN {bits}-bit"),
        }
    }

    /// The network graph.
    pub fn graph(&self) -> Graph {
        match self {
            Arch::Genotype { genotype } => genotype.graph(),
            Arch::Espcn { bits } => espcn(*bits),
            Arch::SrResNet { bits } => srresnet(*bits),
            Arch::Rfdn { bits } => rfdn_genotype(*bits).graph(),
        }
    }
}

impl From<Genotype> for Arch {
    fn from(genotype: Genotype) -> Self {
        Arch::Genotype { genotype }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_every_fixed_network_at_4_and_8_bits() {
        let titles: Vec<String> = Arch::references().iter().map(Arch::title).collect();
        assert_eq!(
            titles,
            [
                "ESPCN 8-bit",
                "ESPCN 4-bit",
                "SRResNet 8-bit",
                "SRResNet 4-bit",
                "RFDN 8-bit",
                "RFDN 4-bit"
            ]
        );
        for arch in Arch::references() {
            let name = arch.name();
            let (kind, bits) = name.split_once('-').expect("kind-bits");
            let bits: u32 = bits.trim_end_matches("bit").parse().expect("bits");
            assert_eq!(Arch::fixed(kind, Bits::new(bits).expect("width")), Ok(arch));
        }
    }
}
