#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The device's counters after each kind of reconfiguration: the kernel
# tree's upstream drivers/net/stats.py (pkt_byte_sum: rtnl stats64 and the
# netdev qstats must agree, neither going backwards) and ip -s link
# counters that never go backwards. Every reconfiguration re-creates the
# queues, whose counters must then live on in the device totals. A driver
# without qstats (stats.py skips pkt_byte_sum) gets a skip once ip -s link
# has kept counting. KTAP.
# shellcheck disable=SC1091
. /harness/run/tests/lib/ktap.sh
XDP=/harness/run/tests/lib/xdp.py
STATS_DIR=/root/linux/tools/testing/selftests/drivers/net

counters() { # rx_packets tx_packets of the port, as ip -s link reports them
	ip -j -s link show dev "$NETIF" |
		python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["stats64"]; print(s["rx"]["packets"], s["tx"]["packets"])'
}
xdp_cycle() { python3 "$XDP" attach "$NETIF" pass && python3 "$XDP" detach "$NETIF"; }
flag_cycle() {
	ethtool --set-priv-flags "$NETIF" full-page-rx on &&
		ethtool --set-priv-flags "$NETIF" full-page-rx off
}
ring_cycle() {
	local r
	r=$(ethtool -g "$NETIF" | awk '/^RX:/ {v = $2} END {print v}')
	ethtool -G "$NETIF" rx 256 && ethtool -G "$NETIF" rx "$r"
}
chan_cycle() {
	local c
	c=$(ethtool -l "$NETIF" | awk '/^Combined:/ {v = $2} END {print v}')
	ethtool -L "$NETIF" combined 1 && ethtool -L "$NETIF" combined "$c"
}
reconf() { # reconf NAME CMD...: traffic, reconfigure, traffic, then check
	local name=$1 before after out
	shift
	ping -c 20 -i 0.02 -q "$REMOTE_V4" >/dev/null 2>&1
	read -r -a before < <(counters)
	if ! out=$("$@" 2>&1); then
		notok "$name" "$* failed: $out"
		return
	fi
	reaches
	read -r -a after < <(counters)
	if ((after[0] < before[0] || after[1] < before[1])); then
		notok "$name" "ip -s link went backwards: rx ${before[0]} -> ${after[0]}, tx ${before[1]} -> ${after[1]}"
		return
	fi
	out=$(cd "$STATS_DIR" && ./stats.py 2>&1)
	if grep -qE '^ok [0-9]+ stats\.pkt_byte_sum$' <<<"$out"; then
		ok "$name"
	elif grep -qE '^ok [0-9]+ stats\.pkt_byte_sum # SKIP' <<<"$out"; then
		# a driver without qstats (mainline's MANA): ip -s link kept
		# counting, the rtnl/qstats agreement cannot be checked
		skip "$name" "ip -s link kept counting; stats.py skips pkt_byte_sum: $(sed -n 's/.*pkt_byte_sum # SKIP //p' <<<"$out" | head -1)"
	else
		notok "$name" "stats.py: $(grep -E 'pkt_byte_sum|Exception' <<<"$out" | head -2 | tr '\n' ' ')"
	fi
}

skip_all_unless_mana
reconf link_down_up bash -c "ip link set $NETIF down && ip link set $NETIF up"
reconf mtu_change bash -c "ip link set $NETIF mtu 4000 && ip link set $NETIF mtu 1500"
reconf ring_change ring_cycle
reconf channel_change chan_cycle
reconf xdp_attach_detach xdp_cycle
reconf full_page_rx_flag flag_cycle
finish
