//! Standard-normal samples by Marsaglia & Tsang's ziggurat (J. Stat. Software 5(8), 2000).
//!
//! The area under the half density `f(x) = exp(−x²/2)` is covered by 128 horizontal layers
//! of equal area: 127 rectangles stacked on a base made of the rectangle `[0, r]·[0, f(r)]`
//! plus the tail beyond `r`. A sample picks a layer and a point along it from one 32-bit
//! word; ≈ 98.8 % of words land where the layer lies wholly under the curve and give a
//! sample with one multiply, no logarithm or square root. The rest fall in a layer's
//! "wedge" (accepted against `f` itself, or the word is discarded) or in the tail
//! (Marsaglia's exponential rejection). The result is exact up to the 24-bit resolution of
//! the point along a layer.
//!
//! The tables are computed once, in f64, from the published constants for 128 layers; they
//! round to f32 (and 24-bit integers) the same way on every IEEE machine unless the
//! platform's f64 `exp`/`ln` differ by an ulp exactly at a rounding boundary.

use std::sync::OnceLock;

/// Number of layers (a power of two: the layer index is 7 bits of the word).
const LAYERS: usize = 128;
/// Right edge of the base rectangle for 128 layers.
const R: f64 = 3.442_619_855_899;
/// Area of every layer, in units of the unnormalised density `exp(−x²/2)`.
const V: f64 = 9.912_563_035_262_17e-3;
/// Scale of the 24-bit point along a layer.
const ONE_24: f64 = (1u32 << 24) as f64;

/// Per-layer constants of the ziggurat.
struct Tables {
    /// `x[i+1]/x[i]` in 24-bit fixed point: a point `u < accept[i]` lies under the curve.
    accept: [u32; LAYERS],
    /// `x[i]/2^24`: the sample for the 24-bit point `u` is `u·width[i]`.
    width: [f32; LAYERS],
    /// `f(x[i])` for `i = 0..=LAYERS` (`x[LAYERS] = 0`, so the last is 1): a layer's
    /// vertical extent, for the wedge test.
    height: [f32; LAYERS + 1],
}

fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        // x[0] is the width of a rectangle of height f(r) with the base layer's area, so
        // that the base layer is sampled like the others; x[1] = r; each next edge is where
        // the layer above the previous one, of area V, meets the curve.
        let mut x = [0.0f64; LAYERS + 1];
        x[0] = V / density(R);
        x[1] = R;
        for i in 1..LAYERS - 1 {
            x[i + 1] = (-2.0 * (V / x[i] + density(x[i])).ln()).sqrt();
        }
        x[LAYERS] = 0.0;
        let mut t = Tables {
            accept: [0; LAYERS],
            width: [0.0; LAYERS],
            height: [0.0; LAYERS + 1],
        };
        for i in 0..LAYERS {
            t.accept[i] = (x[i + 1] / x[i] * ONE_24) as u32;
            t.width[i] = (x[i] / ONE_24) as f32;
        }
        for (h, &xi) in t.height.iter_mut().zip(&x) {
            *h = density(xi) as f32;
        }
        t
    })
}

/// A uniform in the open interval (0, 1) from the top 24 bits of `bits`.
fn open_unit(bits: u64) -> f32 {
    ((bits >> 40) as f32 + 0.5) * (1.0 / (1u32 << 24) as f32)
}

/// Fills `out` with standard-normal samples, taking 64 random bits at a time from `next`.
pub fn fill_normal(out: &mut [f32], mut next: impl FnMut() -> u64) {
    let t = tables();
    let mut i = 0;
    while i < out.len() {
        let bits = next();
        let words = [(bits >> 32) as u32, bits as u32];
        // The common case (≈ 97.6 %): both words under the curve, no branch per word.
        if let (Some(pair), Some(a), Some(b)) =
            (out.get_mut(i..i + 2), t.quick(words[0]), t.quick(words[1]))
        {
            pair[0] = a;
            pair[1] = b;
            i += 2;
            continue;
        }
        for word in words {
            if i == out.len() {
                break;
            }
            if let Some(z) = t.quick(word).or_else(|| t.slow(word, &mut next)) {
                out[i] = z;
                i += 1;
            }
        }
    }
}

impl Tables {
    /// The sample of `word` if its point lies where its layer is wholly under the curve.
    #[inline(always)]
    fn quick(&self, word: u32) -> Option<f32> {
        let (layer, u, sign) = decode(word);
        (u < self.accept[layer])
            .then(|| f32::from_bits((u as f32 * self.width[layer]).to_bits() | sign))
    }

    /// The sample of a `word` that [`Tables::quick`] refused: from the tail for the base
    /// layer, else the point if it is under the curve in its layer's wedge (`None`: the
    /// word is discarded).
    #[cold]
    fn slow(&self, word: u32, next: &mut impl FnMut() -> u64) -> Option<f32> {
        let (layer, u, sign) = decode(word);
        let magnitude = if layer == 0 {
            tail(next)
        } else {
            let x = u as f32 * self.width[layer];
            let (lo, hi) = (self.height[layer], self.height[layer + 1]);
            let y = lo + open_unit(next()) * (hi - lo);
            if y >= (-0.5 * x * x).exp() {
                return None;
            }
            x
        };
        Some(f32::from_bits(magnitude.to_bits() | sign))
    }
}

/// A word's layer (top 7 bits), 24-bit point along the layer (low 24 bits), and sign, moved
/// to f32's sign position so that it is applied with an OR (a branch on it would be
/// mispredicted every other sample). High bits give the layer and the sign: xoshiro256+'s
/// weakest bits, the lowest, only touch the last bits of the point.
#[inline(always)]
fn decode(word: u32) -> (usize, u32, u32) {
    (
        (word >> 25) as usize,
        word & 0xFF_FFFF,
        (word & (1 << 24)) << 7,
    )
}

/// A sample from the normal tail beyond `r` (Marsaglia 1964): `r + a` with `a`
/// exponential of rate `r`, accepted with probability `exp(−a²/2)`.
fn tail(next: &mut impl FnMut() -> u64) -> f32 {
    let r = R as f32;
    loop {
        let a = -open_unit(next()).ln() / r;
        let b = -open_unit(next()).ln();
        if 2.0 * b > a * a {
            return r + a;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_have_equal_area_and_close_at_zero() {
        // Recomputing the edges from the constants: the last layer must end at x ≈ 0 with
        // height ≈ 1, and the base layer's area (rectangle + tail) must equal V.
        let t = tables();
        let x: Vec<f64> = t.width.iter().map(|&w| w as f64 * ONE_24).collect();
        let top = x[LAYERS - 1] * (1.0 - density(x[LAYERS - 1]));
        assert!((top - V).abs() < 1e-3 * V, "top layer area {top} vs {V}");
        // ∫_r^∞ exp(−x²/2) by the midpoint rule.
        let h = 1e-4;
        let tail: f64 = (0..200_000)
            .map(|k| density(R + (k as f64 + 0.5) * h) * h)
            .sum();
        let base = R * density(R) + tail;
        assert!((base - V).abs() < 1e-6, "base layer area {base} vs {V}");
        assert!(t.accept.iter().all(|&a| a < 1 << 24));
        assert_eq!(t.height[LAYERS], 1.0);
    }
}
