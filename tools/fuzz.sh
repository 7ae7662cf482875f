#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang + ASan/UBSan into
# build-fuzz/, replays every committed regression input, then fuzzes each
# target for a bounded time starting from its committed seed corpus.
# Exits non-zero on any crash, sanitizer report, leak, timeout or
# out-of-memory, and prints the reproducer's path.
#
#   tools/fuzz.sh [-t SECONDS] [-r] [TARGET...]
#     -t SECONDS  fuzzing time per target (default 30, or $FUZZ_SECONDS)
#     -r          replay the regression inputs only, no fuzzing
#     TARGET      corpus_reader, model_file, mapped_model, tokenizer, vector_io
#                 (default: all)
#   Environment: SENTEMB_JOBS  build parallelism (default: nproc)
#                SENTEMB_FUZZ_BUILD  build directory (default: build-fuzz)
#
# Reproduce a failure:  build-fuzz/tests/fuzz/fuzz_TARGET PATH
# Minimise it:          build-fuzz/tests/fuzz/fuzz_TARGET -minimize_crash=1 \
#                         -max_total_time=60 -exact_artifact_path=OUT PATH
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
replay_only=0
while getopts "t:rh" opt; do
  case "$opt" in
    t) seconds="$OPTARG" ;;
    r) replay_only=1 ;;
    *) sed -n '2,18p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
all_targets=(corpus_reader model_file mapped_model tokenizer vector_io)
targets=("$@")
if (( ${#targets[@]} == 0 )); then targets=("${all_targets[@]}"); fi

bash tools/install-deps.sh
build="${SENTEMB_FUZZ_BUILD:-build-fuzz}"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSENTEMB_FUZZ=ON -DSENTEMB_TESTS=OFF -DSENTEMB_SANITIZE=ON >/dev/null
fi
cmake --build "$build" -j"${SENTEMB_JOBS:-$(nproc)}" \
  --target "${targets[@]/#/fuzz_}" >"$build/fuzz-build.log" 2>&1 ||
  { tail -40 "$build/fuzz-build.log"; echo "fuzz: build failed" >&2; exit 1; }

# The library's UBSan checks are recoverable; make the first one fatal.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=1"
# A small input must never need a gigabyte, nor seconds. The per-input
# timeout is generous because a sanitizer report that is still being
# symbolized when libFuzzer's alarm fires can deadlock on a loaded machine;
# `timeout` (below) bounds every process whatever happens.
limits=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=30)
out="$build/fuzz-out"
mkdir -p "$out"
passes=0
failures=0

# 1. Every committed regression input, one process each so all are reported.
replayed=0
# mapped_model reads model files too: it replays model_file's regressions as well
# (as its ctest replay does, tests/CMakeLists.txt).
regression_dirs() {
  echo "tests/fuzz/regressions/$1"
  if [[ "$1" == mapped_model ]]; then echo tests/fuzz/regressions/model_file; fi
}
for target in "${targets[@]}"; do
  for dir in $(regression_dirs "$target"); do
    [[ -d "$dir" ]] || continue
    for input in "$dir"/*; do
      [[ -f "$input" ]] || continue
      replayed=$((replayed + 1))
      log="$out/replay-$target-$(basename "$input").log"
      if timeout -k 10 300 "$build/tests/fuzz/fuzz_$target" "${limits[@]}" "$input" >"$log" 2>&1; then
        echo "fuzz: $target: regression $(basename "$input") ok"
        passes=$((passes + 1))
      else
        grep -E "ERROR|SUMMARY|runtime error|FUZZ_CHECK|#[0-9]+ " "$log" | head -20 || true
        echo "fuzz: $target: FAILED on regression input $input (log: $log)"
        failures=$((failures + 1))
      fi
    done
  done
done
echo "fuzz: replayed $replayed regression inputs"

# 2. Bounded fuzzing from the seed corpus. New inputs go to a scratch corpus
# under build-fuzz (kept between local runs), never into the committed seeds.
if (( replay_only == 0 )); then
  for target in "${targets[@]}"; do
    work="$build/fuzz-corpus/$target"
    mkdir -p "$work"
    dict=()
    if [[ -f "tests/fuzz/$target.dict" ]]; then dict=(-dict="tests/fuzz/$target.dict"); fi
    log="$out/fuzz-$target.log"
    rm -f "$out/$target"-crash-* "$out/$target"-leak-* "$out/$target"-timeout-* \
      "$out/$target"-oom-* 2>/dev/null || true
    if timeout -k 10 $((seconds + 300)) "$build/tests/fuzz/fuzz_$target" "${limits[@]}" "${dict[@]}" \
      -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$out/$target-" \
      "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
      runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
      cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 || true)
      echo "fuzz: $target: ok, $runs runs in ${seconds}s, ${cov:-cov: ?}"
      passes=$((passes + 1))
    else
      grep -E "ERROR|SUMMARY|runtime error|FUZZ_CHECK|#[0-9]+ 0x" "$log" | head -30 || true
      reproducer=$(grep -oE 'Test unit written to .*' "$log" | sed 's/Test unit written to //' | tail -1)
      echo "fuzz: $target: FAILED (log: $log)"
      echo "fuzz: reproducer: ${reproducer:-none written}"
      echo "fuzz: rerun with: $build/tests/fuzz/fuzz_$target ${reproducer:-INPUT}"
      failures=$((failures + 1))
    fi
  done
fi

# One closing line: each regression input and each fuzzing run counts once.
echo "fuzz: $passes passed, $failures failed"
if (( failures > 0 )); then exit 1; fi
