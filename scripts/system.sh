#!/bin/bash
# The system tests of tests/system.plan in the x86_64 and arm64-64k guests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RESULTS=${RESULTS:-$BUILD/results/system.txt}
mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS"
for cfg in ${SYSTEM_CONFIGS:-x86_64 arm64-64k}; do
	tests=$(awk -v c="$cfg" '!/^#/ && NF == 2 && index("," $1 ",", "," c ",") {print $2}' "$ROOT/tests/system.plan" | xargs)
	[ -n "$tests" ] || continue
	step "system: $cfg: $tests"
	guest_stage system "$cfg" "bash /harness/run/tests/ksft.sh system-$cfg $tests"
done
results_summary system
