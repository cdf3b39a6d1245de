//! `trainer bench noise`: nanoseconds per standard-normal sample for SAN's generator and
//! the generators it replaced, all timed in the same run on the same buffer sizes.
//!
//! SAN draws one sample per element of every conv input and weight, every forward: tens
//! of millions per search iteration. Whether SAN costs more or less than direct
//! quantization on a CPU comes down largely to this number.

use std::time::Instant;

use anyhow::{Result, ensure};
use burn::tensor::{Device, Distribution, Tensor};
use clap::Args;

use super::stats::median;
use crate::search::noise::{NOISE_CHUNK, NoiseSource, Xoshiro256, fill_normal_polar};

/// Time the normal generators, interleaved round by round.
#[derive(Debug, Clone, Args)]
pub struct NoiseArgs {
    /// Samples per generator per round.
    #[arg(long, default_value_t = 1 << 22)]
    pub samples: usize,
    /// Timed rounds (each generator once per round, in turn).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// A generator under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generator {
    /// xoshiro256+ and the ziggurat on one thread (what one chunk of SAN noise costs).
    Ziggurat,
    /// The same, as SAN fills a whole tensor: independently seeded chunks on every thread.
    ZigguratParallel,
    /// xoshiro256+ and Marsaglia's polar method in f64 on one thread: the tests' exact
    /// reference (SAN's previous generator was the same method in f32).
    Polar,
    /// burn's `Tensor::random` with a normal distribution on `flex` (SAN's first
    /// generator: ChaCha bits and Box–Muller).
    Burn,
}

impl Generator {
    /// Every generator, in report order; [`Generator::Polar`] is the reference.
    pub const ALL: [Generator; 4] = [
        Generator::Ziggurat,
        Generator::ZigguratParallel,
        Generator::Polar,
        Generator::Burn,
    ];

    /// Name as printed.
    pub fn name(self) -> &'static str {
        match self {
            Generator::Ziggurat => "ziggurat",
            Generator::ZigguratParallel => "ziggurat-parallel",
            Generator::Polar => "polar-f64",
            Generator::Burn => "burn-random",
        }
    }

    /// Draws `out.len()` samples into `out`; returns a value computed from them so that
    /// the work cannot be optimised away.
    fn draw(self, seed: u64, out: &mut [f32], device: &Device) -> Result<f32> {
        match self {
            Generator::Ziggurat => Xoshiro256::seed(seed).fill_normal(out),
            Generator::ZigguratParallel => {
                // As SAN's one-pass input preparation draws: chunk by chunk on every thread.
                use rayon::prelude::*;
                let draw = NoiseSource::new(seed).draw();
                out.par_chunks_mut(NOISE_CHUNK)
                    .enumerate()
                    .for_each(|(i, chunk)| draw.fill(i, chunk));
            }
            Generator::Polar => fill_normal_polar(&mut Xoshiro256::seed(seed), out),
            Generator::Burn => {
                let t: Tensor<1> =
                    Tensor::random([out.len()], Distribution::Normal(0.0, 1.0), device);
                let v = t
                    .into_data()
                    .try_into_vec::<f32>()
                    .map_err(|e| anyhow::anyhow!("burn's random tensor is not f32: {e:?}"))?;
                out.copy_from_slice(&v);
            }
        }
        Ok(out.iter().step_by(4099).sum())
    }
}

/// One generator's result.
#[derive(Clone, Debug)]
pub struct NoiseTiming {
    /// The generator.
    pub generator: Generator,
    /// Mean nanoseconds per sample over the rounds.
    pub ns_per_sample: f64,
    /// Median over rounds of (its time ÷ the polar method's time in the same round).
    pub ratio_to_polar: f64,
    /// Sample variance of the last round's draw (≈ 1 for a standard normal).
    pub variance: f64,
}

/// Times every generator: `rounds` rounds, each generator once per round.
///
/// # Errors
/// No samples or no rounds asked for.
pub fn measure(samples: usize, rounds: usize) -> Result<Vec<NoiseTiming>> {
    ensure!(
        samples > 0 && rounds > 0,
        "need at least one sample and one round"
    );
    let device = Device::flex();
    device.seed(1);
    let mut buf = vec![0.0f32; samples];
    let mut checksum = 0.0f32;
    // ns[i][k]: ns/sample of generator k in round i (round 0 is a warm-up).
    let mut ns: Vec<Vec<f64>> = Vec::with_capacity(rounds);
    let mut variance = vec![0.0f64; Generator::ALL.len()];
    for round in 0..=rounds {
        let mut row = Vec::with_capacity(Generator::ALL.len());
        for (k, g) in Generator::ALL.into_iter().enumerate() {
            let t = Instant::now();
            checksum += g.draw(round as u64 + 1, &mut buf, &device)?;
            row.push(t.elapsed().as_secs_f64() * 1e9 / samples as f64);
            if round == rounds {
                variance[k] =
                    buf.iter().map(|&z| f64::from(z).powi(2)).sum::<f64>() / samples as f64;
            }
        }
        if round > 0 {
            ns.push(row);
        }
    }
    // Keeps the draws observable (a NaN checksum would mean a broken generator anyway).
    ensure!(
        checksum.is_finite(),
        "a generator produced non-finite samples"
    );
    let polar = Generator::ALL
        .iter()
        .position(|&g| g == Generator::Polar)
        .unwrap_or(0);
    Ok(Generator::ALL
        .into_iter()
        .enumerate()
        .map(|(k, generator)| NoiseTiming {
            generator,
            ns_per_sample: ns.iter().map(|r| r[k]).sum::<f64>() / ns.len() as f64,
            ratio_to_polar: median(ns.iter().map(|r| r[k] / r[polar]).collect()),
            variance: variance[k],
        })
        .collect())
}

/// Runs the benchmark.
pub fn run(args: &NoiseArgs) -> Result<()> {
    let timings = measure(args.samples, args.rounds)?;
    let threads = rayon::current_num_threads();
    if args.json {
        let rows: Vec<_> = timings
            .iter()
            .map(|t| {
                serde_json::json!({
                    "generator": t.generator.name(), "ns_per_sample": t.ns_per_sample,
                    "median_round_ratio_to_polar": t.ratio_to_polar, "variance": t.variance,
                })
            })
            .collect();
        let v = serde_json::json!({
            "samples": args.samples, "rounds": args.rounds, "threads": threads,
            "generators": rows,
        });
        println!("{v}");
    } else {
        println!(
            "standard-normal samples, {} per draw, {} rounds ({threads} threads for the parallel rows):",
            args.samples, args.rounds
        );
        for t in &timings {
            println!(
                "  {:<18} {:>7.2} ns/sample   {:.3}× polar-f64 (median per round)   variance {:.4}",
                t.generator.name(),
                t.ns_per_sample,
                t.ratio_to_polar,
                t.variance
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generator_is_timed_and_draws_unit_variance() {
        let t = measure(20_000, 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.len(), Generator::ALL.len());
        for r in &t {
            assert!(
                r.ns_per_sample.is_finite() && r.ns_per_sample > 0.0,
                "{r:?}"
            );
            // 20 000 samples: the variance estimate has sd ≈ 0.01.
            assert!((r.variance - 1.0).abs() < 0.06, "{r:?}");
        }
        let polar = t.iter().find(|r| r.generator == Generator::Polar);
        assert_eq!(polar.map(|r| r.ratio_to_polar), Some(1.0));
        assert!(measure(0, 1).is_err() && measure(10, 0).is_err());
    }
}
