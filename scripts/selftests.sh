#!/bin/bash
# The kselftests the guests run, built and installed for one guest kernel:
# CONFIG=<name> [BASE=] [SERIES=] [DEBUG=]. Their helpers (C programs, BPF
# objects, the YNL library and specs) go to <kernel build>/kselftest/
# kselftest_install, which the guest sees under /harness/kbuild; the guest's
# tests/ksft.sh runs a test from there when it was installed, else from the
# tree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel_env
TARGETS="net/lib drivers/net drivers/net/hw"
# the MANA selftests the patches add (an unpatched tree has none):
# installed, they find the BPF objects net/lib built (net-next's
# mana_rx_mem.py loads xdp_dummy.bpf.o), which the tree does not have
mana=drivers/net/microsoft/mana
[ ! -f "$KSRC/tools/testing/selftests/$mana/Makefile" ] || TARGETS="$TARGETS $mana"

[ -f "$OUT/.harness-built" ] || die "no kernel in ${OUT#"$ROOT"/}: make kernel CONFIG=$CONFIG first"
want="$(cat "$OUT/.harness-built") $TARGETS"
if [ "$(cat "$OUT/.harness-kselftest" 2>/dev/null)" = "$want" ] && [ -z "${FORCE:-}" ]; then
	echo "selftests: up to date"
	exit 0
fi
build() {
	# (the YNL library is built inside the source tree, with CC, which is
	# given on the command line so that it reaches that sub-make: another
	# architecture's objects there would go into this one's archive)
	rm -rf "$OUT/kselftest" &&
		make -C "$KSRC/tools/net/ynl" clean >/dev/null &&
		kmake "$OUT" headers &&
		make -C "$KSRC/tools/testing/selftests" O="$OUT" ARCH="$KARCH" CROSS_COMPILE="$CROSS" \
			CC="${CROSS}gcc" TARGETS="$TARGETS" -j"$(nproc)" install
}
# A helper that does not build (e.g. a library the host lacks) leaves its
# test without it, which the test reports (skip or fail); the rest is used.
run_step "selftests: building $TARGETS for $CONFIG (Linux $BASE)" "$OUT/kselftest.log" build ||
	warn "some selftest helpers did not build for $CONFIG: see ${OUT#"$ROOT"/}/kselftest.log"
[ -f "$OUT/kselftest/kselftest_install/kselftest-list.txt" ] ||
	die "the selftests did not install for $CONFIG: see ${OUT#"$ROOT"/}/kselftest.log"
echo "$want" >"$OUT/.harness-kselftest"
echo "selftests: installed in ${OUT#"$ROOT"/}/kselftest/kselftest_install"
