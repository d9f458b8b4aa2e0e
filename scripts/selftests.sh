#!/bin/bash
# The kselftests the guests run, built and installed for one guest kernel:
# CONFIG=<name> [BASE=] [SERIES=] [DEBUG=]. Their helpers (C programs, BPF
# objects, the YNL library and specs) go to <kernel build>/kselftest/
# kselftest_install, which the guest sees under /harness/kbuild; the guest's
# tests/ksft.sh runs a test from there when it was installed, else from the
# tree.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CONFIG=${CONFIG:?CONFIG=<name> is required: one of $CONFIGS}
SERIES=${SERIES:-1}
DEBUG=${DEBUG:-0}
config_env "$CONFIG"
KOUT=$(kbuild_dir "$CONFIG" "$SERIES" "$DEBUG")
KSRC=$(ksrc_dir "$SERIES")
TARGETS="net/lib drivers/net drivers/net/hw"

[ -f "$KOUT/.harness-built" ] || die "no kernel in ${KOUT#"$ROOT"/}: make kernel CONFIG=$CONFIG first"
want="$(cat "$KOUT/.harness-built") $TARGETS"
if [ "$(cat "$KOUT/.harness-kselftest" 2>/dev/null)" = "$want" ] && [ -z "${FORCE:-}" ]; then
	echo "selftests: up to date"
	exit 0
fi
build() {
	# (the YNL library is built inside the source tree: another
	# architecture's objects there would go into this one's archive)
	rm -rf "$KOUT/kselftest" &&
		make -C "$KSRC/tools/net/ynl" clean >/dev/null &&
		kmake "$KOUT" headers &&
		make -C "$KSRC/tools/testing/selftests" O="$KOUT" ARCH="$KARCH" CROSS_COMPILE="$CROSS" \
			TARGETS="$TARGETS" -j"$(nproc)" install
}
# A helper that does not build (e.g. a library the host lacks) leaves its
# test without it, which the test reports (skip or fail); the rest is used.
run_step "selftests: building $TARGETS for $CONFIG (Linux $BASE)" "$KOUT/kselftest.log" build ||
	warn "some selftest helpers did not build for $CONFIG: see ${KOUT#"$ROOT"/}/kselftest.log"
[ -f "$KOUT/kselftest/kselftest_install/kselftest-list.txt" ] ||
	die "the selftests did not install for $CONFIG: see ${KOUT#"$ROOT"/}/kselftest.log"
echo "$want" >"$KOUT/.harness-kselftest"
echo "selftests: installed in ${KOUT#"$ROOT"/}/kselftest/kselftest_install"
