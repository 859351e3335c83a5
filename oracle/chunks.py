"""Pickle streams as chunks, for the reducer (oracle/reduce.py): a tokenizer
that tolerates any bytes, the value spans and MARK groups a stream builds,
simpler forms of one opcode's argument, and memo renumbering.

A chunk is one opcode with its argument, one byte that is no opcode, or an
opaque tail (an opcode whose argument runs past the end).  The opcode table
is pickletools.opcodes, walked by oracle.malformed.raw_ops (which stops at
STOP and at bytes that are no opcode; :func:`tokenize` goes on from there).
Nothing here decodes or executes a stream.
"""

import collections
import pickle
import pickletools
import struct

from .malformed import _FIXED, _LEN_FIELDS, OPS, raw_ops

# --- tokens ----------------------------------------------------------------------

Token = collections.namedtuple('Token', 'start end name')  # name None: opaque


def tokenize(data):
    """The chunks of any bytes, as Tokens covering data exactly, in order."""
    data = bytes(data)
    out = []
    i, n = 0, len(data)
    while i < n:
        end = i
        for o, pos, arg in raw_ops(data[i:]):
            if arg is None:  # the argument runs past the end: an opaque tail
                out.append(Token(i + pos, n, None))
                return out
            out.append(Token(i + pos, i + pos + 1 + len(arg), o.name))
            end = i + pos + 1 + len(arg)
        if end == i:  # not an opcode
            out.append(Token(i, i + 1, None))
            end = i + 1
        i = end
    return out


def chunks_of(data):
    return [data[t.start:t.end] for t in tokenize(data)]


def opname(chunk):
    """The opcode name of a chunk, or None for an opaque chunk."""
    toks = tokenize(chunk)
    return toks[0].name if len(toks) == 1 and toks[0].end == len(chunk) else None


_MARK = ('mark',)


def value_spans(names):
    """Token index spans (first, last) of the values the opcodes build, and
    the (MARK index, closing index) pairs, from pickletools' stack effects.

    Stops at STOP, at an opaque chunk or at the first opcode the stack
    cannot feed.  A span ends with the opcode that made the value (e.g. the
    APPENDS that finished a list); PUT/MEMOIZE after it belong to the
    consumer's span only.  Popped values (POP, POP_MARK) give spans that
    end with the pop: removing those removes the value and its pop."""
    stack = []              # start index of each stack item, or (_MARK, index)
    spans, groups = [], []
    for k, name in enumerate(names):
        if name is None or name == 'STOP':
            break
        o = OPS[name]
        if name in ('PROTO', 'FRAME', 'PUT', 'BINPUT', 'LONG_BINPUT', 'MEMOIZE'):
            continue
        start, mark = k, None
        try:
            for item in reversed(o.stack_before):
                if item is pickletools.stackslice:
                    while stack and not isinstance(stack[-1], tuple):
                        start = min(start, stack.pop())
                elif item is pickletools.markobject:
                    top = stack.pop()
                    if not isinstance(top, tuple):
                        return spans, groups
                    mark = top[1]
                    start = min(start, mark)
                else:
                    top = stack.pop()
                    if isinstance(top, tuple):
                        return spans, groups
                    start = min(start, top)
        except IndexError:
            return spans, groups
        if mark is not None:
            groups.append((mark, k))
        if name == 'MARK':
            stack.append((_MARK, k))
        elif name == 'DUP':
            stack += [start, start]
        else:
            stack += [start] * len(o.stack_after)
            if len(o.stack_after) <= 1 and (start < k or o.stack_after):
                spans.append((start, k))
    return spans, groups


# --- argument simplification ---------------------------------------------------

_SMALLER_STR = {'BINUNICODE': 'SHORT_BINUNICODE', 'BINUNICODE8': 'BINUNICODE',
                'BINBYTES': 'SHORT_BINBYTES', 'BINBYTES8': 'BINBYTES',
                'BINSTRING': 'SHORT_BINSTRING'}
_SMALLER_IDX = {'LONG_BINPUT': 'BINPUT', 'LONG_BINGET': 'BINGET', 'EXT4': 'EXT2',
                'EXT2': 'EXT1'}
_INT_OPS = ('BININT', 'BININT1', 'BININT2', 'LONG1', 'LONG4')
_TEXT_MIN = {'decimalnl_short': b'0', 'decimalnl_long': b'0L', 'floatnl': b'0',
             'stringnl': b"''", 'stringnl_noescape': b'', 'unicodestringnl': b''}


def _code(name):
    return OPS[name].code.encode('latin-1')


def _counted(name, payload):
    width = _LEN_FIELDS[OPS[name].arg.name]
    if len(payload) >= 1 << (8 * width - (1 if name == 'BINSTRING' else 0)):
        return None
    return _code(name) + len(payload).to_bytes(width, 'little') + payload


def int_forms(v):
    """The shortest standard encodings of int v, shortest first."""
    out = []
    if 0 <= v < 256:
        out.append(_code('BININT1') + bytes([v]))
    if 0 <= v < 65536:
        out.append(_code('BININT2') + struct.pack('<H', v))
    if -2**31 <= v < 2**31:
        out.append(_code('BININT') + struct.pack('<i', v))
    body = pickle.encode_long(v)
    if len(body) < 256:
        out.append(_code('LONG1') + bytes([len(body)]) + body)
    out.append(_code('LONG4') + struct.pack('<i', len(body)) + body)
    return out


def _int_value(name, arg):
    if name == 'BININT':
        return struct.unpack('<i', arg)[0]
    if name in ('BININT1', 'BININT2'):
        return int.from_bytes(arg, 'little')
    width = 1 if name == 'LONG1' else 4
    return pickle.decode_long(arg[width:])


def simpler_forms(chunk):
    """Replacements for one chunk, most aggressive first: never longer, and
    each strictly shorter or a value closer to 0 (so repeating terminates)."""
    name = opname(chunk)
    if name is None or OPS[name].arg is None:
        return []
    o = OPS[name]
    t = o.arg.name
    arg = chunk[1:]
    out = []
    if name in _INT_OPS:
        v = _int_value(name, arg)
        for w in ([0] if v else []) + ([v // 2] if abs(v) > 1 else []):
            out += [f for f in int_forms(w) if f[0] == chunk[0]]   # same opcode
        out += [f for f in int_forms(v) if len(f) < len(chunk)]    # smaller opcode
    elif t in _LEN_FIELDS and name not in ('LONG1', 'LONG4'):
        payload = arg[_LEN_FIELDS[t]:]
        for cut in sorted({0, len(payload) // 2, len(payload) - 1}):
            if 0 <= cut < len(payload):
                out.append(_counted(name, payload[:cut]))
        n = name
        while n in _SMALLER_STR:
            n = _SMALLER_STR[n]
            out.append(_counted(n, payload))
    elif t in _TEXT_MIN:
        # Only the minimal form may keep the length, and it is its own end.
        line = arg[:-1]
        cands = [_TEXT_MIN[t], line[:len(line) // 2], line[len(line) // 2:], line[1:],
                 line[:-1]]
        out += [chunk[:1] + c + b'\n' for c in cands if c != line and len(c) <= len(line)]
    elif t == 'stringnl_noescape_pair':
        module, _, rest = arg.partition(b'\n')
        qual = rest[:-1]
        for m, q in ((b'm', b'n'), (module, b'n'), (b'm', qual)):
            if len(m) + len(q) < len(module) + len(qual):
                out.append(chunk[:1] + m + b'\n' + q + b'\n')
    elif name == 'BINFLOAT' and arg != bytes(8):
        out.append(chunk[:1] + bytes(8))
    elif name == 'PROTO':
        out += [chunk[:1] + bytes([p]) for p in (0, 2, 3, 4) if p < arg[0]]
    elif name in _SMALLER_IDX:
        v = int.from_bytes(arg, 'little', signed=(name == 'EXT4'))
        n = _SMALLER_IDX[name]
        w = _FIXED[OPS[n].arg.name]
        if 0 <= v < 1 << (8 * w):
            out.append(_code(n) + v.to_bytes(w, 'little'))
    seen, forms = set(), []
    for f in out:
        if f is not None and f != chunk and len(f) <= len(chunk) and f not in seen:
            seen.add(f)
            forms.append(f)
    return forms


_PUTS = frozenset({'PUT', 'BINPUT', 'LONG_BINPUT'})
_GETS = frozenset({'GET', 'BINGET', 'LONG_BINGET'})


def _memo_arg(name, chunk):
    if OPS[name].arg.name == 'decimalnl_short':
        try:
            return int(chunk[1:-1])
        except ValueError:
            return None
    return int.from_bytes(chunk[1:], 'little')


def _memo_op(kind, old, index, downsize):
    """A PUT (kind 'put') or GET at index, in old's family."""
    name = opname(old)
    if OPS[name].arg.name == 'decimalnl_short':
        return old[:1] + str(index).encode() + b'\n'
    small, big = ('BINPUT', 'LONG_BINPUT') if kind == 'put' else ('BINGET', 'LONG_BINGET')
    if index < 256 and (downsize or name == small):
        return _code(small) + bytes([index])
    return _code(big) + struct.pack('<I', index)


def renumbered(chunks, downsize):
    """The chunks with memo indexes renumbered 0, 1, ... in order of first
    PUT, GETs rewritten to match (GETs of indexes never PUT are kept); None
    when there is nothing to change or MEMOIZE (implicit indexes) is used."""
    names = [opname(c) for c in chunks]
    if 'MEMOIZE' in names:
        return None
    mapping = {}
    for c, n in zip(chunks, names):
        if n in _PUTS:
            v = _memo_arg(n, c)
            if v is not None and v not in mapping:
                mapping[v] = len(mapping)
    out = []
    for c, n in zip(chunks, names):
        kind = 'put' if n in _PUTS else 'get' if n in _GETS else None
        v = _memo_arg(n, c) if kind else None
        out.append(_memo_op(kind, c, mapping[v], downsize) if v in mapping else c)
    return out if out != list(chunks) else None
