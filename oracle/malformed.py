"""Malformed and mutated pickle streams, deterministically from a seed.

``python3 -m oracle generate --malformed --seed N --out DIR`` writes them in
the corpus layout of oracle.generate (``<family>-<index>-p<protocol>.pickle``
plus ``manifest.json``), with ``how: "malformed"`` and ``roundtrip: false``
(CPython did not write them, so there are no bytes to re-encode).  Each
manifest entry also has ``base`` (the valid stream or construction it came
from), ``mutation`` (what was done to it) and ``resource_risky`` (a length or
memo index field large enough to make a decoder allocate gigabytes: CPython
allocates BINBYTES, BINBYTES8 and BYTEARRAY8 payloads, and grows the memo to
a PUT index, before it knows the input is short).  The protocol in the file
name is the protocol of the base stream, or of its PROTO opcode (0 when it
has none).

Not every stream here is an error for CPython: text fields accept more than
one might think (``I+1\\n`` is True, ``L0x10L\\n`` is 16), and some
mutations land on another valid pickle.  What CPython does with each is the
reference decoder's answer; this module only makes the inputs.

Families (``--list-families --malformed`` lists them):
"""

import pickle
import pickletools
import struct

from .cases import objects as O

OPCODES = pickletools.opcodes
ALL_CODES = sorted(op.code.encode('latin-1')[0] for op in OPCODES)
BAD_CODES = [b for b in range(256) if b not in ALL_CODES]
OPS = {op.name: op for op in OPCODES}

MALFORMED_FAMILIES = {}

RISKY = 1 << 20   # a length or index past this may make a decoder allocate a lot


def family(name, doc):
    def register(fn):
        MALFORMED_FAMILIES[name] = (fn, doc)
        return fn
    return register


class Bad:
    """One malformed stream before it becomes a Case."""

    __slots__ = ('data', 'protocol', 'base', 'mutation', 'risky', 'buffers')

    def __init__(self, data, protocol, base, mutation, risky=False, buffers=()):
        self.data = bytes(data)
        self.protocol = protocol
        self.base = base
        self.mutation = mutation
        self.risky = risky
        self.buffers = list(buffers)


# ---------------------------------------------------------------------------
# A tiny assembler
# ---------------------------------------------------------------------------

def _arg(op, arg):
    t = op.arg.name
    if t == 'uint1':
        return bytes([arg])
    if t == 'uint2':
        return struct.pack('<H', arg)
    if t == 'int4':
        return struct.pack('<i', arg)
    if t == 'uint4':
        return struct.pack('<I', arg)
    if t == 'uint8':
        return struct.pack('<Q', arg)
    if t == 'float8':
        return struct.pack('>d', arg)
    if t in ('long1', 'long4'):
        body = pickle.encode_long(arg)
        return (bytes([len(body)]) if t == 'long1' else struct.pack('<i', len(body))) + body
    if t in ('string1', 'bytes1'):
        return bytes([len(arg)]) + arg
    if t == 'string4':
        return struct.pack('<i', len(arg)) + arg
    if t == 'bytes4':
        return struct.pack('<I', len(arg)) + arg
    if t in ('bytes8', 'bytearray8'):
        return struct.pack('<Q', len(arg)) + arg
    if t in ('unicodestring1', 'unicodestring4', 'unicodestring8'):
        b = arg.encode('utf-8', 'surrogatepass')
        n = {'unicodestring1': 1, 'unicodestring4': 4, 'unicodestring8': 8}[t]
        return len(b).to_bytes(n, 'little') + b
    if t in ('decimalnl_short', 'decimalnl_long', 'floatnl', 'stringnl',
             'stringnl_noescape', 'unicodestringnl'):
        if isinstance(arg, str):
            arg = arg.encode('latin-1')
        return arg + b'\n'
    if t == 'stringnl_noescape_pair':
        module, name = arg
        return module.encode() + b'\n' + name.encode() + b'\n'
    raise ValueError(t)


def op(name, arg=None):
    o = OPS[name]
    code = o.code.encode('latin-1')
    if o.arg is None:
        assert arg is None, name
        return code
    if isinstance(arg, RawArg):
        return code + arg.raw
    return code + _arg(o, arg)


class RawArg:
    """Argument bytes given as is (for broken fields)."""

    def __init__(self, raw):
        self.raw = raw


def asm(*parts):
    out = bytearray()
    for p in parts:
        out += p if isinstance(p, (bytes, bytearray)) else op(*p) if isinstance(p, tuple) else op(p)
    return bytes(out)


def P(n):
    return op('PROTO', n)


STOP = b'.'


_LEN_FIELDS = {
    'bytes4': 4, 'bytes8': 8, 'bytearray8': 8, 'string4': 4, 'unicodestring4': 4,
    'unicodestring8': 8, 'long4': 4, 'string1': 1, 'bytes1': 1, 'unicodestring1': 1,
    'long1': 1,
}
_SIGNED_LEN = ('string4', 'long4')
_FIXED = {'uint1': 1, 'uint2': 2, 'int4': 4, 'uint4': 4, 'uint8': 8, 'float8': 8}
_MEMO_PUTS = ('BINPUT', 'LONG_BINPUT', 'PUT')


def raw_ops(data):
    """Walk data opcode by opcode at the byte level, without decoding any
    text (pickletools.genops insists on ASCII STRING and fails on Python 2
    streams).  Yields (opcode, position, argument bytes or None when the
    argument is cut off); stops after STOP, after an opcode whose argument is
    cut off, or before a byte that is no opcode."""
    i, n = 0, len(data)
    while i < n:
        o = pickletools.code2op.get(chr(data[i]))
        if o is None:
            return
        pos = i
        i += 1
        if o.arg is None:
            yield o, pos, b''
            if o.name == 'STOP':
                return
            continue
        t = o.arg.name
        if t in _LEN_FIELDS:
            w = _LEN_FIELDS[t]
            length = int.from_bytes(data[i:i + w], 'little', signed=t in _SIGNED_LEN)
            end = i + w + length
            if i + w > n or length < 0 or end > n:
                yield o, pos, None
                return
        elif t in _FIXED:
            end = i + _FIXED[t]
            if end > n:
                yield o, pos, None
                return
        else:
            end = data.find(b'\n', i)
            if end >= 0 and t == 'stringnl_noescape_pair':
                end = data.find(b'\n', end + 1)
            if end < 0:
                yield o, pos, None
                return
            end += 1
        yield o, pos, data[i:end]
        i = end


def scan_opcodes(data):
    """Names of the opcodes a decoder reads from data, in order, up to STOP
    or the first unknown opcode; an opcode whose argument is cut off is
    included."""
    return [o.name for o, _, _ in raw_ops(data)]


def risk_scan(data, limit=RISKY):
    """Whether a decoder reading data could be asked to allocate a lot: a
    length field or FRAME length of ``limit`` or more, or a PUT index of
    ``limit`` or more (CPython grows its memo to the index)."""
    for o, pos, arg in raw_ops(data):
        if o.arg is None:
            continue
        t = o.arg.name
        field = data[pos + 1:pos + 1 + _LEN_FIELDS.get(t, _FIXED.get(t, 0))]
        if t in _LEN_FIELDS:
            if int.from_bytes(field, 'little', signed=t in _SIGNED_LEN) >= limit:
                return True
        elif t in _FIXED:
            if (o.name in _MEMO_PUTS or o.name == 'FRAME') and \
                    len(field) == _FIXED[t] and int.from_bytes(field, 'little') >= limit:
                return True
        elif o.name == 'PUT' and arg:
            try:
                if int(arg.decode('ascii')) >= limit:
                    return True
            except (ValueError, UnicodeDecodeError):
                pass
    return False


def op_boundaries(data):
    """Offsets of each opcode of a valid stream, plus the end."""
    offsets = [pos for _, _, pos in pickletools.genops(data)]
    return offsets + [len(data)]


# ---------------------------------------------------------------------------
# Bases: small valid pickles written by CPython
# ---------------------------------------------------------------------------

def _base_values():
    return [
        ('None', None), ('int 300', 300), ('int 2**70', 2**70), ('float 1.5', 1.5),
        ("str 'ab\\u20ac'", 'ab\u20ac'), ("bytes b'xy'", b'xy'),
        ("list [1, 'ab']", [1, 'ab']), ("dict {'key': (1, 2)}", {'key': (1, 2)}),
        ('set {1, 2}', {1, 2}), ('Plain(value=1)', O.Plain(value=1)),
    ]


def bases(protocols):
    out = []
    for desc, value in _base_values():
        for p in protocols:
            out.append((p, pickle.dumps(value, p), '%s at protocol %d' % (desc, p)))
    return out


# ---------------------------------------------------------------------------
# Families
# ---------------------------------------------------------------------------

@family('mal_truncate', 'valid small pickles cut at every byte')
def fam_truncate(rng, count, protocols):
    for p, data, desc in bases(protocols):
        for cut in range(len(data)):
            yield Bad(data[:cut], p, desc, 'truncated to %d of %d bytes' % (cut, len(data)))


@family('mal_flip', 'one byte xor-ed with a random non-zero value')
def fam_flip(rng, count, protocols):
    for p, data, desc in bases(protocols):
        for _ in range(count):
            i = rng.randrange(len(data))
            x = rng.randrange(1, 256)
            new = bytearray(data)
            new[i] ^= x
            yield Bad(new, p, desc, 'byte %d xor 0x%02x' % (i, x))


@family('mal_insert', 'one random byte inserted')
def fam_insert(rng, count, protocols):
    for p, data, desc in bases(protocols):
        for _ in range(count):
            i = rng.randrange(len(data) + 1)
            x = rng.randrange(256)
            yield Bad(data[:i] + bytes([x]) + data[i:], p, desc,
                      'byte 0x%02x inserted at %d' % (x, i))


@family('mal_delete', 'one byte deleted')
def fam_delete(rng, count, protocols):
    for p, data, desc in bases(protocols):
        for _ in range(count):
            i = rng.randrange(len(data))
            yield Bad(data[:i] + data[i + 1:], p, desc, 'byte %d deleted' % i)


def _small_bases(protocols):
    chosen = [(0, [1]), (2, (1, 'a')), (4, {'key': None})]
    out = []
    for p, v in chosen:
        if p in protocols:
            out.append((p, pickle.dumps(v, p), '%s at protocol %d' % (ascii(v), p)))
    return out


@family('mal_opcode_insert', 'every opcode byte inserted at every opcode boundary')
def fam_opcode_insert(rng, count, protocols):
    for p, data, desc in _small_bases(protocols):
        for at in op_boundaries(data):
            for code in ALL_CODES:
                name = pickletools.code2op[chr(code)].name
                yield Bad(data[:at] + bytes([code]) + data[at:], p, desc,
                          '%s (0x%02x) inserted at %d' % (name, code, at))


@family('mal_opcode_subst', 'each opcode of a small pickle replaced by every other')
def fam_opcode_subst(rng, count, protocols):
    for p, data, desc in _small_bases(protocols):
        if p != 2:
            continue
        for at in op_boundaries(data)[:-1]:
            for code in ALL_CODES:
                if code == data[at]:
                    continue
                name = pickletools.code2op[chr(code)].name
                yield Bad(data[:at] + bytes([code]) + data[at + 1:], p, desc,
                          'opcode at %d replaced by %s (0x%02x)' % (at, name, code))


@family('mal_bad_opcode', 'bytes that are not opcodes, at the start and mid-stream')
def fam_bad_opcode(rng, count, protocols):
    for code in BAD_CODES:
        yield Bad(bytes([code]) + STOP, 0, 'empty', 'unknown opcode 0x%02x first' % code)
    for code in BAD_CODES[::8]:
        yield Bad(asm(P(2), ('BININT1', 1), bytes([code]), STOP), 2, 'int 1 at protocol 2',
                  'unknown opcode 0x%02x after an item' % code)
        yield Bad(asm(P(4), ('FRAME', 3), ('BININT1', 1), bytes([code]), STOP), 4,
                  'int 1 in a frame', 'unknown opcode 0x%02x inside a frame' % code)


# Counted opcodes and how their length field is read.
_COUNTED = [
    # name, length bytes, signed, protocol
    ('SHORT_BINSTRING', 1, False, 1), ('BINSTRING', 4, True, 1),
    ('SHORT_BINBYTES', 1, False, 3), ('BINBYTES', 4, False, 3), ('BINBYTES8', 8, False, 4),
    ('SHORT_BINUNICODE', 1, False, 4), ('BINUNICODE', 4, False, 1),
    ('BINUNICODE8', 8, False, 4), ('BYTEARRAY8', 8, False, 5),
    ('LONG1', 1, False, 2), ('LONG4', 4, True, 2), ('FRAME', 8, False, 4),
]


@family('mal_length', 'length fields past the end, huge, or negative')
def fam_length(rng, count, protocols):
    payload = b'abc'
    for name, width, signed, p in _COUNTED:
        code = OPS[name].code.encode('latin-1')
        lengths = [len(payload) + 1, 2 * len(payload) + 7]
        if width == 1:
            lengths += [0xff]
        elif width == 4:
            lengths += [0x7fffffff, 0x80000000, 0xffffffff]
        else:
            lengths += [0x100000000, 2**63 - 1, 2**63, 2**64 - 1]
        for n in lengths:
            field = n.to_bytes(width, 'little')
            value = int.from_bytes(field, 'little', signed=signed)
            risky = value >= RISKY
            data = P(max(p, 2)) + code + field + payload + STOP
            what = '%s length field 0x%x (%d as read)' % (name, n, value)
            yield Bad(data, max(p, 2), '%s of %r' % (name, payload), what, risky)
    # a length that ends exactly at the end of input (no STOP)
    yield Bad(P(4) + op('SHORT_BINUNICODE', 'abc'), 4, 'SHORT_BINUNICODE', 'no STOP after it')


@family('mal_memo', 'memo GET/PUT of missing, negative and huge indices')
def fam_memo(rng, count, protocols):
    cases = [
        (asm(('INT', '1'), ('GET', '0'), STOP), 0, 'GET of an empty memo', False),
        (asm(('INT', '1'), ('PUT', '0'), ('GET', '1'), STOP), 0, 'GET of a missing index', False),
        (asm(('INT', '1'), ('PUT', '-1'), STOP), 0, 'PUT -1', False),
        (asm(('INT', '1'), ('PUT', '99999999999'), STOP), 0, 'PUT 99999999999', True),
        (asm(('INT', '1'), ('PUT', '1048576'), ('GET', '1048576'), STOP), 0,
         'PUT and GET 2**20 (memo grows to it)', True),
        (asm(P(2), ('BININT1', 1), ('BINGET', 0), STOP), 2, 'BINGET of an empty memo', False),
        (asm(P(2), ('BININT1', 1), ('BINPUT', 255), ('BINGET', 255), ('TUPLE2'), STOP), 2,
         'BINPUT/BINGET 255', False),
        (asm(P(2), ('BININT1', 1), ('LONG_BINPUT', 0xffffffff), STOP), 2,
         'LONG_BINPUT 0xffffffff', True),
        (asm(P(2), ('BININT1', 1), ('LONG_BINPUT', 0x7fffffff), STOP), 2,
         'LONG_BINPUT 0x7fffffff', True),
        (asm(P(2), ('BININT1', 1), ('LONG_BINGET', 0xffffffff), STOP), 2,
         'LONG_BINGET 0xffffffff of an empty memo', False),
        (asm(P(4), 'MEMOIZE', ('BININT1', 1), STOP), 4, 'MEMOIZE with an empty stack', False),
        (asm(P(4), 'MARK', 'MEMOIZE', 'TUPLE', STOP), 4, 'MEMOIZE of a MARK', False),
        (asm(P(4), ('BININT1', 1), ('BINPUT', 5), 'MEMOIZE', ('BINGET', 6), 'TUPLE2', STOP), 4,
         'MEMOIZE after BINPUT 5 uses index len(memo)', False),
        (asm(P(2), ('BININT1', 1), ('BINPUT', 0), ('BININT1', 2), ('BINPUT', 0), ('BINGET', 0),
             STOP), 2, 'BINPUT twice to index 0 (overwrite)', False),
        (asm(P(2), 'MARK', ('BINPUT', 0), 'TUPLE', STOP), 2, 'BINPUT of a MARK', False),
    ]
    for data, p, what, risky in cases:
        yield Bad(data, p, 'hand-built', what, risky)


def _stack_cases():
    plain = ('GLOBAL', (O.__name__, 'Plain'))
    obj = asm(plain, 'EMPTY_TUPLE', 'NEWOBJ')
    return [
        (0, b'0.', 'POP on an empty stack'),
        (0, b'.', 'STOP on an empty stack'),
        (0, b'', 'empty input'),
        (0, b'N', 'no STOP'),
        (0, b'NN.', 'STOP with two items on the stack'),
        (0, b'(.', 'STOP with only a MARK'),
        (1, b'1.', 'POP_MARK without MARK'),
        (1, b'(N1.', 'POP_MARK leaves an empty stack at STOP'),
        (0, b'N(0.', 'POP of a MARK'),
        (0, b't.', 'TUPLE without MARK'),
        (0, b'l.', 'LIST without MARK'),
        (0, b'd.', 'DICT without MARK'),
        (0, b'(I1\nd.', 'DICT with an odd number of items'),
        (0, b'((lp0\nI1\nd.', 'DICT with a list key'),
        (1, b'}(K\x01u.', 'SETITEMS with an odd count'),
        (1, b'}K\x01u.', 'SETITEMS without MARK'),
        (1, b'}(]K\x01u.', 'SETITEMS with a list key'),
        (1, b'}(}K\x01u.', 'SETITEMS with a dict key'),
        (0, b'(dp0\n(lp1\nI1\ns.', 'SETITEM with a list key'),
        (0, b'(dp0\ng0\nI1\ns.', 'SETITEM with the dict as its own key'),
        (0, b'I1\nI2\nI3\ns.', 'SETITEM on an int'),
        (1, b')K\x01K\x02s.', 'SETITEM on a tuple'),
        (1, b'](K\x01K\x02u.', 'SETITEMS on a list'),
        (0, b'I1\nI2\na.', 'APPEND on an int'),
        (1, b')K\x01a.', 'APPEND on a tuple'),
        (1, b'}K\x01a.', 'APPEND on a dict'),
        (1, b'K\x01(K\x02e.', 'APPENDS on an int'),
        (1, b'](K\x01', 'APPENDS never closed'),
        (1, b'K\x01e.', 'APPENDS without MARK'),
        (4, P(4) + b'K\x01(K\x02\x90.', 'ADDITEMS on an int'),
        (4, P(4) + b']K\x01\x90.', 'ADDITEMS without MARK'),
        (4, P(4) + b'\x8f(]\x90.', 'ADDITEMS with a list item'),
        (4, P(4) + b'(]\x91.', 'FROZENSET with a list item'),
        (4, P(4) + b'\x91.', 'FROZENSET without MARK'),
        (4, P(4) + b']\x8f(h\x00\x90.', 'ADDITEMS of an empty memo'),
        (2, P(2) + b'\x85.', 'TUPLE1 on an empty stack'),
        (2, P(2) + b'K\x01\x86.', 'TUPLE2 with one item'),
        (2, P(2) + b'K\x01K\x02\x87.', 'TUPLE3 with two items'),
        (2, P(2) + b'(K\x01\x86.', 'TUPLE2 across a MARK'),
        (0, b'I1\nI2\nb.', 'BUILD on an int'),
        (0, b'N(dp0\nb.', 'BUILD on None'),
        (1, b']}b.', 'BUILD on a list with a dict state'),
        (2, obj + b'K\x01b.', 'BUILD with an int state on an instance (no __setstate__)'),
        (2, obj + b'N}\x86b.', 'BUILD with (None, {}) state'),
        (2, obj + b'}(K\x01K\x02u}\x86b.', 'BUILD with a non-str key in the state dict'),
        (2, obj + b'}(X\x01\x00\x00\x00aK\x01u}(K\x01K\x01u\x86b.',
         'BUILD with a non-str key in the slot state'),
        (2, obj + b'K\x01K\x02\x86b.', 'BUILD with a 2-tuple of ints'),
        (2, P(2) + b'b.', 'BUILD on an empty stack'),
        (0, b'I1\n)R.', 'REDUCE on an int'),
        (0, b'cbuiltins\nlen\nI1\nR.', 'REDUCE with int arguments'),
        (1, b'cbuiltins\nlen\n]R.', 'REDUCE with list arguments'),
        (0, b'cbuiltins\nlen\n(tR.', 'REDUCE len() with no arguments (TypeError)'),
        (0, b'R.', 'REDUCE on an empty stack'),
        (2, P(2) + b'K\x01)\x81.', 'NEWOBJ on an int'),
        (2, P(2) + asm(('GLOBAL', ('builtins', 'len'))) + b')\x81.', 'NEWOBJ on a function'),
        (2, P(2) + asm(plain) + b']\x81.', 'NEWOBJ with list arguments'),
        (2, P(2) + asm(plain) + b'N\x81.', 'NEWOBJ with None arguments'),
        (4, P(4) + asm(plain) + b')]\x92.', 'NEWOBJ_EX with list kwargs'),
        (4, P(4) + asm(plain) + b']}\x92.', 'NEWOBJ_EX with list args'),
        (4, P(4) + b'K\x01)}\x92.', 'NEWOBJ_EX on an int'),
        (4, P(4) + b'\x93.', 'STACK_GLOBAL on an empty stack'),
        (4, P(4) + b'K\x01K\x02\x93.', 'STACK_GLOBAL with int names'),
        (4, P(4) + b'\x8c\x08builtins\x8c\x00\x93.', 'STACK_GLOBAL with an empty name'),
        (4, P(4) + b'\x8c\x00\x8c\x03len\x93.', 'STACK_GLOBAL with an empty module'),
        (4, P(4) + b'\x8c\x08builtins\x8c\x0bno_such_one\x93.', 'STACK_GLOBAL of a missing name'),
        (0, b'cno_such_module_xyz\nname\n.', 'GLOBAL of a missing module'),
        (0, b'2.', 'DUP on an empty stack'),
        (0, b'(2t.', 'DUP of a MARK'),
        (1, b'o.', 'OBJ without MARK'),
        (1, b'(o.', 'OBJ with nothing after MARK'),
        (1, b'(K\x01o.', 'OBJ of an int'),
        (0, b'(imissing_module_xyz\nC\n.', 'INST of a missing module'),
        (0, b'(i\n\n.', 'INST with empty names'),
        (0, b'i__main__\nC\n.', 'INST without MARK'),
        (2, P(2) + b'\x82\x01.', 'EXT1 of an unregistered code'),
        (2, P(2) + b'\x82\x00.', 'EXT1 code 0'),
        (2, P(2) + b'\x83\x00\x01.', 'EXT2 of an unregistered code'),
        (2, P(2) + b'\x84\xff\xff\xff\xff.', 'EXT4 code -1'),
        (2, P(2) + b'\x84\x00\x00\x00\x80.', 'EXT4 code -2**31'),
        (0, b'Pid\n.', 'PERSID without persistent_load'),
        (1, b'K\x01Q.', 'BINPERSID without persistent_load'),
        (1, b'Q.', 'BINPERSID on an empty stack'),
        (0, b'(I1\n(I2\nlt.', 'MARK nested inside a MARK'),
        (0, b'((((((((((N.', 'ten MARKs left open'),
        (1, b'](K\x01(K\x02ee.', 'two APPENDS, inner MARK first'),
        (0, b'(l(l(l(l.', 'nested LIST left without STOP semantics'),
        (2, P(2) + b']q\x00h\x00a.', 'APPEND a list into itself'),
        (2, P(2) + b'}q\x00h\x00h\x00s.', 'SETITEM a dict into itself as key'),
        (4, P(4) + b'\x8f\x94(h\x00\x90.', 'ADDITEMS a set into itself'),
    ]


@family('mal_stack', 'stack-shape and type errors: POP, MARK, SETITEMS, BUILD, REDUCE, ...')
def fam_stack(rng, count, protocols):
    for p, data, what in _stack_cases():
        yield Bad(data, p, 'hand-built', what)


def _text_cases():
    digits4300 = '1' * 4300
    digits4301 = '1' * 4301
    ints = ['1', '0', '01', '00', '+1', '-0', ' 1', '1 ', '\t1', '1_000', '_1', '1__0', '1_',
            '0x10', '0X1F', '010', '0o10', '0b1', '--1', '+-1', '', ' ', '1\x00', '\x00',
            '2147483648', '-2147483649', '9223372036854775808', '99999999999999999999',
            digits4300, digits4301, '-' + digits4300, '1.0', '1e3', 'True', '\xe9', '\u0661']
    out = []
    for s in ints:
        out.append((0, b'I' + s.encode('utf-8') + b'\n.', 'INT %s' % ascii(s[:24])))
    longs = ['1L', '1', '-0L', '0x10L', '010L', '0o10L', '1_0L', ' 1L', '1 L', '1LL', '1l',
             'L', '', '+1L', digits4300 + 'L', digits4301 + 'L', '-' + digits4300 + 'L',
             '1\x00L', '\u0661L']
    for s in longs:
        out.append((0, b'L' + s.encode('utf-8') + b'\n.', 'LONG %s' % ascii(s[:24])))
    floats = ['1.5', '1', 'nan', '-nan', 'inf', '-inf', 'infinity', 'INF', 'NaN', '1e500',
              '-1e500', '1e-400', '1_0', ' 1.0', '1.0 ', '0x1p3', '1e', '', '.5', '5.',
              '1.5\x00', '+1.5', '1,5', '\u0661.0', '1' * 400]
    for s in floats:
        out.append((0, b'F' + s.encode('utf-8') + b'\n.', 'FLOAT %s' % ascii(s[:24])))
    for s in ['0', ' 0', '0 ', '00', '+0', '-0', '0_0', '0x0', '', '-1', '1e0', '\x000']:
        out.append((0, b'I7\np' + s.encode() + b'\ng0\n.', 'PUT %s then GET 0' % ascii(s)))
        out.append((0, b'I7\np0\ng' + s.encode() + b'\n.', 'PUT 0 then GET %s' % ascii(s)))
    strings = ["'abc'", '"abc"', "'abc", 'abc', "'", "''", "'abc\"", "'a\\x'", "'\\'",
               "'\\q'", "'a'b'", "'\\x4'", "'\\400'", "'\\101'", "' '", "'\\u20ac'"]
    for s in strings:
        out.append((0, b'S' + s.encode() + b'\n.', 'STRING %s' % ascii(s)))
        out.append((1, b'S' + s.encode() + b'\n.', 'STRING %s at protocol 1' % ascii(s)))
    unis = ['\\u12', '\\U00110000', '\\', '\\x41', '\\u20ac', '\\N{BULLET}', '\\n']
    for s in unis:
        out.append((0, b'V' + s.encode() + b'\n.', 'UNICODE %s' % ascii(s)))
    out.append((0, b'V\xff\xfe\n.', 'UNICODE with raw non-ASCII bytes'))
    out.append((0, b'Vabc', 'UNICODE without newline'))
    globs = [b'cbuiltins\nlen', b'cbuiltins len\n', b'c\nlen\n', b'cbuiltins\n\n',
             b'cbuiltins\nlen \n', b'c builtins\nlen\n', b'c\xff\nlen\n', b'cbuiltins\nlen.x\n',
             b'cbuiltins\n__class__\n', b'cos.path\njoin\n', b'c__builtin__\nlen\n',
             b'ccopy_reg\n_reconstructor\n']
    for g in globs:
        out.append((0, g + b'.', 'GLOBAL %s' % ascii(g)))
    out.append((0, b'Pa\xffb\n.', 'PERSID with a non-ASCII id'))
    out.append((0, b'P\n.', 'PERSID with an empty id'))
    out.append((0, b'I1', 'INT without newline'))
    out.append((0, b'F1.5', 'FLOAT without newline'))
    out.append((0, b'L1L', 'LONG without newline'))
    out.append((0, b'I1\np0', 'PUT without newline'))
    return out


@family('mal_text', 'INT/LONG/FLOAT/GET/PUT/STRING/UNICODE/GLOBAL text variants, 4300 digits')
def fam_text(rng, count, protocols):
    for p, data, what in _text_cases():
        yield Bad(data, p, 'hand-built', what, False)


def _frame(n):
    return op('FRAME', n)


@family('mal_frame', 'FRAME: straddling opcodes, nesting, too long, empty')
def fam_frame(rng, count, protocols):
    body = op('SHORT_BINUNICODE', 'hello') + op('MEMOIZE')   # 8 bytes
    cases = [
        (P(4) + _frame(len(body) + 1) + body + STOP, 'frame holds the STOP too'),
        (P(4) + _frame(len(body)) + body + STOP, 'STOP after the frame'),
        (P(4) + _frame(4) + body + STOP, 'SHORT_BINUNICODE straddles the frame end'),
        (P(4) + _frame(1) + body + STOP, 'frame ends after the opcode byte'),
        (P(4) + _frame(len(body) + 50) + body + STOP, 'frame longer than the input'),
        (P(4) + _frame(0) + body + STOP, 'empty frame'),
        (P(4) + _frame(0) + _frame(len(body)) + body + STOP, 'empty frame then a frame'),
        (P(4) + _frame(len(body) + 9) + _frame(len(body)) + body + STOP,
         'FRAME inside a frame'),
        (P(4) + _frame(3) + _frame(len(body)) + body + STOP,
         'a 3-byte frame ends inside the next FRAME opcode'),
        (P(4) + _frame(len(body)) + body + _frame(1) + STOP, 'STOP in a second frame'),
        (P(4) + _frame(len(body)), 'frame header, no payload'),
        (P(4) + b'\x95\x08\x00\x00', 'frame length cut off'),
        (P(2) + _frame(len(body)) + body + STOP, 'FRAME at protocol 2'),
        (_frame(len(body)) + body + STOP, 'FRAME without PROTO'),
        (P(4) + _frame(2**32) + body + STOP, 'frame of 2**32 bytes', True),
        (P(4) + _frame(2**63) + body + STOP, 'frame of 2**63 bytes', True),
        (P(4) + _frame(2**64 - 1) + body + STOP, 'frame of 2**64-1 bytes', True),
        (P(4) + _frame(11) + op('BINBYTES', b'x' * 70) + STOP, 'BINBYTES payload past the frame'),
    ]
    for item in cases:
        data, what = item[0], item[1]
        risky = item[2] if len(item) > 2 else False
        yield Bad(data, 4 if data[:2] == P(4) else 2 if data[:2] == P(2) else 0,
                  'hand-built', what, risky)


@family('mal_buffers', 'NEXT_BUFFER / READONLY_BUFFER without or with too few buffers')
def fam_buffers(rng, count, protocols):
    cases = [
        (P(5) + b'\x97.', 'NEXT_BUFFER with no buffers given', []),
        (P(5) + b'\x97\x97\x86.', 'two NEXT_BUFFER, one buffer given', [(b'one', True)]),
        (P(5) + b'\x98.', 'READONLY_BUFFER on an empty stack', []),
        (P(5) + b'K\x01\x98.', 'READONLY_BUFFER on an int', []),
        (P(5) + b'C\x02ab\x98.', 'READONLY_BUFFER on bytes (already read-only)', []),
        (P(5) + b'\x97\x98.', 'READONLY_BUFFER on a writable buffer', [(b'rw', False)]),
        (P(5) + b'\x97\x98\x98.', 'READONLY_BUFFER twice', [(b'rw', False)]),
        (P(4) + b'\x97.', 'NEXT_BUFFER at protocol 4', []),
        (P(5) + b'\x97q\x00h\x00\x86.', 'a buffer memoized and fetched again', [(b'm', True)]),
        (P(5) + b']\x97a.', 'buffer appended to a list, no buffers given', []),
    ]
    for data, what, bufs in cases:
        yield Bad(data, data[1], 'hand-built', what, buffers=bufs)


@family('mal_proto', 'PROTO values and positions, trailing bytes, deep nesting')
def fam_proto(rng, count, protocols):
    for n in (0, 1, 2, 3, 4, 5, 6, 7, 0x80, 0xff):
        yield Bad(P(n) + b'N.', min(n, 5), 'None', 'PROTO %d' % n)
    yield Bad(b'\x80', 0, 'None', 'PROTO without its argument')
    yield Bad(P(2) + P(2) + b'N.', 2, 'None', 'PROTO twice')
    yield Bad(P(2) + b'N' + P(4) + b'0N.', 2, 'None', 'PROTO after an item')
    yield Bad(P(2) + b'N.garbage', 2, 'None', 'bytes after STOP')
    yield Bad(P(2) + b'N..', 2, 'None', 'two STOPs')
    yield Bad(P(2) + b']' * 3000 + b'a' * 2999 + b'.', 2, 'nested lists',
              '3000 nested lists built with APPEND (deep but valid)')
    yield Bad(P(2) + b'(' * 5000 + b't' * 5000 + b'.', 2, 'nested tuples',
              '5000 nested MARK/TUPLE (deep but valid)')


# ---------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------

def generate_malformed(seed, count=3, protocols=(0, 1, 2, 3, 4, 5)):
    """Yield malformed Cases (see oracle.generate.Case), deterministically."""
    from .generate import ALL_PROTOCOLS, Case, family_rng
    protocols = tuple(sorted(set(protocols)))
    for name, (fn, _) in MALFORMED_FAMILIES.items():
        rng = family_rng(seed, name)
        # Always make every stream, so that an index names the same stream
        # whatever the --protocols filter; then filter.
        for index, bad in enumerate(fn(rng, count, ALL_PROTOCOLS)):
            if bad.protocol not in protocols:
                continue
            yield Case(name, index, bad.protocol, seed, 'malformed', bad.data, bad.buffers,
                       roundtrip_policies=(), roundtrip_note='malformed stream',
                       description=bad.mutation,
                       resource_risky=bad.risky or risk_scan(bad.data),
                       extra={'base': bad.base, 'mutation': bad.mutation})


def _doc():
    lines = ['']
    for name, (_, doc) in MALFORMED_FAMILIES.items():
        lines.append('    %-18s %s' % (name, doc))
    return '\n'.join(lines) + '\n'


__doc__ += _doc()
