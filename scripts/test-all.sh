#!/usr/bin/env bash
# Runs every test of the project: Rust unit/integration tests (release: burn trains ~25x
# slower unoptimised), the no_std/wasm builds of core, and the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tools the tests need (wasm target, wasm-bindgen-cli, Chromium, playwright-core); each is
# installed only when missing.
bash .ci/install.sh

# core must stay no_std: thumbv7m has no std at all, wasm32 is what the browser runs.
cargo build -q -p quantnas-core --no-default-features --target thumbv7m-none-eabi
cargo build -q -p quantnas-core --no-default-features --target wasm32-unknown-unknown
# The page's build: wasm SIMD128 on, so the SIMD128 conv kernel is compiled; and the host
# without std, where x86 kernels are chosen by compile-time features only.
RUSTFLAGS="-C target-feature=+simd128" \
  cargo build -q -p quantnas-core --no-default-features --target wasm32-unknown-unknown \
  --target-dir target/wasm-simd128
cargo check -q -p quantnas-core --no-default-features

# The fuzz targets are their own workspace (cargo-fuzz runs them on nightly); checking
# them needs only stable, so a parser change that breaks them fails here.
cargo check -q --manifest-path fuzz/Cargo.toml --locked --bins

# Every intra-doc link resolves.
RUSTDOCFLAGS="-D rustdoc::broken_intra_doc_links" cargo doc -q --no-deps --workspace

# Release: burn trains ~25x slower unoptimised, and the exhaustive quantizer and rounding
# tests of core (~30 s here) run only in release builds. With the wgpu backend compiled in
# (one build for every test): trainer/tests/wgpu_parity.rs runs it against flex on the
# machine's Vulkan driver (Mesa's software one in CI); every other test runs on flex.
cargo test --workspace --release --features trainer/wgpu

# SIGKILL real train/search/pipeline runs at several moments; resumed results must equal
# uninterrupted ones (about 2 minutes on two cores).
# The binary the tests just built (with wgpu): a default-feature build would rebuild burn.
TRAINER=target/release/trainer bash scripts/kill-resume.sh

# The GPU measurement run (scripts/bench-gpu.sh), dry-run on flex at a tiny shape: a later
# session with a borrowed GPU runs it as it is, so its commands must keep working (≈ 40 s).
gpu_dry="$(mktemp -d)"
GPU=cpu BATCH=2 LR=12 PATCH=12 EPOCH_SECONDS=1 TRAIN_STEPS=20 \
  bash scripts/bench-gpu.sh target/release/trainer "$gpu_dry" data/Train291/BSD200 >/dev/null ||
  { cat "$gpu_dry/gpu.log"; exit 1; }

bash .ci/test-web.sh
