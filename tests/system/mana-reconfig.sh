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

# A ring change allocates and maps every buffer of every RX queue under RTNL,
# in process context, while the old queues still take traffic: that loop
# must let other tasks and RCU in (soak finding H: after a 128-byte flood a
# 6.12 debug kernel spent 25 s in it, the flood's softirqs run at each
# buffer's local_bh_enable()). The model's generator floods the port during
# the change; with the RCU stall detector at its shortest timeout (3 s) a
# longer stretch without a scheduling point is reported. A change that ends
# sooner cannot show one (a fast kernel), and then the case is skipped, with
# the time it took.
rx_flood() { # rx_flood on|off: the model's RX generator, 128-byte frames to this port
	python3 - "$1" "$LOCAL_V4" <<'EOF'
import socket, sys
sys.path.insert(0, "/harness/run/tests/lib")
import hostctl
hostctl.qom_set("rxgen", False)
if sys.argv[1] == "on":
    hostctl.qom_set("rxgen-size", 128)
    hostctl.qom_set("rxgen-flows", 8)
    hostctl.qom_set("rxgen-dst-ip", int.from_bytes(socket.inet_aton(sys.argv[2]), "big"))
    # the host ends it after 10 minutes should the guest not get to
    hostctl.qom_set("rxgen", True, then=(600, False))
EOF
}
stall=/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout
name=ring_rx_8192_under_flood_lets_others_run
if [ ! -w "$stall" ]; then
	skip "$name" "no $stall"
elif ! out=$(rx_flood on 2>&1); then
	notok "$name" "cannot start the model's RX generator: $out"
else
	old=$(cat "$stall")
	echo 3 >"$stall"
	sleep 2
	log_mark
	t0=$(date +%s%N)
	out=$(ethtool -G "$NETIF" rx 8192 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	rx_flood off
	ethtool -G "$NETIF" rx 1024 >/dev/null 2>&1
	echo "$old" >"$stall"
	# a CPU that held up a grace period ("N-....: (T ticks this GP)", in
	# both kinds of CPU stall report) or a soft lockup fails; a report
	# where every CPU had passed a quiescent state and only RCU's kthread
	# was late ("All QSes seen", under the flood on a TCG guest) is counted
	stalls=$(log_since_mark | grep -E 'ticks this GP|soft lockup' | head -3 | tr '\n' ' ')
	other=$(log_since_mark | grep -cE 'detected stall|starved')
	if ((rc != 0)); then
		notok "$name" "ethtool -G rx 8192 failed: $out"
	elif [ -n "$stalls" ]; then
		notok "$name" "the change took $ms ms: $stalls"
	elif ! reaches; then
		notok "$name" "no traffic after the change"
	elif ((ms < 3000)); then
		skip "$name" "the change took $ms ms, less than the 3 s stall timeout: too fast to show a missing scheduling point"
	else
		echo "# $name: the change took $ms ms, no CPU stall ($other other RCU stall lines)"
		ok "$name"
	fi
fi
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
