#!/usr/bin/env bash
# run-tests.sh: install what is missing, build, and run every test.
#
# Usage: scripts/run-tests.sh [CTEST ARGS...]
#   e.g. scripts/run-tests.sh -L unit        unit tests only
#        scripts/run-tests.sh -R vm-6.12     one kernel's VM scenarios
#
# Steps: scripts/install-deps.sh (apt-get; quick when all is there), a
# sanitizer build (ASan + UBSan) that runs the unit tests, a clang build that
# fuzzes each parser for RSWAP_FUZZ_SECONDS (default 10), the normal build
# (userspace, rswap.ko for each kernel), then CTest over everything: unit
# tests (also under valgrind), checkpatch, and the VM scenarios on Debian's
# 6.1 and 6.12 kernels, and the cluster benchmark at its smallest size on
# 6.1. Labels bench, manual and soak are left for runs by hand (ctest -L ...).
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
cmake --build build-fuzz -j "$jobs" --target fuzz_wire fuzz_admin
ctest --test-dir build-fuzz -L fuzz --output-on-failure

echo "== build"
cmake -S . -B build >/dev/null
cmake --build build -j "$jobs"

echo "== tests"
ctest --test-dir build --output-on-failure -j "$jobs" -LE 'bench|manual|soak' "$@"
