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
# The bandwidth clamp (before KUnit: unloading its modules may unload the
# driver): bw-max of the device shaper (net-shaper family, set
# with the tree's ynl CLI), the speed ethtool reports and the TX rate to the
# remote measured by iperf3 (TCP payload; the clamp counts whole frames).
if [ "$drv" = mana ] && command -v iperf3 >/dev/null && [ -f tools/net/ynl/cli.py ]; then
	ifindex=$(cat "/sys/class/net/$NETIF/ifindex")
	shaper() {
		python3 tools/net/ynl/cli.py --no-schema \
			--spec Documentation/netlink/specs/net_shaper.yaml --do "$1" \
			--json "{\"ifindex\": $ifindex, \"handle\": {\"scope\": \"netdev\"}${2:+, $2}}" >/dev/null
	}
	tx_mbps() {
		ip netns exec remote iperf3 -s -1 -p 5299 >/dev/null 2>&1 &
		for _ in $(seq 50); do ip netns exec remote ss -ltn | grep -q ':5299 ' && break; sleep 0.1; done
		iperf3 -4 -c "$REMOTE_V4" -p 5299 -t 4 -O 1 -J 2>/dev/null |
			python3 -c 'import json, sys; print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))' 2>/dev/null || echo "?"
		wait
	}
	speed() { ethtool "$NETIF" | awk '/Speed:/ {print $2}'; }
	printf '  %-22s %s\n' "bandwidth clamp" "none: ethtool speed $(speed), TX $(tx_mbps) Mbit/s"
	if shaper set '"metric": "bps", "bw-max": 200000000'; then
		printf '  %-22s %s\n' "" "bw-max 200 Mbit/s: ethtool speed $(speed), TX $(tx_mbps) Mbit/s"
		shaper delete
		printf '  %-22s %s\n' "" "deleted: ethtool speed $(speed)"
	else
		printf '  %-22s %s\n' "" "setting bw-max 200 Mbit/s FAILED"
	fi
fi
out=$(bash /harness/run/tests/kunit.sh demo "$@" 2>/dev/null | grep -E '^(PASS|FAIL|SKIP) ')
printf '  %-22s %s passed, %s failed, %s skipped (%s)\n' "KUnit" \
	"$(grep -c ^PASS <<<"$out")" "$(grep -c ^FAIL <<<"$out")" "$(grep -c ^SKIP <<<"$out")" "$*"
