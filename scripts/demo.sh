#!/bin/bash
# make demo: build what is missing, boot the arm64-64k and x86_64 guests and
# report what the series does on the NIC under test.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$ROOT/scripts/tree.sh" >/dev/null
mods=$(grep -v '^#' "$ROOT/tests/kunit.list" | xargs)
n=$(git -C "$BUILD/linux" rev-list --count base..HEAD)
for cfg in ${DEMO_CONFIGS:-arm64-64k x86_64}; do
	step "demo: $cfg guest, Linux 6.12 + $n patches of series/"
	CONFIG=$cfg RUN="bash /harness/run/tests/demo-report.sh $mods" "$ROOT/scripts/vm.sh" 2> >(grep -E '^(error|==|vm:)' >&2)
done
# RX memory per posted buffer, base vs series, as make bench measured it
# (a benchmark boots a base and a series guest per config: too long here).
if [ -f "$BUILD/bench/report.txt" ]; then
	step "demo: RX memory per posted buffer, base vs series ($(head -1 "$BUILD/bench/report.txt"), make bench)"
	sed -n '/^RX memory per posted buffer/,/^$/p' "$BUILD/bench/report.txt"
else
	step "demo: RX memory per posted buffer: not measured yet, run make bench"
fi
