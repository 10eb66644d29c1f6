# Draining memory servers: slabs move server to server, never through the
# client. Three servers, a workload whose pages sit in the pool (paused)
# and, for part of the run, a second one swapping continuously.
#   1. Drain server 1 while nothing else runs: afterwards it holds no slab,
#      the client read and wrote no page for it (pswpin and the module's
#      byte counters stand still), the pages the servers copied are the
#      pages the module moved, and several copies ran at once.
#   2. Drain server 2 while a workload swaps: it ends empty, the workload
#      verifies every page.
#   3. No room: draining server 3 while the others drain is refused up
#      front and changes nothing; with room for a few slabs only (a quota
#      on server 1), drain moves what fits and says what remains.
#   4. Interrupted: the target, then the source, killed mid-drain and
#      restarted; every page is still there.
#   5. A fourth server joins at runtime and rebalance moves slabs to it.
# At the end the paused workload verifies every page it wrote.
# vm-memory: 1G
# vm-timeout: 900
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff

. /usr/lib/rswap-vm/rswap-lib.sh

# /dev/shm holds every pool: half the guest's 1G.
MEM=112M
# Each server knows the others' admin APIs (server 4 is started later):
# start_peer and ctl (rswap-lib.sh).
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
json_field() {	# NAME: a number field of the JSON on stdin
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -n 1
}
drain_started() {	# N: the drain on host N has moved a slab
	[ "$(ctl "$1" --json drain-status | json_field slabs_moved)" -ge 1 ] 2>/dev/null
}
server_counter() {	# N NAME
	ctl "$1" --json stats | json_field "$2"
}
draining() { ctl "$1" --json status | grep -q '"draining":true'; }
not_draining() { ! draining "$1"; }
io_counters() {
	echo "$(vmstat pswpin) $(vmstat pswpout) $(rswap_stat bytes_sent) $(rswap_stat bytes_received)"
}
settled() {	# no swap traffic for 2 s
	local before
	before=$(io_counters)
	sleep 2
	[ "$before" = "$(io_counters)" ]
}
swapping_more() {	# PSWPOUT: pages have gone out since
	[ "$(vmstat pswpout)" -gt "$1" ]
}

check workload-memory-high workload_memory_high
rswap_key /tmp/rswap.key
for n in 1 2 3; do
	check "server$n-starts" start_peer "$n"
done
check module-loads modprobe rswap replicas=1 size=512M key_file=/tmp/rswap-client.key loss_timeout=60 \
	servers="$(pool_servers 3)"
check three-servers-ready wait_for 30 servers_ready 3
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'

# The paused workload: its pages stay in the pool until the end.
rm -f /tmp/go /tmp/filled /tmp/filled2
in_cgroup rswap-swapfill --mib "$(shrink 80)" --seed 5 --pause-file /tmp/go --ready-file /tmp/filled \
	> /tmp/held.log 2>&1 &
held_pid=$!
check held-workload-filled wait_for 300 test -e /tmp/filled
cat /sys/block/rswap0/rswap/servers
for n in 1 2 3; do
	check_gt "server$n-holds-slabs" "$(server_held "$n")" 0
done

# 1. A quiet drain: nothing comes back to the client.
check swap-traffic-settled wait_for 120 settled
cat /sys/block/rswap0/rswap/servers
# The drain below must have pages to move (the slabs above may be the
# module's empty reserve).
check_gt server1-holds-pages "$(server_pages 1)" 0
pswpin=$(vmstat pswpin)
received=$(rswap_stat bytes_received)
sent=$(rswap_stat bytes_sent)
ctl 1 drain > /tmp/drain1.log 2>&1
check_eq drain1-exits-0 0 $?
cat /tmp/drain1.log
check drain1-progress-from-the-start grep -q "^drain 127.0.0.1:$(admin_port 1): 0/[1-9][0-9]* slabs moved" /tmp/drain1.log
check drain1-summary grep -q "^drained 127.0.0.1:$(admin_port 1): [1-9][0-9]* slabs moved, .* copied server to server .*; nothing remains here" /tmp/drain1.log
check_eq server1-holds-nothing 0 "$(server_held 1)"
check_eq drain1-no-page-in 0 "$(( $(vmstat pswpin) - pswpin ))"
check_eq drain1-client-read-nothing 0 "$(( $(rswap_stat bytes_received) - received ))"
check_eq drain1-client-wrote-nothing 0 "$(( $(rswap_stat bytes_sent) - sent ))"
check_gt drain1-pages-moved "$(rswap_stat migrated_pages)" 0
check_eq drain1-copied-server-to-server "$(rswap_stat migrated_pages)" \
	"$(server_counter 1 migrated_pages_total)"
# Slabs move several at a time (moves_in_flight): copies ran side by side.
# Each copy it made is in its /metrics histogram of copy times.
ctl 1 metrics > /tmp/metrics1.prom
check_gt drain1-migrations-counted "$(awk '$1 == "rswap_migrations_total" { print $2 }' /tmp/metrics1.prom)" 0
check_eq drain1-migrations-in-histogram \
	"$(awk '$1 == "rswap_migrations_total" { print $2 }' /tmp/metrics1.prom)" \
	"$(awk '$1 == "rswap_migration_seconds_count" { print $2 }' /tmp/metrics1.prom)"
check drain1-copies-side-by-side grep -q "copying slab .*, [2-9] copies running" /tmp/server-1.log
check server1-stays-drained draining 1

# 2. Drain while a workload swaps.
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 9 --passes 4 > /tmp/busy.log 2>&1 &
busy_pid=$!
check busy-workload-swapping wait_for 120 swapping_more "$(( $(vmstat pswpout) + $(shrink 2000) ))"
ctl 2 drain > /tmp/drain2.log 2>&1
check_eq drain2-exits-0 0 $?
cat /tmp/drain2.log
check_eq server2-holds-nothing 0 "$(server_held 2)"
wait "$busy_pid"
check_eq busy-workload-verified 0 $?
tail -3 /tmp/busy.log
check_eq server2-still-empty 0 "$(server_held 2)"

# 3. No room elsewhere: refused up front, nothing changes ...
held3=$(server_held 3)
ctl 3 drain > /tmp/drain3.log 2>&1
check_eq drain3-refused-exits-1 1 $?
cat /tmp/drain3.log
check drain3-says-why grep -q 'refused' /tmp/drain3.log
check_eq drain3-changed-nothing "$held3" "$(server_held 3)"
check drain3-not-draining not_draining 3
# ... and with room for 8 slabs (server 1, empty, comes back as a fresh
# server of 8 MiB), drain --partial moves what fits and says what remains.
check server1-stops kill_rswap_server 1 TERM
MEM=8M RSWAP_POOL_SUFFIX=small
check server1-back-small start_peer 1
MEM=112M RSWAP_POOL_SUFFIX=
check server1-reconnected wait_for 60 servers_ready 3
ctl 3 drain --partial > /tmp/drain3p.log 2>&1
check_eq drain3-partial-exits-1 1 $?
cat /tmp/drain3p.log
check drain3-partial-says-what-remains grep -q 'remain' /tmp/drain3p.log
check_gt drain3-partial-moved "$held3" "$(server_held 3)"
check_gt drain3-partial-left-some "$(server_held 3)" 0
check server2-undrain ctl 2 undrain
check server3-undrain ctl 3 undrain

# 4. Interrupted: kill the target, then the source, in the middle.
# interrupted NAME SOURCE VICTIM: drain SOURCE, SIGKILL VICTIM once a slab
# has moved, restart it and wait for the client to have it back.
interrupted() {
	local name=$1 src=$2 victim=$3 pid
	ctl "$src" drain > "/tmp/$name.log" 2>&1 &
	pid=$!
	check "$name-started" wait_for 60 drain_started "$src"
	check "$name-server$victim-killed-mid-drain" kill_rswap_server "$victim" KILL
	wait "$pid"
	cat "/tmp/$name.log"
	check "$name-server$victim-restarts" start_peer "$victim"
	check "$name-server$victim-reconnected" wait_for 60 servers_ready 3
}
interrupted drain4-target-killed 3 2
check server3-undrain-again ctl 3 undrain
# A second paused workload, so that pages written after a restart are in
# the pool too (they go wherever the module has free slots).
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 13 --pause-file /tmp/go --ready-file /tmp/filled2 \
	> /tmp/held2.log 2>&1 &
held2_pid=$!
check held2-workload-filled wait_for 300 test -e /tmp/filled2
cat /sys/block/rswap0/rswap/servers
# The source: server 3. Drains 1 and 2 put every page there, drain 3 moved
# 8 slabs and drain 4 what it copied before its target died, so it still
# holds most of the first workload's pages. (Server 2, restarted in drain
# 4, may hold none: free slots elsewhere take new pages before its slabs.)
check_gt server3-holds-pages "$(server_pages 3)" 0
interrupted drain5-source-killed 3 3
check_eq no-errors-after-interruptions 0 \
	"$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"

# 5. A fourth server joins at runtime; rebalance moves slabs to it.
check server4-starts start_peer 4
check server4-added sh -c "echo $(host_addr 4):7471 > /sys/block/rswap0/rswap/add_server"
check four-servers-ready wait_for 60 servers_ready 4
ctl 3 rebalance > /tmp/rebalance.log 2>&1
check_eq rebalance-exits-0 0 $?
cat /tmp/rebalance.log
check_gt server4-got-slabs "$(server_held 4)" 0

# Every page the paused workload wrote comes back right.
touch /tmp/go
wait "$held_pid"
check_eq held-workload-verified 0 $?
wait "$held2_pid"
check_eq held2-workload-verified 0 $?
tail -3 /tmp/held.log
cat /sys/block/rswap0/rswap/servers
cat /sys/block/rswap0/rswap/stats
check_eq no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
echo max > "$RSWAP_CGROUP/memory.max"
check swapoff swapoff /dev/rswap0
if ! check pool-empty-after-swapoff wait_for 30 servers_hold_none 1 2 3 4; then
	cat /sys/block/rswap0/rswap/servers
	for n in 1 2 3 4; do
		echo "server $n: $(server_held "$n") slabs held"
		ctl "$n" clients
		grep -i 'slab\|return\|refus' "/tmp/server-$n.log" | tail -n 15
		# The servers run --verbose: replay its grants and returns (a
		# restart starts from the slabs it reattaches) into the slab
		# numbers it still holds, and each one's story.
		awk '/: serving / { delete held }
			/: granted slab / { held[$NF] = 1 }
			/: reattaching slab / { held[$NF] = 1 }
			/: returned slab / { delete held[$NF] }
			END { for (s in held) printf "%s ", s; print "" }' "/tmp/server-$n.log" \
			> "/tmp/held-$n"
		echo "server $n holds, by its log: $(cat "/tmp/held-$n")"
		for slab in $(cat "/tmp/held-$n"); do
			grep -E "slab $slab( |\$|:|,)|serving " "/tmp/server-$n.log"
		done
	done
	dmesg | grep 'rswap: .*slab' | tail -n 40
fi
check module-unloads rmmod rswap
stop_rswap_servers
for n in 1 2 3 4; do
	echo "---- /tmp/server-$n.log (peers, admin refusals, end)"
	grep -E 'peer |admin: ' "/tmp/server-$n.log" | tail -n 8
	tail -n 6 "/tmp/server-$n.log"
done
