//! Small statistics shared by the benchmarks.

/// The median (mean of the middle two for an even count); NaN for none.
///
/// The benchmarks report the median of per-round ratios: machine noise moves whole
/// rounds, the ratio to a reference timed in the same round cancels most of it, and the
/// median ignores the odd disturbed round.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A distribution-free 95 % confidence interval for the median of the population `v` was
/// drawn from: the order statistics `(v_(j), v_(n+1−j))` with the largest `j` for which
/// `P(Binomial(n, ½) < j) ≤ 2.5 %`. It assumes only independent draws (rounds of a
/// benchmark), no distribution. `None` below 6 values, where no such `j` exists.
pub fn median_ci95(mut v: Vec<f64>) -> Option<(f64, f64)> {
    let n = v.len();
    // P(Bin(n, ½) ≤ k) by summing the pmf in f64 (n is a benchmark's round count).
    let mut pmf = 0.5f64.powi(i32::try_from(n).ok()?);
    let mut below = 0.0;
    let mut j = 0;
    for k in 0..n {
        // Here `below` is P(X < k); the interval may use rank k + 1 while it stays ≤ 2.5 %.
        if below + pmf > 0.025 {
            break;
        }
        below += pmf;
        pmf *= (n - k) as f64 / (k + 1) as f64;
        j = k + 1;
    }
    if j == 0 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some((v[j - 1], v[n - j]))
}

#[cfg(test)]
mod tests {
    use super::{median, median_ci95};

    #[test]
    fn median_ci_uses_the_binomial_ranks() {
        // n = 6: P(X ≤ 0) = 1/64 ≤ 2.5 %, P(X ≤ 1) = 7/64 > 2.5 %: the extremes.
        let v: Vec<f64> = (1..=6).map(f64::from).collect();
        assert_eq!(median_ci95(v), Some((1.0, 6.0)));
        assert_eq!(median_ci95(vec![1.0; 5]), None);
        // n = 20: the tabulated ranks are the 6th and the 15th value.
        let v: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        assert_eq!(median_ci95(v), Some((6.0, 15.0)));
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
