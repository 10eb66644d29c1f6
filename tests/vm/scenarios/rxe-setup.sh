# rxe-setup: deploy/rxe/rswap-rxe, the soft-RoCE setup script for real
# hosts, on a veth pair (veth0 10.88.0.1, veth1 10.88.0.2) beside the
# guest's own rxe0 on eth0, which it must never touch: up creates rxe_veth0
# with the right RoCE MTU and an ACTIVE port and carries RDMA; up again
# changes nothing; status tells its devices from others; bad interfaces
# (missing, down, not Ethernet, MTU too small) are refused and a small MTU
# warned about; --dry-run changes nothing; down and down --all remove only
# what the script made (--force: a device made by hand too), and a device
# the kernel removed with its interface leaves only a stale record that
# down --all drops. check tells a healthy device from a missing one, one
# whose interface is down, has no carrier or no address, and from one that a
# 3 s flap of eth0 under live RDMA traffic wedged (rxe0 ACTIVE, ping fine,
# no RDMA CM connection completes: its verdict is compared with an
# independent connection attempt by rdma_pagecheck); recreate heals that.
# vm-modules: veth
# vm-timeout: 300
# vm-bins: rdma_server rdma_client

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
# check's CM probe returns as soon as its connection completes; its default
# limit (10 s) was once too short on a host busy with other guests, where
# starting rdma_server and rdma_client alone takes seconds. A healthy
# device is not slower to say so with a longer limit.
probe=$((30 * RSWAP_SLOW))

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

# ---- check and recreate ----
# cm_connects PORT: an independent RDMA CM connection to the guest's own
# address (rdma_pagecheck, not rswap-rxe's rdma_server/rdma_client)
# completes within 15 s.
cm_connects() {
	local srv rc
	rdma_pagecheck server --bind "$RSWAP_ADDR" --port "$1" --pages 16 --timeout 20 \
		> /tmp/pagecheck-server.log 2>&1 &
	srv=$!
	wait_for 10 sh -c "rdma resource show cm_id | grep -q 'state LISTEN .*:$1 '"
	rdma_pagecheck client --connect "$RSWAP_ADDR" --port "$1" --timeout 15 > /tmp/pagecheck-client.log 2>&1
	rc=$?
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	return $rc
}

rxe check rxe0 --timeout "$probe"
check_eq check-fresh-healthy-exit-0 0 "$rc"
check check-fresh-says-healthy said '^rswap-rxe: rxe0: healthy: an RDMA CM connection to 10.0.2.15 completed'
check_eq check-left-no-listener "" "$(rdma resource show cm_id | grep 'comm rdma_')"
rxe check --timeout "$probe"
check_eq check-all-healthy-exit-0 0 "$rc"
check check-all-lists-rxe0 said '^rswap-rxe: rxe0: healthy'
rxe check nosuch0
check_eq check-missing-exit-3 3 "$rc"
check check-missing-says-so said 'nosuch0: missing: there is no RDMA device nosuch0'
rxe recreate nosuch0
check_eq recreate-missing-exit-3 3 "$rc"
rxe check rxe0 --timeout x
check_eq check-bad-timeout-exit-2 2 "$rc"
rxe check rxe0 extra
check_eq check-extra-argument-exit-2 2 "$rc"

# Down, three ways: the interface down, no carrier (its peer down), no
# address.
check veth45 sh -c 'ip link add veth4 type veth peer name veth5 &&
	ip addr add 10.88.2.1/24 dev veth4 && ip link set veth4 up && ip link set veth5 up'
check up-veth4 rswap-rxe up veth4
check veth4-down ip link set veth4 down
rxe check rxe_veth4
check_eq check-interface-down-exit-4 4 "$rc"
check check-interface-down-says-how said 'rxe_veth4: down: its interface veth4 is down (ip link set veth4 up)'
# (rxe calls a port ACTIVE when its interface comes up, carrier or not; it
# goes DOWN when an interface that is up loses its carrier.)
check no-carrier sh -c 'ip link set veth4 up && sleep 1 && ip link set veth5 down'
rxe check rxe_veth4
check_eq check-no-carrier-exit-4 4 "$rc"
check check-no-carrier-says-port said 'rxe_veth4: down: its port is DOWN'
check no-address sh -c 'ip link set veth5 up && ip addr flush dev veth4'
wait_for 10 sh -c 'rdma link show rxe_veth4/1 | grep -q "state ACTIVE"'
rxe check rxe_veth4
check_eq check-no-address-exit-4 4 "$rc"
check check-no-address-says-so said 'rxe_veth4: down: veth4 has no IPv4 or global IPv6 address'
# Without a device: every rxe device, the status of the first bad one.
rxe check --timeout "$probe"
check_eq check-all-one-down-exit-4 4 "$rc"
check check-all-still-says-rxe0-healthy said '^rswap-rxe: rxe0: healthy'
check down-veth4 rswap-rxe down veth4
ip link delete veth4

rxe --dry-run recreate rxe0
check_eq dry-run-recreate-exit-0 0 "$rc"
check dry-run-recreate-prints said 'dry-run: rdma link add rxe0 type rxe netdev eth0'
check_eq dry-run-recreate-left-rxe0 rxe0 "$(dev_on eth0)"

# The wedge: a 3 s flap of eth0 while an RDMA connection carries traffic
# (rping's loop of SEND, RDMA READ and WRITE over one rdma_cm connection).
rping -s -a "$RSWAP_ADDR" -p 19001 > /tmp/rping-server.log 2>&1 &
rping_srv=$!
wait_for 10 sh -c "rdma resource show cm_id | grep -q 'state LISTEN .*:19001 '"
rping -c -a "$RSWAP_ADDR" -p 19001 -C 0 > /tmp/rping-client.log 2>&1 &
rping_cli=$!
check rping-traffic-runs wait_for 10 sh -c \
	'[ "$(rdma resource show qp | grep -c "type RC state RTS .*comm rping")" = 2 ]'
sent0=$(cat /sys/class/infiniband/rxe0/ports/1/hw_counters/sent_pkts)
sleep 2
check_gt rping-traffic-flows "$(cat /sys/class/infiniband/rxe0/ports/1/hw_counters/sent_pkts)" "$sent0"
check flap-eth0 sh -c 'ip link set eth0 down && sleep 3 && ip link set eth0 up'
check rxe0-active-again wait_for 20 sh -c 'rdma link show rxe0/1 | grep -q "state ACTIVE"'
rxe check rxe0 --timeout "$probe"
check_rc=$rc
cp "$rxe_out" /tmp/check-after-flap.out
if cm_connects 7481; then
	# Not wedged this time: then check must say healthy.
	skip flap-wedged-rxe0 "the flap did not wedge rxe0 (an RDMA CM connection still completes)"
	check_eq check-after-harmless-flap-healthy 0 "$check_rc"
else
	cat /tmp/pagecheck-client.log
	pass flap-wedged-rxe0
	check_eq check-wedged-exit-1 1 "$check_rc"
	check check-wedged-says-why grep -q "^rswap-rxe: rxe0: wedged: eth0 is up, the port ACTIVE and 10.0.2.15 answers ping, but an RDMA CM connection to 10.0.2.15 .* did not complete within $probe s" /tmp/check-after-flap.out
	check check-wedged-says-fix grep -q 'fix: rswap-rxe recreate rxe0 (that is: rdma link delete rxe0; rdma link add rxe0 type rxe netdev eth0)' /tmp/check-after-flap.out
fi
check_eq check-wedged-left-no-test-process "" "$(ps | grep '[r]dma_\(server\|client\)')"

# recreate: the old device goes (rping's listener gets DEVICE_REMOVAL), a
# new rxe0 comes on eth0, and check says healthy.
rxe recreate rxe0 --timeout "$probe"
check_eq recreate-exit-0 0 "$rc"
check recreate-says-so said 'recreated rxe0 on eth0'
check recreate-checks said '^rswap-rxe: rxe0: healthy'
check_eq recreate-rxe0-on-eth0 rxe0 "$(dev_on eth0)"
check_eq recreate-port-active ACTIVE "$(port_state rxe0)"
check recreated-rxe0-connects cm_connects 7482
rxe check rxe0 --timeout "$probe"
check_eq check-after-recreate-exit-0 0 "$rc"
# (rping dies of the flap and of the device removal; its status is not the
# scenario's.)
kill "$rping_cli" "$rping_srv" 2>/dev/null
wait "$rping_cli" "$rping_srv" 2>/dev/null || :
