#!/usr/bin/env bash
# debug-kernel.sh: build the VM suite's debug guest kernel once, cache it
# outside the clone, and reuse it.
#
# Usage: scripts/debug-kernel.sh [--cache DIR] [--jobs N] [--print]
#   --cache DIR   the cache (default: $RSWAP_CACHE_DIR, else /var/cache/rswap)
#   --jobs N      make -j N (default: nproc)
#   --print       never build: print the entry of a good build and exit 0,
#                 or say why there is none and exit 1
#   -h, --help    this text
#
# The kernel: Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz),
# `make x86_64_defconfig`, `make kvm_guest.config`, then the fragment
# tests/vm/debug-kernel/debug.config (KASAN inline, KFENCE, lockdep with
# PROVE_RCU, DEBUG_ATOMIC_SLEEP, debugobjects; rdma_rxe, ib_uverbs,
# rdma_ucm, brd and zram as modules) and olddefconfig. Every option the
# fragment sets is checked afterwards: one Kconfig dropped fails the build.
# Then `make bzImage modules` and `make modules_install` into the entry.
#
# The cache entry is DIR/linux-6.1-KEY, KEY a hash of the fragment, this
# script (without its comments) and the linux-source package version: a changed config or a new
# source package builds a new entry (and removes the older ones). It holds
#   linux-source-6.1/   the built tree: a full kbuild tree, so
#                       `make -C ENTRY/linux-source-6.1 M=DIR modules`
#                       builds an out-of-tree module for the kernel
#   bzImage             the kernel image
#   root/lib/modules/   its modules, as modules_install left them
#   release             the kernel release (6.1.N-rswap-debug)
#   build.log           the build's output
#   COMPLETE            written last: an entry without it (a failed or
#                       killed build) is removed and built again
# On success the entry's path is the last line on stdout; progress goes to
# stderr. A call with a good cache returns in well under a second.
#
# Time: on a fresh machine of this kind (2 cores), from install-deps to
# COMPLETE: 63m13s wall, 65m56s user + 9m25s sys, with the cores shared
# with a few builds and QEMU guests; so about 38 minutes on 2 idle cores
# (the VM notes' 14 minutes was for a smaller config). Once per config:
# CI reuses the cache. About 2.6 GiB of disk.
#
# Needs: linux-source-6.1, make, gcc, flex, bison, bc, libelf-dev,
# libssl-dev (scripts/install-deps.sh installs them all).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
fragment=$top/tests/vm/debug-kernel/debug.config
tarball=/usr/src/linux-source-6.1.tar.xz
srcpkg=linux-source-6.1

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "debug-kernel: $*" >&2; exit 1; }

cache=${RSWAP_CACHE_DIR:-/var/cache/rswap} jobs=$(nproc) print_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--cache) cache=${2:?}; shift 2 ;;
	--jobs) jobs=${2:?}; shift 2 ;;
	--print) print_only=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "debug-kernel: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done

[ -f "$tarball" ] || die "$tarball is missing: apt-get install $srcpkg (or scripts/install-deps.sh)"
[ -f "$fragment" ] || die "the config fragment $fragment is missing"
# The source package's version; the tarball's size and date where dpkg
# does not know it (a tarball put there by hand).
pkgver=$(dpkg-query -W -f='${Version}' "$srcpkg" 2>/dev/null) ||
	pkgver=$(stat -c '%s-%Y' "$tarball")
# Comments of this script are left out: they do not change the build.
key=$( { cat "$fragment"; grep -v '^[[:space:]]*#' "$0"; echo "$pkgver"; } |
	sha256sum | cut -c1-12)
entry=$cache/linux-6.1-$key

if [ -f "$entry/COMPLETE" ]; then
	echo "debug-kernel: cached: $(cat "$entry/release") in $entry" >&2
	echo "$entry"
	exit 0
fi
if [ "$print_only" = 1 ]; then
	echo "debug-kernel: no debug kernel built for this config in $cache (run scripts/debug-kernel.sh)" >&2
	exit 1
fi

# Everything the build needs, named before a 15-minute build finds out.
missing=()
for prog in make gcc flex bison bc perl tar xz depmod; do
	command -v "$prog" >/dev/null || missing+=("$prog")
done
[ -f /usr/include/gelf.h ] || missing+=("libelf-dev (gelf.h)")
[ -f /usr/include/openssl/ssl.h ] || missing+=("libssl-dev (openssl/ssl.h)")
[ ${#missing[@]} -eq 0 ] ||
	die "missing build dependencies: ${missing[*]} (apt-get install build-essential flex bison bc libelf-dev libssl-dev kmod xz-utils)"

mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] ||
	die "cannot write to the cache $cache (run as root, or set RSWAP_CACHE_DIR or --cache)"

# One build at a time per cache: a second caller waits, then finds it done.
exec 9>"$cache/.lock"
if ! flock -n 9; then
	echo "debug-kernel: another build holds $cache/.lock; waiting" >&2
	flock 9
fi
if [ -f "$entry/COMPLETE" ]; then
	echo "debug-kernel: built meanwhile: $(cat "$entry/release") in $entry" >&2
	echo "$entry"
	exit 0
fi

start=$(date +%s)
elapsed() {
	local s=$(( $(date +%s) - start ))
	printf '%dm%02ds' $((s / 60)) $((s % 60))
}
stage() { echo "debug-kernel: [$(elapsed)] $*" >&2; }

# A leftover entry without COMPLETE is a build that failed or was killed.
if [ -e "$entry" ]; then
	stage "removing an unfinished build in $entry"
	rm -rf "$entry"
fi
mkdir -p "$entry"
log=$entry/build.log
tree=$entry/linux-source-6.1
: > "$log"

# run STAGE CMD...: CMD with its output in the log; on failure, the tail.
run() {
	local what=$1
	shift
	stage "$what"
	if ! "$@" >> "$log" 2>&1; then
		echo "debug-kernel: $what failed; the end of $log:" >&2
		tail -n 30 "$log" | sed 's/^/  /' >&2
		exit 1
	fi
}
kmake() { make -C "$tree" -j "$jobs" "$@"; }

run "extracting $tarball ($srcpkg $pkgver)" tar -xf "$tarball" -C "$entry"
[ -f "$tree/Makefile" ] || die "$tarball did not unpack into linux-source-6.1/"
run "configuring: x86_64_defconfig + kvm_guest.config + $(basename "$fragment")" \
	kmake x86_64_defconfig
run "configuring: kvm_guest.config" kmake kvm_guest.config
# The fragment's options appended to .config; olddefconfig resolves them
# (the last assignment of a symbol wins).
cat "$fragment" >> "$tree/.config"
run "configuring: olddefconfig" kmake olddefconfig

# Kconfig drops silently what it cannot satisfy: check every line of the
# fragment against the result.
stage "checking that every option of the fragment is set"
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		sym=${line%%=*}
		got=$(grep -E "^$sym=" "$tree/.config" || echo "$sym unset")
		[ "$got" = "$line" ] || { echo "  wanted $line, got $got" >&2; bad=1; }
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		if grep -qE "^$sym=" "$tree/.config"; then
			echo "  wanted $sym off, got $(grep -E "^$sym=" "$tree/.config")" >&2
			bad=1
		fi
		;;
	esac
done < "$fragment"
[ "$bad" = 0 ] || die "Kconfig did not take the options above (a missing dependency?); see $tree/.config"

# A heartbeat while make runs, so a CI log shows it is alive.
stage "building bzImage and modules (make -j$jobs; about 14 minutes on 2 idle cores)"
kmake bzImage modules >> "$log" 2>&1 &
make_pid=$!
while kill -0 "$make_pid" 2>/dev/null; do
	for _ in $(seq 60); do
		sleep 1
		kill -0 "$make_pid" 2>/dev/null || break
	done
	kill -0 "$make_pid" 2>/dev/null &&
		stage "  still building: $(find "$tree" -name '*.o' | wc -l) objects so far"
done
if ! wait "$make_pid"; then
	echo "debug-kernel: the build failed; the errors in $log:" >&2
	grep -E 'error|Error' "$log" | tail -n 20 | sed 's/^/  /' >&2
	exit 1
fi
run "installing the modules into $entry/root" \
	kmake INSTALL_MOD_PATH="$entry/root" modules_install
rel=$(make -s -C "$tree" kernelrelease)
cp "$tree/arch/x86/boot/bzImage" "$entry/bzImage"
echo "$rel" > "$entry/release"
[ -d "$entry/root/lib/modules/$rel/kernel" ] || die "modules_install left no $entry/root/lib/modules/$rel"

# Written last: only now is the entry good.
echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) in $(elapsed) from $srcpkg $pkgver" > "$entry/COMPLETE"
stage "done: $rel in $entry"

# Older entries are configs or sources nobody builds any more.
for old in "$cache"/linux-6.1-*; do
	[ "$old" = "$entry" ] || [ ! -d "$old" ] || { stage "removing the stale $old"; rm -rf "$old"; }
done
echo "$entry"
