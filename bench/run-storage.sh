#!/bin/bash
# Brings up a memstore cluster of its own, runs bench-storage in it, tears
# it down. Usage: bench/run-storage.sh BUILD_DIR [bench-storage options]
set -euo pipefail
build=${1:?usage: bench/run-storage.sh BUILD_DIR [OPTIONS]}; shift
top=$(cd "$(dirname "$0")/.." && pwd)
export LODGE_CLUSTER_DIR=${LODGE_CLUSTER_DIR:-$build/bench-cluster} LODGE_NETNS=${LODGE_NETNS:-lodge-bench}
trap '"$top/tools/lodge-cluster" down --purge >/dev/null 2>&1 || true' EXIT
"$top/tools/lodge-cluster" up --memstore --nodes 0 >/dev/null
"$top/tools/lodge-cluster" exec "$build/bench/bench-storage" "$@"
