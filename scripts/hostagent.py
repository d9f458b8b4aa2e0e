#!/usr/bin/env python3
"""Host side of the guest -> QEMU channel (tests/lib/hostctl.py is the guest side).

The guest writes a QMP command as JSON into <reqdir>/<name>.req on the 9p run
share; this agent runs it on QEMU's QMP socket and writes the reply (QMP's
"return" or "error" object) into <reqdir>/<name>.resp. It exits when QEMU
closes the socket.

A request may carry "harness-then": {"after-s": N, "execute": ...,
"arguments": ...}: once the command has run, the agent runs that second
command N seconds later by the host's clock, whatever the guest does
meanwhile (a guest starved by an RX flood cannot stop the flood in time; the
host can). The latest setting wins: a later qom-set of the same property
drops a pending follow-up on it.

A request {"execute": "harness-cost", "arguments": {"request": R}} goes to
the cost plugin (emu/plugin/cost.c) on its socket instead of QMP: R is
"get" or "mode off|count|cache"; the reply's "return" is the plugin's answer
(text).

usage: hostagent.py <qmp-socket> <reqdir> [<cost-plugin-socket>]
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


def target(cmd):
    """The (path, property) a qom-set sets, else None."""
    args = cmd.get("arguments")
    if cmd.get("execute") != "qom-set" or not isinstance(args, dict):
        return None
    return (args.get("path"), args.get("property"))


def follow_up(then):
    """(deadline, command) of a request's "harness-then", or raise."""
    if not isinstance(then, dict) or "execute" not in then:
        raise ValueError("harness-then: not a QMP command object")
    after = then.get("after-s")
    if not isinstance(after, (int, float)) or not 0 <= after <= 3600:
        raise ValueError("harness-then: after-s must be 0..3600 seconds")
    return time.monotonic() + after, {k: v for k, v in then.items()
                                      if k in ("execute", "arguments")}


def cost_request(path, request):
    """The cost plugin's answer to REQUEST (one line), or raise ValueError."""
    if not path:
        raise ValueError("no cost plugin in this QEMU (scripts/vm.sh COST=)")
    if not isinstance(request, str) or "\n" in request or len(request) > 60:
        raise ValueError("harness-cost: request must be one short line")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(request.encode() + b"\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    text = data.decode()
    if not text or text.startswith("error"):
        raise ValueError(f"cost plugin: {text.strip() or 'no answer'}")
    return text


def serve(qmp, reqdir, costsock=None):
    pending = {}  # target -> (deadline, command): the requests' follow-ups
    while True:
        for key, (deadline, cmd) in list(pending.items()):
            if time.monotonic() >= deadline:
                del pending[key]
                qmp.execute(cmd)
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
                if cmd["execute"] == "harness-cost":
                    args = cmd.get("arguments") or {}
                    reply = {"return": cost_request(costsock, args.get("request", "get"))}
                else:
                    then = cmd.pop("harness-then", None)
                    later = follow_up(then) if then is not None else None
                    pending.pop(target(cmd), None)
                    reply = qmp.execute(cmd)
                    if later and "error" not in reply:
                        pending[target(later[1])] = later
            except (ValueError, OSError, AttributeError) as e:
                reply = {"error": {"class": "HarnessError", "desc": str(e)}}
            base = path[: -len(".req")]
            with open(base + ".tmp", "w", encoding="utf-8") as f:
                json.dump(reply, f)
            os.unlink(path)
            os.rename(base + ".tmp", base + ".resp")
        time.sleep(0.05)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    sock, reqdir = sys.argv[1:3]
    try:
        serve(Qmp(sock), reqdir, sys.argv[3] if len(sys.argv) == 4 else None)
    except (EOFError, ConnectionError):
        pass


if __name__ == "__main__":
    main()
