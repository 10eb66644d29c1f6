# Benchmark suite (not a test): swap on rswap.ko against what a user has
# already, all in this one guest run, over the same rxe0:
#   brd    local RAM swap: the speed limit of swapping to memory
#   zram   compressed RAM swap (lzo-rle)
#   nvme   the kernel's NVMe over RDMA: nvmet-rdma exporting a brd
#          namespace, nvme-rdma host
#   rswap-ram  rswap.ko with backend=ram: the pages in this guest's
#          memory, no servers: the module's own cost, against brd (run
#          after the rounds of the three above, as the module makes one
#          device at a time)
#   raw    perftest's ib_read_lat -s 4096, ib_write_bw -s 4096 and
#          ib_read_bw -s 131072 (the wire's bytes/s for swap-in)
# Workloads, per system and round (rswap, brd and zram interleaved, their
# order rotating each round; NVMe over RDMA after them, because under swap
# load it has stalled for minutes and panicked guests here):
#   swap   rswap-swapfill fills 192 MiB through memory.max=64M and reads
#          every page back, 0% and 50% zero pages: fill and swap-in time;
#          the first touch of every page during swap-in is timed (faults);
#          rswap once more with 0% zero pages and no swap readahead
#          (vm.page-cluster=0), as the kernel does for brd and zram, and
#          once with its own read ahead off (prefetch=0); for each rswap
#          run, the pages it read ahead and those handed out
#   fio    4 KiB random read and write, O_DIRECT, queue depth 1 (psync) and
#          32 (libaio), on the raw device: IOPS, clat p50/p99/p99.9
#   sort   GNU sort of a 5.4 MiB file in memory, its working set measured
#          without a limit, then run with memory.max at 50% and 25% of it:
#          slowdown against the unlimited run, output checked
# The rswap module's own per-read histogram (whole, post, wait) is taken
# around every swap run and the queue-depth-1 random reads. Every figure goes out as a line "@csv,..." (system,
# workload, metric, round, value) that scripts/bench.sh turns into the CSV,
# the table of ratios, the plot and the report; progress lines say which
# system, which workload and how far. A run that does not finish in time
# is recorded as stalled and its system is abandoned; a page that comes
# back wrong fails the run.
# vm-memory: 2G
# vm-timeout: 2100
# vm-memory-max: 64M
# vm-modules: brd zram configfs nvmet nvmet_rdma nvme_rdma
# vm-bins: fio mkswap swapon swapoff sort base64

. /usr/lib/rswap-vm/rswap-lib.sh
. /usr/lib/rswap-vm/bench-lib.sh	# now_s, perftest_pair

rounds=${RSWAP_BENCH_ROUNDS:-3}
mib=192			# the swap workload: 3x memory.max
zeros="0 50"		# percent of zero pages
dev_mib=384		# each swap device: the workload with room to spare
pool=192M		# each of the two servers: together the device's size
fio_mib=64		# the region fio fills, then reads and writes at random
fio_secs=4		# each fio job's run time
sort_mib=4		# random bytes behind the sort's input (5.4 MiB of base64)
sort_fracs="50 25"	# memory.max, percent of the sort's working set
sort_secs=120		# a sort not done by then is killed and reported
run_secs=300		# a run not done by then is stalled
iters=2000		# ib_read_lat iterations
nqn=nqn.2024-01.io.rswap:bench
cfs=/sys/kernel/config/nvmet
res=/tmp/res		# state: abandoned systems, bad pages
progcg=/sys/fs/cgroup/bench-prog
mkdir -p "$res"
memmax=$(( $(cat "$RSWAP_CGROUP/memory.max") / 1048576 ))M
page_cluster=$(cat /proc/sys/vm/page-cluster)
workload_memory_high	# as deployments do; for every system alike

# ---- reporting ----

t0=$(date +%s)
step=0
# Steps: per round the raw figures, the sort without a limit, and per
# system the swap runs, the sorts and the fio jobs.
per_sys=$(( $(echo $zeros | wc -w) + $(echo $sort_fracs | wc -w) + 4 ))
steps=$(( rounds * (4 + 5 * per_sys) ))	# and rswap without readahead, without prefetch

# progress TEXT: where the run is, and how long it has taken so far.
progress() {
	step=$((step + 1))
	local t=$(( $(date +%s) - t0 ))
	printf -- '-- %d/%d at %dm%02ds: %s\n' "$step" "$steps" $((t / 60)) $((t % 60)) "$*"
}
csv() { echo "@csv,$1,$2,$3,$4,$5"; }	# SYS WORKLOAD METRIC ROUND VALUE

# bounded SECS LOG CMD...: run CMD (output to LOG) for at most SECS
# seconds. Returns its exit status, or 124 if it was not done in time and
# was killed (with the workload cgroups), or 125 if it was not done and
# did not die either: a task stuck in the kernel, so the caller abandons
# the device.
bounded() {
	local secs=$1 log=$2 tries
	shift 2
	rm -f /tmp/bounded.rc
	( "$@" > "$log" 2>&1; echo $? > /tmp/bounded.rc ) &
	tries=$((secs * 5))
	while [ ! -s /tmp/bounded.rc ] && [ $tries -gt 0 ]; do
		sleep 0.2
		tries=$((tries - 1))
	done
	if [ -s /tmp/bounded.rc ]; then
		wait $!
		return "$(cat /tmp/bounded.rc)"
	fi
	local pid=$! kids
	kids=$(for f in /proc/[0-9]*/stat; do	# its children (the command)
		read -r p _ _ pp _ < "$f" 2>/dev/null && [ "$pp" = "$pid" ] && echo "$p"
	done)
	kill -KILL $pid $kids 2>/dev/null
	echo 1 > "$RSWAP_CGROUP/cgroup.kill"
	[ -d "$progcg" ] && echo 1 > "$progcg/cgroup.kill"
	wait $pid 2>/dev/null
	tries=50
	while alive $kids && [ $tries -gt 0 ]; do
		sleep 0.2
		tries=$((tries - 1))
	done
	alive $kids || return 124
	touch /tmp/stuck
	return 125
}
alive() {	# PID...: one of them runs still (not gone, not a zombie)
	local p
	for p; do
		[ -e "/proc/$p" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$p/stat" 2>/dev/null &&
			return 0
	done
	return 1
}

# note SYS TEXT: SYS is abandoned, for this reason (the first one given).
# A baseline that fails is not measured (skip); rswap failing is a finding.
note() {
	dead "$1" && return
	echo "$2" > "$res/$1.note"
	echo "@note,$1,$2"
	if mine "$1"; then
		fail "$1-abandoned" "$2"
	else
		skip "$1-abandoned" "$2"
	fi
}
dead() { [ -s "$res/$1.note" ]; }
# Is SYS rswap itself (its failures are findings), not a baseline?
mine() { [ "$1" = rswap ] || [ "$1" = rswap-ram ]; }

# ---- rswap's own read histogram ----

lat_file=/sys/block/rswap0/rswap/read_latency_us
lat_snap() { [ -r $lat_file ] && cp $lat_file "$1" || : > "$1"; }
# lat_diff BEFORE ROUND WORKLOAD: the reads since BEFORE, bucket by bucket.
lat_diff() {
	[ -s "$1" ] || return 0
	awk -v r="$2" -v w="$3" 'NR == FNR { a[FNR] = $2; p[FNR] = $3; q[FNR] = $4; next }
		{ printf "@csv,rswap,%s,module_read_%s,%d,%d\n", w, $1, r, $2 - a[FNR]
		  printf "@csv,rswap,%s,module_post_%s,%d,%d\n", w, $1, r, $3 - p[FNR]
		  printf "@csv,rswap,%s,module_wait_%s,%d,%d\n", w, $1, r, $4 - q[FNR] }' \
		"$1" $lat_file
}

# ---- the workloads ----

# swaprun SYS ROUND ZERO [TAG]: one fill-and-verify through the swap
# device on, recorded as workload swap-zZERO[TAG].
swaprun() {
	local sys=$1 r=$2 z=$3 w=swap-z$3${4:-} log=/tmp/fill-$1-$2-$3.log rc f v bad why
	progress "round $r/$rounds  $sys  swap: fill and swap-in $mib MiB, $z% zero pages${4:+ ($4)}"
	if [ "$sys" = rswap ]; then
		lat_snap /tmp/lat.before
		pf_read=$(rswap_stat prefetch_read_pages) pf_hit=$(rswap_stat prefetch_hit_pages)
		relocked=$(rswap_stat reads_relocked)
	fi
	dmesg -c > /dev/null	# the kernel's word on this run only
	bounded $run_secs "$log" in_cgroup rswap-swapfill --mib $mib --zero-pct "$z" \
		--same-pct 0 --seed "$r" --touch-hist
	rc=$?
	if [ $rc = 125 ]; then
		echo "  STALLED: not done after ${run_secs}s, and it cannot be killed"
		tail -n 3 "$log"
		note "$sys" "stalled in round $r ($w): no result after ${run_secs}s"
		return 125
	elif [ $rc = 124 ]; then
		echo "  not done after ${run_secs}s: killed"
		echo "@fail,$sys,$w,$r,not done after ${run_secs}s"
		return 0
	fi
	set -- $(sed -n 's/^swapfill: pass 1: .* filled in \([0-9.]*\) s, verified in \([0-9.]*\) s: \([0-9]*\) bad$/\1 \2 \3/p' "$log")
	f=$1 v=$2 bad=$3
	if [ -z "$bad" ]; then
		why="swapfill exited with status $rc and no result"
		dmesg | grep -q 'Memory cgroup out of memory: Killed process.*rswap-swapfill' &&
			why="the memory cgroup's OOM killer killed swapfill"
		echo "  FAILED: $why"
		tail -n 3 "$log"
		echo "@fail,$sys,$w,$r,$why"
		mine "$sys" && fail "$sys-$w-r$r" "$why"
		return 0
	fi
	if [ "$bad" != 0 ]; then
		echo "  !!! $bad BAD PAGES !!!"
		grep 'differs' "$log"
		fail "$sys-$w-r$r-pages-intact" "$bad pages came back wrong"
		echo "$bad" >> "$res/$sys.bad"
		echo "@fail,$sys,$w,$r,$bad pages came back wrong"
		return 0
	fi
	echo "  fill $f s  swap-in $v s  0 bad pages"
	csv "$sys" "$w" fill_s "$r" "$f"
	csv "$sys" "$w" swapin_s "$r" "$v"
	csv "$sys" "$w" major_faults "$r" \
		"$(sed -n 's/^swapfill: pass 1: \([0-9]*\) major faults.*/\1/p' "$log")"
	sed -n 's/^swapfill: touch \([<>=0-9]*\) us: \([0-9]*\)$/\1 \2/p' "$log" |
		while read -r b n; do csv "$sys" "$w" "touch_$b" "$r" "$n"; done
	if [ "$sys" = rswap ]; then
		lat_diff /tmp/lat.before "$r" "$w"
		csv rswap "$w" prefetch_read_pages "$r" $(( $(rswap_stat prefetch_read_pages) - pf_read ))
		csv rswap "$w" prefetch_hit_pages "$r" $(( $(rswap_stat prefetch_hit_pages) - pf_hit ))
		rl=$(rswap_stat reads_relocked)
		csv rswap "$w" reads_relocked "$r" $(( ${rl:-0} - ${relocked:-0} ))
	fi
	return 0
}

# sortrun SYS ROUND PCT: the sort with memory.max at PCT% of its working
# set (SYS none: no limit, which also measures the working set).
sortrun() {
	local sys=$1 r=$2 pct=$3 max=max t0s t1s rc sum secs ws
	if [ "$sys" = none ]; then
		progress "round $r/$rounds  sort without a memory limit"
	else
		max=$(( $(cat "$res/sort.ws") * pct / 100 ))
		progress "round $r/$rounds  $sys  sort: memory.max $pct% of its working set ($((max / 1048576)) MiB)"
	fi
	rmdir "$progcg" 2>/dev/null
	mkdir "$progcg" && echo "$max" > "$progcg/memory.max" || {
		echo "@fail,$sys,sort-$pct,$r,could not set up the cgroup"; return 0; }
	[ "$max" = max ] || echo $((max - max / 8)) > "$progcg/memory.high"
	t0s=$(now_s)
	bounded $sort_secs /tmp/sort.sum sh -c \
		'echo $$ > "$0/cgroup.procs" && sort -S 256M --parallel=1 /tmp/sort.in | sha256sum' \
		"$progcg"
	rc=$?
	t1s=$(now_s)
	ws=$(cat "$progcg/memory.peak" 2>/dev/null)
	rmdir "$progcg" 2>/dev/null
	if [ $rc = 125 ]; then
		echo "  STALLED: not done after ${sort_secs}s, and it cannot be killed"
		note "$sys" "stalled in round $r (sort at $pct%): no result after ${sort_secs}s"
		return 125
	elif [ $rc = 124 ]; then
		echo "  not done after ${sort_secs}s: killed"
		echo "@fail,$sys,sort-$pct,$r,not done after ${sort_secs}s"
		return 0
	fi
	sum=$(awk '{ print $1 }' /tmp/sort.sum)
	if [ $rc != 0 ] || [ "$sum" != "$(cat "$res/sort.sha")" ]; then
		echo "  FAILED: status $rc, output $sum (want $(cat "$res/sort.sha"))"
		fail "sort-$sys-$pct-r$r" "sort's output differs or it failed (status $rc)"
		echo "@fail,$sys,sort-$pct,$r,output differs or status $rc"
		return 0
	fi
	secs=$(awk -v a="$t0s" -v b="$t1s" 'BEGIN { printf "%.2f", b - a }')
	if [ "$sys" = none ]; then
		echo "  $secs s, working set $((ws / 1048576)) MiB"
		echo "$secs" > "$res/sort.free"
		csv none sort time_s "$r" "$secs"
		csv none sort ws_mib "$r" "$((ws / 1048576))"
	else
		echo "  $secs s: $(awk -v a="$secs" -v b="$(cat "$res/sort.free")" 'BEGIN { printf "%.2fx", a / b }') the unlimited run's"
		csv "$sys" "sort-$pct" time_s "$r" "$secs"
		csv "$sys" "sort-$pct" slowdown "$r" \
			"$(awk -v a="$secs" -v b="$(cat "$res/sort.free")" 'BEGIN { printf "%.3f", a / b }')"
	fi
}

# fio_fig DIR LOG: "IOPS p50 p99 p99.9" (us) of fio's terse output, its
# read (DIR read) or write section.
fio_fig() {
	grep '^3;' "$2" | awk -F';' -v dir="$1" '{
		s = dir == "read" ? 6 : 47
		for (i = s + 12; i <= s + 31; i++) {
			split($i, kv, "%=")
			if (kv[1] + 0 == 50) p50 = kv[2]
			if (kv[1] + 0 == 99) p99 = kv[2]
			if (kv[1] + 0 == 99.9) p999 = kv[2]
		}
		print $(s + 2), p50, p99, p999 }'
}

# fiorun SYS DEV ROUND: 4 KiB random reads and writes on DEV (not swapped
# on), after filling the region with random data.
fiorun() {
	local sys=$1 dev=$2 r=$3 rw qd eng dir figs
	if ! bounded $run_secs /tmp/fio-fill.log fio --name=fill --filename="$dev" \
		--rw=write --bs=1M --size=${fio_mib}M --direct=1 --ioengine=psync \
		--refill_buffers; then
		echo "  FAILED or STALLED: fio's fill of $dev: $(tail -n 1 /tmp/fio-fill.log)"
		note "$sys" "fio fill of $dev failed or stalled in round $r"
		return 1
	fi
	for rw in randread randwrite; do
		dir=${rw#rand}
		for qd in 1 32; do
			progress "round $r/$rounds  $sys  fio 4 KiB $rw, queue depth $qd"
			eng=psync
			[ $qd = 1 ] || eng=libaio
			[ "$sys" = rswap ] && lat_snap /tmp/lat.before
			if ! bounded $run_secs /tmp/fio.log fio --name="$rw" --filename="$dev" \
				--rw=$rw --bs=4k --size=${fio_mib}M --direct=1 --iodepth=$qd \
				--ioengine=$eng --time_based --runtime=$fio_secs \
				--randrepeat=0 --output-format=terse; then
				echo "  FAILED or STALLED: $(tail -n 1 /tmp/fio.log)"
				note "$sys" "fio $rw qd $qd on $dev failed or stalled in round $r"
				return 1
			fi
			figs=$(fio_fig $dir /tmp/fio.log)
			set -- $figs
			if [ -z "$2" ]; then
				echo "  FAILED: no figures in fio's output"
				cat /tmp/fio.log
				continue
			fi
			echo "  $1 IOPS  clat p50 $2 us  p99 $3 us  p99.9 $4 us"
			csv "$sys" "fio-$rw-qd$qd" iops "$r" "$1"
			csv "$sys" "fio-$rw-qd$qd" p50_us "$r" "$2"
			csv "$sys" "fio-$rw-qd$qd" p99_us "$r" "$3"
			csv "$sys" "fio-$rw-qd$qd" p999_us "$r" "$4"
			[ "$sys" = rswap ] && [ $rw = randread ] && [ $qd = 1 ] &&
				lat_diff /tmp/lat.before "$r" "fio-$rw-qd$qd"
		done
	done
}

# perftest ROUND: ib_read_lat -s 4096 twice, busy-polling the CQ (-F alone,
# perftest's default) and waiting for completion events (-e); under
# single-threaded TCG the polling client can starve rxe's work until the
# next tick, so the raw figure is the faster of the two. Then ib_write_bw
# -s 4096: the wire's bandwidth for pages.
perftest() {
	local r=$1 mode opt out
	progress "round $r/$rounds  raw RDMA: ib_read_lat -s 4096 (polling, events), ib_write_bw -s 4096, ib_read_bw -s 131072"
	for mode in poll event; do
		opt=
		[ $mode = event ] && opt=-e
		out=$(perftest_pair "$RSWAP_ADDR" ib_read_lat -s 4096 -n $iters -F $opt |
			awk '$1 == 4096 { print $5, $8, $9 }')
		set -- $out
		if [ -n "$1" ]; then
			echo "  ib_read_lat${opt:+ $opt}: typical $1 us  p99 $2 us  p99.9 $3 us"
			csv raw "read_lat_$mode" typical_us "$r" "$1"
			csv raw "read_lat_$mode" p99_us "$r" "$2"
			csv raw "read_lat_$mode" p999_us "$r" "$3"
		else
			echo "  ib_read_lat${opt:+ $opt} FAILED: $(tail -n 1 /tmp/pt-server.txt)"
		fi
	done
	out=$(perftest_pair "$RSWAP_ADDR" ib_write_bw -s 4096 -n 20000 -F |
		awk '$1 == 4096 { printf "%.0f\n", $5 * 1000000 }')	# Mpps: 4 KiB writes/s
	if [ -n "$out" ]; then
		echo "  ib_write_bw -s 4096: $out 4 KiB writes/s"
		csv raw write_bw iops "$r" "$out"
	else
		echo "  ib_write_bw FAILED: $(tail -n 1 /tmp/pt-server.txt)"
	fi
	# 128 KiB: the largest READ, as a swap-in and a read ahead send.
	out=$(perftest_pair "$RSWAP_ADDR" ib_read_bw -s 131072 -n 2000 -F |
		awk '$1 == 131072 { print $4 }')	# BW average, MB/s (MiB/s: perftest's 2^20)
	if [ -n "$out" ]; then
		echo "  ib_read_bw -s 131072: $out MiB/s"
		csv raw read_bw mib_s "$r" "$out"
	else
		echo "  ib_read_bw FAILED: $(tail -n 1 /tmp/pt-server.txt)"
	fi
}

# ---- the systems ----

rswap_up() {
	start_pool 2 "$pool" &&
	modprobe rswap replicas=1 size=${dev_mib}M key_file=/tmp/rswap-client.key \
		servers="$(pool_servers 2)" &&
	wait_for 30 servers_ready 2
}

rswap_down() {
	if grep -q '^rswap ' /proc/modules; then
		rmmod rswap || fail rswap-unload "rmmod rswap failed"
	fi
	stop_rswap_servers
	rm -f /dev/shm/pool-*	# give the pools' memory back before NVMe
}

brd_up() {
	rmmod brd 2>/dev/null	# loaded at boot with the defaults
	modprobe brd rd_nr=2 rd_size=$((dev_mib * 1024))
}

zram_up() {
	[ -e /sys/block/zram0 ] || modprobe zram num_devices=1 || return 1
	echo ${dev_mib}M > /sys/block/zram0/disksize
}

nvme_up() {
	local sub=$cfs/subsystems/$nqn port=$cfs/ports/1
	{ grep -q ' /sys/kernel/config ' /proc/mounts ||
		mount -t configfs configfs /sys/kernel/config; } &&
	mkdir "$sub" && echo 1 > "$sub/attr_allow_any_host" &&
	mkdir "$sub/namespaces/1" && echo /dev/ram1 > "$sub/namespaces/1/device_path" &&
	echo 1 > "$sub/namespaces/1/enable" &&
	mkdir "$port" && echo rdma > "$port/addr_trtype" && echo ipv4 > "$port/addr_adrfam" &&
	echo "$RSWAP_ADDR" > "$port/addr_traddr" && echo 4420 > "$port/addr_trsvcid" &&
	ln -s "$sub" "$port/subsystems/$nqn" || return 1
	bounded 60 /tmp/nvme-connect.log sh -c \
		"echo transport=rdma,traddr=$RSWAP_ADDR,trsvcid=4420,nqn=$nqn > /dev/nvme-fabrics" ||
		{ cat /tmp/nvme-connect.log; return 1; }
	wait_for 30 test -b /dev/nvme0n1
}

nvme_down() {
	local sub=$cfs/subsystems/$nqn port=$cfs/ports/1
	echo 1 > /sys/class/nvme/nvme0/delete_controller
	rm -f "$port/subsystems/$nqn" && rmdir "$port" &&
	echo 0 > "$sub/namespaces/1/enable" && rmdir "$sub/namespaces/1" && rmdir "$sub"
}

devof() {
	case $1 in
	rswap|rswap-ram) echo /dev/rswap0 ;; brd) echo /dev/ram0 ;;
	zram) echo /dev/zram0 ;; nvme) echo /dev/nvme0n1 ;;
	esac
}

# round SYS R: SYS as the only swap for the swap runs and the sorts, then
# fio on it, unless the system is abandoned. A skipped step still counts.
round() {
	local sys=$1 r=$2 dev z p rc
	dev=$(devof "$sys")
	if dead "$sys"; then
		step=$((step + per_sys))
		return
	fi
	if ! mkswap "$dev" > /dev/null 2>&1 || ! swapon --discard=pages "$dev"; then
		note "$sys" "failed: mkswap/swapon $dev in round $r"
		step=$((step + per_sys))
		return
	fi
	for z in $zeros; do
		swaprun "$sys" "$r" "$z" || { step=$((step + per_sys)); return; }
	done
	if [ "$sys" = rswap ]; then
		# Without swap readahead: a fault reads its own page only, as on
		# brd and zram (synchronous devices, which the kernel never reads
		# ahead on).
		echo 0 > /proc/sys/vm/page-cluster
		swaprun "$sys" "$r" 0 -pc0
		rc=$?
		echo "$page_cluster" > /proc/sys/vm/page-cluster
		[ $rc = 0 ] || { step=$((step + per_sys)); return; }
		# Without the module's own read ahead: what it is worth.
		echo 0 > /sys/module/rswap/parameters/prefetch
		swaprun "$sys" "$r" 0 -nopf
		rc=$?
		echo 1 > /sys/module/rswap/parameters/prefetch
		[ $rc = 0 ] || { step=$((step + per_sys)); return; }
	fi
	for p in $sort_fracs; do
		sortrun "$sys" "$r" "$p" || { step=$((step + per_sys)); return; }
	done
	bounded 60 /tmp/swapoff.log swapoff "$dev"
	rc=$?
	if [ $rc != 0 ]; then
		echo "  swapoff $dev $([ $rc = 124 ] && echo STALLED || echo FAILED): $(tail -n 1 /tmp/swapoff.log)"
		note "$sys" "swapoff $dev stalled or failed in round $r"
		return
	fi
	fiorun "$sys" "$dev" "$r"
}

# ---- the run ----

echo "==== rswap benchmark: rswap vs brd, zram and NVMe over RDMA ($(uname -r), $rounds rounds) ===="
echo "@meta,kernel,$(uname -r)"
echo "@meta,rounds,$rounds"
echo "@meta,swap_workload,rswap-swapfill --mib $mib through memory.max=$memmax"
echo "@meta,page_cluster,$(cat /proc/sys/vm/page-cluster)"
echo "@meta,cpus,$(nproc)"
echo "@meta,swap_mib,$mib"

rswap_up || { note rswap "failed: the servers or the module did not come up"; tail -n 5 /tmp/server-*.log; }
echo "@meta,prefetch_kib,$(cat /sys/module/rswap/parameters/prefetch_kib 2>/dev/null || echo -)"
brd_up || note brd "failed: modprobe brd rd_nr=2 rd_size=$((dev_mib * 1024))"
zram_up || note zram "failed: zram with disksize ${dev_mib}M"

# The sort's input, written outside any limited cgroup, and its answer.
head -c $((sort_mib * 1048576)) /dev/urandom | base64 -w 100 > /tmp/sort.in
sort -S 256M --parallel=1 /tmp/sort.in | sha256sum | awk '{ print $1 }' > "$res/sort.sha"
mkdir -p "$progcg" && echo max > "$progcg/memory.max" &&
	sh -c 'echo $$ > "$0/cgroup.procs" && exec sort -S 256M --parallel=1 /tmp/sort.in > /dev/null' "$progcg" &&
	cat "$progcg/memory.peak" > "$res/sort.ws"
rmdir "$progcg"
echo "@meta,sort_input,$(( $(wc -c < /tmp/sort.in) / 1048576 )) MiB of base64 lines, sort -S 256M --parallel=1"
echo "sort's working set: $(( $(cat "$res/sort.ws") / 1048576 )) MiB"

order="rswap brd zram"
for r in $(seq $rounds); do
	perftest "$r"
	sortrun none "$r" 100
	for sys in $order; do
		round "$sys" "$r"
	done
	order="${order#* } ${order%% *}"	# rotate: each goes first once
done
if [ -r /sys/block/rswap0/rswap/stats ]; then
	echo "rswap counters over every rswap run (/sys/block/rswap0/rswap/stats):"
	sed 's/^/  /' /sys/block/rswap0/rswap/stats
	[ "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))" = 0 ] ||
		fail rswap-no-io-errors "read_errors $(rswap_stat read_errors), write_errors $(rswap_stat write_errors)"
fi
[ -e /tmp/stuck ] || rswap_down
t1=$(date +%s)
echo "rswap, brd and zram took $((t1 - t0)) s"

# The module's own cost: backend=ram keeps the pages in this guest's
# memory (no servers, no RDMA), with the same map, checks and checksums.
echo "rswap with backend=ram (pages in this guest's memory, no servers): the module's own cost"
if [ -e /tmp/stuck ]; then
	note rswap-ram "not run: an earlier system is stuck"
elif modprobe rswap backend=ram size=${dev_mib}M; then
	for r in $(seq $rounds); do
		round rswap-ram "$r"
	done
	echo "rswap backend=ram counters (/sys/block/rswap0/rswap/stats):"
	sed 's/^/  /' /sys/block/rswap0/rswap/stats
	[ "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))" = 0 ] ||
		fail rswap-ram-no-io-errors "read_errors $(rswap_stat read_errors), write_errors $(rswap_stat write_errors)"
	[ -e /tmp/stuck ] || rmmod rswap || fail rswap-ram-unload "rmmod rswap failed"
else
	note rswap-ram "failed: modprobe rswap backend=ram size=${dev_mib}M"
fi

echo "NVMe over RDMA: nvmet-rdma exporting /dev/ram1, nvme-rdma host, both on rxe0 ($RSWAP_ADDR:4420)"
if [ -e /tmp/stuck ]; then
	note nvme "not run: an earlier system is stuck"
elif nvme_up; then
	for r in $(seq $rounds); do
		round nvme "$r"
	done
else
	echo "NVMe over RDMA FAILED to come up: $(tail -n 2 /tmp/nvme-connect.log 2>/dev/null)"
	dmesg | grep -i nvme | tail -n 5
	note nvme "failed: setup (configfs, connect or no /dev/nvme0n1)"
fi
echo "the whole benchmark took $(( $(date +%s) - t0 )) s"
for sys in rswap rswap-ram brd zram nvme; do
	dead $sys || [ -s "$res/$sys.bad" ] || pass "$sys-every-page-intact"
done
echo "==== end ===="

if [ -e /tmp/stuck ]; then
	# A device stuck under swap cannot be torn down (removing rxe0 would
	# wait for it): stop here rather than wait for the time limit.
	sync
	poweroff -f
fi
dead nvme || nvme_down || echo "NVMe teardown failed"
