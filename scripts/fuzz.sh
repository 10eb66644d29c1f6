#!/usr/bin/env bash
# fuzz.sh: fuzz one parser for as long as you like (CI runs each for seconds).
#
# Usage: scripts/fuzz.sh wire|admin|handshake [SECONDS]   (default 600)
#   wire       proto/rswap_wire.h: the RDMA control messages (rswap_msg_check)
#   admin      the admin API's framing and protobuf unpacking
#   handshake  the server's check of a client's proof (HELLO, AUTH, addresses)
# Inputs found go to build-fuzz/tests/fuzz_<name>-corpus/; a crash is saved
# as build-fuzz/tests/crash-* (add it to tests/fuzz/corpus-<name>/ once
# fixed, so every run replays it).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
name=${1:?usage: scripts/fuzz.sh wire|admin|handshake [SECONDS]}
secs=${2:-600}
case "$name" in wire|admin|handshake) ;; *) echo "fuzz: no target '$name' (wire, admin, handshake)" >&2; exit 2 ;; esac
cd "$top"
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DRSWAP_FUZZ=ON \
	-DRSWAP_FUZZ_SECONDS="$secs" -DRSWAP_KERNEL_HEADERS= -DRSWAP_VM_KERNELS= >/dev/null 2>&1
cmake --build build-fuzz --target "fuzz_$name"
ctest --test-dir build-fuzz -R "^fuzz_$name\$" --output-on-failure -V
