#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with ASan+UBSan, runs
# every ctest (unit, codec vectors, codegen --check, servers, interop), then
# builds the libFuzzer targets and runs each for a short smoke.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build/asan && ctest --output-on-failure -j 2 --timeout 600)
scripts/build.sh fuzz
(cd build/fuzz && ctest --output-on-failure -L fuzz-smoke -j 2)
