//! Deterministic random models for tests and benchmarks.
//!
//! A small PCG-32 generator (O'Neill 2014, XSH-RR output) keeps `core` free of a `rand`
//! dependency and makes every random model reproducible from its seed on every target.

use alloc::vec::Vec;

use crate::arch::{Arch, Bits};

use super::error::ModelError;
use super::network::Model;
use super::params::{ConvParams, NodeParams, ParamSpec, lsq_initial_step, param_specs};

const PCG_MULT: u64 = 6_364_136_223_846_793_005;
const PCG_INC: u64 = 1_442_695_040_888_963_407;

/// PCG-32: 64-bit state, 32-bit output.
#[derive(Clone, Debug)]
pub struct Pcg32 {
    state: u64,
}

impl Pcg32 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        let mut g = Pcg32 { state: 0 };
        g.next_u32();
        g.state = g.state.wrapping_add(seed);
        g.next_u32();
        g
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(PCG_MULT).wrapping_add(PCG_INC);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// Uniform in [0, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in [lo, hi).
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next_f32()
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u64::from(self.next_u32()) * n as u64) >> 32) as usize
    }
}

impl Model {
    /// A model with random parameters for `arch`, the same for the same seed: He-uniform
    /// weights (std √(2/fan_in)), LSQ's initial steps `2·mean|W_c|/√q_p`, batch norms near
    /// identity and small ADQ scalars (γ ∈ [0.1, 0.3], β ≈ 0).
    pub fn random(arch: Arch, seed: u64) -> Result<Model, ModelError> {
        let graph = arch.graph();
        let specs = param_specs(&graph)?;
        let mut rng = Pcg32::new(seed);
        let mut params = Vec::with_capacity(specs.len());
        for (_, spec) in &specs {
            params.push(match *spec {
                ParamSpec::Conv { shape, bits } => {
                    let fan_in = (shape.cin / shape.groups) * shape.kh * shape.kw;
                    // Uniform(−a, a) has std a/√3; a = √(6/fan_in) gives He's √(2/fan_in).
                    let a = libm::sqrtf(6.0 / fan_in as f32);
                    let weights: Vec<f32> = (0..shape.weight_count())
                        .map(|_| rng.uniform(-a, a))
                        .collect();
                    if bits == Bits::B32 {
                        NodeParams::Conv(ConvParams::Float { weights })
                    } else {
                        let steps: Vec<f32> = weights
                            .chunks(fan_in)
                            .map(|c| lsq_initial_step(c, bits))
                            .collect();
                        NodeParams::Conv(ConvParams::quantize(bits, &weights, &steps))
                    }
                }
                ParamSpec::BatchNorm { channels } => NodeParams::BatchNorm {
                    scale: (0..channels).map(|_| rng.uniform(0.8, 1.2)).collect(),
                    shift: (0..channels).map(|_| rng.uniform(-0.1, 0.1)).collect(),
                },
                // ADQ's factor γ·σ(x) + β multiplies the branch and σ grows along a chain of
                // residual blocks, so an untrained γ near its 1.5 initialisation makes a
                // deep random net explode at 32 bits (no clip); a small γ keeps outputs O(1).
                ParamSpec::Adq => NodeParams::Adq {
                    gamma: rng.uniform(0.1, 0.3),
                    beta: rng.uniform(-0.05, 0.05),
                },
            });
        }
        let meta = serde_json::json!({ "random_seed": seed });
        Ok(Model {
            name: alloc::format!("{}-random-{seed}", arch.name()),
            arch,
            meta,
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::{Arch, rfdn_genotype};

    #[test]
    fn pcg_is_deterministic_and_spread() {
        let mut a = Pcg32::new(7);
        let mut b = Pcg32::new(7);
        let xs: Vec<u32> = (0..8).map(|_| a.next_u32()).collect();
        let ys: Vec<u32> = (0..8).map(|_| b.next_u32()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Pcg32::new(8).next_u32(), xs[0]);
        let mean = (0..10_000).map(|_| a.next_f32()).sum::<f32>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }

    #[test]
    fn random_models_validate() {
        for arch in [
            Arch::Espcn { bits: Bits::B4 },
            Arch::SrResNet { bits: Bits::B32 },
            Arch::Genotype {
                genotype: rfdn_genotype(Bits::B8),
            },
        ] {
            let m = Model::random(arch, 3).expect("random");
            m.validate().expect("valid");
            assert_eq!(Model::random(m.arch.clone(), 3).expect("random"), m);
        }
    }
}
