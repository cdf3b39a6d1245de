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

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(Vec::new()).is_nan());
    }
}
