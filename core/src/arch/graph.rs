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

/// Output size of a conv or pooling window along one axis, if positive. `None` also when
/// `size + 2·pad` does not fit in `usize`.
pub fn window_out(size: usize, kernel: usize, stride: usize, pad: usize) -> Option<usize> {
    pad.checked_mul(2)
        .and_then(|p| size.checked_add(p))?
        .checked_sub(kernel)
        .and_then(|d| d.checked_div(stride))
        .map(|d| d + 1)
}

/// Why shape inference failed, before it is turned into an [`ArchError`] (the too-small
/// error needs the network's minimum, which is itself found by running inference).
#[derive(Clone, Copy, Debug)]
enum ShapeFail {
    /// A window does not fit: the input is too small for this node.
    TooSmall(&'static str),
    /// A size does not fit in `usize`.
    Overflow(&'static str),
}

/// Largest LR side [`Graph::min_input_size`] tries: far above any network this crate
/// builds (the fixed ones need at most 15), small enough that sizes stay far from overflow.
const MIN_SIDE_SEARCH_LIMIT: usize = 1 << 20;

impl Graph {
    /// Output shape of every node for an LR input of `h`×`w`.
    ///
    /// # Errors
    /// [`ArchError::InputTooSmall`] with the network's real minimum when a window does not
    /// fit, [`ArchError::SizeOverflow`] when a size does not fit in `usize`.
    pub fn shapes(&self, h: usize, w: usize) -> Result<Vec<Shape>, ArchError> {
        self.infer(h, w).map_err(|fail| match fail {
            ShapeFail::TooSmall(what) => {
                let (min_height, min_width) = self.min_input_size();
                ArchError::InputTooSmall {
                    height: h,
                    width: w,
                    min_height,
                    min_width,
                    what,
                }
            }
            ShapeFail::Overflow(what) => ArchError::SizeOverflow {
                height: h,
                width: w,
                what: String::from(what),
            },
        })
    }

    fn infer(&self, h: usize, w: usize) -> Result<Vec<Shape>, ShapeFail> {
        use ShapeFail::{Overflow, TooSmall};
        let mut out: Vec<Shape> = Vec::with_capacity(self.nodes.len());
        // `window_out` is `None` both for a window larger than the padded input and for a
        // padded size past `usize`; the second is an overflow, not a small input.
        let window = |size: usize, k: usize, stride: usize, pad: usize, what| {
            pad.checked_mul(2)
                .and_then(|p| size.checked_add(p))
                .ok_or(Overflow(what))?;
            window_out(size, k, stride, pad)
                .filter(|&v| v > 0)
                .ok_or(TooSmall(what))
        };
        for node in &self.nodes {
            let s = match &node.kind {
                NodeKind::Input { channels } => Shape { c: *channels, h, w },
                NodeKind::Conv(c) => {
                    let i = out[c.input];
                    let what = if c.stride > 1 {
                        "a strided convolution"
                    } else {
                        "a convolution"
                    };
                    Shape {
                        c: c.shape.cout,
                        h: window(i.h, c.shape.kh, c.stride, c.padding.0, what)?,
                        w: window(i.w, c.shape.kw, c.stride, c.padding.1, what)?,
                    }
                }
                NodeKind::Mixed(m) => Shape {
                    c: m.cout,
                    ..out[m.input]
                },
                NodeKind::Add { a, .. } | NodeKind::Mul { a, .. } => out[*a],
                NodeKind::Concat { inputs } => Shape {
                    c: inputs
                        .iter()
                        .try_fold(0usize, |c, &i| c.checked_add(out[i].c))
                        .ok_or(Overflow("concatenated channels"))?,
                    ..out[inputs[0]]
                },
                NodeKind::PixelShuffle { input, factor } => {
                    let i = out[*input];
                    let what = "the pixel-shuffle output side";
                    Shape {
                        c: factor
                            .checked_mul(*factor)
                            .and_then(|f2| i.c.checked_div(f2))
                            .ok_or(Overflow("the pixel-shuffle factor"))?,
                        h: i.h.checked_mul(*factor).ok_or(Overflow(what))?,
                        w: i.w.checked_mul(*factor).ok_or(Overflow(what))?,
                    }
                }
                NodeKind::Tile { input, times } => Shape {
                    c: out[*input]
                        .c
                        .checked_mul(*times)
                        .ok_or(Overflow("tiled channels"))?,
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
                    let what = "ESA's max-pool";
                    Shape {
                        c: i.c,
                        h: window(i.h, *kernel, *stride, 0, what)?,
                        w: window(i.w, *kernel, *stride, 0, what)?,
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

    /// Smallest LR height and width the network accepts, found from the graph itself.
    ///
    /// Each output side depends only on the same input side and never shrinks when it
    /// grows, so the accepted sizes along each axis form a ray `[min, ∞)`: a doubling and
    /// bisection search over square inputs finds the square minimum, then the same search
    /// along each axis (the other held at that minimum) finds the per-axis minima.
    /// `usize::MAX` along an axis no input up to 2^20 satisfies (no network of this crate).
    pub fn min_input_size(&self) -> (usize, usize) {
        let fits = |h: usize, w: usize| !matches!(self.infer(h, w), Err(ShapeFail::TooSmall(_)));
        let Some(side) = first_fit(|s| fits(s, s)) else {
            return (usize::MAX, usize::MAX);
        };
        let h = first_fit(|s| fits(s, side)).unwrap_or(side);
        let w = first_fit(|s| fits(side, s)).unwrap_or(side);
        (h, w)
    }

    /// Smallest square LR side the network accepts (the larger of
    /// [`min_input_size`](Self::min_input_size)'s two).
    pub fn min_input_side(&self) -> usize {
        let (h, w) = self.min_input_size();
        h.max(w)
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
}

/// Smallest `s` in `1..=MIN_SIDE_SEARCH_LIMIT` with `ok(s)`, for a monotone `ok`.
fn first_fit(ok: impl Fn(usize) -> bool) -> Option<usize> {
    let mut hi = 1;
    while !ok(hi) {
        if hi >= MIN_SIDE_SEARCH_LIMIT {
            return None;
        }
        hi *= 2;
    }
    // ok(hi) holds; ok(lo) fails or lo is 0.
    let mut lo = hi / 2;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}
