#!/bin/bash
# Host-side tests of scripts/lib.sh's text helpers: what lint's
# LINT_PER_PATCH=dirs hands to kbuild (outermost_dirs: a directory is built
# through its parent when both are listed; kbuild given both fails in a
# fresh output directory), the line that says why a build failed
# (build_error, not make's last), and what make check's summary shows
# under its FAIL lines (fail_context: what a failed kselftest case said,
# from a guest log where the lines of several tests interleave).
# One line per check: PASS|FAIL <helper>-<what>.  usage: bash tests/harness/libsh.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rc=0
check() { # check NAME GOT WANT
	if [ "$2" = "$3" ]; then
		echo "PASS $1"
	else
		echo "FAIL $1 # got '$(echo "$2" | tr '\n' ' ')', want '$(echo "$3" | tr '\n' ' ')'"
		rc=1
	fi
}
# patch 28 of series/ (netdevsim's Kconfig, and every series directory)
check outermost_dirs-parent-absorbs-child \
	"$(outermost_dirs drivers/net drivers/net/ethernet/microsoft/mana drivers/net/netdevsim net/core net/shaper)" \
	"$(printf '%s\n' drivers/net net/core net/shaper)"
check outermost_dirs-name-prefix-is-not-parent "$(outermost_dirs drivers/net2 drivers/net)" \
	"$(printf '%s\n' drivers/net drivers/net2)"
check outermost_dirs-child-listed-first "$(outermost_dirs net/core/x net/core net)" net
check outermost_dirs-duplicates-once "$(outermost_dirs net/core net/core)" net/core
check outermost_dirs-none "$(outermost_dirs)" ""
# the end of the kbuild log of CI's failure at patch 28
cat >"$T/log" <<'LOG'
  CC      drivers/net/net_failover.o
cat: drivers/net/ethernet/modules.order: No such file or directory
make[6]: *** [scripts/Makefile.build:410: drivers/net/modules.order] Error 1
  CC      net/core/link_watch.o
make[1]: Leaving directory '/check/work/main/build/linux'
LOG
check build_error-error-line "$(build_error "$T/log")" "cat: drivers/net/ethernet/modules.order: No such file or directory"
printf 'a.c:1:2: warning: x\nb.c:3:4: error: y undeclared\nmake: *** [b.o] Error 1\n' >"$T/log"
check build_error-compiler-error "$(build_error "$T/log")" "b.c:3:4: error: y undeclared"
printf '  CC a.o\nsomething else\n' >"$T/log"
check build_error-no-error-says-last-line "$(build_error "$T/log")" "something else"
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
check fail_context-failed-case-only "$(fail_context "$T/a.log")" "$(printf '%s\n' "$T/a.log:" \
	'  | [a.py] # unclamped: 656 Mbit/s' '  | [a.py] # Check failed 283 < 286' '  | [a.py] not ok 2 a.two')"
# a long case: its last 12 lines
for i in $(seq 1 20); do echo "    [c.py] # line $i"; done >"$T/c.log"
echo "    [c.py] not ok 1 c.long" >>"$T/c.log"
check fail_context-last-twelve "$(fail_context "$T/c.log" | sed -n '2p;13p;14p')" \
	"$(printf '%s\n' '  | [c.py] # line 9' '  | [c.py] # line 20' '  | [c.py] not ok 1 c.long')"
check fail_context-several-logs "$(fail_context "$T/c.log" "$T/a.log" | grep -c 'not ok')" 2
printf '    [d.py] ok 1 d.x\n' >"$T/d.log"
check fail_context-all-passed "$(fail_context "$T/d.log")" ""
exit $rc
