"""Tests of the malformed-stream generator (oracle/malformed.py)."""

import json
import os
import pickle
import pickletools
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from oracle import generate as G                     # noqa: E402
from oracle import malformed as M                    # noqa: E402

SEED = 77


def cases(**kw):
    return list(G.generate_cases(SEED, malformed=True, **kw))


class MalformedTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.cases = cases()

    def test_deterministic(self):
        again = cases()
        self.assertEqual([c.to_record() for c in self.cases], [c.to_record() for c in again])
        other = list(G.generate_cases(SEED + 1, malformed=True))
        self.assertNotEqual([c.data for c in self.cases], [c.data for c in other])

    def test_cli_two_processes(self):
        outs = []
        with tempfile.TemporaryDirectory() as tmp:
            for i, hs in enumerate(('1', 'random')):
                out = os.path.join(tmp, str(i))
                env = dict(os.environ, PYTHONHASHSEED=hs, PYTHONPATH=ROOT)
                r = subprocess.run([sys.executable, '-m', 'oracle.generate', '--malformed',
                                    '--seed', str(SEED), '--protocols', '2,5', '--out', out],
                                   env=env,
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                files = {}
                for name in sorted(os.listdir(out)):
                    with open(os.path.join(out, name), 'rb') as f:
                        files[name] = f.read()
                outs.append(files)
            self.assertEqual(outs[0], outs[1])
            m = json.loads(outs[0]['manifest.json'])
            self.assertEqual(m['kind'], 'malformed')
            self.assertEqual(m['protocols'], [2, 5])
            expected = [c.file for c in self.cases if c.protocol in (2, 5)]
            self.assertEqual([c['file'] for c in m['cases']], expected)
            for c in self.cases:
                if c.protocol in (2, 5):
                    self.assertEqual(outs[0][c.file], c.data)

    def test_every_opcode_exercised(self):
        seen = set()
        for c in self.cases:
            seen.update(M.scan_opcodes(c.data))
        self.assertEqual(len(pickletools.opcodes), 68)
        self.assertEqual(sorted({op.name for op in pickletools.opcodes} - seen), [])

    def test_metadata(self):
        names = set()
        for c in self.cases:
            self.assertEqual(c.how, 'malformed')
            self.assertFalse(c.roundtrip)
            self.assertEqual(c.roundtrip_policies, ())
            self.assertTrue(c.extra['base'])
            self.assertTrue(c.extra['mutation'])
            self.assertIn(c.family, M.MALFORMED_FAMILIES)
            self.assertNotIn(c.file, names)
            names.add(c.file)
            if M.risk_scan(c.data):
                self.assertTrue(c.resource_risky, c.file)
            e = c.manifest_entry()
            self.assertEqual(e['base'], c.extra['base'])

    def test_huge_lengths_are_risky(self):
        for c in self.cases:
            if c.family == 'mal_length' and ('0xffffffff' in c.description
                                             or '0x100000000' in c.description):
                if 'BINSTRING' in c.description or 'LONG4' in c.description:
                    continue    # read as -1: an error, not an allocation
                self.assertTrue(c.resource_risky, c.description)
        self.assertTrue(M.risk_scan(b'\x80\x05\x96' + (2**40).to_bytes(8, 'little') + b'.'))
        self.assertTrue(M.risk_scan(b'I1\np99999999\n.'))
        self.assertFalse(M.risk_scan(pickle.dumps([b'x' * 100, 'y'], 5)))

    def test_truncations_cover_every_prefix(self):
        by_base = {}
        for c in self.cases:
            if c.family == 'mal_truncate':
                by_base.setdefault(c.extra['base'], set()).add(len(c.data))
        self.assertTrue(by_base)
        for base, lengths in by_base.items():
            self.assertEqual(lengths, set(range(max(lengths) + 1)), base)

    def test_opcode_insertion_is_exhaustive(self):
        per_base = {}
        for c in self.cases:
            if c.family == 'mal_opcode_insert':
                per_base[c.extra['base']] = per_base.get(c.extra['base'], 0) + 1
        self.assertEqual(len(per_base), 3)
        for base, n in per_base.items():
            self.assertEqual(n % 68, 0, base)

    def test_protocol_filter_keeps_indices(self):
        every = {c.stem: c.data for c in self.cases}
        some = cases(protocols=[0, 4])
        self.assertTrue(some)
        for c in some:
            self.assertIn(c.protocol, (0, 4))
            self.assertEqual(every[c.stem], c.data)

    def test_cpython_does_not_blow_up_on_safe_cases(self):
        """Non-risky streams through pickle.loads with no globals allowed,
        under a 2 GiB address-space limit: no MemoryError, no hang."""
        code = r'''
import io, marshal, pickle, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
class Safe(pickle.Unpickler):
    def find_class(self, module, name):
        raise pickle.UnpicklingError('blocked %s.%s' % (module, name))
records = marshal.load(sys.stdin.buffer)
bad = []
for name, data, bufs in records:
    try:
        Safe(io.BytesIO(data), buffers=[b if ro else bytearray(b) for b, ro in bufs]).load()
    except MemoryError:
        bad.append(name)
    except BaseException:
        pass
print(' '.join(bad))
'''
        records = [(c.file, c.data, [[b, ro] for b, ro in c.buffer_data])
                   for c in self.cases if not c.resource_risky]
        import marshal
        r = subprocess.run([sys.executable, '-W', 'ignore', '-c', code],
                           input=marshal.dumps(records), capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-3000:])
        self.assertEqual(r.stdout.decode().split(), [])


if __name__ == '__main__':
    unittest.main()
