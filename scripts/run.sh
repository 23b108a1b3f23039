#!/usr/bin/env bash
# Installs what is missing, builds Tern, and runs a name server and a broker on
# loopback with their data under ./data. Ctrl-C stops both (the broker first,
# so it can unregister from the name server).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
mkdir -p data/namesrv data/broker
ns=""; br=""
stop() {
  trap - INT TERM EXIT
  if [ -n "$br" ]; then kill "$br" 2>/dev/null || true; wait "$br" 2>/dev/null || true; fi
  if [ -n "$ns" ]; then kill "$ns" 2>/dev/null || true; wait "$ns" 2>/dev/null || true; fi
}
trap stop INT TERM EXIT
# Own sessions: a terminal's Ctrl-C reaches only this script, which stops them in order.
setsid build/release/namesrv/mqnamesrv -c conf/namesrv.conf & ns=$!
setsid build/release/broker/mqbroker -n 127.0.0.1:9876 -c conf/broker.conf & br=$!
echo "Tern is running: name server 127.0.0.1:9876, broker 127.0.0.1:10911 (Ctrl-C stops both)."
echo "Try: build/release/tools/mqadmin clusterList -n 127.0.0.1:9876"
wait -n
