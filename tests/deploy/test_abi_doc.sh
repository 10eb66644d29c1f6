#!/usr/bin/env bash
# Description: docs/ABI/rswap describes exactly what the module shows:
# every stats field rswap_sysfs.c prints (STAT("...")), every key=value
# field of the servers line, and every configfs attribute of
# rswap_configfs.c's table, power and disk; and nothing the code no longer
# has. The check is shown failing on a made-up field first.
#
# Usage: tests/deploy/test_abi_doc.sh
# Exit: 0 passed, 1 failed.
set -u

src=$(cd "$(dirname "$0")/../.." && pwd)
doc=$src/docs/ABI/rswap
failed=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; failed=1; }

# The names documented under one What: entry (first word of each
# indented line of the table after the Description's prose).
documented() {	# WHAT-PATH-SUFFIX
	awk -v what="$1" '
		/^What:/ { inside = ($2 ~ what "$") ; next }
		inside && /^\t\t[a-z_A-Z]+\t/ { sub(/^\t\t/, ""); split($0, w, /\t/); print w[1] }
	' "$doc" | sort -u
}
# Compare two sorted lists: NAME, the code's, the doc's.
same() {
	local missing extra
	missing=$(comm -23 <(echo "$2") <(echo "$3") | tr '\n' ' ')
	extra=$(comm -13 <(echo "$2") <(echo "$3") | tr '\n' ' ')
	if [ -z "$missing$extra" ]; then
		pass "$1"
	else
		fail "$1" "not documented: ${missing:-none}; documented but gone: ${extra:-none}"
	fi
}

stats=$( (grep -o 'STAT("[a-z_0-9]*"' "$src/kmod/rswap_sysfs.c" | sed 's/STAT("//; s/"//'
	grep -q '"slabs_%s' "$src/kmod/rswap_sysfs.c" && echo slabs_STATE) | sort -u)
servers=$(grep -o ' [a-z_]*=%' "$src/kmod/rswap_sysfs.c" | sed 's/^ //; s/=%//' | sort -u)
configfs=$( (sed -n 's/^\tX(\([a-z_]*\),.*/\1/p' "$src/kmod/rswap_configfs.c"; echo power; echo disk) | sort -u)

# The check itself can fail.
if [ -n "$(comm -23 <(printf '%s\nmade_up_field\n' "$stats" | sort -u) <(documented '/stats'))" ]; then
	pass check-can-fail
else
	fail check-can-fail "a made-up field passed"
fi
[ "$(echo "$stats" | wc -l)" -gt 30 ] && pass stats-fields-found || fail stats-fields-found "$stats"
same stats-documented "$stats" "$(documented '/stats')"
same servers-fields-documented "$servers" "$(documented '/servers' | grep -v '^$')"
same configfs-attributes-documented "$configfs" "$(documented '/NAME/')"
[ "$failed" = 0 ] && echo "abi-doc: passed" || echo "abi-doc: FAILED"
exit "$failed"
