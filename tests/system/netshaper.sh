#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# iproute2's netshaper command (iproute2/patches) as a user drives it:
# against netdevsim, which implements every net-shaper operation, the
# set/show/delete/group/cap show round trips (JSON checked with jq), the
# kernel's extack messages, and the usage errors of bad command lines;
# against the NIC under test ($NETIF), the MANA bandwidth clamp as ethtool
# reports it (skipped when the NIC under test is not MANA). KTAP output.
# shellcheck disable=SC1091
. /harness/run/tests/lib/ktap.sh

NSIM_ID=4711
NSIM_QUEUES=4
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT

# run CMD...: $out is its stdout, $err its stderr, $st its exit status
run() {
	out=$("$@" 2>"$ERR")
	st=$?
	err=$(cat "$ERR")
}
oneline() { tr '\n' ' ' <<<"$*" | cut -c1-300; }
# must_ok CMD...: exits 0 and prints nothing on stderr
must_ok() {
	run "$@"
	((st == 0)) && [ -z "$err" ] && return 0
	why="'$*' exited $st: $(oneline "$err")"
	return 1
}
# must_fail TEXT CMD...: exits non-zero and says TEXT on stderr
must_fail() {
	local text=$1
	shift
	run "$@"
	if ((st == 0)); then
		why="'$*' exited 0"
		return 1
	fi
	grep -qF -- "$text" <<<"$err" && return 0
	why="'$*' did not say '$text': $(oneline "$err")"
	return 1
}
# json FILTER CMD...: exits 0 with JSON on which jq's FILTER is true
json() {
	local filter=$1
	shift
	must_ok "$@" || return 1
	jq -e "$filter" >/dev/null 2>&1 <<<"$out" && return 0
	why="'$*' printed $(oneline "$out"), expected $filter"
	return 1
}
# text LINE CMD...: exits 0 and prints exactly LINE
text() {
	local want=$1
	shift
	must_ok "$@" || return 1
	[ "$out" = "$want" ] && return 0
	why="'$*' printed '$(oneline "$out")', expected '$want'"
	return 1
}
check() { # check NAME FUNCTION: one test case
	why=
	if "$2"; then ok "$1"; else notok "$1" "$why"; fi
}

echo "KTAP version 1"
if ! command -v netshaper >/dev/null; then
	echo "1..1"
	echo "not ok 1 netshaper_installed # no netshaper in the guest: scripts/iproute2.sh builds it, scripts/vm.sh adds it"
	exit 1
fi

# A netdevsim port with $NSIM_QUEUES TX queues; no udev: wait for it.
modprobe netdevsim 2>/dev/null
echo "$NSIM_ID 1 $NSIM_QUEUES" >/sys/bus/netdevsim/new_device 2>"$ERR"
D=
for _ in $(seq 100); do
	for d in "/sys/bus/netdevsim/devices/netdevsim$NSIM_ID/net/"*; do
		[ -e "$d" ] && D=${d##*/}
	done
	[ -n "$D" ] && break
	sleep 0.1
done
if [ -z "$D" ]; then
	echo "1..1"
	echo "not ok 1 netdevsim_device # no netdevsim netdev: $(oneline "$(cat "$ERR")")"
	exit 1
fi
ip link set "$D" up
IFINDEX=$(cat "/sys/class/net/$D/ifindex")
FAIL_KNOB=/sys/kernel/debug/netdevsim/netdevsim$NSIM_ID/ports/0/shaper_fail

t_version() {
	must_ok netshaper -V || return 1
	[[ $out == "netshaper utility, iproute2-"* ]] && return 0
	why="-V printed '$out'"
	return 1
}

t_empty_dump() {
	json 'length == 0' netshaper -j show dev "$D" &&
		text '' netshaper show dev "$D"
}

t_cap_show() {
	local all='[.[] | ."support-metric-bps" and ."support-metric-pps" and
		."support-nesting" and ."support-bw-min" and ."support-bw-max" and
		."support-burst" and ."support-priority" and ."support-weight"] | all'
	json "length == 3 and ([.[].scope] == [\"netdev\", \"queue\", \"node\"])
		and ([.[].dev] | unique == [\"$D\"]) and ($all)" \
		netshaper -j cap show dev "$D" &&
		json ".[0].ifindex == $IFINDEX and .[0].scope == \"queue\" and length == 1" \
			netshaper -j -p cap show dev "$D" scope queue &&
		text "dev $D scope node support metric-bps metric-pps nesting bw-min bw-max burst priority weight" \
			netshaper cap show dev "$D" scope node
}

t_set_netdev() {
	must_ok netshaper set dev "$D" handle scope netdev bw-max 1gbit &&
		json ".[0] == {\"dev\": \"$D\", \"ifindex\": $IFINDEX,
			\"handle\": {\"scope\": \"netdev\"}, \"metric\": \"bps\",
			\"bw-max\": 1000000000}" \
			netshaper -j show dev "$D" handle scope netdev &&
		text "dev $D handle scope netdev metric bps bw-max 1Gbit" \
			netshaper show dev "$D" handle scope netdev
}

t_set_queue() {
	must_ok netshaper set dev "$D" handle scope queue id 1 bw-min 10mbit \
		bw-max 1.5gbit burst 64kb priority 2 weight 3 &&
		json '.[0] | .handle == {"scope": "queue", "id": 1} and
			.parent == {"scope": "netdev"} and .metric == "bps" and
			."bw-min" == 10000000 and ."bw-max" == 1500000000 and
			.burst == 65536 and .priority == 2 and .weight == 3' \
			netshaper -j show dev "$D" handle scope queue id 1 &&
		text "dev $D handle scope queue id 1 parent scope netdev metric bps bw-min 10Mbit bw-max 1500Mbit burst 64Kb priority 2 weight 3" \
			netshaper show dev "$D" handle scope queue id 1
}

t_set_incremental() { # set changes what it is given, keeps the rest
	must_ok netshaper set dev "$D" handle scope queue id 1 weight 5 &&
		json '.[0] | ."bw-max" == 1500000000 and .weight == 5 and .priority == 2' \
			netshaper -j show dev "$D" handle scope queue id 1
}

t_set_pps() {
	must_ok netshaper set dev "$D" handle scope queue id 3 metric pps bw-max 1000pps &&
		json '.[0] | .metric == "pps" and ."bw-max" == 1000' \
			netshaper -j show dev "$D" handle scope queue id 3 &&
		text "dev $D handle scope queue id 3 parent scope netdev metric pps bw-max 1000pps" \
			netshaper show dev "$D" handle scope queue id 3 &&
		must_ok netshaper delete dev "$D" handle scope queue id 3
}

t_dump() {
	json '[.[].handle] == [{"scope": "netdev"}, {"scope": "queue", "id": 1}]' \
		netshaper -j show dev "$D" || return 1
	[ "$(netshaper show dev "$D" | wc -l)" = 2 ] && return 0
	why="the text dump is not one shaper a line: $(netshaper show dev "$D")"
	return 1
}

NODE=
t_group_new_node() {
	json '.[0].handle.scope == "node" and (.[0].handle.id | type == "number")' \
		netshaper -j group dev "$D" handle scope node bw-max 500mbit \
		leaves scope queue id 0 weight 1 scope queue id 2 weight 3 || return 1
	NODE=$(jq '.[0].handle.id' <<<"$out")
	json '.[0] | .parent == {"scope": "netdev"} and ."bw-max" == 500000000' \
		netshaper -j show dev "$D" handle scope node id "$NODE" &&
		json ".[0] | .parent == {\"scope\": \"node\", \"id\": $NODE} and .weight == 1" \
			netshaper -j show dev "$D" handle scope queue id 0 &&
		json ".[0] | .parent == {\"scope\": \"node\", \"id\": $NODE} and .weight == 3" \
			netshaper -j show dev "$D" handle scope queue id 2 &&
		text "dev $D handle scope node id $NODE" \
			netshaper group dev "$D" handle scope node id "$NODE" leaves scope queue id 3
}

t_delete_node() { # the node's leaves move to its parent
	[ -n "$NODE" ] || { why="no node from group_new_node"; return 1; }
	must_ok netshaper delete dev "$D" handle scope node id "$NODE" &&
		json '.[0].parent == {"scope": "netdev"}' \
			netshaper -j show dev "$D" handle scope queue id 0 &&
		must_fail "No such shaper" netshaper show dev "$D" handle scope node id "$NODE"
}

t_delete_all() {
	local h
	must_ok netshaper -j show dev "$D" || return 1
	for h in $(jq -r '.[].handle | "\(.scope):\(.id // "")"' <<<"$out"); do
		if [ -n "${h#*:}" ]; then
			must_ok netshaper delete dev "$D" handle scope "${h%:*}" id "${h#*:}"
		else
			must_ok netshaper delete dev "$D" handle scope "${h%:*}"
		fi || return 1
	done
	json 'length == 0' netshaper -j show dev "$D"
}

t_extack_queue_id() {
	must_fail "Error: No TX queue 9, the device has $NSIM_QUEUES" \
		netshaper set dev "$D" handle scope queue id 9 bw-max 1gbit
}

t_extack_netdev_id() {
	must_fail "Error: The id of the netdev shaper is 0" \
		netshaper set dev "$D" handle scope netdev id 3 bw-max 1gbit
}

# unchanged BEFORE: the shapers of the device are still BEFORE (a dump)
unchanged() {
	local now
	now=$(netshaper -j show dev "$D")
	[ "$now" = "$1" ] && return 0
	why="the shapers changed: $(oneline "$1") became $(oneline "$now")"
	return 1
}

t_extack_bw_min_above_max() {
	local before
	before=$(netshaper -j show dev "$D")
	must_fail "Error: bw-min is above bw-max" \
		netshaper set dev "$D" handle scope netdev bw-min 2gbit bw-max 1gbit &&
		unchanged "$before"
}

t_extack_driver() { # the driver's message, and nothing left behind
	local before rc
	[ -w "$FAIL_KNOB" ] || { why="no $FAIL_KNOB"; return 1; }
	before=$(netshaper -j show dev "$D")
	echo Y >"$FAIL_KNOB"
	must_fail "Error: netdevsim: shaper_fail is set" \
		netshaper set dev "$D" handle scope queue id 2 bw-max 2gbit
	rc=$?
	echo N >"$FAIL_KNOB"
	((rc == 0)) && unchanged "$before"
}

t_extack_no_shaper() {
	must_fail "Error: No such shaper" netshaper show dev "$D" handle scope queue id 0 &&
		must_fail "Error: No such shaper" netshaper delete dev "$D" handle scope queue id 0
}

# Usage errors: named, exit non-zero, and nothing reaches the device.
t_usage_bad_rate() {
	local before
	before=$(netshaper -j show dev "$D")
	must_fail 'bw-max "10xbit" is not a rate' \
		netshaper set dev "$D" handle scope netdev bw-max 10xbit &&
		must_fail 'bw-min "-5mbit"' \
			netshaper set dev "$D" handle scope netdev bw-min -5mbit &&
		must_fail 'burst "lots" is not a size' \
			netshaper set dev "$D" handle scope netdev burst lots &&
		unchanged "$before"
}

t_usage_unknown_scope() {
	must_fail 'unknown scope "port": use netdev, queue or node' \
		netshaper set dev "$D" handle scope port bw-max 1gbit &&
		must_fail 'unknown scope "queues"' netshaper cap show dev "$D" scope queues &&
		must_fail 'scope queue needs "id ID"' \
			netshaper set dev "$D" handle scope queue bw-max 1gbit
}

t_usage_missing_device() {
	must_fail 'no such device "nosuchdev0"' netshaper show dev nosuchdev0 &&
		must_fail '"netshaper show" needs "dev DEV"' netshaper show &&
		must_fail '"netshaper set" needs "dev DEV"' \
			netshaper set handle scope netdev bw-max 1gbit &&
		must_fail '"dev" needs a value' netshaper cap show dev
}

t_usage_unknown_keyword() {
	must_fail 'unknown keyword "bw-maximum" in "netshaper set"' \
		netshaper set dev "$D" handle scope netdev bw-maximum 1gbit &&
		must_fail 'unknown command "frobnicate"' netshaper frobnicate &&
		must_fail 'unknown option "-x"' netshaper -x show dev "$D" &&
		must_fail 'nothing to set' netshaper set dev "$D" handle scope netdev &&
		must_fail '"netshaper group" needs "leaves' \
			netshaper group dev "$D" handle scope node &&
		must_fail '"bw-max" after "leaves"' netshaper group dev "$D" \
			handle scope node leaves scope queue id 0 bw-max 1gbit
}

t_usage_abbreviation() { # keywords match exactly, as the issue asks
	must_fail 'unknown command "sh"' netshaper sh dev "$D" &&
		must_fail 'unknown command "del"' netshaper del dev "$D" handle scope netdev &&
		must_fail 'unknown keyword "hand"' netshaper show dev "$D" hand scope netdev &&
		must_fail 'unknown keyword "bw"' netshaper set dev "$D" handle scope netdev bw 1gbit &&
		must_fail 'unknown scope "net"' netshaper show dev "$D" handle scope net &&
		must_fail 'unknown command "cap s"' netshaper cap s dev "$D" &&
		must_fail 'unknown option "-js"' netshaper -js show dev "$D"
}

# MANA: the clamp is the device's speed as ethtool reports it.
mana_speed() { ethtool "$NETIF" 2>/dev/null | awk '/Speed:/ {print $2}'; }
mana_unclamp() { netshaper delete dev "$NETIF" handle scope netdev 2>/dev/null; return 1; }
t_mana_clamp() {
	local drv speed0 speed
	drv=$(ethtool -i "$NETIF" 2>/dev/null | awk '/^driver:/ {print $2}')
	if [ "$drv" != mana ]; then
		why="SKIP the NIC under test ($NETIF) is $drv, not MANA"
		return 1
	fi
	# the series gives MANA its net-shaper ops: "not supported" is a failure
	run netshaper cap show dev "$NETIF" scope netdev
	((st == 0)) || { why="cap show: $(oneline "$err")"; return 1; }
	speed0=$(mana_speed)
	must_ok netshaper set dev "$NETIF" handle scope netdev bw-max 1gbit || return 1
	speed=$(mana_speed)
	if [ "$speed" != 1000Mb/s ]; then
		why="ethtool speed $speed after bw-max 1gbit (was $speed0), expected 1000Mb/s"
		mana_unclamp
		return 1
	fi
	json '.[0]."bw-max" == 1000000000' \
		netshaper -j show dev "$NETIF" handle scope netdev || mana_unclamp || return 1
	# the host clamps in steps of 100 Mbps: the driver's extack says so,
	# and the clamp in force stays
	must_fail "multiple of 100 Mbps" \
		netshaper set dev "$NETIF" handle scope netdev bw-max 150mbit || mana_unclamp || return 1
	speed=$(mana_speed)
	if [ "$speed" != 1000Mb/s ]; then
		why="ethtool speed $speed after a refused bw-max 150mbit, expected 1000Mb/s still"
		mana_unclamp
		return 1
	fi
	must_ok netshaper delete dev "$NETIF" handle scope netdev || return 1
	speed=$(mana_speed)
	[ "$speed" = "$speed0" ] && return 0
	why="ethtool speed $speed after delete, expected $speed0 again"
	return 1
}

for t in version empty_dump cap_show set_netdev set_queue set_incremental \
	set_pps dump group_new_node delete_node delete_all extack_queue_id \
	extack_netdev_id extack_bw_min_above_max extack_driver \
	extack_no_shaper usage_bad_rate usage_unknown_scope \
	usage_missing_device usage_unknown_keyword usage_abbreviation; do
	check "$t" "t_$t"
done

why=
if t_mana_clamp; then
	ok mana_clamp
elif [[ $why == SKIP* ]]; then
	skip mana_clamp "${why#SKIP }"
else
	notok mana_clamp "$why"
fi

echo "$NSIM_ID" >/sys/bus/netdevsim/del_device
finish
