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
    /// The slot it belongs to (index into the space's `slots()`), `None` for fixed layers.
    pub slot: Option<usize>,
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

/// `a · b`, or [`ArchError::SizeOverflow`] naming `what` at input `h`×`w`.
fn mul(
    a: u64,
    b: u64,
    h: usize,
    w: usize,
    what: impl FnOnce() -> String,
) -> Result<u64, ArchError> {
    a.checked_mul(b).ok_or_else(|| ArchError::SizeOverflow {
        height: h,
        width: w,
        what: what(),
    })
}

/// `a + b`, or [`ArchError::SizeOverflow`] naming `what` at input `h`×`w`.
fn add(a: u64, b: u64, h: usize, w: usize, what: &str) -> Result<u64, ArchError> {
    a.checked_add(b).ok_or_else(|| ArchError::SizeOverflow {
        height: h,
        width: w,
        what: String::from(what),
    })
}

/// Pixels of one output plane, in `u64` (a `usize` product wraps on 32-bit targets first).
fn pixels(s: crate::arch::Shape, h: usize, w: usize, node: &str) -> Result<u64, ArchError> {
    mul(s.h as u64, s.w as u64, h, w, || {
        format!("the output pixel count of `{node}`")
    })
}

/// Costs of `graph` on an LR input of `h`×`w`. Supernet slots are not counted.
///
/// # Errors
/// Those of [`Graph::shapes`], and [`ArchError::SizeOverflow`] when a MAC or BitOps count
/// (of a layer or the total) does not fit in `u64`.
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
                let name = &node.name;
                let per_pixel =
                    c.shape
                        .macs_per_pixel()
                        .ok_or_else(|| ArchError::SizeOverflow {
                            height: h,
                            width: w,
                            what: format!("the MACs per pixel of `{name}`"),
                        })?;
                let macs = mul(per_pixel, pixels(shapes[id], h, w, name)?, h, w, || {
                    format!("the MACs of `{name}`")
                })?;
                let bitops = mul(macs, c.bits.bitops_per_mac(), h, w, || {
                    format!("the BitOps of `{name}`")
                })?;
                let params = c.shape.weight_count() as u64;
                let (op, slot) = match c.role {
                    Role::Slot { op, slot } => (op.name(), Some(slot)),
                    Role::Fixed => (String::from("fixed"), None),
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
                    searchable: slot.is_some(),
                    slot,
                    params,
                    macs,
                    bitops,
                });
                report.params = add(report.params, params, h, w, "the parameter count")?;
                report.macs = add(report.macs, macs, h, w, "the total MACs")?;
                report.bitops = add(report.bitops, bitops, h, w, "the total BitOps")?;
            }
            // Channel counts come from the architecture, not the input size: no overflow.
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
///
/// # Errors
/// Those of [`Graph::shapes`], and [`ArchError::SizeOverflow`] when a MAC count does not
/// fit in `u64`.
pub fn slot_macs(graph: &Graph, h: usize, w: usize) -> Result<Vec<SlotMacs>, ArchError> {
    let shapes = graph.shapes(h, w)?;
    let mut out = Vec::new();
    for (id, n) in graph.nodes.iter().enumerate() {
        let NodeKind::Mixed(m) = &n.kind else {
            continue;
        };
        let pixels = pixels(shapes[id], h, w, &n.name)?;
        let op_macs = m
            .candidates
            .iter()
            .map(|op| {
                let what = || format!("the MACs of `{op}` in `{}`", n.name);
                let per_pixel = op.macs_per_pixel(m.cin, m.cout, m.width);
                mul(
                    per_pixel.ok_or_else(|| ArchError::SizeOverflow {
                        height: h,
                        width: w,
                        what: what(),
                    })?,
                    pixels,
                    h,
                    w,
                    what,
                )
            })
            .collect::<Result<_, _>>()?;
        out.push(SlotMacs {
            node: id,
            slot: m.slot,
            op_macs,
        });
    }
    Ok(out)
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
    fn overflowing_sizes_are_errors_naming_the_quantity() {
        use crate::arch::srresnet;
        // 2^32 × 2^32 pixels: the pixel count passes u64 (it used to wrap to 0 BitOps).
        let side = 1usize << 32;
        for g in [srresnet(Bits::B8), espcn(Bits::B8)] {
            let e = cost(&g, side, side).expect_err("overflow");
            assert!(
                matches!(&e, ArchError::SizeOverflow { height, what, .. }
                    if *height == side && what.contains("pixel count")),
                "{e}"
            );
            assert!(e.to_string().contains("4294967296×4294967296"), "{e}");
        }
        // 2^20 × 2^20: pixels fit, but a layer's BitOps (MACs · 64) do not.
        let e = cost(&srresnet(Bits::B8), 1 << 20, 1 << 20).expect_err("overflow");
        assert!(e.to_string().contains("overflows"), "{e}");
        let sn = supernet(SearchSpace::BasicB, Residual::Adq);
        assert!(matches!(
            slot_macs(&sn, side, side),
            Err(ArchError::SizeOverflow { .. })
        ));
        // A size just below the overflow still counts exactly.
        let r = cost(&espcn(Bits::B8), 1 << 12, 1 << 12).expect("cost");
        assert_eq!(r.macs, 37_056 << 24);
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
