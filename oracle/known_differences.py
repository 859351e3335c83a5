"""The registry of documented differences between brine and CPython.

docs/known-differences.md describes, in prose, every place where brine
and its reference (CPython's C unpickler reading ``io.BytesIO``, with
inert stubs) are allowed to disagree.  This module is the same list in a
form the comparison tools can apply: each :class:`Entry` has the id used
in the document, the CPython issue(s), a one-line description, and a
matcher deciding whether one observed disagreement is explained by it.

Matchers must stay specific: an entry excuses a disagreement only when
the outcomes *and* the stream show the documented mechanism (the exception
classes on both sides, the opcodes CPython executed, the options), so a
real bug that merely looks similar is still reported.  Entries whose
difference never shows up as a disagreement in a decode comparison
(``messages``: only exception classes are compared; ``frame-file-model``:
brine follows the reference, ``pickle.loads`` is not compared;
``text-buffers``: canonical text input only) are listed for completeness
with no matcher, and never excuse anything.

The registry is keyed by CPython version (major.minor), because each
entry documents a behaviour of one CPython line; :func:`match` uses the
version of the Python running the reference unless told otherwise.

API::

    match(data, options, brine, reference, version=None) -> Entry | None
    entries(version=None) -> tuple of Entry

``data`` is the pickle; ``options`` an ``oracle.reference.Options``, a
dict with the same keys, or None (defaults); ``brine`` and ``reference``
are outcome-like objects with ``kind`` ('accept' | 'reject' | 'resource'
| ...), ``exc_class``, ``message`` and ``text``; ``reference.ops`` (the
executed opcodes, ``[(offset, name)]``) is used when present and
recomputed with oracle.walker otherwise.
"""

import codecs
import sys

# --- what the matchers look at --------------------------------------------------

_DEFAULTS = {'policy': 'symbolic', 'encoding': 'ASCII', 'errors': 'strict',
             'fix_imports': True, 'buffers': None, 'extensions': None, 'impl': 'c'}

# Codecs brine implements (docs/known-differences.md, `codecs`), by the
# name codecs.lookup() reports for them and their aliases.
_BRINE_CODECS = frozenset({'ascii', 'iso8859-1', 'utf-8'})

_PY2_STRING_OPS = frozenset({'STRING', 'BINSTRING', 'SHORT_BINSTRING'})
_HASHING_OPS = frozenset({'SETITEM', 'SETITEMS', 'DICT', 'ADDITEMS', 'FROZENSET', 'REDUCE'})
_NESTING_OPS = frozenset({'TUPLE', 'TUPLE1', 'TUPLE2', 'TUPLE3', 'FROZENSET', 'REDUCE'})
_SHARING_OPS = frozenset({'GET', 'BINGET', 'LONG_BINGET', 'DUP'})
_APPEND_OPS = frozenset({'APPEND', 'APPENDS'})

# A memo index or length from which CPython's eager allocation, not the
# stream, decides the outcome (oracle.malformed uses the same bound).
HUGE = 1 << 20
# Tuple nesting needed before CPython's comparison recursion can reach its
# limit (1000 frames; ~990 nested tuples in the worker).
DEEP = 500


class _View:
    """The facts a matcher needs about one disagreement, computed lazily."""

    def __init__(self, data, options, brine, reference):
        self.data = bytes(data)
        self.options = options
        self.brine = brine
        self.reference = reference
        self._ops = None
        self._args = None
        self._walk = False  # not walked yet; None when the walk failed

    def option(self, name):
        o = self.options
        if o is None:
            return _DEFAULTS[name]
        if isinstance(o, dict):
            return o.get(name, _DEFAULTS[name])
        return getattr(o, name, _DEFAULTS[name])

    def walk(self):
        """oracle.walker's walk of the stream (made once), or None when it
        failed."""
        if self._walk is False:
            from . import walker
            try:
                self._walk = walker.walk(self.data, self.option('extensions'))
            except Exception:  # a matcher must never fail a comparison
                self._walk = None
        return self._walk

    @property
    def ops(self):
        """[(offset, name)] CPython executed (the reference's list, else the walker's)."""
        if self._ops is None:
            ops = getattr(self.reference, 'ops', None)
            if ops is None:
                w = self.walk()
                ops = w.op_names() if w is not None else []
            self._ops = [tuple(x) for x in ops]
        return self._ops

    def op_names(self):
        return [name for _, name in self.ops]

    def arg_of(self, offset, name):
        """The argument bytes of the opcode at offset as CPython read them:
        when an argument straddles the end of a FRAME, the C unpickler drops
        the frame's tail and reads it from the bytes after the frame
        (oracle.walker); else the bytes after the opcode (for an opcode
        the walker did not reach: it does not model every semantic error).
        A text argument comes with its newline; None past the end."""
        if self._args is None:
            w = self.walk()
            self._args = {} if w is None else {
                off: b''.join(self.data[a:b] for a, b in ranges)
                for (off, _), ranges in zip(w.ops, w.op_args)}
        arg = self._args.get(offset)
        if arg is not None:
            return arg
        width = _ARG_WIDTH.get(name)
        if width is not None:
            arg = self.data[offset + 1:offset + 1 + width]
            return arg if len(arg) == width else None
        end = self.data.find(b'\n', offset + 1)
        return self.data[offset + 1:end + 1] if end >= 0 else None

    def ref_class(self):
        return self.reference.exc_class if self.reference.kind != 'accept' else None

    def brine_class(self):
        return self.brine.exc_class if self.brine.kind != 'accept' else None

    def reference_out_of_memory(self):
        return self.reference.kind == 'resource' or self.ref_class() == 'MemoryError'


# Fixed argument widths of the opcodes the matchers read (text opcodes
# read a line).
_ARG_WIDTH = {'LONG_BINPUT': 4, 'BINBYTES': 4, 'BINBYTES8': 8, 'BYTEARRAY8': 8}


def _memo_index(v, offset, name):
    """The index argument of the PUT / LONG_BINPUT at offset, or None."""
    if name not in ('LONG_BINPUT', 'PUT'):
        return None
    from . import walker
    arg = v.arg_of(offset, name)
    try:
        return walker.memo_index(0x72 if name == 'LONG_BINPUT' else 0x70, arg) if arg else None
    except ValueError:
        return None


def _declared_lengths(v):
    """[(offset, length)] of the BINBYTES / BINBYTES8 / BYTEARRAY8 opcodes
    CPython executed, each length read where CPython read it (arg_of)."""
    out = []
    for off, name in v.ops:
        if name in _ARG_WIDTH and name != 'LONG_BINPUT':
            arg = v.arg_of(off, name)
            width = _ARG_WIDTH[name]
            if arg is not None and len(arg) >= width:
                out.append((off, int.from_bytes(arg[:width], 'little')))
    return out


# --- the matchers ------------------------------------------------------------

def _huge_memo_index(v):
    """CPython ran out of memory (or time) and the stream stored into the
    memo at an index of HUGE or more, which CPython's dense memo grows to."""
    if not v.reference_out_of_memory() or v.brine_class() == 'MemoryError':
        return False
    for off, name in v.ops:
        idx = _memo_index(v, off, name)
        if idx is not None and idx >= HUGE:
            return True
    return False


def _huge_length(v):
    """CPython ran out of memory allocating a BINBYTES / BINBYTES8 /
    BYTEARRAY8 whose declared length the input cannot hold; brine checked
    the length first and reported truncation."""
    if not v.reference_out_of_memory():
        return False
    if v.brine.kind != 'reject' or v.brine.exc_class != 'UnpicklingError':
        return False
    return any(n >= HUGE and n > len(v.data) - off for off, n in _declared_lengths(v))


def _deep_compare(v):
    """CPython raised RecursionError (or overflowed its C stack) comparing
    or hashing deeply nested keys; brine compares without recursion."""
    rc = v.ref_class()
    if rc not in ('RecursionError', 'WorkerDied'):
        return False
    if v.brine_class() == 'RecursionError':
        return False
    names = v.op_names()
    if not _HASHING_OPS.intersection(names):
        return False
    return sum(1 for n in names if n in _NESTING_OPS) >= DEEP


def _shared_compare(v):
    """CPython exceeded its time budget comparing keys built from shared
    tuples (exponential tree expansion); brine compares node pairs once."""
    if v.reference.kind != 'resource' or v.reference.exc_class != 'Timeout':
        return False
    if v.brine.kind not in ('accept', 'reject'):
        return False
    names = set(v.op_names())
    return bool(names & _HASHING_OPS and names & _SHARING_OPS and names & _NESTING_OPS)


def _bytearray_export(v):
    """brine raised BufferError on APPEND/APPENDS to a bytearray that a
    READONLY_BUFFER had wrapped; CPython did not (the view was freed)."""
    if v.brine.kind != 'reject' or v.brine.exc_class != 'BufferError':
        return False
    if v.ref_class() == 'BufferError' or v.reference.kind == 'resource':
        return False
    names = v.op_names()
    source = readonly = None
    for i, name in enumerate(names):
        if source is None and (name == 'BYTEARRAY8' or
                               (name == 'REDUCE' and v.option('policy') == 'builtins')):
            source = i
        elif name == 'READONLY_BUFFER' and source is not None and readonly is None:
            readonly = i
        elif name in _APPEND_OPS and readonly is not None:
            return True
    return False


def _codecs(v):
    """A Python 2 string was decoded with an encoding brine does not
    implement: brine raised LookupError, CPython used the codec."""
    if v.brine.kind != 'reject' or v.brine.exc_class != 'LookupError':
        return False
    if v.ref_class() == 'LookupError' or v.reference.kind == 'resource':
        return False
    enc = v.option('encoding')
    if enc == 'bytes':
        return False
    try:
        name = codecs.lookup(enc).name
    except (LookupError, TypeError, ValueError):
        return False
    if name in _BRINE_CODECS:
        return False
    return bool(_PY2_STRING_OPS.intersection(v.op_names()))


# --- the registry ------------------------------------------------------------

class Entry:
    """One documented difference.

    id: the id in docs/known-differences.md; issues: CPython issue ids
    (``gh-N``, ``bpo-N``) or ``('none filed',)``; description: one line;
    kind: 'resource' (CPython runs out of memory or time) or 'choice' (a
    model brine chose); matcher: f(view) -> bool, or None when the
    difference never appears as a decode disagreement."""

    __slots__ = ('id', 'version', 'issues', 'description', 'kind', 'matcher')

    def __init__(self, id, version, issues, description, kind, matcher):
        self.id = id
        self.version = version
        self.issues = tuple(issues)
        self.description = description
        self.kind = kind
        self.matcher = matcher

    def matches(self, data, options, brine, reference):
        """Whether this entry explains the disagreement of brine and reference on data."""
        if self.matcher is None:
            return False
        return bool(self.matcher(_View(data, options, brine, reference)))

    def to_dict(self):
        return {'id': self.id, 'version': self.version, 'issues': list(self.issues),
                'description': self.description, 'kind': self.kind}

    def __repr__(self):
        return 'Entry(%r, %s)' % (self.id, ', '.join(self.issues))


NONE_FILED = 'none filed'

_REGISTRY = {
    '3.11': (
        Entry('huge-memo-index', '3.11', ('gh-115952', 'bpo-34656'),
              'PUT/LONG_BINPUT with a huge index: CPython grows its memo to twice the '
              'index and runs out of memory; brine keeps a sparse memo',
              'resource', _huge_memo_index),
        Entry('huge-length', '3.11', ('gh-115952',),
              'BINBYTES/BINBYTES8/BYTEARRAY8 with a length beyond the input: CPython '
              'allocates first (MemoryError); brine reports truncation',
              'resource', _huge_length),
        Entry('deep-compare', '3.11', (NONE_FILED,),
              'equal, non-identical deeply nested keys: CPython RecursionError or C stack '
              'overflow while comparing/hashing; brine compares without recursion',
              'resource', _deep_compare),
        Entry('shared-compare', '3.11', (NONE_FILED,),
              'equal keys built from deeply shared tuples: CPython compares in '
              'exponential time; brine compares each node pair once',
              'resource', _shared_compare),
        Entry('frame-file-model', '3.11', (NONE_FILED,),
              'FRAME handling follows Unpickler(io.BytesIO), not pickle.loads(bytes); '
              'brine agrees with the reference, so no decode disagreement is excused',
              'choice', None),
        Entry('bytearray-export', '3.11', (NONE_FILED,),
              'APPEND(S) onto a bytearray after READONLY_BUFFER: brine BufferError '
              'whenever a view was made, CPython only while the view is alive',
              'choice', _bytearray_export),
        Entry('codecs', '3.11', (NONE_FILED,),
              'Python 2 strings with an encoding other than ASCII/latin-1/UTF-8 (and '
              'aliases) or bytes: brine LookupError, CPython uses the codec',
              'choice', _codecs),
        Entry('messages', '3.11', (NONE_FILED,),
              'exception messages: brine has a static message per error; comparisons '
              'look at exception classes only',
              'choice', None),
        Entry('text-buffers', '3.11', (NONE_FILED,),
              'buffer(N) nodes read from canonical text carry no data (encode side only)',
              'choice', None),
        Entry('encode-empty-qualname', '3.11', (NONE_FILED,),
              'encoding a global with an empty qualified name (or an empty first '
              'component) at protocols 0-3: CPython writes bytes it cannot read back; '
              'brine raises PicklingError (encode side only)',
              'choice', None),
        Entry('encode-buffers', '3.11', (NONE_FILED,),
              'PICKLEBUFFER without a buffer callback: pickle.dumps writes it in band; '
              'brine writes it out of band so that decode then encode is the identity',
              'choice', None),
        Entry('encode-recursion', '3.11', (NONE_FILED,),
              'deep graphs: CPython RecursionError past about 1000 nested saves; brine '
              'encodes any depth (self-containing reduce values are a PicklingError)',
              'choice', None),
    ),
}


def reference_version():
    """major.minor of the Python that runs the reference (this interpreter)."""
    return '%d.%d' % sys.version_info[:2]


def versions():
    return tuple(sorted(_REGISTRY))


def entries(version=None):
    """The entries documented for a CPython version (default: the reference's).
    An unknown version has none: nothing is excused."""
    return _REGISTRY.get(version or reference_version(), ())


def get(entry_id, version=None):
    for e in entries(version):
        if e.id == entry_id:
            return e
    raise KeyError(entry_id)


def match(data, options, brine, reference, version=None):
    """The first entry that explains this disagreement, or None.

    Call it only for a disagreement: an entry describes how two outcomes
    differ, not whether they do."""
    view = None
    for e in entries(version):
        if e.matcher is None:
            continue
        if view is None:
            view = _View(data, options, brine, reference)
        if e.matcher(view):
            return e
    return None
