#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The MANA bandwidth clamp in the states users reach after setting it: a
# host with no QoS for the port, a lost answer from the host, a system
# suspend across which the host forgets the clamp, the driver removed.
# What the host enforces is read from the emulated NIC itself
# (tests/lib/hostctl.py), not from the driver. KTAP.
# The suspend runs every driver's suspend and resume callbacks, without
# firmware (pm_test=devices). The guest's virtio devices, virtio-9p among
# them, which carries this harness and has no freeze/restore, survive it
# because scripts/vm.sh puts them behind PCIe root ports where they report
# No_Soft_Reset (QEMU's x-pcie-pm-no-soft-reset): Linux then leaves them
# running.
# shellcheck disable=SC1091
. /harness/run/tests/lib/ktap.sh
HOSTCTL=/harness/run/tests/lib/hostctl.py
host() { python3 "$HOSTCTL" "$@"; }

SET_BW_CLAMP=0x2000B
ERR=/tmp/clamp-state.err

host_clamp() { host qom-get clamp-mbps; }
speed() { ethtool "$NETIF" 2>/dev/null | awk '/Speed:/ {print $2}'; }
shaper_set() { netshaper set dev "$NETIF" handle scope netdev bw-max "$1" 2>"$ERR"; }
shaper_del() { netshaper delete dev "$NETIF" handle scope netdev 2>"$ERR"; }
reset_host() {
	host qom-set qos-unconfigured off && host qom-set clamp-lost-on-teardown off &&
		host qom-set fault-hwc-code 0 && host qom-set fault-hwc-drop off &&
		host qom-set fault-hwc-count 1 && host qom-set clamp-mbps 0
}
wait_link() { # the port is back and passes traffic
	local _
	for _ in $(seq 20); do
		NETIF=$(dev_by_mac)
		[ -n "$NETIF" ] && reaches && return 0
		sleep 1
	done
	return 1
}

skip_all_unless_mana
if ! why=$(reset_host 2>&1); then
	notok host_channel "cannot reach the emulated NIC through tests/lib/hostctl.py: $why"
	finish
	exit
fi
trap 'reset_host >/dev/null 2>&1; shaper_del' EXIT
shaper_del

# 1. The host has no QoS for the port: the clamp is refused with a reason,
# nothing is left behind, and the port reports the host's speed once the
# host has QoS again (nothing cached from the refusal).
host qom-set qos-unconfigured on
if shaper_set 200mbit; then
	notok qos_unconfigured_refused "set succeeded; host clamp $(host_clamp)"
elif ! grep -qE '^Error: .+' "$ERR"; then
	# the reason is the kernel's extack, printed as "Error: <why>."
	notok qos_unconfigured_refused "error without the reason: $(tr '\n' ' ' <"$ERR")"
else
	ok qos_unconfigured_refused
fi
if netshaper show dev "$NETIF" handle scope netdev 2>/dev/null | grep -q bw-max; then
	notok qos_unconfigured_no_shaper "the refused shaper is reported: $(netshaper show dev "$NETIF")"
else
	ok qos_unconfigured_no_shaper
fi
host qom-set qos-unconfigured off
s=$(speed)
if [ "$s" = 100000Mb/s ]; then
	ok qos_configured_again_speed
else
	notok qos_configured_again_speed "ethtool speed '$s', want 100000Mb/s"
fi

# 2. A lost answer to a clamp request: the request waits for the HWC
# timeout, but ethtool and ip (under RTNL) do not wait with it. From 6.15
# on, the net-shaper core calls the driver under the netdev instance lock,
# which ethtool and rtnetlink also take for a device with net-shaper ops:
# a driver that sleeps on the device for the whole timeout there stalls
# them too. That is what the user sees, so it stays a failure, saying why.
instance_lock_kernel() {
	local maj min
	IFS=. read -r maj min _ < <(uname -r)
	((maj > 6 || (maj == 6 && min >= 15)))
}
host qom-set fault-hwc-drop on && host qom-set fault-hwc-code $SET_BW_CLAMP
shaper_set 300mbit &
setter=$!
sleep 2
t=$SECONDS
timeout 25 ethtool "$NETIF" >/dev/null 2>&1
timeout 25 ip link set "$NETIF" mtu 1500
took=$((SECONDS - t))
if kill -0 $setter 2>/dev/null && ((took <= 5)); then
	ok lost_answer_rtnl_free
elif instance_lock_kernel; then
	notok lost_answer_rtnl_free "ethtool + ip link took ${took}s: they wait on the netdev instance lock the driver holds while it waits for the lost answer"
else
	notok lost_answer_rtnl_free "ethtool + ip link took ${took}s while the clamp request waited"
fi
if wait $setter; then
	notok lost_answer_fails "a request with no answer succeeded"
else
	ok lost_answer_fails
fi
host qom-set fault-hwc-code 0

# 3. A system suspend, across which the host resets the VF and forgets the
# clamp (clamp-lost-on-teardown): after resume the host enforces the clamp
# again, and users see what they saw before: the shaper, the speed, traffic.
suspend_resume() { # devices suspended and resumed, no firmware involved
	local rc=0
	echo devices >/sys/power/pm_test || return
	echo freeze >/sys/power/state || rc=1
	echo none >/sys/power/pm_test
	return $rc
}
shaper_bw() { # the bw-max the net-shaper core reports for the port
	netshaper show dev "$NETIF" handle scope netdev 2>/dev/null |
		sed -n 's/.* bw-max \([^ ]*\).*/\1/p'
}
splats() { # kernel log lines a resume must not add (since log_mark)
	log_since_mark | grep -E 'WARNING:|BUG:|Oops|Call trace:|Call Trace:|KASAN|possible recursive locking|circular locking|Failed to set the bandwidth clamp' | head -3
}
if ! grep -qw freeze /sys/power/state 2>/dev/null || [ ! -w /sys/power/pm_test ]; then
	for t in suspend_resume resume_passes_traffic resume_host_clamp resume_shaper \
		resume_speed resume_delete_releases resume_kernel_log; do
		skip $t "no suspend to idle with pm_test (CONFIG_SUSPEND, CONFIG_PM_DEBUG)"
	done
elif ! shaper_set 400mbit || [ "$(host_clamp)" != 400 ]; then
	notok suspend_resume "set: $(cat "$ERR"), host clamp $(host_clamp)"
else
	s_before=$(speed)
	bw_before=$(shaper_bw)
	log_mark
	host qom-set clamp-lost-on-teardown on
	if suspend_resume 2>"$ERR"; then
		ok suspend_resume
	else
		notok suspend_resume "echo freeze >/sys/power/state: $(cat "$ERR")"
	fi
	host qom-set clamp-lost-on-teardown off
	if wait_link; then
		ok resume_passes_traffic
	else
		notok resume_passes_traffic "no ping to $REMOTE_V4 after resume"
	fi
	c=$(host_clamp)
	if [ "$c" = 400 ]; then
		ok resume_host_clamp
	else
		notok resume_host_clamp "host clamps to $c Mbps after resume, want 400"
	fi
	bw=$(shaper_bw)
	if [ -n "$bw" ] && [ "$bw" = "$bw_before" ]; then
		ok resume_shaper
	else
		notok resume_shaper "netshaper reports bw-max '$bw', before the suspend '$bw_before'"
	fi
	s=$(speed)
	if [ "$s" = "$s_before" ] && [ "$s" = 400Mb/s ]; then
		ok resume_speed
	else
		notok resume_speed "ethtool speed '$s', before the suspend '$s_before', want 400Mb/s"
	fi
	shaper_del
	c=$(host_clamp)
	s=$(speed)
	if [ "$c" = 0 ] && [ "$s" = 100000Mb/s ]; then
		ok resume_delete_releases
	else
		notok resume_delete_releases "after delete: host clamp $c Mbps, ethtool speed '$s'"
	fi
	bad=$(splats)
	if [ -z "$bad" ]; then
		ok resume_kernel_log
	else
		notok resume_kernel_log "$(echo "$bad" | tr '\n' ' ')"
	fi
fi

# 4. The driver goes away: the clamp it set goes with it.
if ! shaper_set 500mbit || [ "$(host_clamp)" != 500 ]; then
	notok remove_releases_clamp "set: $(cat "$ERR"), host clamp $(host_clamp)"
else
	rmmod mana
	c=$(host_clamp)
	if [ "$c" = 0 ]; then
		ok remove_releases_clamp
	else
		notok remove_releases_clamp "host still clamps to $c Mbps after rmmod"
	fi
	modprobe mana
	if setup_dev && wait_link; then
		ok reload_passes_traffic
	else
		notok reload_passes_traffic "no traffic after modprobe"
	fi
fi
finish
