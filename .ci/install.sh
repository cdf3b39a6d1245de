#!/usr/bin/env bash
# Installs the tools the tests need, only when missing (warm runs cost ~1 s).
set -euo pipefail
cd "$(dirname "$0")/.."

# Quiet when it works; a failure is retried loudly so the log says why, and fails the run.
rustup target add wasm32-unknown-unknown thumbv7m-none-eabi >/dev/null 2>&1 \
  || rustup target add wasm32-unknown-unknown thumbv7m-none-eabi
rustup component add rustfmt clippy >/dev/null 2>&1 \
  || rustup component add rustfmt clippy

# Python onnx, onnxruntime and numpy for the ONNX export test (trainer/tests/onnx_export.rs),
# at the versions pinned in scripts/requirements-bench.txt; pip runs only when one is
# missing or at another version.
pins_ok() {
  python3 - "$1" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for line in open(sys.argv[1]):
    name, _, want = line.strip().partition("==")
    if name and version(name) != want:
        sys.exit(1)
PY
}
if ! pins_ok scripts/requirements-bench.txt; then
  python3 -m pip install -q -r scripts/requirements-bench.txt >/dev/null 2>&1 \
    || python3 -m pip install -r scripts/requirements-bench.txt
fi

# Mesa's software Vulkan driver (lavapipe) and the Vulkan loader: the wgpu backend's
# parity test (trainer/tests/wgpu_parity.rs) runs on it, as no CI machine has a GPU.
if ! ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 \
  || ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    mesa-vulkan-drivers libvulkan1
fi

# LLVM 23.1 for the CUDA backend's build (clippy checks `--features trainer/cuda`): PyPI's
# SDK where tracel-llvm-bundler looks, instead of its download from GitHub.
bash scripts/install-cuda-llvm.sh >/dev/null 2>&1 || bash scripts/install-cuda-llvm.sh

bash .ci/install-web.sh
