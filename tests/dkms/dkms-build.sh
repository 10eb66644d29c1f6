#!/usr/bin/env bash
# Description: the DKMS source tree that `cmake --install` lays out builds
# rswap.ko for a given kernel through DKMS itself, and `dkms install` puts
# it where modprobe finds it.
#
# Usage: tests/dkms/dkms-build.sh --build DIR --kernel REL --headers DIR
#                                 --version VER --work DIR
#
#   --build DIR     the CMake build directory to install from
#   --kernel REL    kernel release to build for (6.1.0-56-amd64, ...)
#   --headers DIR   that kernel's headers (/usr/src/linux-headers-REL)
#   --version VER   the project version (the tree is rswap-VER)
#   --work DIR      scratch directory, emptied first and kept afterwards
#
# Steps: `cmake --install BUILD --prefix /usr --component dkms` into
# WORK/root (DESTDIR); `dkms add` and `dkms build` with private --dkmstree
# and --sourcetree; the module must carry the kernel's vermagic and the
# module's parameters; `dkms install` into a private --installtree must put
# it in updates/dkms. The host's /var/lib/dkms, /usr/src and /lib/modules
# are not touched, nor its module signing key (a scratch one signs).
#
# Needs dkms (scripts/install-deps.sh). add and build run as any user;
# dkms refuses `install` to anyone but root, so without root the build is
# checked and the test then skips (77). Exit: 0 passed, 1 failed, 77 skipped.
set -euo pipefail

build='' rel='' headers='' version='' work=''
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=${2:?}; shift 2 ;;
	--kernel) rel=${2:?}; shift 2 ;;
	--headers) headers=${2:?}; shift 2 ;;
	--version) version=${2:?}; shift 2 ;;
	--work) work=${2:?}; shift 2 ;;
	*) echo "dkms-build: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
for v in build rel headers version work; do
	[ -n "${!v}" ] || { echo "dkms-build: --$v is required" >&2; exit 2; }
done

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

command -v dkms >/dev/null || skip "dkms is not installed (scripts/install-deps.sh installs it)"
[ -f "$headers/Makefile" ] || skip "no kernel headers for $rel in $headers"

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
dest=$work/root
tree=$work/dkms
srctree=$dest/usr/src
insttree=$work/lib/modules
mkdir -p "$tree" "$insttree/$rel"

# DKMS signs what it builds when the kernel's sign-file exists, with
# /var/lib/dkms/mok.key (made on first use). It takes the key's paths from
# the environment: a scratch key keeps the host's alone.
export mok_signing_key=$work/mok.key mok_certificate=$work/mok.pub

dkms_run() {
	dkms "$@" --dkmstree "$tree" --sourcetree "$srctree"
}

# On a failed build, DKMS leaves its make.log in the build directory; after
# a good one it moves it under the kernel's directory.
show_make_log() {
	local log
	for log in "$tree/rswap/$version/build/make.log" \
		"$tree/rswap/$version/$rel"/*/log/make.log; do
		[ -f "$log" ] || continue
		echo "---- $log ----"
		cat "$log"
	done
}

echo "== cmake --install $build --prefix /usr --component dkms (DESTDIR=$dest)"
DESTDIR=$dest cmake --install "$build" --prefix /usr --component dkms ||
	fail "cmake --install failed"
src=$srctree/rswap-$version
[ -f "$src/dkms.conf" ] || fail "no $src/dkms.conf after the install"
(cd "$dest" && find . -type f | sort)
grep -qx "PACKAGE_VERSION=\"$version\"" "$src/dkms.conf" ||
	fail "dkms.conf does not say PACKAGE_VERSION=\"$version\""

echo "== dkms add rswap/$version"
dkms_run add "rswap/$version" || fail "dkms add failed"

echo "== dkms build rswap/$version -k $rel"
if ! dkms_run build "rswap/$version" -k "$rel" --kernelsourcedir "$headers"; then
	show_make_log
	fail "dkms build for $rel failed (make.log above)"
fi

ko=$(find "$tree/rswap/$version/$rel" -path '*/module/rswap.ko*' | head -n 1)
[ -n "$ko" ] || { show_make_log; fail "dkms build left no rswap.ko under $tree/rswap/$version/$rel"; }
echo "built: $ko"

vermagic=$(modinfo -F vermagic "$ko")
case "$vermagic" in
"$rel "*) echo "vermagic: $vermagic" ;;
*) fail "vermagic of $ko is '$vermagic', not $rel" ;;
esac
params=$(modinfo -F parm "$ko" | cut -d: -f1 | tr '\n' ' ')
echo "parameters: $params"
for p in servers size key_file; do
	case " $params" in
	*" $p "*) ;;
	*) fail "$ko has no parameter '$p' (has: $params)" ;;
	esac
done
depends=$(modinfo -F depends "$ko")
case ",$depends," in
*,rdma_cm,*) echo "depends: $depends" ;;
*) fail "$ko does not depend on rdma_cm (depends: '$depends')" ;;
esac

if [ "$(id -u)" -ne 0 ]; then
	skip "rswap.ko built and checked for $rel; dkms install needs root, not checked"
fi

echo "== dkms install rswap/$version -k $rel (into $insttree, no depmod)"
if ! dkms_run install "rswap/$version" -k "$rel" --kernelsourcedir "$headers" \
	--installtree "$insttree" --no-depmod; then
	fail "dkms install failed"
fi
installed=$(find "$insttree/$rel/updates/dkms" -name 'rswap.ko*' 2>/dev/null | head -n 1)
[ -n "$installed" ] || fail "dkms install put no rswap.ko in $insttree/$rel/updates/dkms"
echo "installed: ${installed#"$insttree"/}"
status=$(dkms status rswap --dkmstree "$tree" --installtree "$insttree")
echo "dkms status: $status"
case "$status" in
*"$rel"*installed*) ;;
*) fail "dkms status does not say rswap is installed for $rel" ;;
esac
echo "PASS: DKMS builds and installs rswap $version for $rel"
