# Shared helpers for the harness scripts (sourced, not run).
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
SHARED=$(cd "$ROOT/.." && pwd)/shared
mkdir -p "$BUILD"

# The one place the base kernel version is pinned.
LINUX_PKG=linux-source-6.12
LINUX_PIN=6.12.117-1~deb12u1

step() { printf '\n== %s ==\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
warn() { printf 'warning: %s\n' "$*" >&2; }

CONFIGS="x86_64 arm64-4k arm64-16k arm64-64k"

# config_env NAME: set KARCH, CROSS, IMAGE, QEMU_ARCH and FRAGMENTS for a
# kernel config name, or fail naming the known ones.
config_env() {
	case "$1" in
	x86_64)
		KARCH=x86_64 CROSS= IMAGE=arch/x86/boot/bzImage QEMU_ARCH=x86_64
		FRAGMENTS="$ROOT/configs/common $ROOT/configs/x86_64" ;;
	arm64-4k | arm64-16k | arm64-64k)
		KARCH=arm64 CROSS=aarch64-linux-gnu- IMAGE=arch/arm64/boot/Image QEMU_ARCH=aarch64
		FRAGMENTS="$ROOT/configs/common $ROOT/configs/arm64-base $ROOT/configs/$1" ;;
	*) die "unknown CONFIG '$1': use one of: $CONFIGS" ;;
	esac
}

# kbuild_dir NAME SERIES DEBUG: the output directory of one kernel build.
kbuild_dir() {
	local d=$BUILD/kernel/$1
	[ -n "${LINUX_TREE:-}" ] && [ "${2:-1}" != 0 ] && d=$d-$(basename "$LINUX_TREE")
	[ "${3:-0}" = 1 ] && d=$d-debug
	[ "${2:-1}" = 0 ] && d=$d-base
	echo "$d"
}

# ksrc_dir SERIES: the kernel source tree (series applied, or the base).
# LINUX_TREE=<path> uses another worktree of build/linux (its own build dirs).
ksrc_dir() {
	if [ "${1:-1}" = 0 ]; then
		echo "$BUILD/linux-base"
	else
		echo "${LINUX_TREE:-$BUILD/linux}"
	fi
}

# kmake DIR ARGS...: make in the kernel tree for the current config env.
kmake() {
	local out=$1
	shift
	make -C "$KSRC" O="$out" ARCH="$KARCH" CROSS_COMPILE="$CROSS" \
		CC="ccache ${CROSS}gcc" HOSTCC="ccache gcc" \
		KBUILD_BUILD_TIMESTAMP="2024-01-01" KBUILD_BUILD_USER=mana \
		KBUILD_BUILD_HOST=series -j"$(nproc)" "$@"
}

stamp_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

# guest_stage STAGE CONFIG GUESTCMD: run GUESTCMD (which prints
# PASS|FAIL|SKIP lines) in a guest, append its result lines to $RESULTS, and
# a FAIL when the guest did not run it to the end.
guest_stage() { # STAGE CFG CMD [TAG]: run CMD in a CFG guest, collect results
	local cfg=$2 label=$1-$2${4:+-$4}
	local out=$BUILD/results/$label.log
	CONFIG=$cfg RUN="$3; bash /harness/run/tests/dmesg-check.sh $label" \
		"$ROOT/scripts/vm.sh" >"$out" 2>&1 || true
	if grep -q '^error: ' "$out"; then
		echo "FAIL $label vm # $(grep '^error: ' "$out" | head -1)" | tee -a "$RESULTS"
	fi
	if ! grep -E '^(PASS|FAIL|SKIP) ' "$out" | tee -a "$RESULTS"; then
		echo "FAIL $label boot # no results: see $out" | tee -a "$RESULTS"
	fi
}

# results_summary STAGE: the stage's counts; fails if anything failed.
results_summary() {
	local pass fail skip
	pass=$(grep -c '^PASS' "$RESULTS" || true)
	fail=$(grep -c '^FAIL' "$RESULTS" || true)
	skip=$(grep -c '^SKIP' "$RESULTS" || true)
	echo "$1: $pass passed, $fail failed, $skip skipped"
	((fail == 0))
}
