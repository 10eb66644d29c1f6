# rswap.ko end to end. Two memory servers; the module swaps a workload three
# times larger than its cgroup's memory.max (30% zero, 10% same-filled
# pages), and every page is verified when it comes back; the module's
# sysfs and the servers agree that zero and same-filled pages took no
# remote memory; swapoff with pages out brings all of them back and leaves
# the servers with no slabs of ours; bad parameters are refused with a clear
# log line and no device; unload is refused while swapped on; a reloaded
# client with the same client_id frees the slabs an earlier load stranded;
# a page that comes back corrupt is read again, or fails, never handed out;
# writes of one page wait for each other, and reads beside them get whole
# pages and no error, also while a write waits for its server or a slot;
# backend=ram swaps with no servers.
# vm-memory: 1G
# vm-timeout: 600
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff dd cmp taskset

. /usr/lib/rswap-vm/rswap-lib.sh

check workload-memory-high workload_memory_high
check two-servers-start start_pool 2 96M

# Bad parameters: refused at load, one log line, no device left behind.
refused() {
	local name=$1 want=$2
	shift 2
	dmesg -c > /dev/null
	if modprobe rswap replicas=1 "$@" 2>/dev/null; then
		fail "$name" "modprobe rswap replicas=1 $* succeeded"
		rmmod rswap
		return
	fi
	if ! dmesg | grep -q "rswap: .*$want"; then
		fail "$name" "no log line '$want'; got: $(dmesg | grep rswap | tail -2)"
	elif [ -e /dev/rswap0 ] || grep -q '^rswap ' /proc/modules; then
		fail "$name" "a device or the module was left behind"
	else
		pass "$name"
	fi
}
refused refuses-no-size 'size= is required' key_file=/tmp/rswap-client.key
refused refuses-bad-size 'not a multiple of 4K\|must be a non-zero multiple' size=1000 key_file=/tmp/rswap-client.key
refused refuses-no-key 'key_file= is required' size=64M
refused refuses-missing-key 'cannot read it' size=64M key_file=/nonexistent
refused refuses-bad-server 'is not ADDRESS:PORT' size=64M key_file=/tmp/rswap-client.key servers=10.77.0.1
refused refuses-bad-address 'is not ADDRESS:PORT' size=64M key_file=/tmp/rswap-client.key servers=nowhere:7471
refused refuses-bad-queue-depth 'queue_depth=0: must be 1 to' size=64M key_file=/tmp/rswap-client.key queue_depth=0

check module-loads modprobe rswap replicas=1 size=512M key_file=/tmp/rswap-client.key \
	servers="$(pool_servers 2)"
check both-servers-ready wait_for 30 servers_ready 2
# The partition scan runs before servers= is applied: no false alarm.
check no-false-no-room-warning sh -c '! dmesg | grep -q "no server can take more pages"'
cat /sys/block/rswap0/rswap/servers
# Stable pages only with stable_writes=1 (kmod-replicas runs so).
check_eq no-stable-writes-by-default 0 "$(cat /sys/block/rswap0/queue/stable_writes)"
check mkswap mkswap /dev/rswap0
check swapon swapon --discard=pages /dev/rswap0
check unload-refused-while-swapped-on sh -c '! rmmod rswap 2>/dev/null && grep -q "^rswap " /proc/modules'

# The workload: 96 MiB (shrunk on the debug kernel) through 32 MiB, paused after the fill so its pages
# stay out while we compare the books.
rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib "$(shrink 96)" --zero-pct 30 --same-pct 10 --pause-file /tmp/go \
	--ready-file /tmp/filled > /tmp/fill1.log 2>&1 &
fill_pid=$!
check workload-filled wait_for 300 test -e /tmp/filled
cat /sys/block/rswap0/rswap/stats
check_gt pages-went-to-the-pool "$(rswap_stat remote_pages)" "$(shrink 8000)"
# 6.12's swap keeps zero pages in its own zeromap and never writes them;
# 6.1 writes them and the map keeps them.
case "$(uname -r)" in
6.1.*) check_gt zero-pages-recorded "$(rswap_stat zero_pages)" "$(shrink 3000)" ;;
*) check_gt zero-or-same-pages-recorded \
	"$(( $(rswap_stat zero_pages) + $(rswap_stat same_pages) ))" "$(shrink 3000)" ;;
esac
check_gt same-pages-recorded "$(rswap_stat same_pages)" "$(shrink 1000)"
# A map entry is 8 bytes: slot and checksum, or the word.
check_eq map-8-bytes-a-page "$(( $(rswap_stat pages) * 8 ))" "$(rswap_stat map_bytes)"
# Every used slot holds a REMOTE page, and nothing else: zero and same
# pages cost no slot (slabs x slots per slab = remote pages + free slots).
pps=$(( $(rswap_stat slab_size) / 4096 ))
check_eq slots-hold-only-remote-pages "$(( $(rswap_stat slabs) * pps ))" \
	"$(( $(rswap_stat remote_pages) + $(rswap_stat free_slots) ))"
check_eq servers-agree-on-slabs "$(rswap_stat slabs)" "$(( $(server_held 1) + $(server_held 2) ))"
# A refill short of several slabs asks for them in one GRANT_MANY: the
# servers granted more slabs than they sent answers.
check_gt grants-several-an-answer "$(( $(server_stat 1 grants_total) + $(server_stat 2 grants_total) ))" \
	"$(( $(server_stat 1 grant_answers_total) + $(server_stat 2 grant_answers_total) ))"
check_gt server1-holds-slabs "$(server_held 1)" 0
check_gt server2-holds-slabs "$(server_held 2)" 0
# Against the workload's own count: only its data pages, and same-filled
# pages of a 64-bit word (more than a map entry keeps), may be remote; the
# rest of what went out was zero or one 32-bit word, and must not be.
data_pages=$(sed -n 's/^swapfill: [0-9]* pages: \([0-9]*\) data.*/\1/p' /tmp/fill1.log)
wide_pages=$(sed -n 's/^swapfill: .*(\([0-9]*\) of them one 64-bit word).*/\1/p' /tmp/fill1.log)
check_gt swapfill-counts-wide-words "${wide_pages:-0}" 0
check_gt remote-pages-are-data-pages "$(( data_pages + wide_pages + 1 ))" "$(rswap_stat remote_pages)"
touch /tmp/go
wait "$fill_pid"
check_eq workload-verified 0 $?
cat /tmp/fill1.log
check_gt pages-came-back "$(rswap_stat loads)" "$(shrink 8000)"
# The verify pass reads its memory in order: read ahead, and handed out.
check_gt sequential-swap-in-read-ahead "$(rswap_stat prefetch_read_pages)" 0
check_gt read-ahead-pages-handed-out "$(rswap_stat prefetch_hit_pages)" 0
# Pages swapped in together from consecutive slots come in one READ, as
# they went out in one WRITE: fewer WRs than pages, both ways.
check_gt reads-coalesced "$(( $(rswap_stat bytes_received) / 4096 ))" "$(rswap_stat rdma_reads)"
check_gt writes-coalesced "$(( $(rswap_stat bytes_sent) / 4096 ))" "$(rswap_stat rdma_writes)"
# A summary for people (scripts/demo.sh prints the "summary:" lines).
{
	echo "workload: $(shrink 96) MiB of pages through a cgroup with memory.max=$(cat "$RSWAP_CGROUP/memory.max"), two servers"
	sed 's/^swapfill: /workload: /' /tmp/fill1.log
	echo "swapped out: $(rswap_stat stores) pages: $(rswap_stat zero_stores) zero and" \
		"$(rswap_stat same_stores) same-filled kept in the map, $(rswap_stat remote_stores)" \
		"sent by RDMA WRITE"
	echo "swapped in: $(rswap_stat loads) pages, $(( $(rswap_stat bytes_received) / 1048576 ))" \
		"MiB by RDMA READ; every page compared: $(grep -c ': 0 bad' /tmp/fill1.log) of 1 passes clean"
	echo "pool: server 1 holds $(server_held 1) slabs, server 2 $(server_held 2)" \
		"(of $(( $(rswap_stat slab_size) / 1048576 )) MiB); read errors $(rswap_stat read_errors)"
	echo "read ahead: $(rswap_stat prefetch_read_pages) pages, $(rswap_stat prefetch_hit_pages)" \
		"of them handed out, $(( $(rswap_stat prefetch_bytes) / 1024 )) KiB of buffer"
	awk '$2 > 0 { printf "read latency %s us: %s\n", $1, $2 }' \
		/sys/block/rswap0/rswap/read_latency_us
} | sed 's/^/summary: /'

# Two more passes, each rewriting every page: slots are freed and reused.
in_cgroup rswap-swapfill --mib "$(shrink 96)" --seed 7 --passes 2 > /tmp/fill2.log 2>&1
check_eq rewrite-passes-verified 0 $?
cat /tmp/fill2.log
check_eq no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"

# A queue pair per hardware queue (one per CPU) on each server, the extra
# ones attached with the connection's token; the hardware queues spread
# their WRs over them.
cat /sys/block/rswap0/rswap/servers
cpus=$(grep -c '^processor' /proc/cpuinfo)
check_eq queue-pairs-per-cpu "$cpus $cpus" \
	"$(sed -n 's/.* qps=\([0-9]*\).*/\1/p' /sys/block/rswap0/rswap/servers | tr '\n' ' ' | sed 's/ $//')"
attached_total() {
	rswapctl --server "127.0.0.1:$(admin_port "$1")" --json stats |
		sed -n 's/.*"attached_qps_total":\([0-9]*\).*/\1/p'
}
# Per connection: a reconnect (rxe fails a WR when it cannot allocate an
# skb under memory pressure, "Failed allocating skb"; the module recovers)
# attaches them again.
for n in 1 2; do
	connects=$(module_server_field "$(host_addr $n):7471" connects)
	check_eq "server$n-counts-attached-qps" "$(( (cpus - 1) * connects ))" "$(attached_total $n)"
done
# Every queue pair carried WRs (summed over both servers; debugfs qps).
cat /sys/kernel/debug/rswap/rswap0/qps
unused=$(awk '{ s[$3] += $10 } END { for (q in s) if (!s[q]) z++; print z + 0 }' \
	/sys/kernel/debug/rswap/rswap0/qps)
check_eq every-queue-pair-used 0 "$unused"
check_eq qps-listed "$((2 * cpus))" "$(wc -l < /sys/kernel/debug/rswap/rswap0/qps)"

# swapoff with pages out: all come back (verified after), and every slab
# goes home once the device is closed.
rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib "$(shrink 96)" --seed 11 --pause-file /tmp/go --ready-file /tmp/filled \
	> /tmp/fill3.log 2>&1 &
fill_pid=$!
check workload-filled-again wait_for 300 test -e /tmp/filled
cat /sys/block/rswap0/rswap/stats
check_gt pages-out-before-swapoff "$(rswap_stat remote_pages)" "$(shrink 8000)"
# swapoff charges the pages back to the cgroup: lift its limit first.
echo max > "$RSWAP_CGROUP/memory.max"
check swapoff swapoff /dev/rswap0
touch /tmp/go
wait "$fill_pid"
check_eq verified-after-swapoff 0 $?
cat /tmp/fill3.log
check_eq no-remote-pages-after-swapoff 0 "$(rswap_stat remote_pages)"
check servers-hold-no-slabs-after-swapoff wait_for 30 servers_hold_none 1 2
cat /sys/block/rswap0/rswap/servers
cat /sys/block/rswap0/rswap/read_latency_us

# Doorbell batching: requests the block layer dispatches together post
# their WRs with one ib_post_send per queue pair; with doorbell_batch=0 each
# request rings its own. A 4 MiB direct write is submitted in one plug; the
# block layer sends a plug on alone once its last request is 128 KiB
# (BLK_PLUG_FLUSH_SIZE), so requests of 64 KiB here: 128 of them for 8 MiB
# of random data at 32 MiB, read back either way (debugfs qps: doorbells,
# its last field), once the device is no longer swap and its slabs are
# home (the unload gives back those these writes take). Its swap header
# wiped first: a device closed with one on it drops its pages, the old
# swap area's (rswap_drop_swap_area), and dd closes it.
doorbells() { awk '{ n += $NF } END { print n + 0 }' /sys/kernel/debug/rswap/rswap0/qps; }
check swap-header-wiped dd if=/dev/zero of=/dev/rswap0 bs=4k count=1 oflag=direct
dd if=/dev/urandom of=/tmp/db8 bs=1M count=8 2>/dev/null
max_kb=$(cat /sys/block/rswap0/queue/max_sectors_kb)
echo 64 > /sys/block/rswap0/queue/max_sectors_kb
for batch in 0 1; do
	echo $batch > /sys/module/rswap/parameters/doorbell_batch
	d0=$(doorbells)
	check doorbell-batch$batch-write dd if=/tmp/db8 of=/dev/rswap0 bs=4M seek=8 count=2 \
		oflag=direct
	rings=$(( $(doorbells) - d0 ))
	check doorbell-batch$batch-reads-back sh -c \
		'dd if=/dev/rswap0 bs=4M skip=8 count=2 iflag=direct 2>/dev/null | cmp - /tmp/db8'
	echo "doorbell_batch=$batch: $rings doorbells for the 128 write requests"
	eval "rings$batch=$rings"
done
echo "$max_kb" > /sys/block/rswap0/queue/max_sectors_kb
check_gt unbatched-a-doorbell-per-request "$rings0" 127
check_gt batched-half-the-doorbells-or-fewer "$rings0" "$((rings1 * 2))"

check module-unloads rmmod rswap
check unload-logged sh -c 'dmesg | grep -q "rswap: unloaded"'

# A rebooted client is the same client. Its slabs are stranded on the
# servers here as a crash would strand them (debugfs fail_returns: nothing
# is given back); the next load with the same client_id frees them all with
# its first connection (HELLO FRESH), and a load without client_id says
# which identity it derived.
servers="$(pool_servers 2)"
check load-with-client-id modprobe rswap replicas=1 size=256M key_file="$(client_key kmod-test-host:rswap0)" \
	client_id=kmod-test-host:rswap0 servers="$servers"
check ready-with-client-id wait_for 30 servers_ready 2
echo 1 > /sys/kernel/debug/rswap/fail_returns
echo "$(shrink 32)M" > "$RSWAP_CGROUP/memory.max"
check swapon-for-the-crash sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'
in_cgroup rswap-swapfill --mib "$(shrink 64)" --seed 5 > /tmp/fill4.log 2>&1
check_eq crash-workload-verified 0 $?
echo max > "$RSWAP_CGROUP/memory.max"
check swapoff-before-the-crash swapoff /dev/rswap0
check crash-unload rmmod rswap
stranded=$(( $(server_held 1) + $(server_held 2) ))
check_gt slabs-stranded-by-the-crash "$stranded" 0
check reload-same-client-id modprobe rswap replicas=1 size=256M key_file="$(client_key kmod-test-host:rswap0)" \
	client_id=kmod-test-host:rswap0 servers="$servers"
check ready-after-reload wait_for 30 servers_ready 2
check fresh-connect-frees-stranded-slabs wait_for 30 servers_hold_none 1 2
# Freed by the servers at HELLO FRESH, not listed at REATTACH and given back.
check fresh-frees-before-reattach sh -c '! dmesg | grep -q "slabs kept for us that we do not know"'
check reload-unloads rmmod rswap
check load-without-client-id modprobe rswap replicas=1 size=64M key_file=/tmp/rswap-client.key
check derived-client-id-logged sh -c \
	"dmesg | grep -q \"rswap: rswap0: no client_id=: the servers know this client as '$(hostname):rswap0'\""
check derived-id-unloads rmmod rswap
refused refuses-bad-client-id 'client_id=: up to' size=64M key_file=/tmp/rswap-client.key \
	client_id="has space"

# A NIC with small send queues (debugfs sq_depth_max, as a real NIC's
# max_qp_wr would be, where rxe allows 1M): requests wait for send credits,
# no server is taken for dead, and what was written reads back. Half of
# every 128 KiB request is zero pages, so each needs 16 WRITEs (or READs),
# and 16 writers at once need far more than one send queue holds.
check load-for-small-queues modprobe rswap replicas=1 size=64M key_file=/tmp/rswap-client.key
echo 34 > /sys/kernel/debug/rswap/sq_depth_max
for a in $(echo "$servers" | tr ',' ' '); do
	echo "$a" > /sys/block/rswap0/rswap/add_server
done
check small-queues-ready wait_for 30 servers_ready 2
i=0
: > /tmp/alt
while [ $i -lt 256 ]; do
	if [ $((i % 2)) = 0 ]; then head -c 4096 /dev/urandom; else head -c 4096 /dev/zero; fi
	i=$((i + 1))
done >> /tmp/alt
writers="0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15"
sq_io() {	# OP: 16 at once, each 1 MiB at its own place, 128 KiB requests
	local k pids=
	for k in $writers; do
		if [ "$1" = write ]; then
			dd if=/tmp/alt of=/dev/rswap0 bs=128k seek=$((k * 8)) oflag=direct \
				2>/dev/null &
		else
			dd if=/dev/rswap0 of=/tmp/back.$k bs=128k skip=$((k * 8)) count=8 \
				iflag=direct 2>/dev/null &
		fi
		pids="$pids $!"
	done
	# shellcheck disable=SC2086
	wait $pids
}
# How many requests meet a full send queue depends on how many are in
# flight at once (a slow kernel posts slowly): a few rounds at most.
bad=0
round=0
while [ $round -lt 5 ]; do
	sq_io write
	sq_io read
	for k in $writers; do
		cmp -s /tmp/alt "/tmp/back.$k" || bad=$((bad + 1))
	done
	round=$((round + 1))
	[ "$(rswap_stat send_queue_full)" -gt 0 ] && break
done
echo "small queues: $round rounds, $(rswap_stat send_queue_full) requests waited for room"
check_eq small-queues-data-reads-back 0 "$bad"
check_gt small-queues-requests-waited "$(rswap_stat send_queue_full)" 0
cat /sys/block/rswap0/rswap/servers
check_eq small-queues-no-server-failed 0 \
	"$(sed -n 's/.* disconnects=\([0-9]*\) .*/\1/p' /sys/block/rswap0/rswap/servers |
		awk '{ n += $1 } END { print n + 0 }')"
check_eq small-queues-no-request-timeouts 0 "$(rswap_stat request_timeouts)"
check_eq small-queues-no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"

# A chain posted only in part (debugfs partial_posts: of the next chain of
# several WRs only the first goes, the rest is refused): the WR that went
# is unsignaled, so nothing completes for it; the request waits for its
# QP's drain (the failed connection's recovery), not ends while the WR may
# still move its pages, and goes again once the server is back. Each
# 128 KiB of /tmp/alt is 16 WRs to one server: one chain.
disconnects() {
	sed -n 's/.* disconnects=\([0-9]*\) .*/\1/p' /sys/block/rswap0/rswap/servers |
		awk '{ n += $1 } END { print n + 0 }'
}
for op in write read; do
	d0=$(disconnects)
	echo 1 > /sys/kernel/debug/rswap/partial_posts
	if [ $op = write ]; then
		check partial-post-write dd if=/tmp/alt of=/dev/rswap0 bs=128k seek=200 count=1 \
			oflag=direct
	else
		check partial-post-read dd if=/dev/rswap0 of=/tmp/back.p bs=128k skip=200 count=1 \
			iflag=direct
		check partial-post-reads-back cmp -n 131072 /tmp/alt /tmp/back.p
	fi
	check_eq partial-post-$op-struck 0 "$(cat /sys/kernel/debug/rswap/partial_posts)"
	check_gt partial-post-$op-failed-the-connection "$(disconnects)" "$d0"
	check partial-post-$op-servers-back wait_for 30 servers_ready 2
done
check partial-post-logged sh -c 'dmesg | grep -q "1 of 16 WRs posted (error -22): failing the connection"'
check_eq partial-post-no-request-timeouts 0 "$(rswap_stat request_timeouts)"
check_eq partial-post-no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"

# Two sequential readers at once, each on its own CPU (its own hardware
# queue): the read-ahead trend is judged per queue, each queue seeing one
# stream, and both are read ahead and handed out right.
# 0..16 MiB holds /tmp/alt sixteen times (the small-queue writes above).
for k in 1 2 3 4 5 6 7 8; do cat /tmp/alt; done > /tmp/alt8
hits0=$(rswap_stat prefetch_hit_pages)
taskset -c 0 dd if=/dev/rswap0 of=/tmp/seq.0 bs=16k count=512 iflag=direct 2>/dev/null &
seq0=$!
taskset -c 1 dd if=/dev/rswap0 of=/tmp/seq.1 bs=16k skip=512 count=512 iflag=direct 2>/dev/null &
seq1=$!
wait $seq0 $seq1
check two-streams-first-reads-back cmp /tmp/alt8 /tmp/seq.0
check two-streams-second-reads-back cmp /tmp/alt8 /tmp/seq.1
hits=$(( $(rswap_stat prefetch_hit_pages) - hits0 ))
echo "two streams: $hits of their 4096 pages handed out from the read ahead"
check_gt two-streams-read-ahead-handed-out "$hits" 1024
check_eq two-streams-no-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"

# A read of a page whose chunk is placed but not yet read (the read
# ahead's work held back 100 ms a round by debugfs prefetch_delay_ms, as a
# busy machine's workqueue might) waits for that chunk (prefetch_waits)
# instead of reading the page a second time: 2 MiB read 4 KiB at a time
# takes what it takes with the read ahead off (its remote pages), plus at
# most the read ahead's overshoot past the end (2 chunks) and the first
# reads that find the trend, off the wire; and reads back. A read served
# from the chunk it waited for is in read_latency_us (whole). Without an I/O
# scheduler and with mq-deadline, whose tags a read ahead takes first.
# Reads counted in read_latency_us's whole column but not in post: those
# served from a chunk they waited for (their wait is their latency).
served_after_wait() {
	awk '{ whole += $2; post += $3 } END { print whole - post }' \
		/sys/block/rswap0/rswap/read_latency_us
}
held_back() {
	local sched=$1 remote rx0 waits0 wire served0
	if ! grep -qw "$sched" /sys/block/rswap0/queue/scheduler; then
		skip "read-ahead-waits-$sched" "no $sched scheduler in this kernel"
		return
	fi
	echo "$sched" > /sys/block/rswap0/queue/scheduler
	echo 0 > /sys/module/rswap/parameters/prefetch
	rx0=$(rswap_stat bytes_received)
	dd if=/dev/rswap0 of=/tmp/seq.d bs=4k count=512 iflag=direct 2>/dev/null
	remote=$(( ($(rswap_stat bytes_received) - rx0) / 4096 ))
	echo 1 > /sys/module/rswap/parameters/prefetch
	waits0=$(rswap_stat prefetch_waits) rx0=$(rswap_stat bytes_received)
	served0=$(served_after_wait)
	echo 100 > /sys/kernel/debug/rswap/prefetch_delay_ms
	dd if=/dev/rswap0 of=/tmp/seq.d bs=4k count=512 iflag=direct 2>/dev/null
	echo 0 > /sys/kernel/debug/rswap/prefetch_delay_ms
	check "read-ahead-waited-reads-back-$sched" cmp -n 2097152 /tmp/alt8 /tmp/seq.d
	check_gt "read-ahead-reads-waited-$sched" "$(( $(rswap_stat prefetch_waits) - waits0 ))" 0
	check_gt "read-ahead-waits-in-read-latency-$sched" "$(( $(served_after_wait) - served0 ))" 0
	wire=$(( ($(rswap_stat bytes_received) - rx0) / 4096 ))
	echo "read ahead held back ($sched): $wire pages off the wire ($remote with it off), $(( $(rswap_stat prefetch_waits) - waits0 )) reads waited"
	check_gt "read-ahead-waiters-not-read-twice-$sched" "$(( remote + 64 + 16 ))" "$wire"
	check_eq "read-ahead-waits-no-errors-$sched" 0 \
		"$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
	echo none > /sys/block/rswap0/queue/scheduler
}
held_back none
held_back mq-deadline

# A read left waiting for its chunk longer than the request timeout (1 s
# here, the read ahead's work held back 3 s) fails no server: its timeout
# says what it waits for, and the chunk's own READ, which has a timeout of
# its own, is what would fail one. It reads back.
to0=$(rswap_stat request_timeouts) d0=$(disconnects)
echo 1000 > /sys/block/rswap0/queue/io_timeout
echo 3000 > /sys/kernel/debug/rswap/prefetch_delay_ms
dd if=/dev/rswap0 of=/tmp/seq.d bs=4k count=96 iflag=direct 2>/dev/null
echo 0 > /sys/kernel/debug/rswap/prefetch_delay_ms
echo 30000 > /sys/block/rswap0/queue/io_timeout
check read-ahead-late-reads-back cmp -n 393216 /tmp/alt8 /tmp/seq.d
check read-ahead-late-wait-logged sh -c 'dmesg | grep -q "s for a read ahead"'
check_eq read-ahead-late-no-request-timeouts "$to0" "$(rswap_stat request_timeouts)"
check_eq read-ahead-late-no-disconnects "$d0" "$(disconnects)"

# Writes of the same pages at once: four writers, each writing its own
# 256 KiB of random data to the same place 30 times over in 64 KiB
# requests. A write meeting an earlier one of its pages in flight waits
# for it (write_overlaps): otherwise it frees the slot the earlier WRITE is
# still filling, a third write takes it, and the late WRITE lands over
# that page, which then fails its checksum (a page nobody wrote twice,
# lost). Every page reads back whole, as one of the writers wrote it, and
# no checksum fails. overlapping_writes NAME SEEK (in 64 KiB) [WAITS]
# [SHIFTS]: WAITS "waits" if some write must have waited (over the wire,
# where a write is in flight for a round trip; backend=ram's last
# microseconds); SHIFTS, four numbers, writer k's region that many pages
# further (default all 0, one region): claims are taken a word of the
# bitmap (64 pages) at a time, and with regions that overlap in part a
# 16-page request can meet another in its second word only. Each page
# reads back as one of the writers whose region holds it wrote it.
overlapping_writes() {
	local name=$1 waits=${3:-} k p ok bad=0 ov0 csum0 errs0 writers="" lo=-1 hi=0 s
	local base=$(( $2 * 16 )) shifts=${4:-0 0 0 0}
	set -- $shifts
	for s in "$@"; do
		[ $lo -ge 0 ] && [ $lo -le "$s" ] || lo=$s
		[ $hi -ge $((s + 64)) ] || hi=$((s + 64))
	done
	ov0=$(rswap_stat write_overlaps) csum0=$(rswap_stat checksum_errors)
	errs0=$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))
	for k in 1 2 3 4; do
		head -c 262144 /dev/urandom > /tmp/ow.$k
	done
	k=0
	for s in "$@"; do
		k=$((k + 1))
		(for p in $(seq 30); do
			dd if=/tmp/ow.$k of=/dev/rswap0 bs=64k seek=$(( (base + s) * 4096 )) \
				count=4 oflag=direct,seek_bytes 2>/dev/null
		done) &
		writers="$writers $!"
	done
	# shellcheck disable=SC2086 # the writers' PIDs, not the servers'
	wait $writers
	check "$name-read-back" dd if=/dev/rswap0 of=/tmp/ow.back bs=4k \
		skip=$(( (base + lo) * 4096 )) count=$((hi - lo)) iflag=direct,skip_bytes
	for p in $(seq "$lo" $((hi - 1))); do
		ok=0 k=0
		for s in "$@"; do
			k=$((k + 1))
			[ "$p" -ge "$s" ] && [ "$p" -lt $((s + 64)) ] || continue
			cmp -s -n 4096 /tmp/ow.back /tmp/ow.$k $(( (p - lo) * 4096 )) \
				$(( (p - s) * 4096 )) && ok=1
		done
		[ $ok = 1 ] || bad=$((bad + 1))
	done
	check_eq "$name-pages-whole" 0 "$bad"
	echo "$name: $(( $(rswap_stat write_overlaps) - ov0 )) writes waited for an earlier one"
	if [ "$waits" = waits ]; then
		check_gt "$name-waited" "$(( $(rswap_stat write_overlaps) - ov0 ))" 0
	fi
	check_eq "$name-no-checksum-errors" "$csum0" "$(rswap_stat checksum_errors)"
	check_eq "$name-no-io-errors" "$errs0" \
		"$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
}

# Claims are taken a word of the bitmap (64 pages) at a time. A write of
# pages 12600..12615, which span two words (12608 starts the second), is
# held with its claim (debugfs hold_writes): a write of 12608..12623, all
# in the second word, must wait for it (write_overlaps) and go only once
# it is let go. It is then the later of the two: 12608.. read back as it
# wrote them, 12600..12607 as the first did.
writes_held() { [ "$(dmesg | grep -c "fault injection: write of $1 held")" -gt "$2" ]; }
overlaps_above() { [ "$(rswap_stat write_overlaps)" -gt "$1" ]; }
held_write_claims() {
	local name=$1 ov0 a b bad=0 p held0
	head -c 65536 /dev/urandom > /tmp/hw.a
	head -c 65536 /dev/urandom > /tmp/hw.b
	held0=$(dmesg | grep -c "fault injection: write of 16 pages from page 12600 held")
	echo 1 > /sys/kernel/debug/rswap/hold_writes
	dd if=/tmp/hw.a of=/dev/rswap0 bs=64k seek=$((12600 * 4096)) count=1 \
		oflag=direct,seek_bytes 2>/dev/null &
	a=$!
	check "$name-first-held" wait_for 30 writes_held "16 pages from page 12600" "$held0"
	ov0=$(rswap_stat write_overlaps)
	dd if=/tmp/hw.b of=/dev/rswap0 bs=64k seek=$((12608 * 4096)) count=1 \
		oflag=direct,seek_bytes 2>/dev/null &
	b=$!
	check "$name-second-word-waits" wait_for 30 overlaps_above "$ov0"
	sleep 1
	check "$name-second-still-waiting" kill -0 "$b"
	echo 0 > /sys/kernel/debug/rswap/hold_writes
	check "$name-first-ends" wait "$a"
	check "$name-second-ends" wait "$b"
	check "$name-read-back" dd if=/dev/rswap0 of=/tmp/hw.back bs=4k skip=$((12600 * 4096)) \
		count=24 iflag=direct,skip_bytes
	for p in $(seq 0 7); do
		cmp -s -n 4096 /tmp/hw.back /tmp/hw.a $((p * 4096)) $((p * 4096)) || bad=$((bad + 1))
	done
	for p in $(seq 8 23); do
		cmp -s -n 4096 /tmp/hw.back /tmp/hw.b $((p * 4096)) $(((p - 8) * 4096)) ||
			bad=$((bad + 1))
	done
	check_eq "$name-pages-in-order" 0 "$bad"
}

# A batch posted in part (partial_posts: of the next post of several WRs
# only the first goes): the request whose chain went in part waits for the
# QP's drain, those none of whose WRs went wait for the server, and all go
# again when it is back: the 8 MiB read back, no error. Requests of 64 KiB,
# as above, so that a post carries several (4 of these 8-WR requests fill
# the small send queues here).
d0=$(disconnects)
max_kb=$(cat /sys/block/rswap0/queue/max_sectors_kb)
echo 64 > /sys/block/rswap0/queue/max_sectors_kb
echo 1 > /sys/kernel/debug/rswap/partial_posts
check partial-batch-write dd if=/tmp/alt8 of=/dev/rswap0 bs=4M seek=8 count=2 oflag=direct
echo "$max_kb" > /sys/block/rswap0/queue/max_sectors_kb
check_eq partial-batch-struck 0 "$(cat /sys/kernel/debug/rswap/partial_posts)"
check_gt partial-batch-failed-the-connection "$(disconnects)" "$d0"
check partial-batch-servers-back wait_for 30 servers_ready 2
check partial-batch-reads-back sh -c \
	'dd if=/dev/rswap0 bs=4M skip=8 count=2 iflag=direct 2>/dev/null | cmp - /tmp/alt8'
check_eq partial-batch-no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"

# A read plans without the device's lock, then checks that no writer
# came in meanwhile. relock_check KNOB NAME: 20 reads of /tmp/alt's MiB,
# each struck by debugfs KNOB, let go of their plan and their place in the
# I/O generation, plan again under the lock (reads_relocked), and their
# data are intact. Read ahead off: every read is on demand.
#   read_races  a writer comes in between the plan and the check
#   read_tears  the plan finds the slab table caught mid-change (-ESTALE,
#               as a torn read of an entry or a server would give)
relock_check() {
	local knob=$1 name=$2 relocked0
	relocked0=$(rswap_stat reads_relocked)
	echo 20 > "/sys/kernel/debug/rswap/$knob"
	dd if=/dev/rswap0 of=/tmp/back.r bs=4k count=256 iflag=direct 2>/dev/null
	check "$name-read-back" cmp -n 1048576 /tmp/alt /tmp/back.r
	check_eq "$name-every-strike-struck" 0 "$(cat "/sys/kernel/debug/rswap/$knob")"
	check_gt "$name-planned-again" "$(( $(rswap_stat reads_relocked) - relocked0 ))" 19
	check_eq "$name-no-errors" 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
}
echo 0 > /sys/module/rswap/parameters/prefetch
relock_check read_races raced-reads
relock_check read_tears torn-plans

# A page that comes back different from what was written (debugfs
# corrupt_reads flips one bit of each of the next N pages read, as a bad
# link or a server's bad memory would) is never handed out: its checksum
# says so, and it is read again. Read ahead off: every read is on demand.
echo 0 > /sys/module/rswap/parameters/prefetch
echo 3 > /sys/kernel/debug/rswap/corrupt_reads
dd if=/dev/rswap0 of=/tmp/back.c bs=128k count=8 iflag=direct 2>/dev/null
check corrupt-pages-read-again cmp /tmp/alt /tmp/back.c
check_eq every-corruption-struck 0 "$(cat /sys/kernel/debug/rswap/corrupt_reads)"
check_eq checksum-errors-counted 3 "$(rswap_stat checksum_errors)"
check_eq corrupt-pages-no-read-errors 0 "$(rswap_stat read_errors)"
check checksum-error-logged sh -c 'dmesg | grep -q "came back with a wrong checksum, reading again"'
# Wrong on every try: the read fails (EIO), it is not handed out wrong
# (page 2 of /tmp/alt is a random one: remote, so checked).
echo 100000 > /sys/kernel/debug/rswap/corrupt_reads
check always-corrupt-read-fails sh -c '! dd if=/dev/rswap0 of=/tmp/back.c bs=4k skip=2 count=1 \
	iflag=direct 2>/dev/null'
echo 0 > /sys/kernel/debug/rswap/corrupt_reads
check_eq always-corrupt-read-error-counted 1 "$(rswap_stat read_errors)"
check always-corrupt-logged sh -c 'dmesg | grep -q "had a wrong checksum on every try: failed"'
check read-after-corruption-stops dd if=/dev/rswap0 of=/tmp/back.c bs=4k skip=2 count=1 iflag=direct
echo 1 > /sys/module/rswap/parameters/prefetch
echo 0 > /sys/kernel/debug/rswap/corrupt_reads
overlapping_writes overlapping-writes 768 waits	# at 48 MiB
# Pages 12592..12671: a request crossing the word at 12608 (from 12600
# or 12604) meets those from 12608 in its second word only; the one from
# 12592 ends on it.
overlapping_writes overlapping-writes-across-words 784 waits '56 64 48 60'
held_write_claims held-write-claims
racing_reads racing-reads 0 met	# page 0 too: the swap header, kept here
# A page rewritten without pause cannot starve its reader (debugfs
# read_meets: the next N pages read on demand are handled as though a
# write had changed them under the read). A read that met writes 4 times
# (RSWAP_READS_MET_CLAIM) claims its pages as a write does, meets none
# after, and ends with its data: one page read met exactly 4. Read ahead
# off: every read is on demand. (The module before this read it again 64
# times, then counted it a checksum error.)
echo 0 > /sys/module/rswap/parameters/prefetch
ro0=$(rswap_stat read_overlaps) rc0=$(rswap_stat read_claims)
echo 1000 > /sys/kernel/debug/rswap/read_meets
dd if=/dev/rswap0 of=/tmp/back.m bs=4k skip=8200 count=1 iflag=direct 2>/dev/null
check starved-read-read-back cmp -n 4096 /tmp/back.m /tmp/alt8 0 32768
check_eq starved-read-met-4-then-claimed 4 "$(( $(rswap_stat read_overlaps) - ro0 ))"
check_eq starved-read-struck-4 996 "$(cat /sys/kernel/debug/rswap/read_meets)"
check_eq starved-read-claimed-once 1 "$(( $(rswap_stat read_claims) - rc0 ))"
# Every read then claims its pages, and the writers beside it wait for it
# (write_overlaps), or let it go first if it waits to claim: still every
# page whole and fresh (a write that went while a read held its claim
# would show as a checksum error), no error.
rc0=$(rswap_stat read_claims) wo0=$(rswap_stat write_overlaps)
echo 100000000 > /sys/kernel/debug/rswap/read_meets
racing_reads claiming-reads 64 met
echo 0 > /sys/kernel/debug/rswap/read_meets
echo "claiming-reads: $(( $(rswap_stat read_claims) - rc0 )) reads claimed their pages;" \
	"$(( $(rswap_stat write_overlaps) - wo0 )) writes waited"
check_gt claiming-reads-claimed "$(( $(rswap_stat read_claims) - rc0 ))" 0
echo 1 > /sys/module/rswap/parameters/prefetch
# The same while the connection fails under them (debugfs partial_posts,
# three times): a write whose WRITEs were flushed keeps its claim while it
# waits for its server, its pages' entries naming slots not written yet;
# a read of them waits for it, and gets a whole page, no error.
d0=$(disconnects) csum0=$(rswap_stat checksum_errors)
errs0=$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))
rswap-rwrace --dev /dev/rswap0 --offset 64 --pages 64 --seconds 8 > /tmp/rr.log 2>&1 &
rr_pid=$!
for k in 1 2 3; do
	sleep 2
	echo 1 > /sys/kernel/debug/rswap/partial_posts
done
wait "$rr_pid"
check_eq failing-racing-reads-whole-pages-no-errors 0 $?
tail -5 /tmp/rr.log
check_gt failing-racing-reads-failed-the-connection "$(disconnects)" "$d0"
echo 0 > /sys/kernel/debug/rswap/partial_posts
check failing-racing-reads-servers-back wait_for 30 servers_ready 2
check_eq failing-racing-reads-no-checksum-errors "$csum0" "$(rswap_stat checksum_errors)"
check_eq failing-racing-reads-no-io-errors "$errs0" \
	"$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
check small-queues-unloads rmmod rswap

# Reads beside writes that wait for a slot (debugfs grant_delay_ms: each
# grant takes 1 s). A write that ran out of slots part way has pointed
# some of its pages at new slots it has not written; it keeps its claim
# while it waits, and a read of those pages waits for it rather than fail
# their checksums (the module before this failed 10 of 13 sweeps with
# EIO). 48 MiB onto a fresh device, swept by reads meanwhile.
check load-for-slow-grants modprobe rswap replicas=1 size=128M key_file=/tmp/rswap-client.key \
	servers="$servers"
check slow-grants-ready wait_for 30 servers_ready 2
head -c 50331648 /dev/urandom > /tmp/d48
echo 1000 > /sys/kernel/debug/rswap/grant_delay_ms
dd if=/tmp/d48 of=/dev/rswap0 bs=128k oflag=direct 2>/dev/null &
writer=$! sweeps=0 failed=0
while kill -0 "$writer" 2>/dev/null; do
	dd if=/dev/rswap0 of=/dev/null bs=128k count=384 iflag=direct 2>/dev/null ||
		failed=$((failed + 1))
	sweeps=$((sweeps + 1))
done
wait "$writer"
check_eq slow-grants-written 0 $?
echo 0 > /sys/kernel/debug/rswap/grant_delay_ms
echo "slow grants: $sweeps sweeps; $(rswap_stat no_free_slot) writes waited for a slot;" \
	"$(rswap_stat read_overlaps) pages read again"
check_gt slow-grants-writes-waited "$(rswap_stat no_free_slot)" 0
check_eq slow-grants-every-sweep-read 0 "$failed"
check_eq slow-grants-no-checksum-errors 0 "$(rswap_stat checksum_errors)"
check_eq slow-grants-no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
check slow-grants-read-back sh -c \
	'dd if=/dev/rswap0 bs=128k count=384 iflag=direct 2>/dev/null | cmp - /tmp/d48'
rm -f /tmp/d48
check slow-grants-unloads rmmod rswap

# backend=ram, for benchmarking only: pages stay in this host's memory, no
# servers; the same map, zero and same-filled pages, checksums.
check bad-backend-refused sh -c "! modprobe rswap size=64M backend=disk 2>/dev/null &&
	dmesg | grep -q 'backend=disk: must be rdma or ram'"
check ram-with-servers-refused sh -c "! modprobe rswap size=64M backend=ram servers=$servers \
	2>/dev/null && dmesg | grep -q 'backend=ram takes no servers='"
check ram-loads-without-key-or-servers modprobe rswap size=256M backend=ram
check ram-says-benchmarking-only sh -c 'dmesg | grep -q "backend=ram: .*for benchmarking only"'
check ram-add-server-refused sh -c "! echo $(host_addr 1):7471 > /sys/block/rswap0/rswap/add_server"
# Before it is swap: once it was, each close drops its pages.
overlapping_writes ram-overlapping-writes 768	# at 48 MiB
held_write_claims ram-held-write-claims
racing_reads ram-racing-reads 0
check ram-swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'
in_cgroup rswap-swapfill --mib "$(shrink 96)" --zero-pct 30 --same-pct 10 --seed 9 --passes 2 \
	> /tmp/ram.log 2>&1
check_eq ram-workload-verified 0 $?
cat /tmp/ram.log
check_gt ram-pages-kept "$(rswap_stat remote_stores)" "$(shrink 8000)"
check_gt ram-zero-pages-in-the-map "$(( $(rswap_stat zero_stores) + $(rswap_stat same_stores) ))" 0
check_eq ram-no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
check ram-swapoff swapoff /dev/rswap0
check ram-unloads rmmod rswap
stop_rswap_servers
