//! What core knows that the page shows: the scale, the bit widths, the reference networks,
//! the reporting size, the input limits and the sizes a request goes through, op labels
//! and a genotype's parts. The page asks for these instead of writing them again.

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use quantnas_core::arch::{Arch, Bits, Genotype, Op, SCALE};
use quantnas_core::cost::REPORT_LR_SIDE;
use quantnas_core::limits::{
    MAX_BENCHMARK_SIDE, MAX_INPUT_BYTES, MAX_UPSCALE_SIDE, MIN_BENCHMARK_SIDE,
};
use quantnas_core::resize::output_len;
use serde_json::{Value, json};

use crate::error::{Error, Failure, fail};

/// The upscaling factor of every network (4).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn scale() -> u32 {
    SCALE as u32
}

/// Every bit width a layer may take, ascending (2, 3, 4, 8, 32).
#[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = bitWidths))]
pub fn bit_widths() -> Vec<u32> {
    Bits::ALL.iter().map(|b| b.get()).collect()
}

/// The LR side at which BitOps are reported (spec §8: 32).
#[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = reportLrSide))]
pub fn report_lr_side() -> u32 {
    REPORT_LR_SIDE as u32
}

/// The fixed reference networks as JSON: `[{title, arch}]`, `arch` as
/// [`arch_cost`](crate::arch_cost) takes it.
#[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = referenceNetworks))]
pub fn reference_networks() -> String {
    let list: Vec<Value> = Arch::references()
        .iter()
        .map(|a| json!({"title": a.title(), "arch": a}))
        .collect();
    Value::Array(list).to_string()
}

/// The input limits as JSON (core's `limits`): `maxFileBytes`, `maxUpscaleSide`,
/// `maxBenchmarkSide`, `minBenchmarkSide` (pixels per side of the image as given).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn limits() -> String {
    json!({
        "maxFileBytes": MAX_INPUT_BYTES,
        "maxUpscaleSide": MAX_UPSCALE_SIDE,
        "maxBenchmarkSide": MAX_BENCHMARK_SIDE,
        "minBenchmarkSide": MIN_BENCHMARK_SIDE,
    })
    .to_string()
}

/// The sizes a request of `mode` (`benchmark` or `upscale`) goes through for an image of
/// `width`×`height`, as JSON `{hr, lr, sr}` (each `{width, height}`; `hr` is null in
/// upscale mode): benchmark mode modcrops to a multiple of the scale, shrinks by it (the
/// LR input) and upscales back; upscale mode upscales the image as given.
#[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = requestSizes))]
pub fn request_sizes(mode: &str, width: u32, height: u32) -> Result<String, Failure> {
    let size = |w: usize, h: usize| json!({"width": w, "height": h});
    let (w, h) = (width as usize, height as usize);
    let (hr, lr) = match mode {
        "benchmark" => {
            let (hw, hh) = (w - w % SCALE, h - h % SCALE);
            let shrink = 1.0 / SCALE as f64;
            let lr = (output_len(hw, shrink), output_len(hh, shrink));
            (size(hw, hh), lr)
        }
        "upscale" => (Value::Null, (w, h)),
        _ => return Err(fail(Error::Mode(mode.to_string()))),
    };
    Ok(json!({
        "hr": hr,
        "lr": size(lr.0, lr.1),
        "sr": size(SCALE * lr.0, SCALE * lr.1),
    })
    .to_string())
}

/// The label of an op for pictures (`simple_3x3_grouped_3` → `simple 3×3 g3`).
#[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = opLabel))]
pub fn op_label(name: &str) -> Result<String, Failure> {
    let op: Op = name.parse().map_err(fail)?;
    Ok(op.label())
}

/// A genotype's parts as a JSON value: `[{name, note, slots: [{slot, short, op, label,
/// bits}]}]` (core's `Genotype::parts`; `short` is the slot name inside its part).
pub(crate) fn parts_json(genotype: &Genotype) -> Value {
    let slots = genotype.space.slots();
    let parts: Vec<Value> = genotype
        .parts()
        .iter()
        .map(|p| {
            let prefix = format!("{}.", p.name);
            let list: Vec<Value> = p
                .slots
                .iter()
                .map(|&i| {
                    let name = &slots[i].name;
                    let choice = genotype.choices[i];
                    json!({
                        "slot": name,
                        "short": name.strip_prefix(&prefix).unwrap_or(name),
                        "op": choice.op.name(),
                        "label": choice.op.label(),
                        "bits": choice.bits.get(),
                    })
                })
                .collect();
            json!({"name": p.name, "note": p.note, "slots": list})
        })
        .collect();
    Value::Array(parts)
}

#[cfg(all(test, not(target_family = "wasm")))] // they read `Error` values; wasm runs tests/*
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use quantnas_core::arch::{Residual, SearchSpace};

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn facts_are_core_s() {
        assert_eq!(scale(), 4);
        assert_eq!(bit_widths(), [2, 3, 4, 8, 32]);
        assert_eq!(report_lr_side(), 32);
        let refs = parse(&reference_networks());
        assert_eq!(refs.as_array().unwrap().len(), 6);
        assert_eq!(refs[0]["title"], "ESPCN 8-bit");
        assert_eq!(refs[0]["arch"], json!({"kind": "espcn", "bits": 8}));
        // What the page sends back for a cost is what it was given.
        crate::arch_cost(&refs[5]["arch"].to_string(), 32, 32).unwrap();
        let l = parse(&limits());
        assert_eq!(l["maxUpscaleSide"], 512);
        assert_eq!(l["maxBenchmarkSide"], 2048);
        assert_eq!(l["minBenchmarkSide"], 20);
        assert_eq!(l["maxFileBytes"], 40 << 20);
    }

    #[test]
    fn request_sizes_follow_the_worker_s_pipeline() {
        let b = parse(&request_sizes("benchmark", 228, 345).unwrap());
        assert_eq!(b["hr"], json!({"width": 228, "height": 344}));
        assert_eq!(b["lr"], json!({"width": 57, "height": 86}));
        assert_eq!(b["sr"], json!({"width": 228, "height": 344}));
        let u = parse(&request_sizes("upscale", 30, 7).unwrap());
        assert!(u["hr"].is_null());
        assert_eq!(u["sr"], json!({"width": 120, "height": 28}));
        let e = request_sizes("zoom", 30, 7).unwrap_err();
        assert!(e.to_string().contains("zoom"), "{e}");
    }

    #[test]
    fn op_labels_and_parts() {
        assert_eq!(op_label("simple_3x3_grouped_3").unwrap(), "simple 3×3 g3");
        assert!(op_label("simple_4x4").is_err());
        let g = Genotype::nth_candidates(SearchSpace::BasicB, Residual::BatchNorm, 0, Bits::B4);
        let parts = parts_json(&g);
        assert_eq!(parts[1]["name"], "body");
        assert_eq!(parts[1]["slots"][0]["short"], "body1");
        assert_eq!(parts[1]["slots"][0]["label"], "conv 5×1 1×5");
        let note = parts[1]["note"].as_str().unwrap();
        assert!(
            note.contains("batch-norm") && !note.contains("ADQ"),
            "{note}"
        );
        assert_eq!(parts[2]["slots"][0]["short"], "upsample");
    }
}
