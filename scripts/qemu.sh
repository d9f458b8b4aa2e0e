#!/bin/bash
# Build Debian's QEMU 7.2 source with only the x86_64 and aarch64 system
# emulators, a minimal device set, and the MANA model from emu/ wired in.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

Q=$BUILD/qemu
SRC=$Q/src
OBJ=$Q/build
"$ROOT/scripts/deps.sh" >/dev/null

emu_files() { find "$ROOT/emu" -type f \( -path '*/src/*' -o -path '*/patches/*' -o -name devices.mak \) 2>/dev/null | sort; }
stamp=$( (cat "$0"; for f in $(emu_files); do echo "$f"; cat "$f"; done) | sha256sum | cut -c1-16)
if [ -x "$OBJ/qemu-system-aarch64" ] && [ -x "$OBJ/qemu-system-x86_64" ] &&
	[ "$(cat "$Q/.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "qemu: up to date"
	exit 0
fi

step "qemu: Debian QEMU 7.2 source"
if [ ! -f "$SRC/.harness-pristine" ]; then
	rm -rf "$Q"
	mkdir -p "$Q/dl"
	# (run_step runs these functions in a subshell: their cd stays there)
	download() { cd "$Q/dl" && apt-get source -q --download-only qemu; }
	pristine() {
		cd "$SRC" && git init -q && git add -A &&
			git -c user.name=h -c user.email=h@h commit -qm pristine
	}
	run_step "qemu: downloading Debian's QEMU source" "$Q/source.log" download ||
		die "apt-get source qemu failed: deb-src entries are needed (scripts/deps.sh adds them)"
	run_step -a "qemu: unpacking it (dpkg-source -x)" "$Q/source.log" \
		dpkg-source -x "$Q"/dl/qemu_*.dsc "$SRC" || die "dpkg-source -x failed"
	# The dfsg source has no prebuilt firmware: do not unpack the edk2 blobs.
	sed -i 's/^    unpack_edk2_blobs = bzip2.found()/    unpack_edk2_blobs = false/' "$SRC/meson.build"
	run_step -a "qemu: committing the pristine source to git" "$Q/source.log" pristine ||
		die "cannot commit the QEMU source to git in build/qemu/src"
	touch "$SRC/.harness-pristine"
fi

# Start from the pristine source each time, then add the device model.
(cd "$SRC" && git checkout -q -- . && git clean -qfd -e .harness-pristine)
devices_x86="CONFIG_Q35=y
CONFIG_SERIAL_ISA=y
CONFIG_PCIE_PORT=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_NET=y
CONFIG_VIRTIO_9P=y"
devices_arm="CONFIG_ARM_VIRT=y
CONFIG_ARM_V7M=y
CONFIG_ARM_GICV3_TCG=y
CONFIG_PCIE_PORT=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_NET=y
CONFIG_VIRTIO_9P=y"
extra=
if [ -d "$ROOT/emu/src" ]; then
	echo "qemu: adding emu/ (MANA device model)"
	cp "$ROOT"/emu/src/* "$SRC/hw/net/"
	# The qtest (emu/qtest/) is built and run by scripts/qtest.sh; meson
	# needs the file at configure time.
	cp "$ROOT"/emu/qtest/*.c "$SRC/tests/qtest/" 2>/dev/null || true
	for p in "$ROOT"/emu/patches/*.patch; do
		[ -e "$p" ] || continue
		patch -s -d "$SRC" -p1 <"$p" || die "emu/patches/$(basename "$p") does not apply to QEMU 7.2"
	done
	[ -f "$ROOT/emu/devices.mak" ] && extra=$(cat "$ROOT/emu/devices.mak")
fi
printf '%s\n%s\n' "$devices_x86" "$extra" >"$SRC/configs/devices/x86_64-softmmu/default.mak"
printf '%s\n%s\n' "$devices_arm" "$extra" >"$SRC/configs/devices/aarch64-softmmu/default.mak"

mkdir -p "$OBJ"
if [ ! -f "$OBJ/build.ninja" ]; then
	configure() {
		cd "$OBJ" && "$SRC/configure" --target-list=x86_64-softmmu,aarch64-softmmu \
			--without-default-devices --without-default-features \
			--enable-tcg --enable-kvm --enable-fdt=system --enable-virtfs \
			--enable-cap-ng --enable-attr --disable-docs --disable-install-blobs \
			--disable-werror --cc="ccache gcc" --host-cc="ccache gcc" \
			--extra-cflags=-g0
	}
	run_step "qemu: configuring" "$Q/configure.log" configure ||
		die "QEMU configure failed: see build/qemu/configure.log"
fi
start=$SECONDS
run_step "qemu: building qemu-system-x86_64 and qemu-system-aarch64" "$Q/build.log" \
	ninja -C "$OBJ" -j"$(nproc)" qemu-system-x86_64 qemu-system-aarch64 ||
	{ grep -E '(error|Error):|^FAILED: ' "$Q/build.log" | head -20 >&2; die "QEMU build failed: see build/qemu/build.log"; }
nwarn=$(grep -c 'warning:' "$Q/build.log" || true)
echo "qemu: built in $((SECONDS - start))s, $nwarn warnings"
echo "$stamp" >"$Q/.stamp"
