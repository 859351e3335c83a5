#!/usr/bin/env python3
"""test_canon_read_corpus.py - the canonical text reader on decoder output.

Pickles written by CPython (this interpreter) at protocols 0-5 for varied
values - strings with every escape, floats with NaN payloads, big ints on
both sides of the decimal/hex boundary, shared and cyclic structures,
instances of the classes below (reduce, state, slots, keyword arguments,
list and dict subclasses), sets, frozensets, dicts with mixed keys,
persistent ids, out-of-band buffers - plus hand-written Python 2 streams,
random values, and the oracle's generated and malformed corpora when the
oracle is available, are handed to the C helper
(tests/unit/test_canon_read.c in --corpus mode, found through
BRINE_BUILD_DIR or given as the first argument). For each pickle brine
decodes, the helper checks that reading the canonical text and printing it
again gives the same text, mutates the text (what is accepted must print
back identically) and mutates the pickle (what decodes must round-trip).
"""
import io
import os
import pickle
import random
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
if not os.path.isdir(os.path.join(ROOT, "oracle")):  # run from a copy: ctest's cwd is the tree
    ROOT = os.getcwd()

# Set iteration order, and so the pickles, depend on the hash seed.
if os.environ.get("PYTHONHASHSEED") != "0":
    env = dict(os.environ, PYTHONHASHSEED="0")
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def helper_path():
    if len(sys.argv) > 1:
        return sys.argv[1]
    build = os.environ.get("BRINE_BUILD_DIR")
    if not build:
        sys.exit("BRINE_BUILD_DIR is not set and no helper path was given")
    return os.path.join(build, "test_canon_read")


# --- classes whose instances are pickled (module level: found by name) ---

class Plain:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b


class WithState:
    def __init__(self, x):
        self.x = x

    def __getstate__(self):
        return ("state", self.x)

    def __setstate__(self, s):
        self.x = s[1]


class Reduced:
    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return (Reduced, self.args)


class ReducedWithState:
    def __init__(self, a):
        self.a = a

    def __reduce__(self):
        return (ReducedWithState, (self.a,), {"a": self.a, "extra": [self.a]})


class KwNew:
    def __new__(cls, *args, **kw):
        self = object.__new__(cls)
        self.args, self.kw = args, kw
        return self

    def __getnewargs_ex__(self):
        return self.args, self.kw


class MyList(list):
    pass


class MyDict(dict):
    pass


class Node:
    def __init__(self, name):
        self.name = name
        self.next = None
        self.prev = None


class Items:
    """__reduce__ with list and dict iterators (APPENDS, SETITEMS on an object)."""

    def __init__(self, items, pairs):
        self.items, self.pairs = items, pairs

    def __reduce__(self):
        return (Items, ([], {}), None, iter(self.items), iter(self.pairs.items()))

    def extend(self, xs):
        self.items.extend(xs)

    def __setitem__(self, k, v):
        self.pairs[k] = v


def f64(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


def all_chars():
    cps = list(range(0, 0x300)) + [0x20ac, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff]
    return "".join(map(chr, cps)) + "\ud800\udfff\udbff"


def values():
    """The hand-picked values, each pickled at every protocol."""
    out = []
    add = out.append
    add(None), add(True), add(False)
    for x in [0, 1, -1, 255, 256, -5, -6, 2**31, 2**63 - 1, -2**63, 2**64 - 1, 2**64, -2**64,
              2**100, -(2**4096) + 1, 2**4096 - 1, 2**4096, -(2**4096), 2**5000 + 12345,
              int("9" * 1233), -int("9" * 1234)]:
        add(x)
    floats = [0.0, -0.0, 1.5, 0.1, 1e16, 1e-5, 5e-324, 1.7976931348623157e308, float("inf"),
              float("-inf"), float("nan"), f64(0xfff8000000000000), f64(0x7ff0000000000001),
              f64(0x7ff4000000000000), f64(0xffffffffffffffff), 123456789.0, 1e22, -2.5e-10]
    add(floats)
    add([complex(1, -0.0), complex(float("nan"), float("inf")), 1j])
    add(all_chars())
    add(["", "a", "'", "\\", "\t\n\r", "\x00\x7f\x80\xff", "\u20ac", "\U0001f600", "caf\xe9",
         "a'b\"c"])
    add(bytes(range(256)))
    add([b"", b"a", b"\x00", bytearray(), bytearray(b"xyz"), bytearray(range(256))])
    add(((), (1,), (1, 2), ((),), (((1,),),)))
    add([[], {}, set(), frozenset(), {1: 2}, {3}, frozenset({4})])
    add({1: "a", "a": 1, (1, "a"): 2, frozenset({1}): 3, None: 4, 2.5: 5, b"x": 6, True: 7,
         -0.0: 8, 2**70: 9, (): 10, float("nan"): 11})
    add({frozenset({1, 2}), frozenset(), (1, (2, (3,))), "s", b"b", 4.5})
    add(frozenset({frozenset({frozenset()}), (frozenset({1}), 2)}))
    shared = "shared string"
    sb = b"shared bytes"
    t = (1, 2)
    add([shared, shared, sb, sb, t, t, [t], {t: t}])
    lst = []
    lst.append(lst)
    add(lst)
    d = {}
    d["self"] = d
    add(d)
    inner = []
    tup = (inner, 1)
    inner.append(tup)
    add(tup)
    add([tup, inner])
    a, b = Node("a"), Node("b")
    a.next, b.prev = b, a
    add(a)
    add([a, b])
    p = Plain(x=1, y=[1, 2], z={"k": "v"})
    p.me = p
    add(p)
    add(Slotted(1, [2]))
    add(WithState([1, 2]))
    add(Reduced(1, "two", [3]))
    add(ReducedWithState([1]))
    add(KwNew(1, 2, k=3, j=[4]))
    add(KwNew())
    ml = MyList([1, 2, 3])
    ml.attr = "x"
    add(ml)
    md = MyDict(a=1, b=2)
    md.attr = md
    add(md)
    add(Items([1, 2, 3], {"a": 1, "b": 2}))
    # a tuple reached through an object's state, used as a key inside it
    n = Node("n")
    key = (n, 1)
    n.next = {key: "v"}
    add(key)
    add([Plain(a=1), Plain(a=1), Slotted(None, None)])
    deep = []
    for _ in range(300):
        deep = [deep, (deep,)]
    add(deep)
    add({"k%d" % i: i for i in range(200)})
    add(set(range(100)))
    add([i * 0.1 for i in range(50)])
    return out


class PidPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, str) and obj.startswith("pid:"):
            return obj[4:]
        if isinstance(obj, tuple) and obj and obj[0] == "pidtuple":
            return obj
        return None


def record(data, policy=0, fix_imports=1, encoding="", errors="", buffers=(), extensions=()):
    body = bytearray()
    body += bytes([policy, fix_imports])
    body += bytes([len(encoding)]) + encoding.encode()
    body += bytes([len(errors)]) + errors.encode()
    body += struct.pack("<I", len(buffers))
    for ro, b in buffers:
        body += bytes([1 if ro else 0]) + struct.pack("<I", len(b)) + bytes(b)
    body += struct.pack("<I", len(extensions))
    for code, module, name in extensions:
        body += struct.pack("<i", code)
        for s in (module, name):
            s = s.encode()
            body += struct.pack("<H", len(s)) + s
    body += data
    return struct.pack("<I", len(body)) + body


PY2_STREAMS = [
    # set([1, 2]) and friends as Python 2 wrote them
    b"c__builtin__\nset\np0\n((lp1\nI1\naI2\natp2\nRp3\n.",
    b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.",
    b"\x80\x02c__builtin__\nfrozenset\nq\x00]q\x01K\x01a\x85q\x02Rq\x03.",
    # an old-style instance and a new-style one through copy_reg
    b"(i__main__\nOld\np0\n(dp1\nS'a'\np2\nI1\nsb.",
    b"\x80\x02ccopy_reg\n_reconstructor\nq\x00(c__main__\nFoo\nq\x01c__builtin__\nobject\n"
    b"q\x02Ntq\x03Rq\x04}q\x05U\x01aq\x06K\x01sb.",
    # str, unicode, long, exceptions, xrange
    b"S'abc'\np0\n.",
    b"S'caf\\xe9'\np0\n.",
    b"U\x03abcq\x00.",
    b"T\x04\x00\x00\x00\xff\xfe\x00aq\x00.",
    b"Vh\\u00e9llo\\u20ac\np0\n.",
    b"L12345678901234567890123L\n.",
    b"cexceptions\nValueError\np0\n(S'x'\np1\ntp2\nRp3\n.",
    b"c__builtin__\nxrange\np0\n(I0\nI10\nI1\ntp1\nRp2\n.",
    b"(lp0\nS'a'\np1\nag1\naI00\naI01\naF1.5\na.",
    b"\x80\x02]q\x00(U\x01aq\x01h\x01G?\xf8\x00\x00\x00\x00\x00\x00e.",
    b"(dp0\nS'k'\np1\n(lp2\ng0\nas.",
    b"cUserDict\nUserDict\np0\n)Rp1\n(dp2\nS'data'\np3\n(dp4\nsb.",
    b"c__builtin__\nbytearray\np0\n(Vab\np1\nS'latin-1'\np2\ntp3\nRp4\n.",
]


def own_corpus(rng):
    recs = []
    vals = values()
    for v in vals:
        for proto in range(6):
            try:
                data = pickle.dumps(v, proto)
            except Exception as e:  # e.g. protocol 0/1 limits
                print("skip value at protocol %d: %r" % (proto, e))
                continue
            recs.append(record(data))
            recs.append(record(data, policy=1))
    # persistent ids
    for proto in range(6):
        f = io.BytesIO()
        PidPickler(f, proto).dump(["pid:42", ("pidtuple", 1), "pid:42", [1, "pid:x"]])
        recs.append(record(f.getvalue()))
    # out-of-band buffers
    for ro in (False, True):
        bufs = []
        arr = [pickle.PickleBuffer(b"read only"), pickle.PickleBuffer(bytearray(b"writable")),
               bytearray(b"in band")]
        data = pickle.dumps(arr, 5, buffer_callback=lambda b: bufs.append(b.raw()) is None and False)
        recs.append(record(data, buffers=[(ro, bytes(b)) for b in bufs]))
        data = pickle.dumps(arr, 5)
        recs.append(record(data))
    # Python 2 streams, with the encodings and name mapping CPython offers
    for data in PY2_STREAMS:
        for enc in ("", "latin1", "bytes", "utf-8"):
            recs.append(record(data, encoding=enc))
        recs.append(record(data, fix_imports=0, encoding="latin1"))
        recs.append(record(data, policy=1, encoding="latin1", errors="surrogateescape"))
    # random values
    for i in range(400):
        v = random_value(rng, 4)
        proto = rng.randrange(6)
        try:
            recs.append(record(pickle.dumps(v, proto), policy=rng.randrange(2)))
        except Exception:
            pass
    return recs


def random_atom(rng):
    k = rng.randrange(9)
    if k == 0:
        return rng.choice([None, True, False])
    if k == 1:
        return rng.randrange(-2**rng.randrange(1, 80), 2**rng.randrange(1, 80))
    if k == 2:
        return f64(rng.getrandbits(64)) if rng.randrange(2) else rng.random() * 10**rng.randrange(-20, 20)
    if k == 3:
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x300),
                                       rng.randrange(0xd800, 0xe000), rng.randrange(0x110000)]))
                       for _ in range(rng.randrange(6)))
    if k == 4:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(5)))
    if k == 5:
        return complex(rng.random(), -rng.random())
    if k == 6:
        return bytearray(rng.getrandbits(8) for _ in range(rng.randrange(3)))
    if k == 7:
        return Plain(v=rng.randrange(5))
    return rng.choice(["x", "shared", "y"])


def random_hashable(rng, depth):
    if depth <= 0 or rng.randrange(3) == 0:
        v = random_atom(rng)
        return v if not isinstance(v, bytearray) else bytes(v)
    if rng.randrange(2):
        return tuple(random_hashable(rng, depth - 1) for _ in range(rng.randrange(3)))
    return frozenset(random_hashable(rng, depth - 1) for _ in range(rng.randrange(3)))


def random_value(rng, depth, pool=None):
    pool = [] if pool is None else pool
    if pool and rng.randrange(6) == 0:
        return rng.choice(pool)
    if depth <= 0 or rng.randrange(4) == 0:
        return random_atom(rng)
    k = rng.randrange(7)
    n = rng.randrange(4)
    if k == 0:
        v = tuple(random_value(rng, depth - 1, pool) for _ in range(n))
    elif k == 1:
        v = [random_value(rng, depth - 1, pool) for _ in range(n)]
        if rng.randrange(4) == 0:
            v.append(v)
    elif k == 2:
        v = {random_hashable(rng, 2): random_value(rng, depth - 1, pool) for _ in range(n)}
        if rng.randrange(4) == 0:
            v["me"] = v
    elif k == 3:
        v = {random_hashable(rng, 2) for _ in range(n)}
    elif k == 4:
        v = frozenset(random_hashable(rng, 2) for _ in range(n))
    elif k == 5:
        v = Plain(a=random_value(rng, depth - 1, pool))
        if rng.randrange(3) == 0:
            v.me = v
    else:
        v = KwNew(random_value(rng, depth - 1, pool), k=random_value(rng, depth - 1, pool))
    pool.append(v)
    return v


def oracle_corpus(seed):
    """The oracle's generated and malformed cases, or [] when unavailable."""
    recs = []
    try:
        sys.path.insert(0, ROOT)
        from oracle.generate import generate_cases
        for malformed in (False, True):
            for case in generate_cases(seed, 1, malformed=malformed):
                bufs = [(ro, b) for b, ro in case.buffer_data]
                exts = [(code, m, n) for m, n, code in case.extensions]
                recs.append(record(case.data, buffers=bufs, extensions=exts))
                if case.index % 3 == 0:
                    recs.append(record(case.data, policy=1, buffers=bufs, extensions=exts))
    except Exception as e:  # the oracle is another component: report, go on
        print("oracle corpus unavailable: %r" % (e,))
    return recs


def main():
    helper = helper_path()
    if not os.path.exists(helper):
        sys.exit("helper not found: %s" % helper)
    start = time.time()
    rng = random.Random(20240611)
    recs = own_corpus(rng)
    own = len(recs)
    recs += oracle_corpus(7)
    fd, path = tempfile.mkstemp(prefix="canon_read_corpus_", suffix=".bin")
    with os.fdopen(fd, "wb") as f:
        for r in recs:
            f.write(r)
    try:
        proc = subprocess.run([helper, "--corpus", path, os.environ.get("CANON_READ_TEXT_MUTATIONS", "12"),
                               os.environ.get("CANON_READ_PICKLE_MUTATIONS", "24")],
                              capture_output=True, text=True, timeout=3600)
    finally:
        os.unlink(path)
    sys.stderr.write(proc.stderr[-20000:])
    print("corpus: %d own records, %d oracle records" % (own, len(recs) - own))
    print(proc.stdout.strip())
    stats = dict(kv.split("=") for kv in proc.stdout.split())
    ok = proc.returncode == 0 and int(stats["failures"]) == 0
    ok = ok and int(stats["roundtrips"]) == int(stats["decoded"]) and int(stats["decoded"]) > own // 2
    print("%s in %.1f s" % ("ok" if ok else "FAILED", time.time() - start))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
