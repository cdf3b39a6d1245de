//! Fuzzes the model file reader alone: no engine, no inference, so it runs thousands of
//! times faster than `model_file` and spends its time in the parser.
//!
//! Same input convention as `model_file` (and the same seeds): the first byte picks a
//! mode, odd means "the rest is a file without its length and checksum", which are
//! rewritten ([`reseal`]) so that mutations get past the checksum; even means "the rest is
//! the file as is". A model `from_bytes` accepts must pass `validate` and list one bit
//! width per conv of its graph.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quantnas_core::model::{Model, reseal};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let model = if mode & 1 == 1 {
        let mut bytes = rest.to_vec();
        reseal(&mut bytes);
        Model::from_bytes(&bytes)
    } else {
        Model::from_bytes(rest)
    };
    let Ok(model) = model else {
        return;
    };
    assert_eq!(model.validate(), Ok(()), "an accepted model validates");
    assert_eq!(
        model.layer_bits().len(),
        model.arch.graph().convs().count(),
        "one bit width per conv"
    );
});
