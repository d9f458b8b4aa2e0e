#!/bin/bash
# make check: qtest, then lint + kunit + system tests of each kernel base, with
# the time of each stage, ending with the line "N passed, N failed".
set -uo pipefail
given=${BASE:-} # make check BASE=<b>: that base alone, all its configs
. "$(dirname "$0")/lib.sh"

R=$BUILD/results
rm -rf "$R"
mkdir -p "$R"
total=$SECONDS
# CHECK_DEADLINE (minutes, default 85): no stage starts after it and no guest
# runs past it (scripts/lib.sh's guest_stage), so that a run on a slow
# machine still ends inside CI's 90 minutes with its summary and stage
# times; a stage that did not run is a FAIL line, never a pass.
CHECK_DEADLINE=${CHECK_DEADLINE:-85}
export CHECK_END_AT=$((EPOCHSECONDS + CHECK_DEADLINE * 60))
stage() { # stage NAME CMD...: run one stage, record its time and verdict
	local rc=0 t=$SECONDS
	if ((EPOCHSECONDS >= CHECK_END_AT)); then
		echo "FAIL check-$1 # not run: make check had taken $(elapsed $((SECONDS - total))) (CHECK_DEADLINE=$CHECK_DEADLINE min)" |
			tee -a "$R/deadline.txt"
		STAGE_TIMES+=("$(printf '%-12s %5s  %s' "$1" - "not run (deadline)")")
		return 2
	fi
	step "check: $1"
	timed "$@" || rc=$?
	echo "check: $1 took $(elapsed $((SECONDS - t))); $(elapsed $((SECONDS - total))) since make check started"
	return $rc
}
fatal() { # a stage nothing can run without (one past the deadline has its line)
	local st=$?
	((st == 2)) && [ -s "$R/deadline.txt" ] && echo "check $1 not run" >>"$R/setup.txt" && return
	echo "FAIL check $1 # $2" >>"$R/setup.txt"
}

# CHECK_BASES: the kernel bases checked (6.12 = series/, 7.3 = net-next/ and
# unmodified mainline's MANA against the emulator)
bases=${CHECK_BASES:-${given:-$BASES}}
stage deps scripts/deps.sh || fatal deps "Debian packages could not be installed"
for b in $bases; do
	stage "tree-$b" env BASE="$b" scripts/tree.sh || fatal "tree-$b" "the patches for Linux $b do not apply"
done
stage qemu scripts/qemu.sh || fatal qemu "QEMU does not build"
stage rootfs bash -c 'ARCH=x86_64 scripts/rootfs.sh && ARCH=arm64 scripts/rootfs.sh' ||
	fatal rootfs "guest userspace could not be built"
# What runs for each base. 6.12 (series/): everything, on x86_64 and
# arm64-64k, then a short soak of both configs at once (seed
# CHECK_SOAK_SEED, default 1, for CHECK_SOAK_MINUTES, default 2, on the
# kernels the system tests booted, DEBUG=0), about 6 minutes. The soak is
# the one stage with a time limit: it starts only while the check has taken
# less than CHECK_SOAK_BUDGET minutes (default 75), and each guest gets at
# most 10 minutes (SOAK_MARGIN 480 s past the schedule), so that a slow
# machine still ends within CI's 90 minutes; otherwise a skip line says so.
# 7.3 (net-next/, and unmodified mainline's MANA on the emulator): its tree
# (Linux 7.3 + net-next/ applies) and the per-patch checks of net-next/ that
# need no kernel build (LINT_BUILD=0). Its kernels, KUnit and system tests
# would add about 100 minutes on a 2-core machine (measured: a 7.3 kernel
# build 26-32 min per config, KUnit ~3 min and the system tests 16-20 min
# per config), where 6.12 alone took 65-74 minutes of CI's 90 on a fresh
# machine: `make check BASE=7.3` runs all of 7.3 on both configs (as `make
# check BASE=6.12` does for 6.12). 6.12's lint
# compiles, per patch, the directories the patch touches (LINT_PER_PATCH=dirs)
# and builds the whole kernel once, at the last patch: the full builds at
# base and per patch (make lint) took 57 of lint's 88 minutes in a cold run
# on a slow 2-core machine. The decision does not depend on how long the
# run took so far: CI runs the same stages every time, up to CHECK_DEADLINE.
configs_of() { # the configs checked for a base
	if [ "$1" = 6.12 ] || [ -n "$given" ]; then echo "x86_64 arm64-64k"; fi
}
soak_one() { # soak_one BASE CONFIG OUT: a short soak; its output in OUT
	BASE=$1 CONFIG=$2 DEBUG=0 SEED=${CHECK_SOAK_SEED:-1} MINUTES=${CHECK_SOAK_MINUTES:-2} \
		SOAK_MARGIN=${SOAK_MARGIN:-480} "$ROOT/scripts/soak.sh" >"$3" 2>&1
}
soak_stage() { # soak_stage BASE CONFIG...: the configs' short soaks at once
	local b=$1 sfx=${1/#6.12/} cfg line rc=0 pids=()
	local again="make soak BASE=$b DEBUG=0 SEED=${CHECK_SOAK_SEED:-1} MINUTES=${CHECK_SOAK_MINUTES:-2}"
	shift
	if (((SECONDS - total) / 60 >= ${CHECK_SOAK_BUDGET:-75})); then
		for cfg; do
			echo "SKIP soak-$cfg$sfx # make check had run $(((SECONDS - total) / 60)) min (CHECK_SOAK_BUDGET=${CHECK_SOAK_BUDGET:-75}): $again CONFIG=$cfg runs it"
		done | tee -a "$R/soak$sfx.txt"
		return 0
	fi
	mkdir -p "$BUILD/soak"
	for cfg; do
		soak_one "$b" "$cfg" "$BUILD/soak/check-$cfg$sfx.out" &
		pids+=($!)
	done
	for cfg; do
		local st=0
		wait "${pids[0]}" || st=$?
		pids=("${pids[@]:1}")
		echo "== soak: $cfg ($BUILD/soak/check-$cfg$sfx.out)"
		tail -25 "$BUILD/soak/check-$cfg$sfx.out"
		line=$(grep -E '^soak .* failures=[0-9]+$' "$BUILD/soak/check-$cfg$sfx.out" | tail -1)
		# a PASS needs both: the soak's own verdict and soak.sh's exit status
		# (which also fails a guest that exited badly after its report)
		if ((st == 0)) && [[ $line == *" failures=0" ]]; then
			echo "PASS soak-$cfg$sfx $line" >>"$R/soak$sfx.txt"
		else
			echo "FAIL soak-$cfg$sfx # ${line:-did not finish}, exit $st: $(tail -1 "$BUILD/soak/check-$cfg$sfx.out") (replay: $again CONFIG=$cfg)" >>"$R/soak$sfx.txt"
			rc=1
		fi
	done
	return $rc
}
harness_tests() { # the harness's own host-side tests (seconds, stand-ins for builds and guests)
	local t out st
	for t in "$ROOT"/tests/harness/*.sh; do
		[ -f "$t" ] || continue
		out=$(bash "$t" 2>&1)
		st=$?
		grep -E '^(PASS|FAIL|SKIP) ' <<<"$out"
		# (a test that dies before its checks must not pass by saying nothing)
		if ((st != 0)) && ! grep -q '^FAIL ' <<<"$out"; then
			echo "FAIL harness-$(basename "$t" .sh) # exited $st without a FAIL line: $(tail -1 <<<"$out")"
		fi
	done | tee "$R/harness.txt"
	! grep -q '^FAIL' "$R/harness.txt"
}
if [ ! -s "$R/setup.txt" ]; then
	stage harness harness_tests
	stage qtest env QTEST_RESULTS="$R/qtest.txt" scripts/qtest.sh
	for b in $bases; do
		sfx=${b/#6.12/}
		cfgs=$(configs_of "$b")
		if [ -z "$cfgs" ]; then
			stage "lint-$b" env BASE="$b" LINT_BUILD=0 scripts/lint.sh
			echo "SKIP check-$b kunit+system # not built by make check (CI): make check BASE=$b runs them" |
				tee "$R/skip$sfx.txt"
			continue
		fi
		stage "lint${sfx:+-$b}" env BASE="$b" LINT_PER_PATCH=dirs scripts/lint.sh
		stage "kunit${sfx:+-$b}" env BASE="$b" KUNIT_CONFIGS="$cfgs" scripts/kunit.sh
		stage "system${sfx:+-$b}" env BASE="$b" SYSTEM_CONFIGS="$cfgs" scripts/system.sh
		[ "$b" = 6.12 ] || continue # (the soak of 7.3: make soak BASE=7.3)
		# shellcheck disable=SC2086 # the configs, one word each
		stage "soak${sfx:+-$b}" soak_stage "$b" $cfgs
	done
fi

step "check: summary"
stage_times $total
cat "$R"/*.txt | grep '^FAIL' || true
if grep -q '^FAIL' "$R"/*.txt && compgen -G "$R/*.log" >/dev/null; then
	fail_context "$R"/*.log
fi
pass=$(cat "$R"/*.txt | grep -c '^PASS' || true)
fail=$(cat "$R"/*.txt | grep -c '^FAIL' || true)
skip=$(cat "$R"/*.txt | grep -c '^SKIP' || true)
echo
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0 && pass > 0))
