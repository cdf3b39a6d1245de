//! Derivation under a BitOps budget.
//!
//! The spec's derivation is the argmax of every slot (§6). With a deployment budget
//! (`--max-gbitops`) an argmax genotype above it is made cheaper one slot at a time: each
//! round considers, for every slot, every cheaper (op, bit) candidate
//! and takes the move that gives up the least alpha per BitOps saved
//! (`(α_current − α_candidate) / ΔBitOps`, costs of the whole network at 32×32 LR from core's
//! counter, so the shared Basic cells count three times). A genotype within budget is
//! returned unchanged, so without a binding budget the result is the argmax.
//!
//! A cut after the search is a last resort: alphas are a poor guide to *which* slot to cut
//! (seed 2's search ended above 3 GBitOps with an undecided upsample conv, had it cut to
//! 4 bits and retrained 0.8 dB below the uncut network; ranking several budgeted
//! candidates by their inherited-weight validation PSNR did no better, see
//! `docs/pipeline-cpu/README.md`). So the search also raises the penalty while its argmax
//! is above the budget (`budget_feedback` in `run.rs`), moving the cost while the weights
//! can still follow, and no budget is set unless asked for.

use anyhow::{Result, bail};
use quantnas_core::arch::{Choice, Genotype, Slot};
use quantnas_core::cost::reported_bitops;

use super::alphas::SearchBits;

/// BitOps@32×32 of `g`.
fn bitops(g: &Genotype) -> Result<u64> {
    Ok(reported_bitops(&g.graph())?)
}

/// The alpha index of `choice` in its slot's ops×bits vector.
fn alpha_index(slot: &Slot, choice: Choice, bits: &SearchBits) -> Option<usize> {
    let op = slot.candidates.iter().position(|&o| o == choice.op)?;
    let b = bits.0.iter().position(|&b| b == choice.bits)?;
    Some(op * bits.len() + b)
}

/// One slot changed to a cheaper choice.
#[derive(Clone, Copy, Debug)]
struct Move {
    /// Alpha given up per BitOps saved.
    loss: f64,
    slot: usize,
    to: Choice,
    /// BitOps@32×32 after the move.
    cost: u64,
}

/// Every move of `g` (costing `cost`) to a cheaper searched choice, best (least alpha
/// given up per BitOps saved) first; ties keep slot and candidate order.
fn cheaper_moves(
    g: &Genotype,
    cost: u64,
    slots: &[Slot],
    bits: &SearchBits,
    alphas: &[Vec<f32>],
) -> Result<Vec<Move>> {
    let mut moves = Vec::new();
    for (s, slot) in slots.iter().enumerate() {
        let Some(cur) = alpha_index(slot, g.choices[s], bits) else {
            bail!("slot {} holds a choice the search did not have", slot.name);
        };
        for (i, &a) in alphas[s].iter().enumerate() {
            let to = Choice {
                op: slot.candidates[i / bits.len()],
                bits: bits.0[i % bits.len()],
            };
            let mut trial = g.clone();
            trial.choices[s] = to;
            let c = bitops(&trial)?;
            if c >= cost {
                continue;
            }
            let loss = f64::from(alphas[s][cur] - a).max(0.0) / (cost - c) as f64;
            moves.push(Move {
                loss,
                slot: s,
                to,
                cost: c,
            });
        }
    }
    moves.sort_by(|a, b| a.loss.total_cmp(&b.loss));
    Ok(moves)
}

/// Applies `m` to `g` and describes it as `slot: op@bits -> op@bits (G -> G GBitOps)`.
fn apply(g: &mut Genotype, m: Move, cost: u64, slots: &[Slot]) -> String {
    let from = g.choices[m.slot];
    g.choices[m.slot] = m.to;
    format!(
        "{}: {}@{} -> {}@{} ({:.3} -> {:.3} GBitOps)",
        slots[m.slot].name,
        from.op,
        from.bits,
        m.to.op,
        m.to.bits,
        cost as f64 / 1e9,
        m.cost as f64 / 1e9
    )
}

/// `start` (normally the argmax genotype) moved, slot by slot, to cheaper choices among the
/// searched ones (`slots`, whose candidates the alphas are laid out over) until its
/// BitOps@32×32 is at most `max_bitops`; also returns the moves made, as
/// `(slot name, from, to)` descriptions.
///
/// # Errors
/// When even the cheapest choice of every slot is above the budget, or a choice of `start`
/// is not in the alphas.
pub fn within_budget(
    start: &Genotype,
    slots: &[Slot],
    bits: &SearchBits,
    alphas: &[Vec<f32>],
    max_bitops: u64,
) -> Result<(Genotype, Vec<String>)> {
    let mut g = start.clone();
    let mut moves = Vec::new();
    let mut cost = bitops(&g)?;
    while cost > max_bitops {
        let Some(&m) = cheaper_moves(&g, cost, slots, bits, alphas)?.first() else {
            bail!(
                "no genotype of this space fits {:.3} GBitOps (the cheapest costs {:.3})",
                max_bitops as f64 / 1e9,
                cost as f64 / 1e9
            );
        };
        moves.push(apply(&mut g, m, cost, slots));
        cost = m.cost;
    }
    Ok((g, moves))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::search::alphas::derive_genotype;
    use quantnas_core::arch::{Bits, Residual, SearchSpace};

    /// Alphas over `slots` in which every slot prefers its last (op, bit) pair a little,
    /// and their argmax genotype.
    fn setup(slots: &[Slot]) -> (SearchBits, Vec<Vec<f32>>, Genotype) {
        let bits = SearchBits::parse("4,8").unwrap();
        let alphas: Vec<Vec<f32>> = slots
            .iter()
            .map(|s| {
                let n = s.candidates.len() * bits.len();
                (0..n).map(|i| i as f32 * 0.01).collect()
            })
            .collect();
        let argmax =
            derive_genotype(SearchSpace::BasicB, Residual::Adq, slots, &bits, &alphas).unwrap();
        (bits, alphas, argmax)
    }

    #[test]
    fn a_binding_budget_is_met_and_a_loose_one_changes_nothing() {
        let slots = SearchSpace::BasicB.slots();
        let (bits, alphas, argmax) = setup(&slots);
        let full = bitops(&argmax).unwrap();
        let (same, moves) = within_budget(&argmax, &slots, &bits, &alphas, full).unwrap();
        assert_eq!(same, argmax);
        assert!(moves.is_empty());
        let budget = full / 2;
        let (g, moves) = within_budget(&argmax, &slots, &bits, &alphas, budget).unwrap();
        assert!(bitops(&g).unwrap() <= budget);
        assert!(!moves.is_empty());
        // Only moved slots differ from the argmax (a slot may move twice), and the greedy
        // stops as soon as the budget is met: undoing the last move breaks it again.
        let changed = g
            .choices
            .iter()
            .zip(&argmax.choices)
            .filter(|(a, b)| a != b)
            .count();
        assert!(
            changed >= 1 && changed <= moves.len(),
            "{changed} vs {moves:?}"
        );
        assert!(changed < argmax.choices.len(), "{moves:?}");
        // Undo the last move (`slot: op@bits -> op@bits (…)`): the budget breaks again.
        let last = moves.last().unwrap();
        let (slot, rest) = last.split_once(": ").unwrap();
        let (from, _) = rest.split_once(" -> ").unwrap();
        let (op, b) = from.split_once('@').unwrap();
        let s = g.space.slots().iter().position(|x| x.name == slot).unwrap();
        let mut undone = g.clone();
        undone.choices[s] = Choice {
            op: op.parse().unwrap(),
            bits: Bits::new(b.parse().unwrap()).unwrap(),
        };
        assert_ne!(undone, g, "{last}");
        assert!(
            bitops(&undone).unwrap() > budget,
            "the greedy went past the budget: {last}"
        );
    }

    #[test]
    fn an_impossible_budget_is_an_error() {
        let slots = SearchSpace::BasicB.slots();
        let (bits, alphas, argmax) = setup(&slots);
        let err = within_budget(&argmax, &slots, &bits, &alphas, 1).unwrap_err();
        assert!(err.to_string().contains("no genotype"), "{err}");
    }

    #[test]
    fn over_fixed_ops_a_budget_moves_only_bit_widths() {
        let found = Genotype::nth_candidates(SearchSpace::BasicB, Residual::Adq, 2, Bits::B32);
        let slots = SearchSpace::BasicB.slots_with(&found.chosen_ops()).unwrap();
        let (bits, alphas, argmax) = setup(&slots);
        assert!(argmax.choices.iter().all(|c| c.bits == Bits::B8));
        let budget = bitops(&argmax).unwrap() * 3 / 4;
        let (g, moves) = within_budget(&argmax, &slots, &bits, &alphas, budget).unwrap();
        assert!(!moves.is_empty() && bitops(&g).unwrap() <= budget);
        for (c, f) in g.choices.iter().zip(&found.choices) {
            assert_eq!(c.op, f.op);
        }
        assert!(g.choices.iter().any(|c| c.bits == Bits::B4));
    }
}
