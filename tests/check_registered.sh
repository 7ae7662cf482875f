#!/bin/sh
# Every Catch test case must also be a ctest test. catch_discover_tests silently
# drops names it cannot carry (a ';' splits a CMake list; a stray ']' broke a
# whole [reliability] group once), and a dropped test never fails.
#   check_registered.sh CTEST BUILD_DIR TEST_EXE...
ctest=$1 build=$2
shift 2
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for exe in "$@"; do "$exe" --list-test-names-only || exit 1; done | grep . | sort >"$tmp/catch"
"$ctest" --test-dir "$build" -N | sed -n 's/^ *Test *#[0-9]*: //p' | sort >"$tmp/ctest"
missing=$(comm -23 "$tmp/catch" "$tmp/ctest")
if [ -n "$missing" ]; then
  echo "Catch test cases missing from ctest (rename them: no ';', '[' or ']'):"
  echo "$missing"
  exit 1
fi
echo "$(wc -l <"$tmp/catch") Catch test cases, every one in ctest"
