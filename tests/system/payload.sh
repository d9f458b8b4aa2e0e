#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Payloads checked end to end through the NIC under test: 16 MiB of random
# bytes over TCP in each direction (SHA-256 compared) and pings whose reply
# data ping verifies, at MTU 1500 and 9000, and on MANA again with one RX
# buffer per page (full-page-rx). Booted with swiotlb=force at its default
# size (see tests/system.plan), every RX buffer is bounced, so a missing or
# wrong DMA sync shows up here as corrupted data, and a driver that maps more
# than the device writes runs out of bounce buffers. KTAP output.
# shellcheck disable=SC1091
. /harness/run/tests/lib/ktap.sh
R="ip netns exec remote"
RIF=$($R ip -o link show | awk -F': ' '$2 != "lo" {print $2; exit}')
DATA=/tmp/payload.data
PORT=5201

transfer() { # transfer rx|tx: random data to (rx) or from (tx) this host
	local got=/tmp/payload.got dst recv send
	rm -f $got
	if [ "$1" = rx ]; then
		dst=$LOCAL_V4 recv="" send=$R
	else
		dst=$REMOTE_V4 recv=$R send=""
	fi
	$recv timeout 120 socat -u TCP-LISTEN:$PORT,reuseaddr OPEN:$got,creat,trunc &
	local lpid=$!
	sleep 0.5
	if ! $send timeout 120 socat -u OPEN:$DATA "TCP:$dst:$PORT,retry=10,interval=0.3"; then
		wait $lpid
		echo "socat sender failed"
		return 1
	fi
	wait $lpid
	if ! cmp -s $DATA $got; then
		echo "received $(stat -c %s $got 2>/dev/null || echo 0) bytes, sha256 $(sha256sum <$got | cut -c1-16), sent $(sha256sum <$DATA | cut -c1-16)"
		return 1
	fi
}
pings() { # pings SIZE: 20 pings with a pattern; every reply back and intact
	local out
	out=$(ping -c 20 -i 0.05 -W 2 -s "$1" -p a55a0ff0 "$REMOTE_V4" 2>&1)
	if grep -q 'wrong data byte' <<<"$out"; then
		echo "corrupted reply data: $(grep -m1 'wrong data byte' <<<"$out")"
		return 1
	fi
	if ! grep -q ' 0% packet loss' <<<"$out"; then
		grep -o '[0-9.]*% packet loss' <<<"$out"
		return 1
	fi
}
round() { # round MTU [TAG]: every check at this MTU on both ends
	local mtu=$1 tag=${2:+_$2} why s
	if ! ip link set "$NETIF" mtu "$mtu" || ! $R ip link set "$RIF" mtu "$mtu"; then
		notok "mtu_${mtu}${tag}_setup" "cannot set MTU $mtu"
		return
	fi
	reaches || echo "# no traffic right after MTU $mtu"
	for d in rx tx; do
		if why=$(transfer $d); then ok "tcp_${d}_mtu_$mtu$tag"; else notok "tcp_${d}_mtu_$mtu$tag" "$why"; fi
	done
	for s in 56 $((mtu - 28)) 20000; do
		if why=$(pings "$s"); then ok "ping_${s}_mtu_$mtu$tag"; else notok "ping_${s}_mtu_$mtu$tag" "$why"; fi
	done
}

echo "KTAP version 1"
echo "# kernel command line: $(cat /proc/cmdline)"
head -c 16M /dev/urandom >$DATA
round 1500
round 9000
if [ "$(ethtool -i "$NETIF" | awk '/^driver:/ {print $2}')" = mana ]; then
	if ! why=$(ethtool --set-priv-flags "$NETIF" full-page-rx on 2>&1); then
		notok full_page_rx_on "$why"
	else
		round 9000 full_page
		round 1500 full_page
		ethtool --set-priv-flags "$NETIF" full-page-rx off
	fi
fi
ip link set "$NETIF" mtu 1500
$R ip link set "$RIF" mtu 1500
finish
