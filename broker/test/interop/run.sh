#!/bin/sh
# ctest driver of interop_ali_ons: installs ali-ons (npm, into a build-dir copy
# of this directory; node_modules is never committed) and runs ali_ons_e2e.js
# against the freshly built binaries.
# usage: run.sh <this source dir> <work dir> <mqnamesrv> <mqbroker>
set -eu
src=$1 work=$2 ns=$3 broker=$4
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP interop_ali_ons: node and npm are not installed (scripts/install-deps.sh installs nodejs and npm)"
  exit 77
fi
mkdir -p "$work"
cp "$src/package.json" "$src/ali_ons_e2e.js" "$src/remoting.js" "$work/"
cd "$work"
if [ ! -f node_modules/ali-ons/package.json ] || ! grep -q '"version": "3.12.0"' node_modules/ali-ons/package.json; then
  echo "installing ali-ons with npm into $work"
  npm install --no-audit --no-fund --loglevel=error
fi
exec node ali_ons_e2e.js "$ns" "$broker"
