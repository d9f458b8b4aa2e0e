#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Attach or detach a minimal native XDP program, with no compiler in the guest.

usage: xdp.py attach DEV pass|drop|tx|redirect
       xdp.py detach DEV

The program is two instructions (r0 = action; exit), or for "redirect" a
call of bpf_redirect(DEV's ifindex, 0), which sends the frame back out of
DEV through the driver's ndo_xdp_xmit; it is loaded with bpf(2) and attached
in driver mode through rtnetlink (over an attached one: replaced). The
kernel's extack message is printed on failure and the exit status is
non-zero.
"""
import ctypes
import os
import platform
import socket
import struct
import sys

SYS_BPF = {'x86_64': 321, 'aarch64': 280}[platform.machine()]
BPF_PROG_LOAD = 5
BPF_PROG_TYPE_XDP = 6
ACTIONS = {'drop': 1, 'pass': 2, 'tx': 3}
RTM_SETLINK = 19
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
NLM_F_ACK_TLVS = 0x200
NETLINK_EXT_ACK = 11
SOL_NETLINK = 270
IFLA_XDP = 43
IFLA_XDP_FD, IFLA_XDP_FLAGS = 1, 3
XDP_FLAGS_DRV_MODE = 4
NLA_F_NESTED = 0x8000

libc = ctypes.CDLL(None, use_errno=True)


BPF_FUNC_REDIRECT = 23  # bpf_redirect() in include/uapi/linux/bpf.h


def insn(code, dst=0, imm=0):
    return struct.pack('<BBhi', code, dst, 0, imm)


def program(action, ifindex):
    if action == 'redirect':
        return (insn(0xb7, 1, ifindex) +          # r1 = ifindex
                insn(0xb7, 2, 0) +                # r2 = 0 (flags)
                insn(0x85, 0, BPF_FUNC_REDIRECT) +  # call bpf_redirect
                insn(0x95))                       # exit
    return insn(0xb7, 0, ACTIONS[action]) + insn(0x95)  # r0 = action; exit


def load(action, ifindex=0):
    insns = program(action, ifindex)
    code = ctypes.create_string_buffer(insns)
    lic = ctypes.create_string_buffer(b'GPL')
    log = ctypes.create_string_buffer(4096)
    attr = struct.pack('<IIQQIIQII16s', BPF_PROG_TYPE_XDP, len(insns) // 8,
                       ctypes.addressof(code), ctypes.addressof(lic),
                       1, len(log), ctypes.addressof(log), 0, 0,
                       b'harness_' + action.encode())
    buf = ctypes.create_string_buffer(attr, 128)
    fd = libc.syscall(SYS_BPF, BPF_PROG_LOAD, buf, 128)
    if fd < 0:
        err = ctypes.get_errno()
        sys.exit(f'bpf(BPF_PROG_LOAD): {os.strerror(err)}: {log.value.decode()}')
    return fd


def nla(kind, payload):
    n = 4 + len(payload)
    return struct.pack('<HH', n, kind) + payload + b'\0' * ((4 - n % 4) % 4)


def setlink_xdp(ifindex, fd):
    xdp = nla(IFLA_XDP_FD, struct.pack('<i', fd))
    if fd >= 0:
        xdp += nla(IFLA_XDP_FLAGS, struct.pack('<I', XDP_FLAGS_DRV_MODE))
    body = struct.pack('<BxHiII', socket.AF_UNSPEC, 0, ifindex, 0, 0)
    body += nla(IFLA_XDP | NLA_F_NESTED, xdp)
    msg = struct.pack('<IHHII', 16 + len(body), RTM_SETLINK,
                      NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    s.send(msg)
    reply = s.recv(65536)
    _, kind, flags, _, _ = struct.unpack_from('<IHHII', reply)
    if kind != NLMSG_ERROR:
        sys.exit(f'unexpected netlink reply type {kind}')
    err = struct.unpack_from('<i', reply, 16)[0]
    if err == 0:
        return
    text = ''
    if flags & NLM_F_ACK_TLVS:
        # skip the echoed request: only its header when capped
        off = 36 if flags & 0x100 else 20 + struct.unpack_from('<I', reply, 20)[0]
        while off + 4 <= len(reply):
            n, t = struct.unpack_from('<HH', reply, off)
            if n < 4:
                break
            if t == 1:
                text = reply[off + 4:off + n].rstrip(b'\0').decode()
            off += (n + 3) & ~3
    sys.exit(f'RTM_SETLINK IFLA_XDP: {os.strerror(-err)}' + (f': {text}' if text else ''))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ('attach', 'detach') or \
       (sys.argv[1] == 'attach' and (len(sys.argv) != 4 or
                                  sys.argv[3] not in (*ACTIONS, 'redirect'))):
        sys.exit(__doc__)
    ifindex = socket.if_nametoindex(sys.argv[2])
    if sys.argv[1] == 'attach':
        setlink_xdp(ifindex, load(sys.argv[3], ifindex))
    else:
        setlink_xdp(ifindex, -1)


if __name__ == '__main__':
    main()
