"""Tests of the case generator (oracle/generate.py, oracle/cases/).

Determinism (in process and across two child processes started with
different hash seeds), the manifest's consistency with the files, the CLI,
and opcode coverage: every opcode CPython 3.11's pickler can emit at a
protocol appears in the corpus at that protocol, and no other.
"""

import hashlib
import json
import os
import pickletools
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from oracle import generate as G                       # noqa: E402
from oracle.cases import families as F                 # noqa: E402
from oracle.cases.handwritten import HANDWRITTEN_PY2, HANDWRITTEN_RARE   # noqa: E402
from oracle.malformed import raw_ops                   # noqa: E402

SEED = 20240611


def run_cli(args, hash_seed=None, **kw):
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + (os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    if hash_seed is None:
        env.pop('PYTHONHASHSEED', None)
    else:
        env['PYTHONHASHSEED'] = str(hash_seed)
    return subprocess.run([sys.executable, '-m', 'oracle.generate'] + args, env=env,
                          capture_output=True, text=True, **kw)


def read_dir(path):
    out = {}
    for name in sorted(os.listdir(path)):
        with open(os.path.join(path, name), 'rb') as f:
            out[name] = f.read()
    return out


# What CPython 3.11's C pickler can write at each protocol.  Starting from
# the opcodes pickletools says exist at that protocol, take away:
NEVER = {
    'STRING', 'BINSTRING', 'SHORT_BINSTRING',  # bytes go through BINBYTES or _codecs.encode
    'INST', 'OBJ', 'DUP',                      # Python 2 only / never written
    'BINUNICODE8', 'BINBYTES8',                # only for objects of 4 GiB and more
}
SUPERSEDED = {                                 # a binary opcode is used instead
    1: {'UNICODE', 'FLOAT', 'LIST', 'DICT', 'GET', 'PUT', 'PERSID'},
    2: {'INT', 'LONG'},                        # bools are NEWTRUE/NEWFALSE, ints LONG1/4
    4: {'BINPUT', 'LONG_BINPUT', 'GLOBAL'},    # MEMOIZE and STACK_GLOBAL
}
# and add what it writes from a later protocol: a __reduce__ state setter is
# called with TUPLE2 REDUCE POP at every protocol.
EXTRA = {0: {'TUPLE2'}, 1: {'TUPLE2'}}


def emittable(protocol):
    names = {op.name for op in pickletools.opcodes if op.proto <= protocol}
    names -= NEVER
    for p, ops in SUPERSEDED.items():
        if protocol >= p:
            names -= ops
    return names | EXTRA.get(protocol, set())


class DeterminismTest(unittest.TestCase):

    def records(self, seed, **kw):
        return [c.to_record() for c in G.generate_cases(seed, **kw)]

    def test_same_seed_same_cases(self):
        a = self.records(SEED, families=['int_small', 'str_random', 'sets', 'mixed_random'])
        b = self.records(SEED, families=['int_small', 'str_random', 'sets', 'mixed_random'])
        self.assertEqual(a, b)
        c = self.records(SEED + 1, families=['int_small', 'str_random', 'sets', 'mixed_random'])
        self.assertNotEqual(a, c)

    def test_family_independent_of_selection(self):
        alone = self.records(SEED, families=['mixed_random'])
        among = [r for r in self.records(SEED, families=['str_random', 'mixed_random'])
                 if r['family'] == 'mixed_random']
        self.assertEqual(alone, among)

    def test_index_independent_of_protocols(self):
        every = {(r['family'], r['index'], r['protocol']): r['data']
                 for r in self.records(SEED, families=['int_huge', 'slots', 'picklebuffer'])}
        some = self.records(SEED, families=['int_huge', 'slots', 'picklebuffer'], protocols=[2, 5])
        self.assertTrue(some)
        for r in some:
            self.assertIn(r['protocol'], (2, 5))
            self.assertEqual(every[(r['family'], r['index'], r['protocol'])], r['data'])

    def test_two_processes_with_different_hash_seeds(self):
        with tempfile.TemporaryDirectory() as tmp:
            a, b = os.path.join(tmp, 'a'), os.path.join(tmp, 'b')
            r1 = run_cli(['--seed', str(SEED), '--out', a], hash_seed=1)
            r2 = run_cli(['--seed', str(SEED), '--out', b], hash_seed='random')
            self.assertEqual(r1.returncode, 0, r1.stderr)
            self.assertEqual(r2.returncode, 0, r2.stderr)
            da, db = read_dir(a), read_dir(b)
            self.assertEqual(sorted(da), sorted(db))
            for name in da:
                self.assertEqual(da[name], db[name], name)


class ManifestTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.out = os.path.join(cls.tmp.name, 'corpus')
        cls.manifest = G.write_corpus(cls.out, SEED)
        with open(os.path.join(cls.out, 'manifest.json'), encoding='utf-8') as f:
            cls.text = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_manifest_on_disk_is_the_returned_one(self):
        self.assertEqual(json.loads(self.text), self.manifest)
        self.text.encode('ascii')

    def test_header(self):
        m = self.manifest
        self.assertEqual(m['format'], 'brine-corpus/1')
        self.assertEqual(m['kind'], 'generated')
        self.assertEqual(m['seed'], SEED)
        self.assertEqual(m['hash_seed'], 0)
        self.assertEqual(m['protocols'], [0, 1, 2, 3, 4, 5])
        self.assertEqual(m['families'], list(F.FAMILIES))

    def test_files_match_manifest(self):
        listed = set(['manifest.json'])
        stem_re = re.compile(r'^([a-z0-9_]+)-(\d+)-p([0-5])$')
        seen = set()
        for c in self.manifest['cases']:
            stem = c['file'][:-len('.pickle')]
            self.assertTrue(c['file'].endswith('.pickle'))
            m = stem_re.match(stem)
            self.assertTrue(m, c['file'])
            self.assertEqual((m.group(1), int(m.group(2)), int(m.group(3))),
                             (c['family'], c['index'], c['protocol']))
            self.assertNotIn(c['file'], seen)
            seen.add(c['file'])
            listed.add(c['file'])
            with open(os.path.join(self.out, c['file']), 'rb') as f:
                data = f.read()
            self.assertEqual(len(data), c['size'])
            self.assertEqual(hashlib.sha256(data).hexdigest(), c['sha256'])
            self.assertEqual(c['seed'], SEED)
            self.assertIn(c['how'], ('dumps', 'pickler+persistent_id',
                                     'pickler+buffer_callback', 'handwritten'))
            self.assertEqual(c['roundtrip'], c['roundtrip_policies'] == ['symbolic', 'builtins'])
            self.assertEqual(c['roundtrip'], not c['roundtrip_note'], c['file'])
            self.assertTrue(c['description'])
            self.assertFalse(c['resource_risky'])
            if c['how'] == 'handwritten':
                self.assertFalse(c['roundtrip'])
            if c['buffers']:
                self.assertEqual(c['how'], 'pickler+buffer_callback')
            for i, b in enumerate(c['buffers']):
                self.assertEqual(b['file'], '%s.buf%d%s' % (stem, i, '.ro' if b['readonly'] else ''))
                with open(os.path.join(self.out, b['file']), 'rb') as f:
                    bdata = f.read()
                self.assertEqual(len(bdata), b['size'])
                self.assertEqual(hashlib.sha256(bdata).hexdigest(), b['sha256'])
                listed.add(b['file'])
            if c['protocol'] >= 2 and c['how'] != 'handwritten':
                self.assertEqual(data[:2], bytes([0x80, c['protocol']]))
            if c['how'] != 'handwritten':
                ops = list(pickletools.genops(data))
                self.assertEqual(ops[-1][0].name, 'STOP')
                self.assertEqual(ops[-1][2], len(data) - 1)
        self.assertEqual(set(os.listdir(self.out)), listed)

    def test_out_of_band_buffers_recorded(self):
        pb = [c for c in self.manifest['cases'] if c['how'] == 'pickler+buffer_callback']
        self.assertTrue(pb)
        nbuf = sum(len(c['buffers']) for c in pb)
        ro = sum(b['readonly'] for c in pb for b in c['buffers'])
        self.assertGreater(nbuf, ro)
        self.assertGreater(ro, 0)
        for c in pb:
            with open(os.path.join(self.out, c['file']), 'rb') as f:
                names = [op.name for op, _, _ in pickletools.genops(f.read())]
            self.assertEqual(names.count('NEXT_BUFFER'), len(c['buffers']), c['file'])
            self.assertEqual(names.count('READONLY_BUFFER'),
                             sum(b['readonly'] for b in c['buffers']), c['file'])

    def test_size_budget(self):
        cases = self.manifest['cases']
        total = sum(c['size'] + sum(b['size'] for b in c['buffers']) for c in cases)
        self.assertLess(len(cases), 6000)
        self.assertLess(total, 6 * 1024 * 1024)

    def test_rewrite_removes_stale_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            G.write_corpus(tmp, SEED, families=['int_small', 'picklebuffer'])
            G.write_corpus(tmp, SEED, families=['singletons'])
            names = set(os.listdir(tmp))
            self.assertTrue(all(n.startswith('singletons-') or n == 'manifest.json'
                                for n in names), names)

    def test_opcode_coverage_per_protocol(self):
        seen = {p: set() for p in range(6)}
        for c in self.manifest['cases']:
            if c['how'] == 'handwritten':
                continue
            with open(os.path.join(self.out, c['file']), 'rb') as f:
                for op, _, _ in pickletools.genops(f.read()):
                    seen[c['protocol']].add(op.name)
        for p in range(6):
            with self.subTest(protocol=p):
                self.assertEqual(sorted(emittable(p) - seen[p]), [], 'never written')
                self.assertEqual(sorted(seen[p] - emittable(p)), [], 'unexpected')


class FamiliesTest(unittest.TestCase):

    def test_family_names(self):
        for name, (fn, doc) in F.FAMILIES.items():
            self.assertRegex(name, r'^[a-z0-9_]+$')
            self.assertTrue(doc)

    def test_handwritten_streams_are_well_formed(self):
        # raw_ops, not genops: pickletools insists on ASCII STRING arguments
        for p, data, desc in HANDWRITTEN_PY2 + HANDWRITTEN_RARE:
            with self.subTest(desc=desc):
                ops = list(raw_ops(data))
                self.assertTrue(all(arg is not None for _, _, arg in ops))
                self.assertEqual(ops[-1][0].name, 'STOP')
                self.assertEqual(ops[-1][1], len(data) - 1)
                if ops[0][0].name == 'PROTO':
                    self.assertEqual(data[1], p)
        for p, data, desc in HANDWRITTEN_PY2:
            with self.subTest(desc=desc):
                # Python 2 wrote only opcodes of its protocol
                self.assertLessEqual(max(op.proto for op, _, _ in raw_ops(data)), p)

    def test_handwritten_cover_decode_only_opcodes(self):
        names = set()
        for _, data, _ in HANDWRITTEN_PY2 + HANDWRITTEN_RARE:
            names |= {op.name for op, _, _ in raw_ops(data)}
        self.assertEqual(sorted(NEVER - names), [])

    def test_roundtrip_flags(self):
        cases = list(G.generate_cases(SEED, families=['identity_edges', 'extensions', 'reduce',
                                                      'str_basic', 'py2_handwritten']))
        by = {c.stem: c for c in cases}
        self.assertFalse(by['identity_edges-0-p4'].roundtrip)
        self.assertTrue(by['identity_edges-1-p4'].roundtrip)
        self.assertEqual(by['identity_edges-1-p2'].roundtrip_policies, ('symbolic',))
        self.assertFalse(by['identity_edges-2-p2'].roundtrip)
        self.assertTrue(by['identity_edges-2-p3'].roundtrip)
        self.assertTrue(by['identity_edges-3-p2'].roundtrip)
        self.assertTrue(by['extensions-0-p1'].roundtrip)
        self.assertFalse(by['extensions-0-p2'].roundtrip)
        self.assertTrue(all(c.roundtrip for c in cases if c.family == 'str_basic'))
        self.assertFalse(any(c.roundtrip for c in cases if c.family == 'py2_handwritten'))

    def test_identity_duplicates(self):
        import pickle
        a = 'a'
        self.assertEqual(G.identity_duplicates(pickle.dumps([a, chr(97)], 4)), [('str', 'a')])
        self.assertEqual(G.identity_duplicates(pickle.dumps([a, a], 4)), [])
        self.assertEqual(G.identity_duplicates(pickle.dumps(['\xe9', chr(0xe9)], 4)), [])


class CliTest(unittest.TestCase):

    def test_list_families(self):
        r = run_cli(['--list-families'])
        self.assertEqual(r.returncode, 0, r.stderr)
        names = [line.split()[0] for line in r.stdout.splitlines()]
        self.assertEqual(names, list(F.FAMILIES))

    def test_list_malformed_families(self):
        from oracle.malformed import MALFORMED_FAMILIES
        r = run_cli(['--list-families', '--malformed'])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([line.split()[0] for line in r.stdout.splitlines()],
                         list(MALFORMED_FAMILIES))

    def test_filters_and_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = run_cli(['--seed', '5', '--families', 'singletons,complex', '--protocols', '0,4',
                         '--count-per-family', '1', '--out', tmp])
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(os.path.join(tmp, 'manifest.json')) as f:
                m = json.load(f)
            self.assertEqual(m['families'], ['singletons', 'complex'])
            self.assertEqual({c['protocol'] for c in m['cases']}, {0, 4})
            self.assertEqual(m['count_per_family'], 1)
        r = run_cli(['--families', 'no_such_family', '--out', os.devnull])
        self.assertEqual(r.returncode, 2)
        self.assertIn('no_such_family', r.stderr)
        r = run_cli(['--protocols', '6'])
        self.assertEqual(r.returncode, 2)


if __name__ == '__main__':
    unittest.main()
