//! Embeds the models listed in `web/models/manifest.json` for the tests (`BUNDLED_MODELS`
//! in `$OUT_DIR/bundled_models.rs`), and each one's Set5 evaluation (`BUNDLED_SET5`, the
//! `<name>.set5.json` beside it, whose numbers the page shows): tests in wasm cannot read
//! files, so the bytes are compiled in. A listed file that is missing becomes `None`, and
//! the tests fail on it; a missing manifest fails the build.

use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let models = root.join("../web/models");
    let manifest = models.join("manifest.json");
    println!("cargo:rerun-if-changed={}", manifest.display());
    println!("cargo:rerun-if-changed={}", models.display());
    // No manifest is an error, not "no models": the tests that need one would pass on an
    // empty list.
    let text =
        fs::read_to_string(&manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let files = listed_files(&text, &manifest);
    let mut out = String::from(
        "/// `(file, bytes)` of every model the manifest lists; `None` if the file is missing.\n",
    );
    out.push_str("pub const BUNDLED_MODELS: &[(&str, Option<&[u8]>)] = &[\n");
    for file in &files {
        let path = models.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_file() {
            let abs = path.canonicalize().expect("canonical model path");
            out.push_str(&format!(
                "    ({file:?}, Some(include_bytes!({:?}))),\n",
                abs.display().to_string()
            ));
        } else {
            out.push_str(&format!("    ({file:?}, None),\n"));
        }
    }
    out.push_str("];\n");
    out.push_str(
        "/// `(file, text)` of each model's `<name>.set5.json`; `None` if it is missing.\n",
    );
    out.push_str("pub const BUNDLED_SET5: &[(&str, Option<&str>)] = &[\n");
    for file in &files {
        let eval = models.join(format!("{}.set5.json", file.trim_end_matches(".qnm")));
        println!("cargo:rerun-if-changed={}", eval.display());
        if eval.is_file() {
            let abs = eval.canonicalize().expect("canonical evaluation path");
            out.push_str(&format!(
                "    ({file:?}, Some(include_str!({:?}))),\n",
                abs.display().to_string()
            ));
        } else {
            out.push_str(&format!("    ({file:?}, None),\n"));
        }
    }
    out.push_str("];\n");
    let dest =
        Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled_models.rs");
    fs::write(dest, out).expect("write bundled_models.rs");
}

/// The `file` of every entry of `models`; a manifest that does not parse fails the build.
fn listed_files(text: &str, path: &Path) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", path.display()));
    let Some(models) = value["models"].as_array() else {
        panic!("{}: no `models` array", path.display());
    };
    models
        .iter()
        .map(|m| {
            let file = m["file"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: an entry has no `file`", path.display()));
            assert!(
                !file.contains('/') && !file.contains('\\') && !file.starts_with('.'),
                "{}: `{file}` must be a plain file name in web/models",
                path.display()
            );
            file.to_string()
        })
        .collect()
}
