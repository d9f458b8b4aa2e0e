#!/usr/bin/env python3
"""follow.py FILE PID: print FILE's lines as the guest writes them, until PID ends.

The guest writes its command's output to FILE over 9p, whose page writeback
may reach the host out of order: for a while the file can hold a run of
NULs where earlier lines will land. `tail -f` prints the NULs and never
reads those bytes again (results lost to whoever parses the stream). This
prints only whole lines before the first NUL, re-reads from there, and once
PID has ended prints the rest of the file as it is then: what it prints is
the file's final content, once.
"""
import os
import sys
import time


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def main(path, pid):
    out = sys.stdout.buffer
    done = 0
    while True:
        running = alive(pid)
        try:
            with open(path, "rb") as f:
                f.seek(done)
                data = f.read()
        except FileNotFoundError:
            data = b""
        if not running:
            out.write(data)
            out.flush()
            return
        whole = data.split(b"\0", 1)[0]
        end = whole.rfind(b"\n") + 1
        if end:
            out.write(whole[:end])
            out.flush()
            done += end
        time.sleep(0.2)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    try:
        main(sys.argv[1], int(sys.argv[2]))
    except (BrokenPipeError, KeyboardInterrupt):
        sys.exit(1)
