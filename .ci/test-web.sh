#!/usr/bin/env bash
# The browser checks (after .ci/install-web.sh):
#   1. the bindings' suite natively, then as wasm in node and in headless Chromium;
#   2. ./web/build.sh, then the end-to-end page test in headless Chromium, which saves a
#      screenshot to ${CI_OUT:-.ci-out}/demo.png.
# Usage: .ci/test-web.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out="${CI_OUT:-.ci-out}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# Each browser run leaves ~13 MB of profile folders in TMPDIR: keep them in a job folder.
job="$(mktemp -d "${TMPDIR:-/tmp}/quantnas-web.XXXXXX")"
trap 'rm -rf "$job"' EXIT

# The same code generation as ./web/build.sh, so the tests check what the page runs.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128"

echo "== test-web: quantnas-wasm natively"
cargo test -p quantnas-wasm

echo "== test-web: quantnas-wasm in node and headless Chromium"
TMPDIR="$job" \
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
CHROMEDRIVER=/usr/bin/chromedriver \
WASM_BINDGEN_TEST_TIMEOUT=600 \
    cargo test --target wasm32-unknown-unknown -p quantnas-wasm --tests

echo "== test-web: build the page"
./web/build.sh

echo "== test-web: page test"
TMPDIR="$job" CI_OUT="$out" node web/tests/page.test.mjs
