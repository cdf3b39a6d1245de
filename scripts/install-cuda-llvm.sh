#!/usr/bin/env bash
# Lets `cargo build -p trainer --features cuda` build on a machine that reaches only the
# package registries.
#
# burn's CUDA backend (cubecl-cuda) links LLVM 23.1 for its NVPTX path. cubecl-llvm's build
# script asks `tracel-llvm-bundler` for it. The bundler then downloads a prebuilt bundle from
# GitHub's release pages into `$XDG_DATA_HOME/tracel/tracel-llvm-<version>`, unless that
# folder already holds its sentinel file, in which case it uses what is there through its
# `bin/llvm-config`.
#
# PyPI's `mlc-llvm-static` is a relocatable LLVM 23.1 SDK: static libraries, headers and an
# `llvm-config`. With `-extra-targets` it covers every target, NVPTX included, which the
# bundler's `LLVMInitializeAll*` wrappers need. This script installs both wheels, pinned,
# into their own virtual environment, links the SDK to where the bundler looks, and writes
# the sentinel file.
#
# Idempotent: a second run only checks. Undo it with
# `rm -rf "$XDG_DATA_HOME/tracel" "$XDG_DATA_HOME/quantnas/llvm-sdk"`.
set -euo pipefail

sdk_version="23.1.1.post0"
# The bundle version that tracel-llvm-bundler (locked in Cargo.lock) looks for.
bundle="tracel-llvm-23.1.0-4"

data="${XDG_DATA_HOME:-$HOME/.local/share}"
venv="$data/quantnas/llvm-sdk"
prefix="$data/tracel/$bundle"

if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
installed() {
  "$venv/bin/python" - "$sdk_version" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
want = sys.argv[1]
sys.exit(any(version(n) != want for n in ("mlc-llvm-static", "mlc-llvm-static-extra-targets")))
PY
}
if ! installed; then
  "$venv/bin/pip" install -q "mlc-llvm-static==$sdk_version" \
    "mlc-llvm-static-extra-targets==$sdk_version"
fi

sdk="$("$venv/bin/python" -c 'import mlc_llvm_static, os; print(os.path.dirname(mlc_llvm_static.__file__))')/static"
targets="$("$sdk/bin/llvm-config" --targets-built)"
if [[ " $targets " != *" NVPTX "* ]]; then
  echo "the LLVM SDK at $sdk lacks the NVPTX target (has: $targets)" >&2
  exit 1
fi

mkdir -p "$(dirname "$prefix")"
if [[ -e "$prefix" && ! -L "$prefix" ]]; then
  echo "$prefix exists and is not this script's link: leaving it as it is" >&2
else
  ln -sfn "$sdk" "$prefix"
  touch "$prefix/.tracel-llvm-installed"
fi
echo "LLVM $("$prefix/bin/llvm-config" --version) for the cuda feature at $prefix"
