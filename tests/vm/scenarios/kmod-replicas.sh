# rswap.ko with replicas=2 on three servers: every page is on two of them.
# A server SIGKILLed for good mid-workload costs no page: a process whose
# pages it held, paused meanwhile, resumes and verifies every page (no
# SIGBUS), a process swapping through the loss verifies too, and no read or
# write fails; reads of the lost server's copies come from the other copy.
# Then a second server stops: one is left, so new slabs get one copy, and
# the device says it runs degraded (log and sysfs) and keeps working.
# vm-memory: 1G
# vm-timeout: 600
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff

. /usr/lib/rswap-vm/rswap-lib.sh

check workload-memory-high workload_memory_high
check three-servers-start start_pool 3 128M
servers="$(pool_servers 3)"

check replicas-4-refused sh -c "! modprobe rswap size=64M key_file=/tmp/rswap-client.key \
	replicas=4 servers=$servers 2>/dev/null && dmesg | grep -q 'replicas=4: must be 1 to 3'"
check module-loads modprobe rswap size=512M key_file=/tmp/rswap-client.key replicas=2 \
	loss_timeout=$((10 * RSWAP_SLOW)) servers="$servers"
check servers-ready wait_for 30 servers_ready 3
check_eq replicas-in-sysfs 2 "$(rswap_stat replicas)"
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'

# A process fills its memory and pauses: its pages are in the pool, twice.
rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib "$(shrink 64)" --seed 21 --pause-file /tmp/go \
	--ready-file /tmp/filled > /tmp/paused.log 2>&1 &
paused_pid=$!
check paused-filled wait_for 300 test -e /tmp/filled
cat /sys/block/rswap0/rswap/servers
copies_held() {
	local n total=0
	for n in 1 2 3; do
		total=$((total + $(module_server_field "$(host_addr "$n"):7471" pages)))
	done
	echo "$total"
}
check_gt pages-in-the-pool "$(rswap_stat remote_pages)" "$(shrink 1000)"
check_eq every-page-twice "$(( 2 * $(rswap_stat remote_pages) ))" "$(copies_held)"
check_gt server1-holds-pages "$(module_server_field "$(host_addr 1):7471" pages)" 0
check_eq not-degraded 0 "$(rswap_stat degraded_slabs)"

# Server 1 dies for good while another process swaps.
in_cgroup rswap-swapfill --mib "$(shrink 64)" --seed 31 --passes 2 > /tmp/through.log 2>&1 &
through_pid=$!
sleep 2
check server1-killed kill_rswap_server 1 KILL
touch /tmp/go
wait "$paused_pid"
check_eq paused-process-verified 0 $?
cat /tmp/paused.log
wait "$through_pid"
check_eq swapping-process-verified 0 $?
cat /tmp/through.log
check server1-declared-lost wait_for 60 grep -q "^$(host_addr 1):7471 lost" \
	/sys/block/rswap0/rswap/servers
check_eq no-read-errors 0 "$(rswap_stat read_errors)"
check_eq no-write-errors 0 "$(rswap_stat write_errors)"
check_gt reads-from-second-copy "$(rswap_stat reads_second_copy)" 0
check no-pages-reported-lost sh -c '! dmesg | grep -q "slabs with pages on them are lost"'
cat /sys/block/rswap0/rswap/stats

# Server 2 stops too: one server left, so new slabs are single copies.
degraded_lines() { dmesg | grep -c "rswap0: degraded: new slabs get 1 of replicas=2 copies"; }
before=$(degraded_lines)
check server2-stopped kill_rswap_server 2 KILL
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 41 --passes 2 > /tmp/alone.log 2>&1
check_eq degraded-process-verified 0 $?
cat /tmp/alone.log
check_eq degraded-logged-once $((before + 1)) "$(degraded_lines)"
check_gt degraded-in-sysfs "$(rswap_stat degraded_slabs)" 0
check swapoff swapoff /dev/rswap0
check module-unloads rmmod rswap
