# One node of the cluster benchmark (deploy/cluster/rswap-cluster): a
# memory server or a client, each in a QEMU guest of its own, all on one
# private Ethernet segment (10.100.0.0/24) with an rxe device each.
#
# Set on the kernel command line (the kernel hands unknown KEY=VALUE words
# to init's environment): RSWAP_ROLE (server|client), RSWAP_NODE (1..),
# RSWAP_ADDR (this node's address). From the image's conf:
#   RSWAP_CLUSTER_SERVERS   the servers' addresses, in order
#   RSWAP_CLUSTER_CLIENTS   the number of clients
#   RSWAP_CLUSTER_KEY       the pool's pre-shared key (hex)
#   RSWAP_CLUSTER_SIZE      small (one workload) or full
#   RSWAP_CLUSTER_SERVER_MEMORY  memory each server donates
#   RSWAP_CLUSTER_DRAIN     1: client 1 drains server 1 in the first workload
#   RSWAP_CLUSTER_REPLICAS  the clients' replicas= (copies of every slab)
#   RSWAP_CLUSTER_DIRECTORY etcd: the pool directory (server 1's guest
#                           runs etcd; servers register, clients follow
#                           it; the last server joins mid-run); static:
#                           servers= lists every server
#
# Output for the host (console, one line each):
#   -- TEXT                       progress
#   @ts,T,SERIES,NAME,VALUE       a sample at T seconds since the cluster
#                                 start: mem (server's held MiB), sent and
#                                 recv (client's RDMA bytes, cumulative),
#                                 swpin and swpout (pages, cumulative)
#   @lat,T,NAME,C1,...,Cn         the client's read latency histogram
#                                 (cumulative counts, read_latency_us rows)
#   @event,T,NAME,TEXT            a workload or a drain started or ended,
#                                 a server joined or left the directory
#   summary: TEXT                 the run's summary, for people
# vm-memory-max: 64M
# vm-bins: mkswap swapon swapoff sort base64 etcd etcdctl timeout

. /etc/rswap-vm.conf	# the cluster's settings (the init does not export them)
. /usr/lib/rswap-vm/rswap-lib.sh
. /usr/lib/rswap-vm/bench-lib.sh

port=7471
admin_port=7472
done_port=7999		# a client says "done" to each server here, and
			# client 1 "join" to the late server
# The pool directory (RSWAP_CLUSTER_DIRECTORY=etcd): one etcd member beside
# server 1; every server registers under /rswap/pools/cluster/servers/.
etcd_url=http://$(echo "$RSWAP_CLUSTER_SERVERS" | awk '{ print $1 }'):2379
prefix=/rswap/pools/cluster/servers/
export ETCDCTL_API=3
n_servers=$(echo "$RSWAP_CLUSTER_SERVERS" | wc -w)
# With the directory and two servers or more, the last one joins mid-run.
late=
[ "$RSWAP_CLUSTER_DIRECTORY" = etcd ] && [ "$n_servers" -ge 2 ] &&
	late=$(echo "$RSWAP_CLUSTER_SERVERS" | awk '{ print $NF }')
registered() { etcdctl --endpoints="$etcd_url" get --prefix "$prefix" --keys-only 2>/dev/null | grep -c .; }
# stop_by_sigterm NAME PID LOG: rswap-register or rswap-client watch
# stops with status 0 on SIGTERM; its log shown.
stop_by_sigterm() {
	kill -TERM "$2"
	wait "$2"
	check_eq "$1-stops-on-sigterm" 0 $?
	echo "$1 log:"
	cat "$3"
}
registered_at_least() { [ "$(registered)" -ge "$1" ]; }
in_device() { grep -q "^$1:$port ready " /sys/block/rswap0/rswap/servers; }
not_in_device() { ! grep -q "^$1:$port " /sys/block/rswap0/rswap/servers; }
pool_key=/tmp/pool.key
slab=2M

printf '%s' "$RSWAP_CLUSTER_KEY" > "$pool_key"
chmod 600 "$pool_key"
# The admin key (not the pool key): a client drains and rebalances another
# guest's server over TCP, which takes every call proved with it. Derived
# here from the pool key so that every node has the same one.
admin_key=/tmp/admin.key
printf 'rswap-cluster-admin %s' "$RSWAP_CLUSTER_KEY" | sha256sum | cut -c1-64 > "$admin_key"
chmod 600 "$admin_key"

admin_of() { echo "$1:$admin_port"; }
# rswapctl, proving its calls with the admin key where it goes over TCP.
ctl() { rswapctl --admin-key "$admin_key" "$@"; }

# held MiB of the server at ADDR (rswapctl's status: slabs_total - slabs_free)
server_held_mib() {
	ctl --server "$(admin_of "$1")" --json status 2>/dev/null | awk '
		{ if (match($0, /"slab_bytes":[0-9]+/)) b = substr($0, RSTART + 13, RLENGTH - 13)
		  if (match($0, /"slabs_total":[0-9]+/)) t = substr($0, RSTART + 14, RLENGTH - 14)
		  if (match($0, /"slabs_free":[0-9]+/)) f = substr($0, RSTART + 13, RLENGTH - 13) }
		END { if (t == "") exit 1; printf "%.1f\n", (t - f) * b / 1048576 }'
}

server_counter() {
	ctl --server "$(admin_of "$1")" --json stats 2>/dev/null |
		sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}

# ---- memory server ----

# etcd, one member, for the whole cluster (on server 1's guest).
run_etcd() {
	etcd --name pool --data-dir /tmp/etcd \
		--listen-client-urls "$etcd_url,http://127.0.0.1:2379" --advertise-client-urls "$etcd_url" \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster pool=http://127.0.0.1:2380 > /tmp/etcd.log 2>&1 &
	etcd_pid=$!
	if ! check etcd-up wait_for 60 etcdctl --endpoints="$etcd_url" endpoint health; then
		tail -n 20 /tmp/etcd.log
		return 1
	fi
	echo "-- server $RSWAP_NODE: etcd (the pool directory) up at $etcd_url"
}

# The late server: until client 1 says "join", on the port the clients
# say "done" on (a "done" meanwhile is counted: a client that failed, or
# client 1 never got that far; when all have said it, no join).
wait_for_join() {
	local line
	echo "-- server $RSWAP_NODE: waiting to join the pool (when client 1's workload runs)"
	while :; do
		line=$(nc -l -p "$done_port" < /dev/null | head -n 1)
		case "$line" in
		join) return 0 ;;
		done) left=$((left - 1)); [ "$left" -gt 0 ] || return 1 ;;
		esac
	done
}

run_server() {
	local a rc reg=
	left=$RSWAP_CLUSTER_CLIENTS
	if [ "$RSWAP_CLUSTER_DIRECTORY" = etcd ] && [ "$RSWAP_NODE" = 1 ]; then
		run_etcd || return 1
	fi
	if [ "$RSWAP_ADDR" = "$late" ] && ! wait_for_join; then
		fail late-server-joined "every client said done before client 1 said join"
		return 1
	fi
	# The same config file format as rswap-server@.service reads.
	{
		echo "listen = $RSWAP_ADDR:$port"
		echo "admin = $(admin_of "$RSWAP_ADDR")"
		echo "memory = $RSWAP_CLUSTER_SERVER_MEMORY"
		echo "slab-size = $slab"
		echo "backing = /dev/shm/pool"
		echo "key-file = $pool_key"
		echo "admin-key-file = $admin_key"
		for a in $RSWAP_CLUSTER_SERVERS; do
			[ "$a" = "$RSWAP_ADDR" ] || echo "peer = $(admin_of "$a")"
		done
	} > /tmp/server.conf
	check server-config-valid rswap-server --config /tmp/server.conf --check-config
	rswap-server --config /tmp/server.conf > /tmp/server.log 2>&1 &
	srv=$!
	if ! check server-listens wait_for 60 server_held_mib "$RSWAP_ADDR"; then
		cat /tmp/server.log
		return 1
	fi
	echo "-- server $RSWAP_NODE: up at $RSWAP_ADDR, donating $RSWAP_CLUSTER_SERVER_MEMORY"
	if [ "$RSWAP_CLUSTER_DIRECTORY" = etcd ]; then
		# As rswap-register@.service runs it: the key lives while the
		# server answers and is not draining.
		check deploy-files-written rswap-deploy-files / || return 1
		rswap-register --endpoints "$etcd_url" --pool cluster --listen "$RSWAP_ADDR:$port" \
			--domain "node$RSWAP_NODE" --admin "$(admin_of "$RSWAP_ADDR")" --ttl 10 \
			> /tmp/register.log 2>&1 &
		reg=$!
		if check registered-in-the-directory wait_for 60 grep -q '^rswap-register: registered:' \
			/tmp/register.log; then
			echo "-- server $RSWAP_NODE: registered in the directory"
		else
			cat /tmp/register.log
		fi
	fi
	# Until every client said it is done (the host's time limit bounds this).
	while [ "$left" -gt 0 ]; do
		if nc -l -p "$done_port" < /dev/null | grep -q '^done'; then
			left=$((left - 1))
		fi
		kill -0 "$srv" 2>/dev/null || break
	done
	check_eq server-stayed-up 0 "$(kill -0 "$srv" 2>/dev/null; echo $?)"
	echo "server $RSWAP_NODE counters:"
	ctl --server "$(admin_of "$RSWAP_ADDR")" stats | sed -n '/^counters/,$p'
	# How long each copy it sent took, connect to answer (rswapctl metrics).
	ctl --server "$(admin_of "$RSWAP_ADDR")" metrics | grep '^rswap_migration_seconds'
	# Packets the segment lost show as retransmissions of its rxe device.
	echo "rxe0 counters: $(cd /sys/class/infiniband/rxe0/ports/1/hw_counters 2>/dev/null &&
		grep -H . ./* 2>/dev/null | sed 's|^\./||' | tr '\n' ' ')"
	check_eq server-holds-nothing-at-the-end 0 "$(server_held_mib "$RSWAP_ADDR" | cut -d. -f1)"
	[ -z "$reg" ] || stop_by_sigterm register "$reg" /tmp/register.log
	kill -TERM "$srv"
	wait "$srv"
	rc=$?
	check_eq server-stops-cleanly 0 "$rc"
	[ "$rc" = 0 ] || cat /tmp/server.log
	if [ -n "${etcd_pid:-}" ]; then
		# The other servers' registrations (the last ones stop now too).
		sleep 5
		kill -TERM "$etcd_pid"
		wait "$etcd_pid" 2>/dev/null	# 143: its SIGTERM
		echo "-- server $RSWAP_NODE: etcd stopped"
	fi
}

# ---- client ----

vmstat_of() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }
t0=
since() { awk -v a="$(now_s)" -v b="$t0" 'BEGIN { printf "%.2f", a - b }'; }
event() { echo "@event,$(since),client$RSWAP_NODE,$*"; }

# One sample a second until /tmp/sampler.stop exists. Client 1 also samples
# every server's memory: one clock for the whole timeline.
sampler() {
	local t i a m
	while [ ! -e /tmp/sampler.stop ]; do
		t=$(since)
		if [ "$RSWAP_NODE" = 1 ]; then
			i=0
			for a in $RSWAP_CLUSTER_SERVERS; do
				i=$((i + 1))
				# (the late server has nothing to say until it joins)
				m=$(server_held_mib "$a") && echo "@ts,$t,mem,server$i,$m"
			done
		fi
		echo "@ts,$t,sent,client$RSWAP_NODE,$(rswap_stat bytes_sent)"
		echo "@ts,$t,recv,client$RSWAP_NODE,$(rswap_stat bytes_received)"
		echo "@ts,$t,swpout,client$RSWAP_NODE,$(vmstat_of pswpout)"
		echo "@ts,$t,swpin,client$RSWAP_NODE,$(vmstat_of pswpin)"
		echo "@lat,$t,client$RSWAP_NODE,$(awk '{ printf "%s%s", (NR > 1 ? "," : ""), $2 }' \
			/sys/block/rswap0/rswap/read_latency_us)"
		sleep 1
	done
}

# FIELD (pages, grants, ...) of the module's servers line for the server at ADDR.
module_field_on() { module_server_field "$2:$port" "$1"; }

# Slabs the module was granted by every server but the one at ADDR.
module_grants_elsewhere() {
	local a sum=0
	for a in $RSWAP_CLUSTER_SERVERS; do
		[ "$a" = "$1" ] || sum=$((sum + $(module_field_on grants "$a")))
	done
	echo "$sum"
}

# Drain server 1 once the module keeps PAGES pages there, while the
# workload runs; then undrain it: the next slabs the module needs must come
# from it, and a rebalance must move slabs onto it. Output in
# /tmp/drain.log, statuses in /tmp/{drain,undrain,extra,rebalance}.rc, the
# first grants the module took after the undrain, from server 1 and from
# the others, in /tmp/regranted (two numbers), and /tmp/refilled once
# server 1 holds memory after the rebalance.
drain_mid_run() {
	local s1 tries=600 g1 go d1 dx i xp rc=0
	s1=$(echo "$RSWAP_CLUSTER_SERVERS" | awk '{ print $1 }')
	while [ "$(module_field_on pages "$s1")" -lt "$1" ] 2>/dev/null; do
		tries=$((tries - 1))
		[ $tries -gt 0 ] || { echo "never reached $1 pages on server 1" > /tmp/drain.log;
			echo 99 > /tmp/drain.rc; return; }
		sleep 0.2
	done
	# The pages need somewhere to go: the late server, once it joined.
	if [ -n "$late" ] && ! wait_for 300 in_device "$late"; then
		echo "the late server $late never joined" > /tmp/drain.log
		echo 98 > /tmp/drain.rc
		return
	fi
	echo "-- draining server 1 ($s1) with $(module_field_on pages "$s1") pages of ours on it"
	event "drain-start,server1"
	ctl --server "$(admin_of "$s1")" drain > /tmp/drain.log 2>&1
	echo $? > /tmp/drain.rc
	event "drain-end,server1"
	echo "-- drain: $(tail -n 1 /tmp/drain.log)"
	server_held_mib "$s1" > /tmp/drained.mib
	# Draining, server 1 left the directory: the watcher drops it from
	# the device now that it holds nothing of ours.
	if [ "$RSWAP_CLUSTER_DIRECTORY" = etcd ]; then
		wait_for 60 not_in_device "$s1"
		echo $? > /tmp/left.rc
		event "left,server1"
		wait_for 10 grep -q "$s1:$port left" /tmp/watch.log
		echo "-- server 1 left the device: $(grep "$s1:$port left" /tmp/watch.log)"
	fi
	ctl --server "$(admin_of "$s1")" undrain > /tmp/undrain.log 2>&1
	echo $? > /tmp/undrain.rc
	event "undrain,server1"
	# Undrained, it registers again, and the watcher takes it back.
	if [ "$RSWAP_CLUSTER_DIRECTORY" = etcd ]; then
		wait_for 60 in_device "$s1"
		echo $? > /tmp/rejoined.rc
		event "joined,server1"
		echo "-- server 1 is back in the device"
	fi
	# Clients ask a server that refused them again after 10 s
	# (RSWAP_REFUSAL_RETRY_SECS in the module); from then on the slabs the
	# module needs come from the server with the most room, server 1,
	# until it holds as much as the others. Whether a workload needs a slab
	# is chance: pages read back stay in the swap cache with their slots,
	# dropping them again costs no slot, and a small workload's pages may
	# all stay resident. So second workloads larger than the cgroup's
	# memory.high (96 MiB: at least 40 MiB of their own pages go out) run,
	# at most 3, every page compared, until the module is granted a slab;
	# the first grants it gets must all be server 1's.
	sleep 12
	g1=$(module_field_on grants "$s1")
	go=$(module_grants_elsewhere "$s1")
	: > /tmp/extra.log
	rm -f /tmp/regranted
	for i in 1 2 3; do
		echo "-- second workload $i, 96 MiB: the module's next slabs must come from server 1"
		event "start,extra-$i"
		in_cgroup rswap-swapfill --mib 96 --zero-pct 0 --same-pct 0 --seed $((98 + i)) \
			>> /tmp/extra.log 2>&1 &
		xp=$!
		while [ ! -e /tmp/regranted ] && kill -0 "$xp" 2>/dev/null; do
			d1=$(($(module_field_on grants "$s1") - g1))
			dx=$(($(module_grants_elsewhere "$s1") - go))
			[ $((d1 + dx)) = 0 ] || echo "$d1 $dx" > /tmp/regranted
			sleep 0.2
		done
		wait "$xp" || rc=$?
		event "end,extra-$i"
		[ ! -e /tmp/regranted ] || break
	done
	echo "$rc" > /tmp/extra.rc
	[ -e /tmp/regranted ] || echo "0 0" > /tmp/regranted
	echo "-- after the undrain, the module's first grants: $(cut -d' ' -f1 /tmp/regranted)" \
		"from server 1, $(cut -d' ' -f2 /tmp/regranted) from the others"
	echo "-- rebalancing onto server 1"
	event "rebalance-start,server1"
	ctl --server "$(admin_of "$s1")" rebalance > /tmp/rebalance.log 2>&1
	echo $? > /tmp/rebalance.rc
	event "rebalance-end,server1"
	wait_for 60 server_holds_some "$s1" &&
		touch /tmp/refilled
	echo "-- server 1 holds $(server_held_mib "$s1") MiB again"
}

# swapfill NAME ARGS...: one workload, every page compared; its log in
# /tmp/NAME.log, a check NAME-verified.
swapfill() {
	local name=$1 rc
	shift
	echo "-- client $RSWAP_NODE: $name: rswap-swapfill $*"
	event "start,$name"
	in_cgroup rswap-swapfill "$@" > "/tmp/$name.log" 2>&1
	rc=$?
	event "end,$name"
	cat "/tmp/$name.log"
	check_eq "$name-every-page-verified" 0 "$rc"
	sed -n "s/^swapfill: /summary: client $RSWAP_NODE $name: /p" "/tmp/$name.log"
}

# The benchmark suite's sort (bench/swap.sh), at half its working set.
sort_half() {
	local peak rc
	head -c 4194304 /dev/urandom | base64 > /tmp/sort.in
	sort -S 256M --parallel=1 /tmp/sort.in > /tmp/sort.want
	echo "-- client $RSWAP_NODE: sort: 5.4 MiB of lines, memory.max at half its peak"
	mkdir -p /sys/fs/cgroup/sort
	sh -c 'echo $$ > /sys/fs/cgroup/sort/cgroup.procs; exec sort -S 256M --parallel=1 /tmp/sort.in' \
		> /dev/null
	peak=$(cat /sys/fs/cgroup/sort/memory.peak 2>/dev/null || echo 0)
	[ "$peak" -gt 0 ] || { skip sort-output-intact "no memory.peak in this kernel's cgroup"; return; }
	echo $((peak / 2)) > /sys/fs/cgroup/sort/memory.max
	event "start,sort"
	sh -c 'echo $$ > /sys/fs/cgroup/sort/cgroup.procs; exec sort -S 256M --parallel=1 /tmp/sort.in' \
		> /tmp/sort.got
	rc=$?
	event "end,sort"
	check_eq sort-exits-0 0 "$rc"
	check sort-output-intact cmp -s /tmp/sort.want /tmp/sort.got
	rm -f /tmp/sort.in /tmp/sort.want /tmp/sort.got
}

run_client() {
	local servers= a n=0 s drainer=0 mib
	for a in $RSWAP_CLUSTER_SERVERS; do
		servers="$servers${servers:+,}$a:$port"
		n=$((n + 1))
	done
	workload_memory_high
	for a in $RSWAP_CLUSTER_SERVERS; do
		[ "$a" != "$late" ] || continue
		check "server-$a-reachable" wait_for 120 server_held_mib "$a" || return 1
	done
	# As installed: module options in modprobe.d, rswap-client brings the
	# swap up (load, wait for every server, mkswap, swapon).
	check deploy-files-written rswap-deploy-files /
	# The client holds only its own key, made from the pool key for the id
	# rswap-client gives the module (an operator runs this on an admin host
	# and copies the file over).
	check client-key-made rswapctl client-key --pool-key "$pool_key" \
		--client-id "$(rswap-client id)" --out /etc/rswap/client.key --force || return 1
	if [ "$RSWAP_CLUSTER_DIRECTORY" = etcd ]; then
		# No servers= at all: rswap-client takes them from the directory.
		[ -z "$late" ] || n=$((n - 1))
		servers=
		check servers-registered wait_for 120 registered_at_least "$n" || return 1
		printf 'etcd_endpoints = %s\npool = cluster\n' "$etcd_url" >> /etc/rswap/client.conf
	fi
	echo "options rswap size=1G${servers:+ servers=$servers} replicas=${RSWAP_CLUSTER_REPLICAS:-1} key_file=/etc/rswap/client.key" \
		> /etc/modprobe.d/rswap.conf
	check rswap-client-start rswap-client start || return 1
	# A client that starts after the late server joined has it already.
	late_at_start=
	[ -n "$late" ] && in_device "$late" && late_at_start=1 && n=$((n + 1))
	check servers-ready servers_ready "$n"
	check swapping-on-rswap grep -q '^/dev/rswap0 ' /proc/swaps
	if [ "$RSWAP_CLUSTER_DIRECTORY" = etcd ]; then
		rswap-client watch > /tmp/watch.log 2>&1 &
		watch_pid=$!
		# The report's mark for the late server's join, when it comes.
		[ -z "$late" ] || [ -n "$late_at_start" ] ||
			(wait_for 600 in_device "$late" && event "joined,server$n_servers") &
		echo "-- client $RSWAP_NODE: following the pool directory; servers: $(cut -d' ' -f1 /sys/block/rswap0/rswap/servers | tr '\n' ' ')"
	fi

	t0=$(now_s)
	rm -f /tmp/sampler.stop
	sampler &
	sampler_pid=$!
	[ "$RSWAP_NODE" = 1 ] && [ "$RSWAP_CLUSTER_DRAIN" = 1 ] && drainer=1

	mib=128
	[ "$RSWAP_CLUSTER_SIZE" = full ] && mib=192
	if [ $drainer = 1 ]; then
		drain_mid_run 4096 &
		drain_pid=$!
	fi
	if [ -n "$late" ] && [ "$RSWAP_NODE" = 1 ]; then
		(sleep 3; wait_for 60 say_to "$late" join ||
			echo "-- could not tell $late to join") &
	fi
	swapfill "swap-${mib}m" --mib "$mib" --zero-pct 30 --same-pct 10 --passes 2 \
		--seed "$RSWAP_NODE"
	if [ -n "$late" ]; then
		# Every client takes the late server, from the directory alone.
		check late-server-joined wait_for 300 in_device "$late"
		if [ -z "$late_at_start" ]; then
			check late-server-join-said grep -q \
				"rswap0: $late:$port joined (registered in pool cluster, domain node$n_servers) through sysfs" \
				/tmp/watch.log
		fi
		echo "summary: client $RSWAP_NODE: server $late joined through the directory"
	fi
	if [ $drainer = 1 ]; then
		wait "$drain_pid"
		cat /tmp/drain.log
		check_eq drain-mid-run-succeeds 0 "$(cat /tmp/drain.rc)"
		check_eq drained-server-held-nothing 0.0 "$(cat /tmp/drained.mib)"
		check_gt drain-moved-pages "$(rswap_stat migrated_pages)" 0
		check_eq undrain-succeeds 0 "$(cat /tmp/undrain.rc)"
		cat /tmp/extra.log
		check_eq second-workload-every-page-verified 0 "$(cat /tmp/extra.rc)"
		check_gt undrained-server-granted-again "$(cut -d' ' -f1 /tmp/regranted)" 0
		check_eq undrained-server-preferred "0" "$(cut -d' ' -f2 /tmp/regranted)"
		check_eq rebalance-succeeds 0 "$(cat /tmp/rebalance.rc)"
		cat /tmp/rebalance.log
		check undrained-server-used-again test -e /tmp/refilled
		if [ "$RSWAP_CLUSTER_DIRECTORY" = etcd ]; then
			check_eq drained-server-left-the-device 0 "$(cat /tmp/left.rc)"
			check_eq undrained-server-back-in-the-device 0 "$(cat /tmp/rejoined.rc)"
			echo "summary: server 1 left the directory while drained (client 1's device" \
				"dropped it once it held nothing there) and came back when undrained"
		fi
		echo "summary: drain of server 1 mid-run: $(tail -n 1 /tmp/drain.log)"
		echo "summary: the module moved $(rswap_stat migrated_slabs) slabs," \
			"$(rswap_stat migrated_pages) pages, server to server (drain and rebalance)"
	fi
	if [ "$RSWAP_CLUSTER_SIZE" = full ]; then
		swapfill swap-zero50 --mib 192 --zero-pct 50 --same-pct 0 --seed $((RSWAP_NODE + 10))
		sort_half
	fi
	check_eq no-io-errors 0 "$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"

	touch /tmp/sampler.stop
	wait "$sampler_pid"
	[ -z "${watch_pid:-}" ] || stop_by_sigterm watch "$watch_pid" /tmp/watch.log
	summary_client
	# swapoff (every page comes back; nothing runs in the workload cgroup
	# now to be charged for them) and unload.
	check rswap-client-stop rswap-client stop
	check module-unloaded sh -c '! grep -q "^rswap " /proc/modules'
	for a in $RSWAP_CLUSTER_SERVERS; do
		[ "$RSWAP_CLUSTER_CLIENTS" = 1 ] || break	# others may still swap there
		check "server-$a-holds-nothing" wait_for 30 server_holds_nothing "$a"
	done
}

server_holds_nothing() { [ "$(server_held_mib "$1")" = 0.0 ]; }
server_holds_some() { ! server_holds_nothing "$1"; }

summary_client() {
	local i=0 a
	echo "summary: client $RSWAP_NODE: $(rswap_stat remote_stores) pages written to the pool by RDMA," \
		"$(( $(rswap_stat bytes_received) / 1048576 )) MiB read back; zero" \
		"$(rswap_stat zero_stores), same-filled $(rswap_stat same_stores) kept in the map"
	for a in $RSWAP_CLUSTER_SERVERS; do
		i=$((i + 1))
		echo "summary: server $i ($a): $(server_counter "$a" grants_total) grants," \
			"$(server_counter "$a" migrated_pages_total) pages migrated away"
	done
}

# say_to ADDR WORD: one line to a server's done port (its nc listens for
# one connection at a time: a refused one is tried again by the callers).
say_to() { echo "$2" | nc -w 10 "$1" "$done_port"; }

tell_servers_done() {
	local a
	for a in $RSWAP_CLUSTER_SERVERS; do
		wait_for 30 say_to "$a" done || echo "could not tell $a we are done"
	done
}

case "$RSWAP_ROLE" in
server) run_server ;;
client)
	run_client
	tell_servers_done
	;;
*) fail cluster-role "RSWAP_ROLE is '$RSWAP_ROLE', not server or client" ;;
esac
