#!/usr/bin/env bash
# Description: `cmake --install BUILD --prefix /usr` into a scratch DESTDIR
# gives an installable system: the programs in /usr/sbin, the units in
# /usr/lib/systemd/system naming them, the configs in /etc (not /usr/etc),
# nothing left unconfigured. systemd-analyze verify accepts every installed
# unit, resolving ExecStart= inside the installed tree, and rejects a unit
# with an unknown directive and one whose program is missing (so the check
# can fail). The unit's own ExecStartPre (rswap-server --check-config) passes
# on the shipped example filled in, whose commented defaults are the
# server's real ones; rswap-client reads its shipped settings and names the
# line of a bad one, under dash and busybox sh.
#
# Usage: tests/deploy/deploy-install.sh BUILD_DIR
# Exit: 0 passed, 1 failed, 77 skipped (no systemd-analyze).
set -u

build=${1:?usage: deploy-install.sh BUILD_DIR}
command -v systemd-analyze > /dev/null || {
	echo "SKIP: systemd-analyze not found (scripts/install-deps.sh installs systemd)"
	exit 77
}

work=$(mktemp -d "${TMPDIR:-/tmp}/rswap-deploy.XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/dest
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }

# ---- install ----
if ! DESTDIR=$dest cmake --install "$build" --prefix /usr > "$work/install.log" 2>&1; then
	cat "$work/install.log"
	fail install "cmake --install failed"
	exit 1
fi
pass install

# ---- the files ----
units=$dest/usr/lib/systemd/system
want_files="
755 usr/sbin/rswap-server
755 usr/sbin/rswapctl
755 usr/sbin/rswap-client
755 usr/sbin/rswap-register
644 usr/lib/systemd/system/rswap-server@.service
644 usr/lib/systemd/system/rswap-client.service
644 usr/lib/systemd/system/rswap-register@.service
644 usr/lib/systemd/system/rswap-client-watch.service
644 etc/rswap/server.conf.example
644 etc/rswap/client.conf
644 etc/modprobe.d/rswap.conf"
missing=
while read -r mode path; do
	[ -n "$path" ] || continue
	if [ ! -f "$dest/$path" ]; then
		missing="$missing $path"
	elif [ "$(stat -c %a "$dest/$path")" != "$mode" ]; then
		missing="$missing $path(mode $(stat -c %a "$dest/$path"), want $mode)"
	fi
done <<< "$want_files"
if [ -z "$missing" ]; then pass files-installed; else fail files-installed "missing or wrong:$missing"; fi

# With --prefix /usr everything is under /usr, but configuration is in /etc.
stray=$(cd "$dest" && find . -type f | grep -v -e '^\./usr/' -e '^\./etc/' ; cd "$dest" &&
	find . -path ./usr/etc -o -path ./usr/local | head -n 3)
if [ -z "$stray" ]; then pass prefix-layout; else fail prefix-layout "outside /usr and /etc: $stray"; fi

left=$(grep -rl '@[A-Z_]*@' "$dest/etc" "$units" "$dest/usr/sbin/rswap-client" \
	"$dest/usr/sbin/rswap-register" 2>/dev/null)
if [ -z "$left" ]; then pass all-configured; else fail all-configured "@VAR@ left in: $left"; fi

# Every ExecStart*/ExecStop names an installed program.
bad=
for unit in "$units"/*.service; do
	for prog in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$unit"); do
		[ -x "$dest$prog" ] || bad="$bad $(basename "$unit"):$prog"
	done
done
if [ -z "$bad" ]; then pass units-name-installed-programs; else fail units-name-installed-programs "not installed:$bad"; fi

# ---- systemd-analyze verify ----
# --root resolves unit search paths and ExecStart= programs inside the given
# tree, which must then hold systemd's own units too (sysinit.target, ...):
# the verify root is the installed tree plus a copy of the host's units.
# verify exits 0 on an unknown directive, only printing a warning: a unit
# passes when verify exits 0 and prints nothing.
vroot=$work/vroot
cp -a "$dest" "$vroot"
host_units=$(dirname "$(readlink -f /lib/systemd/system/sysinit.target)")
mkdir -p "$vroot/lib/systemd"
cp -a "$host_units" "$vroot/lib/systemd/system"
verify() {	# verify UNIT_NAME: 0 if clean; output in $work/verify.out
	(cd "$vroot" && systemd-analyze verify --root="$vroot" "$1") > "$work/verify.out" 2>&1 &&
		[ ! -s "$work/verify.out" ]
}
as_instance() {	# foo@.service -> foo@verify.service
	local name
	name=$(basename "$1")
	case "$name" in *@.service) echo "${name%@.service}@verify.service" ;; *) echo "$name" ;; esac
}
n=0
for unit in "$units"/*.service; do
	name=$(as_instance "$unit")
	n=$((n + 1))
	if verify "$name"; then
		pass "verify-$name"
	else
		fail "verify-$name" "$(tr '\n' ' ' < "$work/verify.out")"
	fi
done
[ "$n" -ge 2 ] || fail verify-units "only $n units installed"

# The check can fail: a copy with an unknown directive, and one whose
# program is missing, must each be rejected.
broken=$vroot/etc/systemd/system
mkdir -p "$broken"
sed 's/^\[Service\]$/[Service]\nFrobnicate=yes/' "$units/rswap-client.service" \
	> "$broken/rswap-broken-key.service"
sed 's|^ExecStart=[^ ]*|ExecStart=/usr/sbin/rswap-no-such-program|' "$units/rswap-server@.service" \
	> "$broken/rswap-broken-exec@.service"
if verify rswap-broken-key.service; then
	fail verify-rejects-unknown-directive "verify accepted Frobnicate=yes"
elif grep -q Frobnicate "$work/verify.out"; then
	pass verify-rejects-unknown-directive
else
	fail verify-rejects-unknown-directive "rejected, but not for Frobnicate: $(cat "$work/verify.out")"
fi
if verify rswap-broken-exec@verify.service; then
	fail verify-rejects-missing-program "verify accepted ExecStart=/usr/sbin/rswap-no-such-program"
elif grep -q rswap-no-such-program "$work/verify.out"; then
	pass verify-rejects-missing-program
else
	fail verify-rejects-missing-program "rejected, but not for the program: $(cat "$work/verify.out")"
fi

# ---- rswap-server --check-config, as the unit runs it ----
# The unit's ExecStartPre for instance "verify", every absolute path moved
# into DESTDIR.
pre=$(sed -n 's/^ExecStartPre=//p' "$units/rswap-server@.service" | sed 's/%i/verify/g')
cmd=
for word in $pre; do
	case "$word" in /*) word=$dest$word ;; esac
	cmd="$cmd $word"
done
example=$dest/etc/rswap/server.conf.example
conf=$dest/etc/rswap/server-verify.conf
fill_required() {	# the three required keys, set
	sed -e 's|^#memory = .*|memory = 64M|' -e 's|^#backing = .*|backing = /dev/shm/rswap-verify|' \
		-e 's|^#key-file = \(.*\)|key-file = \1|'
}
fill_required < "$example" > "$conf"
if $cmd > "$work/required.out" 2>&1 && grep -qx 'memory = 64M' "$work/required.out"; then
	pass check-config-example
else
	fail check-config-example "'$cmd': $(tail -n 1 "$work/required.out")"
fi
# Uncommenting the documented defaults changes nothing.
fill_required < "$example" |
	sed -E 's/^#((listen|admin|slab-size|max-clients|drain-on-stop|verbose) = )/\1/' > "$conf"
if $cmd > "$work/defaults.out" 2>&1 && cmp -s "$work/required.out" "$work/defaults.out"; then
	pass example-defaults-are-real
else
	fail example-defaults-are-real "$(diff "$work/required.out" "$work/defaults.out" | tr '\n' ' ')"
fi
# Every example value in it is valid.
sed -E 's/^#([a-z-]+ = )/\1/' "$example" | sed -e 's|^backing = .*|backing = /dev/shm/x|' \
	-e 's|^meta = .*|meta = /dev/shm/x.meta|' > "$conf"
if $cmd > "$work/all.out" 2>&1 && [ "$(grep -c '^peer = ' "$work/all.out")" = 2 ]; then
	pass example-values-valid
else
	fail example-values-valid "$(tail -n 1 "$work/all.out")"
fi
# A misspelt key: exit 2, FILE:LINE and the key.
{ fill_required < "$example"; echo "memroy = 1G"; } > "$conf"
line=$(wc -l < "$conf")
$cmd > "$work/bad.out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "server-verify.conf:$line: unknown key 'memroy'" "$work/bad.out"; then
	pass check-config-names-the-line
else
	fail check-config-names-the-line "exit $rc: $(cat "$work/bad.out")"
fi

# ---- rswap-client's settings ----
client=$dest/usr/sbin/rswap-client
shells="dash"
command -v busybox > /dev/null && shells="$shells busybox"
# client_status NAME RC TEXT: `rswap-client status` on $work/client.conf
# under $run exits RC and says TEXT.
client_status() {
	local rc
	$run "$client" -c "$work/client.conf" status > "$work/client.out" 2>&1
	rc=$?
	if [ $rc = "$2" ] && grep -q "$3" "$work/client.out"; then
		pass "$1"
	else
		fail "$1" "status exited $rc: $(cat "$work/client.out")"
	fi
}
for sh in $shells; do
	run=$sh
	[ "$sh" = busybox ] && run="busybox sh"
	sed -E 's/^#([a-z_]+ = )/\1/' "$dest/etc/rswap/client.conf" > "$work/client.conf"
	client_status "client-reads-its-settings-$sh" 3 'module: not loaded'
	printf 'priority = 10\nconnect_timeout = soon\n' > "$work/client.conf"
	client_status "client-names-the-bad-line-$sh" 2 "client.conf:2: connect_timeout: want seconds"
done
if command -v shellcheck > /dev/null; then
	if shellcheck -s sh "$client" "$dest/usr/sbin/rswap-register" > "$work/shellcheck.out" 2>&1; then
		pass client-shellcheck
	else
		fail client-shellcheck "$(head -n 5 "$work/shellcheck.out" | tr '\n' ' ')"
	fi
fi

[ $failed = 0 ] && echo "deploy-install: passed" || echo "deploy-install: FAILED"
exit $failed
