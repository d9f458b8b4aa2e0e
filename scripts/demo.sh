#!/bin/bash
# make demo: build what is missing, boot the arm64-64k and x86_64 guests and
# report what the series does on the NIC under test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

configs=${DEMO_CONFIGS:-arm64-64k x86_64}
total=$SECONDS
step "demo: build what is missing (packages, kernel tree, QEMU, kernels, guest userspaces)"
# shellcheck disable=SC2086
build() { "$ROOT/scripts/tree.sh" && guest_build $configs; }
timed build build
mods=$(kunit_modules)
n=$(git -C "$LINUX" rev-list --count base..HEAD)
# guest CONFIG: the report of a CONFIG guest (its stdout; the log has the rest)
guest() { CONFIG=$1 RUN="bash /harness/run/tests/demo-report.sh $mods" "$ROOT/scripts/vm.sh" | tee "$2"; }
for cfg in $configs; do
	step "demo: $cfg guest, Linux 6.12 + $n patches of series/"
	report=$BUILD/demo/$cfg.txt
	timed "$cfg" run_step "demo: booting the $cfg guest, running the report" "$BUILD/demo/$cfg.log" \
		guest "$cfg" "$report"
	cat "$report"
done
# RX memory per posted buffer, base vs series, as make bench measured it
# (a benchmark boots a base and a series guest per config: too long here).
if [ -f "$BUILD/bench/report.txt" ]; then
	step "demo: RX memory per posted buffer, base vs series ($(head -1 "$BUILD/bench/report.txt"), make bench)"
	sed -n '/^RX memory per posted buffer/,/^$/p' "$BUILD/bench/report.txt"
else
	step "demo: RX memory per posted buffer: not measured yet, run make bench"
fi
step "demo: time of each stage"
stage_times $total
