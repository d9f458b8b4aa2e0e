#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In the guest: RX memory and RX packet rate of the NIC under test ($NETIF).

Run by scripts/bench.sh (make bench) in a base and a series guest of the same
config; it prints "BENCH <kind> key=value ..." lines that the host collects.
It measures, it does not judge: nothing here passes or fails on a number.

usage: rx-bench.py [--rings 8192,4096,...] [--xdp] [--mtus 1500,9000]
                   [--cycles N] [--sizes 64,1500] [--seconds N] [--rounds N]
                   [--flows N] [--pps-ring N] [--queues N] [--cost-seconds N]
                   [--cost-rounds N]

RX memory, per MTU (and with an XDP_PASS program attached if --xdp), with the
RX ring at the first of --rings that the driver accepts:
  pool-out   pages the RX page pools handed out and did not get back (netdev
             netlink page-pool-stats-get: alloc-* minus recycle-*) x the
             pool's page size (inflight-mem / inflight), / posted buffers.
             The memory the posted buffers themselves occupy, page granular.
  pool-mem   page-pool-get inflight-mem / posted buffers: the above plus the
             pages the pools keep in their caches.
  delta      free memory with the interface down minus with it up
             (/proc/vmstat nr_free_pages plus the per-CPU page lists of
             /proc/zoneinfo, median of --cycles down/up cycles) / posted
             buffers: everything bringing the queues up costs (buffers, pool
             caches, WQE/CQE rings, the driver's per-buffer state, TX queues).
  posted     buffers posted to the device: the MANA model's "posted" per RQ
             (QOM stats through the host agent), else queues x ring.

RX rate, per frame size: the MANA model's RX generator (QOM rxgen, UDP to
this guest's address, port 9: no listener, so every frame goes through IP
and UDP and is dropped there as NoPorts) runs --rounds windows of --seconds
(after a 2 s warm-up), frame sizes interleaved; the interface's rx_packets
delta / elapsed time is a window's rate, the median window is reported;
busy jiffies of /proc/stat x the USER_HZ tick / packets over all windows is
the guest CPU per packet.

Cost per packet (--cost-seconds N > 0, in a QEMU with the cost plugin:
scripts/vm.sh COST=off): after the rate windows, per frame size and round,
one window with the plugin counting (mode count) and one with its cache
model (mode cache): the growth of the guest's instructions, data accesses
(both summed over the vCPUs) and modeled L1D and L2 misses over the window,
divided by the interface's rx_packets delta. Everything the guest executed
in the window counts: the driver, the stack, interrupts, the timer, idle
entry and this script's own reads (a few per window). Instructions and
accesses are from the count windows (the cache model slows the guest, which
changes its NAPI batching), misses from the cache windows; the median over
the rounds, and the spread (max - min) / median of instructions per packet.
"""
import argparse
import glob
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, "/harness/run/tests/lib")
import hostctl  # noqa: E402
from rxcpus import cpu_busy, rx_busy, snapshot  # noqa: E402

# The YNL python library of the guest's kernel tree: tools/net/ynl/lib in
# 6.12, tools/net/ynl/pyynl/lib from 6.14 on (where tools/net/ynl/lib holds
# the C library only, and importing "lib" from there finds no YnlFamily).
YNL_DIRS = ("/root/linux/tools/net/ynl/pyynl", "/root/linux/tools/net/ynl")
SPEC = "/root/linux/Documentation/netlink/specs/netdev.yaml"
XDP = "/harness/run/tests/lib/xdp.py"
PAGE = os.sysconf("SC_PAGE_SIZE")
USER_HZ = os.sysconf("SC_CLK_TCK")
BUSY = 0.95     # the busy share of the RX CPUs that makes a window guest-bound
NETIF = os.environ.get("NETIF", "")
GUEST_IP = 0xC0000201  # 192.0.2.1, LOCAL_V4 of the harness


def out(kind, **kv):
    print(f"BENCH {kind} " + " ".join(f"{k}={v}" for k, v in kv.items()),
          flush=True)


def note(msg):
    print(f"# {msg}", flush=True)


def sh(cmdline, check=True):
    r = subprocess.run(cmdline, shell=True, capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError(f"{cmdline}: {(r.stderr or r.stdout).strip()}")
    return r


def netdev_family():
    ynl = next((d for d in YNL_DIRS
                if os.path.isfile(os.path.join(d, "lib", "ynl.py"))), None)
    if not ynl:
        note(f"no YNL python library in {' or '.join(YNL_DIRS)}: "
             "no page-pool figures")
        return None
    try:
        sys.path.insert(0, ynl)
        from lib import YnlFamily  # pylint: disable=import-outside-toplevel
        return YnlFamily(SPEC, schema="")  # no jsonschema validation
    except Exception as e:  # noqa: BLE001 - any failure: no netlink figures
        note(f"netdev netlink family unavailable ({ynl}/lib: {e}): "
             "no page-pool figures")
        return None


def ifindex():
    with open(f"/sys/class/net/{NETIF}/ifindex", encoding="ascii") as f:
        return int(f.read())


def rx_queues():
    return len(glob.glob(f"/sys/class/net/{NETIF}/queues/rx-*"))


def ring_rx():
    r = sh(f"ethtool -g {NETIF}").stdout.split("Current hardware settings:")[-1]
    for line in r.splitlines():
        if line.startswith("RX:"):
            return int(line.split()[1])
    raise RuntimeError("no RX ring size in ethtool -g")


def free_bytes():
    """Free pages, the per-CPU page lists included, in bytes."""
    with open("/proc/vmstat", encoding="ascii") as f:
        free = next(int(line.split()[1]) for line in f
                    if line.startswith("nr_free_pages "))
    pcp = 0
    with open("/proc/zoneinfo", encoding="ascii") as f:
        for line in f:
            t = line.split()
            if len(t) == 2 and t[0] == "count:":
                pcp += int(t[1])
    return (free + pcp) * PAGE


def settle():
    sh("sync; echo 1 > /proc/sys/vm/drop_caches", check=False)
    time.sleep(0.5)


def pools(nl, live=True):
    idx = ifindex()
    res = []
    for pp in nl.page_pool_get({}, dump=True):
        if pp.get("ifindex") != idx:
            continue
        if live == ("detach-time" not in pp):
            res.append(pp)
    return res


def pages_out(nl, pool_id):
    try:
        s = nl.page_pool_stats_get({"info": {"id": pool_id}})
    except Exception:  # noqa: BLE001 - no stats (CONFIG_PAGE_POOL_STATS off)
        return None
    taken = sum(s.get(k, 0) for k in ("alloc-fast", "alloc-slow",
                                      "alloc-slow-high-order", "alloc-refill"))
    back = sum(s.get(k, 0) for k in ("recycle-cached", "recycle-ring",
                                      "recycle-ring-full",
                                      "recycle-released-refcnt"))
    return taken - back


def wait_detached_pools(nl, timeout=10):
    """Pools of torn-down queues return their pages (deferred release)."""
    if not nl:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(pp.get("inflight", 0) for pp in pools(nl, live=False)):
            return
        time.sleep(0.5)
    note("pages still in flight in detached page pools after "
         f"{timeout}s: the delta may be off")


def posted_buffers(host):
    """Buffers posted to the device, per the MANA model (None: unknown)."""
    if not host:
        return None
    try:
        st = hostctl.stats()
    except hostctl.HostError as e:
        note(f"no QOM stats: {e}")
        return None
    return sum(v.get("posted", 0) for k, v in st.items()
               if k.startswith("rq ") and "hwc" not in k)


def link(state):
    sh(f"ip link set dev {NETIF} {state}")


def wait_posted(host, want, timeout=20):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = posted_buffers(host)
        if got is None or got >= want:
            break
        time.sleep(0.5)
    return got


def set_ring(rings):
    """First ring size of @rings that the driver accepts (interface down)."""
    for r in rings:
        res = sh(f"ethtool -G {NETIF} rx {r}", check=False)
        if res.returncode == 0:
            return r
        note(f"ethtool -G {NETIF} rx {r}: {(res.stderr or res.stdout).strip()}")
    raise RuntimeError(f"no RX ring size of {rings} accepted")


def up_cycles(nl, host, ring, cycles):
    """Free-memory drop of each down->up cycle; posted buffers at the end."""
    queues = rx_queues()
    deltas = []
    posted = None
    for _ in range(cycles):
        link("down")
        wait_detached_pools(nl)
        settle()
        before = free_bytes()
        link("up")
        posted = wait_posted(host, queues * ring)
        settle()
        after = free_bytes()
        deltas.append(before - after)
    return deltas, posted


def measure_mem(nl, host, rings, mtu, xdp, cycles):
    """RX memory at @mtu (XDP_PASS attached if @xdp), with the first ring
    size of @rings with which the interface comes up; returns that ring."""
    link("down")
    wait_detached_pools(nl)
    sh(f"ip link set dev {NETIF} mtu {mtu}")
    if xdp:
        sh(f"python3 {XDP} attach {NETIF} pass")
    try:
        while True:
            ring = set_ring(rings)
            try:
                deltas, posted = up_cycles(nl, host, ring, cycles)
                break
            except RuntimeError as e:
                note(f"MTU {mtu}{' XDP' if xdp else ''}, ring {ring}: {e}")
                link("down")
                wait_detached_pools(nl)
                rings = [x for x in rings if x < ring]
                if not rings:
                    raise
        return report_mem(nl, mtu, xdp, ring, deltas, posted)
    finally:
        if xdp:
            sh(f"python3 {XDP} detach {NETIF}", check=False)


def report_mem(nl, mtu, xdp, ring, deltas, posted):
    queues = rx_queues()
    nbuf = posted if posted else queues * ring
    res = {"mtu": mtu, "xdp": int(xdp), "ring": ring, "queues": queues,
           "posted": nbuf,
           "posted_src": "qom" if posted else "ring",
           "delta": int(statistics.median(deltas)),
           "delta_min": min(deltas), "delta_max": max(deltas)}
    res["delta_per_buf"] = round(res["delta"] / nbuf)
    if nl:
        live = pools(nl)
        res["pools"] = len(live)
        inflight = sum(pp.get("inflight", 0) for pp in live)
        mem = sum(pp.get("inflight-mem", 0) for pp in live)
        pp_page = mem // inflight if inflight else PAGE
        outs = [pages_out(nl, pp["id"]) for pp in live]
        res["pool_mem"] = mem
        res["pool_mem_per_buf"] = round(mem / nbuf)
        res["pool_page"] = pp_page
        if live and None not in outs:
            res["pool_out_pages"] = sum(outs)
            res["pool_out_per_buf"] = round(sum(outs) * pp_page / nbuf)
    out("mem", **res)
    return ring


def snmp():
    vals = {}
    with open("/proc/net/snmp", encoding="ascii") as f:
        lines = f.read().splitlines()
    for head, data in zip(lines[::2], lines[1::2]):
        proto = head.split(":")[0]
        for k, v in zip(head.split()[1:], data.split()[1:]):
            vals[f"{proto}.{k}"] = int(v)
    return vals


def softnet_drops():
    n = 0
    with open("/proc/net/softnet_stat", encoding="ascii") as f:
        for line in f:
            n += int(line.split()[1], 16)
    return n


def counter(name):
    with open(f"/sys/class/net/{NETIF}/statistics/{name}", encoding="ascii") as f:
        return int(f.read())


def sample():
    t, rx, cpu = time.monotonic(), counter("rx_packets"), cpu_busy()
    s = snmp()
    return {"t": t, "rx": rx, "cpu": cpu, **snapshot(),
            "rx_dropped": counter("rx_dropped"),
            "udp": s.get("Udp.InDatagrams", 0) + s.get("Udp.NoPorts", 0),
            "stack_drops": softnet_drops() + s.get("Ip.InDiscards", 0) +
            s.get("Udp.InErrors", 0) + s.get("Ip.InHdrErrors", 0) +
            s.get("Ip.InAddrErrors", 0),
            "gen": hostctl.stat("rxgen", "frames")}


def measure_pps(size, seconds, flows, warmup=2):
    """One window of the RX generator at @size; the counters' deltas."""
    with hostctl.flood(size, flows, GUEST_IP):
        time.sleep(warmup)
        a = sample()
        time.sleep(seconds)
        b = sample()
    time.sleep(1)
    w = {k: b[k] - a[k] for k in a if k not in ("cpus", "irqs", "net_rx")}
    w["pps"] = round(w["rx"] / w["t"])
    # the guest is the limit only if the CPUs taking the RX interrupts
    # never idled (a share below BUSY: the generator kept them waiting)
    w["rx_busy"] = rx_busy(a, b)
    w["bound"] = ("guest" if w["rx_busy"] is not None and w["rx_busy"] >= BUSY
                  else "emulator")
    out("pps-window", size=size, seconds=round(w["t"], 2), rx_packets=w["rx"],
        pps=w["pps"], busy_jiffies=w["cpu"], rx_cpu_busy=w["rx_busy"],
        bound=w["bound"])
    return w


def report_pps(size, windows):
    """The median window's rate, of the guest-bound windows if any (else of
    all, and the line says emulator-bound); CPU per packet over all."""
    bound = [w for w in windows if w["bound"] == "guest"]
    rated = bound or windows
    t = sum(w["t"] for w in windows)
    pkts = sum(w["rx"] for w in windows)
    busy = sum(w["cpu"] for w in windows)
    out("pps", size=size, windows=len(windows), seconds=round(t, 2),
        ring=ring_rx(), queues=rx_queues(), cpus=os.cpu_count(),
        rx_packets=pkts, pps=round(statistics.median(w["pps"] for w in rated)),
        pps_min=min(w["pps"] for w in rated),
        pps_max=max(w["pps"] for w in rated),
        guest_bound=f"{len(bound)}/{len(windows)}",
        rx_cpu_busy_min=min((w["rx_busy"] for w in windows
                             if w["rx_busy"] is not None), default="-"),
        gen_frames=sum(w["gen"] for w in windows),
        udp=sum(w["udp"] for w in windows),
        rx_dropped=sum(w["rx_dropped"] for w in windows),
        stack_drops=sum(w["stack_drops"] for w in windows),
        busy_jiffies=busy,
        cpu_util=round(busy / (t * USER_HZ * os.cpu_count()), 3),
        cpu_ns_per_pkt=round(busy * 1e9 / USER_HZ / pkts) if pkts else 0)


def measure_cost(size, seconds, flows, mode, warmup=2):
    """One generator window at @size with the cost plugin in @mode: the
    counters' growth and the packets received."""
    hostctl.cost_mode(mode)
    with hostctl.flood(size, flows, GUEST_IP):
        time.sleep(warmup)
        ca, rx_a, t_a = hostctl.cost(), counter("rx_packets"), time.monotonic()
        j_a = cpu_busy()
        time.sleep(seconds)
        j_b, rx_b, t_b = cpu_busy(), counter("rx_packets"), time.monotonic()
        cb = hostctl.cost()
    time.sleep(1)
    w = {k: cb[k] - ca[k] for k in ("insn", "mem", "l1miss", "l2miss")}
    w["rx"] = rx_b - rx_a
    # the guest's busy share: a window below ~0.95 was emulator-bound (the
    # guest idled between the generator's batches)
    w["busy"] = round((j_b - j_a) / ((t_b - t_a) * USER_HZ * os.cpu_count()), 3)
    out("cost-window", size=size, mode=mode, seconds=round(t_b - t_a, 2),
        rx_packets=w["rx"], **w)
    return w


def per_pkt(windows, key):
    return [w[key] / w["rx"] for w in windows if w["rx"]]


def report_cost(size, count, cache):
    """Per packet: instructions and accesses (count windows), misses (cache
    windows); medians, and the spread of instructions per packet."""
    insn = per_pkt(count, "insn")
    if not insn:
        note(f"cost at {size} B: no packets in the count windows")
        return
    med = statistics.median(insn)
    l1 = per_pkt(cache, "l1miss")
    l2 = per_pkt(cache, "l2miss")
    out("cost", size=size, windows=len(count), cache_windows=len(cache),
        rx_packets=sum(w["rx"] for w in count),
        insn=round(med), mem=round(statistics.median(per_pkt(count, "mem"))),
        l1miss=round(statistics.median(l1), 1) if l1 else "-",
        l2miss=round(statistics.median(l2), 1) if l2 else "-",
        insn_spread_pct=round((max(insn) - min(insn)) * 100 / med, 2),
        busy_min=min(w["busy"] for w in count))


def run_cost(sizes, seconds, rounds, flows):
    try:
        hostctl.cost()
    except hostctl.HostError as e:
        note(f"no cost figures: {e}")
        return
    count = {size: [] for size in sizes}
    cache = {size: [] for size in sizes}
    try:
        for _ in range(rounds):
            for size in sizes:
                count[size].append(measure_cost(size, seconds, flows, "count"))
                cache[size].append(measure_cost(size, seconds, flows, "cache"))
    except (hostctl.HostError, RuntimeError) as e:
        note(f"cost windows stopped: {e}")
    finally:
        try:
            hostctl.cost_mode("off")
        except hostctl.HostError as e:
            note(f"cost plugin: {e}")
    for size in sizes:
        report_cost(size, count[size], cache[size])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rings", default="8192,4096,2048,1024")
    ap.add_argument("--mtus", default="1500")
    ap.add_argument("--xdp", action="store_true")
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--sizes", default="64,1500")
    ap.add_argument("--seconds", type=float, default=5,
                    help="length of one RX-rate window")
    ap.add_argument("--rounds", type=int, default=3,
                    help="windows per frame size (the median is reported)")
    ap.add_argument("--flows", type=int, default=16)
    ap.add_argument("--pps-ring", type=int, default=0,
                    help="RX ring for the rate runs (0: the driver's default)")
    ap.add_argument("--queues", type=int, default=0,
                    help="RX queues (channels) for the rate and cost runs "
                    "(0: the driver's default)")
    ap.add_argument("--cost-seconds", type=float, default=0,
                    help="length of one cost window (0: no cost windows)")
    ap.add_argument("--cost-rounds", type=int, default=2,
                    help="cost windows per frame size and plugin mode")
    args = ap.parse_args()
    if not NETIF:
        sys.exit("NETIF is not set: run in a harness guest")
    drv = os.path.basename(os.readlink(f"/sys/class/net/{NETIF}/device/driver"))
    default_ring = ring_rx()
    host = os.path.isdir(hostctl.REQDIR)
    out("info", kernel=os.uname().release, arch=os.uname().machine,
        page=PAGE, driver=drv, netif=NETIF, queues=rx_queues(),
        default_ring=default_ring, cpus=os.cpu_count(), user_hz=USER_HZ,
        host_agent=int(host), mem_total=os.sysconf("SC_PHYS_PAGES") * PAGE)
    nl = netdev_family()
    rings = [int(r) for r in args.rings.split(",")]
    for mtu in [int(m) for m in args.mtus.split(",") if m]:
        try:
            ring = measure_mem(nl, host, rings, mtu, False, args.cycles)
            rings = [ring]  # the next measurements use the same ring
        except RuntimeError as e:
            note(f"memory at MTU {mtu}: {e}")
        if args.xdp and mtu == 1500:
            try:
                measure_mem(nl, host, rings, mtu, True, args.cycles)
            except RuntimeError as e:
                note(f"memory with XDP at MTU {mtu}: {e}")
    link("down")
    sh(f"ip link set dev {NETIF} mtu 1500")
    sh(f"ethtool -G {NETIF} rx {args.pps_ring or default_ring}")
    if args.queues:
        sh(f"ethtool -L {NETIF} combined {args.queues}")
    link("up")
    wait_posted(host, rx_queues() * (args.pps_ring or default_ring))
    if not host:
        note("no host agent (/harness/run/host): no RX generator runs")
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    windows = {size: [] for size in sizes}
    for _ in range(args.rounds):  # sizes interleaved: drifts hit all alike
        for size in sizes:
            try:
                windows[size].append(measure_pps(size, args.seconds, args.flows))
            except (hostctl.HostError, RuntimeError) as e:
                note(f"rate at {size} B: {e}")
    for size in sizes:
        if windows[size]:
            report_pps(size, windows[size])
    if args.cost_seconds > 0:
        run_cost(sizes, args.cost_seconds, args.cost_rounds, args.flows)

if __name__ == "__main__":
    main()
