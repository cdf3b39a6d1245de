//! Limits on a user's image, shared by the programs that upscale one: the web page (through
//! the wasm bindings) and `trainer upscale`. Each bounds the memory one request can take,
//! so that a hostile or mistaken input (a 30000-pixel PNG) is refused with a message
//! instead of exhausting the 4 GiB of a wasm instance.

use crate::arch::SCALE;
use crate::metrics::min_scored_side;

/// Largest image file read, in bytes (a PNG of the largest benchmark image is ~12 MB).
pub const MAX_INPUT_BYTES: usize = 40 << 20;

/// Upscale mode: largest input side, so the ×4 output is at most 2048×2048.
pub const MAX_UPSCALE_SIDE: usize = 512;

/// Benchmark mode: largest ground-truth side; its LR input is at most
/// [`MAX_UPSCALE_SIDE`], the same work as the largest upscale.
pub const MAX_BENCHMARK_SIDE: usize = SCALE * MAX_UPSCALE_SIDE;

/// Benchmark mode: smallest ground-truth side. After the modcrop to a multiple of the
/// scale, what is left must still be scored ([`min_scored_side`] with the ×4 border crop).
pub const MIN_BENCHMARK_SIDE: usize = min_scored_side(SCALE).next_multiple_of(SCALE);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benchmark_limits_follow_the_scale_and_the_scoring() {
        assert_eq!(MIN_BENCHMARK_SIDE, 20);
        assert_eq!(MAX_BENCHMARK_SIDE / SCALE, MAX_UPSCALE_SIDE);
        // The smallest benchmark image keeps a scorable side after the modcrop; one less
        // does not.
        let kept = |side: usize| side - side % SCALE;
        assert!(kept(MIN_BENCHMARK_SIDE) >= min_scored_side(SCALE));
        assert!(kept(MIN_BENCHMARK_SIDE - 1) < min_scored_side(SCALE));
    }
}
