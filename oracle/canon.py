"""The canonical text (docs/canonical.md) of a reference decode's result.

The input is the object graph CPython's unpickler returned, plus the
bookkeeping of the load (oracle.stubs.StubFactory: what each stub is and
what the stream did to it; the supplied out-of-band buffers; the insertion
order of sets).  The output is byte-identical to what ``brine decode``
prints for the same stream.

Both passes are iterative (explicit stacks), because graphs may be 10**5
and more levels deep:

1. count: walk the root line and then, in creation order, every stub
   object or persistent record that nothing printed so far reaches (a
   ``discarded:`` line), counting how often each labelable node is reached;
2. print: depth first, left to right, giving ``&N`` to the first
   appearance of every node reached more than once and ``*N`` afterwards.

Set and frozenset elements are printed in insertion (stream) order, which
CPython's set objects do not keep: the caller supplies it (see
oracle.setorder).  Sets whose order is unknown are printed in a
deterministic sorted order and reported as unverified.
"""

import re
import struct
from pickle import PickleBuffer

from . import stubs

_NoneType = type(None)
_Stub = stubs.Stub
_Persid = stubs.Persid
_OBJECT = stubs.OBJECT


# --- atoms -------------------------------------------------------------------

_DECIMAL_BITS = 4096
_DEFAULT_NAN = 0x7ff8000000000000
_pack_d = struct.Struct('<d').pack
_unpack_q = struct.Struct('<Q').unpack


def fmt_int(x):
    """Decimal when abs(x) < 2**4096, else 0x hex with the sign first (so
    printing stays linear and under CPython's 4300-digit str() limit)."""
    x = int(x)
    if x.bit_length() <= _DECIMAL_BITS:
        return str(x)
    return hex(x)


def float_bits(x):
    return _unpack_q(_pack_d(x))[0]


def fmt_float(x):
    """repr(), except NaN: 'nan' for the default bits, else nan:0x<bits>."""
    if x != x:
        bits = float_bits(x)
        if bits == _DEFAULT_NAN:
            return 'nan'
        return 'nan:0x%016x' % bits
    return repr(x)


def _char_escape(o):
    if o == 0x5c:
        return '\\\\'
    if o == 0x27:
        return "\\'"
    if o == 0x09:
        return '\\t'
    if o == 0x0a:
        return '\\n'
    if o == 0x0d:
        return '\\r'
    if 0x20 <= o <= 0x7e:
        return chr(o)
    return '\\x%02x' % o


_BYTE_ESC = [_char_escape(o) for o in range(256)]
_UNSAFE_STR = re.compile("[^ -&(-\\[\\]-~]")
_UNSAFE_BYTES = re.compile(b"[^ -&(-\\[\\]-~]")


def _str_sub(m):
    o = ord(m.group())
    if o < 0x100:
        return _BYTE_ESC[o]
    if o < 0x10000:
        return '\\u%04x' % o
    return '\\U%08x' % o


def esc_str(s):
    """A canonical str literal, quotes included (always ASCII)."""
    if _UNSAFE_STR.search(s) is None:
        return "'" + s + "'"
    return "'" + _UNSAFE_STR.sub(_str_sub, s) + "'"


def esc_bytes(b):
    """A canonical bytes literal, b'' included."""
    if _UNSAFE_BYTES.search(b) is None:
        return "b'" + b.decode('ascii') + "'"
    return "b'" + ''.join([_BYTE_ESC[o] for o in b]) + "'"


def labelable(x):
    """Whether a node can carry a label (docs/canonical.md, "Labels")."""
    t = type(x)
    if t is _NoneType or t is bool or t is int or t is float:
        return False
    if t is str:
        n = len(x)
        return n > 1 or (n == 1 and ord(x) > 0xff)
    if t is bytes or t is tuple:
        return len(x) > 0
    return True


# --- the result graph --------------------------------------------------------

class Graph:
    """A decode result with what is needed to interpret its nodes.

    root:     the value the load returned
    factory:  the load's StubFactory
    buffers:  the supplied out-of-band buffer objects (PickleBuffer), in order
    backings: the objects those buffers wrap (a memoryview made by
              READONLY_BUFFER from buffer i has .obj == backings[i])
    """

    def __init__(self, root, factory, buffers=(), backings=()):
        self.root = root
        self.factory = factory
        self.info = factory.info
        self.persids = factory.persids
        self.buffer_index = {id(b): i for i, b in enumerate(buffers)}
        self.buffers = list(buffers)
        self.backing_index = {id(b): i for i, b in enumerate(backings)}

    def view_target(self, mv):
        """The node a READONLY_BUFFER memoryview stands for."""
        obj = mv.obj
        i = self.backing_index.get(id(obj))
        if i is not None:
            return self.buffers[i]
        return obj

    def children(self, x, set_order=None):
        """The edges of node x in print order (sets: `set_order` or, when
        None, iteration order)."""
        t = type(x)
        if t is tuple or t is list:
            return list(x)
        if t is dict:
            out = []
            for k, v in x.items():
                out.append(k)
                out.append(v)
            return out
        if t is set or t is frozenset:
            return list(set_order) if set_order is not None else list(x)
        if t is _Stub:
            info = self.info[x]
            out = []
            if info.kind != _OBJECT:
                out.append(info.module)
                out.append(info.name)
            else:
                out.append(info.callable)
                if info.args_obj is not None:
                    out.append(info.args_obj)
                else:
                    out.extend(info.args)
                if info.kwargs_obj is not None:
                    out.append(info.kwargs_obj)
                else:
                    for k, v in info.kwargs:
                        out.append(k)
                        out.append(v)
            for op, a, b in info.ops:
                if op is stubs.OP_EXTEND:
                    out.extend(a)
                elif op is stubs.OP_SETITEM:
                    out.append(a)
                    out.append(b)
                else:
                    out.append(a)
            return out
        if t is _Persid:
            return [self.persids[x].pid]
        if t is memoryview:
            return [self.view_target(x)]
        return []


class CanonError(Exception):
    """The result holds something the canonical text cannot express."""


_LEAF_TYPES = frozenset([_NoneType, bool, int, float, complex, str, bytes,
                         bytearray, PickleBuffer])
_CONTAINER_TYPES = frozenset([tuple, list, dict, set, frozenset, _Stub, _Persid,
                              memoryview])


def count(graph):
    """Pass 1.  Returns (counts, discarded, multisets):
    counts: id -> number of reaches, for every labelable node reached;
    discarded: the nodes of the discarded lines, in creation order;
    multisets: the sets/frozensets with 2+ elements, in discovery order.
    """
    counts = {}
    multisets = []
    children = graph.children
    leaf = _LEAF_TYPES

    def visit(start):
        stack = [start]
        pop = stack.pop
        push = stack.extend
        get = counts.get
        while stack:
            x = pop()
            t = type(x)
            if t is _NoneType or t is bool or t is int or t is float:
                continue
            if not labelable(x):
                continue
            i = id(x)
            c = get(i)
            if c is not None:
                counts[i] = c + 1
                continue
            counts[i] = 1
            if t in leaf:
                continue
            if t not in _CONTAINER_TYPES:
                raise CanonError('unexpected %s in the result' % t.__name__)
            if (t is set or t is frozenset) and len(x) >= 2:
                multisets.append(x)
            push(children(x))

    visit(graph.root)
    discarded = []
    for obj in graph.factory.created:
        if id(obj) not in counts:
            discarded.append(obj)
            visit(obj)
    return counts, discarded, multisets


class _Lit(str):
    """Literal text on the print stack (distinguished from str values)."""
    __slots__ = ()


_SEP = _Lit(', ')
_COLON = _Lit(': ')
_RPAR = _Lit(')')
_ONE_RPAR = _Lit(',)')
_RBRACK = _Lit(']')
_RBRACE = _Lit('}')
_RBRACE_RPAR = _Lit('})')
_LPAR = _Lit('(')
_EXTEND = _Lit('.extend([')
_EXTEND_END = _Lit('])')
_SETITEM = _Lit('.setitem(')
_ADD = _Lit('.add(')
_SETSTATE = _Lit('.setstate(')
_ROOT = _Lit('root: ')
_DISCARDED = _Lit('discarded: ')
_NL = _Lit('\n')


def _seq(tokens, items, close):
    """Append items separated by ', ' and then `close`."""
    first = True
    for it in items:
        if not first:
            tokens.append(_SEP)
        first = False
        tokens.append(it)
    tokens.append(close)


def _args(tokens, args):
    tokens.append(_LPAR)
    if len(args) == 1:
        tokens.append(args[0])
        tokens.append(_ONE_RPAR)
    else:
        _seq(tokens, args, _RPAR)


def render(graph, counts, discarded, orders):
    """Pass 2: the canonical text.  `orders` maps id(set) -> elements in
    print order for every set/frozenset with 2+ elements."""
    out = []
    emit = out.append
    labels = {}
    info = graph.info
    persids = graph.persids
    stack = []
    pop = stack.pop
    push = stack.append
    nlabels = 0

    lines = [(_ROOT, graph.root)] + [(_DISCARDED, d) for d in discarded]
    for head, node in reversed(lines):
        push(_NL)
        push(node)
        push(head)

    while stack:
        x = pop()
        t = type(x)
        if t is _Lit:
            emit(x)
            continue
        if t is _NoneType or t is bool:
            emit('None' if x is None else ('True' if x else 'False'))
            continue
        if t is int:
            emit(fmt_int(x))
            continue
        if t is float:
            emit(fmt_float(x))
            continue
        if labelable(x) and counts.get(id(x), 0) > 1:
            i = id(x)
            n = labels.get(i)
            if n is not None:
                emit('*%d' % n)
                continue
            nlabels += 1
            labels[i] = nlabels
            emit('&%d ' % nlabels)
        if t is str:
            emit(esc_str(x))
        elif t is bytes:
            emit(esc_bytes(x))
        elif t is tuple:
            n = len(x)
            if n == 0:
                emit('()')
            elif n == 1:
                emit('(')
                push(_ONE_RPAR)
                push(x[0])
            else:
                emit('(')
                tokens = []
                _seq(tokens, x, _RPAR)
                stack.extend(reversed(tokens))
        elif t is list:
            emit('[')
            tokens = []
            _seq(tokens, x, _RBRACK)
            stack.extend(reversed(tokens))
        elif t is dict:
            emit('{')
            tokens = []
            first = True
            for k, v in x.items():
                if not first:
                    tokens.append(_SEP)
                first = False
                tokens.append(k)
                tokens.append(_COLON)
                tokens.append(v)
            tokens.append(_RBRACE)
            stack.extend(reversed(tokens))
        elif t is _Stub:
            rec = info[x]
            tokens = []
            if rec.kind == _OBJECT:
                emit(rec.make + '(')
                tokens.append(rec.callable)
                tokens.append(_SEP)
                if rec.args_obj is not None:
                    tokens.append(rec.args_obj)
                else:
                    _args(tokens, rec.args)
                if rec.kwargs_obj is not None:
                    tokens.append(_SEP)
                    tokens.append(rec.kwargs_obj)
                elif rec.kwargs or rec.newobj_ex:
                    tokens.append(_SEP)
                    tokens.append(_Lit('{'))
                    first = True
                    for k, v in rec.kwargs:
                        if not first:
                            tokens.append(_SEP)
                        first = False
                        tokens.append(k)
                        tokens.append(_COLON)
                        tokens.append(v)
                    tokens.append(_RBRACE)
                tokens.append(_RPAR)
            else:
                emit('global(')
                tokens.append(rec.module)
                tokens.append(_SEP)
                tokens.append(rec.name)
                tokens.append(_RPAR)
            for op, a, b in rec.ops:
                if op is stubs.OP_EXTEND:
                    tokens.append(_EXTEND)
                    _seq(tokens, a, _EXTEND_END)
                elif op is stubs.OP_SETITEM:
                    tokens.append(_SETITEM)
                    tokens.append(a)
                    tokens.append(_SEP)
                    tokens.append(b)
                    tokens.append(_RPAR)
                else:
                    tokens.append(_ADD if op is stubs.OP_ADD else _SETSTATE)
                    tokens.append(a)
                    tokens.append(_RPAR)
            stack.extend(reversed(tokens))
        elif t is set or t is frozenset:
            n = len(x)
            if n == 0:
                emit('set()' if t is set else 'frozenset()')
                continue
            items = orders[id(x)] if n >= 2 else list(x)
            if t is set:
                emit('{')
                close = _RBRACE
            else:
                emit('frozenset({')
                close = _RBRACE_RPAR
            tokens = []
            _seq(tokens, items, close)
            stack.extend(reversed(tokens))
        elif t is bytearray:
            emit('bytearray(' + esc_bytes(bytes(x)) + ')')
        elif t is complex:
            emit('complex(' + fmt_float(x.real) + ', ' + fmt_float(x.imag) + ')')
        elif t is _Persid:
            emit('persid(')
            push(_RPAR)
            push(persids[x].pid)
        elif t is PickleBuffer:
            i = graph.buffer_index.get(id(x))
            if i is None:
                raise CanonError('PickleBuffer that was not supplied')
            emit('buffer(%d)' % i)
        elif t is memoryview:
            emit('readonly(')
            push(_RPAR)
            push(graph.view_target(x))
        else:
            raise CanonError('unexpected %s in the result' % t.__name__)
    return ''.join(out)
