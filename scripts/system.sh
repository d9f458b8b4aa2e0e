#!/bin/bash
# The system tests of tests/system.plan in the x86_64 and arm64-64k guests
# of the base (BASE=6.12|7.3).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RESULTS=${RESULTS:-$BUILD/results/system$BSFX.txt}
mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS"
# plan_lines CONFIG: the plan's lines for CONFIG and BASE, without the first
# column (<configs>[@<bases>]: no @ means every base)
plan_lines() {
	awk -v c="$1" -v b="$BASE" '!/^#/ && NF >= 2 {
		n = split($1, cb, "@")
		if (!index("," cb[1] ",", "," c ",")) next
		if (n > 1 && !index("," cb[2] ",", "," b ",")) next
		$1 = ""; sub(/^ +/, ""); print }' "$ROOT/tests/system.plan"
}
for cfg in ${SYSTEM_CONFIGS:-x86_64 arm64-64k}; do
	# One guest per kernel command line (the plan's third column on).
	appends=$(plan_lines "$cfg" | awk '{$1 = ""; sub(/^ +/, ""); print}' | sort -u)
	while IFS= read -r append; do
		tests=$(plan_lines "$cfg" | awk -v a="$append" '{t = $1; $1 = ""; sub(/^ +/, ""); if ($0 == a) print t}' | xargs)
		tag=$(sed -E 's/[^A-Za-z0-9]+/-/g; s/-$//' <<<"$append")
		# SERIES=0 runs the unpatched tree: a test the patches add is not
		# there (a SKIP saying so; with the patches a missing test fails)
		if [ "${SERIES:-1}" = 0 ]; then
			kept=''
			for t in $tests; do
				if [[ $t != /* && ! -e $(ksrc_dir 0)/$t ]]; then
					echo "SKIP system-$cfg$BSFX${tag:+-$tag} $t # not in the unpatched tree: a test ${PATCHES#"$ROOT"/}/ adds" | tee -a "$RESULTS"
				else
					kept="$kept $t"
				fi
			done
			tests=${kept# }
		fi
		[ -n "$tests" ] || continue
		step "system: $cfg (Linux $BASE)${append:+ ($append)}: $tests"
		# (COST=off: the bench's cost plugin loaded and idle; tests/system/cost.py
		# checks it)
		APPEND=$append COST=off guest_stage system "$cfg" \
			"bash /harness/run/tests/ksft.sh system-$cfg$BSFX${tag:+-$tag} $tests" "$tag"
	done <<<"$appends"
done
results_summary "system (Linux $BASE)"
