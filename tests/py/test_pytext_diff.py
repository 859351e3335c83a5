#!/usr/bin/env python3
"""test_pytext_diff.py - src/pytext*.c against CPython on generated inputs.

Each decoder is compared with what CPython 3.11 does where the unpickler
calls it: pickle.loads of BINUNICODE, GLOBAL, UNICODE, STRING and BINSTRING
opcodes (falling back to the codecs function for inputs that cannot sit in
a line), pickle.dumps(s, 0) for the protocol 0 encoder, str.encode for
latin-1, and a reference implementation of docs/canonical.md's escapes.
Outputs, exception classes (as brine codes) and error positions must
match. The C side is tests/unit/test_pytext_vectors.c in "serve" mode
(found through BRINE_BUILD_DIR, or the path given as the first argument).

The module also provides the Runner used by test_pyrepr_diff.py.
"""
import codecs
import io
import os
import pickle
import random
import re
import struct
import subprocess
import sys
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

OP = dict(UTF8_CHECK=1, UTF8_CHECK_STRICT=2, RAW_UNICODE_ESCAPE_DECODE=3,
          BYTES_DECODE_ESCAPE=4, DECODE=5, ENCODING_SUPPORTED=6, LATIN1_ENCODE=7,
          RAW_UNICODE_ESCAPE_ENCODE=8, CANON_ESCAPE_STR=9, CANON_ESCAPE_BYTES=10,
          CANON_UNESCAPE_STR=11, CANON_UNESCAPE_BYTES=12, REPR_STR=13, REPR_BYTES=14,
          REPR_EACH_CP=15, ISPRINTABLE=16)
UNSET = 2**64 - 1
RUNNER_CODES = {1000: "OVERRUN(wrote past the documented bound)", 1001: "BAD_OP"}


def brine_codes():
    """brine_code names by value, read from include/brine.h."""
    with open(os.path.join(ROOT, "include", "brine.h"), encoding="utf-8") as f:
        text = f.read()
    body = re.search(r"typedef enum brine_code \{(.*?)\} brine_code;", text, re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    names = re.findall(r"\b(BRINE_[A-Z0-9_]+)\b", body)
    assert names[0] == "BRINE_OK" and names[-1] == "BRINE_E__COUNT", names[:2]
    assert "=" not in body.replace("BRINE_OK = 0", ""), "explicit enum values not handled"
    return {v: k for v, k in enumerate(names)}


def helper_path():
    if len(sys.argv) > 1:
        return sys.argv[1]
    build = os.environ.get("BRINE_BUILD_DIR")
    if not build:
        sys.exit("BRINE_BUILD_DIR is not set and no helper path was given")
    for name in ("test_pytext_vectors", "test_pytext_vectors.exe"):
        path = os.path.join(build, name)
        if os.path.exists(path):
            return path
    sys.exit("helper test_pytext_vectors not found in %s" % build)


def u32(n):
    return struct.pack("<I", n)


class Runner:
    """Batches requests to the C helper and compares the answers.

    expect is (code name, pos, aux, out); None in pos, aux or out means
    "not compared" (out is only compared on success)."""

    def __init__(self, helper):
        self.helper = helper
        self.codes = brine_codes()
        self.reqs = []
        self.cases = []
        self.failures = 0
        self.compared = 0
        self.by_label = {}
        self.by_outcome = {}

    def add(self, label, op, data, expect, a=b"", b=b""):
        self.reqs.append(bytes([OP[op]]) + u32(len(a)) + a + u32(len(b)) + b
                         + u32(len(data)) + data)
        self.cases.append((label, op, a, b, data, expect))

    def run(self):
        blob = b"".join(self.reqs)
        proc = subprocess.run([self.helper, "serve"], input=blob, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            print(proc.stderr.decode(errors="replace"))
            raise SystemExit("helper exited with %d" % proc.returncode)
        out = proc.stdout
        at = 0
        for label, op, a, b, data, expect in self.cases:
            code, pos, aux, n = struct.unpack_from("<IQQI", out, at)
            at += 24
            got_out = out[at:at + n]
            at += n
            name = self.codes.get(code) or RUNNER_CODES.get(code, "code %d" % code)
            got = (name, None if pos == UNSET else pos, aux, got_out)
            self.check(label, op, a, b, data, expect, got)
        if at != len(out):
            self.fail("protocol", "trailing %d bytes in helper output" % (len(out) - at))
        self.reqs, self.cases = [], []

    def check(self, label, op, a, b, data, expect, got):
        self.compared += 1
        self.by_label[label] = self.by_label.get(label, 0) + 1
        ecode, epos, eaux, eout = expect
        key = (label, ecode)
        self.by_outcome[key] = self.by_outcome.get(key, 0) + 1
        ok = got[0] == ecode
        if ok and epos is not None:
            ok = got[1] == epos
        if ok and eaux is not None:
            ok = got[2] == eaux
        if ok and ecode == "BRINE_OK" and eout is not None:
            ok = got[3] == eout
        if not ok and op == "REPR_EACH_CP" and got[0] == ecode:
            # Name the first code point whose repr differs.
            chars = data.decode("utf-8", "surrogatepass")
            for ch, w, g in zip(chars, eout.split(b"\n"), got[3].split(b"\n")):
                if w != g:
                    self.fail(label, "repr(chr(0x%x)): want %r, got %r" % (ord(ch), w, g))
                    return
        if not ok:
            self.fail(label, "%s a=%r b=%r data=%r\n    want %r\n    got  %r"
                      % (op, a, b, data[:200], expect, got))

    def fail(self, label, msg):
        self.failures += 1
        if self.failures <= 25:
            print("FAIL [%s] %s" % (label, msg))

    def summary(self, name, started):
        for label in sorted(self.by_label):
            outcomes = ", ".join("%s %d" % (code.replace("BRINE_E_", "").replace("BRINE_", ""), k)
                                 for (lab, code), k in sorted(self.by_outcome.items())
                                 if lab == label)
            print("  %-26s %7d  (%s)" % (label, self.by_label[label], outcomes))
        print("%s: %d vectors compared, %d failures, %.1f s"
              % (name, self.compared, self.failures, time.time() - started))
        return 1 if self.failures else 0


# ---------------------------------------------------------------------------
# CPython oracles
# ---------------------------------------------------------------------------

def wtf8(s):
    return s.encode("utf-8", "surrogatepass")


def outcome(fn):
    """Runs fn; returns ("ok", value) or (exception class name, exception)."""
    try:
        return "ok", fn()
    except Exception as e:  # noqa: BLE001 - every class is a result here
        return type(e).__name__, e


def expect_utf8_check(d):
    # BINUNICODE: PyUnicode_DecodeUTF8(s, n, "surrogatepass").
    kind, v = outcome(lambda: pickle.loads(b"X" + u32(len(d)) + d + b"."))
    if kind == "ok":
        assert wtf8(v) == d
        return ("BRINE_OK", None, len(v), b"")
    assert kind == "UnicodeDecodeError", (kind, v)
    return ("BRINE_E_UNICODE_DECODE", v.start, None, None)


class _Names(pickle.Unpickler):
    def find_class(self, module, name):
        return module, name


def expect_utf8_strict(d):
    # GLOBAL names: PyUnicode_DecodeUTF8(s, n, "strict"); a name cannot
    # hold a newline or be empty, so those go to bytes.decode directly.
    if d and b"\n" not in d:
        kind, v = outcome(lambda: _Names(io.BytesIO(b"c" + d + b"\nx\n."),
                                         fix_imports=False).load())
    else:
        kind, v = outcome(lambda: (d.decode("utf-8"), "x"))
    if kind == "ok":
        return ("BRINE_OK", None, None, None)
    assert kind == "UnicodeDecodeError", (kind, v)
    return ("BRINE_E_UNICODE_DECODE", v.start, None, None)


def expect_raw_unicode_escape(d):
    # UNICODE: PyUnicode_DecodeRawUnicodeEscape of the line.
    if b"\n" not in d:
        kind, v = outcome(lambda: pickle.loads(b"V" + d + b"\n."))
    else:
        kind, v = outcome(lambda: codecs.raw_unicode_escape_decode(d)[0])
    if kind == "ok":
        return ("BRINE_OK", None, len(v), wtf8(v))  # aux: the code point count
    assert kind == "UnicodeDecodeError", (kind, v)
    return ("BRINE_E_UNICODE_DECODE", v.start, None, None)


def expect_bytes_escape(d):
    # STRING with encoding="bytes": PyBytes_DecodeEscape between the quotes.
    if b"\n" not in d:
        kind, v = outcome(lambda: pickle.loads(b"S'" + d + b"'\n.", encoding="bytes"))
    else:
        kind, v = outcome(lambda: codecs.escape_decode(d)[0])
    if kind == "ok":
        return ("BRINE_OK", None, None, v)
    assert kind == "ValueError", (kind, v)
    m = re.fullmatch(r"invalid \\x escape at position (\d+)", str(v))
    if m:
        return ("BRINE_E_ESCAPE", int(m.group(1)), None, None)
    assert str(v) == "Trailing \\ in string", v
    return ("BRINE_E_ESCAPE", len(d) - 1, None, None)


SUPPORTED_CODECS = {"ascii", "iso8859-1", "utf-8"}


def codec_supported(name):
    try:
        return codecs.lookup(name).name in SUPPORTED_CODECS
    except LookupError:
        return False


class Tally:
    def __init__(self):
        self.limitation = 0   # Python has the codec, brine does not
        self.typeerror = 0    # xmlcharrefreplace/namereplace: TypeError in CPython
        self.names_supported = 0
        self.string_same = 0      # STRING and BINSTRING agreed in CPython


def expect_decode(enc, err, d, tally):
    # BINSTRING: PyUnicode_Decode(s, n, encoding, errors).
    kind, v = outcome(lambda: pickle.loads(b"T" + u32(len(d)) + d + b".",
                                           encoding=enc, errors=err))
    if not any(c in d for c in b"\n\\'"):
        # STRING goes through PyUnicode_FromEncodedObject instead; it must
        # behave the same (including '' for empty input).
        kind2, v2 = outcome(lambda: pickle.loads(b"S'" + d + b"'\n.", encoding=enc, errors=err))
        assert kind2 == kind and (kind != "ok" or v2 == v), (enc, err, d, kind, kind2)
        tally.string_same += 1
    if d and not codec_supported(enc):
        if kind != "LookupError" or "error handler" in str(v):
            tally.limitation += 1
        return ("BRINE_E_UNKNOWN_ENCODING", None, None, None)
    if kind == "ok":
        return ("BRINE_OK", None, None, wtf8(v))
    if kind == "UnicodeDecodeError":
        return ("BRINE_E_UNICODE_DECODE", v.start, None, None)
    if kind == "LookupError":
        assert "unknown error handler name" in str(v), v
        return ("BRINE_E_UNKNOWN_ERRORS", None, None, None)
    assert kind == "TypeError" and "don't know how to handle UnicodeDecodeError" in str(v), v
    tally.typeerror += 1
    return ("BRINE_E_HANDLER_TYPE", None, None, None)


def expect_latin1(s):
    kind, v = outcome(lambda: s.encode("latin-1"))
    kind2, v2 = outcome(lambda: codecs.encode(s, "latin1"))  # the fold calls _codecs.encode
    assert kind == kind2 and (kind != "ok" or v == v2)
    if kind == "ok":
        return ("BRINE_OK", None, None, v)
    assert kind == "UnicodeEncodeError", kind
    return ("BRINE_E_UNICODE_ENCODE", None, None, None)


def expect_raw_unicode_escape_encode(s):
    p = pickle.dumps(s, 0)
    assert p[:1] == b"V", p
    return ("BRINE_OK", None, None, p[1:p.index(b"\n")])


# docs/canonical.md, "Escapes", written out independently of the C code.
NAMED = {"\\": "\\\\", "'": "\\'", "\t": "\\t", "\n": "\\n", "\r": "\\r"}


def canon_str(s):
    out = []
    for ch in s:
        c = ord(ch)
        if ch in NAMED:
            out.append(NAMED[ch])
        elif 0x20 <= c <= 0x7E:
            out.append(ch)
        elif c < 0x100:
            out.append("\\x%02x" % c)
        elif c < 0x10000:
            out.append("\\u%04x" % c)
        else:
            out.append("\\U%08x" % c)
    return "".join(out)


def canon_bytes(b):
    return canon_str(b.decode("latin-1"))


_LIBERAL = re.compile(r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}|\\U[0-9a-fA-F]{8}|\\.|[^\\']", re.S)


def expect_canon_unescape(text, is_str):
    """Strict reading: accept a body exactly when printing what it denotes
    gives it back."""
    t = text.decode("latin-1")
    pos = 0
    vals = []
    while pos < len(t) and t[pos] != "'":
        m = _LIBERAL.match(t, pos)
        if not m:
            break
        tok = m.group(0)
        if tok[0] == "\\" and tok[1] in "xuU" and len(tok) > 2:
            c = int(tok[2:], 16)
            if c > 0x10FFFF or (not is_str and tok[1] != "x"):
                break
            val = chr(c)
        elif tok[0] == "\\":
            val = {"\\": "\\", "'": "'", "t": "\t", "n": "\n", "r": "\r"}.get(tok[1])
            if val is None:
                break
        else:
            val = tok
        printed = canon_str(val)
        if printed != tok:
            break
        vals.append(val)
        pos = m.end()
    if pos < len(t) and t[pos] == "'":
        s = "".join(vals)
        out = wtf8(s) if is_str else s.encode("latin-1")
        return ("BRINE_OK", None, pos, out)
    return ("BRINE_E_SYNTAX", pos, None, None)


# ---------------------------------------------------------------------------
# input generators
# ---------------------------------------------------------------------------

HEX = b"0123456789abcdefABCDEF"


def utf8_piece(rng):
    k = rng.randrange(14)
    if k == 0:
        return bytes([rng.randrange(0x80)])
    if k == 1:
        return chr(rng.randrange(0x80, 0x800)).encode()
    if k == 2:
        c = rng.randrange(0x800, 0x10000)
        return chr(c).encode("utf-8", "surrogatepass")
    if k == 3:
        return chr(rng.randrange(0x10000, 0x110000)).encode()
    if k == 4:  # encoded surrogate
        return chr(rng.randrange(0xD800, 0xE000)).encode("utf-8", "surrogatepass")
    if k == 5:  # overlong forms
        c = rng.choice([0, 0x2F, 0x7F, 0x80, 0x7FF, 0xFFFF, rng.randrange(0x800)])
        return rng.choice([
            bytes([0xC0 | (c >> 6) & 0x1F, 0x80 | c & 0x3F]),
            bytes([0xE0, 0x80 | (c >> 6) & 0x1F, 0x80 | c & 0x3F]),
            bytes([0xF0, 0x80 | (c >> 12) & 0x0F, 0x80 | (c >> 6) & 0x3F, 0x80 | c & 0x3F]),
        ])
    if k == 6:  # above U+10FFFF
        c = rng.randrange(0x110000, 0x200000)
        return bytes([0xF0 | c >> 18, 0x80 | (c >> 12) & 0x3F, 0x80 | (c >> 6) & 0x3F,
                      0x80 | c & 0x3F])
    if k == 7:  # truncated sequence
        full = utf8_piece_multibyte(rng)
        return full[:rng.randrange(1, len(full))]
    if k == 8:
        return bytes([rng.randrange(0x80, 0xC0)])
    if k == 9:
        return bytes([rng.choice([0xC0, 0xC1, 0xF5, 0xF7, 0xF8, 0xFB, 0xFC, 0xFE, 0xFF])])
    if k == 10:
        return bytes([rng.randrange(256)])
    if k == 11:  # one byte of a valid sequence replaced
        full = bytearray(utf8_piece_multibyte(rng))
        full[rng.randrange(1, len(full))] = rng.choice([0x41, 0x00, 0xC3, 0xE0, 0xF0, 0xFF, 0x7F])
        return bytes(full)
    if k == 12:  # lead bytes at the edges of their ranges
        lead = rng.choice([0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4])
        return bytes([lead] + [rng.choice([0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0])
                               for _ in range(rng.randrange(1, 4))])
    return rng.choice([b"\\", b"'", b'"', b"\n", b"\r", b"\x00", b"\x1a", b"\x7f"])


def utf8_piece_multibyte(rng):
    c = rng.choice([rng.randrange(0x80, 0x800), rng.randrange(0x800, 0x10000),
                    rng.randrange(0x10000, 0x110000), rng.randrange(0xD800, 0xE000)])
    return chr(c).encode("utf-8", "surrogatepass")


def utf8_valid_piece(rng):
    return wtf8(random_str(rng, 1)) or b"a"


def utf8_input(rng, pieces):
    if rng.random() < 0.4:  # mostly valid, so later positions are reached
        d = b"".join(utf8_valid_piece(rng) for _ in range(rng.randrange(pieces + 1)))
        if rng.random() < 0.5:
            i = rng.randrange(len(d) + 1)
            d = d[:i] + utf8_piece(rng) + d[i:]
        return d
    d = b"".join(utf8_piece(rng) for _ in range(rng.randrange(pieces + 1)))
    if rng.random() < 0.3:  # end inside a sequence
        full = utf8_piece_multibyte(rng)
        d += full[:rng.randrange(1, len(full))]
    return d


def escape_piece(rng):
    k = rng.randrange(11)
    if k == 0:
        return b"\\" + bytes([rng.choice(b"\\'\"abfnrtv\n\r01234567xuUNq89 \x00\x7f\x80\xff")])
    if k == 1:
        return b"\\x" + bytes(rng.choice(HEX) for _ in range(rng.randrange(3)))
    if k == 2:
        return b"\\x" + bytes([rng.choice(HEX), rng.choice(b"gG xX\\")])
    if k == 3:
        return b"\\u" + bytes(rng.choice(HEX) for _ in range(rng.randrange(5)))
    if k == 4:
        return b"\\U" + bytes(rng.choice(HEX) for _ in range(rng.randrange(9)))
    if k == 5:
        return b"\\U" + rng.choice([b"0010ffff", b"00110000", b"ffffffff", b"0000d800",
                                   b"0001F600", b"10000000", b"0010FFFF", b"000000"])
    if k == 6:  # octal, also above 0o377
        return b"\\" + bytes(rng.choice(b"01234567") for _ in range(rng.randrange(1, 4))) + \
            bytes([rng.choice(b"0789a")])
    if k == 7:
        return b"\\" * rng.randrange(1, 6) + rng.choice([b"u", b"U", b"x"]) + \
            bytes(rng.choice(HEX) for _ in range(rng.randrange(9)))
    if k == 8:
        return bytes([rng.randrange(256)])
    if k == 9:
        return rng.choice([b"a", b"u", b"x", b"'", b'"', b"\xe9", b"0", b"7"])
    return b"\\u" + rng.choice([b"d800", b"DFFF", b"00e9", b"0041", b"005c", b"000a"])


def escape_input(rng, pieces, decode=None):
    """Random escapes; with `decode`, only pieces that decode on their own,
    so that most of the input is reached before any error."""
    if decode is not None:
        out = []
        for _ in range(rng.randrange(pieces + 1)):
            p = escape_piece(rng)
            try:
                decode(p)
            except (UnicodeDecodeError, ValueError):
                continue
            out.append(p)
        d = b"".join(out)
        if rng.random() < 0.3:
            i = rng.randrange(len(d) + 1)
            d = d[:i] + escape_piece(rng) + d[i:]
        return d
    d = b"".join(escape_piece(rng) for _ in range(rng.randrange(pieces + 1)))
    if rng.random() < 0.15:
        d += b"\\"
    return d


def random_str(rng, maxlen):
    out = []
    for _ in range(rng.randrange(maxlen + 1)):
        k = rng.randrange(8)
        if k == 0:
            c = rng.randrange(0x80)
        elif k == 1:
            c = rng.randrange(0x80, 0x100)
        elif k == 2:
            c = rng.randrange(0xD800, 0xE000)
        elif k == 3:
            c = rng.randrange(0x100, 0x10000)
        elif k == 4:
            c = rng.randrange(0x10000, 0x110000)
        elif k == 5:
            c = ord(rng.choice("\\'\"\t\n\r\x00\x1a\x7f"))
        elif k == 6:
            c = rng.choice([0xA0, 0xAD, 0x85, 0x2028, 0x3000, 0xFEFF, 0xFFFD, 0xE000, 0x10FFFF])
        else:
            c = rng.randrange(0x110000)
        out.append(chr(c))
    return "".join(out)


def name_variants(rng, name):
    """Spellings of an encoding name that Python may or may not accept."""
    out = {name, name.upper(), name.replace("_", "-"), name.replace("_", " "),
           name.replace("_", ""), name.replace("_", "."), name.replace(".", "_"),
           " " + name + " ", "-" + name, name + "-", name + ".", "." + name,
           name.replace("_", "__"), name.replace("_", " - ")}
    seps = ["", " ", "-", "_", ".", ":", "/", "  ", "\u00e9", "\t", "-_-", "+", "\u20ac"]
    for _ in range(6):
        chars = []
        for ch in name:
            if ch in "_.-":
                chars.append(rng.choice(seps))
            else:
                chars.append(ch.upper() if rng.random() < 0.4 else ch)
            if rng.random() < 0.05:
                chars.append(rng.choice(seps))
        v = "".join(chars)
        if rng.random() < 0.2:
            v = rng.choice(seps) + v + rng.choice(seps)
        out.add(v)
    return out


# ---------------------------------------------------------------------------
# the tests
# ---------------------------------------------------------------------------

def add_utf8(r, rng):
    inputs = [bytes([a]) for a in range(256)]
    inputs += [bytes([a, b]) for a in range(256) for b in range(256)]
    thirds = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF]
    for lead in (0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5):
        for b in range(256):
            inputs += [bytes([lead, b, c]) for c in thirds]
            inputs += [bytes([lead, b, c, 0x80]) for c in (0x80, 0xBF, 0x41)]
    inputs += [b"ab" + bytes([lead]) for lead in range(0xC0, 0x100)]
    inputs += [utf8_input(rng, 12) for _ in range(20000)]
    for d in inputs:
        r.add("utf8_check", "UTF8_CHECK", d, expect_utf8_check(d))
    for d in inputs[::3]:
        r.add("utf8_check_strict", "UTF8_CHECK_STRICT", d, expect_utf8_strict(d))


def add_escapes(r, rng):
    fixed = [b"", b"\\", b"a\\", b"\\\\", b"\\\\\\", b"\\x", b"\\x4", b"\\x41", b"\\xg1",
             b"\\777", b"\\400", b"\\0", b"\\08", b"\\q", b"\\\n", b"\\u", b"\\u123",
             b"\\u1234", b"\\U0010ffff", b"\\U00110000", b"\\Uffffffff", b"\\\\u1234",
             b"\\\\\\u1234", b"\\ud800\\udc00", b"\xff\\u00e9"]
    inputs = fixed + [escape_input(rng, 8) for _ in range(12000)]
    inputs += [escape_input(rng, 12, codecs.escape_decode) for _ in range(5000)]
    inputs += [escape_input(rng, 12, codecs.raw_unicode_escape_decode) for _ in range(5000)]
    # Runs of plain ASCII (read 8 bytes at a time) between the pieces,
    # Latin-1 bytes (UTF-8 pairs) among them.
    plain = b"abcdefghijklmnopqrstuvwxyz0123456789 -_.,:;!?"
    for _ in range(4000):
        d = b""
        for _ in range(rng.randrange(1, 6)):
            run = bytes(rng.choice(plain) for _ in range(rng.randrange(20)))
            if rng.random() < 0.4:
                run += bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randrange(1, 4)))
            d += run + (escape_piece(rng) if rng.random() < 0.5 else b"")
        inputs.append(d)
    for d in inputs:
        r.add("raw_unicode_escape_decode", "RAW_UNICODE_ESCAPE_DECODE", d,
              expect_raw_unicode_escape(d))
        r.add("bytes_decode_escape", "BYTES_DECODE_ESCAPE", d, expect_bytes_escape(d))


ENCODINGS = ["ascii", "ASCII", "us-ascii", "646", "latin-1", "latin_1", "Latin-1", "iso8859-1",
             "L1", "utf-8", "UTF8", "utf_8", " utf-8 ", "u8", "cp65001", "utf8_ucs4",
             "utf-8-sig", "cp1252", "utf-16", "hex", "bogus", "", "bytes_", "Bytes", "utf.8",
             "latin.1", "us.ascii"]
ERRORS = ["strict", "ignore", "replace", "surrogateescape", "backslashreplace", "surrogatepass",
          "xmlcharrefreplace", "namereplace", "Strict", "bogus", "", "strict ", "REPLACE"]


def add_decode(r, rng, tally):
    datas = [b"", b"a", b"\x80", b"\xe9", b"\xff", b"abc\xed\xa0\x80", b"\xed\xa0", b"\xed",
             b"\xe1\x80", b"\xf0\x9f\x98", b"\xf4\x90\x80\x80", b"\xc0\x80", b"\xe0\x80\x80",
             b"\xed\xa0\x80\xed\xb0\x80", b"x\xed\xa0\x41", b"\xed\xbf\xbf"]
    datas += [utf8_input(rng, 6) for _ in range(120)]
    datas += [bytes(rng.randrange(256) for _ in range(rng.randrange(12))) for _ in range(30)]
    for enc in ENCODINGS:
        for err in ERRORS:
            for d in datas:
                r.add("decode", "DECODE", d, expect_decode(enc, err, d, tally),
                      enc.encode(), err.encode())


def add_encoding_names(r, rng, tally):
    import encodings.aliases
    names = set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
    names |= {"ascii", "latin_1", "utf_8", "", " ", "-", ".", "..", "_", "utf", "utf_",
              "utf_16", "utf_32", "utf16", "utf32", "mbcs", "aliases", "normalize_encoding",
              "iso_8859_1_1987_", "ansi_x3_4_1986", "ISO_8859-1:1987", "iso-ir-100",
              "us..ascii", "us._ascii", "u.8", "l.1", "latin1\u00e9", "\u00e9latin1"}
    ours = [k for k, v in encodings.aliases.aliases.items() if v in ("ascii", "latin_1", "utf_8")]
    ours += ["ascii", "latin_1", "utf_8", "iso_8859_1", "us_ascii", "utf8"]
    for name in ours:
        names |= name_variants(rng, name)
    for name in sorted(names):
        if "\x00" in name:
            continue
        want = int(codec_supported(name))
        tally.names_supported += want
        r.add("encoding_supported", "ENCODING_SUPPORTED", b"", ("BRINE_OK", None, want, None),
              name.encode())
        for d, err in ((b"a\xe9", "strict"), (b"\xff\xfe", "replace"), (b"", "strict")):
            r.add("decode_names", "DECODE", d, expect_decode(name, err, d, tally),
                  name.encode(), err.encode())
    return len(names)


def add_encoders(r, rng):
    strs = ["", "a", "\\", "\x00\n\r\x1a", "\x7f\x80\xff", "\u0100", "\U0001f600", "\ud800",
            "\udfff\ud800", "\U0010ffff", "a'b\"c", "\t"]
    strs += [random_str(rng, 24) for _ in range(12000)]
    strs += ["".join(chr(rng.randrange(0x100)) for _ in range(rng.randrange(24)))
             for _ in range(3000)]
    strs += [s + chr(rng.randrange(0x100, 0x110000)) for s in strs[-500:]]
    # ASCII runs of 8 and more (copied a word at a time) around Latin-1.
    strs += ["".join(chr(rng.randrange(0x80)) * rng.randrange(12) +
                     chr(rng.randrange(0x80, 0x100)) * rng.randrange(3)
                     for _ in range(rng.randrange(1, 5))) for _ in range(3000)]
    strs += [s + chr(rng.randrange(0x100, 0x110000)) + "abcdefghij" for s in strs[-300:]]
    for s in strs:
        d = wtf8(s)
        r.add("latin1_encode", "LATIN1_ENCODE", d, expect_latin1(s))
        r.add("raw_unicode_escape_encode", "RAW_UNICODE_ESCAPE_ENCODE", d,
              expect_raw_unicode_escape_encode(s))
        r.add("canon_escape_str", "CANON_ESCAPE_STR", d,
              ("BRINE_OK", None, None, canon_str(s).encode("ascii")))
    for _ in range(8000):
        b = bytes(rng.randrange(256) for _ in range(rng.randrange(24)))
        r.add("canon_escape_bytes", "CANON_ESCAPE_BYTES", b,
              ("BRINE_OK", None, None, canon_bytes(b).encode("ascii")))


def canon_text_mutant(rng, is_str):
    """A printed literal body, possibly damaged, then a quote and a tail."""
    if is_str:
        body = canon_str(random_str(rng, 10))
    else:
        body = canon_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(10))))
    t = bytearray(body.encode("ascii"))
    for _ in range(rng.randrange(3)):
        if not t or rng.random() < 0.3:
            t[len(t):] = rng.choice([b"\\x41", b"\\x09", b"\\xAB", b"\\u00e9", b"\\u0100",
                                     b"\\U00010000", b"\\U0000ffff", b"\\U00110000", b"\\q",
                                     b"\\", b"\\x0", b"\\u12", b"\t", b"\xe9", b"\\'", b'"',
                                     b"\\x7f", b"\\xff", b"\\ud800", b"\\N"])
        else:
            i = rng.randrange(len(t))
            op = rng.randrange(4)
            if op == 0:
                t[i] = rng.choice(b"\\'xuU0aAfF9\x00\x7f")
            elif op == 1:
                del t[i]
            elif op == 2:
                t[i:i] = bytes([rng.choice(b"\\'xuU0aAfF9 \x80")])
            else:
                t[i] = t[i] ^ 0x20
    tail = rng.choice([b"'", b"'rest", b"", b"' , b'x'", b"''"])
    return bytes(t) + tail


def add_canon_unescape(r, rng):
    for is_str, op, label in ((True, "CANON_UNESCAPE_STR", "canon_unescape_str"),
                              (False, "CANON_UNESCAPE_BYTES", "canon_unescape_bytes")):
        texts = [b"'", b"", b"\\'", b"\\''", b"abc'", b"\\", b"\\x4", b"\\x41'", b"\\xe9'",
                 b"\\u00e9'", b"\\u0100'", b"\\U0010ffff'", b"\\U00110000'", b"\\t\\n\\r\\\\'"]
        texts += [canon_text_mutant(rng, is_str) for _ in range(12000)]
        for t in texts:
            r.add(label, op, t, expect_canon_unescape(t, is_str))


def main():
    warnings.simplefilter("ignore")  # invalid escapes warn (DeprecationWarning)
    started = time.time()
    rng = random.Random(20240611)
    r = Runner(helper_path())
    tally = Tally()
    add_utf8(r, rng)
    add_escapes(r, rng)
    r.run()
    add_decode(r, rng, tally)
    nnames = add_encoding_names(r, rng, tally)
    r.run()
    add_encoders(r, rng)
    add_canon_unescape(r, rng)
    r.run()
    print("encoding names tried: %d (%d name ascii, latin-1 or utf-8); vectors where CPython "
          "has a codec brine lacks: %d; TypeError (xmlcharrefreplace/namereplace) expected as "
          "BRINE_E_UNKNOWN_ERRORS: %d"
          % (nnames, tally.names_supported, tally.limitation, tally.typeerror))
    print("oracle cross-checks: STRING and BINSTRING decoded alike in CPython for %d inputs"
          % tally.string_same)
    return r.summary("test_pytext_diff", started)


if __name__ == "__main__":
    sys.exit(main())
