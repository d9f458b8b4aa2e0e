#!/bin/bash
# Host-side test of make check's deadline (scripts/check.sh CHECK_DEADLINE,
# scripts/lib.sh guest_stage): with stand-ins for every stage, a run past its
# deadline starts no stage, says so with a FAIL line per stage that did not
# run (never a pass), still prints its stage times and summary, and exits
# non-zero; a guest started near the deadline gets only the time left.
# Takes seconds. One line per check: PASS|FAIL deadline-<what>.
# usage: bash tests/harness/deadline.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rc=0
check() { # check NAME CONDITION-STATUS WHY
	if [ "$2" = 0 ]; then echo "PASS deadline-$1"; else echo "FAIL deadline-$1 # $3"; rc=1; fi
}

# A fake project: the real check.sh and lib.sh, stand-ins for the stages
mkdir -p "$T/scripts" "$T/tests"
cp "$ROOT/scripts/check.sh" "$ROOT/scripts/lib.sh" "$T/scripts/"
echo mod_a >"$T/tests/kunit.list"
for s in deps tree qemu rootfs qtest lint kunit system soak kernel selftests iproute2; do
	printf '#!/bin/bash\necho "%s: stand-in ran" >>"%s/ran"\n' "$s" "$T" >"$T/scripts/$s.sh"
	chmod +x "$T/scripts/$s.sh"
done
# vm.sh: records the time limit it was given
printf '#!/bin/bash\necho "TIMEOUT=${TIMEOUT:-unset}" >>"%s/vm-timeout"\necho "PASS stand-in-test"\n' \
	"$T" >"$T/scripts/vm.sh"
chmod +x "$T/scripts/vm.sh"

# 1. a deadline already past: nothing runs, every stage is a FAIL line
# (make runs check.sh from the project's top: so does this test, from the
# fake project's, where scripts/ holds only stand-ins)
cd "$T" || exit 1
CHECK_DEADLINE=0 CHECK_BASES=6.12 scripts/check.sh >"$T/past.out" 2>&1
prc=$?
sed 's/^/    /' "$T/past.out"
[ "$prc" != 0 ]
check past-fails $? "make check past its deadline exited 0"
[ ! -e "$T/ran" ]
check past-runs-nothing $? "stages ran past the deadline: $(cat "$T/ran" 2>/dev/null | xargs)"
grep -qE '^FAIL check-deps # not run: make check had taken' "$T/past.out" &&
	! grep -qE '^FAIL check deps #' "$T/past.out"
check past-fail-lines $? "no 'FAIL check-deps # not run' line, or a false reason besides it"
grep -qE '^deps +- +not run \(deadline\)' "$T/past.out" && grep -qE '^total +[0-9]+s' "$T/past.out"
check past-stage-times $? "no stage times (or no 'not run' entry) at the end"
grep -qE '^0 passed, [0-9]+ failed' "$T/past.out"
check past-summary $? "no summary line '0 passed, N failed'"

# 2. a deadline ahead: every stage runs and says what it took
: >"$T/ran"
CHECK_DEADLINE=30 CHECK_BASES=6.12 scripts/check.sh >"$T/ahead.out" 2>&1
grep -q 'lint: stand-in ran' "$T/ran" && grep -q 'system: stand-in ran' "$T/ran"
check ahead-runs $? "stages did not run before the deadline: $(xargs <"$T/ran")"
grep -qE '^check: lint took [0-9]+s; [0-9]+s since make check started$' "$T/ahead.out"
check ahead-stage-lines $? "no 'check: lint took ...; ... since make check started' line"

# 3. a guest near the deadline gets the time left, not its usual limit
(
	. "$T/scripts/lib.sh" && export RESULTS=$T/guest.txt &&
		mkdir -p "$BUILD/results" && GUEST_BUILT[x86_64]=1 &&
		CHECK_END_AT=$((EPOCHSECONDS + 300)) guest_stage system x86_64 true >/dev/null 2>&1
)
t=$(sed -n 's/^TIMEOUT=//p' "$T/vm-timeout" | tail -1)
[[ $t =~ ^[0-9]+$ ]] && ((t <= 300 && t >= 290))
check guest-time-left $? "a guest 300 s before the deadline got TIMEOUT=$t"
exit $rc
