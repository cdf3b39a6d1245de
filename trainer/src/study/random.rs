//! The random-search baseline (spec §9): a random op and bit width in every slot of a
//! search space, drawn again until the network's BitOps are close to a target; the
//! network is then retrained exactly as a searched one (the pipeline's retraining).

use anyhow::{Result, bail};
use quantnas_core::arch::{Bits, Choice, Genotype, Residual, SearchSpace};
use quantnas_core::cost::{REPORT_LR_SIDE, cost};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Most genotypes drawn for one target.
pub const MAX_DRAWS: usize = 20_000;

/// A draw whose BitOps are within this relative distance of the target is taken at once.
pub const TOLERANCE: f64 = 0.02;

/// A draw farther than this from the target (relative) after [`MAX_DRAWS`] is refused:
/// the target is outside what the space reaches.
pub const REFUSE: f64 = 0.15;

/// Mixes the seed so that the draws do not share a stream with the run's weights.
const STREAM: u64 = 0x7261_6e64_6f6d_0001;

/// Draws genotypes of `space` (every slot a uniformly random candidate op at a uniformly
/// random width of `bits`) with `seed` until one costs within [`TOLERANCE`] of
/// `target_gbitops` at 32×32 LR, and returns the first such draw, or the closest of
/// [`MAX_DRAWS`] (by the ratio of BitOps to the target).
///
/// # Errors
/// No bit widths, a non-positive target, or none of the draws within [`REFUSE`] of it.
pub fn sample(
    space: SearchSpace,
    residual: Residual,
    bits: &[Bits],
    target_gbitops: f64,
    seed: u64,
) -> Result<Genotype> {
    if bits.is_empty() {
        bail!("no bit widths to draw from");
    }
    if !(target_gbitops > 0.0 && target_gbitops.is_finite()) {
        bail!("target_gbitops must be positive, got {target_gbitops}");
    }
    let slots = space.slots();
    let mut rng = StdRng::seed_from_u64(seed ^ STREAM);
    let mut best: Option<(f64, f64, Genotype)> = None;
    for _ in 0..MAX_DRAWS {
        let choices = slots
            .iter()
            .map(|s| Choice {
                op: s.candidates[rng.random_range(0..s.candidates.len())],
                bits: bits[rng.random_range(0..bits.len())],
            })
            .collect();
        let g = Genotype {
            space,
            residual,
            choices,
        };
        let gbitops = cost(&g.graph(), REPORT_LR_SIDE, REPORT_LR_SIDE)?.bitops as f64 / 1e9;
        let miss = (gbitops / target_gbitops).ln().abs();
        if best.as_ref().is_none_or(|(m, _, _)| miss < *m) {
            best = Some((miss, gbitops, g));
        }
        if miss <= TOLERANCE.ln_1p() {
            break;
        }
    }
    match best {
        Some((miss, _, g)) if miss <= REFUSE.ln_1p() => Ok(g),
        Some((_, gbitops, _)) => bail!(
            "no random {space} genotype within {:.0} % of {target_gbitops} GBitOps in {MAX_DRAWS} draws (closest {gbitops:.3})",
            REFUSE * 100.0
        ),
        None => bail!("no draws"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn draws_hit_the_target_and_follow_the_seed() {
        let bits = [Bits::B4, Bits::B8];
        let g = sample(SearchSpace::BasicB, Residual::Adq, &bits, 2.5, 1).unwrap();
        g.validate().unwrap();
        let b = cost(&g.graph(), 32, 32).unwrap().bitops as f64 / 1e9;
        assert!((b / 2.5 - 1.0).abs() <= TOLERANCE + 1e-9, "{b}");
        assert_eq!(
            g,
            sample(SearchSpace::BasicB, Residual::Adq, &bits, 2.5, 1).unwrap()
        );
        let other = sample(SearchSpace::BasicB, Residual::Adq, &bits, 2.5, 2).unwrap();
        assert_ne!(g, other);
        assert!(sample(SearchSpace::BasicB, Residual::Adq, &bits, 1e6, 1).is_err());
    }
}
