//! The bindings' suite in headless Chromium (wasm32 only; natively this file is empty).
#![cfg(target_family = "wasm")]

mod suite;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

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
