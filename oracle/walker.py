"""Which opcodes CPython's C unpickler executes, reading from io.BytesIO.

The reference decode is ``_pickle.Unpickler(io.BytesIO(data)).load()``.
That unpickler does not expose the protocol in effect (``self->proto``),
which its own ``find_class`` uses for the Python 2 name mapping; our
``find_class`` override therefore needs to know, for its k-th call, which
PROTO was executed last.  This module replays the unpickler's *reading* of
the stream (not its semantics) and lists the opcodes it executes.

Reading model of ``Modules/_pickle.c`` with a file object that has no
``peek()`` (BytesIO has none): the unpickler holds a buffer (the bytes of
its last ``file.read``/``file.readline``) and an index into it.

* ``read(n)``: if n bytes remain in the buffer, take them.  Otherwise
  (after the "read would overflow (invalid bytecode)" check on the index)
  the rest of the buffer is dropped and ``file.read(n)`` becomes the new
  buffer; fewer than n bytes raise UnpicklingError "pickle data was
  truncated", which becomes EOFError "Ran out of input" when it happens
  while fetching an opcode.
* ``readline()``: if the buffer holds a newline after the index, take the
  bytes through it; otherwise the rest is dropped and ``file.readline()``
  becomes the buffer (empty, or no trailing newline: truncated).
* payloads of BINBYTES, SHORT_BINBYTES, BINBYTES8 and BYTEARRAY8 use
  ``readinto``: what the buffer still holds is taken, the rest is read
  straight from the file, and the buffer stays exhausted.
* FRAME: ``read(8)`` gives the length L, then ``read(L)`` (from the buffer
  if L bytes remain there, else the next L bytes of the file replace it),
  then the index moves back by L, so the frame's bytes are read as opcodes.
  Frames are therefore not enforced, but an opcode that straddles the end
  of the buffer loses the buffer's tail.  (``pickle.loads(bytes)`` reads
  from memory, where the same code treats frames as fully transparent; the
  reference is the BytesIO form.)

Besides reading, the walker checks the few semantic conditions that end a
load early *and* depend only on the bytes read (PROTO > 5, negative LONG4
length, sizes above PY_SSIZE_T_MAX, text lines shorter than two bytes,
name decoding, EXT codes), so that its listing stops where CPython's
reading stops.  Semantic errors that depend on the stack (underflow, a
missing MARK, ...) are not modelled: for a rejected stream the listing may
continue past the opcode that failed.  Everything up to that opcode is
exact, which is what the k-th ``find_class`` call needs.
"""

import sys

MAXSIZE = sys.maxsize  # PY_SSIZE_T_MAX

NAMES = {
    0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP',
    0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG',
    0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID',
    0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
    0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD',
    0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS',
    0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
    0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
    0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE',
    0x75: 'SETITEMS', 0x47: 'BINFLOAT',
    0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
    0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x88: 'NEWTRUE',
    0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4',
    0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
    0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8',
    0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
    0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
    0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
}

# How each opcode reads its argument.
_NOARG, _FIXED, _LINE, _LINE2CHK, _COUNTED, _LONGN, _GLOBAL, _INST, \
    _PERSID, _PROTO, _EXT, _FRAME, _STOP = range(13)

# opcode -> (action, parameter)
#   _FIXED: n bytes;  _LINE: minimum line length (0: none);
#   _COUNTED: (size bytes, 'read' | 'readinto', overflow message or None)
_TABLE = {}
for _c in b'(012NQRabde}lo]stu)\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98':
    _TABLE[_c] = (_NOARG, None)
for _c, _n in ((0x4a, 4), (0x4b, 1), (0x4d, 2), (0x68, 1), (0x6a, 4), (0x71, 1),
               (0x72, 4), (0x47, 8)):
    _TABLE[_c] = (_FIXED, _n)
for _c in b'FILgp':
    _TABLE[_c] = (_LINE, 2)
for _c in b'SV':
    _TABLE[_c] = (_LINE, 0)
_TABLE[0x54] = (_COUNTED, (4, 'read', None))          # BINSTRING (unsigned in C)
_TABLE[0x55] = (_COUNTED, (1, 'read', None))          # SHORT_BINSTRING
_TABLE[0x58] = (_COUNTED, (4, 'read', None))          # BINUNICODE
_TABLE[0x8c] = (_COUNTED, (1, 'read', None))          # SHORT_BINUNICODE
_TABLE[0x8d] = (_COUNTED, (8, 'read', 'BINUNICODE'))  # BINUNICODE8
_TABLE[0x42] = (_COUNTED, (4, 'readinto', None))      # BINBYTES
_TABLE[0x43] = (_COUNTED, (1, 'readinto', None))      # SHORT_BINBYTES
_TABLE[0x8e] = (_COUNTED, (8, 'readinto', 'BINBYTES'))
_TABLE[0x96] = (_COUNTED, (8, 'readinto', 'BYTEARRAY8'))
_TABLE[0x8a] = (_LONGN, 1)
_TABLE[0x8b] = (_LONGN, 4)
_TABLE[0x63] = (_GLOBAL, None)
_TABLE[0x69] = (_INST, None)
_TABLE[0x50] = (_PERSID, None)
_TABLE[0x80] = (_PROTO, None)
_TABLE[0x82] = (_EXT, 1)
_TABLE[0x83] = (_EXT, 2)
_TABLE[0x84] = (_EXT, 4)
_TABLE[0x95] = (_FRAME, None)
_TABLE[0x2e] = (_STOP, None)
del _c, _n

_FIND_CLASS_OPS = (0x63, 0x69, 0x93)  # GLOBAL, INST, STACK_GLOBAL (+ EXT*)


class _Fail(Exception):
    def __init__(self, exc_class, message):
        Exception.__init__(self, exc_class, message)
        self.exc_class = exc_class
        self.message = message


_TRUNCATED = ('UnpicklingError', 'pickle data was truncated')


class Walk:
    """The result of walking a stream.

    ops:     [(offset, opcode byte)] executed, in order (FRAME included);
             offset is the opcode byte's position in the input.
    op_args: for each entry of ops, the input ranges [(start, end)] its
             argument was read from (several when a read crossed a frame).
    pieces:  [(start, end)] input ranges whose concatenation is the executed
             byte sequence without FRAME opcodes (see executed()).
    find_class_protos: protocol in effect at each find_class call, in order.
    stopped: True when STOP was executed.
    exc_class, message: why reading ended otherwise (None after STOP).
    end_offset: offset of the last opcode fetched (or of the failed fetch).
    """

    __slots__ = ('ops', 'op_args', 'pieces', 'find_class_protos', 'stopped', 'exc_class',
                 'message', 'end_offset')

    def executed(self, data):
        """The executed bytes without FRAME opcodes: a stream that the
        pure-Python unpickler reads as the same opcode sequence."""
        return b''.join([data[s:e] for s, e in self.pieces])

    def op_names(self):
        """[(offset, name)] for triage."""
        return [(off, NAMES.get(code, '0x%02x' % code)) for off, code in self.ops]


def memo_index(code, arg):
    """The memo index a GET/PUT family opcode (its byte `code`) names, from
    its argument bytes `arg` as read (a text line with or without its
    newline, which CPython reads as a C string: up to the first NUL).
    Raises ValueError when the argument holds no index."""
    if code in (0x68, 0x71):  # BINGET, BINPUT
        if len(arg) < 1:
            raise ValueError('no index byte')
        return arg[0]
    if code in (0x6a, 0x72):  # LONG_BINGET, LONG_BINPUT
        if len(arg) != 4:
            raise ValueError('not a 4-byte index')
        return int.from_bytes(arg, 'little')
    return int(arg.split(b'\0', 1)[0].strip())


def walk(data, extensions=None):
    """Walk `data` as the C unpickler reads it from io.BytesIO.

    `extensions` maps EXT codes to (module, name) (the registry installed for
    the load); EXT calls find_class only when the code is registered and not
    yet cached in this load.
    """
    data = bytes(data)
    size = len(data)
    find = data.find
    ops = []
    op_args = []
    pieces = []
    protos = []
    ext_cache = set()
    proto = 0
    pos = 0          # BytesIO position
    bstart = bend = 0  # the buffer is data[bstart:bend]
    idx = 0          # absolute index of the next unread buffer byte
    res = Walk()
    res.stopped = False
    res.exc_class = res.message = None
    res.end_offset = 0

    # Helpers are closures over the state above; they return absolute ranges.
    def read(n):
        nonlocal pos, bstart, bend, idx
        if n <= bend - idx:
            s = idx
            idx += n
            return s
        if idx - bstart > MAXSIZE - n:
            raise _Fail('UnpicklingError', 'read would overflow (invalid bytecode)')
        got = min(n, size - pos)
        bstart = pos
        bend = pos + got
        pos = bend
        if got < n:
            raise _Fail(*_TRUNCATED)
        idx = bstart + n
        return bstart

    def readline():
        nonlocal pos, bstart, bend, idx
        j = find(b'\n', idx, bend)
        if j >= 0:
            s = idx
            idx = j + 1
            return s, idx
        j = find(b'\n', pos)
        end = j + 1 if j >= 0 else size
        bstart = pos
        bend = pos = end
        if end == bstart or data[end - 1] != 0x0a:
            raise _Fail(*_TRUNCATED)
        idx = bend
        return bstart, bend

    def readinto(n, out):
        nonlocal pos, idx
        inbuf = bend - idx
        if inbuf > 0:
            take = inbuf if inbuf < n else n
            out.append((idx, idx + take))
            idx += take
            n -= take
            if n == 0:
                return
        got = min(n, size - pos)
        out.append((pos, pos + got))
        pos += got
        if got < n:
            raise _Fail(*_TRUNCATED)

    def line_ok(s, e, minlen):
        if e - s < minlen:
            raise _Fail(*_TRUNCATED)

    def decode_line(s, e, codec):
        try:
            data[s:e - 1].decode(codec)
        except UnicodeDecodeError as exc:
            raise _Fail('UnicodeDecodeError', str(exc)) from None

    try:
        while True:
            # fetch the opcode
            if bend - idx >= 1:
                off = idx
                idx += 1
            else:
                bstart = pos
                if pos >= size:
                    bend = pos
                    res.end_offset = pos
                    res.exc_class, res.message = 'EOFError', 'Ran out of input'
                    break
                off = pos
                pos += 1
                bend = pos
                idx = pos
            code = data[off]
            res.end_offset = off
            ops.append((off, code))
            mine = [(off, off + 1)]
            op_args.append(mine)
            spec = _TABLE.get(code)
            if spec is None:
                if 0x20 <= code <= 0x7e and code not in (0x27, 0x5c):
                    msg = "invalid load key, '%c'." % code
                else:
                    msg = "invalid load key, '\\x%02x'." % code
                raise _Fail('UnpicklingError', msg)
            action, param = spec
            if action == _NOARG:
                if code == 0x93:
                    protos.append(proto)
            elif action == _FIXED:
                s = read(param)
                mine.append((s, s + param))
            elif action == _LINE:
                s, e = readline()
                line_ok(s, e, param)
                mine.append((s, e))
            elif action == _COUNTED:
                nbytes, how, overflow = param
                s = read(nbytes)
                mine.append((s, s + nbytes))
                n = int.from_bytes(data[s:s + nbytes], 'little')
                if n > MAXSIZE:
                    raise _Fail('OverflowError', "%s exceeds system's maximum size of %d bytes"
                                % (overflow, MAXSIZE))
                if how == 'read':
                    s = read(n)
                    mine.append((s, s + n))
                else:
                    readinto(n, mine)
            elif action == _LONGN:
                s = read(param)
                mine.append((s, s + param))
                n = int.from_bytes(data[s:s + param], 'little', signed=param == 4)
                if n < 0:
                    raise _Fail('UnpicklingError', 'LONG pickle has negative byte count')
                if n:
                    s = read(n)
                    mine.append((s, s + n))
            elif action == _GLOBAL or action == _INST:
                codec = 'utf-8' if action == _GLOBAL else 'ascii'
                s, e = readline()
                line_ok(s, e, 2)
                mine.append((s, e))
                decode_line(s, e, codec)
                s, e = readline()
                line_ok(s, e, 2)
                mine.append((s, e))
                decode_line(s, e, codec)
                protos.append(proto)
            elif action == _PERSID:
                s, e = readline()
                mine.append((s, e))
                if not data[s:e - 1].isascii():
                    raise _Fail('UnpicklingError',
                                'persistent IDs in protocol 0 must be ASCII strings')
            elif action == _PROTO:
                s = read(1)
                mine.append((s, s + 1))
                if data[s] > 5:
                    raise _Fail('ValueError', 'unsupported pickle protocol: %d' % data[s])
                proto = data[s]
            elif action == _EXT:
                s = read(param)
                mine.append((s, s + param))
                ext = int.from_bytes(data[s:s + param], 'little', signed=param == 4)
                if ext <= 0:
                    raise _Fail('UnpicklingError', 'EXT specifies code <= 0')
                if ext not in ext_cache:
                    if not extensions or ext not in extensions:
                        raise _Fail('ValueError', 'unregistered extension code %d' % ext)
                    protos.append(proto)
                    ext_cache.add(ext)
            elif action == _FRAME:
                s = read(8)
                n = int.from_bytes(data[s:s + 8], 'little')
                if n > MAXSIZE:
                    raise _Fail('OverflowError', "FRAME length exceeds system's maximum of %d bytes"
                                % MAXSIZE)
                read(n)
                idx -= n
                continue  # FRAME bytes are not part of the executed sequence
            else:  # STOP
                pieces.extend(mine)
                res.stopped = True
                break
            pieces.extend(mine)
    except _Fail as f:
        res.exc_class, res.message = f.exc_class, f.message

    # merge adjacent pieces
    merged = []
    for s, e in pieces:
        if merged and merged[-1][1] == s:
            merged[-1] = (merged[-1][0], e)
        elif e > s:
            merged.append((s, e))
    res.ops = ops
    res.op_args = [m[1:] for m in op_args]
    res.pieces = merged
    res.find_class_protos = protos
    return res
