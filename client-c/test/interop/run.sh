#!/bin/sh
# ctest driver of test_client_interop_alions: installs ali-ons (npm, into a
# build-dir copy of this directory; node_modules is never committed), then
# runs the C test binary with the peer script. Exit 77 (skip) without node.
# usage: run.sh <this source dir> <work dir> <test binary>
set -eu
src=$1 work=$2 bin=$3
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP: node and npm are not installed"
  exit 77
fi
mkdir -p "$work"
cp "$src/package.json" "$src/alions_peer.js" "$work/"
cd "$work"
if [ ! -f node_modules/ali-ons/package.json ] || ! grep -q '"version": "3.12.0"' node_modules/ali-ons/package.json; then
  echo "installing ali-ons with npm into $work"
  npm install --no-audit --no-fund --loglevel=error
fi
TERN_ALIONS_PEER="$work/alions_peer.js" exec "$bin"
