//! Architecture parameters: one alpha per (op, bit) pair of every slot (spec §2, §5).
//!
//! Slot s holds a vector of length |ops_s|·|B| laid out as `op·|B| + bit_index`,
//! initialised to zero (uniform mixture). The Basic body cells share their alphas, RFDN
//! cells have their own: both follow from `SearchSpace::slots()`, which lists shared slots
//! once.

use anyhow::{Result, anyhow, ensure};
use burn::module::{Module, Param};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, softmax};
use quantnas_core::arch::{Bits, Choice, Genotype, Residual, SearchSpace, Slot};

/// The bit widths searched over, in alpha order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchBits(pub Vec<Bits>);

impl SearchBits {
    /// Parses `4,8` style lists; widths must be core's ([`Bits::new`]) and distinct.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let mut bits = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let n: u32 = part
                .parse()
                .map_err(|_| anyhow::anyhow!("`{part}` in --bits is not a number"))?;
            let b = Bits::try_from(n).map_err(|e| anyhow::anyhow!("--bits: {e}"))?;
            anyhow::ensure!(!bits.contains(&b), "--bits lists {n} twice");
            bits.push(b);
        }
        anyhow::ensure!(!bits.is_empty(), "--bits needs at least one width");
        Ok(SearchBits(bits))
    }

    /// Number of widths.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false (a search has at least one width).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for SearchBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| b.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

/// One alpha vector per slot.
#[derive(Module, Debug)]
pub struct Alphas {
    /// `slots[s]` has length |ops_s|·|B|.
    pub slots: Vec<Param<Tensor<1>>>,
}

impl Alphas {
    /// Zero alphas for every slot of `slots` (a space's, or one restricted by
    /// [`SearchSpace::slots_with`]).
    pub fn zeros(slots: &[Slot], bits: &SearchBits, device: &Device) -> Self {
        let slots = slots
            .iter()
            .map(|s| Param::from_tensor(Tensor::zeros([s.candidates.len() * bits.len()], device)))
            .collect();
        Alphas { slots }
    }

    /// Softmax of every slot over its whole ops×bits vector.
    pub fn probs(&self) -> Vec<Tensor<1>> {
        self.slots.iter().map(|a| softmax(a.val(), 0)).collect()
    }

    /// Σ_slots H(p_slot) with H = −Σ p log p (scalar tensor).
    pub fn entropy(&self) -> Tensor<1> {
        let mut total: Option<Tensor<1>> = None;
        for a in &self.slots {
            let logp = log_softmax(a.val(), 0);
            let h = -(logp.clone().exp() * logp).sum();
            total = Some(match total {
                Some(t) => t + h,
                None => h,
            });
        }
        total.unwrap_or_else(|| Tensor::zeros([1], &Device::default()))
    }

    /// Raw alpha values per slot.
    ///
    /// # Errors
    /// See [`tensor_to_vec`].
    pub fn values(&self) -> Result<Vec<Vec<f32>>> {
        self.slots.iter().map(|a| tensor_to_vec(a.val())).collect()
    }

    /// Softmax probabilities per slot, as plain numbers.
    ///
    /// # Errors
    /// See [`tensor_to_vec`].
    pub fn prob_values(&self) -> Result<Vec<Vec<f32>>> {
        self.probs().into_iter().map(tensor_to_vec).collect()
    }
}

/// Copies a float tensor to the host, in row-major order.
///
/// # Errors
/// When burn cannot hand the values back as `f32`. Every tensor this crate reads is a float
/// tensor, so this is a broken invariant; it is an error rather than an empty vector
/// because an empty alpha vector made the derived genotype silently take candidate 0.
pub fn tensor_to_vec<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    let shape = t.dims();
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow!("cannot read a {shape:?} tensor back as f32: {e:?}"))
}

/// Index of the largest value, the first one on ties (a true argmax).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// The genotype of the argmax (op, bit) pair of every slot (spec §6 derivation); `slots`
/// are the searched ones (`space.slots()`, or a restriction of them).
///
/// # Errors
/// When `alphas` does not hold one vector per slot of `slots`, each of length
/// candidates · |bits|, or holds a value that is not finite: `argmax` would otherwise
/// answer candidate 0 for an empty or NaN vector and the genotype would look valid.
pub fn derive_genotype(
    space: SearchSpace,
    residual: Residual,
    slots: &[Slot],
    bits: &SearchBits,
    alphas: &[Vec<f32>],
) -> Result<Genotype> {
    ensure!(
        alphas.len() == slots.len(),
        "{} alpha vectors for the {} slots of space {space}",
        alphas.len(),
        slots.len()
    );
    let choices = slots
        .iter()
        .zip(alphas)
        .map(|(slot, a)| {
            let want = slot.candidates.len() * bits.len();
            ensure!(
                a.len() == want,
                "slot `{}` has {} alphas, expected {want} ({} ops × {} widths)",
                slot.name,
                a.len(),
                slot.candidates.len(),
                bits.len()
            );
            ensure!(
                a.iter().all(|v| v.is_finite()),
                "slot `{}` has a non-finite alpha: {a:?}",
                slot.name
            );
            let i = argmax(a);
            Ok(Choice {
                op: slot.candidates[i / bits.len()],
                bits: bits.0[i % bits.len()],
            })
        })
        .collect::<Result<_>>()?;
    Ok(Genotype {
        space,
        residual,
        choices,
    })
}

/// Mean over slots of the largest softmax probability: 1/|choices| for uniform alphas,
/// 1 when every slot has decided.
pub fn decisiveness(probs: &[Vec<f32>]) -> f64 {
    if probs.is_empty() {
        return 0.0;
    }
    let sum: f64 = probs
        .iter()
        .map(|p| p.iter().copied().fold(0.0f32, f32::max) as f64)
        .sum();
    sum / probs.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argmax_is_true_and_ties_go_first() {
        assert_eq!(argmax(&[0.0, 0.0, 0.0]), 0);
        assert_eq!(argmax(&[0.1, 0.3, 0.3, -1.0]), 1);
        assert_eq!(argmax(&[-5.0, -4.0]), 1);
    }

    #[test]
    fn derivation_reads_op_and_bits_from_the_joint_index() {
        let bits = SearchBits::parse("4,8").expect("bits");
        let space = SearchSpace::BasicB;
        let mut alphas: Vec<Vec<f32>> = space
            .slots()
            .iter()
            .map(|s| vec![0.0; s.candidates.len() * 2])
            .collect();
        alphas[0][3] = 1.0; // op 1 (simple_5x5), bit index 1 (8)
        alphas[5][4] = 0.5; // op 2 of upsample (simple_3x3), 4 bits
        let g = derive_genotype(space, Residual::Adq, &space.slots(), &bits, &alphas)
            .expect("genotype");
        assert_eq!(g.choices[0].op.name(), "simple_5x5");
        assert_eq!(g.choices[0].bits, Bits::B8);
        assert_eq!(g.choices[5].op.name(), "simple_3x3");
        assert_eq!(g.choices[5].bits, Bits::B4);
        assert_eq!(g.choices[1].op, space.slots()[1].candidates[0]);
        assert!(g.validate().is_ok());
        // What a failed tensor read or a diverged search would hand it: errors, not
        // candidate 0.
        let mut short = alphas.clone();
        short[2].clear();
        let e = derive_genotype(space, Residual::Adq, &space.slots(), &bits, &short)
            .expect_err("empty");
        assert!(e.to_string().contains(&space.slots()[2].name), "{e}");
        let mut nan = alphas.clone();
        nan[1][0] = f32::NAN;
        assert!(derive_genotype(space, Residual::Adq, &space.slots(), &bits, &nan).is_err());
        assert!(
            derive_genotype(space, Residual::Adq, &space.slots(), &bits, &alphas[1..]).is_err()
        );
    }

    #[test]
    fn host_copies_hold_the_tensor_values() {
        let device = Device::flex();
        let bits = SearchBits::parse("4,8").expect("bits");
        let a = Alphas::zeros(&SearchSpace::BasicB.slots(), &bits, &device);
        let values = a.values().expect("values");
        let probs = a.prob_values().expect("probs");
        for ((v, p), slot) in values.iter().zip(&probs).zip(SearchSpace::BasicB.slots()) {
            let n = slot.candidates.len() * 2;
            assert_eq!(v, &vec![0.0; n]);
            assert!(
                p.iter().all(|&x| (x - 1.0 / n as f32).abs() < 1e-6),
                "{p:?}"
            );
        }
        let t = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
        assert_eq!(tensor_to_vec(t).expect("read"), [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn bits_lists_are_validated() {
        assert_eq!(
            SearchBits::parse("4, 8").expect("ok").0,
            vec![Bits::B4, Bits::B8]
        );
        assert!(SearchBits::parse("4,4").is_err());
        assert_eq!(
            SearchBits::parse("2,3").expect("ok").0,
            vec![Bits::B2, Bits::B3]
        );
        let e = SearchBits::parse("5").unwrap_err().to_string();
        assert!(
            e.contains("bit width 5 is not one of 2, 3, 4, 8, 32"),
            "{e}"
        );
        assert!(SearchBits::parse("").is_err());
    }

    #[test]
    fn entropy_of_uniform_alphas_is_log_n() {
        let device = Device::flex();
        let bits = SearchBits::parse("4,8").expect("bits");
        let a = Alphas::zeros(&SearchSpace::BasicB.slots(), &bits, &device);
        let h: f32 = a.entropy().into_scalar::<f32>();
        let want: f64 = SearchSpace::BasicB
            .slots()
            .iter()
            .map(|s| ((s.candidates.len() * 2) as f64).ln())
            .sum();
        assert!((h as f64 - want).abs() < 1e-4, "{h} vs {want}");
        let d = decisiveness(&a.prob_values().expect("probs"));
        assert!(d > 0.12 && d < 0.17, "{d}");
    }
}
