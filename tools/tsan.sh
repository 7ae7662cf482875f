#!/usr/bin/env bash
# The multi-threaded encode path under ThreadSanitizer: configures build-tsan/
# with -DSENTEMB_TSAN=ON and runs the inference and CLI tests there (encoding,
# tokenizing, vectors, score/eval/search).
#
# What it covers: the tokenizer's std::thread pool (Encoder::encode), Encoders
# used from several threads at once, and everything the CLI does around them.
# What it cannot: OpenMP. Debian's libgomp is not built with TSan, so its
# barriers are invisible to it and every parallel region would be reported as a
# race. So OpenMP runs on one thread here (OMP_NUM_THREADS=1, as ctest runs every
# test), and the tests tagged [openmp], which set a thread count of their own,
# are left out (they pass in the plain and the ASan suites).
#   Environment: SENTEMB_JOBS  build parallelism (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh

build="build-tsan"
jobs="${SENTEMB_JOBS:-$(nproc)}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DSENTEMB_TSAN=ON -DSENTEMB_TESTS=ON >/dev/null
cmake --build "$build" -j"$jobs" --target sentemb test_infer test_cli test_serve test_index >"$build/build.log" 2>&1 ||
  { tail -40 "$build/build.log"; echo "tsan: build failed" >&2; exit 1; }

# Every report is fatal, with an exit code of its own (see tools/sanitize.sh).
export TSAN_OPTIONS="halt_on_error=1:exitcode=86:second_deadlock_stack=1"
export OMP_NUM_THREADS=1
# oneDNN's global primitive cache hands a primitive created on one thread to another
# (the serve tests' two workers build the same shapes): its creation and hand-over
# synchronise inside libdnnl (futures on futex atomics, not instrumented), so TSan
# reports the second thread's read of the primitive's descriptor as a race with the
# first one's allocation. With the cache off each encoder's primitives are its own.
export ONEDNN_PRIMITIVE_CACHE_CAPACITY=0 DNNL_PRIMITIVE_CACHE_CAPACITY=0
# [openmp]: the tests that set an OpenMP thread count of their own.
"$build/tests/test_infer" "~[openmp]"
"$build/tests/test_cli" "~[openmp]"
"$build/tests/test_serve"
# The faiss index: libfaiss is not instrumented either; with one OpenMP thread its
# calls run on the calling thread, which TSan sees.
"$build/tests/test_index"
