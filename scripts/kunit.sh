#!/bin/bash
# The series' KUnit suites (tests/kunit.list) as modules in the x86_64 and
# arm64-64k guests; one line per test case, KTAP summarised.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RESULTS=${RESULTS:-$BUILD/results/kunit.txt}
mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS"
mods=$(grep -v '^#' "$ROOT/tests/kunit.list" | xargs)
for cfg in ${KUNIT_CONFIGS:-x86_64 arm64-64k}; do
	step "kunit: $cfg: $mods"
	guest_stage kunit "$cfg" "bash /harness/run/tests/kunit.sh kunit-$cfg $mods"
done
results_summary kunit
