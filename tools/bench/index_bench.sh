#!/usr/bin/env bash
# The vector-index benchmark (issue 21, docs/benchmarks.md "Vector index"): HNSW
# against brute force on N vectors of real text. Builds sentemb and
# sentemb_index_bench (build-bench/), encodes SENTENCES distinct sentences of
# ../shared/data/train with MODEL, then runs the benchmark on N vectors (the
# encoded ones, then copies with Gaussian noise, see tools/bench/index_bench.cpp).
#   tools/bench/index_bench.sh MODEL [N] [SENTENCES]      (defaults: 1000000, 100000)
#   Environment: DATA (../shared/data), THREADS (2), WORK (build-bench/index),
#                EF_CONSTRUCTION (100), EF_SEARCH (16,32,64,128), SIGMA (0.02)
set -euo pipefail
cd "$(dirname "$0")/../.."
model=${1:?usage: index_bench.sh MODEL [N] [SENTENCES]}
n=${2:-1000000}
sentences=${3:-100000}
data=${DATA:-../shared/data}
threads=${THREADS:-2}
work=${WORK:-build-bench/index}

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSENTEMB_BENCH=ON >/dev/null
cmake --build build-bench -j"$threads" --target sentemb sentemb_index_bench >/dev/null
mkdir -p "$work"
if [[ ! -f "$work/base.npy" ]]; then
  # Distinct sentences of every pairs file, a fixed random sample of them.
  cut -f1,2 "$data"/train/*.pairs.tsv | tr '\t' '\n' | awk 'length($0) > 0' | sort -u |
    shuf -n "$sentences" --random-source=<(yes) >"$work/sentences.txt"
  build-bench/sentemb encode --model "$model" --input "$work/sentences.txt" \
    --output "$work/base.npy" --threads "$threads"
fi
/usr/bin/time -v build-bench/tools/bench/sentemb_index_bench --vectors "$work/base.npy" --n "$n" \
  --sigma "${SIGMA:-0.02}" --queries 1000 --hnsw-m 32 --ef-construction "${EF_CONSTRUCTION:-100}" \
  --ef-search "${EF_SEARCH:-16,32,64,128}" --threads "$threads" --brute-queries 100 \
  --index-out "$work/hnsw.index" 2> >(grep -E "Elapsed|Maximum resident" >&2)
