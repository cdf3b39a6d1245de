//! The integer engine against the fake-quant reference executor: every op of every
//! space's candidate lists at 4, 8 and 32 bits, mixed-bit Basic and RFDN genotypes, and
//! the fixed ESPCN, SRResNet and RFDN networks, on small odd-sized inputs.
//!
//! Criterion: every output value of the two paths differs by at most [`MAX_DIFF`] = 1e-15,
//! the bound the README states. Measured (`--nocapture` prints the figures): 0 for every
//! Basic-space op and mixed genotype; at most 7.2·10⁻¹⁶ on 21 of 311 040 values of the RFDN
//! ops and 17 of 92 304 of the fixed networks (RFDN's ESA: sigmoid and bilinear resize of
//! values the two paths compute in different orders), all others bit-identical.

use quantnas_core::arch::{Arch, Bits, Choice, Genotype, Op, Residual, SearchSpace, rfdn_genotype};
use quantnas_core::engine::Engine;
use quantnas_core::image::Planes;
use quantnas_core::model::{Model, Pcg32};

/// Largest |integer − reference| allowed on any output value (README: "they agree to
/// within 1e-15").
const MAX_DIFF: f32 = 1e-15;

/// A smooth-ish random RGB image in [0, 1].
fn image(h: usize, w: usize, seed: u64) -> Planes {
    let mut rng = Pcg32::new(seed);
    let mut data = Vec::with_capacity(3 * h * w);
    for c in 0..3 {
        for y in 0..h {
            for x in 0..w {
                let base =
                    0.5 + 0.4 * ((x as f32 * 0.7 + c as f32).sin() * (y as f32 * 0.45).cos());
                data.push((base + rng.uniform(-0.1, 0.1)).clamp(0.0, 1.0));
            }
        }
    }
    Planes::new(3, h, w, data).expect("planes")
}

#[derive(Debug, Default, Clone, Copy)]
struct Stats {
    values: usize,
    exact: usize,
    max_diff: f32,
}

impl Stats {
    fn add(&mut self, o: Stats) {
        self.values += o.values;
        self.exact += o.exact;
        self.max_diff = self.max_diff.max(o.max_diff);
    }

    fn exact_fraction(&self) -> f64 {
        self.exact as f64 / self.values as f64
    }
}

/// Runs both paths and compares.
fn compare(arch: Arch, seed: u64, h: usize, w: usize) -> Stats {
    let name = arch.name();
    let engine = Engine::new(Model::random(arch, seed).expect("random model")).expect("engine");
    let x = image(h, w, seed);
    let a = engine.upscale_planes(&x).expect("integer path");
    let b = engine.upscale_planes_reference(&x).expect("reference path");
    assert_eq!((a.channels, a.height, a.width), (3, 4 * h, 4 * w), "{name}");
    assert_eq!((b.channels, b.height, b.width), (3, 4 * h, 4 * w), "{name}");
    let mut s = Stats {
        values: a.data.len(),
        ..Stats::default()
    };
    for (p, q) in a.data.iter().zip(&b.data) {
        assert!(p.is_finite() && q.is_finite(), "{name}: non-finite output");
        let d = (p - q).abs();
        s.exact += usize::from(d == 0.0);
        s.max_diff = s.max_diff.max(d);
    }
    assert!(
        s.max_diff <= MAX_DIFF,
        "{name} seed {seed}: the paths differ by {:e} > {MAX_DIFF:e}: {s:?}",
        s.max_diff
    );
    s
}

/// A genotype of `space` using `op` at `bits` in every slot that offers it and the
/// slot's first candidate elsewhere.
fn with_op(space: SearchSpace, op: Op, bits: Bits) -> Genotype {
    let choices = space
        .slots()
        .iter()
        .map(|s| Choice {
            op: if s.candidates.contains(&op) {
                op
            } else {
                s.candidates[0]
            },
            bits,
        })
        .collect();
    Genotype {
        space,
        residual: Residual::Adq,
        choices,
    }
}

/// An RFDN genotype with `op` in a few slots of each kind (48→24, 48→48, upsample, tail)
/// and `simple_1x1` elsewhere, to keep the reference executor quick.
fn rfdn_with_op(op: Op, bits: Bits) -> Genotype {
    let space = SearchSpace::Rfdn;
    let choices = space
        .slots()
        .iter()
        .map(|s| {
            let here = matches!(
                s.name.as_str(),
                "cell0.skip0" | "cell1.body0" | "cell3.body3" | "upsample" | "tail"
            );
            Choice {
                op: if here && s.candidates.contains(&op) {
                    op
                } else {
                    Op::simple(1)
                },
                bits,
            }
        })
        .collect();
    Genotype {
        space,
        residual: Residual::Adq,
        choices,
    }
}

#[test]
fn every_basic_op_at_every_width() {
    let mut total = Stats::default();
    for space in [SearchSpace::BasicA, SearchSpace::BasicB] {
        for (i, op) in space.ops().into_iter().enumerate() {
            for bits in Bits::ALL {
                let s = compare(
                    Arch::Genotype {
                        genotype: with_op(space, op, bits),
                    },
                    i as u64,
                    5,
                    7,
                );
                total.add(s);
            }
        }
    }
    println!(
        "basic ops: {total:?}, bit-identical {:.6}",
        total.exact_fraction()
    );
}

#[test]
fn every_rfdn_op_at_every_width() {
    let mut total = Stats::default();
    for (i, op) in SearchSpace::Rfdn.ops().into_iter().enumerate() {
        for bits in Bits::ALL {
            total.add(compare(
                Arch::Genotype {
                    genotype: rfdn_with_op(op, bits),
                },
                i as u64,
                15,
                16,
            ));
        }
    }
    println!(
        "rfdn ops: {total:?}, bit-identical {:.6}",
        total.exact_fraction()
    );
}

/// Mixed 4/8 bits (and some 32) across slots.
fn mixed(space: SearchSpace, residual: Residual, seed: u64) -> Genotype {
    let mut rng = Pcg32::new(seed);
    let choices = space
        .slots()
        .iter()
        .map(|s| {
            let op = s.candidates[rng.below(s.candidates.len())];
            let bits = [Bits::B4, Bits::B8, Bits::B4, Bits::B8, Bits::B32][rng.below(5)];
            Choice { op, bits }
        })
        .collect();
    Genotype {
        space,
        residual,
        choices,
    }
}

#[test]
fn mixed_bit_genotypes() {
    let mut total = Stats::default();
    for (seed, residual) in Residual::ALL.into_iter().enumerate() {
        let g = mixed(SearchSpace::BasicB, residual, seed as u64);
        total.add(compare(Arch::Genotype { genotype: g }, seed as u64, 17, 19));
    }
    let g = mixed(SearchSpace::BasicA, Residual::Adq, 9);
    total.add(compare(Arch::Genotype { genotype: g }, 9, 9, 11));
    let g = mixed(SearchSpace::Rfdn, Residual::Adq, 4);
    total.add(compare(Arch::Genotype { genotype: g }, 4, 17, 19));
    println!(
        "mixed genotypes: {total:?}, bit-identical {:.6}",
        total.exact_fraction()
    );
}

#[test]
fn fixed_networks() {
    let mut total = Stats::default();
    for bits in Bits::ALL {
        total.add(compare(Arch::Espcn { bits }, 1, 17, 19));
        total.add(compare(Arch::SrResNet { bits }, 2, 7, 9));
        total.add(compare(
            Arch::Genotype {
                genotype: rfdn_genotype(bits),
            },
            3,
            15,
            17,
        ));
    }
    println!(
        "fixed networks: {total:?}, bit-identical {:.6}",
        total.exact_fraction()
    );
}

#[test]
fn upscale_rounds_the_float_output() {
    let engine = Engine::new(Model::random(Arch::Espcn { bits: Bits::B8 }, 5).expect("model"))
        .expect("engine");
    let x = image(6, 5, 1);
    let rgb = x.to_rgb8_rounded().expect("rgb");
    let sr = engine.upscale(&rgb).expect("upscale");
    let planes = engine.upscale_planes(&rgb.to_planes()).expect("planes");
    assert_eq!(sr, planes.to_rgb8_rounded().expect("rgb"));
    assert_eq!((sr.width, sr.height), (20, 24));
}
