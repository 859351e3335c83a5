"""The catalogue of value families the conformance corpus is made of.

A family is a function ``f(rng, count)`` returning a list of :class:`Spec`:
first its fixed edge cases (always all of them), then ``count`` values drawn
from ``rng`` where the family has a random part.  Families are registered,
in catalogue order, with :func:`family`.  A spec is dumped at every protocol
it allows; the index of a spec within its family does not depend on the
protocols asked for, so ``<family>-<index>`` names the same value at every
protocol and under every ``--protocols`` filter.

Nothing here may depend on the hash seed: never iterate a set while building
a value (the generator dumps under PYTHONHASHSEED=0, and set iteration order
of strs is exactly what that fixes).
"""

import collections
import copyreg
import datetime
import decimal
import fractions
import functools
import math
import operator
import pickle
import struct

from . import objects as O
from .handwritten import HANDWRITTEN_PY2, HANDWRITTEN_RARE

ALL_PROTOCOLS = (0, 1, 2, 3, 4, 5)
POLICIES = ('symbolic', 'builtins')

FAMILIES = {}   # name -> (function, one-line description), catalogue order


class Spec:
    """One value (or hand-written stream) of a family.

    value        the object to dump (ignored for hand-written streams)
    desc         short human description (ASCII)
    protocols    protocols to dump it at (default: all)
    how          'dumps', 'pickler+persistent_id', 'pickler+buffer_callback'
                 or 'handwritten'
    data         the bytes of a hand-written stream (its protocol is the
                 single entry of ``protocols``)
    pid          persistent_id(obj, protocol) -> id or None
    oob          buffer_callback factory: oob() returns a fresh callable
                 deciding, per PickleBuffer, True (in band) or False (out)
    roundtrip    policies under which decode+encode must give back the bytes
                 CPython wrote: a tuple, or a function protocol -> tuple
    note         why it does not round-trip, when it does not
    expect       what pickle.loads must give back, when not the value itself;
                 NO_COMPARE when equality is not meaningful
    extensions   [(module, name, code)] registered with copyreg while dumping
    tags         free-form labels
    """

    __slots__ = ('value', 'desc', 'protocols', 'how', 'data', 'pid', 'oob',
                 'roundtrip', 'note', 'expect', 'extensions', 'tags')

    def __init__(self, value=None, desc='', protocols=ALL_PROTOCOLS, how='dumps',
                 data=None, pid=None, oob=None, roundtrip=POLICIES, note='',
                 expect=None, extensions=(), tags=()):
        self.value = value
        self.desc = desc
        self.protocols = tuple(protocols)
        self.how = how
        self.data = data
        self.pid = pid
        self.oob = oob
        self.roundtrip = roundtrip
        self.note = note
        self.expect = expect
        self.extensions = tuple(extensions)
        self.tags = tuple(tags)


class _NoCompare:
    def __repr__(self):
        return 'NO_COMPARE'


NO_COMPARE = _NoCompare()
SAME = None  # Spec.expect default: compare with the value itself


class PerProtocol:
    """Spec.expect given as a function of the protocol."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, protocol):
        return self.fn(protocol)


def family(name, doc):
    def register(fn):
        if '-' in name or name in FAMILIES:
            raise ValueError('bad family name %r' % name)
        FAMILIES[name] = (fn, doc)
        return fn
    return register


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

_LATIN1 = ''.join(map(chr, range(256)))
_BYTES256 = bytes(range(256))


def ch(code):
    """A one-character str as CPython's decoders make it.

    For code points below U+0100 this is the interpreter's cached latin-1
    object (chr() returns it); an ASCII literal 'a' in source code is a
    *different* object in CPython 3.11 (the interned constant), so values
    must not mix the two (see canon()).
    """
    return chr(code)


def one_byte(b):
    """The cached one-byte bytes object for byte value ``b``."""
    return _BYTES256[b:b + 1]


def canon(value):
    """Replace, in place where possible, every one-character latin-1 str and
    every one-byte bytes in a container graph by the interpreter's cached
    object, preserving sharing and cycles.

    CPython's unpickler always produces the cached objects, and the canonical
    text does not label them, so an encoder can only reproduce a pickle of a
    value that used them consistently.  Instances are entered through their
    ``__dict__``.
    """
    memo = {}
    busy = set()
    recursive = set()

    def walk(v):
        t = type(v)
        if t is str:
            if len(v) == 1 and ord(v) < 256:
                return chr(ord(v))
            return v
        if t is bytes:
            if len(v) == 1:
                return one_byte(v[0])
            return v
        key = id(v)
        if key in memo:
            if key in busy:
                recursive.add(key)
            return memo[key]
        if t is list:
            memo[key] = v
            for i, item in enumerate(v):
                new = walk(item)
                if new is not item:
                    v[i] = new
            return v
        if t is dict:
            memo[key] = v
            items = [(walk(k), walk(x)) for k, x in list(v.items())]
            v.clear()
            v.update(items)
            return v
        if t is set:
            memo[key] = v
            items = [walk(x) for x in list(v)]
            # Only strs and bytes can change, and they hash by value: the
            # set keeps its order if we swap members one by one.
            for old, new in zip(list(v), items):
                if old is not new:
                    raise AssertionError('canon() would reorder a set')
            return v
        if t is tuple:
            memo[key] = v
            busy.add(key)
            items = tuple(walk(x) for x in v)
            busy.discard(key)
            if any(a is not b for a, b in zip(items, v)):
                if key in recursive:
                    raise AssertionError('canon() cannot rebuild a recursive tuple')
                memo[key] = items
                return items
            return v
        if t is frozenset:
            memo[key] = v
            return v
        d = getattr(v, '__dict__', None)
        if isinstance(d, dict) and t.__module__ == O.__name__:
            memo[key] = v
            walk(d)
        return v

    return walk(value)


def f64(bits):
    return struct.unpack('<d', struct.pack('<Q', bits))[0]


def bits64(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


def rand_text(rng, n, kinds='abl'):
    """Random str of n code points.  kinds: a=ASCII, l=latin-1, b=BMP,
    s=astral, u=lone surrogates."""
    out = []
    for _ in range(n):
        k = kinds[rng.randrange(len(kinds))]
        if k == 'a':
            c = rng.randrange(0x20, 0x7f)
        elif k == 'l':
            c = rng.randrange(0x80, 0x100)
        elif k == 'b':
            c = rng.randrange(0x100, 0xd800)
        elif k == 's':
            c = rng.randrange(0x10000, 0x110000)
        else:
            c = rng.randrange(0xd800, 0xe000)
        out.append(chr(c))
    s = ''.join(out)
    return canon(s)


def rand_bytes(rng, n):
    return canon(rng.randbytes(n))


def rand_int_bits(rng, bits):
    if bits <= 0:
        return 0
    v = rng.getrandbits(bits) | (1 << (bits - 1))
    return -v if rng.random() < 0.5 else v


def rand_float(rng):
    choice = rng.randrange(4)
    if choice == 0:
        return f64(rng.getrandbits(64))
    if choice == 1:
        return rng.uniform(-1e6, 1e6)
    if choice == 2:
        return math.ldexp(rng.random(), rng.randrange(-1074, 1024))
    return float(rng.randrange(-10**6, 10**6)) / 8


def rand_scalar(rng):
    k = rng.randrange(9)
    if k == 0:
        return None
    if k == 1:
        return rng.random() < 0.5
    if k == 2:
        return rng.randrange(-300, 300)
    if k == 3:
        return rand_int_bits(rng, rng.randrange(1, 200))
    if k == 4:
        return rand_float(rng)
    if k == 5:
        return rand_text(rng, rng.randrange(0, 12), 'aalbs')
    if k == 6:
        return rand_bytes(rng, rng.randrange(0, 12))
    if k == 7:
        return complex(rand_float(rng), rand_float(rng))
    return rand_text(rng, rng.randrange(1, 4), 'a')


def rand_hashable(rng, depth=0):
    k = rng.randrange(6 if depth < 2 else 4)
    if k == 0:
        return rng.randrange(-1000, 1000)
    if k == 1:
        return rand_text(rng, rng.randrange(0, 8), 'aalb')
    if k == 2:
        return rand_float(rng)
    if k == 3:
        return rand_bytes(rng, rng.randrange(0, 6))
    if k == 4:
        return tuple(rand_hashable(rng, depth + 1) for _ in range(rng.randrange(0, 4)))
    return frozenset(rand_hashable(rng, depth + 1) for _ in range(rng.randrange(0, 4)))


def rand_tree(rng, depth=0, pool=None):
    """A random nested value; with ``pool`` some nodes are shared."""
    if pool is not None and pool and rng.random() < 0.15:
        return pool[rng.randrange(len(pool))]
    if depth >= 4 or rng.random() < 0.35:
        v = rand_scalar(rng)
    else:
        k = rng.randrange(6)
        n = rng.randrange(0, 6)
        if k == 0:
            v = [rand_tree(rng, depth + 1, pool) for _ in range(n)]
        elif k == 1:
            v = tuple(rand_tree(rng, depth + 1, pool) for _ in range(n))
        elif k == 2:
            v = {}
            for _ in range(n):
                v[rand_hashable(rng)] = rand_tree(rng, depth + 1, pool)
        elif k == 3:
            v = set(rand_hashable(rng) for _ in range(n))
        elif k == 4:
            v = frozenset(rand_hashable(rng) for _ in range(n))
        else:
            v = O.Plain(**{'attr%d' % i: rand_tree(rng, depth + 1, pool) for i in range(n)})
    if pool is not None and isinstance(v, (list, dict, tuple, str, bytes, O.Plain)):
        pool.append(v)
    return v


def distinct_str(s):
    """An equal str that is a different object (for len >= 2)."""
    assert len(s) >= 2
    return ''.join([s[:1], s[1:]])


def pid_marker(obj, protocol):
    """persistent_id for the persistent_ids family: Markers only."""
    if type(obj) is O.Marker:
        if protocol == 0:
            return str(obj.key)
        return obj.key
    return None


def oob_all():
    return lambda pb: False


def oob_none():
    return lambda pb: True


def oob_large():
    """Out of band only for buffers of 16 bytes or more."""
    def cb(pb):
        with pb.raw() as m:
            return m.nbytes < 16
    return cb


def oob_alternate():
    state = {'n': 0}

    def cb(pb):
        state['n'] += 1
        return state['n'] % 2 == 0   # 1st out, 2nd in, 3rd out, ...
    return cb


P0_3 = (0, 1, 2, 3)
P2_5 = (2, 3, 4, 5)
P1_5 = (1, 2, 3, 4, 5)
P4_5 = (4, 5)
P5 = (5,)


def S(value, desc, **kw):
    return Spec(value, desc, **kw)


# ---------------------------------------------------------------------------
# Scalars
# ---------------------------------------------------------------------------

@family('singletons', 'None, True, False, NotImplemented, Ellipsis, bools in containers')
def fam_singletons(rng, count):
    return [
        S(None, 'None'),
        S(True, 'True (I01 at protocols 0-1, NEWTRUE from 2)'),
        S(False, 'False (I00 at protocols 0-1, NEWFALSE from 2)'),
        S([True, False, None, True], 'bools and None in a list'),
        S((True,), 'one-tuple of True'),
        S({True: False, False: None}, 'bools as dict keys'),
        S({0: 'zero', True: 'one'}, '0 and True as two distinct keys', tags=('keys',)),
        S(NotImplemented, 'NotImplemented (global by name)'),
        S(Ellipsis, 'Ellipsis (global by name)'),
        S([None] * 3, 'None three times (never memoized)'),
    ]


@family('int_small', 'ints up to 32 bits: BININT1/BININT2/BININT boundaries')
def fam_int_small(rng, count):
    vals = [0, 1, -1, 2, 100, 127, 128, 255, 256, -255, -256, 257, 32767, 32768,
            65535, 65536, -65535, -65536, 2**24, 2**31 - 1, 2**31, -2**31,
            -2**31 - 1, -2**31 + 1, 1000000]
    specs = [S(v, 'int %d' % v) for v in vals]
    specs.append(S([0, 255, 256, 65535, 65536, -1], 'int boundaries in one list'))
    for _ in range(count):
        v = rng.randrange(-2**32, 2**32)
        specs.append(S(v, 'random int %d' % v))
    return specs


@family('int_wide', 'ints around 64 bits and -(2**(8k-1)) LONG1 edges')
def fam_int_wide(rng, count):
    vals = [2**32 - 1, 2**32, -2**32, 2**63 - 1, 2**63, -2**63, -2**63 - 1,
            2**64 - 1, 2**64, -(2**64 - 1), -2**64, -2**64 - 1, 2**64 + 1, 10**19, 10**20]
    for k in range(1, 10):
        e = 8 * k - 1
        vals += [2**e - 1, 2**e, -(2**e), -(2**e) - 1]
    specs = [S(v, 'int %s' % (hex(v) if abs(v) > 2**40 else v)) for v in vals]
    for _ in range(count):
        v = rand_int_bits(rng, rng.randrange(33, 129))
        specs.append(S(v, 'random wide int (%d bits)' % v.bit_length()))
    return specs


@family('int_huge', 'LONG1/LONG4 (255/256 bytes) and 4300-digit repr limit')
def fam_int_huge(rng, count):
    e = 8 * 255 - 1
    specs = [
        S(2**e - 1, 'largest LONG1 int (255 bytes)'),
        S(2**e, 'smallest positive LONG4 int (256 bytes)'),
        S(-(2**e), '-(2**2039): still 255 bytes (LONG1)'),
        S(-(2**e) - 1, '-(2**2039)-1: 256 bytes (LONG4)'),
        S(2**(8 * 256 - 1) - 1, 'largest 256-byte int'),
        S(-(2**(8 * 256 - 1)), '-(2**2047): 256 bytes'),
        S(10**4299, '10**4299: 4300 digits, the most protocols 0-1 may write'),
        S(-(10**4300 - 1), '-(10**4300-1): 4300 digits and a sign'),
        S(10**4300, '10**4300: 4301 digits, over the repr limit (protocols 2+ only)',
          protocols=P2_5),
        S(-(7**6000), '-(7**6000): 5071 digits (protocols 2+ only)', protocols=P2_5),
    ]
    for _ in range(count):
        digits = rng.randrange(20, 3000)
        v = rng.randrange(10**(digits - 1), 10**digits)
        if rng.random() < 0.5:
            v = -v
        specs.append(S(v, 'random big int (%d digits)' % digits))
    return specs


@family('float_special', 'signed zeros, infinities, NaNs with sign and payload')
def fam_float_special(rng, count):
    nan = float('nan')
    specs = [
        S(0.0, '0.0'), S(-0.0, '-0.0'),
        S(float('inf'), 'inf'), S(float('-inf'), '-inf'),
        S(nan, 'nan (0x7ff8000000000000)'),
        S(-nan, '-nan (0xfff8000000000000); protocol 0 writes plain nan'),
        S(f64(0x7ff8000000000001), 'quiet nan with payload 1'),
        S(f64(0x7ff0000000000001), 'signalling nan (payload 1)'),
        S(f64(0xfff00000deadbeef), 'negative signalling nan with payload'),
        S(f64(0x7fffffffffffffff), 'nan with all payload bits set'),
        S(f64(0xffffffffffffffff), 'negative nan with all bits set'),
        S([0.0, -0.0, nan, nan], 'zeros and the same nan twice (floats are not memoized)'),
        S({nan: 1}, 'nan as a dict key'),
    ]
    return specs


@family('float_edges', 'subnormals, extremes, powers of two, repr notation switches')
def fam_float_edges(rng, count):
    vals = [5e-324, -5e-324, f64(0x000fffffffffffff), 2.2250738585072014e-308,
            1.7976931348623157e308, -1.7976931348623157e308, 1e16, 1e15, 1e-4,
            1e-5, 9999999999999998.0, 1e22, 1e23, 0.1, 0.5, 1.0, -1.0, 1.5,
            1 / 3, 2.0**52, 2.0**53, 2.0**53 + 2, 123456789.125, 1e100, 1e-100,
            0.30000000000000004, 100.0, 12345678901234567890.0]
    vals += [2.0**e for e in (-1074, -1073, -1022, -1021, -1, 0, 1, 10, 63, 64, 1023)]
    specs = [S(v, 'float %r (0x%016x)' % (v, bits64(v))) for v in vals]
    for _ in range(count):
        v = rand_float(rng)
        specs.append(S(v, 'random float 0x%016x' % bits64(v)))
    return specs


@family('float_bits', 'random float bit patterns (any exponent, NaNs included)')
def fam_float_bits(rng, count):
    specs = []
    for _ in range(max(count, 1) * 2):
        b = rng.getrandbits(64)
        specs.append(S(f64(b), 'float bits 0x%016x' % b))
    specs.append(S([f64(rng.getrandbits(64)) for _ in range(8)], 'list of 8 random float bit patterns'))
    return specs


@family('complex', 'complex numbers, including nan/inf/-0.0 parts')
def fam_complex(rng, count):
    nan, inf = float('nan'), float('inf')
    vals = [0j, complex(1, 2), complex(-0.0, -0.0), complex(0.0, -0.0), complex(nan, inf),
            complex(inf, -inf), complex(-nan, 0.0), complex(1e308, 5e-324), 1j]
    specs = [S(v, 'complex(%r, %r)' % (v.real, v.imag)) for v in vals]
    c = complex(3, 4)
    specs.append(S([c, c], 'the same complex twice (memoized as a REDUCE result)'))
    for _ in range(count):
        v = complex(rand_float(rng), rand_float(rng))
        specs.append(S(v, 'random complex'))
    return specs


# ---------------------------------------------------------------------------
# Text and binary
# ---------------------------------------------------------------------------

@family('str_basic', 'empty, one character of each width, short strs')
def fam_str_basic(rng, count):
    vals = ['', ch(0x61), ch(0x7f), ch(0x80), ch(0xe9), ch(0xff), '\u0100', '\u20ac',
            '\uffff', '\U00010000', '\U0001f600', '\U0010ffff', 'hello world',
            'caf\xe9', '\u65e5\u672c\u8a9e', 'mixed a\xe9\u20ac\U0001f600']
    specs = [S(canon(v), 'str %s' % ascii(v)) for v in vals]
    for _ in range(count):
        v = rand_text(rng, rng.randrange(1, 20), 'albs')
        specs.append(S(v, 'random str (%d chars)' % len(v)))
    return specs


@family('str_surrogates', 'lone surrogates (written with surrogatepass)')
def fam_str_surrogates(rng, count):
    vals = ['\ud800', '\udfff', '\udc80', '\ud800\udc00', 'a\ud800b', '\udfff\ud800',
            '\U0001f600\ud83d', 'x\udcff\U00010000y']
    specs = [S(v, 'str %s' % ascii(v)) for v in vals]
    for _ in range(count):
        v = rand_text(rng, rng.randrange(1, 12), 'aus')
        specs.append(S(v, 'random str with surrogates'))
    return specs


@family('str_escapes', 'strs needing escapes in protocol 0 raw-unicode-escape')
def fam_str_escapes(rng, count):
    vals = ['\\', '\n', '\r', '\x00', '\x1a', '\t', "'", '"', '\\u1234', 'a\\nb',
            'line1\nline2\r\n', '\x85', '\u2028', '\\\n\r\x00\x1a\xe9\u20ac\ud800',
            ''.join(map(chr, range(32))), _LATIN1, 'end\\', '\\U0001f600 literal']
    return [S(canon(v), 'str %s' % ascii(v[:40])) for v in vals]


@family('str_lengths', 'SHORT_BINUNICODE/BINUNICODE 255/256 UTF-8 byte boundary')
def fam_str_lengths(rng, count):
    e, eu, smile = ch(0xe9), '\u20ac', '\U0001f600'
    vals = [
        ('a' * 255, '255 ASCII chars = 255 bytes'),
        ('a' * 256, '256 ASCII chars = 256 bytes'),
        (e * 127 + 'a', '128 chars = 255 UTF-8 bytes'),
        (e * 128, '128 chars = 256 UTF-8 bytes'),
        (eu * 85, '85 chars = 255 UTF-8 bytes'),
        (eu * 86, '86 chars = 258 UTF-8 bytes'),
        (smile * 63 + 'abc', '66 chars = 255 UTF-8 bytes'),
        (smile * 64, '64 chars = 256 UTF-8 bytes'),
        ('\ud800' * 85, '85 lone surrogates = 255 bytes (surrogatepass)'),
        ('\ud800' * 86, '86 lone surrogates = 258 bytes'),
        ('x' * 65535, '65535 bytes'),
    ]
    specs = [S(canon(v), 'str: %s' % d) for v, d in vals]
    for _ in range(count):
        n = rng.randrange(240, 270)
        v = rand_text(rng, n, 'aalb')
        specs.append(S(v, 'random str of %d chars (%d UTF-8 bytes)' % (n, len(v.encode('utf-8', 'surrogatepass')))))
    return specs


@family('str_random', 'random unicode strs of all planes')
def fam_str_random(rng, count):
    specs = []
    for i in range(count + 2):
        n = rng.randrange(0, 80)
        v = rand_text(rng, n, 'aalbsu')
        specs.append(S(v, 'random str of %d chars' % n))
    return specs


@family('bytes_basic', 'bytes: empty, one byte, 255/256 lengths, random')
def fam_bytes_basic(rng, count):
    vals = [b'', one_byte(0), one_byte(0x61), one_byte(0xff), b'ab', bytes(range(256)),
            b'\x00' * 255, b'\x00' * 256, b'\\\n\r\x1a', bytes(range(128, 256))]
    specs = [S(v, 'bytes len %d %s' % (len(v), ascii(v[:8]))) for v in vals]
    specs.append(S([b'', b''], 'the empty bytes twice (one object)'))
    b = b'shared bytes'
    specs.append(S([b, b, b'shared bytes' + b''], 'the same bytes object twice'))
    for _ in range(count):
        v = rand_bytes(rng, rng.randrange(0, 300))
        specs.append(S(v, 'random bytes len %d' % len(v)))
    return specs


@family('bytearray_basic', 'bytearray at every protocol (BYTEARRAY8 at 5)')
def fam_bytearray_basic(rng, count):
    vals = [bytearray(), bytearray(b'a'), bytearray(b'\x00' * 255), bytearray(range(256)),
            bytearray(b'\\\n\xe9')]
    specs = [S(v, 'bytearray len %d' % len(v)) for v in vals]
    ba = bytearray(b'shared')
    specs.append(S([ba, ba], 'the same bytearray twice'))
    specs.append(S([bytearray(b'x'), bytearray(b'x')], 'two equal bytearrays'))
    for _ in range(count):
        specs.append(S(bytearray(rng.randbytes(rng.randrange(0, 100))), 'random bytearray'))
    return specs


# ---------------------------------------------------------------------------
# Containers
# ---------------------------------------------------------------------------

@family('tuples', 'tuples of 0-5 items, nested, shared')
def fam_tuples(rng, count):
    t2 = (1, 2)
    vals = [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), (1, 2, 3, 4, 5), ((),),
            ((), ((),)), (1, (2, (3, (4,)))), ([1], {'k': 2}), ('ab', 'ab'),
            (t2, t2), [(), ()], ((1, 2), (1, 2)), (None, True, 1.5)]
    specs = [S(canon(v), 'tuple %s' % ascii(v)[:50]) for v in vals]
    for _ in range(count):
        v = tuple(rand_tree(rng, 2) for _ in range(rng.randrange(0, 7)))
        specs.append(S(v, 'random tuple of %d' % len(v)))
    return specs


@family('lists', 'lists: empty, one item (APPEND), several (APPENDS), nested')
def fam_lists(rng, count):
    vals = [[], [1], [1, 2], [[]], [[], [[]]], [1, 'two', 3.0, None, b'five'],
            list(range(10)), [[1, 2], [3, [4, [5]]]]]
    specs = [S(canon(v), 'list %s' % ascii(v)[:50]) for v in vals]
    for _ in range(count):
        v = [rand_tree(rng, 1) for _ in range(rng.randrange(0, 8))]
        specs.append(S(v, 'random list of %d' % len(v)))
    return specs


@family('dicts', 'dicts: key types, 1/1.0/True keys, nested')
def fam_dicts(rng, count):
    vals = [
        ({}, 'empty dict'),
        ({'key': 1}, 'one str key (SETITEM)'),
        ({'k1': 1, 'k2': 2}, 'two str keys (SETITEMS)'),
        ({1: 'a', -2: 'b', 2**70: 'c'}, 'int keys'),
        ({1.5: 1, -0.0: 2, float('inf'): 3}, 'float keys'),
        ({(1, 2): 'x', (): 'y', ('a', (1,)): 'z'}, 'tuple keys'),
        ({frozenset(): 1, frozenset([1, 2]): 2}, 'frozenset keys'),
        (dict([(1, 'int'), (1.0, 'float'), (True, 'bool')]), '{1, 1.0, True} collapse into one key 1'),
        (dict([(True, 'bool'), (1, 'int')]), '{True, 1}: the key stays True'),
        (dict([(1.0, 'float'), (1, 'int')]), '{1.0, 1}: the key stays 1.0'),
        ({None: None, b'b': b'', '': ''}, 'None, bytes and empty str keys'),
        ({'outer': {'inner': {'deep': [1, 2]}}}, 'nested dicts'),
        ({i: i * i for i in range(20)}, '20 int keys'),
        ({complex(1, 2): 1}, 'complex key'),
    ]
    specs = [S(canon(v), 'dict: ' + d) for v, d in vals]
    for _ in range(count):
        v = {}
        for _ in range(rng.randrange(0, 8)):
            v[rand_hashable(rng)] = rand_tree(rng, 2)
        specs.append(S(v, 'random dict of %d' % len(v)))
    return specs


@family('sets', 'sets and frozensets (order fixed by the hash seed)')
def fam_sets(rng, count):
    vals = [
        (set(), 'empty set'), ({1}, 'set {1}'), ({1, 2, 3}, 'set of ints'),
        ({'alpha', 'beta', 'gamma'}, 'set of strs (order depends on the hash seed)'),
        ({(1, 2), (3,)}, 'set of tuples'), ({frozenset([1]), frozenset()}, 'set of frozensets'),
        ({1, 1.0, True}, '{1, 1.0, True} is {1}'), ({-1, -2**70, 2**70}, 'set of big ints'),
        ({float('nan')}, 'set with a nan'), ({b'x', b'yz'}, 'set of bytes'),
        (frozenset(), 'empty frozenset'), (frozenset([1, 2]), 'frozenset of ints'),
        (frozenset(['x1', 'y1']), 'frozenset of strs'),
        (frozenset([frozenset([1]), frozenset([frozenset()])]), 'nested frozensets'),
    ]
    specs = [S(v, d) for v, d in vals]
    fs = frozenset([1, 2, 3])
    specs.append(S([fs, fs], 'the same frozenset twice'))
    s = {5, 6}
    specs.append(S([s, s], 'the same set twice'))
    specs.append(S({'k': fs, 'l': {fs}}, 'frozenset shared between a value and a set member'))
    for _ in range(count):
        v = set(rand_hashable(rng) for _ in range(rng.randrange(0, 10)))
        specs.append(S(v, 'random set of %d' % len(v)))
        v = frozenset(rand_hashable(rng) for _ in range(rng.randrange(0, 10)))
        specs.append(S(v, 'random frozenset of %d' % len(v)))
    return specs


@family('batching', 'APPENDS/SETITEMS/ADDITEMS batches of 1000 (999..2001 items)')
def fam_batching(rng, count):
    specs = []
    for n in (999, 1000, 1001, 2000, 2001):
        specs.append(S(list(range(n)), 'list of %d ints' % n))
        specs.append(S({i: None for i in range(n)}, 'dict of %d int keys' % n))
        specs.append(S(set(range(n)), 'set of %d ints' % n))
    specs.append(S(frozenset(range(1001)), 'frozenset of 1001 ints (one FROZENSET, no batching)'))
    specs.append(S(tuple(range(1001)), 'tuple of 1001 ints'))
    return specs


@family('nested', 'deeply and randomly nested containers')
def fam_nested(rng, count):
    deep = []
    cur = deep
    for _ in range(50):
        nxt = []
        cur.append(nxt)
        cur = nxt
    t = ()
    for _ in range(50):
        t = (t,)
    d = {}
    cur = d
    for i in range(30):
        cur['level%d' % i] = {}
        cur = cur['level%d' % i]
    specs = [
        S(deep, '50 nested lists'), S(t, '50 nested tuples'), S(d, '30 nested dicts'),
        S({'list': [1, (2, {'set': {3}})], 'fs': frozenset([(4,)])}, 'mixed nesting'),
    ]
    for _ in range(count + 2):
        specs.append(S(rand_tree(rng), 'random nested value'))
    return specs


@family('memo', 'memo indices past 255 (LONG_BINPUT/LONG_BINGET), GET text')
def fam_memo(rng, count):
    strs = ['s%03d' % i for i in range(300)]
    lists = [[i] for i in range(300)]
    specs = [
        S([strs, strs[::-1]], '300 strs then each again (GETs up to index 300+)'),
        S([lists, lists[-1], lists[0]], '300 lists then the last and first again'),
        S([strs[:255], strs[254], strs[255]], 'memo indices around 255/256'),
    ]
    return specs


@family('shared', 'shared references and equal-but-distinct objects')
def fam_shared(rng, count):
    lst = [1, 2]
    s = 'shared str'
    d = {'k1': 1}
    t = (1, [2])
    big = 2**100
    f = 1.25
    specs = [
        S([lst, lst], 'the same list twice'),
        S([s, s], 'the same str object twice (GET)'),
        S([s, distinct_str(s)], 'two equal distinct str objects (written twice)'),
        S({'a1': d, 'b1': d}, 'the same dict as two values'),
        S([t, t], 'the same tuple twice'),
        S([big, big], 'the same big int twice (ints are never memoized)'),
        S([f, f], 'the same float twice (floats are never memoized)'),
        S([(), (), ()], 'the empty tuple three times (never memoized)'),
        S([ch(0xe9), ch(0xe9)], 'one-char latin-1 str twice (one cached object)'),
        S([lst, [lst, (lst,)], {'k2': lst}], 'one list reached from four places'),
    ]
    ab = O.Plain(value=1)
    specs.append(S([ab, ab], 'the same instance twice'))
    specs.append(S([O.Plain(value=1), O.Plain(value=1)],
                   'two instances sharing interned attribute names'))
    for _ in range(count):
        pool = []
        v = [rand_tree(rng, 1, pool) for _ in range(6)]
        specs.append(S(v, 'random graph with sharing'))
    return specs


@family('identity_edges', 'object identity the canonical text cannot fully express')
def fam_identity_edges(rng, count):
    a_literal = 'a'                     # the interned constant
    a_cached = chr(0x61)                # the latin-1 cache object: not the same
    b1 = rng.randbytes(1)               # one-byte bytes objects that are not
    b2 = bytes(bytearray(b1))           # cached, and distinct from each other
    note1 = ('CPython 3.11 pickled two distinct one-character strs; loads '
             'makes one cached object of them, which the canonical text '
             'writes without a label')
    specs = [
        S([a_literal, a_cached], "interned 'a' and chr(97): distinct objects in CPython 3.11",
          roundtrip=(), note=note1, tags=('identity',)),
        S([b1, b2], 'two distinct equal one-byte bytes objects',
          roundtrip=lambda p: POLICIES if p >= 3 else ('symbolic',),
          note='protocols 0-2: folding _codecs.encode under builtins gives the cached '
               'one-byte bytes for both calls', tags=('identity',)),
        S([one_byte(0x61), a_literal], "b'a' and the interned 'a': at protocols 0-2 the "
          "latin-1 str CPython makes for _codecs.encode is the cached chr(97), not 'a'",
          roundtrip=lambda p: () if p < 3 else POLICIES, note=note1, tags=('identity',)),
        S([one_byte(0x61), a_cached], "b'a' and chr(97): protocols 0-2 fetch the str "
          "of _codecs.encode('a', 'latin1') from the memo", tags=('identity',)),
        S(O.ReduceArgsShared(1, 2), 'REDUCE argument tuple also referenced from the state',
          roundtrip=(), note='the arguments of REDUCE carry no label in the canonical text',
          tags=('identity',)),
        S(O.NewArgsExShared(1, 2), '__getnewargs_ex__ tuple also in the state',
          roundtrip=lambda p: () if p >= 4 else POLICIES,
          note='at protocol 4+ NEWOBJ_EX arguments are memoized and fetched again by the state',
          tags=('identity',)),
    ]
    return specs


@family('recursive', 'self-referencing lists, dicts, tuples and objects')
def fam_recursive(rng, count):
    specs = []
    l1 = []
    l1.append(l1)
    specs.append(S(l1, 'a list containing itself'))
    d1 = {}
    d1['self'] = d1
    specs.append(S(d1, 'a dict containing itself'))
    for n in (1, 2, 3, 4, 5):
        lst = []
        t = (lst,) + tuple(range(1, n))
        lst.append(t)
        specs.append(S(t, 'tuple of %d reached again through a list (POP/POP_MARK then GET)' % n))
    lst = []
    t = (lst,)
    lst.append(t)
    specs.append(S(lst, 'list -> tuple -> list'))
    a, b = [], []
    a.append(b)
    b.append(a)
    specs.append(S(a, 'two lists containing each other'))
    node = O.Node('self')
    node.me = node
    specs.append(S(node, 'an object whose state contains itself'))
    n1, n2 = O.Node('first'), O.Node('second')
    n1.next = n2
    n2.prev = n1
    specs.append(S([n1, n2], 'two objects pointing at each other'))
    d2 = {}
    l2 = [d2]
    d2['list'] = l2
    specs.append(S(d2, 'dict -> list -> dict'))
    st = O.State(None)
    st.state = {'me': st}
    specs.append(S(st, '__getstate__ state containing the object'))
    ls = O.ListSub()
    ls.append(ls)
    ls.attr = ls
    specs.append(S(ls, 'list subclass containing itself, also as attribute', protocols=P2_5))
    return specs


@family('large', 'structures around and past 64 KiB (framing)')
def fam_large(rng, count):
    big = (2, 4, 5)
    b70 = rng.randbytes(70000)
    specs = [
        S(b70, 'bytes of 70000 random bytes', protocols=(3, 4, 5)),
        S(b'y' * 65535, 'bytes of 65535 (in a frame)', protocols=P4_5),
        S(b'y' * 65536, 'bytes of 65536 (written outside frames)', protocols=P4_5),
        S('z' * 65536, 'str of 65536 bytes', protocols=P4_5),
        S([None, 'w' * 65536, None], 'big str between small items', protocols=P4_5),
        S(bytearray(b'v' * 70000), 'bytearray of 70000', protocols=(5,)),
        S(list(range(20000)), 'list of 20000 ints (several frames)', protocols=big),
        S(['item%05d' % i for i in range(6000)], '6000 short strs (~64 KiB)', protocols=big),
        S({'key%05d' % i: i for i in range(5000)}, 'dict of 5000 entries', protocols=big),
        S([b70[:30000], b70[30000:]], 'two large bytes', protocols=P4_5),
    ]
    # exactly straddle: items of 10 bytes each around the 64 KiB target
    specs.append(S([rand_bytes(rng, 8) for _ in range(6600)], '6600 8-byte bytes', protocols=P4_5))
    return specs


# ---------------------------------------------------------------------------
# Globals, functions, methods
# ---------------------------------------------------------------------------

@family('globals', 'functions, builtins and classes by reference (name mapping at < 3)')
def fam_globals(rng, count):
    vals = [
        (O.top_function, 'module-level function'), (len, 'builtin len'), (dict, 'builtin dict'),
        (int, 'int (__builtin__ long at protocols 0-2)'),
        (str, 'str (__builtin__ unicode at protocols 0-2)'),
        (chr, 'chr (__builtin__ unichr)'), (range, 'range (__builtin__ xrange)'),
        (functools.reduce, 'functools.reduce (__builtin__ reduce)'),
        (ValueError, 'ValueError (exceptions at protocols 0-2)'),
        (object, 'object'), (type, 'type'), (bytes, 'bytes'), (set, 'set'),
        (operator.add, '_operator.add'), (collections.OrderedDict, 'collections.OrderedDict'),
        (copyreg._reconstructor, 'copyreg._reconstructor (copy_reg)'),
        (O.Plain, 'a class'), (O.Outer, 'outer class'),
        (O.Outer.Inner, 'nested class Outer.Inner (getattr at < 4, qualname at 4+)'),
        (O.Outer.Inner.Deep, 'doubly nested class'),
        (O.Outer.Inner.method, 'function Outer.Inner.method'),
        (O.Outer.Inner.make, 'staticmethod Outer.Inner.make'),
        (type(None), 'NoneType (type(None) REDUCE)'), (type(...), 'ellipsis type'),
        (type(NotImplemented), 'NotImplementedType'),
        (O.SINGLETON_A, 'object whose __reduce__ returns a name'),
    ]
    specs = [S(v, d) for v, d in vals]
    specs.append(S([len, len, O.Plain, O.Plain], 'globals twice (memo GET)'))
    specs.append(S([O.Outer.Inner, O.Outer.Inner.Deep], 'nested classes sharing their parent'))
    return specs


@family('methods', 'bound methods, classmethods, method descriptors')
def fam_methods(rng, count):
    inst = O.Plain(value=3)
    lst = [1, 2]
    return [
        S(inst.method, 'bound method of an instance'),
        S(O.Plain.klass_method, 'classmethod bound to its class'),
        S(O.Outer.Inner(5).method, 'bound method of a nested class instance'),
        S(O.Outer.Inner.build, 'classmethod of a nested class'),
        S(str.upper, 'method descriptor str.upper'),
        S(lst.append, 'builtin bound method [].append'),
        S(dict.fromkeys, 'builtin classmethod dict.fromkeys'),
        S([inst.method, inst], 'bound method and its instance'),
        S(O.Plain.static_method, 'staticmethod via its class'),
    ]


@family('extensions', 'copyreg extension codes: EXT1, EXT2, EXT4 at protocol 2+')
def fam_extensions(rng, count):
    mod = O.__name__
    note = ('decoding needs the copyreg extension registry given in "extensions"; '
            'CPython fails on it otherwise')
    rt = lambda p: POLICIES if p < 2 else ()
    cases = [
        (O.ext_target_a, 'ext_target_a', 1, 'code 1 (EXT1)'),
        (O.ext_target_a, 'ext_target_a', 255, 'code 255 (EXT1)'),
        (O.ext_target_b, 'ext_target_b', 256, 'code 256 (EXT2)'),
        (O.ext_target_b, 'ext_target_b', 65535, 'code 65535 (EXT2)'),
        (O.ext_target_c, 'ext_target_c', 65536, 'code 65536 (EXT4)'),
        (O.ext_target_c, 'ext_target_c', 0x7fffffff, 'code 2**31-1 (EXT4)'),
    ]
    specs = [S(f, 'extension %s' % d, extensions=[(mod, n, c)], roundtrip=rt, note=note)
             for f, n, c, d in cases]
    specs.append(S([O.ext_target_a, O.ext_target_b, O.ext_target_c, O.ext_target_a],
                   'three extensions, the first twice',
                   extensions=[(mod, 'ext_target_a', 7), (mod, 'ext_target_b', 300),
                               (mod, 'ext_target_c', 70000)], roundtrip=rt, note=note))
    return specs


# ---------------------------------------------------------------------------
# Instances
# ---------------------------------------------------------------------------

@family('instances', 'plain instances with a __dict__')
def fam_instances(rng, count):
    specs = [
        S(O.Empty(), 'instance with an empty __dict__ (no BUILD from protocol 2)'),
        S(O.Plain(value=1), 'one attribute'),
        S(O.Plain(name='x1', items=[1, 2], nested=O.Plain(deep=True)), 'nested instances'),
        S(O.Pair(1, 'two'), 'Pair'),
        S([O.Plain(value=i) for i in range(3)], 'three instances of one class'),
        S(O.Plain(**{'weird key': 1, '': 2}), 'attribute names that are not identifiers'),
        S(O.Outer.Inner(7), 'instance of a nested class'),
        S(O.Registered(5), 'class with a copyreg.pickle reducer'),
        S(O.partial_of_top_function(1, key=2), 'functools.partial object'),
    ]
    for _ in range(count):
        specs.append(S(O.Plain(**{'attr%d' % i: rand_tree(rng, 2) for i in range(rng.randrange(0, 5))}),
                       'random instance'))
    return specs


@family('slots', '__slots__ with and without __dict__ (protocols 2+)')
def fam_slots(rng, count):
    return [
        S(O.Slotted(1, 2), 'two slots', protocols=P2_5),
        S(O.Slotted(1, unset=('second',)), 'one slot unset', protocols=P2_5),
        S(O.Slotted(unset=('first', 'second')), 'no slot set', protocols=P2_5),
        S(O.SlottedWithDict(1, extra='e'), 'slots and __dict__', protocols=P2_5),
        S(O.SlottedWithDict(1), 'slots and an empty __dict__', protocols=P2_5),
        S(O.SlottedChild(1, 2, 3), 'inherited slots', protocols=P2_5),
        S(O.SlottedGetstate(1, [2]), 'slots with __getstate__ (every protocol)'),
    ]


@family('getstate', '__getstate__/__setstate__ state shapes, falsy states')
def fam_getstate(rng, count):
    falsy_note = 'protocols 0-1 drop a falsy state, so __setstate__ is not called'
    specs = [
        S(O.State({'k1': 1}), 'state is a dict'),
        S(O.State((1, 'two')), 'state is a tuple'),
        S(O.State([1, [2]]), 'state is a list'),
        S(O.State('text'), 'state is a str'),
        S(O.State(42), 'state is an int'),
        S(O.StateNoSetstate(x1=1), '__getstate__ dict, default BUILD',
          expect=O.StateNoSetstate(x1=1, from_getstate=True)),
        S(O.StatePair(5, extra=1), '(dict, slots) state'),
        S(O.StatePair(5), '(None, slots) state', protocols=P2_5),
    ]
    for v, d in ((0, '0'), ('', "''"), ((), '()'), ({}, '{}'), ([], '[]'), (False, 'False'), (0.0, '0.0')):
        specs.append(S(O.State(v), 'falsy state %s' % d,
                       expect=PerProtocol(lambda p: NO_COMPARE if p < 2 else SAME), note=falsy_note))
    specs.append(S(O.State(None), 'state None: never written (no BUILD)', expect=NO_COMPARE))
    return specs


@family('newargs', '__getnewargs__ and __getnewargs_ex__ (partial fallback at 2-3)')
def fam_newargs(rng, count):
    return [
        S(O.NewArgs(1, 'two'), '__getnewargs__ (NEWOBJ at 2+, _reconstructor at 0-1)'),
        S(O.NewArgsEx(1, 2, key=3), '__getnewargs_ex__ with kwargs'),
        S(O.NewArgsEx(1, 2), '__getnewargs_ex__ with empty kwargs (NEWOBJ)'),
        S(O.NewArgsEx(key='only'), '__getnewargs_ex__ with kwargs only'),
        S(O.NewArgsEx(), '__getnewargs_ex__ with nothing'),
        S(O.ReduceExNewobjKw(1, flag=True), '__reduce_ex__ returning copyreg.__newobj_ex__ '
          '(a make_plain call at protocols 0-1)',
          expect=PerProtocol(lambda p: O.Plain(args=(1,), kwargs={'flag': True}) if p < 2 else SAME)),
    ]


def _reduce_expect(args=(), kwargs=None, items=(), state=None, cls=None):
    obj = (cls or O.Reduced)(*args, **(kwargs or {}))
    obj.items.extend(items)
    if state is not None:
        if hasattr(obj, '__setstate__') and cls is O.ReducedWithSetstate:
            obj.__setstate__(state)
        else:
            obj.__dict__.update(state)
    return obj


@family('reduce', '__reduce__ returning a name and tuples of 2 to 6 items')
def fam_reduce(rng, count):
    R = O.Reduce
    specs = [
        S(O.SINGLETON_B, '__reduce__ returning a global name'),
        S([O.SINGLETON_A, O.SINGLETON_A, O.SINGLETON_B], 'named singletons, one twice'),
        S(R(lambda o: (O.Reduced, (1, 'two'))), '2-tuple (callable, args)',
          expect=_reduce_expect((1, 'two'))),
        S(R(lambda o: (O.Reduced, ())), '2-tuple with empty args', expect=_reduce_expect()),
        S(R(lambda o: (O.Reduced, (1,), {'st': 2})), '3-tuple with dict state',
          expect=_reduce_expect((1,), state={'st': 2})),
        S(R(lambda o: (O.ReducedWithSetstate, (), [1, 2])), '3-tuple with list state and __setstate__',
          expect=_reduce_expect(state=[1, 2], cls=O.ReducedWithSetstate)),
        S(R(lambda o: (O.Reduced, (), None)), '3-tuple with None state', expect=_reduce_expect()),
        S(R(lambda o: (O.Reduced, (), None, iter([1, 2, 3]))), '4-tuple with listitems',
          expect=NO_COMPARE),
        S(R(lambda o: (O.Reduced, (), {'st': 1}, iter(range(1005)))), 'listitems over 1000 (batched)',
          expect=NO_COMPARE),
        S(R(lambda o: (O.Reduced, (), None, iter([7]))), 'listitems with one item (APPEND)',
          expect=NO_COMPARE),
        S(R(lambda o: (O.Reduced, (), None, None, iter([('k1', 1), ('k2', 2)]))),
          '5-tuple with dictitems', expect=NO_COMPARE),
        S(R(lambda o: (O.Reduced, (), None, None, iter([('k1', 1)]))),
          'dictitems with one item (SETITEM)', expect=NO_COMPARE),
        S(R(lambda o: (O.Reduced, (), {'st': 1}, iter([1]), iter([('k1', 1)]))),
          'state, listitems and dictitems', expect=NO_COMPARE),
        S(R(lambda o: (O.Pair, (1, 2), None, None, None, O.set_state_setter), payload=1),
          '6-tuple with a state setter but no state (setter unused)', expect=O.Pair(1, 2)),
        S(R(lambda o: (O.make_pair, (1, 2), {'extra': 3}, None, None, O.set_state_setter)),
          '6-tuple with a state setter (TUPLE2 REDUCE POP even at protocol 0)',
          expect=NO_COMPARE),
        S(O.NestedReduce(4), 'callable is a nested staticmethod (Outer.Inner.make)',
          expect=O.Outer.Inner(4)),
        S(O.NestedClassmethodReduce(5), 'callable is a bound classmethod of a nested class',
          expect=O.Outer.Inner(5)),
        S(R(lambda o: (O.make_plain, (), {'built': 1})), 'callable is a module-level factory',
          expect=O.Plain(built=1)),
        S(R(lambda o: (set, ([1, 2],))), 'REDUCE set(list): what protocols 0-3 write for a set',
          expect={1, 2}, roundtrip=lambda p: POLICIES if p < 4 else ('symbolic',),
          note='folding under builtins gives a set, which protocols 4+ write as EMPTY_SET'),
        S(R(lambda o: (bytearray, (b'xy',))), 'REDUCE bytearray(bytes) at every protocol',
          expect=bytearray(b'xy'), roundtrip=lambda p: POLICIES if p < 5 else ('symbolic',),
          note='folding under builtins gives a bytearray, which protocol 5 writes as BYTEARRAY8'),
        S(R(lambda o: (getattr, (O.Plain, 'klass_method'))), 'getattr(cls, name) reduce',
          expect=O.Plain.klass_method),
    ]
    return specs


@family('reduce_ex', '__reduce_ex__ depending on the protocol')
def fam_reduce_ex(rng, count):
    return [
        S(O.ReduceEx(1), '__reduce_ex__: call (0-1), NEWOBJ (2-3), NEWOBJ_EX (4-5)'),
        S(O.ReduceEx([1, 2]), 'same with a list value'),
        S(O.ZeroCopyByteArray(b'zero copy'), 'documentation ZeroCopyByteArray, in band'),
        S(O.ZeroCopyBytes(b'readonly zero copy'), 'ZeroCopyBytes, in band'),
    ]


@family('subclasses', 'subclasses of list, dict, set, tuple, int, str, ...')
def fam_subclasses(rng, count):
    def with_attr(obj, **attrs):
        obj.__dict__.update(attrs)
        return obj
    return [
        S(O.ListSub([1, 2]), 'list subclass'),
        S(with_attr(O.ListSub([1]), extra='x1'), 'list subclass with an attribute'),
        S(O.DictSub(k1=1), 'dict subclass'),
        S(with_attr(O.DictSub(k1=1), extra=[2]), 'dict subclass with an attribute'),
        S(O.SetSub([1, 2]), 'set subclass'),
        S(O.FrozenSetSub([1]), 'frozenset subclass'),
        S(O.TupleSub((1, 'two')), 'tuple subclass (__getnewargs__)'),
        S(O.IntSub(5), 'int subclass'), S(O.FloatSub(2.5), 'float subclass'),
        S(O.StrSub('sub'), 'str subclass'), S(O.BytesSub(b'sub'), 'bytes subclass'),
        S(with_attr(O.IntSub(2**70), tag='big'), 'int subclass with attribute'),
        S(O.ListSub(range(1001)), 'list subclass with 1001 items'),
    ]


@family('stdlib', 'standard library values pickled through __reduce__')
def fam_stdlib(rng, count):
    od = collections.OrderedDict([('b1', 1), ('a1', 2)])
    exc = O.CaseError('message', 2)
    exc.detail = 'extra'
    return [
        S(od, 'OrderedDict (5-tuple reduce with dictitems)'),
        S(collections.deque([1, 2, 3], 5), 'deque with maxlen (listitems)'),
        S(range(1, 10, 2), 'range'), S(slice(1, None, 2), 'slice'),
        S(decimal.Decimal('-1.50'), 'Decimal'), S(fractions.Fraction(-3, 7), 'Fraction'),
        S(datetime.date(2020, 2, 29), 'date (bytes state: _codecs.encode at 0-2)'),
        S(datetime.datetime(2001, 2, 3, 4, 5, 6, 7000), 'datetime'),
        S(datetime.timedelta(days=1, seconds=2), 'timedelta'),
        S(ValueError('bad', 1), 'builtin exception'),
        S(exc, 'exception with an attribute'),
        S(collections.Counter({'x1': 2}), 'Counter'),
    ]


# ---------------------------------------------------------------------------
# Pickler hooks
# ---------------------------------------------------------------------------

@family('persistent_ids', 'Pickler.persistent_id returning str/int/tuple ids')
def fam_persistent_ids(rng, count):
    M = O.Marker
    how = 'pickler+persistent_id'
    p0_note = 'protocol 0 writes str(pid)'
    specs = [
        S(M('ext-1'), 'the root object is persistent', how=how, pid=pid_marker),
        S([M('a1'), 1, M('b2')], 'two persistent str ids in a list', how=how, pid=pid_marker),
        S({'k1': M('v1')}, 'persistent id as a dict value', how=how, pid=pid_marker),
        S([M(''), M('x' * 300)], 'empty and long str ids', how=how, pid=pid_marker),
    ]
    m = M('same')
    specs.append(S([m, m], 'the same persistent object twice (ids are not memoized)',
                   how=how, pid=pid_marker, expect=[M('same'), M('same')]))
    specs += [
        S([M(42), M(-7), M(2**70)], 'int ids', how=how, pid=pid_marker, protocols=P1_5),
        S([M(('table', 3)), M(())], 'tuple ids', how=how, pid=pid_marker, protocols=P1_5),
        S([M(('nested', ('deep', 1), [2]))], 'tuple id containing a list', how=how,
          pid=pid_marker, protocols=P1_5),
        S([M(42)], 'int id at protocol 0 (written as str)', how=how, pid=pid_marker,
          protocols=(0,), expect=NO_COMPARE, note=p0_note),
    ]
    for _ in range(count):
        key = rand_text(rng, rng.randrange(1, 10), 'a')
        specs.append(S([M(key), rand_tree(rng, 2)], 'random str id', how=how, pid=pid_marker))
    return specs


@family('picklebuffer', 'PickleBuffer in band and out of band (protocol 5)')
def fam_picklebuffer(rng, count):
    PB = pickle.PickleBuffer
    cb = 'pickler+buffer_callback'
    ro = PB(b'read only')
    rw = PB(bytearray(b'writable'))
    arr = memoryview(bytearray(range(16))).cast('i')
    two_d = memoryview(bytearray(range(12))).cast('B', (3, 4))
    specs = [
        S(PB(b'in band ro'), 'readonly PickleBuffer in band (bytes)', protocols=P5),
        S(PB(bytearray(b'in band rw')), 'writable PickleBuffer in band (BYTEARRAY8)', protocols=P5),
        S([rw, rw], 'the same writable buffer twice in band (memo GET)', protocols=P5),
        S(ro, 'readonly out of band', protocols=P5, how=cb, oob=oob_all),
        S(rw, 'writable out of band', protocols=P5, how=cb, oob=oob_all),
        S([ro, rw, ro], 'three out-of-band buffers (the same twice: two NEXT_BUFFER)',
          protocols=P5, how=cb, oob=oob_all),
        S([PB(b'x' * 20), PB(b'tiny'), PB(bytearray(b'y' * 30))],
          'callback keeps small buffers in band', protocols=P5, how=cb, oob=oob_large),
        S([PB(b'one'), PB(b'two'), PB(b'three')], 'callback alternates', protocols=P5,
          how=cb, oob=oob_alternate),
        S(PB(b''), 'empty buffer out of band', protocols=P5, how=cb, oob=oob_all),
        S(PB(arr), "PickleBuffer of an 'i' memoryview", protocols=P5, how=cb, oob=oob_all),
        S(PB(two_d), 'PickleBuffer of a 2-D memoryview', protocols=P5, how=cb, oob=oob_all),
        S(PB(arr), "PickleBuffer of an 'i' memoryview in band", protocols=P5),
        S(O.ZeroCopyByteArray(b'abc'), 'ZeroCopyByteArray out of band', protocols=P5,
          how=cb, oob=oob_all),
        S(O.ZeroCopyBytes(b'abc'), 'ZeroCopyBytes out of band', protocols=P5, how=cb, oob=oob_all),
        S(PB(rng.randbytes(70000)), 'large buffer out of band', protocols=P5, how=cb, oob=oob_all),
        S([PB(b'kept'), 1], 'callback returns True: in band', protocols=P5, how=cb, oob=oob_none),
    ]
    return specs


# ---------------------------------------------------------------------------
# Random graphs and hand-written streams
# ---------------------------------------------------------------------------

@family('mixed_random', 'random values mixing every kind above')
def fam_mixed_random(rng, count):
    specs = []
    for _ in range(count * 2):
        pool = []
        v = rand_tree(rng, 0, pool)
        specs.append(S(canon(v), 'random mixed value'))
    return specs


@family('py2_handwritten', 'Python 2 streams written by hand (decode only)')
def fam_py2(rng, count):
    return [Spec(None, d, protocols=(p,), how='handwritten', data=b, roundtrip=(),
                 note='hand-written: no CPython 3 bytes to re-encode', tags=('py2',))
            for p, b, d in HANDWRITTEN_PY2]


@family('handwritten_rare', 'opcodes CPython 3.11 writes only for >4 GiB objects, or never')
def fam_rare(rng, count):
    return [Spec(None, d, protocols=(p,), how='handwritten', data=b, roundtrip=(),
                 note='hand-written: no CPython 3 bytes to re-encode')
            for p, b, d in HANDWRITTEN_RARE]
