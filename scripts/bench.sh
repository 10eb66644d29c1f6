#!/usr/bin/env bash
# bench.sh: run the benchmarks (not tests: they measure, and never fail on a
# figure) in QEMU guests, and print their results.
#
# Usage: scripts/bench.sh [--kernel 6.1|6.12] [NAME]
#   NAME   server (default): rswap-server's slabs against ib_read_lat and
#          ib_write_bw in the same guest
# Results are medians of several rounds with their spread, as ratios to the
# baseline measured in the same guest run (absolute times drift on shared
# machines).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=6.1 name=server
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) name=$1; shift ;;
	esac
done
[ -f "$top/bench/$name.sh" ] || { echo "bench: no benchmark '$name'" >&2; exit 2; }
"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$top/build" >/dev/null
cmake --build "$top/build" -j "$(nproc)" >/dev/null
out=$top/build/vm-logs/bench-$kernel-$name
"$top/tests/vm/run-vm" --kernel "$kernel" --out "$out" "$top/bench/$name.sh" | tail -n 1
sed -n '/^==== rswap benchmark/,/^==== end ====/p' "$out/console.log" | grep -v '^\['
