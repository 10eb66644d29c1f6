# rswap as installed. rswap-deploy-files lays out the files `cmake --install
# --prefix /usr` installs (units, rswap-client, the example configs). A memory
# server runs the ExecStartPre and ExecStart lines of rswap-server@.service
# (instance "a") on a config made from the shipped example; rswap-client
# start loads the module with the options of /etc/modprobe.d/rswap.conf
# (the shipped file, its options line filled in), waits for the server and
# swaps on; a workload twice its cgroup's memory.max swaps through it, and
# with its pages out, rswap-client stop swaps off (every page comes back,
# then verified) and unloads. Errors: a server that does not answer makes
# start fail within connect_timeout, naming it, and leaves no module; a bad
# module option fails with the kernel's reason; a misspelt key makes
# rswap-server exit 2 naming the file and line. The server speaks systemd's
# notify protocol to a stand-in socket: READY=1, WATCHDOG=1 within every
# watchdog interval, STOPPING=1.
# vm-memory: 1G
# vm-timeout: 300
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff

. /usr/lib/rswap-vm/rswap-lib.sh

check deploy-files-written rswap-deploy-files /
# The units name /usr/sbin; the guest has the build's programs in /usr/local/bin.
ln -sf /usr/local/bin/rswap-server /usr/sbin/rswap-server
ln -sf /usr/local/bin/rswapctl /usr/sbin/rswapctl

# unit_line KEY INSTANCE: the unit's KEY= command line for that instance.
unit_line() {
	sed -n "s/^$1=//p" /usr/lib/systemd/system/rswap-server@.service | sed "s/%i/$2/g"
}
module_loaded() { grep -q '^rswap ' /proc/modules; }
rswap_swap() { grep -q '^/dev/rswap0[[:space:]]' /proc/swaps; }

# ---- the server, as its unit starts it ----
host_add mem1 1
rswap_key /etc/rswap/key
sed -e 's|^#memory = .*|memory = 96M|' \
	-e 's|^#backing = .*|backing = /dev/shm/rswap-a|' \
	-e 's|^#key-file = |key-file = |' \
	-e "s|^#listen = .*|listen = $(host_addr 1):7471|" \
	-e 's|^#slab-size = .*|slab-size = 1M|' \
	/etc/rswap/server.conf.example > /etc/rswap/server-a.conf
check server-check-config sh -c "$(unit_line ExecStartPre a) > /tmp/check-config.out"
cat /tmp/check-config.out
check_eq check-config-effective-memory "memory = 96M" "$(grep '^memory = ' /tmp/check-config.out)"
check_eq check-config-default-meta "meta = /dev/shm/rswap-a.meta" \
	"$(grep '^meta = ' /tmp/check-config.out)"
# systemd's side of Type=notify and WatchdogSec=: a socket in
# NOTIFY_SOCKET and the interval in WATCHDOG_USEC (5 s here, shorter than
# the unit's, to see several pings while the server runs).
rswap-notify-sink /run/notify-a 290 > /tmp/notify-a.out 2>&1 &
sink_pid=$!
check notify-socket-bound wait_for 10 test -S /run/notify-a
# shellcheck disable=SC2046 # the unit's words, as systemd splits them
env NOTIFY_SOCKET=/run/notify-a WATCHDOG_USEC=5000000 $(unit_line ExecStart a) \
	>> /tmp/server-a.log 2>&1 &
server_pid=$!
check server-listens wait_for 20 _listening "$server_pid"
check server-says-ready wait_for 10 grep -q ' READY=1$' /tmp/notify-a.out
check_eq unit-has-a-watchdog 2min \
	"$(sed -n 's/^WatchdogSec=//p' /usr/lib/systemd/system/rswap-server@.service)"

# ---- the client ----
# Its own key, made from the pool key for the id it will give the servers.
client_id=$(rswap-client id)
check_eq client-id-from-machine-id "$(tr -d ' \n' < /etc/machine-id 2>/dev/null || hostname):rswap0" "$client_id"
check client-key-made rswapctl client-key --pool-key /etc/rswap/key --client-id "$client_id" \
	--out /etc/rswap/client.key
check_eq client-key-mode 600 "$(stat -c %a /etc/rswap/client.key)"
cp /etc/modprobe.d/rswap.conf /tmp/modprobe-rswap.conf.shipped
set_options() {
	sed "s|^#options rswap .*|options rswap $*|" /tmp/modprobe-rswap.conf.shipped \
		> /etc/modprobe.d/rswap.conf
}
set_options size=256M servers="$(host_addr 1):7471" key_file=/etc/rswap/client.key
sed -i -e 's/^#priority = .*/priority = 50/' -e 's/^#connect_timeout = .*/connect_timeout = 30/' \
	/etc/rswap/client.conf
check client-start rswap-client start
check_eq module-options-from-modprobe-d 256M "$(cat /sys/module/rswap/parameters/size)"
check_eq swap-on-with-priority 50 "$(awk '$1 == "/dev/rswap0" { print $5 }' /proc/swaps)"
check client-start-again-is-a-no-op rswap-client start

# ---- a workload through it ----
check workload-memory-high workload_memory_high
rm -f /tmp/go /tmp/filled
in_cgroup rswap-swapfill --mib 64 --zero-pct 20 --pause-file /tmp/go \
	--ready-file /tmp/filled > /tmp/fill.log 2>&1 &
fill_pid=$!
check workload-filled wait_for 200 test -e /tmp/filled
check_gt pages-went-to-the-pool "$(rswap_stat remote_pages)" 2000
check_gt server-holds-slabs "$(server_held 1)" 0
rswap-client status > /tmp/status.out 2>&1
check_eq status-says-running 0 $?
cat /tmp/status.out
check status-shows-the-server grep -q "^  $(host_addr 1):7471 ready slabs=" /tmp/status.out
check status-shows-the-swap grep -q '^swap: on, priority 50, ' /tmp/status.out

# ---- stop with the pages out: all come back ----
# swapoff charges them back to the cgroup: lift its limits first.
echo max > "$RSWAP_CGROUP/memory.high"
echo max > "$RSWAP_CGROUP/memory.max"
check client-stop rswap-client stop
check stop-swapped-off sh -c '! grep -q rswap0 /proc/swaps'
check stop-unloaded sh -c '! grep -q "^rswap " /proc/modules'
touch /tmp/go
wait "$fill_pid"
check_eq workload-verified 0 $?
cat /tmp/fill.log
check server-holds-nothing wait_for 30 servers_hold_none 1
rswap-client status > /tmp/status.out 2>&1
check_eq status-says-stopped 3 $?
cat /tmp/status.out
check client-stop-again-is-a-no-op rswap-client stop

# ---- errors ----
# A server that does not answer: start gives up after connect_timeout,
# says which, and leaves the system as it was.
set_options size=64M servers="$(host_addr 1):7999" key_file=/etc/rswap/client.key
sed -i 's/^connect_timeout = .*/connect_timeout = 3/' /etc/rswap/client.conf
t0=$(date +%s)
rswap-client start > /tmp/unreachable.out 2>&1
check_eq unreachable-start-fails 1 $?
t1=$(date +%s)
cat /tmp/unreachable.out
check unreachable-says-so grep -q 'servers not reachable' /tmp/unreachable.out
check unreachable-names-the-server grep -q "$(host_addr 1):7999 down" /tmp/unreachable.out
check unreachable-gives-up-in-time test $((t1 - t0)) -lt 15
check unreachable-leaves-nothing sh -c '! grep -q "^rswap " /proc/modules && ! grep -q rswap0 /proc/swaps'

# The pool key instead of the client's own key: refused by the server, and
# start says what key_file= must be.
set_options size=64M servers="$(host_addr 1):7471" key_file=/etc/rswap/key
rswap-client start > /tmp/poolkey.out 2>&1
check_eq pool-key-start-fails 1 $?
cat /tmp/poolkey.out
check pool-key-says-which-key grep -q "refused this host's key: key_file= must be the key of client id '$client_id'" /tmp/poolkey.out
check pool-key-leaves-nothing sh -c '! grep -q "^rswap " /proc/modules'

# A bad module option: the kernel's reason, nothing loaded.
set_options servers="$(host_addr 1):7471" key_file=/etc/rswap/client.key
rswap-client start > /tmp/badopt.out 2>&1
check_eq bad-option-start-fails 1 $?
cat /tmp/badopt.out
check bad-option-kernel-reason grep -q 'kernel: .*size= is required' /tmp/badopt.out
check bad-option-names-modprobe-d grep -q '/etc/modprobe.d/rswap.conf' /tmp/badopt.out
check bad-option-leaves-nothing sh -c '! grep -q "^rswap " /proc/modules'

# A misspelt key: exit 2 before anything starts, naming the file and line.
{ cat /etc/rswap/server-a.conf; echo "memroy = 1G"; } > /etc/rswap/server-b.conf
line=$(wc -l < /etc/rswap/server-b.conf)
for key in ExecStartPre ExecStart; do
	# shellcheck disable=SC2046
	$(unit_line $key b) > /tmp/bad-key.out 2>&1
	check_eq "bad-key-$key-exits-2" 2 $?
	cat /tmp/bad-key.out
	check "bad-key-$key-names-the-line" grep -q \
		"server-b.conf:$line: unknown key 'memroy' (did you mean memory?)" /tmp/bad-key.out
done

# The server stops cleanly on SIGTERM, as systemctl stop sends it, and
# says STOPPING=1 first. While it ran it pinged the watchdog, never more
# than the 5 s interval apart (systemd would have killed it).
kill -TERM "$server_pid"
wait "$server_pid"
check_eq server-stops-cleanly 0 $?
tail -n 3 /tmp/server-a.log
wait "$sink_pid"
cat /tmp/notify-a.out
check server-says-stopping grep -q ' STOPPING=1$' /tmp/notify-a.out
check_gt watchdog-pings "$(grep -c ' WATCHDOG=1$' /tmp/notify-a.out)" 1
awk '$2 == "READY=1" || $2 == "WATCHDOG=1" || $2 == "STOPPING=1" {
	if (n++ && $1 - last > gap) gap = $1 - last; last = $1 }
	END { if (n < 2) print "none"; else printf "%.2f\n", gap }' /tmp/notify-a.out > /tmp/notify-gap
echo "longest wait between the server's notify messages: $(cat /tmp/notify-gap) s"
check watchdog-never-late awk '{ exit !($1 != "none" && $1 < 5) }' /tmp/notify-gap
