#!/usr/bin/env bash
# Builds the wasm package of the demo into web/pkg (quantnas-wasm → wasm-bindgen --target web).
# Usage: ./web/build.sh            (from anywhere; installs nothing)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The CLI must equal the wasm-bindgen crate version pinned in wasm/Cargo.toml.
want="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"$/\1/p' wasm/Cargo.toml)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$have" != "$want" ]]; then
    echo "error: wasm-bindgen CLI ${have:-not found}, the crate is pinned to $want." >&2
    echo "  install it with: cargo install wasm-bindgen-cli --version $want --locked" >&2
    echo "  (or run .ci/install-web.sh, which also adds the wasm32 target)" >&2
    exit 1
fi
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    echo "error: the wasm32-unknown-unknown target is missing." >&2
    echo "  install it with: rustup target add wasm32-unknown-unknown" >&2
    exit 1
fi

# SIMD128 is in every current browser (Chrome 91, Firefox 89, Safari 16.4) and in node.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS:--C target-feature=+simd128}"
cargo build --release --target wasm32-unknown-unknown -p quantnas-wasm
wasm-bindgen --target web --no-typescript --out-dir web/pkg \
    target/wasm32-unknown-unknown/release/quantnas_wasm.wasm

# A second module with relaxed SIMD (Chrome 114, Firefox 145; not yet Safari): 4-bit
# layers run on `i32x4.relaxed_dot_i8x16_i7x16_add_s`. The worker loads it only where
# the browser validates it, else web/pkg. Its own target folder keeps both builds warm.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" \
    cargo build --release --target wasm32-unknown-unknown -p quantnas-wasm \
    --target-dir target/wasm-relaxed
wasm-bindgen --target web --no-typescript --out-dir web/pkg-relaxed \
    target/wasm-relaxed/wasm32-unknown-unknown/release/quantnas_wasm.wasm

echo "built web/pkg ($(du -h web/pkg/quantnas_wasm_bg.wasm | cut -f1) wasm) and web/pkg-relaxed."
echo "serve it with: python3 -m http.server 8000 --bind 127.0.0.1 --directory web"
echo "then open http://127.0.0.1:8000/"
