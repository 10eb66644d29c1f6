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
#   perf_profile NAME CMD...
#                       CMD under `perf record -a` (cpu-clock: there is no
#                       PMU under TCG); its symbols' shares into
#                       /tmp/NAME.syms, and every kernel symbol's module
#                       into /tmp/mods.txt. CMD's output: /tmp/NAME.log.
#   perf_split NAME     those samples split by whose code they are in:
#                       rswap (rswap.ko), rdma (rdma_rxe, ib_core...),
#                       lock (taking a spinlock, and spinning while it is
#                       held elsewhere: the slow paths), idle, userspace,
#                       net (what rxe's packets go through), kernel (the
#                       rest); then the busiest functions of rswap.ko, the
#                       lock paths and the kernel

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

perf_profile() {
	local name=$1
	shift
	echo 0 > /proc/sys/kernel/kptr_restrict
	echo -1 > /proc/sys/kernel/perf_event_paranoid
	timeout 300 perf record -q -e cpu-clock -a -o "/tmp/$name.data" -- "$@" \
		> "/tmp/$name.log" 2>&1 || return 1
	perf report -i "/tmp/$name.data" --no-children --sort sym -g none --stdio \
		--percent-limit 0 2> /dev/null | grep -E '^ *[0-9.]+%' > "/tmp/$name.syms"
	# whose: the module of each kernel symbol, from kallsyms ("sym [mod]")
	awk 'NF >= 4 { gsub(/[][]/, "", $4); print $3, $4 }' /proc/kallsyms > /tmp/mods.txt
	[ -s "/tmp/$name.syms" ]
}

# The split of "PCT [k|.] SYMBOL" lines by each symbol's module or class.
perf_split() {
	[ -s "/tmp/$1.syms" ] && [ -s /tmp/mods.txt ] || { echo "  (no profile)"; return; }
	awk '
	FNR == NR { mod[$1] = $2; next }
	{ p = $1; sub(/%/, "", p); sym = $3
	  if ($2 == "[.]") c = "userspace"
	  else if (mod[sym] == "rswap") c = "rswap"
	  else if (mod[sym] ~ /^(rdma_rxe|ib_core|ib_uverbs|rdma_cm|iw_cm|ib_cm)$/) c = "rdma"
	  else if (sym ~ /spin_lock_slowpath|_raw_spin_lock|_raw_read_lock|_raw_write_lock|osq_lock|rwsem_down|mutex_spin/) c = "lock"
	  else if (sym ~ /(safe_halt|default_idle|cpuidle|mwait|poll_idle|do_idle|acpi_idle)/) c = "idle"
	  else if (sym ~ /(skb|^_*ip[46]?_|udp|netif|napi|^_*dev_|neigh|^eth|crc32|^sock|^_*net_|virtnet|virtqueue)/) c = "net"
	  else c = "kernel"
	  t[c] += p
	  if (c == "rswap" || c == "kernel" || c == "lock") top[c, sym] = p }
	END {
	  for (c in t) printf "  %-9s %6.2f%% of the samples\n", c, t[c] | "sort -k2 -rn"
	  close("sort -k2 -rn")
	  for (k in top) { split(k, f, SUBSEP)
	    printf "    %-6s %6.2f%%  %s\n", f[1], top[k], f[2] | "sort -k1,1r -k2rn | awk \"c[\\$1]++ < 8\""
	  }
	}' /tmp/mods.txt "/tmp/$1.syms"
	echo "  the busiest functions of rswap.ko, the lock slow paths and the rest of the kernel above (share of all samples)"
}
