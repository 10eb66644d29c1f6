# rswap-server over soft-RoCE: a client stores 10,000 patterned pages plus
# zero pages and reads every one back; the server is SIGKILLed and started
# again on the same backing file and every page is still there (new rkeys);
# another client cannot read the first one's slab with its rkey; a wrong key
# and malformed control messages are refused while the server keeps serving;
# extra queue pairs join a connection only with its attach token.
# vm-memory: 1G
# vm-timeout: 300

key=/tmp/rswap.key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key"
chmod 600 "$key"
check add-host host_add mem1 1
addr=$(host_addr 1):7471
state=/tmp/pagetest.state

listening() { rdma resource show cm_id 2>/dev/null | grep -q "LISTEN.*pid $server_pid "; }

# exec: $! must be the server itself, not a subshell around it.
start_server() {
	on_host mem1 exec rswap-server --listen "$addr" --memory 128M --slab-size 1M \
		--backing /dev/shm/rswap-pool --key-file "$key" >> /tmp/server.log 2>&1 &
	server_pid=$!
	wait_for 20 listening
}

check server-help sh -c 'rswap-server --help | grep -q -- --backing'
check server-refuses-bad-option sh -c \
	'rswap-server --memory 100M --slab-size 16M --backing /tmp/x --key-file '"$key"' 2>&1 |
	 grep -q "not a multiple of --slab-size"'
check server-starts start_server

check store-10000-pages rswap_pagetest store --server "$addr" --key "$key" --state "$state" \
	--pages 10000 --zero-pct 30
check verify-reconnected rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

first_pid=$server_pid
kill -9 "$server_pid"
wait "$server_pid"
check_eq server-killed-by-sigkill 137 $?
check server-restarts-after-sigkill start_server
check_eq server-is-a-new-process yes "$([ "$server_pid" != "$first_pid" ] && kill -0 "$server_pid" && echo yes)"
check_eq server-started-twice 2 "$(grep -c '^rswap-server: serving' /tmp/server.log)"
check server-replayed-28-slabs grep -q 'serving .* (28 slabs held' /tmp/server.log
check verify-after-restart rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

check other-client-cannot-read rswap_pagetest steal --server "$addr" --key "$key" --state "$state"
check verify-after-steal-attempt rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > /tmp/wrong.key
chmod 600 /tmp/wrong.key
check wrong-key-refused rswap_pagetest badkey --server "$addr" --key /tmp/wrong.key
check wrong-key-logged grep -q 'wrong key, refused' /tmp/server.log
check garbage-refused rswap_pagetest garbage --server "$addr" --key "$key"
check verify-after-garbage rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

# The admin API: status for a person, stats as JSON, Prometheus metrics.
rswapctl status > /tmp/status.txt; cat /tmp/status.txt
check rswapctl-status grep -q "slabs        28 held, 100 free" /tmp/status.txt
rswapctl --json stats > /tmp/stats.json; cat /tmp/stats.json
check rswapctl-stats-json grep -q '"held_slabs":28' /tmp/stats.json
rswapctl stats
check rswapctl-clients sh -c 'rswapctl clients | grep -q pagetest'
check metrics-prometheus sh -c 'rswapctl metrics | grep -q "^rswap_grants_total [0-9]"'
check metrics-help-lines sh -c 'rswapctl metrics | grep -q "^# TYPE rswap_auth_failures_total counter"'
# Junk on the admin port: refused, counted, and the server keeps answering.
printf '\000\000\000\005hello' | timeout 5 nc 127.0.0.1 7472 > /dev/null
printf '\377\377\377\377' | timeout 5 nc 127.0.0.1 7472 > /dev/null
check rdma-garbage-counted grep -q '"malformed_total":6,"protocol_errors_total":1' /tmp/stats.json
check admin-garbage-counted sh -c 'rswapctl --json stats | grep -q "\"admin_malformed_total\":2"'
check rswapctl-unreachable sh -c 'rswapctl --server 127.0.0.1:1 status 2>&1 | grep -q "cannot reach"'

# Per-queue QPs: more queue pairs join a connection with its attach token,
# in its protection domain; a wrong or dead token is refused.
check queue-pairs-attach rswap_pagetest attach --server "$addr" --key "$key" --pages 64
check_eq attaches-counted 2 "$(rswapctl --json stats | sed -n 's/.*"attached_qps_total":\([0-9]*\).*/\1/p')"
check_eq attach-refusals-counted 2 "$(rswapctl --json stats | sed -n 's/.*"attach_refused_total":\([0-9]*\).*/\1/p')"
check verify-after-attach rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

kill -TERM "$server_pid"
wait "$server_pid"
check_eq sigterm-exit-status 0 $?
check stop-summary-logged grep -q 'stopped: .* grants' /tmp/server.log
# Quota and memory limit: refused with a clear reason, nothing stored wrong.
on_host mem1 exec rswap-server --listen "$(host_addr 1):7481" --admin 127.0.0.1:7482 \
	--memory 8M --slab-size 1M --quota 2M --backing /dev/shm/rswap-small \
	--key-file "$key" > /tmp/small.log 2>&1 &
small_pid=$!
wait_for 20 sh -c "rdma resource show cm_id | grep -q 'LISTEN.*pid $small_pid '"
rswap_pagetest store --server "$(host_addr 1):7481" --key "$key" --state /tmp/q.state \
	--pages 1000 --zero-pct 0 > /tmp/quota.txt 2>&1
check_eq quota-store-fails 1 $?
check quota-refused-clearly grep -q 'server refused: quota reached' /tmp/quota.txt
check quota-counted sh -c 'rswapctl --server 127.0.0.1:7482 --json clients | grep -q "\"held_slabs\":2,.*\"refused_quota_total\":1"'
for n in 1 2 3 4; do
	rswap_pagetest store --server "$(host_addr 1):7481" --key "$key" --state /tmp/m$n.state \
		--pages 512 --zero-pct 0 > /tmp/mem$n.txt 2>&1
done
check_eq memory-limit-store-fails 1 $?
check memory-limit-refused-clearly grep -q "server refused: no free slab" /tmp/mem4.txt
check memory-full sh -c 'rswapctl --server 127.0.0.1:7482 status | grep -q "slabs        8 held, 0 free"'
check earlier-client-intact rswap_pagetest verify --server "$(host_addr 1):7481" --key "$key" --state /tmp/m1.state
kill -TERM $small_pid
wait $small_pid

echo "---- server log"
cat /tmp/server.log
