"""oracle/fuzzinput.py against the C original it mirrors.

Every one- and two-byte option tail (all 65,536 pairs, plus tails on
inputs too short to hold E) goes through harness/fuzz_options_dump (built
from harness/fuzz_common.c) and through fuzzinput.split(); the two must
select the same options and the same pickle length.  join() must give back
an input that splits the same way, also when the pickle is empty.
"""

import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from oracle import fuzzinput  # noqa: E402

BUILD = os.environ.get('BRINE_BUILD_DIR') or os.path.join(ROOT, 'build')
DUMP = os.path.join(BUILD, 'harness', 'fuzz_options_dump')


def python_line(data):
    body, o = fuzzinput.split(data)
    nbuf = -1 if o.buffers is None else len(o.buffers)
    ro = [int(o.buffers[i][1]) if o.buffers and i < len(o.buffers) else None for i in (0, 1)]
    return body, o, nbuf, ro


class FuzzInputMirror(unittest.TestCase):
    @unittest.skipUnless(os.path.exists(DUMP), 'no harness/fuzz_options_dump in this build')
    def test_every_tail_matches_the_c_target(self):
        inputs = [b'', bytes([0x80]), bytes([0xff]), b'.']
        inputs += [b'P' + bytes([e, l]) for e in range(256) for l in range(256)]
        text = ''.join(d.hex() + '\n' for d in inputs)
        out = subprocess.run([DUMP], input=text, capture_output=True, text=True, check=True)
        lines = out.stdout.splitlines()
        self.assertEqual(len(lines), len(inputs))
        checked = 0
        for data, line in zip(inputs, lines):
            (n, policy, enc, errors, zero_copy, fix_imports, nbuf, ro0, ro1, cap,
             ext) = line.split()
            body, o, pnbuf, pro = python_line(data)
            where = data.hex()
            self.assertEqual(int(n), len(body), where)
            self.assertEqual(policy, o.policy, where)
            self.assertEqual(enc, o.encoding, where)
            self.assertEqual(errors, o.errors, where)
            self.assertEqual(int(zero_copy), int(o.zero_copy), where)
            self.assertEqual(int(fix_imports), int(o.fix_imports), where)
            self.assertEqual(int(nbuf), pnbuf, where)
            for i, flag in enumerate((ro0, ro1)):
                if pro[i] is not None:
                    self.assertEqual(int(flag), pro[i], where)
            caps = [c and c[0] for c in fuzzinput.CAPS]
            self.assertEqual(caps[int(cap)], o.cap and o.cap[0], where)
            self.assertEqual(int(ext), int(o.extensions), where)
            checked += 1
        print('fuzzinput: %d option tails agree with harness/fuzz_common.c' % checked)

    def test_join_splits_back(self):
        for tail in (b'\x00', b'\x80', b'\x00\x80', b'\x41\xc3', b'\x07'):
            for body in (b'', b'.', b'\x80\x05K\x01.'):
                b1, o1 = fuzzinput.split(body + tail)
                for new_body in (b'', b'N.', b1):
                    b2, o2 = fuzzinput.split(fuzzinput.join(new_body, o1))
                    self.assertEqual(b2, new_body, (body, tail))
                    self.assertEqual(o2.describe(), o1.describe(), (body, tail))

    def test_brine_and_oracle_arguments(self):
        _, o = fuzzinput.split(b'.' + bytes([0x40 | 0x20 | 0x04 | 0x01]))  # builtins, bytes, zero copy, no fix
        args = o.brine_args('/tmp')
        self.assertIn('--zero-copy', args)
        self.assertIn('--no-fix-imports', args)
        self.assertEqual(args[args.index('--encoding') + 1], 'bytes')
        self.assertEqual(args[args.index('--policy') + 1], 'builtins')
        self.assertNotIn('--zero-copy', o.oracle_args('/tmp'))


if __name__ == '__main__':
    unittest.main()
