#!/usr/bin/env python3
"""test_dis_diff.py - `brine dis FILE` against `python3 -m pickletools FILE`.

Builds a corpus of pickle streams -- what CPython 3.11 writes at protocols
0 to 5 for varied values, hand-written Python 2 streams, and malformed ones
(truncations at every byte, byte flips, unknown opcodes, memo and MARK
errors, "stack not empty after STOP") -- and compares, for every stream,
stdout byte for byte and whether the command succeeded. For streams
pickletools rejects, the partial output it printed before raising must
match too.

The reference is the pickletools command line run by this interpreter
(sys.executable -m pickletools). Starting it costs ~45 ms, so files are
given to it in batches: with several files it prints "==> NAME <==" before
each and makes the very same dis() call as for one file (fresh memo,
indentlevel 4, no annotations), stopping at the first file that raises;
the batch is then restarted after that file. A sample of streams is also
run one file per process and must give exactly what the batches gave.

Also checks the opcode table in src/dis.c against pickletools.opcodes.

Environment: BRINE_BIN (the brine executable; default build/brine),
BRINE_DIS_MORE=N multiplies the random parts of the corpus by N.
"""
import io
import os
import pickle
import pickletools
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SEED = 20240612
MORE = int(os.environ.get("BRINE_DIS_MORE", "1"))
JOBS = max(2, min(8, (os.cpu_count() or 2) * 2))


# ---------------------------------------------------------------------------
# Values CPython pickles (classes live in __main__, as pickles refer to them)
# ---------------------------------------------------------------------------

class Plain:
    def __init__(self, x=1):
        self.x = x


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self):
        self.a = 1
        self.b = "two"


class ReduceArgs:
    def __reduce__(self):
        return (ReduceArgs, ())


class ReduceState:
    def __reduce__(self):
        return (ReduceState, (1, "a"), {"k": [1, 2]})


class ReduceFull:
    def __reduce__(self):
        return (ReduceFull, (), None, iter([1, 2, 3]), iter([("a", 1), ("b", 2)]))


class ReduceString:
    def __reduce__(self):
        return "GLOBAL_INSTANCE"


GLOBAL_INSTANCE = ReduceString()


class ReduceEx:
    def __reduce_ex__(self, proto):
        return (ReduceEx, (proto,), None)


class NewArgsEx:
    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)

    def __getnewargs_ex__(self):
        return ((1, 2), {"key": "value"})


class NewArgs:
    def __new__(cls, *args):
        return object.__new__(cls)

    def __getnewargs__(self):
        return (3.5, None)


class StateObj:
    def __getstate__(self):
        return ("tuple", "state")

    def __setstate__(self, state):
        pass


class DictSub(dict):
    pass


class ListSub(list):
    pass


def values():
    ints = [0, 1, -1, 127, 128, 255, 256, -256, 65535, 65536, 2**31 - 1, -2**31, 2**31,
            -2**31 - 1, 2**32, 2**63 - 1, -2**63, 2**63, 2**64, -2**64, 10**20, 10**100,
            -10**100, 2**1000, -(2**1000) + 1, 10**4299, 10**4300 - 1, -(10**4300 - 1),
            2**2040 - 1, 2**2048]
    floats = [0.0, -0.0, 1.5, -2.25, 0.1, 1 / 3, 1e16, 1e17, 1e22, 1e-5, 1e-4, 1e300, 1e-300,
              5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, float("inf"),
              float("-inf"), float("nan"), 123456789.125]
    strs = ["", "a", "it's", 'say "hi"', "both ' and \"", "\\", "back\\slash'", "\n\t\r\x00\x7f",
            "\x1a\x0b\x0c", "caf\xe9", "\x85\xa0\xad\xff", "\u20ac\u2028\u0378\ue000\uffff",
            "\U0001f600\U0010ffff\U000e0001", "\ud800", "\udfff", "\ud83d\ude00", "a\ud800b",
            "x" * 300, "\u4e2d\u6587" * 50, "'" * 5 + '"' * 5, "mixed \U0001f600 ' \\ \x00",
            "\\u20ac literal", "nul\x00in\x00side"]
    byts = [b"", b"abc", b"'", b'"', b"'\"", b"\\", bytes(range(256)), b"\x00" * 300,
            b"x" * 70000]
    out = []
    out += ints + floats + strs + byts
    out += [bytearray(b""), bytearray(b"ab'c"), bytearray(range(256))]
    out += [None, True, False, (), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], [1], [1, "a"],
            {}, {"a": 1}, {1: 2, 3: 4, "x": [5]}, set(), {1, 2, 3}, frozenset(),
            frozenset({"a", "b"}), {frozenset({1}): (2,)}, complex(1, -2)]
    shared = [1, 2]
    out += [[shared, shared], (shared, shared, {"k": shared})]
    rec = []
    rec.append(rec)
    recd = {}
    recd["self"] = recd
    rect = ([],)
    rect[0].append(rect)
    out += [rec, recd, rect]
    deep = []
    cur = deep
    for _ in range(40):
        nxt = [len(cur)]
        cur.append(nxt)
        cur = nxt
    out += [deep, [[[(((i,),),)] for i in range(3)]]]
    out += [list(range(300)), [str(i) for i in range(300)], {str(i): i for i in range(40)}]
    out += [Plain(), Plain([1, 2]), Slotted(), ReduceArgs(), ReduceState(), ReduceFull(),
            GLOBAL_INSTANCE, ReduceEx(), NewArgsEx(), NewArgs(), StateObj(), DictSub(a=1),
            ListSub([1, 2]), [Plain(), Plain()], len, pickle.Pickler, Ellipsis, NotImplemented,
            type(None), int, ...]
    out += [{"ints": ints[:10], "floats": floats[:6], "strs": strs[:6], "bytes": byts[:4]}]
    return out


def cpython_pickles():
    streams = []
    for i, v in enumerate(values()):
        for proto in range(6):
            try:
                data = pickle.dumps(v, proto)
            except Exception:  # noqa: BLE001 - e.g. repr(int) over 4300 digits at 0/1
                continue
            streams.append(("val%03d_p%d" % (i, proto), data))
    # Python 2 names through fix_imports, and the pure-Python pickler.
    for proto in (0, 2):
        streams.append(("fiximp_p%d" % proto, pickle.dumps([range(3), set()], proto)))
        buf = io.BytesIO()
        pickle._Pickler(buf, proto).dump({"a": [1, 2.5, "s", b"b"]})
        streams.append(("pypickler_p%d" % proto, buf.getvalue()))
    # Protocol 5 buffers, in band and out of band, writable and read-only.
    for name, obj in (("pb_ro", pickle.PickleBuffer(b"read only")),
                      ("pb_rw", pickle.PickleBuffer(bytearray(b"writable"))),
                      ("pb_list", [pickle.PickleBuffer(b"a"), pickle.PickleBuffer(bytearray(b"b"))])):
        streams.append((name + "_inband", pickle.dumps(obj, 5)))
        streams.append((name + "_oob", pickle.dumps(obj, 5, buffer_callback=lambda b: None)))
    return streams


# ---------------------------------------------------------------------------
# Hand-written streams (Python 2 opcodes, pickletools' own corner cases)
# ---------------------------------------------------------------------------

def handwritten():
    h = []

    def add(name, data):
        h.append(("hw_" + name, data))

    # STRING: both quotes, escapes, a lone quote, quote and escape errors.
    add("str_sq", b"S'abc'\np0\n.")
    add("str_dq", b'S"abc"\n.')
    add("str_esc", b"S'a\\nb\\tc\\x41\\101\\\\d\\'e\\\"f\\q\\a\\b\\f\\v\\0'\n.")
    add("str_lone_sq", b"S'\n.")
    add("str_lone_dq", b'S"\n.')
    add("str_empty", b"S''\n.")
    add("str_noquote", b"Sabc\n.")
    add("str_nothing", b"S\n.")
    add("str_mismatch", b"S'abc\"\n.")
    add("str_cr", b"S'abc'\r\n.")
    add("str_high_escape", b"S'\\xff'\n.")
    add("str_high_octal", b"S'\\377'\n.")
    add("str_high_raw", b"S'\xe9'\n.")
    add("str_bad_x", b"S'\\x4'\n.")
    add("str_trailing_bs", b"S'abc\\'\n.")
    add("str_octal_wrap", b"S'\\777\\0\\12'\n.")  # \777 -> 0xff: not ASCII
    add("str_quotes_both", b"S'\\'\"'\n.")
    add("str_no_newline", b"S'abc'")
    # BINSTRING / SHORT_BINSTRING: latin-1, negative and short counts.
    add("binstring", b"T\x03\x00\x00\x00a'b.")
    add("binstring_neg", b"T\xff\xff\xff\xff.")
    add("binstring_short", b"T\x09\x00\x00\x00abc.")
    add("short_binstring", b"U\x05\xe9\xff\x85\xa0\xad.")
    add("short_binstring_short", b"U\x05ab")
    # INT, LONG: bools, signs, whitespace, underscores, errors, 4300 digits.
    for i, arg in enumerate([b"01", b"00", b"1", b"-0", b"+5", b" 7 ", b"1_000", b"007", b"000",
                             b"1\r", b"0x10", b"1L", b"", b"1__0", b"_1", b"1\x002", b"\xd9\xa0",
                             b"9" * 4300, b"9" * 4301, b"-" + b"9" * 4300, b"0" * 4301,
                             b"1" + b"_0" * 4299, b"99999999999999999999", b"01\r", b"00 ",
                             b"\x1c5", b"\x0b5\x0c", b"0_0", b"+_1", b"--1", b"1 2"]):
        add("int%02d" % i, b"I" + arg + b"\n.")
    for i, arg in enumerate([b"5L", b"-5L", b"L", b"", b"5LL", b"12345678901234567890123L",
                             b"5", b" 3L", b"3 L", b"9" * 4300 + b"L", b"9" * 4301 + b"L"]):
        add("long%02d" % i, b"L" + arg + b"\n.")
    # FLOAT: float() of bytes.
    for i, arg in enumerate([b"1.5", b"nan", b"-nan", b"inf", b"-Infinity", b"1e500", b"-1e-500",
                             b" 2.5 ", b"1_0.5", b"1__0", b"abc", b"", b"1.5L", b"0x10",
                             b"1.5\r", b"1.5\x00", b"4.9e-324", b"123456789012345678901234567890",
                             b"\x1c1.5", b"1.5\xa0", b"1e1_0", b".5_5", b"1_.5", b"+INFINITY",
                             b"nan(1)", b"-NaN", b"1e-400", b"0x1p3", b"1.", b".", b"e5"]):
        add("float%02d" % i, b"F" + arg + b"\n.")
    add("binfloat_nan", b"G\x7f\xf8\x00\x00\x00\x00\x00\x01.")
    add("binfloat_negnan", b"G\xff\xf8\x00\x00\x00\x00\x00\x00.")
    add("binfloat_short", b"G\x3f\xf0\x00.")
    # LONG1 / LONG4.
    add("long1_empty", b"\x80\x02\x8a\x00.")
    add("long1_m1", b"\x8a\x01\xff.")
    add("long1_pad", b"\x8a\x04\x01\x00\x00\x00.")
    add("long1_short", b"\x8a\x05\x01\x02.")
    add("long4_neg", b"\x8b\xff\xff\xff\xff.")
    add("long4_zero", b"\x8b\x00\x00\x00\x00.")
    add("long4_big", b"\x8b" + struct.pack("<i", 1796) + b"\xff" * 1795 + b"\x7f" + b".")
    add("long4_huge", b"\x8b" + struct.pack("<i", 2000) + b"\x01" * 2000 + b".")
    add("long4_padded", b"\x8b" + struct.pack("<i", 3000) + b"\x05" + b"\x00" * 2999 + b".")
    add("long4_negpadded", b"\x8b" + struct.pack("<i", 3000) + b"\xfb" + b"\xff" * 2999 + b".")
    # INST, OBJ, GLOBAL, PERSID, with escapes and errors in the names.
    add("inst", b"(i__main__\nPlain\n(dp0\nS'x'\np1\nI1\nsb.")
    add("inst_args", b"(I1\nS'a'\ni__main__\nReduceState\np0\n.")
    add("inst_nomark", b"i__main__\nPlain\n.")
    add("obj", b"(c__main__\nPlain\nq\x00o}b.")
    add("obj_args", b"(c__main__\nPlain\nK\x01K\x02o.")
    add("global_esc", b"c__main__\nPl\\x61in\n.")
    add("global_tab", b"cmod\\tx\nna\\'me\n.")
    add("global_high", b"c__main__\nPl\xe9in\n.")
    add("global_bad_escape", b"c__main__\nPlain\\\n.")
    add("global_one_line", b"c__main__\n")
    add("persid", b"Pabc\\n\n.")
    add("persid_esc_high", b"P\\xe9\n.")
    add("binpersid", b"K\x01Q.")
    # UNICODE (raw-unicode-escape).
    for i, arg in enumerate([b"abc", b"\\u20ac\\U0001f600", b"\\ud800", b"\\\\u20ac",
                             b"\xe9\xff", b"a\\", b"\\u12", b"\\U00110000", b"\\x41", b"'\"",
                             b"\\uD83D\\uDE00", b"\\U0000002", b"\r"]):
        add("unicode%02d" % i, b"V" + arg + b"\n.")
    # BINUNICODE family: surrogatepass, invalid UTF-8.
    add("binunicode_surr", b"X\x03\x00\x00\x00\xed\xa0\x80.")
    add("binunicode_bad", b"X\x02\x00\x00\x00\xc3\x28.")
    add("binunicode_overlong", b"X\x02\x00\x00\x00\xc0\x80.")
    add("short_binunicode", b"\x8c\x04\xf0\x9f\x98\x80.")
    add("binunicode8", b"\x8d\x02\x00\x00\x00\x00\x00\x00\x00hi.")
    add("binunicode_short", b"X\x10\x00\x00\x00abc.")
    # BINBYTES family and BYTEARRAY8 lengths.
    add("binbytes8_huge", b"\x8e" + struct.pack("<Q", 2**63) + b".")
    add("binbytes8_maxsize", b"\x8e" + struct.pack("<Q", 2**63 - 1) + b".")
    add("binbytes8_short", b"\x8e" + struct.pack("<Q", 10) + b"abc.")
    add("bytearray8", b"\x96" + struct.pack("<Q", 4) + b"a'\"b.")
    add("bytearray8_short", b"\x96\x03\x00")
    for i, arg in enumerate([b"'", b'"', b"'\\", b"\"'", b"\x00\xff\t'"]):
        add("bytearray8_%d" % i, b"\x96" + struct.pack("<Q", len(arg)) + arg + b".")
    add("binbytes_4g", b"B\xff\xff\xff\xffabc.")
    add("short_binbytes", b"C\x03\x00\xff\\.")
    # Small ints, EXT, PROTO and FRAME (values are not checked by pickletools).
    add("binints", b"J\xff\xff\xff\xff0J\x00\x00\x00\x800M\xff\xff0K\xff.")
    add("ext", b"\x82\x01\x83\xff\xff\x84\xff\xff\xff\xff\x84\x00\x00\x00\x80000.")
    add("proto_weird", b"\x80\xffN.")
    add("proto_6", b"\x80\x06N.")
    add("frame_weird", b"\x95\xff\xff\xff\xff\xff\xff\xff\xffN.")
    add("frame_short", b"\x95\x01\x00")
    add("uint2_short", b"M\x01")
    add("int4_short", b"J\x01\x02")
    add("uint1_missing", b"K")
    # Memo: PUT/GET keys as Python ints (bools, negatives, huge), collisions.
    add("put_bool", b"Np00\ng0\n0g00\n0.")
    add("put_bool_cr", b"Np01\r\ng1\n0g01\n0.")
    add("put_true", b"Np01\n0g1\n0N\x94.")
    add("put_neg", b"Np-1\ng-1\n0g -1 \n.")
    add("put_huge", b"Np" + b"9" * 4300 + b"\n0g" + b"9" * 4300 + b"\n.")
    add("put_huge_toomany", b"Np" + b"9" * 4301 + b"\n.")
    add("put_twice", b"Np0\nq\x00.")
    add("put_twice_long", b"Nr\x01\x00\x00\x00p1\n.")
    add("put_empty", b"p0\n.")
    add("put_mark", b"(p0\n.")
    add("binput_mark", b"N(q\x01.")
    add("memoize_mark", b"(\x94.")
    add("memoize_empty", b"\x94.")
    add("memoize_taken", b"Nq\x01N\x94N\x94.")
    add("memoize_twice", b"N\x94\x94.")
    add("memoize_gap", b"Nq\x05\x94\x94\x94\x94\x94\x94\x94h\x06h\x00.")
    add("get_missing", b"h\x00.")
    add("get_missing_text", b"g12\n.")
    add("get_bad", b"gx\n.")
    add("long_binget", b"Nr\x00\x00\x00\x80j\x00\x00\x00\x80.")
    add("memo_many", b"]" + b"".join(b"N\x94" for _ in range(70)) + b"0" * 70 + b"h\x45.")
    add("memo_many_put", b"N" + b"".join(b"p%d\n" % (i * 7919) for i in range(600)) +
        b"g4191151\n0.")
    # MARK handling: missing marks, POP of a mark, marks popped as items.
    add("list_nomark", b"l.")
    add("appends_nomark", b"]e.")
    add("tuple_nomark", b"N(Nt0t.")
    add("pop_mark", b"(0N.")
    add("pop_mark_deep", b"((N00N.")
    add("pop_mark_mark", b"N(1.")
    add("popmark_nomark", b"1.")
    add("mark_eaten_index", b"N(al.")
    add("mark_eaten_other", b"((Nall.")
    add("mark_eaten_pop", b"N(a(0l.")
    add("appends_below", b"(Ne.")
    add("setitems_nolist", b"(N.")
    add("additems", b"\x8f(K\x01K\x02\x90.")
    add("frozenset_mark", b"(K\x01\x91.")
    add("deep_marks", b"(" * 60 + b"t" * 60 + b".")
    add("deep_marks_unclosed", b"(" * 30 + b"N.")
    add("dup", b"N2.")
    add("dup_empty", b"2.")
    add("mark_then_dup", b"(2t.")
    # Stack checks.
    add("append_empty", b"a.")
    add("setitem_short", b"}N.s.")
    add("stop_empty", b".")
    add("stack_not_empty", b"NN.")
    add("stack_not_empty_mark", b"(N.")
    add("newobj_ex", b"\x80\x04c__main__\nPlain\n)}\x92.")
    add("stack_global", b"\x8c\x01a\x8c\x01b\x93.")
    add("readonly", b"\x97\x98.")
    add("reduce_build", b"c__main__\nPlain\n)RN}b.")
    # Stream ends and unknown opcodes.
    add("empty", b"")
    add("no_stop", b"N")
    add("unknown_ff", b"\xff")
    add("unknown_after", b"N\x00.")
    add("unknown_quote", b"N'.")
    add("unknown_99", b"\x80\x05\x99.")
    add("trailing", b"N.garbage\xff")
    add("two_pickles", b"N.N.")
    return h


# ---------------------------------------------------------------------------
# Malformed streams derived from valid ones
# ---------------------------------------------------------------------------

def mutations(valid, rng):
    out = []
    small = [(n, d) for n, d in valid if 8 <= len(d) <= 90]
    # Truncations at every byte of pickles that use many opcode kinds:
    # protocol 0 text (MARK, PUT, INT, UNICODE, FLOAT, LONG, ...) and
    # protocol 5 (FRAME, MEMOIZE, sets, STACK_GLOBAL, NEWOBJ, BUILD, ...).
    picks = [pickle.dumps([1, "a\u20ac", 2.5, None, (True,), {"k": 10**20}], 0),
             pickle.dumps({"s": {1, 2}, "o": Plain(), "f": frozenset([3])}, 5)]
    for extra in range(MORE - 1):
        picks.append(rng.choice(small)[1])
    for k, data in enumerate(picks):
        for cut in range(len(data)):
            out.append(("trunc%d_%03d" % (k, cut), data[:cut]))
    # Random byte flips, insertions and deletions.
    for k in range(100 * MORE):
        name, data = rng.choice(small)
        b = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            op = rng.random()
            at = rng.randrange(len(b))
            if op < 0.6:
                b[at] = rng.randrange(256)
            elif op < 0.8:
                b.insert(at, rng.choice(b"()0120.NaelstudgphjqrKJ\x94\x95\x80"))
            elif len(b) > 1:
                del b[at]
        out.append(("mut%03d_%s" % (k, name), bytes(b)))
    return out


# ---------------------------------------------------------------------------
# Running both sides
# ---------------------------------------------------------------------------

def reference_env():
    """The environment for pickletools: settings that change what it prints
    or whether it raises are reset to Python's defaults (the int repr digit
    limit; warnings, which -W error would turn into exceptions for escape
    sequences such as \\q in STRING; the stdout encoding)."""
    env = dict(os.environ)
    for var in ("PYTHONINTMAXSTRDIGITS", "PYTHONWARNINGS", "PYTHONDEVMODE", "PYTHONSTARTUP",
                "PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH"):
        env.pop(var, None)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


REF_ENV = reference_env()


def run_reference_batch(paths):
    """[(stdout, ok)] for paths, via as few pickletools processes as can be."""
    results = []
    start = 0
    while start < len(paths):
        batch = paths[start:start + 80]
        proc = subprocess.run([sys.executable, "-m", "pickletools"] + batch,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=REF_ENV)
        if len(batch) == 1:  # one file: no preamble
            results.append((proc.stdout, proc.returncode == 0))
            start += 1
            continue
        out = proc.stdout
        pos = 0
        done = 0
        for i, path in enumerate(batch):
            marker = ("==> %s <==\n" % path).encode()
            if not out.startswith(marker, pos):
                break
            body_start = pos + len(marker)
            nxt = None
            if i + 1 < len(batch):
                nxt_marker = ("\n==> %s <==\n" % batch[i + 1]).encode()
                j = out.find(nxt_marker, body_start - 1)
                nxt = j + 1 if j >= 0 else None
            if nxt is not None:
                results.append((out[body_start:nxt], True))
                pos = nxt
                done += 1
            else:
                # The last file this process reached: it raised, or it was
                # the last of the batch.
                last_ok = proc.returncode == 0 and i == len(batch) - 1
                results.append((out[body_start:], last_ok))
                done += 1
                break
        if done == 0:
            raise AssertionError("pickletools printed no preamble for %s: %r" %
                                 (batch[0], proc.stderr[-500:]))
        start += done
    return results


def run_brine(brine, path):
    proc = subprocess.run([brine, "dis", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not proc.stderr.startswith(b"error: ")):
        raise AssertionError("brine dis %s: exit %d, stderr %r" % (path, proc.returncode, proc.stderr))
    return proc.stdout, proc.returncode == 0


def check_optable():
    """The OP(...) lines of src/dis.c against pickletools.opcodes."""
    with open(os.path.join(ROOT, "src", "dis.c"), encoding="utf-8") as f:
        text = f.read()
    rows = re.findall(r'^\s*OP\((\'.\'|0x[0-9a-f]{2}), "(\w+)", (\w+), (\d), (\d), (-?\d), (\d), ([\w|]+)\),',
                      text, re.M)
    table = {}
    for code, name, _arg, proto, nb, mi, na, _flags in rows:
        c = ord(code[1]) if code.startswith("'") else int(code, 16)
        table[c] = (name, int(proto), int(nb), int(mi), int(na))
    want = {}
    for op in pickletools.opcodes:
        before, after = op.stack_before, op.stack_after
        mi = before.index(pickletools.markobject) if pickletools.markobject in before else -1
        na = len([x for x in after if x is not pickletools.markobject])
        want[ord(op.code)] = (op.name, op.proto, len(before), mi, na)
    bad = [(c, table.get(c), want.get(c)) for c in set(table) | set(want)
           if table.get(c) != want.get(c)]
    return bad


def main():
    t0 = time.time()
    brine = os.environ.get("BRINE_BIN") or os.path.join(ROOT, "build", "brine")
    if not os.path.exists(brine):
        sys.exit("brine executable not found: %s (set BRINE_BIN)" % brine)
    bad_table = check_optable()
    for row in bad_table:
        print("OPCODE TABLE MISMATCH: code %r: dis.c %r, pickletools %r" % row)

    rng = random.Random(SEED)
    valid = cpython_pickles()
    corpus = valid + handwritten() + mutations(valid, rng)
    names = set()
    for name, _ in corpus:
        assert name not in names, name
        names.add(name)

    with tempfile.TemporaryDirectory(prefix="brine_dis_") as tmp:
        paths = []
        for i, (name, data) in enumerate(corpus):
            path = os.path.join(tmp, "s%04d.pkl" % i)
            with open(path, "wb") as f:
                f.write(data)
            paths.append(path)

        shards = [paths[i::JOBS] for i in range(JOBS)]
        with ThreadPoolExecutor(JOBS) as ex:
            shard_results = list(ex.map(run_reference_batch, shards))
            got = list(ex.map(lambda p: run_brine(brine, p), paths))
        ref = [None] * len(paths)
        for s, res in enumerate(shard_results):
            for k, r in enumerate(res):
                ref[s + k * JOBS] = r

        # Single-file runs of a sample must agree with the batched ones.
        sample = sorted(rng.sample(range(len(paths)), min(24, len(paths))))
        with ThreadPoolExecutor(JOBS) as ex:
            singles = list(ex.map(lambda i: subprocess.run(
                [sys.executable, "-m", "pickletools", paths[i]], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=REF_ENV), sample))
        batch_mismatch = 0
        for i, proc in zip(sample, singles):
            if (proc.stdout, proc.returncode == 0) != ref[i]:
                batch_mismatch += 1
                print("BATCH/SINGLE DISAGREE on %s" % corpus[i][0])

        accepted = rejected = mism_acc = mism_rej = 0
        for (name, data), (rout, rok), (bout, bok) in zip(corpus, ref, got):
            if rok:
                accepted += 1
            else:
                rejected += 1
            if (rout, rok) != (bout, bok):
                if rok:
                    mism_acc += 1
                else:
                    mism_rej += 1
                if mism_acc + mism_rej <= 15:
                    print("MISMATCH %s (%d bytes) %r" % (name, len(data), data[:80]))
                    print("  pickletools ok=%s, brine ok=%s" % (rok, bok))
                    rl, bl = rout.splitlines(True), bout.splitlines(True)
                    for k in range(max(len(rl), len(bl))):
                        a = rl[k] if k < len(rl) else None
                        b = bl[k] if k < len(bl) else None
                        if a != b:
                            print("  line %d:\n    pickletools %r\n    brine       %r" %
                                  (k + 1, a and a[:300], b and b[:300]))
                            break

    print("test_dis_diff: %d streams compared (%d accepted by pickletools, %d rejected); "
          "mismatches: %d accepted, %d rejected; batch/single sample %d/%d agree; "
          "%.1f s" % (len(corpus), accepted, rejected, mism_acc, mism_rej,
                      len(sample) - batch_mismatch, len(sample), time.time() - t0))
    return 1 if (mism_acc or mism_rej or batch_mismatch or bad_table) else 0


if __name__ == "__main__":
    sys.exit(main())
