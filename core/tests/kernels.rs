//! Every integer conv kernel this CPU runs, at every thread count, gives the same bits as
//! the portable kernel on one thread: on the bundled trained models and on random
//! models of every fixed network and both search spaces at 4 and 8 bits.

use quantnas_core::arch::{Arch, Bits, Genotype, Residual, SearchSpace};
use quantnas_core::engine::{Engine, Isa};
use quantnas_core::image::Planes;
use quantnas_core::model::Model;

fn image(h: usize, w: usize) -> Planes {
    let data = (0..3 * h * w)
        .map(|i| ((i * 7919) % 1000) as f32 / 999.0)
        .collect();
    Planes::new(3, h, w, data).expect("image")
}

fn check(model: Model, h: usize, w: usize) {
    let name = model.name.clone();
    let engine = Engine::new(model).expect("engine");
    let x = image(h, w);
    let want = engine
        .clone()
        .with_isa(Isa::Portable)
        .expect("portable")
        .upscale_planes(&x)
        .expect("run");
    // Every kernel on one thread, and the default kernel on 2 and 3 threads.
    let mut runs: Vec<(Isa, usize)> = Isa::available().into_iter().map(|i| (i, 1)).collect();
    if cfg!(feature = "threads") {
        runs.extend([(Isa::best(), 2), (Isa::best(), 3)]);
    }
    for (isa, threads) in runs {
        let e = engine.clone().with_isa(isa).expect("isa");
        #[cfg(feature = "threads")]
        let e = e.with_threads(threads);
        // Twice: the second run reuses the first one's buffers.
        for _ in 0..2 {
            let got = e.upscale_planes(&x).expect("run");
            let same = got
                .data
                .iter()
                .zip(&want.data)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "{name}: {isa} on {threads} threads differs");
        }
    }
}

#[test]
fn bundled_models_give_the_same_bits_on_every_kernel_and_thread_count() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../web/models");
    for file in ["espcn-8bit.qnm", "quantnas-basic-b-mixed48.qnm"] {
        let bytes = std::fs::read(format!("{root}/{file}")).expect("bundled model");
        check(Model::from_bytes(&bytes).expect("model"), 21, 37);
    }
}

#[test]
fn random_models_give_the_same_bits_on_every_kernel_and_thread_count() {
    for bits in [Bits::B4, Bits::B8] {
        for arch in [
            Arch::Espcn { bits },
            Arch::SrResNet { bits },
            Arch::Rfdn { bits },
        ] {
            check(Model::random(arch, 3).expect("model"), 16, 19);
        }
        for space in [SearchSpace::BasicA, SearchSpace::BasicB, SearchSpace::Rfdn] {
            let most = space.slots().iter().map(|s| s.candidates.len()).max();
            for k in 0..most.unwrap_or(1) {
                let genotype = Genotype::nth_candidates(space, Residual::Adq, k, bits);
                let model = Model::random(Arch::Genotype { genotype }, k as u64).expect("model");
                check(model, 17, 15);
            }
        }
    }
}
