//! Fuzzes the genotype JSON reader (`Genotype::from_json`, what the trainer's `--genotype`
//! files, model headers and the wasm bindings go through) on arbitrary text.
//!
//! A genotype it accepts must validate, write back to JSON that reads as the same
//! genotype, compile to a graph and be costed at a small LR size without panicking (an
//! error, e.g. an input below the network's minimum, is fine; a panic or an overflow is
//! not).
#![no_main]

use libfuzzer_sys::fuzz_target;
use quantnas_core::arch::{Arch, Genotype};
use quantnas_core::cost::cost;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(genotype) = Genotype::from_json(text) else {
        return;
    };
    assert_eq!(
        genotype.validate(),
        Ok(()),
        "an accepted genotype validates"
    );
    let again = Genotype::from_json(&genotype.to_json()).expect("written JSON reads back");
    assert_eq!(again, genotype, "JSON round trip");
    let arch = Arch::Genotype { genotype };
    let graph = arch.graph();
    let side = graph.min_input_side();
    assert!(
        side < 64,
        "minimum input side {side} of a search-space child"
    );
    // The length of the text picks a size near the minimum: errors below it, costs above.
    let h = side.saturating_sub(1) + data.len() % 4;
    let w = side + data.len() % 3;
    if let Ok(report) = cost(&graph, h, w) {
        assert!(
            report.bitops >= report.macs,
            "BitOps count every MAC at least once"
        );
    }
    let _ = cost(&graph, side, side).expect("the minimum side is accepted");
});
