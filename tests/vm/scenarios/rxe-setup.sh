# rxe-setup: deploy/rxe/rswap-rxe, the soft-RoCE setup script for real
# hosts, on a veth pair (veth0 10.88.0.1, veth1 10.88.0.2) beside the
# guest's own rxe0 on eth0, which it must never touch: up creates rxe_veth0
# with the right RoCE MTU and an ACTIVE port and carries RDMA; up again
# changes nothing; status tells its devices from others; bad interfaces
# (missing, down, not Ethernet, MTU too small) are refused and a small MTU
# warned about; --dry-run changes nothing; down and down --all remove only
# what the script made (--force: a device made by hand too), and a device
# the kernel removed with its interface leaves only a stale record that
# down --all drops.
# vm-modules: veth
# vm-timeout: 120

rxe_out=/tmp/rswap-rxe.out
records=/run/rswap-rxe

# rxe ARGS...: run rswap-rxe; its output is shown and kept in $rxe_out, its
# exit status in $rc.
rxe() {
	rswap-rxe "$@" > "$rxe_out" 2>&1
	rc=$?
	echo "\$ rswap-rxe $* (status $rc)"
	cat "$rxe_out"
}
said() { grep -q -- "$1" "$rxe_out"; }

# The RDMA devices on an interface, by rdma link (the kernel's view).
dev_on() {
	rdma link show | awk -v n="$1" '{
		for (i = 3; i < NF; i++)
			if ($i == "netdev" && $(i + 1) == n) { d = $2; sub(/\/.*/, "", d); print d }
	}'
}
port_state() { rdma link show "$1/1" | awk '{ for (i = 3; i < NF; i++) if ($i == "state") print $(i + 1) }'; }
active_mtu() { ibv_devinfo -d "$1" | awk '$1 == "active_mtu:" { print $2 }'; }
record_count() { find "$records" -type f 2>/dev/null | wc -l | tr -d ' '; }

check veth-pair sh -c 'ip link add veth0 type veth peer name veth1 &&
	ip addr add 10.88.0.1/24 dev veth0 && ip addr add 10.88.0.2/24 dev veth1 &&
	ip link set veth0 up && ip link set veth1 up'
check_eq veth0-mtu 1500 "$(cat /sys/class/net/veth0/mtu)"

rxe --help
check_eq help-exit 0 "$rc"
check help-says-exit-codes said '0 done (or nothing to do), 1 failed or refused, 2 usage error'
rxe frobnicate
check_eq usage-error-exit-2 2 "$rc"
rxe up
check_eq up-without-interface-exit-2 2 "$rc"

# --dry-run: checks, prints, changes nothing.
rxe --dry-run up veth0
check_eq dry-run-up-exit 0 "$rc"
check dry-run-up-prints-command said 'dry-run: rdma link add rxe_veth0 type rxe netdev veth0'
check_eq dry-run-up-no-device "" "$(dev_on veth0)"
check_eq dry-run-up-no-record 0 "$(record_count)"

# up: rxe_veth0 on veth0, port ACTIVE, RoCE MTU 1024 for MTU 1500.
rxe up veth0
check_eq up-exit 0 "$rc"
check_eq up-device-on-veth0 rxe_veth0 "$(dev_on veth0)"
check_eq up-port-active ACTIVE "$(port_state rxe_veth0)"
check_eq up-device-mtu-1024 1024 "$(active_mtu rxe_veth0)"
check up-reports-mtu said 'RoCE MTU:   1024 (the device reports active_mtu 1024)'
check up-reports-port said 'port:       ACTIVE'
check up-reports-address said 'addresses:  10.88.0.1/24'
check up-reports-gid said 'GID:        index [0-9]* is RoCE v2 for 10.88.0.1'
check up-reports-undo said 'undo:       rswap-rxe down veth0'
check_eq up-recorded "netdev=veth0" "$(cat $records/rxe_veth0)"
check_eq eth0-still-rxe0 rxe0 "$(dev_on eth0)"

# up again: idempotent; another name on the same interface: refused.
rxe up veth0
check_eq up-again-exit-0 0 "$rc"
check up-again-nothing-to-do said 'already has rxe_veth0, made by rswap-rxe: nothing to do'
check_eq up-again-one-device rxe_veth0 "$(dev_on veth0)"
rxe up veth0 --name other0
check_eq up-other-name-refused 1 "$rc"
check up-other-name-says-which said 'already has the rxe device rxe_veth0'

# RDMA over the new device: rdma_cm picks rxe_veth0 by its address.
# (Between veth0 and veth1 it cannot work here: both addresses are local,
# so rxe's UDP packets go through lo, where no rxe device receives them, and
# rxe in another namespace does not work on these kernels.)
rdma_pagecheck server --bind 10.88.0.1 --pages 64 --timeout 30 &
srv=$!
if wait_for 10 sh -c 'rdma resource show cm_id 2>/dev/null | grep -q "^link rxe_veth0/1 .*state LISTEN"'; then
	pass rdma-listens-on-rxe_veth0
else
	rdma resource show cm_id
	fail rdma-listens-on-rxe_veth0 "no listening cm_id on rxe_veth0"
fi
check rdma-write-read-over-rxe_veth0 rdma_pagecheck client --connect 10.88.0.1 --timeout 30
check rdma-server-verified wait $srv

# status: ours and the guest's, told apart.
rxe status
check_eq status-exit 0 "$rc"
check status-lists-ours grep -Eq '^rxe_veth0 +veth0 +ACTIVE +LINK_UP +1500 +1024 +rswap-rxe$' "$rxe_out"
check status-lists-foreign grep -Eq '^rxe0 +eth0 +ACTIVE +LINK_UP +[0-9]+ +[0-9]+ +-$' "$rxe_out"

# Refused: a missing interface, one that is down, loopback, a device the
# script did not make, an MTU too small for RoCE.
rxe up nosuch0
check_eq up-missing-exit-1 1 "$rc"
check up-missing-names-it said "no network interface 'nosuch0'"
check veth2-down sh -c 'ip link add veth2 type veth peer name veth3 && ip addr add 10.88.1.1/24 dev veth2'
rxe up veth2
check_eq up-down-interface-exit-1 1 "$rc"
check up-down-interface-says-how said 'ip link set veth2 up'
check_eq up-down-interface-no-device "" "$(dev_on veth2)"
rxe up lo
check_eq up-loopback-exit-1 1 "$rc"
check up-loopback-says-why said 'lo is not an Ethernet interface'
rxe up eth0
check_eq up-foreign-exit-1 1 "$rc"
check up-foreign-names-it said 'already has the rxe device rxe0, which rswap-rxe did not make'
check veth1-mtu-300 ip link set veth1 mtu 300
rxe up veth1
check_eq up-mtu-300-exit-1 1 "$rc"
check up-mtu-300-says-why said "veth1's MTU 300 is too small for RoCE: it needs at least 336"
check_eq up-mtu-300-no-device "" "$(dev_on veth1)"

# Warned: an MTU below 1500 (1000 leaves room for a 512-byte RoCE MTU).
check veth1-mtu-1000 ip link set veth1 mtu 1000
rxe up veth1
check_eq up-mtu-1000-exit-0 0 "$rc"
check up-mtu-1000-warns said "warning: veth1's MTU is 1000, below 1500: RoCE MTU 512"
check_eq up-mtu-1000-device-mtu-512 512 "$(active_mtu rxe_veth1)"
check up-mtu-1000-reports said 'RoCE MTU:   512 (the device reports active_mtu 512)'

# rxe follows a later MTU change; status shows it.
check veth0-mtu-9000 ip link set veth0 mtu 9000
rxe status
check status-follows-mtu grep -Eq '^rxe_veth0 +veth0 +[A-Z]+ +[A-Z_]+ +9000 +4096 +rswap-rxe$' "$rxe_out"

# down: only what the script made.
rxe down eth0
check_eq down-foreign-refused 1 "$rc"
check down-foreign-says-why said 'rxe0 on eth0 was not made by rswap-rxe'
check_eq down-foreign-left-rxe0 rxe0 "$(dev_on eth0)"
rxe --dry-run down veth0
check_eq dry-run-down-exit 0 "$rc"
check dry-run-down-prints said 'dry-run: rdma link delete rxe_veth0'
check_eq dry-run-down-left-device rxe_veth0 "$(dev_on veth0)"
rxe down veth0
check_eq down-exit 0 "$rc"
check_eq down-removed-rxe_veth0 "" "$(dev_on veth0)"
check_eq down-left-rxe_veth1 rxe_veth1 "$(dev_on veth1)"
check_eq down-left-rxe0 rxe0 "$(dev_on eth0)"
rxe down veth0
check_eq down-again-exit-0 0 "$rc"
check down-again-nothing-to-do said 'no rxe device on veth0: nothing to do'

# down --all: every device the script made, nothing else.
check up-veth0-again rswap-rxe up veth0
rxe --dry-run down --all
check_eq dry-run-down-all-exit 0 "$rc"
check_eq dry-run-down-all-left-records 2 "$(record_count)"
check_eq dry-run-down-all-left-rxe_veth1 rxe_veth1 "$(dev_on veth1)"
rxe down --all
check_eq down-all-exit 0 "$rc"
check_eq down-all-removed-rxe_veth0 "" "$(dev_on veth0)"
check_eq down-all-removed-rxe_veth1 "" "$(dev_on veth1)"
check_eq down-all-left-rxe0 rxe0 "$(dev_on eth0)"
check_eq down-all-no-records 0 "$(record_count)"

# --force: a device made by hand goes too, but only when asked.
check foreign-device rdma link add foreign0 type rxe netdev veth1
rxe down --all
check_eq down-all-left-foreign0 foreign0 "$(dev_on veth1)"
rxe down --force veth1
check_eq down-force-exit 0 "$rc"
check_eq down-force-removed-foreign0 "" "$(dev_on veth1)"
check_eq down-force-left-rxe0 rxe0 "$(dev_on eth0)"

# The kernel removes an rxe device with its interface: the record left
# behind is reported as stale, and down --all drops it.
check up-veth0-to-delete rswap-rxe up veth0
check delete-veth-pair ip link delete veth0
rxe status
check status-stale-record said 'stale record: /run/rswap-rxe/rxe_veth0 (netdev=veth0)'
rxe down --all
check_eq down-all-stale-exit 0 "$rc"
check_eq down-all-dropped-stale 0 "$(record_count)"
check_eq end-rxe0-intact rxe0 "$(dev_on eth0)"
ip link delete veth2
