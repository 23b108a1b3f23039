#!/bin/sh
# ctest driver of interop_ali_ons: ali-ons comes from scripts/ali-ons.sh (one
# npm install per build directory; never committed); runs ali_ons_e2e.js
# against the freshly built binaries.
# usage: run.sh <this source dir> <work dir> <mqnamesrv> <mqbroker>
set -eu
src=$1 work=$2 ns=$3 broker=$4
root=$(cd "$src/../../.." && pwd)
mods=$("$root/scripts/ali-ons.sh" "${TERN_BINARY_DIR:?}") || exit $?
mkdir -p "$work"
cp "$src/ali_ons_e2e.js" "$src/remoting.js" "$work/"
cd "$work"
rm -rf node_modules && ln -s "$mods" node_modules
exec node ali_ons_e2e.js "$ns" "$broker"
