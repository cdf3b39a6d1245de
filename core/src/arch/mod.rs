//! What an architecture is: the op catalogue, the search spaces, genotypes, the fixed
//! reference networks, and the graph all of them compile to.

mod bits;
mod build;
mod error;
mod genotype;
mod graph;
mod network;
mod op;
mod parts;
mod space;

pub use bits::{BadBits, Bits, TWO_POW_23, round_code, round_code_nonneg, round_code_small};
pub use build::{SRRESNET_BLOCKS, espcn, rfdn_genotype, srresnet, supernet, supernet_with};
pub use error::ArchError;
pub use genotype::{Choice, GENOTYPE_FORMAT, GENOTYPE_VERSION, Genotype};
pub use graph::{ConvNode, Graph, MixedNode, Node, NodeId, NodeKind, Role, Shape, window_out};
pub use network::Arch;
pub use op::{ConvShape, Op, OpFamily, UnknownOp};
pub use parts::Part;
pub use space::{
    BASIC_CELLS, BASIC_WIDTH, RFDN_CELLS, RFDN_WIDTH, Residual, SCALE, SearchSpace, Slot,
};
