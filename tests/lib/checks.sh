# checks.sh: PASS/FAIL lines and their count for the shell tests (source it).
#   ok NAME                 NAME passed
#   bad NAME REASON         NAME failed, and why
#   has NAME FILE TEXT      pass if FILE has the line TEXT
#   checks_done             print "N passed, N failed"; status 0 if none failed
passed=0 failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1: $2"; failed=$((failed + 1)); }
has() {
	if grep -qxF -- "$3" "$2"; then ok "$1"; else bad "$1" "no line '$3' in $(basename "$2")"; fi
}
checks_done() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
