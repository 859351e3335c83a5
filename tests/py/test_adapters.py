"""The conformance matrix machinery (oracle.adapters, oracle.matrix) on a
few inputs: the adapters that are always here (brine, CPython C, pure
Python), a fake adapter that disagrees, cannot represent, crashes and
hangs on purpose, the classification, the smallest-input selection, the
report files, and the worked example of docs/adapters.md.

The PyPy 3, Node and Go adapters: tests/py/test_adapters_installed.py.
"""

import json
import os
import pathlib
import re
import shutil
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from oracle import adapters as ad  # noqa: E402
from oracle import matrix  # noqa: E402
from oracle.matrix import report as report_mod  # noqa: E402

# name -> stream; the fake adapter keys its behaviour on the file name.
STREAMS = {
    'agree': b'\x80\x04K\x05.',                   # 5
    'disagree_big': b'\x80\x04\x8c\x03abc\x94.',  # 'abc'; fake says 'xyz'
    'disagree_small': b'K\x07.',                 # 7; fake says 8
    'cannot': b'\x80\x02]q\x00.',
    'crash': b'\x80\x02N.',
    'hang': b'\x80\x02\x88.',
    'after': b'\x80\x02\x89.',                   # False, after the hang
    'intplus': b'I+1\n.',                        # C: True, Python: 1 (int-text)
    'reject': b'\x80\x02(.',
}

FAKE = r'''
import sys, time, subprocess, os
for path in sys.argv[1:]:
    name = os.path.basename(path).split('.')[0]
    print('### ' + path, flush=True)
    if name == 'crash':
        os._exit(3)
    if name == 'hang':
        time.sleep(60)
    if name == 'cannot':
        print('cannot-represent: no lists here', flush=True)
        continue
    if name == 'disagree_big':
        print("root: 'xyz'", flush=True)
        continue
    if name == 'disagree_small':
        print("root: 8", flush=True)
        continue
    out = subprocess.run([sys.executable, '-m', 'oracle.adapters.pyrun', '--impl', 'c', path],
                         capture_output=True, text=True).stdout
    sys.stdout.write(out.split('\n', 1)[1])
    sys.stdout.flush()
'''


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='brine-adapters-')
        cls.items = []
        for name, data in STREAMS.items():
            it = matrix.Item('generated', name, data)
            it.path = os.path.join(cls.tmp, name + '.pickle')
            with open(it.path, 'wb') as f:
                f.write(data)
            cls.items.append(it)
        fake = os.path.join(cls.tmp, 'fake.py')
        with open(fake, 'w') as f:
            f.write(FAKE)
        cls.fake = ad.Adapter('fake', 'deliberately wrong', [sys.executable, fake])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_one(self, adapter, **kw):
        return ad.run_adapter(adapter, [it.path for it in self.items], **kw)


class TestDriverAndClasses(Base):
    def test_fake_adapter_classes(self):
        recs = self.run_one(self.fake, file_timeout=2.0, startup=5.0)
        by = {it.name: r for it, r in zip(self.items, recs)}
        self.assertEqual(by['crash'].status, 'crash')
        self.assertIn('exit status 3', by['crash'].detail)
        self.assertEqual(by['hang'].status, 'timeout')
        # files after a crash and a hang still get their answer
        self.assertEqual((by['after'].kind, by['after'].body), ('accept', 'root: False\n'))
        self.assertEqual(by['cannot'].kind, 'cannot')
        refs = self.run_one(ad.by_name(['cpython'])[0])
        cls = {it.name: matrix.classify(self.fake, r, f)
               for it, r, f in zip(self.items, recs, refs)}
        self.assertEqual(cls['agree'], 'agree')
        self.assertEqual(cls['disagree_big'], 'different-graph')
        self.assertEqual(cls['disagree_small'], 'different-graph')
        self.assertEqual(cls['cannot'], 'cannot-represent')
        self.assertEqual(cls['crash'], 'crash')
        self.assertEqual(cls['hang'], 'timeout')
        self.assertEqual(cls['reject'], 'agree')   # both reject, same class
        t = matrix.compare_adapter(self.fake, self.items, recs, refs)
        allc = t.cells[('all', 'all')]
        self.assertEqual(allc['total'], len(STREAMS))
        self.assertEqual((allc['fail'], allc['crash'], allc['cannot']), (2, 2, 1))
        # the smallest failing input of the ints family is the 4-byte one
        small = t.smallest[('ints', 'all')]
        self.assertEqual(bytes.fromhex(small['hex']), STREAMS['disagree_small'])
        self.assertEqual(small['class'], 'different-graph')
        self.assertEqual(t.smallest[('strings', 'all')]['name'], 'disagree_big')
        self.assertEqual(matrix.rate(allc), round(allc['agree'] / (len(STREAMS) - 1), 6))

    def test_python_and_brine_adapters(self):
        refs = self.run_one(ad.by_name(['cpython'])[0])
        py = ad.by_name(['pure-python'])[0]
        recs = self.run_one(py)
        t = matrix.compare_adapter(py, self.items, recs, refs)
        by = {it.name: (r, f) for it, r, f in zip(self.items, recs, refs)}
        self.assertEqual(by['intplus'][0].body, 'root: 1\n')
        self.assertEqual(by['intplus'][1].body, 'root: True\n')
        self.assertEqual(t.known['int-text'], 1)
        rec = t.smallest[('ints', '0')]
        self.assertEqual(rec['known']['id'], 'int-text')
        self.assertIn('gh-135241', rec['known']['issues'])
        brine = ad.by_name(['brine'])[0]
        if brine.unavailable():
            self.skipTest(brine.unavailable())
        t = matrix.compare_adapter(brine, self.items, self.run_one(brine), refs)
        self.assertEqual(t.cells[('all', 'all')]['agree'], len(STREAMS))

    def test_report_files(self):
        refs = self.run_one(ad.by_name(['cpython'])[0])
        recs = self.run_one(self.fake, file_timeout=2.0, startup=5.0)
        results = {'fake': {'adapter': self.fake, 'status': 'ok', 'seconds': 1.0,
                            'tally': matrix.compare_adapter(self.fake, self.items, recs, refs)},
                   'gone': {'adapter': ad.Adapter('gone', 'missing', ['/nonexistent']),
                            'status': 'unavailable', 'reason': 'not installed'}}
        rep = report_mod.build(results, {'cpython': '3.11', 'sources': {'generated': 9},
                                         'excluded': {}, 'elapsed_seconds': 1})
        out = os.path.join(self.tmp, 'report')
        os.makedirs(os.path.join(out, 'inputs'))
        stale = os.path.join(out, 'inputs', '0123456789abcdef.pickle')
        pathlib.Path(stale).write_bytes(b'old')
        report_mod.write(rep, out)
        self.assertFalse(os.path.exists(stale))
        self.assertEqual(len(os.listdir(os.path.join(out, 'inputs'))), len(fake_inputs(rep)))
        data = json.loads(pathlib.Path(out, 'matrix.json').read_text())
        fake = data['implementations'][0]
        self.assertEqual(data['implementations'][1]['status'], 'unavailable')
        sha = fake['cells']['ints']['all']['smallest']
        with open(os.path.join(out, 'inputs', sha + '.pickle'), 'rb') as f:
            self.assertEqual(f.read(), STREAMS['disagree_small'])
        page = pathlib.Path(out, 'index.html').read_text()
        self.assertIn('href="inputs/%s.pickle"' % sha, page)
        self.assertIn('unavailable: not installed', page)
        self.assertIn('gh-135241', page)
        md = pathlib.Path(out, 'matrix.md').read_text()
        self.assertIn('(inputs/%s.pickle)' % sha, md)


class TestKnownAndUnshare(unittest.TestCase):
    def test_examples_are_labelled(self):
        tmp = tempfile.mkdtemp(prefix='brine-known-')
        try:
            items, _ = matrix.collect(sources=('examples',))
            matrix.write_inputs(items, tmp)
            paths = [it.path for it in items]
            refs = ad.run_adapter(ad.by_name(['cpython'])[0], paths)
            py = ad.by_name(['pure-python'])[0]
            recs = ad.run_adapter(py, paths)
            from oracle.matrix import known
            for it, r, f, (div, _) in zip(items, recs, refs, known.EXAMPLES):
                cls = matrix.classify(py, r, f)
                if div == 'binstring-length':   # both UnpicklingError: agrees by class
                    self.assertEqual(cls, 'agree')
                    continue
                label = matrix.known_label(py, it.data, r, f)
                self.assertIsNotNone(label, (div, r, f))
                self.assertEqual(label[0], div, (it.data, r, f))
                self.assertTrue(label[1])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_unshare(self):
        from oracle.matrix.encode import unshare
        self.assertEqual(unshare("root: [&1 b'\\x1a', *1]\n"), "root: [b'\\x1a', b'\\x1a']\n")
        self.assertEqual(unshare("root: [&1 (&2 'a*1', *2), *1]\n"),
                         "root: [('a*1', 'a*1'), ('a*1', 'a*1')]\n")
        self.assertEqual(unshare("root: [&10 'x', *10, *1]\n"), "root: ['x', 'x', *1]\n")


def fake_inputs(rep):
    return rep['implementations'][0]['inputs']


def _doc_blocks():
    text = (ROOT / 'docs' / 'adapters.md').read_text()
    part = text.split('## Adding an implementation', 1)[1]
    blocks = re.findall(r'```(\w+)\n(.*?)```', part, re.S)
    return dict((lang, body) for lang, body in blocks if lang in ('python', 'json'))


class TestWorkedExample(Base):
    def test_example_from_docs(self):
        blocks = _doc_blocks()
        n = len(blocks['python'].splitlines()) + len(blocks['json'].splitlines())
        self.assertLess(n, 50)
        with open(os.path.join(self.tmp, 'restricted.py'), 'w') as f:
            f.write(blocks['python'])
        spec = json.loads(blocks['json'])
        spec[0]['env']['BRINE_ROOT'] = str(ROOT)
        spec[0]['argv'][0] = sys.executable
        path = os.path.join(self.tmp, 'restricted.json')
        with open(path, 'w') as f:
            json.dump(spec, f)
        a = ad.load_extra([path])[0]
        self.assertIsNone(a.unavailable())
        items = [matrix.Item('generated', 'x', d) for d in
                 (b'\x80\x04K\x05.', b'\x80\x02cos\nsystem\n)R.', b'\x80\x04(K\x01K\x02l.')]
        for k, it in enumerate(items):
            it.path = os.path.join(self.tmp, 'ex%d.pickle' % k)
            pathlib.Path(it.path).write_bytes(it.data)
        paths = [it.path for it in items]
        recs = ad.run_adapter(a, paths)
        refs = ad.run_adapter(ad.by_name(['cpython'])[0], paths, extra_args=('--view', 'go'))
        self.assertEqual(recs[0].body, 'root: i:5\n')
        self.assertEqual(recs[1].exc_class, 'UnpicklingError')
        self.assertEqual(refs[1].kind, 'cannot')
        self.assertEqual([matrix.classify(a, r, f) for r, f in zip(recs, refs)],
                         ['agree', 'cannot-represent', 'agree'])


def main():
    prog = unittest.main(verbosity=2, exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
