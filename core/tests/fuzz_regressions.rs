//! Inputs the fuzzers (`fuzz/`) found, replayed here so that the bugs stay fixed. Each
//! file in `tests/corpus/fuzz/` is named `<target>-<what>.bin` and is also a valid input
//! of that fuzz target (`fuzz/target/.../<target> FILE` replays it there).

use std::path::PathBuf;

use quantnas_core::image::RgbImage8;
use quantnas_core::metrics::score_sr;
use quantnas_core::resize::bicubic_rgb8;

fn corpus(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/fuzz")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn is_gray(img: &RgbImage8) -> bool {
    img.data
        .chunks_exact(3)
        .all(|p| p[0] == p[1] && p[1] == p[2])
}

/// `wasm_entry` found that an image scored against itself got 349.16 dB and an SSIM of
/// 1.0000000000000002 instead of an infinite PSNR and exactly 1 when it was gray: gray
/// ground truths are scored against the luma `0.299 R + 0.587 G + 0.114 B` of the output,
/// which summed that way is not exactly the gray value (8 gave 7.999999999999999; 65 of
/// the 256 levels are off by an ulp).
#[test]
fn wasm_entry_gray_image_scores_itself_perfectly() {
    // The input, in `wasm_entry`'s image mode: 0, width 99, height 8, flags 0x61 (the rest
    // repeated as RGBA, scale s0 / 32), s0 = 0x63 (scale 3.09375), s1, then one byte: 8.
    let input = corpus("wasm_entry-gray-self-score.bin");
    let [0, w, h, flags, s0, _s1, rest @ ..] = input.as_slice() else {
        panic!("not a wasm_entry image input: {input:?}");
    };
    assert_eq!(
        (flags & 1, flags >> 1 & 3),
        (1, 0),
        "repeated RGBA, scale s0 / 32"
    );
    let (w, h) = (usize::from(*w), usize::from(*h));
    let rgba: Vec<u8> = rest.iter().copied().cycle().take(w * h * 4).collect();
    let rgb = rgba
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let img = RgbImage8::new(w, h, rgb).expect("image");
    let resized = bicubic_rgb8(&img, f64::from(*s0) / 32.0);
    assert_eq!((resized.width, resized.height), (307, 25));
    assert!(is_gray(&resized));
    let s = score_sr(&resized, &resized, true, 4).expect("score");
    assert_eq!((s.psnr, s.ssim), (f64::INFINITY, 1.0));

    // Every gray level.
    for v in 0..=255u8 {
        let gray = RgbImage8::new(20, 20, vec![v; 20 * 20 * 3]).expect("image");
        let s = score_sr(&gray, &gray, true, 4).expect("score");
        assert_eq!((s.psnr, s.ssim), (f64::INFINITY, 1.0), "gray {v}");
    }
}
