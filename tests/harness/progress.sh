#!/bin/bash
# Host-side test of the harness's progress output (scripts/lib.sh run_step,
# scripts/demo.sh): a long step is never silent, says where its log is, and
# on failure shows the end of its log. Stand-ins replace the real builds and
# guests, so it takes seconds. One line per check: PASS|FAIL progress-<what>.
# usage: bash tests/harness/progress.sh [DEMO_SH]   (default: scripts/demo.sh)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO=${1:-$ROOT/scripts/demo.sh}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rc=0
check() { # check NAME CONDITION-STATUS WHY
	if [ "$2" = 0 ]; then echo "PASS progress-$1"; else echo "FAIL progress-$1 # $3"; rc=1; fi
}
# stamp: each line of stdin with the time it came, in seconds since T0
stamp() {
	local l d
	while IFS= read -r l; do
		d=$(((${EPOCHREALTIME/./} - ${T0/./}) / 100000))
		printf '%3d.%d %s\n' $((d / 10)) $((d % 10)) "$l"
	done
}
# max_gap FILE: the longest silence (s) before or between stamped lines
max_gap() { awk '{ g = $1 - t; if (g > m) m = g; t = $1 } END { printf "%.1f\n", m }' "$1"; }

# A fake project: the real lib.sh and demo.sh, stand-ins for the rest. Each
# stand-in works a few seconds, printing progress as the real script does.
mkdir -p "$T/scripts" "$T/tests"
cp "$ROOT/scripts/lib.sh" "$T/scripts/"
cp "$DEMO" "$T/scripts/demo.sh" && chmod +x "$T/scripts/demo.sh"
echo mod_a >"$T/tests/kunit.list"
git -C "$T" init -q "$T/build/linux" && git -C "$T/build/linux" -c user.name=t -c user.email=t@t \
	commit -q --allow-empty -m base && git -C "$T/build/linux" tag base
stub() { # stub NAME SECONDS: a build script that works SECONDS, saying so on stdout
	cat >"$T/scripts/$1" <<STUB
#!/bin/bash
for i in \$(seq $2); do echo "${1%.sh}: working (\$i/$2)"; sleep 1; done
STUB
	chmod +x "$T/scripts/$1"
}
stub tree.sh 4
stub qemu.sh 3
stub kernel.sh 3
stub selftests.sh 1
stub rootfs.sh 2
stub iproute2.sh 2
# vm.sh: builds what is missing (its progress on stderr, as the real one),
# boots for 4 s without a word, then prints the report on stdout
cat >"$T/scripts/vm.sh" <<'STUB'
#!/bin/bash
d=$(dirname "$0")
{ "$d/qemu.sh"; "$d/kernel.sh"; "$d/selftests.sh"; "$d/rootfs.sh"; "$d/iproute2.sh"; } >&2
echo "vm: $CONFIG, console log: build/vm/$CONFIG/console.log" >&2
sleep 4
echo "  kernel                 6.12 $CONFIG"
STUB
chmod +x "$T/scripts/vm.sh"

# make demo, not on a terminal (a CI log): a status line at least every 2 s
T0=$EPOCHREALTIME
STEP_EVERY=1 DEMO_CONFIGS=arm64-64k "$T/scripts/demo.sh" 2>&1 </dev/null | stamp >"$T/demo.out"
drc=${PIPESTATUS[0]}
sed 's/^/    /' "$T/demo.out"
check demo-exit "$drc" "make demo exited $drc"
gap=$(max_gap "$T/demo.out")
awk -v g="$gap" 'BEGIN { exit !(g < 2.5) }'
check demo-never-silent $? "make demo was silent for ${gap}s (STEP_EVERY=1)"
grep -q 'kernel  *6.12 arm64-64k' "$T/demo.out"
check demo-report $? "the guest's report is not in make demo's output"
grep -qE '^ *[0-9.]+ == demo: arm64-64k guest' "$T/demo.out"
check demo-step-lines $? "no '== demo: arm64-64k guest' step line"
grep -qE '\(log: build/demo/arm64-64k.log\)' "$T/demo.out"
check demo-log-path $? "the guest's log path is not shown"
grep -qE '^ *[0-9.]+ arm64-64k +[0-9]+s  ok' "$T/demo.out"
check demo-stage-times $? "no time for the arm64-64k stage at the end"

# run_step alone: output in the log, the command's status, on failure the
# end of the log and its path
. "$ROOT/scripts/lib.sh"
work() { echo "compiling a"; echo "error: b is broken"; return 3; }
run_step "failing step" "$T/fail.log" work 2>"$T/fail.err"
src=$?
[ "$src" = 3 ]
check step-status $? "run_step returned $src, not the command's 3"
grep -qx 'error: b is broken' "$T/fail.log"
check step-log $? "the command's output is not in its log"
grep -qx '  | error: b is broken' "$T/fail.err" && grep -qx "  full log: $T/fail.log" "$T/fail.err"
check step-failure $? "a failed step does not show the end of its log and its path"

# nested: the outer step shows the inner one's status; the outer log gets
# only the inner one's first and last lines
inner() { run_step "inner step" "$T/inner.log" sleep 3; }
STEP_EVERY=1 run_step "outer step" "$T/outer.log" inner 2>"$T/outer.err"
grep -q '^  [0-9]s  inner step: [0-9]s' "$T/outer.err"
check step-nested $? "the outer step does not show the inner one's progress"
[ "$(wc -l <"$T/outer.log")" = 2 ]
check step-nested-log $? "the outer log has $(wc -l <"$T/outer.log") lines, not the inner step's 2"

# on a terminal: one status line rewritten in place every second
if command -v script >/dev/null; then
	script -qec "bash -c '. \"$ROOT/scripts/lib.sh\"; run_step tty-step \"$T/tty.log\" sleep 3'" \
		"$T/tty.ts" >/dev/null </dev/null
	rewrites=$(grep -o $'\r\e\\[K  [0-9]s' "$T/tty.ts" | wc -l)
	((rewrites >= 3)) && ! grep -q $'^  [0-9]s' "$T/tty.ts"
	check step-tty $? "$rewrites status rewrites on a terminal (or status lines that are not rewritten)"
else
	echo "SKIP progress-step-tty # no script(1) to give the step a terminal"
fi
exit $rc
