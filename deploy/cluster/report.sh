#!/usr/bin/env bash
# report.sh: the cluster run's timeline, report and plot from its samples.
#
# Usage: deploy/cluster/report.sh SAMPLES DIR
#
# SAMPLES holds the guests' "@" lines (deploy/cluster/guest/node.sh says
# what each means). Writes into DIR:
#   timeline.csv  t,what,name,value: mem (server MiB held), write and read
#                 (a client's RDMA MiB/s over the last interval), swpout and
#                 swpin (pages/s), lat_p50 and lat_p99 (read latency of the
#                 interval, us, the bucket's upper bound), one row per sample
#   report.md     peaks and means per server and client, the events
#   plot.png      memory, throughput and latency over time, with the
#                 events marked (gnuplot; left out when it is missing)
# and prints report.md. Exit status 1 when SAMPLES holds no sample.
set -euo pipefail

[ $# = 2 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
samples=$1 dir=$2
mkdir -p "$dir"
grep -q '^@ts,' "$samples" || { echo "report: no samples in $samples" >&2; exit 1; }

# Rates from cumulative counters, percentiles from histogram differences.
awk -F, '
function pct(n, p,    i, want, acc) {
	want = p * tot; acc = 0
	for (i = 1; i <= n; i++) { acc += d[i]; if (acc >= want) return bound(i) }
	return bound(n)
}
function bound(i) { return 2 ^ (i - 1) }	# row i of read_latency_us: < 2^(i-1) us
BEGIN { print "t,what,name,value" }
$1 == "@ts" && $3 == "mem" { if ($5 != "") print $2 ",mem," $4 "," $5; next }
$1 == "@ts" {
	k = $3 SUBSEP $4
	if (k in last) {
		dt = $2 - lastt[k]
		if (dt > 0) {
			v = ($5 - last[k]) / dt
			if ($3 == "sent") print $2 ",write," $4 "," sprintf("%.2f", v / 1048576)
			else if ($3 == "recv") print $2 ",read," $4 "," sprintf("%.2f", v / 1048576)
			else print $2 "," $3 "," $4 "," sprintf("%.0f", v)
		}
	}
	last[k] = $5; lastt[k] = $2; next
}
$1 == "@lat" {
	n = NF - 3; tot = 0
	for (i = 1; i <= n; i++) {
		c = $(i + 3); pk = $3 SUBSEP i
		d[i] = (pk in prev) ? c - prev[pk] : 0; prev[pk] = c
		tot += d[i]
	}
	if (tot >= 20) {	# too few reads in a second say nothing
		print $2 ",lat_p50," $3 "," pct(n, 0.5)
		print $2 ",lat_p99," $3 "," pct(n, 0.99)
	}
}' "$samples" > "$dir/timeline.csv"

grep '^@event,' "$samples" | cut -d, -f2- > "$dir/events.csv" || true

awk -F, -v events="$dir/events.csv" '
NR == 1 { next }
{
	k = $2 SUBSEP $3
	if (!(k in n)) { keys[++nk] = k }
	n[k]++; sum[k] += $4; if (!(k in peak) || $4 + 0 > peak[k]) peak[k] = $4 + 0
	if ($4 + 0 > 0) { busy[k]++; bsum[k] += $4 }
	tend = $1
}
END {
	print "# Cluster run"
	print ""
	printf "Samples over %.0f s, one a second (client 1'"'"'s clock).\n\n", tend
	print "| what | who | peak | mean while active |"
	print "|---|---|---|---|"
	for (i = 1; i <= nk; i++) {
		split(keys[i], kk, SUBSEP)
		unit = kk[1] == "mem" ? " MiB" : kk[1] ~ /^(write|read)$/ ? " MiB/s" : \
			kk[1] ~ /^lat/ ? " us" : " pages/s"
		printf "| %s | %s | %g%s | %s |\n", kk[1], kk[2], peak[keys[i]], unit, \
			busy[keys[i]] ? sprintf("%.1f%s", bsum[keys[i]] / busy[keys[i]], unit) : "-"
	}
	print ""
	print "| t (s) | who | event |"
	print "|---|---|---|"
	while ((getline line < events) > 0) {
		split(line, e, ",")
		printf "| %s | %s | %s %s |\n", e[1], e[2], e[3], e[4]
	}
	print ""
	print "mem: what a server has granted (all clients), sampled by client 1;"
	print "write/read: a client'"'"'s RDMA payload; lat: the module'"'"'s read latency of each"
	print "second with 20 reads or more (bucket upper bounds, powers of two)."
}' "$dir/timeline.csv" > "$dir/report.md"

if command -v gnuplot > /dev/null; then
	"$(dirname "$0")/plot.sh" "$dir/timeline.csv" "$dir/events.csv" "$dir/plot.png" &&
		echo "plot: $dir/plot.png" >> "$dir/report.md"
else
	echo "plot: none (gnuplot is not installed)" >> "$dir/report.md"
fi
cat "$dir/report.md"
