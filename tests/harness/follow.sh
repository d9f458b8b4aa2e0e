#!/bin/bash
# Host-side test of scripts/follow.py, which prints a guest's output as
# scripts/vm.sh collects it. A writer like the guest's 9p writeback: a line,
# then a later line at its offset (the file has a hole of NULs meanwhile),
# then the line that fills the hole. What the follower prints must be the
# file's final content, once; `tail -f` (what vm.sh used before) is run
# beside it to show the hole it prints. One line per check:
# PASS|FAIL follow-<what>.  usage: bash tests/harness/follow.sh
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rc=0
check() { # check NAME STATUS WHY
	if [ "$2" = 0 ]; then echo "PASS follow-$1"; else echo "FAIL follow-$1 # $3"; rc=1; fi
}
writer() {
	printf 'ok 1 first\n' >"$T/out"
	sleep 0.6
	printf 'ok 3 third\n' | dd of="$T/out" bs=1 seek=22 conv=notrunc status=none
	sleep 0.6
	printf 'not ok 2 second\n' | dd of="$T/out" bs=1 seek=11 conv=notrunc status=none
	printf '1..3\n' >>"$T/out"
	sleep 0.6
}
: >"$T/out"
writer &
w=$!
tail -n +1 -f --pid=$w "$T/out" >"$T/tail" 2>/dev/null &
"$ROOT/scripts/follow.py" "$T/out" $w >"$T/follow"
wait
cmp -s "$T/out" "$T/follow"
check final-content $? "printed $(od -c "$T/follow" | head -3 | tr -s ' ' | tr '\n' ' ')"
grep -q '^not ok 2 second$' "$T/follow"
check line-written-into-hole $? "the line written into the hole was not printed"
tr -d '\0' <"$T/tail" | grep -q '^not ok 2 second$'
tailgot=$?
echo "# tail -f printed the hole's line: $([ $tailgot = 0 ] && echo yes || echo no) ($(tr -cd '\0' <"$T/tail" | wc -c) NUL bytes)"
exit $rc
