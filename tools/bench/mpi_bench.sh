#!/usr/bin/env bash
# Data-parallel throughput on one machine (issue 19), side by side in one run:
# training pairs/s and encoding lines/s of `mpirun -np 2` x 1 thread against one
# process x 2 threads, alternating, at the reference size (4 layers, width 256, 4
# heads, FFN 1024, the 8k Bible tokenizer: 5.2M parameters), batch 128, max-len 32;
# and the time of one all-reduce of the 5.2M gradients between the two ranks.
#   tools/bench/mpi_bench.sh [build dir] [pairs.tsv] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
pairs=${2:-../shared/data/train/coco_captions.pairs.tsv}
rounds=${3:-2}
bin=$build/sentemb
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mpi() { mpirun --oversubscribe --bind-to none -np 2 --mca btl self,vader "$@"; }
size="--tokenizer tokenizers/bible-8k.model --layers 4 --dim 256 --heads 4 --ffn-dim 1024
  --max-len 32"
steps=${STEPS:-30}

# Median pairs/s of the logged steps after the first 5 (warm-up).
rate() { python3 -c '
import json, statistics, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if "\"loss\"" in l]
t = [s["elapsed_s"] for s in steps]
print("%.1f" % (128 * (len(t) - 6) / (t[-1] - t[5])))' "$1"; }

head -n 20000 "$pairs" | cut -f1 >"$work/lines.txt"
# shellcheck disable=SC2086
"$bin" init $size --out "$work/model.semb" 2>/dev/null
for round in $(seq "$rounds"); do
  # shellcheck disable=SC2086
  "$bin" train $size --pairs "$pairs" --batch 128 --max-steps "$steps" --log-every 1 \
    --threads 2 --out "$work/one.semb" --log "$work/one.jsonl" 2>/dev/null
  # shellcheck disable=SC2086
  mpi "$bin" train $size --pairs "$pairs" --batch 128 --max-steps "$steps" --log-every 1 \
    --threads 1 --out "$work/two.semb" --log "$work/two.jsonl" 2>/dev/null
  echo "round $round train pairs/s: 1 process x 2 threads $(rate "$work/one.jsonl"), 2 ranks x 1 thread $(rate "$work/two.jsonl")"
  start=$(date +%s.%N)
  "$bin" encode --model "$work/model.semb" --input "$work/lines.txt" --output "$work/one.npy" \
    --threads 2 2>/dev/null
  one=$(echo "$(wc -l <"$work/lines.txt") / ($(date +%s.%N) - $start)" | bc -l)
  start=$(date +%s.%N)
  mpi "$bin" encode --model "$work/model.semb" --input "$work/lines.txt" --output "$work/two.npy" \
    --threads 1 2>/dev/null
  two=$(echo "$(wc -l <"$work/lines.txt") / ($(date +%s.%N) - $start)" | bc -l)
  cmp "$work/one.npy" "$work/two.npy"
  printf 'round %s encode lines/s (20,000 lines, mpirun start-up included): 1 process x 2 threads %.0f, 2 ranks x 1 thread %.0f\n' "$round" "$one" "$two"
done
mpicxx -O2 -o "$work/allreduce_time" tools/bench/allreduce_time.cpp
mpi "$work/allreduce_time" 5200000
