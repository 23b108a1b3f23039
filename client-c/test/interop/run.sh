#!/bin/sh
# ctest driver of test_client_interop_alions: ali-ons comes from
# scripts/ali-ons.sh (one npm install per build directory; never committed),
# then the C test binary runs with the peer script. Exit 77: skipped.
# usage: run.sh <this source dir> <work dir> <test binary>
set -eu
src=$1 work=$2 bin=$3
root=$(cd "$src/../../.." && pwd)
mods=$("$root/scripts/ali-ons.sh" "${TERN_BINARY_DIR:?}") || exit $?
mkdir -p "$work"
cp "$src/alions_peer.js" "$work/"
cd "$work"
rm -rf node_modules && ln -s "$mods" node_modules
TERN_ALIONS_PEER="$work/alions_peer.js" exec "$bin"
