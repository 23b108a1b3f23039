#!/bin/sh
# ctest driver of conformance_client_ali_ons: ali-ons comes from
# scripts/ali-ons.sh (one npm install per build directory; never committed);
# runs scenario.js under run-client against strict Tern servers.
# usage: run.sh <this conformance source dir> <work dir>   (exit 77: skipped)
set -eu
src=$1 work=$2
root=$(cd "$src/.." && pwd)
mods=$("$root/scripts/ali-ons.sh" "${TERN_BINARY_DIR:?}") || exit $?
mkdir -p "$work"
cp "$src/clients/ali-ons/scenario.js" "$work/"
rm -rf "$work/node_modules" && ln -s "$mods" "$work/node_modules"
exec python3 "$src/run-client" --topic ConfOns --expected "$src/clients/ali-ons/expected_violations.json" \
  --junit "$work/conformance_client_ali_ons.xml" -- node "$work/scenario.js"
