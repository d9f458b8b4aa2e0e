# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by the harness's shell tests: KTAP result lines and the checks
# they share. The NIC under test is $NETIF, the peer is in netns "remote".
# shellcheck disable=SC1091
. /harness/run/env
n=0
fails=0
skips=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $1${2:+ # $2}"; }
skip() { n=$((n + 1)); skips=$((skips + 1)); echo "ok $n $1 # SKIP $2"; }
# The kernel log since a mark: a line written into the log, not a line
# count, which stops growing once the log buffer is full (a long run of a
# chatty driver) and would then hide every later line.
log_mark() { LOG_MARK="harness mark $$ $((++LOG_MARKS)) $(date +%s%N)"; echo "$LOG_MARK" >/dev/kmsg; }
log_since_mark() { dmesg | awk -v m="$LOG_MARK" 'seen {print} index($0, m) {seen = 1}'; }
reaches() { # the peer answers (retry: a reconfiguration restarts the queues)
	local _
	for _ in 1 2 3 4 5; do
		ping -c 1 -W 1 -q "$REMOTE_V4" >/dev/null 2>&1 && return 0
		sleep 1
	done
	return 1
}
dev_by_mac() {
	local i
	for i in /sys/class/net/*; do
		[ "$(cat "$i/address")" = "$NIC_MAC" ] && basename "$i" && return
	done
}
setup_dev() { # after a module reload: find the port again, address it, up
	NETIF=$(dev_by_mac)
	[ -n "$NETIF" ] || return 1
	ip addr add "$LOCAL_V4/24" dev "$NETIF" 2>/dev/null
	ip addr add "$LOCAL_V6/64" dev "$NETIF" nodad 2>/dev/null
	ip link set "$NETIF" up
}
# A test before this one may have reloaded the driver: find the port by MAC.
NETIF=$(dev_by_mac)
skip_all_unless_mana() { # a test of the MANA driver on anything else: skip it all
	echo "KTAP version 1"
	if [ "$(ethtool -i "$NETIF" 2>/dev/null | awk '/^driver:/ {print $2}')" != mana ]; then
		echo "1..0 # SKIP the NIC under test is not MANA"
		exit 4
	fi
}
finish() { # the plan line and totals; the exit status says whether all passed
	echo "1..$n"
	echo "# Totals: pass:$((n - fails - skips)) fail:$fails skip:$skips"
	((fails == 0))
}
