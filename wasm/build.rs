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
    let mut out = String::new();
    table(
        &mut out,
        "/// `(file, bytes)` of every model the manifest lists; `None` if the file is missing.",
        "pub const BUNDLED_MODELS: &[(&str, Option<&[u8]>)]",
        "include_bytes",
        files.iter().map(|f| (f, models.join(f))),
    );
    table(
        &mut out,
        "/// `(file, text)` of each model's `<name>.set5.json`; `None` if it is missing.",
        "pub const BUNDLED_SET5: &[(&str, Option<&str>)]",
        "include_str",
        files.iter().map(|f| {
            let eval = format!("{}.set5.json", f.trim_end_matches(".qnm"));
            (f, models.join(eval))
        }),
    );
    let dest =
        Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("bundled_models.rs");
    fs::write(dest, out).expect("write bundled_models.rs");
}

/// Appends the constant `decl` (documented by `doc`): for each `(file, path)`, `file` and
/// `Some(include(path))`, or `None` where `path` is no file.
fn table<'a>(
    out: &mut String,
    doc: &str,
    decl: &str,
    include: &str,
    entries: impl Iterator<Item = (&'a String, PathBuf)>,
) {
    out.push_str(&format!("{doc}\n{decl} = &[\n"));
    for (file, path) in entries {
        println!("cargo:rerun-if-changed={}", path.display());
        if path.is_file() {
            let abs = path.canonicalize().expect("canonical path");
            out.push_str(&format!(
                "    ({file:?}, Some({include}!({:?}))),\n",
                abs.display().to_string()
            ));
        } else {
            out.push_str(&format!("    ({file:?}, None),\n"));
        }
    }
    out.push_str("];\n");
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
