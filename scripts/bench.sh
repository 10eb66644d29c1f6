#!/usr/bin/env bash
# bench.sh: run a benchmark (not a test: it measures, and never fails on a
# figure) in a QEMU guest, show its progress, and report its results.
#
# Usage: scripts/bench.sh [--kernel 6.1|6.12] [NAME]
#   NAME   swap (default): the suite. rswap against local RAM swap (brd),
#          zram and the kernel's NVMe over RDMA, all in one guest run over
#          the same soft-RoCE device, with perftest's raw figures: fill and
#          swap-in, fio 4 KiB random read/write at queue depth 1 and 32, a
#          real program (GNU sort) at 50% and 25% of its working set, and
#          per-fault swap-in latency. Writes build/bench/swap-KERNEL/:
#          raw.csv, summary.csv, report.md (targets, tables, ratios) and
#          plot.png. About 18 minutes here.
#          server: rswap-server's slabs against ib_read_lat and ib_write_bw
#          drain: MiB/s of slabs a drain moves server to server against
#          ib_write_bw, and a workload's slowdown while a drain runs
#          replicas: fill and swap-in with replicas=1, 2 and 3, and the
#          MiB/s of new copies after a server is lost, against ib_write_bw
#          (four servers; about 15 minutes here)
#          scaling: fio 4 KiB random reads and writes with 1, 2 and 4 jobs on a
#          4-CPU guest (--tcg multi) on null_blk, brd, rswap backend=ram
#          and rswap over rxe: IOPS and how they scale with the jobs
#          profile: where a 4 KiB read at queue depth 1 spends its time:
#          p50 on null_blk, rswap backend=ram and rswap over rxe against
#          ib_read_lat (polling, and woken by events as a read is), and a
#          perf profile of the rxe run split into rswap.ko, the RDMA
#          stack, the rest of the kernel, userspace and idle
#          prefetch: swap-in of 192 MiB with the module's read ahead on
#          and off, with and without the kernel's swap readahead, in
#          turns: time, pages read ahead, handed out and dropped, and
#          the pages the wire carried per page swapped in (8 minutes)
#          cluster: deploy/cluster/rswap-cluster at full size: three server
#          guests, two client guests, every workload, a drain and a
#          rebalance mid-run; per-server memory, throughput and latency
#          over time in build/cluster/KERNEL-full/
# Figures are medians of several rounds with their spread, as ratios to
# the baseline measured in the same guest run (absolute times drift on
# shared machines). What a benchmark printed is shown even if its guest
# died part way. Exit status: the harness's verdict on the guest run (a
# kernel warning, a page that came back wrong, or a guest that did not
# finish fails it).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=6.1 name=swap
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "bench: unknown option '$1' (try --help)" >&2; exit 2 ;;
	*) name=$1; shift ;;
	esac
done
case $name in
swap|server|drain|replicas|scaling|profile|prefetch|cluster) ;;
*) echo "bench: no benchmark '$name': swap, server, drain, replicas, scaling, profile, prefetch or cluster (try --help)" >&2; exit 2 ;;
esac
"$top/scripts/install-deps.sh"
cmake -S "$top" -B "$top/build" >/dev/null
cmake --build "$top/build" -j "$(nproc)" >/dev/null
if [ "$name" = cluster ]; then
	exec "$top/deploy/cluster/rswap-cluster" --kernel "$kernel" --size full --servers 3 --clients 2
fi
out=$top/build/vm-logs/bench-$kernel-$name
mkdir -p "$out"
rm -f "$out/console.log"
rc=0
# Scaling needs a thread per vCPU (TCG's single thread would serialize
# them); the others keep run-vm's safer default.
tcg=()
[ "$name" = scaling ] && tcg=(--tcg multi)
"$top/tests/vm/run-vm" --kernel "$kernel" --out "$out" "${tcg[@]}" "$top/bench/$name.sh" \
	> "$out/verdict.log" 2>&1 &
vm=$!
# Progress as it comes: the benchmark's own lines, not the kernel's
# (they start with '[') nor the raw figures (with '@').
until [ -f "$out/console.log" ] || ! kill -0 $vm 2>/dev/null; do sleep 1; done
if [ -f "$out/console.log" ]; then
	tail -n +1 -F --pid=$vm "$out/console.log" 2>/dev/null |
		sed -un '/^==== rswap benchmark/,/^==== end ====/p' |
		grep --line-buffered -v '^\[\|^@\|^rswap-vm: PASS ' || true
fi
wait $vm || rc=$?
[ -f "$out/console.log" ] || { cat "$out/verdict.log"; exit "$rc"; }	# never booted
grep -q '^==== end ====' "$out/console.log" ||
	echo "bench: the guest stopped before the end of the benchmark (see $out/console.log)"
if grep -q '^@csv,' "$out/console.log"; then
	report=$top/build/bench/$name-$kernel
	grep '^@' "$out/console.log" > "$out/figures.txt"
	echo
	"$top/bench/report.sh" "$out/figures.txt" "$report"
fi
# The verdict: the guest's run time, what failed, and the summary.
grep ': guest ran \|: FAIL \|: SKIP \|: \(PASSED\|FAILED\|SKIPPED\): ' "$out/verdict.log" |
	grep -v ': | ' || true
exit "$rc"
