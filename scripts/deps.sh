#!/bin/bash
# Install the Debian packages the harness needs (idempotent, quick when done).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

step "deps: Debian packages"
PKGS=(
	# kernel builds (pahole: the vmlinux BTF of the 7.3 kernels)
	build-essential bc bison flex libelf-dev libssl-dev kmod cpio rsync dwarves
	gcc-aarch64-linux-gnu ccache python3 python3-yaml python3-jsonschema
	perl git
	# kselftest helpers (BPF objects; libbpf for arm64 links libelf and zlib)
	clang llvm libelf-dev:arm64 zlib1g-dev:arm64
	# NIPA-style checks
	sparse coccinelle ocaml-nox codespell
	# QEMU build
	ninja-build meson pkg-config libglib2.0-dev libpixman-1-dev
	libcap-ng-dev libattr1-dev zlib1g-dev libfdt-dev dpkg-dev
	python3-venv
	# guest userspace
	mmdebstrap qemu-user-static binfmt-support arch-test
	# benchmark plots
	gnuplot-nox
	# firmware for the x86_64 guest (the dfsg QEMU source has none)
	seabios qemu-system-data
	# iproute2's netshaper, native and cross (arm64 libmnl: multiarch)
	libmnl-dev libmnl-dev:arm64 libc6-dev-arm64-cross pkgconf
)
# arm64 -dev packages for cross builds come from the arm64 architecture
dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done
log=$BUILD/logs/deps.log
export DEBIAN_FRONTEND=noninteractive
if ((${#missing[@]})); then
	echo "installing: ${missing[*]}"
	run_step "deps: apt-get update" "$log" apt-get update -q ||
		die "apt-get update failed: check the Debian archive is reachable"
	run_step -a "deps: installing ${#missing[@]} packages and their dependencies" "$log" \
		apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		die "apt-get install failed for: ${missing[*]}"
fi
# deb-src entries for the QEMU and iproute2 sources
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat >/etc/apt/sources.list.d/harness-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	run_step -a "deps: apt-get update (deb-src)" "$log" apt-get update -q ||
		die "apt-get update (deb-src) failed"
fi
echo "deps: ok"
