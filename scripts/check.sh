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
stage() { # stage NAME CMD...: run one stage, record its time and verdict
	step "check: $1"
	timed "$@"
}
fatal() { # a stage nothing can run without
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
# arm64-64k. 7.3 (net-next/, and unmodified mainline's MANA on the
# emulator): its tree (base + net-next/ applies) and the per-patch checks of
# net-next/ that need no kernel build, always; the kernel builds (lint's
# builds and sparse, the KUnit and system guests, on x86_64) only if the
# check so far took less than CHECK_73_BUDGET minutes (default 40). On a
# fresh 2-core machine (CI) 6.12 alone takes about 60 of CI's 75 minutes and
# a cold 7.3 kernel 10 more, so there 7.3's guests are skipped, saying so;
# with warm caches they run. `make check BASE=7.3` runs all of 7.3 on both
# configs.
configs_of() {
	if [ "$1" = 6.12 ] || [ -n "$given" ]; then echo "x86_64 arm64-64k"; else echo "${CHECK_73_CONFIGS:-x86_64}"; fi
}
if [ ! -s "$R/setup.txt" ]; then
	stage qtest env QTEST_RESULTS="$R/qtest.txt" scripts/qtest.sh
	for b in $bases; do
		sfx=${b/#6.12/}
		cfgs=$(configs_of "$b")
		if [ -n "$sfx" ] && [ -z "$given" ] && (((SECONDS - total) / 60 >= ${CHECK_73_BUDGET:-40})); then
			stage "lint-$b" env BASE="$b" LINT_BUILD=0 scripts/lint.sh
			echo "SKIP check-$b kunit+system # make check had run $(((SECONDS - total) / 60)) min (CHECK_73_BUDGET=${CHECK_73_BUDGET:-40}): make check BASE=$b runs them" |
				tee "$R/skip$sfx.txt"
			continue
		fi
		stage "lint${sfx:+-$b}" env BASE="$b" scripts/lint.sh
		stage "kunit${sfx:+-$b}" env BASE="$b" KUNIT_CONFIGS="$cfgs" scripts/kunit.sh
		stage "system${sfx:+-$b}" env BASE="$b" SYSTEM_CONFIGS="$cfgs" scripts/system.sh
	done
fi

step "check: summary"
stage_times $total
cat "$R"/*.txt | grep '^FAIL' || true
pass=$(cat "$R"/*.txt | grep -c '^PASS' || true)
fail=$(cat "$R"/*.txt | grep -c '^FAIL' || true)
skip=$(cat "$R"/*.txt | grep -c '^SKIP' || true)
echo
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0 && pass > 0))
