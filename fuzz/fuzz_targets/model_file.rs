//! Fuzzes the model file reader, and the engine on whatever it accepts.
//!
//! The first input byte picks a mode: odd means "the rest is a file without its length
//! and checksum": they are rewritten ([`reseal`]) so that mutations reach the parser past
//! the checksum; even means "the rest is the file as is". Every accepted model must
//! serialise back to bytes that parse to the same model, and must run on a tiny image
//! without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quantnas_core::engine::Engine;
use quantnas_core::image::RgbImage8;
use quantnas_core::model::{Model, reseal};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 {
        reseal(&mut bytes);
    }
    let Ok(model) = Model::from_bytes(&bytes) else {
        return;
    };
    let again = model.to_bytes().expect("an accepted model serialises");
    assert_eq!(Model::from_bytes(&again).as_ref(), Ok(&model), "round trip");
    let engine = Engine::new(model).expect("an accepted model runs");
    let side = engine.graph().min_input_side().max(2);
    let pixels: Vec<u8> = (0..side * (side + 1) * 3)
        .map(|i| (i * 37 % 256) as u8)
        .collect();
    let image = RgbImage8::new(side + 1, side, pixels).expect("image");
    let out = engine.upscale(&image).expect("upscale");
    assert_eq!((out.width, out.height), (4 * (side + 1), 4 * side));
});
