# summary.awk: raw.csv (system,workload,metric,round,value) to summary.csv:
# per system, workload and metric the rounds, median, lowest, highest, and
# for device figures the baseline's (brd's) median and the ratio to it.
# Histogram buckets (touch_*, module_*) are summed, not summarised: the
# report reads them from raw.csv.
function median(k,    n, i, j, t, v) {
	n = split(vals[k], v, " ")
	for (i = 2; i <= n; i++)	# insertion sort: a few rounds
		for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	lo[k] = v[1]; hi[k] = v[n]; cnt[k] = n
	return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
NR == 1 || $3 ~ /^(touch|module)_/ || $5 == "" { next }
{
	k = $1 SUBSEP $2 SUBSEP $3
	if (!(k in vals)) order[++nk] = k
	vals[k] = vals[k] " " $5
}
END {
	print "system,workload,metric,rounds,median,lowest,highest,baseline,ratio"
	for (i = 1; i <= nk; i++)
		m[order[i]] = median(order[i])
	for (i = 1; i <= nk; i++) {
		k = order[i]
		split(k, f, SUBSEP)
		w = f[2]
		sub(/-(pc0|nopf)$/, "", w)	# without readahead: against brd all the same
		b = f[1] == "raw" || f[1] == "none" || f[3] == "major_faults" ? "" : \
			"brd" SUBSEP w SUBSEP f[3]
		base = ""; r = ""
		if (b != "" && (b in m)) {
			base = m[b]
			if (base + 0 > 0)
				r = sprintf("%.3f", m[k] / base)
		}
		printf "%s,%s,%s,%d,%s,%s,%s,%s,%s\n", f[1], f[2], f[3], cnt[k], m[k], lo[k], hi[k], base, r
	}
}
