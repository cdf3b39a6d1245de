//! The bindings' suite natively (`cargo test -p quantnas-wasm`) and, on wasm32, in node
//! (`wasm-bindgen-test-runner`); `browser.rs` runs it in headless Chromium.

mod suite;

suite_tests!(
    models_load_with_metadata,
    output_sizes,
    bicubic_equals_native_bit_for_bit,
    gray_ground_truth_is_scored_on_gray,
    bundled_models_score_their_evaluations,
    corrupt_model_bytes_throw,
    bad_images_throw,
    cost_follows_the_input_size,
    page_facts_agree_with_the_models,
);

/// The manifest and the folder agree: every `.qnm` in web/models is listed, and every
/// listed file is there (native only: it reads the folder).
#[cfg(not(target_family = "wasm"))]
#[test]
fn manifest_lists_exactly_the_bundled_models() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/models");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("web/models")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|n| n.ends_with(".qnm"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = suite::BUNDLED_MODELS
        .iter()
        .map(|(f, _)| f.to_string())
        .collect();
    listed.sort();
    assert_eq!(
        listed, on_disk,
        "web/models/manifest.json must list exactly the .qnm files in web/models"
    );
}
