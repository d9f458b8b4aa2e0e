#!/bin/bash
# Build Debian's QEMU 10.2 source (sid, pinned below) with only the x86_64
# and aarch64 system emulators, a minimal device set, and the MANA model
# from emu/ wired in. The host (bookworm) stays as it is: the source and
# the newer meson QEMU 10.2 needs come from sid through a private apt
# sources list and state directory in build/qemu/apt, and meson's .deb is
# unpacked into build/qemu/meson, not installed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

QEMU_PIN=1:10.2.2+ds-1  # sid; 11.1 (trixie-backports, sid) is not in the pool
MESON_PIN=1.12.1-2      # sid; QEMU 10.2 needs meson >= 1.5, bookworm has 1.0
SUITE=sid
Q=$BUILD/qemu
SRC=$Q/src
OBJ=$Q/build
"$ROOT/scripts/deps.sh" >/dev/null

emu_files() { find "$ROOT/emu" -type f \( -path '*/src/*' -o -path '*/patches/*' -o -path '*/plugin/*' -o -name devices.mak \) 2>/dev/null | sort; }
stamp=$( (cat "$0"; for f in $(emu_files); do echo "$f"; cat "$f"; done) | sha256sum | cut -c1-16)
if [ -x "$OBJ/qemu-system-aarch64" ] && [ -x "$OBJ/qemu-system-x86_64" ] &&
	[ "$(cat "$Q/.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "qemu: up to date"
	exit 0
fi

# apt options for sid, without touching the host's sources or state
APT=$Q/apt
apt_opts=(-o "Dir::Etc::sourcelist=$APT/sources.list" -o Dir::Etc::sourceparts=/dev/null
	-o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache")
apt_sid() {
	[ -f "$APT/.updated" ] && return 0
	mkdir -p "$APT/lists/partial" "$APT/cache" &&
		local uri && uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources) &&
		printf '%s [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
			deb "${uri:-http://deb.debian.org/debian}" $SUITE \
			deb-src "${uri:-http://deb.debian.org/debian}" $SUITE >"$APT/sources.list" &&
		apt-get "${apt_opts[@]}" update && touch "$APT/.updated"
}

step "qemu: meson $MESON_PIN ($SUITE, unpacked in build/qemu/meson)"
MESON_PY=$Q/meson/usr/lib/python3/dist-packages
if [ "$(cat "$Q/meson/.pin" 2>/dev/null)" != "$MESON_PIN" ]; then
	getmeson() {
		apt_sid && rm -rf "$Q/meson-deb" "$Q/meson" && mkdir -p "$Q/meson-deb" &&
			(cd "$Q/meson-deb" && apt-get "${apt_opts[@]}" download "meson=$MESON_PIN") &&
			dpkg-deb -x "$Q"/meson-deb/meson_*.deb "$Q/meson" && echo "$MESON_PIN" >"$Q/meson/.pin"
	}
	mkdir -p "$Q"
	run_step "qemu: downloading meson $MESON_PIN" "$Q/meson.log" getmeson ||
		die "cannot get meson $MESON_PIN from $SUITE: see build/qemu/meson.log"
fi
# QEMU's configure looks for meson in its venv (system site packages) and
# the python path; ninja re-runs meson, so keep it on the path for both.
export PYTHONPATH=$MESON_PY${PYTHONPATH:+:$PYTHONPATH}

step "qemu: Debian QEMU $QEMU_PIN source ($SUITE)"
if [ "$(cat "$SRC/.harness-pristine" 2>/dev/null)" != "$QEMU_PIN" ]; then
	rm -rf "$SRC" "$OBJ" "$Q/dl"
	mkdir -p "$Q/dl"
	# (run_step runs these functions in a subshell: their cd stays there)
	download() { apt_sid && cd "$Q/dl" && apt-get "${apt_opts[@]}" source -q --download-only "qemu=$QEMU_PIN"; }
	pristine() {
		cd "$SRC" && git init -q && git add -A &&
			git -c user.name=h -c user.email=h@h commit -qm pristine
	}
	run_step "qemu: downloading Debian's QEMU $QEMU_PIN source" "$Q/source.log" download ||
		die "apt-get source qemu=$QEMU_PIN ($SUITE) failed: see build/qemu/source.log"
	run_step -a "qemu: unpacking it (dpkg-source -x)" "$Q/source.log" \
		dpkg-source -x "$Q"/dl/qemu_*.dsc "$SRC" || die "dpkg-source -x failed"
	# The dfsg source has no prebuilt firmware: Debian's own patch
	# (skip-unpack-edk2-blobs) already keeps pc-bios/ from unpacking the
	# edk2 blobs; this makes sure of it should the patch change.
	sed -i 's/^    unpack_edk2_blobs = bzip2.found()/    unpack_edk2_blobs = false/' "$SRC/meson.build"
	run_step -a "qemu: committing the pristine source to git" "$Q/source.log" pristine ||
		die "cannot commit the QEMU source to git in build/qemu/src"
	echo "$QEMU_PIN" >"$SRC/.harness-pristine"
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
CONFIG_PCIE_PORT=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_NET=y
CONFIG_VIRTIO_9P=y"
# (7.2's CONFIG_ARM_GICV3_TCG is gone: ARM_VIRT selects ARM_GIC, which
# selects ARM_GICV3 under TCG.)
extra=
if [ -d "$ROOT/emu/src" ]; then
	echo "qemu: adding emu/ (MANA device model)"
	cp "$ROOT"/emu/src/* "$SRC/hw/net/"
	# The qtest (emu/qtest/) is built and run by scripts/qtest.sh; meson
	# needs the file at configure time.
	cp "$ROOT"/emu/qtest/*.c "$SRC/tests/qtest/" 2>/dev/null || true
	for p in "$ROOT"/emu/patches/*.patch; do
		[ -e "$p" ] || continue
		patch -s -d "$SRC" -p1 <"$p" || die "emu/patches/$(basename "$p") does not apply to QEMU 10.2"
	done
	[ -f "$ROOT/emu/devices.mak" ] && extra=$(cat "$ROOT/emu/devices.mak")
fi
printf '%s\n%s\n' "$devices_x86" "$extra" >"$SRC/configs/devices/x86_64-softmmu/default.mak"
printf '%s\n%s\n' "$devices_arm" "$extra" >"$SRC/configs/devices/aarch64-softmmu/default.mak"

# Builds share the machine with guests and soaks: nice, and at most
# QEMU_JOBS (default 2) compilers.
jobs=${QEMU_JOBS:-2}
mkdir -p "$OBJ"
# (--enable-plugins: the bench's TCG plugin, emu/plugin/cost.c, counts guest
# instructions and memory accesses; with no plugin loaded TCG translates as
# before)
# shellcheck disable=SC2054 # (the commas are inside options)
cfg_args=(--target-list=x86_64-softmmu,aarch64-softmmu
	--without-default-devices --without-default-features
	--enable-tcg --enable-kvm --enable-fdt=system --enable-virtfs
	--enable-cap-ng --enable-attr --enable-plugins --disable-docs --disable-install-blobs
	--disable-download --disable-werror --cc="ccache gcc" --host-cc="ccache gcc"
	--extra-cflags=-g0)
# configured again when these options change (a build of an older qemu.sh)
if [ ! -f "$OBJ/build.ninja" ] || [ "$(cat "$OBJ/.harness-configure" 2>/dev/null)" != "${cfg_args[*]}" ]; then
	configure() { cd "$OBJ" && nice -n 19 "$SRC/configure" "${cfg_args[@]}"; }
	run_step "qemu: configuring" "$Q/configure.log" configure ||
		die "QEMU configure failed: see build/qemu/configure.log"
	echo "${cfg_args[*]}" >"$OBJ/.harness-configure"
fi
start=$SECONDS
run_step "qemu: building qemu-system-x86_64 and qemu-system-aarch64" "$Q/build.log" \
	nice -n 19 ninja -C "$OBJ" -j"$jobs" qemu-system-x86_64 qemu-system-aarch64 ||
	{ grep -E '(error|Error):|^FAILED: ' "$Q/build.log" | head -20 >&2; die "QEMU build failed: see build/qemu/build.log"; }
nwarn=$(grep -c 'warning:' "$Q/build.log" || true)
echo "qemu: built in $((SECONDS - start))s, $nwarn warnings"
if [ -f "$ROOT/emu/plugin/cost.c" ]; then
	# the cost plugin, against this QEMU's plugin API (scripts/vm.sh COST=)
	mkdir -p "$Q/plugin"
	# shellcheck disable=SC2046 # (glib's flags, one word each)
	run_step "qemu: building the cost plugin (emu/plugin/cost.c)" "$Q/plugin.log" \
		gcc -O2 -Wall -Wextra -Wno-unused-parameter -Werror -shared -fPIC \
		-I"$SRC/include/qemu" $(pkg-config --cflags glib-2.0) \
		-o "$Q/plugin/libcost.so" "$ROOT/emu/plugin/cost.c" ||
		die "the cost plugin does not build: see build/qemu/plugin.log"
fi
echo "$stamp" >"$Q/.stamp"
