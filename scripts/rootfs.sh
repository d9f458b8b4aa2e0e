#!/bin/bash
# Guest userspace from Debian packages: ARCH=x86_64|arm64 ->
# build/rootfs/<arch>.cpio.gz (an initramfs; the harness adds /init at boot).
# Debian 13 (trixie), the release that ships Linux 6.12 LTS, with iproute2
# (and so upstream's netshaper command) from sid: apt pins sid below trixie
# for every package but iproute2, whose sid package installs on trixie.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ARCH=${ARCH:?ARCH=x86_64 or ARCH=arm64 is required}
case "$ARCH" in
x86_64) DARCH=amd64 ;;
arm64) DARCH=arm64 ;;
*) die "unknown ARCH '$ARCH': use x86_64 or arm64" ;;
esac
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES="python3 python3-yaml udev iproute2 ethtool iperf3 kmod procps iputils-ping
 socat netcat-openbsd jq util-linux bpftool"
SUITE=trixie
# the packages taken from sid (apt pin), and the version they must reach
SID_PACKAGES=iproute2
IPROUTE2_MIN=7.3
OUT=$BUILD/rootfs/$ARCH.cpio.gz
stamp=$(echo "$PACKAGES $MIRROR $SUITE $SID_PACKAGES $IPROUTE2_MIN v2" | sha256sum | cut -c1-16)
# One build per architecture at a time: mmdebstrap mounts /proc, /sys and
# /dev inside the directory that a second build would remove.
mkdir -p "$BUILD/rootfs"
exec 9>"$BUILD/rootfs/.$ARCH.lock"
flock 9
if [ -f "$OUT" ] && [ "$(cat "$OUT.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "rootfs: $ARCH up to date"
	exit 0
fi
"$ROOT/scripts/deps.sh" >/dev/null

step "rootfs: Debian $SUITE $DARCH (+ $SID_PACKAGES from sid)"
if [ "$DARCH" != amd64 ]; then
	# foreign packages' maintainer scripts run under qemu-user-static
	mountpoint -q /proc/sys/fs/binfmt_misc ||
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
		die "cannot mount binfmt_misc (needed to run arm64 package scripts)"
	update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
	[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] ||
		die "qemu-aarch64 binfmt not registered: apt-get install qemu-user-static binfmt-support"
fi
dir=$BUILD/rootfs/$ARCH
findmnt -rno TARGET | grep -q "^$dir/" &&
	die "something is mounted under ${dir#"$ROOT"/} (an interrupted mmdebstrap?): unmount it first"
rm -rf --one-file-system "$dir"
mkdir -p "$dir"
# sid at priority 100 (never chosen over trixie's 500) but $SID_PACKAGES at
# 990: apt installs those from sid with their dependencies from trixie.
prefs=$BUILD/rootfs/$ARCH.pref
{
	printf 'Package: *\nPin: release n=sid\nPin-Priority: 100\n\n'
	printf 'Package: %s\nPin: release n=sid\nPin-Priority: 990\n' "$SID_PACKAGES"
} >"$prefs"
# The archive here may be a dated snapshot whose sid Release has expired.
# shellcheck disable=SC2016 # $1 is the hook's argument, expanded by mmdebstrap's shell
run_step "rootfs: mmdebstrap $DARCH" "$BUILD/rootfs/$ARCH.log" mmdebstrap --variant=minbase --architectures="$DARCH" \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--setup-hook='mkdir -p "$1/etc/apt/preferences.d"' \
	--setup-hook="cp '$prefs' \"\$1/etc/apt/preferences.d/sid-pin.pref\"" \
	--include="$(echo $PACKAGES | tr ' ' ,)" \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	"$SUITE" "$dir" "deb $MIRROR $SUITE main" "deb $MIRROR sid main" ||
	die "mmdebstrap failed: see build/rootfs/$ARCH.log"
# What the guests promise: Debian 13, iproute2 new enough for netshaper.
read -r dv <"$dir/etc/debian_version" || dv=
[[ $dv == 13* ]] || die "the $ARCH rootfs says Debian '$dv', not 13: see build/rootfs/$ARCH.log"
iv=$(dpkg-query --admindir="$dir/var/lib/dpkg" -W -f='${Version}' iproute2 2>/dev/null) ||
	die "no iproute2 in the $ARCH rootfs: see build/rootfs/$ARCH.log"
dpkg --compare-versions "$iv" ge "$IPROUTE2_MIN" ||
	die "the $ARCH rootfs has iproute2 $iv, not >= $IPROUTE2_MIN: is sid reachable at $MIRROR?"
[ -x "$dir/usr/bin/netshaper" ] || die "iproute2 $iv in the $ARCH rootfs has no /usr/bin/netshaper"
echo "rootfs: Debian $dv, iproute2 $iv"
rm -rf "$dir"/var/cache/apt/* "$dir"/var/lib/apt/lists/*
mkdir -p "$dir"/root/linux "$dir"/harness "$dir"/lib/modules
pack() { (cd "$dir" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet | gzip -1 >"$OUT.tmp") && rm -rf "$dir"; }
written() { echo "$(du -h "$OUT.tmp" | cut -f1) written"; }
run_step -p written "rootfs: packing $(du -sh "$dir" | cut -f1)" "$BUILD/rootfs/$ARCH.pack.log" pack || die "cannot pack $dir"
mv "$OUT.tmp" "$OUT"
echo "$stamp" >"$OUT.stamp"
echo "rootfs: $(du -h "$OUT" | cut -f1) ${OUT#"$ROOT"/}"
