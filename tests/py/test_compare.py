"""oracle.compare with the real brine: outcome classes that real streams
produce, both policies, the set-order fallback, manifests, a generated
corpus, and the command line.

Real disagreements come from comparing brine (which follows CPython's C
unpickler) with the pure-Python reference (impl='python'), and from the
documented known differences.  Environment: BRINE_BIN (default build/brine).
"""

import io
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest
from contextlib import redirect_stderr, redirect_stdout

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from oracle import compare  # noqa: E402
from oracle.compare import BrineOutcome, Comparer, classify_outcomes  # noqa: E402
from oracle.limits import Limits  # noqa: E402
from oracle.reference import Outcome  # noqa: E402

BRINE = os.environ.get('BRINE_BIN') or str(ROOT / 'build' / 'brine')
POLICIES = ('symbolic', 'builtins')


def deep_pair(depth):
    """A dict with two equal, non-identical keys: tuples nested `depth` deep."""
    t = b')' + b'\x85' * depth
    return b'\x80\x04}' + t + b'K\x01s' + t + b'K\x02s.'


def shared_pair(depth):
    """Two equal keys t = (t', t'), `depth` levels of sharing each: CPython
    hashes and compares them in 2**depth steps."""
    t = b')' + b'2\x86' * depth
    return b'\x80\x04}' + t + b'K\x01s' + t + b'K\x02s.'


# BYTEARRAY8 b'', MEMOIZE, READONLY_BUFFER, POP (the view dies in CPython),
# BINGET 0, APPENDS [65]: CPython bytearray(b'A'), brine BufferError.
BYTEARRAY_EXPORT = b'\x80\x05\x96' + bytes(8) + b'\x94\x980h\x00(KAe.'


@unittest.skipUnless(os.access(BRINE, os.X_OK), 'brine not built: ' + BRINE)
class RealClassesTest(unittest.TestCase):
    """Every class a real stream produces, under both policies."""

    @classmethod
    def setUpClass(cls):
        cls.c = Comparer(brine=BRINE)
        cls.py = Comparer(brine=BRINE, impl='python')

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.py.close()

    def check(self, comparer, data, cls, entry=None, **kw):
        for policy in POLICIES:
            r = comparer.compare(data, policy=policy, **kw)
            self.assertEqual((r.cls, r.entry), (cls, entry), (policy, r.brine, r.reference))
            self.assertEqual(r.policy, policy)
        return r

    def test_agree_accept_and_reject(self):
        r = self.check(self.c, b'\x80\x04]K\x01a.', 'agree')
        self.assertEqual(r.brine.text, 'root: [1]\n')
        r = self.check(self.c, b'(.', 'agree')
        self.assertEqual(r.brine.exc_class, 'UnpicklingError')
        self.assertEqual(r.brine.offset, 1)

    def test_agree_with_buffers(self):
        r = self.check(self.c, b'\x80\x05\x97\x98.', 'agree', buffers=[(b'ab', False)])
        self.assertEqual(r.brine.text, 'root: readonly(buffer(0))\n')
        self.check(self.c, b'\x80\x05\x97\x97.', 'agree', buffers=[(b'ab', True)])

    def test_policies_differ_but_each_agrees(self):
        data = b'\x80\x02c__builtin__\nset\n]K\x01a\x85R.'
        sym = self.c.compare(data, policy='symbolic')
        blt = self.c.compare(data, policy='builtins')
        self.assertEqual((sym.cls, blt.cls), ('agree', 'agree'))
        self.assertIn('call(', sym.brine.text)
        self.assertEqual(blt.brine.text, 'root: {1}\n')

    def test_different_graph(self):
        # C strtol reads I+1 as True; pickle._Unpickler as 1.
        r = self.check(self.py, b'I+1\n.', 'different-graph')
        self.assertEqual((r.brine.text, r.reference.text), ('root: True\n', 'root: 1\n'))

    def test_different_exception(self):
        # counted strings: C checks the length, _Unpickler hits EOF later.
        r = self.check(self.py, b'\x8c\x05ab.', 'different-exception')
        self.assertEqual((r.brine.exc_class, r.reference.exc_class),
                         ('UnpicklingError', 'EOFError'))

    def test_brine_accepts_reference_rejects(self):
        # empty APPENDS on None: no-op in C, AttributeError in _Unpickler
        self.check(self.py, b'N(e.', 'brine-accepts-reference-rejects')

    def test_brine_rejects_reference_accepts(self):
        # BUILD with a falsy non-dict state: C rejects, _Unpickler ignores (gh-128965)
        self.check(self.py, b']]b.', 'brine-rejects-reference-accepts')

    def test_reference_resource_memo(self):
        r = self.check(self.c, b'Nr\xff\xff\xff\x7f.', 'reference-resource', 'huge-memo-index')
        self.assertEqual(r.reference.exc_class, 'MemoryError')
        self.assertEqual(r.brine.text, 'root: None\n')
        self.assertTrue(r.ok)

    def test_reference_resource_length(self):
        data = b'\x80\x04\x8e' + (3 << 30).to_bytes(8, 'little') + b'ab.'
        r = self.check(self.c, data, 'reference-resource', 'huge-length')
        self.assertEqual(r.brine.exc_class, 'UnpicklingError')

    def test_reference_timeout_shared_compare(self):
        with Comparer(brine=BRINE, limits=Limits(timeout=0.5)) as c:
            r = c.compare(shared_pair(40))
        self.assertEqual((r.cls, r.entry), ('reference-resource', 'shared-compare'))
        self.assertEqual(r.reference.exc_class, 'Timeout')
        self.assertEqual(r.brine.kind, 'accept')

    def test_known_difference_deep_compare(self):
        r = self.check(self.c, deep_pair(1200), 'known-difference', 'deep-compare')
        self.assertEqual(r.reference.exc_class, 'RecursionError')
        self.check(self.c, deep_pair(100), 'agree')

    def test_known_difference_bytearray_export(self):
        r = self.check(self.c, BYTEARRAY_EXPORT, 'known-difference', 'bytearray-export')
        self.assertEqual(r.reference.text, "root: bytearray(b'A')\n")

    def test_known_difference_codecs(self):
        with Comparer(brine=BRINE, encoding='cp1252') as c:
            r = self.check(c, b'U\x02a\x80.', 'known-difference', 'codecs')
            self.assertEqual(r.brine.exc_class, 'LookupError')
            # no Python 2 string: nothing to excuse, and nothing differs
            self.check(c, b'\x80\x04K\x01.', 'agree')

    def test_pipelined_equals_single(self):
        inputs = [b'\x80\x04]K\x01a.', b'(.', BYTEARRAY_EXPORT, b'Nr\xff\xff\xff\x7f.',
                  (b'\x80\x05\x97.', [(b'x', True)], None), b'I01\n.']
        single = [self.c.compare(*(i if isinstance(i, tuple) else (i,))) for i in inputs]
        many = list(self.c.compare_many(inputs))
        self.assertEqual([(r.cls, r.entry) for r in many], [(r.cls, r.entry) for r in single])
        self.assertEqual([r.brine.output() for r in many], [r.brine.output() for r in single])

    def test_one_process_each(self):
        with Comparer(brine=BRINE, batch=16) as c:
            rs = list(c.compare_many([b'\x80\x04K%c.' % i for i in range(200)]))
            self.assertEqual({r.cls for r in rs}, {'agree'})
            self.assertEqual(c.worker.starts, 1)
            self.assertEqual([ch.starts for ch in c._brines.values()], [1])
            c.compare(b'N.', policy='builtins')
            self.assertEqual(len(c._brines), 2)  # one per option set


class SetOrderTest(unittest.TestCase):
    """Texts that differ only in set order when the reference printed sorted sets."""

    def test_sorted_sets(self):
        s = compare.sorted_sets
        self.assertEqual(s('root: {3, 1, 2}\n'), 'root: {1, 2, 3}\n')
        self.assertEqual(s("root: frozenset({'b', 'a'})\n"), "root: frozenset({'a', 'b'})\n")
        self.assertEqual(s("root: {'b': 1, 'a': 2}\n"), "root: {'b': 1, 'a': 2}\n")
        self.assertEqual(s("root: ['}, {', {2, 1}]\n"), "root: ['}, {', {1, 2}]\n")
        # labels renumbered after sorting
        self.assertEqual(s('root: [{(&2 (), 1), (&1 (), 0)}, *1, *2]\n'),
                         s('root: [{(&1 (), 0), (&2 (), 1)}, *1, *2]\n'))
        self.assertEqual(s('root: {(1,'), 'root: {(1,')  # malformed: unchanged

    def test_unverified_order(self):
        b = BrineOutcome('accept', text='root: [{3, 1}, &1 (1,), *1]\n')
        r = Outcome('accept', text='root: [{1, 3}, &1 (1,), *1]\n', set_order_verified=False)
        self.assertEqual(classify_outcomes(b, r), ('agree', compare.SET_ORDER_NOTE))
        r.set_order_verified = True
        self.assertEqual(classify_outcomes(b, r), ('different-graph', None))
        r = Outcome('accept', text='root: [{1, 4}]\n', set_order_verified=False)
        self.assertEqual(classify_outcomes(b, r)[0], 'different-graph')

    def test_internal_error(self):
        b = BrineOutcome('accept', text='root: 1\n')
        r = Outcome('internal', exc_class='OracleError', message='Traceback ...')
        self.assertEqual(classify_outcomes(b, r)[0], 'oracle-error')


def write_manifest_dir(d):
    """A corpus directory: a case with a buffer, one skipped, one with an extension."""
    p = pathlib.Path(d)
    (p / 'a-0-p5.pickle').write_bytes(b'\x80\x05\x97.')
    (p / 'a-0-p5.buf0.ro').write_bytes(b'xyz')
    (p / 'b-0-p4.pickle').write_bytes(b'\x80\x04K\x01.')
    (p / 'c-0-p2.pickle').write_bytes(b'\x80\x02\x82\x01.')
    cases = [
        {'file': 'a-0-p5.pickle', 'buffers': [{'file': 'a-0-p5.buf0.ro', 'readonly': True}],
         'extensions': [], 'resource_risky': False},
        {'file': 'b-0-p4.pickle', 'buffers': [], 'extensions': [], 'skip': 'for the test'},
        {'file': 'c-0-p2.pickle', 'buffers': [], 'extensions': [['m', 'n', 1]]},
    ]
    (p / 'manifest.json').write_text(json.dumps({'format': 'brine-corpus/1', 'cases': cases}))


@unittest.skipUnless(os.access(BRINE, os.X_OK), 'brine not built: ' + BRINE)
class CorpusTest(unittest.TestCase):

    def test_manifest(self):
        with tempfile.TemporaryDirectory() as d:
            write_manifest_dir(d)
            inputs = list(compare.iter_inputs([d]))
            self.assertEqual([os.path.basename(i.name) for i in inputs],
                             ['a-0-p5.pickle', 'b-0-p4.pickle', 'c-0-p2.pickle'])
            self.assertEqual(inputs[0].buffers, [(b'xyz', True)])
            self.assertEqual(inputs[1].skip, 'for the test')
            self.assertEqual(inputs[2].extensions, {1: ('m', 'n')})
            one = compare._file_input(os.path.join(d, 'a-0-p5.pickle'))
            self.assertEqual(one.buffers, [(b'xyz', True)])
            with Comparer(brine=BRINE) as c:
                rs = list(c.compare_many(inputs))
            self.assertEqual([r.cls for r in rs], ['agree', 'skipped', 'agree'])
            self.assertEqual(rs[0].brine.text, 'root: buffer(0)\n')

    def test_generated_corpus_both_policies(self):
        """A small generated corpus agrees under both policies (known
        differences allowed), through the command line."""
        with tempfile.TemporaryDirectory() as d:
            env = dict(os.environ, PYTHONPATH=str(ROOT))
            subprocess.run([sys.executable, '-m', 'oracle', 'generate', '--seed', '1',
                            '--out', d, '--families',
                            'int_small,str_basic,dicts,sets,shared,recursive,reduce,'
                            'picklebuffer,py2_handwritten,extensions',
                            '--count-per-family', '2'],
                           check=True, env=env, stdout=subprocess.DEVNULL)
            n = len(json.loads((pathlib.Path(d) / 'manifest.json').read_text())['cases'])
            self.assertGreater(n, 50)
            out = io.StringIO()
            js = os.path.join(d, 'out.json')
            with redirect_stdout(out):
                rc = compare.main(['--brine', BRINE, '--json', js, d])
            text = out.getvalue()
            self.assertEqual(rc, 0, text)
            self.assertIn('policy symbolic: %d inputs' % n, text)
            self.assertIn('policy builtins: %d inputs' % n, text)
            report = json.loads(pathlib.Path(js).read_text())
            self.assertEqual(len(report['results']), 2 * n)
            for policy in POLICIES:
                counts = report['summary'][policy]['counts']
                self.assertEqual(set(counts) - {'agree', 'known-difference'}, set(), counts)

    def test_cli_failure_exit_status(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'x.pickle')
            pathlib.Path(path).write_bytes(b'I+1\n.')
            out = io.StringIO()
            with redirect_stdout(out):
                rc = compare.main(['--brine', BRINE, '--impl', 'python', '--policy',
                                   'symbolic', '--show', '1', path])
            self.assertEqual(rc, 1)
            self.assertIn('--- different-graph  [symbolic] ' + path, out.getvalue())
            self.assertIn('  brine:     root: True', out.getvalue())
            self.assertIn('  reference: root: 1', out.getvalue())
            self.assertRegex(out.getvalue(), r'different-graph +1\n')

    def test_cli_usage(self):
        err = io.StringIO()
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            self.assertEqual(compare.main(['--brine', '/nonexistent/brine', '.']), 2)
        self.assertIn('brine executable not found', err.getvalue())


if __name__ == '__main__':
    unittest.main()
