#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, runs ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
