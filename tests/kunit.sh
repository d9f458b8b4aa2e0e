#!/bin/bash
# In the guest: load KUnit suite modules and report each test case:
#   PASS|FAIL|SKIP <label> <suite>.<case>[ # reason]
# usage: kunit.sh LABEL MODULE...
label=$1
shift
rc=0
K=/sys/kernel/debug/kunit
for m in "$@"; do
	before=$(ls "$K" 2>/dev/null)
	if ! modprobe "$m" 2>/tmp/modprobe.err; then
		echo "FAIL $label $m # modprobe failed: $(cat /tmp/modprobe.err)"
		rc=1
		continue
	fi
	suites=$(comm -13 <(echo "$before") <(ls "$K"))
	[ -n "$suites" ] || { echo "FAIL $label $m # the module registered no KUnit suite"; rc=1; }
	for s in $suites; do
		sed "s|^|    [$s] |" "$K/$s/results"
		n=0
		while IFS= read -r line; do
			if [[ $line =~ ^\ {4}(not\ )?ok\ [0-9]+\ ([^#]*[^#\ ])(\ #\ (.*))?$ ]]; then
				n=$((n + 1))
				case="${BASH_REMATCH[2]}" why="${BASH_REMATCH[4]}"
				if [[ $why == SKIP* ]]; then
					echo "SKIP $label $s.$case # $why"
				elif [ -n "${BASH_REMATCH[1]}" ]; then
					echo "FAIL $label $s.$case"
					rc=1
				else
					echo "PASS $label $s.$case"
				fi
			fi
		done <"$K/$s/results"
		((n)) || { echo "FAIL $label $s # no test case results"; rc=1; }
	done
	modprobe -r "$m" 2>/dev/null || true
done
exit $rc
