#!/bin/sh
# ctest driver of conformance_client_ali_ons: installs ali-ons 3.12.0 (npm, into
# a build-dir work directory; node_modules is never committed; an install the
# broker's interop test already made in the same build directory is reused)
# and runs scenario.js under run-client against strict Tern servers.
# usage: run.sh <this conformance source dir> <work dir>   (exit 77: skipped)
set -eu
src=$1 work=$2
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP conformance_client_ali_ons: node and npm are not installed (scripts/install-deps.sh installs them)"
  exit 77
fi
mkdir -p "$work"
cp "$src/clients/ali-ons/package.json" "$src/clients/ali-ons/scenario.js" "$work/"
have() { [ -f "$1/ali-ons/package.json" ] && grep -q '"version": "3.12.0"' "$1/ali-ons/package.json"; }
if ! have "$work/node_modules"; then
  shared="${TERN_BINARY_DIR:-}/broker/test/interop/work/node_modules"
  if [ -n "${TERN_BINARY_DIR:-}" ] && have "$shared"; then
    rm -rf "$work/node_modules"
    ln -s "$shared" "$work/node_modules"
  else
    echo "installing ali-ons with npm into $work"
    (cd "$work" && npm install --no-audit --no-fund --loglevel=error)
  fi
fi
exec python3 "$src/run-client" --topic ConfOns --expected "$src/clients/ali-ons/expected_violations.json" \
  --junit "$work/conformance_client_ali_ons.xml" -- node "$work/scenario.js"
