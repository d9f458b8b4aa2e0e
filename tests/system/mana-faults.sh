#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Faults injected into the emulated MANA NIC at run time (through QMP, see
# tests/lib/hostctl.py): every one must take the driver's error path, be
# logged, and leave the interface passing traffic. KTAP output.
# shellcheck disable=SC1091
. /harness/run/tests/lib/ktap.sh
HOSTCTL=/harness/run/tests/lib/hostctl.py
host() { python3 "$HOSTCTL" "$@"; }

# HWC message codes (../shared/facts/mana-device.md)
QUERY_GF_STAT=0x20002
CREATE_WQ_OBJ=0x20004
CONFIG_VPORT_RX=0x20007
HWC_UNSUPPORTED=0xffffffff

mark_log() { log_mark; }
logged() { log_since_mark | grep -qF -- "$1"; }
logged_within() { # logged_within SECONDS ERE: the log says it (by then)
	local i
	for ((i = 0; i <= $1; i++)); do
		log_since_mark | grep -qE -- "$2" && return 0
		((i < $1)) && sleep 1
	done
	return 1
}
reset_faults() {
	host qom-set fault-hwc-code 0 && host qom-set fault-hwc-drop off &&
		host qom-set fault-hwc-status 5 && host qom-set fault-hwc-count 1 &&
		host qom-set fault-rx-len-excess 0 && host qom-set fault-delay-ms 0
}
arm_hwc() { # arm_hwc CODE STATUS|drop: fault the next request with CODE
	reset_faults || return 1
	if [ "$2" = drop ]; then
		host qom-set fault-hwc-drop on || return 1
	else
		host qom-set fault-hwc-status "$2" || return 1
	fi
	host qom-set fault-hwc-code "$1"
}
disarmed() { [ "$(host qom-get fault-hwc-code)" = 0 ]; }
rx_dropped() { cat "/sys/class/net/$NETIF/statistics/rx_dropped"; }
median_rtt_ms() { # the median RTT of N (odd) pings to the peer, whole ms
	# One a second: a doorbell rung while an earlier one is still delayed
	# is processed with it, so closer pings would be delayed less. Any
	# other frame (neighbour discovery, an MLD report) can start the delay
	# a little before one ping and shorten it: the median is what the
	# delay does to the pings, an average is not.
	ping -c "$1" -i 1 -W 3 "$REMOTE_V4" 2>/dev/null |
		sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' | sort -n |
		awk '{t[NR] = $1} END {if (NR) printf "%d\n", t[int((NR + 1) / 2)]}'
}

skip_all_unless_mana
# The harness always gives a MANA guest its host channel: a channel that
# does not answer is a failure, not a reason to skip.
if ! why=$(reset_faults 2>&1); then
	notok host_channel "cannot reach the emulated NIC through tests/lib/hostctl.py: $why"
	finish
	exit
fi
trap reset_faults EXIT

# A failed request while the channel count changes: the change is refused
# and the port keeps (or gets back) a working configuration.
channels() { # cur and want: the channel count now and one to change to
	local l
	# (a port a case before left gone answers no ethtool -l: none to change)
	if ! l=$(ethtool -l "$NETIF" 2>&1); then
		max=0 cur=0 want=0 single="ethtool -l fails, the port is gone (see the case before): $l"
		return
	fi
	max=$(awk '/^Combined:/ {print $2; exit}' <<<"$l")
	cur=$(awk '/^Combined:/ {c = $2} END {print c}' <<<"$l")
	want=$((cur > 1 ? cur - 1 : max))
	single="one channel only"
}
# refuse_channels NAME N [COUNT]: ethtool -L to N channels while the device
# refuses the next COUNT (1) CREATE_WQ_OBJ: true if the change was refused
# and every refusal happened (else NAME is not ok, saying why)
refuse_channels() {
	mark_log
	if ! arm_hwc $CREATE_WQ_OBJ 5 || ! host qom-set fault-hwc-count "${3:-1}"; then
		notok "$1" "cannot arm the CREATE_WQ_OBJ fault"
	elif ethtool -L "$NETIF" combined "$2" 2>/dev/null; then
		notok "$1" "ethtool -L succeeded with CREATE_WQ_OBJ failing"
	elif ! disarmed; then
		notok "$1" "fewer than ${3:-1} CREATE_WQ_OBJ requests were refused"
	else
		return 0
	fi
	return 1
}
# recovered NAME N: after a refused change: traffic, and the same change
# to N channels works now that the device accepts it
recovered() {
	if ! reaches; then
		notok "$1" "no traffic after the refused change"
	elif ! ethtool -L "$NETIF" combined "$2" || ! reaches; then
		notok "$1" "the same change fails once the fault is gone"
	else
		ok "$1"
	fi
}
channels
if ((want == cur)); then
	skip hwc_status_create_wq "$single: no channel change to fault"
elif refuse_channels hwc_status_create_wq "$want"; then
	if ! logged "Failed to create WQ object"; then
		notok hwc_status_create_wq "no 'Failed to create WQ object' in the log"
	else
		recovered hwc_status_create_wq "$want"
	fi
fi
# Refused twice: the channel change fails, and so does the attach of the
# old configuration that follows it. The port must stay present (down, no
# carrier) and come back when it is opened again, once the device accepts
# the requests (not answer ENODEV until the module is reloaded).
channels
if ((want == cur)); then
	skip hwc_status_create_wq_restore "$single: no channel change to fault"
elif ! reaches; then
	skip hwc_status_create_wq_restore "no traffic before the case (see hwc_status_create_wq)"
elif refuse_channels hwc_status_create_wq_restore "$want" 2; then
	if ! why=$({ ip link set "$NETIF" down && ip link set "$NETIF" up; } 2>&1); then
		notok hwc_status_create_wq_restore "ip link set down/up after the failed restore: $why"
	else
		recovered hwc_status_create_wq_restore "$want"
	fi
fi
ethtool -L "$NETIF" combined "$cur" 2>/dev/null
# A refused queue in a change to two or more channels: the queues the
# change never created must not be destroyed. The device is asked to
# destroy only the objects it created (a handle it never issued could name
# another queue's object).
channels
orig=$cur
if ((max < 2)); then
	skip hwc_create_wq_cleanup "$single: the refused change needs two"
elif ! reaches; then
	skip hwc_create_wq_cleanup "no traffic before the case (see the cases above)"
elif ((cur == max)) && ! { ethtool -L "$NETIF" combined 1 && reaches; }; then
	notok hwc_create_wq_cleanup "cannot go down to one channel first"
elif refuse_channels hwc_create_wq_cleanup "$max"; then
	if logged "Failed to destroy WQ object"; then
		notok hwc_create_wq_cleanup "the driver asked to destroy a WQ object the device never created: $(log_since_mark | grep -m1 -F 'Failed to destroy WQ object')"
	elif ! reaches; then
		notok hwc_create_wq_cleanup "no traffic after the refused change"
	else
		ok hwc_create_wq_cleanup
	fi
fi
ethtool -L "$NETIF" combined "$orig" 2>/dev/null
# A port the cases above left without traffic would fail every case below
# for that one reason: give them a working port (a fresh driver) so that
# each tests its own fault.
if ! reaches; then
	echo "# no traffic after the CREATE_WQ_OBJ cases: reloading mana for the cases below"
	rmmod mana && modprobe mana
	for _ in $(seq 20); do
		setup_dev && reaches && break
		sleep 1
	done
fi

# A failed RSS update: refused, logged, traffic continues.
mark_log
arm_hwc $CONFIG_VPORT_RX 5
if ethtool -X "$NETIF" equal 1 2>/dev/null; then
	notok hwc_status_vport_rx "ethtool -X succeeded with CONFIG_VPORT_RX failing"
elif ! logged "Failed to configure vPort RX"; then
	notok hwc_status_vport_rx "no 'Failed to configure vPort RX' in the log"
elif ! reaches; then
	notok hwc_status_vport_rx "no traffic after the refused RSS change"
elif ! ethtool -X "$NETIF" default || ! reaches; then
	notok hwc_status_vport_rx "RSS change fails once the fault is gone"
else
	ok hwc_status_vport_rx
fi

# "Unsupported" for the statistics query: ethtool -S still answers. The
# query comes from ethtool -S (6.12) or from the driver's periodic stats
# work (every 2 s in mainline): the log has a few seconds to say so.
mark_log
arm_hwc $QUERY_GF_STAT $HWC_UNSUPPORTED
if ! ethtool -S "$NETIF" >/dev/null; then
	notok hwc_unsupported_gf_stat "ethtool -S failed"
elif ! logged_within 10 "Failed to query GF stats"; then
	notok hwc_unsupported_gf_stat "no 'Failed to query GF stats' in the log"
elif ! disarmed || ! reaches; then
	notok hwc_unsupported_gf_stat "fault not consumed or no traffic after it"
else
	ok hwc_unsupported_gf_stat
fi

# No response at all: the driver times out (30 s), logs it, and the next
# request on the channel works. (6.12 logs "HWC: Request timed out!",
# mainline "Command 0x20002 timed out: ... ms"; mainline's periodic stats
# work, not ethtool -S, sends the query, and then resets the HWC.)
mark_log
arm_hwc $QUERY_GF_STAT drop
start=$(date +%s)
ethtool -S "$NETIF" >/dev/null
took=$(($(date +%s) - start))
if ! logged_within 45 "timed out"; then
	notok hwc_drop_gf_stat "no HWC timeout in the log within 45 s (ethtool -S took ${took}s)"
else
	# Mainline resets the HWC after the timeout (the port goes away and
	# comes back): give the port up to 60 s to answer again.
	sleep 2 # the lines that follow the timeout's belong to it
	for _ in $(seq 60); do
		NETIF=$(dev_by_mac)
		[ -n "$NETIF" ] && ethtool -S "$NETIF" >/dev/null 2>&1 && reaches && break
		sleep 1
	done
	mark_log
	sleep 5
	if ! ethtool -S "$NETIF" >/dev/null || logged "Failed to query GF stats"; then
		notok hwc_drop_gf_stat "the request after the timeout failed"
	elif ! reaches; then
		notok hwc_drop_gf_stat "no traffic after the timeout"
	else
		ok hwc_drop_gf_stat
	fi
fi

# Completions longer than the posted buffer: dropped and counted, the
# buffer is reused, traffic continues.
before=$(rx_dropped)
host qom-set fault-rx-len-excess 3
ping -c 8 -i 0.2 -W 1 -q "$REMOTE_V4" >/dev/null 2>&1
after=$(rx_dropped)
left=$(host qom-get fault-rx-len-excess)
if ((left != 0)); then
	notok rx_len_excess "$left of 3 oversized completions never happened"
elif ((after - before < 3)); then
	notok rx_len_excess "rx_dropped went from $before to $after, expected +3"
elif ! reaches; then
	notok rx_len_excess "no traffic after the oversized completions"
else
	ok rx_len_excess
fi

# Slow device: every TX doorbell and HWC response 300 ms late; RTT
# follows, and comes back when the delay is removed.
host qom-set fault-delay-ms 300
slow=$(median_rtt_ms 5)
host qom-set fault-delay-ms 0
fast=$(median_rtt_ms 5)
# (the frame that started the delay may have been rung a little before
# the ping: 80%)
if [ -z "$slow" ] || ((slow < 240)); then
	notok delay_300ms "median RTT with the delay: '${slow}' ms, expected >= 240"
elif [ -z "$fast" ] || ((fast >= 150)); then
	notok delay_300ms "median RTT after the delay: '${fast}' ms"
else
	ok delay_300ms
fi

finish
