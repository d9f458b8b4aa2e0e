#!/usr/bin/env python3
"""Compiler warnings of a kernel build directory, kept across incremental builds.

update DB LOG SRC   fold one build log into DB (files recompiled in LOG get the
                    warnings LOG shows for them); print the warnings that are
                    new against DB's previous state, one per line
list DB             print every warning DB holds
"""
import json
import os
import re
import sys
from collections import Counter

WARN = re.compile(r'^(?P<file>[^\s:]+):\d+:(?:\d+:)? (?:warning|error): (?P<msg>.*)$')
CC = re.compile(r'^\s+(?:CC|CC \[M\]|AS|AS \[M\])\s+(?P<obj>\S+)\.o$')
MODPOST = re.compile(r'^(?:WARNING|ERROR): modpost: (?P<msg>.*)$')


def norm(path, src):
    path = os.path.normpath(path)
    # the tree may be named through a symlink (a worktree's build/linux)
    for root in {os.path.normpath(src), os.path.realpath(src)}:
        if path.startswith(root + '/'):
            return path[len(root) + 1:]
    while path.startswith('../'):
        path = path[3:]
    return path


def parse(log, src):
    compiled, found = set(), []
    with open(log, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            m = CC.match(line)
            if m:
                compiled.add(m['obj'])
                continue
            m = WARN.match(line)
            if m:
                found.append((norm(m['file'], src), m['msg']))
                continue
            m = MODPOST.match(line)
            if m:
                found.append(('modpost', m['msg']))
    return compiled, found


def main():
    cmd, db_path = sys.argv[1], sys.argv[2]
    db = {}
    if os.path.exists(db_path):
        with open(db_path) as f:
            db = json.load(f)
    if cmd == 'list':
        for file, msgs in sorted(db.items()):
            for msg in msgs:
                print(f'{file}: {msg}')
        return
    log, src = sys.argv[3], sys.argv[4]
    compiled, found = parse(log, src)
    before = {f: Counter(m) for f, m in db.items()}
    now = {}
    for file, msg in found:
        now.setdefault(file, []).append(msg)
    new = []
    for file, msgs in now.items():
        for msg, n in Counter(msgs).items():
            extra = n - before.get(file, Counter())[msg]
            new += [(file, msg)] * max(extra, 0)
    for obj in compiled:
        for ext in ('.c', '.S'):
            db.pop(obj + ext, None)
    if 'modpost' in now:
        db.pop('modpost', None)
    for file, msgs in now.items():
        if file.endswith('.h'):
            db[file] = sorted(set(db.get(file, [])) | set(msgs))
        else:
            db[file] = sorted(msgs)
    with open(db_path, 'w') as f:
        json.dump(db, f, indent=1, sort_keys=True)
    for file, msg in new:
        print(f'{file}: {msg}')


if __name__ == '__main__':
    main()
