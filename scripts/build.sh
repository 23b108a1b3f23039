#!/usr/bin/env bash
# Configures and builds one flavour of Tern. Usage: scripts/build.sh [release|asan|fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
jobs=$(nproc 2>/dev/null || echo 2)
case "$flavour" in
  release) cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null ;;
  asan)    cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DTERN_SANITIZE=ON >/dev/null ;;
  fuzz)    CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DTERN_FUZZ=ON >/dev/null ;;
  *) echo "usage: $0 [release|asan|fuzz]" >&2; exit 2 ;;
esac
cmake --build "build/$flavour" -j "$jobs"
