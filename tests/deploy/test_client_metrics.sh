#!/usr/bin/env bash
# Description: `rswap-client metrics` turns rswap.ko's sysfs files (a copy
# in tests/deploy/metrics-sys: two devices, a server up and one down, a
# stats field the script does not know) into Prometheus text that promtool
# accepts, with the values of the files: counters, per-server samples,
# the read-latency histogram cumulated with its sum and count, the unknown
# field kept. Not loaded, it says rswap_loaded 0 and nothing else. promtool
# is shown failing on broken text first, so its pass means something.
# Runs under dash and busybox sh where they are installed.
#
# Usage: tests/deploy/test_client_metrics.sh
# Exit: 0 passed, 1 failed, 77 skipped (no promtool).
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$here/../..
command -v promtool > /dev/null || {
	echo "SKIP: promtool not found (scripts/install-deps.sh puts it in /usr/local/bin)"
	exit 77
}
work=$(mktemp -d "${TMPDIR:-/tmp}/rswap-metrics.XXXXXX")
trap 'rm -rf "$work"' EXIT
sed 's|@CMAKE_INSTALL_FULL_SYSCONFDIR@|/etc|g' "$src/deploy/client/rswap-client.in" > "$work/rswap-client"
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }

printf 'x_total{a="b} 1\n' | promtool check metrics > /dev/null 2>&1 &&
	fail promtool-can-fail "promtool accepted a broken line"

shells="sh"
for s in dash "busybox sh"; do
	if command -v "${s%% *}" > /dev/null; then shells="$shells|$s"; fi
done
IFS='|'
for shell in $shells; do
	unset IFS
	out=$work/out
	# shellcheck disable=SC2086 # "busybox sh" is two words
	if ! RSWAP_SYS_BLOCK=$here/metrics-sys $shell "$work/rswap-client" metrics > "$out" 2> "$work/err"; then
		fail "$shell: exit-0" "$(cat "$work/err")"
		continue
	fi
	if lint=$(promtool check metrics < "$out" 2>&1); then
		pass "$shell: promtool-accepts"
	else
		fail "$shell: promtool-accepts" "$lint"
	fi
	want() {	# NAME SAMPLE: the exact sample line is there
		if grep -qxF "$2" "$out"; then pass "$shell: $1"; else fail "$shell: $1" "no line '$2'"; fi
	}
	want loaded 'rswap_loaded 1'
	want counter 'rswap_checksum_errors_pages_total{device="rswap0"} 3'
	want counter-type '# TYPE rswap_checksum_errors_pages_total counter'
	want help-line '# HELP rswap_sent_bytes_total Bytes written to servers by RDMA, every copy'
	want second-device 'rswap_device_pages{device="rswap1"} 4096'
	want unit-bytes 'rswap_slab_size_bytes{device="rswap0"} 1048576'
	want map-bytes 'rswap_map_bytes{device="rswap0"} 1048576'
	want reads-relocked 'rswap_reads_relocked_total{device="rswap0"} 4'
	want prefetch-waits 'rswap_prefetch_waits_total{device="rswap0"} 12'
	want write-overlaps 'rswap_write_overlaps_total{device="rswap0"} 3'
	want read-overlaps 'rswap_read_overlaps_total{device="rswap0"} 5'
	want read-claims 'rswap_read_claims_total{device="rswap0"} 2'
	want slab-states 'rswap_slab_entries{device="rswap0",state="returning"} 6'
	want unknown-field-kept 'rswap_a_new_field{device="rswap0"} 42'
	want server-up 'rswap_server_ready{device="rswap0",server="10.77.0.1:7471"} 1'
	want server-down 'rswap_server_ready{device="rswap0",server="10.77.0.2:7471"} 0'
	want server-info 'rswap_server_info{device="rswap0",server="10.77.0.1:7471",state="ready",domain="rack-a"} 1'
	want server-keepalive-timeouts 'rswap_server_keepalive_timeouts_total{device="rswap0",server="10.77.0.2:7471"} 1'
	want histogram-type '# TYPE rswap_read_latency_seconds histogram'
	want bucket-cumulated 'rswap_read_latency_seconds_bucket{device="rswap0",le="0.000256"} 9000'
	want bucket-inf 'rswap_read_latency_seconds_bucket{device="rswap0",le="+Inf"} 15001'
	want histogram-count 'rswap_read_latency_seconds_count{device="rswap0"} 15001'
	want histogram-sum 'rswap_read_latency_seconds_sum{device="rswap0"} 1.234567'
	n=$(grep -c '^# TYPE rswap_device_pages ' "$out")
	[ "$n" = 1 ] && pass "$shell: one-type-line-per-family" ||
		fail "$shell: one-type-line-per-family" "$n TYPE lines for rswap_device_pages"
	if ! grep -q '^rswap ' /proc/modules 2>/dev/null; then
		mkdir -p "$work/empty"
		RSWAP_SYS_BLOCK=$work/empty $shell "$work/rswap-client" metrics > "$out" 2>&1
		if [ "$(grep -v '^#' "$out")" = "rswap_loaded 0" ] && promtool check metrics < "$out" > /dev/null 2>&1; then
			pass "$shell: not-loaded"
		else
			fail "$shell: not-loaded" "$(cat "$out")"
		fi
	fi
	IFS='|'
done
unset IFS
[ "$failed" = 0 ] && echo "client-metrics: passed" || echo "client-metrics: FAILED"
exit "$failed"
