# rswap.ko seen from outside, as an operator would: its tracepoints and
# rswap-client metrics. Four servers, replicas=2; every event of
# /sys/kernel/tracing/events/rswap/ is recorded (trace_pipe into a file)
# while the device lives through what fires each one, and each is checked
# in the record with its fields:
#   - connect and server_state (down -> ready) as server 4 is added;
#   - slab_grant (for=active) and req_submit/req_complete (writes) as a
#     paused process fills the pool;
#   - csum_error (read_again=1) and req_complete (reads, tries > 1) as the
#     process reads its pages back through three corrupted reads
#     (debugfs corrupt_reads), every page verified, and repair as each is
#     written again (read-repair);
#   - slab_move and slab_return as server 1 is drained;
#   - server_state (ready -> down -> lost), failed connects, and resync
#     (new copies made server to server) as server 4 is SIGKILLed for good;
#   - the free-slot reserve grows past its floor while grants are slowed
#     (debugfs grant_delay_ms), a workload verified meanwhile, and comes
#     back down to it once calm;
#   - a filter on req_complete keeps only what it names (README's
#     "why was this fault slow" one-liner is such a filter).
# Then rswap-client metrics (as installed) gives Prometheus text that
# promtool accepts, whose counters are sysfs's.
# vm-memory: 1536M
# vm-timeout: 600
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff promtool

. /usr/lib/rswap-vm/rswap-lib.sh

check workload-memory-high workload_memory_high
MEM=128M
# shellcheck disable=SC2034 # start_peer's (rswap-lib.sh)
RSWAP_PEERS=4
start_peers 4

tr=/sys/kernel/tracing
[ -e "$tr/trace_pipe" ] || mount -t tracefs tracefs "$tr"
events="rswap_req_submit rswap_req_complete rswap_csum_error rswap_repair rswap_slab_grant
	rswap_slab_return rswap_slab_move rswap_resync rswap_server_state rswap_connect"
# The events exist once the module is loaded: server 4 is added after
# they are on, so its connect is recorded.
check module-loads modprobe rswap size=512M key_file=/tmp/rswap-client.key replicas=2 \
	loss_timeout=$((10 * RSWAP_SLOW)) servers="$(server_addr 1),$(server_addr 2),$(server_addr 3)"
listed=0
for e in $events; do
	[ -e "$tr/events/rswap/$e/format" ] && listed=$((listed + 1))
done
check_eq every-event-in-tracefs 10 "$listed"
echo 4096 > "$tr/buffer_size_kb"
echo 1 > "$tr/events/rswap/enable"
cat "$tr/trace_pipe" > /tmp/trace.txt &
pipe_pid=$!
check server4-added sh -c "echo $(server_addr 4) > /sys/block/rswap0/rswap/add_server"
check servers-ready wait_for 30 servers_ready 4
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'

rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 71 --pause-file /tmp/go \
	--ready-file /tmp/filled > /tmp/paused.log 2>&1 &
paused_pid=$!
check paused-filled wait_for 300 test -e /tmp/filled
check_gt pages-in-the-pool "$(rswap_stat remote_pages)" "$(shrink 1000)"
# Three pages read on demand come back with a bit flipped, and are read again.
echo 0 > /sys/module/rswap/parameters/prefetch
echo 3 > /sys/kernel/debug/rswap/corrupt_reads
touch /tmp/go
wait "$paused_pid"
check_eq paused-process-verified 0 $?
echo 1 > /sys/module/rswap/parameters/prefetch
check_eq three-checksum-errors 3 "$(rswap_stat checksum_errors)"
check_eq no-read-errors 0 "$(rswap_stat read_errors)"
# Each is written again from its right bytes (read-repair), unless the
# process freed the page first.
check_gt pages-repaired "$(rswap_stat repaired_pages)" 0
check_eq repairs-accounted-for 3 "$(( $(rswap_stat repaired_pages) + $(rswap_stat repairs_dropped) ))"

# A workload that stays, with its pages in the pool, for what follows.
rm -f /tmp/go2 /tmp/filled2
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 72 --pause-file /tmp/go2 \
	--ready-file /tmp/filled2 > /tmp/paused2.log 2>&1 &
paused2_pid=$!
check paused2-filled wait_for 300 test -e /tmp/filled2
check drain-exit-0 ctl 1 drain
check_eq drained-server-holds-none 0 "$(server_pages 1)"

check server4-killed kill_rswap_server 4 KILL
check server4-declared-lost wait_for 120 server_lost 4
check redundancy-restored wait_for 180 not_degraded
check_gt copies-made "$(rswap_stat copies_made)" 0
touch /tmp/go2
wait "$paused2_pid"
check_eq paused2-process-verified 0 $?

# Every event, with the fields that say it is the one the step caused.
sleep 1
kill "$pipe_pid" 2>/dev/null
wait "$pipe_pid" 2>/dev/null
echo "trace: $(wc -l < /tmp/trace.txt) lines; one of each event:"
for e in $events; do
	grep -m 1 " $e: " /tmp/trace.txt
done
seen() {	# NAME EVENT PATTERN: a line of EVENT matching the extended regex PATTERN
	check "$1" grep -qE " $2: .*$3" /tmp/trace.txt
}
seen traced-connect rswap_connect "server=$(server_addr 4) attempt=[0-9]+ error=0 "
seen traced-ready rswap_server_state "server=$(server_addr 4) down -> ready"
seen traced-grant rswap_slab_grant "for=active set=-?[0-9]+ copy=[01] slab=[0-9]+ error=0 rtt_ns=[1-9]"
seen traced-write-submit rswap_req_submit "rswap0 write page=[1-9][0-9]* pages=[1-9]"
seen traced-write-complete rswap_req_complete "rswap0 write .* remote=[1-9][0-9]* .*error=0 latency_ns=[1-9]"
seen traced-read-complete rswap_req_complete "rswap0 read .* remote=[1-9][0-9]* .*error=0 latency_ns=[1-9]"
seen traced-read-retried rswap_req_complete "rswap0 read .* tries=[2-9][0-9]* error=0 "
seen traced-csum-error rswap_csum_error "rswap0 page=[1-9][0-9]* server=[0-9.]+:7471 read_again=1"
seen traced-repair rswap_repair "rswap0 page=[1-9][0-9]* error=0"
seen traced-move rswap_slab_move "from=$(server_addr 1) slab=[0-9]+ to=[0-9.:]+ slab=[0-9]+ pages=[1-9][0-9]* error=0"
seen traced-return rswap_slab_return "server=$(server_addr 1) slab=[0-9]+ error=0"
seen traced-down rswap_server_state "server=$(server_addr 4) ready -> down"
seen traced-lost rswap_server_state "server=$(server_addr 4) down -> lost"
seen traced-failed-connect rswap_connect "server=$(server_addr 4) attempt=[0-9]+ error=-[1-9][0-9]* next_try_ms=[1-9]"
seen traced-resync rswap_resync "from=[0-9.:]+ slab=[0-9]+ to=[0-9.:]+ slab=[0-9]+ pages=[0-9]+ error=0"
# The three struck pages, read on demand (read_again=1). A read ahead that
# mismatches is traced too (read_again=0: dropped, not counted, as when
# the slot it read was freed and written again meanwhile); only on-demand
# reads count, and none but the three may have come back wrong.
grep ' rswap_csum_error: ' /tmp/trace.txt
check_eq csum-errors-traced 3 "$(grep -c ' rswap_csum_error: .* read_again=1' /tmp/trace.txt)"
check_eq no-other-checksum-errors 3 "$(rswap_stat checksum_errors)"

# Grants slowed to 2 s each (debugfs grant_delay_ms, as a server slow to
# fdatasync would be): the reserve grows past its floor to cover what the
# writes take in a few refill rounds, and nothing is lost meanwhile; once
# calm it halves every 10 s back to the floor, though nothing writes.
pps=$(( $(rswap_stat slab_size) / 4096 ))
floor=$(( $(cat /sys/module/rswap/parameters/reserve_slabs) * pps ))
[ "$floor" -ge 4096 ] || floor=4096
reserve_is() { [ "$(rswap_stat reserve_slots)" = "$1" ]; }
# What came before may have doubled it (writes that waited): it comes down.
check reserve-at-its-floor wait_for 120 reserve_is "$floor"
echo 2000 > /sys/kernel/debug/rswap/grant_delay_ms
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 74 > /tmp/slowgrant.log 2>&1
check_eq slow-grant-workload-verified 0 $?
echo 0 > /sys/kernel/debug/rswap/grant_delay_ms
echo "reserve: floor $floor slots, now $(rswap_stat reserve_slots) (slabs of $pps pages)"
check_gt reserve-grew-with-slow-grants "$(rswap_stat reserve_slots)" "$floor"
check slow-grant-said sh -c "dmesg | grep -q 'fault injection: waiting 2000 ms before asking'"
check reserve-back-to-floor-when-calm wait_for 120 reserve_is "$floor"

# A filter keeps what it names only: reads that moved pages by RDMA.
echo 0 > "$tr/events/rswap/enable"
echo > "$tr/trace"
check filter-accepted sh -c "echo 'op == 0 && remote > 0' > $tr/events/rswap/rswap_req_complete/filter"
echo 1 > "$tr/events/rswap/rswap_req_complete/enable"
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 73 --passes 2 > /tmp/filtered.log 2>&1
check_eq filtered-workload-verified 0 $?
echo 0 > "$tr/events/rswap/rswap_req_complete/enable"
grep ' rswap_req_complete: ' "$tr/trace" > /tmp/filtered.txt
echo "filtered: $(wc -l < /tmp/filtered.txt) lines, e.g.:"
head -n 3 /tmp/filtered.txt
check_gt filter-kept-reads "$(wc -l < /tmp/filtered.txt)" 0
check_eq filter-kept-nothing-else 0 "$(grep -cv ' read .* remote=[1-9]' /tmp/filtered.txt)"
echo 0 > "$tr/events/rswap/rswap_req_complete/filter"

# rswap-client metrics, as installed, checked by promtool and against sysfs.
check deploy-files-written rswap-deploy-files /
rswap-client metrics > /tmp/metrics.prom 2> /tmp/metrics.err
check_eq metrics-exit-0 0 $?
check metrics-promtool-accepts promtool check metrics < /tmp/metrics.prom
cat /tmp/metrics.err
metric() { awk -v m="$1" '$1 == m { print $2 }' /tmp/metrics.prom; }
check_eq metrics-loaded 1 "$(metric rswap_loaded)"
check_eq metrics-checksum-errors "$(rswap_stat checksum_errors)" \
	"$(metric 'rswap_checksum_errors_pages_total{device="rswap0"}')"
check_eq metrics-reserve-slots "$(rswap_stat reserve_slots)" \
	"$(metric 'rswap_reserve_slots_pages{device="rswap0"}')"
check_eq metrics-copies-made "$(rswap_stat copies_made)" \
	"$(metric 'rswap_copies_made_total{device="rswap0"}')"
check_eq metrics-server-lost 0 \
	"$(metric "rswap_server_ready{device=\"rswap0\",server=\"$(server_addr 4)\"}")"
check_eq metrics-server-ready 1 \
	"$(metric "rswap_server_ready{device=\"rswap0\",server=\"$(server_addr 2)\"}")"
check_gt metrics-read-latency-count \
	"$(metric 'rswap_read_latency_seconds_count{device="rswap0"}')" 0

check swapoff swapoff /dev/rswap0
check module-unloads rmmod rswap
