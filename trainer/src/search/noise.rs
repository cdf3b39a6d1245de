//! SAN's Gaussian noise, drawn on the host with a small fast generator.
//!
//! burn's `Tensor::random` draws each element through a ChaCha generator and f64
//! Box–Muller; on a 2-core CPU that was ≈10% of a SAN search iteration, enough to make SAN
//! slower than the direct quantization it is meant to beat. Here: xoshiro256+ bits turned
//! into normals by the ziggurat method ([`super::ziggurat`]; two samples per 64-bit draw,
//! mostly one multiply each), filled in parallel in fixed chunks (each chunk its own
//! stream, so the values do not depend on the thread count). The generator is reseeded
//! every iteration from (seed, iteration), so a resumed search draws the same noise.
//!
//! On a GPU the host draw would be uploaded for every slot input (tens of MB per step at
//! the paper's shape), so there the noise is drawn on the device by burn's own generator
//! instead ([`NoisePlace`]). Those values depend on the backend: a seeded search repeats
//! itself on the same device, and `--noise host` gives the CPU's values on any device.

use std::cell::{Cell, RefCell};

use burn::tensor::{Device, Distribution, Shape, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::nn::quant::in_host_memory;

/// Where SAN's Gaussian noise is drawn (`--noise`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoisePlace {
    /// On the host for the CPU backends, on the device for a GPU.
    #[default]
    Auto,
    /// xoshiro256+ and the ziggurat on the host: the same values on every backend (a GPU
    /// uploads them once per slot input).
    Host,
    /// burn's generator on the device (`Tensor::random`, seeded every iteration): nothing
    /// crosses from the host, but the values are the backend's own.
    Device,
}

impl NoisePlace {
    /// Whether this is `auto` (left out of `config.json`: runs from before the option
    /// keep their files and study folder names).
    pub fn is_auto(&self) -> bool {
        *self == NoisePlace::Auto
    }

    /// `auto` made concrete for `device`.
    pub fn on(self, device: &Device) -> NoisePlace {
        match self {
            NoisePlace::Auto if in_host_memory(device) => NoisePlace::Host,
            NoisePlace::Auto => NoisePlace::Device,
            p => p,
        }
    }

    /// The name in logs.
    pub fn name(self) -> &'static str {
        match self {
            NoisePlace::Auto => "auto",
            NoisePlace::Host => "host",
            NoisePlace::Device => "device",
        }
    }
}

/// xoshiro256+ (Blackman & Vigna): fast, 2^256 period, good high bits for floats.
#[derive(Clone, Debug)]
pub struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// A generator from a 64-bit seed (expanded with SplitMix64, as its authors advise).
    pub fn seed(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        Xoshiro256 {
            s: [next(), next(), next(), next()],
        }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let r = self.s[0].wrapping_add(self.s[3]);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        r
    }

    /// Fills `out` with standard-normal samples.
    pub fn fill_normal(&mut self, out: &mut [f32]) {
        super::ziggurat::fill_normal(out, || self.next_u64());
    }
}

/// Samples per independently seeded chunk of a noise tensor.
pub const NOISE_CHUNK: usize = 1 << 15;

/// The noise generator a forward pass draws from (interior mutability: the supernet's
/// forward takes `&self`).
#[derive(Clone, Debug)]
pub struct NoiseSource {
    host: RefCell<Xoshiro256>,
    /// `Some` when drawing on the device: the seed to hand burn's generator before the
    /// next draw, if it has not had it yet.
    device_seed: Option<Cell<Option<u64>>>,
}

impl NoiseSource {
    /// A host source seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        NoiseSource {
            host: RefCell::new(Xoshiro256::seed(seed)),
            device_seed: None,
        }
    }

    /// A source seeded with `seed` that draws at `place` (`auto` is the host's).
    pub fn at(place: NoisePlace, seed: u64) -> Self {
        let mut s = NoiseSource::new(seed);
        if place == NoisePlace::Device {
            s.device_seed = Some(Cell::new(Some(seed)));
        }
        s
    }

    /// Whether the draws are made on the host (and so can be fused into a host pass).
    pub fn on_host(&self) -> bool {
        self.device_seed.is_none()
    }

    /// Restarts the stream from `seed`.
    ///
    /// On the device the seed is handed over at the next draw. burn's generator is one per
    /// process and its kernels read it when they run, not when they are queued; a search
    /// reads its losses back every iteration, which runs the previous iteration's draws
    /// first, so each iteration's draws follow its own seed.
    pub fn reseed(&self, seed: u64) {
        *self.host.borrow_mut() = Xoshiro256::seed(seed);
        if let Some(pending) = &self.device_seed {
            pending.set(Some(seed));
        }
    }

    /// A standard-normal tensor (no gradient).
    pub fn normal<const D: usize>(&self, shape: Shape, device: &Device) -> Tensor<D> {
        if let Some(pending) = &self.device_seed {
            if let Some(seed) = pending.take() {
                device.seed(seed);
            }
            return Tensor::random(shape, Distribution::Normal(0.0, 1.0), device);
        }
        let data = self.normal_values(shape.num_elements());
        Tensor::from_data(TensorData::new(data, shape), device)
    }

    /// `n` standard-normal values, the same ones [`NoiseSource::normal`] would put in a
    /// tensor of `n` elements.
    pub fn normal_values(&self, n: usize) -> Vec<f32> {
        use rayon::prelude::*;
        let mut data = vec![0.0f32; n];
        let draw = self.draw();
        data.par_chunks_mut(NOISE_CHUNK)
            .enumerate()
            .for_each(|(i, chunk)| draw.fill(i, chunk));
        data
    }

    /// Starts the next draw: its values can then be made chunk by chunk, in any order and
    /// on any thread, by [`NoiseDraw::fill`] (used to generate noise inside the pass that
    /// consumes it).
    pub fn draw(&self) -> NoiseDraw {
        NoiseDraw {
            base: self.host.borrow_mut().next_u64(),
        }
    }
}

/// One draw of standard-normal values, split into [`NOISE_CHUNK`]-sized chunks that each
/// have their own stream.
#[derive(Clone, Copy, Debug)]
pub struct NoiseDraw {
    base: u64,
}

impl NoiseDraw {
    /// Fills `out` with the values of chunk `index` (elements `index·NOISE_CHUNK…`).
    pub fn fill(&self, index: usize, out: &mut [f32]) {
        Xoshiro256::seed(self.base ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
            .fill_normal(out);
    }
}

/// Standard-normal samples by Marsaglia's polar method: exact, slow (a logarithm and a
/// square root per pair, and a rejected pair in every ≈ 4.7), and independent of the
/// ziggurat's tables. The tests compare the ziggurat against it and `bench noise` times
/// both; the search itself never uses it.
pub fn fill_normal_polar(g: &mut Xoshiro256, out: &mut [f32]) {
    let unit = |r: u64| (r >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
    let mut filled = 0;
    while filled < out.len() {
        let (u, v) = (unit(g.next_u64()), unit(g.next_u64()));
        let s = u * u + v * v;
        if s >= 1.0 || s == 0.0 {
            continue;
        }
        let f = (-2.0 * s.ln() / s).sqrt();
        for z in [u * f, v * f] {
            if let Some(slot) = out.get_mut(filled) {
                *slot = z as f32;
                filled += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_standard_normal() {
        let mut g = Xoshiro256::seed(9);
        let mut v = vec![0.0f32; 200_001];
        g.fill_normal(&mut v);
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        let kurt = v.iter().map(|&x| (x as f64 - mean).powi(4)).sum::<f64>() / n / (var * var);
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "var {var}");
        assert!((kurt - 3.0).abs() < 0.05, "kurtosis {kurt}");
        let within1 = v.iter().filter(|x| x.abs() < 1.0).count() as f64 / n;
        assert!((within1 - 0.6827).abs() < 0.005, "P(|z|<1) = {within1}");
    }

    #[test]
    fn samples_match_an_exact_reference_body_and_tails() {
        // Two-sample Kolmogorov–Smirnov against the polar method: a wrong layer edge or
        // wedge test shifts the CDF by far more than the 0.1% critical distance.
        let n = 400_000;
        let mut z = vec![0.0f32; n];
        Xoshiro256::seed(11).fill_normal(&mut z);
        let mut p = vec![0.0f32; n];
        fill_normal_polar(&mut Xoshiro256::seed(12), &mut p);
        let mut zs = z.clone();
        zs.sort_by(f32::total_cmp);
        p.sort_by(f32::total_cmp);
        let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
        while i < n && j < n {
            if zs[i] <= p[j] {
                i += 1;
            } else {
                j += 1;
            }
            d = d.max((i as f64 - j as f64).abs() / n as f64);
        }
        let critical = 1.95 * (2.0 / n as f64).sqrt();
        assert!(d < critical, "KS distance {d} ≥ {critical}");
        // Tails, which a KS distance hardly sees: P(|z| > t) for t = 2, 3, the base
        // layer's edge r = 3.4426 (samples beyond it come from the tail sampler) and 4.
        let mut big = vec![0.0f32; 4_000_000];
        Xoshiro256::seed(13).fill_normal(&mut big);
        for (t, want) in [
            (2.0f32, 0.045_500_3),
            (3.0, 0.002_699_8),
            (3.442_62, 0.000_576_0),
            (4.0, 0.000_063_34),
        ] {
            let k = big.iter().filter(|v| v.abs() > t).count() as f64;
            let expected = want * big.len() as f64;
            let sd = expected.sqrt();
            assert!(
                (k - expected).abs() < 4.0 * sd,
                "P(|z| > {t}): {k} samples, expected {expected:.0} ± {sd:.0}"
            );
        }
        assert!(big.iter().all(|v| v.is_finite() && v.abs() < 9.0));
        let (pos, neg) = (
            big.iter().filter(|&&v| v > 0.0).count() as f64,
            big.iter().filter(|&&v| v < 0.0).count() as f64,
        );
        assert!(
            (pos - neg).abs() < 4.0 * (pos + neg).sqrt(),
            "{pos} vs {neg}"
        );
    }

    #[test]
    fn a_draw_filled_by_chunks_equals_the_whole_draw() {
        // The one-pass SAN input generates noise chunk by chunk inside its own parallel
        // pass; it must see the values `normal_values` gives, so the chunkings agree.
        assert_eq!(NOISE_CHUNK, crate::nn::quant::PARTS_CHUNK);
        let n = 2 * NOISE_CHUNK + 123;
        let (a, b) = (NoiseSource::new(5), NoiseSource::new(5));
        let whole = a.normal_values(n);
        let draw = b.draw();
        for (c, chunk) in whole.chunks(NOISE_CHUNK).enumerate().rev() {
            let mut got = vec![0.0f32; chunk.len()];
            draw.fill(c, &mut got);
            assert_eq!(got, chunk, "chunk {c}");
        }
    }

    #[test]
    fn reseeding_repeats_the_stream() {
        let s = NoiseSource::new(1);
        let d = Device::flex();
        let a: Tensor<1> = s.normal(Shape::new([16]), &d);
        s.reseed(1);
        let b: Tensor<1> = s.normal(Shape::new([16]), &d);
        assert_eq!(
            a.into_data().try_to_vec::<f32>().ok(),
            b.into_data().try_to_vec::<f32>().ok()
        );
    }
}
