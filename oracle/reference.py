"""Reference decodes: CPython 3.11's unpickler with inert stubs.

The reference result of a stream is what

    pickle.Unpickler(io.BytesIO(data), fix_imports=..., encoding=...,
                     errors=..., buffers=...).load()

returns (the C accelerator, ``impl='c'``) when ``find_class`` returns inert
stubs (oracle.stubs) instead of importing, and ``persistent_load`` returns
inert records.  ``impl='python'`` runs the pure-Python ``pickle._Unpickler``
the same way, to show where the two implementations differ.

``find_class`` applies CPython's Python 2 name mapping exactly as the C
``find_class`` does (fix_imports and protocol < 3).  The C unpickler does
not expose the protocol in effect, so it is computed by oracle.walker: the
k-th find_class call belongs to the k-th executed GLOBAL, INST,
STACK_GLOBAL or first EXT of a code, and the protocol is that of the last
PROTO executed before it.  The walk only runs when a name that the mapping
would change is looked up.

Nothing from a stream is ever imported or called: stubs record calls,
and folds (policy ``builtins``) call only the real builtins named in
docs/canonical.md on type-checked arguments.

:func:`decode` runs in a worker process under oracle.limits (the default);
``limits=None`` decodes in this process without any protection, which is
what the worker itself does.
"""

import contextlib
import copyreg
import io
import pickle
import sys
import warnings

from . import canon, provenance, setorder, stubs, walker
from .limits import DEFAULT_LIMITS

KINDS = ('accept', 'reject', 'resource')
POLICIES = ('symbolic', 'builtins')
IMPLS = ('c', 'python')


class OracleError(Exception):
    """A bug or an inconsistency in the oracle itself (never an outcome)."""


class Outcome:
    """The result of one reference decode.

    kind:     'accept', 'reject' or 'resource'
    text:     the canonical text (accept), else None
    exc_class, message: the exception (reject, resource), else None
    set_order_verified: False when some set's insertion order could not be
              recovered and a sorted order was printed instead
    ops:      [(offset, opcode name)] the C unpickler executed (impl 'c' and
              when asked for), else None; for a rejected stream it may run
              past the failing opcode (see oracle.walker)
    """

    __slots__ = ('kind', 'text', 'exc_class', 'message', 'set_order_verified', 'ops')

    def __init__(self, kind, text=None, exc_class=None, message=None,
                 set_order_verified=True, ops=None):
        self.kind = kind
        self.text = text
        self.exc_class = exc_class
        self.message = message
        self.set_order_verified = set_order_verified
        self.ops = ops

    @property
    def error_line(self):
        """'error: <Class>: <message>' for a rejection or resource outcome,
        on one line: CR and LF in the message (CPython embeds the raw input
        line in some messages, e.g. FLOAT overflow) are written \\r, \\n."""
        if self.kind == 'accept':
            return None
        msg = self.message or ''
        if '\n' in msg or '\r' in msg:
            msg = msg.replace('\r', '\\r').replace('\n', '\\n')
        return 'error: %s: %s' % (self.exc_class, msg)

    def output(self):
        """What `python3 -m oracle decode` prints: the text, or the error
        line (with a newline)."""
        return self.text if self.kind == 'accept' else self.error_line + '\n'

    def to_dict(self):
        return {'kind': self.kind, 'text': self.text, 'exc_class': self.exc_class,
                'message': self.message, 'set_order_verified': self.set_order_verified,
                'ops': self.ops}

    def __eq__(self, other):
        return isinstance(other, Outcome) and self.to_dict() == other.to_dict()

    def __repr__(self):
        if self.kind == 'accept':
            return 'Outcome(accept, %r)' % (self.text,)
        return 'Outcome(%s, %s: %s)' % (self.kind, self.exc_class, self.message)


class Options:
    """Decode options, validated."""

    __slots__ = ('policy', 'encoding', 'errors', 'fix_imports', 'buffers',
                 'extensions', 'impl')

    def __init__(self, policy='symbolic', encoding='ASCII', errors='strict',
                 fix_imports=True, buffers=None, extensions=None, impl='c'):
        if policy not in POLICIES:
            raise ValueError('policy must be one of %s' % (POLICIES,))
        if impl not in IMPLS:
            raise ValueError('impl must be one of %s' % (IMPLS,))
        for what, v in (('encoding', encoding), ('errors', errors)):
            if type(v) is not str or '\0' in v:
                raise ValueError('%s must be a str without NUL' % what)
        if buffers is not None:
            buffers = [(bytes(b), bool(ro)) for b, ro in buffers]
        if extensions:
            ext = {}
            for code, pair in dict(extensions).items():
                module, name = pair
                if type(code) is not int or not 1 <= code <= 0x7fffffff:
                    raise ValueError('extension code must be in 1..0x7fffffff')
                if type(module) is not str or type(name) is not str:
                    raise ValueError('extension names must be str')
                ext[code] = (module, name)
            extensions = ext
        else:
            extensions = None
        self.policy = policy
        self.encoding = encoding
        self.errors = errors
        self.fix_imports = bool(fix_imports)
        self.buffers = buffers
        self.extensions = extensions
        self.impl = impl


# --- the unpicklers -----------------------------------------------------------

class _CReference(pickle.Unpickler):
    """The C unpickler; find_class and persistent_load return stubs."""

    def _setup(self, factory, data, extensions, fix_imports):
        self._factory = factory
        self._data = data
        self._extensions = extensions
        self._fix = fix_imports
        self._k = 0
        self._walk = None

    def walk(self):
        if self._walk is None:
            self._walk = walker.walk(self._data, self._extensions)
        return self._walk

    def find_class(self, module, name):
        k = self._k
        self._k = k + 1
        if self._fix and stubs.python2_name_is_mapped(module, name):
            protos = self.walk().find_class_protos
            if k >= len(protos):
                self._factory.internal_error = (
                    'walker lists %d find_class calls, CPython made call %d' % (len(protos), k + 1))
                raise OracleError(self._factory.internal_error)
            if protos[k] < 3:
                module, name = stubs.map_python2_name(module, name)
        return self._factory.global_stub(module, name)

    def persistent_load(self, pid):
        return self._factory.persistent(pid)


class _PyReference(pickle._Unpickler):
    """The pure-Python unpickler, same stubs; records set insertion order."""

    dispatch = setorder.instrument(pickle._Unpickler.dispatch)

    def _setup(self, factory):
        self._factory = factory
        self._set_orders = factory.set_orders

    def find_class(self, module, name):
        if self.fix_imports and self.proto < 3:
            module, name = stubs.map_python2_name(module, name)
        return self._factory.global_stub(module, name)

    def persistent_load(self, pid):
        return self._factory.persistent(pid)


@contextlib.contextmanager
def extension_registry(extensions):
    """Install `extensions` in copyreg's inverted registry for one load.

    The C unpickler holds copyreg._inverted_registry and
    copyreg._extension_cache themselves (not copies), so they are mutated in
    place; the cache is cleared before and after, the registry restored."""
    inv = copyreg._inverted_registry
    cache = copyreg._extension_cache
    saved = dict(inv)
    cache.clear()
    if extensions:
        # Fresh name strs per entry: brine gives each EXT lookup new strs.
        inv.update({code: (stubs.fresh_str(m), stubs.fresh_str(n))
                    for code, (m, n) in extensions.items()})
    try:
        yield
    finally:
        inv.clear()
        inv.update(saved)
        cache.clear()


def make_buffers(specs):
    """(PickleBuffer objects, their backing objects) for [(bytes, readonly)]:
    PickleBuffer(bytearray(data)) when writable, PickleBuffer(bytes(data))
    when readonly."""
    objs, backings = [], []
    for data, readonly in specs or ():
        back = bytes(data) if readonly else bytearray(data)
        objs.append(pickle.PickleBuffer(back))
        backings.append(back)
    return objs, backings


def _load(cls, data, opts, factory):
    pbs, backings = make_buffers(opts.buffers)
    u = cls(io.BytesIO(data), fix_imports=opts.fix_imports, encoding=opts.encoding,
            errors=opts.errors, buffers=pbs if opts.buffers is not None else None)
    return u, pbs, backings


def _recover_orders(data, opts, cgraph, walk, known, needed):
    """Run the instrumented pure-Python unpickler on the executed bytes and
    map its set orders onto the C result (oracle.setorder)."""
    if not walk.stopped:
        return {}, False
    executed = walk.executed(data)
    pfactory = stubs.StubFactory(opts.policy)
    copyreg._extension_cache.clear()
    try:
        with pfactory.active():
            u, pbs, backings = _load(_PyReference, executed, opts, pfactory)
            u._setup(pfactory)
            proot = u.load()
    except Exception:
        return {}, False
    finally:
        copyreg._extension_cache.clear()
    if pfactory.events:
        # The C graph shows argument tuples as nodes; so must this one, or
        # the parallel traversal of setorder.match would not line up.
        provenance.attach_argument_objects(pfactory, walker.walk(executed, opts.extensions),
                                           executed, dict(u.memo), proot)
        if pfactory.internal_error is not None:
            return {}, False
    pgraph = canon.Graph(proot, pfactory, pbs, backings)
    porders = {i: ent[1] for i, ent in pfactory.set_orders.items()
               if len(ent[1]) == len(ent[0])}
    return setorder.match(cgraph, known, pgraph, porders, needed)


# CPython 3.11's PyByteArray_FromStringAndSize frees its new object when the
# data allocation fails, before it has set ob_exports; bytearray_dealloc then
# reads whatever that memory held, and when it is not 0 it prints this
# SystemError with PyErr_Print (through sys.excepthook) and carries on. The
# MemoryError of the allocation is still the outcome. BYTEARRAY8 with a
# length the process cannot allocate reaches it (corpus/seeds/diff has one),
# intermittently, as it depends on what pymalloc left in the block. Later
# CPython versions set ob_exports first.
_BYTEARRAY_DEALLOC_NOISE = 'deallocated bytearray object has exported buffers'


@contextlib.contextmanager
def _quiet_bytearray_dealloc():
    """Drop exactly that one message while a load runs; every other
    exception printed through sys.excepthook still reaches the saved hook."""
    saved = sys.excepthook

    def hook(exc_type, value, tb):
        if exc_type is SystemError and str(value) == _BYTEARRAY_DEALLOC_NOISE:
            return
        saved(exc_type, value, tb)

    sys.excepthook = hook
    try:
        yield
    finally:
        sys.excepthook = saved


def decode_inprocess(data, opts, want_ops=True):
    """One reference decode in this process, without resource limits.

    Warnings are ignored during the decode (CPython warns, e.g., about
    invalid escapes in STRING arguments), so that the outcome does not
    depend on the warning filters (-W error would turn them into errors).
    CPython's spurious "deallocated bytearray object has exported buffers"
    is not printed (see _BYTEARRAY_DEALLOC_NOISE).
    Not thread-safe: a load mutates copyreg's extension registry and cache,
    stubs report to the process-wide active factory, and sys.excepthook is
    replaced for the duration of the load."""
    with warnings.catch_warnings(), _quiet_bytearray_dealloc():
        warnings.simplefilter('ignore')
        return _decode_inprocess(data, opts, want_ops)


def _decode_inprocess(data, opts, want_ops):
    data = bytes(data)
    factory = stubs.StubFactory(opts.policy)
    with extension_registry(opts.extensions), factory.active():
        if opts.impl == 'c':
            cls = _CReference
        else:
            cls = _PyReference
        u = None
        try:
            u, pbs, backings = _load(cls, data, opts, factory)
            if cls is _CReference:
                u._setup(factory, data, opts.extensions, opts.fix_imports)
            else:
                u._setup(factory)
            root = u.load()
        except MemoryError as e:
            return Outcome('resource', exc_class='MemoryError', message=str(e),
                           ops=_ops(u, want_ops))
        except Exception as e:
            if factory.internal_error is not None:
                raise OracleError(factory.internal_error) from e
            return Outcome('reject', exc_class=type(e).__name__, message=str(e),
                           ops=_ops(u, want_ops))
        if factory.events:
            if cls is _CReference:
                provenance.attach_argument_objects(factory, u.walk(), data, u.memo.copy(),
                                                   root)
                if factory.internal_error is not None:
                    raise OracleError(factory.internal_error)
            else:
                # The pure-Python unpickler reads frames its own way; when
                # the C reading model does not match its calls, leave the
                # arguments as plain copies.
                provenance.attach_argument_objects(factory, walker.walk(data, opts.extensions),
                                                   data, dict(u.memo), root)
                factory.internal_error = None
        graph = canon.Graph(root, factory, pbs, backings)
        counts, discarded, multisets = canon.count(graph)
        verified = True
        orders = {}
        if multisets:
            needed = {}
            for s in multisets:
                ent = factory.set_orders.get(id(s))
                if ent is not None and ent[0] is s and len(ent[1]) == len(s):
                    orders[id(s)] = ent[1]
                else:
                    needed[id(s)] = s
            if needed:
                if cls is _CReference:
                    found, exact = _recover_orders(data, opts, graph, u.walk(), orders, needed)
                    verified = exact
                    orders.update(found)
                for i, s in needed.items():
                    if i not in orders:
                        orders[i] = setorder.sort_order(s, graph)
                        verified = False
        text = canon.render(graph, counts, discarded, orders)
    return Outcome('accept', text=text, set_order_verified=verified, ops=_ops(u, want_ops))


def _ops(u, want_ops):
    if not want_ops or not isinstance(u, _CReference):
        return None
    return u.walk().op_names()


def decode(data, *, policy='symbolic', encoding='ASCII', errors='strict', fix_imports=True,
           buffers=None, extensions=None, impl='c', limits=DEFAULT_LIMITS, want_ops=True):
    """The reference outcome for one stream.

    buffers: None, or a list of (bytes, readonly) out-of-band buffers.
    extensions: None, or {code: (module, name)} for EXT1/EXT2/EXT4.
    limits: an oracle.limits.Limits (decode in a shared worker process, see
        oracle.worker), or None to decode in this process unprotected.
    """
    opts = Options(policy, encoding, errors, fix_imports, buffers, extensions, impl)
    if limits is None:
        return decode_inprocess(data, opts, want_ops)
    from . import worker
    return worker.shared_client(limits).decode_opts(data, opts, want_ops)
