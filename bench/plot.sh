#!/usr/bin/env bash
# plot.sh DIR: DIR/plot.png from DIR/summary.csv and DIR/raw.csv (written by
# bench/report.sh): rswap (and with backend=ram) against brd, zram and
# NVMe over RDMA, a panel per
# workload: swap-in time, fio 4 KiB p50 latency, sort's slowdown, and the
# distribution of per-fault swap-in latency. Bars are medians, whiskers the
# lowest and highest round.
set -euo pipefail
dir=${1:?usage: plot.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
systems="rswap rswap-ram brd zram nvme"

# rows FILE LABEL:WORKLOAD:METRIC...: a row per item, "med lo hi" per system.
rows() {
	local out=$1 item
	shift
	: > "$out"
	for item in "$@"; do
		awk -F, -v item="$item" -v systems="$systems" '
			BEGIN { split(item, it, ":"); n = split(systems, sy, " ") }
			$2 == it[2] && $3 == it[3] { v[$1] = $5 " " $6 " " $7 }
			END {
				printf "\"%s\"", it[1]
				for (i = 1; i <= n; i++) printf " %s", (sy[i] in v) ? v[sy[i]] : "? ? ?"
				printf "\n" }' "$dir/summary.csv" >> "$out"
	done
}
rows "$dir/swap.dat" "0% zero:swap-z0:swapin_s" "50% zero:swap-z50:swapin_s"
rows "$dir/fio.dat" "read qd1:fio-randread-qd1:p50_us" "read qd32:fio-randread-qd32:p50_us" \
	"write qd1:fio-randwrite-qd1:p50_us" "write qd32:fio-randwrite-qd32:p50_us"
rows "$dir/sort.dat" "50% memory:sort-50:slowdown" "25% memory:sort-25:slowdown"
awk -F, -v cdf="$dir/faults.dat" -f "$here/faults.awk" "$dir/raw.csv" > /dev/null
touch "$dir/faults.dat"
raw=$(awk -F, '$1 == "raw" && $2 ~ /^read_lat_/ && $3 == "typical_us" { if (m == "" || $5 < m) m = $5 }
	END { print m }' "$dir/summary.csv")

term="pngcairo size 1400,1000 font ',11'"
gnuplot -e 'set terminal pngcairo' > /dev/null 2>&1 || term="png size 1400,1000"
bars() {	# the clustered-bar plot command for a .dat file
	echo "plot '$1' using 2:3:4:xtic(1) title 'rswap' lc rgb '#d62728', \
		'' using 5:6:7 title 'rswap backend=ram' lc rgb '#ff9896', \
		'' using 8:9:10 title 'brd' lc rgb '#7f7f7f', \
		'' using 11:12:13 title 'zram' lc rgb '#2ca02c', \
		'' using 14:15:16 title 'NVMe/RDMA' lc rgb '#1f77b4'"
}
gnuplot <<GP
set terminal $term
set output '$dir/plot.png'
set datafile missing '?'
set multiplot layout 2,2 title "rswap against the baselines ($(basename "$dir"))"
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill solid 0.8 border -1
set key top left reverse Left
set grid ytics
set yrange [0:*]
set title 'swap-in of 192 MiB through memory.max=64M'
set ylabel 'seconds'
$(bars "$dir/swap.dat")
set title 'fio 4 KiB random I/O, completion latency p50'
set ylabel 'µs (log)'
set logscale y
set yrange [1:*]
$( [ -n "$raw" ] && echo "set arrow from graph 0, first $raw to graph 1, first $raw nohead dt 2 lc rgb 'black'
set label 'ib_read_lat $raw µs' at graph 0.01, first $raw left offset 0,-0.8 noenhanced" )
$(bars "$dir/fio.dat")
unset logscale y
unset arrow
unset label
set yrange [0:*]
set title 'GNU sort under memory.max: slowdown against no limit'
set ylabel 'x unlimited run'
$(bars "$dir/sort.dat")
set title 'swap-in latency per fault (first touch of a swapped-out page)'
set style data linespoints
set logscale x 2
set xlabel 'µs (bucket upper bound)'
set format x '%g'
set ylabel 'share of faults at or under'
set yrange [0:1]
set key bottom right
plot for [s in "rswap rswap-pc0 brd zram nvme"] '$dir/faults.dat' using (stringcolumn(1) eq s ? \$2 : NaN):3 title s
unset multiplot
GP
