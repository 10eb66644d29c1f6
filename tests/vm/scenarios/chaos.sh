# chaos: every page survives what the pool survives. Three servers and
# rswap.ko with a loss_timeout (600 s) no fault here comes near, so no
# page may be lost; rswap-chaosload (threads checking every word of their
# pages and rewriting some, a child checking pages it shares with them)
# swaps through a cgroup far smaller than it, while, one after the other:
#   kill       server 1 SIGKILLed and restarted on its backing file
#   stop       server 2 SIGSTOPped for 20 s (the module's keepalive gives
#              up on it after about 10), then SIGCONT
#   drain      server 1 drained with rswapctl, then undrained
#   drainkill  server 2 drained, SIGKILLed mid-drain and restarted
#   rebalance  rswapctl rebalance from server 1
#   remove     server 3 drained, removed through remove_server, undrained
#              and added again through add_server
#   flap       eth0 down for 3 s and up, then rxe0 deleted and made again
#              (rswap-rxe recreate)
# After each: every server ready again, and the workload moving again.
# At the end: the workload exits 0 (no page differed, no SIGBUS, the child
# passed), the module counted no read or write error and no lost slab,
# and after swapoff no server holds a slab.
# RSWAP_CHAOS_SECONDS=S (the soak test, through run-vm --append) repeats
# the round of faults until the workload has run S seconds.
# RSWAP_CHAOS_REPLICAS=2 (vm-*-chaos-replicas, through run-vm --append):
# four servers, rswap.ko with replicas=2 and a loss_timeout of 90 s, and
# in the first round one more fault after stop:
#   lose       server 4 SIGKILLed for good: declared lost, every set that
#              had a copy there gets a new one on another server (degraded
#              back to 0), and it is removed; the rest of the run has three
# and no remove fault: with two copies of every page on three servers, the
# two left after a remove would have to hold every copy (a drain of the
# third was refused for room here: 159 slabs to place, 111 free), and
# chaos itself covers remove_server and add_server.
# Nothing may be lost there either: every page had a second copy.
# vm-memory: 2G
# vm-timeout: 840
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff rdma_server rdma_client

. /usr/lib/rswap-vm/rswap-lib.sh

replicas=${RSWAP_CHAOS_REPLICAS:-1}
case $replicas in
1) nservers=3 loss_timeout=600 ;;
2) nservers=4 loss_timeout=$((90 * RSWAP_SLOW)) ;;
*) fail replicas "RSWAP_CHAOS_REPLICAS=$replicas: 1 or 2"; exit 1 ;;
esac
# shellcheck disable=SC2034 # start_peer's (rswap-lib.sh)
# Shrunk with the workload: three pools of 128M and the debug kernel's
# KASAN shadow do not fit its 1G guest together (server 3 never listened).
MEM=$(shrink 128)M
# replicas=2: the workload's copies (about 330 slabs of 1M: twice its
# pages, in part-used slabs) must fit on the three servers left after
# lose, and a drain of one of them on the other two (with 160M each, one
# was refused: 113 slabs to place, 105 free); four such pools fit the
# guest's /dev/shm (half its memory).
[ "$nservers" -le 3 ] || MEM=$(shrink 224)M
soak_secs=${RSWAP_CHAOS_SECONDS:-0}
lost_peer=	# the admin address of the server lost for good (lose), once it is
servers_file=/sys/block/rswap0/rswap/servers
log=/tmp/chaos.log

# Reads wait for a server that is down, by design, until it is back: a
# task blocked for 3 minutes is a hang (no fault here takes a server away
# for half that).
echo $((180 * RSWAP_SLOW)) > /proc/sys/kernel/hung_task_timeout_secs

# start_peer N and ctl N (rswap-lib.sh): each server knows the others'
# admin APIs, which drain and rebalance need.
# shellcheck disable=SC2034
RSWAP_PEERS=$nservers
json_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -n 1; }
drain_started() { [ "$(ctl "$1" --json drain-status | json_field slabs_moved)" -ge 1 ] 2>/dev/null; }
draining() { ctl "$1" --json status | grep -q '"draining":true'; }
not_draining() { ! draining "$1"; }
srv_line() { grep "^$(host_addr "$1"):7471 " "$servers_file"; }
srv_state() { srv_line "$1" | awk '{ print $2 }'; }
not_ready() { [ "$(srv_state "$1")" != ready ]; }
field() { module_server_field "$(host_addr "$1"):7471" "$2"; }
exited() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ] || ! kill -0 "$1" 2>/dev/null; }

# The workload's own progress lines: pages verified by its threads and by
# its child so far.
verified() { sed -n 's/^chaosload: [0-9]* s: verified \([0-9]*\) pages.*/\1/p' "$log" | tail -n 1; }
child_verified() { sed -n 's/^chaosload: [0-9]* s: .*(child \([0-9]*\)).*/\1/p' "$log" | tail -n 1; }
moving() {	# V C: threads and child both verified more pages since
	[ "$(verified)" -gt "$1" ] 2>/dev/null && [ "$(child_verified)" -gt "$2" ] 2>/dev/null
}

diagnose() {
	local n
	echo "---- diagnostics: $1 ----"
	cat "$servers_file" 2>/dev/null
	tr '\n' ' ' < /sys/block/rswap0/rswap/stats
	echo
	rdma link show
	for n in $(seq "$nservers"); do
		echo "-- /tmp/server-$n.log (pid $(cat "/tmp/server-$n.pid" 2>/dev/null)):"
		tail -n 25 "/tmp/server-$n.log"
	done
	echo "-- the workload:"
	tail -n 12 "$log"
	echo "-- rswap.ko:"
	dmesg | grep -E 'rswap|rxe|rdma' | tail -n 60
	echo "---- end of diagnostics ----"
}

# give_up WHAT: the pool did not come back from a fault; the faults stop.
gave_up=
give_up() {
	diagnose "$1"
	gave_up=$1
}

# settle NAME: after fault NAME, every server ready again and the
# workload alive and moving; 1 (after the diagnostics) if not.
settle() {
	local name=$1 secs=${2:-120} v c
	if ! check "$name-servers-ready" wait_for "$secs" servers_ready "$nservers"; then
		give_up "$name: not every server is ready again"
		return 1
	fi
	if exited "$load_pid"; then
		fail "$name-workload-alive" "rswap-chaosload has exited"
		give_up "$name: the workload exited"
		return 1
	fi
	v=$(verified) c=$(child_verified)
	if ! check "$name-workload-moving" wait_for 120 moving "${v:-0}" "${c:-0}"; then
		give_up "$name: the workload does not move"
		return 1
	fi
	cat "$servers_file"
}

# ---- the faults, each NAME PREFIX (PREFIX: the round's, in check names) ----

fault_kill() {
	local p=$1 before
	before=$(field 1 reattached)
	check_gt "${p}kill-server1-holds-slabs" "$(server_held 1)" 0
	check "${p}kill-server1-killed" kill_rswap_server 1 KILL
	sleep 2
	check "${p}kill-server1-restarts" start_peer 1
	settle "${p}kill" || return 1
	check_gt "${p}kill-server1-reattached" "$(field 1 reattached)" "${before:-0}"
}

fault_stop() {
	local p=$1
	check "${p}stop-server2-stopped" signal_rswap_server 2 STOP
	sleep 20
	srv_line 2
	check "${p}stop-module-let-go" not_ready 2
	check "${p}stop-server2-continued" signal_rswap_server 2 CONT
	settle "${p}stop"
}

# Server 4 goes for good (replicas=2 only): no page may go with it.
fault_lose() {
	local p=$1 copies
	copies=$(rswap_stat copies_made)
	check_gt "${p}lose-server4-holds-slabs" "$(server_held 4)" 0
	check "${p}lose-server4-killed" kill_rswap_server 4 KILL
	if ! check "${p}lose-server4-declared-lost" \
		wait_for $((loss_timeout / RSWAP_SLOW + 60)) server_lost 4; then
		give_up "${p}lose: server 4 not declared lost"
		return 1
	fi
	# Every set with a copy on 4 gets a new one elsewhere, server to server.
	if ! check "${p}lose-redundancy-restored" wait_for 180 not_degraded; then
		give_up "${p}lose: sets still short of a copy"
		return 1
	fi
	check_gt "${p}lose-copies-made" "$(rswap_stat copies_made)" "$copies"
	check "${p}lose-no-page-lost" sh -c "! grep -q ' lost_slabs=[1-9]' $servers_file"
	if ! check "${p}lose-server4-removed" wait_for 60 sh -c \
		"echo $(host_addr 4):7471 > /sys/block/rswap0/rswap/remove_server"; then
		give_up "${p}lose: remove_server"
		return 1
	fi
	nservers=3
	lost_peer=127.0.0.1:$(admin_port 4)
	settle "${p}lose"
}

fault_drain() {
	local p=$1
	ctl 1 drain > /tmp/drain.log 2>&1
	check_eq "${p}drain-exits-0" 0 $?
	tail -n 3 /tmp/drain.log
	check "${p}drain-server1-holds-nothing" wait_for 30 servers_hold_none 1
	settle "${p}drain" || return 1
	check "${p}undrain" ctl 1 undrain
	check "${p}undrain-server1-not-draining" not_draining 1
	settle "${p}undrain"
}

fault_drainkill() {
	local p=$1 pid mid
	ctl 2 drain > /tmp/drainkill.log 2>&1 &
	pid=$!
	check "${p}drainkill-started" wait_for 60 drain_started 2
	exited "$pid"
	mid=$?
	check "${p}drainkill-server2-killed" kill_rswap_server 2 KILL
	wait "$pid"
	echo "rswapctl drain exited $? when its server was killed"
	tail -n 3 /tmp/drainkill.log
	if [ "$mid" = 1 ]; then
		pass "${p}drainkill-mid-drain"
	else
		skip "${p}drainkill-mid-drain" "the drain had ended before server 2 was killed"
	fi
	check "${p}drainkill-server2-restarts" start_peer 2
	settle "${p}drainkill" || return 1
	check "${p}drainkill-server2-not-draining" not_draining 2
}

fault_rebalance() {
	local p=$1 n rc
	for n in $(seq "$nservers"); do echo "server $n holds $(server_held "$n") slabs"; done
	ctl 1 rebalance > /tmp/rebalance.log 2>&1
	rc=$?
	tail -n 3 /tmp/rebalance.log
	if [ "$lost_peer" ]; then
		# The server lost for good is still a --peer of the others:
		# rswapctl says it is unreachable and exits 1; nothing else may be.
		check "${p}rebalance-only-the-lost-peer-unreachable" sh -c "
			[ \"\$(grep -o '[0-9.]*:[0-9]* unreachable' /tmp/rebalance.log)\" = '$lost_peer unreachable' ] &&
			! grep 'cannot reach' /tmp/rebalance.log | grep -v -q '$lost_peer'"
	else
		check_eq "${p}rebalance-exits-0" 0 "$rc"
	fi
	for n in $(seq "$nservers"); do echo "server $n holds $(server_held "$n") slabs"; done
	settle "${p}rebalance"
}

fault_remove() {
	local p=$1
	ctl 3 drain > /tmp/drain3.log 2>&1
	check_eq "${p}remove-drain-exits-0" 0 $?
	tail -n 3 /tmp/drain3.log
	check "${p}remove-server3-holds-nothing" wait_for 30 servers_hold_none 3
	srv_line 3
	if ! check "${p}remove-server3-removed" wait_for 60 sh -c \
		"echo $(host_addr 3):7471 > /sys/block/rswap0/rswap/remove_server"; then
		give_up "${p}remove: remove_server"
		return 1
	fi
	check_eq "${p}remove-two-servers-left" 2 "$(wc -l < "$servers_file")"
	check "${p}remove-server3-undrained" ctl 3 undrain
	check "${p}remove-server3-added" sh -c \
		"echo $(host_addr 3):7471 > /sys/block/rswap0/rswap/add_server"
	settle "${p}remove"
}

# uverbs_holders: the processes with a userspace verbs device open,
# "COMMAND (pid PID): FILE" each. (While a device is being deleted its
# sysfs entry and /dev node are gone already: look at every fd.)
uverbs_holders() {
	local fd pid
	for fd in /proc/[0-9]*/fd/*; do
		case "$(readlink "$fd" 2>/dev/null)" in
		*infiniband/uverbs*) ;;
		*) continue ;;
		esac
		pid=${fd#/proc/}
		pid=${pid%%/*}
		echo "$(cat "/proc/$pid/comm" 2>/dev/null) (pid $pid): $(readlink "$fd")"
	done | sort -u
}
rxe0_gone() { ! pidof rdma > /dev/null && ! rdma link show rxe0 > /dev/null 2>&1; }

fault_flap() {
	local p=$1 rc n
	ip link set eth0 down && sleep 3 && ip link set eth0 up
	check "${p}flap-rxe0-active" wait_for 20 sh -c 'rdma link show rxe0/1 | grep -q "state ACTIVE"'
	rswap-rxe check rxe0 > /tmp/rxe-check.log 2>&1
	rc=$?
	echo "rswap-rxe check rxe0 after the flap: status $rc: $(tail -n 1 /tmp/rxe-check.log)"
	if check "${p}flap-recreate-rxe0" rswap-rxe recreate rxe0; then
		settle "${p}flap" 180
		return
	fi
	# rdma link delete waits for every user of rxe0 to let it go. Who?
	echo "userspace verbs devices held open:"
	uverbs_holders
	diagnose "${p}flap: rswap-rxe recreate rxe0"
	echo "the tasks blocked meanwhile (sysrq w):"
	echo w > /proc/sysrq-trigger
	# If the servers are what holds it, killing them lets the delete end;
	# restarted on their backing files they keep every page, so the rest
	# of the run still shows whether the module lost any.
	for n in $(seq "$nservers"); do
		kill_rswap_server "$n" KILL
	done
	if ! wait_for 60 rxe0_gone; then
		echo "rxe0 is still not deleted with every server gone; holders now:"
		uverbs_holders
		give_up "${p}flap: rxe0 not deleted, servers or none"
		return 1
	fi
	fail "${p}flap-servers-let-go-of-rxe0" \
		"rdma link delete rxe0 ended only once the servers were SIGKILLed: they held it open"
	check "${p}flap-rxe0-added-again" rdma link add rxe0 type rxe netdev eth0 ||
		{ give_up "${p}flap: rdma link add rxe0"; return 1; }
	for n in $(seq "$nservers"); do
		check "${p}flap-server$n-restarts" start_peer "$n"
	done
	settle "${p}flap-after-server-restarts" 180
}

# ---- the run ----

rswap_key /tmp/rswap.key
for n in $(seq "$nservers"); do
	check "server$n-starts" start_peer "$n"
done
check workload-memory-high workload_memory_high
check module-loads modprobe rswap size=512M key_file=/tmp/rswap-client.key \
	loss_timeout="$loss_timeout" replicas="$replicas" servers="$(pool_servers "$nservers")"
check servers-ready wait_for 30 servers_ready "$nservers" || diagnose load
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'

# The workload: 80 MiB (an eighth shared with its child) through
# memory.max=32M, both divided by RSWAP_SHRINK.
# It stops at /tmp/stop; --seconds only bounds it.
rm -f /tmp/stop /tmp/filled
in_cgroup rswap-chaosload --mib "$(shrink 80)" --threads 4 --seconds "$((soak_secs + 1200 * RSWAP_SLOW))" \
	--progress 2 --ready-file /tmp/filled --stop-file /tmp/stop > "$log" 2>&1 &
load_pid=$!
start=$(date +%s)
if ! check workload-filled wait_for 300 test -e /tmp/filled; then
	give_up "the fill"
fi
cat "$log"
check_gt pages-in-the-pool "$(rswap_stat remote_pages)" "$(shrink 4000)"
cat "$servers_file"
[ -n "$gave_up" ] || settle start

round=1
while [ -z "$gave_up" ]; do
	prefix=
	[ "$round" = 1 ] || prefix="r$round-"
	faults="kill stop drain drainkill rebalance remove flap"
	if [ "$replicas" != 1 ]; then
		faults="kill stop drain drainkill rebalance flap"
		[ "$round" != 1 ] || faults="kill stop lose drain drainkill rebalance flap"
	fi
	for f in $faults; do
		echo "==== round $round: $f ($(( $(date +%s) - start )) s into the workload)"
		"fault_$f" "$prefix"
		[ -z "$gave_up" ] || break
	done
	[ $(( $(date +%s) - start )) -lt "$soak_secs" ] || break
	round=$((round + 1))
done
echo "==== $round round(s) of faults, $(( $(date +%s) - start )) s"

# The end: the workload stops and says how it went.
touch /tmp/stop
if wait_for 180 exited "$load_pid"; then
	wait "$load_pid"
	rc=$?
	case $rc in
	0) pass workload-verified ;;
	1) fail workload-verified "a page differed (exit 1)" ;;
	3) fail workload-verified "a page could not be read back: SIGBUS (exit 3)" ;;
	4) fail workload-verified "its child died (exit 4)" ;;
	*) fail workload-verified "rswap-chaosload exited $rc" ;;
	esac
	[ $rc = 0 ] || diagnose "the workload failed"
else
	fail workload-verified "still running 180 s after /tmp/stop"
	rc=stuck
fi
grep -v '^chaosload: [0-9]* s: ' "$log" | tail -n 30
tail -n 2 "$log"
cat "$servers_file"
cat /sys/block/rswap0/rswap/stats
check_eq no-read-errors 0 "$(rswap_stat read_errors)"
check_eq no-write-errors 0 "$(rswap_stat write_errors)"
check no-lost-slabs sh -c "! grep -q ' lost_slabs=[1-9]' $servers_file"
if [ "$rc" = stuck ] || [ -n "$gave_up" ]; then
	diagnose "the end (gave up after: ${gave_up:-nothing})"
	[ "$rc" = stuck ] && { fail swapoff "the workload is stuck: not swapping off"; exit 1; }
fi

echo max > "$RSWAP_CGROUP/memory.max"
check swapoff swapoff /dev/rswap0 || diagnose swapoff
if ! check servers-hold-none wait_for 60 servers_hold_none $(seq "$nservers"); then
	for n in $(seq "$nservers"); do echo "server $n holds $(server_held "$n") slabs"; done
	diagnose "swapoff"
fi
check module-unloads rmmod rswap
stop_rswap_servers
