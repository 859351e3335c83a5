"""oracle.conformance: the protocol rule, the counting (buckets, cells,
smallest failing input per cell, failure ids), the regression archive
reader, and runs through oracle.compare with the real brine and with a
fake brine that rejects every stream reading DUP (test_oracle_reduce's
planted fake), so that failing cells exist.  Environment: BRINE_BIN.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from oracle import conformance as C  # noqa: E402
from test_oracle_reduce import BRINE, write_fake  # noqa: E402

# CPython bytearray(b'A'), brine BufferError: the bytearray-export known difference.
BYTEARRAY_EXPORT = b'\x80\x05\x96' + bytes(8) + b'\x94\x980h\x00(KAe.'
# BINBYTES8 of 2**40 bytes: CPython allocates first (MemoryError), huge-length.
HUGE = b'\x80\x04\x8e' + (1 << 40).to_bytes(8, 'little') + b'.'


class ProtocolRuleTest(unittest.TestCase):

    def test_rule(self):
        P = C.stream_protocol
        self.assertEqual(P(b'\x80\x02N.'), '2')
        self.assertEqual(P(b'\x80\x05N.'), '5')
        self.assertEqual(P(b'\x80\x06N.'), 'invalid')
        self.assertEqual(P(b'\x80'), 'unknown')
        self.assertEqual(P(b'(lp0\nI1\na.'), '0')
        self.assertEqual(P(b']q\x00K\x01a.'), '1')            # EMPTY_LIST, BINPUT: protocol 1
        self.assertEqual(P(b'\x8c\x01a\x94.'), 'unknown')     # protocol-4 opcodes, no PROTO
        self.assertEqual(P(b'N\x80\x04.'), 'unknown')         # a PROTO later is just an opcode
        self.assertEqual(P(b''), '0')


class TallyTest(unittest.TestCase):
    """Counting on hand-made comparisons, with a fake divergence."""

    def tally(self):
        t = C.Tally()
        adds = [
            # source, name, policy, protocol, opcodes, class, entry, data
            ('generated', 'a', 'symbolic', '2', ['PROTO', 'NONE', 'STOP'], 'agree', None,
             b'\x80\x02N.'),
            ('generated', 'b', 'symbolic', '2', ['PROTO', 'NONE', 'DUP', 'STOP'],
             'brine-rejects-reference-accepts', None, b'\x80\x02N2.'),
            ('malformed', 'c', 'builtins', '0', ['NONE', 'DUP', 'STOP'],
             'different-graph', None, b'N2.'),
            ('malformed', 'd', 'builtins', '0', ['NONE', 'DUP', 'DUP', 'STOP'],
             'different-graph', None, b'N22.'),
            ('malformed', 'e', 'symbolic', '4', ['PROTO', 'BINBYTES8'], 'reference-resource',
             'huge-length', HUGE),
            ('malformed', 'f', 'symbolic', '5', ['PROTO', 'BYTEARRAY8', 'STOP'],
             'known-difference', 'bytearray-export', BYTEARRAY_EXPORT),
            ('regressions', 'g', 'symbolic', '2', ['PROTO', 'DUP', 'STOP'], 'brine-crash', None,
             b'\x80\x022.'),
        ]
        for src, name, pol, proto, ops, cls, entry, data in adds:
            t.add_stream(src)
            path = 'corpus/regressions/g/input' if src == 'regressions' else None
            t.add(src, name, pol, proto, ops, cls, entry, data, path, 'b-line', 'r-line')
        return t.report({'seed': 7})

    def test_cells(self):
        r = self.tally()
        self.assertEqual(r['seed'], 7)
        o = r['overall']
        self.assertEqual((o['total'], o['agree'], o['known'], o['resource'], o['fail']),
                         (7, 1, 1, 1, 4))
        self.assertAlmostEqual(o['agree_rate'], 1 / 7, places=5)
        p2 = r['by_protocol']['2']
        self.assertEqual((p2['total'], p2['agree'], p2['fail']), (3, 1, 2))
        self.assertEqual(list(r['by_protocol']), ['0', '2', '4', '5'])
        dup = r['by_opcode']['DUP']
        # 'd' lists DUP twice: one comparison counts once per opcode
        self.assertEqual((dup['total'], dup['fail'], dup['agree_rate']), (4, 4, 0.0))
        self.assertEqual(dup['protocols']['0']['total'], 2)
        self.assertEqual(r['by_opcode']['NONE']['total'], 4)
        self.assertEqual(r['by_opcode']['BINBYTES8']['resource'], 1)
        self.assertEqual(r['by_opcode']['BYTEARRAY8']['known'], 1)
        self.assertEqual(r['by_opcode']['MARK']['total'], 0)   # every opcode is listed
        self.assertIsNone(r['by_opcode']['MARK']['agree_rate'])
        self.assertEqual(len(r['by_opcode']), 68)
        self.assertEqual(r['by_class'], {'agree': 1, 'known-difference': 1,
                                         'reference-resource': 1, 'different-graph': 2,
                                         'brine-rejects-reference-accepts': 1,
                                         'brine-crash': 1})
        self.assertEqual(r['known_entries'], {'bytearray-export': 1, 'huge-length': 1})
        self.assertEqual(r['sources'], {'generated': 2, 'malformed': 4, 'regressions': 1})
        self.assertEqual(r['source_details']['malformed']['streams'], 4)
        self.assertEqual(r['source_details']['regressions']['by_class'], {'brine-crash': 1})

    def test_smallest_failing_input_per_cell(self):
        r = self.tally()
        f = {x['id']: x for x in r['failures']}
        # N2. (3 bytes) is the smallest for DUP and protocol 0; \x80\x022. (4) for
        # protocol 2 and PROTO; \x80\x02N2. (5) only for NONE at protocol 2; N22.
        # (4, but c beats it everywhere) for none
        self.assertEqual([x['name'] for x in r['failures']], ['c', 'g', 'b'])
        self.assertEqual(f['F3']['cells'], ['opcode NONE at protocol 2'])
        self.assertEqual(r['failures'][0]['id'], 'F1')
        self.assertEqual(f['F1']['hex'], b'N2.'.hex())
        self.assertEqual(f['F1']['size'], 3)
        self.assertEqual(f['F2']['path'], 'corpus/regressions/g/input')
        self.assertNotIn('hex', f['F2'])
        self.assertEqual(r['by_opcode']['DUP']['smallest'], 'F1')
        self.assertEqual(r['by_opcode']['DUP']['protocols']['2']['smallest'], 'F2')
        self.assertEqual(r['by_protocol']['0']['smallest'], 'F1')
        self.assertEqual(r['by_protocol']['2']['smallest'], 'F2')
        self.assertEqual(r['overall']['smallest'], 'F1')
        self.assertNotIn('smallest', r['by_protocol']['4'])     # no failure there
        self.assertNotIn('smallest', r['by_opcode']['BYTEARRAY8'])
        self.assertIn('opcode DUP at protocol 0', f['F1']['cells'])
        self.assertIn('opcode PROTO', f['F2']['cells'])
        self.assertEqual((f['F1']['brine'], f['F1']['reference']), ('b-line', 'r-line'))
        self.assertEqual(f['F1']['opcodes'], ['NONE', 'DUP', 'STOP'])

    def test_text_and_markdown(self):
        r = self.tally()
        r.update({'cpython': '3.11.7', 'policies': ['symbolic'], 'elapsed_seconds': 1.0})
        text = C.format_text(r)
        self.assertRegex(text, r'\nDUP +4 +0 +0 +0 +4 +0\.00% +F1\n')
        md = C.format_markdown(r)
        self.assertIn('| DUP | 4 | 0 | 0 | 0 | 4 | 0.00% | [F1](#f1) |', md)
        self.assertIn('<a id="f1"></a>**F1**', md)
        self.assertIn('[corpus/regressions/g/input](corpus/regressions/g/input)', md)
        json.dumps(r)


class RegressionsTest(unittest.TestCase):

    def test_reader(self):
        with tempfile.TemporaryDirectory() as d:
            def entry(name, data, target=None):
                os.mkdir(os.path.join(d, name))
                with open(os.path.join(d, name, 'input'), 'wb') as f:
                    f.write(data)
                if target:
                    with open(os.path.join(d, name, 'meta.json'), 'w') as f:
                        json.dump({'target': target}, f)
            entry('diff-a', b'\x80\x02N.' + b'\x40\xc1', 'diff')   # E + L tail
            entry('odd-name', b'N.\x00', 'decode')                 # meta decides
            entry('encode-b', b'\x01\x02\x03', 'encode')
            entry('canon-c', b"root: 1\n")                         # no meta: the name
            entry('.staging', b'N.\x00', 'diff')
            t = C.Tally()
            items = list(C.regression_items(d, t))
            self.assertEqual([i.name for i in items], ['diff-a', 'odd-name'])
            a = items[0]
            self.assertEqual(a.data, b'\x80\x02N.')
            self.assertEqual(a.policies, ('builtins',))
            self.assertEqual(a.options, ('ASCII', 'strict', False))
            self.assertEqual(sorted(a.extensions), [1, 300, 0x10000])
            self.assertEqual(a.protocol, '2')
            self.assertTrue(a.path.endswith(os.path.join('diff-a', 'input')))
            self.assertEqual(items[1].data, b'N.')
            src = t.sources['regressions']   # the Tally's own counts
            self.assertEqual(src['skipped'], 2)
            self.assertEqual(dict(src['skipped_targets']), {'encode': 1, 'canon': 1})
        self.assertEqual(list(C.regression_items('/nonexistent', C.Tally())), [])


@unittest.skipUnless(os.access(BRINE, os.X_OK), 'brine not built: ' + BRINE)
class RunTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.fake = write_fake(cls.tmp.name, 'dup-reject')

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_run_with_a_planted_divergence(self):
        both = ('symbolic', 'builtins')
        items = [C.Item('generated', 'none', b'N.', '0', both),
                 C.Item('malformed', 'dup', b'N2.', '0', both),
                 C.Item('malformed', 'dup-list', b'\x80\x02](N2K\x01e.', '2', both),
                 C.Item('malformed', 'export', BYTEARRAY_EXPORT, '5', both),
                 C.Item('malformed', 'huge', HUGE, '4', ('symbolic',))]
        r = C.run(items, C.Tally(), self.fake).report()
        self.assertEqual(r['by_class'], {'agree': 2, 'known-difference': 2,
                                         'reference-resource': 1,
                                         'brine-rejects-reference-accepts': 4})
        self.assertEqual(r['known_entries'], {'bytearray-export': 2, 'huge-length': 1})
        dup = r['by_opcode']['DUP']
        self.assertEqual((dup['total'], dup['fail']), (4, 4))
        f = {x['id']: x for x in r['failures']}
        self.assertEqual((f['F1']['hex'], f['F1']['policy']), (b'N2.'.hex(), 'symbolic'))
        self.assertEqual(f['F1']['brine'], 'error: UnpicklingError: planted DUP (offset 0)')
        self.assertEqual(f['F1']['reference'], 'root: None')
        self.assertEqual(f['F2']['name'], 'dup-list')
        self.assertEqual(r['by_protocol']['2']['smallest'], 'F2')
        self.assertEqual(r['by_opcode']['EMPTY_LIST']['smallest'], 'F2')
        self.assertEqual(r['sources']['malformed'], 7)

    def conformance(self, *args):
        p = subprocess.run([sys.executable, '-m', 'oracle', 'conformance'] + list(args),
                           cwd=ROOT, capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_cli_on_a_small_generated_subset(self):
        reg = os.path.join(self.tmp.name, 'regressions')
        os.makedirs(os.path.join(reg, 'diff-dup'))
        with open(os.path.join(reg, 'diff-dup', 'input'), 'wb') as f:
            f.write(b'\x80\x02N2.\x00')
        js, md = (os.path.join(self.tmp.name, n) for n in ('c.json', 'c.md'))
        common = ['--sources', 'generated,regressions', '--families', 'int_small,lists',
                  '--count-per-family', '1', '--regressions', reg, '--json', js, '--md', md]
        out = self.conformance(*common)
        with open(js) as f:
            r = json.load(f)
        self.assertIn('conformance: CPython 3.', out)
        n = r['source_details']['generated']['streams']
        self.assertGreater(n, 20)
        self.assertEqual(r['sources'], {'generated': 2 * n, 'regressions': 1,
                                        'regressions_skipped': 0})
        total = r['overall']['total']
        self.assertEqual(total, 2 * n + 1)
        self.assertEqual(sum(c['total'] for c in r['by_protocol'].values()), total)
        self.assertEqual(r['overall']['agree'], total)        # the real brine agrees
        self.assertEqual(r['failures'], [])
        self.assertEqual(r['by_opcode']['STOP']['total'], total)
        self.assertEqual(r['by_opcode']['PROTO']['total'],
                         sum(c['total'] for p, c in r['by_protocol'].items() if p in '2345'))
        self.assertEqual(r['policies'], ['symbolic', 'builtins'])
        with open(md) as f:
            self.assertIn('| protocol | total | agree |', f.read())
        # the same with the planted fake: the regression fails, with its path
        self.conformance(*common, '--brine', self.fake)
        with open(js) as f:
            r = json.load(f)
        self.assertEqual(r['overall']['fail'], 1)
        (fail,) = r['failures']
        self.assertEqual(fail['path'], os.path.join(reg, 'diff-dup', 'input'))
        self.assertEqual((fail['protocol'], fail['source']), ('2', 'regressions'))
        self.assertEqual(r['by_opcode']['DUP']['protocols']['2']['smallest'], fail['id'])


if __name__ == '__main__':
    unittest.main()
