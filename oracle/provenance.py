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
object ``Unpickler.memo`` holds at that index. Objects shared without the
memo (DUP) are not found; see docs/known-differences.md.
"""

from . import stubs

_MARK = 0x28
_POP, _POP_MARK, _DUP = 0x30, 0x31, 0x32
_GET, _BINGET, _LONG_BINGET = 0x67, 0x68, 0x6a
_PUT, _BINPUT, _LONG_BINPUT, _MEMOIZE = 0x70, 0x71, 0x72, 0x94
_REDUCE, _NEWOBJ, _NEWOBJ_EX = 0x52, 0x81, 0x92
_INST, _OBJ = 0x69, 0x6f
_FRAME, _PROTO, _STOP = 0x95, 0x80, 0x2e

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
    raw = b''.join(data[s:e] for s, e in ranges)
    if code in (_BINGET, _BINPUT):
        return raw[0]
    if code in (_LONG_BINGET, _LONG_BINPUT):
        return int.from_bytes(raw[:4], 'little')
    # GET and PUT: the text line, which CPython reads up to a NUL byte.
    return int(raw.split(b'\0', 1)[0].strip())


def argument_tokens(walk, data):
    """Replay `walk` (a successful load's walk) on tokens.

    Returns (events, memo): events lists, for every REDUCE, NEWOBJ,
    NEWOBJ_EX, INST and OBJ executed, in order, the triple (opcode, args
    token, kwargs token), None where the opcode has none (INST, OBJ; REDUCE
    and NEWOBJ have no kwargs); memo maps each final memo index to its
    token.
    """
    stack = []
    marks = []
    memo = {}
    events = []
    fresh = iter(range(1 << 62)).__next__
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
            break
        else:
            stack.append(fresh())
    return events, memo


def attach_argument_objects(factory, walk, data, final_memo):
    """Set ObjectInfo.args_obj / kwargs_obj for the objects whose argument
    tuple or keyword dict is still in CPython's final memo (`final_memo`:
    index -> object, from ``Unpickler.memo.copy()``)."""
    events, memo = argument_tokens(walk, data)
    if len(events) != len(factory.events):
        factory.internal_error = ('provenance found %d calls, CPython made %d'
                                  % (len(events), len(factory.events)))
        return
    where = {}
    for index, token in memo.items():
        where.setdefault(token, index)
    info = factory.info
    for (code, args_tok, kwargs_tok), result in zip(events, factory.events):
        if type(result) is not stubs.Stub:
            continue  # a folded call (builtins policy)
        rec = info[result]
        rec.newobj_ex = code == _NEWOBJ_EX
        if args_tok is not None and args_tok in where:
            obj = final_memo.get(where[args_tok])
            if type(obj) is tuple and len(obj) == len(rec.args) and all(
                    a is b for a, b in zip(obj, rec.args)):
                rec.args_obj = obj
        if kwargs_tok is not None and kwargs_tok in where:
            obj = final_memo.get(where[kwargs_tok])
            if type(obj) is dict and len(obj) == len(rec.kwargs) and all(
                    k1 is k2 and v1 is v2 for (k1, v1), (k2, v2) in zip(obj.items(), rec.kwargs)):
                rec.kwargs_obj = obj
