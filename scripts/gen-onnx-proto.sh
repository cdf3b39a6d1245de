#!/usr/bin/env bash
# Regenerates trainer/src/export/onnx/proto/onnx.rs (the prost types of the vendored
# trainer/proto/onnx.proto). The generated file is committed so the main build compiles
# only `prost` (no protobuf compiler: ~1 min of cold CI build saved); the test
# `generated_proto_is_current` fails when the .proto changed and this was not rerun.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p trainer/src/export/onnx/proto
cargo run -q --release --manifest-path tools/onnx-proto/Cargo.toml
rustfmt --edition 2024 trainer/src/export/onnx/proto/onnx.rs
