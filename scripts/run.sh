#!/usr/bin/env bash
# Installs what is missing, builds Tern, and runs a name server and a broker on
# loopback with their data under ./data. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
mkdir -p data/namesrv data/broker
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' INT TERM EXIT
build/release/namesrv/mqnamesrv -c conf/namesrv.conf & pids+=($!)
build/release/broker/mqbroker -n 127.0.0.1:9876 -c conf/broker.conf & pids+=($!)
wait -n
