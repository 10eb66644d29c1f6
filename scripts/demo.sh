#!/usr/bin/env bash
# demo.sh: the main job, end to end in a QEMU guest with soft-RoCE.
#
# Usage: scripts/demo.sh [--kernel 6.1|6.12]
#
# Installs what is missing, builds, boots the kernel under QEMU, brings up
# soft-RoCE and runs the kmod scenario: two memory servers, rswap.ko
# swapping to them, a workload three times larger than its cgroup's
# memory.max with every page verified, swapoff, unload. Prints one line per
# check, then a summary of what moved where; the guest's console log path
# is printed too.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
kernel=6.1
case "${1:-}" in
--kernel) kernel=${2:?--kernel needs 6.1 or 6.12} ;;
-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "demo: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

"$top/scripts/install-deps.sh"
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
set +e
"$top/tests/vm/run-vm" --kernel "$kernel" --build "$top/build" kmod
rc=$?
echo
grep -a '^summary: ' "$top/build/vm-logs/$kernel-kmod/console.log" | sed 's/^summary: /  /'
exit $rc
