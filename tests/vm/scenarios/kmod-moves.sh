# Moves under faults, in the windows the review's data-loss bugs lived in,
# held open with the module's debugfs knobs (rswap_debugfs.c). Three
# servers that know each other (drain needs peers), a paused workload whose
# pages sit in the pool, every page verified at the end.
#   1. The target restarts while its slab fills (move_fill_delay_ms): its
#      reconnect lists the slab, and the module must know it as the move's
#      target (FILLING), not give it back as unknown and then point the
#      table at a freed slab.
#   2. The target dies after the copy, before the table points at it
#      (move_swap_delay_ms): the move must be abandoned, the old copy kept,
#      and writes must go on to the live servers (a slab made ACTIVE on a
#      dead server would park them for ever).
# Then swapoff, and every server holds nothing.
# vm-memory: 1G
# vm-timeout: 900
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff

. /usr/lib/rswap-vm/rswap-lib.sh

MEM=112M
knobs=/sys/kernel/debug/rswap
RSWAP_PEERS=3	# start_peer and ctl (rswap-lib.sh): three servers that know each other
# The kernel log since the mark, and the host a delayed move is waiting on.
mark() { log_from=$(dmesg | wc -l); }
since_mark() { dmesg | tail -n "+$((log_from + 1))"; }
delayed() { since_mark | grep -q "fault injection: waiting .* $1 "; }
delayed_target() {	# the host number of the target named in the delay line
	since_mark | sed -n "s/.*fault injection: waiting .* to 10\.77\.0\.\([0-9]*\):7471$/\1/p" |
		tail -n 1
}
# The module and every server agree on how many slabs each holds for us
# (a slab the module thinks it has but the server freed is a lost page).
slabs_agree() {
	local n
	for n in 1 2 3; do
		[ "$(module_server_field "$(host_addr "$n"):7471" slabs)" = "$(server_held "$n")" ] ||
			return 1
	done
}
diagnose() {
	cat /sys/block/rswap0/rswap/servers /sys/block/rswap0/rswap/stats
	since_mark | grep 'rswap' | tail -n 30
	for n in 1 2 3; do tail -n 15 "/tmp/server-$n.log"; done
}

check workload-memory-high workload_memory_high
rswap_key /tmp/rswap.key
for n in 1 2 3; do
	check "server$n-starts" start_peer "$n"
done
check module-loads modprobe rswap replicas=1 size=512M key_file=/tmp/rswap-client.key loss_timeout=600 \
	servers="$(pool_servers 3)"
check three-servers-ready wait_for 30 servers_ready 3
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'
rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib 80 --seed 5 --pause-file /tmp/go --ready-file /tmp/filled \
	> /tmp/held.log 2>&1 &
held_pid=$!
check held-workload-filled wait_for 300 test -e /tmp/filled
cat /sys/block/rswap0/rswap/servers
check_gt server1-holds-pages "$(server_pages 1)" 0

# 1. The target restarts while its slab fills.
mark
echo 15000 > "$knobs/move_fill_delay_ms"
ctl 1 drain > /tmp/drain1.log 2>&1 &
drain1_pid=$!
check move1-waits-before-the-copy wait_for 120 delayed "before copying slab"
t=$(delayed_target)
check_gt move1-target-named "${t:-0}" 1
echo 0 > "$knobs/move_fill_delay_ms"
check move1-target-killed kill_rswap_server "$t" KILL
check move1-target-restarts start_peer "$t"
check move1-target-back wait_for 60 servers_ready 3
wait "$drain1_pid"
cat /tmp/drain1.log
check move1-filling-slab-known sh -c \
	"! dmesg | tail -n +$((log_from + 1)) | grep -q 'slabs kept for us that we do not know'"
check move1-moved sh -c \
	"dmesg | tail -n +$((log_from + 1)) | grep -q 'moved to 10.77.0.$t:7471'"
check move1-module-and-servers-agree wait_for 60 slabs_agree
slabs_agree || diagnose
check_eq move1-no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
[ "$(rswap_stat read_errors)" = 0 ] || diagnose

# 2. The target dies after the copy, before the table points at it.
check server1-undrained ctl 1 undrain
check_gt server2-holds-pages "$(server_pages 2)" 0
mark
echo 15000 > "$knobs/move_swap_delay_ms"
ctl 2 drain > /tmp/drain2.log 2>&1 &
drain2_pid=$!
check move2-waits-before-the-swap wait_for 120 delayed "before pointing at the copy of slab"
t=$(delayed_target)
check_gt move2-target-named "${t:-0}" 0
echo 0 > "$knobs/move_swap_delay_ms"
check move2-target-killed kill_rswap_server "$t" KILL
check move2-abandoned wait_for 60 sh -c \
	"dmesg | tail -n +$((log_from + 1)) | grep -q 'stays: 10.77.0.$t:7471 is no longer usable'"
kill "$drain2_pid" 2>/dev/null
wait "$drain2_pid" 2>/dev/null
cat /tmp/drain2.log
ctl 2 undrain > /dev/null 2>&1
# Writes go on while the target is down: a workload swaps through the
# servers that are left and verifies (with a slab ACTIVE on the dead
# server it would park for ever and time out here).
timeout 300 sh -c "echo \$\$ > '$RSWAP_CGROUP/cgroup.procs'; exec rswap-swapfill --mib 48 --seed 9 --passes 2" \
	> /tmp/busy.log 2>&1
check_eq move2-writes-go-on 0 $?
tail -n 3 /tmp/busy.log
check move2-target-restarts start_peer "$t"
check move2-target-back wait_for 60 servers_ready 3
check move2-module-and-servers-agree wait_for 60 slabs_agree
check_eq move2-no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"

# Every page of the paused workload, then swapoff: nothing left anywhere.
touch /tmp/go
wait "$held_pid"
check_eq held-workload-verified 0 $?
tail -n 3 /tmp/held.log
echo max > "$RSWAP_CGROUP/memory.high"
echo max > "$RSWAP_CGROUP/memory.max"
check swapoff swapoff /dev/rswap0
check servers-hold-nothing wait_for 60 servers_hold_none 1 2 3
servers_hold_none 1 2 3 || diagnose
check module-unloads rmmod rswap
stop_rswap_servers
