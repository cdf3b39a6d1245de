#!/usr/bin/env bash
# Re-makes the two bundled models with the documented commands, validated on data/Val,
# and writes their test-set evaluation files next to them in web/models/:
#   - QuantNAS Basic-B mixed 4/8: `trainer pipeline` (cpu presets; 33 min on two idle cores)
#   - ESPCN 8-bit:                `trainer train --arch espcn --bits 8` (cpu; 19 min)
# Resumable: run it again after a kill and each run continues from its last checkpoint.
# Usage: scripts/retrain-bundled.sh [RUNS_DIR]   (default runs/bundled)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-runs/bundled}
mkdir -p "$runs"
cargo build -q --release -p trainer
bin=target/release/trainer
models=web/models

if [[ -f $runs/pipeline/config.json ]]; then
  "$bin" pipeline --resume "$runs/pipeline"
else
  "$bin" pipeline --out "$runs/pipeline"
fi
cp "$runs/pipeline/model.qnm" "$models/quantnas-basic-b-mixed48.qnm"
cp "$runs/pipeline/search/genotype.json" "$models/quantnas-basic-b-mixed48.genotype.json"

if [[ -f $runs/espcn/config.json ]]; then
  "$bin" train --resume "$runs/espcn"
else
  "$bin" train --arch espcn --bits 8 --out "$runs/espcn"
fi
"$bin" export "$runs/espcn" -o "$models/espcn-8bit.qnm"

for stem in espcn-8bit quantnas-basic-b-mixed48; do
  for set in Set5 Set14 B100; do
    "$bin" eval --model "$models/$stem.qnm" --dataset "data/$set" --json \
      >"$models/$stem.${set,,}.json"
  done
done
echo "bundled models and their evaluation files are in $models/; update README's table"
echo "(tests/tests/results.rs checks it against the files)."
