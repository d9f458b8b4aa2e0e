#!/usr/bin/env python3
"""The report of make bench, from the guests' BENCH lines.

usage: bench_report.py <outdir> <config>...

Reads <outdir>/<config>-base.log and <config>-series.log (written by
scripts/bench.sh, BENCH lines from tests/bench/rx-bench.py), prints the
tables and writes into <outdir>:
  results.txt   the machine-readable lines:
                  rx-mem <config> mtu=<n> base=<bytes> series=<bytes>
                  rx-mem-xdp <config> mtu=<n> base=<bytes> series=<bytes>
                  rx-pps <config> size=<n> base=<pps> series=<pps> ratio=<r>
                  rx-cpu <config> size=<n> base=<ns> series=<ns> ratio=<r>
  report.txt    the tables as printed, with the methods
  mem.dat, pps.dat and rx-bench.png (gnuplot)
Figures a guest did not produce are "-" in the tables and have no line.
"""
import os
import subprocess
import sys

KINDS = ("base", "series")
# The issue's targets (issue 4), shown beside the figures for reference.
MEM_TARGET = {("arm64-64k", 1500, 0): "<=1872", ("arm64-16k", 1500, 0): "<=2048",
              ("arm64-4k", 1500, 0): "<=2048", ("arm64-64k", 1500, 1): "<=4096"}
PPS_TARGET = {"arm64-64k": ">=3", "x86_64": ">=1.15"}

METHODS = """\
Methods (guest side: tests/bench/rx-bench.py; base = Linux 6.12 without the
series, series = with it; same QEMU, same config, one run):
  buf B      RX memory per posted buffer: pages the RX page pools handed out
             and did not get back (netdev netlink page-pool-stats-get,
             alloc-* minus recycle-*) x the pool's page size, divided by the
             buffers posted to the device (the MANA model's per-RQ "posted",
             read over QMP; = queues x ring). Page granular: a page shared by
             N buffers counts 1/N per buffer. 6.12 fills its rings from its
             page pool too (one page, or a higher-order page, per buffer), so
             the same counters measure both. This is the rx-mem figure.
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
  cpu ns/pkt busy jiffies of /proc/stat (all but idle and iowait) x the
             USER_HZ tick / packets; util = busy share of all guest CPUs.
Limits: every guest runs under TCG (no KVM) on a shared 2-core host, and the
generator runs in QEMU's main loop, so absolute rates are emulator-bound and
noisy; only base/series ratios from the same run are meaningful."""


def parse(path):
    res = {"info": {}, "mem": [], "pps": [], "notes": []}
    if not os.path.exists(path):
        return res
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
            elif t[1] in ("mem", "pps"):
                res[t[1]].append(kv)
    return res


def fmt(v, spec="d"):
    if v is None:
        return "-"
    return format(v, spec)


def mem_of(r, mtu, xdp):
    for m in r["mem"]:
        if m.get("mtu") == mtu and m.get("xdp") == xdp:
            return m
    return {}


def main():
    outdir, configs = sys.argv[1], sys.argv[2:]
    data = {c: {k: parse(os.path.join(outdir, f"{c}-{k}.log")) for k in KINDS}
            for c in configs}
    lines, report, memdat, ppsdat = [], [], [], []

    info = os.path.join(outdir, "run-info.txt")
    if os.path.exists(info):
        with open(info, encoding="utf-8") as f:
            report += [line.rstrip() for line in f]
        report.append("")

    hdr = (f"{'config':<10} {'page':>6} {'MTU':>5} {'XDP':>3} {'ring':>9} "
           f"{'buf B base':>10} {'series':>7} {'target':>7} "
           f"{'ring KiB base':>13} {'series':>7} "
           f"{'pool B base':>11} {'series':>7} "
           f"{'delta B base':>12} {'series':>7}")
    report += ["RX memory per posted buffer (idle interface)", hdr,
               "-" * len(hdr)]
    for c in configs:
        b, s = data[c]["base"], data[c]["series"]
        page = b["info"].get("page") or s["info"].get("page")
        keys = sorted({(m["mtu"], m["xdp"]) for m in b["mem"] + s["mem"]})
        for mtu, xdp in keys:
            mb, ms = mem_of(b, mtu, xdp), mem_of(s, mtu, xdp)
            ring = mb.get("ring") or ms.get("ring")
            q = mb.get("queues") or ms.get("queues")
            bb, sb = mb.get("pool_out_per_buf"), ms.get("pool_out_per_buf")
            kib = [None if v is None or not m.get("ring") else
                   round(v * m["ring"] / 1024) for v, m in ((bb, mb), (sb, ms))]
            report.append(
                f"{c:<10} {fmt(page):>6} {mtu:>5} {'on' if xdp else 'off':>3} "
                f"{f'{q}x{ring}':>9} {fmt(bb):>10} {fmt(sb):>7} "
                f"{MEM_TARGET.get((c, mtu, xdp), ''):>7} "
                f"{fmt(kib[0]):>13} {fmt(kib[1]):>7} "
                f"{fmt(mb.get('pool_mem_per_buf')):>11} "
                f"{fmt(ms.get('pool_mem_per_buf')):>7} "
                f"{fmt(mb.get('delta_per_buf')):>12} "
                f"{fmt(ms.get('delta_per_buf')):>7}")
            if bb is not None and sb is not None:
                kind = "rx-mem-xdp" if xdp else "rx-mem"
                lines.append(f"{kind} {c} mtu={mtu} base={bb} series={sb}")
                memdat.append(f'"{c} MTU {mtu}{" XDP" if xdp else ""}" {bb} {sb}')

    hdr = (f"{'config':<10} {'size':>5} {'pps base':>9} {'series':>8} "
           f"{'ratio':>6} {'target':>6} {'best base':>9} {'series':>8} "
           f"{'ratio':>6} {'drops base':>10} {'series':>7} "
           f"{'cpu ns/pkt base':>15} {'series':>7} {'util base':>9} {'series':>7}")
    report += ["", "RX packets/s from the emulator's generator (ring: the "
               "driver's default; pps: median window, best: fastest window)",
               hdr, "-" * len(hdr)]
    for c in configs:
        b, s = data[c]["base"], data[c]["series"]
        sizes = sorted({p["size"] for p in b["pps"] + s["pps"]})
        for size in sizes:
            pb = next((p for p in b["pps"] if p["size"] == size), {})
            ps = next((p for p in s["pps"] if p["size"] == size), {})
            vb, vs = pb.get("pps"), ps.get("pps")
            ratio = round(vs / vb, 2) if vb and vs else None
            cb, cs = pb.get("cpu_ns_per_pkt"), ps.get("cpu_ns_per_pkt")
            db = None if not pb else pb["rx_dropped"] + pb["stack_drops"]
            ds = None if not ps else ps["rx_dropped"] + ps["stack_drops"]
            xb, xs = pb.get("pps_max"), ps.get("pps_max")
            best = round(xs / xb, 2) if xb and xs else None
            report.append(
                f"{c:<10} {size:>5} {fmt(vb):>9} {fmt(vs):>8} "
                f"{fmt(ratio, '.2f'):>6} {PPS_TARGET.get(c, ''):>6} "
                f"{fmt(xb):>9} {fmt(xs):>8} {fmt(best, '.2f'):>6} "
                f"{fmt(db):>10} {fmt(ds):>7} {fmt(cb):>15} {fmt(cs):>7} "
                f"{fmt(pb.get('cpu_util'), '.2f'):>9} "
                f"{fmt(ps.get('cpu_util'), '.2f'):>7}")
            if ratio is not None:
                lines.append(f"rx-pps {c} size={size} base={vb} series={vs} "
                             f"ratio={ratio:.2f}")
                ppsdat.append(f'"{c} {size}B" {vb} {vs} {ratio}')
            if cb and cs:
                lines.append(f"rx-cpu {c} size={size} base={cb} series={cs} "
                             f"ratio={cs / cb:.2f}")

    missing = [f"{c} {k}" for c in configs for k in KINDS
               if not data[c][k]["info"]]
    notes = [f"{c} {k}: {n}" for c in configs for k in KINDS
             for n in data[c][k]["notes"]]
    if missing:
        report += ["", "no figures from: " + ", ".join(missing) +
                   f" (see {outdir}/<config>-<kind>.log)"]
    if notes:
        report += ["", "guest notes:"] + [f"  {n}" for n in notes]
    report += ["", METHODS, "", "Machine-readable (results.txt):"] + lines

    text = "\n".join(report) + "\n"
    sys.stdout.write(text)
    for name, body in (("report.txt", text), ("results.txt", "\n".join(lines) + "\n"),
                       ("mem.dat", "\n".join(memdat) + "\n"),
                       ("pps.dat", "\n".join(ppsdat) + "\n")):
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            f.write(body)
    plot(outdir, bool(memdat), bool(ppsdat))


def plot(outdir, mem, pps):
    png = os.path.join(outdir, "rx-bench.png")
    if not (mem or pps):
        print("no figures: no plot")
        return
    gp = ["set terminal pngcairo size 1400,560 font 'sans,10'",
          "set termoption noenhanced",
          f'set output "{png}"',
          f'set multiplot layout 1,{int(mem) + int(pps)} title '
          '"MANA RX, Linux 6.12 base vs series (QEMU TCG; see report.txt)"',
          "set style data histograms", "set style histogram clustered gap 1",
          "set style fill solid 0.8 border -1", "set key top right",
          "set xtics rotate by -30 nomirror", "set grid ytics", "set bmargin 8"]
    if mem:
        gp += ['set title "RX memory per posted buffer (bytes, log scale)"',
               "set logscale y", "set yrange [1000:*]",
               f'plot "{outdir}/mem.dat" using 2:xtic(1) title "base", '
               '"" using 3 title "series"', "unset logscale y",
               "set yrange [0:*]"]
    if pps:
        gp += ['set title "RX packets/s, emulator generator (series/base on top)"',
               f'plot "{outdir}/pps.dat" using 2:xtic(1) title "base", '
               '"" using 3 title "series", '
               '"" using ($0+0.15):3:(sprintf("%.2fx",$4)) with labels '
               "offset 0,1 notitle"]
    gp.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", text=True,
                       capture_output=True, check=False)
    if r.returncode:
        print(f"gnuplot failed: {r.stderr.strip()}")
    else:
        print(f"plot: {png}")


if __name__ == "__main__":
    main()
