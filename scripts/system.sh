#!/bin/bash
# The system tests of tests/system.plan in the x86_64 and arm64-64k guests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RESULTS=${RESULTS:-$BUILD/results/system.txt}
mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS"
for cfg in ${SYSTEM_CONFIGS:-x86_64 arm64-64k}; do
	# One guest per kernel command line (the plan's third column on).
	appends=$(awk -v c="$cfg" '!/^#/ && NF >= 2 && index("," $1 ",", "," c ",") {
		$1 = $2 = ""; sub(/^ +/, ""); print }' "$ROOT/tests/system.plan" | sort -u)
	while IFS= read -r append; do
		tests=$(awk -v c="$cfg" -v a="$append" '!/^#/ && NF >= 2 && index("," $1 ",", "," c ",") {
			t = $2; $1 = $2 = ""; sub(/^ +/, ""); if ($0 == a) print t }' "$ROOT/tests/system.plan" | xargs)
		[ -n "$tests" ] || continue
		tag=$(sed -E 's/[^A-Za-z0-9]+/-/g; s/-$//' <<<"$append")
		step "system: $cfg${append:+ ($append)}: $tests"
		APPEND=$append guest_stage system "$cfg" \
			"bash /harness/run/tests/ksft.sh system-$cfg${tag:+-$tag} $tests" "$tag"
	done <<<"$appends"
done
results_summary system
