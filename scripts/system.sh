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
	out=$BUILD/results/system-$cfg.log
	CONFIG=$cfg RUN="bash /harness/run/tests/ksft.sh system-$cfg $tests; bash /harness/run/tests/dmesg-check.sh system-$cfg" \
		"$ROOT/scripts/vm.sh" >"$out" 2>&1 || true
	if grep -q '^error: ' "$out"; then
		echo "FAIL system-$cfg vm # $(grep '^error: ' "$out" | head -1)" | tee -a "$RESULTS"
	fi
	if ! grep -E '^(PASS|FAIL|SKIP) ' "$out" | tee -a "$RESULTS"; then
		echo "FAIL system-$cfg boot # no results: see $out" | tee -a "$RESULTS"
	fi
done
pass=$(grep -c '^PASS' "$RESULTS" || true)
fail=$(grep -c '^FAIL' "$RESULTS" || true)
skip=$(grep -c '^SKIP' "$RESULTS" || true)
echo "system: $pass passed, $fail failed, $skip skipped"
((fail == 0))
