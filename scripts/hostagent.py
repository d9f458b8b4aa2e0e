#!/usr/bin/env python3
"""Host side of the guest -> QEMU channel (tests/lib/hostctl.py is the guest side).

The guest writes a QMP command as JSON into <reqdir>/<name>.req on the 9p run
share; this agent runs it on QEMU's QMP socket and writes the reply (QMP's
"return" or "error" object) into <reqdir>/<name>.resp. It exits when QEMU
closes the socket.

usage: hostagent.py <qmp-socket> <reqdir>
"""
import json
import os
import socket
import sys
import time


class Qmp:
    def __init__(self, path):
        deadline = time.monotonic() + 60
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.rfile = self.sock.makefile("r", encoding="utf-8")
        self._read()  # the greeting
        self.execute({"execute": "qmp_capabilities"})

    def _read(self):
        while True:
            line = self.rfile.readline()
            if not line:
                raise EOFError("QMP socket closed")
            msg = json.loads(line)
            if "event" not in msg:
                return msg

    def execute(self, cmd):
        self.sock.sendall(json.dumps(cmd).encode() + b"\n")
        return self._read()


def serve(qmp, reqdir):
    while True:
        try:
            names = sorted(n for n in os.listdir(reqdir) if n.endswith(".req"))
        except FileNotFoundError:
            return
        for name in names:
            path = os.path.join(reqdir, name)
            try:
                with open(path, encoding="utf-8") as f:
                    cmd = json.load(f)
                if not isinstance(cmd, dict) or "execute" not in cmd:
                    raise ValueError("not a QMP command object")
                reply = qmp.execute(cmd)
            except (ValueError, OSError) as e:
                reply = {"error": {"class": "HarnessError", "desc": str(e)}}
            base = path[: -len(".req")]
            with open(base + ".tmp", "w", encoding="utf-8") as f:
                json.dump(reply, f)
            os.unlink(path)
            os.rename(base + ".tmp", base + ".resp")
        time.sleep(0.05)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sock, reqdir = sys.argv[1:]
    try:
        serve(Qmp(sock), reqdir)
    except (EOFError, ConnectionError):
        pass


if __name__ == "__main__":
    main()
