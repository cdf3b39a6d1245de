//! Model files round-trip exactly, the engine reads what the writer wrote, and the
//! engine's API (metadata, costs, input checks, memory) behaves as documented.

use quantnas_core::arch::{Arch, Bits, Choice, Genotype, Residual, SearchSpace, rfdn_genotype};
use quantnas_core::engine::{Engine, MAX_INPUT_PIXELS};
use quantnas_core::image::{Planes, RgbImage8};
use quantnas_core::model::{ConvParams, Model, ModelError, NodeParams};

fn mixed(space: SearchSpace) -> Arch {
    let choices = space
        .slots()
        .iter()
        .enumerate()
        .map(|(i, s)| Choice {
            op: s.candidates[(i * 5) % s.candidates.len()],
            bits: Bits::ALL[i % 3],
        })
        .collect();
    Arch::Genotype {
        genotype: Genotype {
            space,
            residual: Residual::Adq,
            choices,
        },
    }
}

fn archs() -> Vec<Arch> {
    vec![
        Arch::Espcn { bits: Bits::B4 },
        Arch::Espcn { bits: Bits::B8 },
        Arch::Espcn { bits: Bits::B32 },
        Arch::SrResNet { bits: Bits::B4 },
        Arch::Rfdn { bits: Bits::B8 },
        Arch::Genotype {
            genotype: rfdn_genotype(Bits::B4),
        },
        mixed(SearchSpace::BasicA),
        mixed(SearchSpace::BasicB),
        mixed(SearchSpace::Rfdn),
    ]
}

#[test]
fn files_round_trip_exactly() {
    for (seed, arch) in archs().into_iter().enumerate() {
        let mut model = Model::random(arch, seed as u64).expect("model");
        model.meta =
            serde_json::json!({"psnr_set14": 27.81, "run": "test", "nested": {"a": [1, 2]}});
        let bytes = model.to_bytes().expect("write");
        let back = Model::from_bytes(&bytes).expect("read");
        assert_eq!(back, model, "{}", model.name);
        assert_eq!(
            back.to_bytes().expect("write again"),
            bytes,
            "{}: byte-identical",
            model.name
        );
    }
}

#[test]
fn four_bit_codes_cover_their_whole_range() {
    let mut model = Model::random(Arch::Espcn { bits: Bits::B4 }, 2).expect("model");
    if let NodeParams::Conv(ConvParams::Quantized { codes, .. }) = &mut model.params[0] {
        for (i, q) in codes.iter_mut().enumerate() {
            *q = (i % 16) as i8 - 8;
        }
    }
    let back = Model::from_bytes(&model.to_bytes().expect("write")).expect("read");
    assert_eq!(back, model);
}

#[test]
fn invalid_models_are_not_written() {
    let mut model = Model::random(Arch::Espcn { bits: Bits::B8 }, 3).expect("model");
    model.params.pop();
    assert!(matches!(
        model.to_bytes(),
        Err(ModelError::RecordCount {
            expected: 3,
            got: 2
        })
    ));
    assert!(matches!(
        Engine::new(model),
        Err(ModelError::RecordCount { .. })
    ));
}

#[test]
fn engine_from_bytes_matches_engine_from_model() {
    let model = Model::random(mixed(SearchSpace::BasicB), 4).expect("model");
    let a = Engine::new(model.clone()).expect("engine");
    let b = Engine::from_bytes(&model.to_bytes().expect("bytes")).expect("engine");
    let img = RgbImage8::new(7, 6, (0..7 * 6 * 3).map(|i| (i * 11 % 256) as u8).collect())
        .expect("image");
    assert_eq!(a.upscale(&img).expect("a"), b.upscale(&img).expect("b"));
    assert_eq!(b.model().name, model.name);
}

#[test]
fn metadata_and_costs() {
    let engine = Engine::new(Model::random(Arch::Espcn { bits: Bits::B8 }, 1).expect("model"))
        .expect("engine");
    let bits = engine.layer_bits();
    assert_eq!(bits.len(), 3);
    assert!(bits.iter().all(|l| l.bits == Bits::B8));
    assert_eq!(bits[0].name, "conv1");
    let c = engine.cost(32, 32).expect("cost");
    assert_eq!(c.macs, 37_056 * 1024);
    assert_eq!(c.layers.len(), 3);
    assert_eq!(engine.model().cost(32, 32).expect("cost"), c);
}

#[test]
fn inputs_are_checked() {
    let rfdn = Engine::new(Model::random(Arch::Rfdn { bits: Bits::B8 }, 1).expect("model"))
        .expect("engine");
    let small = Planes::zeros(3, 14, 20);
    assert!(matches!(
        rfdn.upscale_planes(&small),
        Err(ModelError::BadInput {
            min_height: 15,
            min_width: 15,
            ..
        })
    ));
    assert!(matches!(
        rfdn.upscale_planes_reference(&small),
        Err(ModelError::BadInput { .. })
    ));
    assert!(matches!(
        rfdn.upscale_planes(&Planes::zeros(1, 20, 20)),
        Err(ModelError::BadInput { channels: 1, .. })
    ));
    let espcn = Engine::new(Model::random(Arch::Espcn { bits: Bits::B8 }, 1).expect("model"))
        .expect("engine");
    // Checked before any work: a 1025×1024 image is refused.
    let too_big = Planes::zeros(3, 1025, 1024);
    assert!(matches!(
        espcn.upscale_planes(&too_big),
        Err(ModelError::InputTooLarge {
            max: MAX_INPUT_PIXELS,
            ..
        })
    ));
    let big_rgb = RgbImage8::new(2048, 1024, vec![0; 2048 * 1024 * 3]).expect("image");
    assert!(matches!(
        espcn.upscale(&big_rgb),
        Err(ModelError::InputTooLarge { .. })
    ));
    // 1×1 is fine for networks without pooling.
    let one = espcn.upscale_planes(&Planes::zeros(3, 1, 1)).expect("1x1");
    assert_eq!((one.height, one.width), (4, 4));
}

/// Peak memory grows with the image, not with the depth: the live set is a few tensors.
#[test]
fn peak_memory_is_a_few_tensors() {
    let arch = Arch::SrResNet { bits: Bits::B8 };
    let engine = Engine::new(Model::random(arch, 1).expect("model")).expect("engine");
    let (h, w) = (24, 20);
    let (_, stats) = engine
        .upscale_planes_stats(&Planes::zeros(3, h, w))
        .expect("run");
    // SRResNet's widest tensor is the second upsampling conv's output, 256 channels at
    // 2×. Every reader of it (through the pixel shuffle) is an 8-bit conv, so it is kept
    // as one-byte codes: the conv output and its shuffle are alive together, and the peak
    // is about two such code tensors, less than one f32 copy.
    let widest_codes = 256 * (2 * h) * (2 * w);
    assert!(
        stats.peak_bytes >= 2 * widest_codes,
        "{} vs {widest_codes}",
        stats.peak_bytes
    );
    assert!(
        stats.peak_bytes < 3 * widest_codes,
        "{} vs {widest_codes}",
        stats.peak_bytes
    );
}
