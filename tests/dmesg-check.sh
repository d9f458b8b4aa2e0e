#!/bin/bash
# In the guest: one result line saying whether the kernel log is clean.
# The report of an allocation that a test made fail on purpose (fault
# injection: "page allocation failure" / "vmalloc error", then its stack) is
# not a splat: its Call Trace is not counted; any WARNING or BUG still is.
label=$1
bad=$(dmesg | awk '
	/page allocation failure:|vmalloc error:/ { alloc = NR }
	/Call [Tt]race:/ && alloc && NR - alloc <= 8 { next }
	/WARNING:|BUG:|Oops|Call trace:|Call Trace:|KASAN|possible recursive locking|circular locking|stalled pool shutdown|kmemleak: [0-9]+ new/ { print }' | head -3)
if [ -n "$bad" ]; then
	echo "FAIL $label kernel-log # $(echo "$bad" | tr '\n' ' ')"
	exit 1
fi
echo "PASS $label kernel-log"
