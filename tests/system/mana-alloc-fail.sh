#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Page allocation failures injected into the MANA driver while it
# reconfigures (MTU, XDP attach, RX ring size): each change must be refused,
# with an extack message where the interface has one, and the old
# configuration must keep passing traffic. Then the module is unloaded:
# no page_pool may be left with pages in flight. KTAP output.
#
# Only allocations made with a mana.ko function on the stack fail
# (fail_page_alloc's require-start/-end over the module's memory), so the
# tools and the rest of the kernel keep working.
# shellcheck disable=SC1091
. /harness/run/tests/lib/ktap.sh
XDP=/harness/run/tests/lib/xdp.py
FI=/sys/kernel/debug/fail_page_alloc
# the tree's ynl CLI: tools/net/ynl/cli.py in 6.12, pyynl/cli.py in 7.x
YNL_CLI=/root/linux/tools/net/ynl/pyynl/cli.py
[ -e "$YNL_CLI" ] || YNL_CLI=/root/linux/tools/net/ynl/cli.py
YNL="python3 $YNL_CLI --no-schema --spec /root/linux/Documentation/netlink/specs/netdev.yaml"

fail_mana_allocs() { # on: every page allocation from mana fails; off
	if [ "$1" = off ]; then
		echo 0 >$FI/probability
		return
	fi
	read -r _ size _ _ _ base < <(grep '^mana ' /proc/modules)
	echo "$base" >$FI/require-start
	printf '0x%x\n' $((base + size)) >$FI/require-end
	echo 32 >$FI/stacktrace-depth
	echo 0 >$FI/ignore-gfp-wait
	echo 0 >$FI/ignore-gfp-highmem
	echo 0 >$FI/min-order
	echo 0 >$FI/verbose
	echo 0 >$FI/space
	echo -1 >$FI/times
	echo 1 >$FI/interval
	echo 100 >$FI/probability
}
mtu() { cat "/sys/class/net/$NETIF/mtu"; }
rx_ring() { ethtool -g "$NETIF" | awk '/^RX:/ {v = $2} END {print v}'; }
# What a refusal must say: that memory ran out, in any words (ENOMEM's
# "Cannot allocate memory", the driver's extack: 6.12's series says "not
# enough memory", mainline "Insufficient memory for tx/rx re-config").
NOMEM='memory'
refused() { # refused NAME WANT-ERE CMD...: must fail, say WANT-ERE, keep working
	local name=$1 want=$2 out
	shift 2
	fail_mana_allocs on
	out=$("$@" 2>&1)
	local rc=$?
	fail_mana_allocs off
	if ((rc == 0)); then
		notok "$name" "succeeded while mana could not allocate: $*"
	elif [ -n "$want" ] && ! grep -qiE -- "$want" <<<"$out"; then
		notok "$name" "no '$want' in: $out"
	elif ! reaches; then
		notok "$name" "no traffic after the refused change"
	else
		return 0
	fi
	return 1
}

skip_all_unless_mana
if [ ! -d $FI ] || [ ! -f $FI/require-start ]; then
	echo "1..0 # SKIP no fail_page_alloc with a stack trace filter (CONFIG_FAULT_INJECTION_STACKTRACE_FILTER)"
	exit 4
fi
trap 'fail_mana_allocs off; fail_slab_in off 2>/dev/null' EXIT
reaches || echo "# the peer does not answer before the test"

before=$(mtu)
if refused mtu_9000 "" ip link set "$NETIF" mtu 9000; then
	if [ "$(mtu)" != "$before" ]; then
		notok mtu_9000 "MTU is $(mtu) after the refused change, was $before"
	elif ! ip link set "$NETIF" mtu 9000 || ! reaches || ! ip link set "$NETIF" mtu "$before"; then
		notok mtu_9000 "the same change fails once allocations work"
	else
		ok mtu_9000
	fi
fi

# XDP attach: the old (no) program keeps running
if refused xdp_attach "$NOMEM" python3 $XDP attach "$NETIF" pass; then
	if ip -d link show "$NETIF" | grep -q 'prog/xdp'; then
		notok xdp_attach "an XDP program is attached after the refused attach"
	else
		ok xdp_attach
	fi
fi

# XDP detach, with a program running: it stays, and drops
if ! python3 $XDP attach "$NETIF" drop >/dev/null; then
	notok xdp_detach "cannot attach the drop program"
else
	fail_mana_allocs on
	out=$(python3 $XDP detach "$NETIF" 2>&1)
	rc=$?
	fail_mana_allocs off
	if ((rc == 0)); then
		notok xdp_detach "detach succeeded while mana could not allocate"
	elif ! grep -qiE -- "$NOMEM" <<<"$out"; then
		notok xdp_detach "no '$NOMEM' in: $out"
	elif ping -c 2 -W 1 -q "$REMOTE_V4" >/dev/null 2>&1; then
		notok xdp_detach "traffic passes: the drop program is no longer running"
	elif ! python3 $XDP detach "$NETIF" >/dev/null || ! reaches; then
		notok xdp_detach "detach fails, or no traffic, once allocations work"
	else
		ok xdp_detach
	fi
fi

before=$(rx_ring)
if refused ring_rx "$NOMEM" ethtool -G "$NETIF" rx $((before * 2)); then
	if [ "$(rx_ring)" != "$before" ]; then
		notok ring_rx "RX ring is $(rx_ring) after the refused change, was $before"
	else
		ok ring_rx
	fi
fi

# A slab allocation failure where an RX queue registers its page pool as
# its XDP memory model (xdp_rxq_info_reg_mem_model() allocates): the queue
# cannot work without it, so the MTU change must be refused and the old
# queues come back, without a warning in the log.
SLAB=/sys/kernel/debug/failslab
func_range() { # func_range NAME: the start and end address of a kernel function
	sort /proc/kallsyms | awk -v n="$1" '
		s != "" && $1 != s {print "0x" s, "0x" $1; exit}
		s == "" && $3 == n {s = $1}'
}
fail_slab_in() { # fail_slab_in FUNCTION: its next slab allocation fails; off
	if [ "$1" = off ]; then
		echo 0 >$SLAB/probability
		return
	fi
	local start end
	read -r start end < <(func_range "$1")
	[ -n "$end" ] || return 1
	echo "$start" >$SLAB/require-start
	echo "$end" >$SLAB/require-end
	echo 32 >$SLAB/stacktrace-depth
	echo 0 >$SLAB/ignore-gfp-wait
	echo 0 >$SLAB/verbose # no stack dump: the kernel log check would count it
	echo 0 >$SLAB/space
	echo 1 >$SLAB/times
	echo 1 >$SLAB/interval
	echo 100 >$SLAB/probability
}
# mtu_change_failing NAME FUNCTION: an MTU change while the first slab
# allocation of FUNCTION fails; sets before, new, out and rc. Returns 1
# once NAME is reported (skipped, no allocation failed, a kernel warning).
mtu_change_failing() {
	local name=$1 func=$2 left warned
	before=$(mtu)
	new=$((before == 2000 ? 1800 : 2000))
	if [ ! -f $SLAB/require-start ]; then
		skip "$name" "no failslab with a stack trace filter"
		return 1
	elif ! fail_slab_in "$func"; then
		notok "$name" "$func is not in /proc/kallsyms"
		return 1
	fi
	log_mark
	out=$(ip link set "$NETIF" mtu "$new" 2>&1)
	rc=$?
	left=$(cat $SLAB/times)
	fail_slab_in off
	warned=$(log_since_mark | grep -m1 -E 'WARNING:|BUG:')
	if ((left != 0)); then
		notok "$name" "the change made no allocation in $func"
		return 1
	elif [ -n "$warned" ]; then
		notok "$name" "the kernel warned: $warned"
		return 1
	fi
}
if mtu_change_failing xdp_mem_model xdp_rxq_info_reg_mem_model; then
	if ((rc == 0)); then
		notok xdp_mem_model "the MTU change succeeded with a queue that has no XDP memory model"
	elif [ "$(mtu)" != "$before" ]; then
		notok xdp_mem_model "MTU is $(mtu) after the refused change ($out), was $before"
	elif ! reaches; then
		notok xdp_mem_model "no traffic after the refused change ($out)"
	elif ! ip link set "$NETIF" mtu "$new" || ! reaches || ! ip link set "$NETIF" mtu "$before"; then
		notok xdp_mem_model "the same change fails once allocations work"
	else
		ok xdp_mem_model
	fi
fi
ip link set "$NETIF" mtu "$before" 2>/dev/null

# A slab allocation failure in the request that stops the vPort's RX
# (mana_cfg_vport_steering() allocates it) while an MTU change tears the
# queues down: the teardown must still release the queues and the vPort,
# whatever the change then reports. Before, the driver gave up there: the
# change failed with ENOMEM, the vPort stayed configured, and every later
# open or change failed with EBUSY ("vPort ... in use") until rmmod.
if mtu_change_failing disable_rx_teardown mana_cfg_vport_steering; then
	if ! reaches; then
		notok disable_rx_teardown "no traffic after the change (${out:-it succeeded}, MTU $(mtu))"
	elif ! out=$(ip link set "$NETIF" mtu "$before" 2>&1 && ip link set "$NETIF" mtu "$new" 2>&1 &&
		ip link set "$NETIF" down 2>&1 && ip link set "$NETIF" up 2>&1); then
		notok disable_rx_teardown "the port cannot be reconfigured or opened once allocations work: $out"
	elif ! reaches; then
		notok disable_rx_teardown "no traffic after a down/up once allocations work"
	else
		ok disable_rx_teardown
	fi
fi
ip link set "$NETIF" mtu "$before" 2>/dev/null

# A ring larger than the memory left: with tmpfs holding all but ~96 MiB,
# the largest RX and TX rings at MTU 9000 need more than that. The change
# must be refused (ENOMEM) and the old ring keep working, without the OOM
# killer: before, the series allocated the new ring's buffers with plain
# GFP_KERNEL and a user's ethtool -G killed processes (found by the soak
# on a 64K-page debug guest). A sentinel process more killable than any
# other (oom_score_adj 1000) tells whether the OOM killer ran.
before_rx=$(rx_ring) before_mtu=$(mtu)
before_tx=$(ethtool -g "$NETIF" | awk '/^TX:/ {v = $2} END {print v}')
max_rx=$(ethtool -g "$NETIF" | awk '/^RX:/ {print $2; exit}')
max_tx=$(ethtool -g "$NETIF" | awk '/^TX:/ {print $2; exit}')
# a tmpfs of its own: /dev/shm may hold half the memory only
fillfs=$(mktemp -d)
fill=$fillfs/fill
if ! mount -t tmpfs -o size=100% none "$fillfs"; then
	notok ring_beyond_memory "cannot mount a tmpfs to fill"
elif ! ip link set "$NETIF" mtu 9000; then
	notok ring_beyond_memory "cannot set MTU 9000"
else
	avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
	sleep 600 &
	sentinel=$!
	echo 1000 >"/proc/$sentinel/oom_score_adj"
	echo -1000 >/proc/self/oom_score_adj
	log_mark
	# fill in 1 MiB blocks up to what is available less 96 MiB
	dd if=/dev/zero of="$fill" bs=1M count=$(((avail / 1024) - 96)) status=none 2>/dev/null
	out=$(ethtool -G "$NETIF" rx "$max_rx" tx "$max_tx" 2>&1)
	rc=$?
	rm -f "$fill"
	oom=$(log_since_mark | grep -m1 -E 'invoked oom-killer|Out of memory')
	if [ -n "$oom" ]; then
		notok ring_beyond_memory "the ring change ran the OOM killer: $oom"
	elif ! kill -0 "$sentinel" 2>/dev/null; then
		notok ring_beyond_memory "the sentinel process was killed"
	elif ((rc == 0)); then
		# enough memory after all (the change took less than measured):
		# nothing shown either way
		skip ring_beyond_memory "rx $max_rx tx $max_tx at MTU 9000 fit in the memory left"
	elif ! grep -qiE -- "$NOMEM" <<<"$out"; then
		notok ring_beyond_memory "refused without saying memory ran out: $out"
	elif [ "$(rx_ring)" != "$before_rx" ] || ! reaches; then
		notok ring_beyond_memory "after the refusal: RX ring $(rx_ring) (was $before_rx), or no traffic"
	else
		ok ring_beyond_memory
	fi
	kill "$sentinel" 2>/dev/null
	echo 0 >/proc/self/oom_score_adj
fi
rm -f "$fill"
umount "$fillfs" 2>/dev/null
rmdir "$fillfs"
ethtool -G "$NETIF" rx "$before_rx" tx "$before_tx" 2>/dev/null
ip link set "$NETIF" mtu "$before_mtu" 2>/dev/null

# Unload: every page_pool of the port is gone, nothing in flight. The
# port's pools are the ones with its ifindex before the unload: after it,
# a pool still in flight has no ifindex, as has any pool of a netdev that
# left this netns (7.x's virtio_net peer, moved to netns "remote", has
# page pools too), so the check follows the port's pool ids.
ifindex=$(cat "/sys/class/net/$NETIF/ifindex")
pools=$($YNL --dump page-pool-get --output-json 2>&1)
if ! mine=$(jq -ce --argjson i "$ifindex" '[.[] | select(.ifindex == $i) | .id]' 2>/dev/null <<<"$pools"); then
	notok unload_no_inflight "page-pool-get dump failed: $pools"
elif [ "$mine" = "[]" ]; then
	notok unload_no_inflight "no page pool reports the port (ifindex $ifindex): $(head -c 300 <<<"$pools")"
	modprobe -r mana
else
	modprobe -r mana
	sleep 2
	pools=$($YNL --dump page-pool-get --output-json 2>&1)
	if ! jq -e 'type == "array"' >/dev/null 2>&1 <<<"$pools"; then
		notok unload_no_inflight "page-pool-get dump failed: $pools"
	else
		left=$(jq -c --argjson m "$mine" '[.[] | select(.id as $p | $m | index($p))]' <<<"$pools")
		if [ "$left" != "[]" ]; then
			notok unload_no_inflight "page pools of the port left after rmmod: $(head -c 300 <<<"$left")"
		else
			ok unload_no_inflight
		fi
	fi
fi
modprobe mana
for _ in $(seq 50); do setup_dev && break; sleep 0.1; done
reaches || echo "# the port does not pass traffic after the reload"

finish
