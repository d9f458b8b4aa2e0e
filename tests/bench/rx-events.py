#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In the guest: what the kernel does per received packet, counted.

A companion of rx-bench.py for finding where one kernel spends more CPU per
packet than another (e.g. Linux 7.3 against 6.12): it counts, it does not
time, and it never passes or fails on a number.

usage: rx-events.py [--sizes 64,1500] [--seconds N] [--flows N]
                    [--funcs f1,f2,...]

First the guest idles for --seconds: its CPU use by kind (/proc/stat) and
its interrupts, softirqs, HWC requests and EQEs per second, the background
every packet of a window is charged a share of. Then per frame size, the
MANA model's RX generator (UDP to this guest's address,
port 9, no listener) runs two windows of --seconds:
  1. plain: guest CPU per packet (/proc/stat busy jiffies, and by kind:
     user, system, irq, softirq), interrupts of the
     NIC's vectors (/proc/interrupts), NET_RX softirqs (/proc/softirqs), and
     the model's own counters (hostctl stats: EQEs written to each EQ, frames
     delivered to the RQs, HWC requests);
  2. counted: a kprobe event on each function of --funcs that the kernel has
     (/proc/kallsyms; a function that was inlined has no symbol and is
     listed as absent), enabled with tracing off, so that each probe only
     counts its hits (tracefs kprobe_profile); probes slow the guest, which is
     why the CPU figure comes from window 1.
Every figure is printed per 1000 received packets, as "EVENTS <size> <name>
<per-1000>" lines: the interface's rx_packets for window 1, the hits of
__udp4_lib_rcv (which every generated frame reaches once) for window 2.
"""
import argparse
import os
import re
import sys
import time

sys.path.insert(0, "/harness/run/tests/lib")
import hostctl  # noqa: E402

TRACEFS = "/sys/kernel/tracing"
NETIF = os.environ.get("NETIF", "")
GUEST_IP = 0xC0000201  # 192.0.2.1, LOCAL_V4 of the harness
USER_HZ = os.sysconf("SC_CLK_TCK")
GROUP = "rxev"

# The path of a received frame, from the interrupt to the UDP drop, and what
# it allocates and syncs on the way. A name that differs between 6.12 and 7.3
# is listed under both names; the absent one says so.
FUNCS = [
    # interrupt and NAPI
    "mana_gd_intr", "mana_gd_process_eq_events", "mana_schedule_napi",
    "__napi_schedule", "__napi_schedule_irqoff", "net_rx_action",
    "__napi_poll", "mana_poll", "mana_cq_handler", "mana_poll_rx_cq",
    "mana_poll_tx_cq", "mana_gd_poll_cq", "napi_complete_done",
    "mana_gd_ring_cq", "mana_gd_wq_ring_doorbell", "mana_update_rx_dim",
    "net_dim", "mana_rx_dim_work", "mana_gd_ring_dim",
    # RX buffers
    "mana_process_rx_cqe", "mana_refill_rx_oob", "mana_get_rxfrag",
    "mana_rx_skb", "mana_post_pkt_rxq", "mana_gd_post_work_request",
    "page_pool_alloc_frag", "page_pool_alloc_frag_netmem",
    "page_pool_alloc_pages", "page_pool_alloc_netmems",
    "__page_pool_alloc_pages_slow", "__page_pool_alloc_netmems_slow",
    "page_pool_put_unrefed_page", "page_pool_put_unrefed_netmem",
    "page_pool_return_page", "page_pool_return_netmem",
    "__page_pool_dma_sync_for_cpu", "page_pool_dma_sync_for_cpu",
    "dma_map_page_attrs", "dma_unmap_page_attrs",
    "__dma_sync_single_for_cpu", "__dma_sync_single_for_device",
    "dma_sync_single_for_cpu", "dma_sync_single_for_device",
    "__alloc_pages_noprof", "__alloc_frozen_pages_noprof", "__free_pages",
    "free_unref_page", "free_frozen_pages",
    # skb and the stack
    "napi_build_skb", "__napi_build_skb", "napi_gro_receive",
    "gro_receive_skb", "napi_gro_flush", "gro_flush", "__gro_flush",
    "netif_receive_skb_list_internal", "__netif_receive_skb_list_core",
    "ip_list_rcv", "ip_rcv", "ip_rcv_finish", "ip_local_deliver",
    "__udp4_lib_rcv", "udp_rcv", "__skb_checksum_complete", "csum_partial",
    "__icmp_send", "icmp_global_allow", "kfree_skb_reason",
    "sk_skb_reason_drop", "napi_consume_skb", "skb_release_data",
    "kmem_cache_alloc_noprof", "kmem_cache_free", "__kmalloc_noprof",
    "kfree", "skb_free_head",
    # scheduling and preemption
    "schedule", "__schedule", "preempt_schedule", "preempt_schedule_irq",
    "preempt_schedule_notrace", "irq_exit_rcu", "handle_softirqs",
    "__do_softirq", "do_softirq", "__local_bh_enable_ip",
    "_raw_spin_lock", "_raw_spin_unlock", "_raw_spin_lock_irqsave",
    "_raw_spin_unlock_irqrestore", "_raw_spin_lock_bh",
    "_raw_spin_unlock_bh",
    # what costs an emulator much more than its instructions: code
    # patching, TLB maintenance, inter-processor interrupts
    "aarch64_insn_patch_text_nosync", "jump_label_update",
    "__purge_vmap_area_lazy", "flush_tlb_kernel_range", "vunmap",
    "smp_call_function_many_cond", "smp_call_function_single",
    "smp_send_reschedule", "arch_send_call_function_ipi_mask",
    "arch_send_call_function_single_ipi", "irq_work_queue",
]


def out(size, name, value):
    print(f"EVENTS {size} {name} {value}", flush=True)


def note(msg):
    print(f"# {msg}", flush=True)


def write(path, text, append=False):
    # (os.open: Python's append mode seeks to the end first, which tracefs
    # files refuse with EINVAL)
    fd = os.open(path, os.O_WRONLY | (os.O_APPEND if append else os.O_TRUNC))
    try:
        os.write(fd, text.encode("ascii"))
    finally:
        os.close(fd)


def counter(name):
    with open(f"/sys/class/net/{NETIF}/statistics/{name}",
              encoding="ascii") as f:
        return int(f.read())


CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq",
              "steal")


def cpu_times():
    """/proc/stat's jiffies of all CPUs by kind, and busy: all but idle and
    iowait."""
    with open("/proc/stat", encoding="ascii") as f:
        t = [int(x) for x in f.readline().split()[1:9]]
    res = dict(zip(CPU_FIELDS, t))
    res["busy"] = sum(t) - res["idle"] - res["iowait"]
    return res


def interrupts(match):
    """/proc/interrupts: the counts of the lines @match(fields) accepts,
    summed over the CPUs."""
    n = 0
    with open("/proc/interrupts", encoding="ascii") as f:
        ncpu = len(f.readline().split())
        for line in f:
            t = line.split()
            if t and match(t):
                n += sum(int(x) for x in t[1:1 + ncpu] if x.isdigit())
    return n


def nic_irqs():
    """Interrupts of the NIC's vectors (lines naming mana)."""
    return interrupts(lambda t: any("mana" in x for x in t))


def ipis():
    """Inter-processor interrupts (the IPI lines)."""
    return interrupts(lambda t: t[0].startswith("IPI"))


def softirqs(kind="NET_RX"):
    with open("/proc/softirqs", encoding="ascii") as f:
        for line in f:
            t = line.split()
            if t and t[0] == kind + ":":
                return sum(int(x) for x in t[1:])
    return 0


def model():
    """The model's counters: EQEs per EQ (summed), RQ frames, HWC requests."""
    st = hostctl.stats()
    eqe = sum(v.get("prod", 0) for k, v in st.items() if k.startswith("eq "))
    frames = sum(v.get("frames", 0) for k, v in st.items()
                 if k.startswith("rq ") and "hwc" not in k)
    posted = sum(v.get("total-posted", 0) for k, v in st.items()
                 if k.startswith("rq ") and "hwc" not in k)
    return {"eqe": eqe, "rq_frames": frames, "rq_wqes_posted": posted,
            "hwc_requests": st.get("hwc", {}).get("requests", 0)}


def sample():
    m = model()
    m.update({"t": time.monotonic(), "rx": counter("rx_packets"),
              "irqs": nic_irqs(), "ipis": ipis(),
              "net_rx_softirqs": softirqs()})
    m.update({f"cpu_{k}": v for k, v in cpu_times().items()})
    return m


def generator(size, flows, on):
    if on:
        hostctl.qom_set("rxgen-size", size)
        hostctl.qom_set("rxgen-flows", flows)
        hostctl.qom_set("rxgen-dst-ip", GUEST_IP)
    hostctl.qom_set("rxgen", on)


def idle(seconds):
    """The guest's own CPU use with no traffic: what every packet of a
    window is charged a share of."""
    a = sample()
    time.sleep(seconds)
    b = sample()
    d = {k: b[k] - a[k] for k in a}
    for k in ("busy", "user", "system", "irq", "softirq"):
        out("idle", f"cpu_{k}_share",
            round(d[f"cpu_{k}"] / (d["t"] * USER_HZ * os.cpu_count()), 4))
    for k in ("irqs", "ipis", "net_rx_softirqs", "hwc_requests", "eqe"):
        out("idle", f"{k}_per_s", round(d[k] / d["t"], 1))


def window(size, flows, seconds):
    generator(size, flows, True)
    try:
        time.sleep(2)
        a = sample()
        time.sleep(seconds)
        b = sample()
    finally:
        generator(size, flows, False)
    time.sleep(1)
    return {k: b[k] - a[k] for k in a}


def counted_window(size, flows, seconds):
    """The probes' hits and the packets received between two reads of both
    (read back to back: the model's counters over QMP would take long in a
    guest the probes slow down)."""
    generator(size, flows, True)
    try:
        time.sleep(2)
        ra, pa = counter("rx_packets"), profile()
        time.sleep(seconds)
        rb, pb = counter("rx_packets"), profile()
    finally:
        generator(size, flows, False)
    time.sleep(1)
    return rb - ra, {k: pb[k] - pa.get(k, 0) for k in pb}


def kallsyms():
    names = {}
    with open("/proc/kallsyms", encoding="ascii", errors="replace") as f:
        for line in f:
            t = line.split()
            if len(t) >= 3 and t[1] in "tT":
                base = t[2].split(".")[0]
                names.setdefault(base, t[2])
    return names


def setup_probes(funcs):
    """Register a kprobe event per function found; return {func: event}."""
    if not os.path.isdir(f"{TRACEFS}/events"):
        os.system(f"mount -t tracefs nodev {TRACEFS} 2>/dev/null")
    if not os.path.exists(f"{TRACEFS}/kprobe_events"):
        note("no kprobe events in tracefs: no function counts")
        return {}
    write(f"{TRACEFS}/tracing_on", "0")
    syms = kallsyms()
    probes = {}
    for fn in funcs:
        sym = syms.get(fn)
        if not sym:
            continue
        ev = re.sub(r"\W", "_", fn)
        try:
            write(f"{TRACEFS}/kprobe_events", f"p:{GROUP}/{ev} {sym}\n",
                  append=True)
        except OSError as e:
            note(f"kprobe on {sym}: {e}")
            continue
        probes[fn] = ev
    return probes


def enable_probes(on):
    path = f"{TRACEFS}/events/{GROUP}/enable"
    if os.path.exists(path):
        write(path, "1" if on else "0")


def profile():
    hits = {}
    with open(f"{TRACEFS}/kprobe_profile", encoding="ascii") as f:
        for line in f:
            t = line.split()
            # "<event> <hits> <missed>" (the group is not shown)
            if len(t) >= 2 and t[1].isdigit():
                hits[t[0].split("/")[-1]] = int(t[1])
    return hits


TRACE_LINE = re.compile(r"\[(\d+)\].*?\s(\d+\.\d+): (\w+):")


def durations(funcs, size, flows, seconds):
    """The functions of @funcs together: a kprobe at each one's entry and a
    kretprobe at its return, traced for @seconds while the generator runs.
    Per function, the time from entry to return summed over its calls, per
    packet received meanwhile: nested functions (a poll and the stack it
    calls) split a packet's time into parts. The probes' own cost is
    included; it is the same on every kernel and small for a function that
    runs once per many packets (a NAPI poll, a GRO list)."""
    syms = kallsyms()
    write(f"{TRACEFS}/buffer_size_kb", "65536")
    evs = {}
    for fn in funcs:
        sym = syms.get(fn)
        if not sym:
            out(size, f"tp:{fn}", "-")
            continue
        ev = re.sub(r"\W", "_", fn)
        try:
            write(f"{TRACEFS}/kprobe_events", f"p:rxdur/in_{ev} {sym}\n"
                  f"r:rxdur/out_{ev} {sym}\n", append=True)
        except OSError as e:
            note(f"duration probes on {sym}: {e}")
            out(size, f"tp:{fn}", "-")
            continue
        evs[ev] = fn
    if not evs:
        return
    write(f"{TRACEFS}/trace", "")
    write(f"{TRACEFS}/events/rxdur/enable", "1")
    generator(size, flows, True)
    try:
        time.sleep(2)
        ra, ca = counter("rx_packets"), cpu_times()
        write(f"{TRACEFS}/tracing_on", "1")
        time.sleep(seconds)
        write(f"{TRACEFS}/tracing_on", "0")
        rb, cb = counter("rx_packets"), cpu_times()
    finally:
        generator(size, flows, False)
    write(f"{TRACEFS}/events/rxdur/enable", "0")
    stack, total, calls = {}, dict.fromkeys(evs, 0.0), dict.fromkeys(evs, 0)
    with open(f"{TRACEFS}/trace", encoding="ascii", errors="replace") as f:
        for line in f:
            m = TRACE_LINE.search(line)
            if not m:
                continue
            cpu, ts, name = int(m[1]), float(m[2]), m[3]
            kind, _, ev = name.partition("_")
            if ev not in evs:
                continue
            st = stack.setdefault((cpu, ev), [])
            if kind == "in":
                st.append(ts)
            elif st:
                total[ev] += ts - st.pop()
                calls[ev] += 1
    write(f"{TRACEFS}/trace", "")
    write(f"{TRACEFS}/kprobe_events", "".join(
        f"-:rxdur/in_{ev}\n-:rxdur/out_{ev}\n" for ev in evs), append=True)
    pkts = rb - ra
    out(size, "timed_rx_packets", pkts)
    out(size, "timed_busy_ns_per_pkt",
        round((cb["busy"] - ca["busy"]) * 1e9 / USER_HZ / pkts) if pkts else "-")
    for ev, fn in evs.items():
        out(size, f"tp:{fn}", round(total[ev] * 1e9 / pkts) if pkts else "-")
        out(size, f"tn:{fn}", per1000(calls[ev], pkts))


def per1000(n, pkts):
    return round(n * 1000 / pkts, 1) if pkts else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="64,1500")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--flows", type=int, default=16)
    ap.add_argument("--funcs", default=",".join(FUNCS))
    ap.add_argument("--time-funcs", default="",
                    help="functions to time together (ns per packet)")
    args = ap.parse_args()
    if not NETIF:
        sys.exit("NETIF is not set: run in a harness guest")
    print(f"EVENTS info kernel={os.uname().release} page={os.sysconf('SC_PAGE_SIZE')} "
          f"cpus={os.cpu_count()}", flush=True)
    funcs = [f for f in args.funcs.split(",") if f]
    probes = setup_probes(funcs)
    absent = [f for f in funcs if f not in probes]
    if absent:
        note("no symbol (inlined, renamed or not built): " + " ".join(absent))
    os.system(f"ip link set dev {NETIF} up")
    time.sleep(2)
    idle(args.seconds)
    for size in [int(s) for s in args.sizes.split(",") if s]:
        d = window(size, args.flows, args.seconds)
        pkts = d["rx"]
        out(size, "rx_packets", pkts)
        out(size, "pps", round(pkts / d["t"]))
        for k in ("busy", "user", "system", "irq", "softirq"):
            out(size, "cpu_ns_per_pkt" if k == "busy" else f"cpu_{k}_ns_per_pkt",
                round(d[f"cpu_{k}"] * 1e9 / USER_HZ / pkts) if pkts else 0)
        for k in ("irqs", "ipis", "net_rx_softirqs", "eqe", "rq_frames",
                  "rq_wqes_posted", "hwc_requests"):
            out(size, k, per1000(d[k], pkts))
        if not probes:
            continue
        enable_probes(True)
        try:
            pkts, hits = counted_window(size, args.flows, args.seconds)
        finally:
            enable_probes(False)
        out(size, "probed_rx_packets", pkts)
        if args.time_funcs:
            durations([f for f in args.time_funcs.split(",") if f], size,
                      args.flows, 2)
        # Every generated frame reaches UDP once: its hits are the packets
        # of exactly the probes' time (rx_packets, read beside them, is off
        # by the time reading kprobe_profile takes)
        udp = hits.get(probes.get("__udp4_lib_rcv"), 0)
        if udp:
            out(size, "probed_udp_packets", udp)
            pkts = udp
        for fn, ev in probes.items():
            out(size, f"f:{fn}", per1000(hits.get(ev, 0), pkts))


if __name__ == "__main__":
    main()
