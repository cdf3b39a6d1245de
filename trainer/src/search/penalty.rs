//! The hardware penalty L_hw = F(α)/F0 (spec §6, paper eq. 8).
//!
//! F(α) = Σ_slot-instances Σ_ops Σ_b p_{o,b}·MACs_o·b². Shared slots (the Basic body cells)
//! add their instances' MACs into one cost vector per alpha vector, so F is a sum of dot
//! products p_s·c_s. F0 is F at uniform alphas, a constant.

use burn::prelude::*;
use quantnas_core::arch::{ArchError, Graph};
use quantnas_core::cost::slot_macs;

use super::alphas::SearchBits;

/// Per-slot cost vectors, normalised by F0.
#[derive(Clone, Debug)]
pub struct BitOpsPenalty {
    /// `costs[s][o·|B|+b]` = Σ_instances MACs·b² of slot s, in BitOps.
    pub costs: Vec<Vec<f64>>,
    /// F at uniform alphas.
    pub f0: f64,
}

impl BitOpsPenalty {
    /// Cost vectors of a supernet `graph` with `n_slots` alpha vectors at an LR input size.
    pub fn new(
        graph: &Graph,
        n_slots: usize,
        bits: &SearchBits,
        h: usize,
        w: usize,
    ) -> Result<Self, ArchError> {
        let mut costs: Vec<Vec<f64>> = vec![Vec::new(); n_slots];
        for inst in slot_macs(graph, h, w)? {
            let c = &mut costs[inst.slot];
            if c.is_empty() {
                *c = vec![0.0; inst.op_macs.len() * bits.len()];
            }
            for (o, &macs) in inst.op_macs.iter().enumerate() {
                for (bi, b) in bits.0.iter().enumerate() {
                    c[o * bits.len() + bi] += macs as f64 * b.bitops_per_mac() as f64;
                }
            }
        }
        let f0 = costs
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| c.iter().sum::<f64>() / c.len() as f64)
            .sum();
        Ok(BitOpsPenalty { costs, f0 })
    }

    /// F(α) in BitOps for given probabilities (host side, for logs).
    pub fn expected_bitops(&self, probs: &[Vec<f32>]) -> f64 {
        self.costs
            .iter()
            .zip(probs)
            .map(|(c, p)| c.iter().zip(p).map(|(c, &p)| c * p as f64).sum::<f64>())
            .sum()
    }

    /// L_hw = F(α)/F0 as a differentiable scalar.
    pub fn loss(&self, probs: &[Tensor<1>], device: &Device) -> Tensor<1> {
        let mut total: Option<Tensor<1>> = None;
        for (c, p) in self.costs.iter().zip(probs) {
            if c.is_empty() {
                continue;
            }
            let scaled: Vec<f32> = c.iter().map(|v| (v / self.f0) as f32).collect();
            let ct = Tensor::<1>::from_floats(scaled.as_slice(), device);
            let term = (p.clone() * ct).sum();
            total = Some(match total {
                Some(t) => t + term,
                None => term,
            });
        }
        total.unwrap_or_else(|| Tensor::zeros([1], device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::alphas::Alphas;
    use burn::module::Param;
    use burn::optim::GradientsParams;
    use quantnas_core::arch::{Residual, SearchSpace, supernet};

    #[test]
    fn uniform_alphas_give_one_and_gradient_lowers_expensive_pairs() {
        let device = Device::flex().autodiff();
        let bits = SearchBits::parse("4,8").expect("bits");
        let space = SearchSpace::BasicB;
        let graph = supernet(space, Residual::Adq);
        let pen = BitOpsPenalty::new(&graph, space.slots().len(), &bits, 16, 16).expect("penalty");
        let alphas = Alphas::zeros(&space.slots(), &bits, &device);
        let alphas = Alphas {
            slots: alphas
                .slots
                .into_iter()
                .map(|p| Param::from_tensor(p.val().require_grad()))
                .collect(),
        };
        let loss = pen.loss(&alphas.probs(), &device);
        let v: f32 = loss.clone().into_scalar::<f32>();
        assert!((v - 1.0).abs() < 1e-5, "{v}");
        let grads = GradientsParams::from_grads(loss.backward(), &alphas);
        // Slot 0 (head.h1): simple_5x5 at 8 bits is the most expensive pair, simple_3x3_grouped_3
        // at 4 bits the cheapest. Gradient descent lowers alphas with positive gradient.
        let g: Tensor<1> = grads.get::<1>(alphas.slots[0].id).expect("grad");
        let g = crate::search::alphas::tensor_to_vec(g).unwrap();
        let c = &pen.costs[0];
        let (hi, lo) = (
            c.iter()
                .enumerate()
                .fold(0, |m, (i, &v)| if v > c[m] { i } else { m }),
            c.iter()
                .enumerate()
                .fold(0, |m, (i, &v)| if v < c[m] { i } else { m }),
        );
        assert_eq!((hi, lo), (3, 4));
        assert!(g[hi] > 0.0 && g[lo] < 0.0, "{g:?}");
        assert!(g[hi] > g.iter().copied().fold(f32::MIN, f32::max) - 1e-9);
    }
}
