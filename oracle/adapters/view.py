"""Views: the canonical text with the distinctions an implementation cannot
make erased, so that a JavaScript or Go decoder can be compared at all.

A JavaScript number cannot say whether the pickle held an int or a float,
a JavaScript array whether it was a tuple or a list, a Go map keeps no
order.  An adapter with a view prints its result in the view's text, and
the matrix renders the reference's result (CPython's C unpickler, the same
stubs) in the same view; the two texts are then compared exactly.  Nodes
that a view has no text for at all (globals, objects, persistent ids,
buffers, cycles) make the whole result ``cannot-represent``.

The view text (one line after ``root: ``)::

    None  True  False
    n:<decimal>        a number, views js and js-object: an integral value
                       below 2**53 in magnitude, or any int (a JS BigInt)
    i:<decimal>        an int (view go)
    f:<16 hex digits>  a float by its IEEE 754 bits (every other number)
    nan                any NaN (no implementation here keeps the payload)
    s'<chars>'         a str: printable ASCII but \\ and ' as is, every other
                       UTF-16 code unit \\uXXXX (js), every other UTF-8 byte
                       \\xHH (go; lone surrogates as surrogatepass)
    b:<hex>            bytes or bytearray
    [a, b]             a tuple or a list
    {k: v, ...}        a dict; insertion order (js), sorted by key text
                       (js-object, go); js-object keys are str: an int key k
                       is s'<str(k)>' as JavaScript would make it
    set{a, b}          a set or frozenset, elements sorted by text

Views: ``js`` (pickleparser: dicts as Map), ``js-object`` (jpickle: dicts
as objects), ``go`` (stalecucumber).
"""

import math
import struct

VIEWS = ('js', 'js-object', 'go')
MAX_TEXT = 1 << 20
_SAFE = 1 << 53


class CannotRepresent(Exception):
    pass


def _float_bits(x):
    return struct.pack('>d', x).hex()


def _num(x, view):
    if isinstance(x, bool):
        return 'True' if x else 'False'
    if isinstance(x, int):
        if view == 'go':
            return 'i:%d' % x
        return 'n:%d' % x
    if math.isnan(x):
        return 'nan'
    if view != 'go' and math.isfinite(x) and x == int(x) and abs(x) < _SAFE:
        return 'n:%d' % int(x)
    return 'f:' + _float_bits(x)


def esc_str(s, view):
    out = []
    if view == 'go':
        for b in s.encode('utf-8', 'surrogatepass'):
            if 0x20 <= b < 0x7f and b not in (0x5c, 0x27):
                out.append(chr(b))
            else:
                out.append('\\x%02x' % b)
    else:
        units = s.encode('utf-16-le', 'surrogatepass')
        for i in range(0, len(units), 2):
            u = units[i] | units[i + 1] << 8
            if 0x20 <= u < 0x7f and u not in (0x5c, 0x27):
                out.append(chr(u))
            else:
                out.append('\\u%04x' % u)
    return "s'" + ''.join(out) + "'"


def render(root, view):
    """'root: <view text>\\n' for a decoded plain-data graph, or raise
    CannotRepresent."""
    if view not in VIEWS:
        raise ValueError('unknown view %r' % view)
    size = [0]
    path = set()

    def r(x):
        if x is None:
            t = 'None'
        elif type(x) in (bool, int, float):
            t = _num(x, view)
        elif type(x) is str:
            t = esc_str(x, view)
        elif type(x) in (bytes, bytearray):
            t = 'b:' + bytes(x).hex()
        elif type(x) in (tuple, list, dict, set, frozenset):
            if id(x) in path:
                raise CannotRepresent('a cycle')
            path.add(id(x))
            try:
                if type(x) in (tuple, list):
                    t = '[' + ', '.join(r(v) for v in x) + ']'
                elif type(x) is dict:
                    items = [(key(k), r(v)) for k, v in x.items()]
                    if view != 'js':
                        items.sort()
                    t = '{' + ', '.join('%s: %s' % kv for kv in items) + '}'
                else:
                    t = 'set{' + ', '.join(sorted(r(v) for v in x)) + '}'
            finally:
                path.discard(id(x))
        else:
            raise CannotRepresent('a %s node' % _kind(x))
        size[0] += len(t)
        if size[0] > MAX_TEXT:
            raise CannotRepresent('more than %d characters of text' % MAX_TEXT)
        return t

    def key(k):
        if view == 'js-object':
            if type(k) is str:
                return esc_str(k, view)
            if type(k) is int and abs(k) < _SAFE:
                return esc_str(str(k), view)
            raise CannotRepresent('a %s dict key' % type(k).__name__)
        return r(k)

    try:
        return 'root: %s\n' % r(root)
    except RecursionError:
        raise CannotRepresent('nesting too deep') from None


def _kind(x):
    from .. import stubs
    if isinstance(x, stubs.Persid):
        return 'persistent id'
    if isinstance(x, (stubs.Stub, stubs.StubBase)) or isinstance(type(x), stubs.Stub):
        return 'global or object'
    return type(x).__name__
