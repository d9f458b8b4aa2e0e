#!/bin/bash
# Boot a guest: CONFIG=<name> [BASE=6.12|7.3] [SERIES=0] [DEBUG=1] [RUN='<cmd>'] [NIC=mana|virtio]
# [TIMEOUT=s] [APPEND='kernel args'] [QEMU_EXTRA='qemu args'] [TCG_THREAD=single|multi]
# [COST=off|count|cache] [SMP=vCPUs, default 2] [PIN=host CPUs of the vCPUs]
# (TCG_THREAD=single: one host thread for all vCPUs, to tell a multi-threaded
# TCG artefact from a guest bug).
# RUN runs as root in the kernel tree (9p); its output is printed and its exit
# status is ours. Without RUN: an interactive shell.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CONFIG=${CONFIG:?CONFIG=<name> is required: one of $CONFIGS}
SERIES=${SERIES:-1}
DEBUG=${DEBUG:-0}
TIMEOUT=${TIMEOUT:-1800}
config_env "$CONFIG"
KOUT=$(kbuild_dir "$CONFIG" "$SERIES" "$DEBUG")
KSRC=$(ksrc_dir "$SERIES")

# Build what is missing (progress to stderr: stdout is the command's output).
guest_build "$CONFIG" >&2

QEMU=$BUILD/qemu/build/qemu-system-$QEMU_ARCH
name=$CONFIG$BSFX
[ "$DEBUG" = 1 ] && name=$name-debug
[ "$SERIES" = 0 ] && name=$name-base
[ -n "${LINUX_TREE:-}" ] && name=$name-$(basename "$LINUX_TREE")
VMDIR=$BUILD/vm/$name
mkdir -p "$VMDIR"
RUNDIR=$(mktemp -d "$VMDIR/run.XXXXXX")
# QMP for the host agent (tests/lib/hostctl.py in the guest): a unix socket
# path has at most 107 bytes, so it lives in /tmp when RUNDIR is too deep.
QMPDIR=$RUNDIR
((${#RUNDIR} < 90)) || QMPDIR=$(mktemp -d /tmp/harness-qmp.XXXXXX)
trap 'kill "${apid:-}" 2>/dev/null; rm -rf "$RUNDIR" "$QMPDIR"' EXIT
mkdir "$RUNDIR/host"
LOG=$VMDIR/console.log

NIC=${NIC:-auto}
if [ "$NIC" = auto ]; then
	if "$QEMU" -device help 2>/dev/null | grep -q '"mana"'; then NIC=mana; else NIC=virtio; fi
fi
NIC_MAC=52:54:00:4d:41:01
REMOTE_MAC=52:54:00:4d:41:02
case "$NIC" in
# MANA is a PCIe endpoint: behind its own root port, as an Azure VF is
# an Endpoint (on the root bus it would be an RC integrated endpoint).
mana) nicdev=(-device pcie-root-port,id=nic0-port,chassis=77
	-device "mana,id=nic0,bus=nic0-port,netdev=hub0,mac=$NIC_MAC${MANA_OPTS:+,$MANA_OPTS}") ;;
virtio) nicdev=(-device "virtio-net-pci,id=nic0,netdev=hub0,mac=$NIC_MAC,romfile=") ;;
*) die "unknown NIC '$NIC': use mana or virtio" ;;
esac
cat >"$RUNDIR/env" <<EOV
NIC=$NIC
NIC_MAC=$NIC_MAC
REMOTE_MAC=$REMOTE_MAC
LOCAL_V4=192.0.2.1
REMOTE_V4=192.0.2.2
LOCAL_V6=2001:db8::1
REMOTE_V6=2001:db8::2
EOV
date +%s >"$RUNDIR/epoch"
cp -r "$ROOT/tests" "$RUNDIR/tests"
[ -n "${RUN:-}" ] && printf '%s\n' "$RUN" >"$RUNDIR/cmd"

# The harness's /init goes in a small cpio appended to the rootfs initramfs.
(
	d=$(mktemp -d)
	install -m 755 "$ROOT/tests/init" "$d/init"
	cd "$d" && echo init | cpio -o -H newc -R 0:0 --quiet | gzip -1 >"$RUNDIR/init.cpio.gz"
	rm -rf "$d"
)
# iproute2.cpio.gz: the netshaper command (scripts/iproute2.sh)
cat "$BUILD/rootfs/$KARCH.cpio.gz" "$BUILD/overlay/$KARCH/iproute2.cpio.gz" \
	"$RUNDIR/init.cpio.gz" >"$RUNDIR/initrd"

args=(-m 2048 -smp "${SMP:-2}" -nodefaults -display none -no-reboot
	-kernel "$KOUT/$IMAGE" -initrd "$RUNDIR/initrd"
	-netdev hubport,id=hub0,hubid=0 -netdev hubport,id=hub1,hubid=0
	"${nicdev[@]}")
# The harness's virtio devices (the peer NIC and the 9p shares that carry
# the kernel tree and this run) each sit behind a PCIe root port, where
# virtio-pci has a PM capability, and report No_Soft_Reset (QEMU's
# x-pcie-pm-no-soft-reset, upstream since 9.1): a guest suspend
# (tests/system/mana-clamp-state.sh) then leaves them running instead of
# resetting them, which virtio-9p could not survive. The NIC under test
# has a root port of its own too.
vport=0
virtio_dev() { # <device,props>: the device on a root port of its own
	vport=$((vport + 1))
	args+=(-device "pcie-root-port,id=vport$vport,chassis=$vport"
		-device "$1,bus=vport$vport,x-pcie-pm-no-soft-reset=on")
}
virtio_dev "virtio-net-pci,netdev=hub1,mac=$REMOTE_MAC,romfile="
share() { # <tag> <path> [readonly]
	args+=(-fsdev "local,id=fs-$1,path=$2,security_model=none${3:+,readonly=on}")
	virtio_dev "virtio-9p-pci,fsdev=fs-$1,mount_tag=$1"
}
share linux "$KSRC"
share kbuild "$KOUT" readonly
share run "$RUNDIR"
append="rdinit=/init panic=-1 loglevel=5 ${APPEND:-}"
if [ "$QEMU_ARCH" = x86_64 ]; then
	args+=(-M q35 -L /usr/share/seabios -L /usr/share/qemu)
	# TCG: this machine's /dev/kvm (a nested shim) cannot run QEMU guests
	args+=(-accel "tcg${TCG_THREAD:+,thread=$TCG_THREAD}" -cpu max)
	append="console=ttyS0 $append"
else
	args+=(-M virt,gic-version=3,its=on -cpu max,pauth-impdef=on -accel "tcg${TCG_THREAD:+,thread=$TCG_THREAD}")
	append="console=ttyAMA0 $append"
fi
args+=(-append "$append" -qmp "unix:$QMPDIR/qmp.sock,server=on,wait=off")
# COST=<mode>: the cost plugin (emu/plugin/cost.c, built by scripts/qemu.sh)
# counts guest instructions, data accesses and modeled cache misses per
# vCPU; the guest reads it and changes its mode with hostctl.py cost.
costsock=()
if [ -n "${COST:-}" ]; then
	[ -f "$BUILD/qemu/plugin/libcost.so" ] || die "COST=$COST: no cost plugin (make qemu builds it)"
	args+=(-plugin "$BUILD/qemu/plugin/libcost.so,sock=$QMPDIR/cost.sock,mode=$COST")
	costsock=("$QMPDIR/cost.sock")
fi
# shellcheck disable=SC2206
args+=(${QEMU_EXTRA:-})

start_agent() {
	python3 "$ROOT/scripts/hostagent.py" "$QMPDIR/qmp.sock" "$RUNDIR/host" "${costsock[@]}" &
	apid=$!
}

echo "vm: $name, NIC $NIC, console log: ${LOG#"$ROOT"/}" >&2
if [ -z "${RUN:-}" ]; then
	start_agent
	"$QEMU" "${args[@]}" -chardev "stdio,id=con,logfile=$LOG,signal=off" -serial chardev:con
	exit
fi
# PIN=<host CPU list, e.g. 0 or 0,1>: the vCPU threads run on those host
# CPUs and every other QEMU thread (the main loop, the MANA generator's
# thread, I/O) on the others, so that the guest does not wait for a host
# thread the scheduler put on its core (make bench: BENCH_PIN).
pin_threads() {
	local qemu='' tid rest='' c n=0 i
	for ((i = 0; i < 100; i++)); do
		qemu=$(pgrep -P "$qpid" | head -1) || true
		[ -z "$qemu" ] || n=$(cat /proc/"$qemu"/task/*/comm 2>/dev/null | grep -cE '^CPU [0-9]+/' || true)
		((n >= ${SMP:-2})) && break
		sleep 0.1
	done
	((n >= ${SMP:-2})) || die "PIN=$PIN: QEMU's vCPU threads did not appear"
	for ((c = 0; c < $(nproc); c++)); do
		[[ ",$PIN," == *",$c,"* ]] || rest=$rest${rest:+,}$c
	done
	[ -n "$rest" ] || die "PIN=$PIN leaves no host CPU for QEMU's other threads"
	taskset -a -p -c "$rest" "$qemu" >/dev/null
	for tid in $(grep -lE '^CPU [0-9]+/' /proc/"$qemu"/task/*/comm | cut -d/ -f5); do
		taskset -p -c "$PIN" "$tid" >/dev/null
	done
	echo "vm: PIN=$PIN: $n vCPU threads on host CPU $PIN, QEMU's other threads on $rest" >&2
}
[ -z "${PIN:-}" ] || args+=(-name "$name,debug-threads=on")
touch "$RUNDIR/output"
timeout --foreground -k 10 "$TIMEOUT" "$QEMU" "${args[@]}" -serial "file:$LOG" </dev/null &
qpid=$!
[ -z "${PIN:-}" ] || pin_threads
start_agent
# (not tail -f: 9p may write the file out of order, see follow.py)
"$ROOT/scripts/follow.py" "$RUNDIR/output" $qpid &
tpid=$!
qrc=0
wait $qpid || qrc=$?
wait $tpid 2>/dev/null || true
[ -f "$RUNDIR/dmesg" ] && cp "$RUNDIR/dmesg" "$VMDIR/dmesg.log"
if [ -f "$RUNDIR/rc" ]; then
	exit "$(cat "$RUNDIR/rc")"
fi
if ((qrc == 124)); then
	die "guest $name timed out after ${TIMEOUT}s: console log at $LOG"
fi
tail -n 20 "$LOG" >&2 || true
die "guest $name did not finish its command (qemu status $qrc): console log at $LOG"
