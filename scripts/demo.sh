#!/usr/bin/env bash
# demo.sh: the main job, end to end: a soft-RoCE cluster of QEMU guests.
#
# Usage: scripts/demo.sh [--kernel 6.1|6.12] [rswap-cluster options]
#
# Installs what is missing, builds, and runs deploy/cluster/rswap-cluster at
# its smallest size: two memory server guests and one client guest on a
# private Ethernet segment, each with its own rxe device, and an etcd pool
# directory the servers register in. The client loads rswap.ko with no
# server list and follows the directory, swaps a workload twice the size of
# its cgroup's memory.max to the pool (every page compared); meanwhile
# server 2 joins the pool, and server 1 is drained (its pages move server to
# server), leaves the directory and the device, and comes back when
# undrained; then swapoff and unload.
# Shows progress as it goes and ends with a summary of what moved where;
# the report and plot of memory, throughput and latency over time are in
# build/cluster/. Takes about 6 minutes. See rswap-cluster --help for more
# servers, clients or the full workload set.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
case "${1:-}" in
-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac

"$top/scripts/install-deps.sh"
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
exec "$top/deploy/cluster/rswap-cluster" "$@"
