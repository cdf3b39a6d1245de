//! A model file loaded into core's integer engine: metadata, costs and upscaling.

#[cfg(target_family = "wasm")]
use wasm_bindgen::prelude::*;

use quantnas_core::arch::Arch;
use quantnas_core::cost::REPORT_LR_SIDE;
use quantnas_core::engine::Engine;
use quantnas_core::model::ModelError;
use serde_json::json;

use crate::error::{Error, Failure, fail};
use crate::image::Image;

/// A `.qnm` model file parsed, validated and prepared by core's `Engine`.
#[cfg_attr(target_family = "wasm", wasm_bindgen)]
#[derive(Clone, Debug)]
pub struct Model {
    engine: Engine,
}

impl Model {
    /// The engine this wraps.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

#[cfg_attr(target_family = "wasm", wasm_bindgen)]
impl Model {
    /// Parses a model file (core's `Engine::from_bytes`: magic, version, checksum, limits,
    /// parameters checked against the architecture).
    #[cfg_attr(target_family = "wasm", wasm_bindgen(js_name = fromBytes))]
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, Failure> {
        Ok(Model {
            engine: Engine::from_bytes(bytes).map_err(fail)?,
        })
    }

    /// The model's name from its file.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter))]
    pub fn name(&self) -> String {
        self.engine.model().name.clone()
    }

    /// Smallest LR side the network accepts.
    #[cfg_attr(target_family = "wasm", wasm_bindgen(getter, js_name = minInputSide))]
    pub fn min_input_side(&self) -> u32 {
        self.engine.graph().min_input_side() as u32
    }

    /// Everything the page shows about the model, as JSON: `name`, `arch` (core's `Arch`,
    /// what [`arch_cost`](crate::arch_cost) takes), `genotype` (the genotype file, or null
    /// for a fixed network), `parts` (the genotype's parts for drawing it, see
    /// [`Genotype::parts`](quantnas_core::arch::Genotype::parts); null for a fixed
    /// network), `meta` (free-form, from the trainer), `params`, `bitWidths`
    /// (distinct, ascending), `layers` (`[{name, bits}]` per conv), `bitopsReported`
    /// (BitOps at 32×32 LR, spec §8), `minInputSide`.
    pub fn metadata(&self) -> Result<String, Failure> {
        let model = self.engine.model();
        let report = self
            .engine
            .cost(REPORT_LR_SIDE, REPORT_LR_SIDE)
            .map_err(fail)?;
        let layers: Vec<_> = model
            .layer_bits()
            .iter()
            .map(|l| json!({"name": l.name, "bits": l.bits.get()}))
            .collect();
        let mut bit_widths: Vec<u32> = model.layer_bits().iter().map(|l| l.bits.get()).collect();
        bit_widths.sort_unstable();
        bit_widths.dedup();
        let (genotype, parts) = match &model.arch {
            Arch::Genotype { genotype } => (
                serde_json::to_value(genotype).map_err(fail)?,
                crate::facts::parts_json(genotype),
            ),
            _ => (serde_json::Value::Null, serde_json::Value::Null),
        };
        let value = json!({
            "name": model.name,
            "arch": model.arch,
            "genotype": genotype,
            "parts": parts,
            "meta": model.meta,
            "params": report.params,
            "bitWidths": bit_widths,
            "layers": layers,
            "bitopsReported": report.bitops,
            "minInputSide": self.min_input_side(),
        });
        Ok(value.to_string())
    }

    /// Core's `CostReport` as JSON for an LR input of `lr_height`×`lr_width` (see
    /// [`arch_cost`](crate::arch_cost)).
    pub fn cost(&self, lr_height: u32, lr_width: u32) -> Result<String, Failure> {
        let report = self
            .engine
            .cost(lr_height as usize, lr_width as usize)
            .map_err(fail)?;
        crate::cost::report_json(&report)
    }

    /// Upscales `lr` ×4 with core's integer engine.
    pub fn upscale(&self, lr: &Image) -> Result<Image, Failure> {
        let sr = self.engine.upscale(lr.as_rgb()).map_err(fail)?;
        Image::from_rgb(sr).map_err(fail)
    }
}

impl From<ModelError> for Error {
    fn from(e: ModelError) -> Self {
        Error::Model(e)
    }
}

#[cfg(all(test, not(target_family = "wasm")))] // they read `Error` values; wasm runs tests/*
#[allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test
mod tests {
    use super::*;
    use quantnas_core::arch::Bits;
    use quantnas_core::model::Model as CoreModel;

    /// Random weights: only for testing the mechanics, never shown as a result.
    fn random_espcn() -> Vec<u8> {
        CoreModel::random(Arch::Espcn { bits: Bits::B8 }, 7)
            .unwrap()
            .to_bytes()
            .unwrap()
    }

    #[test]
    fn metadata_and_output_size() {
        let m = Model::from_bytes(&random_espcn()).unwrap();
        let meta: serde_json::Value = serde_json::from_str(&m.metadata().unwrap()).unwrap();
        assert_eq!(meta["arch"]["kind"], "espcn");
        assert_eq!(meta["bitWidths"], json!([8]));
        assert_eq!(meta["layers"].as_array().unwrap().len(), 3);
        assert_eq!(meta["bitopsReported"], 37_056u64 * 1024 * 64);
        assert!(meta["genotype"].is_null());
        assert!(meta["parts"].is_null());
        let lr = Image::from_rgba(&[100; 9 * 7 * 4], 9, 7).unwrap();
        let sr = m.upscale(&lr).unwrap();
        assert_eq!((sr.width(), sr.height()), (36, 28));
    }

    #[test]
    fn corrupt_bytes_are_readable_errors() {
        let mut bytes = random_espcn();
        let e = Model::from_bytes(&bytes[..40]).unwrap_err();
        assert!(e.to_string().contains("bytes long"), "{e}");
        let last = bytes.len() / 2;
        bytes[last] ^= 0x55;
        let e = Model::from_bytes(&bytes).unwrap_err();
        assert!(e.to_string().contains("checksum mismatch"), "{e}");
        let e = Model::from_bytes(b"PNG not a model at all").unwrap_err();
        assert!(e.to_string().contains("not a QuantNAS model file"), "{e}");
    }
}
