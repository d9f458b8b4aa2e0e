#!/bin/bash
# make check: qtest, then lint + kunit + system tests of each kernel base, with
# the time of each stage, ending with the line "N passed, N failed".
set -uo pipefail
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
bases=${CHECK_BASES:-$BASES}
stage deps scripts/deps.sh || fatal deps "Debian packages could not be installed"
for b in $bases; do
	stage "tree-$b" env BASE="$b" scripts/tree.sh || fatal "tree-$b" "the patches for Linux $b do not apply"
done
stage qemu scripts/qemu.sh || fatal qemu "QEMU does not build"
stage rootfs bash -c 'ARCH=x86_64 scripts/rootfs.sh && ARCH=arm64 scripts/rootfs.sh' ||
	fatal rootfs "guest userspace could not be built"
if [ ! -s "$R/setup.txt" ]; then
	stage qtest env QTEST_RESULTS="$R/qtest.txt" scripts/qtest.sh
	for b in $bases; do
		sfx=${b/#6.12/}
		stage "lint${sfx:+-$b}" env BASE="$b" scripts/lint.sh
		stage "kunit${sfx:+-$b}" env BASE="$b" scripts/kunit.sh
		stage "system${sfx:+-$b}" env BASE="$b" scripts/system.sh
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
