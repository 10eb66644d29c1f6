#!/usr/bin/env bash
# plot.sh: three panels over time from a cluster run's timeline.csv:
# memory held per server, RDMA throughput per client, read latency per
# client; every event (workload start/end, drain, rebalance) a dashed line.
#
# Usage: deploy/cluster/plot.sh TIMELINE EVENTS PNG
set -euo pipefail
[ $# = 3 ] || { echo "usage: plot.sh TIMELINE EVENTS PNG" >&2; exit 2; }
timeline=$1 events=$2 png=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One data file per series: gnuplot plots each as its own line.
awk -F, -v d="$tmp" 'NR > 1 { f = d "/" $2 "." $3; print $1, $4 > f }' "$timeline"
series() {	# WHAT TITLE_SUFFIX: a gnuplot plot list for each name of WHAT
	local what=$1 suffix=$2 f list=
	for f in "$tmp/$what".*; do
		[ -e "$f" ] || continue
		list="$list${list:+, }'$f' using 1:2 with lines lw 2 title '${f##*/$what.}$suffix'"
	done
	echo "${list:-1 with lines lc rgb 'white' title 'no samples'}"
}
tmax=$(awk -F, 'NR > 1 && $1 + 0 > m { m = $1 + 0 } END { print m + 1 }' "$timeline")
marks=$(awk -F, '{ printf "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2 lc rgb \"gray50\"\n", $1, $1
	printf "set label \"%s %s\" at %s, graph 0.97 rotate by 90 right font \",8\" tc rgb \"gray30\"\n", $3, $4, $1 }' \
	"$events" 2>/dev/null || true)

gnuplot <<EOF
set terminal pngcairo size 1100,1000 font ",10"
set output '$png'
set multiplot layout 3,1 title "rswap cluster run"
set grid
set key outside right
set xlabel "seconds"
set xrange [0:$tmax]
$marks
set title "memory held per server"
set ylabel "MiB"
plot $(series mem "")
set title "RDMA throughput per client (write = swap-out, read = swap-in)"
set ylabel "MiB/s"
plot $(series write " write"), $(series read " read")
set title "read latency per second (module, bucket upper bound)"
set ylabel "us"
set logscale y 2
plot $(series lat_p50 " p50"), $(series lat_p99 " p99")
unset multiplot
EOF
