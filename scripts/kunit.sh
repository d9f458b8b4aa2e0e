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
	out=$BUILD/results/kunit-$cfg.log
	CONFIG=$cfg RUN="bash /harness/run/tests/kunit.sh kunit-$cfg $mods; bash /harness/run/tests/dmesg-check.sh kunit-$cfg" \
		"$ROOT/scripts/vm.sh" >"$out" 2>&1 || true
	if grep -q '^error: ' "$out"; then
		echo "FAIL kunit-$cfg vm # $(grep '^error: ' "$out" | head -1)" | tee -a "$RESULTS"
	fi
	if ! grep -E '^(PASS|FAIL|SKIP) ' "$out" | tee -a "$RESULTS"; then
		echo "FAIL kunit-$cfg boot # no results: see $out" | tee -a "$RESULTS"
	fi
done
pass=$(grep -c '^PASS' "$RESULTS" || true)
fail=$(grep -c '^FAIL' "$RESULTS" || true)
skip=$(grep -c '^SKIP' "$RESULTS" || true)
echo "kunit: $pass passed, $fail failed, $skip skipped"
((fail == 0))
