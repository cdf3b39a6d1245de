//! Cross-crate tests: what the trainer exports, `quantnas-core`'s integer engine runs
//! with the same output as the trainer's own evaluation forward.
#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use burn::tensor::Device;
use quantnas_core::arch::{Arch, Bits, Choice, Genotype, Residual, SearchSpace};
use quantnas_core::engine::Engine;
use quantnas_core::image::{Planes, RgbImage8};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use trainer::data::{Batch, make_patch};
use trainer::export::to_model;
use trainer::nn::{Network, Upscaler};
use trainer::train::Learner;

/// A synthetic photo-like image: smooth gradients, a few hard edges, mild noise.
fn picture(w: usize, h: usize, seed: u64) -> RgbImage8 {
    let mut rng = StdRng::seed_from_u64(seed);
    let data = (0..w * h)
        .flat_map(|i| {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let edge = if (x * 0.7 + y * 0.3) as usize % 23 < 9 {
                70.0
            } else {
                0.0
            };
            let n: f32 = rng.random_range(-6.0..6.0);
            let r = 128.0 + 90.0 * (x * 0.05).sin() + edge * 0.5 + n;
            let g = 60.0 + 120.0 * (y / h as f32) + edge + n;
            let b = 200.0 - 80.0 * ((x + y) * 0.03).cos() - edge * 0.3 + n;
            [
                r.clamp(0.0, 255.0) as u8,
                g.clamp(0.0, 255.0) as u8,
                b.clamp(0.0, 255.0) as u8,
            ]
        })
        .collect();
    RgbImage8::new(w, h, data).unwrap()
}

/// A network trained for a few steps on random crops of synthetic pictures, so that its
/// weights, LSQ steps, batch-norm statistics and ADQ scalars have all moved from their
/// initial values.
fn tiny_trained(arch: &Arch, steps: u64) -> Network {
    let dev = Device::flex().autodiff();
    let net = Network::init(&arch.graph(), 5, &dev).unwrap();
    let mut learner = Learner::new(net, dev, 5.0);
    let pics: Vec<RgbImage8> = (0..3).map(|k| picture(64, 64, k)).collect();
    let mut rng = StdRng::seed_from_u64(9);
    let (n, lr) = (4, 12);
    for step in 0..steps {
        let mut b = Batch {
            index: step,
            n,
            lr_size: lr,
            hr_size: 4 * lr,
            lr: Vec::new(),
            hr: Vec::new(),
        };
        for k in 0..n {
            let p = make_patch(&pics[k % 3], lr, 4, true, &mut rng);
            b.lr.extend(p.lr);
            b.hr.extend(p.hr);
        }
        learner.step(&b, 2e-3).unwrap();
    }
    learner.model
}

/// Largest |trainer − engine| allowed on any output value. The trainer's forward is burn's
/// `f32` convolution of fake-quantized values; the engine sums exact integer products, so
/// they differ by `f32` rounding only (measured: 6.0e-7 for ESPCN-8, 1.8e-7 for the mixed
/// Basic-B genotype; about a fifth of the values bit-identical): far below one 8-bit
/// output level (1/255 ≈ 3.9e-3).
const MAX_DIFF: f32 = 1e-6;

/// The largest |difference| between the trainer's forward and the exported model in the
/// engine, over every output value.
fn parity(arch: Arch, steps: u64) -> f32 {
    let net = tiny_trained(&arch, steps);
    let model = to_model(&net, arch, "parity", serde_json::json!({})).unwrap();
    let engine = Engine::from_bytes(&model.to_bytes().unwrap()).unwrap();
    let lr: Planes = picture(40, 32, 77).to_planes();
    let ours = Upscaler::new(&net, &Device::flex())
        .forward_planes(&lr)
        .unwrap();
    let theirs = engine.upscale_planes(&lr).unwrap();
    assert_eq!(
        (ours.channels, ours.height, ours.width),
        (theirs.channels, theirs.height, theirs.width)
    );
    let mut max = 0.0f32;
    for (a, b) in ours.data.iter().zip(&theirs.data) {
        assert!(a.is_finite() && b.is_finite(), "non-finite output");
        max = max.max((a - b).abs());
    }
    let exact = ours
        .data
        .iter()
        .zip(&theirs.data)
        .filter(|(a, b)| a == b)
        .count();
    eprintln!(
        "parity: max |diff| {max:e} over {} values ({exact} bit-identical)",
        ours.data.len()
    );
    max
}

#[test]
fn export_parity_espcn_8bit() {
    let max = parity(Arch::Espcn { bits: Bits::B8 }, 30);
    assert!(max <= MAX_DIFF, "max |diff| {max:e} > {MAX_DIFF:e}");
}

#[test]
fn export_parity_basic_mixed_4_8() {
    // Basic space B, ADQ residuals (batch norms and ADQ scalars exported), slots
    // alternating 4 and 8 bits over varied ops.
    let slots = SearchSpace::BasicB.slots();
    let choices = slots
        .iter()
        .enumerate()
        .map(|(i, s)| Choice {
            op: s.candidates[(i + 1) % s.candidates.len()],
            bits: if i % 2 == 0 { Bits::B4 } else { Bits::B8 },
        })
        .collect();
    let g = Genotype {
        space: SearchSpace::BasicB,
        residual: Residual::Adq,
        choices,
    };
    g.validate().unwrap();
    assert_eq!(g.bit_widths(), vec![Bits::B4, Bits::B8]);
    let max = parity(Arch::Genotype { genotype: g }, 8);
    assert!(max <= MAX_DIFF, "max |diff| {max:e} > {MAX_DIFF:e}");
}
