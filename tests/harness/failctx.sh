#!/bin/bash
# Host-side test of scripts/lib.sh's fail_context, which make check's summary
# prints under its FAIL lines: what a failed kselftest case said, taken from
# a guest log where the lines of several tests interleave.
# One line per check: PASS|FAIL failctx-<what>.  usage: bash tests/harness/failctx.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rc=0
check() { # check NAME GOT WANT
	if [ "$2" = "$3" ]; then
		echo "PASS failctx-$1"
	else
		echo "FAIL failctx-$1 # got '$(echo "$2" | tr '\n' '/')', want '$(echo "$3" | tr '\n' '/')'"
		rc=1
	fi
}
# the lines of a passed case are not shown; another test's lines between
# them are not the failed case's
cat >"$T/a.log" <<'LOG'
    [a.py] # said by the passed case
    [a.py] ok 1 a.one
PASS g a.py:a.one
    [a.py] # unclamped: 656 Mbit/s
    [b.py] # another test
    [a.py] # Check failed 283 < 286
    [a.py] not ok 2 a.two
    [a.py] # Totals: pass:1 fail:1
FAIL g a.py:a.two
LOG
check failed-case-only "$(fail_context "$T/a.log")" "$(printf '%s\n' "$T/a.log:" \
	'  | [a.py] # unclamped: 656 Mbit/s' '  | [a.py] # Check failed 283 < 286' '  | [a.py] not ok 2 a.two')"
# a long case: its last 12 lines
for i in $(seq 1 20); do echo "    [c.py] # line $i"; done >"$T/c.log"
echo "    [c.py] not ok 1 c.long" >>"$T/c.log"
check last-twelve "$(fail_context "$T/c.log" | sed -n '2p;13p;14p')" \
	"$(printf '%s\n' '  | [c.py] # line 9' '  | [c.py] # line 20' '  | [c.py] not ok 1 c.long')"
check several-logs "$(fail_context "$T/c.log" "$T/a.log" | grep -c 'not ok')" 2
printf '    [d.py] ok 1 d.x\n' >"$T/d.log"
check all-passed "$(fail_context "$T/d.log")" ""
exit $rc
