#!/usr/bin/env python3
"""test_pyrepr_diff.py - src/pyrepr.c against CPython's repr().

Compares, through tests/unit/test_pytext_vectors.c in "serve" mode:
  - repr(chr(c)) for every code point 0..0x10FFFF,
  - str.isprintable() for every code point,
  - repr() of random strs and bytes, with every mix of quote characters,
and checks that the generated table in src/pyrepr.c is what
tools/gen_printable.py produces from this Python.
"""
import os
import random
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # importing the sibling test must not leave __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_pytext_diff import ROOT, Runner, helper_path, random_str, u32, wtf8  # noqa: E402

CHUNK = 0x8000


def quote_mix(rng, s):
    """Adds no quote, ', ", or both at random places."""
    for q in rng.choice(["", "'", '"', "'\"", "''\"\""]):
        i = rng.randrange(len(s) + 1)
        s = s[:i] + q + s[i:]
    return s


def main():
    started = time.time()
    rng = random.Random(1411)
    r = Runner(helper_path())

    # Every code point, as 1-char strings, in batches; the helper prints
    # repr() of each code point of its input on its own line.
    for lo in range(0, 0x110000, CHUNK):
        chars = "".join(map(chr, range(lo, min(lo + CHUNK, 0x110000))))
        want = "\n".join(map(repr, chars)).encode("utf-8")
        r.add("repr_each_code_point", "REPR_EACH_CP", wtf8(chars), ("BRINE_OK", None, None, want))
    want = bytes(chr(c).isprintable() for c in range(0x110000))
    r.add("isprintable_all", "ISPRINTABLE", b"", ("BRINE_OK", None, None, want),
          u32(0), u32(0x110000))

    strs = ["", "'", '"', "'\"", "\\", "\x00\x7f\x80\x9f\xa0\xad\xff", "\ud800\udc00",
            "\U0010ffff\U000e0100\U000e01f0", "\u2028\u3000 \t\n\r", "\u0378\u0377",
            "a'b", 'a"b', "a'b\"c"]
    strs += [quote_mix(rng, random_str(rng, 30)) for _ in range(20000)]
    for s in strs:
        r.add("repr_str", "REPR_STR", wtf8(s), ("BRINE_OK", None, None, repr(s).encode("utf-8")))
    byts = [b"", b"'", b'"', b"'\"", bytes(range(256))]
    for _ in range(20000):
        b = bytes(rng.choice([rng.randrange(256), rng.choice(b"'\"\\\t\n\r\x7f\x80 ~")])
                  for _ in range(rng.randrange(30)))
        byts.append(quote_mix(rng, b.decode("latin-1")).encode("latin-1"))
    for b in byts:
        r.add("repr_bytes", "REPR_BYTES", b, ("BRINE_OK", None, None, repr(b).encode("ascii")))
    r.run()

    gen = os.path.join(ROOT, "tools", "gen_printable.py")
    proc = subprocess.run([sys.executable, gen, "--check"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)
    print(proc.stdout.decode(errors="replace").strip())
    r.compared += 1
    r.by_label["generated_table_current"] = 1
    if proc.returncode != 0:
        r.fail("generated_table_current", "gen_printable.py --check failed")
    print("code points compared: %d (repr and isprintable)" % 0x110000)
    return r.summary("test_pyrepr_diff", started)


if __name__ == "__main__":
    sys.exit(main())
