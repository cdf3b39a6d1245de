//! What an architecture is: the op catalogue, the search spaces, genotypes, the fixed
//! reference networks, and the graph all of them compile to.

mod bits;
mod build;
mod error;
mod genotype;
mod graph;
mod op;
mod space;
mod arch;

pub use arch::Arch;
pub use bits::{BadBits, Bits};
pub use build::{espcn, rfdn_genotype, srresnet, supernet, SRRESNET_BLOCKS};
pub use error::ArchError;
pub use genotype::{Choice, Genotype, GENOTYPE_FORMAT, GENOTYPE_VERSION};
pub use graph::{window_out, ConvNode, Graph, MixedNode, Node, NodeId, NodeKind, Role, Shape};
pub use op::{ConvShape, Op, OpFamily, UnknownOp};
pub use space::{Residual, SearchSpace, Slot, BASIC_CELLS, BASIC_WIDTH, RFDN_CELLS, RFDN_WIDTH, SCALE};
