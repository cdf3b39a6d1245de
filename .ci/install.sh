#!/usr/bin/env bash
# Installs the tools the tests need, only when missing (warm runs cost ~1 s).
set -euo pipefail
cd "$(dirname "$0")/.."

# Quiet when it works; a failure is retried loudly so the log says why, and fails the run.
rustup target add wasm32-unknown-unknown thumbv7m-none-eabi >/dev/null 2>&1 \
  || rustup target add wasm32-unknown-unknown thumbv7m-none-eabi
rustup component add rustfmt clippy >/dev/null 2>&1 \
  || rustup component add rustfmt clippy

bash .ci/install-web.sh
