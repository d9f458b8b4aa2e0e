#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""In the guest: a seeded, replayable fault and reconfiguration campaign on
the MANA port ($NETIF, found by its MAC), run by scripts/soak.sh (make soak).

usage: soak.py --seed N [--minutes M] [--steps N] [--config NAME] [--settle S] [--slow N]
       soak.py --seed N --dry-run N     print the first N steps and exit

The schedule is drawn from random.Random(seed) alone (never from what the
guest answers), so the same seed gives the same steps in the same order;
every step is printed before it runs. Steps: RX floods from the emulator's
generator (sizes, flow counts), TCP transfers whose payload is compared end
to end, MTU 68..9000, ring and channel changes, full-page-rx, XDP attach /
replace / detach (pass, drop, tx, redirect), link down/up, RSS changes,
ethtool -S, net-shaper set/delete/group on MANA and netdevsim, malformed
net-shaper requests, module reload; and every fault the emulator has
(refused and dropped HWC requests, oversized RX completions, delays) and
page/slab allocation failures limited to mana.ko. A checkpoint every few
steps clears the faults and the floods and must see the port pass traffic
and every transfer complete.

An error a command returns is expected when it is a refusal (EINVAL,
EOPNOTSUPP, EBUSY, ERANGE, ENOENT, ...) or, after a fault was injected and
until the next checkpoint, a consequence of a fault (ENOMEM, EIO, EPROTO,
ETIMEDOUT, ...). A failure: a splat in the kernel log (WARNING, BUG, KASAN,
lockdep, RCU, refcount, kmemleak, list corruption, a stalled page_pool), an
unexpected error, a command that hangs, a payload lost or corrupted, a port
that does not pass traffic when the faults are cleared, and after the
schedule: kmemleak's findings, page_pool pages in flight after rmmod, queues
the emulator still holds that the driver should have destroyed. Each
failure is printed with the seed, its step and the step before it.

The last line: soak <config> seed=<n> minutes=<m> ops=<n> faults=<n> bytes=<n> failures=<n>
Exit status 0 when failures=0.
"""
import argparse
import errno
import glob
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(HERE, "..", "lib")
sys.path.insert(0, LIB)
import hostctl  # noqa: E402

XDPCTL = os.path.join(HERE, "..", "lib", "xdp.py")
SHAPER_BAD = os.path.join(HERE, "shaper_bad.py")
FI_PAGE = "/sys/kernel/debug/fail_page_alloc"
FI_SLAB = "/sys/kernel/debug/failslab"
KMEMLEAK = "/sys/kernel/debug/kmemleak"
NETNS = ["ip", "netns", "exec", "remote"]
# what the driver logs when it leaves a port down after a failed
# reconfiguration whose old configuration the device refused too (series/
# patch 20, net-next/ patch 3)
RESTORE_FAILED = "the port stays down until it is opened again"

# HWC message codes (shared/facts/mana-device.md, mana-bw-clamp.md): the
# ones the driver sends at run time, and (probe) the ones only a module
# load sends.
HWC_RUNTIME = {
    "QUERY_GF_STAT": 0x20002, "CONFIG_VPORT_TX": 0x20003,
    "CREATE_WQ_OBJ": 0x20004, "DESTROY_WQ_OBJ": 0x20005, "FENCE_RQ": 0x20006,
    "CONFIG_VPORT_RX": 0x20007, "QUERY_LINK_CONFIG": 0x2000A,
    "SET_BW_CLAMP": 0x2000B, "CREATE_DMA_REGION": 25, "DESTROY_DMA_REGION": 27,
}
HWC_PROBE = {
    "VERIFY_VF_DRIVER_VERSION": 1, "QUERY_MAX_RESOURCES": 2, "LIST_DEVICES": 3,
    "REGISTER_DEVICE": 4, "DEREGISTER_DEVICE": 5, "CREATE_QUEUE": 12,
    "DISABLE_QUEUE": 13, "QUERY_DEV_CONFIG": 0x20001, "QUERY_VPORT_CONFIG": 0x20008,
}
HWC_STATUS = [5, 5, 5, 1, 0xFFFFFFFF]
# a dropped HWC request costs the driver's 30 s timeout: at most one per
# this many steps
DROP_GAP = 120

# What a command's error is: a refusal of the request as given (expected
# whatever the state), or the consequence of an injected fault (expected
# only while one was injected since the last checkpoint).
REFUSALS = {"EINVAL", "EOPNOTSUPP", "ENOTSUP", "EBUSY", "ERANGE", "ENOENT",
            "EEXIST", "E2BIG", "EMSGSIZE", "ENOSPC", "EPERM", "EAGAIN"}
FAULTY = {"ENOMEM", "EIO", "EPROTO", "ETIMEDOUT", "ENODEV", "ENXIO",
          "ENOBUFS", "EFAULT", "ECANCELED", "ENETDOWN", "ENETUNREACH",
          "EHOSTUNREACH", "ECONNREFUSED", "ENOLINK"}
ERRTEXT = sorted(((os.strerror(e), n) for e, n in errno.errorcode.items()),
                 key=lambda t: -len(t[0]))

SPLAT = re.compile(
    r"WARNING:|BUG:|Oops|KASAN|UBSAN|kernel BUG|general protection fault|"
    r"Unable to handle kernel|Kernel panic|possible recursive locking|"
    r"circular locking dependency|inconsistent lock state|lock inversion|"
    r"bad unlock balance|DEBUG_LOCKS_WARN_ON|held when returning|"
    r"suspicious RCU usage|sleeping function called from invalid context|"
    r"refcount_t:|kmemleak: \d+ new suspected|stalled pool shutdown|"
    r"list_add corruption|list_del corruption|blocked for more than|"
    r"soft lockup|hard LOCKUP|rcu: INFO|self-detected stall|"
    r"Call [Tt]race:")
# an allocation a fault made fail is reported with a stack: not a splat
ALLOC_REPORT = re.compile(r"page allocation failure:|vmalloc error:")


def env_file():
    env = hostctl.harness_env()
    env.update({k: v for k, v in os.environ.items() if k in (
        "NIC_MAC", "LOCAL_V4", "REMOTE_V4", "LOCAL_V6", "REMOTE_V6")})
    return env


def now():
    return time.monotonic()


# ------------------------------------------------------------------ #
# The schedule: a function of the seed alone.

WEIGHTS = [
    ("flood", 8), ("tcp", 10), ("mtu", 8), ("ring", 5), ("channels", 5),
    ("full_page_rx", 4), ("xdp", 8), ("link", 4), ("rss", 3), ("stats", 3),
    ("shaper_mana", 4), ("shaper_nsim", 4), ("shaper_bad", 3), ("reload", 2),
    ("fault_hwc", 7), ("fault_rx_len", 3), ("fault_delay", 3),
    ("fault_alloc", 5),
]
MTUS = [68, 576, 1280, 1500, 1500, 2048, 3000, 4000, 4096, 8000, 9000, 9000, 9001]
RINGS = [64, 128, 256, 512, 1024, 1024, 2048, 4096, 8192, 300, 16384]
SIZES = [64, 64, 128, 512, 1024, 1514, 1514, 4000, 9014, 9216]
TCP_SIZES = [64 << 10, 256 << 10, 1 << 20, 1 << 20, 4 << 20, 8 << 20]


class Schedule:
    """Steps as (kind, params); the n-th step depends on the seed only."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.n = 0
        self.next_checkpoint = self.rng.randrange(6, 15)
        self.last_drop = -DROP_GAP
        kinds, weights = zip(*WEIGHTS)
        self.kinds, self.weights = list(kinds), list(weights)

    def __iter__(self):
        return self

    def __next__(self):
        self.n += 1
        if self.n >= self.next_checkpoint:
            self.next_checkpoint = self.n + self.rng.randrange(6, 15)
            return "checkpoint", {"probe": self.rng.choice(["rx", "tx"])}
        kind = self.rng.choices(self.kinds, self.weights)[0]
        return kind, getattr(self, "p_" + kind)(self.rng)

    @staticmethod
    def p_flood(r):
        return {"size": r.choice(SIZES + [r.randrange(64, 9217)]),
                "flows": r.choice([1, 2, 4, 16, 256, 4096, r.randrange(1, 65537)]),
                "steps": r.randrange(1, 5)}

    @staticmethod
    def p_tcp(r):
        return {"dir": r.choice(["rx", "rx", "tx"]), "bytes": r.choice(TCP_SIZES)}

    @staticmethod
    def p_mtu(r):
        return {"mtu": r.choice(MTUS) if r.random() < 0.7 else r.randrange(68, 9001)}

    @staticmethod
    def p_ring(r):
        return {"rx": r.choice(RINGS), "tx": r.choice(RINGS + [None, None])}

    @staticmethod
    def p_channels(r):
        return {"combined": r.choice([1, 1, 2, 2, 3, 4, 8])}

    @staticmethod
    def p_full_page_rx(r):
        return {"on": r.choice([True, False])}

    @staticmethod
    def p_xdp(r):
        return {"prog": r.choice(["pass", "pass", "drop", "tx", "redirect", "none", "none"])}

    @staticmethod
    def p_link(r):
        return {"down_ms": r.choice([0, 100, 500, 2000])}

    @staticmethod
    def p_rss(r):
        return {"equal": r.choice([None, 1, 2, 3])}

    @staticmethod
    def p_stats(r):
        return {}

    @staticmethod
    def p_shaper_mana(r):
        op = r.choice(["set", "set", "delete"])
        mbps = r.choice([r.randrange(1, 1001) * 100, 150, 50, 200000])
        return {"op": op, "mbps": mbps} if op == "set" else {"op": op}

    @staticmethod
    def p_shaper_nsim(r):
        op = r.choice(["set-netdev", "set-queue", "delete", "group", "group", "delete-node"])
        p = {"op": op, "queue": r.randrange(0, 5), "mbit": r.choice([1, 10, 100, 1000, 40000])}
        if op == "group":
            p["leaves"] = sorted(r.sample(range(5), r.randrange(1, 4)))
        return p

    @staticmethod
    def p_shaper_bad(r):
        return {"count": r.randrange(3, 20), "seed": r.randrange(1 << 30)}

    @staticmethod
    def p_reload(r):
        return {}

    def p_fault_hwc(self, r):
        table = HWC_RUNTIME if r.random() < 0.85 else HWC_PROBE
        name = r.choice(sorted(table))
        drop = r.random() < 0.15 and self.n - self.last_drop >= DROP_GAP
        if drop:
            self.last_drop = self.n
        status = r.choice(HWC_STATUS)
        count = r.choice([1, 1, 1, 2, 3, 0])
        # a dropped request costs 30 s: one at a time
        return {"msg": name, "code": table[name], "drop": drop,
                "status": None if drop else status, "count": 1 if drop else count}

    @staticmethod
    def p_fault_rx_len(r):
        return {"n": r.choice([1, 3, 10, 50])}

    @staticmethod
    def p_fault_delay(r):
        return {"ms": r.choice([0, 1, 5, 20, 50])}

    @staticmethod
    def p_fault_alloc(r):
        # every interval-th allocation from mana.ko fails, times times at
        # most (-1: no limit), for the next steps steps: probability 100,
        # so that a replay fails the same allocations where the driver
        # makes them in the same order
        return {"kind": r.choice(["page", "slab"]),
                "interval": r.choice([1, 2, 3, 7, 20]),
                "times": r.choice([1, 3, 10, -1]),
                "steps": r.randrange(1, 4)}


def describe(kind, params):
    def show(k, v):
        return f"0x{v:x}" if k in ("code", "status") else str(v)
    return kind + "".join(f" {k}={show(k, v)}" for k, v in params.items() if v is not None)


# ------------------------------------------------------------------ #
# The kernel log, read as it grows (/dev/kmsg), scanned for splats.

class Kmsg:
    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        self.alloc_at = -100
        self.splat_at = -100
        self.n = 0

    def read(self):
        """New records since the last call: (level text, message)."""
        out = []
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                return out
            except BrokenPipeError:  # overwritten before read: go on
                continue
            head, _, msg = rec.decode(errors="replace").partition(";")
            out.append(msg.split("\n", 1)[0])

    def splats(self, lines):
        found = []
        for i, line in enumerate(lines):
            self.n += 1
            if ALLOC_REPORT.search(line):
                self.alloc_at = self.n
                continue
            m = SPLAT.search(line)
            if not m:
                continue
            if m.group(0).lower().startswith("call"):
                # an allocation failure's stack, or the stack of the splat
                # just reported
                if self.n - self.alloc_at <= 8 or self.n - self.splat_at <= 40:
                    continue
            self.splat_at = self.n
            found.append("; ".join(lines[i:i + 4])[:400])
        return found


# ------------------------------------------------------------------ #

class Transfer:
    """One TCP transfer through the port: rx (peer -> guest) or tx."""

    def __init__(self, soak, direction, size, port):
        src, self.data = soak.datafile(size)
        self.dir, self.port = direction, port
        self.got = f"/tmp/soak.got.{port}"
        self.started = now()
        self.step = soak.step
        self.step_window = soak.fault_window or soak.disruptive
        self.small_pmtu = soak.small_pmtu
        try:
            os.unlink(self.got)
        except FileNotFoundError:
            pass
        listen = ["socat", "-u", f"TCP-LISTEN:{port},reuseaddr", f"OPEN:{self.got},creat,trunc"]
        send = ["socat", "-u", f"OPEN:{src}",
                f"TCP:{soak.local if direction == 'rx' else soak.remote}:{port},retry=240,interval=0.5"]
        if direction == "rx":
            send = NETNS + send
        else:
            listen = NETNS + listen
        self.rx = subprocess.Popen(listen, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   start_new_session=True)
        time.sleep(0.3)
        self.tx = subprocess.Popen(send, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   start_new_session=True)

    def done(self):
        if self.tx.poll() not in (None, 0) and self.rx.poll() is None:
            time.sleep(1)  # a connection that broke: the listener ends on its own
            if self.rx.poll() is None:
                os.killpg(self.rx.pid, signal.SIGKILL)  # never connected
                self.rx.wait()
        return self.rx.poll() is not None and self.tx.poll() is not None

    def kill(self):
        for p in (self.rx, self.tx):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()

    def verdict(self):
        """(ok, bytes, why, connect_failed)"""
        txerr = self.tx.stderr.read().decode(errors="replace").strip() if self.tx.stderr else ""
        try:
            with open(self.got, "rb") as f:
                got = f.read()
        except OSError:
            got = b""
        finally:
            try:
                os.unlink(self.got)
            except OSError:
                pass
        if got == self.data:
            return True, len(got), "", False
        if not got and self.tx.returncode not in (0, None) and re.search(
                r"refused|unreachable|No route|timed out|Address family", txerr):
            return False, 0, f"never connected: {txerr.splitlines()[-1] if txerr else ''}", True
        if len(got) < len(self.data) and self.data.startswith(got):
            return False, 0, (f"lost: {len(got)} of {len(self.data)} bytes arrived"
                              f" (sender: {txerr[-200:] or 'exit ' + str(self.tx.returncode)})"), False
        off = next((i for i, (a, b) in enumerate(zip(got, self.data)) if a != b),
                   min(len(got), len(self.data)))
        return False, 0, (f"corrupted: {len(got)} bytes arrived of {len(self.data)},"
                          f" first difference at byte {off}"), False


class Soak:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        env = env_file()
        self.mac = env.get("NIC_MAC", "")
        self.local = env.get("LOCAL_V4", "192.0.2.1")
        self.remote = env.get("REMOTE_V4", "192.0.2.2")
        self.local6 = env.get("LOCAL_V6", "")
        self.netif = None
        self.step = 0
        self.desc = "boot"
        self.prev_desc = "boot"
        self.ops = {}
        self.errors = {}
        self.skipped = {}
        self.faults = {}
        self.fired = {}
        self.bytes = 0
        self.failures = []
        self.fault_window = False
        self.disruptive = False
        self.alloc_left = 0
        self.alloc_kind = None
        self.alloc_times = 0
        self.flood_left = 0
        self.transfers = []
        self.datafiles = {}
        self.port = 20000
        self.reloaded_in_window = False
        self.restore_failed = False
        self.small_pmtu = False
        self.port_gone = False
        self.hangs = 0
        self.last_out = None
        self.ref_rx_ring = None
        self.nsim = None
        self.nsim_id = None
        self.kmsg = Kmsg()
        self.host = hostctl
        self.hwc_armed = None
        self.window_faults = []
        self.refused_destroys = 0
        self.refused_regions = 0
        self.rxlen_armed = 0
        self.reference = None
        self.ref_channels = None
        self.elapsed = 0.0
        self.kmemleak_checked = None

    # -------------------------------------------------------------- #
    # bookkeeping

    def log(self, msg):
        print(msg, flush=True)

    def fail(self, why):
        if self.window_faults:
            why += f" [faults since the last checkpoint: {'; '.join(self.window_faults)}]"
        rec = {"seed": self.seed, "step": self.step, "op": self.desc,
               "before": self.prev_desc, "why": why}
        self.failures.append(rec)
        self.log(f"FAILURE seed={self.seed} step={self.step} ({self.desc}); "
                 f"step before: {self.prev_desc}: {why}")

    def expected(self, kind):
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def skip(self, why):
        """A step not done (never counted as passed)."""
        self.skipped[why] = self.skipped.get(why, 0) + 1
        self.log(f"  not done: {why}")

    def fault(self, kind):
        self.faults[kind] = self.faults.get(kind, 0) + 1
        self.fault_window = True
        self.window_faults.append(self.desc)

    def check_log(self):
        lines = self.kmsg.read()
        # a WQ object whose destruction the device refused (an injected
        # fault) stays in the device: the checks after the schedule allow it
        if any("DESTROY_WQ_OBJ" in f for f in self.window_faults):
            self.refused_destroys += sum("Failed to destroy WQ object" in ln for ln in lines)
        if any("DESTROY_DMA_REGION" in f for f in self.window_faults):
            self.refused_regions += sum("Failed to destroy DMA region" in ln for ln in lines)
        # a reconfiguration and the restore of the old one both refused:
        # the driver leaves the port down until it is opened again (and
        # says so), which the user then does
        self.restore_failed |= any(RESTORE_FAILED in ln for ln in lines)
        for s in self.kmsg.splats(lines):
            self.fail(f"kernel log: {s}")

    # -------------------------------------------------------------- #
    # commands

    def run(self, cmd, timeout=120, ok_errors=(), judge=True):
        """Run CMD; judge its error (unless JUDGE is false: a recovery
        after a failure already reported). True when it succeeded."""
        r = call(cmd, timeout)
        self.last_out = r[1] if r else None
        if r is None:
            self.hangs += 1
            self.fail(f"hung: '{' '.join(cmd)}' did not finish in {timeout * SLOW} s")
            return False
        self.hangs = 0
        rc, out = r
        if rc == 0:
            return True
        self.log(f"  {os.path.basename(cmd[1] if cmd[0] == 'python3' else cmd[0])}: "
                 f"{oneline(out)[:160]}")
        if judge:
            self.judge(" ".join(cmd), out, ok_errors)
        return False

    def judge(self, what, out, ok_errors=()):
        name = errname(out)
        if name in REFUSALS or name in ok_errors:
            self.expected(f"refused ({name})" + (" in the fault window" if self.fault_window else ""))
        elif name in FAULTY and self.fault_window:
            self.expected(f"under fault ({name})")
        else:
            why = name or "no errno in its output"
            self.fail(f"unexpected error ({why}): '{what}': {oneline(out)}")

    def hostset(self, prop, value, then=None):
        try:
            self.host.qom_set(prop, value, then=then)
            return True
        except self.host.HostError as e:
            self.fail(f"host channel: qom-set {prop} {value}: {e}")
            return False

    def hostget(self, prop):
        try:
            return self.host.qom_get(prop)
        except self.host.HostError as e:
            self.fail(f"host channel: qom-get {prop}: {e}")
            return None

    # -------------------------------------------------------------- #
    # the port

    def find_port(self, wait=0.0):
        deadline = now() + wait
        while True:
            for d in glob.glob("/sys/class/net/*"):
                try:
                    with open(d + "/address", encoding="ascii") as f:
                        if f.read().strip() == self.mac:
                            self.netif = os.path.basename(d)
                            return self.netif
                except OSError:
                    pass
            if now() >= deadline:
                self.netif = None
                return None
            time.sleep(0.2)

    def setup_port(self):
        """After a module load: address the port and bring it up."""
        if not self.find_port(wait=30):
            return False
        call(["ip", "addr", "add", f"{self.local}/24", "dev", self.netif], 60)
        if self.local6:
            call(["ip", "addr", "add", f"{self.local6}/64", "dev", self.netif, "nodad"], 60)
        return self.run(["ip", "link", "set", self.netif, "up"])

    def sysfs(self, name):
        try:
            with open(f"/sys/class/net/{self.netif}/{name}", encoding="ascii") as f:
                return f.read().strip()
        except (OSError, TypeError):
            return None

    def reaches(self, seconds):
        deadline = now() + seconds
        while now() < deadline:
            r = call(["ping", "-c", "1", "-W", "1", "-q", self.remote], 10)
            if r and r[0] == 0:
                return True
            time.sleep(0.5)
        return False

    def driver(self):
        if not self.netif:
            return None
        r = call(["ethtool", "-i", self.netif], 60)
        m = re.search(r"^driver: (\S+)", r[1], re.M) if r else None
        return m.group(1) if m else None

    # -------------------------------------------------------------- #
    # operations

    # A flood lasts its steps, and at most this many host seconds per step:
    # the host stops it then (scripts/hostagent.py), because a guest whose
    # CPUs the flood takes (a debug kernel under TCG: minutes per step) may
    # not get to stop it itself. A normal kernel's steps take a second or two.
    FLOOD_HOST_S = 15

    def op_flood(self, p):
        ip = int.from_bytes(socket.inet_aton(self.local), "big")
        ok = (self.hostset("rxgen", False) and self.hostset("rxgen-size", p["size"]) and
              self.hostset("rxgen-flows", p["flows"]) and self.hostset("rxgen-dst-ip", ip) and
              self.hostset("rxgen", True, then=(self.FLOOD_HOST_S * p["steps"], False)))
        if ok:
            self.flood_left = p["steps"] + 1

    def flood_off(self):
        self.flood_left = 0
        self.hostset("rxgen", False)

    def datafile(self, size):
        if size not in self.datafiles:
            path = f"/tmp/soak.data.{size}"
            data = random.Random(self.seed * 1000003 + size).randbytes(size)
            with open(path, "wb") as f:
                f.write(data)
            self.datafiles[size] = (path, data)
        return self.datafiles[size]

    def op_tcp(self, p):
        self.reap(0)
        if len(self.transfers) >= 2:
            self.skip("TCP transfer: two are running")
            return
        self.port += 1
        self.transfers.append(Transfer(self, p["dir"], p["bytes"], self.port))

    def reap(self, wait):
        """Judge the transfers that ended; with WAIT > 0, wait for them all."""
        deadline = now() + wait
        while True:
            for t in list(self.transfers):
                if t.done():
                    self.transfers.remove(t)
                    self.judge_transfer(t)
            if not self.transfers or now() >= deadline:
                break
            time.sleep(0.5)
        if wait:
            for t in self.transfers:
                t.kill()
                ok, n, why, _ = t.verdict()
                if ok:
                    self.bytes += n
                    continue
                self.fail(f"TCP {t.dir} transfer of {len(t.data)} bytes started at step "
                          f"{t.step} not done {wait} s after the faults were cleared: {why}")
                self.diagnose()
            self.transfers = []

    def judge_transfer(self, t):
        ok, n, why, never = t.verdict()
        if ok:
            self.bytes += n
        elif never and (t.step_window or self.fault_window or self.disruptive):
            self.expected("TCP transfer never connected")
        else:
            self.fail(f"TCP {t.dir} transfer started at step {t.step}: {why}")

    # A change that sizes the RX buffers may be refused for want of memory
    # (a 2 GiB guest; 8192 full 64 KiB pages per queue are 512 MiB): that
    # is a refusal, and the checkpoint sees whether the port still works.
    SIZING = ("ENOMEM",)

    def op_mtu(self, p):
        self.disruptive |= p["mtu"] < 1500
        if self.run(["ip", "link", "set", self.netif, "mtu", str(p["mtu"])],
                    ok_errors=self.SIZING) and p["mtu"] < 576:
            # the stack locks a path MTU this small toward the peer (see
            # checkpoint()): a transfer running now or started before the
            # next checkpoint crawls in tiny segments, by design
            self.small_pmtu = True
            for t in self.transfers:
                t.small_pmtu = True

    def op_ring(self, p):
        cmd = ["ethtool", "-G", self.netif, "rx", str(p["rx"])]
        if p["tx"]:
            cmd += ["tx", str(p["tx"])]
        self.run(cmd, ok_errors=self.SIZING)

    def op_channels(self, p):
        self.run(["ethtool", "-L", self.netif, "combined", str(p["combined"])],
                 ok_errors=self.SIZING)

    def op_full_page_rx(self, p):
        self.run(["ethtool", "--set-priv-flags", self.netif, "full-page-rx",
                  "on" if p["on"] else "off"], ok_errors=self.SIZING)

    def op_xdp(self, p):
        self.disruptive |= p["prog"] not in ("pass", "none")
        if p["prog"] == "none":
            self.run(["python3", XDPCTL, "detach", self.netif], ok_errors=self.SIZING)
        else:
            self.run(["python3", XDPCTL, "attach", self.netif, p["prog"]],
                     ok_errors=self.SIZING)

    def op_link(self, p):
        self.disruptive = True
        if self.run(["ip", "link", "set", self.netif, "down"]):
            time.sleep(p["down_ms"] / 1000)
        self.run(["ip", "link", "set", self.netif, "up"])

    def op_rss(self, p):
        how = ["default"] if p["equal"] is None else ["equal", str(p["equal"])]
        self.run(["ethtool", "-X", self.netif] + how)

    def op_stats(self, p):
        self.run(["ethtool", "-S", self.netif])

    def op_shaper_mana(self, p):
        if p["op"] == "set":
            self.run(["netshaper", "set", "dev", self.netif, "handle", "scope", "netdev",
                      "bw-max", f"{p['mbps']}mbit"])
        else:
            self.run(["netshaper", "delete", "dev", self.netif, "handle", "scope", "netdev"])

    def op_shaper_nsim(self, p):
        if not self.nsim:
            self.skip("netdevsim shaper: no netdevsim port")
            return
        d, q = self.nsim, str(p["queue"])
        rate = f"{p['mbit']}mbit"
        op = p["op"]
        if op == "set-netdev":
            cmd = ["set", "dev", d, "handle", "scope", "netdev", "bw-max", rate]
        elif op == "set-queue":
            cmd = ["set", "dev", d, "handle", "scope", "queue", "id", q, "bw-max", rate]
        elif op == "delete":
            cmd = ["delete", "dev", d, "handle", "scope", "queue", "id", q]
        elif op == "delete-node":
            cmd = ["delete", "dev", d, "handle", "scope", "node", "id", q]
        else:
            cmd = ["group", "dev", d, "handle", "scope", "node", "parent", "scope", "netdev",
                   "bw-max", rate, "leaves"]
            for leaf in p["leaves"]:
                cmd += ["scope", "queue", "id", str(leaf), "weight", "1"]
        self.run(["netshaper"] + cmd)

    def op_shaper_bad(self, p):
        devs = [self.sysfs("ifindex")]
        if self.nsim:
            with open(f"/sys/class/net/{self.nsim}/ifindex", encoding="ascii") as f:
                devs.append(f.read().strip())
        devs = [d for d in devs if d]
        if not devs:
            self.skip("malformed net-shaper requests: no device")
            return
        cmd = ["python3", SHAPER_BAD, str(p["seed"]), str(p["count"])] + devs
        r = call(cmd, 60, split=True)
        if r is None:
            self.fail(f"hung: malformed net-shaper requests (seed {p['seed']}) not answered in 60 s")
            return
        rc, (out, err) = r
        n = 0
        for line in out.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            n += 1
            if rec["errno"] == "timeout":
                self.fail(f"malformed net-shaper request {rec['case']} at ifindex "
                          f"{rec['ifindex']}: no answer in 10 s")
            elif rec["errno"] == 0 and rec["must_fail"]:
                self.fail(f"malformed net-shaper request {rec['case']} at ifindex "
                          f"{rec['ifindex']} was accepted")
            elif rec["errno"]:
                self.expected("malformed net-shaper request refused")
        if rc or n != p["count"]:
            self.fail(f"shaper_bad.py (seed {p['seed']}) sent {n} of {p['count']}: "
                      f"{oneline(err)}")

    def op_reload(self, p):
        self.disruptive = True
        if self.fault_window:
            self.reloaded_in_window = True
        self.run(["modprobe", "-r", "mana"], timeout=240)
        self.refused_destroys = self.refused_regions = 0  # DESTROY_HWC dropped what the device held
        if not self.run(["modprobe", "mana"], timeout=240):
            return
        self.port_gone = False
        if not self.setup_port():
            self.port_gone = True
            if self.fault_window:
                self.expected("no port after a module load under a fault")
            else:
                self.fail("no port after modprobe mana (no fault injected)")

    # faults

    def hwc_consumed(self):
        """Count the armed HWC fault as fired when its code has cleared itself."""
        if self.hwc_armed:
            code = self.hostget("fault-hwc-code")
            if code == 0:
                self.fired[self.hwc_armed] = self.fired.get(self.hwc_armed, 0) + 1
            self.hwc_armed = None
        if self.rxlen_armed:
            left = self.hostget("fault-rx-len-excess")
            if isinstance(left, int):
                n = self.rxlen_armed - left
                self.fired["rx completion too long"] = \
                    self.fired.get("rx completion too long", 0) + n
            self.rxlen_armed = 0

    def op_fault_hwc(self, p):
        self.hwc_consumed()
        self.hostset("fault-hwc-code", 0)
        ok = self.hostset("fault-hwc-count", p["count"])
        if p["drop"]:
            ok = ok and self.hostset("fault-hwc-drop", True)
        else:
            ok = ok and self.hostset("fault-hwc-drop", False) and \
                self.hostset("fault-hwc-status", p["status"])
        if ok and self.hostset("fault-hwc-code", p["code"]):
            kind = f"hwc {'drop' if p['drop'] else 'refused'} {p['msg']}"
            self.fault(kind)
            # a count of 0 faults until cleared: it never clears itself
            self.hwc_armed = kind if p["count"] else None

    def op_fault_rx_len(self, p):
        self.hwc_consumed()
        if self.hostset("fault-rx-len-excess", p["n"]):
            self.fault("rx completion too long")
            self.rxlen_armed = p["n"]

    def op_fault_delay(self, p):
        if self.hostset("fault-delay-ms", p["ms"]) and p["ms"]:
            self.fault("delay")

    def op_fault_alloc(self, p):
        d = FI_PAGE if p["kind"] == "page" else FI_SLAB
        if not os.path.isfile(d + "/require-start"):
            self.skip(f"{p['kind']} allocation fault: no {d} with a stack trace filter")
            return
        self.alloc_off()
        mod = module_range("mana")
        if not mod:
            self.skip(f"{p['kind']} allocation fault: mana is not loaded")
            return
        base, end = mod
        vals = [("require-start", str(base)), ("require-end", str(end)),
                ("stacktrace-depth", "32"), ("ignore-gfp-wait", "0"), ("verbose", "0"),
                ("space", "0"), ("interval", str(p["interval"])), ("times", str(p["times"])),
                ("probability", "100")]
        if p["kind"] == "page":
            vals[4:4] = [("ignore-gfp-highmem", "0"), ("min-order", "0")]
        try:
            for k, v in vals:
                with open(f"{d}/{k}", "w", encoding="ascii") as f:
                    f.write(v + "\n")
        except OSError as e:
            self.fail(f"cannot set up {d}: {k}: {e}")
            return
        self.alloc_kind, self.alloc_left, self.alloc_times = d, p["steps"] + 1, p["times"]
        self.fault(f"{p['kind']} allocation")

    def alloc_off(self):
        if not self.alloc_kind:
            return
        d = self.alloc_kind
        with open(f"{d}/probability", "w", encoding="ascii") as f:
            f.write("0\n")
        try:
            with open(f"{d}/times", encoding="ascii") as f:
                left = int(f.read())
        except (OSError, ValueError):
            left = self.alloc_times
        if self.alloc_times > 0:
            n = self.alloc_times - left
            if n:
                self.fired[f"{os.path.basename(d)} failures"] = \
                    self.fired.get(f"{os.path.basename(d)} failures", 0) + n
        self.alloc_kind = None
        self.alloc_left = 0

    def faults_off(self):
        self.alloc_off()
        self.hwc_consumed()
        for prop, v in (("fault-hwc-code", 0), ("fault-hwc-drop", False),
                        ("fault-hwc-status", 5), ("fault-hwc-count", 1),
                        ("fault-rx-len-excess", 0), ("fault-delay-ms", 0)):
            self.hostset(prop, v)

    # -------------------------------------------------------------- #
    # the checkpoint: faults and floods cleared, the port must work

    def checkpoint(self, p, settle):
        self.check_log()  # what the faults caused, while they are listed
        self.faults_off()
        self.flood_off()
        # from here on an error is not a fault's: the faults are cleared
        self.fault_window = False
        if not self.find_port(wait=60):
            if self.reloaded_in_window:
                self.expected("port recovered by a reload after a faulted probe")
                self.log("  no port (a module load failed under a fault): rmmod/modprobe")
                self.run(["modprobe", "-r", "mana"], timeout=240)
                self.refused_destroys = self.refused_regions = 0  # DESTROY_HWC dropped what the device held
                self.run(["modprobe", "mana"], timeout=240)
                self.setup_port()
            if not self.netif:
                self.fail("no port once the faults were cleared")
                self.recover()
        self.reloaded_in_window = False
        self.port_gone = False
        # what a user undoes before judging the port: a program that drops
        # or reflects by design, an MTU below the peer's frames, a port left
        # down by a refused "up"
        if self.netif:
            if "prog/xdp" in (call(["ip", "-d", "link", "show", self.netif], 60) or (0, ""))[1]:
                self.detach_xdp()
            mtu = self.sysfs("mtu")
            if mtu and int(mtu) < 1500:
                self.run(["ip", "link", "set", self.netif, "mtu", "1500"])
            # an MTU below 576 makes the stack lock a path MTU of that size
            # toward the peer for 10 minutes (a route exception: "mtu lock
            # 68"), which a later MTU increase keeps: every later transfer
            # would crawl in 28-byte segments (finding C of the soak)
            self.run(["ip", "route", "flush", "cache"])
            self.run(["ip", "-6", "route", "flush", "cache"])
            self.small_pmtu = False
            flags = (call(["ip", "link", "show", self.netif], 60) or (0, ""))[1].split(">")[0]
            if "UP" not in flags.split("<")[-1].split(","):
                self.run(["ip", "link", "set", self.netif, "up"])
            elif self.restore_failed:
                self.expected("port left down by a refused restore: opened again")
                self.log("  the driver left the port down (old configuration refused too): "
                         "ip link set down/up")
                self.run(["ip", "link", "set", self.netif, "down"])
                self.run(["ip", "link", "set", self.netif, "up"])
        self.restore_failed = False
        if self.netif and not self.reaches(settle):
            self.fail(f"no traffic {settle} s after the faults were cleared")
            self.diagnose()
            self.recover()
        self.disruptive = False
        self.window_faults = []
        # a transfer that ran under a path MTU below 576 would take minutes:
        # judge what it delivered so far (intact or not) and stop it
        for t in [t for t in self.transfers if t.small_pmtu]:
            self.transfers.remove(t)
            if t.done():
                self.judge_transfer(t)
                continue
            t.kill()
            ok, n, why, _ = t.verdict()
            if ok:
                self.bytes += n
            elif why.startswith("lost:"):
                self.expected("TCP transfer under a path MTU below 576 cut short")
            else:
                self.fail(f"TCP {t.dir} transfer started at step {t.step}: {why}")
        self.reap(max(180 * SLOW, settle))
        if self.netif:
            self.op_tcp({"dir": p["probe"], "bytes": 256 << 10})
            self.reap(max(180 * SLOW, settle))

    def detach_xdp(self):
        """At a checkpoint. A detach re-creates every RX queue, the new ones
        allocated while the old ones still hold theirs: a 2 GiB guest may
        not hold both (a ring of 4096 full 64 KiB pages per queue is 256
        MiB). Refused for want of memory, it is done again, as a user
        would, after the RX ring is set back to its size at the start;
        refused again, it is a failure."""
        cmd = ["python3", XDPCTL, "detach", self.netif]
        if self.run(cmd, judge=False) or self.last_out is None:
            return
        if errname(self.last_out) not in self.SIZING or not self.ref_rx_ring:
            self.judge(" ".join(cmd), self.last_out)
            return
        self.expected("XDP detach refused for want of memory: RX ring set back, detached again")
        self.log(f"  RX ring back to {self.ref_rx_ring}, then the detach again")
        self.run(["ethtool", "-G", self.netif, "rx", str(self.ref_rx_ring)], ok_errors=self.SIZING)
        self.run(cmd)

    def diagnose(self):
        """What the port and the device say, for a failure's record."""
        text = self.hostget("stats")
        if isinstance(text, str):
            for line in text.splitlines():
                if line.split(":")[0].split()[0] in ("hwc", "link", "sq", "rq", "tx", "rx", "vport"):
                    self.log(f"  device: {line}")
        if self.netif:
            r = call(["ethtool", "-S", self.netif], 60)
            if r and r[0] == 0:
                keep = [ln.strip() for ln in r[1].splitlines()
                        if re.search(r"(tx|rx)_\d+_(packets|stop|wake|xdp)|err|drop|stop|wake|timeout",
                                     ln) and not ln.strip().endswith(": 0")]
                self.log("  ethtool -S (non-zero): " + ", ".join(keep)[:1500])
            for cmd in (["ip", "-d", "-s", "link", "show", self.netif],
                        ["netshaper", "show", "dev", self.netif, "handle", "scope", "netdev"]):
                r = call(cmd, 60)
                self.log(f"  {' '.join(cmd[:2])}: {oneline(r[1]) if r else 'hung'}")
        r = call(["ip", "route", "get", self.remote], 60)
        if r:
            self.log(f"  ip route get {self.remote}: {oneline(r[1])}")
        if self.netif:
            # a TX queue left stopped keeps its packets in the qdisc
            r = call(["tc", "-s", "qdisc", "show", "dev", self.netif], 60)
            if r:
                self.log(f"  tc -s qdisc: {oneline(r[1])[:800]}")
        # where a stalled transfer's segments went, on both ends: the TCP
        # sockets (retransmissions, window) and the stack's drop counters
        for side, pre in (("guest", []), ("peer", NETNS)):
            r = call(pre + ["ss", "-tni"], 60)
            if r:
                self.log(f"  {side} ss -tni: {oneline(r[1])[:1200]}")
            r = call(pre + ["nstat", "-asz"], 60)
            if r:
                keep = [" ".join(ln.split()[:2]) for ln in r[1].splitlines()
                        if re.search(r"Csum|InErrors|Discard|Drop|Retrans|Trunc|HdrErr|AddrErr|"
                                     r"Loss|Prune|Ofo|Backlog|Abort|Timeouts|PMTU", ln) and
                        len(ln.split()) > 1 and ln.split()[1] != "0"]
                self.log(f"  {side} nstat: {', '.join(keep)[:1200]}")

    def recover(self):
        """Get a working port back so that the soak goes on (already failed)."""
        for how in (["link"], ["reload"]):
            if how == ["link"] and self.netif:
                self.run(["ip", "link", "set", self.netif, "down"], judge=False)
                self.run(["ip", "link", "set", self.netif, "up"], judge=False)
            elif how == ["reload"]:
                self.run(["modprobe", "-r", "mana"], timeout=240, judge=False)
                self.refused_destroys = self.refused_regions = 0  # DESTROY_HWC dropped what the device held
                self.run(["modprobe", "mana"], timeout=240, judge=False)
                self.setup_port()
            if self.netif and self.reaches(30):
                self.log(f"  recovered by {how[0]}")
                return True
        self.log("  the port could not be recovered")
        return False

    # -------------------------------------------------------------- #

    def start(self):
        self.log(f"soak: seed={self.seed} minutes={self.args.minutes} config={self.args.config}")
        self.log(f"soak: replay with SEED={self.seed} (the schedule depends on the seed only)")
        self.log(f"soak: kernel {os.uname().release}, {os.sysconf('SC_PAGE_SIZE')}-byte pages")
        boot = self.kmsg.splats(self.kmsg.read())
        for s in boot:
            self.fail(f"kernel log before the schedule: {s}")
        if not self.find_port(wait=10) or self.driver() != "mana":
            self.fail(f"no MANA port with MAC {self.mac} (found {self.netif}, "
                      f"driver {self.driver()})")
            return False
        if os.path.exists(KMEMLEAK):
            kmemleak("scan")
            report = read(KMEMLEAK)
            n = report.count("unreferenced object")
            if re.search(r"\[mana\]|mana_", report):
                self.fail(f"kmemleak before the schedule: {n} unreferenced objects, "
                          f"some from mana: {oneline(report)[:300]}")
            elif n:
                self.log(f"soak: kmemleak: {n} unreferenced objects from boot, none from "
                         "mana (cleared: not this run's)")
            kmemleak("clear")
        # a task blocked longer than a command may take is a hang: the
        # hung-task detector (a debug kernel) logs it, which is a failure
        hung = "/proc/sys/kernel/hung_task_timeout_secs"
        if os.path.exists(hung):
            if not self.hung_task_selfcheck():
                return False
            with open(hung, "w", encoding="ascii") as f:
                f.write(str(120 * SLOW))
            self.log(f"soak: a task blocked {120 * SLOW} s in the kernel is logged (hung-task detector)")
        # A CPU without an RCU quiescent state for the stall timeout is a
        # failure ("self-detected stall"). A slow kernel gets the margin
        # every other limit gets: the kernel bounds a softirq run by time
        # between NAPI polls, and under TCG one poll of a debug kernel takes
        # 0.1-0.4 s (microseconds on hardware); page_pool's refill maps 64
        # pages, each running the pending NET_RX softirq where it re-enables
        # BH, so under a 128-byte flood one refill in process context took
        # 7.5-22.4 s (finding H, README; tests/soak/refill-softirq.py
        # measures it): past the 3 s minimum, near the 21 s default
        stall = "/sys/module/rcupdate/parameters/rcu_cpu_stall_timeout"
        if SLOW > 1 and os.path.exists(stall):
            with open(stall, encoding="ascii") as f:
                base = int(f.read())
            with open(stall, "w", encoding="ascii") as f:
                f.write(str(min(300, base * SLOW)))  # (300 s: the kernel's maximum)
            self.log(f"soak: an RCU CPU stall of {min(300, base * SLOW)} s is reported "
                     f"({base} s x --slow {SLOW})")
        self.faults_off()
        self.flood_off()
        self.nsim_start()
        if not self.reaches(30):
            self.fail("the port does not pass traffic before the schedule")
            return False
        self.reference = self.device_objects()
        self.ref_channels = channels(self.netif)
        self.ref_rx_ring = rx_ring(self.netif)
        self.log(f"soak: port {self.netif}; the emulator holds {fmt(self.reference)}")
        return True

    HUNG_SELFCHECK_S = 10

    def hung_task_selfcheck(self):
        """The hung-task detector must be seen to fire before the schedule
        counts on it: with its limit at 10 s, the model drops the answer to
        one QUERY_GF_STAT, which `ethtool -S` sends; the driver waits for it
        uninterruptibly for its HWC timeout (30 s), and the detector must
        report that task. Its report is this check's, not a failure."""
        hung, warn = "/proc/sys/kernel/hung_task_timeout_secs", "/proc/sys/kernel/hung_task_warnings"
        old_warn = read(warn).strip()
        self.kmsg.splats(self.kmsg.read())  # (checked before: not this check's)
        try:
            for path, v in ((warn, "-1"), (hung, str(self.HUNG_SELFCHECK_S))):
                with open(path, "w", encoding="ascii") as f:
                    f.write(v)
        except OSError as e:
            self.fail(f"self-check: cannot set {path}: {e}")
            return False
        ok = (self.hostset("fault-hwc-code", 0) and self.hostset("fault-hwc-count", 1) and
              self.hostset("fault-hwc-drop", True) and
              self.hostset("fault-hwc-code", HWC_RUNTIME["QUERY_GF_STAT"]))
        t0 = time.monotonic()
        if ok:
            call(["ethtool", "-S", self.netif], 300)
        took = time.monotonic() - t0
        lines = self.kmsg.read()
        self.hostset("fault-hwc-code", 0)
        with open(warn, "w", encoding="ascii") as f:
            f.write(old_warn)
        if not ok:
            return False
        fired = [ln for ln in lines if "blocked for more than" in ln]
        for s in self.kmsg.splats(lines):
            if "blocked for more than" not in s:
                self.fail(f"kernel log during the hung-task self-check: {s}")
        if not fired:
            self.fail(f"self-check: the hung-task detector (limit {self.HUNG_SELFCHECK_S} s) "
                      f"did not report ethtool -S waiting {took:.0f} s for a dropped HWC answer")
            return False
        self.log(f"soak: self-check: the hung-task detector fired ({oneline(fired[0])[:120]}; "
                 f"ethtool -S waited {took:.0f} s for a dropped HWC answer)")
        return True

    def nsim_start(self):
        call(["modprobe", "netdevsim"], 120)
        used = {int(re.sub(r"\D", "", os.path.basename(d)) or 0)
                for d in glob.glob("/sys/bus/netdevsim/devices/netdevsim*")}
        self.nsim_id = max(used | {4800}) + 1
        try:
            with open("/sys/bus/netdevsim/new_device", "w", encoding="ascii") as f:
                f.write(f"{self.nsim_id} 1 4\n")
        except OSError as e:
            self.log(f"soak: no netdevsim device ({e}): its shaper steps are skipped")
            return
        for _ in range(50):
            n = glob.glob(f"/sys/bus/netdevsim/devices/netdevsim{self.nsim_id}/net/*")
            if n:
                self.nsim = os.path.basename(n[0])
                call(["ip", "link", "set", self.nsim, "up"], 60)
                return
            time.sleep(0.1)

    def device_objects(self):
        """What the emulator holds, from its "stats" (emu/README.md): the
        HWC's state, its EQs (the HWC's included), the SQs and RQs that are
        not the HWC's, the CQs that are not the HWC's and the DMA regions."""
        text = self.hostget("stats")
        if not isinstance(text, str):
            return None
        objs = {"hwc": "?", "eq": 0, "sq": 0, "rq": 0, "cq": None, "regions": None}
        for line in text.splitlines():
            head, _, rest = line.partition(":")
            t = head.split()
            if t == ["hwc"]:
                objs["hwc"] = (rest.split() or ["?"])[0]
            elif t == ["objects"]:
                # "objects: cq N regions N"
                v = rest.split()
                objs.update({k: int(n) for k, n in zip(v[::2], v[1::2]) if n.isdigit()})
            elif t and t[0] in ("eq", "sq", "rq") and "(hwc)" not in t:
                objs[t[0]] += 1
        return objs

    def schedule(self):
        start = now()
        sched = Schedule(self.seed)
        settle = self.args.settle
        for kind, params in sched:
            if self.args.steps and sched.n > self.args.steps:
                break
            if now() - start >= self.args.minutes * 60:
                break
            if self.hangs >= 3:
                self.log("soak: three commands in a row hung: the schedule stops here")
                break
            self.prev_desc, self.desc = self.desc, f"step {sched.n}: {describe(kind, params)}"
            self.step = sched.n
            self.log(f"step {sched.n} [{now() - start:.1f}s, uptime {uptime():.1f}] "
                     f"{describe(kind, params)}")
            self.ops[kind] = self.ops.get(kind, 0) + 1
            if kind == "checkpoint":
                self.checkpoint(params, settle)
            elif kind in ("reload", "shaper_nsim") or kind.startswith("fault_") or \
                    self.find_port(wait=5 if self.port_gone or not self.fault_window else 60):
                getattr(self, "op_" + kind)(params)
            elif self.fault_window:
                # gone under a fault (a failed probe; 7.x resets the HWC
                # after a timeout): the checkpoint judges whether it comes back
                self.port_gone = True
                self.skip("no port (gone under a fault)")
            else:
                self.fail("the port is gone (no fault injected)")
                self.recover()
            self.reap(0)
            if self.flood_left:
                self.flood_left -= 1
                if not self.flood_left:
                    self.flood_off()
            if self.alloc_left:
                self.alloc_left -= 1
                if not self.alloc_left:
                    self.alloc_off()
            self.check_log()
        self.elapsed = now() - start

    # -------------------------------------------------------------- #
    # after the schedule

    def finish(self):
        self.prev_desc, self.desc = self.desc, "after the schedule"
        self.step += 1
        self.log("soak: the schedule is over: faults cleared, final checks")
        self.checkpoint({"probe": "rx"}, self.args.settle)
        if self.netif:
            self.op_tcp({"dir": "tx", "bytes": 1 << 20})
            self.reap(180)
        self.check_log()
        self.check_device_objects()
        self.check_page_pools()
        self.check_kmemleak()
        self.check_log()

    def check_device_objects(self):
        """With the port as it was at the start (channels, up), the emulator
        holds the same queues; with the port down, no SQ or RQ of it."""
        if not self.netif or not self.reference:
            return
        ch = self.ref_channels
        if ch and channels(self.netif) != ch:
            self.run(["ethtool", "-L", self.netif, "combined", str(ch)])
        self.run(["ip", "link", "set", self.netif, "up"])
        time.sleep(1)
        now_up = self.device_objects()
        ref = self.reference
        refused = self.refused_destroys
        self.log(f"soak: the emulator holds {fmt(now_up)} (at the start: {fmt(ref)}; "
                 f"WQ objects whose destruction the device refused under a fault: {refused})")
        if now_up:
            extra = now_up["sq"] + now_up["rq"] - ref["sq"] - ref["rq"]
            if now_up["eq"] != ref["eq"] or now_up["hwc"] != ref["hwc"] or \
                    extra < 0 or extra > refused:
                self.fail(f"the emulator holds {fmt(now_up)} with the port as at the start, "
                          f"{fmt(ref)} then ({refused} destructions refused under a fault)")
            elif extra:
                self.expected("WQ object left in the device: its destruction was refused")
            # a WQ object is the queue and its CQ: a refused destruction
            # leaves both; a queue's DMA region goes on its own request
            if now_up["cq"] is None or ref["cq"] is None:
                pass  # a QEMU whose stats do not count them (reported)
            elif not 0 <= now_up["cq"] - ref["cq"] <= refused:
                self.fail(f"the emulator holds {now_up['cq']} CQs with the port as at the start, "
                          f"{ref['cq']} then ({refused} WQ destructions refused under a fault)")
            elif not 0 <= now_up["regions"] - ref["regions"] <= self.refused_regions:
                self.fail(f"the emulator holds {now_up['regions']} DMA regions with the port as at "
                          f"the start, {ref['regions']} then ({self.refused_regions} region "
                          f"destructions refused under a fault)")
        self.run(["ip", "link", "set", self.netif, "down"])
        time.sleep(1)
        down = self.device_objects()
        self.log(f"soak: port down: the emulator holds {fmt(down)}")
        if down and down["sq"] + down["rq"] > refused:
            self.fail(f"port down, the emulator still holds {down['sq']} SQs and "
                      f"{down['rq']} RQs of it ({refused} destructions refused under a fault)")
        if down and (down["cq"] or 0) > refused:
            self.fail(f"port down, the emulator still holds {down['cq']} CQs of it "
                      f"({refused} destructions refused under a fault)")
        self.run(["ip", "link", "set", self.netif, "up"])
        self.reaches(self.args.settle)

    def check_page_pools(self):
        """rmmod mana: every page_pool of the port gone, nothing in flight."""
        ifindex = self.sysfs("ifindex")
        pools = ynl_pools()
        if pools is None:
            self.log("soak: page_pool check: no netdev netlink (ynl) in the guest: "
                     "only the kernel log's 'stalled pool shutdown' is checked")
            mine = None
        else:
            mine = {p["id"] for p in pools if str(p.get("ifindex")) == ifindex}
            self.log(f"soak: page pools of the port before rmmod: {sorted(mine)}")
            if not mine:
                self.fail(f"no page pool reports the port (ifindex {ifindex})")
        self.run(["modprobe", "-r", "mana"], timeout=240)
        objs = self.device_objects()
        self.log(f"soak: after rmmod the emulator holds {fmt(objs)}")
        if objs and (objs["eq"] or objs["sq"] or objs["rq"] or objs["hwc"] != "down"):
            self.fail(f"after rmmod mana the emulator holds {fmt(objs)}")
        if mine is not None:
            # the port's pools must go; so must any pool destroyed with pages
            # still out (one of an earlier instance of the port, which a
            # reload orphaned, is listed without the port's ifindex)
            left = None
            for _ in range(20):
                time.sleep(1)
                pools = ynl_pools() or []
                left = [p for p in pools if p["id"] in mine or
                        ("detach-time" in p and p.get("inflight", 0))]
                if not left:
                    break
            if left:
                self.fail("page pools with pages in flight after rmmod: " +
                          ", ".join(f"id {p['id']} ifindex {p.get('ifindex', '-')} "
                                    f"inflight {p.get('inflight')} ({p.get('inflight-mem')} B)"
                                    for p in left))
            else:
                self.log("soak: no page pool of the port left after rmmod, none in flight")
        self.run(["modprobe", "mana"], timeout=240)
        if not self.setup_port() or not self.reaches(self.args.settle):
            self.fail("no traffic after the final module load")

    def check_kmemleak(self):
        if not os.path.exists(KMEMLEAK):
            self.kmemleak_checked = "not in this kernel"
            self.log("soak: kmemleak: not in this kernel (not checked)")
            return
        why = kmemleak("scan")
        time.sleep(2)
        why = why or kmemleak("scan")
        if why:
            self.kmemleak_checked = f"its scan failed ({why}): it turned itself off?"
            self.log(f"soak: kmemleak: {self.kmemleak_checked} (not checked)")
            return
        self.kmemleak_checked = True
        report = read(KMEMLEAK)
        objs = report.count("unreferenced object")
        self.log(f"soak: kmemleak: {objs} unreferenced objects")
        if objs:
            first = "; ".join(line.strip() for line in report.splitlines()[:14])
            self.fail(f"kmemleak: {objs} unreferenced objects; the first: {first[:600]}")

    # -------------------------------------------------------------- #

    def report(self):
        ops = sum(self.ops.values())
        nfaults = sum(self.faults.values())
        print()
        print(f"== soak report: seed {self.seed}, {self.step} steps, "
              f"{self.elapsed / 60:.1f} min of schedule ==")
        rows = [("operations", k, v) for k, v in sorted(self.ops.items())]
        rows += [("faults injected", k, v) for k, v in sorted(self.faults.items())]
        rows += [("faults that fired", k, v) for k, v in sorted(self.fired.items())]
        rows += [("bytes checked", "TCP payload intact end to end", self.bytes)]
        rows += [("expected errors", k, v) for k, v in sorted(self.errors.items())]
        rows += [("steps not done", k, v) for k, v in sorted(self.skipped.items())]
        rows += [("failures", "total", len(self.failures))]
        w = max(len(r[1]) for r in rows)
        for sect, k, v in rows:
            print(f"{sect:<18} {k:<{w}} {v:>10}")
        if self.reference and self.reference["cq"] is None:
            print("not checked: the emulator's CQs and DMA regions (its stats have no "
                  "objects line: a QEMU built before it had one)")
        if self.kmemleak_checked is not True:
            print(f"not checked: kmemleak ({self.kmemleak_checked or 'the checks did not run'})")
        for f in self.failures:
            print(f"failure: seed={f['seed']} step {f['step']} ({f['op']}); "
                  f"before it: {f['before']}: {f['why']}")
        print(f"soak {self.args.config} seed={self.seed} minutes={self.args.minutes} "
              f"ops={ops} faults={nfaults} bytes={self.bytes} failures={len(self.failures)}")
        return not self.failures


# ------------------------------------------------------------------ #

# how much slower than a normal kernel the guest's kernel runs: every
# command's time limit is multiplied by it (--slow)
SLOW = 1


def call(cmd, timeout, split=False):
    """(status, output) of CMD, or None when it did not end in TIMEOUT
    seconds times SLOW (it is killed, and not waited for: a task stuck in
    the kernel cannot be). split: the output as (stdout, stderr)."""
    timeout *= SLOW
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        return None
    return p.returncode, (out, err) if split else (err + out).strip()


def errname(out):
    """The errno name an error message gives, or a class from extack words."""
    for text, name in ERRTEXT:
        if text in out:
            return name
    low = out.lower()
    if "memory" in low:
        return "ENOMEM"
    if "timed out" in low or "timeout" in low:
        return "ETIMEDOUT"
    if re.search(r"^error: ", low, re.M):
        return "EINVAL"  # the kernel's extack alone: a refusal it explained
    return None


def oneline(s):
    return " ".join((s or "").split())[:300]


def fmt(objs):
    if not objs:
        return "?"
    return (f"HWC {objs['hwc']}, {objs['eq']} EQs, {objs['sq']} SQs, {objs['rq']} RQs, "
            f"{objs['cq'] if objs['cq'] is not None else '?'} CQs, "
            f"{objs['regions'] if objs['regions'] is not None else '?'} DMA regions")


def module_range(name):
    """The addresses of module NAME's code: from its first function to the
    end of the page of its last one (/proc/kallsyms). /proc/modules gives
    the start of its code but the size of all its memory, which would
    reach into whatever follows its code."""
    lo = hi = None
    with open("/proc/kallsyms", encoding="ascii") as f:
        for line in f:
            t = line.split()
            if len(t) == 4 and t[3] == f"[{name}]" and t[1] in "tT":
                a = int(t[0], 16)
                if a:
                    lo = a if lo is None else min(lo, a)
                    hi = a if hi is None else max(hi, a)
    if lo is None:
        return None
    page = os.sysconf("SC_PAGE_SIZE")
    return lo, (hi // page + 1) * page


def uptime():
    """The kernel log's clock, to match a step with its log lines."""
    t = read("/proc/uptime").split()
    return float(t[0]) if t else 0.0


def read(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def kmemleak(cmd):
    """Write CMD to kmemleak; None, or why it failed (kmemleak turns itself
    off when its object pool runs out)."""
    try:
        with open(KMEMLEAK, "w", encoding="ascii") as f:
            f.write(cmd + "\n")
    except OSError as e:
        return str(e)
    return None


def ynl_pools():
    """The page pools (netdev netlink page-pool-get dump), or None."""
    cli = "/root/linux/tools/net/ynl/pyynl/cli.py"
    if not os.path.exists(cli):
        cli = "/root/linux/tools/net/ynl/cli.py"
    spec = "/root/linux/Documentation/netlink/specs/netdev.yaml"
    if not os.path.exists(cli) or not os.path.exists(spec):
        return None
    r = call(["python3", cli, "--no-schema", "--spec", spec, "--dump", "page-pool-get",
              "--output-json"], 120, split=True)
    try:
        return json.loads(r[1][0]) if r else None
    except ValueError:
        return None


def ethtool_current(netif, opt, field):
    """The current value of FIELD in `ethtool OPT` (its last one: the
    maximum comes first), or None."""
    r = call(["ethtool", opt, netif], 60)
    cur = re.findall(rf"^{field}:\s+(\d+)", r[1], re.M) if r else []
    return int(cur[-1]) if cur else None


def rx_ring(netif):
    return ethtool_current(netif, "-g", "RX")


def channels(netif):
    return ethtool_current(netif, "-l", "Combined")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--steps", type=int, default=0, help="stop after N steps (0: by time)")
    ap.add_argument("--config", default=os.uname().machine)
    ap.add_argument("--settle", type=int, default=30,
                    help="seconds the port has to pass traffic once the faults are cleared")
    ap.add_argument("--dry-run", type=int, default=0, metavar="N",
                    help="print the first N steps of the schedule and exit")
    ap.add_argument("--slow", type=int, default=1, metavar="N",
                    help="multiply every command's time limit by N (a debug kernel)")
    args = ap.parse_args()
    global SLOW
    SLOW = max(1, args.slow)
    args.settle *= SLOW
    if args.dry_run:
        sched = Schedule(args.seed)
        for _ in range(args.dry_run):
            kind, params = next(sched)
            print(f"step {sched.n} {describe(kind, params)}")
        return 0
    soak = Soak(args)
    if soak.start():
        try:
            soak.schedule()
        finally:
            for t in soak.transfers:
                t.kill()
        soak.finish()
    return 0 if soak.report() else 1


if __name__ == "__main__":
    sys.exit(main())
