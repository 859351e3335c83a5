"""Insertion order of the sets and frozensets in a C unpickler result.

The canonical text lists set elements in insertion (stream) order, because
brine's encoder must reproduce CPython's bytes.  CPython's set objects only
know hash order, so the order is recovered:

* sets made by a fold (builtins policy) know their list; the fold records it
  (oracle.stubs.StubFactory.set_orders);
* sets made by EMPTY_SET/ADDITEMS/FROZENSET: the pure-Python
  ``pickle._Unpickler`` (subclassed with the same stub design and a fresh
  factory) runs on the byte sequence the C unpickler executed, FRAME opcodes
  removed (oracle.walker), with its EMPTY_SET, ADDITEMS and FROZENSET
  handlers instrumented to record insertion order (an element equal to one
  already present is not inserted, so the first one wins).  Its result is
  then mapped onto the C result by a parallel traversal in print order,
  stub objects paired by creation serial, and set elements matched by a
  structural key (atoms by type and value, floats by bits, stubs by serial,
  globals by name, tuples and frozensets recursively).

A set whose order cannot be recovered is printed in a deterministic sorted
order (sort_order) and the outcome is flagged ``set_order_verified=False``.
All traversals are iterative.
"""

import pickle

from . import canon, stubs

_NoneType = type(None)
_Stub = stubs.Stub
_Persid = stubs.Persid


# --- instrumented pure-Python unpickler --------------------------------------

def _load_empty_set(self):
    s = set()
    self._set_orders[id(s)] = (s, [])
    self.append(s)


def _load_additems(self):
    items = self.pop_mark()
    set_obj = self.stack[-1]
    if isinstance(set_obj, set):
        ent = self._set_orders.get(id(set_obj))
        if ent is None or ent[0] is not set_obj:
            set_obj.update(items)  # order unknown: left unrecorded
            return
        order = ent[1]
        for item in items:
            if item not in set_obj:
                set_obj.add(item)
                order.append(item)
    else:
        add = set_obj.add
        for item in items:
            add(item)


def _load_frozenset(self):
    items = self.pop_mark()
    f = frozenset(items)
    self._set_orders[id(f)] = (f, list(dict.fromkeys(items)))
    self.append(f)


def instrument(dispatch):
    """A copy of a pure-Python unpickler dispatch table with EMPTY_SET,
    ADDITEMS and FROZENSET recording insertion order in self._set_orders."""
    d = dict(dispatch)
    d[pickle.EMPTY_SET[0]] = _load_empty_set
    d[pickle.ADDITEMS[0]] = _load_additems
    d[pickle.FROZENSET[0]] = _load_frozenset
    return d


# --- structural keys ----------------------------------------------------------

class Keys:
    """Interns structural keys so that equal structures get equal small
    ints; shared by both sides of a match."""

    def __init__(self):
        self.table = {}

    def of(self, x, graph, memo):
        """The key of x (memo: id -> key, one per graph)."""
        table = self.table
        stack = [(x, False)]
        while stack:
            node, expanded = stack.pop()
            i = id(node)
            if i in memo:
                continue
            t = type(node)
            if t is tuple or t is frozenset or t is memoryview:
                kids = [graph.view_target(node)] if t is memoryview else list(node)
                if not expanded:
                    stack.append((node, True))
                    for c in kids:
                        if id(c) not in memo:
                            stack.append((c, False))
                    continue
                ks = [memo[id(c)] for c in kids]
                if t is tuple:
                    struct = ('t',) + tuple(ks)
                elif t is frozenset:
                    struct = ('F', frozenset(ks))
                else:
                    struct = ('r', ks[0])
            else:
                struct = _atom_key(node, graph)
            memo[i] = table.setdefault(struct, len(table))
        return memo[id(x)]


def _atom_key(x, graph):
    t = type(x)
    if t is _NoneType or t is bool or t is int or t is str or t is bytes:
        return (t.__name__, x)
    if t is float:
        return ('float', canon.float_bits(x))
    if t is complex:
        return ('complex', canon.float_bits(x.real), canon.float_bits(x.imag))
    if t is bytearray:
        return ('bytearray', bytes(x))
    if t is _Stub:
        info = graph.info[x]
        if info.kind == stubs.GLOBAL:
            return ('global', info.module, info.name)
        return ('object', info.serial)
    if t is _Persid:
        return ('persid', graph.persids[x].serial)
    if t is pickle.PickleBuffer:
        return ('buffer', graph.buffer_index.get(id(x), -1))
    return ('id', id(x))  # unhashable or unknown: never matches the other side


# --- deterministic fallback ---------------------------------------------------

_SORT_CAP = 512


def _atom_sort_text(x, graph):
    t = type(x)
    if t is _NoneType or t is bool:
        return '0' + repr(x)
    if t is int:
        return '1' + canon.fmt_int(x)
    if t is float:
        return '2' + canon.fmt_float(x)
    if t is complex:
        return '3' + canon.fmt_float(x.real) + ',' + canon.fmt_float(x.imag)
    if t is str:
        return '4' + canon.esc_str(x)
    if t is bytes:
        return '5' + canon.esc_bytes(x)
    if t is bytearray:
        return '6' + canon.esc_bytes(bytes(x))
    if t is _Stub:
        info = graph.info[x]
        if info.kind == stubs.GLOBAL:
            return '7' + canon.esc_str(info.module) + canon.esc_str(info.name)
        return '8%012d' % info.serial
    if t is _Persid:
        return '9%012d' % graph.persids[x].serial
    if t is pickle.PickleBuffer:
        return 'b%012d' % graph.buffer_index.get(id(x), -1)
    return 'z' + t.__name__


def sort_order(s, graph):
    """The elements of s in a deterministic order (independent of hashes and
    addresses), for sets whose insertion order is unknown."""
    memo = {}
    for top in s:
        stack = [(top, False)]
        while stack:
            node, expanded = stack.pop()
            i = id(node)
            if i in memo:
                continue
            t = type(node)
            if t is tuple or t is frozenset or t is memoryview:
                kids = [graph.view_target(node)] if t is memoryview else list(node)
                if not expanded:
                    stack.append((node, True))
                    for c in kids:
                        if id(c) not in memo:
                            stack.append((c, False))
                    continue
                texts = [memo[id(c)] for c in kids]
                if t is tuple:
                    text = 't(' + ','.join(texts) + ')'
                elif t is frozenset:
                    text = 'F{' + ','.join(sorted(texts)) + '}'
                else:
                    text = 'r' + texts[0]
            else:
                text = _atom_sort_text(node, graph)
            memo[i] = text[:_SORT_CAP]
    return sorted(s, key=lambda e: memo[id(e)])


# --- matching a pure-Python result onto the C result --------------------------

_PAIRABLE = frozenset([tuple, list, dict, set, frozenset, _Stub, _Persid, memoryview])


def match(cgraph, corders, pgraph, porders, needed):
    """Recover orders for the C sets whose ids are in `needed`.

    corders: id -> order for C sets already known (folds);
    porders: id -> order for the pure-Python run's sets.
    Returns (orders, exact): orders maps id(C set) -> element list for the
    sets recovered; exact is False when an ambiguous element match had to
    be settled arbitrarily between labelable elements.
    """
    keys = Keys()
    cmemo = {}
    pmemo = {}
    found = {}
    exact = True
    seen = set()
    stack = [(cgraph.root, pgraph.root)]
    ccreated = cgraph.factory.created
    pcreated = pgraph.factory.created
    for i in range(min(len(ccreated), len(pcreated)) - 1, -1, -1):
        stack.append((ccreated[i], pcreated[i]))
    stack.reverse()
    while stack:
        cx, px = stack.pop()
        t = type(cx)
        if type(px) is not t or t not in _PAIRABLE:
            continue
        if id(cx) in seen:
            continue
        seen.add(id(cx))
        if t is set or t is frozenset:
            n = len(cx)
            if n != len(px):
                continue
            if n < 2:
                stack.extend(zip(cx, px))
                continue
            pord = porders.get(id(px))
            if pord is None or len(pord) != n:
                continue
            cord = corders.get(id(cx))
            if cord is None:
                cord = found.get(id(cx))
            if cord is None:
                by_key = {}
                for e in cx:
                    by_key.setdefault(keys.of(e, cgraph, cmemo), []).append(e)
                cord = []
                for e in pord:
                    group = by_key.get(keys.of(e, pgraph, pmemo))
                    if not group:
                        cord = None
                        break
                    if len(group) > 1 and any(canon.labelable(g) for g in group):
                        exact = False
                    cord.append(group.pop(0))
                if cord is None:
                    continue
                if id(cx) in needed:
                    found[id(cx)] = cord
            stack.extend(zip(reversed(cord), reversed(pord)))
            continue
        if t is _Stub:
            ci = cgraph.info[cx]
            pi = pgraph.info[px]
            if ci.kind != pi.kind:
                continue
            if ci.kind == stubs.GLOBAL:
                if (ci.module, ci.name) != (pi.module, pi.name):
                    continue
            elif ci.serial != pi.serial or ci.make != pi.make:
                continue
        elif t is _Persid:
            if cgraph.persids[cx].serial != pgraph.persids[px].serial:
                continue
        ck = cgraph.children(cx)
        pk = pgraph.children(px)
        if len(ck) != len(pk):
            continue
        stack.extend(zip(reversed(ck), reversed(pk)))
    return found, exact
