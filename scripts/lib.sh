# Shared helpers for the harness scripts (sourced, not run).
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build
SHARED=$(cd "$ROOT/.." && pwd)/shared
mkdir -p "$BUILD"

# The kernel bases, and the one place each is pinned. BASE=6.12 (default):
# Debian's linux-source-6.12 + series/ in build/linux. BASE=7.3: Debian's
# linux-source-7.3 (from trixie-backports, taken without changing the host)
# + net-next/ in build/linux-7.3. Kernel builds, guests and results of 7.3
# carry "-7.3" in their names.
BASES="6.12 7.3"
BASE=${BASE:-6.12}
case "$BASE" in
6.12)
	LINUX_PKG=linux-source-6.12 LINUX_PIN=6.12.117-1~deb12u1 LINUX_SUITE=
	LINUX=$BUILD/linux PATCHES=$ROOT/series BSFX='' ;;
7.3)
	LINUX_PKG=linux-source-7.3 LINUX_PIN=7.3.4-1~bpo13+1 LINUX_SUITE=trixie-backports
	LINUX=$BUILD/linux-7.3 PATCHES=$ROOT/net-next BSFX=-7.3 ;;
*) echo "error: unknown BASE '$BASE': use one of: $BASES" >&2 && exit 1 ;;
esac
export BASE # the scripts this one runs build for the same base
LINUX_BASE=$LINUX-base # a worktree of $LINUX at tag base (SERIES=0)

step() { printf '\n== %s ==\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
warn() { printf 'warning: %s\n' "$*" >&2; }

# elapsed SECONDS: "42s", "3m07s"
elapsed() { if (($1 < 60)); then echo "$1s"; else printf '%dm%02ds\n' $(($1 / 60)) $(($1 % 60)); fi; }

# last_line FILE: FILE's last non-blank line, printable characters only
last_line() {
	# shellcheck disable=SC2016 # (sed's $)
	tail -c 4096 "$1" 2>/dev/null | tr '\r\t' '\n ' | tr -cd '[:print:]\n' |
		sed -n 's/^ *//; /./h; ${x;p}'
}

# run_step [-a] [-p FN] WHAT LOG CMD...: one long build step. CMD (a command
# or a function) runs with its output in LOG (-a: appended); stderr shows
# WHAT and where LOG is, then while CMD runs its elapsed time, "FN LOG" (a
# progress count, if given) and LOG's last line: one line rewritten every
# second on a terminal, a new line every STEP_EVERY (30) seconds otherwise,
# so that a CI log stays readable. At the end: its time, or on failure the
# end of LOG and its path. Returns CMD's status. CMD runs in the background,
# where set -e may be off: a function must chain its commands (&&, || return).
# A run_step inside CMD passes its status line up (RUN_STEP_STATUS) for the
# outer one to show, and writes only its first and last lines to LOG.
run_step() {
	local append='' probe='' what log pid rc=0 t0=$SECONDS tick=-1 shown=$SECONDS
	local cols=150 tty='' up=${RUN_STEP_STATUS:-} mine status inner
	while :; do
		case "${1:-}" in
		-a) append=1 && shift ;;
		-p) probe=$2 && shift 2 ;;
		*) break ;;
		esac
	done
	what=$1 log=$2
	shift 2
	mkdir -p "$(dirname "$log")"
	[ -n "$append" ] || : >"$log"
	if [ -t 2 ]; then
		tty=1
		cols=$(stty size <&2 2>/dev/null | cut -d' ' -f2)
		[[ $cols =~ ^[0-9]+$ ]] && ((cols > 20)) || cols=80
	fi
	printf '%s (log: %s)\n' "$what" "${log#"$ROOT"/}" >&2
	mine=$log.status # a nested step's status line (left in build/ if interrupted)
	: >"$mine"
	# (Ctrl-C stops CMD too: a background job may start with SIGINT ignored)
	(
		trap - INT QUIT
		RUN_STEP_STATUS=$mine "$@"
	) >>"$log" 2>&1 </dev/null &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS != tick)) && { [ -n "$tty$up" ] || ((SECONDS - shown >= ${STEP_EVERY:-30})); }; then
			tick=$SECONDS
			status=$(elapsed $((tick - t0)))
			[ -z "$probe" ] || status+="  $("$probe" "$log" 2>/dev/null)"
			inner=$(cat "$mine" 2>/dev/null)
			status+="  ${inner:-$(last_line "$log")}"
			if [ -n "$tty" ]; then
				printf '\r\033[K  %s' "${status:0:cols-3}" >&2
			elif [ -n "$up" ]; then
				printf '%s: %s\n' "$what" "$status" >"$up"
			else
				shown=$tick
				printf '  %s\n' "${status:0:cols}" >&2
			fi
		fi
		sleep 0.2
	done
	wait "$pid" || rc=$?
	rm -f "$mine"
	[ -z "$up" ] || : >"$up"
	[ -z "$tty" ] || printf '\r\033[K' >&2
	if ((rc == 0)); then
		printf '  done in %s\n' "$(elapsed $((SECONDS - t0)))" >&2
	else
		printf '  FAILED (exit %d) after %s; the end of its log:\n' \
			$rc "$(elapsed $((SECONDS - t0)))" >&2
		tail -n 15 "$log" | sed 's/^/  | /' >&2
		printf '  full log: %s\n' "${log#"$ROOT"/}" >&2
	fi
	return $rc
}

# timed NAME CMD...: run CMD, noting its time and verdict for stage_times
# (set -e is off in CMD if it is a function: chain its commands).
STAGE_TIMES=()
timed() {
	local name=$1 t=$SECONDS rc=0
	shift
	"$@" || rc=$?
	STAGE_TIMES+=("$(printf '%-12s %4ds  %s' "$name" $((SECONDS - t)) "$([ $rc = 0 ] && echo ok || echo "FAILED ($rc)")")")
	return $rc
}
# stage_times START: each timed stage, and the total since START ($SECONDS)
stage_times() {
	printf '%s\n' "${STAGE_TIMES[@]}"
	printf '%-12s %4ds\n' total $((SECONDS - $1))
}

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
	# what differs between the bases (symbols one of them lacks)
	[ ! -f "$ROOT/configs/base-$BASE" ] || FRAGMENTS="$FRAGMENTS $ROOT/configs/base-$BASE"
}

# kernel_env: one guest kernel from the environment, CONFIG (required),
# SERIES (1) and DEBUG (0): config_env's variables, OUT (its build
# directory) and KSRC (its source tree).
kernel_env() {
	CONFIG=${CONFIG:?CONFIG=<name> is required: one of $CONFIGS}
	SERIES=${SERIES:-1}
	DEBUG=${DEBUG:-0}
	config_env "$CONFIG"
	OUT=$(kbuild_dir "$CONFIG" "$SERIES" "$DEBUG")
	KSRC=$(ksrc_dir "$SERIES")
}

# kbuild_dir NAME SERIES DEBUG: the output directory of one kernel build.
kbuild_dir() {
	local d=$BUILD/kernel/$1$BSFX
	[ -n "${LINUX_TREE:-}" ] && [ "${2:-1}" != 0 ] && d=$d-$(basename "$LINUX_TREE")
	[ "${3:-0}" = 1 ] && d=$d-debug
	[ "${2:-1}" = 0 ] && d=$d-base
	echo "$d"
}

# ksrc_dir SERIES: the kernel source tree (patches applied, or the base).
# LINUX_TREE=<path> uses another worktree of $LINUX (its own build dirs).
ksrc_dir() {
	if [ "${1:-1}" = 0 ]; then
		echo "$LINUX_BASE"
	else
		echo "${LINUX_TREE:-$LINUX}"
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

# outermost_dirs DIR...: the directories none of whose ancestors is in the
# list. kbuild given a directory and one of its subdirectories as targets in
# one run descends into the parent only along the child's path, so the
# parent's modules.order then lacks its other subdirectories' (a fresh
# output directory fails: "cat: drivers/net/ethernet/modules.order").
outermost_dirs() {
	local d p keep
	for d; do
		keep=1
		for p; do
			case $d in "$p"/*) keep=0 ;; esac
		done
		if ((keep)); then echo "$d"; fi
	done | sort -u
}

# build_error LOG: the first line of a make log that says why it failed
# (a compiler error, a missing file, a make rule's failure), else its last
build_error() {
	grep -m1 -E 'error:|No such file|undefined reference|\*\*\* ' "$1" || tail -1 "$1"
}

# kbuild_progress LOG: run_step's progress of a kbuild (its CC lines so far)
kbuild_progress() { echo "$(grep -c '^  CC ' "$1") objects compiled"; }

# kunit_modules: the KUnit suite modules of tests/kunit.list for BASE (a line
# is "<module> [<bases>]": no bases means every base)
kunit_modules() {
	awk -v b="$BASE" '!/^#/ && NF && (NF == 1 || index("," $2 ",", "," b ",")) {print $1}' \
		"$ROOT/tests/kunit.list" | xargs
}

# stamp_of FILE...: a stamp of the files' contents (not their paths: a
# checkout elsewhere, e.g. a worktree with a copy of build/, has the same)
stamp_of() { for f; do sha256sum <"$f"; done | sha256sum | cut -c1-16; }

# The patches of the base's folder (series/ or net-next/; cover letter
# excluded), in order, and their stamp: by name and content only, so that a
# checkout at another path (a worktree sharing build/linux) has the same series.
series_patches() { find "$PATCHES" -maxdepth 1 -name '*.patch' ! -name '0000-cover-letter.patch' 2>/dev/null | sort; }
series_stamp() { (echo series; for p in "$@"; do basename "$p"; sha256sum <"$p"; done) | sha256sum | cut -c1-16; }

# guest_build CONFIG...: build what the guests of these configs need and
# lack: QEMU, their kernels and kselftests (SERIES and DEBUG as for vm.sh;
# SERIES may list both, "0 1"), the userspaces of their architectures. Stops at the first
# failure (also where set -e is off, e.g. under run_step or timed).
guest_build() {
	local cfg s arches='' a
	"$ROOT/scripts/qemu.sh" || return
	for cfg; do
		config_env "$cfg"
		for s in ${SERIES:-1}; do
			CONFIG=$cfg SERIES=$s DEBUG=${DEBUG:-0} "$ROOT/scripts/kernel.sh" || return
			CONFIG=$cfg SERIES=$s DEBUG=${DEBUG:-0} "$ROOT/scripts/selftests.sh" || return
		done
		[[ " $arches " == *" $KARCH "* ]] || arches="$arches $KARCH"
	done
	for a in $arches; do
		ARCH=$a "$ROOT/scripts/rootfs.sh" || return
		ARCH=$a "$ROOT/scripts/iproute2.sh" || return
	done
}

# guest_stage STAGE CONFIG GUESTCMD: run GUESTCMD (which prints
# PASS|FAIL|SKIP lines) in a guest, append its result lines to $RESULTS, and
# a FAIL when the guest did not run it to the end. What the guest needs is
# built first (once per config), in sight rather than in the guest's log.
declare -A GUEST_BUILT=()
guest_stage() { # STAGE CFG CMD [TAG]: run CMD in a CFG guest, collect results
	local cfg=$2 label=$1-$2$BSFX${4:+-$4}
	local out=$BUILD/results/$label.log
	if [ -z "${GUEST_BUILT[$cfg]:-}" ]; then
		guest_build "$cfg" || true # vm.sh fails below and says why
		GUEST_BUILT[$cfg]=1
	fi
	# (make check's deadline, CHECK_END_AT, bounds the guest's time)
	local limit=${TIMEOUT:-1800}
	if [ -n "${CHECK_END_AT:-}" ] && ((CHECK_END_AT - EPOCHSECONDS < limit)); then
		limit=$((CHECK_END_AT - EPOCHSECONDS > 60 ? CHECK_END_AT - EPOCHSECONDS : 60))
	fi
	TIMEOUT=$limit CONFIG=$cfg RUN="$3; bash /harness/run/tests/dmesg-check.sh $label" \
		run_step "$1: the $cfg guest${4:+ ($4)} runs the tests" "$out" "$ROOT/scripts/vm.sh" || true
	if grep -q '^error: ' "$out"; then
		echo "FAIL $label vm # $(grep '^error: ' "$out" | head -1)" | tee -a "$RESULTS"
	fi
	if ! grep -E '^(PASS|FAIL|SKIP) ' "$out" | tee -a "$RESULTS"; then
		echo "FAIL $label boot # no results: see $out" | tee -a "$RESULTS"
	fi
}

# fail_context LOG...: what a failed kselftest case printed (its "#" lines
# since the case before it, at most 12) and its "not ok" line, so that a
# summary says why without the whole log
fail_context() {
	awk '{ line = $0; sub(/^ +/, "", line) }
	match(line, /^\[[^]]+\] /) {
		t = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
		if (rest ~ /^# /) { n[t]++; buf[t, n[t] % 12] = line; next }
		if (rest ~ /^not ok /) {
			print FILENAME ":"
			for (i = (n[t] > 12 ? n[t] - 11 : 1); i <= n[t]; i++) print "  | " buf[t, i % 12]
			print "  | " line
		}
		if (rest ~ /^(not )?ok /) n[t] = 0
	}' "$@"
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
