#!/usr/bin/env python3
"""Guest side of the guest -> QEMU channel (scripts/hostagent.py is the host side).

Runs a QMP command in the QEMU that runs this guest, through request files on
the 9p run share. The NIC under test is QOM path /machine/peripheral/nic0.

    hostctl.py qom-get PROP              print a property of the NIC under test
    hostctl.py qom-set PROP VALUE        set one (on/off/true/false, numbers, 0x..)
    hostctl.py stats                     the MANA model's "stats", parsed, as JSON
    hostctl.py stat SECTION KEY          one value of them, e.g. stat link speed, stat rq 9 posted
    hostctl.py qmp '{"execute": ...}'    any QMP command; prints its return value
    hostctl.py cost [off|count|cache]    the cost plugin's counters (as JSON), or
                                         set its mode and wait until it is in force

As a module: qmp(), qom_get(), qom_set(), stats(), stat(), flood(), cost(),
cost_mode(), harness_env().
"""
import contextlib
import itertools
import json
import os
import re
import socket
import sys
import time

REQDIR = "/harness/run/host"
ENV = "/harness/run/env"
NIC = "/machine/peripheral/nic0"
_seq = itertools.count()


class HostError(Exception):
    pass


def harness_env():
    """The harness's description of this guest (scripts/vm.sh writes it):
    {"NIC": ..., "LOCAL_V4": ..., ...}; empty outside a harness guest."""
    env = {}
    try:
        with open(ENV, encoding="ascii") as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                if k:
                    env[k] = v
    except OSError:
        pass
    return env


def qmp(execute, timeout=30, then=None, **arguments):
    """Run one QMP command; return its "return" value or raise HostError.
    THEN: (seconds, execute, arguments) of a command the host runs that
    many seconds later by its own clock (scripts/hostagent.py)."""
    if not os.path.isdir(REQDIR):
        raise HostError(f"no host channel ({REQDIR} missing): not a harness guest?")
    cmd = {"execute": execute}
    if arguments:
        cmd["arguments"] = arguments
    if then:
        after, t_exec, t_args = then
        cmd["harness-then"] = {"after-s": after, "execute": t_exec, "arguments": t_args}
    base = os.path.join(REQDIR, f"{os.getpid()}-{next(_seq)}")
    with open(base + ".new", "w", encoding="utf-8") as f:
        json.dump(cmd, f)
    os.rename(base + ".new", base + ".req")
    deadline = time.monotonic() + timeout
    while not os.path.exists(base + ".resp"):
        if time.monotonic() > deadline:
            raise HostError(f"no answer from the host agent to {execute} in {timeout}s")
        time.sleep(0.02)
    with open(base + ".resp", encoding="utf-8") as f:
        reply = json.load(f)
    os.unlink(base + ".resp")
    if "error" in reply:
        raise HostError(f"{execute}: {reply['error'].get('desc', reply['error'])}")
    return reply.get("return")


def qom_get(prop, path=NIC):
    return qmp("qom-get", path=path, property=prop)


def qom_set(prop, value, path=NIC, then=None):
    """Set PROP; THEN: (seconds, value) to set it to that many host seconds
    later, whatever the guest does meanwhile (unless PROP is set again
    before)."""
    if then:
        then = (then[0], "qom-set", {"path": path, "property": prop, "value": then[1]})
    return qmp("qom-set", path=path, property=prop, value=value, then=then)


def stats(path=NIC):
    """The MANA model's "stats" as {section: {key: value}}.

    Sections are the line heads ("hwc", "link", "rx", "rq 3", "sq 2 (hwc)",
    ...); a key followed by a number maps to an int, by on/off/up/down to that
    word (and a number after it to "<key>-<unit>", e.g. link "clamp-mbps").
    """
    out = {}
    for line in qom_get("stats", path).splitlines():
        head, sep, rest = line.partition(":")
        if not sep:
            continue
        d = out.setdefault(head.strip(), {})
        t = rest.split()
        i = 0
        while i + 1 < len(t):
            key, val = t[i], t[i + 1]
            if re.fullmatch(r"-?\d+", val):
                d[key] = int(val)
                i += 2
            elif val in ("on", "off", "up", "down"):
                d[key] = val
                i += 2
                if i + 1 < len(t) and re.fullmatch(r"-?\d+", t[i]):
                    d[f"{key}-{t[i + 1].lower()}"] = int(t[i])
                    i += 2
            else:
                i += 1
    return out


def stat(section, key, path=NIC):
    """One value of the MANA model's stats, e.g. stat("link", "speed")."""
    try:
        return stats(path)[section][key]
    except KeyError:
        raise HostError(f"no '{section}' '{key}' in the device's stats") from None


@contextlib.contextmanager
def flood(size, flows, dst_ip, stop_after=600, rate=0, path=NIC):
    """The MANA model's RX generator, on for the with-block: UDP frames of
    SIZE bytes in FLOWS flows to DST_IP (an int, or IPv4 as a string), at
    RATE frames/s (0: as fast as the guest posts buffers); off at its end,
    and by the device itself after STOP_AFTER s of the host's clock
    (rxgen-duration-ms) should the guest not get there."""
    if isinstance(dst_ip, str):
        dst_ip = int.from_bytes(socket.inet_aton(dst_ip), "big")
    qom_set("rxgen-size", size, path)
    qom_set("rxgen-flows", flows, path)
    qom_set("rxgen-dst-ip", dst_ip, path)
    qom_set("rxgen-rate", rate, path)
    qom_set("rxgen-duration-ms", int(stop_after * 1000), path)
    qom_set("rxgen", True, path)
    try:
        yield
    finally:
        qom_set("rxgen", False, path)


def cost():
    """The cost plugin's counters (emu/plugin/cost.c, scripts/vm.sh COST=):
    {"mode": in force, "want": asked for, "vcpus": [{"insn": n, "mem": n,
    "l1miss": n, "l2miss": n}, ...], and the sums over the vCPUs: "insn",
    "mem", "l1miss", "l2miss"}."""
    res = {"vcpus": []}
    for line in qmp("harness-cost", request="get").splitlines():
        t = line.split()
        if t[:1] == ["mode"] and len(t) == 4:
            res["mode"], res["want"] = t[1], t[3]
        elif t[:1] == ["vcpu"]:
            res["vcpus"].append({k: int(v) for k, v in zip(t[2::2], t[3::2])})
    if "mode" not in res or not res["vcpus"]:
        raise HostError("cost plugin: unexpected answer")
    for k in res["vcpus"][0]:
        res[k] = sum(v[k] for v in res["vcpus"])
    return res


def cost_mode(mode, timeout=30):
    """Ask the cost plugin for MODE (off, count, cache); wait until it is in
    force (the plugin changes mode when a vCPU goes idle)."""
    qmp("harness-cost", request=f"mode {mode}")
    deadline = time.monotonic() + timeout
    while (c := cost())["mode"] != mode:
        if time.monotonic() > deadline:
            raise HostError(f"cost plugin: mode {mode} not in force after {timeout}s")
        time.sleep(0.2)
    return c


def parse_value(s):
    low = s.lower()
    if low in ("on", "true", "yes"):
        return True
    if low in ("off", "false", "no"):
        return False
    try:
        return int(s, 0)
    except ValueError:
        return s


def main(argv):
    try:
        if len(argv) == 2 and argv[0] == "qom-get":
            v = qom_get(argv[1])
            print(v if isinstance(v, str) else json.dumps(v))
        elif len(argv) == 3 and argv[0] == "qom-set":
            qom_set(argv[1], parse_value(argv[2]))
        elif len(argv) >= 3 and argv[0] == "stat":
            print(stat(" ".join(argv[1:-1]), argv[-1]))
        elif argv == ["stats"]:
            print(json.dumps(stats(), indent=1))
        elif argv == ["cost"]:
            print(json.dumps(cost(), indent=1))
        elif len(argv) == 2 and argv[0] == "cost":
            print(json.dumps(cost_mode(argv[1]), indent=1))
        elif len(argv) == 2 and argv[0] == "qmp":
            cmd = json.loads(argv[1])
            print(json.dumps(qmp(cmd["execute"], **cmd.get("arguments", {}))))
        else:
            sys.exit(__doc__)
    except HostError as e:
        sys.exit(f"hostctl: {e}")


if __name__ == "__main__":
    main(sys.argv[1:])
