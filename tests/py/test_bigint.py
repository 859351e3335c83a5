#!/usr/bin/env python3
"""test_bigint.py - differential test of src/bigint.c against CPython 3.11.

Generates tens of thousands of vectors, answers them with the C helper
tests/unit/test_bigint_vectors.c (built into $BRINE_BUILD_DIR) and with
CPython itself, and compares every answer:

  - bi_parse_py against PyLong_FromString (called through ctypes, so the
    consumed length is seen too) for bases 0 and 10 (and a sample in the
    other bases), on valid literals,
    junk mutations of them, short exhaustive strings and 4300-digit edges;
    the oracle is cross-checked with the LONG opcode (base 0) and the GET
    opcode (base 10), which hand PyLong_FromString the raw line.
  - bi_strtol0 + bi_parse_py together against the INT opcode, emulating
    load_int() of Modules/_pickle.c on the C answers.
  - ints: LONG1/LONG4 payloads (pickle.dumps(n, 2) and pickle.encode_long),
    repr() with its 4300-digit limit, hex, bit_length, int64 range.
  - bi_from_le_bytes against pickle.loads of LONG1/LONG4.
  - bi_eq_double against int == float, bi_from_integral_double against
    int(float), bi_cmp against < and >, bi_from_digits against int().

Usage: test_bigint.py [path/to/test_bigint_vectors] [seed]
"""
import ctypes
import math
import os
import pickle
import random
import struct
import subprocess
import sys
import time

DEFAULT_SEED = 20240611

# ---------------------------------------------------------------------------
# CPython oracles
# ---------------------------------------------------------------------------

_from_string = ctypes.pythonapi.PyLong_FromString
_from_string.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]
_from_string.restype = ctypes.py_object


def classify(exc):
    if isinstance(exc, UnicodeDecodeError):
        return ('INVALID', 1)
    if isinstance(exc, ValueError):
        msg = str(exc)
        if msg.startswith('invalid literal for int()'):
            return ('INVALID', 0)
        if msg.startswith('Exceeds the limit (4300 digits) for integer string conversion: '):
            return ('TOOMANY',)
    raise AssertionError('unexpected exception %r' % (exc,))


def pylong(s, base):
    """PyLong_FromString(s, &end, base) -> ('OK', value, consumed) or an error tuple."""
    buf = ctypes.create_string_buffer(s, len(s) + 1)
    end = ctypes.c_void_p(0)
    try:
        value = _from_string(buf, ctypes.byref(end), base)
    except (ValueError, UnicodeDecodeError) as e:
        return classify(e)
    return ('OK', value, end.value - ctypes.addressof(buf))


def run_pickle(data):
    try:
        return ('OK', pickle.loads(data))
    except Exception as e:  # noqa: BLE001 - the class is the answer
        return (type(e).__name__, str(e))


def le_payload(n):
    """The bytes pickle.dumps(n, 2) writes after LONG1/LONG4, or None for
    values it writes as BININT*."""
    p = pickle.dumps(n, 2)
    assert p[:2] == b'\x80\x02' and p[-1:] == b'.'
    if p[2] == 0x8a:
        assert p[3] == len(p) - 5
        return p[4:-1]
    if p[2] == 0x8b:
        (ln,) = struct.unpack('<i', p[3:7])
        assert ln == len(p) - 8
        return p[7:-1]
    return None


class NoDigitLimit:
    def __enter__(self):
        self.old = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)

    def __exit__(self, *exc):
        sys.set_int_max_str_digits(self.old)


def short(v):
    """repr() for messages, safe for ints above the repr digit limit."""
    if isinstance(v, tuple):
        return '(' + ', '.join(short(x) for x in v) + ')'
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > 200:
        return '<int of %d bits>' % v.bit_length()
    return repr(v)[:100]


def shex(n):
    return '-' + format(-n, 'x') if n < 0 else format(n, 'x')


def from_shex(h):
    return -int(h[1:], 16) if h.startswith('-') else int(h, 16)


# ---------------------------------------------------------------------------
# Generators
# ---------------------------------------------------------------------------

SPACES = [b' ', b'\t', b'\n', b'\v', b'\f', b'\r']
JUNK = (b'0123456789abcdefABCDEF_xXoObB+- \t\n\v\f\r\x1c\x1f\x85\xa0\x00Lzl.,e'
        b'\xff\xc3\xa9\xed\xa0')


def underscored(rng, digits, p):
    if len(digits) < 2 or rng.random() >= p:
        return digits
    out = bytearray(digits[:1])
    for c in digits[1:]:
        if rng.random() < 0.3:
            out += b'_'
        out.append(c)
    return bytes(out)


def rand_digits(rng, alphabet, n, first=None):
    body = bytes(rng.choices(alphabet, k=n))
    if first is not None and n:
        body = bytes([rng.choice(first)]) + body[1:]
    return body


def digit_count(rng):
    r = rng.random()
    if r < 0.55:
        return rng.randint(1, 6)
    if r < 0.85:
        return rng.randint(7, 30)
    if r < 0.99:
        return rng.randint(31, 200)
    return rng.randint(4290, 4310)


def gen_literal(rng):
    lead = b''.join(rng.choice(SPACES) for _ in range(rng.choice([0, 0, 0, 1, 2])))
    trail = b''.join(rng.choice(SPACES) for _ in range(rng.choice([0, 0, 0, 1, 2])))
    sign = rng.choice([b'', b'', b'', b'+', b'-'])
    kind = rng.choice(['dec', 'dec', 'dec', 'zero', 'hex', 'oct', 'bin', 'old'])
    n = digit_count(rng)
    if kind == 'dec':
        body = rand_digits(rng, b'0123456789', n, b'123456789')
    elif kind == 'zero':
        body = b'0' * n
    elif kind == 'old':
        body = b'0' + rand_digits(rng, b'01234567', n)
    else:
        alpha, pre = {'hex': (b'0123456789abcdefABCDEF', b'xX'), 'oct': (b'01234567', b'oO'),
                      'bin': (b'01', b'bB')}[kind]
        # now and then a long one (no digit limit for these bases)
        body = rand_digits(rng, alpha, n if n > 200 or rng.random() < 0.9 else n * 30)
        prefix = b'0' + bytes([rng.choice(pre)]) + (b'_' if rng.random() < 0.2 else b'')
        return lead + sign + prefix + underscored(rng, body, 0.2) + trail
    return lead + sign + underscored(rng, body, 0.2) + trail


def mutate(rng, s):
    s = bytearray(s)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(5)
        pos = rng.randint(0, len(s))
        if op == 0 or not s:
            s[pos:pos] = bytes([rng.choice(JUNK)])
        elif op == 1:
            del s[min(pos, len(s) - 1)]
        elif op == 2:
            s[min(pos, len(s) - 1)] = rng.choice(JUNK)
        elif op == 3:
            s[pos:pos] = b'_'
        else:
            s[pos:pos] = b'\x00'
    return bytes(s)


def gen_int64_edges(rng):
    """Texts around the strtol overflow boundary, in every spelling."""
    out = []
    for v in (2**63 - 1, 2**63, 2**63 + 1, 2**64 - 1, 2**64, 2**64 + 1, 10**19, 10**20):
        for d in (-1, 0, 1):
            m = v + d
            for sign in (b'', b'-', b'+'):
                for text in (b'%d' % m, b'0x%x' % m, b'0X%X' % m, b'0%o' % m, b'00%o' % m,
                             b'0o%o' % m, b'0b' + format(m, 'b').encode(), b'000%d' % m):
                    out.append(sign + text)
                    out.append(b' ' + sign + text + b' ')
    rng.shuffle(out)
    return out


def gen_short_exhaustive():
    alpha = b'0158xob_+- \t\x00Lz'
    out = [b'']
    for a in alpha:
        out.append(bytes([a]))
        for b in alpha:
            out.append(bytes([a, b]))
            for c in b'018x_ \x00':
                out.append(bytes([a, b, c]))
    return out


def gen_parse_strings(rng, count):
    out = gen_short_exhaustive() + gen_int64_edges(rng)
    for u in (b'1', b'0', b'9', b'1_', b'0_'):
        for k in (4298, 4299, 4300, 4301, 4302):
            for pre in (b'', b'-', b' ', b'0x', b'0o', b'0b'):
                for suf in (b'', b' ', b'_', b'x', b'1', b'__1', b'\x00x'):
                    if rng.random() < 0.25:
                        out.append(pre + u * k + suf)
    # The invalid-literal message decodes the first 200 bytes as UTF-8:
    # characters cut at that boundary, and every kind of bad sequence.
    chars = [b'\xc3\xa9', b'\xe2\x82\xac', b'\xf0\x9f\x98\x80', b'\xed\xa0\x80',
             b'\xed\x9f\xbf', b'\xc0\x80', b'\xe0\x9f\xbf', b'\xe0\xa0\x80', b'\xf0\x8f\xbf\xbf',
             b'\xf4\x8f\xbf\xbf', b'\xf4\x90\x80\x80', b'\xf5\x80\x80\x80', b'\xc2', b'\x80',
             b'\xef\xbf\xbf', b'\xee\x80\x80', b'\xf0\x90\x80', b'\xc1\xbf', b'\xc2\x80']
    for c in chars:
        out += [c, b'1' + c, b' 0x' + c, b'1\x00' + c]
        for k in range(195, 202):
            out += [b'1' * k + c + b'x', b' ' * k + c, b'1' * (k - 3) + b'\x00' + c]
    out = list(dict.fromkeys(out))
    seen = set(out)
    while len(out) < count:
        s = gen_literal(rng)
        r = rng.random()
        if r < 0.45:
            s = mutate(rng, s)
        elif r < 0.5:
            s = bytes(rng.choice(JUNK) for _ in range(rng.randint(1, 8)))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def rand_int(rng, bits):
    if bits == 0:
        return 0
    r = rng.random()
    if r < 0.6:
        n = rng.getrandbits(bits) | (1 << (bits - 1))
    else:
        # runs of ones and zeros: carries and sign bytes
        n, pos = 0, 0
        while pos < bits:
            run = rng.randint(1, 40)
            if rng.random() < 0.5:
                n |= ((1 << run) - 1) << pos
            pos += run
        n &= (1 << bits) - 1
        n |= 1 << (bits - 1)
    return -n if rng.random() < 0.5 else n


def gen_ints(rng):
    out = [0, 1, -1, 255, 256, -255, -256, 127, 128, -128, -129, 2**31 - 1, -2**31, 2**31,
           -2**31 - 1, 2**63 - 1, -2**63, 2**63, -2**63 - 1, 2**64 - 1, 2**64, -2**64,
           10**4300 - 1, 10**4300, -(10**4300 - 1), -10**4300, 10**4299, 2**14284, 2**14285,
           2**14300, -2**14300, 2**100000 + 1, -(2**1000000) + 12345]
    for k in range(1, 65):
        b = 2**(8 * k - 1)
        out += [b, b - 1, b + 1, -b, -b - 1, -b + 1]
    for k in range(0, 300):
        out += [2**k, -2**k, 2**k - 1, -(2**k - 1)]
    for _ in range(1500):
        out.append(rand_int(rng, rng.randint(0, 70)))
    for _ in range(1500):
        out.append(rand_int(rng, rng.randint(70, 3000)))
    for _ in range(400):
        out.append(rand_int(rng, rng.randint(3000, 16000)))
    for _ in range(10):
        out.append(rand_int(rng, rng.randint(16000, 200000)))
    return out


def rand_double(rng):
    r = rng.random()
    if r < 0.2:
        return struct.unpack('<d', struct.pack('<Q', rng.getrandbits(64)))[0]
    if r < 0.5:
        return float(rand_int(rng, rng.randint(0, 1024)))
    if r < 0.6:
        return math.ldexp(rng.choice([1.0, -1.0]), rng.randint(0, 1023))
    if r < 0.75:
        return rng.choice([0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324,
                           sys.float_info.max, -sys.float_info.max, 0.5, 1.5, -0.5, 2.0**53,
                           2.0**53 + 2, 2.0**63, 2.0**64, 1e22, 1e300, 2.0**1023, 2.2e-308])
    return rng.uniform(-1e6, 1e6) * 10.0 ** rng.randint(-20, 40)


def double_bits(d):
    return '%016x' % struct.unpack('<Q', struct.pack('<d', d))[0]


def ints_near(rng, d):
    """Ints worth comparing with d."""
    if math.isfinite(d):
        n = int(d)
        return [n, n + 1, n - 1, -n, n * 2 + 1, rand_int(rng, max(1, n.bit_length()))]
    return [0, 1, -1, 2**1024, -2**1024, rand_int(rng, 1100)]


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

class Checker:
    def __init__(self):
        self.counts = {}
        self.failures = []
        self.commands = []
        self.expect = []

    def add(self, kind, command, check):
        """check(answer_line) -> None when right, else a description."""
        self.commands.append(command)
        self.expect.append((kind, command, check))

    def oracle(self, kind, ok, *detail):
        """A consistency check between CPython oracles themselves."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if not ok:
            self.failures.append('%s: %s' % (kind, ' | '.join(short(d) for d in detail)))

    def run(self, helper):
        data = ''.join(c + '\n' for c in self.commands).encode()
        proc = subprocess.run([helper, '--stdin'], input=data, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            self.failures.append('helper exited with %d: %s' % (proc.returncode,
                                                                proc.stderr[-2000:]))
            return
        answers = proc.stdout.decode().split('\n')
        if answers and answers[-1] == '':
            answers.pop()
        if len(answers) != len(self.expect):
            self.failures.append('helper gave %d answers for %d commands' %
                                 (len(answers), len(self.expect)))
            return
        for (kind, command, check), answer in zip(self.expect, answers):
            self.counts[kind] = self.counts.get(kind, 0) + 1
            try:
                problem = check(answer)
            except Exception as e:  # noqa: BLE001 - a malformed answer is a failure
                problem = 'check raised %r' % (e,)
            if problem:
                self.failures.append('%s: %s -> %s: %s' % (kind, command[:160], answer[:160],
                                                           problem))


def parse_answer(answer):
    f = answer.split(' ')
    if f[0] == 'OK':
        return ('OK', from_shex(f[2]), int(f[1]))
    if f[0] == 'INVALID':
        return ('INVALID', int(f[1]))
    return tuple(f)


def expect_parse(want):
    def check(answer):
        got = parse_answer(answer)
        return None if got == want else 'want %s' % short(want)
    return check


def emulate_load_int(line, strtol_answer, parse_answer_line):
    """Modules/_pickle.c load_int() on a line (which ends in '\\n')."""
    if len(line) < 2:
        return ('UnpicklingError',)
    erange, x, consumed = (int(v) for v in strtol_answer.split(' '))
    end = line[consumed] if consumed < len(line) else 0
    if erange or end not in (0x0a, 0):
        got = parse_answer(parse_answer_line)
        if got[0] != 'OK':
            return ('ValueError',)
        return ('OK', got[1], 'int')
    if len(line) == 3 and x in (0, 1):
        return ('OK', x, 'bool')
    return ('OK', x, 'int')


def describe_pickle_result(r):
    if r[0] != 'OK':
        return (r[0],)
    v = r[1]
    return ('OK', int(v), 'bool' if isinstance(v, bool) else 'int')


def add_parse_vectors(ck, strings):
    for s in strings:
        h = s.hex()
        for base in (0, 10):
            want = pylong(s, base)
            ck.add('parse base %d' % base, 'P %d %s' % (base, h), expect_parse(want))
            if b'\n' in s:
                continue
            # The opcodes hand PyLong_FromString the raw line: cross-check
            # the ctypes oracle with them.
            if base == 0:
                got = run_pickle(b'L' + s + b'L\n.')
                want_cls = {'OK': 'OK', 'INVALID': 'ValueError', 'TOOMANY': 'ValueError'}[want[0]]
                if want[0] == 'INVALID' and want[1]:
                    want_cls = 'UnicodeDecodeError'
                ok = got[0] == want_cls and (got[0] != 'OK' or got[1] == want[1])
                ck.oracle('oracle LONG vs ctypes', ok, s, got, want)
            else:
                want10 = pylong(s + b'\n', 10)
                got = run_pickle(b'I7\np0\n0g' + s + b'\n.')
                if not s:
                    ok = got == ('UnpicklingError', 'pickle data was truncated')
                elif want10[0] == 'OK':
                    v = want10[1]
                    ok = (got == ('OK', 7) if v == 0 else
                          got[0] == 'OverflowError' if not -2**63 <= v < 2**63 else
                          got == ('UnpicklingError', 'Memo value not found at index %d' % v))
                else:
                    ok = got[0] == ('UnicodeDecodeError' if want10 == ('INVALID', 1)
                                    else 'ValueError')
                ck.oracle('oracle GET vs ctypes', ok, s, got, want10)


def add_other_base_vectors(ck, rng, strings):
    """bigint.h allows every base 2..36; the decoder needs only 0 and 10."""
    for s in rng.sample(strings, 4000):
        base = rng.choice([2, 8, 16, 3, 36, rng.randint(2, 36)])
        ck.add('parse other bases', 'P %d %s' % (base, s.hex()), expect_parse(pylong(s, base)))


def add_int_opcode_vectors(ck, strings):
    """INT: strtol first, PyLong_FromString as the fallback; both answers
    are needed, so each string is two commands checked as a pair."""
    for s in strings:
        if b'\n' in s:
            continue
        line = s + b'\n'
        want = describe_pickle_result(run_pickle(b'I' + s + b'\n.'))
        h = line.hex()
        slot = {}

        def keep(answer, slot=slot):
            slot['strtol'] = answer
            return None

        def check(answer, line=line, want=want, slot=slot):
            got = emulate_load_int(line, slot['strtol'], answer)
            return None if got == want else 'emulated %s, CPython %s' % (short(got), short(want))
        ck.add('strtol (paired)', 'S ' + h, keep)
        ck.add('INT opcode', 'P 0 ' + h, check)


def add_strtol_vectors(ck, rng):
    """Direct strtol answers against the C library itself (glibc, through
    ctypes), including the end pointer."""
    libc = ctypes.CDLL(None)
    strtol = libc.strtol
    strtol.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]
    strtol.restype = ctypes.c_long
    errno_loc = libc.__errno_location
    errno_loc.restype = ctypes.POINTER(ctypes.c_int)
    strings = gen_int64_edges(rng) + gen_short_exhaustive()
    strings += [mutate(rng, gen_literal(rng)) for _ in range(3000)]
    for s in strings:
        buf = ctypes.create_string_buffer(s, len(s) + 1)
        end = ctypes.c_void_p(0)
        errno_loc()[0] = 0
        v = strtol(buf, ctypes.byref(end), 0)
        er = 1 if errno_loc()[0] == 34 else 0
        want = '%d %d %d' % (er, v, end.value - ctypes.addressof(buf))
        ck.add('strtol vs libc', 'S ' + s.hex(),
               lambda a, want=want: None if a == want else 'want %s' % want)


def add_int_vectors(ck, ints):
    for n in ints:
        enc = pickle.encode_long(n)
        payload = le_payload(n)
        if payload is not None:
            ck.oracle('oracle dumps vs encode_long', payload == enc, shex(n))
        try:
            dec = repr(n)
        except ValueError:
            dec = '!'
        i64 = str(n) if -2**63 <= n < 2**63 else 'X'
        want = ' '.join([enc.hex() or '-', dec, shex(n), str(n.bit_length()), i64, 'ok'])
        ck.add('int conversions', 'N ' + shex(n),
               lambda a, want=want: None if a == want else 'want %s' % want[:200])


def add_bytes_vectors(ck, rng):
    for _ in range(3000):
        n = rng.choice([0, 1, 2, 3, 4, 5, 7, 8, 9, rng.randint(0, 40), rng.randint(0, 700)])
        r = rng.random()
        if r < 0.3:
            b = bytes(rng.getrandbits(8) for _ in range(n))
        elif r < 0.6:
            b = bytes(rng.choice([0, 0xff, 0x80, 0x7f, 0x01]) for _ in range(n))
        else:
            fill = rng.choice([0, 0xff])
            b = bytes([fill] * n)
            if n:
                b = b[:-1] + bytes([rng.choice([0, 0xff, 0x80, 0x7f])])
        op = b'\x8a' + bytes([len(b)]) if len(b) < 256 else b'\x8b' + struct.pack('<i', len(b))
        got = run_pickle(b'\x80\x02' + op + b + b'.')
        ck.oracle('oracle LONG1 vs decode_long', got == ('OK', pickle.decode_long(b)), b.hex())
        want = shex(got[1])
        ck.add('from le bytes', 'B ' + b.hex(),
               lambda a, want=want: None if a == want else 'want %s' % want)


def add_double_vectors(ck, rng):
    for _ in range(2000):
        d = rand_double(rng)
        for n in ints_near(rng, d):
            want = '1' if n == d else '0'
            ck.add('int == float', 'E %s %s' % (shex(n), double_bits(d)),
                   lambda a, want=want: None if a == want else 'want %s' % want)
        if math.isfinite(d) and d == int(d):
            want = shex(int(d))
            ck.add('int(float)', 'F ' + double_bits(d),
                   lambda a, want=want: None if a == want else 'want %s' % want)


def add_cmp_vectors(ck, rng, ints):
    ints = [n for n in ints if n.bit_length() < 20000]
    for _ in range(3000):
        a = rng.choice(ints)
        r = rng.random()
        b = (a if r < 0.2 else -a if r < 0.3 else a + rng.choice([-1, 1]) if r < 0.5
             else rng.choice(ints))
        want = str((a > b) - (a < b))
        ck.add('compare', 'C %s %s' % (shex(a), shex(b)),
               lambda x, want=want: None if x == want else 'want %s' % want)


def add_decimal_digit_vectors(ck, rng):
    with NoDigitLimit():
        texts = []
        for _ in range(600):
            n = rand_int(rng, rng.choice([rng.randint(0, 100), rng.randint(0, 30000)]))
            t = str(n)
            if rng.random() < 0.2:
                t = t.replace('-', '-' + '0' * rng.randint(1, 20)) if n < 0 else \
                    '0' * rng.randint(1, 20) + t
            texts.append((t, n))
    for t, n in texts:
        want = shex(n)
        ck.add('from decimal digits', 'M ' + t,
               lambda a, want=want: None if a == want else 'want %s' % want[:100])


def main():
    args = sys.argv[1:]
    if args and not args[0].isdigit():
        helper = args.pop(0)
    else:
        build = os.environ.get('BRINE_BUILD_DIR')
        if not build:
            print('BRINE_BUILD_DIR is not set and no helper path was given', file=sys.stderr)
            return 1
        helper = os.path.join(build, 'test_bigint_vectors')
    seed = int(args[0]) if args else DEFAULT_SEED
    if not os.path.exists(helper):
        print('helper %s was not built' % helper, file=sys.stderr)
        return 1
    assert sys.get_int_max_str_digits() == 4300, 'the oracle needs the default digit limit'

    t0 = time.time()
    rng = random.Random(seed)
    ck = Checker()
    strings = gen_parse_strings(rng, 30000)
    add_parse_vectors(ck, strings)
    add_other_base_vectors(ck, rng, strings)
    add_int_opcode_vectors(ck, strings)
    add_strtol_vectors(ck, rng)
    ints = gen_ints(rng)
    add_int_vectors(ck, ints)
    add_bytes_vectors(ck, rng)
    add_double_vectors(ck, rng)
    add_cmp_vectors(ck, rng, ints)
    add_decimal_digit_vectors(ck, rng)
    t1 = time.time()
    ck.run(helper)
    t2 = time.time()

    total = sum(ck.counts.values())
    for kind in sorted(ck.counts):
        print('  %-32s %7d' % (kind, ck.counts[kind]))
    print('seed %d: %d vectors compared, %d failures (generate+oracle %.1f s, helper %.1f s)'
          % (seed, total, len(ck.failures), t1 - t0, t2 - t1))
    for f in ck.failures[:30]:
        print('FAIL', f)
    return 1 if ck.failures or total == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
