#!/usr/bin/env bash
# bench.sh: run the benchmarks (not tests: they measure, and never fail on a
# figure) in QEMU guests, and print their results.
#
# Usage: scripts/bench.sh [--kernel 6.1|6.12] [NAME]
#   NAME   server (default): rswap-server's slabs against ib_read_lat and
#          ib_write_bw in the same guest
#          kmod: swap on rswap.ko against brd and the kernel's NVMe over
#          RDMA (fill and swap-in of 192 MiB through memory.max=64M), and
#          4 KiB random-read latency against ib_read_lat (about 7 minutes)
#          drain: MiB/s of slabs a drain moves server to server against
#          ib_write_bw, and a workload's slowdown while a drain runs
# Results are medians of several rounds with their spread, as ratios to the
# baseline measured in the same guest run (absolute times drift on shared
# machines). What a benchmark printed is shown even if its guest died part
# way (kmod prints each figure as it is measured). Exit status: the
# harness's verdict on the guest run (a kernel warning or a guest that did
# not finish fails it).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=6.1 name=server
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) name=$1; shift ;;
	esac
done
[ -f "$top/bench/$name.sh" ] || { echo "bench: no benchmark '$name'" >&2; exit 2; }
"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$top/build" >/dev/null
cmake --build "$top/build" -j "$(nproc)" >/dev/null
out=$top/build/vm-logs/bench-$kernel-$name
mkdir -p "$out"
rc=0
"$top/tests/vm/run-vm" --kernel "$kernel" --out "$out" "$top/bench/$name.sh" \
	> "$out/verdict.log" 2>&1 || rc=$?
[ -f "$out/console.log" ] || { cat "$out/verdict.log"; exit "$rc"; }	# never booted
# Kernel lines (they start with '[') interleave with the benchmark's.
sed -n '/^==== rswap benchmark/,/^==== end ====/p' "$out/console.log" |
	grep -v '^\[\|^rswap-vm: PASS ' || true
grep -q '^==== end ====' "$out/console.log" ||
	echo "bench: the guest stopped before the end of the benchmark (see $out/console.log)"
# The verdict: the guest's run time, what failed, and the summary.
grep ': guest ran \|: FAIL \|: SKIP \|: \(PASSED\|FAILED\|SKIPPED\): ' "$out/verdict.log" |
	grep -v ': | ' || true
exit "$rc"
