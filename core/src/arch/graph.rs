//! The network graph: the one description of a concrete network (or a supernet) that
//! cost counting, the trainer's burn modules and the integer engine all interpret.
//!
//! Nodes are stored in topological order; a node only refers to earlier nodes.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::bits::Bits;
use super::error::ArchError;
use super::op::{ConvShape, Op};

/// Index of a node in [`Graph::nodes`].
pub type NodeId = usize;

/// Whether a conv belongs to a searchable slot (counted by the search penalty) or is a
/// fixed part of the network (ESA, RFDN's fixed convs: counted only in reported BitOps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Part of the op chosen for slot `slot` (index into `SearchSpace::slots()`).
    Slot {
        /// Slot index.
        slot: usize,
        /// The op this conv is part of.
        op: Op,
    },
    /// A conv of a fixed network or a fixed block.
    Fixed,
}

/// A convolution. Its input activation is the HWGQ quantizer at `bits` (4, 8) or a ReLU
/// (32); there is no bias.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvNode {
    /// Input node.
    pub input: NodeId,
    /// Channels, kernel and groups.
    pub shape: ConvShape,
    /// Stride (1 everywhere but ESA's strided conv).
    pub stride: usize,
    /// Zero padding (rows, columns).
    pub padding: (usize, usize),
    /// Weight and activation bits.
    pub bits: Bits,
    /// Slot or fixed.
    pub role: Role,
}

/// A searchable slot of a supernet: the weighted mixture of all candidate ops at all
/// searched bit widths (spec §5).
#[derive(Clone, Debug, PartialEq)]
pub struct MixedNode {
    /// Input node.
    pub input: NodeId,
    /// Slot index (Basic body cells share slot indices, hence alphas).
    pub slot: usize,
    /// Input channels.
    pub cin: usize,
    /// Output channels.
    pub cout: usize,
    /// Block width for multi-conv ops.
    pub width: usize,
    /// Candidate ops.
    pub candidates: Vec<Op>,
}

/// What a node computes.
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// The RGB input in [0, 1].
    Input {
        /// Channel count (3).
        channels: usize,
    },
    /// A convolution.
    Conv(ConvNode),
    /// A supernet slot.
    Mixed(MixedNode),
    /// Element-wise sum.
    Add {
        /// First operand.
        a: NodeId,
        /// Second operand.
        b: NodeId,
    },
    /// Element-wise product; `b` may have the same shape as `a`.
    Mul {
        /// First operand.
        a: NodeId,
        /// Second operand.
        b: NodeId,
    },
    /// Concatenation along channels.
    Concat {
        /// Operands, in order.
        inputs: Vec<NodeId>,
    },
    /// Depth-to-space by `factor` (channel c·r²+i·r+j goes to pixel (y·r+i, x·r+j) of c).
    PixelShuffle {
        /// Input.
        input: NodeId,
        /// Upscaling factor r.
        factor: usize,
    },
    /// The input repeated `times` along channels.
    Tile {
        /// Input.
        input: NodeId,
        /// Repetitions.
        times: usize,
    },
    /// Batch norm over channels (running statistics at inference).
    BatchNorm {
        /// Input.
        input: NodeId,
    },
    /// ADQ output `branch·(γ·σ(skip) + β) + skip` with σ the per-sample unbiased
    /// standard deviation over C, H, W (spec §4).
    Adq {
        /// Output of the residual branch.
        branch: NodeId,
        /// Input of the residual block.
        skip: NodeId,
    },
    /// Max pooling without padding.
    MaxPool {
        /// Input.
        input: NodeId,
        /// Window side.
        kernel: usize,
        /// Stride.
        stride: usize,
    },
    /// Bilinear resize (half-pixel centres, no antialiasing) to the size of `like`.
    ResizeBilinear {
        /// Input.
        input: NodeId,
        /// Node whose spatial size is the target.
        like: NodeId,
    },
    /// Logistic sigmoid.
    Sigmoid {
        /// Input.
        input: NodeId,
    },
}

/// A named node.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Unique, stable name (layer names in cost tables and model files).
    pub name: String,
    /// Computation.
    pub kind: NodeKind,
}

/// Channels, height and width of a node's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Channels.
    pub c: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
}

/// A network.
#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    /// All nodes, topologically ordered; node 0 is the input.
    pub nodes: Vec<Node>,
    /// The output node.
    pub output: NodeId,
}

impl NodeKind {
    /// The nodes this one reads.
    pub fn inputs(&self) -> Vec<NodeId> {
        match self {
            NodeKind::Input { .. } => vec![],
            NodeKind::Conv(c) => vec![c.input],
            NodeKind::Mixed(m) => vec![m.input],
            NodeKind::Add { a, b } | NodeKind::Mul { a, b } => vec![*a, *b],
            NodeKind::Concat { inputs } => inputs.clone(),
            NodeKind::PixelShuffle { input, .. }
            | NodeKind::Tile { input, .. }
            | NodeKind::BatchNorm { input }
            | NodeKind::MaxPool { input, .. }
            | NodeKind::Sigmoid { input } => vec![*input],
            NodeKind::Adq { branch, skip } => vec![*branch, *skip],
            NodeKind::ResizeBilinear { input, like } => vec![*input, *like],
        }
    }
}

/// Output size of a conv or pooling window along one axis, if positive.
pub fn window_out(size: usize, kernel: usize, stride: usize, pad: usize) -> Option<usize> {
    (size + 2 * pad).checked_sub(kernel).map(|d| d / stride + 1)
}

impl Graph {
    /// Output shape of every node for an LR input of `h`×`w`.
    pub fn shapes(&self, h: usize, w: usize) -> Result<Vec<Shape>, ArchError> {
        let mut out: Vec<Shape> = Vec::with_capacity(self.nodes.len());
        let too_small = |what| ArchError::InputTooSmall {
            height: h,
            width: w,
            min: 15,
            what,
        };
        for node in &self.nodes {
            let s = match &node.kind {
                NodeKind::Input { channels } => Shape { c: *channels, h, w },
                NodeKind::Conv(c) => {
                    let i = out[c.input];
                    let oh = window_out(i.h, c.shape.kh, c.stride, c.padding.0).filter(|&v| v > 0);
                    let ow = window_out(i.w, c.shape.kw, c.stride, c.padding.1).filter(|&v| v > 0);
                    match (oh, ow) {
                        (Some(oh), Some(ow)) => Shape {
                            c: c.shape.cout,
                            h: oh,
                            w: ow,
                        },
                        _ => return Err(too_small("a strided convolution")),
                    }
                }
                NodeKind::Mixed(m) => Shape {
                    c: m.cout,
                    ..out[m.input]
                },
                NodeKind::Add { a, .. } | NodeKind::Mul { a, .. } => out[*a],
                NodeKind::Concat { inputs } => Shape {
                    c: inputs.iter().map(|&i| out[i].c).sum(),
                    ..out[inputs[0]]
                },
                NodeKind::PixelShuffle { input, factor } => {
                    let i = out[*input];
                    Shape {
                        c: i.c / (factor * factor),
                        h: i.h * factor,
                        w: i.w * factor,
                    }
                }
                NodeKind::Tile { input, times } => Shape {
                    c: out[*input].c * times,
                    ..out[*input]
                },
                NodeKind::BatchNorm { input } | NodeKind::Sigmoid { input } => out[*input],
                NodeKind::Adq { skip, .. } => out[*skip],
                NodeKind::MaxPool {
                    input,
                    kernel,
                    stride,
                } => {
                    let i = out[*input];
                    match (
                        window_out(i.h, *kernel, *stride, 0),
                        window_out(i.w, *kernel, *stride, 0),
                    ) {
                        (Some(oh), Some(ow)) if oh > 0 && ow > 0 => Shape {
                            c: i.c,
                            h: oh,
                            w: ow,
                        },
                        _ => return Err(too_small("ESA's max-pool")),
                    }
                }
                NodeKind::ResizeBilinear { input, like } => Shape {
                    c: out[*input].c,
                    ..out[*like]
                },
            };
            out.push(s);
        }
        Ok(out)
    }

    /// For every node, the index of the last node that reads it (itself if none), so an
    /// executor can free intermediate results as soon as they are dead.
    pub fn last_use(&self) -> Vec<NodeId> {
        let mut last: Vec<NodeId> = (0..self.nodes.len()).collect();
        for (i, node) in self.nodes.iter().enumerate() {
            for j in node.kind.inputs() {
                last[j] = last[j].max(i);
            }
        }
        last[self.output] = self.nodes.len();
        last
    }

    /// The conv nodes, with their ids.
    pub fn convs(&self) -> impl Iterator<Item = (NodeId, &Node, &ConvNode)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match &n.kind {
                NodeKind::Conv(c) => Some((i, n, c)),
                _ => None,
            })
    }

    /// Whether the graph contains supernet slots.
    pub fn is_supernet(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| matches!(n.kind, NodeKind::Mixed(_)))
    }

    /// Smallest LR side the network accepts.
    pub fn min_input_side(&self) -> usize {
        if self
            .nodes
            .iter()
            .any(|n| matches!(n.kind, NodeKind::MaxPool { .. }))
        {
            15
        } else {
            1
        }
    }
}
