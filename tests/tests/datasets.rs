//! The bundled datasets are what `data/SHA256SUMS` says, and no training image is a
//! validation or test image (results are reported on test sets only, checkpoints picked
//! on `data/Val`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // in tests a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn sha256(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every PNG under `dir`, following links (`Train291/T91` is one), as paths relative to
/// `data/`, the file they resolve to with them.
fn pngs(dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            pngs(&path, out);
        } else if path.extension().is_some_and(|e| e == "png") {
            let rel = path
                .strip_prefix(data())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, path.canonicalize().unwrap()));
        }
    }
}

/// What a folder of `data/` is for, by its first path component.
fn role_of(rel: &str) -> &'static str {
    match rel.split('/').next() {
        Some("T91" | "Train291") => "training",
        Some("Val") => "validation",
        _ => "test",
    }
}

#[test]
fn every_bundled_image_is_listed_with_its_hash_and_training_images_are_not_evaluated() {
    let sums: BTreeMap<String, String> = fs::read_to_string(data().join("SHA256SUMS"))
        .unwrap()
        .lines()
        .map(|l| {
            let (hash, path) = l.split_once("  ").expect("`HASH  PATH` lines");
            (path.to_string(), hash.to_string())
        })
        .collect();
    let mut found = Vec::new();
    pngs(&data(), &mut found);
    let real = data().canonicalize().unwrap();
    let mut listed = BTreeSet::new();
    let mut hashes: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut training = BTreeSet::new();
    for (rel, file) in &found {
        // A linked file is listed under the path it resolves to.
        let own = file
            .strip_prefix(&real)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let want = sums
            .get(&own)
            .unwrap_or_else(|| panic!("{rel} ({own}) is not in SHA256SUMS"));
        let hash = sha256(file);
        assert_eq!(&hash, want, "{rel}");
        if role_of(rel) == "training" {
            training.insert(own.clone());
        }
        listed.insert(own);
        hashes.entry(role_of(rel)).or_default().insert(hash);
    }
    let missing: Vec<_> = sums.keys().filter(|k| !listed.contains(*k)).collect();
    assert!(missing.is_empty(), "listed but not there: {missing:?}");
    // T91 + Train291's BSD200 part (T91 itself holds two identical files).
    assert_eq!(training.len(), 286, "training files");

    for held_out in ["validation", "test"] {
        let shared: Vec<_> = hashes["training"].intersection(&hashes[held_out]).collect();
        assert!(
            shared.is_empty(),
            "training images in the {held_out} sets: {shared:?}"
        );
    }
}
