# Benchmark (not a test): swap on rswap.ko against local RAM swap (brd) and
# the kernel's own NVMe over RDMA (nvmet-rdma exporting a brd namespace,
# nvme-rdma host), all over the same rxe0 in this guest.
#
# Per round, interleaved (the order of rswap and brd alternates):
#   - rswap-swapfill fills 192 MiB through a cgroup with memory.max=64M and
#     reads every page back, with 0% and 50% zero pages: fill time, swap-in
#     (verify) time, bad pages;
#   - fio 4 KiB random reads (psync, iodepth 1, O_DIRECT) on each device
#     after a 64 MiB sequential fill with random data: clat p50;
#   - ib_read_lat -s 4096 typical, polling and with -e (events): the raw
#     RDMA READ round trip.
# NVMe over RDMA runs last, after every rswap and brd round: under this load
# it has stalled for minutes, panicked the guest ("System is deadlocked on
# memory") and had the workload OOM-killed here, and the other figures must
# be out by then. Every run is
# bounded; a run that does not finish is recorded as stalled and its system
# is abandoned. Each figure is printed as soon as it is measured, then the
# medians (with their spread) and the ratios against the targets, between
# the markers that scripts/bench.sh shows.
# vm-memory: 2G
# vm-timeout: 1200
# vm-memory-max: 64M
# vm-modules: brd configfs nvmet nvmet_rdma nvme_rdma
# vm-bins: fio mkswap swapon swapoff

. /usr/lib/rswap-vm/rswap-lib.sh
. /usr/lib/rswap-vm/bench-lib.sh	# med, fig

rounds=3
mib=192			# the workload: 3x memory.max
zeros="0 50"		# percent of zero pages
dev_mib=384		# each swap device: the workload with room to spare
pool=192M		# each of the two servers: together the device's size
fio_mib=64		# the region fio fills, then reads at random
run_secs=300		# a swapfill run not done by then is stalled
fio_secs=90		# the same for one fio job
iters=2000		# ib_read_lat iterations
nqn=nqn.2024-01.io.rswap:bench
cfs=/sys/kernel/config/nvmet
res=/tmp/res		# one file per figure, a value per round
mkdir -p "$res"
memmax=$(( $(cat "$RSWAP_CGROUP/memory.max") / 1048576 ))M

say() { echo "$*"; }

# bounded SECS LOG CMD...: run CMD (output to LOG) for at most SECS
# seconds. Returns its exit status, or 124 if it was not done in time: it
# is then killed, with the workload cgroup, but a task stuck in the kernel
# may outlive that, so the caller abandons the device.
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
	kill -KILL $! 2>/dev/null
	echo 1 > "$RSWAP_CGROUP/cgroup.kill"
	touch /tmp/stuck
	return 124
}

# miss SYS CHECK WHY: a run gave no figure. A baseline that fails is not
# measured (skip); rswap or brd failing is a finding (fail).
miss() {
	if [ "$1" = nvme ]; then
		skip "$2" "$3"
	else
		fail "$2" "$3"
	fi
}

# note SYS TEXT: SYS is abandoned, for this reason (the first one given).
note() {
	dead "$1" && return
	echo "$2" > "$res/$1.note"
	miss "$1" "$1-abandoned" "$2"
}
dead() { [ -s "$res/$1.note" ]; }

# swaprun SYS DEV ROUND ZERO: one fill-and-verify with DEV as the only swap.
swaprun() {
	local sys=$1 dev=$2 r=$3 z=$4 log=/tmp/fill-$1-$3-$4.log rc f v bad why
	local what="round $r  $(printf '%-5s' "$sys") zero $(printf '%2s' "$z")%:"
	if ! mkswap "$dev" > /dev/null 2>&1 || ! swapon --discard=pages "$dev"; then
		say "$what FAILED: mkswap/swapon $dev"
		note "$sys" "failed: swapon $dev in round $r"
		return 1
	fi
	dmesg -c > /dev/null	# the kernel's word on this run only
	bounded $run_secs "$log" in_cgroup rswap-swapfill --mib $mib --zero-pct "$z" \
		--same-pct 0 --seed "$r"
	rc=$?
	if [ $rc = 124 ]; then
		say "$what STALLED: not done after ${run_secs}s (left swapped on)"
		tail -n 3 "$log"
		note "$sys" "stalled in round $r (zero $z%): no result after ${run_secs}s"
		return 124
	fi
	set -- $(sed -n 's/^swapfill: pass 1: .* filled in \([0-9.]*\) s, verified in \([0-9.]*\) s: \([0-9]*\) bad$/\1 \2 \3/p' "$log")
	f=$1 v=$2 bad=$3
	if [ -z "$bad" ]; then
		why="swapfill exited with status $rc and no result"
		if dmesg | grep -q 'Memory cgroup out of memory: Killed process.*rswap-swapfill'; then
			why="the memory cgroup's OOM killer killed swapfill ($(dmesg |
				sed -n 's/.*] file_writeback \([0-9]*\)$/\1/p' | tail -n 1 |
				awk '{ printf "%d MiB", $1 / 1048576 }') of the cgroup under writeback)"
		fi
		say "$what FAILED: $why"
		tail -n 3 "$log"
		miss "$sys" "$sys-z$z-r$r" "$why"
		echo "round $r zero $z%: $why" >> "$res/$sys.failed"
	elif [ "$bad" != 0 ]; then
		say "$what fill $f s  swap-in $v s  !!! $bad BAD PAGES !!!"
		grep 'differs' "$log"
		fail "$sys-z$z-r$r-pages-intact" "$bad pages came back wrong"
		echo "$bad" >> "$res/$sys.bad"
	else
		say "$what fill $f s  swap-in $v s  0 bad pages"
		echo "$f" >> "$res/$sys.z$z.fill"
		echo "$v" >> "$res/$sys.z$z.swapin"
	fi
	bounded 60 /tmp/swapoff.log swapoff "$dev"
	rc=$?
	if [ $rc != 0 ]; then
		say "$what swapoff $dev $([ $rc = 124 ] && echo STALLED || echo FAILED): $(tail -n 1 /tmp/swapoff.log)"
		note "$sys" "swapoff $dev stalled or failed in round $r"
		return 1
	fi
}

# fiorun SYS DEV ROUND: 4 KiB random-read latency on DEV (not swapped on),
# after filling the region it reads with random data.
fiorun() {
	local sys=$1 dev=$2 r=$3 what p50 p99
	what="round $r  $(printf '%-5s' "$sys") fio 4 KiB randread:"
	if ! bounded $fio_secs /tmp/fio-fill.log fio --name=fill --filename="$dev" \
		--rw=write --bs=1M --size=${fio_mib}M --direct=1 --ioengine=psync \
		--refill_buffers; then
		say "$what FAILED or STALLED: the fill: $(tail -n 1 /tmp/fio-fill.log)"
		note "$sys" "fio fill of $dev failed or stalled in round $r"
		return 1
	fi
	if ! bounded $fio_secs /tmp/fio-read.log fio --name=randread --filename="$dev" \
		--rw=randread --bs=4k --size=${fio_mib}M --direct=1 --iodepth=1 \
		--ioengine=psync --time_based --runtime=10 --output-format=terse; then
		say "$what FAILED or STALLED: $(tail -n 1 /tmp/fio-read.log)"
		note "$sys" "fio randread of $dev failed or stalled in round $r"
		return 1
	fi
	p50=$(grep '^3;' /tmp/fio-read.log | tr ';' '\n' | sed -n 's/^50.000000%=//p' | head -n 1)
	p99=$(grep '^3;' /tmp/fio-read.log | tr ';' '\n' | sed -n 's/^99.000000%=//p' | head -n 1)
	if [ -z "$p50" ]; then
		say "$what FAILED: no clat p50 in fio's output"
		cat /tmp/fio-read.log
		return 1
	fi
	say "$what clat p50 $p50 us  p99 $p99 us"
	echo "$p50" >> "$res/$sys.p50"
}

# rawlat ROUND: ib_read_lat -s 4096 typical, server and client in this
# guest, twice: busy-polling the CQ (-F alone, perftest's default) and
# waiting for completion events (-e). Under single-threaded TCG on 6.12 the
# polling client starves rxe's per-CPU work, which then runs only at the
# next scheduler tick (about 4 ms at HZ=250): that figure is an artefact,
# so the target is judged against the faster of the two.
rawlat() {
	local r=$1 mode opt s t
	for mode in poll event; do
		opt=
		[ $mode = event ] && opt=-e
		timeout 60 ib_read_lat -d rxe0 -s 4096 -n $iters -F $opt > /tmp/pt-server.txt 2>&1 &
		s=$!
		sleep 1
		t=$(timeout 60 ib_read_lat -d rxe0 -s 4096 -n $iters -F $opt "$RSWAP_ADDR" 2>&1 |
			awk '$1 == 4096 { print $5 }')
		wait $s
		if [ -n "$t" ]; then
			say "round $r  ib_read_lat -s 4096${opt:+ $opt}: typical $t us"
			echo "$t" >> "$res/raw.$mode"
		else
			say "round $r  ib_read_lat${opt:+ $opt} FAILED: $(tail -n 1 /tmp/pt-server.txt)"
		fi
	done
}

# ---- the systems: bring up, one round, take down ----

rswap_up() {
	start_pool 2 "$pool" &&
	modprobe rswap size=${dev_mib}M key_file=/tmp/rswap.key \
		servers="$(pool_servers 2)" &&
	wait_for 30 servers_ready 2
}

rswap_stats() {
	local k
	[ -e /sys/block/rswap0/rswap/stats ] || return 0
	say "rswap counters, totals over every rswap run (/sys/block/rswap0/rswap/stats):"
	for k in stores zero_stores same_stores remote_stores loads discarded_pages \
		bytes_sent bytes_received rdma_reads rdma_writes read_errors write_errors retries parked \
		no_free_slot slabs; do
		printf '  %-16s %s\n' "$k" "$(rswap_stat $k)"
	done
	say "rswap RDMA page-read latency (/sys/block/rswap0/rswap/read_latency_us):"
	awk '$2 > 0 { printf "  %-8s us %8s\n", $1, $2 }' /sys/block/rswap0/rswap/read_latency_us
	[ "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))" = 0 ] ||
		fail rswap-no-io-errors "read_errors $(rswap_stat read_errors), write_errors $(rswap_stat write_errors)"
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

# round SYS DEV R: the swap runs, then fio, unless the system is abandoned.
round() {
	local z
	for z in $zeros; do
		dead "$1" && return
		swaprun "$1" "$2" "$3" "$z" || return
	done
	dead "$1" || fiorun "$1" "$2" "$3"
}

# ---- the summary ----

# target WHAT NUM DEN OP LIMIT [SYS]: the ratio of two medians, judged.
target() {
	local what=$1 a b why=
	a=$(med "$2")
	b=$(med "$3")
	if [ -z "$a" ] || [ -z "$b" ]; then
		if [ -n "$6" ] && dead "$6"; then
			why=": $6 $(cat "$res/$6.note")"
		elif [ -n "$6" ] && [ -s "$res/$6.failed" ]; then
			why=": every $6 run failed (above)"
		fi
		printf '  %-40s %8s   target %s %sx: not measured%s\n' "$what" - "$4" "$5" "$why"
		return
	fi
	awk -v a="$a" -v b="$b" -v op="$4" -v lim="$5" -v what="$what" -v want=$rounds \
	    -v na="$(grep -c . "$2")" -v nb="$(grep -c . "$3")" 'BEGIN {
		if (b <= 0) { printf "  %-40s %8s   target %s %sx: not measured (a zero median)\n", what, "-", op, lim; exit }
		r = a / b; ok = (op == "<=") ? r <= lim : r >= lim
		printf "  %-40s %7.2fx   target %s %sx: %s", what, r, op, lim, ok ? "met" : "MISSED"
		if (na < want || nb < want) printf " (from %d and %d of %d rounds)", na, nb, want
		printf "\n" }'
}

swaprows() {	# the swap table rows of the systems named
	local sys z
	for z in $zeros; do
		for sys in "$@"; do
			printf '  %-5s %3s%%   %-36s %s\n' "$sys" "$z" \
				"$(fig "$res/$sys.z$z.fill")" "$(fig "$res/$sys.z$z.swapin")"
		done
	done
}

badpages() {	# and runs that gave no figure
	local sys
	for sys in "$@"; do
		[ -s "$res/$sys.failed" ] && sed "s/^/  $sys failed: /" "$res/$sys.failed"
		[ -s "$res/$sys.bad" ] &&
			say "  !!! $sys: BAD PAGES in $(grep -c . "$res/$sys.bad") run(s): $(tr '\n' ' ' < "$res/$sys.bad")!!!"
	done
	return 0
}

# ---- the run ----

t0=$(date +%s)
echo "==== rswap benchmark: swap on rswap vs brd vs NVMe over RDMA ($(uname -r), $rounds rounds) ===="
say "workload: rswap-swapfill --mib $mib --same-pct 0 in a cgroup with memory.max=$memmax, every page checked"

rswap_up || { note rswap "failed: the servers or the module did not come up"; tail -n 5 /tmp/server-*.log; }
brd_up || note brd "failed: modprobe brd rd_nr=2 rd_size=$((dev_mib * 1024))"

for r in $(seq $rounds); do
	rawlat "$r"
	if [ $((r % 2)) = 1 ]; then
		round rswap /dev/rswap0 "$r"
		round brd /dev/ram0 "$r"
	else
		round brd /dev/ram0 "$r"
		round rswap /dev/rswap0 "$r"
	fi
done
rswap_stats
[ -e /tmp/stuck ] || rswap_down
t1=$(date +%s)

say ""
say "swap: $mib MiB through memory.max=$memmax; seconds, median (lo..hi) of $rounds rounds"
say "  system zero  fill                                 swap-in (verify)"
swaprows rswap brd
badpages rswap brd
say "4 KiB random read (fio psync, iodepth 1, O_DIRECT), clat p50 in us; median (lo..hi)"
printf '  %-24s %s\n' "rswap /dev/rswap0" "$(fig "$res/rswap.p50" %7d)" \
	"brd /dev/ram0" "$(fig "$res/brd.p50" %7d)" \
	"ib_read_lat -s 4096" "$(fig "$res/raw.poll" %7.1f)   typical, polling the CQ" \
	"ib_read_lat -s 4096 -e" "$(fig "$res/raw.event" %7.1f)   typical, completion events"
# The raw round trip: the faster of the two ways of waiting for it.
raw=$res/raw.poll
pm=$(med "$res/raw.poll")
em=$(med "$res/raw.event")
if [ -z "$pm" ] || { [ -n "$em" ] && awk -v e="$em" -v p="$pm" 'BEGIN { exit !(e < p) }'; }; then
	raw=$res/raw.event
fi
say "targets (ratios of medians)"
for z in $zeros; do
	target "swap-in rswap / brd, $z% zero" "$res/rswap.z$z.swapin" "$res/brd.z$z.swapin" "<=" 1.5 rswap
	target "fill    rswap / brd, $z% zero" "$res/rswap.z$z.fill" "$res/brd.z$z.fill" "<=" 1.3 rswap
done
target "4 KiB read p50 rswap / ib_read_lat$([ "$raw" = "$res/raw.event" ] && echo ' -e')" \
	"$res/rswap.p50" "$raw" "<=" 1.3 rswap
say "rswap and brd took $((t1 - t0)) s"

# NVMe over RDMA, last: it may stall or take the guest down.
say ""
say "NVMe over RDMA: nvmet-rdma exporting /dev/ram1, nvme-rdma host, both on rxe0 ($RSWAP_ADDR:4420)"
if nvme_up; then
	for r in $(seq $rounds); do
		round nvme /dev/nvme0n1 "$r"
		dead nvme && break
	done
else
	say "NVMe over RDMA FAILED to come up: $(tail -n 2 /tmp/nvme-connect.log 2>/dev/null)"
	dmesg | grep -i nvme | tail -n 5
	note nvme "failed: setup (configfs, connect or no /dev/nvme0n1)"
fi
t2=$(date +%s)

say ""
say "swap: $mib MiB through memory.max=$memmax; seconds, median (lo..hi) of $rounds rounds"
say "  system zero  fill                                 swap-in (verify)"
swaprows rswap brd nvme
badpages rswap brd nvme
dead nvme && say "  nvme: $(cat "$res/nvme.note")"
say "4 KiB random read p50: nvme /dev/nvme0n1 $(fig "$res/nvme.p50" %d) us"
say "targets (ratios of medians)"
for z in $zeros; do
	target "swap-in nvme / rswap, $z% zero" "$res/nvme.z$z.swapin" "$res/rswap.z$z.swapin" ">=" 2.5 nvme
done
say "NVMe over RDMA took $((t2 - t1)) s; the whole benchmark $((t2 - t0)) s"
for sys in rswap brd nvme; do
	dead $sys || [ -s "$res/$sys.bad" ] || pass "$sys-every-page-intact"
done
echo "==== end ===="

if [ -e /tmp/stuck ]; then
	# A device stuck under swap cannot be torn down (removing rxe0 would
	# wait for it): stop here rather than wait for the time limit.
	sync
	poweroff -f
fi
dead nvme || nvme_down || say "NVMe teardown failed"
