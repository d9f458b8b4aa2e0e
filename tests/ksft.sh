#!/bin/bash
# In the guest: run kselftest programs, one result line per test case:
#   PASS|FAIL|SKIP <label> <program>:<case>[ # reason]
# usage: ksft.sh LABEL TEST...   (paths relative to the kernel tree)
label=$1
shift
rc=0
# kselftests installed with their built helpers (scripts/selftests.sh) run
# from there; others (the harness's, or any not installed) from the tree
INST=/harness/kbuild/kselftest/kselftest_install
for t in "$@"; do
	dir=$(dirname "$t") prog=$(basename "$t")
	rel=${t#tools/testing/selftests/}
	[ "$rel" != "$t" ] && [ -f "$INST/$rel" ] && dir=$INST/$(dirname "$rel")
	# a test file without its execute bit (as some are in Debian's source)
	# runs through the interpreter its name says
	run=("./$prog")
	if [ ! -x "$dir/$prog" ]; then
		case "$prog" in
		*.py) run=(python3 "./$prog") ;;
		*.sh) run=(bash "./$prog") ;;
		esac
	fi
	t0=$SECONDS
	out=$(cd "$dir" && timeout 900 "${run[@]}" 2>&1)
	st=$?
	printf '%s\n' "$out" | sed "s|^|    [$prog] |"
	# what each program costs the suite (the log only: not a result)
	echo "    [$prog] took $((SECONDS - t0)) s"
	n=0
	while IFS= read -r line; do
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ ([^#]*[^#\ ])(\ #\ (.*))?$ ]]; then
			n=$((n + 1))
			case="${BASH_REMATCH[2]}" why="${BASH_REMATCH[4]}"
			if [[ $why == SKIP* || $why == XFAIL* ]]; then
				echo "SKIP $label $t:$case # $why"
			elif [ -n "${BASH_REMATCH[1]}" ] && [[ $why != XFAIL* ]]; then
				echo "FAIL $label $t:$case${why:+ # $why}"
				rc=1
			else
				echo "PASS $label $t:$case"
			fi
		fi
	done <<<"$out"
	if ((n == 0)) && ((st == 4)) && [[ $out =~ (^|$'\n')1\.\.0\ #\ (SKIP[^$'\n']*) ]]; then
		echo "SKIP $label $t # ${BASH_REMATCH[2]}"
	elif ((n == 0)); then
		echo "FAIL $label $t # no KTAP results (exit status $st)"
		rc=1
	elif ((st != 0 && st != 4)) && ! grep -q '^not ok' <<<"$out"; then
		# 4 = KSFT_SKIP; any other non-zero status needs a failing case
		echo "FAIL $label $t # exit status $st with no failing case"
		rc=1
	fi
done
exit $rc
