//! Fuzzes the browser demo's entry points (`quantnas-wasm`), called natively: they are
//! plain Rust functions (`wasm_bindgen` is only applied on wasm targets), so no JS types
//! are involved.
//!
//! The first byte picks the entry point:
//! - `0 mod 3`, an uploaded image: `Image::from_rgba` (width and height from the next two
//!   bytes, up to 255; when the low bit of the next byte is set the RGBA bytes are the
//!   rest of the input repeated to the right length, else the rest as is, which tests the
//!   length check), then `rgba`, `is_gray`, `modcrop`, `resize_bicubic` (scale from the
//!   input, including zero, negative, NaN and huge ones) and `score`.
//! - `1 mod 3`, a model file: `Model::from_bytes` (second byte odd: reseal the rest, as in
//!   `model_file`), then `metadata` (must be JSON), `name`, `min_input_side` and `cost` at a
//!   size from the input. No upscaling: `model_file` covers inference.
//! - `2 mod 3`, `arch_cost` on the rest as architecture JSON at a size from the input, and
//!   `bits_colour`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quantnas_core::model::reseal;
use quantnas_wasm::{Image, MAX_IMAGE_SIDE, Model, arch_cost, bits_colour, score};

/// Largest image (pixels) whose RGBA bytes the target builds itself.
const MAX_BUILT_PIXELS: usize = 48 * 48;

fn image(data: &[u8]) {
    let [w, h, flags, s0, s1, rest @ ..] = data else {
        return;
    };
    let (w, h) = (u32::from(*w), u32::from(*h));
    let pixels = (w * h) as usize;
    let rgba: Vec<u8> = if flags & 1 == 1 && !rest.is_empty() && pixels <= MAX_BUILT_PIXELS {
        rest.iter().copied().cycle().take(pixels * 4).collect()
    } else {
        rest.to_vec()
    };
    let Ok(img) = Image::from_rgba(&rgba, w, h) else {
        assert!(
            w == 0 || h == 0 || rgba.len() != pixels * 4,
            "a valid image refused"
        );
        return;
    };
    assert_eq!((img.width(), img.height()), (w, h));
    let back = img.rgba();
    assert_eq!(back.len(), rgba.len());
    assert_eq!(
        Image::from_rgba(&back, w, h).ok().as_ref(),
        Some(&img),
        "RGBA round trip"
    );
    let gray = img.is_gray();
    if let Ok(cropped) = img.modcrop(u32::from(*s0 % 8)) {
        assert!(cropped.width() <= w && cropped.height() <= h);
        assert!(!gray || cropped.is_gray());
    }
    // Scales: s0/32 (0 to 8 in steps of 1/32), 1/s0, or raw bits for NaN, infinities
    // and subnormals.
    let scale = match flags >> 1 & 3 {
        0 => f64::from(*s0) / 32.0,
        1 => 1.0 / f64::from(*s0),
        2 => -f64::from(*s0) / 4.0,
        _ => f64::from_bits(u64::from_le_bytes([*s0, *s1, *s0, *s1, *s1, *s0, *s1, *s0])),
    };
    // Outputs of more than 512 x 512 pixels within the size limit are skipped: legal, but
    // each costs seconds instrumented (a scale of 300 makes 6000 x 6000 pixels).
    let out = |n: u32| f64::from(n) * scale;
    let slow = scale.is_finite()
        && out(w) * out(h) > 512.0 * 512.0
        && out(w).max(out(h)) <= MAX_IMAGE_SIDE as f64;
    if let Some(Ok(resized)) = (!slow).then(|| img.resize_bicubic(scale)) {
        let side = resized.width().max(resized.height()) as usize;
        assert!(side <= MAX_IMAGE_SIDE, "resize to {side} px");
        let small = resized.width() * resized.height() <= 128 * 128;
        if let Some(Ok(s)) = small.then(|| score(&resized, &resized)) {
            assert!(
                s.psnr.is_infinite() && s.ssim == 1.0,
                "self score {s:?} of {}x{}",
                resized.width(),
                resized.height()
            );
        }
    }
    if let Ok(s) = score(&img, &img.modcrop(1).expect("a copy")) {
        assert!(s.psnr.is_infinite() && s.ssim == 1.0, "self score {s:?}");
    }
}

fn model(data: &[u8]) {
    let [mode, h, w, rest @ ..] = data else {
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
    let meta = model.metadata().expect("metadata of an accepted model");
    let value: serde_json::Value = serde_json::from_str(&meta).expect("metadata is JSON");
    assert_eq!(value["name"], model.name());
    assert_eq!(value["minInputSide"], model.min_input_side());
    // Sizes around the minimum, and a huge one (must be an error, not an overflow).
    let side = model.min_input_side();
    let _ = model.cost(
        side + u32::from(*h % 8),
        side.saturating_sub(4) + u32::from(*w % 8),
    );
    let _ = model.cost(u32::MAX - u32::from(*h), u32::MAX - u32::from(*w));
}

fn arch(data: &[u8]) {
    let [h, w, b, rest @ ..] = data else {
        return;
    };
    let _ = bits_colour(u32::from(*b));
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if let Ok(report) = arch_cost(text, u32::from(*h), u32::from(*w)) {
        let _: serde_json::Value = serde_json::from_str(&report).expect("report is JSON");
    }
    let huge = u32::MAX - u32::from(*h);
    let _ = arch_cost(text, huge, huge);
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => image(rest),
        1 => model(rest),
        _ => arch(rest),
    }
});
