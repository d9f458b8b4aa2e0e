#!/usr/bin/env python3
"""The report of make bench, from the guests' BENCH lines.

usage: bench_report.py <outdir> <config>...

Reads <outdir>/<config>-<kind>.log for the kinds base (Linux 6.12), series
(6.12 + series/), mainline (Linux 7.3) and net-next (7.3 + net-next/)
(written by scripts/bench.sh, BENCH lines from tests/bench/rx-bench.py;
a kind without a log is left out), prints the tables and writes into <outdir>:
  results.txt   the machine-readable lines, one field per kind that has the
                figure (a line needs base and series, or mainline and
                net-next):
                  rx-mem <config> mtu=<n> base=<B> series=<B> mainline=<B> net-next=<B>
                  rx-mem-xdp <config> mtu=<n> (the same fields)
                  rx-pps <config> size=<n> base=<pps> series=<pps> ratio=<r>
                         mainline=<pps> net-next=<pps> net-next-ratio=<r>
                         mainline-ratio=<r>
                  rx-cpu <config> size=<n> (the same fields, ns per packet)
                  rx-cost <config> size=<n> kernel=<kind> insn=<n> mem=<n>
                          miss=<n> l1miss=<n> (per received packet, from
                          the cost plugin: one line per kernel; miss = the
                          modeled L2's misses, l1miss = the L1D's)
                ratio = series/base, net-next-ratio = net-next/mainline,
                mainline-ratio = mainline/base (7.3 against 6.12)
  report.txt    the tables as printed, with the methods
  mem.dat, pps.dat, cpu.dat, insn.dat, miss.dat and rx-bench.png (gnuplot)
Figures a guest did not produce are "-" in the tables.
"""
import os
import subprocess
import sys

KINDS = ("base", "series", "mainline", "net-next")
BASE_OF = {"base": "6.12", "series": "6.12", "mainline": "7.3",
           "net-next": "7.3"}
# the ratios: (name in results.txt, column head, numerator, denominator)
RATIOS = (("ratio", "ser/base", "series", "base"),
          ("net-next-ratio", "nn/main", "net-next", "mainline"))
CROSS = ("mainline-ratio", "7.3/6.12", "mainline", "base")
# The targets, shown beside the figures for reference: the series' (issue
# 4) and net-next's (issue 13: at least mainline's figure everywhere).
MEM_TARGET = {("arm64-64k", 1500, 0): "<=1872", ("arm64-16k", 1500, 0): "<=2048",
              ("arm64-4k", 1500, 0): "<=2048", ("arm64-64k", 1500, 1): "<=4096"}
NN_MEM_TARGET = {("arm64-64k", 1500, 1): "<=4096"}
PPS_TARGET = {"arm64-64k": ">=3", "x86_64": ">=1.15"}

METHODS = """\
Methods (guest side: tests/bench/rx-bench.py). The kernels: base = Linux
6.12 without the series, series = with it, mainline = Linux 7.3 without
net-next/, net-next = with it; same QEMU, same config fragments, one run, one
guest after the other. Ratios: ser/base = series / base, nn/main = net-next /
mainline, 7.3/6.12 = mainline / base.
  buf B      RX memory per posted buffer: pages the RX page pools handed out
             and did not get back (netdev netlink page-pool-stats-get,
             alloc-* minus recycle-*) x the pool's page size, divided by the
             buffers posted to the device (the MANA model's per-RQ "posted",
             read over QMP; = queues x ring). Page granular: a page shared by
             N buffers counts 1/N per buffer. 6.12 fills its rings from its
             page pool too (one page, or a higher-order page, per buffer), so
             the same counters measure every kernel. This is the rx-mem figure.
             Targets: the series' (tgt), net-next's (nn tgt; everywhere else:
             at most mainline's figure).
  ring KiB   buf B x ring size: one RX queue's posted buffers.
  pool B     page-pool-get inflight-mem / posted buffers: buf B plus the
             pages the pools hold in their caches (a pool takes 64 pages at a
             time from the page allocator).
  delta B    free memory (nr_free_pages + per-CPU page lists) with the
             interface down minus with it up, median of several down/up
             cycles, / posted buffers: everything bringing the queues up
             costs (buffers, pool caches, WQE and CQE rings, per-buffer
             driver state, TX queues).
  pps        median over the windows of: rx_packets delta of the
             interface / elapsed guest time (best: the fastest window), while
             the MANA model's RX generator floods the RX queues with UDP
             frames of the given size to the guest's address (port 9, no
             listener: each frame crosses IP and UDP and is dropped as
             NoPorts). drops = rx_dropped + softnet drops + IP discards.
             Guest-bound windows: those where every guest CPU that took
             MANA queue interrupts (a tenth of them at least) was at least
             95% busy (/proc/stat per CPU, /proc/interrupts mana_q* in
             6.12, mana_msi* in 7.3; in a window without any, the CPUs
             that ran a tenth of the NET_RX softirqs); the median and best are of those
             windows when there are any, else of all (then the figure is the
             emulator's limit, not the kernel's).
  cpu ns/pkt busy jiffies of /proc/stat (all but idle and iowait) x the
             USER_HZ tick / packets; util = busy share of all guest CPUs;
             RX CPUs busy = the lowest busy share of a CPU taking MANA queue
             interrupts in a window.
  insn, mem  guest instructions executed and data accesses made (all vCPUs,
             everything the guest ran) per received packet, counted by the
             cost plugin (emu/plugin/cost.c) over a generator window; the
             median of the windows. Counted, not timed: the host's load does
             not change them; spread = (max - min) / median of the windows'
             instructions per packet; min busy = the guest CPUs' lowest busy
             share in those windows: below 0.95 a window was emulator-bound
             (the guest idled between the generator's batches, and its
             packets also paid for the interrupts and idle entries).
  L1D, L2    misses per received packet of a modeled cache per vCPU (64 KiB
             4-way L1D, 1 MiB 8-way L2, 64 B lines, LRU, physical addresses,
             data accesses only), from windows with the cache model on.
Limits: every figure comes from the emulator: the guests run under TCG (no
KVM) on a shared 2-core host (the vCPUs, the generator's thread and QEMU's
main loop share its cores), so absolute rates and CPU times are noisy; only
ratios of kernels from the same run are meaningful, and CPU per packet also
depends on the host's load while each guest ran."""


def parse(path):
    res = {"info": {}, "mem": [], "pps": [], "cost": [], "notes": [], "log": False}
    if not os.path.exists(path):
        return res
    res["log"] = True
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("# "):
                res["notes"].append(line[2:].strip())
            if not line.startswith("BENCH "):
                continue
            t = line.split()
            kv = {}
            for item in t[2:]:
                k, _, v = item.partition("=")
                try:
                    kv[k] = int(v)
                except ValueError:
                    try:
                        kv[k] = float(v)
                    except ValueError:
                        kv[k] = v
            if t[1] == "info":
                res["info"] = kv
            elif t[1] in ("mem", "pps", "cost"):
                res[t[1]].append(kv)
    return res


def fmt(v, spec="d"):
    if v is None:
        return "-"
    return format(v, spec)


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def mem_of(r, mtu, xdp):
    for m in r["mem"]:
        if m.get("mtu") == mtu and m.get("xdp") == xdp:
            return m
    return {}


def table(cols, rows):
    """Lines of a table: cols are (group, head, width); a group names the
    run of consecutive columns that share it, on a line above the heads."""
    groups, heads = [], []
    i = 0
    while i < len(cols):
        j = i
        while j + 1 < len(cols) and cols[j + 1][0] == cols[i][0]:
            j += 1
        width = sum(c[2] for c in cols[i:j + 1]) + (j - i)
        groups.append(f"{cols[i][0]:^{width}}" if cols[i][0] else " " * width)
        i = j + 1
    for _, head, width in cols:
        heads.append(f"{head:>{width}}")
    lines = [" ".join(groups).rstrip(), " ".join(heads)]
    lines.append("-" * len(lines[1]))
    for row in rows:
        lines.append(" ".join(f"{v:>{c[2]}}" if k else f"{v:<{c[2]}}"
                              for k, (v, c) in enumerate(zip(row, cols))))
    return lines


def kv_line(head, figs, ratios=()):
    """A results.txt line: the figures of the kinds that have one, in the
    order of the 6.12-only lines first (base, series, ratio), then 7.3's."""
    rs = dict(ratios)
    parts = [head]
    for k, rname in (("base", None), ("series", "ratio"), ("mainline", None),
                     ("net-next", "net-next-ratio")):
        if figs.get(k) is not None:
            parts.append(f"{k}={figs[k]}")
        if rname and rs.get(rname) is not None:
            parts.append(f"{rname}={rs[rname]:.2f}")
    if rs.get(CROSS[0]) is not None:
        parts.append(f"{CROSS[0]}={rs[CROSS[0]]:.2f}")
    return " ".join(parts)


def by_size(d, kinds, section):
    """(size, {kind: its SECTION record of that frame size, or {}}) for each
    frame size a kind of config data D reported in SECTION."""
    for size in sorted({x["size"] for k in kinds for x in d[k][section]}):
        yield size, {k: next((x for x in d[k][section] if x["size"] == size), {})
                     for k in kinds}


def paired(figs):
    return any(figs.get(n) is not None and figs.get(d) is not None
               for _, _, n, d in RATIOS)


def main():
    outdir, configs = sys.argv[1], sys.argv[2:]
    data = {c: {k: parse(os.path.join(outdir, f"{c}-{k}.log")) for k in KINDS}
            for c in configs}
    kinds = [k for k in KINDS if any(data[c][k]["log"] for c in configs)]
    ratios = [r for r in RATIOS if r[2] in kinds and r[3] in kinds]
    cross = "base" in kinds and "mainline" in kinds
    lines, report = [], []
    dat = {"mem": [], "pps": [], "cpu": [], "insn": [], "miss": []}

    info = os.path.join(outdir, "run-info.txt")
    if os.path.exists(info):
        with open(info, encoding="utf-8") as f:
            report += [line.rstrip() for line in f]
        report.append("")
    patches = {"series": " + series/", "net-next": " + net-next/"}
    report.append("kernels: " + (", ".join(
        f"{k} (Linux {BASE_OF[k]}{patches.get(k, '')})" for k in kinds)
        or "none ran (no guest logs)"))
    report.append("All figures come from the MANA device model under QEMU "
                  "TCG (no KVM); see the methods below.")

    # memory: buf B and per ring; then pool B and delta B
    w = 9
    cols1 = [("", "config", 10), ("", "page", 6), ("", "MTU", 5), ("", "XDP", 3),
             ("", "ring", 9)]
    cols1 += [("buf B (rx-mem)", k, w) for k in kinds]
    cols1 += [("buf B (rx-mem)", r[1], 8) for r in ratios]
    cols1 += [("buf B (rx-mem)", "tgt", 6)]
    if "net-next" in kinds:
        cols1 += [("buf B (rx-mem)", "nn tgt", 6)]
    cols1 += [("ring KiB", k, w) for k in kinds]
    cols2 = [("", "config", 10), ("", "MTU", 5), ("", "XDP", 3)]
    cols2 += [("pool B", k, w) for k in kinds]
    cols2 += [("delta B", k, w) for k in kinds]
    cols2 += [("delta B", r[1], 8) for r in ratios]
    rows1, rows2, ringnotes = [], [], []
    for c in configs:
        d = data[c]
        page = next((d[k]["info"].get("page") for k in kinds
                     if d[k]["info"].get("page")), None)
        keys = sorted({(m["mtu"], m["xdp"]) for k in kinds for m in d[k]["mem"]})
        for mtu, xdp in keys:
            m = {k: mem_of(d[k], mtu, xdp) for k in kinds}
            first = next((m[k] for k in kinds if m[k].get("ring")), {})
            ring, q = first.get("ring"), first.get("queues")
            for k in kinds:
                if m[k].get("ring") and (m[k]["ring"], m[k].get("queues")) != (ring, q):
                    ringnotes.append(f"{c} MTU {mtu}{' XDP' if xdp else ''}: {k} "
                                     f"ran {m[k].get('queues')}x{m[k]['ring']}")
            buf = {k: m[k].get("pool_out_per_buf") for k in kinds}
            delta = {k: m[k].get("delta_per_buf") for k in kinds}
            kib = {k: None if buf[k] is None or not m[k].get("ring") else
                   round(buf[k] * m[k]["ring"] / 1024) for k in kinds}
            row = [c, fmt(page), str(mtu), "on" if xdp else "off",
                   f"{q}x{ring}" if ring else "-"]
            row += [fmt(buf[k]) for k in kinds]
            row += [fmt(ratio(buf[n], buf[dn]), ".2f") for _, _, n, dn in ratios]
            row.append(MEM_TARGET.get((c, mtu, xdp), ""))
            if "net-next" in kinds:
                row.append(NN_MEM_TARGET.get((c, mtu, xdp), "<=main"))
            row += [fmt(kib[k]) for k in kinds]
            rows1.append(row)
            row = [c, str(mtu), "on" if xdp else "off"]
            row += [fmt(m[k].get("pool_mem_per_buf")) for k in kinds]
            row += [fmt(delta[k]) for k in kinds]
            row += [fmt(ratio(delta[n], delta[dn]), ".2f") for _, _, n, dn in ratios]
            rows2.append(row)
            if paired(buf):
                kind = "rx-mem-xdp" if xdp else "rx-mem"
                lines.append(kv_line(f"{kind} {c} mtu={mtu}", buf))
                dat["mem"].append(mem_dat(f"{c} MTU {mtu}{' XDP' if xdp else ''}",
                                          buf, kinds, ratios))
    report += ["RX memory per posted buffer (idle interface); ring KiB: one RX "
               "queue's buffers"] + table(cols1, rows1)
    report += ["", "RX memory per posted buffer, with the pools' caches (pool B) "
               "and all the interface takes from free memory (delta B)"]
    report += table(cols2, rows2)
    if ringnotes:
        report += ["ring differs from the first kernel's: " + "; ".join(ringnotes)]

    # packets/s; then CPU per packet, utilisation and drops
    cols3 = [("", "config", 10), ("", "size", 5)]
    cols3 += [("pps (median window)", k, w) for k in kinds]
    cols3 += [("pps (median window)", r[1], 8) for r in ratios]
    cols3 += [("pps (median window)", "tgt", 6)]
    cols3 += [("best window", k, w) for k in kinds]
    cols3 += [("best window", r[1], 8) for r in ratios]
    cols3 += [("guest-bound windows", k, w) for k in kinds]
    cols4 = [("", "config", 10), ("", "size", 5)]
    cols4 += [("cpu ns/pkt", k, w) for k in kinds]
    cols4 += [("cpu ns/pkt", r[1], 8) for r in ratios]
    if cross:
        cols4 += [("cpu ns/pkt", CROSS[1], 8)]
    cols4 += [("util", k, 5) for k in kinds]
    cols4 += [("RX CPUs busy", k, 7) for k in kinds]
    cols4 += [("drops", k, 7) for k in kinds]
    rows3, rows4, rings = [], [], set()
    for c in configs:
        for size, p in by_size(data[c], kinds, "pps"):
            rings |= {str(p[k]["ring"]) for k in kinds if p[k].get("ring")}
            pps = {k: p[k].get("pps") for k in kinds}
            best = {k: p[k].get("pps_max") for k in kinds}
            cpu = {k: p[k].get("cpu_ns_per_pkt") or None for k in kinds}
            drops = {k: None if not p[k] else
                     p[k]["rx_dropped"] + p[k]["stack_drops"] for k in kinds}
            pr = [(n, ratio(pps[a], pps[b])) for n, _, a, b in ratios]
            cr = [(n, ratio(cpu[a], cpu[b])) for n, _, a, b in ratios]
            if cross:
                pr.append((CROSS[0], ratio(pps["mainline"], pps["base"])))
                cr.append((CROSS[0], ratio(cpu["mainline"], cpu["base"])))
            row = [c, str(size)] + [fmt(pps[k]) for k in kinds]
            row += [fmt(r, ".2f") for _, r in pr[:len(ratios)]]
            row.append(PPS_TARGET.get(c, ""))
            row += [fmt(best[k]) for k in kinds]
            row += [fmt(ratio(best[a], best[b]), ".2f") for _, _, a, b in ratios]
            row += [str(p[k].get("guest_bound", "-")) if p[k] else "-" for k in kinds]
            rows3.append(row)
            row = [c, str(size)] + [fmt(cpu[k]) for k in kinds]
            row += [fmt(r, ".2f") for _, r in cr]
            row += [fmt(p[k].get("cpu_util"), ".2f") for k in kinds]
            row += [fmt(p[k].get("rx_cpu_busy_min"), ".2f")
                    if isinstance(p[k].get("rx_cpu_busy_min"), float) else "-"
                    for k in kinds]
            row += [fmt(drops[k]) for k in kinds]
            rows4.append(row)
            if paired(pps):
                lines.append(kv_line(f"rx-pps {c} size={size}", pps, pr))
                dat["pps"].append(mem_dat(f"{c} {size}B", pps, kinds, ratios))
            if paired(cpu):
                lines.append(kv_line(f"rx-cpu {c} size={size}", cpu, cr))
                dat["cpu"].append(mem_dat(f"{c} {size}B", cpu, kinds, ratios))
    report += ["", "RX packets/s from the emulator's generator (RX ring: "
               f"{', '.join(sorted(rings, key=int)) or '-'} buffers per queue; "
               "tgt: the series' target ratio)"]
    report += table(cols3, rows3)
    report += ["", "Guest CPU per received packet, busy share of the guest's "
               "CPUs, packets dropped"]
    report += table(cols4, rows4)

    report += ["", "Cost per received packet (cost plugin): guest instructions, "
               "data accesses, modeled cache misses"]
    report += cost_table(data, configs, kinds, ratios, lines, dat)

    missing = [f"{c} {k}" for c in configs for k in kinds
               if not data[c][k]["info"]]
    notes = [f"{c} {k}: {n}" for c in configs for k in kinds
             for n in data[c][k]["notes"]]
    if missing:
        report += ["", "no figures from: " + ", ".join(missing) +
                   f" (see {outdir}/<config>-<kind>.log)"]
    if notes:
        report += ["", "guest notes:"] + [f"  {n}" for n in notes]
    report += ["", METHODS, "", "Machine-readable (results.txt):"] + lines

    text = "\n".join(report) + "\n"
    sys.stdout.write(text)
    files = {"report.txt": text, "results.txt": "\n".join(lines) + "\n"}
    for name, body in dat.items():
        files[f"{name}.dat"] = "\n".join(body) + "\n"
    for name, body in files.items():
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(body)
    plot(outdir, kinds, ratios, {k: bool(v) for k, v in dat.items()})


def cost_table(data, configs, kinds, ratios, lines, dat):
    """The cost table's lines; adds the rx-cost lines to LINES and the
    plot's rows (instructions, L2 misses per packet) to DAT."""
    figs = (("insn", "insn/pkt", 0), ("mem", "mem/pkt", 0),
            ("l1miss", "L1D miss/pkt", 1), ("l2miss", "L2 miss/pkt", 1))
    cols = [("", "config", 10), ("", "size", 5)]
    for key, head, _ in figs:
        cols += [(head, k, 9) for k in kinds]
        if key == "insn":
            cols += [(head, r[1], 8) for r in ratios]
    cols += [("spread %", k, 9) for k in kinds]
    cols += [("min busy", k, 9) for k in kinds]
    rows = []
    for c in configs:
        for size, p in by_size(data[c], kinds, "cost"):
            row = [c, str(size)]
            for key, _, digits in figs:
                v = {k: p[k].get(key) for k in kinds}
                v = {k: x if isinstance(x, (int, float)) else None for k, x in v.items()}
                row += [fmt(v[k], f".{digits}f") for k in kinds]
                if key == "insn":
                    row += [fmt(ratio(v[n], v[dn]), ".2f") for _, _, n, dn in ratios]
            row += [fmt(p[k].get("insn_spread_pct"), ".2f") for k in kinds]
            row += [fmt(p[k].get("busy_min"), ".2f") for k in kinds]
            rows.append(row)
            for key, spec in (("insn", "d"), ("l2miss", ".1f")):
                v = {k: p[k].get(key) if isinstance(p[k].get(key), (int, float)) else None
                     for k in kinds}
                if paired(v):
                    dat["insn" if key == "insn" else "miss"].append(
                        mem_dat(f"{c} {size}B", v, kinds, ratios, spec))
            for k in kinds:
                if p[k]:
                    lines.append(f"rx-cost {c} size={size} kernel={k} insn={p[k]['insn']} "
                                 f"mem={p[k]['mem']} miss={p[k]['l2miss']} "
                                 f"l1miss={p[k]['l1miss']}")
    return table(cols, rows)


def mem_dat(label, figs, kinds, ratios, spec="d"):
    """A gnuplot row: the label, a figure per kind, a ratio per pair ("-":
    none)."""
    vals = [fmt(figs[k], spec) for k in kinds]
    vals += [fmt(ratio(figs[n], figs[d]), ".2f") for _, _, n, d in ratios]
    return f'"{label}" ' + " ".join(vals)


def plot(outdir, kinds, ratios, have):
    png = os.path.join(outdir, "rx-bench.png")
    panels = [p for p in ("mem", "pps", "cpu", "insn", "miss") if have[p]]
    if not panels:
        print("no figures: no plot")
        return
    n = len(kinds)
    rows = 1 if len(panels) <= 3 else 2
    gp = [f"set terminal pngcairo size 1800,{620 * rows} font 'sans,10'",
          "set termoption noenhanced", 'set datafile missing "-"',
          f'set output "{png}"',
          f'set multiplot layout {rows},{min(3, len(panels))} title '
          f'"MANA RX: {", ".join(kinds)}; bar labels: '
          f'{", ".join(r[1] for r in ratios)} (emulator under QEMU TCG; see report.txt)"',
          "set style data histograms", "set style histogram clustered gap 1",
          "set style fill solid 0.8 border -1",
          "set key horizontal top center outside", "set offsets 0, 0, graph 0.1, 0",
          "set xtics rotate by -30 nomirror", "set grid ytics", "set bmargin 8",
          "set tmargin 6"]
    # the bars of a cluster: n wide, centred on the row; a ratio's label
    # goes over its numerator's bar
    def labels(path):
        out = []
        for i, (_, _, num, _) in enumerate(ratios):
            j = kinds.index(num)
            off = (j - (n - 1) / 2) / (n + 1)
            out.append(f'"{path}" using ($0+{off:.3f}):{j + 2}:'
                       f'(sprintf("%.2fx",${n + 2 + i})) with labels '
                       "offset 0,0.8 notitle")
        return out
    titles = {"mem": ("RX memory per posted buffer (bytes, log scale)", True),
              "pps": ("RX packets/s, emulator generator", False),
              "cpu": ("guest CPU per packet (ns)", False),
              "insn": ("guest instructions per packet (cost plugin)", False),
              "miss": ("modeled L2 misses per packet (cost plugin)", False)}
    for p in panels:
        path = os.path.join(outdir, f"{p}.dat")
        title, log = titles[p]
        gp += [f'set title "{title}"']
        gp += ["set logscale y", "set yrange [1000:*]"] if log else \
            ["unset logscale y", "set yrange [0:*]"]
        series = [f'"{path}" using {j + 2}:xtic(1) title "{k}"' if j == 0 else
                  f'"" using {j + 2} title "{k}"' for j, k in enumerate(kinds)]
        gp.append("plot " + ", ".join(series + labels(path)))
    gp.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", text=True,
                       capture_output=True, check=False)
    if r.returncode:
        print(f"gnuplot failed: {r.stderr.strip()}")
    else:
        print(f"plot: {png}")


if __name__ == "__main__":
    main()
