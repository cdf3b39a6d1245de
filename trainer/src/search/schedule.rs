//! The entropy-regularisation schedule μ(t) of the alpha loss (spec §6).
//!
//! For epoch e of E: q = ⌊E/4⌋, w1 = e/(E−1), w2 = 0 before q, else log_{E−q+1}(e−q+2),
//! μ = coef·w1·w2. The regulariser stays off for the first quarter (the supernet must first
//! learn which ops are useful), then grows to push every slot towards one (op, bit) pair.

/// μ(e)/coef for epoch `e` of `epochs` (the shape of the curve, in [0, 1]).
pub fn entropy_weight(e: usize, epochs: usize) -> f64 {
    if epochs < 2 {
        return 1.0;
    }
    let q = epochs / 4;
    let w1 = e as f64 / (epochs - 1) as f64;
    let w2 = if e < q {
        0.0
    } else {
        ((e - q + 2) as f64).ln() / ((epochs - q + 1) as f64).ln()
    };
    w1 * w2
}

/// The same curve over a run counted in iterations: iteration `it` of `total` is mapped to
/// the fractional epoch `it/total · (E−1)` of a virtual `epochs`-epoch run, so a short
/// preset keeps the paper's shape (off for the first quarter, then rising to 1).
pub fn entropy_weight_at(it: usize, total: usize, epochs: usize) -> f64 {
    if total <= 1 || epochs < 2 {
        return entropy_weight(epochs.saturating_sub(1), epochs);
    }
    let pos = it as f64 / (total - 1) as f64 * (epochs - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(epochs - 1);
    let t = pos - lo as f64;
    entropy_weight(lo, epochs) * (1.0 - t) + entropy_weight(hi, epochs) * t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_epochs_match_the_spec() {
        let expected = [
            0.0, 0.0, 0.070, 0.167, 0.280, 0.407, 0.544, 0.689, 0.841, 1.0,
        ];
        for (e, want) in expected.iter().enumerate() {
            let got = entropy_weight(e, 10);
            assert!((got - want).abs() < 5e-4, "epoch {e}: {got} vs {want}");
        }
    }

    #[test]
    fn iteration_curve_follows_the_epoch_curve() {
        assert_eq!(entropy_weight_at(0, 1000, 10), 0.0);
        assert!((entropy_weight_at(999, 1000, 10) - 1.0).abs() < 1e-12);
        let mid = entropy_weight_at(333, 1000, 10); // epoch position ≈ 3.0
        assert!((mid - entropy_weight(3, 10)).abs() < 0.01, "{mid}");
        let mut prev = 0.0;
        for it in 0..1000 {
            let w = entropy_weight_at(it, 1000, 10);
            assert!(w >= prev - 1e-12);
            prev = w;
        }
    }
}
