#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Malformed net-shaper netlink requests (tests/soak): raw generic netlink.

usage: shaper_bad.py SEED COUNT IFINDEX [IFINDEX...]

Sends COUNT requests picked with random.Random(SEED) from the cases below,
each at one of the given devices (the MANA port, a netdevsim port), and
prints one JSON line per request: {"case", "ifindex", "errno", "must_fail"}.
errno is the kernel's answer (0: accepted). A case marked must_fail is a
request the uapi forbids (a missing or out-of-range attribute, a truncated
one, an unknown command); the others are garbage whose answer is not
judged, only that there is one. No answer within 10 s is printed as errno
"timeout". The caller (soak.py) runs this in a subprocess with a time
limit, so a request that hangs in the kernel cannot hang the soak.

The constants are the uapi's (include/uapi/linux/net_shaper.h, genetlink.h).
"""
import errno
import json
import random
import socket
import struct
import sys

NETLINK_GENERIC = 16  # Python's socket module does not name it
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
GENL_ID_CTRL, CTRL_CMD_GETFAMILY = 0x10, 3
CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 1, 2
NLA_F_NESTED = 0x8000

GET, SET, DELETE, GROUP, CAP_GET = 1, 2, 3, 4, 5
A_HANDLE, A_METRIC, A_BW_MIN, A_BW_MAX, A_BURST, A_PRIORITY, A_WEIGHT, \
    A_IFINDEX, A_PARENT, A_LEAVES = range(1, 11)
H_SCOPE, H_ID = 1, 2
CAPS_IFINDEX, CAPS_SCOPE = 1, 2
SCOPE_UNSPEC, SCOPE_NETDEV, SCOPE_QUEUE, SCOPE_NODE = 0, 1, 2, 3


def nla(kind, payload):
    n = 4 + len(payload)
    return struct.pack("<HH", n, kind) + payload + b"\0" * ((4 - n % 4) % 4)


def nest(kind, payload):
    return nla(kind | NLA_F_NESTED, payload)


def u32(kind, v):
    return nla(kind, struct.pack("<I", v & 0xFFFFFFFF))


def u64(kind, v):
    return nla(kind, struct.pack("<Q", v))


def handle(scope, hid=None):
    return nest(A_HANDLE, u32(H_SCOPE, scope) + (u32(H_ID, hid) if hid is not None else b""))


def leaf(scope, hid):
    return nest(A_LEAVES, handle(scope, hid))


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.settimeout(10)
        self.seq = 0
        self.family = None
        self.family = self.resolve("net-shaper")

    def send(self, msg_type, cmd, attrs, flags=NLM_F_REQUEST | NLM_F_ACK, version=1):
        self.seq += 1
        body = struct.pack("<BBH", cmd, version, 0) + attrs
        hdr = struct.pack("<IHHII", 16 + len(body), msg_type, flags, self.seq, 0)
        self.s.send(hdr + body)
        return self.answer()

    def answer(self):
        """The request's errno (0: accepted) and the payloads of the replies."""
        replies = []
        while True:
            try:
                data = self.s.recv(1 << 16)
            except socket.timeout:
                return "timeout", replies
            off = 0
            while off + 16 <= len(data):
                n, kind, _, seq, _ = struct.unpack_from("<IHHII", data, off)
                if n < 16:
                    return "short", replies
                if seq == self.seq:
                    if kind == NLMSG_ERROR:
                        return -struct.unpack_from("<i", data, off + 16)[0], replies
                    if kind == NLMSG_DONE:
                        return 0, replies
                    replies.append(data[off + 20:off + n])
                off += (n + 3) & ~3

    def resolve(self, name):
        err, replies = self.send(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                                 nla(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        for r in replies:
            off = 0
            while off + 4 <= len(r):
                n, kind = struct.unpack_from("<HH", r, off)
                if n < 4:
                    break
                if kind == CTRL_ATTR_FAMILY_ID:
                    return struct.unpack_from("<H", r, off + 4)[0]
                off += (n + 3) & ~3
        raise SystemExit(f"no generic netlink family {name}: {err}")


def cases(rng, dev):
    """(name, cmd, attrs, flags, must_fail) for one request at ifindex dev."""
    ifx = u32(A_IFINDEX, dev)
    q = rng.randrange(0, 4)
    rate = rng.choice([0, 1, 1000, 10**9, 2**63, 2**64 - 1])
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 96)))
    req = NLM_F_REQUEST | NLM_F_ACK
    return [
        ("set-empty", SET, b"", req, True),
        ("set-no-handle", SET, ifx, req, True),
        ("set-no-ifindex", SET, handle(SCOPE_NETDEV) + u64(A_BW_MAX, rate), req, True),
        ("set-scope-unspec", SET, ifx + handle(SCOPE_UNSPEC), req, True),
        ("set-scope-99", SET, ifx + handle(99, 0), req, True),
        ("set-ifindex-short", SET, nla(A_IFINDEX, b"\1\0") + handle(SCOPE_NETDEV), req, True),
        ("set-no-such-dev", SET, u32(A_IFINDEX, 0x7FFFFFF0) + handle(SCOPE_NETDEV)
         + u64(A_BW_MAX, 10**9), req, True),
        ("set-truncated-nest", SET, ifx + struct.pack("<HH", 12, A_HANDLE | NLA_F_NESTED)
         + struct.pack("<HHI", 40, H_SCOPE, SCOPE_QUEUE), req, True),
        ("set-metric-7", SET, ifx + handle(SCOPE_QUEUE, q) + u32(A_METRIC, 7), req, True),
        ("set-bw-short", SET, ifx + handle(SCOPE_QUEUE, q) + nla(A_BW_MAX, b"\1\2"), req, True),
        ("set-netdev-id-5", SET, ifx + handle(SCOPE_NETDEV, 5) + u64(A_BW_MAX, 10**9), req, True),
        ("set-queue-id-huge", SET, ifx + handle(SCOPE_QUEUE, 0xFFFFFFFF)
         + u64(A_BW_MAX, 10**9), req, True),
        ("set-handle-flat", SET, ifx + nla(A_HANDLE, u32(H_SCOPE, SCOPE_NETDEV)), req, False),
        ("set-rates", SET, ifx + handle(rng.choice([SCOPE_NETDEV, SCOPE_QUEUE]), q)
         + u64(A_BW_MAX, rate) + u64(A_BW_MIN, rng.choice([0, rate, 2**64 - 1]))
         + u32(A_WEIGHT, rng.choice([0, 1, 2**32 - 1]))
         + u32(A_PRIORITY, rng.choice([0, 7, 2**32 - 1])), req, False),
        ("group-no-leaves", GROUP, ifx + handle(SCOPE_NODE), req, True),
        ("group-leaf-netdev", GROUP, ifx + handle(SCOPE_NODE) + leaf(SCOPE_NETDEV, 0), req, True),
        ("group-leaf-node", GROUP, ifx + handle(SCOPE_NODE) + leaf(SCOPE_NODE, 1), req, True),
        ("group-leaf-queue-100000", GROUP, ifx + handle(SCOPE_NODE)
         + leaf(SCOPE_QUEUE, 100000), req, True),
        ("group-300-leaves", GROUP, ifx + handle(SCOPE_NODE)
         + b"".join(leaf(SCOPE_QUEUE, i) for i in range(300)), req, True),
        ("group-leaves-flat", GROUP, ifx + handle(SCOPE_NODE)
         + nla(A_LEAVES, handle(SCOPE_QUEUE, q)), req, False),
        ("group-parent-queue", GROUP, ifx + handle(SCOPE_NODE)
         + nest(A_PARENT, u32(H_SCOPE, SCOPE_QUEUE) + u32(H_ID, q))
         + leaf(SCOPE_QUEUE, q), req, True),
        ("delete-missing-node", DELETE, ifx + handle(SCOPE_NODE, 0x7FFFFFFF), req, True),
        ("delete-scope-99", DELETE, ifx + handle(99, 1), req, True),
        ("get-no-ifindex", GET, handle(SCOPE_NETDEV), req, True),
        ("set-as-dump", SET, ifx + handle(SCOPE_NETDEV), req | NLM_F_DUMP, True),
        ("cap-get-scope-99", CAP_GET, u32(CAPS_IFINDEX, dev) + u32(CAPS_SCOPE, 99), req, True),
        ("cmd-99", 99, ifx, req, True),
        ("junk", rng.choice([GET, SET, DELETE, GROUP, CAP_GET]), junk, req, False),
        ("junk-attrs", rng.choice([SET, GROUP]), ifx + b"".join(
            nla(rng.randrange(1, 12) | rng.choice([0, NLA_F_NESTED]),
                bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 4, 8, 12]))))
            for _ in range(rng.randrange(1, 6))), req, False),
    ]


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    rng = random.Random(int(argv[0]))
    count = int(argv[1])
    devs = [int(x) for x in argv[2:]]
    g = Genl()
    for _ in range(count):
        dev = rng.choice(devs)
        name, cmd, attrs, flags, must_fail = rng.choice(cases(rng, dev))
        err, _ = g.send(g.family, cmd, attrs, flags)
        if isinstance(err, int) and err > 0:
            err = errno.errorcode.get(err, str(err))
        print(json.dumps({"case": name, "ifindex": dev, "errno": err,
                          "must_fail": must_fail}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
