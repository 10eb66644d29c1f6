# Benchmark (not a test): what the module's read ahead (rswap_prefetch.c)
# is worth. rswap-swapfill fills 192 MiB through memory.max=64M and reads
# every page back (0% zero pages, every page compared), on rswap.ko over
# rxe0 to two servers in this guest, four ways in each round, their order
# rotating: the module's read ahead on and off (prefetch=1/0), each with
# the kernel's swap readahead (vm.page-cluster as booted) and without it
# (page-cluster=0). Per way: swap-in time, the pages read ahead, handed
# out and dropped, and the pages the wire carried (bytes_received) per
# page the workload swapped in: above 1.00, pages read twice or never
# used. Medians of the rounds with their spread, and each way's swap-in
# time over the same page-cluster's prefetch=0. Between the markers
# scripts/bench.sh shows. About 8 minutes here.
# vm-memory: 2G
# vm-timeout: 1500
# vm-memory-max: 64M
# vm-bins: mkswap swapon swapoff

. /usr/lib/rswap-vm/rswap-lib.sh
. /usr/lib/rswap-vm/bench-lib.sh

rounds=${RSWAP_BENCH_ROUNDS:-4}
mib=192			# 3x memory.max
run_secs=300		# a run not done by then is reported and ends the benchmark
res=/tmp/res
mkdir -p "$res"
page_cluster=$(cat /proc/sys/vm/page-cluster)
workload_memory_high
ways="pf1-pc$page_cluster pf0-pc$page_cluster pf1-pc0 pf0-pc0"

# one WAY ROUND: one fill and swap-in; its figures into $res/WAY-*.
one() {
	local way=$1 r=$2 pf pc rd hit drop f v bad pages
	pf=${way#pf} pf=${pf%%-*} pc=${way#*-pc}
	echo "$pf" > /sys/module/rswap/parameters/prefetch
	echo "$pc" > /proc/sys/vm/page-cluster
	rd=$(rswap_stat prefetch_read_pages) hit=$(rswap_stat prefetch_hit_pages)
	drop=$(rswap_stat prefetch_dropped_pages)
	if ! in_cgroup timeout $run_secs rswap-swapfill --mib $mib --zero-pct 0 --same-pct 0 \
		--seed "$r" > /tmp/fill.log 2>&1; then
		echo "round $r  $way: swapfill failed or took over ${run_secs}s: $(tail -n 1 /tmp/fill.log)"
		fail "$way-r$r-swapfill" "$(tail -n 1 /tmp/fill.log)"
		return 1
	fi
	set -- $(sed -n 's/^swapfill: pass 1: .* filled in \([0-9.]*\) s, verified in \([0-9.]*\) s: \([0-9]*\) bad$/\1 \2 \3/p' /tmp/fill.log)
	f=$1 v=$2 bad=$3
	if [ "${bad:-none}" != 0 ]; then
		fail "$way-r$r-pages-intact" "${bad:-no result line, so an unknown number of} pages came back wrong"
		return 1
	fi
	rd=$(( $(rswap_stat prefetch_read_pages) - rd ))
	hit=$(( $(rswap_stat prefetch_hit_pages) - hit ))
	drop=$(( $(rswap_stat prefetch_dropped_pages) - drop ))
	pages=$((mib * 256))
	echo "$v" >> "$res/$way-swapin"
	echo "$rd" >> "$res/$way-read"
	echo "$hit" >> "$res/$way-hit"
	echo "$drop" >> "$res/$way-drop"
	echo "round $r  $way: fill $f s  swap-in $v s  read ahead $rd  handed out $hit  dropped $drop (of $pages pages)"
}

start_pool 2 192M &&
	modprobe rswap replicas=1 size=384M key_file=/tmp/rswap-client.key \
		servers="$(pool_servers 2)" &&
	wait_for 30 servers_ready 2
check_eq rswap-up 0 $? || exit 0
mkswap /dev/rswap0 > /dev/null && swapon --discard=pages /dev/rswap0
check_eq swapon 0 $? || exit 0

echo "==== rswap benchmark: prefetch ($(uname -r), $(nproc) CPUs, swap-in of $mib MiB through memory.max=64M, $rounds rounds, medians (lo..hi)) ===="
# Wire pages per page: bytes_received over the run (the fill reads
# nothing back) over the workload's pages.
set -- $ways
for r in $(seq "$rounds"); do
	# Rotate the order: way k goes ((k + r) mod 4)-th.
	order=
	for k in 0 1 2 3; do
		i=$(( (k + r) % 4 + 1 ))
		order="$order $(eval echo \"\${$i}\")"
	done
	for way in $order; do
		rx=$(rswap_stat bytes_received)
		one "$way" "$r" || break 2
		rx=$(( $(rswap_stat bytes_received) - rx ))
		awk -v b="$rx" -v p=$((mib * 256)) 'BEGIN { printf "%.3f\n", b / 4096 / p }' \
			>> "$res/$way-wire"
	done
done
echo "$page_cluster" > /proc/sys/vm/page-cluster
echo 1 > /sys/module/rswap/parameters/prefetch

for way in $ways; do
	echo "  $way  swap-in $(fig "$res/$way-swapin") s   wire pages per page $(fig "$res/$way-wire" %5.3f)"
	echo "          read ahead $(fig "$res/$way-read" %6.0f)  handed out $(fig "$res/$way-hit" %6.0f)  dropped $(fig "$res/$way-drop" %6.0f)"
done
ratio "swap-in prefetch=1 / 0, page-cluster $page_cluster" \
	"$res/pf1-pc$page_cluster-swapin" "$res/pf0-pc$page_cluster-swapin"
ratio "swap-in prefetch=1 / 0, page-cluster 0" "$res/pf1-pc0-swapin" "$res/pf0-pc0-swapin"
echo "  prefetch buffer: $(( $(rswap_stat prefetch_bytes) / 1024 )) KiB"
echo "==== end ===="
check_eq no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
swapoff /dev/rswap0
check rswap-unloads rmmod rswap
stop_rswap_servers
