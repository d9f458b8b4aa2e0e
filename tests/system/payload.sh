#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Payloads checked end to end through the NIC under test: 16 MiB of random
# bytes over TCP in each direction (SHA-256 compared) and pings whose reply
# data ping verifies, at MTU 1500 and 9000, and on MANA again with one RX
# buffer per page (full-page-rx). Booted with swiotlb=force at its default
# size (see tests/system.plan), every RX buffer is bounced, so a missing or
# wrong DMA sync shows up here as corrupted data, and a driver that maps more
# than the device writes runs out of bounce buffers; with XDP_TX, the RX
# pages must still be mapped for the device to write only. KTAP output.
# shellcheck disable=SC1091
. /harness/run/tests/lib/ktap.sh
R="ip netns exec remote"
RIF=$($R ip -o link show | awk -F': ' '$2 != "lo" {print $2; exit}')
DATA=/tmp/payload.data
PORT=5201
XDP=/harness/run/tests/lib/xdp.py

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
# xdp_tx_dma: with an XDP_TX program attached, the RX pages are still
# mapped for the device to write only (the frames XDP_TX sends are mapped
# on their own). Pages mapped both ways cost, under swiotlb, a copy of the
# whole mapping into the bounce buffer each time the pool recycles a page.
# Read from the DMA trace events of the NIC's PCI function.
xdp_tx_dma() {
	local t=/sys/kernel/tracing dev ev both from bytes syncs map
	if [ ! -d $t/events ] && ! mount -t tracefs nodev $t 2>/dev/null; then
		skip xdp_tx_rx_pages_device_writes_only "no tracefs (CONFIG_FTRACE)"
		return
	fi
	if [ ! -d $t/events/dma ]; then
		skip xdp_tx_rx_pages_device_writes_only "no DMA trace events in this kernel"
		return
	fi
	# the page mapping event: dma_map_page up to 6.x, dma_map_phys in 7.x
	map=dma_map_page
	[ -d $t/events/dma/$map ] || map=dma_map_phys
	dev=$(basename "$(readlink -f "/sys/class/net/$NETIF/device")")
	echo 0 >$t/tracing_on
	echo >$t/trace
	for ev in $map dma_sync_single_for_device; do
		echo "device == \"$dev\"" >$t/events/dma/$ev/filter
		echo 1 >$t/events/dma/$ev/enable
	done
	echo 1 >$t/tracing_on
	local attached=1
	if why=$(python3 "$XDP" attach "$NETIF" tx 2>&1); then
		# frames XDP_TX sends back: pages return to the pool and recycle
		$R ping -c 200 -i 0.01 -W 1 -q "$LOCAL_V4" >/dev/null 2>&1
		python3 "$XDP" detach "$NETIF" >/dev/null 2>&1
	else
		attached=0
	fi
	echo 0 >$t/tracing_on
	for ev in $map dma_sync_single_for_device; do
		echo 0 >$t/events/dma/$ev/enable
		echo 0 >$t/events/dma/$ev/filter
	done
	if ((!attached)); then
		echo >$t/trace
		notok xdp_tx_rx_pages_device_writes_only "XDP_TX attach: $why"
		return
	fi
	both=$(grep -c 'dir=BIDIRECTIONAL' $t/trace)
	from=$(grep "$map:" $t/trace | grep -c 'dir=FROM_DEVICE')
	read -r syncs bytes < <(grep 'dma_sync_single_for_device:' $t/trace |
		grep 'dir=BIDIRECTIONAL' | sed -n 's/.* size=\([0-9]*\).*/\1/p' |
		awk '{n++; b += $1} END {print n + 0, b + 0}')
	echo "# XDP_TX: $from RX mappings for the device to write, $both both ways;" \
		"$syncs syncs for the device of pages mapped both ways ($bytes bytes bounced)"
	echo >$t/trace
	reaches || echo "# no traffic after the XDP_TX check"
	if ((from == 0)); then
		notok xdp_tx_rx_pages_device_writes_only "no RX page mapping seen while XDP_TX was attached"
	elif ((both > 0)); then
		notok xdp_tx_rx_pages_device_writes_only "$both mappings both ways: $bytes bytes bounced to the device in $syncs recycles"
	else
		ok xdp_tx_rx_pages_device_writes_only
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
[ "$(ethtool -i "$NETIF" | awk '/^driver:/ {print $2}')" = mana ] && xdp_tx_dma
finish
