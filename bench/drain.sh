# Benchmark (not a test): how fast a drain moves slabs server to server,
# against ib_write_bw between the same two guest addresses over rxe0, and
# how much a drain slows a workload swapping at the same time.
#
# Two servers (one tenant: --quota all, start_rswap_server). A paused workload keeps 160 MiB
# of non-zero pages in the pool. Per round: ib_write_bw -s 262144 (the
# copy's largest WRITE: 64 slots), then drain the server holding more, then
# undrain it, twice: with moves_in_flight=1 (one slab at a time, as before
# batches) and with the default (RSWAP_MOVES_IN_FLIGHT): MiB/s of slab
# moved (bytes copied / the drain's elapsed time). Then a workload
# (96 MiB, two passes, every page checked) runs alone and with a drain of
# the fuller server started a second in, in turn: its run time, and the
# ratio of the two. Medians of the rounds, with their spread, between the
# markers scripts/bench.sh shows.
# vm-memory: 2G
# vm-timeout: 1200
# vm-memory-max: 64M
# vm-bins: mkswap swapon swapoff

. /usr/lib/rswap-vm/rswap-lib.sh
. /usr/lib/rswap-vm/bench-lib.sh

rounds=3
# The server's default slab size: each slab moved costs a grant, a copy
# connection and a RETURN, which 1 MiB slabs (the scenarios') pay 16 times
# as often for the same bytes.
slab=16M
res=/tmp/res
mkdir -p "$res"

ctl() {
	local n=$1
	shift
	rswapctl --server "127.0.0.1:$(admin_port "$n")" "$@"
}
json_num() { sed -n "s/.*\"$1\":\\([0-9.]*\\).*/\\1/p" | head -n 1; }
fuller() { [ "$(server_held 1)" -ge "$(server_held 2)" ] && echo 1 || echo 2; }

# drain N: drain host N's server, record MiB/s, and let it take grants again.
drain() {
	local n=$1 out=/tmp/drain.json bytes ms
	ctl "$n" --json drain > "$out" 2>/tmp/drain.err
	bytes=$(json_num bytes_moved < "$out")
	ms=$(json_num elapsed_ms < "$out")
	ctl "$n" undrain > /dev/null
	if [ -z "$bytes" ] || [ -z "$ms" ] || [ "$ms" = 0 ]; then
		echo "drain of server $n gave no figure: $(tail -n 1 /tmp/drain.err)"
		return 1
	fi
	awk -v b="$bytes" -v ms="$ms" 'BEGIN { printf "%.1f\n", b / 1048576 / (ms / 1000) }'
}

busy() {	# one workload run: its seconds
	local t0 t1
	t0=$(now_s)
	in_cgroup rswap-swapfill --mib 96 --zero-pct 0 --same-pct 0 --passes 2 --seed "$1" \
		> /tmp/busy.log 2>&1 || { echo "busy workload failed: $(tail -n 1 /tmp/busy.log)" >&2; return 1; }
	t1=$(now_s)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }'
}

workload_memory_high
rswap_key /tmp/rswap.key
for n in 1 2; do
	other=$((3 - n))
	host_add "mem$n" "$n" &&
		start_rswap_server "mem$n" "$n" 384M --slab-size "$slab" \
			--peer "127.0.0.1:$(admin_port "$other")" ||
		fail "server$n-start" "did not start"
done
check module-loads modprobe rswap replicas=1 size=1G key_file=/tmp/rswap-client.key servers="$(pool_servers 2)"
check servers-ready wait_for 30 servers_ready 2
default_inflight=$(cat /sys/module/rswap/parameters/moves_in_flight)
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'
rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib 160 --zero-pct 0 --same-pct 0 --seed 3 \
	--pause-file /tmp/go --ready-file /tmp/filled > /tmp/held.log 2>&1 &
held=$!
check pool-filled wait_for 600 test -e /tmp/filled

for r in $(seq $rounds); do
	bw=$(writebw) && [ -n "$bw" ] && echo "$bw" >> "$res/raw" &&
		echo "round $r  ib_write_bw -s 262144: $bw MiB/s"
	for inflight in 1 "$default_inflight"; do
		echo "$inflight" > /sys/module/rswap/parameters/moves_in_flight
		n=$(fuller)
		mibs=$(drain "$n") && echo "$mibs" >> "$res/drain-$inflight" &&
			echo "round $r  drain of server $n, moves_in_flight=$inflight ($(rswap_stat migrated_pages) pages moved so far): $mibs MiB/s"
	done
done
echo "$default_inflight" > /sys/module/rswap/parameters/moves_in_flight
for r in $(seq $rounds); do
	t=$(busy "$((10 + r))") && echo "$t" >> "$res/alone" && echo "round $r  workload alone: $t s"
	( sleep 1; ctl "$(fuller)" drain > /tmp/drain-busy.log 2>&1; ctl 1 undrain; ctl 2 undrain ) \
		> /dev/null 2>&1 &
	d=$!
	t=$(busy "$((20 + r))") && echo "$t" >> "$res/draining" &&
		echo "round $r  workload with a drain running: $t s ($(tail -n 1 /tmp/drain-busy.log))"
	wait "$d"
done
touch /tmp/go
wait "$held"
check_eq held-workload-verified 0 $?

echo "==== rswap benchmark: drain ($(uname -r), $slab slabs, $rounds rounds, medians (lo..hi)) ===="
echo "  drain, server to server          $(fig "$res/drain-$default_inflight" %7.1f) MiB/s"
echo "  drain, one slab at a time        $(fig "$res/drain-1" %7.1f) MiB/s"
echo "  ib_write_bw -s 262144            $(fig "$res/raw" %7.1f) MiB/s"
echo "  workload alone                   $(fig "$res/alone" %7.2f) s"
echo "  workload with a drain running    $(fig "$res/draining" %7.2f) s"
ratio "drain / ib_write_bw" "$res/drain-$default_inflight" "$res/raw" ">=" 0.7
ratio "drain, $default_inflight in flight / one at a time" "$res/drain-$default_inflight" "$res/drain-1"
ratio "workload slowdown while draining" "$res/draining" "$res/alone" "<=" 1.2
# What a copy's time is made of (the servers' "migrated slab" lines): the
# share spent setting up its queue pair (resolve, connect, verify the
# target) against moving the pages, over every copy of the run.
cat /tmp/server-*.log | awk '
	/migrated slab .* pages in .* s \(connecting .* s\)/ {
		for (i = 1; i < NF; i++) {
			if ($(i + 1) == "s" && $(i - 1) == "in") total += $i
			if ($i == "(connecting") conn += $(i + 1)
		}
		n++
	}
	END {
		if (n && total > 0)
			printf "  copies: %d, %.2f s each on average, %.0f%% of it setting up the copy queue pair\n", n, total / n, 100 * conn / total
		else
			print "  copies: no migrated-slab line in the servers logs"
	}'
echo "==== end ===="
check_eq no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
echo max > "$RSWAP_CGROUP/memory.max"
swapoff /dev/rswap0
rmmod rswap
stop_rswap_servers
