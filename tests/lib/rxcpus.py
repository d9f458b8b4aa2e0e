# SPDX-License-Identifier: GPL-2.0
"""Which guest CPUs did the RX work of a window, and how busy they were.

A window of generator traffic is guest-bound when every CPU that did the
MANA port's RX work in it was busy (make bench, tests/system/cost.py). Take
snapshot() at both ends of the window and give both to rx_busy().
"""


def cpus_busy():
    """Per CPU (cpuN of /proc/stat): (busy jiffies, all jiffies); busy is
    all but idle and iowait."""
    res = {}
    with open("/proc/stat", encoding="ascii") as f:
        for line in f:
            name, *vals = line.split()
            if not name.startswith("cpu") or name == "cpu":
                continue
            # user nice system idle iowait irq softirq steal (guest: in user)
            t = [int(x) for x in vals[:8]]
            res[int(name[3:])] = (sum(t) - t[3] - t[4], sum(t))
    return res


def cpu_busy():
    """Busy jiffies of all CPUs."""
    return sum(busy for busy, _ in cpus_busy().values())


def rx_irqs():
    """Per CPU: the MANA queue interrupts taken so far (/proc/interrupts
    lines of the driver's queue vectors: mana_q<n>@pci:... in 6.12,
    mana_msi<n>@pci:... in 7.3), all queues summed."""
    res = {}
    with open("/proc/interrupts", encoding="ascii") as f:
        ncpu = len(f.readline().split())
        for line in f:
            t = line.split()
            if not any(x.startswith(("mana_q", "mana_msi")) for x in t[ncpu + 1:]):
                continue
            for cpu, n in enumerate(t[1:ncpu + 1]):
                res[cpu] = res.get(cpu, 0) + int(n)
    return res


def net_rx_softirqs():
    """Per CPU: the NET_RX softirqs run so far (/proc/softirqs)."""
    with open("/proc/softirqs", encoding="ascii") as f:
        for line in f:
            t = line.split()
            if t and t[0] == "NET_RX:":
                return {cpu: int(n) for cpu, n in enumerate(t[1:])}
    return {}


def rx_busy(a, b):
    """The lowest busy share, between samples A and B, of the CPUs that
    took MANA queue interrupts meanwhile, at least a tenth of them each (a
    CPU that took a stray few does the RX work of none); in a window
    without any (NAPI polled all along, never re-armed: a busy guest), of
    the CPUs that ran at least a tenth of its NET_RX softirqs. None if
    none."""
    took = {c: b["irqs"][c] - a["irqs"].get(c, 0) for c in b["irqs"]}
    if not sum(took.values()):
        took = {c: b["net_rx"][c] - a["net_rx"].get(c, 0) for c in b["net_rx"]}
    total = sum(took.values())
    shares = [(b["cpus"][c][0] - a["cpus"][c][0]) /
              max(1, b["cpus"][c][1] - a["cpus"][c][1])
              for c, n in took.items() if total and n * 10 >= total
              and c in a["cpus"] and c in b["cpus"]]
    return round(min(shares), 3) if shares else None


def snapshot():
    """The per-CPU counters rx_busy() compares."""
    return {"cpus": cpus_busy(), "irqs": rx_irqs(), "net_rx": net_rx_softirqs()}
