# The pool directory on a real etcd (one member, on the guest's loopback):
#   - each memory server is registered by rswap-register (as installed)
#     under a lease: its listen address, failure domain and free bytes;
#   - an rswap device made in configfs with no servers gets them from the
#     directory through rswap-client watch (its item's servers: +ADDRESS),
#     domains included, and swaps on them;
#   - a third server that registers joins the device while it swaps;
#   - that server killed: its lease is revoked when it stops answering,
#     the device declares it lost (replicas=2: no page is lost), and the
#     watcher then removes it; a workload swapping through all of it
#     verifies every page;
#   - etcd itself down: nothing is removed, the watcher says so, and
#     says when etcd answers again;
#   - SIGTERM: rswap-register revokes its lease, the watcher stops.
# vm-memory: 1536M
# vm-timeout: 600
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff etcd etcdctl timeout

. /usr/lib/rswap-vm/rswap-lib.sh

check workload-memory-high workload_memory_high
check deploy-files-written rswap-deploy-files /
ln -sf /usr/local/bin/rswapctl /usr/sbin/rswapctl

export ETCDCTL_API=3
start_etcd() {
	etcd --name pool --data-dir /tmp/etcd --listen-client-urls http://127.0.0.1:2379 \
		--advertise-client-urls http://127.0.0.1:2379 \
		--listen-peer-urls http://127.0.0.1:2380 \
		--initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster pool=http://127.0.0.1:2380 >> /tmp/etcd.log 2>&1 &
	etcd_pid=$!
}
start_etcd
check etcd-up wait_for 60 etcdctl --endpoints=http://127.0.0.1:2379 endpoint health
prefix=/rswap/pools/lab/servers/
registered() { etcdctl get --prefix "$prefix" --keys-only 2>/dev/null | grep -c .; }

start_pool 2 128M
# register N: rswap-register for server N, in the background.
register() {
	rswap-register --endpoints http://127.0.0.1:2379 --pool lab --listen "$(server_addr "$1")" \
		--domain "rack$1" --admin "127.0.0.1:$(admin_port "$1")" --ttl 10 \
		>> "/tmp/register-$1.log" 2>&1 &
	eval "reg$1=\$!"
}
check register-refuses-bad-listen sh -c '! rswap-register --listen nowhere 2>/dev/null'
register 1
register 2
check two-registered wait_for 30 sh -c "[ \"\$(etcdctl get --prefix $prefix --keys-only | grep -c .)\" = 2 ]"
value1=$(etcdctl get "$prefix$(server_addr 1)" --print-value-only)
echo "server 1 in the directory: $value1"
check value-is-address-domain-free sh -c "echo '$value1' |
	grep -Eq '^$(server_addr 1) domain=rack1 free_bytes=[1-9][0-9]*\$'"

# A configfs device with no servers: the watcher adds and removes them
# through its item's servers (+ADDRESS@DOMAIN, -ADDRESS). (The cluster
# demo's module-parameter device goes through sysfs instead.)
cfs=/sys/kernel/config/rswap/pool
check module-loads modprobe rswap
[ -d /sys/kernel/config/rswap ] || mount -t configfs configfs /sys/kernel/config
check device-made-without-servers sh -c "mkdir $cfs && echo 512M > $cfs/size &&
	echo /tmp/rswap-client.key > $cfs/key_file && echo 2 > $cfs/replicas &&
	echo $((10 * RSWAP_SLOW)) > $cfs/loss_timeout && echo 1 > $cfs/power"
check_eq device-is-rswap0 rswap0 "$(cat $cfs/disk)"
check_eq no-servers-yet 0 "$(grep -c . /sys/block/rswap0/rswap/servers)"
printf 'etcd_endpoints = http://127.0.0.1:2379\npool = lab\n' > /tmp/client.conf
rswap-client -c /tmp/client.conf watch rswap0 > /tmp/watch.log 2>&1 &
watch_pid=$!
check servers-from-directory wait_for 30 servers_ready 2
check joined-said grep -q "rswap0: $(server_addr 1) joined (registered in pool lab, domain rack1)" /tmp/watch.log
check domain-from-directory grep -q "^$(server_addr 2) .* domain=rack2 " /sys/block/rswap0/rswap/servers
check_eq configfs-item-lists-them "$(server_addr 1)@rack1 $(server_addr 2)@rack2 " \
	"$(tr ',' '\n' < $cfs/servers | sort | tr '\n' ' ')"
check added-through-configfs grep -q \
	"rswap0: $(server_addr 1) joined (registered in pool lab, domain rack1) through configfs item pool" /tmp/watch.log
check swapon sh -c 'mkswap /dev/rswap0 && swapon --discard=pages /dev/rswap0'

rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 91 --pause-file /tmp/go \
	--ready-file /tmp/filled > /tmp/paused.log 2>&1 &
paused_pid=$!
check paused-filled wait_for 300 test -e /tmp/filled

# Server 3 comes: it registers, and the device takes it.
host_add mem3 3 && start_rswap_server mem3 3 128M
register 3
check server3-joins wait_for 30 servers_ready 3
check server3-joined-said grep -q "rswap0: $(server_addr 3) joined" /tmp/watch.log

# A workload swaps while server 3 goes for good.
in_cgroup rswap-swapfill --mib "$(shrink 48)" --seed 92 --passes 2 > /tmp/through.log 2>&1 &
through=$!
sleep 3
check server3-killed kill_rswap_server 3 KILL
check server3-unregistered wait_for 30 sh -c "! etcdctl get --prefix $prefix --keys-only | grep -q '$(server_addr 3)'"
check unregister-said wait_for 20 grep -q 'does not answer, or is draining' /tmp/register-3.log
check server3-lost-or-idle-then-left wait_for 180 sh -c "! grep -q '^$(server_addr 3) ' /sys/block/rswap0/rswap/servers"
check left-said wait_for 20 grep -q "rswap0: $(server_addr 3) left (not registered in pool lab.* through configfs item pool" /tmp/watch.log
wait "$through"
check_eq swapping-through-the-loss-verified 0 $?
tail -n 2 /tmp/through.log
check_eq no-read-errors 0 "$(rswap_stat read_errors)"
kill "$reg3" 2>/dev/null

# etcd down: nothing is removed, and the watcher says so.
kill "$etcd_pid"
wait "$etcd_pid" 2>/dev/null
check etcd-down-said wait_for 30 grep -q 'does not answer: nothing added or removed' /tmp/watch.log
check_eq servers-kept-while-etcd-down 2 "$(grep -c ' ready ' /sys/block/rswap0/rswap/servers)"
start_etcd
check etcd-back-said wait_for 60 grep -q 'answers again' /tmp/watch.log

touch /tmp/go
wait "$paused_pid"
check_eq paused-process-verified 0 $?

check register1-stops kill -TERM "$reg1"
check register1-revoked wait_for 20 sh -c "! etcdctl get --prefix $prefix --keys-only | grep -q '$(server_addr 1)'"
check register1-said wait_for 20 grep -q "stopped: ${prefix}$(server_addr 1) removed" /tmp/register-1.log
echo "--- register-1.log"; cat /tmp/register-1.log
check watch-stops kill -TERM "$watch_pid"
wait "$watch_pid"
check watch-stop-said grep -q 'stopped following pool lab' /tmp/watch.log
kill -TERM "$reg2" 2>/dev/null
echo "--- watch.log"; cat /tmp/watch.log
check swapoff swapoff /dev/rswap0
check device-off sh -c "echo 0 > $cfs/power && rmdir $cfs"
check module-unloads rmmod rswap
kill "$etcd_pid" 2>/dev/null
