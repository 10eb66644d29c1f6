#!/usr/bin/env bash
# demo.sh: the main job, end to end in a QEMU guest with soft-RoCE.
#
# Usage: scripts/demo.sh [--kernel 6.1|6.12]
#
# Installs what is missing, builds, boots the kernel under QEMU, brings up
# an rxe device, and runs the smoke scenario: pages written to a remote
# buffer with one-sided RDMA and read back, compared byte for byte on both
# sides, and rswap.ko loaded and unloaded. Prints one line per check and a
# summary; the guest's console log path is printed too.
#
# (The memory server and the swap module are still being built; this
# becomes the demo cluster: servers, module, a workload swapping to them.)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
kernel=6.1
case "${1:-}" in
--kernel) kernel=${2:?--kernel needs 6.1 or 6.12} ;;
-h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "demo: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

"$top/scripts/install-deps.sh"
cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
exec "$top/tests/vm/run-vm" --kernel "$kernel" --build "$top/build" smoke
