# Benchmark (not a test): where the time of one 4 KiB read at queue depth 1
# goes. fio randread, O_DIRECT, psync, on null_blk (the block layer alone),
# rswap backend=ram (the module without the wire) and rswap over rxe0 (one
# server in the guest), each p50 against perftest's ib_read_lat over the
# same rxe device (polling, perftest's default, and -e, woken by a
# completion event as a sleeping read is); then the rxe run again under `perf record -a` (cpu-clock:
# there is no PMU under TCG), its samples split by whose code they are in:
#   rswap     rswap.ko (from /proc/kallsyms' [rswap])
#   rdma      rdma_rxe, ib_core, ib_uverbs, rdma_cm (the software NIC)
#   lock      taking spinlocks, and spinning while one is held elsewhere
#   idle      the CPUs waiting (native_safe_halt, default_idle, ...)
#   userspace fio and the server
#   net       the network stack rxe's packets go through (skb, IP, UDP,
#             the virtio NIC, CRC32)
#   kernel    the rest: block layer, scheduler, syscalls, interrupts
# and the rswap.ko and kernel functions with the most samples. ib_read_lat polls its
# completion queue from user space; a block read sleeps and is woken from
# the completion's softirq, so part of the gap is that wake-up, not rswap's
# code: the split says how much of the CPU time rswap.ko takes. Between the
# markers scripts/bench.sh shows.
# vm-memory: 1536M
# vm-timeout: 900
# vm-modules: null_blk
# vm-bins: fio perf

. /usr/lib/rswap-vm/rswap-lib.sh
. /usr/lib/rswap-vm/bench-lib.sh

rounds=3
region=64		# MiB read at random, filled first
secs=8			# each fio run
res=/tmp/res
mkdir -p "$res"

# p50 SYS DEV ROUND: fio's median completion latency (us) into $res/SYS.
p50() {
	local v
	if ! timeout 120 fio --name=qd1 --filename="$2" --rw=randread --bs=4k --size=${region}M \
		--direct=1 --ioengine=psync --time_based --runtime=$secs --randrepeat=0 \
		--output-format=json > /tmp/fio.json 2>/tmp/fio.err; then
		echo "round $3  $1: fio failed: $(tail -n 1 /tmp/fio.err)"
		return 1
	fi
	v=$(tr -d ' \n' < /tmp/fio.json | sed -n 's/.*"read":{.*"clat_ns":{[^}]*"percentile":{[^}]*"50.000000":\([0-9]*\).*/\1/p')
	[ -n "$v" ] || { echo "round $3  $1: no figure"; return 1; }
	awk -v n="$v" 'BEGIN { printf "%.1f\n", n / 1000 }' >> "$res/$1"
	echo "round $3  $1: p50 $(tail -n 1 "$res/$1") us"
}

system() {
	local r
	fill_device "$2" "$region" || return 1
	for r in $(seq $rounds); do
		p50 "$1" "$2" "$r"
	done
}

rmmod null_blk 2>/dev/null
if modprobe null_blk nr_devices=1 queue_mode=2 gb=1; then
	system null_blk /dev/nullb0
	rmmod null_blk
fi
if modprobe rswap backend=ram size=$((region * 2))M; then
	system rswap-ram /dev/rswap0
	check ram-unloads rmmod rswap
fi

start_pool 1 "$((region * 2))M" &&
	modprobe rswap replicas=1 size=$((region * 2))M key_file=/tmp/rswap-client.key \
		servers="$(pool_servers 1)" && wait_for 30 servers_ready 1
check_eq rswap-up 0 $?
# ib_read_lat over the same device, 4 KiB, typical (median) latency: as
# perftest runs by default, polling its completion queue, and with -e,
# sleeping until a completion event wakes it, as a block read does.
ib_lat() {
	local r mode opt v
	for r in $(seq $rounds); do
		for mode in poll event; do
			opt=
			[ $mode = event ] && opt=-e
			v=$(perftest_pair "$RSWAP_ADDR" ib_read_lat -s 4096 -n 2000 -F $opt |
				awk '$1 == 4096 { print $5; exit }')
			[ -n "$v" ] || { echo "round $r  ib_read_lat $mode: failed"; continue; }
			echo "$v" >> "$res/ib_read_lat_$mode"
			echo "round $r  ib_read_lat${opt:+ $opt}: typical $v us"
		done
	done
}
ib_lat
if [ -e /sys/block/rswap0 ]; then
	system rswap /dev/rswap0
	perf_profile rswap fio --name=prof --filename=/dev/rswap0 --rw=randread --bs=4k \
		--size=${region}M --direct=1 --ioengine=psync --time_based --runtime=$secs \
		--randrepeat=0
	check_eq profiled 0 $?
	check_eq no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
	check rswap-unloads rmmod rswap
fi
stop_rswap_servers

echo "==== rswap benchmark: profile ($(uname -r), fio 4 KiB randread, qd 1, psync, $rounds rounds, medians (lo..hi)) ===="
printf '  %-14s p50 %s us\n' null_blk "$(fig "$res/null_blk" %7.1f)"
printf '  %-14s p50 %s us\n' rswap-ram "$(fig "$res/rswap-ram" %7.1f)"
printf '  %-14s p50 %s us\n' rswap "$(fig "$res/rswap" %7.1f)"
printf '  %-14s p50 %s us\n' "ib_read_lat" "$(fig "$res/ib_read_lat_poll" %7.1f)"
printf '  %-14s p50 %s us\n' "ib_read_lat -e" "$(fig "$res/ib_read_lat_event" %7.1f)"
ratio "rswap / ib_read_lat (polling)" "$res/rswap" "$res/ib_read_lat_poll" "<=" 1.2
ratio "rswap / ib_read_lat -e (woken, as a read is)" "$res/rswap" "$res/ib_read_lat_event"
ratio "rswap-ram / null_blk" "$res/rswap-ram" "$res/null_blk"
echo "  where the CPU time of the rswap run went (perf, $(wc -l < /tmp/rswap.syms 2>/dev/null || echo 0) symbols):"
perf_split rswap
echo "==== end ===="
