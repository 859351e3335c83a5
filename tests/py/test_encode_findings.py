#!/usr/bin/env python3
"""test_encode_findings.py - the encoder findings of the first fuzzing campaign,
checked against CPython 3.11's pickler itself.

Globals: for a class whose __module__ and __qualname__ are set to each
name below (registered in sys.modules so that save_global's lookup succeeds
wherever CPython lets it), ``pickle.dumps`` at protocols 0-5 gives bytes or
raises; ``brine encode`` of ``global(module, name)`` must write the same
bytes, or fail with the same class. The one deliberate difference: where
CPython writes a GLOBAL line with an empty name (a qualified name whose first
component is empty, below protocol 4), bytes that CPython's own unpickler
rejects as truncated, brine raises PicklingError; the test checks that the
oracle indeed rejects CPython's bytes there.

Recursion: values whose reduce arguments reach them. Where CPython writes
them, decoding its bytes with brine and encoding again must give the same
bytes (and those bytes must be a fixed point of decode + encode). The same
for popped copies that brine mistook for something else (the second
campaign): one whose persistent id was written again, and ones with the
shape of a state setter call.
"""
import copyreg
import io
import os
import pickle
import subprocess
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from oracle import reference  # noqa: E402

BRINE = os.environ.get("BRINE_BIN", os.path.join(ROOT, "build", "brine"))

failures = []
checks = [0]


def check(ok, what):
    checks[0] += 1
    if not ok:
        failures.append(what)


def brine_encode(text, proto):
    """(bytes, None) or (None, error class) for canonical text at proto."""
    r = subprocess.run([BRINE, "encode", "--protocol", str(proto), "-"], input=text.encode(),
                       capture_output=True)
    if r.returncode == 0:
        return r.stdout, None
    line = r.stderr.decode(errors="replace")
    assert line.startswith("error: "), line
    return None, line[len("error: "):].split(":", 1)[0]


def brine_decode(data):
    r = subprocess.run([BRINE, "decode", "-"], input=data, capture_output=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode()


def py_str(s):
    """A str as the canonical text writes it (ASCII names only here)."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --------------------------------------------------------------------------
# Globals with empty name components
# --------------------------------------------------------------------------

NAMES = [("m", ""), ("m", "."), ("m", ".x"), ("m", "..x"), ("m", "a..b"), ("m", "x."),
         ("m", "a."), ("m", "a.b"), (".", "."), (".", ""), ("", "f"), (".x", "f"),
         ("a..b", "f"), ("x.", "f"), ("x..", "f")]


def stub(module, qualname):
    cls = type("Stub", (), {})
    cls.__module__ = module
    cls.__qualname__ = qualname
    return cls


def register(module, qualname):
    """Makes sys.modules[module] and the getattr chain along qualname lead to a
    stub with these names (and the module's first component importable)."""
    for name in list(sys.modules):
        if name in {m for m, _ in NAMES} | {"a", "x"}:
            del sys.modules[name]
    obj = stub(module, qualname)
    front = module.partition(".")[0]
    if front and front != module:
        sys.modules[front] = types.ModuleType(front)
    mod = types.ModuleType(module)
    sys.modules[module] = mod
    parts = qualname.split(".")
    cur = mod
    for i, part in enumerate(parts[:-1]):
        nxt = getattr(cur, part, None)
        if nxt is None:
            nxt = stub(module, ".".join(parts[:i + 1]))
            setattr(cur, part, nxt)
        cur = nxt
    setattr(cur, parts[-1], obj)
    return obj


def test_globals():
    for module, qualname in NAMES:
        obj = register(module, qualname)
        text = "root: global(%s, %s)\n" % (py_str(module), py_str(qualname))
        for proto in range(6):
            what = "global(%r, %r) at protocol %d" % (module, qualname, proto)
            try:
                want, want_exc = pickle.dumps(obj, proto), None
            except Exception as exc:  # what CPython raises is the expectation
                want, want_exc = None, type(exc).__name__
            got, got_exc = brine_encode(text, proto)
            if want_exc:
                check(got_exc == want_exc, "%s: CPython raises %s, brine: %r %s" % (
                    what, want_exc, got, got_exc))
                continue
            back = reference.decode(want)
            if back.kind != "accept" and proto < 4 and (qualname == "" or qualname[0] == "."):
                # Deliberately stricter: CPython's bytes do not load.
                check(back.exc_class == "UnpicklingError" and "truncated" in back.message,
                      "%s: oracle on CPython's bytes: %r" % (what, back))
                check(got_exc == "PicklingError", "%s: brine writes %r" % (what, got))
                continue
            check(back.kind == "accept", "%s: CPython's bytes do not load: %r" % (what, back))
            check(got == want, "%s: CPython %r, brine %r %s" % (what, want, got, got_exc))


# --------------------------------------------------------------------------
# Recursion
# --------------------------------------------------------------------------

def f(*args):
    pass


class Fresh:
    """__reduce__ makes a new args tuple each time."""

    def __reduce__(self):
        return f, tuple(self.parts)


class Shared:
    """__reduce__ returns the same args tuple each time."""

    def __reduce__(self):
        return f, self.args


class Setter:
    """A 6-tuple reduce whose state setter call reaches `target`."""

    def __reduce__(self):
        return f, (), self.state, None, None, f


def two_lists(cls):
    x = cls()
    l1, l2 = [x], [x]
    if cls is Fresh:
        x.parts = [l1, l2]
    else:
        x.args = (l1, l2)
    return x


def through_setter():
    # x's args reach y, whose setter's state reaches x: x is saved a third
    # time from inside the setter call after y is memoized.
    x, y = Fresh(), Setter()
    y.state = [x]
    x.parts = [[y], [x]]
    return [x, y]


def deep_three():
    x = Fresh()
    x.parts = [[x], [x], [x]]
    return x


def set_of_self():
    x = Fresh()
    s = {x}
    x.parts = [[s]]
    return s


class CallableReduce:
    """A callable whose __reduce__ returns self.red."""

    def __call__(self, *args):
        pass

    def __reduce__(self):
        return self.red


def twin_through_setter():
    # r = x(None): x's state setter is r itself, so r is written inside x's
    # setter call, and the outer copy of r is popped.
    x, r = CallableReduce(), CallableReduce()
    x.red = (f, (None,), r, None, None, r)
    r.red = (x, (None,))
    return r


RECURSIVE = [
    ("state setter reaching its object's reduce", twin_through_setter()),
    ("two lists, fresh args", two_lists(Fresh)),
    ("two lists, shared args", two_lists(Shared)),
    ("three lists", deep_three()),
    ("through a state setter", through_setter()),
    ("set of self", set_of_self()),
]

# Values CPython recurses on without end (RecursionError at every
# protocol). The canonical reader cannot build such graphs (a node holding
# itself through items fixed when it was made), so brine's side, a
# PicklingError with CPython's message, is checked in
# tests/unit/test_encode_findings.c and test_encode.c (test_recursion_guard).
ENDLESS = ["frozenset item's args hold it", "tuple item's args hold it",
           "object's args hold it"]


def endless_values():
    x = Fresh()
    fs = frozenset([x])
    x.parts = [fs]
    y = Fresh()
    t = (y,)
    y.parts = [t]
    z = Fresh()
    z.parts = [z]
    return [fs, t, z]


def test_recursion():
    for label, value in RECURSIVE:
        for proto in range(6):
            what = "%s at protocol %d" % (label, proto)
            want = pickle.dumps(value, proto)
            text = brine_decode(want)
            got, exc = brine_encode(text, proto)
            check(got == want, "%s: CPython %r, brine %r %s" % (what, want, got, exc))
            if got is not None:
                # And again: the bytes are a fixed point of decode + encode.
                again, exc = brine_encode(brine_decode(got), proto)
                check(again == got, "%s: not a fixed point: %r" % (what, again))
    for label, value in zip(ENDLESS, endless_values()):
        for proto in range(6):
            try:
                pickle.dumps(value, proto)
                raised = None
            except RecursionError:
                raised = "RecursionError"
            check(raised == "RecursionError",
                  "%s at protocol %d: CPython does not raise RecursionError" % (label, proto))


# --------------------------------------------------------------------------
# Discarded nodes that read back as state setters
# --------------------------------------------------------------------------

class Reduce:
    def __reduce__(self):
        return self.red


def test_new_setter():
    # Below protocol 2 a discarded new(R, (2,)) is the call
    # copyreg.__newobj__(R, 2): what CPython writes for R's state setter
    # copyreg.__newobj__ with state 2.
    cls = register("m", "C")
    r = Reduce()
    r.red = (copyreg.__newobj__, (cls, 1), 2, None, None, copyreg.__newobj__)
    text = "root: &1 new(global('m', 'C'), (1,))\ndiscarded: new(*1, (2,))\n"
    for proto in (0, 1):
        want = pickle.dumps(r, proto)
        got, exc = brine_encode(text, proto)
        check(got == want, "new setter at protocol %d: CPython %r, brine %r %s" % (
            proto, want, got, exc))
        if got is not None:
            again, exc = brine_encode(brine_decode(got), proto)
            check(again == got, "new setter at protocol %d: not a fixed point: %r" % (
                proto, again))


# --------------------------------------------------------------------------
# Popped copies that look like something else (second campaign)
# --------------------------------------------------------------------------

class FreshCall:
    """A callable whose __reduce__ makes a new args tuple each time."""

    def __call__(self, *args):
        pass

    def __reduce__(self):
        return self.fn, tuple(self.parts)


class Marker:
    pass


PID = Marker()


class PidPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return "p" if obj is PID else None


def dumps_pid(value, proto):
    buf = io.BytesIO()
    PidPickler(buf, proto).dump(value)
    return buf.getvalue()


def copy_with_persid():
    # x = X(P, X) with X's state setter x: x is written inside the setter
    # call, and the outer copy's persistent id is written (and loaded) again:
    # a new persistent id node around the same pid, still x's popped copy.
    big_x, x = CallableReduce(), FreshCall()
    big_x.red = (f, (), 0, None, None, x)
    x.fn, x.parts = big_x, [PID, big_x]
    return x


def copy_with_setter_shape():
    # s = f(y, y) with y's state setter s: the popped outer copy of s is
    # call(f, (y, y)), which has the shape of a state setter of y.
    s, y = FreshCall(), Reduce()
    y.red = (f, (), 0, None, None, s)
    s.fn, s.parts = f, [y, y]
    return s


def copy_with_newobj_shape():
    # The same through copyreg.__newobj__(c, c), which below protocol 2 is a
    # call (at 2 and up CPython wants a class there).
    s, c = FreshCall(), CallableReduce()
    c.red = (f, (), 0, None, None, s)
    s.fn, s.parts = copyreg.__newobj__, [c, c]
    return s


class NewEx:
    """Made by copyreg.__newobj_ex__: below protocol 4 CPython writes
    partial(cls.__new__, cls, *args, **kwargs)(), a new partial each time."""

    def __call__(self, *args):
        pass

    def __reduce_ex__(self, proto):
        return copyreg.__newobj_ex__, (NewEx, tuple(self.parts), {"k": 1})


def copy_with_fresh_partial():
    # x = NewEx(y) with y's state setter s = NewEx(x): x is written inside
    # the setter call, and its popped outer copy calls another partial,
    # made and set up like the one x calls (third campaign).
    x, y, s = NewEx(), CallableReduce(), NewEx()
    y.red = (f, (), 0, None, None, s)
    s.parts, x.parts = [x], [y]
    return x


def copy_of_one_of_two():
    # x = g() and y = g(), with g = f(c) and c's state setter x: x is written
    # inside the setter call, so x and g have popped copies; the copy made
    # like x is x's, not y's (x's arguments reach x, y's do not reach y).
    x, y, g, c = FreshCall(), FreshCall(), CallableReduce(), CallableReduce()
    x.fn, x.parts = g, []
    y.fn, y.parts = g, []
    g.red = (f, (c,))
    c.red = (f, (), 0, None, None, x)
    return [x, y]


POPPED = [("popped copy with a persistent id", copy_with_persid(), range(6)),
          ("popped copy of one of two made alike", copy_of_one_of_two(), range(6)),
          ("popped copy calling a fresh partial", copy_with_fresh_partial(), range(6)),
          ("popped copy with a setter's shape", copy_with_setter_shape(), range(6)),
          ("popped copyreg.__newobj__ copy", copy_with_newobj_shape(), range(2))]


def check_reencoded(what, want, proto):
    """CPython's bytes want, decoded and encoded by brine: the same bytes,
    which are then a fixed point of brine's decode + encode."""
    got, exc = brine_encode(brine_decode(want), proto)
    check(got == want, "%s: CPython %r, brine %r %s" % (what, want, got, exc))
    if got is not None:
        again, exc = brine_encode(brine_decode(got), proto)
        check(again == got, "%s: not a fixed point: %r" % (what, again))


def test_popped_copies():
    for label, value, protos in POPPED:
        for proto in protos:
            what = "%s at protocol %d" % (label, proto)
            want = dumps_pid(value, proto)
            check_reencoded(what, want, proto)


# --------------------------------------------------------------------------
# Containers that reach themselves with a persistent id among their items
# --------------------------------------------------------------------------

class StateSetter:
    """A 6-tuple reduce with state self.state and state setter f."""

    def __reduce__(self):
        return f, (), self.state, None, None, f


class SetterOf:
    """A 6-tuple reduce whose state setter is self.setter (state 0)."""

    def __reduce__(self):
        return f, (), 0, None, None, self.setter


def tuple_through_state(first):
    # t = (P, y) with y's state t: save_tuple writes t's items, y's state
    # writes t again (P once more) and the outer copy is popped, P with it.
    y = StateSetter()
    t = (PID, y) if first else (y, PID)
    y.state = t
    return t


def tuple_through_list():
    items = []
    t = (PID, items)
    items.append(t)
    return t


def frozenset_through_setter(kind):
    # fs = frozenset({P, y}) with y's state setter reaching fs.
    y = SetterOf()
    fs = kind([PID, y])
    y.setter = CallableReduce()
    y.setter.red = (f, (fs,))
    return fs


def args_tuple_through_setter():
    # x = f(y, P) with the args tuple shared (memoized) and y's state
    # setter x: the args tuple is written inside the setter call, and the
    # outer args tuple is popped with its P.
    x, y = CallableReduce(), SetterOf()
    x.red = (f, (y, PID))
    y.setter = x
    return x


# (label, value, protocols, canonical text of the graph without the popped
# persistent ids, or None)
SELF_ITEMS = [
    ("tuple (P, y), y's state the tuple", tuple_through_state(True), range(6),
     "root: &1 (persid(%s), &2 call(&3 global('__main__', 'f'), ()))\n"
     "discarded: call(*3, (*2, *1))\n"),
    ("tuple (y, P), y's state the tuple", tuple_through_state(False), range(6), None),
    ("tuple (P, [t])", tuple_through_list(), range(6),
     "root: &1 (persid(%s), [*1])\n"),
    ("frozenset {P, y}, y's setter reaching it", frozenset_through_setter(frozenset),
     range(6), None),
    ("set {P, y}, y's setter reaching it", frozenset_through_setter(set), range(6), None),
    ("args tuple (y, P), y's setter its object", args_tuple_through_setter(), range(6),
     "root: &1 call(&2 global('__main__', 'f'), (&3 call(*2, ()), persid(%s)))\n"
     "discarded: call(*1, (*3, 0))\n"),
]


def test_self_items():
    for label, value, protos, text in SELF_ITEMS:
        for proto in protos:
            what = "%s at protocol %d" % (label, proto)
            want = dumps_pid(value, proto)
            check_reencoded(what, want, proto)
            if text is not None:
                # The graph itself, as the canonical text writes it (one
                # persistent id; the pid str is shared from protocol 1 on,
                # where CPython memoizes it, but the text need not say so).
                got, exc = brine_encode(text % "'p'", proto)
                check(got == want, "%s, from text: CPython %r, brine %r %s" % (
                    what, want, got, exc))


def main():
    f.__module__ = "__main__"
    test_globals()
    test_recursion()
    test_new_setter()
    test_popped_copies()
    test_self_items()
    for what in failures[:30]:
        print("FAIL", what)
    print("test_encode_findings: %d checks, %d failures" % (checks[0], len(failures)))
    return 1 if failures or checks[0] < 150 else 0


if __name__ == "__main__":
    sys.exit(main())
