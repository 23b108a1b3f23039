#!/bin/sh
# Client benchmark driver behind bench/README.md: starts a release mqnamesrv
# and mqbroker (ASYNC_FLUSH, loopback, temp store), creates TernBench and
# runs tern-bench scenarios, each beside a loopback TCP measurement.
# usage: tools/bench_client.sh <release build dir> [scenario...]
#   scenarios: loopback async sync1 sync64 p99half drain  (default: all)
set -eu
B=$(cd "$1" && pwd); shift
SC=${*:-loopback async sync1 sync64 p99half drain}
D=$(mktemp -d /tmp/tern_cbench_XXXXXX)
NSP=${NSP:-29876}; BP=${BP:-20911}
cat > $D/ns.conf <<C
listenPort=$NSP
bindAddress=127.0.0.1
kvConfigPath=$D/kv/kvConfig.json
logLevel=warn
C
cat > $D/broker.conf <<C
brokerName=broker-a
brokerClusterName=BenchCluster
listenPort=$BP
bindAddress=127.0.0.1
brokerIP1=127.0.0.1
namesrvAddr=127.0.0.1:$NSP
storePathRootDir=$D/store
mappedFileSizeCommitLog=${CLSIZE:-1073741824}
flushDiskType=ASYNC_FLUSH
autoCreateTopicEnable=true
logLevel=warn
C
$B/namesrv/mqnamesrv -c $D/ns.conf > $D/ns.log 2>&1 & NSPID=$!
sleep 0.5
$B/broker/mqbroker -c $D/broker.conf > $D/broker.log 2>&1 & BPID=$!
trap 'kill $BPID $NSPID 2>/dev/null; wait $BPID $NSPID 2>/dev/null; [ -n "${KEEP:-}" ] && cp $D/broker.log /tmp/cbench_broker.log; rm -rf $D' EXIT
sleep 1.5
NS=127.0.0.1:$NSP
TB=$B/tools/tern-bench
$B/tools/mqadmin updateTopic -n $NS -b 127.0.0.1:$BP -t TernBench -r 8 -w 8
$B/tools/mqadmin updateTopic -n $NS -b 127.0.0.1:$BP -t DrainTopic -r 8 -w 8
sleep 1
for s in $SC; do
  echo "################ $s"
  case $s in
    loopback) $TB loopback -s 1024 -d 4 ;;
    async)   $TB producer -n $NS -t TernBench -s 1024 -w 4 -y -m ${WINDOW:-4000} -d 10 | tail -4 ;;
    sync1)   $TB producer -n $NS -t TernBench -s 1024 -w 1 -d 8 | tail -3 ;;
    sync64)  $TB producer -n $NS -t TernBench -s 1024 -w 64 -d 8 | tail -3 ;;
    p99half) $TB producer -n $NS -t TernBench -s 1024 -w 4 -y -r ${RATE:-50000} -d 10 | tail -${TAILN:-3} ;;
    drain)   $TB producer -n $NS -t DrainTopic -s 1024 -w 4 -y -m 4000 -q 1000000 | tail -3
             $TB consumer -n $NS -t DrainTopic -g drain_group -w 8 -f -q 1000000 -d 120 | tail -4 ;;
  esac
done
