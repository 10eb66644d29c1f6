# Smoke: soft-RoCE works in the guest, pages cross it intact, and rswap.ko
# loads and unloads without a kernel warning.
# vm-memory: 1G
# vm-timeout: 180

check rxe0-active sh -c 'rdma link show rxe0/1 | grep -q "state ACTIVE"'

# One host, loopback over rxe0: server and client in the same namespace.
rdma_pagecheck server --bind "$RSWAP_ADDR" --pages 256 --timeout 60 &
srv=$!
wait_for 10 sh -c 'rdma resource show cm_id 2>/dev/null | grep -q LISTEN'
check rdma-write-read-local rdma_pagecheck client --connect "$RSWAP_ADDR" --timeout 60
check rdma-server-verified-local wait $srv

# Two hosts (addresses of this guest, see lib.sh), a larger buffer.
check add-host-memsrv host_add memsrv 1
check add-host-client host_add client 2
on_host memsrv rdma_pagecheck server --bind "$(host_addr 1)" --pages 512 --timeout 60 &
srv=$!
wait_for 10 sh -c 'rdma resource show cm_id 2>/dev/null | grep -q LISTEN'
check rdma-write-read-two-hosts on_host client rdma_pagecheck client --connect "$(host_addr 1)" --timeout 60
check rdma-server-verified-two-hosts wait $srv

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > /tmp/smoke.key
chmod 600 /tmp/smoke.key
check rswap-ko-load modprobe rswap replicas=1 size=64M key_file=/tmp/smoke.key
check rswap-ko-listed grep -q '^rswap ' /proc/modules
check rswap-device-size grep -q ' 65536 rswap0$' /proc/partitions
check rswap-ko-unload rmmod rswap
