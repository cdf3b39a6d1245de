//! Set-up shared by the trainer's integration tests: tiny image folders and tiny runs.
#![allow(dead_code, clippy::unwrap_used)] // each test crate uses its own part

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use quantnas_core::image::RgbImage8;
use trainer::imageio::save_png;
use trainer::search::config::SearchConfig;
use trainer::train::{Preset, TrainConfig, parse_arch};

/// A path in the repository.
pub fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(p)
}

/// A path under the temp dir, unique to this process and `tag`, that does not exist.
pub fn temp_path(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("quantnas-test-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// A fresh, empty folder under the temp dir, unique to this process and `tag`.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = temp_path(tag);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Smooth colour gradients with a few edges, `n` images of `side` pixels.
pub fn image_folder(dir: &Path, n: usize, side: usize) {
    fs::create_dir_all(dir).unwrap();
    for k in 0..n {
        let data = (0..side * side)
            .flat_map(|i| {
                let (x, y) = (i % side, i / side);
                let edge = if (x + k * 3) % 11 < 5 { 60 } else { 0 };
                [
                    (x * 255 / side) as u8,
                    (y * 200 / side + edge) as u8,
                    ((x + y) * 90 / side + k * 20) as u8,
                ]
            })
            .collect();
        save_png(
            &dir.join(format!("{k}.png")),
            &RgbImage8::new(side, side, data).unwrap(),
        )
        .unwrap();
    }
}

/// An 8-bit ESPCN training of `steps` steps on tiny images made under `root`, validated
/// (and checkpointed) every `eval_every`.
pub fn tiny_train(root: &Path, steps: u64, eval_every: u64) -> TrainConfig {
    image_folder(&root.join("train"), 3, 40);
    image_folder(&root.join("val"), 1, 32);
    let arch = parse_arch("espcn", Some(8)).unwrap();
    let config = TrainConfig {
        steps,
        batch: 2,
        patch: 6,
        eval_every,
        train_data: root.join("train"),
        val_data: root.join("val"),
        workers: 2,
        ..TrainConfig::preset(arch, Preset::Cpu)
    };
    config.validate().unwrap();
    config
}

/// A search of 3 epochs of 2 iterations of 2 crops of 8 px on Set5, with `seed`.
pub fn tiny_search(seed: u64) -> SearchConfig {
    let config = SearchConfig {
        epochs: 3,
        iters_per_epoch: 2,
        batch: 2,
        lr_size: 8,
        train_data: repo("data/Set5"),
        val_data: repo("data/Set5"),
        val_crop: 8,
        workers: 1,
        seed,
        ..SearchConfig::preset(Preset::Cpu)
    };
    config.validate().unwrap();
    config
}

/// The trainer binary run with `args` (its status is the caller's to check).
pub fn trainer_bin(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .args(args)
        .output()
        .expect("run trainer")
}

/// `trainer search` on Set5 with a tiny schedule (2 epochs of 2 iterations of 2 crops of
/// 8 px, one loader thread) into `out`, `extra` appended.
pub fn tiny_search_cli(out: &Path, extra: &[&str]) -> Output {
    let set5 = repo("data/Set5");
    let set5 = set5.to_str().expect("utf-8 path");
    let out = out.to_str().expect("utf-8 path");
    let mut args = vec![
        "search",
        "--quiet",
        "--epochs",
        "2",
        "--iters-per-epoch",
        "2",
        "--batch",
        "2",
        "--lr-size",
        "8",
        "--workers",
        "1",
        "--train-data",
        set5,
        "--val-data",
        set5,
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    trainer_bin(&args)
}
