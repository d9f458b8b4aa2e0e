#!/bin/bash
# In the guest: a short report of what the series does on the NIC under test.
. /etc/profile.d/harness.sh 2>/dev/null
printf '  %-22s %s\n' "kernel" "$(uname -r) $(uname -m)"
printf '  %-22s %s\n' "page size" "$(getconf PAGESIZE) bytes"
drv=$(ethtool -i "$NETIF" 2>/dev/null | awk '/^driver:/ {print $2}')
printf '  %-22s %s\n' "NIC under test" "$NETIF (driver ${drv:-?}, $(cat /sys/class/net/"$NETIF"/operstate))"
if ping -c 3 -i 0.2 -W 1 -q "$REMOTE_V4" >/tmp/ping 2>&1; then
	printf '  %-22s %s\n' "traffic" "ping $REMOTE_V4 (netns remote): $(grep -o '[0-9]* received' /tmp/ping)"
else
	printf '  %-22s %s\n' "traffic" "ping $REMOTE_V4 FAILED"
fi
out=$(bash /harness/run/tests/kunit.sh demo "$@" 2>/dev/null | grep -E '^(PASS|FAIL|SKIP) ')
printf '  %-22s %s passed, %s failed, %s skipped (%s)\n' "KUnit" \
	"$(grep -c ^PASS <<<"$out")" "$(grep -c ^FAIL <<<"$out")" "$(grep -c ^SKIP <<<"$out")" "$*"
