#!/usr/bin/env bash
# run-tests.sh: install what is missing, build, and run every test.
#
# Usage: scripts/run-tests.sh [CTEST ARGS...]
#   e.g. scripts/run-tests.sh -L unit        unit tests only
#        scripts/run-tests.sh -R vm-6.12     one kernel's VM scenarios
#
# Steps: scripts/install-deps.sh (apt-get; quick when all is there), a
# sanitizer build (ASan + UBSan) that runs the unit tests, a clang build that
# fuzzes each parser for RSWAP_FUZZ_SECONDS (default 10), the debug guest
# kernel (scripts/debug-kernel.sh: built once into its cache outside the
# clone, about 40 minutes on 2 cores the first time, then reused in
# seconds), the normal
# build (userspace, rswap.ko for each kernel and the debug one), then CTest
# over everything: unit tests (also under valgrind), checkpatch, the VM
# scenarios on Debian's 6.1 and 6.12 kernels, the kmod scenario on the
# debug kernel (any lockdep, KASAN, KFENCE or debugobjects report fails it;
# kmod-failover, drain and chaos there by hand, tests/vm/README.md), and the cluster benchmark at its smallest size on 6.1.
# Labels bench, manual and soak are left for runs by hand (ctest -L ...).
# RSWAP_DEBUG_KERNEL=off skips the debug kernel (its tests then say SKIP).
# Ends with CTest's summary; exits non-zero if any test failed.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

"$top/scripts/install-deps.sh"

echo "== sanitizer build: unit tests under ASan and UBSan"
cmake -S . -B build-asan -DRSWAP_SANITIZE=ON -DRSWAP_KERNEL_HEADERS= -DRSWAP_VM_KERNELS= >/dev/null
cmake --build build-asan -j "$jobs"
ctest --test-dir build-asan -L unit -E checkpatch --output-on-failure -j "$jobs"

echo "== fuzz: each parser for ${RSWAP_FUZZ_SECONDS:-10} s (scripts/fuzz.sh for longer runs)"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DRSWAP_FUZZ=ON \
	-DRSWAP_FUZZ_SECONDS="${RSWAP_FUZZ_SECONDS:-10}" \
	-DRSWAP_KERNEL_HEADERS= -DRSWAP_VM_KERNELS= >/dev/null 2>&1
cmake --build build-fuzz -j "$jobs" --target fuzz_wire fuzz_admin fuzz_handshake
ctest --test-dir build-fuzz -L fuzz --output-on-failure

debug_kernel=
if [ "${RSWAP_DEBUG_KERNEL:-}" = off ]; then
	echo "== debug kernel: off (RSWAP_DEBUG_KERNEL=off); its VM tests will say SKIP"
else
	echo "== debug kernel: scripts/debug-kernel.sh (cached in ${RSWAP_CACHE_DIR:-/var/cache/rswap})"
	debug_kernel=$("$top/scripts/debug-kernel.sh" | tail -n 1)
fi

echo "== build"
cmake -S . -B build -DRSWAP_DEBUG_KERNEL="$debug_kernel" >/dev/null
cmake --build build -j "$jobs"

echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs" -LE 'bench|manual|soak' "$@"
