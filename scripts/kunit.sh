#!/bin/bash
# The KUnit suites of tests/kunit.list as modules in the x86_64 and arm64-64k
# guests of the base (BASE=6.12|7.3); one line per test case, KTAP summarised.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RESULTS=${RESULTS:-$BUILD/results/kunit$BSFX.txt}
mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS"
mods=$(kunit_modules)
for cfg in ${KUNIT_CONFIGS:-x86_64 arm64-64k}; do
	step "kunit: $cfg (Linux $BASE): $mods"
	guest_stage kunit "$cfg" "bash /harness/run/tests/kunit.sh kunit-$cfg$BSFX $mods"
done
results_summary "kunit (Linux $BASE)"
