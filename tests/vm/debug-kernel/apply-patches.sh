#!/usr/bin/env bash
# apply-patches.sh: put the debug guest kernel's module patches
# (tests/vm/debug-kernel/patches/*.patch) on an entry of
# scripts/debug-kernel.sh's cache, and rebuild only the modules they touch.
#
# Usage: tests/vm/debug-kernel/apply-patches.sh ENTRY
#        tests/vm/debug-kernel/apply-patches.sh --check ENTRY
#   --check   change nothing: exit 0 if ENTRY carries exactly this tree's
#             patches, 1 (and say which) if not
#
# Why a layer of its own: the cache key of scripts/debug-kernel.sh covers
# the config and the source; a full build takes 14 to 50 minutes. A patch
# here fixes a bug of a module (rdma_rxe) that the debug kernel reports and
# that would otherwise end lock debugging early (a KASAN or KFENCE report
# taints the kernel, and lockdep stops at the taint). Rebuilding one module
# takes seconds, so patches come and go without a new kernel build.
#
# Every patch is -p1 against linux-source-6.1. By default it touches files
# of modules only, and the modules of the directories it touches are
# rebuilt; a patch whose header has a line "Rebuild: bzImage" changes the
# kernel image, and `make bzImage` runs (incremental: a few minutes) and the
# entry's bzImage is replaced. ENTRY/PATCHES holds the
# hash of the patch set it carries; ENTRY/applied-patches/ the patches
# themselves, so a patch dropped from the tree is reversed again. Runs under
# the cache's lock, like the kernel build.
set -euo pipefail

top=$(cd "$(dirname "$0")/../../.." && pwd)
patchdir=$top/tests/vm/debug-kernel/patches

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "debug-kernel patches: $*" >&2; exit 1; }

check_only=0
case "${1:-}" in
-h|--help) usage; exit 0 ;;
--check) check_only=1; shift ;;
esac
[ $# -eq 1 ] || { usage >&2; exit 2; }
entry=$1
tree=$entry/linux-source-6.1
[ -f "$entry/COMPLETE" ] || die "$entry is not a complete debug kernel entry"
rel=$(cat "$entry/release")

# image_sane FILE: a bzImage a 1 GiB guest can boot. Its boot header
# says "HdrS" at 0x202 and the memory the decompressor needs at 0x260
# (init_size). Seen: a rebuild killed while it gzipped vmlinux.bin left
# a truncated vmlinux.bin.gz that make then took as up to date; the image
# built from it asked for 4 GiB (its length comes from the gzip trailer)
# and the guest reset before printing a byte, in every debug VM test.
image_sane() {
	local magic init
	magic=$(dd if="$1" bs=1 skip=514 count=4 2>/dev/null) || return 1
	init=$(od -An -tu4 -j 608 -N 4 "$1" 2>/dev/null | tr -d ' ') || return 1
	[ "$magic" = HdrS ] && [ -n "$init" ] && [ "$init" -gt 0 ] &&
		[ "$init" -lt $((512 << 20)) ]
}

shopt -s nullglob
patches=("$patchdir"/*.patch)
want=$(cat "${patches[@]}" /dev/null | sha256sum | cut -c1-12)
have=$(cat "$entry/PATCHES" 2>/dev/null || echo none)
[ "$want" = "$have" ] && image_sane "$entry/bzImage" && exit 0
if [ "$check_only" = 1 ]; then
	if [ "$want" = "$have" ]; then
		echo "debug-kernel patches: $entry/bzImage is not a bootable image (its header asks for more memory than a guest has)" >&2
	else
		echo "debug-kernel patches: $entry carries patch set $have, the tree has $want" >&2
	fi
	exit 1
fi

exec 9>"$(dirname "$entry")/.lock"
flock 9
have=$(cat "$entry/PATCHES" 2>/dev/null || echo none)
[ "$want" = "$have" ] && image_sane "$entry/bzImage" && exit 0

# The directories (modules) a patch touches, or the image.
dirs_of() {
	if grep -q '^Rebuild: bzImage$' "$1"; then
		echo bzImage
	else
		sed -n 's#^+++ b/\(.*\)/[^/]*$#\1#p' "$1"
	fi
}

log=$entry/patches.log
: > "$log"
mkdir -p "$entry/applied-patches"
declare -A rebuild=()
# Patches applied before and gone from the tree: reverse them.
for old in "$entry"/applied-patches/*.patch; do
	name=$(basename "$old")
	if [ -f "$patchdir/$name" ] && cmp -s "$old" "$patchdir/$name"; then
		continue
	fi
	echo "debug-kernel patches: reversing $name" >&2
	patch -d "$tree" -p1 -R -s -f < "$old" >> "$log" 2>&1 ||
		die "reversing $name failed; see $log"
	for d in $(dirs_of "$old"); do rebuild[$d]=1; done
	rm -f "$old"
done
for p in "${patches[@]}"; do
	name=$(basename "$p")
	[ -f "$entry/applied-patches/$name" ] && continue
	echo "debug-kernel patches: applying $name" >&2
	patch -d "$tree" -p1 -N -s -f < "$p" >> "$log" 2>&1 ||
		die "$name does not apply to $tree; see $log"
	cp "$p" "$entry/applied-patches/$name"
done
# What every patch of the set touches is rebuilt, not only what was
# applied just now: a run killed after applying and before rebuilding left
# applied-patches/ saying "applied" over stale modules (seen: an unpatched
# rdma_rxe.ko under a PATCHES that named the fix). PATCHES is written last.
for p in "${patches[@]}"; do
	for d in $(dirs_of "$p"); do rebuild[$d]=1; done
done
if ! image_sane "$entry/bzImage"; then
	echo "debug-kernel patches: $entry/bzImage is not bootable; building it again" >&2
	rebuild[bzImage]=1
fi

for d in "${!rebuild[@]}"; do
	if [ "$d" = bzImage ]; then
		echo "debug-kernel patches: rebuilding bzImage (incremental, a few minutes)" >&2
		# A killed make leaves its half-written target newer than its
		# inputs, and the next make keeps it: the linked kernel and the
		# decompressor's files are made again every time (two minutes).
		(cd "$tree" && rm -f vmlinux arch/x86/boot/bzImage \
			arch/x86/boot/vmlinux.bin arch/x86/boot/setup.bin \
			arch/x86/boot/setup.elf arch/x86/boot/zoffset.h \
			arch/x86/boot/voffset.h arch/x86/boot/compressed/vmlinux \
			arch/x86/boot/compressed/vmlinux.bin* \
			arch/x86/boot/compressed/vmlinux.relocs \
			arch/x86/boot/compressed/piggy.S arch/x86/boot/compressed/piggy.o)
		make -C "$tree" -j "$(nproc)" bzImage >> "$log" 2>&1 ||
			die "rebuilding bzImage failed; see $log"
		image_sane "$tree/arch/x86/boot/bzImage" ||
			die "the rebuilt bzImage is not bootable (its boot header asks for more memory than a guest has); see $log"
		[ "$(make -s -C "$tree" kernelrelease)" = "$rel" ] ||
			die "the rebuilt kernel's release is not $rel; see $log"
		cp "$tree/arch/x86/boot/bzImage" "$entry/bzImage.new"
		mv "$entry/bzImage.new" "$entry/bzImage"
		continue
	fi
	echo "debug-kernel patches: rebuilding the modules of $d" >&2
	make -C "$tree" -j "$(nproc)" M="$tree/$d" modules >> "$log" 2>&1 ||
		die "rebuilding $d failed; see $log"
	mods=("$tree/$d"/*.ko)
	[ ${#mods[@]} -gt 0 ] || die "$d holds no module after its build; see $log"
	mkdir -p "$entry/root/lib/modules/$rel/kernel/$d"
	cp "${mods[@]}" "$entry/root/lib/modules/$rel/kernel/$d/"
done
depmod -b "$entry/root" "$rel" >> "$log" 2>&1 || die "depmod failed; see $log"
echo "$want" > "$entry/PATCHES"
echo "debug-kernel patches: $entry carries patch set $want (${#patches[@]} patches)" >&2
