#!/bin/sh
# The consumer project (tests/consumer) against sentemb as its users get it; one step
# per ctest test (tests/CMakeLists.txt, label `package`):
#   install     cmake --install the build into $WORK/prefix; the installed tool runs
#   installed   configure, build and run the consumer with find_package(sentemb)
#   subproject  the same with add_subdirectory(<sentemb source>), building sentemb_infer;
#               then configured once more without the training library
#   pkgconfig   compile the consumer's programs with `pkg-config --cflags --libs`
# Environment (set by ctest): CMAKE, CXX, GENERATOR, LAUNCHER (may be empty), BUILD,
# SOURCE, LIBDIR (relative to the prefix), WORK, DATA, VERSION (the project's).
set -eu
step="$1"
consumer="$SOURCE/tests/consumer"
prefix="$WORK/prefix"
jobs="$(nproc)"

# configure DIR ARGS...: the consumer, with this build's compiler (and launcher).
configure() {
  dir="$1"
  shift
  rm -rf "$dir"
  "$CMAKE" -S "$consumer" -B "$dir" -G "$GENERATOR" -DCMAKE_CXX_COMPILER="$CXX" \
    ${LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER="$LAUNCHER"} "$@"
}

run_encode() {
  "$1" "$DATA/golden/tiny.semb"
}

run_train() {
  "$1" "$DATA/train/pairs.tsv" "$DATA/tokenizer/tiny.model" "$2"
}

case "$step" in
  install)
    rm -rf "$prefix"
    "$CMAKE" --install "$BUILD" --prefix "$prefix" >"$WORK/install.log"
    echo "installed $(find "$prefix" -type f | wc -l) files into $prefix"
    installed_version="$("$prefix/bin/sentemb" --version)"
    echo "$installed_version"
    [ "$installed_version" = "sentemb $VERSION" ]
    ;;
  installed)
    configure "$WORK/installed" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
    "$CMAKE" --build "$WORK/installed" -j "$jobs"
    run_encode "$WORK/installed/consumer_encode"
    run_train "$WORK/installed/consumer_train" "$WORK/installed/trained.semb"
    ;;
  subproject)
    # No build type: the consumer checks that sentemb leaves it unset.
    configure "$WORK/subproject" -DSENTEMB_SOURCE_DIR="$SOURCE"
    "$CMAKE" --build "$WORK/subproject" -j "$jobs" --target consumer_encode
    run_encode "$WORK/subproject/consumer_encode"
    # Inference only: configuring checks that sentemb then looks for no MPI.
    configure "$WORK/subproject-infer" -DSENTEMB_SOURCE_DIR="$SOURCE" -DSENTEMB_TRAIN=OFF
    ;;
  pkgconfig)
    export PKG_CONFIG_PATH="$prefix/$LIBDIR/pkgconfig"
    dir="$WORK/pkgconfig"
    rm -rf "$dir"
    mkdir -p "$dir"
    # shellcheck disable=SC2046 # pkg-config's output is a list of flags
    "$CXX" -std=c++17 -O1 "$consumer/encode_main.cpp" -o "$dir/consumer_encode" \
      $(pkg-config --cflags --libs sentemb)
    run_encode "$dir/consumer_encode"
    # shellcheck disable=SC2046
    "$CXX" -std=c++17 -O1 "$consumer/train_main.cpp" -o "$dir/consumer_train" \
      $(pkg-config --cflags --libs sentemb-train)
    run_train "$dir/consumer_train" "$dir/trained.semb"
    ;;
  *)
    echo "consumer_test.sh: unknown step '$step'" >&2
    exit 2
    ;;
esac
