# rswap.ko's devices made at run time through configfs
# (/sys/kernel/config/rswap/NAME/), each with its own size, servers,
# replicas, key file and client id:
#   - loaded without size=, the module makes no device; features lists the
#     attributes an item has;
#   - a bad setting is refused when written (not a number) or when power
#     goes to 1 (the check names it in the log: a bad replicas, a size
#     too big for the map with its copies), and nothing is made;
#   - two devices swap at once (same swap priority: the kernel spreads
#     pages over both), a workload verifying every page, each device
#     holding pages of its own on its own servers, as its own client;
#   - on a device that is on, size is refused (-EBUSY) and loss_timeout
#     takes effect at once; power 0 is refused while it is swapped on;
#   - servers on a device that is on: shows its servers, takes
#     +ADDRESS@DOMAIN (added and connected) and -ADDRESS (removed when it
#     holds nothing, refused while it holds pages), refuses a plain list;
#     power 0 keeps the list for the next power 1;
#   - one device goes (swapoff, power 0) and a third comes while the first
#     keeps swapping for a verifying workload;
#   - rmdir of a device still swapped on does not pull it from under swap:
#     it keeps serving and goes at swapoff, its last close.
# vm-memory: 1536M
# vm-timeout: 600
# vm-memory-max: 32M
# vm-bins: mkswap swapon swapoff

. /usr/lib/rswap-vm/rswap-lib.sh

check workload-memory-high workload_memory_high
start_pool 3 128M
cfs=/sys/kernel/config/rswap
key_a=$(client_key "$(hostname):a")
key_b=$(client_key "$(hostname):b")
key_c=$(client_key "$(hostname):c")

check module-loads-without-device modprobe rswap
[ -d /sys/kernel/config/rswap ] || mount -t configfs configfs /sys/kernel/config
check no-device-at-load sh -c '! ls /sys/block | grep -q rswap'
check configfs-subsystem test -d "$cfs"
check features-listed grep -q '^size,backend,servers,replicas,key_file,client_id,queue_depth,loss_timeout,power,disk$' "$cfs/features"

# setup NAME SIZE REPLICAS KEY SERVER...: an item, not yet on.
setup() {
	local d=$cfs/$1 list= n
	mkdir "$d" || return 1
	for n in $(seq 5 $#); do
		eval "list=\$list\${list:+,}\$(server_addr \${$n})"
	done
	echo "$2" > "$d/size" && echo "$3" > "$d/replicas" && echo "$4" > "$d/key_file" &&
		echo "$(hostname):$1" > "$d/client_id" && echo "$list" > "$d/servers"
}
check item-a-made setup a 256M 2 "$key_a" 1 2
check_eq new-item-off 0 "$(cat "$cfs/a/power")"
check_eq new-item-no-disk "" "$(cat "$cfs/a/disk")"
check_eq default-loss-timeout 0 "$(cat "$cfs/a/loss_timeout")"
check not-a-size-refused sh -c "! echo lots > $cfs/a/size"
check_eq bad-write-changes-nothing 268435456 "$(cat "$cfs/a/size")"
check bad-backend-refused sh -c "! echo disk > $cfs/a/backend"
echo 0 > "$cfs/a/replicas"
check bad-replicas-refused-at-power sh -c "! echo 1 > $cfs/a/power"
check bad-replicas-named-in-log sh -c "dmesg | grep -q 'rswap: rswap/a: replicas=0: must be 1 to 3'"
check_eq refused-power-stays-off 0 "$(cat "$cfs/a/power")"
check still-no-device sh -c '! ls /sys/block | grep -q rswap'
# A map entry names 2^31 slots, room for twice the pages per copy and the
# spare slabs at the largest slab size: 2T with three copies is more than
# that (at most 1324G), refused at power, said why.
echo 3 > "$cfs/a/replicas"
echo 2T > "$cfs/a/size"
check too-big-for-the-map-refused sh -c "! echo 1 > $cfs/a/power"
check too-big-named-in-log sh -c "dmesg | grep -q 'rswap: rswap/a: size=2199023255552: at most 1324G with replicas=3'"
check_eq too-big-stays-off 0 "$(cat "$cfs/a/power")"
echo 256M > "$cfs/a/size"
echo 2 > "$cfs/a/replicas"
check item-b-made setup b 256M 1 "$key_b" 3

check a-powers-on sh -c "echo 1 > $cfs/a/power"
check b-powers-on sh -c "echo 1 > $cfs/b/power"
check_eq a-is-rswap0 rswap0 "$(cat "$cfs/a/disk")"
check_eq b-is-rswap1 rswap1 "$(cat "$cfs/b/disk")"
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "/sys/block/$1/rswap/stats"; }
ready_of() { [ "$(grep -c ' ready ' "/sys/block/$1/rswap/servers")" = "$2" ]; }
check a-servers-ready wait_for 30 ready_of rswap0 2
check b-servers-ready wait_for 30 ready_of rswap1 1
check_eq a-replicas 2 "$(stat_of rswap0 replicas)"
check_eq b-replicas 1 "$(stat_of rswap1 replicas)"
check_eq a-size "$((256 * 256))" "$(stat_of rswap0 pages)"
check swapon-both sh -c 'mkswap /dev/rswap0 && mkswap /dev/rswap1 &&
	swapon -p 5 /dev/rswap0 && swapon -p 5 /dev/rswap1'

in_cgroup rswap-swapfill --mib "$(shrink 64)" --seed 81 --passes 2 > /tmp/both.log 2>&1
check_eq both-swapping-verified 0 $?
tail -n 2 /tmp/both.log
check_gt a-stored-pages "$(stat_of rswap0 remote_stores)" 0
check_gt b-stored-pages "$(stat_of rswap1 remote_stores)" 0
check_eq no-read-errors-a 0 "$(stat_of rswap0 read_errors)"
check_eq no-read-errors-b 0 "$(stat_of rswap1 read_errors)"
# Two clients to the servers: a's on 1 and 2, b's on 3, each under its id.
ctl 1 clients > /tmp/clients1.txt
ctl 3 clients > /tmp/clients3.txt
cat /tmp/clients1.txt /tmp/clients3.txt
# A client id is SHA-256("rswap-client-id" NUL text), its first 16 bytes.
id_of() { printf 'rswap-client-id\000%s' "$1" | sha256sum | cut -c 1-32; }
check_eq server1-only-a "$(id_of "$(hostname):a")" "$(awk 'NR > 1 { print $1 }' /tmp/clients1.txt)"
check_eq server3-only-b "$(id_of "$(hostname):b")" "$(awk 'NR > 1 { print $1 }' /tmp/clients3.txt)"

check size-refused-while-on sh -c "! echo 512M > $cfs/a/size"
check size-refusal-said sh -c "dmesg | grep -q 'rswap/a: size: not while power is 1'"
check loss-timeout-live sh -c "echo 77 > $cfs/a/loss_timeout"
check_eq loss-timeout-set 77 "$(cat "$cfs/a/loss_timeout")"
check power-off-refused-while-swapped-on sh -c "! echo 0 > $cfs/b/power"
check_eq b-still-on 1 "$(cat "$cfs/b/power")"

# b goes and c comes while a workload swaps on a (and b, until its swapoff
# brings its pages back).
in_cgroup rswap-swapfill --mib "$(shrink 64)" --seed 82 --passes 3 > /tmp/through.log 2>&1 &
through=$!
sleep 2
check b-swapoff swapoff /dev/rswap1
check b-powers-off sh -c "echo 0 > $cfs/b/power"
check b-disk-gone sh -c "! test -e /sys/block/rswap1"
check item-c-made setup c 128M 1 "$key_c" 3
check c-powers-on sh -c "echo 1 > $cfs/c/power"
check_eq c-takes-the-free-number rswap1 "$(cat "$cfs/c/disk")"
check c-servers-ready wait_for 30 ready_of rswap1 1
check c-swapon sh -c 'mkswap /dev/rswap1 && swapon -p 5 /dev/rswap1'
wait "$through"
check_eq swapping-through-changes-verified 0 $?
tail -n 2 /tmp/through.log
check rmdir-b rmdir "$cfs/b"

# servers while on: what the device has; +ADDRESS[@DOMAIN] adds a server,
# -ADDRESS removes one that holds nothing, a plain list is refused.
check_eq c-servers-shown "$(server_addr 3)" "$(cat "$cfs/c/servers")"
check c-server-added-live sh -c "echo '+$(server_addr 2)@rack-x' > $cfs/c/servers"
check_eq c-servers-shown-live "$(server_addr 3),$(server_addr 2)@rack-x" "$(cat "$cfs/c/servers")"
check c-added-server-ready wait_for 30 ready_of rswap1 2
check c-added-server-domain grep -q "^$(server_addr 2) ready .* domain=rack-x " /sys/block/rswap1/rswap/servers
check c-removal-of-a-server-with-pages-refused sh -c "! echo '-$(server_addr 3)' > $cfs/c/servers"
check c-removal-refusal-said sh -c "dmesg | grep -q '$(server_addr 3): holds [0-9]* slabs of rswap1'"
check c-plain-list-refused-while-on sh -c "! echo '$(server_addr 1)' > $cfs/c/servers"
check c-plain-list-refusal-said sh -c "dmesg | grep -q 'rswap/c: servers: while power is 1, write +ADDRESS:PORT'"
check c-malformed-token-changes-nothing sh -c "! echo '+$(server_addr 1) oops' > $cfs/c/servers &&
	! grep -q '^$(server_addr 1) ' /sys/block/rswap1/rswap/servers"
check c-server-removed-live sh -c "echo '-$(server_addr 2)' > $cfs/c/servers"
check_eq c-servers-after-removal "$(server_addr 3)" "$(cat "$cfs/c/servers")"
check c-removed-server-gone sh -c "! grep -q '^$(server_addr 2) ' /sys/block/rswap1/rswap/servers"
check c-add-of-a-bad-address-refused sh -c "! echo '+nowhere' > $cfs/c/servers"

# rmdir of a while it is swapped on: it stays until swapoff.
check rmdir-a-while-swapped-on rmdir "$cfs/a"
check a-kept-while-open test -e /sys/block/rswap0
check a-orphan-said sh -c "dmesg | grep -q 'rswap0: its configfs item was removed while it is open'"
in_cgroup rswap-swapfill --mib "$(shrink 32)" --seed 83 --passes 2 > /tmp/orphan.log 2>&1
check_eq orphan-still-swapping-verified 0 $?
check a-swapoff swapoff /dev/rswap0
check a-gone-at-last-close wait_for 10 sh -c '! test -e /sys/block/rswap0'
check c-swapoff swapoff /dev/rswap1
check c-powers-off sh -c "echo 0 > $cfs/c/power"
check_eq c-servers-kept-after-power-off "$(server_addr 3)" "$(cat "$cfs/c/servers")"
check rmdir-c rmdir "$cfs/c"
# A RAM-backed device takes no server, on or off.
check ram-item-on sh -c "mkdir $cfs/r && echo 64M > $cfs/r/size && echo ram > $cfs/r/backend &&
	echo 1 > $cfs/r/power"
check ram-server-refused sh -c "! echo '+$(server_addr 1)' > $cfs/r/servers"
check ram-refusal-said sh -c "dmesg | grep -q 'backend=ram takes no servers'"
check ram-item-gone sh -c "echo 0 > $cfs/r/power && rmdir $cfs/r"
check module-unloads rmmod rswap
check servers-hold-none wait_for 30 servers_hold_none 1 2 3
