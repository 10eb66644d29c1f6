# Helpers for benchmarks (bench/*.sh); source it after lib.sh.
#   med FILE            the median of the numbers in FILE, one a line (of an
#                       even number of them, the mean of the middle two)
#   fig FILE [FORMAT]   "median (lo..hi)" of FILE, noting rounds missing
#                       (uses $rounds, the rounds the benchmark runs)
#   ratio WHAT NUM DEN OP LIMIT
#                       the ratio of two medians, judged against a target
#                       ("met" or "MISSED"), on one line
#   now_s               seconds since boot, to the hundredth (busybox's
#                       date has no %N)
#   perftest_pair ADDR TOOL ARGS...
#                       perftest's TOOL (ib_read_lat, ib_write_bw...) over
#                       rxe0 in this guest: its server in the background
#                       (output in /tmp/pt-server.txt), its client to ADDR,
#                       whose output it prints; each bounded to 60 s
#   writebw             ib_write_bw -s 262144 (a copy's largest WRITE) from
#                       this guest to host 1's address: MiB/s
#   fill_device DEV MIB random data over DEV's first MIB MiB (fio, 1 MiB
#                       writes, O_DIRECT), so no read of it is of a zero
#                       page; says why and fails if fio did

median_awk='{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2'

med() { [ -s "$1" ] && sort -n "$1" | awk "$median_awk; print m }"; }

fig() {
	[ -s "$1" ] || { echo "-"; return; }
	sort -n "$1" | awk -v want="${rounds:-1}" -v fmt="${2:-%7.2f}" "$median_awk"'
		printf fmt " (%s..%s)", m, v[1], v[NR]
		if (NR < want) printf " [%d of %d rounds]", NR, want }'
}

ratio() {
	local what=$1 a b
	a=$(med "$2")
	b=$(med "$3")
	if [ -z "$a" ] || [ -z "$b" ]; then
		printf '  %-44s %8s   target %s %sx: not measured\n' "$what" - "$4" "$5"
		return
	fi
	awk -v a="$a" -v b="$b" -v op="$4" -v lim="$5" -v what="$what" 'BEGIN {
		if (b <= 0) { printf "  %-44s %8s   target %s %sx: not measured (a zero median)\n", what, "-", op, lim; exit }
		r = a / b
		if (op == "") { printf "  %-44s %7.2fx\n", what, r; exit }	# no target: the figure
		ok = (op == "<=") ? r <= lim : r >= lim
		printf "  %-44s %7.2fx   target %s %sx: %s\n", what, r, op, lim, ok ? "met" : "MISSED" }'
}

now_s() { awk '{ print $1 }' /proc/uptime; }

perftest_pair() {
	local addr=$1 tool=$2 s
	shift 2
	timeout 60 "$tool" -d rxe0 "$@" > /tmp/pt-server.txt 2>&1 &
	s=$!
	sleep 1
	timeout 60 "$tool" -d rxe0 "$@" "$addr" 2>&1
	wait $s
}

writebw() {
	perftest_pair "$(host_addr 1)" ib_write_bw -s 262144 -n 2000 -F |
		awk '$1 == 262144 { print $4 * 1.048576 }'	# MB/s -> MiB/s
}

fill_device() {
	timeout 300 fio --name=fill --filename="$1" --rw=write --bs=1M --size="$2M" \
		--direct=1 --ioengine=psync --refill_buffers > /tmp/fill.log 2>&1 ||
		{ echo "fill of $1 failed: $(tail -n 1 /tmp/fill.log)"; return 1; }
}
