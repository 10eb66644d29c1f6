# rswap.ko with replicas=2: every page on two servers in two failure
# domains (servers 1 and 2 in rack-a, 3 in rack-b, so server 3 has a copy of
# every slab). In turn, a workload swapping all along and a paused process
# whose pages must survive:
#   1. server 3 SIGKILLed and restarted: its copies come back with it (no
#      write was missed: a set with a copy down takes no pages);
#   2. server 1 SIGKILLed for good: no read or write fails, reads of its
#      copies come from the other copy, and every slab that had a copy
#      there gets a new one on server 2, server to server;
#   3. server 4 (rack-a) joins and server 2 is drained: its copies go to
#      server 4, never next to their other copy, and no page is read in;
#   4. server 4's memory goes bad under its copies: the paused process
#      verifies every page all the same, each page server 4 gives back is
#      refused by its checksum and read from server 3 (the one restarted
#      in 1), and written again (read-repair) until a whole-device read
#      meets no bad copy; then server 4 stops;
#   5. server 3 is the only one granting: new slabs get one copy, and the
#      device says it runs degraded (log and sysfs), and keeps working.
# vm-memory: 1536M
# vm-timeout: 900
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff dd

. /usr/lib/rswap-vm/rswap-lib.sh

check workload-memory-high workload_memory_high
# Servers that know each other (--peer): a server copies only to its peers.
MEM=128M
RSWAP_PEERS=4
start_peers 3
h() { echo "$(host_addr "$1"):7471"; }
pages_on() { module_server_field "$(h "$1")" pages; }

check replicas-4-refused sh -c "! modprobe rswap size=64M key_file=/tmp/rswap-client.key \
	replicas=4 servers=$(h 1) 2>/dev/null && dmesg | grep -q 'replicas=4: must be 1 to 3'"
check bad-domain-refused sh -c "! modprobe rswap size=64M key_file=/tmp/rswap-client.key \
	servers=$(h 1)@a/b 2>/dev/null && dmesg | grep -q 'a domain name is letters, digits'"
# stable_writes=1: every copy matches its checksum, dead pages too (the
# whole-device reads of step 4 need it).
check module-loads modprobe rswap size=512M key_file=/tmp/rswap-client.key replicas=2 \
	stable_writes=1 loss_timeout=$((10 * RSWAP_SLOW)) \
	servers="$(h 1)@rack-a,$(h 2)@rack-a,$(h 3)@rack-b"
check_eq stable-writes-asked-for 1 "$(cat /sys/block/rswap0/queue/stable_writes)"
check servers-ready wait_for 30 servers_ready 3
check domains-in-sysfs sh -c "grep -q '^$(h 1) .* domain=rack-a ' /sys/block/rswap0/rswap/servers &&
	grep -q '^$(h 3) .* domain=rack-b ' /sys/block/rswap0/rswap/servers"
check_eq replicas-in-sysfs 2 "$(rswap_stat replicas)"
# Before it is swap: reads beside writes of the same pages, each page on
# two copies. A read that met a write blames no copy, so nothing is
# repaired.
racing_reads replicas-racing-reads 0 met
check_eq replicas-racing-reads-repair-nothing 0 \
	"$(( $(rswap_stat repaired_pages) + $(rswap_stat repairs_dropped) ))"
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'

# A process fills its memory and pauses: its pages are in the pool, twice.
rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 21 --pause-file /tmp/go \
	--ready-file /tmp/filled > /tmp/paused.log 2>&1 &
paused_pid=$!
check paused-filled wait_for 300 test -e /tmp/filled
cat /sys/block/rswap0/rswap/servers
check_gt pages-in-the-pool "$(rswap_stat remote_pages)" "$(shrink 1000)"
check_eq every-page-twice "$(( 2 * $(rswap_stat remote_pages) ))" \
	"$(( $(pages_on 1) + $(pages_on 2) + $(pages_on 3) ))"
check not-degraded wait_for 60 not_degraded
# debugfs shows the table: every set that holds pages has two live copies
# on two entries.
check slab-table-in-debugfs sh -c "grep -q ' used [1-9][0-9]* .*: live@[0-9]* live@[0-9]*\$' \
	/sys/kernel/debug/rswap/rswap0/slabs &&
	! grep ' used [1-9]' /sys/kernel/debug/rswap/rswap0/slabs | grep -qv ': live@[0-9]* live@[0-9]*\$'"

# 1. Server 3 restarts while a workload swaps.
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 31 --passes 2 > /tmp/through1.log 2>&1 &
through_pid=$!
sleep 2
check server3-killed kill_rswap_server 3 KILL
sleep 2
check server3-restarts start_peer 3
check server3-back wait_for 60 servers_ready 3
wait "$through_pid"
check_eq swapping-through-restart-verified 0 $?
cat /tmp/through1.log
check server3-reattached grep -q "^$(h 3) ready .*reattached=[1-9]" /sys/block/rswap0/rswap/servers
check not-degraded-after-restart wait_for 60 not_degraded

# 2. Server 1 dies for good while a workload swaps.
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 41 --passes 2 > /tmp/through2.log 2>&1 &
through_pid=$!
sleep 2
check server1-killed kill_rswap_server 1 KILL
wait "$through_pid"
check_eq swapping-through-loss-verified 0 $?
cat /tmp/through2.log
check server1-declared-lost wait_for 60 grep -q "^$(h 1) lost" /sys/block/rswap0/rswap/servers
check no-pages-reported-lost sh -c '! dmesg | grep -q "slabs with pages on them are lost"'
# Redundancy comes back within 120 s of the loss: the sets that had a copy
# on server 1 get one on the other of 2 and 3 (one per domain where it
# can), so every slab is on both.
check redundancy-restored wait_for 120 not_degraded
check_gt copies-made "$(rswap_stat copies_made)" 0
check copies-logged sh -c 'dmesg | grep -q "rswap0: [1-9][0-9]* new copies (.* MiB/s), 0 failed"'
check_eq every-page-on-2 "$(rswap_stat remote_pages)" "$(pages_on 2)"
check_eq every-page-on-3 "$(rswap_stat remote_pages)" "$(pages_on 3)"

# 3. Server 4 (rack-a) joins; server 2 is drained into it. A copy never
# goes next to its other copy (server 3, rack-b): server 4 is the only
# place, and no page is read in on the way.
check server4-starts start_peer 4
check server4-added sh -c "echo '$(h 4) domain=rack-a' > /sys/block/rswap0/rswap/add_server"
check server4-ready wait_for 60 servers_ready 3
loads=$(rswap_stat loads)
ctl 2 drain > /tmp/drain.log 2>&1
check_eq drain-exit-0 0 $?
cat /tmp/drain.log
check_eq nothing-paged-in-by-the-drain "$loads" "$(rswap_stat loads)"
check_eq drained-server-holds-none 0 "$(pages_on 2)"
check_eq every-page-on-4 "$(rswap_stat remote_pages)" "$(pages_on 4)"
check_eq every-page-still-on-3 "$(rswap_stat remote_pages)" "$(pages_on 3)"

# 4. Server 4's memory goes bad behind its back (its backing file zeroed
# under the copies it holds, as failing memory or a buggy server would
# leave it): every page read from it fails its checksum and is read again
# from the other copy, on server 3 (restarted in 1). Read ahead off: every
# read is on demand, checked and counted.
echo 0 > /sys/module/rswap/parameters/prefetch
check server4-memory-zeroed dd if=/dev/zero of=/dev/shm/pool-4 bs=1M count=128 conv=notrunc
# The whole device read, 32 pages a request: many requests span two sets,
# server 4 being copy 0 of one and copy 1 of the other (the drain put it
# where server 2 was); each bad page is read again from server 3.
# Every page of the device, dead ones too: with stable_writes=1 the kernel
# does not modify a page while its write is in flight, or a copy would
# hold bytes its checksum does not match (on 6.12, 4 runs in 14 here
# failed so without it).
errors=$(rswap_stat read_errors)
check whole-device-read-despite-bad-copies dd if=/dev/rswap0 of=/dev/null bs=128k iflag=direct
check_eq whole-device-no-read-errors "$errors" "$(rswap_stat read_errors)"
# Each page that came back right from server 3 was written again
# (read-repair): a new slot on both copies of a healthy set, the bad one
# freed. Whole-device reads again, until one meets no bad copy: repairs
# dropped (64 wait at once) are made when read again.
check_gt bad-copies-repaired "$(rswap_stat repaired_pages)" 0
reads_until_none_bad() {
	local i before
	for i in $(seq 1 30); do
		before=$(rswap_stat checksum_errors)
		dd if=/dev/rswap0 of=/dev/null bs=128k iflag=direct 2> /dev/null || return 1
		[ "$(rswap_stat checksum_errors)" = "$before" ] && { echo "$i"; return 0; }
	done
	return 1
}
passes=$(reads_until_none_bad)
check whole-device-read-until-none-bad test -n "$passes"
echo "whole-device reads until none came back bad: $passes more;" \
	"$(rswap_stat repaired_pages) pages repaired, $(rswap_stat repairs_dropped) repairs dropped"
check_eq no-read-errors-while-repairing "$errors" "$(rswap_stat read_errors)"
touch /tmp/go
wait "$paused_pid"
check_eq paused-process-verified-despite-bad-copies 0 $?
cat /tmp/paused.log
echo 1 > /sys/module/rswap/parameters/prefetch
check_gt bad-copies-caught "$(rswap_stat checksum_errors)" 0
check_gt reads-from-second-copy "$(rswap_stat reads_second_copy)" 0
check_eq no-read-errors 0 "$(rswap_stat read_errors)"
check_eq no-write-errors 0 "$(rswap_stat write_errors)"
# Server 4 stops. From now on only server 3 grants, so the device runs
# degraded: said once, whenever the first set short of a copy is made.
degraded_lines() { dmesg | grep -c "rswap0: degraded: new slabs get 1 of replicas=2 copies"; }
before=$(degraded_lines)
check server4-stopped kill_rswap_server 4 KILL
cat /sys/block/rswap0/rswap/stats

# 5. Only server 3 grants (2 is drained, 4 down): new slabs are single
# copies, on server 3, and nothing written now is lost when server 4 is
# declared lost meanwhile.
slab_table=/sys/kernel/debug/rswap/rswap0/slabs
echo "the slab table before step 5:"; cat "$slab_table"
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 51 --passes 2 > /tmp/alone.log 2>&1
rc=$?
check_eq degraded-process-verified 0 "$rc"
cat /tmp/alone.log
[ "$rc" = 0 ] || { echo "the slab table after step 5:"; cat "$slab_table"; }
check_eq degraded-logged-once $((before + 1)) "$(degraded_lines)"
check_gt degraded-in-sysfs "$(rswap_stat degraded_slabs)" 0
check swapoff swapoff /dev/rswap0
check module-unloads rmmod rswap
