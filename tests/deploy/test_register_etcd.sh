#!/usr/bin/env bash
# Description: rswap-register against a real etcd on the loopback (a fake
# rswapctl stands in for the server), through the faults etcd can have:
#   - it registers the server's key, with the value clients parse;
#   - etcd killed for longer than the lease, then started again: the
#     register notices, comes back, and keeps the key alive (etcdctl's
#     lease keep-alive --once ignores --command-timeout: unbounded, it hung
#     through the restart while the key ran out);
#   - its lease revoked behind its back: a new lease, the key again;
#   - etcd stalled (SIGSTOP: connections taken, nothing answered): SIGTERM
#     still stops it in bounded time, and it says the key was not removed
#     and leaves with its lease, which it then does;
#   - SIGTERM with etcd healthy: the key is gone when it has exited.
# Runs the register under dash (as installed: #!/bin/sh).
#
# Usage: tests/deploy/test_register_etcd.sh
# Exit: 0 passed, 1 failed, 77 skipped (no etcd, etcdctl or dash).
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$here/../..
for p in etcd etcdctl dash timeout; do
	command -v "$p" > /dev/null || {
		echo "SKIP: $p not found (scripts/install-deps.sh installs it)"
		exit 77
	}
done
work=$(mktemp -d "${TMPDIR:-/tmp}/rswap-register.XXXXXX")
etcd_pid=
reg_pid=
cleanup() {
	exec 2> /dev/null	# not the shell's notes on the jobs it kills
	[ -n "$reg_pid" ] && kill -9 "$reg_pid" 2> /dev/null
	[ -n "$etcd_pid" ] && { kill -CONT "$etcd_pid"; kill -9 "$etcd_pid"; } 2> /dev/null
	wait 2> /dev/null
	rm -rf "$work"
}
trap cleanup EXIT
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }

# Ports from the pid, so two runs on one host do not collide.
cport=$((20000 + ($$ % 10000) * 2))
pport=$((cport + 1))
url=http://127.0.0.1:$cport
ttl=3
listen=10.77.0.9:7471
key=/rswap/pools/t/servers/$listen
value="$listen domain=rack9 free_bytes=4194304"
log=$work/register.log

mkdir -p "$work/bin"
cat > "$work/bin/rswapctl" << 'EOF'
#!/bin/sh
echo '{"draining":false,"slab_bytes":1048576,"slabs_free":4}'
EOF
chmod +x "$work/bin/rswapctl"
export PATH=$work/bin:$PATH ETCDCTL_API=3

start_etcd() {
	etcd --name t --data-dir "$work/etcd" --listen-client-urls "$url" \
		--advertise-client-urls "$url" --listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "t=http://127.0.0.1:$pport" >> "$work/etcd.log" 2>&1 &
	etcd_pid=$!
}
ctl() { etcdctl --endpoints="$url" --dial-timeout=2s --command-timeout=3s "$@"; }
key_value() { ctl get --print-value-only "$key" 2> /dev/null; }
# wait_for SECONDS CMD...: until CMD succeeds, polling every 0.2 s.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}
has_key() { [ "$(key_value)" = "$value" ]; }
no_key() { ctl get "$key" > /dev/null 2>&1 && [ -z "$(key_value)" ]; }
reg_gone() { ! kill -0 "$reg_pid" 2> /dev/null; }
start_register() {
	dash "$work/rswap-register" --endpoints "$url" --pool t --listen "$listen" \
		--domain rack9 --admin 127.0.0.1:1 --ttl "$ttl" >> "$log" 2>&1 &
	reg_pid=$!
}
# check NAME CMD...: pass if CMD succeeds, else fail with the log's tail.
check() {
	local name=$1
	shift
	if "$@"; then
		pass "$name"
	else
		fail "$name" "'$*' failed; register's log:"
		tail -n 5 "$log"
	fi
}

sed 's|@CMAKE_INSTALL_FULL_SYSCONFDIR@|/etc|g' "$src/deploy/pool/rswap-register.in" > "$work/rswap-register"
start_etcd
if ! wait_for 30 ctl endpoint health > /dev/null 2>&1; then
	cat "$work/etcd.log"
	fail etcd-up "etcd did not answer on $url within 30 s"
	exit 1
fi

# ---- registered ----
start_register
check registered wait_for 15 has_key

# ---- etcd killed past the lease, then back ----
kill -9 "$etcd_pid"
wait "$etcd_pid" 2> /dev/null
check said-etcd-away wait_for 15 grep -q "etcd at $url does not answer: $key stays until its lease runs out" "$log"
start_etcd
check back-after-restart wait_for 30 has_key
# A key restored with a lease nobody keeps alive would be gone by now.
sleep $((ttl * 2))
check kept-after-restart has_key
check said-etcd-back grep -q "etcd at $url answers again\|registered: $key" "$log"

# ---- its lease revoked by someone else ----
lease=$(sed -n "s/.*(lease \([0-9a-f]*\)[,)].*/\1/p" "$log" | tail -n 1)
# The lease now may be one granted after the restart (a new "registered"
# line), or the first one kept: either is in the log.
check lease-revoked-elsewhere ctl lease revoke "$lease"
check new-lease-after-revoke wait_for 15 has_key

# ---- etcd stalled: SIGTERM heard, key left to its lease ----
kill -STOP "$etcd_pid"
sleep $((ttl + 1))
kill -TERM "$reg_pid"
check stops-while-stalled wait_for 15 reg_gone
check said-not-removed grep -q "stopped: $key not removed (etcd at $url does not answer): it leaves when its lease runs out (${ttl}s)" "$log"
kill -CONT "$etcd_pid"
check lease-runs-out wait_for $((ttl + 10)) no_key

# ---- SIGTERM with etcd healthy ----
start_register
check registered-again wait_for 15 has_key
kill -TERM "$reg_pid"
check stops wait_for 10 reg_gone
check said-removed grep -q "stopped: $key removed" "$log"
check key-removed-at-once no_key

if [ "$failed" != 0 ]; then
	echo "--- register's log"
	cat "$log"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "1 passed, 0 failed"
exit 0
