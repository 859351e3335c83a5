#!/usr/bin/env python3
"""test_encode_pins.py - the PINS table of tests/unit/test_encode.c against CPython.

Each pin names a Python expression, its protocol 5 pickle and what
pickle.dumps writes for it at some other protocols (or the exception class
it raises). The C test decodes the protocol 5 pickle and checks that
brine_encode() writes those bytes; this script checks that the bytes are
what CPython 3.11 writes, so the expectations cannot drift.
"""
import argparse  # noqa: F401 (used by the expressions)
import ast  # noqa: F401
import collections  # noqa: F401
import datetime  # noqa: F401
import fractions  # noqa: F401
import functools  # noqa: F401
import os
import pickle
import re
import struct  # noqa: F401
import subprocess
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    env = dict(os.environ, PYTHONHASHSEED="0")
    sys.exit(subprocess.call([sys.executable] + sys.argv, env=env))

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "unit", "test_encode.c")

TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|\[(\d)\]\s*=|(\{)|(\})')


def c_string(body):
    return body.encode("latin-1").decode("unicode_escape")


def pins():
    text = open(SOURCE, encoding="utf-8").read()
    start = text.index("static const pin PINS[] = {")
    table = text[text.index("{", start) + 1:text.index("\n};", start)]
    entries, cur, field, depth, proto = [], None, None, 0, None
    for m in TOKEN.finditer(table):
        s, p, open_, close = m.groups()
        if open_:
            depth += 1
            if depth == 1:
                cur = {"expr": "", "src": "", "want": {}}
                field = "expr"
            continue
        if close:
            depth -= 1
            if depth == 0:
                entries.append(cur)
            continue
        if p is not None:
            proto = int(p)
            cur["want"][proto] = ""
            field = "want"
            continue
        # adjacent literals concatenate; a new field starts after a comma
        between = table[m.start() - 1::-1]
        continued = re.match(r'\s*"', between) is not None
        if field == "expr" and cur["expr"] and not continued:
            field = "src"
        if field == "want":
            cur["want"][proto] += c_string(s)
        else:
            cur[field] += c_string(s)
    return entries


def hx(b):
    return " ".join("%02x" % c for c in b)


def main():
    failures = checks = 0
    for entry in pins():
        value = eval(entry["expr"])
        checks += 1
        if hx(pickle.dumps(value, 5)) != entry["src"]:
            failures += 1
            print("src of %s differs from pickle.dumps(value, 5)" % entry["expr"])
        for proto, want in sorted(entry["want"].items()):
            checks += 1
            try:
                got = hx(pickle.dumps(value, proto))
            except Exception as exc:
                got = "!" + type(exc).__name__
            if got != want:
                failures += 1
                print("pin %s at protocol %d: CPython writes\n  %s\nthe table says\n  %s" % (
                    entry["expr"], proto, got, want))
    print("test_encode_pins: %d checks, %d failures" % (checks, failures))
    return 1 if failures or checks < 50 else 0


if __name__ == "__main__":
    sys.exit(main())
