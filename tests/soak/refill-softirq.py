#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In the guest: where an RX ring change spends its time under an RX flood.

The measurement behind soak finding H (README): `ethtool -G rx RING` while
the MANA model floods the port, with every MANA interrupt and ethtool on
CPU 0, traced with a kprobe on page_pool's slow path
(__page_pool_alloc_pages_slow(): one refill of up to 64 pages, each DMA
mapped and registered in the pool's DMA index under a BH-disabling lock)
and the NET_RX and RCU softirq events. Prints, per refill made by ethtool,
its length and the softirq runs inside it (run in ethtool's context, at
the BH re-enables), the NET_RX runs' lengths, and the RCU stall reports of
the kernel log. A diagnostic: it measures, it does not pass or fail.

    make vm CONFIG=arm64-64k DEBUG=1 NIC=mana \
        RUN='python3 /harness/run/tests/soak/refill-softirq.py --ring 8192'

--stall S sets the RCU CPU stall timeout for the change (3 s is the
kernel's minimum; `SMP=8` for 4 vCPUs and queues makes the change long
enough on a normal kernel to show what the driver's loop holds).
"""
import argparse
import glob
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, "/harness/run/tests/lib")
import hostctl  # noqa: E402

T = "/sys/kernel/tracing"
NETIF = os.environ.get("NETIF", "")


def put(path, value):
    # (O_APPEND for kprobe_events, whose definitions add up; not Python's
    # "a" mode, which seeks, and tracefs refuses the seek)
    flags = os.O_WRONLY | (os.O_APPEND if path.endswith("kprobe_events") else os.O_TRUNC)
    fd = os.open(path, flags)
    try:
        os.write(fd, (value + "\n").encode())
    finally:
        os.close(fd)


def setup_trace():
    if not os.path.ismount(T):
        subprocess.run(["mount", "-t", "tracefs", "nodev", T], check=True)
    put(f"{T}/tracing_on", "0")
    put(f"{T}/buffer_size_kb", "32768")
    put(f"{T}/trace", "")
    put(f"{T}/kprobe_events", "p:refill __page_pool_alloc_pages_slow")
    put(f"{T}/kprobe_events", "r:refill_ret __page_pool_alloc_pages_slow")
    for e in ("kprobes/refill", "kprobes/refill_ret", "irq/softirq_entry", "irq/softirq_exit"):
        put(f"{T}/events/{e}/enable", "1")
    for e in ("softirq_entry", "softirq_exit"):  # NET_RX and RCU
        put(f"{T}/events/irq/{e}/filter", "vec == 3 || vec == 9")


LINE = re.compile(r"^\s*(\S+)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\w+): (.*)$")


def analyze(trace, comm):
    """Per refill made by COMM: (length, {softirq: (runs, time)}); and the
    lengths of every NET_RX run made in COMM's context."""
    refills, net_rx = [], []
    start = None
    inside = {}
    open_sirq = {}
    for line in trace.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        who, _, cpu, ts, ev, rest = m.groups()
        ts = float(ts)
        if who != comm:
            continue
        if ev == "refill":
            start, inside = ts, {}
        elif ev == "refill_ret" and start is not None:
            refills.append((ts - start, inside))
            start = None
        elif ev == "softirq_entry":
            open_sirq[cpu] = (ts, "NET_RX" if "NET_RX" in rest else "RCU")
        elif ev == "softirq_exit" and cpu in open_sirq:
            t0, kind = open_sirq.pop(cpu)
            if kind == "NET_RX":
                net_rx.append(ts - t0)
            if start is not None:
                runs, t = inside.get(kind, (0, 0.0))
                inside[kind] = (runs + 1, t + ts - t0)
    return refills, net_rx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ring", type=int, default=8192)
    ap.add_argument("--size", type=int, default=128, help="flood frame size")
    ap.add_argument("--flows", type=int, default=8)
    ap.add_argument("--stall", type=int, default=0,
                    help="RCU CPU stall timeout for the change, s (0: as it is)")
    args = ap.parse_args()
    if not NETIF:
        sys.exit("NETIF is not set: run in a harness guest")
    setup_trace()
    if args.stall:
        put("/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout", str(args.stall))
    for d in glob.glob(f"/sys/class/net/{NETIF}/device/msi_irqs/*"):
        try:
            put(f"/proc/irq/{os.path.basename(d)}/smp_affinity", "1")
        except OSError:
            pass  # (a vector the kernel does not let move)
    subprocess.run(["dmesg", "-C"], check=False)
    local_v4 = hostctl.harness_env()["LOCAL_V4"]
    with hostctl.flood(args.size, args.flows, local_v4, stop_after=900):
        time.sleep(2)
        put(f"{T}/tracing_on", "1")
        t0 = time.monotonic()
        r = subprocess.run(["taskset", "-c", "0", "ethtool", "-G", NETIF, "rx", str(args.ring)],
                           capture_output=True, text=True, check=False)
        took = time.monotonic() - t0
        put(f"{T}/tracing_on", "0")
    print(f"# ethtool -G {NETIF} rx {args.ring} under a {args.size}-byte flood: "
          f"status {r.returncode}, {took:.1f} s {r.stderr.strip()}")
    with open(f"{T}/trace", encoding="utf-8", errors="replace") as f:
        refills, net_rx = analyze(f.read(), "ethtool")
    for i, (length, inside) in enumerate(refills):
        parts = ", ".join(f"{k} {n} runs {t:.2f} s" for k, (n, t) in sorted(inside.items()))
        print(f"refill {i}: {length:.2f} s; softirqs inside: {parts or 'none'}")
    if refills:
        total = sum(x[0] for x in refills)
        sirq = sum(t for _, inside in refills for _, t in inside.values())
        print(f"refills: {len(refills)}, {total:.1f} s, longest {max(x[0] for x in refills):.2f} s, "
              f"{sirq * 100 / total:.1f}% of it in softirqs")
    if net_rx:
        print(f"NET_RX runs in ethtool's context: {len(net_rx)}, median "
              f"{statistics.median(net_rx) * 1e3:.0f} ms, longest {max(net_rx) * 1e3:.0f} ms")
    log = subprocess.run(["dmesg"], capture_output=True, text=True, check=False).stdout
    stalls = [x for x in log.splitlines() if re.search(r"self-detected stall|ticks this GP", x)]
    print(f"RCU CPU stall lines: {len(stalls)} (timeout "
          f"{open('/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout').read().strip()} s)")
    for x in stalls[:5]:
        print("  " + x)
    subprocess.run(["ethtool", "-G", NETIF, "rx", "1024"], check=False)


if __name__ == "__main__":
    main()
