# faults.awk: from raw.csv, the swap-in latency per fault (swap-z0, and
# rswap's swap-z0-pc0 without readahead as "rswap-pc0") as Markdown: per
# system the process's first-touch histogram restricted to its slowest
# touches (as many as its major faults) with p50/p90/p99, and rswap's own
# read histograms (whole, post, wait) per workload they were taken around.
# Buckets are summed over the rounds; "<N" counts values under N us, ">=N"
# the rest.
function bound(b) { sub(/^[<>=]+/, "", b); return b + 0 }
function ge(b) { return b ~ /^>=/ }
NR == 1 { next }
# The module's histograms, per workload they were taken around.
$3 ~ /^module_(read|post|wait)_/ {
	split($3, p, "_"); b = p[3]
	if (!(b in seen)) { seen[b] = 1; mb[++nmb] = b }
	if (!($2 in wseen)) { wseen[$2] = 1; wl[++nwl] = $2 }
	mod[$2, p[2], b] += $5
	next
}
$2 == "swap-z0-pc0" { $1 = "rswap-pc0" }
$2 != "swap-z0" && $2 != "swap-z0-pc0" { next }
$3 == "major_faults" { majflt[$1] += $5; next }
$3 ~ /^touch_/ {
	b = substr($3, 7)
	if (!(($1 SUBSEP b) in touch)) { nb[$1]++; bk[$1, nb[$1]] = b }
	touch[$1, b] += $5
	next
}
# pct over the slowest M of the n buckets of sys: the bucket of rank q.
function pct(sys, q, m,    i, skip, acc, want) {
	skip = total[sys] - m
	want = skip + q * m
	acc = 0
	for (i = 1; i <= nb[sys]; i++) {
		acc += touch[sys, sorted[sys, i]]
		if (acc >= want) return sorted[sys, i]
	}
	return sorted[sys, nb[sys]]
}
# With -v cdf=FILE: "SYSTEM BOUND SHARE" lines, the share of the faults
# (the slowest M touches) under each bucket's bound, for the plot.
function cdf_lines(sys, m,    i, skip, acc, n) {
	skip = total[sys] - m
	acc = 0
	for (i = 1; i <= nb[sys]; i++) {
		acc += touch[sys, sorted[sys, i]]
		n = acc - skip
		if (n > 0)
			printf "%s %d %.4f\n", sys, bound(sorted[sys, i]) * (ge(sorted[sys, i]) ? 2 : 1),
				n / m > cdf
	}
}
END {
	ns = split("rswap rswap-pc0 brd zram nvme", sy, " ")
	print "| system | faults | p50 | p90 | p99 | slowest |"
	print "|---|---|---|---|---|---|"
	for (s = 1; s <= ns; s++) {
		sys = sy[s]
		if (!nb[sys]) { printf "| %s | - | - | - | - | - |\n", sys; continue }
		# buckets by bound
		for (i = 1; i <= nb[sys]; i++) sorted[sys, i] = bk[sys, i]
		for (i = 2; i <= nb[sys]; i++)
			for (j = i; j > 1 && (bound(sorted[sys, j - 1]) > bound(sorted[sys, j]) || \
			     (bound(sorted[sys, j - 1]) == bound(sorted[sys, j]) && ge(sorted[sys, j - 1]))); j--) {
				t = sorted[sys, j]; sorted[sys, j] = sorted[sys, j - 1]; sorted[sys, j - 1] = t
			}
		total[sys] = 0
		for (i = 1; i <= nb[sys]; i++) total[sys] += touch[sys, sorted[sys, i]]
		m = majflt[sys] < total[sys] ? majflt[sys] : total[sys]
		if (m <= 0) { printf "| %s | 0 | - | - | - | - |\n", sys; continue }
		printf "| %s | %d | %s µs | %s µs | %s µs | %s µs |\n", sys, m, pct(sys, 0.5, m),
			pct(sys, 0.9, m), pct(sys, 0.99, m), sorted[sys, nb[sys]]
		if (cdf != "")	# the faults' distribution: bound, share at or under it
			cdf_lines(sys, m)
	}
	if (!nmb) exit
	print ""
	print "rswap's RDMA reads (the module's read_latency_us: whole / post / wait; whole also has the reads served from a read ahead they waited for), per workload they were taken around:"
	print ""
	line = "| µs |"; sep = "|---|"
	for (w = 1; w <= nwl; w++) { line = line " " wl[w] " |"; sep = sep "---|" }
	print line; print sep
	for (i = 1; i <= nmb; i++) {
		line = "| " mb[i] " |"; any = 0
		for (w = 1; w <= nwl; w++) {
			line = line sprintf(" %d / %d / %d |", mod[wl[w], "read", mb[i]],
				mod[wl[w], "post", mb[i]], mod[wl[w], "wait", mb[i]])
			any += mod[wl[w], "read", mb[i]] + mod[wl[w], "post", mb[i]] + mod[wl[w], "wait", mb[i]]
		}
		if (any) print line
	}
}
