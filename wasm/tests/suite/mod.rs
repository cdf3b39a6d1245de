//! The one test suite of the bindings, run natively, in node and in headless Chromium
//! (`node.rs`, `browser.rs`). Expected values come from core called directly and from
//! constants that the native run checks too, so a pass in wasm means wasm equals native.
#![allow(clippy::unwrap_used, clippy::expect_used)] // in tests a failed unwrap is a failed test
#![allow(dead_code)] // each runner file uses the whole suite, the compiler sees one at a time

use quantnas_core::arch::{Arch, Bits};
use quantnas_core::image::RgbImage8;
use quantnas_core::metrics::score_sr;
use quantnas_core::model::Model as CoreModel;
use quantnas_core::resize::bicubic_rgb8;
use quantnas_wasm::{Failure, Image, Model, arch_cost, op_label, request_sizes, scale, score};

include!(concat!(env!("OUT_DIR"), "/bundled_models.rs"));

/// Set5 `butterfly` (256×256), the image the page benchmarks and the tests score on.
const BUTTERFLY: &[u8] = include_bytes!("../../../data/Set5/butterfly.png");
/// Set14 `bridge` (512×512, grayscale PNG).
const BRIDGE: &[u8] = include_bytes!("../../../data/Set14/bridge.png");

/// FNV-1a of butterfly's bicubic ×¼ then ×4 bytes, as the native build computes it.
const BUTTERFLY_BICUBIC_FNV: u64 = 0x660d_6662_11a3_48c8;
/// Y-PSNR of that bicubic result against the HR (published: 22.1 dB for butterfly).
const BUTTERFLY_BICUBIC_PSNR: f64 = 22.099_610_970_613;

/// Generates one test per suite function, for the harness of the target.
#[macro_export]
macro_rules! suite_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
            #[cfg_attr(not(target_family = "wasm"), test)]
            fn $name() {
                suite::$name();
            }
        )*
    };
}

/// The message a binding error shows: a JavaScript `Error`'s message in wasm.
fn message(e: Failure) -> String {
    #[cfg(target_family = "wasm")]
    {
        let v: wasm_bindgen::JsValue = e.into();
        js_sys::Error::from(v).message().into()
    }
    #[cfg(not(target_family = "wasm"))]
    {
        e.to_string()
    }
}

fn decode(png: &[u8]) -> RgbImage8 {
    let img = image::load_from_memory(png).expect("decode PNG").to_rgb8();
    let (w, h) = img.dimensions();
    RgbImage8::new(w as usize, h as usize, img.into_raw()).unwrap()
}

/// As a canvas gives it: RGBA, a gray PNG expanded to R = G = B.
fn rgba(img: &RgbImage8) -> Vec<u8> {
    img.data
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect()
}

fn to_image(img: &RgbImage8) -> Image {
    Image::from_rgba(&rgba(img), img.width as u32, img.height as u32).unwrap()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The models the page bundles (at least one: the page, and these tests, are about
/// them), and one random-weight ESPCN that exercises the mechanics of a fixed network.
fn models_for_mechanics() -> Vec<(String, Vec<u8>)> {
    let mut models = bundled_models();
    let random = CoreModel::random(Arch::Espcn { bits: Bits::B8 }, 1).unwrap();
    models.push((
        "random-espcn (mechanics only)".into(),
        random.to_bytes().unwrap(),
    ));
    models
}

/// Every model `web/models/manifest.json` lists. Fails when it lists none, or a listed
/// file is missing: a test that needs a bundled model must not pass without one.
fn bundled_models() -> Vec<(String, Vec<u8>)> {
    assert!(
        !BUNDLED_MODELS.is_empty(),
        "web/models/manifest.json lists no model: the page has nothing to run"
    );
    BUNDLED_MODELS
        .iter()
        .map(|(f, b)| {
            (
                f.to_string(),
                b.unwrap_or_else(|| panic!("web/models/{f} is listed but missing"))
                    .to_vec(),
            )
        })
        .collect()
}

/// HR → modcrop → bicubic ×¼ (the benchmark protocol), through the bindings.
fn lr_of(hr: &Image) -> (Image, Image) {
    let hr = hr.modcrop(4).unwrap();
    let lr = hr.resize_bicubic(0.25).unwrap();
    (hr, lr)
}

pub fn models_load_with_metadata() {
    for (file, bytes) in models_for_mechanics() {
        let m = Model::from_bytes(&bytes).unwrap_or_else(|e| panic!("{file}: {}", message(e)));
        let meta: serde_json::Value = serde_json::from_str(&m.metadata().unwrap()).unwrap();
        assert_eq!(meta["name"], m.name(), "{file}");
        assert!(!m.name().is_empty(), "{file}");
        let layers = meta["layers"].as_array().unwrap();
        assert!(!layers.is_empty(), "{file}");
        for l in layers {
            assert!(
                [2, 3, 4, 8, 32].contains(&l["bits"].as_u64().unwrap()),
                "{file}: {l}"
            );
        }
        assert!(meta["params"].as_u64().unwrap() > 0, "{file}");
        assert!(meta["bitopsReported"].as_u64().unwrap() > 0, "{file}");
        // The architecture round-trips into the cost function the page calls live.
        let report: serde_json::Value =
            serde_json::from_str(&arch_cost(&meta["arch"].to_string(), 32, 32).unwrap()).unwrap();
        assert_eq!(report["bitops"], meta["bitopsReported"], "{file}");
        let here: serde_json::Value = serde_json::from_str(&m.cost(32, 32).unwrap()).unwrap();
        assert_eq!(here, report, "{file}");
    }
}

pub fn output_sizes() {
    let lr = Image::from_rgba(&[90; 17 * 13 * 4], 17, 13).unwrap();
    let up = lr.resize_bicubic(4.0).unwrap();
    assert_eq!((up.width(), up.height()), (68, 52));
    assert_eq!(up.rgba().len(), 68 * 52 * 4);
    for (file, bytes) in models_for_mechanics() {
        let m = Model::from_bytes(&bytes).unwrap();
        // Sides that are odd and not multiples of the scale, and the smallest the network
        // takes (RFDN's attention pools need 15 pixels): exactly those sizes run.
        let side = m.min_input_side();
        let (w, h) = (side.max(17) + 2, side.max(13));
        let lr = Image::from_rgba(&vec![90; (w * h * 4) as usize], w, h).unwrap();
        let sr = m
            .upscale(&lr)
            .unwrap_or_else(|e| panic!("{file}: {}", message(e)));
        assert_eq!((sr.width(), sr.height()), (4 * w, 4 * h), "{file}");
        assert_eq!(sr.rgba().len(), (16 * w * h * 4) as usize, "{file}");
        if side > 1 {
            let small = Image::from_rgba(&vec![90; (w * (side - 1) * 4) as usize], w, side - 1);
            let e = message(m.upscale(&small.unwrap()).err().unwrap());
            assert!(
                e.contains(&format!("at least {side}×{side}")),
                "{file}: {e}"
            );
        }
    }
    // Benchmark protocol: woman (228×344) is already a multiple of 4.
    let hr = Image::from_rgba(&[0; 230 * 345 * 4], 230, 345).unwrap();
    let (hr, lr) = lr_of(&hr);
    assert_eq!(
        (hr.width(), hr.height(), lr.width(), lr.height()),
        (228, 344, 57, 86)
    );
}

pub fn bicubic_equals_native_bit_for_bit() {
    let native_hr = decode(BUTTERFLY).modcrop(4);
    let native = bicubic_rgb8(&bicubic_rgb8(&native_hr, 0.25), 4.0);
    let (hr, lr) = lr_of(&to_image(&decode(BUTTERFLY)));
    let up = lr.resize_bicubic(4.0).unwrap();
    assert_eq!(up.as_rgb(), &native);
    // The same constant natively and in wasm: wasm's bytes are native's bytes.
    assert_eq!(
        fnv1a(&up.as_rgb().data),
        BUTTERFLY_BICUBIC_FNV,
        "fnv {:#x}",
        fnv1a(&up.as_rgb().data)
    );
    let s = score(&up, &hr).unwrap();
    assert!(
        (s.psnr - BUTTERFLY_BICUBIC_PSNR).abs() < 1e-9,
        "psnr {:.12}",
        s.psnr
    );
}

pub fn gray_ground_truth_is_scored_on_gray() {
    let (hr, lr) = lr_of(&to_image(&decode(BRIDGE)));
    assert!(hr.is_gray());
    let up = lr.resize_bicubic(4.0).unwrap();
    let s = score(&up, &hr).unwrap();
    let gray = score_sr(up.as_rgb(), hr.as_rgb(), true, 4).unwrap();
    let as_y = score_sr(up.as_rgb(), hr.as_rgb(), false, 4).unwrap();
    assert_eq!((s.psnr, s.ssim), (gray.psnr, gray.ssim));
    assert_ne!(s.psnr, as_y.psnr);
}

/// The page shows each bundled model's `<name>.set5.json`; its engine must give those
/// numbers. The trained networks beat bicubic; the study's may not (4-bit ESPCN does not),
/// and then the page says so rather than hide it.
pub fn bundled_models_score_their_evaluations() {
    let (hr, lr) = lr_of(&to_image(&decode(BUTTERFLY)));
    let bicubic = score(&lr.resize_bicubic(4.0).unwrap(), &hr).unwrap();
    for (file, bytes) in bundled_models() {
        let m = Model::from_bytes(&bytes).unwrap_or_else(|e| panic!("{file}: {}", message(e)));
        let s = score(&m.upscale(&lr).unwrap(), &hr).unwrap();
        let eval = BUNDLED_SET5
            .iter()
            .find(|(f, _)| *f == file)
            .and_then(|(_, text)| *text)
            .unwrap_or_else(|| panic!("{file} has no Set5 evaluation beside it"));
        let eval: serde_json::Value = serde_json::from_str(eval).unwrap();
        let butterfly = eval["images"]
            .as_array()
            .and_then(|images| images.iter().find(|i| i["name"] == "butterfly"))
            .unwrap_or_else(|| panic!("{file}: its Set5 evaluation has no butterfly"));
        for (got, key) in [(s.psnr, "psnr"), (s.ssim, "ssim")] {
            let want = butterfly[key].as_f64().unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "{file}: butterfly {key} {got:.12} here, {want:.12} in its evaluation"
            );
        }
        if !file.starts_with("study-") {
            assert!(
                s.psnr > bicubic.psnr,
                "{file}: {:.3} dB does not beat bicubic's {:.3} dB on Set5 butterfly",
                s.psnr,
                bicubic.psnr
            );
        }
    }
}

pub fn corrupt_model_bytes_throw() {
    let good = CoreModel::random(Arch::Espcn { bits: Bits::B8 }, 2)
        .unwrap()
        .to_bytes()
        .unwrap();
    let expect = |bytes: &[u8], needle: &str| {
        let e = Model::from_bytes(bytes)
            .map(|_| ())
            .expect_err("corrupt bytes must not load");
        let msg = message(e);
        assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
    };
    expect(&[], "truncated");
    expect(&good[..good.len() / 2], "bytes long");
    let mut flipped = good.clone();
    flipped[good.len() / 3] ^= 0x10;
    expect(&flipped, "checksum mismatch");
    expect(BUTTERFLY, "not a QuantNAS model file");
}

pub fn bad_images_throw() {
    let msg = message(Image::from_rgba(&[0; 10], 2, 2).unwrap_err());
    assert_eq!(msg, "RGBA buffer holds 10 bytes, but 2x2 pixels need 16");
    let msg = message(Image::from_rgba(&[], 0, 3).unwrap_err());
    assert!(msg.contains("outside 1..=8192"), "{msg}");
    let tiny = Image::from_rgba(&[0; 4], 1, 1).unwrap();
    let msg = message(score(&tiny, &tiny).unwrap_err());
    assert!(msg.contains("too small"), "{msg}");
}

pub fn cost_follows_the_input_size() {
    let at = |h, w| -> serde_json::Value {
        serde_json::from_str(&arch_cost(r#"{"kind":"espcn","bits":8}"#, h, w).unwrap()).unwrap()
    };
    // Spec §8: 37,056 MACs per LR pixel, 2.43·10^9 BitOps at 32×32.
    assert_eq!(at(32, 32)["bitops"], 37_056u64 * 1024 * 64);
    assert_eq!(at(256, 256)["macs"], 37_056u64 * 256 * 256);
    let msg = message(arch_cost("[]", 32, 32).unwrap_err());
    assert!(msg.starts_with("invalid architecture JSON"), "{msg}");
}

/// What the page draws and sizes comes from core, in wasm as natively: every found model's
/// parts hold each slot once with core's op label, every slot layer of its cost carries
/// that label, and the request sizes are those of the worker's pipeline.
pub fn page_facts_agree_with_the_models() {
    for (file, bytes) in bundled_models() {
        let m = Model::from_bytes(&bytes).unwrap_or_else(|e| panic!("{file}: {}", message(e)));
        let meta: serde_json::Value = serde_json::from_str(&m.metadata().unwrap()).unwrap();
        let cost: serde_json::Value = serde_json::from_str(&m.cost(32, 32).unwrap()).unwrap();
        for l in cost["layers"].as_array().unwrap() {
            let searchable = l["searchable"].as_bool().unwrap();
            assert_eq!(l["label"].is_string(), searchable, "{file}: {l}");
        }
        if meta["genotype"].is_null() {
            assert!(meta["parts"].is_null(), "{file}");
            continue;
        }
        let slots = meta["genotype"]["slots"].as_array().unwrap();
        let drawn: Vec<&serde_json::Value> = meta["parts"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["slots"].as_array().unwrap())
            .collect();
        assert_eq!(drawn.len(), slots.len(), "{file}: every slot drawn once");
        for (d, s) in drawn.iter().zip(slots) {
            assert_eq!(d["slot"], s["slot"], "{file}");
            assert_eq!(d["bits"], s["bits"], "{file}");
            let label = op_label(s["op"].as_str().unwrap()).unwrap();
            assert_eq!(d["label"], label.as_str(), "{file}");
        }
    }
    let sizes: serde_json::Value =
        serde_json::from_str(&request_sizes("benchmark", 256, 255).unwrap()).unwrap();
    let hr = Image::from_rgba(&vec![9; 256 * 255 * 4], 256, 255).unwrap();
    let (hr, lr) = lr_of(&hr);
    assert_eq!(sizes["hr"]["height"], hr.height());
    assert_eq!(sizes["lr"]["width"], lr.width());
    assert_eq!(sizes["lr"]["height"], lr.height());
    assert_eq!(sizes["sr"]["width"], scale() * lr.width());
}
