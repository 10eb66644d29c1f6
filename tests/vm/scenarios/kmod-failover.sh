# rswap.ko when servers fail. A server SIGKILLed and restarted mid-workload:
# its slabs are reattached with new rkeys and every page verifies. A server
# stopped for good: writes go to the other one; the process whose pages it
# held dies of SIGBUS (or EFAULT in a system call), a process running at the same time finishes and
# verifies, and the kernel stays healthy. Also: a module with the wrong key
# is refused by the servers and says so, as is another client's key or the
# pool key itself (a client holds only its own); a world-readable key is refused.
# vm-memory: 1536M
# vm-timeout: 600
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff
# vm-cmdline: rootfstype=ramfs

. /usr/lib/rswap-vm/rswap-lib.sh

# Part 2 loses one server's pages for good, and with them whatever the
# guest's own reclaim had swapped there, not only the workloads': on the
# debug kernel a fresh server died of SIGBUS at start, its binary's pages
# (the image is tmpfs) gone with the server. rootfstype=ramfs keeps the
# image's files out of swap, and 1.5 GiB leaves the guest's reclaim little
# to do outside the workloads' cgroup. (Keeping the harness out of swap
# with memory.swap.max=0 was tried: the pools then could not swap either,
# and the guest went out of memory.)
check_eq rootfs-is-ramfs ramfs "$(stat -f -c %T /)"
check workload-memory-high workload_memory_high
check two-servers-start start_pool 2 128M
servers="$(pool_servers 2)"

cp /tmp/rswap.key /tmp/open.key
chmod 644 /tmp/open.key
check world-readable-key-refused sh -c \
	'! modprobe rswap replicas=1 size=64M key_file=/tmp/open.key 2>/dev/null &&
	 dmesg | grep -q "rswap: key_file /tmp/open.key: readable by others"'

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > /tmp/wrong.key
chmod 600 /tmp/wrong.key
check wrong-key-module-loads modprobe rswap replicas=1 size=64M key_file=/tmp/wrong.key servers="$servers"
check wrong-key-refused-by-server wait_for 20 sh -c 'dmesg | grep -q "rswap: .*: refused our key"'
check wrong-key-logged-by-server grep -q 'wrong key for its client id, refused' /tmp/server-1.log
check_eq wrong-key-no-server-ready 0 "$(grep -c ' ready ' /sys/block/rswap0/rswap/servers)"
check wrong-key-module-unloads rmmod rswap

# A client is only itself: the key of another client id (a real key of
# this pool), or the pool key itself, does not let this host in.
refusals() { dmesg | grep -c 'rswap: .*: refused our key'; }
for stolen in "$(client_key other-host:rswap0)" /tmp/rswap.key; do
	what=$( [ "$stolen" = /tmp/rswap.key ] && echo pool-key || echo other-clients-key)
	before=$(refusals)
	check "$what-module-loads" modprobe rswap replicas=1 size=64M key_file="$stolen" servers="$servers"
	check "$what-refused" wait_for 20 sh -c "[ \$(dmesg | grep -c 'rswap: .*: refused our key') -gt $before ]"
	check_eq "$what-no-server-ready" 0 "$(grep -c ' ready ' /sys/block/rswap0/rswap/servers)"
	check "$what-module-unloads" rmmod rswap
done

# A short loss_timeout, so a server stopped for good is declared lost soon;
# times RSWAP_SLOW on the debug kernel, whose rxe also fails WRs when it
# cannot allocate skbs under the workload's pressure (the module reconnects,
# which takes it seconds there).
check module-loads modprobe rswap replicas=1 size=512M key_file=/tmp/rswap-client.key \
	loss_timeout=$((10 * RSWAP_SLOW)) servers="$servers"
check both-servers-ready wait_for 30 servers_ready 2
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'

# 1. SIGKILL and restart one server while a workload swaps through both.
in_cgroup rswap-swapfill --mib "$(shrink 96)" --seed 3 --passes 3 > /tmp/fill1.log 2>&1 &
fill_pid=$!
pool_has_more_than() { [ "$(rswap_stat remote_pages)" -gt "$1" ]; }
check pages-in-the-pool wait_for 120 pool_has_more_than "$(shrink 6000)"
check_gt server1-holds-pages "$(server_held 1)" 0
check server1-killed kill_rswap_server 1 KILL
sleep 2
check server1-restarts start_rswap_server mem1 1 128M
check server1-back wait_for 60 servers_ready 2
wait "$fill_pid"
check_eq workload-survived-restart 0 $?
cat /tmp/fill1.log
cat /sys/block/rswap0/rswap/servers
check server1-reattached grep -q "^$(host_addr 1):7471 ready .*reattached=[1-9]" \
	/sys/block/rswap0/rswap/servers
check_eq no-errors-across-restart 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"

# 2. Stop a server for good while one process has pages on it: the one
# holding more of them (where pages land depends on which slabs had free
# slots). Pages the module read ahead before the loss would still be
# handed out, right, from its buffer (a few dozen pages here may all be
# there): with read ahead off every page of the victim's is read from the
# servers.
echo 0 > /sys/module/rswap/parameters/prefetch
rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib "$(shrink 64)" --seed 21 --pause-file /tmp/go --ready-file /tmp/filled \
	> /tmp/victim.log 2>&1 &
victim_pid=$!
check victim-filled wait_for 300 test -e /tmp/filled
cat /sys/block/rswap0/rswap/servers
lost=1 kept=2
[ "$(server_pages 2)" -gt "$(server_pages 1)" ] && lost=2 kept=1
echo "server $lost holds more of the victim's pages: it is the one lost"
check_gt lost-server-holds-victim-pages "$(server_pages "$lost")" 0
check lost-server-stopped-for-good kill_rswap_server "$lost" KILL
# Another process swaps meanwhile: its pages go to the other server only.
in_cgroup rswap-swapfill --mib "$(shrink 64)" --seed 31 --passes 2 > /tmp/survivor.log 2>&1
check_eq survivor-verified 0 $?
cat /tmp/survivor.log
check lost-server-declared-lost wait_for 30 grep -q "^$(host_addr "$lost"):7471 lost" \
	/sys/block/rswap0/rswap/servers
touch /tmp/go
wait "$victim_pid"
victim_rc=$?
# A lost page of its data kills it with SIGBUS (128 + 7); if the lost page
# was the one holding its argv, the pause loop's access() gets EFAULT
# instead (no signal for a fault inside a system call) and it exits 3.
case $victim_rc in
135|3) pass victim-saw-its-lost-pages ;;
*) fail victim-saw-its-lost-pages "exit status $victim_rc, not 135 (SIGBUS) or 3 (EFAULT)" ;;
esac
cat /tmp/victim.log
check_gt read-errors-counted "$(rswap_stat read_errors)" 0
cat /sys/block/rswap0/rswap/servers
cat /sys/block/rswap0/rswap/stats
echo 1 > /sys/module/rswap/parameters/prefetch

# The lost server can be removed once nothing refers to it, and a new
# server added at runtime takes its place.
check lost-server-removed wait_for 30 sh -c \
	"echo $(host_addr "$lost"):7471 > /sys/block/rswap0/rswap/remove_server"
check_eq one-server-left 1 "$(wc -l < /sys/block/rswap0/rswap/servers)"
RSWAP_POOL_SUFFIX=b
check lost-server-starts-fresh start_rswap_server "mem$lost" "$lost" 128M
RSWAP_POOL_SUFFIX=
check server-added-at-runtime sh -c \
	"echo $(host_addr "$lost"):7471 > /sys/block/rswap0/rswap/add_server"
check added-server-ready wait_for 30 servers_ready 2

# The device still works.
in_cgroup rswap-swapfill --mib "$(shrink 64)" --seed 41 > /tmp/after.log 2>&1
check_eq workload-after-loss-verified 0 $?
echo max > "$RSWAP_CGROUP/memory.max"
check swapoff swapoff /dev/rswap0
check kept-server-holds-no-slabs wait_for 30 servers_hold_none "$kept"
check module-unloads rmmod rswap
stop_rswap_servers
