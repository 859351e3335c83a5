"""Differential test of src/pyfloat.c and src/pyfloat_parse.c against the running CPython.

Generates a few hundred thousand doubles and literal strings (random bit
patterns, subnormals, powers of two and their neighbours, integers near
2**53, the repr layout boundaries, exact halfway points written out in
full, syntax fuzz, huge literals), feeds them to the helper
`test_pyfloat_vectors --serve` (built from tests/unit/test_pyfloat_vectors.c)
and compares every answer with CPython's:

  repr      repr(x), and pyfloat_parse(repr(x)) must give x back
  parse     what pickle.loads(b'F' + s + b'\\n.') does: value bits,
            ValueError or OverflowError
  float()   float(b) for bytes b: value bits or ValueError

Environment: BRINE_BUILD_DIR (set by ctest) locates the helper;
PYFLOAT_SEED picks another seed (default fixed, so failures reproduce).
"""

import math
import os
import pickle
import random
import struct
import subprocess
import sys
import time

SEED = int(os.environ.get("PYFLOAT_SEED", "20240611"))
MAX_SHOWN = 25


def f2b(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def b2f(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def is_nan_bits(b):
    return (b >> 52) & 0x7FF == 0x7FF and b & ((1 << 52) - 1) != 0


def next_up_bits(b):
    """Bits of the next double up from a finite non-negative one."""
    return b + 1


def exact_decimal(num, den_pow2):
    """num / 2**den_pow2 (num > 0) as an exact plain decimal string."""
    if den_pow2 <= 0:
        return str(num << -den_pow2)
    digits = str(num * 5**den_pow2)
    if len(digits) <= den_pow2:
        digits = "0" * (den_pow2 - len(digits) + 1) + digits
    int_part, frac = digits[:-den_pow2], digits[-den_pow2:]
    return int_part + "." + frac


def mantissa_exp(b):
    """(c, q) with value c * 2**q for finite non-negative bits b."""
    e = (b >> 52) & 0x7FF
    f = b & ((1 << 52) - 1)
    if e == 0:
        return f, -1074
    return f | (1 << 52), e - 1075


# ---------------------------------------------------------------- repr cases


def repr_cases(rng):
    out = []
    add = out.append
    # Uniform bit patterns: every exponent, NaNs, both signs.
    for _ in range(150000):
        add(rng.getrandbits(64))
    # Special values and NaN payloads (quiet, signalling, signed).
    for b in (0, 1 << 63, 0x7FF0000000000000, 0xFFF0000000000000,
              0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001,
              0xFFF0000000000001, 0x7FF4000000000000, 0x7FFFFFFFFFFFFFFF,
              0xFFFFFFFFFFFFFFFF, 1, 2, 3, 0x000FFFFFFFFFFFFF,
              0x0010000000000000, 0x0010000000000001, 0x7FEFFFFFFFFFFFFF,
              0x7FEFFFFFFFFFFFFE, 0x7FE0000000000000):
        add(b)
        add(b | (1 << 63))
    # Every power of two (both interval shapes) and its neighbours.
    for e in range(0, 2047):
        for d in (-3, -2, -1, 0, 1, 2, 3):
            b = (e << 52) + d
            if 0 <= b < 0x7FF0000000000000:
                add(b)
                add(b | (1 << 63))
    # Subnormals, from the largest down to a few bits.
    for _ in range(12000):
        add(rng.getrandbits(52) >> rng.randrange(52))
    # Integers near 2**53 and 2**54, and the repr layout boundaries.
    for i in range(-4000, 4000):
        add(f2b(float(2**53 + i)))
        add(f2b(float(2**54 + 2 * i)))
    for x in (1e16, 1e15, 1e17, 1e-4, 1e-5, 1e-3, 1e22, 1e23, 2.0**63,
              9007199254740992.0, 123456789012345680.0, 5e-324):
        b = f2b(x)
        for d in range(-800, 801):
            if 0 <= b + d < 0x7FF0000000000000:
                add(b + d)
    # Powers of ten and neighbours.
    for k in range(-325, 310):
        b = f2b(float("1e%d" % k))
        for d in range(-3, 4):
            if 0 <= b + d < 0x7FF0000000000000:
                add(b + d)
    # Everyday values.
    for _ in range(20000):
        add(f2b(rng.random()))
    for _ in range(10000):
        add(f2b(rng.uniform(-1e6, 1e6)))
    for _ in range(20000):
        add(f2b(round(rng.uniform(-1000, 1000), rng.randrange(0, 12))))
    for _ in range(5000):
        add(f2b(rng.randrange(1, 10**rng.randrange(1, 20)) / 10**rng.randrange(0, 25)))
    for i in range(5000):
        add(f2b(float(i)))
        add(f2b(i / 7))
    # Doubles whose scaled value is exactly halfway between two shortest
    # candidates (the repr must pick the even digit): c * 2**q with
    # -40 <= q < 0 and c having the right power of two in it.
    for _ in range(8000):
        q = rng.randrange(-40, -1)
        k = (q * 315653) >> 20
        v2 = k - q - 1  # then 2 * c * 2**q / 10**k is an odd integer
        if not 0 <= v2 < 52:
            continue
        c = (1 << 52) | ((rng.getrandbits(52 - v2) | 1) << v2)
        add(f2b(c * 2.0**q))
    return out


# ---------------------------------------------------------- parse literals


def halfway_literals(rng, count):
    """Exact halfway points between neighbouring doubles, written in full,
    and values a hair above and below them, in several layouts."""
    out = []
    for i in range(count):
        kind = i % 4
        if kind == 0:
            b = rng.getrandbits(63) % 0x7FEFFFFFFFFFFFFF
        elif kind == 1:
            b = rng.getrandbits(52) >> rng.randrange(52)  # subnormal
        elif kind == 2:
            b = rng.randrange(2046) << 52  # power of two: below is closer
            if b:
                b -= 1  # halfway below it then is the one between b and 2^k
        else:
            b = f2b(rng.uniform(0.1, 1e6))
        c, q = mantissa_exp(b)
        num = 2 * c + 1  # halfway up: (2c + 1) * 2**(q - 1)
        text = exact_decimal(num, 1 - q)
        if "." not in text:
            text += ".0"
        int_part, frac = text.split(".")
        variants = [text]
        z = "0" * rng.randrange(0, 40)
        variants.append(text + z + "1")  # just above
        # just below: subtract one unit after some extra digits
        digits = int_part + frac + z + "0"
        low = str(int(digits) - 1).rjust(len(digits), "0")
        p = len(int_part)
        variants.append(low[:p] + "." + low[p:])
        for v in variants:
            ip, fp = v.split(".")
            allds = (ip + fp).lstrip("0")
            lead = len(ip + fp) - len(allds)
            # scientific: d.ddd e(exponent)
            exp = len(ip) - lead - 1
            out.append(v.encode())
            out.append(("%s.%se%d" % (allds[0], allds[1:], exp)).encode())
            out.append(("%sE%+d" % (allds, exp - len(allds) + 1)).encode())
            out.append(("-0.%se%d" % (allds, exp + 1)).encode())
    return out


FUZZ_ALPHABET = b"0123456789012345678901234567890.eE+-_ xinfatyINFATY\x00\r\t"


def parse_literals(rng, reprs):
    out = []
    add = out.append
    for s in (
        b"0", b"-0", b"+0", b"0.", b".0", b"-.0", b"00", b"000.000", b".", b"-", b"+",
        b"+.", b"-.", b"e", b"e5", b".e5", b"1e", b"1e+", b"1e-", b"1e+-1", b"1e--1",
        b"1ee1", b"1e1.5", b"1.5.5", b"1..5", b"..5", b"1e5e5", b"1E5", b"1e+05",
        b"1e-05", b"1e0", b"1e-0", b"1e+0", b"1.e5", b".5e5", b"-.5e-5", b" 1", b"1 ",
        b"\t1", b"1\t", b"1\r", b"1_000", b"1_0.5", b"_1", b"0x10", b"0X1p3", b"0x1p-3",
        b"1p3", b"1f", b"1d", b"1L", b"1j", b"--1", b"+-1", b"-+1", b"++1",
        b"inf", b"-inf", b"+inf", b"INF", b"Inf", b"iNf", b"infinity", b"-infinity",
        b"Infinity", b"INFINITY", b"infinit", b"infinityx", b"infx", b"infinite",
        b"in", b"i", b"-i", b"nan", b"-nan", b"+nan", b"NaN", b"NAN", b"nAn", b"nanx",
        b"nan(123)", b"na", b"n", b"-nanx", b"-", b"+-inf", b"-+nan", b"inf\x00x",
        b"1\x00", b"1.5\x00abc", b"\x001", b"-\x001", b"1e\x005", b"1e5\x00",
        b"1.7976931348623157e308", b"1.7976931348623158e308",
        b"1.7976931348623159e308", b"-1.7976931348623159e308", b"1e308", b"1e309",
        b"-1e309", b"1e999", b"1e999x", b"-1e999 ", b"9" * 309, b"9" * 308,
        b"0." + b"0" * 400 + b"1e400", b"1e-400", b"-1e-400", b"2e-324", b"3e-324",
        b"2.4703282292062327e-324", b"2.4703282292062328e-324",
        b"4.9406564584124654e-324", b"5e-324", b"7.4e-324", b"7.5e-324",
        b"2.2250738585072011e-308", b"2.2250738585072012e-308",
        b"2.2250738585072014e-308", b"2.225073858507201136057409796709131975934819546351645"
        b"6468e-308", b"1e1100000000", b"1e-1100000000", b"1e1099999999",
        b"0e99999999999999999999", b"-0e-99999999999999999999", b"1e" + b"9" * 30,
        b"1e-" + b"9" * 30, b"1e0000000000000000000005", b"1e000000000000000000000",
        b"0." + b"0" * 30 + b"1e+0000000000031", b"123456789012345678901234567890",
        b"0.1", b"0.2", b"0.3", b"1.1", b"2.675", b"9007199254740993",
        b"9007199254740993.0000000000000000000001", b"9007199254740992.9999",
        b"4.35679719387262e15", b"1e23", b"8.41e21", b"5e-310", b"1.0\xff",
        b"\xd9\xa1", b"1\xc2\xa0", b"\xef\xbc\x91", b"1,5", b"1'000", b"\x7f1",
    ):
        add(s)
    # Round trips of everyday and random doubles in several layouts.
    for x in reprs:
        if math.isnan(x) or math.isinf(x):
            continue
        add(repr(x).encode())
        add(format(x, ".17g").encode())
        add(format(x, ".%de" % rng.randrange(0, 22)).encode())
    # Random digit strings with a point and an exponent.
    for _ in range(8000):
        n = rng.randrange(1, 45)
        ds = "".join(rng.choice("0123456789") for _ in range(n))
        p = rng.randrange(0, n + 1)
        s = ds[:p] + "." + ds[p:] if rng.random() < 0.7 else ds
        if rng.random() < 0.8:
            s += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randrange(0, 400))
        if rng.random() < 0.3:
            s = rng.choice("+-") + s
        add(s.encode())
    # What the short-significand shortcuts take: repr of the records
    # benchmark's scores (random() * 100), up to 19 digits after leading
    # zeros with exponents near +-27, and their boundaries.
    for _ in range(20000):
        add(repr(rng.random() * 100).encode())
    for _ in range(8000):
        n = rng.randrange(1, 21)
        ds = "0" * rng.choice((0, 0, 1, 5, 30)) + "".join(rng.choice("0123456789")
                                                          for _ in range(n))
        p = rng.randrange(0, len(ds) + 1)
        add((ds[:p] + "." + ds[p:] + "e%d" % rng.randrange(-32, 33)).encode())
    for s in ("9" * 19, "9" * 20, "18446744073709551615", "18446744073709551616",
              "92233720368547758080", "9223372036854775808" + "0" * 40):
        for e in ("", "e27", "e28", "e-27", "e-28", "e-19", "e5"):
            add((s + e).encode())
            add(("0.000" + s + e).encode())
    out.extend(halfway_literals(rng, 3000))
    # Syntax fuzz.
    for _ in range(6000):
        n = rng.randrange(1, 14)
        add(bytes(rng.choice(FUZZ_ALPHABET) for _ in range(n)))
    # A few long ones (CPython is linear here too).
    add(b"1" * 100000)
    add(b"0." + b"0" * 100000 + b"12345678901234567890e100010")
    add(b"1" + b"0" * 200000 + b"e-200000")
    add(b"3." + b"3" * 150000 + b"e-2")
    add(b"9" * 5000 + b"e-5000")
    return [s for s in out if s and b"\n" not in s]


def float_literals(rng):
    out = []
    add = out.append
    for s in (
        b"1_0", b"1__0", b"_1", b"1_", b"1_.5", b"1._5", b"1.5_", b"1e_5", b"1_e5",
        b"1e5_0", b"1e-5_0", b"1e_-5", b"in_f", b"1_000_000.000_001", b"0_0", b"0_.0",
        b" 1_0 ", b"_", b"__", b"1\x00", b"1 \x00", b"\x001", b"\x00", b"", b" ",
        b"  ", b"\t\n\x0b\x0c\r 1.5 \r\n", b"\x1c1", b"1\x1c", b"\x851", b"\xa01",
        b" inf ", b" -Infinity\t", b"nan ", b" -nan", b"1e999", b"-1e999",
        b"1e-999", b"1 1", b"1\n", b"\n1", b"1\n\n", b" 1e", b"1e ", b"0x1", b"+ 1",
        b"- 1", b"1_e", b"_inf", b"i_nf", b"1.5e1_0_0", b"1" + b"_1" * 500,
        b"1.5_5\x00", b"\x00_", b"_\x00",
    ):
        add(s)
    alphabet = b"0123456789._eE+- \t\n\x0b\x0c\r\x1cinfaINFA\x00"
    for _ in range(6000):
        n = rng.randrange(1, 12)
        add(bytes(rng.choice(alphabet) for _ in range(n)))
    ws = [b"", b" ", b"\t", b"\n", b"\r\n", b"\x0b\x0c"]
    for _ in range(3000):
        x = b2f(rng.getrandbits(64))
        s = repr(x).encode()
        # underscores between some digits
        t = bytearray()
        for i, ch in enumerate(s):
            t.append(ch)
            if (i + 1 < len(s) and 48 <= ch <= 57 and 48 <= s[i + 1] <= 57
                    and rng.random() < 0.2):
                t.append(95)
        add(rng.choice(ws) + bytes(t) + rng.choice(ws))
    return out


# ------------------------------------------------------------- expectations


def expect_unpickle(s):
    try:
        v = pickle.loads(b"F" + s + b"\n.")
    except ValueError:
        return "ValueError"
    except OverflowError:
        return "OverflowError"
    except Exception as exc:  # pragma: no cover - reported as a mismatch
        return type(exc).__name__
    return "%016x" % f2b(v)


def got_unpickle(s, answer):
    st, bits, used = answer.split()
    if st == "1":
        return "ValueError"
    if st == "2":
        return "OverflowError"
    used = int(used)
    # load_float accepts the number only before '\n' (the line end) or NUL.
    if used < len(s) and s[used] != 0:
        return "ValueError"
    return bits


def expect_float(s):
    try:
        return "%016x" % f2b(float(s))
    except ValueError:
        return "ValueError"


def got_float(answer):
    st, bits = answer.split()
    return "ValueError" if st != "0" else bits


def main():
    build = os.environ.get("BRINE_BUILD_DIR", os.path.join(os.getcwd(), "build"))
    helper = os.path.join(build, "test_pyfloat_vectors")
    if not os.path.exists(helper):
        print("FAIL: helper not found: %s (build the project first)" % helper)
        return 1
    rng = random.Random(SEED)
    t0 = time.time()
    rbits = repr_cases(rng)
    plits = parse_literals(rng, [b2f(b) for b in rbits[::4]])
    flits = float_literals(rng)
    req = []
    for b in rbits:
        req.append("r %016x\n" % b)
    for s in plits:
        req.append("p %s\n" % s.hex())
    for s in flits:
        req.append("f %s\n" % s.hex())
    t1 = time.time()
    # A locale with a decimal comma, where installed (else "C" is used):
    # the results must not change.
    env = dict(os.environ, LC_ALL="de_DE.UTF-8")
    proc = subprocess.run([helper, "--serve"], input="".join(req).encode(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    t2 = time.time()
    if proc.returncode != 0:
        print("FAIL: helper exited with %d: %s" % (proc.returncode, proc.stderr.decode()))
        return 1
    sys.stdout.write("helper " + proc.stderr.decode(errors="replace"))
    answers = proc.stdout.decode("ascii").split("\n")
    if answers and answers[-1] == "":
        answers.pop()
    if len(answers) != len(req):
        print("FAIL: %d answers for %d requests" % (len(answers), len(req)))
        return 1

    failures = []
    i = 0
    for b in rbits:
        text, rt_bits, rt_status = answers[i].split(" ")
        i += 1
        want = repr(b2f(b))
        if text != want:
            failures.append("repr(%016x): got %r, CPython %r" % (b, text, want))
            continue
        back = 0x7FF8000000000000 if is_nan_bits(b) else b
        if rt_status != "0" or int(rt_bits, 16) != back:
            failures.append("parse(repr(%016x) = %r): status %s bits %s"
                            % (b, text, rt_status, rt_bits))
    for s in plits:
        got = got_unpickle(s, answers[i])
        i += 1
        want = expect_unpickle(s)
        if got != want:
            failures.append("unpickle F%r: got %s, CPython %s (raw %s)"
                            % (s[:120], got, want, answers[i - 1]))
    for s in flits:
        got = got_float(answers[i])
        i += 1
        want = expect_float(s)
        if got != want:
            failures.append("float(%r): got %s, CPython %s" % (s[:120], got, want))
    t3 = time.time()

    for f in failures[:MAX_SHOWN]:
        print("MISMATCH " + f)
    total = len(rbits) + len(plits) + len(flits)
    print("pyfloat vectors (seed %d): repr %d, parse %d, float() %d; %d compared, "
          "%d failures" % (SEED, len(rbits), len(plits), len(flits), total, len(failures)))
    print("time: generate %.2fs, helper %.2fs, compare %.2fs"
          % (t1 - t0, t2 - t1, t3 - t2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
