#!/bin/bash
# Host-side test of what lint's LINT_PER_PATCH=dirs hands to kbuild:
# scripts/lib.sh's outermost_dirs (a directory is built through its parent
# when both are listed; kbuild given both fails in a fresh output directory)
# and build_error (the line that says why a build failed, not make's last).
# One line per check: PASS|FAIL kdirs-<what>.  usage: bash tests/harness/kdirs.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$ROOT/scripts/lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rc=0
check() { # check NAME GOT WANT
	if [ "$2" = "$3" ]; then
		echo "PASS kdirs-$1"
	else
		echo "FAIL kdirs-$1 # got '$(echo "$2" | xargs)', want '$(echo "$3" | xargs)'"
		rc=1
	fi
}
# patch 28 of series/ (netdevsim's Kconfig, and every series directory)
check parent-absorbs-child \
	"$(outermost_dirs drivers/net drivers/net/ethernet/microsoft/mana drivers/net/netdevsim net/core net/shaper)" \
	"$(printf '%s\n' drivers/net net/core net/shaper)"
check name-prefix-is-not-parent "$(outermost_dirs drivers/net2 drivers/net)" \
	"$(printf '%s\n' drivers/net drivers/net2)"
check child-listed-first "$(outermost_dirs net/core/x net/core net)" net
check duplicates-once "$(outermost_dirs net/core net/core)" net/core
check none "$(outermost_dirs)" ""
# the end of the kbuild log of CI's failure at patch 28
cat >"$T/log" <<'LOG'
  CC      drivers/net/net_failover.o
cat: drivers/net/ethernet/modules.order: No such file or directory
make[6]: *** [scripts/Makefile.build:410: drivers/net/modules.order] Error 1
  CC      net/core/link_watch.o
make[1]: Leaving directory '/check/work/main/build/linux'
LOG
check error-line "$(build_error "$T/log")" "cat: drivers/net/ethernet/modules.order: No such file or directory"
printf 'a.c:1:2: warning: x\nb.c:3:4: error: y undeclared\nmake: *** [b.o] Error 1\n' >"$T/log"
check compiler-error "$(build_error "$T/log")" "b.c:3:4: error: y undeclared"
printf '  CC a.o\nsomething else\n' >"$T/log"
check no-error-says-last-line "$(build_error "$T/log")" "something else"
exit $rc
