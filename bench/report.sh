#!/usr/bin/env bash
# report.sh: turn a benchmark's raw figures into what a reader compares.
#
# Usage: bench/report.sh RAW DIR
#   RAW  the lines bench/swap.sh printed: "@csv,SYSTEM,WORKLOAD,METRIC,
#        ROUND,VALUE", "@meta,KEY,VALUE", "@note,SYSTEM,WHY" (a system
#        abandoned) and "@fail,SYSTEM,WORKLOAD,ROUND,WHY" (a run that gave
#        no figure)
#   DIR  where it writes:
#        raw.csv      every figure of every round
#        summary.csv  per system, workload and metric: rounds, median,
#                     lowest, highest, the baseline's median, the ratio
#        report.md    the targets, the tables (median, spread, ratio to
#                     the baseline), the fault-latency histograms, the plot
#        plot.png     rswap against the baselines, a panel per workload
#                     (needs gnuplot; without it the report says so)
# It prints the report's text part. Baselines: brd for every device
# figure (local RAM swap: the speed limit), ib_read_lat for the 4 KiB read
# latency, ib_write_bw for the 4 KiB write rate.
set -euo pipefail
[ $# = 2 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
raw=$1 dir=$2
mkdir -p "$dir"
here=$(cd "$(dirname "$0")" && pwd)

echo "system,workload,metric,round,value" > "$dir/raw.csv"
sed -n 's/^@csv,//p' "$raw" >> "$dir/raw.csv"
meta() { sed -n "s/^@meta,$1,//p" "$raw" | head -n 1; }

# summary.csv: the medians, their spread, and the ratio to the baseline.
awk -F, -f "$here/summary.awk" "$dir/raw.csv" > "$dir/summary.csv"

# fig SYS WORKLOAD METRIC [FMT]: "median (lo..hi)" or "-".
fig() {
	awk -F, -v s="$1" -v w="$2" -v m="$3" -v fmt="${4:-%.2f}" '
		$1 == s && $2 == w && $3 == m { found = 1
			printf fmt " (" fmt ".." fmt ")", $5, $6, $7
			if ($4 < rounds) printf " [%d rounds]", $4 }
		END { if (!found) printf "-" }' rounds="$(meta rounds)" "$dir/summary.csv"
}
ratio() {	# SYS WORKLOAD METRIC: the ratio to the baseline, or "-"
	awk -F, -v s="$1" -v w="$2" -v m="$3" '
		$1 == s && $2 == w && $3 == m && $9 != "" { r = sprintf("%.2fx", $9) }
		END { print r == "" ? "-" : r }' "$dir/summary.csv"
}
med() {		# SYS WORKLOAD METRIC: the median, or nothing
	awk -F, -v s="$1" -v w="$2" -v m="$3" '$1 == s && $2 == w && $3 == m { print $5 }' \
		"$dir/summary.csv"
}
why_missing() {	# SYS: why a system has no figure
	local n
	n=$(sed -n "s/^@note,$1,//p" "$raw" | head -n 1)
	[ -n "$n" ] && { echo "$1 $n"; return; }
	n=$(sed -n "s/^@fail,$1,\([^,]*\),\([^,]*\),/\1 round \2: /p" "$raw" | head -n 1)
	[ -n "$n" ] && { echo "$1 failed: $n"; return; }
	echo "$1 gave no figure"
}

# target WHAT A B OP LIMIT SYSA SYSB: the ratio A/B of two medians judged.
target() {
	local what=$1 a=$2 b=$3 op=$4 lim=$5
	if [ -z "$a" ] || [ -z "$b" ]; then
		local who=$6
		[ -n "$a" ] && who=$7
		printf '| %s | - | %s %sx | not measured: %s |\n' "$what" "$op" "$lim" "$(why_missing "$who")"
		return
	fi
	awk -v a="$a" -v b="$b" -v op="$op" -v lim="$lim" -v what="$what" 'BEGIN {
		if (b <= 0) { printf "| %s | - | %s %sx | not measured (a zero median) |\n", what, op, lim; exit }
		r = a / b; ok = (op == "<=") ? r <= lim : r >= lim
		printf "| %s | %.2fx | %s %sx | %s |\n", what, r, op, lim, ok ? "met" : "**MISSED**" }'
}

# The raw read round trip: the faster of polling and events.
rawlat=$(med raw read_lat_poll typical_us)
rawmode="ib_read_lat"
ev=$(med raw read_lat_event typical_us)
if [ -z "$rawlat" ] || { [ -n "$ev" ] && awk -v e="$ev" -v p="$rawlat" 'BEGIN { exit !(e < p) }'; }; then
	rawlat=$ev rawmode="ib_read_lat -e"
fi
slow_ratio() {	# Z: rswap's sort slowdown over brd's at Z%
	local a b
	a=$(med rswap "sort-$1" slowdown)
	b=$(med brd "sort-$1" slowdown)
	echo "$a $b"
}

systems="rswap rswap-ram brd zram nvme"
{
echo "# rswap benchmark: rswap against brd, zram and NVMe over RDMA"
echo
echo "Kernel $(meta kernel), $(meta cpus) CPUs (QEMU), $(meta rounds) rounds; every system in the same guest run over the same soft-RoCE device (rxe0). Each figure is the median of the rounds, with the lowest and highest in brackets; ratios are of medians. Swap readahead: vm.page-cluster=$(meta page_cluster)."
echo
echo "## Targets"
echo
echo "| target | measured | wanted | verdict |"
echo "|---|---|---|---|"
for z in 0 50; do
	target "swap-in rswap / brd, $z% zero pages" "$(med rswap swap-z$z swapin_s)" \
		"$(med brd swap-z$z swapin_s)" "<=" 1.5 rswap brd
done
for z in 0 50; do
	target "swap-in NVMe over RDMA / rswap, $z% zero pages" "$(med nvme swap-z$z swapin_s)" \
		"$(med rswap swap-z$z swapin_s)" ">=" 1.7 nvme rswap
done
# Sequential swap-in as bytes per second (0% zero pages: every page read),
# against the wire's 128 KiB READ bandwidth.
sin=$(med rswap swap-z0 swapin_s)
[ -n "$sin" ] && sin=$(awk -v m="$(meta swap_mib)" -v s="$sin" 'BEGIN { if (s > 0) printf "%.2f", m / s }')
target "sequential swap-in MiB/s rswap / ib_read_bw -s 131072" "$sin" "$(med raw read_bw mib_s)" \
	">=" 0.8 rswap raw
target "swap-in without / with the module's read ahead, 0% zero pages" \
	"$(med rswap swap-z0-nopf swapin_s)" "$(med rswap swap-z0 swapin_s)" ">=" 1.0 rswap rswap
target "4 KiB read p50 rswap (fio, qd 1) / $rawmode typical" \
	"$(med rswap fio-randread-qd1 p50_us)" "$rawlat" "<=" 1.2 rswap raw
# The module's own cost: backend=ram against brd.
target "swap-in rswap-ram / brd, 0% zero pages" "$(med rswap-ram swap-z0 swapin_s)" \
	"$(med brd swap-z0 swapin_s)" "<=" 1.2 rswap-ram brd
target "4 KiB read p50 rswap-ram / brd (fio, qd 1)" "$(med rswap-ram fio-randread-qd1 p50_us)" \
	"$(med brd fio-randread-qd1 p50_us)" "<=" 1.2 rswap-ram brd
target "4 KiB read IOPS brd / rswap-ram (fio, qd 32)" "$(med brd fio-randread-qd32 iops)" \
	"$(med rswap-ram fio-randread-qd32 iops)" "<=" 1.2 brd rswap-ram
set -- $(slow_ratio 50)
target "sort slowdown at 50% memory, rswap / brd" "${1:-}" "${2:-}" "<=" 1.5 rswap brd
echo
echo "## Swap: $(meta swap_workload)"
echo
echo "Seconds; the ratio is to brd."
echo
echo "| system | zero pages | fill | x brd | swap-in | x brd |"
echo "|---|---|---|---|---|---|"
for z in 0 50; do
	for s in $systems; do
		echo "| $s | $z% | $(fig $s swap-z$z fill_s) | $(ratio $s swap-z$z fill_s) | $(fig $s swap-z$z swapin_s) | $(ratio $s swap-z$z swapin_s) |"
	done
done
echo
echo "## fio: 4 KiB random I/O on the device, O_DIRECT"
echo
echo "Queue depth 1 with psync, 32 with libaio. Completion latency in µs; the ratios are to brd."
echo
echo "| system | job | IOPS | x brd | p50 µs | x brd | p99 µs | p99.9 µs |"
echo "|---|---|---|---|---|---|---|---|"
for j in randread-qd1 randread-qd32 randwrite-qd1 randwrite-qd32; do
	for s in $systems; do
		echo "| $s | $j | $(fig $s fio-$j iops %.0f) | $(ratio $s fio-$j iops) | $(fig $s fio-$j p50_us %.0f) | $(ratio $s fio-$j p50_us) | $(fig $s fio-$j p99_us %.0f) | $(fig $s fio-$j p999_us %.0f) |"
	done
done
echo
echo "Raw RDMA over the same rxe0 (perftest, 4 KiB):"
echo
echo "| figure | median (lo..hi) |"
echo "|---|---|"
echo "| ib_read_lat typical µs, polling | $(fig raw read_lat_poll typical_us %.1f) |"
echo "| ib_read_lat p99 µs, polling | $(fig raw read_lat_poll p99_us %.1f) |"
echo "| ib_read_lat typical µs, events (-e) | $(fig raw read_lat_event typical_us %.1f) |"
echo "| ib_read_lat p99 µs, events (-e) | $(fig raw read_lat_event p99_us %.1f) |"
echo "| ib_write_bw 4 KiB writes/s | $(fig raw write_bw iops %.0f) |"
echo "| ib_read_bw 128 KiB MiB/s | $(fig raw read_bw mib_s %.1f) |"
a=$(med rswap fio-randwrite-qd32 iops)
b=$(med raw write_bw iops)
[ -n "$a" ] && [ -n "$b" ] &&
	echo "| rswap fio randwrite qd 32 IOPS / ib_write_bw | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }') |"
echo
echo "## A real program: GNU sort"
echo
echo "$(meta sort_input). Its working set without a limit: $(fig none sort ws_mib %.0f) MiB, in $(fig none sort time_s) s. With memory.max at a share of the working set, the slowdown is its time over that of the latest unlimited run (one opens each round; NVMe over RDMA, run after the rounds, uses the last); the ratio is to brd's slowdown."
echo
echo "| system | memory | slowdown | x brd | seconds |"
echo "|---|---|---|---|---|"
for p in 50 25; do
	for s in $systems; do
		echo "| $s | $p% | $(fig $s sort-$p slowdown) | $(ratio $s sort-$p slowdown) | $(fig $s sort-$p time_s) |"
	done
done
echo
echo "## Swap-in latency per fault"
echo
echo "A faulting process's view: the first touch of each page while the swap workload (0% zero pages) reads its pages back, timed in the process; the faults are the slowest touches, as many as its major faults. The kernel reads ahead 2^page-cluster pages per fault on rswap and NVMe over RDMA, but never on brd and zram (synchronous devices: a fault reads its own page only); rswap-pc0 is rswap with vm.page-cluster=0, one page per fault like them. rswap's view: the module's histogram of RDMA reads (a read carries every page of a block request that lies in consecutive slots), whole and split into building and posting the work requests and waiting for the last completion. Bucket upper bounds, µs, summed over the rounds."
echo
echo "| system | zero pages | swap-in s | x brd | fill s |"
echo "|---|---|---|---|---|"
echo "| rswap, readahead $(meta page_cluster) | 0% | $(fig rswap swap-z0 swapin_s) | $(ratio rswap swap-z0 swapin_s) | $(fig rswap swap-z0 fill_s) |"
echo "| rswap, no readahead | 0% | $(fig rswap swap-z0-pc0 swapin_s) | $(ratio rswap swap-z0-pc0 swapin_s) | $(fig rswap swap-z0-pc0 fill_s) |"
echo "| rswap, readahead $(meta page_cluster), no read ahead of its own (prefetch=0) | 0% | $(fig rswap swap-z0-nopf swapin_s) | $(ratio rswap swap-z0-nopf swapin_s) | $(fig rswap swap-z0-nopf fill_s) |"
echo
echo "The module's read ahead (rswap_prefetch.c, prefetch_kib=$(meta prefetch_kib) KiB of buffer): pages it read ahead during each run, and the share of the run's pages handed out from it (hit rate: handed out / the workload's pages). Last column: the run's read requests that read the map without the device's lock, met a write or a slab-table change doing so, and planned again under the lock (stats reads_relocked; every other read took no lock)."
echo
echo "| run | read ahead | handed out | hit rate | reads planned again under the lock |"
echo "|---|---|---|---|---|"
for w in swap-z0 swap-z50 swap-z0-pc0; do
	rd=$(med rswap $w prefetch_read_pages) hit=$(med rswap $w prefetch_hit_pages)
	[ -n "$rd" ] || continue
	echo "| $w | $rd | $hit | $(awk -v h="$hit" -v m="$(meta swap_mib)" 'BEGIN { printf "%.0f%%", 100 * h / (m * 256) }') | $(med rswap $w reads_relocked) |"
done
echo
awk -F, -f "$here/faults.awk" "$dir/raw.csv"
echo
if sed -n 's/^@note,//p; s/^@fail,//p' "$raw" | grep -q .; then
	echo "## Runs that gave no figure"
	echo
	sed -n 's/^@note,\([^,]*\),/- \1: /p; s/^@fail,\([^,]*\),\([^,]*\),\([^,]*\),/- \1 \2 round \3: /p' "$raw"
	echo
fi
} > "$dir/report.md"

if command -v gnuplot > /dev/null; then
	"$here/plot.sh" "$dir" && echo "![rswap against the baselines](plot.png)" >> "$dir/report.md"
else
	echo "No plot: gnuplot is not installed (apt-get install gnuplot-nox)." >> "$dir/report.md"
fi
cat "$dir/report.md"
echo
echo "report: $dir/report.md; figures: $dir/raw.csv, $dir/summary.csv$([ -f "$dir/plot.png" ] && echo "; plot: $dir/plot.png")"
