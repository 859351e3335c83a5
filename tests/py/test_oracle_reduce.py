"""oracle.reduce and oracle.chunks: the tolerant tokenizer, the argument forms, the reducer's
budget and determinism on a pure-Python model, and real reductions of
planted divergences through the oracle.

brine agrees with CPython on everything known, so the divergences are
planted in a fake brine (FAKE below): a script speaking `brine decode
--batch` that forwards every request to the real brine and changes the
answer when the stream shows its plant.  The plants change one opcode's
behaviour, each giving another comparison class:

    dup-reject       DUP read -> brine rejects (brine-rejects-reference-accepts)
    binstring-graph  SHORT_BINSTRING read -> another text (different-graph)
    ff-nop           0xff where an opcode is expected is skipped
                     (brine-accepts-reference-rejects)
    binget-class     LONG_BINGET read on a rejected stream -> ValueError
                     (different-exception)

CPython never writes these, so a large generated pickle (oracle.generate)
agrees until the plant's opcodes are injected in its middle; the reducer
must then get it down to a few bytes that still show the same divergence.
Environment: BRINE_BIN (default build/brine).
"""

import os
import pickletools
import stat
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from oracle import chunks as K  # noqa: E402
from oracle import reduce as R  # noqa: E402
from oracle.generate import generate_cases  # noqa: E402

BRINE = os.environ.get('BRINE_BIN') or os.path.join(ROOT, 'build', 'brine')

FAKE = r'''#!%(python)s
import struct, subprocess, sys
sys.path.insert(0, %(root)r)
from oracle.malformed import raw_ops
PLANT = %(plant)r
real = subprocess.Popen([%(brine)r] + sys.argv[1:], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE)
inp, out = sys.stdin.buffer, sys.stdout.buffer

def read_exact(f, n):
    b = f.read(n)
    return b if len(b) == n else None

def ask(body):
    real.stdin.write(struct.pack('<I', len(body)) + body)
    real.stdin.flush()
    return real.stdout.read(struct.unpack('<I', real.stdout.read(4))[0])

def split(body):   # buffers header, pickle
    pos = 4
    for _ in range(struct.unpack_from('<I', body)[0]):
        pos += 5 + struct.unpack_from('<I', body, pos + 1)[0]
    return body[:pos], body[pos:]

def strip_ff(data):   # drop 0xff bytes where a decoder reads an opcode
    out, i, frame = bytearray(), 0, None    # frame: (its length field in out, end in data)
    while i < len(data):
        end, stopped = i, False
        for o, pos, arg in raw_ops(data[i:]):
            end = len(data) if arg is None else i + pos + 1 + len(arg)
            stopped = o.name == 'STOP'
            if o.name == 'FRAME' and arg is not None:
                frame = (len(out) + pos + 1, end + int.from_bytes(arg, 'little'))
        out += data[i:end]
        if end < len(data) and data[end] == 0xff and not stopped:
            if frame and end < frame[1]:   # the frame loses the byte too
                n = int.from_bytes(out[frame[0]:frame[0] + 8], 'little') - 1
                out[frame[0]:frame[0] + 8] = n.to_bytes(8, 'little')
            i = end + 1
            continue
        out += data[end:]
        break
    return bytes(out)

while True:
    head = read_exact(inp, 4)
    if head is None:
        break
    body = read_exact(inp, struct.unpack('<I', head)[0])
    pre, data = split(body)
    if PLANT == 'ff-nop':
        reply = ask(pre + strip_ff(data))
    else:
        reply = ask(body)
        ops = [o.name for o, _, _ in raw_ops(data)]
        ok = reply.startswith(b'ok\n')
        if PLANT == 'dup-reject' and ok and 'DUP' in ops:
            reply = b'error: UnpicklingError: planted DUP (offset 0)\n'
        elif PLANT == 'binstring-graph' and ok and 'SHORT_BINSTRING' in ops:
            reply = b"ok\nroot: 'planted'\n"
        elif (PLANT == 'binget-class' and reply.startswith(b'error: UnpicklingError')
              and 'LONG_BINGET' in ops):
            reply = b'error: ValueError: planted (offset 0)\n'
    out.write(struct.pack('<I', len(reply)) + reply)
    out.flush()
'''

# plant -> (bytes injected, expected class, a byte the reduced stream must keep)
PLANTS = {
    'dup-reject': (b'N200', 'brine-rejects-reference-accepts', b'2'),
    'binstring-graph': (b'U\x03abc0', 'different-graph', b'U'),
    'ff-nop': (b'\xff', 'brine-accepts-reference-rejects', b'\xff'),
    'binget-class': (b'j\xff\xff\x00\x00', 'different-exception', b'j'),
}


def write_fake(directory, plant):
    """An executable fake brine with the plant; returns its path."""
    path = os.path.join(directory, 'fake-brine-' + plant)
    with open(path, 'w') as f:
        f.write(FAKE % {'python': sys.executable, 'root': ROOT, 'plant': plant,
                        'brine': os.path.abspath(BRINE)})
    os.chmod(path, stat.S_IRWXU)
    return path


def inject(data, payload):
    """payload inserted at the opcode boundary nearest the middle of a valid
    pickle (after PROTO, before STOP); the enclosing FRAME grows with it."""
    ops = list(pickletools.genops(data))
    mid = len(data) // 2
    pos = min((p for _, _, p in ops[1:]), key=lambda p: abs(p - mid))
    out = bytearray(data[:pos] + payload + data[pos:])
    for o, arg, p in ops:
        if o.name == 'FRAME' and p + 9 <= pos < p + 9 + arg:
            out[p + 1:p + 9] = (arg + len(payload)).to_bytes(8, 'little')
    return bytes(out)


BIG = (('memo', 0), ('subclasses', 2), ('reduce', 4), ('batching', 5))


def big_cases(protocols):
    """Generated pickles of 2-5 KB (no buffers or extensions), one per
    protocol asked for that BIG lists, from the family BIG names."""
    want = {p: f for f, p in BIG if p in protocols}
    got = {}
    for c in generate_cases(0, 3, sorted(want), sorted(set(want.values()))):
        if (c.how == 'dumps' and want[c.protocol] == c.family and 2000 <= len(c.data) <= 5000
                and c.protocol not in got):
            got[c.protocol] = c
    return [got[p] for p in sorted(got)]


class TokenizerTest(unittest.TestCase):

    def test_valid_pickles_match_pickletools(self):
        for c in big_cases((0, 2, 4, 5)) + big_cases((2,)):
            toks = K.tokenize(c.data)
            want = [(p, o.name) for o, _, p in pickletools.genops(c.data)]
            self.assertEqual([(t.start, t.name) for t in toks], want, c.file)
            self.assertEqual(toks[-1].end, len(c.data))

    def test_garbage_is_tolerated(self):
        data = b'\x80\x04N\xff\xfeK\x05.)\x8c\x09abc'
        toks = K.tokenize(data)
        self.assertEqual(b''.join(data[t.start:t.end] for t in toks), data)
        # bytes that are no opcode are single chunks; tokenizing goes on after
        # STOP; the cut-off SHORT_BINUNICODE is one opaque tail
        self.assertEqual([t.name for t in toks], ['PROTO', 'NONE', None, None, 'BININT1', 'STOP',
                                                  'EMPTY_TUPLE', None])
        self.assertEqual(data[toks[-1].start:], b'\x8c\x09abc')
        self.assertEqual(K.tokenize(b''), [])
        self.assertEqual(K.tokenize(b'\x8c'), [K.Token(0, 1, None)])

    def test_value_spans(self):
        chunks = K.chunks_of(b'\x80\x02](K\x01]q\x00(N\x88e\x85e.')
        spans, groups = K.value_spans([K.opname(c) for c in chunks])
        # ] ( K1 ] q0 ( N NEWTRUE e TUPLE1 e .
        # 1 2 3  4 5  6 7 8       9 10     11 12
        self.assertIn((1, 11), spans)          # the outer list, EMPTY_LIST to APPENDS
        self.assertIn((4, 10), spans)          # (inner list,), ending at TUPLE1
        self.assertIn((4, 9), spans)           # the inner list
        self.assertEqual(sorted(groups), [(2, 11), (6, 9)])


class FormsTest(unittest.TestCase):

    def value(self, chunk):
        return list(pickletools.genops(chunk + b'.'))[0][1]

    def test_int_forms_keep_the_value_or_shrink_it(self):
        for chunk in (b'J\x00\x00\x01\x00', b'\x8a\x02\x00\x01', b'M\xff\x00', b'J\xfe\xff\xff\xff',
                      b'\x8b\x01\x00\x00\x00\x05'):
            v = self.value(chunk)
            forms = K.simpler_forms(chunk)
            self.assertTrue(forms, chunk)
            for f in forms:
                self.assertLessEqual(len(f), len(chunk))
                w = self.value(f)
                self.assertTrue(w == v and len(f) < len(chunk) or abs(w) < abs(v), (chunk, f))
        for v in (0, 255, 256, 65535, 65536, -1, 2**31, -2**31 - 1, 2**70):
            for f in K.int_forms(v):
                self.assertEqual(self.value(f), v)

    def test_string_forms(self):
        chunk = b'X\x05\x00\x00\x00hello'
        forms = K.simpler_forms(chunk)
        vals = [self.value(f) for f in forms]
        self.assertEqual(vals, ['', 'he', 'hell', 'hello'])
        self.assertEqual(forms[-1], b'\x8c\x05hello')
        self.assertEqual(K.simpler_forms(b'\x8c\x00'), [])
        self.assertEqual(K.simpler_forms(b'N'), [])
        self.assertEqual(K.simpler_forms(b'\xff'), [])
        # repeating the first form terminates
        c, n = b'I123456\n', 0
        while K.simpler_forms(c):
            c, n = K.simpler_forms(c)[-1], n + 1
        self.assertLess(n, 10)

    def test_renumbered(self):
        got = K.renumbered(K.chunks_of(b'\x80\x02]r\x07\x00\x00\x00h\x07p9\ng9\nh\x05.'), True)
        self.assertEqual(b''.join(got), b'\x80\x02]q\x00h\x00p1\ng1\nh\x05.')
        small = K.renumbered(K.chunks_of(b']r\x07\x00\x00\x00j\x07\x00\x00\x00.'), False)
        self.assertEqual(b''.join(small), b']r\x00\x00\x00\x00j\x00\x00\x00\x00.')
        self.assertIsNone(K.renumbered(K.chunks_of(b']q\x00h\x00.'), True))
        self.assertIsNone(K.renumbered(K.chunks_of(b']\x94q\x05.'), True))


def model_check(trigger=b'2'):
    """A pure-Python stand-in for the oracle: 'diverges' when the stream
    reads the opcode `trigger` and ends with STOP."""
    hit = R.Signature('brine-rejects-reference-accepts', 'reject', 'X', 'accept', None)
    none = R.Signature('agree', 'accept', None, 'accept', None)

    def check(cands):
        out = []
        for c in cands:
            toks = K.tokenize(c)
            names = [t.name for t in toks]
            ok = (any(c[t.start:t.end] == trigger for t in toks) and names[-1:] == ['STOP']
                  and None not in names)
            out.append(hit if ok else none)
        return out
    return check


class ModelReducerTest(unittest.TestCase):
    """The reducer's mechanics, without processes."""

    def data(self):
        return inject(big_cases((2,))[0].data, b'N200')

    def test_reduces_to_the_plant(self):
        r = R.Reducer(model_check())
        small = r.reduce(self.data())
        self.assertEqual(small, b'2.')
        self.assertEqual(r.stop_reason, 'fixpoint')
        self.assertLessEqual(r.checks, R.DEFAULT_MAX_CHECKS)

    def test_deterministic(self):
        a = R.Reducer(model_check(), max_checks=150)
        b = R.Reducer(model_check(), max_checks=150)
        self.assertEqual(a.reduce(self.data()), b.reduce(self.data()))
        self.assertEqual(a.checks, b.checks)

    def test_bounded_by_checks_and_time(self):
        data = self.data()
        r = R.Reducer(model_check(), max_checks=7)
        small = r.reduce(data)
        self.assertEqual(r.stop_reason, 'max-checks')
        self.assertEqual(r.checks, 7)
        self.assertLess(len(small), len(data))
        self.assertEqual(model_check()([small])[0], r.target)
        r = R.Reducer(model_check(), seconds=0)
        self.assertEqual(r.reduce(data), data)
        self.assertEqual((r.stop_reason, r.checks), ('time', 1))

    def test_no_divergence(self):
        with self.assertRaises(R.NoDivergence):
            R.Reducer(model_check()).reduce(b'N.')


@unittest.skipUnless(os.access(BRINE, os.X_OK), 'brine not built: ' + BRINE)
class PlantedTest(unittest.TestCase):
    """Real reductions through oracle.compare, with the fake brine."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.fakes = {p: write_fake(cls.tmp.name, p) for p in PLANTS}
        cls.cases = big_cases((0, 2, 4))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_planted_divergences_reduce_to_a_few_bytes(self):
        for plant, (payload, cls_, keep) in PLANTS.items():
            for case in self.cases:
                with self.subTest(plant=plant, case=case.file), \
                        R.OracleCheck(self.fakes[plant]) as check:
                    data = inject(case.data, payload)
                    self.assertGreaterEqual(len(data), 2000)
                    self.assertEqual(check([case.data])[0].cls, 'agree')
                    r = R.Reducer(check)
                    small = r.reduce(data)
                    self.assertEqual(r.target.cls, cls_)
                    self.assertLessEqual(len(small), 16, small)
                    self.assertIn(keep, small)
                    self.assertLessEqual(r.checks, R.DEFAULT_MAX_CHECKS)
                    self.assertEqual(r.stop_reason, 'fixpoint')
                    # a fresh oracle sees the same divergence on the result
                    with R.OracleCheck(self.fakes[plant]) as fresh:
                        self.assertEqual(fresh([small])[0], r.target)
                    print('reduce %-16s %-22s %5d -> %2d bytes, %4d checks, %.2f s: %r' % (
                        plant, case.file, len(data), len(small), r.checks, r.elapsed, small))

    def test_real_brine_agrees(self):
        with R.OracleCheck() as check:
            with self.assertRaises(R.NoDivergence):
                R.Reducer(check).reduce(inject(self.cases[0].data, b'N200'))

    def run_cli(self, *args):
        return subprocess.run([sys.executable, '-m', 'oracle', 'reduce'] + list(args),
                              cwd=ROOT, capture_output=True, text=True, timeout=300)

    def test_cli_fuzz_input(self):
        # E bit 6: the extension registry; L: E present, fix_imports off, builtins
        tail = b'\x40\xc1'
        data = inject(self.cases[1].data, b'N200') + tail
        src = os.path.join(self.tmp.name, 'in.bin')
        dst = os.path.join(self.tmp.name, 'out.bin')
        with open(src, 'wb') as f:
            f.write(data)
        p = self.run_cli(src, '-o', dst, '--fuzz-input', '--brine', self.fakes['dup-reject'])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(dst, 'rb') as f:
            out = f.read()
        self.assertTrue(out.endswith(tail))
        self.assertLessEqual(len(out), 16 + len(tail))
        self.assertIn('size: %d -> %d bytes' % (len(data), len(out)), p.stdout)
        self.assertRegex(p.stdout, r'checks: \d+ ')
        self.assertIn('builtins', p.stdout)
        self.assertIn('brine-rejects-reference-accepts', p.stdout)
        # the same input as a raw pickle: the tail bytes are part of the stream
        p = self.run_cli(src, '-o', dst, '--brine', self.fakes['dup-reject'], '--max-checks', '50')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('stopped: max-checks', p.stdout)

    def test_cli_no_divergence(self):
        src = os.path.join(self.tmp.name, 'agree.pickle')
        with open(src, 'wb') as f:
            f.write(self.cases[0].data)
        p = self.run_cli(src, '-o', os.path.join(self.tmp.name, 'x'))
        self.assertEqual(p.returncode, 1)
        self.assertIn('does not diverge', p.stderr)


if __name__ == '__main__':
    unittest.main()
