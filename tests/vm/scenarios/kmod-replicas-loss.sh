# rswap.ko with replicas=2 (the default) over three servers, two of them lost for good at
# once. A paused process has its pages in the pool, each on two of the
# three servers; servers 1 and 3 are SIGKILLed together and declared lost
# after loss_timeout. Only the pages whose both copies were on 1 and 3 may
# be lost:
#   - the process has the kernel copy out every page (swapfill --count-lost),
#     so a lost page is an EFAULT it counts rather than a SIGBUS, and every
#     page it does read back must be intact;
#   - the count is more than none and at most what the sets with every copy
#     on 1 and 3 held (the slab table in debugfs, read before the kill);
#   - the kernel stays healthy (the harness fails on any warning), and the
#     device goes on swapping on server 2 alone.
# vm-memory: 1536M
# vm-timeout: 600
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff
# vm-cmdline: rootfstype=ramfs

. /usr/lib/rswap-vm/rswap-lib.sh

# Pages of two servers are lost on purpose, with whatever the guest's own
# reclaim swapped there: rootfstype=ramfs keeps the image's files (the
# servers' binaries) out of swap (kmod-failover.sh says why).
check_eq rootfs-is-ramfs ramfs "$(stat -f -c %T /)"

check workload-memory-high workload_memory_high
MEM=128M
# shellcheck disable=SC2034 # start_peer's (rswap-lib.sh)
RSWAP_PEERS=3
start_peers 3
servers_file=/sys/block/rswap0/rswap/servers

# No replicas=: the default is two copies.
check module-loads modprobe rswap size=512M key_file=/tmp/rswap-client.key \
	loss_timeout=$((10 * RSWAP_SLOW)) servers="$(server_addr 1),$(server_addr 2),$(server_addr 3)"
check servers-ready wait_for 30 servers_ready 3
check_eq two-copies-by-default 2 "$(rswap_stat replicas)"
check swapon sh -c 'mkswap /dev/rswap0 && swapon /dev/rswap0'

# Its output goes through a pipe to a cat outside the workload's cgroup:
# a file it wrote itself would be charged to the cgroup, and the guest's
# /tmp is tmpfs, so the log's own pages could be swapped out and lost
# (cat: read error). With --count-lost its exit status is its last line.
rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib "$(shrink 64)" --seed 61 --count-lost --pause-file /tmp/go \
	--ready-file /tmp/filled 2>&1 | cat > /tmp/paused.log &
paused_pid=$!
check paused-filled wait_for 300 test -e /tmp/filled
check_gt pages-in-the-pool "$(rswap_stat remote_pages)" "$(shrink 1000)"
check_eq every-page-twice "$(( 2 * $(rswap_stat remote_pages) ))" \
	"$(( $(server_pages 1) + $(server_pages 2) + $(server_pages 3) ))"

# Pages in sets none of whose copies is on server 2: what losing 1 and 3
# may cost. A set's line names its copies as STATE@ENTRY after the colon;
# every entry's line names its server.
cat /sys/kernel/debug/rswap/rswap0/slabs > /tmp/slabs-before
cat /tmp/slabs-before
in_lost_sets=$(awk -v keep="$(server_addr 2)" '
	$1 == "entry" { srv[$2] = $5 }
	/ used [0-9]+ / {
		for (i = 1; i < NF; i++)
			if ($i == "used")
				used = $(i + 1)
		split($0, parts, ": ")
		sets[++n] = used " " parts[2]
	}
	END {
		for (k = 1; k <= n; k++) {
			m = split(sets[k], f, " ")
			kept = 0
			for (i = 2; i <= m; i++) {
				split(f[i], c, "@")
				if (srv[c[2]] == keep)
					kept = 1
			}
			if (!kept)
				sum += f[1]
		}
		print sum + 0
	}' /tmp/slabs-before)
echo "pages in sets with no copy on server 2: $in_lost_sets"

pid1=$(cat /tmp/server-1.pid) pid3=$(cat /tmp/server-3.pid)
check servers-1-and-3-killed kill -KILL "$pid1" "$pid3"
wait "$pid1" "$pid3" 2>/dev/null
rm -f /tmp/server-1.pid /tmp/server-3.pid
both_lost() { server_lost 1 && server_lost 3; }
check both-declared-lost wait_for 60 both_lost
cat "$servers_file"

touch /tmp/go
exited() { ! pidof rswap-swapfill > /dev/null; }
if ! check paused-process-done wait_for 120 exited; then
	for pid in $(pidof rswap-swapfill); do
		echo "rswap-swapfill $pid: $(grep State /proc/"$pid"/status), in $(cat /proc/"$pid"/wchan)"
		cat /proc/"$pid"/stack
		sleep 1
		cat /proc/"$pid"/stack
	done
	echo l > /proc/sysrq-trigger
	echo w > /proc/sysrq-trigger
	kill -KILL $(pidof rswap-swapfill)
fi
wait "$paused_pid"
cat /tmp/paused.log
rc=$(sed -n 's/^swapfill: exit status \([0-9]*\)$/\1/p' /tmp/paused.log)
lost=$(sed -n 's/.* bad, \([0-9]*\) lost$/\1/p' /tmp/paused.log)
if [ "$in_lost_sets" -eq 0 ]; then
	skip pages-of-lost-sets-lost "no set had both copies on servers 1 and 3 (placement put a copy of every set on 2)"
else
	# Exit 4: pages were lost and every page read back was intact.
	check_eq lost-pages-counted-none-wrong 4 "$rc"
	check_gt some-pages-lost "${lost:-0}" 0
	check_gt lost-only-from-sets-without-server-2 $((in_lost_sets + 1)) "${lost:-0}"
	check_gt read-errors-counted "$(rswap_stat read_errors)" 0
	check lost-slabs-logged sh -c 'dmesg | grep -q "slabs with pages on them are lost"'
fi

# The device goes on: new sets have one copy, on server 2.
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 71 --passes 2 > /tmp/after.log 2>&1
check_eq swapping-goes-on-on-server-2 0 $?
cat /tmp/after.log
check_gt degraded-in-sysfs "$(rswap_stat degraded_slabs)" 0
check swapoff swapoff /dev/rswap0
check module-unloads rmmod rswap
stop_rswap_servers
