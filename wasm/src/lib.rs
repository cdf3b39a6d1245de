//! wasm-bindgen bindings over quantnas-core.
