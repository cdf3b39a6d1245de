#!/usr/bin/env bash
# Kills real `trainer train`, `trainer search` and `trainer pipeline` processes with SIGKILL
# at several moments (at once, before the first checkpoint, mid-way, near the end, and for
# the pipeline in each stage), resumes each, and compares the result with an uninterrupted
# run of the same seed: the same genotype, the same weights (the tensors of the checkpoint
# files and the exported model's weight records, byte for byte), the same metrics rows
# (all columns but the wall time) and the same evaluation.
# Sizes are the smallest that still give every kind of moment, so the whole script takes
# about a minute on two cores with the release binary built.
#
#   bash scripts/kill-resume.sh            # builds target/release/trainer if missing
#   TRAINER=path/to/trainer KEEP=1 bash scripts/kill-resume.sh   # keep the run folders
#
# Exit status 1 on any mismatch; the last line is `kill-resume: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${TRAINER:-target/release/trainer}
if [ -z "${TRAINER:-}" ]; then
  cargo build --release -q -p trainer
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kill-resume.XXXXXX")
if [ -z "${KEEP:-}" ]; then
  trap 'rm -rf "$WORK"' EXIT
else
  echo "run folders in $WORK"
fi
started=$SECONDS
passed=0
failed=0

# --- the runs (tiny; every checkpoint kind occurs) -------------------------------------
# Training: ESPCN, metrics rows every 50 steps, validation + checkpoint every 100.
TRAIN=(--arch espcn --bits 8 --steps 300 --batch 2 --patch 6 --eval-every 100
  --train-data data/Set5 --val-data data/Set5 --workers 1 --seed 3)
# Search: 3 epochs of 2 iterations (a checkpoint per epoch).
SEARCH=(--epochs 3 --iters-per-epoch 2 --batch 2 --lr-size 8
  --train-data data/Set5 --val-data data/Set5 --workers 1 --seed 11)
# Pipeline: that search, 30 retraining steps checkpointed every 10, export, Set14.
PIPE=("${SEARCH[@]}" --train-steps 30 --train-batch 2 --train-patch 6 --train-eval-every 10
  --dataset data/Set14)

# --- helpers ---------------------------------------------------------------------------
# Largest value of "KEY": N in a checkpoint's state.json (0 when there is none).
state_of() { # FILE KEY
  local v
  v=$(grep -o "\"$2\": [0-9]*" "$1" 2>/dev/null | grep -o '[0-9]*$' || true)
  echo "${v:-0}"
}
has_row() { grep -q "^$2," "$1" 2>/dev/null; } # FILE KEY

# Starts "$@" (stdout and stderr into $LOG), waits until the shell condition $COND holds
# (or the process ends), then SIGKILLs it.
kill_when() { # COND CMD...
  local cond=$1
  shift
  "$@" >>"$LOG" 2>&1 &
  local pid=$!
  until eval "$cond"; do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  if kill -9 "$pid" 2>/dev/null; then
    echo "  killed: $cond" >>"$LOG"
  else
    echo "  (ended before the kill: $cond)" >>"$LOG"
  fi
  wait "$pid" 2>/dev/null || true
}

# What a kill left in run folder $1, in a few words: each stage's config and checkpoint.
left() {
  local d s out="" dirs=("$1")
  # A pipeline folder: its stages.
  [ -d "$1/search" ] && dirs=("$1/search" "$1/train")
  for d in "${dirs[@]}"; do
    [ -d "$d" ] || continue
    [ "$d" = "$1" ] || out+="${d##*/}: "
    if [ ! -f "$d/config.json" ]; then
      out+="no config; "
      continue
    fi
    s="$d/checkpoints/last/state.json"
    [ -f "$s" ] || s="$d/checkpoints/.last.old/state.json"
    if [ -f "$s" ]; then
      out+="checkpoint at $(grep -o '"\(step\|epoch\)": [0-9]*' "$s" | tr -d '":')"
      [ -f "$d/genotype.json" ] && out+=" (finished)"
      out+="; "
    else
      out+="no checkpoint; "
    fi
  done
  out=${out%; }
  echo "${out:-nothing}"
}

check() { # NAME COMMAND... : one comparison, counted
  local name=$1
  shift
  if "$@" >>"$LOG" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name (log: $LOG)"
    [ -n "${KEEP:-}" ] || tail -n 20 "$LOG"
  fi
}

# metrics.csv without its last column (the wall time).
rows() { sed 's/,[^,]*$//' "$1"; }
same_rows() { diff <(rows "$1") <(rows "$2"); }
same_file() { cmp "$1" "$2"; }
# The tensor data of a burnpack file: what follows its header ("NRUB", u16 version, u32
# metadata length, metadata). The metadata holds burn's parameter ids, random in every
# process, so whole files of equal weights differ.
bpk_data() {
  local m
  m=$(od -An -tu4 -j6 -N4 "$1" | tr -d ' ')
  tail -c +$((10 + m + 1)) "$1"
}
# Weights byte for byte. (Optimiser files are keyed by those random ids, so their tensors
# come in another order each process; that the resumed runs end with the same weights
# and rows shows the moments were restored.)
same_weights() { # DIR_A DIR_B FILE...
  local a=$1 b=$2 f
  shift 2
  for f in "$@"; do
    [ -s "$a/$f" ] && [ -s "$b/$f" ] || return 1
    cmp <(bpk_data "$a/$f") <(bpk_data "$b/$f") || return 1
  done
}
# Per-epoch genotypes: the same names and contents.
same_genotypes() { diff -r "$1/genotypes" "$2/genotypes"; }
# The evaluation table of report.md (timings are elsewhere in it).
same_report() { diff <(grep '^| data/' "$1/report.md") <(grep '^| data/' "$2/report.md"); }

train_same() { # REF RUN
  same_rows "$1/metrics.csv" "$2/metrics.csv" &&
    same_weights "$1" "$2" checkpoints/last/model.bpk checkpoints/best/model.bpk &&
    [ "$(state_of "$2/checkpoints/last/state.json" step)" = \
      "$(state_of "$1/checkpoints/last/state.json" step)" ]
}
search_same() { # REF RUN
  same_file "$1/genotype.json" "$2/genotype.json" &&
    same_file "$1/alphas.csv" "$2/alphas.csv" &&
    same_rows "$1/metrics.csv" "$2/metrics.csv" &&
    same_genotypes "$1" "$2" &&
    same_weights "$1" "$2" checkpoints/last/supernet.bpk checkpoints/last/alphas.bpk
}
# The weight records of a .qnm file: from after its JSON header (whose "meta" names the
# run folder and its wall time) to before the CRC (format: core/src/model/format.rs).
qnm_records() {
  local j n
  j=$(od -An -tu4 -j20 -N4 "$1" | tr -d ' ')
  n=$(stat -c %s "$1")
  tail -c +$((24 + j + 1)) "$1" | head -c $((n - 24 - j - 4))
}
pipeline_same() { # REF RUN
  search_same "$1/search" "$2/search" && train_same "$1/train" "$2/train" &&
    cmp <(qnm_records "$1/model.qnm") <(qnm_records "$2/model.qnm") &&
    same_report "$1" "$2"
}

# --- train -----------------------------------------------------------------------------
echo "kill-resume: train"
REF=$WORK/train-ref
LOG=$WORK/train-ref.log
"$BIN" train "${TRAIN[@]}" --out "$REF" >"$LOG" 2>&1
# stderr is a file here: progress comes as plain lines, validations included.
check "train: progress lines off a terminal" grep -q '^train 300/300 (100%)' "$LOG"
check "train: validation lines off a terminal" grep -q '^step 100 loss' "$LOG"

train_case() { # NAME COND [COND2]: kill at COND (then at COND2 in the resumed run), resume, compare
  local name=$1 run=$WORK/train-$1
  LOG=$WORK/train-$name.log
  : >"$LOG"
  kill_when "${2//RUN/$run}" "$BIN" train "${TRAIN[@]}" --out "$run"
  echo "  $name: killed, left $(left "$run")"
  local resume_cmd=("$BIN" train --resume "$run")
  # A kill before config.json (written atomically) leaves no run: the same command again.
  [ -f "$run/config.json" ] || resume_cmd=("$BIN" train "${TRAIN[@]}" --out "$run")
  if [ -n "${3:-}" ]; then
    kill_when "${3//RUN/$run}" "${resume_cmd[@]}"
    echo "  $name: killed again, left $(left "$run")"
    [ -f "$run/config.json" ] || resume_cmd=("$BIN" train "${TRAIN[@]}" --out "$run")
  fi
  check "train $name: resume" "${resume_cmd[@]}"
  check "train $name: same as uninterrupted" train_same "$REF" "$run"
}
train_case at-once 'true'
train_case before-checkpoint 'has_row RUN/metrics.csv 50'
train_case mid-way '[ "$(state_of RUN/checkpoints/last/state.json step)" -ge 100 ]'
train_case near-end 'has_row RUN/metrics.csv 250'
train_case twice 'has_row RUN/metrics.csv 50' 'has_row RUN/metrics.csv 150'
LOG=$WORK/train-finished.log
check "train finished: resume is a no-op" "$BIN" train --resume "$REF"
check "train finished: unchanged" train_same "$WORK/train-before-checkpoint" "$REF"

# --- search ----------------------------------------------------------------------------
echo "kill-resume: search"
REF=$WORK/search-ref
LOG=$WORK/search-ref.log
"$BIN" search "${SEARCH[@]}" --out "$REF" >"$LOG" 2>&1
check "search: epoch lines off a terminal" grep -q '^epoch 3/3: val PSNR' "$LOG"

search_case() { # NAME COND
  local name=$1 run=$WORK/search-$1
  LOG=$WORK/search-$name.log
  : >"$LOG"
  kill_when "${2//RUN/$run}" "$BIN" search "${SEARCH[@]}" --out "$run"
  echo "  $name: killed, left $(left "$run")"
  if [ -f "$run/config.json" ]; then
    check "search $name: resume" "$BIN" search --resume "$run"
  else
    check "search $name: run again" "$BIN" search "${SEARCH[@]}" --out "$run"
  fi
  check "search $name: same as uninterrupted" search_same "$REF" "$run"
}
search_case at-once 'true'
search_case before-checkpoint 'grep -q "search started" RUN/log.txt 2>/dev/null'
search_case mid-way '[ "$(state_of RUN/checkpoints/last/state.json epoch)" -ge 1 ]'
search_case near-end '[ "$(state_of RUN/checkpoints/last/state.json epoch)" -ge 3 ]'

# --- pipeline --------------------------------------------------------------------------
echo "kill-resume: pipeline"
REF=$WORK/pipe-ref
LOG=$WORK/pipe-ref.log
"$BIN" pipeline "${PIPE[@]}" --out "$REF" >"$LOG" 2>&1

pipe_case() { # NAME COND
  local name=$1 run=$WORK/pipe-$1
  LOG=$WORK/pipe-$name.log
  : >"$LOG"
  kill_when "${2//RUN/$run}" "$BIN" pipeline "${PIPE[@]}" --out "$run"
  echo "  $name: killed, left $(left "$run")"
  check "pipeline $name: resume" "$BIN" pipeline "${PIPE[@]}" --resume "$run"
  check "pipeline $name: same as uninterrupted" pipeline_same "$REF" "$run"
}
pipe_case at-once 'true'
pipe_case search-mid-way '[ "$(state_of RUN/search/checkpoints/last/state.json epoch)" -ge 1 ]'
pipe_case train-before-checkpoint '[ -f RUN/train/config.json ]'
pipe_case train-mid-way '[ "$(state_of RUN/train/checkpoints/last/state.json step)" -ge 10 ]'
pipe_case export-or-eval '[ "$(state_of RUN/train/checkpoints/last/state.json step)" -ge 30 ]'
LOG=$WORK/pipe-finished.log
check "pipeline finished: resume" "$BIN" pipeline "${PIPE[@]}" --resume "$REF"
check "pipeline finished: unchanged" pipeline_same "$WORK/pipe-at-once" "$REF"

echo "kill-resume: $((SECONDS - started)) s"
echo "kill-resume: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
