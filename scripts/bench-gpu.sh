#!/usr/bin/env bash
# The GPU figures of BENCHMARKS.md ("GPU backends"), in one run on a CUDA machine:
#   1. a tiny search step on cuda (fails fast when the driver or NVRTC is not found);
#   2. `bench search-step` at the paper's search shape (32 × 45² LR, Basic-B {4,8}, ADQ),
#      cuda next to flex, interleaved;
#   3. `bench train-step` of the bundled genotype at the paper's retraining shape
#      (16 × 48²), cuda next to flex;
#   4. a short real pipeline on cuda at the paper's search shape: search, QAT retraining,
#      export, and the exported model evaluated by core's integer engine on Set5;
#   5. `bench search-step` on cuda alone with more iterations, every mode and the fp floor.
# Peak device memory is sampled by nvidia-smi all along.
#
# Usage: scripts/bench-gpu.sh TRAINER_BINARY OUT_DIR TRAIN_IMAGES   (from the repository root)
# TRAIN_IMAGES: a folder of HR images at least 180 px on each side (the paper's 45² LR crop
# is 180² HR), e.g. BSD200 (`data/Train291/BSD200`) or DIV2K.
#
# cubecl-cuda loads the driver (libcuda.so.1) and NVRTC (libnvrtc.so.13 for CUDA 13) at run
# time; this script looks for NVRTC under the usual CUDA and pip locations.
#
# GPU=cpu BATCH=2 LR=12 PATCH=12 EPOCH_SECONDS=1 TRAIN_STEPS=20 runs the same steps on flex
# at a tiny shape: a dry run of the script itself on a machine without a GPU (CI runs it).
set -uo pipefail
bin=$(realpath "$1")
out=$(realpath "$2")
train=$(realpath "$3")
mkdir -p "$out"
log="$out/gpu.log"
exec > >(tee -a "$log") 2>&1

step() { echo; echo "=== $(date -u +%T) $*"; }

step machine
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null
nproc
nvrtc=$(find /usr/local /opt /usr/lib -name 'libnvrtc.so*' 2>/dev/null | grep -v builtins | head -5)
echo "NVRTC candidates: $nvrtc"
for f in $nvrtc; do LD_LIBRARY_PATH="$(dirname "$f"):${LD_LIBRARY_PATH:-}"; done
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:-}:/usr/local/nvidia/lib64:/usr/local/cuda/lib64"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader -lms 500 \
  > "$out/gpu-memory.csv" 2>/dev/null &
smi=$!
trap 'kill $smi 2>/dev/null' EXIT

gpu=${GPU:-cuda} batch=${BATCH:-32} lr=${LR:-45} patch=${PATCH:-48}
epoch_ms=$(( ${EPOCH_SECONDS:-40} * 1000 )) train_steps=${TRAIN_STEPS:-600}
genotype=web/models/quantnas-basic-b-mixed48.genotype.json
failed=()
run() { # cap_seconds args...: a failed step is reported at the end; the next ones still run
  local cap=$1; shift
  local t0; t0=$(date +%s%N)
  timeout -k 5 "$cap" "$bin" "$@"
  local rc=$?
  echo "[rc=$rc, $(( ($(date +%s%N) - t0) / 1000000 )) ms]" >&2
  [[ $rc == 0 ]] || failed+=("$1 $2")
  return $rc
}

step "smoke: a tiny search step on $gpu"
if ! run 90 bench search-step --device "$gpu" --mode san --batch 2 --lr-size 8 --iters 1 --warmup 0; then
  echo "$gpu does not run here; libraries:"
  ldd "$bin" | head -20
  exit 1
fi

step "search-step at $batch x $lr², $gpu next to flex"
run 130 bench search-step --device "$gpu,cpu" --mode san --batch "$batch" --lr-size "$lr" \
  --iters 3 --warmup 2 --json | tee "$out/search-step-vs-flex.json"

step "train-step of the bundled genotype at 16 x $patch², $gpu next to flex"
run 70 bench train-step --arch "$genotype" --batch 16 --patch "$patch" --device "$gpu,cpu" \
  --steps 4 --warmup 2

# Two epochs of about EPOCH_SECONDS each at the speed just measured (20 to 200 iterations).
iters=$(python3 -c '
import json, sys
try:
    rows = json.load(open(sys.argv[1]))["ms_per_iter"]
    ms = next(v for k, v in rows.items() if "flex" not in k or sys.argv[2] == "cpu")
    print(max(20, min(200, int(int(sys.argv[3]) / ms))))
except Exception:
    print(50)' "$out/search-step-vs-flex.json" "$gpu" "$epoch_ms")
step "pipeline on $gpu at $batch x $lr², 2 x $iters iterations"
pipe=$(mktemp -d)/pipeline
run 150 pipeline --preset paper --device "$gpu" --batch "$batch" --lr-size "$lr" \
  --train-patch "$patch" --train-data "$train" --val-data data/Val \
  --epochs 2 --iters-per-epoch "$iters" --train-steps "$train_steps" \
  --train-eval-every $(( train_steps / 2 )) \
  --dataset data/Set5 --out "$pipe" --quiet
(cd "$pipe" 2>/dev/null && tar czf "$out/pipeline.tgz" --exclude='*.bpk' --exclude='*.mpk' .)

step "search-step at $batch x $lr², $gpu alone, every mode and the fp floor"
run 60 bench search-step --device "$gpu" --mode san,shared,independent --fp-floor \
  --batch "$batch" --lr-size "$lr" --iters 8 --warmup 2 --json | tee "$out/search-step-cuda.json"
step "done${failed:+, failed: ${failed[*]}}"
[[ ${#failed[@]} == 0 ]]
