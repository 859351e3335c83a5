"""Known divergences between CPython's C unpickler (the reference) and
Python unpicklers built like ``pickle._Unpickler`` (CPython's pure-Python
one, PyPy's, zodbpickle's), with their CPython issues.

Each matcher looks at the stream (its opcodes and their arguments, from
oracle.malformed.raw_ops) and at the two outcomes (adapter Records of
oracle.adapters), and says whether the documented mechanism is what the
disagreement shows.  Matchers stay narrow: a disagreement they do not
explain stays a failure.  docs/known-differences.md ("Between CPython's
own unpicklers") describes them in prose.

For brine, the matrix uses oracle.known_differences (brine's own
registry) instead.
"""

import re

from ..malformed import raw_ops


class Divergence:
    __slots__ = ('id', 'issues', 'description', 'matcher')

    def __init__(self, id, issues, description, matcher):
        self.id = id
        self.issues = tuple(issues)
        self.description = description
        self.matcher = matcher

    def label(self):
        return '%s (%s)' % (self.id, ', '.join(self.issues))


_PLAIN_INT = re.compile(rb'^-?(0|[1-9][0-9]*)L?$')
_PLAIN_FLOAT = re.compile(rb'^-?([0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|inf|nan)$')


class _Stream:
    def __init__(self, data):
        self.data = data
        self.ops = list(raw_ops(data))
        self.names = [o.name for o, _, _ in self.ops]

    def args(self, *names):
        return [a for o, _, a in self.ops if o.name in names]


def _msg(rec):
    return (rec.body or '') if rec.kind == 'reject' else ''


def _accepts(a, ref):
    return a.kind == 'accept' or ref.kind == 'accept'


def _shared_immutables(s, a, ref):
    if a.kind != 'accept' or ref.kind != 'accept':
        return False
    from .encode import unshare
    return unshare(a.body) == unshare(ref.body)


def _int_text(s, a, ref):
    # Complete lines only: a cut-off line is a truncation (truncated-eof).
    lines = [arg.rstrip(b'\n') for arg in s.args('INT', 'LONG') if arg is not None]
    odd = [x for x in lines if not _PLAIN_INT.match(x) or x == b'-0' or b'\0' in x]
    return bool(odd) and (_accepts(a, ref) or 'literal' in _msg(a) + _msg(ref)
                          or 'int' in _msg(ref).lower())


def _float_text(s, a, ref):
    lines = [arg.rstrip(b'\n') for arg in s.args('FLOAT') if arg is not None]
    odd = []
    for x in lines:
        try:
            overflow = abs(float(x)) == float('inf') and b'inf' not in x.lower()
        except ValueError:
            overflow = False
        if not _PLAIN_FLOAT.match(x) or b'\0' in x or overflow:
            odd.append(x)
    return bool(odd) and (_accepts(a, ref) or 'float' in (_msg(a) + _msg(ref)).lower())


def _build_falsy(s, a, ref):
    return 'BUILD' in s.names and (
        'state is not a dictionary' in _msg(ref) or "has no attribute '__dict__'" in _msg(ref)
        or 'state is not a dictionary' in _msg(a))


def _binstring_length(s, a, ref):
    return 'BINSTRING' in s.names and 'negative byte count' in _msg(a) + _msg(ref)


def _empty_appends(s, a, ref):
    return any(x == 'MARK' and y in ('APPENDS', 'ADDITEMS')
               for x, y in zip(s.names, s.names[1:]))


def _frame(s, a, ref):
    if 'FRAME' not in s.names:
        return False
    if 'frame' in (_msg(a) + _msg(ref)).lower():
        return True
    if not _accepts(a, ref):
        return False
    starts = {pos for _, pos, _ in s.ops}
    for o, pos, arg in s.ops:
        if o.name == 'FRAME' and arg is not None:
            end = pos + 9 + int.from_bytes(arg[:8], 'little')
            if end > len(s.data) or (end not in starts and end <= s.ops[-1][1]):
                return True     # a frame overruns the data, or an opcode straddles it
    return False


def _reduce_args(s, a, ref):
    m = _msg(ref)
    return any(n in s.names for n in ('REDUCE', 'NEWOBJ', 'NEWOBJ_EX')) and (
        'must be a tuple' in m or 'must be a type' in m or 'argument list' in m)


def _error_classes(s, a, ref):
    return a.kind == 'reject' and ref.kind == 'reject' and a.exc_class in (
        'KeyError', 'IndexError')


def _truncated(s, a, ref):
    return (a.kind == 'reject' and ref.kind == 'reject'
            and 'pickle data was truncated' in _msg(ref))


DIVERGENCES = (
    Divergence('shared-immutables', ('none filed',),
               'the same value with other sharing: the interpreter made equal immutable '
               'objects (strs, empty frozensets, ...) one object, or not (PyPy)',
               _shared_immutables),
    Divergence('int-text', ('gh-135241', 'gh-126992', 'gh-126996'),
               'INT/LONG text: C strtol (bools for any 3-byte 0/1 line, NUL ends the '
               'number) against int(s, 0) and exact I00/I01', _int_text),
    Divergence('float-text', ('gh-135580', 'gh-126996'),
               'FLOAT text: C PyOS_string_to_double (no spaces or underscores, overflow is '
               'an error) against float()', _float_text),
    Divergence('build-falsy-state', ('gh-128965', 'gh-144411'),
               'BUILD with a falsy non-dict state or slot state: an error in C, a no-op in '
               'Python', _build_falsy),
    Divergence('binstring-length', ('gh-135321',),
               'BINSTRING length of 2**31 or more: unsigned in C, negative in Python',
               _binstring_length),
    Divergence('empty-appends', ('gh-135573',),
               'empty APPENDS/ADDITEMS: nothing to do in C, extend()/add() looked up in '
               'Python', _empty_appends),
    Divergence('frame-boundaries', ('gh-154848',),
               'FRAME boundaries: not enforced by C reading a file object, enforced by '
               'Python', _frame),
    Divergence('reduce-args', ('none filed',),
               'REDUCE/NEWOBJ arguments: C requires a tuple (and a type), Python unpacks '
               'anything', _reduce_args),
    Divergence('error-classes', ('gh-141749',),
               'malformed streams: Python raises KeyError/IndexError where C raises '
               'UnpicklingError', _error_classes),
    Divergence('truncated-eof', ('none filed',),
               'a stream cut off inside an argument: C raises UnpicklingError (pickle data '
               'was truncated), Python EOFError or whatever its parser of the short '
               'argument raises', _truncated),
)


# Streams that show each C/Python divergence (tests/py/test_oracle_impls.py
# pins both outcomes): the matrix runs them as the source "examples", so
# every divergence appears in it with its issues.
EXAMPLES = (
    ('int-text', b'I+1\n.'), ('int-text', b'I 1\n.'), ('int-text', b'I010\n.'),
    ('float-text', b'F1_0\n.'), ('float-text', b'F1e500\n.'),
    ('build-falsy-state', b']}b.'), ('build-falsy-state', b']K\x00b.'),
    ('build-falsy-state', b']NN\x86b.'),
    ('binstring-length', b'T\xff\xff\xff\xff.'),
    ('empty-appends', b'K\x01(e.'), ('empty-appends', b'\x80\x04K\x01(\x90.'),
    ('frame-boundaries', b'\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00J\x01\x02\x03'
                         b'\x04\x05\x06.'),
    ('frame-boundaries', b'\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00K\x01.'),
    ('reduce-args', b'\x80\x02cm\nf\n]R.'), ('reduce-args', b'\x80\x02cm\nC\n]\x81.'),
    ('error-classes', b'\xff.'), ('error-classes', b'(.'),
    ('truncated-eof', b'\x8c\x05ab.'),
)


def match(data, adapter_rec, ref_rec):
    """The Divergence explaining this disagreement, or None."""
    s = _Stream(data)
    for d in DIVERGENCES:
        try:
            if d.matcher(s, adapter_rec, ref_rec):
                return d
        except (IndexError, ValueError):
            continue
    return None


def by_id():
    return {d.id: d for d in DIVERGENCES}
