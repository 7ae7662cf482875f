#!/usr/bin/env bash
# shellcheck disable=SC2086  # $NICE is a command prefix, split on purpose
# The performance benchmarks of issue 7, side by side: sentemb against the
# PyTorch peer (same architecture, same weights), in alternation (A B, then B A
# in the next round), several rounds; prints medians and ratios.
#
#   tools/bench/run.sh               # build (build-bench), check, measure, summarise
#
# Environment:
#   THREADS=2       threads for every system (torch.set_num_threads, --threads)
#   ROUNDS=5        alternating rounds of (a), (c) and thread scaling
#   ROUNDS_TEXT=3   alternating rounds of (b)
#   TEXT_LINES=20000  COCO caption lines added to STS-B dev's 3000 sentences for (b)
#   BUILD=build-bench, JOBS=2   build directory and make parallelism
#   NICE=""         prefix for every command, e.g. NICE="nice -n 19" on a busy machine
#   QUICK=1         a smoke run: tiny timings, 1 round, small text file
#   SKIP_BUILD=1    use the binaries already in $BUILD
#   WORK=DIR        inputs and results (default $BUILD/work)
#   TRAINED_MODEL=PATH  also compare bf16/int8 with fp32 on this trained model
#   INSTALL_ORT=1   npm-install onnxruntime-node (--ignore-scripts) into $BUILD/node for the
#                   ONNX Runtime peer (or point ORT_NODE_MODULES at an existing node_modules)
# Results: $WORK/results.jsonl (one line per measurement) and
# $WORK/summary.md (the tables of docs/benchmarks.md), $WORK/profile.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-5}
ROUNDS_TEXT=${ROUNDS_TEXT:-3}
BUILD=${BUILD:-build-bench}
JOBS=${JOBS:-2}
# NICE is split into words on purpose (e.g. "nice -n 19").
NICE=${NICE:-}
QUICK=${QUICK:-0}
WORK=${WORK:-$BUILD/work}
SHARED=${SHARED:-$ROOT/../shared/data}
mkdir -p "$WORK"
RESULTS=$WORK/results.jsonl
: >"$RESULTS"

SECONDS_ENC=${SECONDS_ENC:-1.5} SECONDS_TRAIN=${SECONDS_TRAIN:-1} TEXT_LINES=${TEXT_LINES:-20000}
if [ "$QUICK" = 1 ]; then SECONDS_ENC=0.2 SECONDS_TRAIN=0.2 TEXT_LINES=500 ROUNDS=1 ROUNDS_TEXT=1; fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  $NICE cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSENTEMB_BENCH=ON -DSENTEMB_TESTS=OFF -DSENTEMB_PYTHON=OFF >/dev/null
  $NICE cmake --build "$BUILD" -j"$JOBS" --target sentemb sentemb_bench >/dev/null
fi
SENTEMB=$BUILD/sentemb
BENCH=$BUILD/tools/bench/sentemb_bench
# The PyTorch peer on OpenBLAS (not the reference BLAS); OPENBLAS_CORETYPE unset
# in its command only.
TORCH=(env -u OPENBLAS_CORETYPE LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp
  /usr/bin/python3 tools/bench/peer_torch.py)

# The ONNX Runtime peer (optional): npm onnxruntime-node, installed with
# --ignore-scripts into $BUILD/node when INSTALL_ORT=1 (or found at ORT_NODE_MODULES).
export ORT_NODE_MODULES=${ORT_NODE_MODULES:-$BUILD/node/node_modules}
if [ ! -d "$ORT_NODE_MODULES/onnxruntime-node" ] && [ "${INSTALL_ORT:-0}" = 1 ]; then
  mkdir -p "$BUILD/node"
  npm install --prefix "$BUILD/node" --ignore-scripts --no-audit --no-fund onnxruntime-node >/dev/null
fi
ORT=0
[ -d "$ORT_NODE_MODULES/onnxruntime-node" ] && command -v node >/dev/null && ORT=1
ONNX=(node tools/bench/peer_onnx.mjs)

# ---------------------------------------------------------------------------
# Inputs: a random reference-size model; real text (STS-B dev, both sentence
# columns, then the first column of 20k lines of the COCO captions pairs).
MODEL=$WORK/ref.semb
# Written afresh each run (the same weights for the same seed), so it is always in the
# current file format (version 2 and on, read in place when loaded; nothing copied).
$NICE "$SENTEMB" init --tokenizer tokenizers/bible-8k.model --out "$MODEL" --seed 1 >/dev/null
TEXT=$WORK/text.txt STS=$WORK/stsb.txt
cut -f2 "$SHARED/eval/stsb_dev.tsv" >"$STS"
cut -f3 "$SHARED/eval/stsb_dev.tsv" >>"$STS"
{ cat "$STS"; head -n "$TEXT_LINES" "$SHARED/train/coco_captions.pairs.tsv" | cut -f1; } >"$TEXT"
# The batch-size sweep runs on 1000 STS-B sentences.
head -n "$([ "$QUICK" = 1 ] && echo 300 || echo 1000)" "$STS" >"$WORK/sweep.txt"
$NICE "$BENCH" tokenize --model "$MODEL" --input "$TEXT" --out "$WORK/text.ids"
$NICE "$BENCH" tokenize --model "$MODEL" --input "$WORK/sweep.txt" --out "$WORK/sweep.ids"
head -n 64 "$WORK/text.ids" >"$WORK/check.ids"

round=0
# measure LABEL CMD...: runs CMD under /usr/bin/time -v and appends each JSON
# line it prints to $RESULTS with the label, round, peak RSS and wall time.
# A failing command is recorded as {"failed": true} and does not stop the run.
measure() {
  local label=$1
  shift
  local out=$WORK/last.out t0 t1
  t0=$(date +%s%N)
  if /usr/bin/time -v -o "$out.time" $NICE "$@" >"$out" 2>"$out.err"; then
    t1=$(date +%s%N)
    local rss wall lines=0
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out.time")
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.4f", (b - a) / 1e9}')
    while IFS= read -r line; do
      [ "${line:0:1}" = "{" ] || continue
      lines=$((lines + 1))
      printf '{"label":"%s","round":%d,"rss_kb":%s,"wall_s":%s,"result":%s}\n' \
        "$label" "$round" "$rss" "$wall" "$line" >>"$RESULTS"
    done <"$out"
    [ $lines = 0 ] && printf '{"label":"%s","round":%d,"rss_kb":%s,"wall_s":%s,"result":{}}\n' \
      "$label" "$round" "$rss" "$wall" >>"$RESULTS"
    echo "  $label: $(grep -o '"items_per_s": *[0-9.]*\|"gflops": *[0-9.]*' "$out" | head -2 | tr '\n' ' ')rss ${rss} kB, ${wall} s"
  else
    local why
    why=$(tail -n 1 "$out.err" | tr -d '"[:cntrl:]' | sed 's/[\\]//g')
    printf '{"label":"%s","round":%d,"failed":true,"error":"%s"}\n' "$label" "$round" "$why" >>"$RESULTS"
    echo "  $label: FAILED: $why"
  fi
}

# ---------------------------------------------------------------------------
echo "== equivalence: the peer's embeddings against sentemb's (64 real sentences)"
$NICE "$BENCH" embed-ids --model "$MODEL" --ids "$WORK/check.ids" --out "$WORK/check.fp32.f32"
for impl in plain nn; do
  measure "check_fp32_$impl" "${TORCH[@]}" check --model "$MODEL" --impl $impl --threads "$THREADS" \
    --ids "$WORK/check.ids" --emb "$WORK/check.fp32.f32" --tol 1e-4
done
# bf16 (and int8) against fp32: the peer in fp32 compares with sentemb's bf16
# vectors and reports their smallest cosine (tolerance: cosine 0.999).
for p in bf16 int8; do
  if $NICE "$BENCH" embed-ids --model "$MODEL" --ids "$WORK/check.ids" --precision $p \
    --out "$WORK/check.$p.f32" 2>"$WORK/last.err"; then
    measure "cosine_${p}_vs_fp32" "${TORCH[@]}" check --model "$MODEL" --threads "$THREADS" \
      --ids "$WORK/check.ids" --emb "$WORK/check.$p.f32" --tol 1
  else
    echo "  sentemb $p: not available ($(tail -n 1 "$WORK/last.err"))"
  fi
done
# The same on a trained model when TRAINED_MODEL names one (random weights make
# nearly equal vectors; a trained model's are spread out, a stricter test).
if [ -n "${TRAINED_MODEL:-}" ]; then
  cp "$TRAINED_MODEL" "$WORK/trained.semb"
  head -n 256 "$STS" >"$WORK/trained.txt"
  $NICE "$BENCH" tokenize --model "$WORK/trained.semb" --input "$WORK/trained.txt" --out "$WORK/trained.ids"
  for p in fp32 bf16 int8; do
    if $NICE "$BENCH" embed-ids --model "$WORK/trained.semb" --ids "$WORK/trained.ids" --precision $p \
      --out "$WORK/trained.$p.f32" 2>"$WORK/last.err"; then
      measure "trained_cosine_${p}_vs_fp32" "${TORCH[@]}" check --model "$WORK/trained.semb" \
        --threads "$THREADS" --ids "$WORK/trained.ids" --emb "$WORK/trained.$p.f32" \
        --tol "$([ $p = fp32 ] && echo 1e-4 || echo 1)"
    fi
  done
fi
if [ $ORT = 1 ]; then
  $NICE "${TORCH[@]}" export-onnx --model "$MODEL" --out "$WORK/ref.onnx" >/dev/null 2>&1
  measure check_fp32_onnx "${ONNX[@]}" check --onnx "$WORK/ref.onnx" --threads "$THREADS" \
    --ids "$WORK/check.ids" --emb "$WORK/check.fp32.f32" --tol 1e-4
else
  echo "  onnxruntime-node not found at $ORT_NODE_MODULES: the ONNX Runtime peer is skipped (INSTALL_ORT=1)"
fi
grep '"check"' "$RESULTS" | grep -q '"ok": false' && { echo "the peer does not match sentemb" >&2; exit 1; }

# ---------------------------------------------------------------------------
echo "== best batching for real text (1000 STS-B dev sentences, one pass each)"
for b in ${SWEEP_BATCHES:-64 128 256}; do
  measure "sweep_sentemb_b$b" "$BENCH" encode-text --model "$MODEL" --input "$WORK/sweep.txt" \
    --threads "$THREADS" --batch "$b" --warmup-lines 200
  for impl in ${SWEEP_IMPLS:-nn}; do
    measure "sweep_torch_${impl}_b$b" "${TORCH[@]}" encode-ids --model "$MODEL" --impl "$impl" \
      --threads "$THREADS" --ids "$WORK/sweep.ids" --batch "$b" --warmup-lines 200
  done
done
best() {  # best PREFIX: the label suffix with the highest items/s among sweep labels
  /usr/bin/python3 - "$RESULTS" "$1" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if not r.get("failed") and r["label"].startswith(sys.argv[2])]
print(max(rows, key=lambda r: r["result"]["items_per_s"])["label"][len(sys.argv[2]):])
EOF
}
SENTEMB_TEXT_BATCH=$(best sweep_sentemb_b)
TORCH_TEXT=$(best sweep_torch_)            # e.g. nn_b64
TORCH_TEXT_IMPL=${TORCH_TEXT%_b*} TORCH_TEXT_BATCH=${TORCH_TEXT##*_b}
echo "  best: sentemb --batch $SENTEMB_TEXT_BATCH; pytorch --impl $TORCH_TEXT_IMPL --batch $TORCH_TEXT_BATCH"

# ---------------------------------------------------------------------------
# One round: every measurement once. Each group is run in order in odd rounds
# and in reverse in even rounds, so neither system always goes first.
group() {  # group NAME -- runs the commands given as functions named NAME_*
  local fns
  fns=$(declare -F | awk '{print $3}' | grep "^$1_" | sort)
  [ $((round % 2)) = 0 ] && fns=$(echo "$fns" | tac)
  for f in $fns; do $f; done
}
E=(--model "$MODEL" --seconds "$SECONDS_ENC")
T=(--model "$MODEL" --seconds "$SECONDS_TRAIN" --steps 3 --batch 64 --tokens 32)
# (a) fixed shape, 128 sentences x 32 tokens
enca_1() { measure enc_a_fp32_sentemb "$BENCH" encode-fixed "${E[@]}" --threads "$THREADS" --batch 128 --tokens 32; }
enca_2() { measure enc_a_fp32_torch_plain "${TORCH[@]}" encode-fixed "${E[@]}" --threads "$THREADS" --impl plain; }
enca_3() { measure enc_a_fp32_torch_nn "${TORCH[@]}" encode-fixed "${E[@]}" --threads "$THREADS" --impl nn; }
if [ $ORT = 1 ]; then
  enca_4() { measure enc_a_fp32_onnx "${ONNX[@]}" encode-fixed --onnx "$WORK/ref.onnx" --seconds "$SECONDS_ENC" --threads "$THREADS"; }
fi
encb_1() { measure enc_a_bf16_sentemb "$BENCH" encode-fixed "${E[@]}" --threads "$THREADS" --precision bf16; }
encb_2() { measure enc_a_bf16_torch_plain "${TORCH[@]}" encode-fixed "${E[@]}" --threads "$THREADS" --precision bf16; }
encb_3() { measure enc_a_int8_sentemb "$BENCH" encode-fixed "${E[@]}" --threads "$THREADS" --precision int8; }
# thread scaling: the same at 1 thread
enc1_1() { measure enc_a_fp32_t1_sentemb "$BENCH" encode-fixed "${E[@]}" --threads 1; }
enc1_3() { measure enc_a_fp32_t1_torch_nn "${TORCH[@]}" encode-fixed "${E[@]}" --threads 1 --impl nn; }
# (b) real text, each with its best batching
text_1() { measure text_fp32_sentemb "$BENCH" encode-text --model "$MODEL" --input "$TEXT" --threads "$THREADS" --batch "$SENTEMB_TEXT_BATCH" --warmup-lines 500; }
text_3() { measure text_bf16_sentemb "$BENCH" encode-text --model "$MODEL" --input "$TEXT" --threads "$THREADS" --batch "$SENTEMB_TEXT_BATCH" --warmup-lines 500 --precision bf16; }
text_4() { measure text_int8_sentemb "$BENCH" encode-text --model "$MODEL" --input "$TEXT" --threads "$THREADS" --batch "$SENTEMB_TEXT_BATCH" --warmup-lines 500 --precision int8; }
text_2() { measure text_fp32_torch "${TORCH[@]}" encode-ids --model "$MODEL" --ids "$WORK/text.ids" --threads "$THREADS" --impl "$TORCH_TEXT_IMPL" --batch "$TORCH_TEXT_BATCH" --warmup-lines 500; }
# (c) training steps, 64 pairs x 32 tokens, InfoNCE, AdamW, dropout 0.1, clip 1
train_1() { measure train_fp32_sentemb "$BENCH" train "${T[@]}" --threads "$THREADS"; }
train_2() { measure train_fp32_torch "${TORCH[@]}" train "${T[@]}" --threads "$THREADS"; }
train_3() { measure train_bf16_torch "${TORCH[@]}" train "${T[@]}" --threads "$THREADS" --precision bf16; }
train_4() { measure train_bf16_sentemb "$BENCH" train "${T[@]}" --threads "$THREADS" --precision bf16; }
# training at 1 thread (thread scaling of (c))
train1_1() { measure train_fp32_t1_sentemb "$BENCH" train "${T[@]}" --threads 1; }
train1_2() { measure train_fp32_t1_torch "${TORCH[@]}" train "${T[@]}" --threads 1; }
# the matmul limit, same threads (and 1 thread for the scaling row)
mm_1() { measure matmul "$BENCH" matmul --threads "$THREADS" --seconds 1; }
mm_2() { measure matmul_t1 "$BENCH" matmul --threads 1 --seconds 1; }

# The machine's load at each round (the benchmarks share it with other work).
record_load() {
  printf '{"label":"load","round":%d,"result":{"loadavg1":%s,"time":"%s"}}\n' "$round" \
    "$(cut -d' ' -f1 /proc/loadavg)" "$(date -u +%H:%M:%S)" >>"$RESULTS"
}
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round/$ROUNDS ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
  record_load
  for g in mm enca encb enc1 train train1; do group $g; done
done
for round in $(seq 1 "$ROUNDS_TEXT"); do
  echo "== real text, round $round/$ROUNDS_TEXT ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
  record_load
  group text
done

# ---------------------------------------------------------------------------
echo "== model load + first embedding (process start to exit, two short sentences)"
printf '%s\n%s\n' "A man is playing a guitar." "A woman is slicing an onion." >"$WORK/first.txt"
$NICE "$BENCH" tokenize --model "$MODEL" --input "$WORK/first.txt" --out "$WORK/first.ids"
for round in $(seq 1 "$ROUNDS"); do
  measure first_sentemb "$SENTEMB" score --model "$MODEL" --threads "$THREADS" \
    "A man is playing a guitar." "A woman is slicing an onion."
  measure first_torch "${TORCH[@]}" first --model "$MODEL" --threads "$THREADS" --ids "$WORK/first.ids"
done

echo "== per-layer matmul shapes and the implementations oneDNN picks"
measure matmul_shapes "$BENCH" matmul --threads "$THREADS" --seconds 1 --shapes 1

/usr/bin/python3 tools/bench/summarize.py "$RESULTS" | tee "$WORK/summary.md"

echo "== where the time goes (ONEDNN_VERBOSE=1, short runs; logging slows them a little)"
{
  for p in fp32 bf16; do
    ONEDNN_VERBOSE=1 $NICE "$BENCH" encode-fixed "${E[@]}" --seconds 0.5 --threads "$THREADS" \
      --precision $p >"$WORK/profile_enc_$p.txt"
    echo "#### encode (a) $p"
    echo
    /usr/bin/python3 tools/bench/onednn_profile.py "$WORK/profile_enc_$p.txt"
    echo
  done
  ONEDNN_VERBOSE=1 $NICE "$BENCH" train "${T[@]}" --seconds 1 --threads "$THREADS" >"$WORK/profile_train.txt"
  echo "#### training step fp32"
  echo
  /usr/bin/python3 tools/bench/onednn_profile.py "$WORK/profile_train.txt"
} | tee "$WORK/profile.md"
