//! Cost counting (spec §8): parameters, MACs and BitOps of a network at an LR input size,
//! with a per-layer breakdown, and the per-(slot, op) MACs the search penalty needs.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::arch::{ArchError, Graph, NodeId, NodeKind, Role};

/// LR input side at which BitOps are reported (spec §8).
pub const REPORT_LR_SIDE: usize = 32;

/// Cost of one convolution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerCost {
    /// Node name, e.g. `cell0.body1.conv0`.
    pub name: String,
    /// The op it belongs to (`simple_3x3`, …) or `fixed` for fixed layers.
    pub op: String,
    /// Kernel description, e.g. `3x3 36→36 /3`.
    pub kernel: String,
    /// Weight and activation bits.
    pub bits: u32,
    /// Whether the search penalty counts it (it belongs to a slot).
    pub searchable: bool,
    /// Weights.
    pub params: u64,
    /// Multiply-accumulates at this input size.
    pub macs: u64,
    /// MACs · bits².
    pub bitops: u64,
}

/// Totals and per-layer costs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostReport {
    /// LR input height.
    pub lr_height: usize,
    /// LR input width.
    pub lr_width: usize,
    /// Learnable parameters: conv weights, plus batch-norm affine (2 per channel) and
    /// ADQ's γ, β.
    pub params: u64,
    /// Total MACs.
    pub macs: u64,
    /// Total BitOps.
    pub bitops: u64,
    /// One entry per conv, in execution order.
    pub layers: Vec<LayerCost>,
}

/// Costs of `graph` on an LR input of `h`×`w`. Supernet slots are not counted.
pub fn cost(graph: &Graph, h: usize, w: usize) -> Result<CostReport, ArchError> {
    let shapes = graph.shapes(h, w)?;
    let mut report = CostReport {
        lr_height: h,
        lr_width: w,
        params: 0,
        macs: 0,
        bitops: 0,
        layers: Vec::new(),
    };
    for (id, node) in graph.nodes.iter().enumerate() {
        match &node.kind {
            NodeKind::Conv(c) => {
                let out = shapes[id];
                let macs = c.shape.macs_per_pixel() * (out.h * out.w) as u64;
                let bitops = macs * c.bits.bitops_per_mac();
                let params = c.shape.weight_count() as u64;
                let (op, searchable) = match c.role {
                    Role::Slot { op, .. } => (op.name(), true),
                    Role::Fixed => (String::from("fixed"), false),
                };
                let s = c.shape;
                let groups = if s.groups > 1 {
                    format!(" /{}", s.groups)
                } else {
                    String::new()
                };
                let stride = if c.stride > 1 {
                    format!(" s{}", c.stride)
                } else {
                    String::new()
                };
                report.layers.push(LayerCost {
                    name: node.name.clone(),
                    op,
                    kernel: format!("{}x{} {}→{}{groups}{stride}", s.kh, s.kw, s.cin, s.cout),
                    bits: c.bits.get(),
                    searchable,
                    params,
                    macs,
                    bitops,
                });
                report.params += params;
                report.macs += macs;
                report.bitops += bitops;
            }
            NodeKind::BatchNorm { .. } => report.params += 2 * shapes[id].c as u64,
            NodeKind::Adq { .. } => report.params += 2,
            _ => {}
        }
    }
    Ok(report)
}

/// BitOps at the reporting size (32×32 LR).
pub fn reported_bitops(graph: &Graph) -> Result<u64, ArchError> {
    Ok(cost(graph, REPORT_LR_SIDE, REPORT_LR_SIDE)?.bitops)
}

/// MACs of every candidate op of one supernet slot instance.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotMacs {
    /// The [`NodeKind::Mixed`] node.
    pub node: NodeId,
    /// Its slot (alpha) index.
    pub slot: usize,
    /// MACs of each candidate at the given input size, in candidate order.
    pub op_macs: Vec<u64>,
}

/// Per-candidate MACs of every supernet slot instance at an LR input of `h`×`w`, for the
/// BitOps penalty F(α) = Σ p·MACs·b² (spec §6).
pub fn slot_macs(graph: &Graph, h: usize, w: usize) -> Result<Vec<SlotMacs>, ArchError> {
    let shapes = graph.shapes(h, w)?;
    Ok(graph
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(id, n)| match &n.kind {
            NodeKind::Mixed(m) => {
                let pixels = (shapes[id].h * shapes[id].w) as u64;
                let op_macs = m
                    .candidates
                    .iter()
                    .map(|op| op.macs_per_pixel(m.cin, m.cout, m.width) * pixels)
                    .collect();
                Some(SlotMacs {
                    node: id,
                    slot: m.slot,
                    op_macs,
                })
            }
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{Bits, Genotype, Residual, SearchSpace, espcn, rfdn_genotype, supernet};

    #[test]
    fn espcn_matches_the_spec_sanity_figure() {
        let r = cost(&espcn(Bits::B8), 32, 32).expect("cost");
        assert_eq!(r.macs, 37_056 * 1024);
        assert_eq!(r.bitops, 37_056 * 1024 * 64);
        // 2.43·10^9 BitOps.
        assert_eq!(r.bitops / 10_000_000, 242);
        assert_eq!(r.layers.len(), 3);
        assert_eq!(r.params, 4800 + 18432 + 13824);
        assert_eq!(r.layers[0].kernel, "5x5 3→64");
    }

    #[test]
    fn supernet_slot_macs_bound_the_children() {
        let g = supernet(SearchSpace::BasicB, Residual::Adq);
        let sm = slot_macs(&g, 16, 16).expect("slot macs");
        assert_eq!(sm.len(), 14);
        // A child picking candidate 0 everywhere costs the sum of candidate-0 MACs.
        let child =
            Genotype::nth_candidates(SearchSpace::BasicB, Residual::Adq, 0, Bits::B4).graph();
        let r = cost(&child, 16, 16).expect("cost");
        assert_eq!(r.macs, sm.iter().map(|s| s.op_macs[0]).sum::<u64>());
        assert_eq!(r.bitops, r.macs * 16);
    }

    #[test]
    fn rfdn_counts_fixed_layers_too() {
        let r = cost(&rfdn_genotype(Bits::B4).graph(), 32, 32).expect("cost");
        assert!(r.layers.iter().any(|l| !l.searchable && l.bits == 8));
        let searchable: u64 = r
            .layers
            .iter()
            .filter(|l| l.searchable)
            .map(|l| l.bitops)
            .sum();
        assert!(searchable < r.bitops);
    }
}
