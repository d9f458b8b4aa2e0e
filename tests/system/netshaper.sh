#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Upstream iproute2's netshaper command (Debian's iproute2 >= 7.3, as the
# guest's Debian 13 userspace installs it) against the series' net-shaper
# uapi, with upstream's syntax, as a user drives it: against netdevsim,
# which implements every net-shaper operation, set/show/delete on the
# netdev and queue scopes and group with leaves, each checked against what
# the kernel holds (the tree's ynl CLI dumps it); the kernel's extack
# messages; bad command lines refused with nothing sent; a group of 1,000
# leaves refused cleanly. Against the NIC under test ($NETIF), the MANA
# bandwidth clamp as ethtool reports it (skipped when the NIC is not MANA).
# KTAP output.
# shellcheck disable=SC1091
. /harness/run/tests/lib/ktap.sh

NSIM_ID=4711
NSIM_QUEUES=4
# a second netdevsim device with queues enough for a 1,000-leaf group
NSIM_BIG_ID=4712
NSIM_BIG_QUEUES=1024
MIN_VERSION=7.3
# the tree's ynl CLI: tools/net/ynl/cli.py in 6.12, pyynl/cli.py in 7.x
YNL_CLI=/root/linux/tools/net/ynl/pyynl/cli.py
[ -e "$YNL_CLI" ] || YNL_CLI=/root/linux/tools/net/ynl/cli.py
YNL="python3 $YNL_CLI --no-schema --output-json
 --spec /root/linux/Documentation/netlink/specs/net_shaper.yaml"
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT

# run CMD...: $out is its stdout, $err its stderr, $st its exit status
run() {
	out=$("$@" 2>"$ERR")
	st=$?
	err=$(cat "$ERR")
}
oneline() { tr '\n' ' ' <<<"$*" | cut -c1-600; }
# must_ok CMD...: exits 0 and prints nothing on stderr
must_ok() {
	run "$@"
	((st == 0)) && [ -z "$err" ] && return 0
	why="'$*' exited $st: $(oneline "$err")"
	return 1
}
# must_fail TEXT CMD...: exits non-zero (not killed by a signal) and says
# TEXT on stderr
must_fail() {
	local text=$1
	shift
	run "$@"
	if ((st == 0)); then
		why="'$*' exited 0"
		return 1
	fi
	# 255 is exit(-1), netshaper's status for every error
	if ((st > 128 && st < 255)); then
		why="'$*' was killed by signal $((st - 128)): $(oneline "$err")"
		return 1
	fi
	grep -qF -- "$text" <<<"$err" && return 0
	why="'$*' did not say '$text': $(oneline "$err")"
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

# What the kernel holds, independent of netshaper: the ynl CLI's dump.
# kdump [IFINDEX]: the device's shapers as a JSON list
kdump() {
	$YNL --dump get --json "{\"ifindex\": ${1:-$IFINDEX}}" 2>"$ERR"
}
# kernel FILTER [IFINDEX]: jq's FILTER is true on the device's shapers
kernel() {
	local k
	k=$(kdump "${2:-}") || { why="ynl dump failed: $(oneline "$(cat "$ERR")")"; return 1; }
	jq -e "$1" >/dev/null 2>&1 <<<"$k" && return 0
	why="the kernel holds $(oneline "$k"), expected $1"
	return 1
}
# unchanged BEFORE: the device's shapers are still BEFORE (a kdump)
unchanged() {
	local now
	now=$(kdump "${2:-}")
	[ "$now" = "$1" ] && return 0
	why="${why:+$why; }the shapers changed: $(oneline "$1") became $(oneline "$now")"
	return 1
}
# kextack OP JSON: the extack message the kernel gives the ynl CLI for the
# same request (its error report prints the extack as {'msg': '...'} in
# 6.12, as "Netlink error: <msg>: <strerror>" in 7.x)
kextack() {
	$YNL --do "$1" --json "$2" 2>&1 |
		sed -nE -e "s/.*'msg': '([^']*)'.*/\1/p" \
			-e 's/^Netlink error: (.*): [A-Z][^:{]*( \{.*)?$/\1/p' | head -1
}
# kerrno OP JSON: the error the kernel gives the ynl CLI for the request
kerrno() {
	$YNL --do "$1" --json "$2" 2>&1 | sed -nE 's/^Netlink error: ([^{]*[^ {]).*/\1/p' | head -1
}
# must_extack OP JSON CMD...: CMD fails with "Error: <the kernel's extack>.",
# or, where the kernel gives no message (mainline's core for a shaper
# that does not exist: ENOENT and the bad attribute only), with the
# kernel's error
must_extack() {
	local op=$1 req=$2 msg
	shift 2
	msg=$(kextack "$op" "$req")
	if [ -z "$msg" ]; then
		msg=$(kerrno "$op" "$req")
		[ -n "$msg" ] || { why="ynl's $op $req did not fail"; return 1; }
		must_fail "$msg" "$@"
		return
	fi
	must_fail "Error: $msg" "$@"
}
# req HANDLE-JSON [MORE-JSON]: a ynl request on $D
req() {
	echo "{\"ifindex\": $IFINDEX, \"handle\": $1${2:+, $2}}"
}
# shaper SCOPE [ID]: jq for the kernel's shaper with that handle
shaper() {
	if [ -n "${2:-}" ]; then
		echo ".[] | select(.handle.scope == \"$1\" and .handle.id == $2)"
	else
		echo ".[] | select(.handle.scope == \"$1\")"
	fi
}
check() { # check NAME FUNCTION: one test case (a why of "SKIP <reason>": skipped)
	why=
	if "$2"; then
		ok "$1"
	elif [[ $why == SKIP\ * ]]; then
		skip "$1" "${why#SKIP }"
	else
		notok "$1" "$why"
	fi
}

# nsim_new ID QUEUES: a netdevsim device of one port; its netdev's name
nsim_new() {
	local d n=
	echo "$1 1 $2" >/sys/bus/netdevsim/new_device 2>"$ERR" || return 1
	for _ in $(seq 100); do
		for d in "/sys/bus/netdevsim/devices/netdevsim$1/net/"*; do
			[ -e "$d" ] && n=${d##*/}
		done
		[ -n "$n" ] && break
		sleep 0.1
	done
	[ -n "$n" ] || return 1
	ip link set "$n" up
	echo "$n"
}

echo "KTAP version 1"
if ! command -v netshaper >/dev/null; then
	echo "1..1"
	echo "not ok 1 netshaper_installed # no netshaper in the guest: Debian's iproute2 >= $MIN_VERSION has it (scripts/rootfs.sh)"
	exit 1
fi
modprobe netdevsim 2>/dev/null
D=$(nsim_new "$NSIM_ID" "$NSIM_QUEUES")
if [ -z "$D" ]; then
	echo "1..1"
	echo "not ok 1 netdevsim_device # no netdevsim netdev: $(oneline "$(cat "$ERR")")"
	exit 1
fi
IFINDEX=$(cat "/sys/class/net/$D/ifindex")
FAIL_KNOB=/sys/kernel/debug/netdevsim/netdevsim$NSIM_ID/ports/0/shaper_fail

t_debian_13() {
	local v
	read -r v </etc/debian_version
	[[ $v == 13* ]] && return 0
	why="/etc/debian_version is '$v', not 13.x"
	return 1
}

t_version() { # Debian's netshaper, as the package installed it
	local bin v sum want
	must_ok netshaper -V || return 1
	v=${out##* }
	v=${v#iproute2-}
	if [[ $out != "netshaper utility, "* ]] || ! dpkg --compare-versions "$v" ge "$MIN_VERSION"; then
		why="-V printed '$out', expected $MIN_VERSION or later"
		return 1
	fi
	bin=$(command -v netshaper)
	[ "$(dpkg -S "$bin" 2>/dev/null | cut -d: -f1)" = iproute2 ] ||
		{ why="$bin is not from Debian's iproute2 package"; return 1; }
	sum=$(md5sum "$bin" | cut -d' ' -f1)
	want=$(awk -v f="${bin#/}" '$2 == f {print $1}' /var/lib/dpkg/info/iproute2.md5sums)
	[ "$sum" = "$want" ] && return 0
	why="$bin differs from Debian's iproute2 package (md5 $sum, package $want)"
	return 1
}

t_empty() { # and show of a shaper that does not exist: the kernel's extack
	kernel 'length == 0' &&
		must_extack get "$(req '{"scope": "netdev"}')" \
			netshaper show dev "$D" handle scope netdev
}

t_set_netdev() {
	must_ok netshaper set dev "$D" handle scope netdev bw-max 1gbit &&
		kernel "[$(shaper netdev)] | length == 1 and .[0].\"bw-max\" == 1000000000
			and .[0].metric == \"bps\" and (.[0] | has(\"parent\") | not)" &&
		text "dev: $D scope netdev bw-max 1Gbit " netshaper show dev "$D" handle scope netdev
}

t_set_netdev_id0() { # netdev's id is optional and 0
	must_ok netshaper set dev "$D" handle scope netdev id 0 bw-max 2gbit &&
		kernel "[$(shaper netdev)] | length == 1 and .[0].\"bw-max\" == 2000000000"
}

t_set_queue() {
	must_ok netshaper set dev "$D" handle scope queue id 1 bw-min 10mbit \
		bw-max 1500mbit weight 3 &&
		kernel "$(shaper queue 1) | .parent == {\"scope\": \"netdev\"} and
			.\"bw-min\" == 10000000 and .\"bw-max\" == 1500000000 and
			.weight == 3 and .metric == \"bps\"" &&
		text "dev: $D scope queue id 1 parent scope netdev bw-max 1500Mbit bw-min 10Mbit weight 3 " \
			netshaper show dev "$D" handle scope queue id 1
}

t_set_incremental() { # set changes what it is given, keeps the rest
	must_ok netshaper set dev "$D" handle scope queue id 1 weight 5 &&
		kernel "$(shaper queue 1) | .\"bw-max\" == 1500000000 and
			.\"bw-min\" == 10000000 and .weight == 5"
}

NODE=
t_group_new_node() { # the kernel picks the node's id
	must_ok netshaper group dev "$D" handle scope node parent scope netdev \
		bw-max 500mbit leaves scope queue id 0 weight 1 \
		scope queue id 2 weight 3 priority 2 || return 1
	kernel "[$(shaper node)] | length == 1" || return 1
	NODE=$(kdump | jq "$(shaper node) | .handle.id")
	# group answers with the node's handle, as show prints one
	[ "$out" = "dev: $D scope node id $NODE " ] ||
		{ why="group printed '$(oneline "$out")', expected 'dev: $D scope node id $NODE '"; return 1; }
	kernel "$(shaper node "$NODE") | .parent == {\"scope\": \"netdev\"} and
		.\"bw-max\" == 500000000" &&
		kernel "$(shaper queue 0) | .parent == {\"scope\": \"node\", \"id\": $NODE}
			and .weight == 1" &&
		kernel "$(shaper queue 2) | .parent == {\"scope\": \"node\", \"id\": $NODE}
			and .weight == 3 and .priority == 2" &&
		text "dev: $D scope node id $NODE parent scope netdev bw-max 500Mbit " \
			netshaper show dev "$D" handle scope node id "$NODE"
}

t_group_existing_node() {
	[ -n "$NODE" ] || { why="no node from group_new_node"; return 1; }
	must_ok netshaper group dev "$D" handle scope node id "$NODE" \
		leaves scope queue id 3 weight 7 &&
		kernel "$(shaper queue 3) | .parent == {\"scope\": \"node\", \"id\": $NODE}
			and .weight == 7" &&
		kernel "$(shaper queue 0) | .parent == {\"scope\": \"node\", \"id\": $NODE}"
}

t_delete_node() { # the node's leaves move to its parent
	[ -n "$NODE" ] || { why="no node from group_new_node"; return 1; }
	must_ok netshaper delete dev "$D" handle scope node id "$NODE" &&
		kernel "[$(shaper node)] | length == 0" &&
		kernel "[($(shaper queue 0)), ($(shaper queue 2)), ($(shaper queue 3))] |
			length == 3 and all(.parent == {\"scope\": \"netdev\"})" &&
		must_extack get "$(req "{\"scope\": \"node\", \"id\": $NODE}")" \
			netshaper show dev "$D" handle scope node id "$NODE"
}

t_delete_all() {
	local q
	for q in 0 1 2 3; do
		must_ok netshaper delete dev "$D" handle scope queue id "$q" || return 1
	done
	must_ok netshaper delete dev "$D" handle scope netdev &&
		kernel 'length == 0'
}

# The kernel's refusals reach the user as the kernel words them (the
# extack the kernel gives the ynl CLI for the same request, printed as
# "Error: <message>."), and nothing changes.
t_extack_queue_id() {
	local before
	before=$(kdump)
	must_extack set "$(req '{"scope": "queue", "id": 9}' '"metric": "bps", "bw-max": 1000000000')" \
		netshaper set dev "$D" handle scope queue id 9 bw-max 1gbit
	unchanged "$before" && [ -z "$why" ]
}

t_extack_netdev_id() {
	must_extack set "$(req '{"scope": "netdev", "id": 3}' '"metric": "bps", "bw-max": 1000000000')" \
		netshaper set dev "$D" handle scope netdev id 3 bw-max 1gbit
}

t_extack_driver() { # the driver's message, and nothing left behind
	local before
	# the knob is the series' netdevsim (6.12); mainline's netdevsim has none
	[ -w "$FAIL_KNOB" ] || { why="SKIP netdevsim has no shaper_fail knob ($FAIL_KNOB)"; return 1; }
	must_ok netshaper set dev "$D" handle scope queue id 2 bw-max 1gbit || return 1
	before=$(kdump)
	echo Y >"$FAIL_KNOB"
	if must_extack set "$(req '{"scope": "queue", "id": 2}' '"metric": "bps", "bw-max": 2000000000')" \
		netshaper set dev "$D" handle scope queue id 2 bw-max 2gbit; then
		grep -qF netdevsim <<<"$err" || why="the error is not netdevsim's: $(oneline "$err")"
	fi
	echo N >"$FAIL_KNOB"
	unchanged "$before" && [ -z "$why" ] &&
		must_ok netshaper delete dev "$D" handle scope queue id 2
}

t_extack_no_shaper() {
	must_extack get "$(req '{"scope": "queue", "id": 0}')" \
		netshaper show dev "$D" handle scope queue id 0 &&
		must_extack delete "$(req '{"scope": "queue", "id": 0}')" \
			netshaper delete dev "$D" handle scope queue id 0
}

t_extack_group_leaf_twice() {
	local before leaf='{"handle": {"scope": "queue", "id": 1}}'
	before=$(kdump)
	must_extack group "$(req '{"scope": "node"}' "\"leaves\": [$leaf, $leaf]")" \
		netshaper group dev "$D" handle scope node leaves \
		scope queue id 1 scope queue id 1
	unchanged "$before" && [ -z "$why" ]
}

# Bad command lines: refused, named, and nothing reaches the device.
t_usage_errors() {
	local before
	must_ok netshaper set dev "$D" handle scope netdev bw-max 1gbit || return 1
	before=$(kdump)
	must_fail 'Invalid rate value "10xbit"' \
		netshaper set dev "$D" handle scope netdev bw-max 10xbit &&
		must_fail 'Invalid scope "port"' \
			netshaper set dev "$D" handle scope port bw-max 1gbit &&
		must_fail 'Device "nosuchdev0" not found' \
			netshaper show dev nosuchdev0 handle scope netdev &&
		must_fail 'Leaf scope must be "queue"' \
			netshaper group dev "$D" handle scope node leaves scope netdev &&
		must_fail 'Command "frobnicate" is unknown' netshaper frobnicate &&
		must_fail 'Option "-x" is unknown' netshaper -x show dev "$D" handle scope netdev
	unchanged "$before" && [ -z "$why" ] &&
		must_ok netshaper delete dev "$D" handle scope netdev
}

# A group of 1,000 leaves does not fit one netlink request buffer: a
# clean error (no crash, no partial group), and nothing changes.
t_group_1000_leaves() {
	local B BI before args=() i
	B=$(nsim_new "$NSIM_BIG_ID" "$NSIM_BIG_QUEUES") ||
		{ why="no netdevsim device with $NSIM_BIG_QUEUES queues: $(oneline "$(cat "$ERR")")"; return 1; }
	BI=$(cat "/sys/class/net/$B/ifindex")
	before=$(kdump "$BI")
	for ((i = 0; i < 1000; i++)); do
		args+=(scope queue id "$i" weight 1)
	done
	must_fail "message exceeded bound" netshaper group dev "$B" handle scope node leaves "${args[@]}"
	unchanged "$before" "$BI" && [ -z "$why" ]
}

# MANA: the clamp is the device's speed as ethtool reports it.
mana_speed() { ethtool "$NETIF" 2>/dev/null | awk '/Speed:/ {print $2}'; }
mana_unclamp() { netshaper delete dev "$NETIF" handle scope netdev 2>/dev/null; return 1; }
# clamp_kept RATE: after a refused bw-max RATE, the 200 Mbit/s clamp t_mana_clamp
# set is still the one the kernel holds and ethtool reports
clamp_kept() {
	kernel "$(shaper netdev) | .\"bw-max\" == 200000000" "$mi" ||
		bad="${bad:+$bad; }after the refused $1: $why"
	speed=$(mana_speed)
	[ "$speed" = "$speed1" ] ||
		bad="${bad:+$bad; }ethtool speed $speed after a refused bw-max $1, $speed1 before it"
}
t_mana_clamp() {
	local drv speed0 speed1 speed mi bad=
	drv=$(ethtool -i "$NETIF" 2>/dev/null | awk '/^driver:/ {print $2}')
	if [ "$drv" != mana ]; then
		why="SKIP the NIC under test ($NETIF) is $drv, not MANA"
		return 1
	fi
	mi=$(cat "/sys/class/net/$NETIF/ifindex")
	speed0=$(mana_speed)
	# MANA has net-shaper ops (the series', mainline's): "not supported"
	# is a failure
	must_ok netshaper set dev "$NETIF" handle scope netdev bw-max 200mbit || return 1
	kernel "$(shaper netdev) | .\"bw-max\" == 200000000" "$mi" || mana_unclamp || return 1
	speed1=$(mana_speed)
	[ "$speed1" = 200Mb/s ] ||
		bad="ethtool speed $speed1 after bw-max 200mbit (was $speed0), expected 200Mb/s"
	# the host clamps in steps of 100 Mbps: refused, the error says so
	# (in the driver's words), and the clamp in force stays
	run netshaper set dev "$NETIF" handle scope netdev bw-max 150mbit
	if ((st == 0)); then
		bad="${bad:+$bad; }bw-max 150mbit was accepted"
	elif ! grep -qiE '100 ?Mbps' <<<"$err"; then
		bad="${bad:+$bad; }the refusal of bw-max 150mbit does not name the 100 Mbps step: $(oneline "$err")"
	fi
	clamp_kept 150mbit
	# 223338400 Mbit/s is a multiple of the step whose kbit/s do not fit
	# 32 bits: 7.3 truncated them on the way to Mbit/s and asked the host
	# for a 100 Mbit/s clamp, which it took. The kernel must refuse the
	# rate (in the driver's words or the host's), keeping the clamp in force.
	run netshaper set dev "$NETIF" handle scope netdev bw-max 223338400mbit
	if ((st == 0)); then
		bad="${bad:+$bad; }bw-max 223338400mbit was accepted (ethtool speed $(mana_speed))"
	elif grep -qE 'is not a rate|is too large' <<<"$err"; then
		bad="${bad:+$bad; }the netshaper command refused bw-max 223338400mbit itself, the kernel was not asked: $(oneline "$err")"
	fi
	clamp_kept 223338400mbit
	if ! must_ok netshaper delete dev "$NETIF" handle scope netdev; then
		bad="${bad:+$bad; }$why"
	else
		speed=$(mana_speed)
		[ "$speed" = "$speed0" ] ||
			bad="${bad:+$bad; }ethtool speed $speed after delete, expected $speed0 again"
	fi
	why=$bad
	[ -z "$bad" ]
}

for t in debian_13 version empty set_netdev set_netdev_id0 set_queue \
	set_incremental group_new_node group_existing_node delete_node \
	delete_all extack_queue_id extack_netdev_id \
	extack_driver extack_no_shaper extack_group_leaf_twice usage_errors \
	group_1000_leaves; do
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
[ -e "/sys/bus/netdevsim/devices/netdevsim$NSIM_BIG_ID" ] &&
	echo "$NSIM_BIG_ID" >/sys/bus/netdevsim/del_device
finish
