#!/bin/bash
# Build and run the MANA model's qtest (emu/qtest/mana-test.c) against the
# QEMU of scripts/qemu.sh, for x86_64 and aarch64.
#   QTEST_ARCHES     targets to run (default: x86_64 aarch64)
#   MANA_FUZZ_SECONDS  duration of the randomized case per target (default 5)
#   MANA_FUZZ_SEED   seed of the randomized case (default: random, printed)
#   QTEST_ONLY       run only this test path, e.g. /x86_64/mana/probe
#   QTEST_RESULTS    append PASS/FAIL lines to this file (make check)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

Q=$BUILD/qemu
OBJ=$Q/build
export MANA_FUZZ_SECONDS=${MANA_FUZZ_SECONDS:-5}

step "qtest: QEMU with the MANA model"
nice -n 19 "$ROOT/scripts/qemu.sh"
# ninja may run meson again: the meson scripts/qemu.sh unpacked
export PYTHONPATH=$Q/meson/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}

step "qtest: building tests/qtest/mana-test"
cmp -s "$ROOT/emu/qtest/mana-test.c" "$Q/src/tests/qtest/mana-test.c" ||
	cp "$ROOT/emu/qtest/mana-test.c" "$Q/src/tests/qtest/mana-test.c"
nice -n 19 ninja -C "$OBJ" -j"${QEMU_JOBS:-2}" tests/qtest/mana-test >"$Q/qtest-build.log" 2>&1 ||
	{ grep -E 'error' "$Q/qtest-build.log" | head -20 >&2
	  die "building mana-test failed: see build/qemu/qtest-build.log (is emu/patches/0002 applied? run make qemu)"; }

fail=0
# QEMU's style, each file checked where it sits in QEMU's tree (checkpatch
# judges a file by its path: tests/ may use g_assert_cmp*, hw/ may not)
if [ -z "${QTEST_ONLY:-}" ]; then
	step "qtest: QEMU's checkpatch on emu/src and the qtest"
	for f in "$ROOT"/emu/src/* "$ROOT"/emu/qtest/mana-test.c; do
		case $f in
		*/qtest/*) rel=tests/qtest/${f##*/} ;;
		*) rel=hw/net/${f##*/} ;;
		esac
		cmp -s "$f" "$Q/src/$rel" || die "$rel in QEMU's tree is not emu's ${f#"$ROOT"/}: run make qemu"
		out=$(cd "$Q/src" || exit; scripts/checkpatch.pl --no-tree -f "$rel" 2>&1 | grep -E -A2 '^(ERROR|WARNING)' || true)
		if [ -z "$out" ]; then
			res="PASS qtest checkpatch ${f#"$ROOT"/}"
		else
			res="FAIL qtest checkpatch ${f#"$ROOT"/} # $(echo "$out" | head -1)"
			echo "$out" | head -12
			fail=1
		fi
		echo "$res"
		[ -z "${QTEST_RESULTS:-}" ] || echo "$res" >>"$QTEST_RESULTS"
	done
fi
for arch in ${QTEST_ARCHES:-x86_64 aarch64}; do
	step "qtest: $arch (fuzz ${MANA_FUZZ_SECONDS}s)"
	[ -x "$OBJ/qemu-system-$arch" ] || die "$OBJ/qemu-system-$arch is missing: run make qemu"
	args=(--tap -k)
	[ -n "${QTEST_ONLY:-}" ] && args+=(-p "$QTEST_ONLY")
	log=$Q/qtest-$arch.log
	start=$SECONDS
	if QTEST_QEMU_BINARY="$OBJ/qemu-system-$arch" timeout 600 \
		"$OBJ/tests/qtest/mana-test" "${args[@]}" >"$log" 2>&1; then
		rc=0
	else
		rc=$?
	fi
	grep -E '^(ok|not ok|# fuzz|# rxgen)' "$log" || true
	if [ -n "${QTEST_RESULTS:-}" ]; then
		# make check's format: one PASS/FAIL line per case
		sed -nE 's|^ok [0-9]+ (/[^ ]*).*|PASS qtest \1|p; s|^not ok [0-9]+ (/[^ ]*).*|FAIL qtest \1|p' \
			"$log" >>"$QTEST_RESULTS"
		[ "$rc" = 0 ] || echo "FAIL qtest /$arch # mana-test exited with $rc: see $log" >>"$QTEST_RESULTS"
	fi
	npass=$(grep -c '^ok' "$log" || true)
	nfail=$(grep -c '^not ok' "$log" || true)
	if [ "$rc" != 0 ] || [ "$nfail" != 0 ] || [ "$npass" = 0 ]; then
		echo "qtest $arch: FAILED (exit $rc, $npass passed, $nfail failed) in $((SECONDS - start))s: see $log"
		tail -15 "$log"
		fail=1
	else
		echo "qtest $arch: $npass passed in $((SECONDS - start))s"
	fi
done
[ "$fail" = 0 ] || die "the MANA qtest failed: see build/qemu/qtest-*.log"
echo "qtest: all passed"
