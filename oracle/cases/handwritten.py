"""Streams written by hand, not by CPython 3's pickler (decode-only cases).

HANDWRITTEN_PY2 holds what Python 2's pickle and cPickle wrote (STRING,
BINSTRING, SHORT_BINSTRING, INST, OBJ, copy_reg._reconstructor, __builtin__
names, I01/I00 bools, LONG with the 'L' suffix, ...); HANDWRITTEN_RARE holds
opcodes and encodings that CPython 3.11 writes only for objects over 4 GiB
(BINUNICODE8, BINBYTES8) or never (DUP, non-minimal integers, BINPUT at
protocol 4, ...).  Each entry is (protocol, bytes, description); the protocol
is the one the stream claims (its PROTO opcode, or the Python 2 protocol that
wrote it).  Every stream is well-formed for pickletools.genops; whether
CPython 3.11 decodes it without error (some need encoding='latin1' or
'bytes') is for the reference decoder to say.
"""

import struct


def _u8(n):
    return struct.pack('<Q', n)


def _u4(n):
    return struct.pack('<I', n)


# A Python 2 datetime state string (year 2000, Jan 1, 00:00:00.000000).
_DT_STATE = b'\x07\xd0\x01\x01\x00\x00\x00\x00\x00\x00'

HANDWRITTEN_PY2 = [
    # ---- protocol 0 -------------------------------------------------------
    (0, b"S'hello'\np0\n.", "STRING 'hello'"),
    (0, b"S'caf\\xe9'\np0\n.", 'STRING with an escaped latin-1 byte (\\xe9)'),
    (0, b"S'caf\xe9'\np0\n.", 'STRING with a raw latin-1 byte (not ASCII)'),
    (0, b"S'\xc3\xa9t\xc3\xa9'\np0\n.", 'STRING with raw UTF-8 bytes'),
    (0, b'S"it\'s"\np0\n.', 'STRING in double quotes'),
    (0, b"S'a\\nb\\t\\\\\\''\np0\n.", 'STRING with \\n \\t \\\\ \\\' escapes'),
    (0, b"S''\np0\n.", 'empty STRING'),
    (0, b"(lp0\nS'a'\np1\naI1\naI01\naI00\naL12345678901234567890L\naF1.5\naNa.",
     'list of str, int, I01/I00 bools, long with L, float, None'),
    (0, b"(dp0\nS'key'\np1\nVvalue\\u20ac\np2\ns.", 'dict with STRING key and UNICODE value'),
    (0, b"(dp0\nVk\xe9\np1\nI1\nsVb\np2\nI2\ns.", 'UNICODE with a raw latin-1 byte as key'),
    (0, b"(i__main__\nOldStyle\np0\n(dp1\nS'attr'\np2\nI1\nsb.",
     'INST of an old-style class, then BUILD'),
    (0, b"(S'arg'\np0\nI2\ni__main__\nWithArgs\np1\n(dp2\nb.",
     'INST with __getinitargs__ arguments'),
    (0, b"ccopy_reg\n_reconstructor\np0\n(c__main__\nNew\np1\nc__builtin__\nobject\np2\n"
        b"Ntp3\nRp4\n(dp5\nS'a'\np6\nI1\nsb.",
     'copy_reg._reconstructor of a new-style class with state'),
    (0, b"ccopy_reg\n_reconstructor\np0\n(c__main__\nMyList\np1\nc__builtin__\nlist\np2\n"
        b"(lp3\nI1\naI2\natp4\nRp5\n.",
     'copy_reg._reconstructor of a list subclass'),
    (0, b"c__builtin__\nset\np0\n((lp1\nI1\naI2\natp2\nRp3\n.", 'Python 2 set'),
    (0, b"c__builtin__\nfrozenset\np0\n((lp1\nS'x'\np2\natp3\nRp4\n.", 'Python 2 frozenset'),
    (0, b"c__builtin__\nunicode\np0\n.", '__builtin__.unicode (builtins.str)'),
    (0, b"c__builtin__\nxrange\np0\n(I0\nI5\nI1\ntp1\nRp2\n.", 'xrange(0, 5, 1)'),
    (0, b"cexceptions\nValueError\np0\n(S'msg'\np1\ntp2\nRp3\n.", 'exceptions.ValueError'),
    (0, b"c__builtin__\nlong\np0\n.", '__builtin__.long (builtins.int)'),
    (0, b"cUserDict\nUserDict\np0\n.", 'UserDict.UserDict (collections.UserDict)'),
    (0, b"cdatetime\ndatetime\np0\n(S'\\x07\\xd0\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00'\n"
        b"p1\ntp2\nRp3\n.", 'Python 2 datetime with a STRING state (needs latin1/bytes)'),
    (0, b"Pabc\np0\n.", 'PERSID'),
    (0, b"(lp0\nPid1\np1\naPid1\np2\na.", 'PERSID twice in a list'),
    (0, b"I01\n.", 'I01: True'), (0, b"I00\n.", 'I00: False'),
    (0, b"L5\n.", 'LONG without the L suffix'), (0, b"L-0L\n.", 'LONG -0L'),
    (0, b"F1.0000000000000001e+16\n.", 'FLOAT in Python 2 repr'),
    (0, b"Fnan\n.", 'FLOAT nan'), (0, b"F-inf\n.", 'FLOAT -inf'),
    (0, b"(lp0\n(lp1\nag1\nag0\na.", 'GET of the inner and the outer list'),
    (0, b"(tp0\n.", 'empty tuple from MARK TUPLE'), (0, b"(I1\nI2\ntp0\n.", 'MARK TUPLE'),
    (0, b"(dp0\nI1\n(dp1\nI2\ng0\nss.", 'dict containing a dict containing the first'),
    # ---- protocol 1 -------------------------------------------------------
    (1, b"]q\x00(U\x05helloq\x01T\x03\x00\x00\x00abcq\x02K\x01J\xff\xff\xff\xffe.",
     'SHORT_BINSTRING and BINSTRING in a list'),
    (1, b"U\x01\xe9.", 'SHORT_BINSTRING with a latin-1 byte'),
    (1, b"U\x02\xc3\xa9.", 'SHORT_BINSTRING with UTF-8 bytes'),
    (1, b"T\x00\x01\x00\x00" + bytes(range(256)) + b".", 'BINSTRING of 256 bytes'),
    (1, b"(c__main__\nOld\nq\x00oq\x01}q\x02U\x01xq\x03K\x01sb.", 'OBJ of an old-style class'),
    (1, b"(c__main__\nOld\nq\x00K\x01U\x01yq\x01oq\x02.", 'OBJ with arguments'),
    (1, b"]q\x00(I01\nI00\ne.", 'I01/I00 bools in a binary stream'),
    (1, b"X\x03\x00\x00\x00abcq\x00.", 'BINUNICODE'),
    (1, b"ccopy_reg\n_reconstructor\nq\x00(c__main__\nNew\nq\x01c__builtin__\nobject\nq\x02"
        b"Ntq\x03Rq\x04}q\x05U\x01aK\x01sb.", 'copy_reg._reconstructor at protocol 1'),
    (1, b"G?\xf8\x00\x00\x00\x00\x00\x00.", 'BINFLOAT 1.5'),
    (1, b"L12345678901234567890L\n.", 'LONG at protocol 1'),
    (1, b"(K\x01K\x02tq\x00.", 'MARK TUPLE at protocol 1'),
    (1, b"}q\x00(U\x01aK\x01U\x01bK\x02u.", 'SETITEMS with SHORT_BINSTRING keys'),
    # ---- protocol 2 -------------------------------------------------------
    (2, b"\x80\x02c__main__\nNew\nq\x00)\x81q\x01}q\x02U\x01aq\x03K\x01sb.",
     'NEWOBJ with a SHORT_BINSTRING attribute name'),
    (2, b"\x80\x02\x8a\x05\x00\x00\x00\x00\x01.", 'LONG1 long (2**32)'),
    (2, b"\x80\x02\x8a\x00.", 'LONG1 of zero bytes: 0L'),
    (2, b"\x80\x02\x88\x89\x86q\x00.", 'NEWTRUE NEWFALSE TUPLE2'),
    (2, b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.", 'set at protocol 2'),
    (2, b"\x80\x02U\x03abcq\x00.", 'SHORT_BINSTRING at protocol 2'),
    (2, b"\x80\x02c__builtin__\nbytearray\nq\x00X\x03\x00\x00\x00abcq\x01U\x07latin-1q\x02"
        b"\x86q\x03Rq\x04.", 'Python 2 bytearray: bytearray(u"abc", "latin-1")'),
    (2, b"\x80\x02cdatetime\ndate\nq\x00U\x04\x07\xd0\x02\x1dq\x01\x85q\x02Rq\x03.",
     'Python 2 date with a binary SHORT_BINSTRING state'),
    (2, b"\x80\x02cdatetime\ndatetime\nq\x00U\n" + _DT_STATE + b"q\x01\x85q\x02Rq\x03.",
     'Python 2 datetime at protocol 2'),
    (2, b"\x80\x02c__builtin__\nobject\nq\x00)\x81q\x01.", 'NEWOBJ of __builtin__.object'),
    (2, b"\x80\x02]q\x00(X\x01\x00\x00\x00aq\x01h\x01U\x01ae.",
     'unicode a, the same again, and str a'),
]

HANDWRITTEN_RARE = [
    (4, b"\x80\x04\x8d" + _u8(3) + b"abc.", 'BINUNICODE8'),
    (4, b"\x80\x04\x8d" + _u8(0) + b".", 'BINUNICODE8 empty'),
    (4, b"\x80\x04\x8e" + _u8(3) + b"abc.", 'BINBYTES8'),
    (4, b"\x80\x04\x8e" + _u8(1) + b"a\x8e" + _u8(1) + b"a\x86.", 'two BINBYTES8 of one byte'),
    (4, b"\x80\x04\x95" + _u8(15) + b"\x8d" + _u8(3) + b"xyz\x94.", 'BINUNICODE8 in a frame'),
    (2, b"\x80\x02]2a.", 'DUP then APPEND: a list containing itself'),
    (2, b"\x80\x02K\x012\x86.", 'DUP of an int: (1, 1)'),
    (0, b"(I1\n2t.", 'DUP inside a MARK'),
    (2, b"\x80\x02\x8b\x01\x00\x00\x00\x05.", 'LONG4 of one byte (non-minimal)'),
    (2, b"\x80\x02\x8a\x02\x05\x00.", 'LONG1 with a redundant zero byte'),
    (2, b"\x80\x02\x8a\x02\xff\xff.", 'LONG1 with a redundant 0xff byte (-1)'),
    (2, b"\x80\x02\x8b\x00\x00\x00\x00.", 'LONG4 of zero bytes'),
    (1, b"J\x01\x00\x00\x00.", 'BININT for a value that fits BININT1'),
    (1, b"M\x05\x00.", 'BININT2 for a value that fits BININT1'),
    (4, b"\x80\x04]q\x05h\x05\x86.", 'BINPUT/BINGET at protocol 4'),
    (4, b"\x80\x04\x95" + _u8(2) + b"N.", 'FRAME of 2 bytes (CPython frames only 4 or more)'),
    (4, b"\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00N\x95\x01\x00\x00\x00\x00\x00\x00\x00.",
     'two consecutive frames'),
    (4, b"\x80\x04\x8f(\x90.", 'EMPTY_SET then empty ADDITEMS'),
    (1, b"}(u.", 'empty SETITEMS'), (1, b"](e.", 'empty APPENDS'),
    (4, b"\x80\x04(\x91.", 'empty FROZENSET'),
    (1, b"G\x7f\xf0\x00\x00\x00\x00\x00\x01.", 'BINFLOAT signalling nan'),
    (0, b"V\xe9\n.", 'UNICODE with a raw latin-1 byte'),
    (0, b"V\\u20ac\\U0001f600\\ud800\n.", 'UNICODE escapes including a lone surrogate'),
    (2, b"\x80\x02K\x05Q.", 'BINPERSID with an int id'),
    (0, b"c\xc3\xa9\n\xc3\xa9\n.", 'GLOBAL with UTF-8 names'),
    (4, b"\x80\x04\x8c\x01m\x8c\x03a.b\x93.", 'STACK_GLOBAL with a dotted name'),
    (3, b"\x80\x03cbuiltins\nlen\n.", 'GLOBAL builtins at protocol 3 (no name mapping)'),
    (2, b"\x80\x02cbuiltins\nlen\n.", 'GLOBAL builtins at protocol 2 (no reverse mapping on load)'),
    (1, b"(K\x01K\x021K\x03.", 'POP_MARK discarding two items'),
    (0, b"I1\nI2\n0.", 'POP of an int'),
    (2, b"\x80\x02c__builtin__\nlist\n)R]\x86.", 'REDUCE list() next to a list'),
    (5, b"\x80\x05\x96" + _u8(3) + b"abc\x98.", 'READONLY_BUFFER applied to a BYTEARRAY8'),
    (5, b"\x80\x05\x96" + _u8(0) + b".", 'BYTEARRAY8 empty'),
    (4, b"\x80\x04\x8c\x05hello\x94h\x00\x86.", 'MEMOIZE then BINGET 0'),
    (4, b"\x80\x04\x8c\x01a\x8c\x01a\x86.", 'two SHORT_BINUNICODE of one char'),
    (3, b"\x80\x03C\x01aC\x01a\x86.", 'two SHORT_BINBYTES of one byte'),
    (3, b"\x80\x03C\x00C\x00\x86.", 'two empty SHORT_BINBYTES'),
    (4, b"\x80\x04\x8c\x00\x8c\x00\x86.", 'two empty SHORT_BINUNICODE'),
]
