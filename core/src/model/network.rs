//! A deployable model: an architecture, its parameters and free-form metadata.

use alloc::string::String;
use alloc::vec::Vec;

use crate::arch::{Arch, Bits, Graph, NodeId};
use crate::cost::{CostReport, cost};

use super::error::ModelError;
use super::params::{ConvParams, NodeParams, ParamSpec, check_params, param_specs};

/// A trained network ready for inference: what the trainer exports and the engine runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// Free human name (e.g. `basic-b-mixed-eta1e-4`).
    pub name: String,
    /// The architecture (a genotype or a fixed network).
    pub arch: Arch,
    /// Free-form metadata (training run, dataset, PSNR...), kept as JSON.
    pub meta: serde_json::Value,
    /// One entry per node of `arch.graph()` that has parameters (convs, batch norms,
    /// ADQ nodes), in graph order.
    pub params: Vec<NodeParams>,
}

/// Bit width of one conv layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerBits {
    /// Node name.
    pub name: String,
    /// Bit width.
    pub bits: Bits,
}

impl Model {
    /// The parameter nodes of this model's graph and what each needs.
    pub fn specs(&self) -> Result<Vec<(NodeId, ParamSpec)>, ModelError> {
        param_specs(&self.arch.graph())
    }

    /// Checks that the parameters fit the architecture: one entry per parameter node, of
    /// the right kind and bit width, every tensor of the right length, every code in range
    /// and every value finite.
    pub fn validate(&self) -> Result<(), ModelError> {
        let graph = self.arch.graph();
        let specs = param_specs(&graph)?;
        if specs.len() != self.params.len() {
            return Err(ModelError::RecordCount {
                expected: specs.len(),
                got: self.params.len() as u64,
            });
        }
        for ((id, spec), params) in specs.iter().zip(&self.params) {
            check_params(&graph.nodes[*id].name, spec, params)?;
        }
        Ok(())
    }

    /// Bit width of every conv, in graph order.
    pub fn layer_bits(&self) -> Vec<LayerBits> {
        self.arch
            .graph()
            .convs()
            .map(|(_, node, conv)| LayerBits {
                name: node.name.clone(),
                bits: conv.bits,
            })
            .collect()
    }

    /// Parameters, MACs, BitOps and the per-layer breakdown for an LR input of `h`×`w`.
    pub fn cost(&self, h: usize, w: usize) -> Result<CostReport, ModelError> {
        Ok(cost(&self.arch.graph(), h, w)?)
    }

    /// The network graph.
    pub fn graph(&self) -> Graph {
        self.arch.graph()
    }

    /// The same network with every layer the architecture lets go to 32 bits run in
    /// `f32` on its dequantized weights (`code·step`): the engine's own float baseline for
    /// timing the integer path on the same weights and MACs (benches run it with
    /// `Engine::with_float_sums(FloatSums::F32)`, the fast float kernel). Layers the
    /// architecture fixes at 8 bits (RFDN's ESA and fusion convs) stay quantized.
    pub fn float_twin(&self) -> Result<Model, ModelError> {
        let arch = match &self.arch {
            Arch::Genotype { genotype } => {
                let mut genotype = genotype.clone();
                genotype.choices.iter_mut().for_each(|c| c.bits = Bits::B32);
                Arch::Genotype { genotype }
            }
            Arch::Espcn { .. } => Arch::Espcn { bits: Bits::B32 },
            Arch::SrResNet { .. } => Arch::SrResNet { bits: Bits::B32 },
            Arch::Rfdn { .. } => Arch::Rfdn { bits: Bits::B32 },
        };
        let specs = param_specs(&arch.graph())?;
        let params = specs
            .iter()
            .zip(&self.params)
            .map(|((_, spec), p)| match (spec, p) {
                (ParamSpec::Conv { bits, .. }, NodeParams::Conv(c)) if !bits.is_quantized() => {
                    NodeParams::Conv(ConvParams::Float {
                        weights: c.dequantized(),
                    })
                }
                _ => p.clone(),
            })
            .collect();
        let twin = Model {
            name: alloc::format!("{} (f32 twin)", self.name),
            arch,
            meta: self.meta.clone(),
            params,
        };
        twin.validate()?;
        Ok(twin)
    }
}
