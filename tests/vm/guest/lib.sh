# Scenario library: sourced by the guest init and by every scenario.
#
# A scenario is a shell script run in the guest after setup. It reports each
# check on the results channel; the harness fails the run when a check fails,
# when none ran, when the script exits non-zero, or when the kernel prints a
# warning, BUG, oops, panic, hung task or stall.
#
# Checks:
#   pass NAME                 report NAME passed
#   fail NAME REASON          report NAME failed (the scenario goes on)
#   skip NAME REASON          report NAME skipped, with the reason
#   check NAME CMD...         run CMD; pass if it exits 0, else fail with its
#                             status and last line of output
#   check_eq NAME WANT GOT    pass if the two strings are equal
#   check_gt NAME GOT MIN     pass if the number GOT is greater than MIN
# Hosts: each its own address on eth0, reached over rxe0.
#   host_add NAME N           create host NAME with address $(host_addr N)
#   host_addr N               the address of host N (10.77.0.N)
#   on_host NAME CMD...       run CMD as host NAME (RSWAP_HOST=NAME); for a
#                             daemon whose PID you need, 'on_host NAME exec
#                             CMD... &' makes $! the daemon, not a subshell
#
# Why not network namespaces: on Debian's 6.1 and 6.12 kernels rdma_rxe
# opens its RoCE UDP socket (port 4791) in the initial namespace only, so an
# rxe device on a veth inside another namespace never receives a packet:
# rdma_connect times out while ping works. (Per-namespace rxe sockets came
# with a later kernel series.) Hosts are therefore addresses of one guest,
# and RDMA between them takes rxe's loopback path; servers, clients and
# their failures are still separate processes.
# Other helpers:
#   wait_for SECS CMD...      retry CMD every 0.2 s until it succeeds, for
#                             SECS times RSWAP_SLOW seconds
#   in_cgroup CMD...          run CMD in the workload cgroup (vm-memory-max)
#   shrink N                  N divided by RSWAP_SHRINK, rounded up: workload
#                             sizes, and the counts checked against them
# Set by the harness: RSWAP_ADDR (this guest's eth0 address, with rxe0 on
# it), RSWAP_SCENARIO, RSWAP_CGROUP (if vm-memory-max was given),
# RSWAP_SLOW (how many times slower than Debian's kernel this one runs: 7
# on the debug kernel, else 1; every wait_for limit is scaled by it),
# RSWAP_SHRINK (workloads are divided by it: 3 on the debug kernel, else
# 1; vm-memory-max is divided by it too, so a workload still swaps as
# much of itself).

RSWAP_RESULTS=/dev/ttyS1
RSWAP_ADDR=${RSWAP_ADDR:-10.0.2.15}	# a cluster node gets its own on the command line
RSWAP_SLOW=${RSWAP_SLOW:-1}
RSWAP_SHRINK=${RSWAP_SHRINK:-1}
export RSWAP_RESULTS RSWAP_ADDR RSWAP_SLOW RSWAP_SHRINK

shrink() { echo $(( ($1 + RSWAP_SHRINK - 1) / RSWAP_SHRINK )); }

# One line per report: a value with a newline in it (two servers' counts,
# say) would otherwise split into a line the harness cannot parse.
_report() {
	local line
	line=$(printf '%s' "$*" | tr '\n' ' ')
	echo "$line" > "$RSWAP_RESULTS"
	echo "rswap-vm: $line"
}

pass() { _report "PASS $1"; }
fail() { _report "FAIL $1: $2"; }
skip() { _report "SKIP $1: $2"; }

check() {
	local name=$1 out rc
	shift
	out=/tmp/.check.$$
	"$@" > "$out" 2>&1
	rc=$?
	cat "$out"
	if [ $rc -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "'$*' exited with status $rc: $(tail -n 1 "$out")"
	fi
	rm -f "$out"
	return $rc
}

check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected $2, got $3"
		return 1
	fi
}

wait_for() {
	local secs=$1 tries
	shift
	tries=$((secs * 5 * RSWAP_SLOW))
	while [ $tries -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		tries=$((tries - 1))
	done
	return 1
}

host_addr() { echo "10.77.0.$1"; }

host_add() {
	local name=$1 n=$2
	case "$n" in
	''|*[!0-9]*) echo "host_add: host number '$n' is not a number" >&2; return 1 ;;
	esac
	[ "$n" -ge 1 ] && [ "$n" -le 254 ] || { echo "host_add: host number $n not in 1..254" >&2; return 1; }
	ip addr add "$(host_addr "$n")/24" dev eth0 || return 1
	echo "$name $(host_addr "$n")" >> /run/rswap-hosts
}

on_host() {
	local name=$1
	shift
	grep -q "^$name " /run/rswap-hosts 2>/dev/null || { echo "on_host: no host '$name'" >&2; return 1; }
	RSWAP_HOST=$name "$@"
}

in_cgroup() {
	[ -n "$RSWAP_CGROUP" ] || { echo "in_cgroup: the scenario set no vm-memory-max" >&2; return 1; }
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$RSWAP_CGROUP" "$@"
}

check_gt() {
	case "$2" in
	''|*[!0-9]*) fail "$1" "'$2' is not a number"; return 1 ;;
	esac
	if [ "$2" -gt "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected more than $3, got $2"
		return 1
	fi
}

# ---- used by the guest init only ----

vm_setup() {
	local m
	for m in $RSWAP_LOAD_MODULES; do
		modprobe "$m" || { fail setup-modules "modprobe $m failed"; return 1; }
	done
	ip link set lo up
	if [ -e /sys/class/net/eth0 ]; then
		ip link set eth0 up &&
		ip addr add "$RSWAP_ADDR/24" dev eth0 &&
		rdma link add rxe0 type rxe netdev eth0 ||
			{ fail setup-rxe "could not add rxe0 on eth0"; return 1; }
	else
		fail setup-network "no eth0 in the guest"
		return 1
	fi
	if [ -n "$RSWAP_MEMORY_MAX" ]; then
		RSWAP_CGROUP=/sys/fs/cgroup/rswap-workload
		echo +memory > /sys/fs/cgroup/cgroup.subtree_control &&
		mkdir -p "$RSWAP_CGROUP" &&
		# 32M shrunk by 3 is 11M.
		case "$RSWAP_MEMORY_MAX" in
		*[0-9]M) RSWAP_MEMORY_MAX=$(shrink "${RSWAP_MEMORY_MAX%M}")M ;;
		esac
		echo "$RSWAP_MEMORY_MAX" > "$RSWAP_CGROUP/memory.max" ||
			{ fail setup-cgroup "could not set memory.max=$RSWAP_MEMORY_MAX"; return 1; }
		export RSWAP_CGROUP
	fi
	return 0
}

# Removing rxe0 at the end exercises rdma_rxe's teardown too: a leak or a
# use-after-free there shows up as a kernel report that fails the run.
vm_teardown() {
	rdma link delete rxe0 || fail teardown-rxe "could not remove rxe0"
}
