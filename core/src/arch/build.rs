//! Builds [`Graph`]s: children of the search spaces from a genotype, supernets of the
//! search spaces, and the fixed reference networks (ESPCN, SRResNet, RFDN).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::bits::Bits;
use super::error::ArchError;
use super::genotype::{Choice, Genotype};
use super::graph::{ConvNode, Graph, MixedNode, Node, NodeId, NodeKind, Role};
use super::op::{ConvShape, Op};
use super::space::{BASIC_CELLS, RFDN_CELLS, Residual, SCALE, SearchSpace, Slot};

/// How slots become nodes.
enum SlotMode<'a> {
    /// Each slot is the chain of convs of its chosen op.
    Child(&'a [Choice]),
    /// Each slot is a [`MixedNode`].
    Supernet,
}

struct Builder<'a> {
    nodes: Vec<Node>,
    channels: Vec<usize>,
    mode: SlotMode<'a>,
    slots: Vec<Slot>,
}

/// ESA's reduced width (RFDN uses C/4).
const ESA_WIDTH: usize = 12;

impl<'a> Builder<'a> {
    fn new(mode: SlotMode<'a>, slots: Vec<Slot>) -> Self {
        let mut b = Builder {
            nodes: Vec::new(),
            channels: Vec::new(),
            mode,
            slots,
        };
        b.push("input".into(), NodeKind::Input { channels: 3 }, 3);
        b
    }

    fn push(&mut self, name: String, kind: NodeKind, channels: usize) -> NodeId {
        self.nodes.push(Node { name, kind });
        self.channels.push(channels);
        self.nodes.len() - 1
    }

    #[allow(clippy::too_many_arguments)] // mirrors a conv's full description
    fn conv(
        &mut self,
        name: String,
        input: NodeId,
        shape: ConvShape,
        stride: usize,
        padding: (usize, usize),
        bits: Bits,
        role: Role,
    ) -> NodeId {
        debug_assert_eq!(self.channels[input], shape.cin, "{name}");
        let cout = shape.cout;
        self.push(
            name,
            NodeKind::Conv(ConvNode {
                input,
                shape,
                stride,
                padding,
                bits,
                role,
            }),
            cout,
        )
    }

    /// A stride-1 "same" conv.
    fn same(
        &mut self,
        name: String,
        input: NodeId,
        shape: ConvShape,
        bits: Bits,
        role: Role,
    ) -> NodeId {
        self.conv(
            name,
            input,
            shape,
            1,
            (shape.kh / 2, shape.kw / 2),
            bits,
            role,
        )
    }

    fn slot(&mut self, index: usize, input: NodeId, name: &str) -> NodeId {
        let slot = self.slots[index].clone();
        match self.mode {
            SlotMode::Child(choices) => {
                let Choice { op, bits } = choices[index];
                let mut x = input;
                for (i, shape) in op
                    .convs(slot.cin, slot.cout, slot.width)
                    .into_iter()
                    .enumerate()
                {
                    x = self.same(
                        format!("{name}.conv{i}"),
                        x,
                        shape,
                        bits,
                        Role::Slot { slot: index, op },
                    );
                }
                x
            }
            SlotMode::Supernet => {
                let m = MixedNode {
                    input,
                    slot: index,
                    cin: slot.cin,
                    cout: slot.cout,
                    width: slot.width,
                    candidates: slot.candidates,
                };
                self.push(name.into(), NodeKind::Mixed(m), slot.cout)
            }
        }
    }

    fn add(&mut self, name: String, a: NodeId, b: NodeId) -> NodeId {
        let c = self.channels[a];
        self.push(name, NodeKind::Add { a, b }, c)
    }

    fn bn(&mut self, name: String, input: NodeId) -> NodeId {
        let c = self.channels[input];
        self.push(name, NodeKind::BatchNorm { input }, c)
    }

    /// Wraps the branch `f` around `x` as the residual mode says (spec §4).
    fn residual(
        &mut self,
        x: NodeId,
        mode: Residual,
        name: &str,
        f: impl FnOnce(&mut Self, NodeId) -> NodeId,
    ) -> NodeId {
        let c = self.channels[x];
        match mode {
            Residual::Adq | Residual::AdaDm => {
                let xb = self.bn(format!("{name}.bn"), x);
                let mut y = f(self, xb);
                if mode == Residual::AdaDm {
                    y = self.bn(format!("{name}.bn_out"), y);
                }
                self.push(
                    format!("{name}.adq"),
                    NodeKind::Adq { branch: y, skip: x },
                    c,
                )
            }
            Residual::BatchNorm => {
                let xb = self.bn(format!("{name}.bn"), x);
                let y = f(self, xb);
                self.add(format!("{name}.add"), y, x)
            }
            Residual::None => {
                let y = f(self, x);
                self.add(format!("{name}.add"), y, x)
            }
        }
    }

    fn pixel_shuffle(&mut self, name: String, input: NodeId, factor: usize) -> NodeId {
        let c = self.channels[input] / (factor * factor);
        self.push(name, NodeKind::PixelShuffle { input, factor }, c)
    }

    fn finish(self, output: NodeId) -> Graph {
        Graph {
            nodes: self.nodes,
            output,
        }
    }

    fn basic(mut self, residual: Residual) -> Graph {
        let x = 0;
        let h1 = self.slot(0, x, "head.h1");
        let a = self.slot(1, h1, "head.h2");
        let z = self.residual(a, residual, "body", |b, x| {
            let mut c = x;
            for cell in 0..BASIC_CELLS {
                c = b.residual(c, residual, &format!("cell{cell}"), |b, x| {
                    let y1 = b.slot(2, x, &format!("cell{cell}.body1"));
                    let y2 = b.slot(3, y1, &format!("cell{cell}.body2"));
                    let s = b.slot(4, x, &format!("cell{cell}.skip"));
                    b.add(format!("cell{cell}.sum"), y2, s)
                });
            }
            c
        });
        let u0 = self.slot(5, z, "upsample");
        let u = self.pixel_shuffle("upsample.shuffle".into(), u0, SCALE);
        let out = self.residual(u, residual, "tail", |b, u| {
            let t = b.slot(6, u, "tail.t1");
            b.slot(7, t, "tail.t2")
        });
        self.finish(out)
    }

    fn fixed8(&mut self, name: String, input: NodeId, cout: usize, k: usize) -> NodeId {
        let cin = self.channels[input];
        self.same(
            name,
            input,
            ConvShape::square(cin, cout, k),
            Bits::B8,
            Role::Fixed,
        )
    }

    /// Enhanced spatial attention, all convs fixed at 8 bits.
    fn esa(&mut self, x: NodeId, name: &str) -> NodeId {
        let c = self.channels[x];
        let f = ESA_WIDTH;
        let c1_ = self.fixed8(format!("{name}.conv1"), x, f, 1);
        let c1 = self.conv(
            format!("{name}.conv2"),
            c1_,
            ConvShape::square(f, f, 3),
            2,
            (0, 0),
            Bits::B8,
            Role::Fixed,
        );
        let vmax = self.push(
            format!("{name}.maxpool"),
            NodeKind::MaxPool {
                input: c1,
                kernel: 7,
                stride: 3,
            },
            f,
        );
        let v = self.fixed8(format!("{name}.conv_max"), vmax, f, 3);
        let c3 = self.fixed8(format!("{name}.conv3"), v, f, 3);
        let c3 = self.fixed8(format!("{name}.conv3_"), c3, f, 3);
        let up = self.push(
            format!("{name}.resize"),
            NodeKind::ResizeBilinear { input: c3, like: x },
            f,
        );
        let cf = self.fixed8(format!("{name}.conv_f"), c1_, f, 1);
        let s = self.add(format!("{name}.sum"), up, cf);
        let c4 = self.fixed8(format!("{name}.conv4"), s, c, 1);
        let m = self.push(
            format!("{name}.sigmoid"),
            NodeKind::Sigmoid { input: c4 },
            c,
        );
        self.push(format!("{name}.mul"), NodeKind::Mul { a: x, b: m }, c)
    }

    fn rfdn(mut self, residual: Residual) -> Graph {
        let width = SearchSpace::Rfdn.width();
        let tiled = self.push(
            "tile".into(),
            NodeKind::Tile {
                input: 0,
                times: width / 3,
            },
            width,
        );
        let mut c = tiled;
        let mut outs = Vec::new();
        for cell in 0..RFDN_CELLS {
            let base = cell * 7;
            c = self.residual(c, residual, &format!("cell{cell}"), |b, x0| {
                let mut x = x0;
                let mut parts = Vec::new();
                for i in 0..3 {
                    parts.push(b.slot(base + 2 * i, x, &format!("cell{cell}.skip{i}")));
                    let y = b.slot(base + 2 * i + 1, x, &format!("cell{cell}.body{i}"));
                    x = b.add(format!("cell{cell}.res{i}"), x, y);
                }
                parts.push(b.slot(base + 6, x, &format!("cell{cell}.body3")));
                let cat = b.push(
                    format!("cell{cell}.concat"),
                    NodeKind::Concat { inputs: parts },
                    2 * width,
                );
                let fused = b.fixed8(format!("cell{cell}.fuse"), cat, width, 1);
                b.esa(fused, &format!("cell{cell}.esa"))
            });
            outs.push(c);
        }
        let cat = self.push(
            "concat".into(),
            NodeKind::Concat { inputs: outs },
            RFDN_CELLS * width,
        );
        let f1 = self.fixed8("fuse".into(), cat, width, 1);
        let f2 = self.fixed8("lr_conv".into(), f1, width, 3);
        let g = self.add("global.add".into(), f2, tiled);
        let u0 = self.slot(RFDN_CELLS * 7, g, "upsample");
        let u = self.pixel_shuffle("upsample.shuffle".into(), u0, SCALE);
        let t = self.slot(RFDN_CELLS * 7 + 1, u, "tail");
        let out = self.add("tail.add".into(), t, u);
        self.finish(out)
    }
}

fn build(space: SearchSpace, residual: Residual, mode: SlotMode<'_>) -> Graph {
    build_over(space, residual, mode, space.slots())
}

fn build_over(
    space: SearchSpace,
    residual: Residual,
    mode: SlotMode<'_>,
    slots: Vec<Slot>,
) -> Graph {
    let b = Builder::new(mode, slots);
    match space {
        SearchSpace::BasicA | SearchSpace::BasicB => b.basic(residual),
        SearchSpace::Rfdn => b.rfdn(residual),
    }
}

impl Genotype {
    /// The child network this genotype describes.
    pub fn graph(&self) -> Graph {
        build(self.space, self.residual, SlotMode::Child(&self.choices))
    }
}

/// The supernet of a space: every slot a [`MixedNode`].
pub fn supernet(space: SearchSpace, residual: Residual) -> Graph {
    build(space, residual, SlotMode::Supernet)
}

/// The supernet of a space whose slot `s` offers only `candidates[s]` (see
/// [`SearchSpace::slots_with`]): with every slot's full list it is [`supernet`]; with the
/// ops of a genotype ([`Genotype::chosen_ops`]) only the bit width is left to search.
///
/// # Errors
/// As [`SearchSpace::slots_with`].
pub fn supernet_with(
    space: SearchSpace,
    residual: Residual,
    candidates: &[Vec<Op>],
) -> Result<Graph, ArchError> {
    let slots = space.slots_with(candidates)?;
    Ok(build_over(space, residual, SlotMode::Supernet, slots))
}

/// ESPCN (Shi et al. 2016) with every layer at `bits`: 5×5 3→64, 3×3 64→32, 3×3 32→48,
/// pixel shuffle ×4.
pub fn espcn(bits: Bits) -> Graph {
    let mut b = Builder::new(SlotMode::Supernet, Vec::new());
    let x = b.same(
        "conv1".into(),
        0,
        ConvShape::square(3, 64, 5),
        bits,
        Role::Fixed,
    );
    let x = b.same(
        "conv2".into(),
        x,
        ConvShape::square(64, 32, 3),
        bits,
        Role::Fixed,
    );
    let x = b.same(
        "conv3".into(),
        x,
        ConvShape::square(32, 48, 3),
        bits,
        Role::Fixed,
    );
    let out = b.pixel_shuffle("shuffle".into(), x, SCALE);
    b.finish(out)
}

/// Number of residual blocks of SRResNet.
pub const SRRESNET_BLOCKS: usize = 16;

/// SRResNet (Ledig et al. 2017) without batch norm, every layer at `bits`: 9×9 head 3→64,
/// 16 residual blocks of two 3×3 convs, a 3×3 conv with the global skip, two ×2
/// upsampling stages (3×3 64→256 + pixel shuffle), 9×9 tail 64→3.
pub fn srresnet(bits: Bits) -> Graph {
    let mut b = Builder::new(SlotMode::Supernet, Vec::new());
    let c = 64;
    let head = b.same(
        "head".into(),
        0,
        ConvShape::square(3, c, 9),
        bits,
        Role::Fixed,
    );
    let mut x = head;
    for i in 0..SRRESNET_BLOCKS {
        let y = b.same(
            format!("block{i}.conv1"),
            x,
            ConvShape::square(c, c, 3),
            bits,
            Role::Fixed,
        );
        let y = b.same(
            format!("block{i}.conv2"),
            y,
            ConvShape::square(c, c, 3),
            bits,
            Role::Fixed,
        );
        x = b.add(format!("block{i}.add"), y, x);
    }
    let m = b.same(
        "body_end".into(),
        x,
        ConvShape::square(c, c, 3),
        bits,
        Role::Fixed,
    );
    let mut x = b.add("global.add".into(), m, head);
    for i in 0..2 {
        let y = b.same(
            format!("up{i}.conv"),
            x,
            ConvShape::square(c, 4 * c, 3),
            bits,
            Role::Fixed,
        );
        x = b.pixel_shuffle(format!("up{i}.shuffle"), y, 2);
    }
    let out = b.same(
        "tail".into(),
        x,
        ConvShape::square(c, 3, 9),
        bits,
        Role::Fixed,
    );
    b.finish(out)
}

/// The genotype of the fixed RFDN (Liu et al. 2020) in the RFDN space: 1×1 distillation
/// convs, 3×3 body convs, 3×3 upsampling and tail, plain residuals, every slot at `bits`.
pub fn rfdn_genotype(bits: Bits) -> Genotype {
    let choices = SearchSpace::Rfdn
        .slots()
        .iter()
        .map(|s| {
            let op = if s.name.contains(".skip") {
                Op::simple(1)
            } else {
                Op::simple(3)
            };
            Choice { op, bits }
        })
        .collect();
    Genotype {
        space: SearchSpace::Rfdn,
        residual: Residual::None,
        choices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_choice(space: SearchSpace, bits: Bits) -> Genotype {
        Genotype::nth_candidates(space, Residual::Adq, 0, bits)
    }

    #[test]
    fn graphs_are_topological_and_shapes_are_x4() {
        let graphs = [
            espcn(Bits::B8),
            srresnet(Bits::B4),
            rfdn_genotype(Bits::B8).graph(),
            first_choice(SearchSpace::BasicB, Bits::B4).graph(),
            first_choice(SearchSpace::BasicA, Bits::B32).graph(),
            supernet(SearchSpace::BasicB, Residual::Adq),
            supernet(SearchSpace::Rfdn, Residual::AdaDm),
        ];
        for g in graphs {
            for (i, n) in g.nodes.iter().enumerate() {
                assert!(n.kind.inputs().iter().all(|&j| j < i), "{}", n.name);
            }
            let shapes = g.shapes(20, 24).expect("shapes");
            let o = shapes[g.output];
            assert_eq!((o.c, o.h, o.w), (3, 80, 96));
            let mut names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
            names.sort();
            let n = names.len();
            names.dedup();
            assert_eq!(n, names.len(), "node names are unique");
        }
    }

    #[test]
    fn esa_rejects_tiny_inputs() {
        use crate::arch::ArchError;
        let g = rfdn_genotype(Bits::B8).graph();
        assert!(g.shapes(15, 15).is_ok());
        let e = g.shapes(14, 30).expect_err("too small");
        assert!(
            matches!(
                e,
                ArchError::InputTooSmall {
                    min_height: 15,
                    min_width: 15,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("at least 15×15"), "{e}");
        assert_eq!(g.min_input_size(), (15, 15));
        assert_eq!(g.min_input_side(), 15);
        // Networks without windows that shrink the input take a single pixel.
        for g in [espcn(Bits::B8), srresnet(Bits::B8)] {
            assert_eq!(g.min_input_size(), (1, 1));
            assert!(g.shapes(1, 1).is_ok());
        }
    }

    #[test]
    fn the_minimum_is_derived_from_the_graph() {
        use crate::arch::{ConvNode, ConvShape, Node, Role};
        // Input → unpadded 7×3 conv with stride 2 → 3×3 max-pool with stride 1: rows need
        // (h − 7)/2 + 1 ≥ 3, so h ≥ 11; columns (w − 3)/2 + 1 ≥ 3, so w ≥ 7.
        let node = |name: &str, kind| Node {
            name: String::from(name),
            kind,
        };
        let g = Graph {
            nodes: vec![
                node("input", NodeKind::Input { channels: 3 }),
                node(
                    "conv",
                    NodeKind::Conv(ConvNode {
                        input: 0,
                        shape: ConvShape {
                            cin: 3,
                            cout: 3,
                            kh: 7,
                            kw: 3,
                            groups: 1,
                        },
                        stride: 2,
                        padding: (0, 0),
                        bits: Bits::B8,
                        role: Role::Fixed,
                    }),
                ),
                node(
                    "pool",
                    NodeKind::MaxPool {
                        input: 1,
                        kernel: 3,
                        stride: 1,
                    },
                ),
            ],
            output: 2,
        };
        assert_eq!(g.min_input_size(), (11, 7));
        assert_eq!(g.min_input_side(), 11);
        assert!(g.shapes(11, 7).is_ok());
        assert!(g.shapes(10, 7).is_err());
        assert!(g.shapes(11, 6).is_err());
        let e = g.shapes(4, 40).expect_err("too small");
        assert!(e.to_string().contains("at least 11×7"), "{e}");
    }

    #[test]
    fn supernets_over_given_candidates() {
        for space in SearchSpace::ALL {
            for residual in Residual::ALL {
                let all: Vec<Vec<Op>> = space.slots().into_iter().map(|s| s.candidates).collect();
                let g = supernet_with(space, residual, &all).expect("full lists");
                assert_eq!(g, supernet(space, residual), "{space} {residual}");
            }
        }
        // One op per slot (a genotype's): the same graph but each mixed node offers only
        // that op, and the genotype's child still follows from it.
        let space = SearchSpace::BasicA;
        let geno = Genotype::nth_candidates(space, Residual::Adq, 3, Bits::B32);
        let fixed = supernet_with(space, Residual::Adq, &geno.chosen_ops()).expect("fixed");
        let full = supernet(space, Residual::Adq);
        assert_eq!(fixed.nodes.len(), full.nodes.len());
        assert!(fixed.is_supernet());
        for (a, b) in fixed.nodes.iter().zip(&full.nodes) {
            assert_eq!(a.name, b.name);
            match (&a.kind, &b.kind) {
                (NodeKind::Mixed(m), NodeKind::Mixed(f)) => {
                    assert_eq!(m.candidates, [geno.choices[m.slot].op], "{}", a.name);
                    assert_eq!(
                        (m.input, m.cin, m.cout, m.slot),
                        (f.input, f.cin, f.cout, f.slot)
                    );
                }
                (x, y) => assert_eq!(x, y, "{}", a.name),
            }
        }
        assert!(fixed.shapes(20, 24).is_ok());
        let mixed4 = Genotype {
            choices: geno
                .choices
                .iter()
                .map(|c| Choice {
                    op: c.op,
                    bits: Bits::B4,
                })
                .collect(),
            ..geno.clone()
        };
        assert!(mixed4.graph().shapes(20, 24).is_ok());
    }

    #[test]
    fn given_candidates_are_checked() {
        let space = SearchSpace::BasicB;
        let mut lists: Vec<Vec<Op>> = space.slots().into_iter().map(|s| s.candidates).collect();
        let r = Residual::Adq;
        assert!(matches!(
            supernet_with(space, r, &lists[..7]),
            Err(ArchError::MissingSlot { got: 7, .. })
        ));
        let mut more = lists.clone();
        more.push(vec![Op::simple(3)]);
        assert!(matches!(
            supernet_with(space, r, &more),
            Err(ArchError::ExtraSlot { got: 9, .. })
        ));
        lists[2] = Vec::new();
        let e = supernet_with(space, r, &lists).expect_err("empty");
        assert!(e.to_string().contains("body.body1"), "{e}");
        lists[2] = vec![Op::simple(3), Op::simple(3)];
        assert!(matches!(
            supernet_with(space, r, &lists),
            Err(ArchError::Candidates { .. })
        ));
        // Basic B's body offers no grouped convs (Basic A's does).
        lists[2] = vec![Op::grouped(3, 3)];
        assert!(matches!(
            supernet_with(space, r, &lists),
            Err(ArchError::OpNotInSlot { .. })
        ));
    }

    #[test]
    fn basic_cells_share_slots_but_not_nodes() {
        let g = supernet(SearchSpace::BasicB, Residual::Adq);
        let mixed: Vec<usize> = g
            .nodes
            .iter()
            .filter_map(|n| match &n.kind {
                NodeKind::Mixed(m) => Some(m.slot),
                _ => None,
            })
            .collect();
        assert_eq!(mixed, [0, 1, 2, 3, 4, 2, 3, 4, 2, 3, 4, 5, 6, 7]);
        let adq = g
            .nodes
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::Adq { .. }))
            .count();
        assert_eq!(adq, 5, "3 cells, the body chain and the tail");
    }
}
