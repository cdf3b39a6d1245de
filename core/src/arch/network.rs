//! A concrete network: a searched genotype or one of the fixed reference networks.

use alloc::string::{String, ToString};

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
