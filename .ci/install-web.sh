#!/usr/bin/env bash
# Installs what the browser checks need, each only when missing (a warm run costs ~1 s):
# wasm32 + thumbv7m targets, wasm-bindgen-cli at the crate's pinned version (~6 min cold),
# Debian's chromium + chromium-driver, and playwright-core for the page test (npm ci).
# Never downloads a browser. Usage: .ci/install-web.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

rustup target add wasm32-unknown-unknown thumbv7m-none-eabi

want="$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"$/\1/p' wasm/Cargo.toml)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
if [[ "$have" != "$want" ]]; then
    echo "install-web: wasm-bindgen-cli ${have:-missing} → $want"
    nice cargo install wasm-bindgen-cli --version "$want" --locked
fi

if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]]; then
    echo "install-web: chromium + chromium-driver from apt"
    sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends chromium chromium-driver
fi

# playwright-core as pinned in web/tests/package-lock.json.
pinned="$(node -p 'require("./web/tests/package-lock.json").packages["node_modules/playwright-core"].version')"
installed="$(node -p 'require("./web/tests/node_modules/playwright-core/package.json").version' 2>/dev/null || true)"
if [[ "$installed" != "$pinned" ]]; then
    echo "install-web: playwright-core $pinned (npm ci)"
    (cd web/tests && npm ci --no-audit --no-fund)
fi
echo "install-web: wasm-bindgen $(wasm-bindgen --version | awk '{print $2}'), $(/usr/bin/chromium --version 2>/dev/null), playwright-core $pinned"
