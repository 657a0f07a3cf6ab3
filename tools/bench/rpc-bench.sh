#!/bin/bash
# Starts an rpc-echo, reads its idle RSS from /proc, runs rpc-bench against
# it, reads its RSS again, stops it. Needs RabbitMQ on 127.0.0.1:5672.
#   tools/bench/rpc-bench.sh [rpc-bench options]   (BUILD=build by default)
set -euo pipefail
BUILD=${BUILD:-$(dirname "$0")/../../build}
TOPIC=rpcbench-$$-$RANDOM
OUT=$(mktemp)
"$BUILD/rpc-echo" "$TOPIC" bench-1 >"$OUT" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$OUT"' EXIT
for _ in $(seq 1 100); do grep -q consuming "$OUT" && break; sleep 0.1; done
grep -q consuming "$OUT" || { echo "rpc-echo did not start" >&2; exit 1; }
sleep 1
rss() { awk '/^VmRSS/ {print $2 " kB"}' "/proc/$PID/status"; }
echo "rpc-echo idle RSS after start: $(rss)"
"$BUILD/rpc-bench" "$@" "$TOPIC"
sleep 1
echo "rpc-echo RSS after the benchmark: $(rss) (high water $(awk '/^VmHWM/ {print $2 " kB"}' /proc/$PID/status))"
