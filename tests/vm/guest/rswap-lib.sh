# Helpers for scenarios that run memory servers and rswap.ko; source it
# after lib.sh. Host N's server listens on $(host_addr N):7471, its admin
# API on 127.0.0.1:(7472 + 10 (N - 1)), and logs to /tmp/server-N.log.
#   rswap_key FILE                  write a fresh pool key, mode 600, and
#                                   /tmp/rswap-client.key: the key of this
#                                   guest's default client id (HOST:rswap0)
#   client_key ID                   the key file of client ID (rswapctl
#                                   client-key from the pool key): its path
#   start_rswap_server NAME N MEM [OPTS...]
#                                   start host NAME's server donating MEM
#                                   from /dev/shm/pool-N (kept across
#                                   restarts; RSWAP_POOL_SUFFIX=x makes
#                                   a fresh pool); waits until it listens
#   kill_rswap_server N [SIG]       signal host N's server (default KILL), reap it
#   signal_rswap_server N SIG       signal host N's server and do not wait
#                                   (STOP, CONT: it stays ours to reap)
#   stop_rswap_servers              SIGTERM every server started
#   server_held N                   slabs host N's server has granted
#   servers_ready N                 /dev/rswap0 has N servers ready
#   servers_hold_none N...          the servers N... hold no slabs
#   rswap_stat NAME                 a counter of /sys/block/rswap0/rswap/stats
#   module_server_field ADDR:PORT F  field F (pages, grants, ...) of the
#                                   module's servers line for that server
#   server_pages N                  pages the module keeps on host N's server
#   server_addr N                   host N's server as the module names it
#                                   (ADDRESS:7471)
#   server_lost N                   the module has declared host N's server lost
#   not_degraded                    no set has fewer copies than replicas=
#   start_pool N MEM                a fresh key in /tmp/rswap.key, and hosts
#                                   mem1..memN each running a server donating MEM
#   pool_servers N                  the servers= list of that pool
#   workload_memory_high            memory.high of the workload cgroup: 7/8
#                                   of its memory.max
# Servers that know each other's admin APIs (drain and rebalance need peers):
#   start_peer N [OPTS...]          (re)start host N's server donating $MEM,
#                                   --verbose, with a --peer for each other
#                                   host 1..$RSWAP_PEERS (default 4)
#   start_peers N                   a fresh pool key (rswap_key /tmp/rswap.key)
#                                   and start_peer 1..N, each a check
#                                   (serverK-starts)
#   ctl N ARGS...                   rswapctl on host N's server

RSWAP_KEY=
rswap_key() {
	RSWAP_KEY=$1
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$RSWAP_KEY"
	chmod 600 "$RSWAP_KEY"
	rswapctl client-key --pool-key "$RSWAP_KEY" --client-id "$(hostname):rswap0" \
		--out /tmp/rswap-client.key --force 2>/dev/null
}

client_key() {
	local f="/tmp/client-$(echo "$1" | tr -c 'A-Za-z0-9.\n-' _).key"
	rswapctl client-key --pool-key "$RSWAP_KEY" --client-id "$1" --out "$f" --force \
		2>/dev/null && echo "$f"
}

admin_port() { echo $((7472 + 10 * ($1 - 1))); }

_listening() { rdma resource show cm_id 2>/dev/null | grep -q "LISTEN.*pid $1 "; }

# start_rswap_server NAME N MEMORY [OPTS...]: a server on host N. The
# scenarios' pools have one tenant, so --quota all (its default is half
# of MEMORY); an OPTS --quota overrides it.
start_rswap_server() {
	local name=$1 n=$2 mem=$3 pid
	shift 3
	on_host "$name" exec rswap-server --listen "$(host_addr "$n"):7471" \
		--admin "127.0.0.1:$(admin_port "$n")" --memory "$mem" --slab-size 1M \
		--backing "/dev/shm/pool-$n${RSWAP_POOL_SUFFIX:-}" --key-file "$RSWAP_KEY" \
		--quota all "$@" \
		>> "/tmp/server-$n.log" 2>&1 &
	pid=$!
	echo "$pid" > "/tmp/server-$n.pid"
	wait_for 20 _listening "$pid" && return 0
	# Why not: the check's failure line shows the last line printed here,
	# so it is the verdict and the server's own last words.
	df -h /dev/shm 2>/dev/null | tail -n 1
	free -m 2>/dev/null | sed -n 2p
	tail -n 5 "/tmp/server-$n.log"
	if kill -0 "$pid" 2>/dev/null; then
		echo "server $n (pid $pid) runs but does not listen; its log ends: $(tail -n 1 "/tmp/server-$n.log")"
	else
		wait "$pid"
		echo "server $n (pid $pid) exited with status $?; its log ends: $(tail -n 1 "/tmp/server-$n.log")"
	fi
	return 1
}

kill_rswap_server() {
	local pid
	pid=$(cat "/tmp/server-$1.pid") || return 1
	kill "-${2:-KILL}" "$pid" && wait "$pid" 2>/dev/null
	rm -f "/tmp/server-$1.pid"
	return 0
}

signal_rswap_server() {
	local pid
	pid=$(cat "/tmp/server-$1.pid") || return 1
	kill "-$2" "$pid"
}

stop_rswap_servers() {
	local f
	for f in /tmp/server-*.pid; do
		[ -e "$f" ] || continue
		kill -TERM "$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
	wait
}

# server_stat N FIELD: server N's own counter FIELD (rswapctl --json
# stats: its counters come before the clients', which share some names).
server_stat() {
	rswapctl --server "127.0.0.1:$(admin_port "$1")" --json stats |
		grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2
}
server_held() {
	rswapctl --server "127.0.0.1:$(admin_port "$1")" --json stats |
		sed -n 's/.*"held_slabs":\([0-9]*\).*/\1/p'
}

servers_ready() {
	[ "$(grep -c ' ready ' /sys/block/rswap0/rswap/servers 2>/dev/null)" = "$1" ]
}

servers_hold_none() {
	local n
	for n in "$@"; do
		[ "$(server_held "$n")" = 0 ] || return 1
	done
}

rswap_stat() { awk -v k="$1" '$1 == k { print $2 }' /sys/block/rswap0/rswap/stats; }
# FIELD (pages, grants, ...) of the module's servers line for ADDR:PORT.
module_server_field() {
	awk -v s="$1" -v f="$2=" '$1 == s { for (i = 3; i <= NF; i++)
		if (index($i, f) == 1) print substr($i, length(f) + 1) }' \
		/sys/block/rswap0/rswap/servers
}
# Pages the module keeps on host N's server (its servers line's pages=).
server_addr() { echo "$(host_addr "$1"):7471"; }
server_pages() { module_server_field "$(server_addr "$1")" pages; }
server_lost() { grep -q "^$(server_addr "$1") lost " /sys/block/rswap0/rswap/servers; }
not_degraded() { [ "$(rswap_stat degraded_slabs)" = 0 ]; }

# Reclaim and throttle the workload below its hard limit. Pages on their way
# to the pool cannot be freed until their WRITE completes; at memory.max,
# 6.12's multi-gen LRU gives up on them and the memcg OOM-kills (in about
# one kmod run in three on 6.12 here, before and after per-queue QPs; never
# in 4 runs with memory.high). Deployments swapping to any network device
# set memory.high for the same reason.
workload_memory_high() {
	local max
	max=$(cat "$RSWAP_CGROUP/memory.max") || return 1
	echo $((max - max / 8)) > "$RSWAP_CGROUP/memory.high"
}

start_pool() {
	local i
	rswap_key /tmp/rswap.key
	for i in $(seq "$1"); do
		host_add "mem$i" "$i" && start_rswap_server "mem$i" "$i" "$2" ||
			{ echo "start_pool: server $i did not start" >&2; return 1; }
	done
}

pool_servers() {
	local i list=
	for i in $(seq "$1"); do
		list="$list${list:+,}$(host_addr "$i"):7471"
	done
	echo "$list"
}

_peers_of() {
	local n=$1 i
	for i in $(seq "${RSWAP_PEERS:-4}"); do
		[ "$i" = "$n" ] || printf -- '--peer 127.0.0.1:%s ' "$(admin_port "$i")"
	done
}

start_peer() {
	local n=$1
	shift
	host_add "mem$n" "$n" 2>/dev/null
	# shellcheck disable=SC2046
	start_rswap_server "mem$n" "$n" "$MEM" --verbose $(_peers_of "$n") "$@"
}

start_peers() {
	local n
	rswap_key /tmp/rswap.key
	for n in $(seq "$1"); do
		check "server$n-starts" start_peer "$n"
	done
}

ctl() {
	local n=$1
	shift
	rswapctl --server "127.0.0.1:$(admin_port "$n")" "$@"
}

# Reads beside writes of the same pages (rswap-rwrace: 4 writers and 4
# readers, runs of 1 to 8 pages, over 64 pages for 5 s). A read whose
# page a write changed under it (its old slot freed and taken, or its new
# slot not yet written; on backend=ram, a copy half made) comes back with
# a wrong checksum: it is read again (read_overlaps), not failed after a
# few tries, and not counted as a checksum error. Every page read is one
# whole version of itself, none older than the one it had settled on when
# the read began; no I/O error. racing_reads NAME PAGE [met]:
# met if some read must have met a write (over the wire). Whether one
# does in 5 s is up to the scheduler (a debug kernel met 0 times once),
# so with met it runs again, each run checked in full, up to 6 times,
# until one has. On a device that is not swap: it overwrites pages
# PAGE.. PAGE + 63.
racing_reads() {
	local name=$1 page=$2 met=${3:-} ro0 csum0 errs0 run rc=0
	ro0=$(rswap_stat read_overlaps) csum0=$(rswap_stat checksum_errors)
	errs0=$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))
	for run in 1 2 3 4 5 6; do
		rswap-rwrace --dev /dev/rswap0 --offset "$page" --pages 64 \
			--seconds 5 > /tmp/rr.log 2>&1 || { rc=$?; break; }
		[ "$met" = met ] || break
		[ "$(rswap_stat read_overlaps)" -gt "$ro0" ] && break
	done
	check_eq "$name-whole-pages-no-errors" 0 "$rc"
	tail -5 /tmp/rr.log
	echo "$name: $(( $(rswap_stat read_overlaps) - ro0 )) pages read again in $run runs: they met a write"
	if [ "$met" = met ]; then
		check_gt "$name-met" "$(( $(rswap_stat read_overlaps) - ro0 ))" 0
	fi
	check_eq "$name-no-checksum-errors" "$csum0" "$(rswap_stat checksum_errors)"
	check_eq "$name-no-io-errors" "$errs0" \
		"$(( $(rswap_stat read_errors) + $(rswap_stat write_errors) ))"
}
