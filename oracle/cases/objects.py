"""Picklable functions, classes and singletons that the corpus is made of.

Everything here lives at module level of ``oracle.cases.objects`` so that
CPython's pickler can find it by name when the corpus is generated, and so
that a test may import it again when it checks a generated pickle with the
real ``pickle.loads`` in a subprocess.  The reference decoder never imports
this module: it only ever sees the names.

Rules the classes follow, so that the corpus stays meaningful:

* reconstruction reproduces the same ``__dict__`` and slot values, so a
  structural comparison of the loaded value with the original is exact;
* no class defines ``__eq__`` (instances stay hashable, so they can be set
  members and dict keys); comparison is structural, done by the tests;
* nothing here depends on the hash seed, the time or the environment.
"""

import copyreg
import functools
import pickle

__all__ = []  # nothing is meant to be star-imported


# ---------------------------------------------------------------------------
# Module-level functions (pickled by reference)
# ---------------------------------------------------------------------------

def top_function(*args, **kwargs):
    """A module-level function: pickled as a global at every protocol."""
    return Plain(args=args, kwargs=kwargs)


def make_plain(**attrs):
    """A factory used as the callable of several ``__reduce__`` results."""
    return Plain(**attrs)


def make_pair(left, right):
    return Pair(left, right)


def set_state_setter(obj, state):
    """A ``__reduce__`` state setter (the sixth item)."""
    obj.__dict__.update(state)
    obj.set_by = 'setter'


def ext_target_a():
    """Registered with copyreg.add_extension only while its cases are dumped."""


def ext_target_b():
    """Registered with copyreg.add_extension only while its cases are dumped."""


def ext_target_c():
    """Registered with copyreg.add_extension only while its cases are dumped."""


def ext_target_d():
    """Registered with copyreg.add_extension only while its cases are dumped."""


def ext_target_e():
    """Registered with copyreg.add_extension only while its cases are dumped."""


# ---------------------------------------------------------------------------
# Plain classes with a __dict__
# ---------------------------------------------------------------------------

class Plain:
    """Attributes given as keyword arguments, kept in ``__dict__``."""

    def __init__(self, **attrs):
        self.__dict__.update(attrs)

    def method(self, x=None):
        return x

    @classmethod
    def klass_method(cls):
        return cls

    @staticmethod
    def static_method():
        return None


class Empty:
    """No attributes at all: no BUILD at protocol 2+ (state is None)."""


class Pair:
    def __init__(self, left, right):
        self.left = left
        self.right = right


class Node:
    """A graph node; used for objects whose state contains themselves."""

    def __init__(self, name, **links):
        self.name = name
        self.__dict__.update(links)


class Marker:
    """An object pickled by persistent id (see the persistent_ids family).

    ``key`` is what ``persistent_id`` returns for it; ``from_pid`` is what a
    test's ``persistent_load`` does with the id it reads back.
    """

    def __init__(self, key):
        self.key = key

    @classmethod
    def from_pid(cls, pid):
        return cls(pid)


class Outer:
    """Nested classes: pickled by qualified name ('Outer.Inner')."""

    class Inner:
        def __init__(self, value=None):
            self.value = value

        def method(self):
            return self.value

        @staticmethod
        def make(value):
            return Outer.Inner(value)

        @classmethod
        def build(cls, value):
            return cls(value)

        class Deep:
            pass


class NestedReduce:
    """``__reduce__`` returns a nested static function as its callable."""

    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        return (Outer.Inner.make, (self.value,))


class NestedClassmethodReduce:
    """``__reduce__`` returns a bound classmethod of a nested class."""

    def __init__(self, value):
        self.value = value

    def __reduce__(self):
        return (Outer.Inner.build, (self.value,))


# ---------------------------------------------------------------------------
# __slots__
# ---------------------------------------------------------------------------

class Slotted:
    """Slots only: protocols 0 and 1 refuse it (no __getstate__)."""
    __slots__ = ('first', 'second')

    def __init__(self, first=None, second=None, *, unset=()):
        if 'first' not in unset:
            self.first = first
        if 'second' not in unset:
            self.second = second


class SlottedWithDict:
    """Slots plus ``__dict__``: state is (dict, slots)."""
    __slots__ = ('slot', '__dict__')

    def __init__(self, slot=None, **attrs):
        self.slot = slot
        self.__dict__.update(attrs)


class SlottedChild(Slotted):
    """Inherited slots plus its own."""
    __slots__ = ('third',)

    def __init__(self, first=None, second=None, third=None):
        Slotted.__init__(self, first, second)
        self.third = third


class SlottedGetstate:
    """Slots with an explicit __getstate__/__setstate__: every protocol."""
    __slots__ = ('xval', 'yval')

    def __init__(self, xval=None, yval=None):
        self.xval = xval
        self.yval = yval

    def __getstate__(self):
        return (self.xval, self.yval)

    def __setstate__(self, state):
        self.xval, self.yval = state


# ---------------------------------------------------------------------------
# __getstate__ / __setstate__
# ---------------------------------------------------------------------------

class State:
    """``__getstate__`` returns ``self.state`` as is, whatever its shape.

    ``__setstate__`` stores it back, so a load restores the same __dict__.
    A falsy state is not written at protocols 0 and 1 (copyreg drops it), so
    ``__setstate__`` is not called there.
    """

    def __init__(self, state):
        self.state = state

    def __getstate__(self):
        return self.state

    def __setstate__(self, state):
        self.state = state


class StateNoSetstate:
    """``__getstate__`` returns a dict other than ``__dict__``; no setstate.

    Loading updates ``__dict__`` with it (BUILD's default).
    """

    def __init__(self, **attrs):
        self.__dict__.update(attrs)

    def __getstate__(self):
        state = dict(self.__dict__)
        state['from_getstate'] = True
        return state


class StatePair:
    """``__getstate__`` returns (dictstate, slotstate): BUILD's 2-tuple."""
    __slots__ = ('slot', '__dict__')

    def __init__(self, slot=None, **attrs):
        self.slot = slot
        self.__dict__.update(attrs)

    def __getstate__(self):
        return (self.__dict__ or None, {'slot': self.slot})


# ---------------------------------------------------------------------------
# __getnewargs__ / __getnewargs_ex__
# ---------------------------------------------------------------------------

class NewArgs:
    """``__new__`` needs arguments; ``__getnewargs__`` supplies them."""

    def __new__(cls, left, right):
        self = object.__new__(cls)
        self.left = left
        self.right = right
        return self

    def __getnewargs__(self):
        return (self.left, self.right)


class NewArgsEx:
    """``__getnewargs_ex__`` with keyword arguments.

    Protocol 4+ writes NEWOBJ_EX; protocols 2-3 fall back to
    ``functools.partial(cls.__new__, cls, *args, **kwargs)`` and REDUCE;
    protocols 0-1 ignore it (copyreg._reconstructor).
    """

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.args = args
        self.kwargs = kwargs
        return self

    def __getnewargs_ex__(self):
        return (self.args, self.kwargs)


class NewArgsExShared:
    """``__getnewargs_ex__`` returns the very tuple kept in the state.

    At protocol 4+ NEWOBJ_EX saves that tuple, so the later reference to it
    from the state is a memo GET of the arguments tuple: something the
    canonical text cannot express (arguments never carry a label).
    """

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.args = args
        return self

    def __getnewargs_ex__(self):
        return (self.args, {'key': 1})


# ---------------------------------------------------------------------------
# __reduce__ / __reduce_ex__
# ---------------------------------------------------------------------------

class ReduceToName:
    """``__reduce__`` returns a string: the object is pickled as a global.

    Only the module-level singletons below can be pickled this way (the
    pickler checks that the name leads back to the very object).
    """

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return self.name


SINGLETON_A = ReduceToName('SINGLETON_A')
SINGLETON_B = ReduceToName('SINGLETON_B')


class Reduce:
    """``__reduce__`` returns a tuple given at construction.

    ``parts`` is a function of the instance returning the reduce value, so
    iterators (items 4 and 5) are fresh for every dump.
    """

    def __init__(self, parts, **attrs):
        self._parts = parts
        self.__dict__.update(attrs)

    def __reduce__(self):
        return self._parts(self)


class Reduced:
    """What the ``Reduce`` cases rebuild into: a plain bag of attributes that
    also accepts items (list and dict style), for the 4- and 5-tuples."""

    def __init__(self, *args, **kwargs):
        self.args = args
        if kwargs:
            self.kwargs = kwargs
        self.items = []

    def append(self, item):
        self.items.append(('append', item))

    def extend(self, items):
        self.items.append(('extend', list(items)))

    def __setitem__(self, key, value):
        self.items.append(('setitem', key, value))


class ReducedWithSetstate(Reduced):
    def __setstate__(self, state):
        self.state = state


class ReduceArgsShared:
    """``__reduce__`` returns ``(cls, self.args, self.__dict__)``, and the
    args tuple is also in ``__dict__``: a memo GET of a REDUCE argument tuple
    that the canonical text cannot express (arguments carry no label)."""

    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return (ReduceArgsShared, self.args, self.__dict__)


class ReduceEx:
    """``__reduce_ex__`` answers differently for each protocol."""

    def __init__(self, value):
        self.value = value

    def __reduce_ex__(self, protocol):
        if protocol < 2:
            return (ReduceEx, (self.value,))
        if protocol < 4:
            return (copyreg.__newobj__, (ReduceEx,), {'value': self.value})
        return (copyreg.__newobj_ex__, (ReduceEx, (), {}), {'value': self.value})


class ReduceExNewobjKw:
    """``__reduce_ex__`` returning copyreg.__newobj_ex__ with kwargs at every
    protocol >= 2 (CPython's partial fallback at 2-3)."""

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.args = args
        self.kwargs = kwargs
        return self

    def __reduce_ex__(self, protocol):
        if protocol < 2:
            return (make_plain, (), {'args': self.args, 'kwargs': self.kwargs})
        return (copyreg.__newobj_ex__, (ReduceExNewobjKw, self.args, self.kwargs))


class ZeroCopyByteArray(bytearray):
    """The pickle documentation's out-of-band example (protocol 5)."""

    def __reduce_ex__(self, protocol):
        if protocol >= 5:
            return type(self)._reconstruct, (pickle.PickleBuffer(self),), None
        return type(self)._reconstruct, (bytearray(self),)

    @classmethod
    def _reconstruct(cls, obj):
        with memoryview(obj) as m:
            obj = m.obj
            if type(obj) is cls:
                return obj
            return cls(obj)


class ZeroCopyBytes(bytes):
    """Read-only variant of the documentation's example."""

    def __reduce_ex__(self, protocol):
        if protocol >= 5:
            return type(self)._reconstruct, (pickle.PickleBuffer(self),), None
        return type(self)._reconstruct, (bytes(self),)

    @classmethod
    def _reconstruct(cls, obj):
        with memoryview(obj) as m:
            obj = m.obj
            if type(obj) is cls:
                return obj
            return cls(obj)


# ---------------------------------------------------------------------------
# Subclasses of builtins
# ---------------------------------------------------------------------------

class ListSub(list):
    pass


class DictSub(dict):
    pass


class SetSub(set):
    pass


class FrozenSetSub(frozenset):
    pass


class TupleSub(tuple):
    pass


class IntSub(int):
    pass


class FloatSub(float):
    pass


class StrSub(str):
    pass


class BytesSub(bytes):
    pass


class CaseError(Exception):
    """An exception with extra attributes: (cls, args, __dict__)."""


# ---------------------------------------------------------------------------
# copyreg-registered reducer
# ---------------------------------------------------------------------------

class Registered:
    """Pickled through copyreg.pickle (the global dispatch table)."""

    def __init__(self, value):
        self.value = value


def _reduce_registered(obj):
    return (Registered, (obj.value,))


copyreg.pickle(Registered, _reduce_registered)


# ---------------------------------------------------------------------------
# Helpers for the generator
# ---------------------------------------------------------------------------

def partial_of_top_function(*args, **kwargs):
    """A functools.partial object (pickled through its own __reduce__)."""
    return functools.partial(top_function, *args, **kwargs)
