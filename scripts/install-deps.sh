#!/usr/bin/env bash
# Install every build and test dependency of rswap from Debian's packages.
#
# Usage: scripts/install-deps.sh [--check]
#   --check   only report what is missing; exit 1 if anything is.
#
# Needs root (apt-get). Quick when everything is already installed: it asks
# dpkg first and only calls apt-get for what is missing.
#
# Two guest kernels are installed, image and headers for each:
#   6.1   Debian bookworm's default kernel (linux-image-amd64)
#   6.12  the newest linux-image-6.12.*+deb12-amd64 that has matching headers
set -euo pipefail

check_only=0
case "${1:-}" in
--check) check_only=1 ;;
-h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
"") ;;
*) echo "install-deps: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac

base_pkgs=(
	# build
	build-essential cmake pkg-config git kmod cpio xz-utils
	clang libclang-rt-14-dev valgrind libssl-dev
	libibverbs-dev librdmacm-dev liburing-dev
	libprotobuf-c-dev protobuf-c-compiler libcmocka-dev
	# guest: kernels, emulator, userspace copied into the initramfs
	qemu-system-x86 busybox-static
	linux-image-amd64 linux-headers-amd64
	rdma-core ibverbs-providers ibverbs-utils rdmacm-utils perftest
	iproute2 fio coreutils
	# deploy: the DKMS build test and systemd-analyze verify of the units
	dkms systemd
	# the benchmark report's plot
	gnuplot-nox
	# the pool directory's client (etcdctl; etcd itself: below)
	etcd-client
	# scripts/checkpatch.pl for the kernel code, and the driver sources we model on
	linux-source-6.1
	# scripts/debug-kernel.sh: building the debug guest kernel from it
	flex bison bc libelf-dev
)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || echo "$p"
	done
}

# The image package of kernel version $1 that apt can install: the signed
# one, or, once Debian has moved the signed one on (it is then only a name
# other packages mention, with no candidate), the -unsigned one, which puts
# the same /boot/vmlinuz-$1 in place.
image_package() {
	local p
	for p in "linux-image-$1" "linux-image-$1-unsigned"; do
		# Not a pipe into grep -q: under pipefail, apt-cache's SIGPIPE
		# would count as no candidate.
		if [[ $(apt-cache policy "$p" 2>/dev/null) =~ Candidate:\ [^\(] ]]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

export DEBIAN_FRONTEND=noninteractive
need=($(missing "${base_pkgs[@]}"))

# The 6.12 kernel has no meta package in bookworm: pick a version explicitly.
k612_installed=$(ls -d /usr/src/linux-headers-6.12.*+deb12-amd64 2>/dev/null |
	sed 's|.*/linux-headers-||' | sort -V | tail -n 1 || true)
if [ -z "$k612_installed" ] || [ ! -e "/boot/vmlinuz-$k612_installed" ]; then
	if [ "$check_only" = 0 ] && ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
		apt-get update -q
	fi
	k612=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		awk '{print $1}' | sed 's/^linux-headers-//' | sort -V |
		while read -r v; do
			if img=$(image_package "$v"); then echo "$v $img"; fi
		done | tail -n 1)
	if [ -z "$k612" ]; then
		echo "install-deps: no linux-image-6.12.*+deb12-amd64 with headers in the package lists" >&2
		exit 1
	fi
	need+=("${k612#* }" "linux-headers-${k612%% *}")
fi

# Programs taken out of Debian's packages without installing the packages,
# whose postinst would start a daemon on this machine: promtool (the
# Prometheus text-format checker the metrics tests use) from prometheus,
# and etcd (the pool directory's server the guests run) from etcd-server.
# Each: PROGRAM PACKAGE.
extracted=("promtool prometheus" "etcd etcd-server")
need_extract=()
for e in "${extracted[@]}"; do
	command -v "${e%% *}" > /dev/null || need_extract+=("$e")
done

if [ ${#need[@]} -eq 0 ] && [ ${#need_extract[@]} -eq 0 ]; then
	echo "install-deps: everything is installed"
	exit 0
fi
if [ "$check_only" = 1 ]; then
	for e in "${need_extract[@]}"; do
		need+=("${e%% *} (from ${e#* })")
	done
	echo "install-deps: missing: ${need[*]}"
	exit 1
fi
# Root for apt-get only: as root directly, else through sudo.
as_root=()
if [ "$(id -u)" != 0 ]; then
	if ! command -v sudo > /dev/null; then
		echo "install-deps: run as root (or install sudo) to install: ${need[*]}" >&2
		exit 1
	fi
	as_root=(sudo)
fi
if [ ${#need[@]} -gt 0 ]; then
	echo "install-deps: installing ${#need[@]} packages: ${need[*]}"
	"${as_root[@]}" apt-get update -q
	# The guests boot the kernel with an initramfs the suite builds; skip the
	# slow initrd generation the kernel packages would otherwise do.
	"${as_root[@]}" env INITRD=No apt-get install -y -q --no-install-recommends "${need[@]}"
fi
for e in "${need_extract[@]}"; do
	prog=${e%% *}
	pkg=${e#* }
	echo "install-deps: $prog from Debian's $pkg package, into /usr/local/bin"
	tmp=$(mktemp -d)
	chmod 755 "$tmp"	# apt downloads as _apt
	(cd "$tmp" && apt-get download -q "$pkg") || {
		"${as_root[@]}" apt-get update -q
		(cd "$tmp" && apt-get download -q "$pkg")
	}
	dpkg-deb --fsys-tarfile "$tmp/${pkg}"_*.deb | tar -xO "./usr/bin/$prog" > "$tmp/$prog"
	"${as_root[@]}" install -m 755 "$tmp/$prog" "/usr/local/bin/$prog"
	rm -rf "$tmp"
done
echo "install-deps: done"
