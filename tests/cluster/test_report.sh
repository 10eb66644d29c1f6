#!/usr/bin/env bash
# test_report.sh: deploy/cluster/report.sh on fixed samples (samples.txt):
# rates from cumulative counters over uneven intervals, latency
# percentiles from histogram differences (and none for a second with too
# few reads), peaks and means, the events, the plot when gnuplot is there,
# and an error for a file with no samples.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
report=$here/../../deploy/cluster/report.sh
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
. "$here/../lib/checks.sh"
hasnt() {
	if grep -qF -- "$3" "$2"; then bad "$1" "'$3' in $(basename "$2")"; else ok "$1"; fi
}

"$report" "$here/samples.txt" "$out" > "$out/stdout" 2>&1 ||
	bad report-runs "exit status $?: $(tail -n 3 "$out/stdout")"
t=$out/timeline.csv
has memory-as-sampled "$t" "2.00,mem,server2,12.0"
has write-rate "$t" "1.00,write,client1,2.00"
has read-rate "$t" "2.00,read,client1,4.00"
has rate-over-two-seconds "$t" "4.00,read,client1,1.00"
has idle-is-zero "$t" "4.00,write,client1,0.00"
has swap-pages-per-second "$t" "2.00,swpin,client1,1024"
# 2 s: 100 reads, 50 under 2 us, 49 under 4, 1 under 8
has p50-of-the-second "$t" "2.00,lat_p50,client1,2"
has p99-of-the-second "$t" "2.00,lat_p99,client1,4"
# 4 s: only 10 new reads: no percentile
hasnt too-few-reads-no-percentile "$t" "4.00,lat_p50"
r=$out/report.md
has peak-memory "$r" "| mem | server2 | 16 MiB | 10.7 MiB |"
has drained-server "$r" "| mem | server1 | 10 MiB | 7.0 MiB |"
has peak-write "$r" "| write | client1 | 2 MiB/s | 1.5 MiB/s |"
has event-listed "$r" "| 1.50 | client1 | drain-start server1 |"
if command -v gnuplot > /dev/null; then
	if [ -s "$out/plot.png" ]; then ok plot; else bad plot "no plot.png: $(tail -n 2 "$out/stdout")"; fi
else
	echo "SKIP plot: gnuplot is not installed"
fi
grep -v '^@ts' "$here/samples.txt" > "$out/empty.txt"
if "$report" "$out/empty.txt" "$out/e" > "$out/e.out" 2>&1; then
	bad no-samples-refused "report.sh succeeded on a file with no samples"
else
	has no-samples-refused "$out/e.out" "report: no samples in $out/empty.txt"
fi
checks_done
