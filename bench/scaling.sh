# Benchmark (not a test): how the request path scales with the CPUs that
# submit. fio 4 KiB random reads, then random writes (O_DIRECT, libaio,
# queue depth 8 per job, group reporting) with 1, 2 and 4 jobs, 4 being
# the guest's CPUs
# (scripts/bench.sh boots it with --tcg multi: one host thread per vCPU),
# on, in turn:
#   null_blk   the block layer alone (no memory): the guest's ceiling
#   brd        a RAM disk
#   rswap-ram  rswap.ko with backend=ram: the module without the wire
#   rswap      rswap.ko over rxe0 to two servers in the guest
# IOPS per job count (medians of the rounds, with their spread) and the
# scaling: IOPS with N jobs over IOPS with one, set against null_blk's.
# This host has 2 cores, so past 2 jobs the vCPUs share them: where
# null_blk stops scaling is the host's limit, not the device's. Ends with
# the module's map memory per swap page, and for a 64 GiB device, and how
# many rswap reads had to take the device's lock after all. Then, on
# rswap, fio random writes and reads submitted 16 at a time (qd 32) with
# the module's doorbell batching on and off in turns: IOPS, their ratio,
# and the WRs each doorbell (ib_post_send) carried. Last, where the CPU
# time of 4-job random writes went, on brd and on rswap backend=ram, and
# of 4-job random reads on rswap backend=ram (perf; bench-lib.sh's
# perf_split): the "lock" share is the CPUs taking spinlocks and spinning
# on them. rswap's writes take the device's lock (dev->lock), its reads do
# not: what that lock costs shows as the writes' lock share against the
# reads' and brd's. Between the markers scripts/bench.sh shows.
# vm-memory: 2G
# vm-cpus: 4
# vm-timeout: 1500
# vm-modules: brd null_blk
# vm-bins: fio perf

. /usr/lib/rswap-vm/rswap-lib.sh
. /usr/lib/rswap-vm/bench-lib.sh

rounds=3
jobs="1 2 4"
region=64		# MiB each job reads at random, filled first
secs=4			# each fio run
res=/tmp/res
mkdir -p "$res"

# run SYS DEV ROUND RW: one fio per job count; IOPS into $res/SYS-RW-jN.
# Writes take rswap's device lock (reads do not): the two side by side.
run() {
	local sys=$1 dev=$2 r=$3 rw=$4 n iops
	for n in $jobs; do
		if ! timeout 120 fio --name=scale --filename="$dev" --rw="$rw" --bs=4k \
			--size=${region}M --direct=1 --ioengine=libaio --iodepth=8 \
			--numjobs="$n" --group_reporting --time_based --runtime=$secs \
			--randrepeat=0 --output-format=terse > /tmp/fio.log 2>&1; then
			echo "round $r  $sys  $rw $n jobs: fio failed: $(tail -n 1 /tmp/fio.log)"
			continue
		fi
		# terse v3: read IOPS field 8, write IOPS field 49
		iops=$(grep '^3;' /tmp/fio.log | awk -F';' -v rw="$rw" \
			'{ print rw == "randread" ? $8 : $49; exit }')
		[ -n "$iops" ] || { echo "round $r  $sys  $rw $n jobs: no figure"; continue; }
		echo "$iops" >> "$res/$sys-$rw-j$n"
		echo "round $r  $sys  $rw $n jobs: $iops IOPS"
	done
}

# system SYS DEV: the rounds on DEV, which is up.
system() {
	local r
	fill_device "$2" "$region" || return 1
	for r in $(seq $rounds); do
		run "$1" "$2" "$r" randread
		run "$1" "$2" "$r" randwrite
	done
}

# profile NAME DEV RW: one 4-job fio RW on DEV under perf (perf_profile).
profile() {
	perf_profile "$1" fio --name=prof --filename="$2" --rw="$3" --bs=4k --size=${region}M \
		--direct=1 --ioengine=libaio --iodepth=8 --numjobs=4 --group_reporting \
		--time_based --runtime=$secs --randrepeat=0 ||
		echo "profile of $1 failed: $(tail -n 1 "/tmp/$1.log")"
}

echo "guest: $(nproc) CPUs"
rmmod null_blk 2>/dev/null
if modprobe null_blk nr_devices=1 queue_mode=2 submit_queues="$(nproc)" gb=1; then
	system null_blk /dev/nullb0
	rmmod null_blk
else
	echo "null_blk did not load"
fi
rmmod brd 2>/dev/null
if modprobe brd rd_nr=1 rd_size=$((region * 2 * 1024)); then
	system brd /dev/ram0
	profile brd-randwrite /dev/ram0 randwrite
	rmmod brd
else
	echo "brd did not load"
fi
if modprobe rswap backend=ram size=$((region * 2))M; then
	system rswap-ram /dev/rswap0
	profile ram-randwrite /dev/rswap0 randwrite
	profile ram-randread /dev/rswap0 randread
	check ram-unloads rmmod rswap
else
	fail rswap-ram-loads "modprobe rswap backend=ram failed"
fi
start_pool 2 "$((region * 2))M" &&
	modprobe rswap replicas=1 size=$((region * 2))M key_file=/tmp/rswap-client.key \
		servers="$(pool_servers 2)" &&
	wait_for 30 servers_ready 2
check_eq rswap-up 0 $?
# Doorbells: fio submits 16 requests at a time (one io_submit, one plug;
# it waits for 16 to complete first, else it submits each as one ends),
# so the block layer dispatches them together; rswap.ko's doorbell_batch on
# and off in turns, each round. IOPS into $res/dbB-RW, WRs per doorbell
# into $res/wpdB-RW (debugfs qps: posted, and doorbells, the last field).
qps=/sys/kernel/debug/rswap/rswap0/qps
doorbells() {
	local b rw r n w0 d0 iops
	for r in $(seq $rounds); do
		for b in 1 0; do
			echo $b > /sys/module/rswap/parameters/doorbell_batch
			for rw in randwrite randread; do
				w0=$(awk '{ n += $10 } END { print n + 0 }' $qps)
				d0=$(awk '{ n += $NF } END { print n + 0 }' $qps)
				if ! timeout 120 fio --name=db --filename=/dev/rswap0 --rw=$rw --bs=4k \
					--size=${region}M --direct=1 --ioengine=libaio --iodepth=32 \
					--iodepth_batch_submit=16 --iodepth_batch_complete_min=16 \
					--time_based --runtime=$secs --randrepeat=0 \
					--output-format=terse > /tmp/fio.log 2>&1; then
					echo "round $r  doorbell_batch=$b $rw: fio failed: $(tail -n 1 /tmp/fio.log)"
					continue
				fi
				# terse v3: read IOPS field 8, write IOPS field 49
				iops=$(grep '^3;' /tmp/fio.log | awk -F';' -v rw=$rw \
					'{ print rw == "randread" ? $8 : $49; exit }')
				n=$(awk -v w0="$w0" -v d0="$d0" '{ w += $10; d += $NF }
					END { if (d > d0) printf "%.2f\n", (w - w0) / (d - d0) }' $qps)
				[ -n "$iops" ] && echo "$iops" >> "$res/db$b-$rw"
				[ -n "$n" ] && echo "$n" >> "$res/wpd$b-$rw"
				echo "round $r  doorbell_batch=$b $rw: ${iops:--} IOPS, ${n:--} WRs per doorbell"
			done
		done
	done
	echo 1 > /sys/module/rswap/parameters/doorbell_batch
}

if [ -e /sys/block/rswap0 ]; then
	system rswap /dev/rswap0
	doorbells
	map_per_page=$(( $(rswap_stat map_bytes) / $(rswap_stat pages) ))
	relocked=$(rswap_stat reads_relocked) loads=$(rswap_stat loads)
	overlaps=$(rswap_stat write_overlaps) stores=$(rswap_stat stores)
	check_eq no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
	check rswap-unloads rmmod rswap
fi
stop_rswap_servers

# scaling SYS-RW N: the median IOPS with N jobs over that with one (med: bench-lib.sh).
scaling() {
	local a b
	a=$(med "$res/$1-j$2") b=$(med "$res/$1-j1")
	[ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", a / b }' ||
		echo "-"
}

echo "==== rswap benchmark: scaling ($(uname -r), $(nproc) CPUs, fio 4 KiB randread and randwrite, qd 8 per job, $rounds rounds, medians (lo..hi)) ===="
for rw in randread randwrite; do
	for s in null_blk brd rswap-ram rswap; do
		for n in $jobs; do
			printf '  %-9s %-10s %d jobs  %s IOPS' "$rw" "$s" "$n" \
				"$(fig "$res/$s-$rw-j$n" %9.0f)"
			[ "$n" = 1 ] || printf '   %s over 1 job (null_blk %s)' \
				"$(scaling "$s-$rw" "$n")" "$(scaling "null_blk-$rw" "$n")"
			echo
		done
	done
	for n in $jobs; do
		ratio "$rw $n jobs: rswap-ram / brd IOPS" "$res/rswap-ram-$rw-j$n" "$res/brd-$rw-j$n"
	done
	# null_blk is blk-mq as rswap is (brd is bio-based): the module's
	# own cost over the block layer's
	for n in $jobs; do
		ratio "$rw $n jobs: rswap-ram / null_blk IOPS" "$res/rswap-ram-$rw-j$n" "$res/null_blk-$rw-j$n"
	done
done
if [ -n "${map_per_page:-}" ]; then
	echo "  map: $map_per_page bytes per swap page (the device's map_bytes / pages): $((map_per_page * 16)) MiB for a 64 GiB device (16 Mi pages), $(awk -v b="$map_per_page" 'BEGIN { printf "%.2f", b * 100 / 4096 }')% of it"
else
	echo "  map: - (rswap did not come up)"
fi
for rw in randwrite randread; do
	echo "  doorbells, $rw qd 32, 16 a submit: batched $(fig "$res/db1-$rw" %7.0f) IOPS at $(fig "$res/wpd1-$rw" %5.2f) WRs a doorbell; one a request $(fig "$res/db0-$rw" %7.0f) IOPS at $(fig "$res/wpd0-$rw" %5.2f)"
	ratio "doorbells: $rw IOPS batched / one a request" "$res/db1-$rw" "$res/db0-$rw"
done
if [ -n "${relocked:-}" ] && [ "${loads:-0}" -gt 0 ]; then
	echo "  reads without the device lock: $relocked of $loads reads (one page each) planned again under it (a write or a slab-table change came in meanwhile)"
fi
if [ -n "${overlaps:-}" ]; then
	echo "  overlapping writes: $overlaps parks of a write for an earlier one of its pages still in flight, over $stores pages written (the jobs' random writes meet)"
fi
for p in brd-randwrite ram-randwrite ram-randread; do
	echo "  where the CPU time of 4-job $p went (perf, $(wc -l < "/tmp/$p.syms" 2>/dev/null || echo 0) symbols; ram: rswap backend=ram):"
	perf_split "$p"
done
echo "==== end ===="
