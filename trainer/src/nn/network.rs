//! A burn module that runs any concrete core [`Graph`] (a genotype's child or a fixed
//! network): one [`QConv`] per conv node, one batch norm per `BatchNorm` node, one
//! [`Adq`](super::Adq) per `Adq` node, held in a [`FixedParams`]; all other nodes are
//! parameter-free. There is no second op catalogue: the graph says what to compute, this
//! file only says how in burn.
//!
//! Supernet slots (`NodeKind::Mixed`) are not handled here; the supernet keeps its mixers
//! beside a [`FixedParams`] of its own and runs through the same [`run_graph`].

use anyhow::{Result, bail};
use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use quantnas_core::arch::{Graph, NodeKind};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::fixed::FixedParams;
pub use super::fixed::{BN_EPS, BN_MOMENTUM, ParamSlot};
use super::ops::{max_pool, pixel_shuffle, resize_bilinear, tile};
use super::qconv::QConv;
use super::qconv::init_weights;

/// The parameters of a concrete network, plus the graph that wires them.
#[derive(Module, Debug)]
pub struct Network {
    /// Conv, batch-norm and ADQ parameters.
    pub fixed: FixedParams,
    /// The architecture.
    #[module(skip)]
    pub graph: Graph,
    /// Per graph node, its parameters.
    #[module(skip)]
    pub params: Vec<ParamSlot>,
}

/// Initial weights of the last conv of every residual branch are scaled by this, so that a
/// fresh network starts close to its skip path (head → upsample → pixel shuffle, like
/// ESPCN) and the branches grow in; the idea of SkipInit/Fixup and of EDSR's residual
/// scaling. Not zero: LSQ's initial step is proportional to the weights. Measured on the
/// pipeline's first searched genotype (600 QAT steps, Set5): 26.41 dB with the plain
/// initialisation, 26.88 dB with 0.1.
pub const BRANCH_INIT_SCALE: f32 = 0.1;

/// Marks the convs whose output ends a residual branch: the branch input of every ADQ
/// node, followed back through sums.
fn branch_final_convs(graph: &Graph) -> Vec<bool> {
    let mut marked = vec![false; graph.nodes.len()];
    let mut stack: Vec<usize> = graph
        .nodes
        .iter()
        .filter_map(|n| match n.kind {
            NodeKind::Adq { branch, .. } => Some(branch),
            _ => None,
        })
        .collect();
    while let Some(id) = stack.pop() {
        match graph.nodes[id].kind {
            NodeKind::Conv(_) => marked[id] = true,
            NodeKind::Add { a, b } => stack.extend([a, b]),
            _ => {}
        }
    }
    marked
}

impl Network {
    /// A freshly initialised network for `graph`; weights drawn from a generator seeded
    /// with `seed`, so the same seed gives the same network on every backend.
    ///
    /// # Errors
    /// If the graph holds supernet slots.
    pub fn init(graph: &Graph, seed: u64, device: &Device) -> Result<Self> {
        if let Some(node) = graph
            .nodes
            .iter()
            .find(|n| matches!(n.kind, NodeKind::Mixed(_)))
        {
            bail!(
                "node {} is a supernet slot; train a derived genotype (or use the search)",
                node.name
            );
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let mut fixed = FixedParams::empty();
        // Channel counts do not depend on the input size; 64×64 suits every network here.
        let shapes = graph.shapes(64, 64)?;
        let last = branch_final_convs(graph);
        let mut params = Vec::with_capacity(graph.nodes.len());
        for (id, node) in graph.nodes.iter().enumerate() {
            let conv = |c: &_| {
                if last[id] {
                    let w = init_weights(c, &mut rng)
                        .into_iter()
                        .map(|v| v * BRANCH_INIT_SCALE)
                        .collect();
                    QConv::from_weights(c, w, device)
                } else {
                    QConv::init(c, &mut rng, device)
                }
            };
            params.push(fixed.add(&node.kind, &shapes, conv, device)?);
        }
        Ok(Network {
            fixed,
            graph: graph.clone(),
            params,
        })
    }

    /// Runs the network.
    ///
    /// Batch norms use batch statistics when the input is on an autodiff device and the
    /// module is in training mode, running statistics otherwise (see [`Module::valid`]).
    ///
    /// # Shapes
    /// `[n, 3, h, w] → [n, 3, 4h, 4w]` (RGB in [0, 1] in and, unclamped, out)
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        run_graph(&self.graph, x, |i, ins| {
            let mut ins = ins.into_iter();
            let mut next = || {
                ins.next()
                    .unwrap_or_else(|| panic!("node {i} has too few inputs"))
            };
            self.fixed
                .forward(self.params[i], &mut next)
                .unwrap_or_else(|| {
                    panic!(
                        "node {} has parameters the network does not hold",
                        self.graph.nodes[i].name
                    )
                })
        })
    }

    /// Makes the batch norms' running statistics current. burn's `RunningState::value` may
    /// lag one update behind; evaluation, checkpoints and export call this first so that
    /// they all see the same statistics.
    pub fn sync_running_stats(&self) {
        self.fixed.sync_running_stats();
    }

    /// Number of trainable scalars.
    pub fn parameter_count(&self) -> usize {
        self.num_params()
    }
}

/// Evaluates `graph` on `x`. Parameter-free nodes are computed here; nodes with
/// parameters (conv, batch norm, ADQ, supernet slot) are handed to `param_node` with the
/// node index and its input values in `NodeKind::inputs()` order. Intermediate values are
/// dropped after their last use.
///
/// # Shapes
/// `x`: `[n, 3, h, w]`; returns the output node's value.
pub fn run_graph(
    graph: &Graph,
    x: Tensor<4>,
    mut param_node: impl FnMut(usize, Vec<Tensor<4>>) -> Tensor<4>,
) -> Tensor<4> {
    let last = graph.last_use();
    let mut vals: Vec<Option<Tensor<4>>> = vec![None; graph.nodes.len()];
    let get = |vals: &Vec<Option<Tensor<4>>>, i: usize| -> Tensor<4> {
        vals[i]
            .clone()
            .unwrap_or_else(|| panic!("node {i} read before it was computed or after its last use"))
    };
    for (i, node) in graph.nodes.iter().enumerate() {
        let out = match &node.kind {
            NodeKind::Input { .. } => x.clone(),
            NodeKind::Conv(_)
            | NodeKind::BatchNorm { .. }
            | NodeKind::Adq { .. }
            | NodeKind::Mixed(_) => {
                let ins = node
                    .kind
                    .inputs()
                    .into_iter()
                    .map(|j| get(&vals, j))
                    .collect();
                param_node(i, ins)
            }
            NodeKind::Add { a, b } => get(&vals, *a) + get(&vals, *b),
            NodeKind::Mul { a, b } => get(&vals, *a) * get(&vals, *b),
            NodeKind::Concat { inputs } => {
                Tensor::cat(inputs.iter().map(|&j| get(&vals, j)).collect(), 1)
            }
            NodeKind::PixelShuffle { input, factor } => pixel_shuffle(get(&vals, *input), *factor),
            NodeKind::Tile { input, times } => tile(get(&vals, *input), *times),
            NodeKind::MaxPool {
                input,
                kernel,
                stride,
            } => max_pool(get(&vals, *input), *kernel, *stride),
            NodeKind::ResizeBilinear { input, like } => {
                let [_, _, h, w] = get(&vals, *like).dims();
                resize_bilinear(get(&vals, *input), h, w)
            }
            NodeKind::Sigmoid { input } => sigmoid(get(&vals, *input)),
        };
        vals[i] = Some(out);
        for j in node.kind.inputs() {
            if last[j] == i {
                vals[j] = None;
            }
        }
    }
    get(&vals, graph.output)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use quantnas_core::arch::{
        Bits, ConvNode, ConvShape, Node, Role, espcn, rfdn_genotype, srresnet,
    };

    fn vec4(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().unwrap()
    }

    /// x → BN → 8-bit 1×1 conv → ADQ(branch, skip = x): one ADQ residual block.
    fn adq_block() -> Graph {
        let node = |name: &str, kind| Node {
            name: name.into(),
            kind,
        };
        let conv = ConvNode {
            input: 1,
            shape: ConvShape::square(3, 3, 1),
            stride: 1,
            padding: (0, 0),
            bits: Bits::B8,
            role: Role::Fixed,
        };
        Graph {
            nodes: vec![
                node("input", NodeKind::Input { channels: 3 }),
                node("bn", NodeKind::BatchNorm { input: 0 }),
                node("conv", NodeKind::Conv(conv)),
                node("adq", NodeKind::Adq { branch: 2, skip: 0 }),
            ],
            output: 3,
        }
    }

    #[test]
    fn adq_block_train_vs_eval() {
        let train_dev = Device::flex().autodiff();
        let net = Network::init(&adq_block(), 4, &train_dev).unwrap();
        let a: Vec<f32> = (0..2 * 3 * 4 * 4)
            .map(|i| ((i * 7) % 13) as f32 / 13.0)
            .collect();
        let mut b = a.clone();
        b[48..].iter_mut().for_each(|v| *v = 1.0 - *v); // a different second sample
        let x = |d: &Device, v: &[f32]| {
            Tensor::<4>::from_data(TensorData::new(v.to_vec(), [2, 3, 4, 4]), d)
        };
        // Training: batch statistics, so sample 0's output depends on sample 1.
        let ya = vec4(net.forward(x(&train_dev, &a)).detach());
        let yb = vec4(net.forward(x(&train_dev, &b)).detach());
        assert_ne!(ya[..48], yb[..48]);
        // The running statistics moved away from (0, 1).
        let mean = net.fixed.norms[0]
            .running_mean
            .value_sync()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        assert!(mean.iter().all(|m| *m > 0.0), "{mean:?}");
        // Evaluation: running statistics, so each sample is on its own; and the ADQ output
        // is branch·(γ·σ(skip) + β) + skip with σ the per-sample unbiased std.
        let plain = Device::flex();
        let eval = net.valid().to_device(&plain);
        let ea = vec4(eval.forward(x(&plain, &a)));
        let eb = vec4(eval.forward(x(&plain, &b)));
        assert_eq!(ea[..48], eb[..48]);
        let branch = {
            let mut g = adq_block();
            g.nodes.truncate(3);
            g.output = 2;
            let mut only = eval.clone();
            only.params.truncate(3);
            only.graph = g;
            vec4(only.forward(x(&plain, &a)))
        };
        let s0 = &a[..48];
        let m = s0.iter().sum::<f32>() / 48.0;
        let sd = (s0.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / 47.0).sqrt();
        for i in 0..48 {
            let want = branch[i] * (1.5 * sd + 0.0) + a[i];
            assert!((ea[i] - want).abs() < 1e-5, "{i}: {} vs {want}", ea[i]);
        }
    }

    #[test]
    fn srresnet_and_rfdn_with_esa_run() {
        let d = Device::flex();
        for g in [srresnet(Bits::B4), rfdn_genotype(Bits::B8).graph()] {
            let net = Network::init(&g, 1, &d).unwrap();
            let x = Tensor::<4>::random(
                [1, 3, 15, 17],
                burn::tensor::Distribution::Uniform(0.0, 1.0),
                &d,
            );
            assert_eq!(net.forward(x).dims(), [1, 3, 60, 68]);
        }
    }

    #[test]
    fn espcn_shapes_and_determinism() {
        let d = Device::flex();
        let g = espcn(Bits::B8);
        let a = Network::init(&g, 7, &d).unwrap();
        let b = Network::init(&g, 7, &d).unwrap();
        let x = Tensor::<4>::random(
            [2, 3, 6, 5],
            burn::tensor::Distribution::Uniform(0.0, 1.0),
            &d,
        );
        let ya = a.forward(x.clone());
        assert_eq!(ya.dims(), [2, 3, 24, 20]);
        let yb = b.forward(x);
        assert_eq!(
            ya.into_data().try_into_vec::<f32>().unwrap(),
            yb.into_data().try_into_vec::<f32>().unwrap()
        );
        assert_eq!(a.fixed.convs.len(), 3);
    }
}
