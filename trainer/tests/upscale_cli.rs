//! `trainer upscale`: real PNG and JPEG inputs give the engine's ×4 output; bad inputs
//! and outputs are refused with a message that names the problem, before anything is
//! written.
#![allow(clippy::unwrap_used)] // in tests a failed unwrap is a failed test

use std::fs;
use std::path::{Path, PathBuf};

use quantnas_core::engine::Engine;
use quantnas_core::image::RgbImage8;
use quantnas_core::limits::MAX_UPSCALE_SIDE;
use trainer::imageio::{load_rgb8, save_png};
use trainer::upscale::{UpscaleArgs, run};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quantnas-upscale-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn model() -> PathBuf {
    repo("web/models/espcn-8bit.qnm")
}

fn args(inputs: &[&Path], output: &Path) -> UpscaleArgs {
    UpscaleArgs {
        inputs: inputs.iter().map(|p| p.to_path_buf()).collect(),
        output: output.to_path_buf(),
        model: model(),
    }
}

fn error(a: &UpscaleArgs) -> String {
    format!("{:#}", run(a).unwrap_err())
}

/// A crop of a Set5 image, saved as PNG.
fn crop_png(dir: &Path, name: &str, w: usize, h: usize) -> PathBuf {
    let (img, _) = load_rgb8(&repo("data/Set5/butterfly.png")).unwrap();
    let mut data = Vec::new();
    for y in 0..h {
        for x in 0..w {
            data.extend_from_slice(&img.pixel(x % img.width, y % img.height));
        }
    }
    let path = dir.join(name);
    save_png(&path, &RgbImage8::new(w, h, data).unwrap()).unwrap();
    path
}

#[test]
fn png_and_jpeg_inputs_give_the_engine_output() {
    let dir = temp_dir("good");
    let engine = Engine::from_bytes(&fs::read(model()).unwrap()).unwrap();
    let png = crop_png(&dir, "crop.png", 40, 30);
    let out = dir.join("crop-x4.png");
    assert_eq!(run(&args(&[&png], &out)).unwrap(), vec![out.clone()]);
    let (sr, _) = load_rgb8(&out).unwrap();
    let (lr, _) = load_rgb8(&png).unwrap();
    assert_eq!(
        sr,
        engine.upscale(&lr).unwrap(),
        "PNG output is the engine's, exactly"
    );

    // A JPEG in (encoded from the crop), JPEG out; then both inputs into a folder.
    let jpg = dir.join("photo.jpg");
    image::open(&png).unwrap().save(&jpg).unwrap();
    let jpg_out = dir.join("photo-x4.jpeg");
    run(&args(&[&jpg], &jpg_out)).unwrap();
    let (sr_jpg, _) = load_rgb8(&jpg_out).unwrap();
    assert_eq!((sr_jpg.width, sr_jpg.height), (160, 120));
    let folder = dir.join("out");
    let written = run(&args(&[&png, &jpg], &folder)).unwrap();
    assert_eq!(
        written,
        vec![folder.join("crop.png"), folder.join("photo.png")]
    );
    let (sr2, _) = load_rgb8(&written[0]).unwrap();
    assert_eq!(sr2, sr);
    let (photo, _) = load_rgb8(&jpg).unwrap();
    let (sr3, _) = load_rgb8(&written[1]).unwrap();
    assert_eq!(sr3, engine.upscale(&photo).unwrap());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bad_inputs_and_outputs_are_refused_by_name() {
    let dir = temp_dir("bad");
    let good = crop_png(&dir, "good.png", 20, 20);
    let out = dir.join("o.png");

    let missing = dir.join("missing.png");
    let e = error(&args(&[&missing], &out));
    assert!(e.contains("missing.png"), "{e}");

    let text = dir.join("notes.png");
    fs::write(&text, "not an image").unwrap();
    let e = error(&args(&[&text], &out));
    assert!(
        e.contains("notes.png") && e.contains("not a decodable image"),
        "{e}"
    );

    let wide = crop_png(&dir, "wide.png", MAX_UPSCALE_SIDE + 1, 4);
    let e = error(&args(&[&wide], &out));
    assert!(
        e.contains("wide.png") && e.contains("largest input side is 512"),
        "{e}"
    );

    let e = error(&args(&[&good], &dir.join("o.gif")));
    assert!(e.contains("must end in .png, .jpg or .jpeg"), "{e}");

    let file = dir.join("taken.png");
    fs::write(&file, "x").unwrap();
    let e = error(&args(&[&good, &good], &file));
    assert!(e.contains("is a file"), "{e}");
    let e = error(&args(&[&good, &good], &dir.join("both")));
    assert!(e.contains("two inputs"), "{e}");

    let e = error(&UpscaleArgs {
        model: text.clone(),
        ..args(&[&good], &out)
    });
    assert!(e.contains("not a valid model file"), "{e}");

    // A bad input among good ones: nothing is written.
    let folder = dir.join("none");
    assert!(run(&args(&[&good, &text], &folder)).is_err());
    assert!(!folder.exists() && !out.exists());
    let _ = fs::remove_dir_all(&dir);
}
