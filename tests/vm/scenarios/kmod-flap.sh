# kmod-flap: rswap.ko rides out link faults with I/O in flight and loses
# nothing. Three servers; while pages swap through the module, eth0 goes
# down twice:
#   (a) for 3 s, which with connections carrying traffic wedges rxe0's
#       connection manager (VM-NOTES, "Faults in the guest"): rswap-rxe
#       check must say so, and rswap-rxe recreate rxe0 heals it;
#   (b) later for 30 s, then rxe0 is recreated again.
# The module waits for its servers (loss_timeout=120) instead of giving up
# their pages, lets go of the old device and reconnects on the new one; the
# servers survive RDMA_CM_EVENT_DEVICE_REMOVAL, keep their pages and listen
# again once the device is back. Two workloads: one filled before the faults
# and verified after both (its pages sat on the servers throughout), and a
# loop of rswap-swapfill runs (3 passes each, every page verified) swapping
# all along. Checks: both verify every page (no SIGBUS), the module counts
# no read or write errors, every server process is still alive, all three
# are ready again after each fault, and after swapoff they hold nothing.
# vm-memory: 1G
# vm-timeout: 900
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff rdma_server rdma_client

. /usr/lib/rswap-vm/rswap-lib.sh

nservers=3
loss_secs=120
servers_file=/sys/block/rswap0/rswap/servers

# I/O waits for the servers by design, up to loss_timeout: a task blocked
# for that long is the module waiting, not hung. Longer than loss_timeout
# and a minute more is a hang.
echo $(((loss_secs + 60) * ${RSWAP_SLOW:-1})) > /proc/sys/kernel/hung_task_timeout_secs

# diagnose WHAT: what the module and the servers say, after a failure.
diagnose() {
	local n pid
	echo "---- diagnostics after $1 ----"
	cat "$servers_file" 2>/dev/null
	grep -E '^(remote_pages|stores|loads|read_errors|write_errors|retries|parked|request_timeouts|slabs_[a-z]+) ' \
		/sys/block/rswap0/rswap/stats 2>/dev/null | tr '\n' ' '
	echo
	rdma link show
	rdma resource show cm_id
	rdma resource show qp
	rdma resource show mr | wc -l | sed 's/^/memory regions: /'
	# Who holds rxe0 (a stuck device removal waits for them), and where a
	# stuck rdma link delete waits.
	for pid in $(pidof rdma); do
		echo "-- rdma (pid $pid): $(tr '\0' ' ' < "/proc/$pid/cmdline"), state $(awk '{ print $3 }' "/proc/$pid/stat")"
		cat "/proc/$pid/stack" 2>/dev/null
	done
	for n in $(seq "$nservers"); do
		pid=$(cat "/tmp/server-$n.pid" 2>/dev/null) || continue
		echo "server $n (pid $pid) holds open: $(for fd in /proc/"$pid"/fd/*; do
			readlink "$fd"; done 2>/dev/null | grep /dev/infiniband/ | sort | uniq -c | tr '\n' ' ')"
	done
	dmesg | grep -E 'rswap|rdma|rxe' | tail -n 60
	for n in $(seq "$nservers"); do
		echo "-- /tmp/server-$n.log (pid $(cat "/tmp/server-$n.pid" 2>/dev/null), $(server_state "$n"))"
		tail -n 25 "/tmp/server-$n.log"
	done
	tail -n 5 /tmp/holder.log /tmp/looper.log
	echo "---- end of diagnostics ----"
}

# server_state N: "running", or what became of host N's server process.
server_state() {
	local pid st
	pid=$(cat "/tmp/server-$1.pid" 2>/dev/null) || { echo "no pid file"; return; }
	st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
	case "$st" in
	'') echo "gone" ;;
	Z) echo "exited" ;;
	*) echo "running" ;;
	esac
}

servers_alive() {
	local n ok=0
	for n in $(seq "$nservers"); do
		[ "$(server_state "$n")" = running ] && continue
		echo "server $n: $(server_state "$n")"
		ok=1
	done
	return $ok
}

# Swap traffic to the servers: RDMA WRITEs and READs of pages so far.
io_count() { echo $(( $(rswap_stat rdma_writes) + $(rswap_stat rdma_reads) )); }
io_beyond() { [ "$(io_count)" -gt "$1" ]; }
remote_beyond() { [ "$(rswap_stat remote_pages)" -gt "$1" ]; }

# exited PID: the process is done (a zombie of ours counts as done).
exited() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ] || ! kill -0 "$1" 2>/dev/null; }

# The looper's completed runs so far.
runs_done() { grep -c '^looper: run [0-9]* exited 0$' /tmp/looper.log; }
runs_beyond() { [ "$(runs_done)" -gt "$1" ]; }
# A run completed since, or the looper ended (a run failed).
looper_moves() { runs_beyond "$1" || exited "$looper_pid"; }

# flap SECS: eth0 down for SECS seconds and up again; rxe0's port ACTIVE.
flap() {
	ip link set eth0 down && sleep "$1" && ip link set eth0 up &&
		wait_for 20 sh -c 'rdma link show rxe0/1 | grep -q "state ACTIVE"'
}

# after_flap WHAT: rswap-rxe check, then recreate rxe0; all servers ready,
# alive, and swapping going on.
after_flap() {
	local what=$1 rc io
	rswap-rxe check rxe0 > "/tmp/check-$what.out" 2>&1
	rc=$?
	cat "/tmp/check-$what.out"
	case $rc in
	1) pass "$what-check-says-wedged" ;;
	0) skip "$what-check-says-wedged" "rxe0 was not wedged by this flap (check: healthy)" ;;
	*) fail "$what-check-says-wedged" "rswap-rxe check rxe0 exited $rc: $(tail -n 1 "/tmp/check-$what.out")" ;;
	esac
	check "$what-recreate-rxe0" rswap-rxe recreate rxe0 || diagnose "$what: recreate"
	check "$what-servers-alive" servers_alive || diagnose "$what: a server exited"
	if ! check "$what-servers-ready" wait_for "$loss_secs" servers_ready "$nservers"; then
		diagnose "$what: servers not ready"
		return 1
	fi
	cat "$servers_file"
	io=$(io_count)
	if ! check "$what-swapping-again" wait_for 120 io_beyond "$io"; then
		diagnose "$what: no swap I/O"
		return 1
	fi
}

# give_up WHAT: the module did not recover; what follows would only wait
# for it. (The workloads are told to stop; they may be stuck in I/O.)
give_up() {
	diagnose "$1"
	if exited "$looper_pid"; then
		wait "$looper_pid"
		echo "the looper exited with status $?"
	fi
	touch /tmp/go /tmp/stop
	fail "$1-recovered" "the module did not recover from the fault: not going on"
	exit 1
}

# The pool (start_pool's, with --verbose: the servers' logs then say what
# they did when the device went away and came back).
rswap_key /tmp/rswap.key
for n in $(seq "$nservers"); do
	host_add "mem$n" "$n" &&
		check "server$n-listens" start_rswap_server "mem$n" "$n" 128M --verbose
done
check workload-memory-high workload_memory_high
check module-loads modprobe rswap replicas=1 size=512M key_file=/tmp/rswap-client.key \
	loss_timeout="$loss_secs" servers="$(pool_servers "$nservers")"
check servers-ready wait_for 30 servers_ready "$nservers" || diagnose "load"
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'
check rxe0-healthy-before rswap-rxe check rxe0

# The holder: filled now, verified after both faults.
rm -f /tmp/go /tmp/filled /tmp/stop
in_cgroup rswap-swapfill --mib 48 --seed 7 --pause-file /tmp/go --ready-file /tmp/filled \
	> /tmp/holder.log 2>&1 &
holder_pid=$!
check holder-filled wait_for 180 test -e /tmp/filled
# The looper: rswap-swapfill runs one after another, a new seed each, until
# /tmp/stop; the first that fails ends the loop with its status.
cat > /tmp/looper.sh <<'EOF'
n=0
while [ ! -e /tmp/stop ]; do
	n=$((n + 1))
	rswap-swapfill --mib 64 --seed "$((100 + n))" --passes 3
	rc=$?
	echo "looper: run $n exited $rc"
	[ $rc = 0 ] || exit $rc
done
EOF
in_cgroup sh /tmp/looper.sh > /tmp/looper.log 2>&1 &
looper_pid=$!
check pages-in-the-pool wait_for 120 remote_beyond 8000
for n in $(seq "$nservers"); do
	echo "server $n holds $(server_held "$n") slabs"
done
io=$(io_count)
check swapping-before-the-faults wait_for 30 io_beyond "$io"
cat "$servers_file"

# (a) 3 s down under traffic.
check a-flap-3s flap 3
after_flap a || give_up a
runs_a=$(runs_done)
wait_for 300 looper_moves "$runs_a"
check a-looper-run-completes runs_beyond "$runs_a" || give_up a

# (b) 30 s down.
check b-flap-30s flap 30
after_flap b || give_up b
runs_b=$(runs_done)
wait_for 300 looper_moves "$runs_b"
check b-looper-run-completes runs_beyond "$runs_b" || give_up b

# The end: every page of both workloads verified.
touch /tmp/go /tmp/stop
if wait_for 180 exited "$holder_pid"; then
	wait "$holder_pid"
	check_eq holder-verified-after-both-faults 0 $?
else
	fail holder-verified-after-both-faults "still running 180 s after it was let go"
fi
cat /tmp/holder.log
if wait_for 300 exited "$looper_pid"; then
	wait "$looper_pid"
	check_eq looper-every-run-verified 0 $?
else
	fail looper-every-run-verified "still running 300 s after it was told to stop"
fi
tail -n 8 /tmp/looper.log
check_gt looper-runs "$(runs_done)" 1
check_eq no-read-errors 0 "$(rswap_stat read_errors)"
check_eq no-write-errors 0 "$(rswap_stat write_errors)"
check servers-alive-at-the-end servers_alive
check servers-ready-at-the-end servers_ready "$nservers"
check no-lost-slabs sh -c "! grep -q ' lost_slabs=[1-9]' $servers_file"
cat "$servers_file"
cat /sys/block/rswap0/rswap/stats
if ! exited "$holder_pid" || ! exited "$looper_pid"; then
	diagnose "the end"
	fail swapoff "a workload is stuck: not swapping off"
	exit 1
fi

echo max > "$RSWAP_CGROUP/memory.max"
check swapoff swapoff /dev/rswap0 || diagnose swapoff
check servers-hold-none wait_for 60 servers_hold_none $(seq "$nservers") || diagnose "swapoff"
check module-unloads rmmod rswap
for n in $(seq "$nservers"); do
	kill_rswap_server "$n" TERM
done
