"""Inert stand-ins for everything a pickle names or builds.

The reference decoder runs CPython's own unpickler, but its ``find_class``
returns a *stub* instead of importing anything, and its ``persistent_load``
returns a *persistent record*.  Stubs record, in order, what the stream does
to them, so that the canonical printer (oracle.canon) can write it down.

Design, and why:

* Every stub is a class: an instance of the metaclass :class:`Stub` (a
  subclass of ``type``) whose only base is :class:`StubBase`.  The C
  unpickler needs real classes: NEWOBJ checks ``PyType_Check(cls)`` and calls
  ``tp_new``; INST/OBJ without arguments calls ``cls.__new__(cls)``.
  Calling a stub (REDUCE, INST/OBJ with arguments) goes through the
  metaclass ``__call__``; instantiating one (NEWOBJ, NEWOBJ_EX, INST/OBJ
  without arguments) goes through ``StubBase.__new__``.  Both return a new
  stub class, so that results can again be called or instantiated (CPython
  writes NEWOBJ on ``getattr(Outer, 'Inner')`` for nested classes at
  protocols 2-3).
* The operations the unpickler performs on arbitrary objects are methods of
  the metaclass, so they are found on every stub class and never shadowed by
  a class namespace (which holds only ``__slots__``, ``__module__`` and
  ``__doc__``): ``extend`` (APPEND/APPENDS, which look up ``extend`` first),
  ``add`` (ADDITEMS on a non-set), ``__setitem__`` (SETITEM/SETITEMS) and
  ``__setstate__`` (BUILD: a stub has ``__setstate__``, so it receives every
  state as is).  ``append`` is also defined, recorded as a one-item extend:
  the C unpickler never reaches it (it finds ``extend`` first), but the
  pure-Python unpickler's APPEND calls ``append``; without it the
  ``impl='python'`` decoder and the set-order recovery pass would fail on
  every protocol 0-1 list-like object.
* Nothing else is defined: no ``__getinitargs__`` (``instantiate()`` probes
  it), ``__eq__``, ``__hash__`` (identity, as plain classes have),
  ``__index__``, ``__iter__``, ``__len__``, ``__bool__`` or buffer support.
* Persistent records are instances of :class:`Persid`, a class with
  ``__slots__ = ()`` and nothing else: hashable by identity, not callable,
  no attributes.  The pid lives in a side table.
* Every stub object (made by a call or by ``__new__``) and every persistent
  record gets a creation serial, in creation order; globals do not.

All bookkeeping lives in a :class:`StubFactory`, one per load.  The stubs
reach the factory of the load in progress through a module-level slot set
by :meth:`StubFactory.active` (loads run one at a time in a process).

With the ``builtins`` policy the metaclass ``__call__`` folds exactly the
shapes of the "Folding" table of docs/canonical.md by calling the real
builtin on the type-checked arguments, so that errors are CPython's own.
Nothing named by a stream is ever imported or called.
"""

import _codecs
import _compat_pickle
import contextlib

GLOBAL = 0
OBJECT = 1

MAKE_CALL = 'call'
MAKE_NEW = 'new'

OP_EXTEND = 'extend'
OP_SETITEM = 'setitem'
OP_ADD = 'add'
OP_SETSTATE = 'setstate'

_ACTIVE = None  # the StubFactory of the load in progress


def _factory():
    f = _ACTIVE
    if f is None:
        raise RuntimeError('stub used outside of a reference load')
    return f


class Stub(type):
    """Metaclass of every stub: the operations a stream can apply."""

    def __call__(cls, /, *args):
        return _factory().call(cls, args)

    def extend(cls, items):
        _factory().extend(cls, items)

    def append(cls, item):
        _factory().extend(cls, (item,))

    def add(cls, item):
        _factory().add_op(cls, OP_ADD, item, None)

    def __setitem__(cls, key, value):
        _factory().add_op(cls, OP_SETITEM, key, value)

    def __setstate__(cls, state):
        _factory().add_op(cls, OP_SETSTATE, state, None)


class StubBase:
    """The only base of every stub class; its ``__new__`` records ``new``."""

    __slots__ = ()

    # Positional-only, so that a keyword argument named 'cls' is recorded
    # like any other instead of colliding with the parameter.
    def __new__(cls, /, *args, **kwargs):
        return _factory().new(cls, args, kwargs)


class Persid:
    """A persistent-id record: inert, identity-hashed, pid kept aside."""

    __slots__ = ()


class GlobalInfo:
    """What the stream named (after name mapping) and did to a global.

    module and name are the str objects find_class received for the first
    lookup of this name: for STACK_GLOBAL the very strs from the stack,
    which the canonical text shows with labels when the graph shares them."""

    __slots__ = ('module', 'name', 'ops')
    kind = GLOBAL

    def __init__(self, module, name):
        self.module = module
        self.name = name
        self.ops = []


class ObjectInfo:
    """How a stub object was made and what the stream did to it."""

    __slots__ = ('serial', 'make', 'callable', 'args', 'kwargs', 'ops', 'args_obj', 'kwargs_obj',
                 'newobj_ex')
    kind = OBJECT

    def __init__(self, serial, make, callable_, args, kwargs):
        self.serial = serial
        self.make = make
        self.callable = callable_
        self.args = args
        self.kwargs = kwargs  # list of (key, value) pairs, possibly empty
        self.ops = []
        # The tuple (and dict) the stream passed to REDUCE/NEWOBJ/NEWOBJ_EX,
        # when oracle.provenance could find it: CPython hands the stub fresh
        # *args/**kwargs, so the stream's own objects are found afterwards.
        self.args_obj = None
        self.kwargs_obj = None
        # Made by NEWOBJ_EX (its keyword dict is printed even when empty);
        # also found by oracle.provenance, as __new__ cannot tell.
        self.newobj_ex = False


class PersidInfo:
    """The pid a persistent record was made from."""

    __slots__ = ('serial', 'pid')

    def __init__(self, serial, pid):
        self.serial = serial
        self.pid = pid


# (module, name) after Python 2 mapping -> fold kind (builtins policy).
FOLDABLE = {
    ('builtins', 'set'): 'set',
    ('builtins', 'frozenset'): 'frozenset',
    ('builtins', 'bytearray'): 'bytearray',
    ('builtins', 'bytes'): 'bytes',
    ('_codecs', 'encode'): 'encode',
    ('builtins', 'complex'): 'complex',
}

_NOFOLD = object()


def fresh_str(s):
    """A str equal to s that is a new object (unless CPython shares every
    str of that value: '' and one-character strs below U+0100)."""
    return s.encode('utf-8', 'surrogatepass').decode('utf-8', 'surrogatepass')


def map_python2_name(module, name):
    """CPython's find_class name mapping for protocols < 3 with fix_imports:
    NAME_MAPPING on the pair, else IMPORT_MAPPING on the module. The mapped
    names are fresh strs, as in brine (they come from CPython's tables, not
    from the stream)."""
    pair = _compat_pickle.NAME_MAPPING.get((module, name))
    if pair is not None:
        return fresh_str(pair[0]), fresh_str(pair[1])
    mod = _compat_pickle.IMPORT_MAPPING.get(module)
    if mod is not None:
        return fresh_str(mod), fresh_str(name)
    return module, name


def python2_name_is_mapped(module, name):
    """True when map_python2_name would change (module, name)."""
    return ((module, name) in _compat_pickle.NAME_MAPPING
            or module in _compat_pickle.IMPORT_MAPPING)


def _class_name(name):
    """A harmless __name__ for a stub class (used only in messages the
    pure-Python unpickler formats)."""
    last = name.rpartition('.')[2]
    if last.isidentifier() and last.isascii():
        return last
    return 'global'


def _new_class(name):
    return type.__new__(Stub, name, (StubBase,), {'__slots__': ()})


class StubFactory:
    """Makes and remembers the stubs and records of one load.

    info:      stub class -> GlobalInfo | ObjectInfo
    persids:   Persid -> PersidInfo
    created:   stub objects and persistent records in creation order (the
               index is the creation serial)
    events:    the result of every call or instantiation of a stub, folded
               or not, in order: one per REDUCE, NEWOBJ, NEWOBJ_EX, INST and
               OBJ the stream executed
    set_orders: id(set) -> (set, insertion-ordered elements) for sets whose
               order this process observed (folds; the recovery pass)
    """

    def __init__(self, policy='symbolic'):
        if policy not in ('symbolic', 'builtins'):
            raise ValueError('unknown policy %r' % (policy,))
        self.policy = policy
        self.fold = policy == 'builtins'
        self.globals = {}
        self.info = {}
        self.persids = {}
        self.created = []
        self.fold_of = {}
        self.set_orders = {}
        self.events = []  # what each stub call or instantiation returned, in order
        self.internal_error = None

    @contextlib.contextmanager
    def active(self):
        """Make this factory the one stubs report to, for one load."""
        global _ACTIVE
        saved = _ACTIVE
        _ACTIVE = self
        try:
            yield self
        finally:
            _ACTIVE = saved

    # --- made by the unpickler -------------------------------------------

    def global_stub(self, module, name):
        """The interned stub for (module, name) (names already mapped)."""
        key = (module, name)
        cls = self.globals.get(key)
        if cls is None:
            cls = _new_class(_class_name(name))
            self.globals[key] = cls
            self.info[cls] = GlobalInfo(module, name)
            if self.fold:
                kind = FOLDABLE.get(key)
                if kind is not None:
                    self.fold_of[cls] = kind
        return cls

    def persistent(self, pid):
        rec = Persid()
        self.persids[rec] = PersidInfo(len(self.created), pid)
        self.created.append(rec)
        return rec

    def _make(self, make, cls, args, kwargs):
        obj = _new_class('object')
        self.info[obj] = ObjectInfo(len(self.created), make, cls, args, kwargs)
        self.created.append(obj)
        return obj

    def call(self, cls, args):
        res = _NOFOLD
        if self.fold:
            kind = self.fold_of.get(cls)
            if kind is not None:
                res = self._fold(kind, args)
        if res is _NOFOLD:
            res = self._make(MAKE_CALL, cls, args, ())
        self.events.append(res)
        return res

    def new(self, cls, args, kwargs):
        res = self._make(MAKE_NEW, cls, args, list(kwargs.items()) if kwargs else ())
        self.events.append(res)
        return res

    def extend(self, target, items):
        items = list(items)
        ops = self.info[target].ops
        if ops and ops[-1][0] is OP_EXTEND:
            ops[-1][1].extend(items)
        else:
            ops.append((OP_EXTEND, items, None))

    def add_op(self, target, op, a, b):
        self.info[target].ops.append((op, a, b))

    # --- folds (builtins policy) -----------------------------------------

    def _remember_order(self, result, items):
        if len(result) >= 2:
            self.set_orders[id(result)] = (result, list(dict.fromkeys(items)))

    def _fold(self, kind, args):
        n = len(args)
        if kind == 'set':
            if n == 1 and type(args[0]) is list:
                res = set(args[0])
                self._remember_order(res, args[0])
                return res
        elif kind == 'frozenset':
            if n == 1 and type(args[0]) is list:
                res = frozenset(args[0])
                self._remember_order(res, args[0])
                return res
        elif kind == 'bytearray':
            if n == 0:
                return bytearray()
            if n == 1 and type(args[0]) is bytes:
                return bytearray(args[0])
        elif kind == 'bytes':
            if n == 0:
                return bytes()
        elif kind == 'encode':
            if (n == 2 and type(args[0]) is str and type(args[1]) is str
                    and args[1] == 'latin1'):
                return _codecs.encode(args[0], 'latin1')
        elif kind == 'complex':
            if n == 2 and type(args[0]) is float and type(args[1]) is float:
                return complex(args[0], args[1])
        return _NOFOLD
