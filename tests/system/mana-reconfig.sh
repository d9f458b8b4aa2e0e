#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The emulated MANA NIC under reconfiguration, as a user would drive it:
# channels, rings, MTU and XDP changes while traffic runs, and module
# reload cycles. KTAP output; the NIC under test is $NETIF (set by the
# harness), the peer is in netns "remote".
# shellcheck disable=SC1091
. /harness/run/tests/lib/ktap.sh
XDP=/harness/run/tests/lib/xdp.py
check() { # check NAME CMD...: run a reconfiguration, then traffic must pass
	local name=$1 out
	shift
	if ! out=$("$@" 2>&1); then
		notok "$name" "$* failed: $out"
	elif ! reaches; then
		notok "$name" "no traffic after: $*"
	else
		ok "$name"
	fi
}

skip_all_unless_mana
ip netns exec remote ping -q -i 0.02 "$LOCAL_V4" >/dev/null 2>&1 &
flood=$!

max=$(ethtool -l "$NETIF" | awk '/^Combined:/ {print $2; exit}')
for c in $(seq 1 "$max"); do
	check "channels_combined_$c" ethtool -L "$NETIF" combined "$c"
done
for r in 128 256 1024 4096 8192; do
	check "ring_rx_$r" ethtool -G "$NETIF" rx "$r"
done
check ring_rx_back_to_1024 ethtool -G "$NETIF" rx 1024
for m in 1280 4000 9000 1500; do
	check "mtu_$m" ip link set "$NETIF" mtu "$m"
done
# MTU 68: the peer's 1500-byte frames no longer fit; the port must still work
if ip link set "$NETIF" mtu 68 && ip link set "$NETIF" mtu 1500 && reaches; then
	ok mtu_68_and_back
else
	notok mtu_68_and_back
fi

for a in pass drop tx; do
	if ! out=$(python3 "$XDP" attach "$NETIF" "$a" 2>&1); then
		notok "xdp_$a" "attach: $out"
		continue
	fi
	if [ "$a" = pass ]; then reaches; got=$?; else ! ping -c 2 -W 1 -q "$REMOTE_V4" >/dev/null 2>&1; got=$?; fi
	if ! out=$(python3 "$XDP" detach "$NETIF" 2>&1); then
		notok "xdp_$a" "detach: $out"
	elif ((got != 0)); then
		notok "xdp_$a" "traffic with XDP $a did not behave as $a"
	elif ! reaches; then
		notok "xdp_$a" "no traffic after detach"
	else
		ok "xdp_$a"
	fi
done

# full-page-rx where the layout does not change (MTU 9000: one buffer per
# page already) or the port is down: the flag is taken, the queues are not
# re-created and the link does not flap.
flaps() { cat "/sys/class/net/$NETIF/carrier_changes"; }
ip link set "$NETIF" mtu 9000
before=$(flaps)
if (($(getconf PAGESIZE) > 16384)); then
	skip full_page_rx_same_layout "$(getconf PAGESIZE)-byte pages: 9000-byte buffers still share pages, so full-page-rx always changes the layout"
elif ! out=$(ethtool --set-priv-flags "$NETIF" full-page-rx on 2>&1); then
	notok full_page_rx_same_layout "$out"
elif [ "$(flaps)" != "$before" ]; then
	notok full_page_rx_same_layout "carrier changed $(($(flaps) - before)) times"
elif ! ethtool --show-priv-flags "$NETIF" | grep -q 'full-page-rx *: on'; then
	notok full_page_rx_same_layout "flag not reported on"
else
	ok full_page_rx_same_layout
fi
ethtool --set-priv-flags "$NETIF" full-page-rx off
ip link set "$NETIF" mtu 1500
ip link set "$NETIF" down
if ethtool --set-priv-flags "$NETIF" full-page-rx on &&
	ip link set "$NETIF" up && reaches &&
	ethtool --set-priv-flags "$NETIF" full-page-rx off && reaches; then
	ok full_page_rx_while_down
else
	notok full_page_rx_while_down "flag change while down, then up: no traffic"
fi

# With XDP the MTU limit is what fits one page, but never more than the
# adapter takes (64K pages fit far more than the adapter's 9000 bytes).
max_mtu() { ip -j -d link show dev "$NETIF" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["max_mtu"])'; }
adapter_max=$(max_mtu)
if ! out=$(python3 "$XDP" attach "$NETIF" pass 2>&1); then
	notok xdp_max_mtu_within_adapter "attach: $out"
else
	xdp_max=$(max_mtu)
	if ((xdp_max > adapter_max)); then
		notok xdp_max_mtu_within_adapter "max_mtu $xdp_max with XDP, the adapter takes $adapter_max"
	elif ip link set "$NETIF" mtu $((adapter_max + 1)) 2>/dev/null; then
		notok xdp_max_mtu_within_adapter "MTU $((adapter_max + 1)) accepted with XDP"
	else
		ok xdp_max_mtu_within_adapter
	fi
	ip link set "$NETIF" mtu 1500
	python3 "$XDP" detach "$NETIF" >/dev/null 2>&1
fi

cycles=0
for i in $(seq 20); do
	modprobe -r mana || break
	modprobe mana || break
	for _ in $(seq 50); do setup_dev && break; sleep 0.1; done
	reaches || break
	cycles=$i
done
if ((cycles == 20)); then ok module_reload_20_cycles; else notok module_reload_20_cycles "stopped after $cycles cycles"; fi

kill $flood 2>/dev/null
finish
