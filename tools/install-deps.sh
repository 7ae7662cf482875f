#!/usr/bin/env bash
# Installs the Debian 12 packages sentemb needs to build, test and build its
# default corpus. Idempotent: returns at once when everything is present.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libsentencepiece-dev libeigen3-dev libdnnl-dev libfmt-dev catch2
  libcli11-dev nlohmann-json3-dev
  # sentemb serve (HTTP server) and its end-to-end test (Python standard library, curl).
  libcpp-httplib-dev curl python3
  # Data-parallel training and sharded encoding under mpirun / srun (src/dist/).
  libopenmpi-dev openmpi-bin
  # Debian's oneDNN is built with its OpenCL GPU runtime, so its CMake config
  # (find_package(dnnl)) requires the OpenCL headers; apt installs them only as a
  # recommendation of libdnnl-dev, which --no-install-recommends skips.
  ocl-icd-opencl-dev
  libsword-utils sword-text-kjv sword-text-web
  # tools/fuzz.sh (clang + libFuzzer and the sanitizer runtimes, OpenMP for
  # clang); tools/sanitize.sh uses g++'s ASan/UBSan, which come with g++.
  clang libclang-rt-14-dev libomp-dev
  # The vector index (src/index/, `sentemb index build`) and its test that faiss's
  # own Python bindings load what sentemb writes.
  libfaiss-dev python3-faiss
  # The Python module (python/) and its tests (tests/python, pytest under ctest).
  pybind11-dev python3-dev python3-numpy python3-pytest
  # sentemb export (src/export/): protoc generates the ONNX classes from libonnx-dev's
  # onnx.proto, linked with the static protobuf-lite; python3-onnx and
  # python3-sentencepiece read the export in its tests (tests/export).
  libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx python3-sentencepiece
)
# Node.js and npm for the ONNX Runtime test of the export (tests/export), unless this
# machine already has them (e.g. from NodeSource).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi
# Extra packages for the PyTorch reference and benchmarks: `--reference`.
if [[ "${1:-}" == "--reference" ]]; then
  packages+=(python3-torch python3-numpy python3-scipy libopenblas0-openmp sentencepiece)
fi

# ONNX Runtime (npm onnxruntime-node, CPU binaries in the package; --ignore-scripts: no
# download at install) for the export's test, into a fixed prefix outside the source
# tree that CMake looks in (SENTEMB_NODE_MODULES). Test-only: without it those tests
# are reported skipped.
install_onnxruntime_node() {
  local prefix="${SENTEMB_NODE_PREFIX:-$HOME/.cache/sentemb/node}"
  [[ -d "$prefix/node_modules/onnxruntime-node" ]] && return 0
  command -v npm >/dev/null || return 0
  mkdir -p "$prefix"
  if ! npm install --prefix "$prefix" --ignore-scripts --no-audit --no-fund onnxruntime-node >/dev/null; then
    echo "install-deps: npm install onnxruntime-node failed; the ONNX Runtime tests will be skipped" >&2
  fi
}

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if (( ${#missing[@]} == 0 )); then
  install_onnxruntime_node
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_onnxruntime_node
