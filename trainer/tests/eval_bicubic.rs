//! `trainer eval --model bicubic` against the published bicubic baselines (spec §7), and
//! its error messages for bad dataset folders.
#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use std::fs;
use std::path::{Path, PathBuf};

use quantnas_core::metrics::score_sr;
use quantnas_core::resize::bicubic_rgb8;
use trainer::eval::evaluate;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

/// A fresh, empty folder under the system temp dir, unique to this process and test.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quantnas-eval-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn set5_x4_matches_published_bicubic() {
    let r = evaluate("bicubic", &data("Set5"), 4).unwrap();
    assert_eq!(r.images.len(), 5);
    assert_eq!(r.images[0].name, "baby");
    assert!((r.mean_psnr - 28.42).abs() <= 0.03, "PSNR {}", r.mean_psnr);
    assert!(
        (r.mean_ssim - 0.8104).abs() <= 0.002,
        "SSIM {}",
        r.mean_ssim
    );
}

/// Set14 ×4 is the headline metric, and its `bridge.png` is the only grayscale image of the
/// bundled test sets: this is the one end-to-end run of the grayscale path.
#[test]
fn set14_x4_matches_published_bicubic() {
    let set14 = data("Set14");
    let r = evaluate("bicubic", &set14, 4).unwrap();
    assert_eq!(r.images.len(), 14);
    assert!((r.mean_psnr - 26.00).abs() <= 0.03, "PSNR {}", r.mean_psnr);
    assert!(
        (r.mean_ssim - 0.7027).abs() <= 0.002,
        "SSIM {}",
        r.mean_ssim
    );
    // bridge is read as gray and scored on its gray values, not on the BT.601 Y of its
    // R = G = B expansion (which maps 0..255 to 16..235 and changes the score).
    let images = trainer::imageio::load_folder(&set14).unwrap();
    let gray: Vec<&str> = images
        .iter()
        .filter(|i| i.gray)
        .map(|i| i.name.as_str())
        .collect();
    assert_eq!(gray, ["bridge"]);
    let bridge = images.iter().find(|i| i.gray).unwrap();
    let hr = bridge.image.modcrop(4);
    let lr = bicubic_rgb8(&hr, 0.25);
    let sr = bicubic_rgb8(&lr, 4.0);
    let as_gray = score_sr(&sr, &hr, true, 4).unwrap();
    let as_colour = score_sr(&sr, &hr, false, 4).unwrap();
    let reported = r.images.iter().find(|s| s.name == "bridge").unwrap();
    assert_eq!(reported.psnr, as_gray.psnr);
    assert_ne!(reported.psnr, as_colour.psnr);
}

#[test]
fn set5_x2_matches_published_bicubic() {
    let r = evaluate("bicubic", &data("Set5"), 2).unwrap();
    assert!((r.mean_psnr - 33.66).abs() <= 0.03, "PSNR {}", r.mean_psnr);
}

#[test]
fn json_has_the_documented_fields() {
    let r = evaluate("bicubic", &data("Set5"), 4).unwrap();
    let v: serde_json::Value = serde_json::to_value(&r).unwrap();
    for key in [
        "mean_psnr",
        "mean_ssim",
        "scale",
        "dataset",
        "model",
        "images",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["images"][1]["name"], "bird");
    assert!(v["images"][1]["ssim"].is_f64());
}

#[test]
fn missing_folder_is_reported() {
    let dir = std::env::temp_dir().join(format!("quantnas-eval-{}-absent", std::process::id()));
    let msg = format!("{:#}", evaluate("bicubic", &dir, 4).unwrap_err());
    assert!(msg.contains("does not exist"), "{msg}");
}

#[test]
fn empty_folder_is_reported() {
    let dir = temp_dir("empty");
    fs::write(dir.join("readme.txt"), "no images here").unwrap();
    let msg = format!("{:#}", evaluate("bicubic", &dir, 4).unwrap_err());
    fs::remove_dir_all(&dir).unwrap();
    assert!(msg.contains("no images"), "{msg}");
}

#[test]
fn text_file_named_png_is_reported_by_name() {
    let dir = temp_dir("fake-png");
    fs::write(dir.join("fake.png"), "this is plain text, not a PNG").unwrap();
    let msg = format!("{:#}", evaluate("bicubic", &dir, 4).unwrap_err());
    fs::remove_dir_all(&dir).unwrap();
    assert!(msg.contains("fake.png"), "{msg}");
    assert!(msg.contains("not a decodable image"), "{msg}");
}

#[test]
fn bad_model_and_scale_are_reported() {
    let msg = format!("{:#}", evaluate("runs/x", &data("Set5"), 4).unwrap_err());
    assert!(
        msg.contains("is not `bicubic`, a run folder or a model file"),
        "{msg}"
    );
    let msg = format!("{:#}", evaluate("bicubic", &data("Set5"), 0).unwrap_err());
    assert!(msg.contains("--scale"), "{msg}");
}
