//! `cargo bench -p quantnas-core`: integer inference against its baseline, the fake-quant
//! reference executor, in the same run; plus peak memory at a 512×512 LR input.
//!
//! Throughput is reported in MACs (criterion's "elem/s" = MAC/s). Filter with
//! `cargo bench -p quantnas-core -- upscale/espcn` and the like.

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/pattern.rs"]
mod pattern;

/// The networks benchmarked.
mod nets {
    use quantnas_core::arch::{Arch, Bits, Choice, Genotype, Op, Residual, SearchSpace};
    use quantnas_core::model::{ConvParams, Model, NodeParams, Pcg32};

    /// A Basic-B genotype with mixed 4/8 bits (ADQ), in slot order h1, h2, body1, body2,
    /// skip, upsample, t1, t2.
    pub fn basic_mixed() -> Arch {
        let picks = [
            (Op::simple(3), Bits::B8),
            (Op::simple(3), Bits::B4),
            (Op::separable(3), Bits::B4),
            (Op::simple(3), Bits::B8),
            (Op::simple(1), Bits::B8),
            (Op::separable(3), Bits::B4),
            (Op::simple(3), Bits::B8),
            (Op::simple(3), Bits::B4),
        ];
        let choices = picks
            .iter()
            .map(|&(op, bits)| Choice { op, bits })
            .collect();
        Arch::Genotype {
            genotype: Genotype {
                space: SearchSpace::BasicB,
                residual: Residual::Adq,
                choices,
            },
        }
    }

    /// A random model; `full_range` spreads every conv's codes over the whole signed
    /// range (the worst case of the integer kernel's `i16` runs).
    pub fn model(arch: Arch, full_range: bool) -> Model {
        let mut m = Model::random(arch, 7).expect("model");
        if full_range {
            let mut rng = Pcg32::new(1);
            for p in &mut m.params {
                if let NodeParams::Conv(ConvParams::Quantized { bits, codes, .. }) = p {
                    let (lo, hi) = bits.weight_code_range();
                    for q in codes.iter_mut() {
                        *q = (lo + rng.below((hi - lo + 1) as usize) as i32) as i8;
                    }
                }
            }
        }
        m
    }

    pub use super::pattern::image;
}

/// Time to upscale, integer path vs reference path, one thread.
mod upscale {
    use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
    use quantnas_core::arch::{Arch, Bits};
    use quantnas_core::engine::Engine;

    use super::nets;

    pub fn bench(c: &mut Criterion) {
        let cases: [(&str, Arch, bool, &[usize], bool); 4] = [
            (
                "espcn_8bit",
                Arch::Espcn { bits: Bits::B8 },
                false,
                &[128, 256],
                true,
            ),
            (
                "basic_b_mixed_4_8",
                nets::basic_mixed(),
                false,
                &[128, 256],
                true,
            ),
            // Extra lines, integer path only: the kernel's worst case, and 32-bit layers.
            (
                "espcn_8bit_full_range_codes",
                Arch::Espcn { bits: Bits::B8 },
                true,
                &[128],
                false,
            ),
            (
                "espcn_32bit",
                Arch::Espcn { bits: Bits::B32 },
                false,
                &[128],
                false,
            ),
        ];
        for (name, arch, full_range, sides, with_reference) in cases {
            let engine = Engine::new(nets::model(arch, full_range)).expect("engine");
            for &side in sides {
                let x = nets::image(side, side);
                let macs = engine.cost(side, side).expect("cost").macs;
                let mut g = c.benchmark_group(format!("upscale/{name}"));
                g.sampling_mode(SamplingMode::Flat)
                    .sample_size(10)
                    .throughput(Throughput::Elements(macs));
                let id = format!("{side}x{side}->{}x{}", 4 * side, 4 * side);
                g.bench_with_input(BenchmarkId::new("integer", &id), &x, |b, x| {
                    b.iter(|| engine.upscale_planes(x).expect("integer"))
                });
                if with_reference {
                    g.bench_with_input(BenchmarkId::new("reference", &id), &x, |b, x| {
                        b.iter(|| engine.upscale_planes_reference(x).expect("reference"))
                    });
                }
                g.finish();
            }
        }
    }
}

/// Peak memory of the integer path at a 512×512 LR input (2048×2048 output).
mod memory {
    use criterion::Criterion;
    use quantnas_core::arch::{Arch, Bits};
    use quantnas_core::engine::Engine;

    use super::nets;

    /// The process's peak resident set so far (Linux), in bytes.
    fn vm_hwm() -> Option<usize> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        Some(line.split_whitespace().nth(1)?.parse::<usize>().ok()? * 1024)
    }

    pub fn report(_: &mut Criterion) {
        let side = 512;
        let x = nets::image(side, side);
        println!(
            "peak memory, integer path, {side}x{side} LR -> {}x{} (engine-tracked live tensors + scratch, input and output included; process VmHWM so far):",
            4 * side,
            4 * side
        );
        for (name, arch) in [
            ("espcn_8bit", Arch::Espcn { bits: Bits::B8 }),
            ("basic_b_mixed_4_8", nets::basic_mixed()),
            ("rfdn_8bit", Arch::Rfdn { bits: Bits::B8 }),
            ("srresnet_8bit", Arch::SrResNet { bits: Bits::B8 }),
        ] {
            let engine = Engine::new(nets::model(arch, false)).expect("engine");
            let t = std::time::Instant::now();
            let (_, stats) = engine.upscale_planes_stats(&x).expect("run");
            let mib = |b: usize| b as f64 / (1 << 20) as f64;
            println!(
                "  {name:<20} peak {:>8.1} MiB   VmHWM {:>8.1} MiB   ({:.1} s)",
                mib(stats.peak_bytes),
                mib(vm_hwm().unwrap_or(0)),
                t.elapsed().as_secs_f64()
            );
        }
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(5))
}

criterion_group!(name = memory; config = config(); targets = memory::report);
criterion_group!(name = speed; config = config(); targets = upscale::bench);
criterion_main!(memory, speed);
