//! BitOps, MACs and parameters with the per-layer breakdown, for any LR input size.

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use quantnas_core::arch::{Arch, Op};
use quantnas_core::cost::{CostReport, cost};

use crate::error::{Failure, fail};

/// Core's `CostReport` as JSON (`params`, `macs`, `bitops`, `layers[]` with `name`, `op`,
/// `kernel`, `bits`, `searchable`, `params`, `macs`, `bitops`, and `label`: the op's label
/// for pictures, null for a fixed layer) for the architecture
/// `arch_json` (core's `Arch` as JSON, e.g. `{"kind":"espcn","bits":8}` or
/// `{"kind":"genotype","genotype":{...}}`) on an LR input of `lr_height`×`lr_width`.
#[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = archCost))]
pub fn arch_cost(arch_json: &str, lr_height: u32, lr_width: u32) -> Result<String, Failure> {
    let arch: Arch = serde_json::from_str(arch_json).map_err(fail)?;
    let report = cost(&arch.graph(), lr_height as usize, lr_width as usize).map_err(fail)?;
    report_json(&report)
}

/// A `CostReport` as JSON, each layer with a `label` added: its op's label for pictures
/// (`Op::label`), null for a fixed layer.
pub(crate) fn report_json(report: &CostReport) -> Result<String, Failure> {
    let mut value = serde_json::to_value(report).map_err(fail)?;
    if let Some(layers) = value["layers"].as_array_mut() {
        for (json, layer) in layers.iter_mut().zip(&report.layers) {
            json["label"] = if layer.searchable {
                let op: Op = layer.op.parse().map_err(fail)?;
                op.label().into()
            } else {
                serde_json::Value::Null
            };
        }
    }
    Ok(value.to_string())
}

/// Core's colour for a bit width (`Bits::colour`), which the page puts in its CSS so that
/// its pictures match the trainer's; an error for a width other than 2, 3, 4, 8 or 32.
#[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = bitsColour))]
pub fn bits_colour(bits: u32) -> Result<String, Failure> {
    let b = quantnas_core::arch::Bits::try_from(bits).map_err(fail)?;
    Ok(b.colour().to_string())
}

/// Core's legend label for a bit width (`Bits::label`: `32-bit (float)`); an error for a
/// width other than 2, 3, 4, 8 or 32.
#[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = bitsLabel))]
pub fn bits_label(bits: u32) -> Result<String, Failure> {
    let b = quantnas_core::arch::Bits::try_from(bits).map_err(fail)?;
    Ok(b.label().to_string())
}

/// The version of these bindings (the workspace version).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The integer conv kernel this module runs (`wasm-simd128`, `wasm-relaxed-simd`, …).
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
pub fn kernel() -> String {
    quantnas_core::engine::Isa::best().name().to_string()
}

#[cfg(all(test, not(target_family = "wasm")))] // they read `Error` values; wasm runs tests/*
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn espcn_cost_scales_with_the_input() {
        let arch = r#"{"kind":"espcn","bits":8}"#;
        let at = |h, w| -> serde_json::Value {
            serde_json::from_str(&arch_cost(arch, h, w).unwrap()).unwrap()
        };
        let small = at(32, 32);
        assert_eq!(small["macs"], 37_056u64 * 1024);
        assert_eq!(small["layers"].as_array().unwrap().len(), 3);
        assert_eq!(small["layers"][0]["bits"], 8);
        assert!(
            small["layers"][0]["label"].is_null(),
            "a fixed layer has no op"
        );
        assert_eq!(at(64, 32)["bitops"], 2 * 37_056u64 * 1024 * 64);
    }

    #[test]
    fn bit_colours_are_core_s_and_bad_widths_are_errors() {
        for b in quantnas_core::arch::Bits::ALL {
            assert_eq!(bits_colour(b.get()).unwrap(), b.colour());
        }
        assert_ne!(bits_colour(4).unwrap(), bits_colour(8).unwrap());
        assert_eq!(bits_label(32).unwrap(), "32-bit (float)");
        assert!(bits_label(5).is_err());
        let e = bits_colour(5).unwrap_err().to_string();
        assert!(e.contains('5'), "{e}");
    }

    #[test]
    fn bad_arch_json_is_a_readable_error() {
        let e = arch_cost("{nope", 32, 32).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("invalid architecture JSON at line 1"),
            "{e}"
        );
        let e = arch_cost(r#"{"kind":"espcn","bits":5}"#, 32, 32).unwrap_err();
        assert!(e.to_string().contains("bit width 5"), "{e}");
    }
}
