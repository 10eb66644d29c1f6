# Benchmark (not a test): rswap-server's slabs against the raw link.
# 4 KiB READ latency against ib_read_lat, 4 KiB WRITE throughput against
# ib_write_bw, all over the same rxe0 in this guest, three rounds each,
# interleaved; medians and ratios are printed between the markers that
# scripts/bench.sh shows.
# vm-memory: 1G
# vm-timeout: 840
. /usr/lib/rswap-vm/bench-lib.sh	# perftest_pair

key=/tmp/rswap.key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key"
chmod 600 "$key"
addr=$RSWAP_ADDR:7471
rounds=3
iters=2000

rswap-server --listen "$addr" --memory 256M --slab-size 4M --backing /dev/shm/bench \
	--key-file "$key" > /tmp/server.log 2>&1 &
srv=$!
wait_for 20 sh -c "rdma resource show cm_id | grep -q 'LISTEN.*pid $srv '" ||
	fail server-start "rswap-server did not listen"

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : "nan") }'; }

perftest() {	# perftest TOOL -> the result line of its client
	perftest_pair "$RSWAP_ADDR" "$1" -s 4096 -n "$iters" -F | awk '$1 == 4096'
}

for r in $(seq $rounds); do
	perftest ib_read_lat | awk '{ print $5 }' >> /tmp/raw_read_typ
	perftest ib_write_bw | awk '{ print $4 }' >> /tmp/raw_write_bw
	rswap_slab_bench --server "$addr" --key "$key" --iters "$iters" |
		sed -n 's/^read_p50_us=\([^ ]*\) read_p99_us=\([^ ]*\) write_MBps=\(.*\)$/\1 \2 \3/p' \
		>> /tmp/rswap_runs
done

check_eq perftest-read-rounds $rounds "$(grep -c . /tmp/raw_read_typ)"
check_eq perftest-write-rounds $rounds "$(grep -c . /tmp/raw_write_bw)"
check_eq rswap-bench-rounds $rounds "$(grep -c . /tmp/rswap_runs)"

raw_lat=$(median < /tmp/raw_read_typ)
raw_bw=$(median < /tmp/raw_write_bw)
p50=$(awk '{ print $1 }' /tmp/rswap_runs | median)
p99=$(awk '{ print $2 }' /tmp/rswap_runs | median)
bw=$(awk '{ print $3 }' /tmp/rswap_runs | median)
spread() { sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s..%s", lo, hi }'; }

echo "==== rswap benchmark: slabs vs raw RDMA ($(uname -r), $rounds rounds, medians) ===="
awk -v p50="$p50" -v p99="$p99" -v raw="$raw_lat" -v bw="$bw" -v rawbw="$raw_bw" \
    -v sp_lat="$(awk '{ print $1 }' /tmp/rswap_runs | spread)" -v sp_raw="$(spread < /tmp/raw_read_typ)" \
    -v sp_bw="$(awk '{ print $3 }' /tmp/rswap_runs | spread)" -v sp_rawbw="$(spread < /tmp/raw_write_bw)" 'BEGIN {
	r = p50 / raw; w = bw / rawbw
	printf "4 KiB READ  p50  rswap %8.1f us (%s)  ib_read_lat typical %8.1f us (%s)  ratio %.2fx  target <= 1.20x: %s\n", p50, sp_lat, raw, sp_raw, r, (r <= 1.2 ? "met" : "MISSED")
	printf "4 KiB READ  p99  rswap %8.1f us\n", p99
	printf "4 KiB WRITE      rswap %8.1f MB/s (%s)  ib_write_bw average %8.1f MB/s (%s)  ratio %.2fx  target >= 0.80x: %s\n", bw, sp_bw, rawbw, sp_rawbw, w, (w >= 0.8 ? "met" : "MISSED")
}'
echo "==== end ===="
kill -TERM $srv
wait $srv
