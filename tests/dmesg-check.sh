#!/bin/bash
# In the guest: one result line saying whether the kernel log is clean.
label=$1
bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|Call trace:|Call Trace:|KASAN|possible recursive locking|circular locking|stalled pool shutdown|kmemleak: [0-9]+ new' | head -3)
if [ -n "$bad" ]; then
	echo "FAIL $label kernel-log # $(echo "$bad" | tr '\n' ' ')"
	exit 1
fi
echo "PASS $label kernel-log"
