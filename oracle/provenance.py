"""Which objects the stream passed to REDUCE, NEWOBJ and NEWOBJ_EX.

CPython calls a stub with ``callable(*args)`` or ``cls.__new__(cls, *args,
**kwargs)``, so the stub only ever sees fresh copies of the argument tuple
and the keyword dict. The stream's own tuple and dict still exist, though,
and can be shared with the rest of the graph (CPython's pickler writes a
memo fetch when a ``__reduce__`` returns a tuple it also stores, or when
``__getnewargs_ex__`` returns objects the state holds). The canonical text
labels them then, exactly as brine's decoder does, so the oracle must find
them.

It does so without any unpickling semantics: replaying the executed opcodes
(``walker.walk``) on a stack of *tokens*, where every opcode that makes an
object pushes a new token and the stack, mark and memo operations move
tokens as CPython moves objects. A token that ends in the final memo is the
object ``Unpickler.memo`` holds at that index. A token that is not there (a
memo slot written again later, or an object shared with DUP) is found when
a chain of tuple and list items leads to it from the root or from a final
memo entry: tuple items never move, and list items only ever get appended
(``path`` below). Objects reachable only through dict values or object
state are not found; see docs/known-differences.md.
"""

from . import stubs, walker

_MARK = 0x28
_POP, _POP_MARK, _DUP = 0x30, 0x31, 0x32
_GET, _BINGET, _LONG_BINGET = 0x67, 0x68, 0x6a
_PUT, _BINPUT, _LONG_BINPUT, _MEMOIZE = 0x70, 0x71, 0x72, 0x94
_REDUCE, _NEWOBJ, _NEWOBJ_EX = 0x52, 0x81, 0x92
_INST, _OBJ = 0x69, 0x6f
_FRAME, _PROTO, _STOP = 0x95, 0x80, 0x2e
_TUPLE, _EMPTY_TUPLE, _TUPLE1, _TUPLE2, _TUPLE3 = 0x74, 0x29, 0x85, 0x86, 0x87
_LIST, _EMPTY_LIST, _APPEND, _APPENDS = 0x6c, 0x5d, 0x61, 0x65
_SETITEM, _SETITEMS = 0x73, 0x75

# Opcodes that pop everything above the top MARK (and the MARK) and push
# one new object.
_MARK_TO_NEW = frozenset(b'tldi\x91')
# ... and push nothing (they mutate the object below the MARK).
_MARK_TO_NOTHING = frozenset(b'eu\x90')
# opcode -> (items popped, items pushed) for the fixed-shape opcodes that
# are not plain "push one new object".
_SHAPE = {
    0x85: (1, 1), 0x86: (2, 1), 0x87: (3, 1),   # TUPLE1-3
    0x61: (1, 0),                                # APPEND
    0x73: (2, 0),                                # SETITEM
    0x62: (1, 0),                                # BUILD
    0x93: (2, 1),                                # STACK_GLOBAL
    0x51: (1, 1),                                # BINPERSID
    0x98: (0, 0),                                # READONLY_BUFFER (same slot)
}


def _memo_index(data, ranges, code):
    """The memo index argument of a GET/PUT family opcode."""
    return walker.memo_index(code, b''.join(data[s:e] for s, e in ranges))


class Tokens:
    """What argument_tokens found: events (for every REDUCE, NEWOBJ,
    NEWOBJ_EX, INST and OBJ executed, in order, the triple (opcode, args
    token, kwargs token), None where the opcode has none), memo (final memo
    index -> token), root (the token STOP returned, or None) and items
    (token of a tuple or list -> the tokens of its items, in order)."""

    __slots__ = ('events', 'memo', 'root', 'items')

    def __init__(self):
        self.events, self.memo, self.root, self.items = [], {}, None, {}

    def parents(self):
        """token -> (parent token, item index) for every token reachable
        from the root or a final memo entry through tuple and list items,
        by breadth-first search (shortest chains, the root first); the
        starts map to (None, 'root') or (None, memo index). One entry per
        token, so memory stays linear in the graph however deep."""
        found = {}
        queue = []
        if self.root is not None:
            queue.append((self.root, (None, 'root')))
        queue.extend((tok, (None, index)) for index, tok in sorted(self.memo.items()))
        i = 0
        while i < len(queue):
            tok, link = queue[i]
            i += 1
            if tok in found:
                continue
            found[tok] = link
            for k, item in enumerate(self.items.get(tok, ())):
                if item not in found:
                    queue.append((item, (tok, k)))
        return found


def argument_tokens(walk, data):
    """Replay `walk` (a successful load's walk) on tokens; returns Tokens."""
    stack = []
    marks = []
    out = Tokens()
    memo, events, items = out.memo, out.events, out.items
    fresh = iter(range(1 << 62)).__next__

    def push_container(members):
        tok = fresh()
        items[tok] = list(members)
        stack.append(tok)

    for (off, code), ranges in zip(walk.ops, walk.op_args):
        if code == _MARK:
            marks.append(len(stack))
        elif code == _POP:
            if marks and marks[-1] == len(stack):
                marks.pop()
            elif stack:
                stack.pop()
        elif code == _POP_MARK:
            del stack[marks.pop():]
        elif code == _DUP:
            stack.append(stack[-1])
        elif code in (_GET, _BINGET, _LONG_BINGET):
            stack.append(memo[_memo_index(data, ranges, code)])
        elif code in (_PUT, _BINPUT, _LONG_BINPUT):
            memo[_memo_index(data, ranges, code)] = stack[-1]
        elif code == _MEMOIZE:
            memo[len(memo)] = stack[-1]
        elif code == _REDUCE:
            args = stack.pop()
            stack.pop()
            stack.append(fresh())
            events.append((code, args, None))
        elif code == _NEWOBJ:
            args = stack.pop()
            stack.pop()
            stack.append(fresh())
            events.append((code, args, None))
        elif code == _NEWOBJ_EX:
            kwargs = stack.pop()
            args = stack.pop()
            stack.pop()
            stack.append(fresh())
            events.append((code, args, kwargs))
        elif code == _INST or code == _OBJ:
            del stack[marks.pop():]
            stack.append(fresh())
            events.append((code, None, None))
        elif code in (_TUPLE, _LIST):
            at = marks.pop()
            members = stack[at:]
            del stack[at:]
            push_container(members)
        elif code in (_EMPTY_TUPLE, _EMPTY_LIST):
            push_container(())
        elif code in (_TUPLE1, _TUPLE2, _TUPLE3):
            n = code - _TUPLE1 + 1
            members = stack[len(stack) - n:]
            del stack[len(stack) - n:]
            push_container(members)
        elif code == _APPEND:
            item = stack.pop()
            if stack and stack[-1] in items:
                items[stack[-1]].append(item)
        elif code == _APPENDS:
            at = marks.pop()
            members = stack[at:]
            del stack[at:]
            if stack and stack[-1] in items:
                items[stack[-1]].extend(members)
        elif code in (_SETITEM, _SETITEMS):
            # list[i] = x replaces an item: the list's items are no longer
            # known (dicts are not followed anyway).
            at = marks.pop() if code == _SETITEMS else len(stack) - 2
            del stack[at:]
            if stack:
                items.pop(stack[-1], None)
        elif code in _MARK_TO_NEW:
            del stack[marks.pop():]
            stack.append(fresh())
        elif code in _MARK_TO_NOTHING:
            del stack[marks.pop():]
        elif code in _SHAPE:
            pops, pushes = _SHAPE[code]
            if pops:
                del stack[len(stack) - pops:]
            if pushes:
                stack.append(fresh())
        elif code in (_FRAME, _PROTO):
            pass
        elif code == _STOP:
            out.root = stack[-1] if stack else None
            break
        else:
            stack.append(fresh())
    return out


class _Resolver:
    """The real object of a token, from Tokens.parents(): the loaded root
    or a final memo entry, then item after item. Each token is resolved
    once (cached), without recursion."""

    def __init__(self, parents, root, final_memo):
        self.parents = parents
        self.root = root
        self.final_memo = final_memo
        self.cache = {}

    def _start(self, start):
        return self.root if start == 'root' else self.final_memo.get(start)

    def get(self, tok):
        """The object, or None when the token is not reachable or the real
        containers do not have the shape the stream gave them."""
        if tok is None or tok not in self.parents:
            return None
        chain = []
        while tok not in self.cache:
            parent, k = self.parents[tok]
            chain.append((tok, parent, k))
            if parent is None:
                break
            tok = parent
        for tok, parent, k in reversed(chain):
            if parent is None:
                obj = self._start(k)
            else:
                up = self.cache[parent]
                obj = up[k] if type(up) in (tuple, list) and k < len(up) else None
            self.cache[tok] = obj
        return self.cache[chain[0][0]] if chain else self.cache[tok]


def attach_argument_objects(factory, walk, data, final_memo, root=None):
    """Set ObjectInfo.args_obj / kwargs_obj for the objects whose argument
    tuple or keyword dict CPython's final memo (`final_memo`: index ->
    object, from ``Unpickler.memo.copy()``) holds, or that a chain of tuple
    and list items leads to from the loaded `root` or a final memo entry."""
    toks = argument_tokens(walk, data)
    if len(toks.events) != len(factory.events):
        factory.internal_error = ('provenance found %d calls, CPython made %d'
                                  % (len(toks.events), len(factory.events)))
        return
    real = _Resolver(toks.parents(), root, final_memo).get

    info = factory.info
    for (code, args_tok, kwargs_tok), result in zip(toks.events, factory.events):
        if type(result) is not stubs.Stub:
            continue  # a folded call (builtins policy)
        rec = info[result]
        rec.newobj_ex = code == _NEWOBJ_EX
        obj = real(args_tok)
        if type(obj) is tuple and len(obj) == len(rec.args) and all(
                a is b for a, b in zip(obj, rec.args)):
            rec.args_obj = obj
        obj = real(kwargs_tok)
        if type(obj) is dict and len(obj) == len(rec.kwargs) and all(
                k1 is k2 and v1 is v2 for (k1, v1), (k2, v2) in zip(obj.items(), rec.kwargs)):
            rec.kwargs_obj = obj
