# rswap-server over soft-RoCE: a client stores 10,000 patterned pages plus
# zero pages and reads every one back; the server is SIGKILLed and started
# again on the same backing file and every page is still there (new rkeys);
# another client cannot read the first one's slab with its rkey; a wrong key
# and malformed control messages are refused while the server keeps serving;
# extra queue pairs join a connection only with its attach token; slabs
# move server to server (MIGRATE), and a drain empties a server through its
# client's answers to EVACUATE, refused up front when the peers lack room; a
# MIGRATE to an RDMA service that is not a server of the pool writes nothing.
# The admin API: over TCP only status, drain-status and metrics without the
# admin key; a proved call cannot be replayed; another uid on the admin
# socket is refused; slow-loris sockets do not lock rswapctl or Prometheus
# out; a peer that trickles or lies does not hold or fool a drain; a client
# that is gone can be forgotten, its slabs freed.
# vm-memory: 1G
# vm-timeout: 480
# vm-bins: promtool

key=/tmp/rswap.key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key"
chmod 600 "$key"
admin_key=/tmp/rswap-admin.key
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$admin_key"
chmod 600 "$admin_key"
check add-host host_add mem1 1
addr=$(host_addr 1):7471
state=/tmp/pagetest.state

listening() { rdma resource show cm_id 2>/dev/null | grep -q "LISTEN.*pid $server_pid "; }

# exec: $! must be the server itself, not a subshell around it.
start_server() {
	on_host mem1 exec rswap-server --listen "$addr" --memory 128M --slab-size 1M \
		--backing /dev/shm/rswap-pool --key-file "$key" --admin-key-file "$admin_key" \
		>> /tmp/server.log 2>&1 &
	server_pid=$!
	wait_for 20 listening
}

check server-help sh -c 'rswap-server --help | grep -q -- --backing'
check server-refuses-bad-option sh -c \
	'rswap-server --memory 100M --slab-size 16M --backing /tmp/x --key-file '"$key"' 2>&1 |
	 grep -q "not a multiple of --slab-size"'
check server-starts start_server

check store-10000-pages sh -c "rswap_pagetest store --server $addr --key $key --state $state \
	--pages 10000 --zero-pct 30 > /tmp/store.log"
cat /tmp/store.log
# Which pages are zero is random, so the slabs it took vary (27 or 28).
held=$(sed -n 's/.* written in \([0-9]*\) slabs .*/\1/p' /tmp/store.log)
check_gt store-took-slabs "$held" 0
check verify-reconnected rswap_pagetest verify --server "$addr" --key "$key" --state "$state"
# A second server on the same backing file and log: refused at once, exit
# non-zero, the first one's log untouched and its pages intact.
meta_sum=$(md5sum < /dev/shm/rswap-pool.meta)
on_host mem1 rswap-server --listen "$(host_addr 1):7479" --admin 127.0.0.1:7480 \
	--memory 128M --slab-size 1M --backing /dev/shm/rswap-pool --key-file "$key" \
	> /tmp/second.log 2>&1
check_eq second-server-exits-1 1 $?
cat /tmp/second.log
check second-server-says-why grep -q "is in use by another process (pid $server_pid" /tmp/second.log
check_eq first-log-untouched "$meta_sum" "$(md5sum < /dev/shm/rswap-pool.meta)"
check verify-after-second-server rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

first_pid=$server_pid
kill -9 "$server_pid"
wait "$server_pid"
check_eq server-killed-by-sigkill 137 $?
check server-restarts-after-sigkill start_server
check_eq server-is-a-new-process yes "$([ "$server_pid" != "$first_pid" ] && kill -0 "$server_pid" && echo yes)"
check_eq server-started-twice 2 "$(grep -c '^rswap-server: serving' /tmp/server.log)"
check server-replayed-its-slabs grep -q "serving .* ($held slabs held" /tmp/server.log
check verify-after-restart rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

check other-client-cannot-read rswap_pagetest steal --server "$addr" --key "$key" --state "$state"
check verify-after-steal-attempt rswap_pagetest verify --server "$addr" --key "$key" --state "$state"
# HELLO as that client, with a real client key of the pool made for
# another id: refused, and its slabs stay its own.
check impersonation-refused rswap_pagetest impersonate --server "$addr" --key "$key" --state "$state"
check impersonation-logged grep -q 'client impostor (.*): wrong key for its client id' /tmp/server.log
check verify-after-impersonation rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > /tmp/wrong.key
chmod 600 /tmp/wrong.key
check wrong-key-refused rswap_pagetest badkey --server "$addr" --key /tmp/wrong.key
check wrong-key-logged grep -q 'wrong key for its client id, refused' /tmp/server.log
check garbage-refused rswap_pagetest garbage --server "$addr" --key "$key"
check verify-after-garbage rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

# The admin API: status for a person, stats as JSON, Prometheus metrics.
rswapctl status > /tmp/status.txt; cat /tmp/status.txt
check rswapctl-status grep -q "slabs        $held held, $((128 - held)) free" /tmp/status.txt
rswapctl --json stats > /tmp/stats.json; cat /tmp/stats.json
check rswapctl-stats-json grep -q "\"held_slabs\":$held" /tmp/stats.json
rswapctl stats
check rswapctl-clients sh -c 'rswapctl clients | grep -q pagetest'
check metrics-prometheus sh -c 'rswapctl metrics | grep -q "^rswap_grants_total [0-9]"'
check metrics-help-lines sh -c 'rswapctl metrics | grep -q "^# TYPE rswap_auth_failures_total counter"'
rswapctl metrics > /tmp/metrics.prom
check metrics-promtool-accepts sh -c 'promtool check metrics < /tmp/metrics.prom'
# Every GRANT answered is in the histogram, and +Inf holds them all.
check_eq metrics-grant-histogram-counts-grants "$(awk '$1 == "rswap_grant_answers_total" { print $2 }' /tmp/metrics.prom)" \
	"$(awk '$1 == "rswap_grant_seconds_count" { print $2 }' /tmp/metrics.prom)"
check_eq metrics-grant-histogram-inf "$(awk '$1 == "rswap_grant_seconds_count" { print $2 }' /tmp/metrics.prom)" \
	"$(awk '$1 == "rswap_grant_seconds_bucket{le=\"+Inf\"}" { print $2 }' /tmp/metrics.prom)"
# Junk on the admin port: refused, counted, and the server keeps answering.
printf '\000\000\000\005hello' | timeout 5 nc 127.0.0.1 7472 > /dev/null
printf '\377\377\377\377' | timeout 5 nc 127.0.0.1 7472 > /dev/null
check rdma-garbage-counted grep -q '"malformed_total":6,"protocol_errors_total":1' /tmp/stats.json
check admin-garbage-counted sh -c 'rswapctl --json stats | grep -q "\"admin_malformed_total\":2"'
check rswapctl-unreachable sh -c 'rswapctl --server 127.0.0.1:1 status 2>&1 | grep -q "cannot reach"'

# Who may ask what. rswapctl above went through the admin socket (root).
check socket-logged grep -q 'admin socket @rswap-admin/127.0.0.1/7472' /tmp/server.log
check tcp-status-open sh -c "rswapctl --tcp status | grep -q 'slabs        $held held'"
check tcp-drain-status-open sh -c 'rswapctl --tcp drain-status | grep -q "state        idle"'
rswapctl --tcp clients > /tmp/tcp-clients.txt 2>&1
check_eq tcp-clients-refused 1 $?
cat /tmp/tcp-clients.txt
check tcp-refusal-says-why grep -q "clients needs the admin socket .* or the admin key" /tmp/tcp-clients.txt
rswapctl --tcp drain > /tmp/tcp-drain.txt 2>&1
check_eq tcp-drain-refused 1 $?
check tcp-drain-changed-nothing sh -c 'rswapctl --json status | grep -q "\"draining\":false"'
check tcp-with-admin-key sh -c "rswapctl --tcp --admin-key $admin_key clients | grep -q pagetest"
rswapctl --tcp --admin-key /tmp/wrong.key clients > /tmp/tcp-wrong.txt 2>&1
check_eq tcp-wrong-admin-key-refused 1 $?
check tcp-wrong-admin-key-says-so grep -q "wrong admin key" /tmp/tcp-wrong.txt
check admin-replay-refused rswap_admintest replay --server 127.0.0.1:7472 --admin-key "$admin_key"
check_eq admin-refusals-counted 2 "$(rswapctl --json stats | sed -n 's/.*"admin_refused_total":\([0-9]*\).*/\1/p')"
check_eq admin-auth-failures-counted 4 "$(rswapctl --json stats | sed -n 's/.*"admin_auth_failures_total":\([0-9]*\).*/\1/p')"
check socket-other-uid-refused rswap_admintest socket-call --socket @rswap-admin/127.0.0.1/7472 --uid 65534
# Slow-loris: 24 sockets from 6 sources trickle a byte a second; rswapctl
# over TCP and Prometheus still get answers, and every slow one is closed.
rswap_admintest trickle --server 127.0.0.1:7472 --conns 24 --from 127.0.0.2 \
	--from 127.0.0.3 --from 127.0.0.4 --from 127.0.0.5 --from 127.0.0.6 --from 127.0.0.7 \
	--seconds 12 > /tmp/trickle.txt 2>&1 &
trickle_pid=$!
sleep 3
check tcp-status-despite-slowloris timeout 10 rswapctl --tcp status
check metrics-despite-slowloris sh -c 'timeout 10 rswapctl metrics | grep -q "^rswap_admin_dropped_total [1-9]"'
wait $trickle_pid
cat /tmp/trickle.txt
check slowloris-all-closed grep -q "24 of 24 connected, 24 closed by the server" /tmp/trickle.txt
check verify-after-admin-attacks rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

# Per-queue QPs: more queue pairs join a connection with its attach token,
# in its protection domain; a wrong or dead token is refused.
check queue-pairs-attach rswap_pagetest attach --server "$addr" --key "$key" --pages 64
check_eq attaches-counted 2 "$(rswapctl --json stats | sed -n 's/.*"attached_qps_total":\([0-9]*\).*/\1/p')"
check_eq attach-refusals-counted 2 "$(rswapctl --json stats | sed -n 's/.*"attach_refused_total":\([0-9]*\).*/\1/p')"
check verify-after-attach rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

# Forget: a client that is gone (here one that stored 300 pages and left)
# is dropped by its id, its 2 slabs freed; its pages are gone, the other
# client's are not.
rswapctl clients | awk 'NR > 1 {print $1}' > /tmp/ids-before
held_before=$(rswapctl status | sed -n 's/^slabs *\([0-9]*\) held.*/\1/p')
rswap_pagetest store --server "$addr" --key "$key" --state /tmp/forget.state \
	--pages 300 --zero-pct 0 > /dev/null 2>&1
rswapctl clients | awk 'NR > 1 {print $1}' > /tmp/ids-after
gone=$(grep -v -x -F -f /tmp/ids-before /tmp/ids-after)
echo "client to forget: $gone"
check forget-client sh -c "rswapctl forget '$gone' | grep -q 'client $gone forgotten: 2 slabs freed'"
check forgotten-not-listed sh -c "! rswapctl clients | grep -q '$gone'"
check forget-freed-slabs sh -c "rswapctl status | grep -q 'slabs        $held_before held'"
rswap_pagetest verify --server "$addr" --key "$key" --state /tmp/forget.state > /dev/null 2>&1
check_eq forgotten-pages-gone 1 $?
rswapctl forget no-such-client > /tmp/forget-none.txt 2>&1
check_eq forget-unknown-refused 1 $?
check verify-after-forget rswap_pagetest verify --server "$addr" --key "$key" --state "$state"

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
# No --peer, no --copy-targets: nowhere a slab could be copied to.
rswapctl --server 127.0.0.1:7482 drain > /tmp/drain-nowhere.txt 2>&1
check_eq drain-without-peers-refused 1 $?
check drain-without-peers-says-why grep -q "has no --peer, so no server a slab could be copied to" \
	/tmp/drain-nowhere.txt
kill -TERM $small_pid
wait $small_pid
# A returned slab is scrubbed before its next tenant: a tenant fills 2
# slabs and returns them, the next one is granted the same 2 and reads
# zeros on every page.
on_host mem1 exec rswap-server --listen "$(host_addr 1):7483" --admin 127.0.0.1:7484 \
	--memory 4M --slab-size 1M --max-clients 4 --backing /dev/shm/rswap-residue \
	--key-file "$key" > /tmp/residue.log 2>&1 &
residue_pid=$!
wait_for 20 sh -c "rdma resource show cm_id | grep -q 'LISTEN.*pid $residue_pid '"
check no-residue-between-tenants rswap_pagetest residue --server "$(host_addr 1):7483" \
	--key "$key" --slabs 2
# --max-clients 4: a client holding slabs, the two tenants above (one holds
# 2 slabs, one nothing), then five clients in turn that hold nothing: each
# gets in, an idle entry reclaimed for it.
rswap_pagetest store --server "$(host_addr 1):7483" --key "$key" --state /tmp/mc.state \
	--pages 200 --zero-pct 0 > /dev/null 2>&1
check_eq max-clients-holder-stores 0 $?
for n in 1 2 3 4 5; do
	rswap_pagetest steal --server "$(host_addr 1):7483" --key "$key" --state /tmp/mc.state \
		> /tmp/mc-$n.txt 2>&1
	check_eq "max-clients-newcomer-$n-gets-in" 0 $?
done
check max-clients-reclaimed grep -q "client table full (4): reclaimed the entry of client" \
	/tmp/residue.log
check max-clients-holder-intact rswap_pagetest verify --server "$(host_addr 1):7483" \
	--key "$key" --state /tmp/mc.state
kill -TERM $residue_pid
wait $residue_pid
# No --quota on a server open to more than one client: half of it each.
# Of its 8 slabs a client is granted 4, and the fifth it wants is refused
# as over quota while 4 are free.
on_host mem1 exec rswap-server --listen "$(host_addr 1):7485" --admin 127.0.0.1:7486 \
	--memory 8M --slab-size 1M --backing /dev/shm/rswap-default-quota \
	--key-file "$key" > /tmp/default-quota.log 2>&1 &
dq_pid=$!
wait_for 20 sh -c "rdma resource show cm_id | grep -q 'LISTEN.*pid $dq_pid '"
rswap_pagetest store --server "$(host_addr 1):7485" --key "$key" --state /tmp/dq.state \
	--pages 1300 --zero-pct 0 > /tmp/default-quota.txt 2>&1
check_eq default-quota-store-fails 1 $?
check default-quota-is-half grep -q 'server refused: quota reached' /tmp/default-quota.txt
check default-quota-shown sh -c 'rswapctl --server 127.0.0.1:7486 --json clients | grep -q "\"quota_slabs\":4,\"held_slabs\":4,"'
check default-quota-leaves-the-rest sh -c 'rswapctl --server 127.0.0.1:7486 status | grep -q "slabs        4 held, 4 free"'
kill -TERM $dq_pid
wait $dq_pid

# ---- Slabs move server to server: A copies into B over RDMA on the
# client's behalf; then A is drained into B and C by EVACUATE.
a_addr=$(host_addr 1):7491
a_admin=127.0.0.1:7492
b_admin=127.0.0.1:7502
c_admin=127.0.0.1:7512
counter() { rswapctl --server "$1" --json stats | sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"; }
# start_peer NAME HOST-NUMBER RDMA-PORT ADMIN MEMORY [OPTS...]: pid in $peer_pid
start_peer() {
	local name=$1 n=$2 port=$3 admin=$4 mem=$5
	shift 5
	# One tenant: --quota all (the default is half of MEMORY).
	on_host "$name" exec rswap-server --listen "$(host_addr "$n"):$port" --admin "$admin" \
		--memory "$mem" --slab-size 1M --backing "/dev/shm/rswap-$name-$port" \
		--key-file "$key" --quota all "$@" >> "/tmp/$name-$port.log" 2>&1 &
	peer_pid=$!
	wait_for 20 sh -c "rdma resource show cm_id | grep -q 'LISTEN.*pid $peer_pid '"
}
check add-host-2 host_add mem2 2
check add-host-3 host_add mem3 3
# A copies to hosts 2 and 3 (--copy-targets): the decoy below listens on
# host 3 and must be refused by the accept's proof, not by the address.
check server-a-starts start_peer mem1 1 7491 "$a_admin" 16M --peer "$b_admin" --peer "$c_admin" \
	--max-copies 1 --copy-targets "$(host_addr 2),$(host_addr 3)"
a_pid=$peer_pid
check server-b-starts start_peer mem2 2 7471 "$b_admin" 4M
b_pid=$peer_pid
check migrate-server-to-server rswap_pagetest migrate --server "$a_addr" \
	--target "$(host_addr 2):7471" --key "$key"
check_eq migration-counted 1 "$(counter "$a_admin" migrations_total)"
check_eq migration-pages-counted 169 "$(counter "$a_admin" migrated_pages_total)"
check_eq migration-failure-counted 1 "$(counter "$a_admin" migration_failures_total)"
check_eq wrong-token-refused-by-target 1 "$(counter "$b_admin" attach_refused_total)"
check_eq migration-copy-qp-on-target 1 "$(counter "$b_admin" copy_qps_total)"
check_eq migration-not-in-clients-pd 0 "$(counter "$b_admin" attached_qps_total)"
check migration-logged grep -q 'migrated slab .* 169 pages in .* MiB/s' /tmp/mem1-7491.log
check migration-copy-qp-logged grep -q 'copy of slab [0-9]* in from .*: its own region, write-only' \
	/tmp/mem2-7471.log
check migration-copy-qp-freed wait_for 10 grep -q 'copy of slab [0-9]* in from .*: RDMA_CM_EVENT_DISCONNECTED' \
	/tmp/mem2-7471.log

# A MIGRATE pointed at an RDMA service that is not a server of the pool (a
# decoy on host 3, with a buffer open to remote writes, named as the
# target slab): refused before any write, whether the decoy accepts plainly
# or forges a copy accept, and counted. Then, while a third copy waits for
# the decoy's answer, another client's MIGRATE is over A's --max-copies 1:
# refused at once.
check migrate-to-decoy-refused rswap_pagetest decoy --server "$a_addr" \
	--target "$(host_addr 3):7690" --key "$key" --max-copies 1
check_eq decoy-refusals-counted 2 "$(counter "$a_admin" migrations_refused_target_total)"
check_eq decoy-failures-counted 4 "$(counter "$a_admin" migration_failures_total)"
check_eq decoy-nothing-migrated 1 "$(counter "$a_admin" migrations_total)"
check decoy-refusal-logged grep -q 'not a server of this pool; nothing written' /tmp/mem1-7491.log
check max-copies-refusal-logged grep -q 'copy of slab [0-9]* refused: 1 running, the --max-copies limit' \
	/tmp/mem1-7491.log
# What a copy queue pair reaches on a target (the tool plays the source):
# the client's one slab, write-only, until that slab is returned.
check copy-qp-reaches-one-slab-write-only rswap_pagetest copyqp --server "$(host_addr 2):7471" \
	--key "$key"
check copy-qp-ended-by-return grep -q 'copy of slab [0-9]* in from .* ended: the slab is returned' \
	/tmp/mem2-7471.log
check copy-qp-refusals-logged sh -c "grep -q 'copy queue pair from .* refused: unknown attach token' \
	/tmp/mem2-7471.log && grep -q \"copy queue pair from .* refused: the target slab is not the client's\" \
	/tmp/mem2-7471.log"

# A client holds 6 slabs on A (5 with pages, 1 empty); B has room for 4 and
# C is down: the drain is refused and nothing changes.
rm -f /tmp/evacuee.ready
rswap_pagetest evacuee --server "$a_addr" --target "$(host_addr 2):7471" \
	--target "$(host_addr 3):7471" --key "$key" --slabs 6 --ready /tmp/evacuee.ready \
	--timeout 150 > /tmp/evacuee.txt 2>&1 &
evacuee_pid=$!
check evacuee-holds-slabs wait_for 60 test -e /tmp/evacuee.ready
# C's admin port is held by an impostor that answers a byte a second: the
# drain's peer query gives up on it within its 2 s deadline.
rswap_admintest fake-peer --listen "$c_admin" --mode trickle --seconds 60 > /tmp/fake-peer.txt 2>&1 &
fake_pid=$!
wait_for 10 grep -q fake-peer /tmp/fake-peer.txt
t0=$(date +%s)
rswapctl --server "$a_admin" drain > /tmp/refused.txt 2>&1 &
drain_pid=$!
# Meanwhile the server serves everyone else: the peers are asked by a
# thread of their own, not by the event loop.
sleep 0.5
uptime_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
ts=$(uptime_ms)
rswapctl --server "$a_admin" status > /dev/null
check_eq status-during-peer-query 0 $?
te=$(uptime_ms)
echo "status answered in $((te - ts)) ms while the drain asked its peers"
check status-not-held-by-peer-query test $((te - ts)) -lt 1000
wait $drain_pid
check_eq drain-refused-exit-1 1 $?
t1=$(date +%s)
cat /tmp/refused.txt
check drain-not-held-by-trickling-peer test $((t1 - t0)) -le 8
check trickling-peer-logged grep -q "peer $c_admin: no answer in time" /tmp/mem1-7491.log
kill $fake_pid; wait $fake_pid 2>/dev/null
# ... and by one that claims more free slabs than it has: not believed.
rswap_admintest fake-peer --listen "$c_admin" --mode liar --seconds 60 > /tmp/fake-peer.txt 2>&1 &
fake_pid=$!
wait_for 10 grep -q fake-peer /tmp/fake-peer.txt
rswapctl --server "$a_admin" drain > /tmp/refused-liar.txt 2>&1
check_eq drain-refused-despite-liar 1 $?
# A peer's line is logged when what it says changes. Under load the liar
# may miss a round's 2 s deadline, and then says only "no answer in time",
# as the trickler did before it at the same address: ask again (each
# drain is refused: the lie is no room).
liar_logged() {
	grep -q "peer $c_admin: more free slabs than slabs in its status: not believed" \
		/tmp/mem1-7491.log && return 0
	rswapctl --server "$a_admin" drain > /dev/null 2>&1
	return 1
}
check lying-peer-logged wait_for 30 liar_logged
kill $fake_pid; wait $fake_pid 2>/dev/null
check drain-refused-says-why grep -q "drain refused: 6 slabs (6 MiB) held here, the peers have room for 4 (4 MiB): $b_admin 4 free, $c_admin unreachable. Add memory" /tmp/refused.txt
check drain-refused-changed-nothing sh -c "rswapctl --server $a_admin status | grep -q 'slabs        6 held' &&
	rswapctl --server $a_admin drain-status | grep -q 'state        idle' &&
	rswapctl --server $a_admin --json status | grep -q '\"draining\":false'"
check_eq no-evacuate-sent 0 "$(counter "$a_admin" evacuations_total)"

check server-c-starts start_peer mem3 3 7471 "$c_admin" 8M
c_pid=$peer_pid
rswapctl --server "$a_admin" drain > /tmp/drain.txt 2>&1
check_eq drain-exit-0 0 $?
cat /tmp/drain.txt
check drain-summary grep -q "^drained $a_admin: 6 slabs moved, .* MiB copied server to server in .* s (.* MiB/s); nothing remains here" /tmp/drain.txt
wait "$evacuee_pid"
check_eq evacuee-moved-every-slab 0 $?
cat /tmp/evacuee.txt
check evacuee-checked-copies grep -q "evacuee: 6 slabs moved (.* pages copied server to server, checked on the targets), 0 not moved, 0 still held" /tmp/evacuee.txt
check drained-server-holds-none sh -c "rswapctl --server $a_admin status | grep -q 'slabs        0 held'"
check_eq evacuations-counted 6 "$(counter "$a_admin" evacuations_total)"
check drain-status-done sh -c "rswapctl --server $a_admin drain-status | grep -q 'state        done (drain)'"
check drain-status-json sh -c "rswapctl --server $a_admin --json drain-status | grep -q '\"slabs_moved\":6,.*\"refusing_grants\":true'"
check peers-hold-the-slabs sh -c "rswapctl --server $b_admin status | grep -q 'slabs        4 held' &&
	rswapctl --server $c_admin status | grep -q 'slabs        1 held'"
rswap_pagetest store --server "$a_addr" --key "$key" --state /tmp/d.state --pages 10 \
	--zero-pct 0 > /tmp/draining.txt 2>&1
check_eq drained-server-refuses-grants 1 $?
check grant-refusal-says-draining grep -q "server refused: draining" /tmp/draining.txt
check undrain sh -c "rswapctl --server $a_admin undrain | grep -q 'grants slabs again'"
check grants-after-undrain rswap_pagetest store --server "$a_addr" --key "$key" \
	--state /tmp/d.state --pages 10 --zero-pct 0

# --drain-on-stop: SIGTERM moves what is held, then the server exits.
kill -TERM "$a_pid"; wait "$a_pid"
check restart-a-drain-on-stop start_peer mem1 1 7491 "$a_admin" 16M --peer "$c_admin" \
	--drain-on-stop
a_pid=$peer_pid
rm -f /tmp/evacuee.ready
rswap_pagetest evacuee --server "$a_addr" --target "$(host_addr 3):7471" --key "$key" \
	--slabs 3 --ready /tmp/evacuee.ready --timeout 100 > /tmp/evacuee2.txt 2>&1 &
evacuee_pid=$!
check evacuee-2-holds-slabs wait_for 60 test -e /tmp/evacuee.ready
kill -TERM "$a_pid"
wait "$a_pid"
check_eq drain-on-stop-exit-0 0 $?
wait "$evacuee_pid"
check_eq drain-on-stop-moved-every-slab 0 $?
cat /tmp/evacuee2.txt
check drain-on-stop-logged grep -q 'drain on stop finished' /tmp/mem1-7491.log
# By default a server copies only to the listen addresses its --peer
# servers give in their status. D knowing B alone, a copy to C (a server of
# the pool with room, but not D's peer) is refused before anything
# connects; D knowing C, the same copy goes.
copies_on_c=$(counter "$c_admin" copy_qps_total)
check server-d-starts-with-peer-b start_peer mem1 1 7495 127.0.0.1:7496 4M --peer "$b_admin"
d_pid=$peer_pid
rswap_pagetest migrate --server "$(host_addr 1):7495" --target "$(host_addr 3):7471" \
	--key "$key" > /tmp/migrate-d.txt 2>&1
check_eq migrate-to-non-peer-fails 1 $?
cat /tmp/migrate-d.txt
check migrate-to-non-peer-logged grep -q "to $(host_addr 3):7471 refused: not the RDMA address of any --peer" \
	/tmp/mem1-7495.log
check_eq migrate-to-non-peer-no-copy-on-c "$copies_on_c" "$(counter "$c_admin" copy_qps_total)"
kill -TERM $d_pid
wait $d_pid
check server-d-starts-with-peer-c start_peer mem1 1 7495 127.0.0.1:7496 4M --peer "$c_admin"
d_pid=$peer_pid
check peer-address-learned wait_for 10 grep -q "peer $c_admin: reachable; copies to it go to $(host_addr 3)" \
	/tmp/mem1-7495.log
check migrate-to-peer rswap_pagetest migrate --server "$(host_addr 1):7495" \
	--target "$(host_addr 3):7471" --key "$key"
kill -TERM $d_pid
wait $d_pid
# --copy-targets: a server that may copy only to host 2 refuses a MIGRATE
# to C (host 3) before it connects anywhere; C sees no copy. (Last: the
# client it leaves holds a slab on C.)
copies_on_c=$(counter "$c_admin" copy_qps_total)
check server-d-starts start_peer mem1 1 7495 127.0.0.1:7496 4M --copy-targets "$(host_addr 2)"
d_pid=$peer_pid
rswap_pagetest migrate --server "$(host_addr 1):7495" --target "$(host_addr 3):7471" \
	--key "$key" > /tmp/migrate-d.txt 2>&1
check_eq migrate-outside-copy-targets-fails 1 $?
cat /tmp/migrate-d.txt
check migrate-outside-copy-targets-logged grep -q "to $(host_addr 3):7471 refused: not one of --copy-targets" \
	/tmp/mem1-7495.log
check_gt migrate-outside-copy-targets-counted "$(counter 127.0.0.1:7496 migrations_refused_target_total)" 0
check_eq migrate-outside-copy-targets-no-copy-on-c "$copies_on_c" "$(counter "$c_admin" copy_qps_total)"
kill -TERM $d_pid
wait $d_pid
kill -TERM "$b_pid" "$c_pid"
wait "$b_pid" "$c_pid"

echo "---- server log"
cat /tmp/server.log
echo "---- drain logs"
cat /tmp/mem1-7491.log /tmp/mem2-7471.log /tmp/mem3-7471.log
