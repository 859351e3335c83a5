#!/usr/bin/env python3
"""test_encode_cases.py - the values brine_encode() must pickle as CPython does.

``python3 tests/py/test_encode_cases.py --out DIR`` writes, for every value
below and every protocol 0-5, what CPython 3.11's C pickler wrote for it
(``pickle.dumps``, or a ``pickle.Pickler`` with a ``persistent_id`` or a
``buffer_callback``) into DIR, plus ``DIR/manifest.txt`` for the C side,
tests/unit/test_encode_roundtrip.c, which decodes each pickle with brine
(both policies) and checks that brine_encode() gives back the same bytes.

manifest.txt has one tab-separated line per check::

    want  src  protocol  policies  nbuffers  name

``src`` is the pickle to decode and ``want`` the file the encoder must write
at ``protocol`` (the same file for a round trip; another protocol's file
for the cross-protocol checks of plain data), or ``!ErrorClass`` when
CPython's pickler raised that exception for the value at ``protocol``.
``policies`` has one letter per decoder policy (symbolic, builtins):
lowercase when the check must hold, uppercase when it is a known
limitation (run and listed, not counted as a failure; see KNOWN), ``-``
when it is not run. Out-of-band buffers of ``src``
are ``src.buf0`` ...

``--corpus CORPUS --out DIR`` instead writes a manifest.txt (and links)
for the round trips an oracle corpus (``python3 -m oracle generate``)
marks in its manifest.json.

Run without arguments (as ctest does) it checks that generating twice gives
the same files, which CPython's hash randomization would otherwise break.
Everything runs under PYTHONHASHSEED=0 (the script re-executes itself).
"""
import copyreg
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile

if os.environ.get("PYTHONHASHSEED") != "0":
    env = dict(os.environ, PYTHONHASHSEED="0")
    sys.exit(subprocess.call([sys.executable] + sys.argv, env=env))

# --------------------------------------------------------------------------
# Classes pickled by reference and instances of them (module __main__)
# --------------------------------------------------------------------------


def func():
    pass


class Outer:
    class Inner:
        class Deep:
            pass

    class B:  # a one-character last component
        pass


class Plain:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class Slots:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b


class SlotsDict:
    __slots__ = ("a", "__dict__")

    def __init__(self, a, **kw):
        self.a = a
        self.__dict__.update(kw)


class GetState:
    def __init__(self, x):
        self.x = x

    def __getstate__(self):
        return ("state", self.x)

    def __setstate__(self, st):
        self.x = st[1]


class FalseState:
    """A state that is false is not written (no BUILD)."""

    def __init__(self):
        self.x = 1

    def __getstate__(self):
        return 0


class NewArgs:
    def __new__(cls, a, b):
        self = object.__new__(cls)
        self.a, self.b = a, b
        return self

    def __getnewargs__(self):
        return (self.a, self.b)


class NewArgsEx:
    """cls.__new__ is object.__new__ (what brine assumes below protocol 4)."""

    def __init__(self, a, *, k):
        self.a, self.k = a, k

    def __getnewargs_ex__(self):
        return ((self.a,), {"k": self.k})


class NewArgsExOwnNew:
    def __new__(cls, a, *, k):
        self = object.__new__(cls)
        self.a, self.k = a, k
        return self

    def __getnewargs_ex__(self):
        return ((self.a,), {"k": self.k})


class NewArgsExEmpty:
    def __getnewargs_ex__(self):
        return ((1, 2), {})


class NewObjExEmpty:
    """A custom reduce with copyreg.__newobj_ex__ and empty kwargs."""

    def __reduce_ex__(self, proto):
        return copyreg.__newobj_ex__, (type(self), (7,), {}), None


def make_point(x, y):
    return (x, y)


class Red2:
    def __reduce__(self):
        return make_point, (1, 2)


class Red3:
    def __reduce__(self):
        return make_point, (1, 2), {"s": 1}


class Red4:
    def __reduce__(self):
        return make_point, (1, 2), None, iter([1, 2, 3])


class Red4One:
    def __reduce__(self):
        return make_point, (), None, iter(["only"])


class Red4Many:
    def __reduce__(self):
        return make_point, (), None, iter(range(2001))


class Red5:
    def __reduce__(self):
        return make_point, (), {"st": 0}, iter([1]), iter({"a": 1, "b": 2}.items())


class Red5One:
    def __reduce__(self):
        return make_point, (), None, None, iter([("k", "v")])


class Red5Many:
    def __reduce__(self):
        return make_point, (), None, None, iter([(i, -i) for i in range(1001)])


def set_state(obj, state):
    pass


class Red6:
    def __init__(self, x=1):
        self.x = x

    def __reduce__(self):
        return make_point, (self.x,), {"a": 1}, None, None, set_state


class ConstArgs:
    """Every call returns the same (constant) args tuple object."""

    def __reduce__(self):
        return make_point, (1, 2)


class Red6Items:
    def __reduce__(self):
        return make_point, (), [1], iter([4, 5]), iter([("k", 1)]), set_state


SINGLETON = object.__new__(Plain)


class ByName:
    def __reduce__(self):
        return "SINGLETON"


class MyList(list):
    pass


class MyDict(dict):
    pass


class MyListAttr(list):
    def __init__(self, *a):
        super().__init__(*a)
        self.attr = "x"


class Node:
    def __init__(self, name):
        self.name = name
        self.next = None


class Ünicode:  # not ASCII: PicklingError below protocol 3
    pass


class PersistentPickler(pickle.Pickler):
    """Objects of type Stored are written as persistent ids."""

    def persistent_id(self, obj):
        if isinstance(obj, Stored):
            return obj.pid
        return None


class Stored:
    def __init__(self, pid):
        self.pid = pid


class Skip(Exception):
    """A case that is not generated at this protocol."""


# --------------------------------------------------------------------------
# The values
# --------------------------------------------------------------------------


def nan_bits(bits):
    return struct.unpack(">d", struct.pack(">Q", bits))[0]


def recursive_list():
    l = [1]
    l.append(l)
    return l


def tuple_chain_through_list(n):
    """n tuples nested in one another, the innermost holding a list that
    holds the outermost: saved twice over (the encoder's recursion guard
    then follows more than its eight inline entries)."""
    lst = []
    t = (lst,)
    for _ in range(n - 1):
        t = (t,)
    lst.append(t)
    return t


def recursive_dict():
    d = {"a": 1}
    d["self"] = d
    return d


def tuple_through_list(n):
    l = []
    t = tuple([l] + list(range(n - 1)))
    l.append(t)
    return t


def list_through_tuple(n):
    return tuple_through_list(n)[0]


def node_cycle():
    a, b = Node("a"), Node("b")
    a.next, b.next = b, a
    return [a, b]


def self_ref_object():
    p = Plain(x=1)
    p.me = p
    return p


def frozenset_in_object():
    p = Plain()
    f = frozenset([p, 1])
    p.f = f
    return f


def set_in_object():
    p = Plain()
    s = {p}
    p.s = s
    return s


def recursive_reduce():
    """An object whose __reduce__ args reach it: CPython pops the outer copy."""
    n = NewArgs(None, 1)
    n.a = [n]
    return n


def recursive_reduce_numbers():
    """The popped outer copy has its own (equal) number nodes as arguments."""
    n = NewArgs(None, 2**70)
    n.a = [n, 1.5, 2**80]
    m = NewArgs(None, -0.25)
    m.a = [m, 3.5]
    return [n, m]


def shared():
    s = "shared" + str(len("x"))
    t = (1, 2)
    return [s, s, t, t, [s], {"k": s}]


def distinct_equal():
    return ["ab" + str(i % 1) for i in range(3)] + [[1], [1], (1, 2), (1, 2)]


def frame_edge(first):
    """At protocol 4 the frame holds 64 KiB - 250 + first bytes when the
    last item's save() starts: first = 250 closes it exactly there."""
    return [b"x" * first] + [bytes([65 + i % 26]) * 253 for i in range(255)] + [b"z"]


def random_values(seed, count):
    """Nested values of every plain kind, with shared and cyclic parts."""
    import random
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        pool = []

        def make(depth):
            r = rng.random()
            if pool and r < 0.15:
                return rng.choice(pool)
            if depth > 4 or r < 0.45:
                kind = rng.randrange(9)
                v = [None, rng.random() < 0.5, rng.randrange(-2**70, 2**70) >> rng.randrange(70),
                     rng.uniform(-1e9, 1e9), "s%d\u20ac" % rng.randrange(99),
                     bytes(rng.randrange(256) for _ in range(rng.randrange(4))),
                     complex(rng.random(), 1), "", rng.choice(["a", "\xe9", "ab"])][kind]
            else:
                kind = rng.randrange(6)
                items = [make(depth + 1) for _ in range(rng.randrange(5))]
                hashable = [x for x in items if isinstance(x, (int, float, str, bytes, tuple,
                                                               type(None), complex))]
                hashable = [x for x in hashable if not isinstance(x, tuple) or
                            all(not isinstance(y, (list, dict, set, bytearray)) for y in x)]
                v = [list(items), tuple(items), {"k%d" % i: x for i, x in enumerate(items)},
                     set(h for h in hashable if not isinstance(h, tuple)),
                     frozenset(h for h in hashable if not isinstance(h, tuple)),
                     bytearray(len(items))][kind]
                if isinstance(v, list) and rng.random() < 0.3:
                    v.append(v)  # a cycle
            pool.append(v)
            return v
        out.append(make(0))
    return out


def big_nested(n, width):
    return [[str(i) * width for i in range(j, j + 10)] for j in range(0, n, 10)]


DATA = [
    # ints
    ("int 0", 0), ("int 1", 1), ("int -1", -1), ("int 255", 255), ("int 256", 256),
    ("int -256", -256), ("int 65535", 65535), ("int 65536", 65536),
    ("int 2**31-1", 2**31 - 1), ("int 2**31", 2**31), ("int -2**31", -2**31),
    ("int -2**31-1", -2**31 - 1), ("int 2**32", 2**32), ("int 2**63-1", 2**63 - 1),
    ("int 2**63", 2**63), ("int -2**63", -2**63), ("int -2**63-1", -2**63 - 1),
    ("int 2**64", 2**64), ("int -2**64", -2**64), ("int 127*2**8", 127 << 8),
    ("int 2**2039-1 (LONG1 255 bytes)", 2**2039 - 1), ("int 2**2039 (LONG4)", 2**2039),
    ("int -2**2039 (LONG1)", -2**2039), ("int -2**2039-1 (LONG4)", -2**2039 - 1),
    ("int 10**4299 (4300 digits)", 10**4299), ("int -10**4299", -10**4299),
    ("int 10**4300 (4301 digits)", 10**4300),
    ("bools", [True, False, True]),
    ("None", None),
    # floats
    ("floats", [0.0, -0.0, 1.5, -2.25, 0.1, 1 / 3, 1e16, 1e-5, 1e22, 1e300, 123456789.0]),
    ("float subnormals", [5e-324, 1e-310, 2.2250738585072014e-308, -5e-324]),
    ("float inf nan", [float("inf"), float("-inf"), float("nan"), -float("nan")]),
    ("float nan payloads", [nan_bits(0x7ff0000000000001), nan_bits(0x7ff8000000000123),
                            nan_bits(0xfff8000000000000), nan_bits(0x7fffffffffffffff)]),
    ("complex", [1 + 2j, complex(-0.0, float("inf")), 0j]),
    ("complex shared", [1j, 1j, (1j,)]),
    # strs
    ("str empty", ""), ("str a", "a"), ("str latin1", "\xe9"), ("str bmp", "\u20ac"),
    ("str astral", "\U0001f600"), ("str surrogates", ["\ud800", "\udfff", "a\udc80b"]),
    ("str escapes", ["\\", "\n", "\r", "\x00", "\x1a", "\t", "a\\u0041", "\\U00000041",
                     "'\"", "\x7f\x80\xff", "\u0100", "\uffff"]),
    ("str 255 bytes", "x" * 255), ("str 256 bytes", "x" * 256),
    ("str 255 bytes utf8", "\xe9" * 127 + "x"), ("str 256 bytes utf8", "\xe9" * 128),
    ("str 70000", "abc" * 23334), ("str 70000 astral", "\U0001f600" * 17500),
    ("str one-char singletons", ["a", "a", "\xff", "\xff", "", ""]),
    # bytes and bytearray
    ("bytes", [b"", b"\x00", b"a", b"\xff", b"ab", b"\x80" * 3]),
    ("bytes shared", [b"xy", b"xy", b"a", b"a", b"", b""]),
    ("bytes 255", b"q" * 255), ("bytes 256", b"q" * 256), ("bytes 300 high", b"\x80" * 300),
    ("bytes 70000", bytes(range(256)) * 274),
    # A str or bytes of 16 KB or more is made in one block with its node,
    # outside the arena's chunks: the encoder's memo must still find it.
    ("long str and bytes shared", (lambda s, b: [s, b, s, b, [s, b]])("w" * 20000, b"v" * 30000)),
    ("bytes latin1 one-char strs", [b"\xe9", "\xe9", b"z", "z"]),
    ("str latin1 as text", ["latin1", b"q"]),
    ("bytearray", [bytearray(), bytearray(b"a"), bytearray(b"ab\x00\xff")]),
    ("bytearray 1 and bytes", [bytearray(b"\xe9"), b"\xe9", "\xe9", bytearray(b"a"), b"a"]),
    ("one-char str: literal and singleton", ["a", chr(97), b"a"]),
    ("empty bytes made at run time", [b"x" * len(""), b"y" * len(""), b""]),
    ("bytearray 300", bytearray(b"\x01" * 300)), ("bytearray 70000", bytearray(70000)),
    # tuples
    ("tuple empty", ()), ("tuples", [(1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), ((),), ((), ())]),
    ("tuple shared", [(1, "a"), (1, "a")]),
    ("tuple nested", ((1, (2, (3, (4, (5,)))))),),
    ("tuple rec 1", tuple_through_list(1)), ("tuple rec 2", tuple_through_list(2)),
    ("tuple rec 3", tuple_through_list(3)), ("tuple rec 4", tuple_through_list(4)),
    ("tuple rec 5", tuple_through_list(5)), ("list rec via tuple", list_through_tuple(2)),
    ("list rec via tuple 6", list_through_tuple(6)),
    # containers and batches
    ("list empty", []), ("dict empty", {}), ("set empty", set()),
    ("frozenset empty", frozenset()),
]
for n in (1, 2, 3, 999, 1000, 1001, 2000, 2001):
    DATA.append(("list %d" % n, list(range(n))))
    DATA.append(("dict %d" % n, {i: -i for i in range(n)}))
    DATA.append(("set %d" % n, set(range(n))))
    DATA.append(("frozenset %d" % n, frozenset(range(n))))
DATA += [
    ("set of strs", {"x%d" % i for i in range(40)}),
    ("frozenset of tuples", frozenset((i, str(i)) for i in range(20))),
    ("set in list twice", (lambda s: [s, s])({1, 2})),
    ("frozenset in list twice", (lambda s: [s, s])(frozenset({1, 2}))),
    ("shared", shared()), ("distinct equal", distinct_equal()),
    ("recursive list", recursive_list()), ("recursive dict", recursive_dict()),
    ("tuple chain 20 through a list", tuple_chain_through_list(20)),
    ("dict keys", {None: 1, True: 2, 1.5: 3, (1, 2): 4, "s": 5, b"b": 6, frozenset(): 7}),
    ("nested 64K", big_nested(3000, 3)), ("nested 200K", big_nested(20000, 5)),
    ("list of 70000-byte items", [b"z" * 70000, "y" * 70000, b"w" * 65535, b"v" * 65536]),
    ("frame edge 64K", frame_edge(250)), ("frame edge 64K-1", frame_edge(249)),
    ("frame edge 64K+1", frame_edge(251)),
    ("payload edges", [b"a" * 65535, b"b" * 65536, "c" * 65535, "d" * 65536,
                       bytearray(65535), bytearray(65536)]),
    ("deep list", (lambda: [[[[[[[[[[[]]]]]]]]]]])()),
    ("deep list 300", __import__("functools").reduce(lambda a, _: [a], range(300), [])),
    ("deep tuple 300", __import__("functools").reduce(lambda a, _: (a,), range(300), ())),
    ("deep dict 300", __import__("functools").reduce(lambda a, _: {"k": a}, range(300), {})),
]

DATA += [("random %d" % i, v) for i, v in enumerate(random_values(7, 60))]


class CustomNewobj:
    """copyreg.__newobj__ from a custom __reduce_ex__: NEWOBJ from protocol 2,
    REDUCE of copy_reg.__newobj__ below."""

    def __reduce_ex__(self, proto):
        return copyreg.__newobj__, (CustomNewobj, 1, "two"), {"st": 3}


class CustomNewobjEx:
    def __reduce_ex__(self, proto):
        return copyreg.__newobj_ex__, (CustomNewobjEx, (1,), {"k": [2]}), None, iter([5])


OBJECTS = [
    ("custom newobj", CustomNewobj()), ("custom newobj ex", CustomNewobjEx()),
    ("global function", func), ("global class", Plain), ("global builtin", len),
    ("global builtin types", [int, dict, set, frozenset, bytes, bytearray, complex, type(None)]),
    ("global nested", Outer.Inner), ("global nested deep", Outer.Inner.Deep),
    ("global nested one-char", Outer.B), ("global nested shared", [Outer.Inner, Outer.Inner]),
    ("global both", [Outer, Outer.Inner, Outer.Inner.Deep]),
    ("global renamed py2", [range, ImportError, KeyError, copyreg.__newobj__]),
    ("global functools", __import__("functools").reduce),
    ("global non-ascii", Ünicode),
    ("plain", Plain(a=1, b="two", c=[3])), ("plain empty", Plain()),
    ("plain twice", (lambda p: [p, p])(Plain(x=1))),
    ("plains share keys", [Plain(name=1, value=2), Plain(name=3, value=4)]),
    ("slots", Slots(1, [2])), ("slots dict", SlotsDict(1, z=2)),
    ("getstate", GetState([1, 2])), ("false state", FalseState()),
    ("newargs", NewArgs(1, "b")), ("newargs ex", NewArgsEx(1, k="kw")),
    ("newargs ex own new", NewArgsExOwnNew(1, k=2)),
    ("newargs ex shared", (lambda o: [o, o, NewArgsEx(2, k=3)])(NewArgsEx(1, k="kw"))),
    ("newargs ex empty kwargs", NewArgsExEmpty()), ("newobj ex empty", NewObjExEmpty()),
    ("reduce 2", Red2()), ("reduce 3", Red3()), ("reduce 4", Red4()), ("reduce 4 one", Red4One()),
    ("reduce 4 many", Red4Many()), ("reduce 5", Red5()), ("reduce 5 one", Red5One()),
    ("reduce 5 many", Red5Many()), ("reduce 6", Red6()), ("reduce 6 items", Red6Items()),
    ("reduce 6 twice", (lambda r: [r, r, Red6(2)])(Red6())),
    ("reduce const args twice", [ConstArgs(), ConstArgs()]),
    ("reduce string", ByName()), ("reduce string twice", [ByName(), ByName()]),
    ("list subclass", MyList([1, 2, 3])), ("list subclass one", MyList(["x"])),
    ("list subclass empty", MyList()), ("list subclass 1001", MyList(range(1001))),
    ("list subclass attr", MyListAttr([1])),
    ("dict subclass", MyDict(a=1, b=2)), ("dict subclass one", MyDict(a=1)),
    ("dict subclass 1000", MyDict((i, i) for i in range(1000))),
    ("node cycle", node_cycle()), ("self ref object", self_ref_object()),
    ("frozenset in object", frozenset_in_object()), ("set in object", set_in_object()),
    ("recursive reduce", recursive_reduce()),
    ("recursive reduce numbers", recursive_reduce_numbers()),
    ("object in tuple in list", (lambda p: [(p, p), p])(Plain(q=1))),
]

PERSISTENT = [
    ("persid str", [Stored("abc"), 1, Stored("abc")]),
    ("persid int", [Stored(42), Stored(-7), Stored(2**70)]),
    ("persid tuple", Stored(("t", 1))),
    ("persid shared pid", (lambda s: [s, s])(Stored("same"))),
    ("persid non-ascii", Stored("\xe9t\xe9")),
    ("persid bool float", [Stored(True), Stored(1.5)]),
    ("persid nested", [Stored("a"), Stored(["x", Stored("inner")])]),
]

BUFFERS = [
    ("buffer writable", lambda: [pickle.PickleBuffer(bytearray(b"abc"))]),
    ("buffer readonly", lambda: [pickle.PickleBuffer(b"xyz"), 1]),
    ("buffers mixed", lambda: (lambda b: [pickle.PickleBuffer(b"ro"),
                                          pickle.PickleBuffer(bytearray(b"rw")), b, b])(
        pickle.PickleBuffer(bytearray(b"same")))),
    ("buffer big", lambda: [pickle.PickleBuffer(bytearray(100000)), "after"]),
]

def memo_far_from_page():
    """A protocol 2 stream (written here, not by CPython) that makes each of
    20 strs 'e<i>' right before a str 'l<i>', then writes the root
    [e0..e19, 70000 empty lists, l0..l19, l0..l19]: the pickler memoizes
    each l<i> 70000 indices after the e<i> made next to it, further than
    the encoder's 16-bit memo entries reach from their page's base, and
    fetches it again."""
    def binunicode(text):
        data = text.encode()
        return b"X" + struct.pack("<I", len(data)) + data

    out = [b"\x80\x02", b"]", b"q\x00"]  # the root, memo 0
    for i in range(20):
        out += [binunicode("e%d" % i), b"q", bytes([1 + 2 * i]), b"0",
                binunicode("l%d" % i), b"q", bytes([2 + 2 * i]), b"0"]
    out += [b"h\x00", b"("]
    out += [b"h" + bytes([1 + 2 * i]) for i in range(20)]
    out += [b"]"] * 70000
    out += [b"h" + bytes([2 + 2 * i]) for i in range(20)] * 2
    out += [b"e", b"."]
    return b"".join(out)


# Streams CPython does not write, decoded and written back as pickle.dumps
# writes what pickle.loads makes of them (they are this file's own, so
# loading them is safe): graphs whose nodes lie in another order than the
# one the pickler saves them in.
CRAFTED = [
    ("memo far from its page", memo_far_from_page),
]

# Checks known not to round-trip, by (label, protocol or None for all):
# policies that fail ("s", "b" or "sb") and why. They are run and listed
# separately; see the report in the encoder's commit for the details.
KNOWN = {
    # CPython 3.11's ASCII one-character literals are interned objects
    # distinct from the latin-1 singletons that decoding (and bytes below
    # protocol 3) produce; the unpickler merges them, so no graph can say
    # which was which (pickle.dumps(pickle.loads(x)) differs too).
    ("one-char str: literal and singleton", None): "sb",
    # Likewise b"x" * 0 is a new empty bytes object in 3.11, not the shared
    # b'' that decoding gives (below protocol 3 symbolic decoding keeps the
    # bytes() calls apart).
    ("empty bytes made at run time", 0): "b", ("empty bytes made at run time", 1): "b",
    ("empty bytes made at run time", 2): "b", ("empty bytes made at run time", 3): "sb",
    ("empty bytes made at run time", 4): "sb", ("empty bytes made at run time", 5): "sb",
    # The interned 'latin1' of _codecs.encode(..., 'latin1') is the object
    # a str literal 'latin1' in the value is; folded bytes lose the link.
    ("str latin1 as text", 0): "b", ("str latin1 as text", 1): "b",
    ("str latin1 as text", 2): "b",
}


def policies(label, proto, cross=False):
    """The manifest's policy field: s/b to check, S/B known to fail, - skip."""
    known = KNOWN.get((label, None), "")
    known += (CROSS_KNOWN if cross else KNOWN).get((label, proto), "")
    return ("S" if "s" in known else "s") + ("B" if "b" in known else "b")


# Cross-protocol checks (decode protocol 5, encode at another) known to fail.
CROSS_KNOWN = {
    ("empty bytes made at run time", 0): "sb", ("empty bytes made at run time", 1): "sb",
    ("empty bytes made at run time", 2): "sb", ("empty bytes made at run time", 3): "sb",
    ("empty bytes made at run time", 4): "sb",
    # str(pid) of a tuple at protocol 0: brine computes str() only for str,
    # int, bool and float pids (it fails with PicklingError for the rest).
    ("persid tuple", 0): "sb",
    # new(C, args, kwargs) below protocol 4 is partial(C.__new__, ...) and
    # brine assumes C.__new__ is object.__new__; this class has its own.
    ("newargs ex own new", 2): "sb", ("newargs ex own new", 3): "sb",
    # As above: the protocol 5 graph's 'latin1' is the value's own str.
    ("str latin1 as text", 0): "sb", ("str latin1 as text", 1): "sb",
    ("str latin1 as text", 2): "sb",
}


def cross_protocol(label, value):
    """The lowest protocol the object case pickles as at protocol 5."""
    if label.startswith("global"):
        return 0  # names, getattr(A, 'B') below 4, Python 2 names below 3
    if label in ("recursive reduce", "recursive reduce numbers", "set in object",
                 "frozenset in object"):
        return 2
    items = value if type(value) is list else [value]
    if all(type(x).__reduce__ is not object.__reduce__ or
           type(x).__reduce_ex__ is not object.__reduce_ex__ for x in items):
        return 0  # a __reduce__ of its own, the same at every protocol
    # object.__reduce_ex__: copyreg._reconstructor below 2, __newobj__ from 2;
    # __getnewargs_ex__ is partial(cls.__new__, ...) at 2-3 as brine writes it.
    return 2


def dumps(value, proto):
    return pickle.dumps(value, proto)


def dumps_persistent(value, proto):
    if proto == 0 and isinstance(value, list) and isinstance(value[-1], Stored) and \
            isinstance(value[-1].pid, list):
        # str() of this pid holds an object's address: not reproducible.
        raise Skip()
    f = io.BytesIO()
    PersistentPickler(f, proto).dump(value)
    return f.getvalue()


def dumps_buffers(value, proto):
    if proto < 5:  # buffer_callback needs protocol 5
        return pickle.dumps(value, proto)
    bufs = []
    data = pickle.dumps(value, proto, buffer_callback=lambda b: bufs.append(b) or False)
    return data, [bytes(b.raw()) for b in bufs]


def generate(out):
    lines = []
    count = [0]

    def write(data, bufs=()):
        name = "%04d.pkl" % count[0]
        count[0] += 1
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        for i, b in enumerate(bufs):
            with open(os.path.join(out, "%s.buf%d" % (name, i)), "wb") as f:
                f.write(b)
        return name

    def case(label, fn, cross_from):
        files, errors = {}, {}
        for p in range(6):
            try:
                res = fn(p)
            except Skip:
                continue
            except Exception as exc:  # what CPython raises is the expectation
                errors[p] = type(exc).__name__
                continue
            data, bufs = res if isinstance(res, tuple) else (res, [])
            files[p] = (write(data, bufs), len(bufs))
        for p, (name, nbuf) in sorted(files.items()):
            pol = policies(label, p)
            lines.append("%s\t%s\t%d\t%s\t%d\t%s" % (name, name, p, pol, nbuf, label))
        # Values whose pickling does not depend on the protocol from
        # cross_from on decode to the same graph: decode the protocol 5
        # pickle and encode it at each of those protocols.
        src = files.get(5)
        if cross_from is None or not src:
            return
        for p in range(cross_from, 5):
            if p not in files and p not in errors:
                continue
            want = files[p][0] if p in files else "!" + errors[p]
            lines.append("%s\t%s\t%d\t%s\t%d\t%s (from p5)" % (
                want, src[0], p, policies(label, p, True), src[1], label))

    for label, value in DATA:
        case(label, lambda p, v=value: dumps(v, p), 0)
    for label, value in OBJECTS:
        case(label, lambda p, v=value: dumps(v, p), cross_protocol(label, value))
    for label, value in PERSISTENT:
        case(label, lambda p, v=value: dumps_persistent(v, p), 0)
    for label, make in BUFFERS:
        case(label, lambda p, m=make: dumps_buffers(m(), p), 0)
    for label, make in CRAFTED:
        stream = make()
        src = write(stream)
        value = pickle.loads(stream)
        for p in range(6):
            lines.append("%s\t%s\t%d\t%s\t%d\t%s" % (write(dumps(value, p)), src, p,
                                                      policies(label, p), 0, label))
    with open(os.path.join(out, "manifest.txt"), "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    return len(lines)


def from_corpus(corpus, out):
    """manifest.txt for an oracle corpus (``python3 -m oracle generate``):
    one round trip per case and policy the corpus marks; cases whose
    decoding needs an extension registry are left out (counted)."""
    import json
    with open(os.path.join(corpus, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    lines, skipped = [], 0
    for i, c in enumerate(manifest["cases"]):
        if not c["roundtrip_policies"]:
            continue
        if c["extensions"]:
            skipped += 1
            continue
        name = "c%05d.pkl" % i
        os.symlink(os.path.abspath(os.path.join(corpus, c["file"])), os.path.join(out, name))
        for k, b in enumerate(c["buffers"]):
            os.symlink(os.path.abspath(os.path.join(corpus, b["file"])),
                       os.path.join(out, "%s.buf%d" % (name, k)))
        pol = ("s" if "symbolic" in c["roundtrip_policies"] else "-") + \
              ("b" if "builtins" in c["roundtrip_policies"] else "-")
        lines.append("%s\t%s\t%d\t%s\t%d\t%s" % (name, name, c["protocol"], pol,
                                                len(c["buffers"]), c["file"]))
    with open(os.path.join(out, "manifest.txt"), "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    return len(lines), skipped


def main(argv):
    if len(argv) == 5 and argv[1] == "--corpus" and argv[3] == "--out":
        os.makedirs(argv[4], exist_ok=True)
        n, skipped = from_corpus(argv[2], argv[4])
        print("wrote %d checks to %s (%d extension-registry cases left out)" % (n, argv[4],
                                                                               skipped))
        return 0
    if len(argv) == 3 and argv[1] == "--out":
        os.makedirs(argv[2], exist_ok=True)
        n = generate(argv[2])
        print("wrote %d checks to %s" % (n, argv[2]))
        return 0
    if len(argv) != 1:
        print(__doc__)
        return 2
    # Self-check (ctest): deterministic output.
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        generate(a)
        generate(b)
        names = sorted(os.listdir(a))
        assert names == sorted(os.listdir(b))
        for name in names:
            with open(os.path.join(a, name), "rb") as fa, open(os.path.join(b, name), "rb") as fb:
                assert fa.read() == fb.read(), name
        print("test_encode_cases: %d files, deterministic" % len(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
