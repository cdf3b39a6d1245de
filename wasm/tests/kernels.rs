//! The engine's fast paths as the page runs them: in a wasm build (node, through
//! `wasm-bindgen-test-runner`; `.ci/test-web.sh` builds with SIMD128 as the page does)
//! every kernel and row loop the build has gives the same bits as the portable one. Core's
//! own unit tests check the x86 builds natively; this file runs natively too.

use quantnas_core::engine::{Engine, Isa, row_loops_agree};
use quantnas_core::image::Planes;

/// The bundled models (what the page runs).
const MODELS: [(&str, &[u8]); 2] = [
    (
        "espcn-8bit.qnm",
        include_bytes!("../../web/models/espcn-8bit.qnm"),
    ),
    (
        "quantnas-basic-b-mixed48.qnm",
        include_bytes!("../../web/models/quantnas-basic-b-mixed48.qnm"),
    ),
];

#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_family = "wasm"), test)]
fn row_loops_equal_their_plain_twins() {
    for isa in Isa::available() {
        assert_eq!(row_loops_agree(isa), Ok(()), "{isa}");
    }
}

#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_family = "wasm"), test)]
fn bundled_models_give_the_same_bits_on_every_kernel() {
    let (h, w) = (19, 23);
    let data = (0..3 * h * w)
        .map(|i| ((i * 7919) % 1000) as f32 / 999.0)
        .collect();
    let x = Planes::new(3, h, w, data).expect("image");
    let bits = |p: &Planes| p.data.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    for (file, bytes) in MODELS {
        let engine = Engine::from_bytes(bytes).expect(file);
        let portable = engine.clone().with_isa(Isa::Portable).expect("portable");
        let want = bits(&portable.upscale_planes(&x).expect("run"));
        for isa in Isa::available() {
            let e = engine.clone().with_isa(isa).expect("isa");
            // Twice: the second run reuses the first one's buffers.
            let runs = [(); 2].map(|_| bits(&e.upscale_planes(&x).expect("run")));
            assert!(runs.iter().all(|r| *r == want), "{file}: {isa} differs");
        }
    }
}
