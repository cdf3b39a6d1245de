//! The supernet of a search space: every slot a [`BitMixer`], the fixed parts (RFDN's
//! fusion convs and ESA, batch norms, ADQ) as in a child network. Built from core's
//! `supernet(space, residual)` graph and evaluated by the same graph interpreter as child
//! networks.

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use quantnas_core::arch::{
    Genotype, Graph, NodeKind, Residual, Role, SearchSpace, Slot, supernet_with,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::alphas::tensor_to_vec;
use super::bitmixer::{BitMixer, MixContext, MixMode};
use crate::nn::network::run_graph;
use crate::nn::{FixedParams, Network, ParamSlot, QConv};

/// Where a node's parameters live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuperParams {
    /// Index into [`Supernet::mixers`].
    Mixer(usize),
    /// Parameter-free, or fixed parameters (in [`Supernet::fixed`]) as in a child network.
    Fixed(ParamSlot),
}

/// Supernet weights (not the alphas, which live in [`super::alphas::Alphas`]).
#[derive(Module, Debug)]
pub struct Supernet {
    /// One mixer per slot instance, in graph order.
    pub mixers: Vec<BitMixer>,
    /// Fixed convs, batch norms and ADQ scalars.
    pub fixed: FixedParams,
    /// The supernet graph.
    #[module(skip)]
    pub graph: Graph,
    /// Per node, where its parameters are.
    #[module(skip)]
    pub params: Vec<SuperParams>,
}

impl Supernet {
    /// A supernet of `space` whose slots offer the candidates of `slots` (the space's own,
    /// or a restriction such as one op per slot for a bit-only search) with weights drawn
    /// from a generator seeded with `seed`.
    ///
    /// # Errors
    /// Candidates that are not the space's (see `SearchSpace::slots_with`), or a supernet
    /// graph without shapes at 32×32 (a broken invariant of `core`'s builders; batch-norm
    /// channel counts are read from those shapes).
    pub fn init(
        space: SearchSpace,
        residual: Residual,
        slots: &[Slot],
        ctx: &MixContext,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let candidates: Vec<_> = slots.iter().map(|s| s.candidates.clone()).collect();
        let graph = supernet_with(space, residual, &candidates)
            .with_context(|| format!("supernet of space {space}"))?;
        let shapes = graph
            .shapes(32, 32)
            .with_context(|| format!("supernet of space {space}"))?;
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut mixers, mut fixed) = (Vec::new(), FixedParams::empty());
        let mut params = Vec::with_capacity(graph.nodes.len());
        for node in &graph.nodes {
            // Mixers and fixed convs draw from one generator in graph order.
            let p = match &node.kind {
                NodeKind::Mixed(m) => {
                    mixers.push(BitMixer::init(m, ctx, &mut rng, device));
                    SuperParams::Mixer(mixers.len() - 1)
                }
                kind => SuperParams::Fixed(fixed.add(
                    kind,
                    &shapes,
                    |c| QConv::init(c, &mut rng, device),
                    device,
                )?),
            };
            params.push(p);
        }
        Ok(Supernet {
            mixers,
            fixed,
            graph,
            params,
        })
    }

    /// Runs the supernet with slot probabilities `probs` (one vector per slot).
    ///
    /// # Shapes
    /// `[n, 3, h, w] → [n, 3, 4h, 4w]`
    pub fn forward(&self, x: Tensor<4>, probs: &[Tensor<1>], ctx: &MixContext) -> Tensor<4> {
        run_graph(&self.graph, x, |i, ins| {
            let mut ins = ins.into_iter();
            let mut next = || {
                ins.next()
                    .unwrap_or_else(|| panic!("supernet node {i} has too few inputs"))
            };
            match self.params[i] {
                SuperParams::Mixer(k) => {
                    let m = &self.mixers[k];
                    m.forward(next(), probs[m.slot].clone(), ctx)
                }
                SuperParams::Fixed(p) => self
                    .fixed
                    .forward(p, &mut next)
                    .unwrap_or_else(|| panic!("supernet node {i} has no parameters")),
            }
        })
    }

    /// The child network of `genotype` with the supernet's weights: each slot takes the
    /// weights of its chosen op and the LSQ steps of its chosen bit width; fixed convs,
    /// batch norms and ADQ are copied. With one-hot alphas and no noise, the supernet and
    /// this child compute the same function in `shared`/`independent` modes; in `san` mode
    /// the child quantizes with the steps SAN's noise stands for (LSQ's initial rule on the
    /// current weights).
    pub fn child(&self, genotype: &Genotype, ctx: &MixContext, device: &Device) -> Result<Network> {
        let graph = genotype.graph();
        let mut net = Network::init(&graph, 0, device)?;
        // Slot instances appear in the same order in the supernet and the child graph.
        let mut instances = self.graph.nodes.iter().enumerate().filter_map(|(i, n)| {
            match (&n.kind, self.params[i]) {
                (NodeKind::Mixed(m), SuperParams::Mixer(k)) => Some((m.clone(), k)),
                _ => None,
            }
        });
        let mut fixed = self.fixed.convs.iter();
        let mut current: Option<(usize, usize, usize)> = None; // (mixer, op index, next conv)
        for (k, (_, node, conv)) in graph.convs().enumerate() {
            let (w, step) = match conv.role {
                Role::Slot { slot, op } => {
                    let (mixer, o, j) = match current {
                        Some((mx, o, j)) if j < self.mixers[mx].ops[o].convs.len() => (mx, o, j),
                        _ => {
                            let Some((m, mx)) = instances.next() else {
                                bail!("supernet has fewer slots than {}", node.name)
                            };
                            if m.slot != slot {
                                bail!("slot order differs at {}", node.name);
                            }
                            let Some(o) = m.candidates.iter().position(|c| *c == op) else {
                                bail!("{} is not a candidate of {}", op, node.name)
                            };
                            (mx, o, 0)
                        }
                    };
                    current = Some((mixer, o, j + 1));
                    let bi = ctx.bits.iter().position(|&b| b == conv.bits);
                    let Some(bi) = bi else {
                        bail!(
                            "{} uses {} bits, which were not searched",
                            node.name,
                            conv.bits
                        )
                    };
                    let (w, step) = self.mixers[mixer].conv_params(o, j, bi)?;
                    // SAN never trains the LSQ steps: its noise stands in for a quantizer
                    // with LSQ's initial step of the current weights, which `from_weights`
                    // computes.
                    (w, step.filter(|_| ctx.mode != MixMode::San))
                }
                Role::Fixed => {
                    let Some(q) = fixed.next() else {
                        bail!("supernet has fewer fixed convs than the child")
                    };
                    let w = tensor_to_vec(q.weight.val())?;
                    let s = q.steps().map(tensor_to_vec).transpose()?;
                    (w, s)
                }
            };
            let mut q = QConv::from_weights(conv, w, device);
            if let Some(s) = step {
                q.set_steps(&s, device);
            }
            net.fixed.convs[k] = q;
        }
        let (n, a) = (&self.fixed.norms, &self.fixed.adqs);
        if net.fixed.norms.len() != n.len() || net.fixed.adqs.len() != a.len() {
            bail!("the child's batch norms or ADQ nodes differ from the supernet's");
        }
        net.fixed.norms.clone_from(n);
        net.fixed.adqs.clone_from(a);
        Ok(net)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::search::alphas::{SearchBits, derive_genotype};
    use crate::search::bitmixer::{MixMode, SanDelta};
    use burn::tensor::Distribution;
    use quantnas_core::arch::Bits;

    fn one_hot_check(space: SearchSpace, mode: MixMode) {
        one_hot_check_over(space, &space.slots(), mode);
    }

    fn one_hot_check_over(space: SearchSpace, slots: &[Slot], mode: MixMode) {
        let d = Device::flex();
        let bits = SearchBits::parse("4,8").unwrap();
        let ctx = MixContext {
            mode,
            delta: SanDelta::Step,
            bits: bits.0.clone(),
            noise: false,
            rng: crate::search::noise::NoiseSource::new(0),
        };
        let net = Supernet::init(space, Residual::Adq, slots, &ctx, 5, &d).unwrap();
        // A mixed genotype: slot s picks candidate s mod |ops| at bit (s mod 2).
        let alphas: Vec<Vec<f32>> = slots
            .iter()
            .enumerate()
            .map(|(s, slot)| {
                let mut a = vec![0.0; slot.candidates.len() * 2];
                a[(s % slot.candidates.len()) * 2 + s % 2] = 1.0;
                a
            })
            .collect();
        let g = derive_genotype(space, Residual::Adq, slots, &bits, &alphas).unwrap();
        let probs: Vec<Tensor<1>> = alphas
            .iter()
            .map(|a| Tensor::<1>::from_floats(a.as_slice(), &d))
            .collect();
        let child = net.child(&g, &ctx, &d).unwrap();
        let x = Tensor::<4>::random([2, 3, 16, 16], Distribution::Uniform(0.0, 1.0), &d);
        let a = net
            .forward(x.clone(), &probs, &ctx)
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        let b = child.forward(x).into_data().try_into_vec::<f32>().unwrap();
        let max = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(max < 1e-4, "{space} {mode:?}: max |diff| {max}");
    }

    #[test]
    fn one_hot_supernet_equals_derived_child_basic() {
        one_hot_check(SearchSpace::BasicB, MixMode::Shared);
        one_hot_check(SearchSpace::BasicA, MixMode::Independent);
    }

    #[test]
    fn one_hot_bit_only_supernet_equals_derived_child() {
        // The two-fold baseline's second stage: each slot offers one op (a genotype's),
        // only the bit width is searched; its child has exactly those ops.
        let space = SearchSpace::BasicA;
        let found = Genotype::nth_candidates(space, Residual::Adq, 3, Bits::B32);
        let slots = space.slots_with(&found.chosen_ops()).unwrap();
        assert!(slots.iter().all(|s| s.candidates.len() == 1));
        one_hot_check_over(space, &slots, MixMode::Shared);
    }

    #[test]
    fn one_hot_supernet_equals_derived_child_rfdn() {
        one_hot_check(SearchSpace::Rfdn, MixMode::Shared);
    }
}
