"""The adapters of PyPy 3, pickleparser, jpickle and stalecucumber on the
streams of test_adapters.py.  Exits 77 (ctest: skipped) when any of them
is not installed here; ./scripts/conformance --matrix installs them.
"""

import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from test_adapters import Base  # noqa: E402
from oracle import adapters as ad  # noqa: E402
from oracle import matrix  # noqa: E402

SKIP = 77
NAMES = ('pypy3', 'pickleparser', 'jpickle', 'stalecucumber')


class TestInstalledAdapters(Base):
    """pypy3, node, go: only where installed."""

    def check(self, name, expect):
        a = ad.by_name([name])[0]
        why = a.unavailable()
        if why:
            self.skipTest(why)
        recs = self.run_one(a)
        refs = self.run_one(ad.by_name(['cpython'])[0],
                            extra_args=('--view', a.view) if a.view else ())
        by = {it.name: (matrix.classify(a, r, f), r) for it, r, f in zip(self.items, recs, refs)}
        for name_, cls in expect.items():
            self.assertEqual(by[name_][0], cls, (name_, by[name_][1]))

    def test_pypy3(self):
        self.check('pypy3', {'agree': 'agree', 'disagree_big': 'agree',
                             'intplus': 'different-graph'})

    def test_pickleparser(self):
        self.check('pickleparser', {'agree': 'agree', 'disagree_big': 'agree',
                                    'after': 'agree'})

    def test_jpickle(self):
        self.check('jpickle', {'agree': 'rejects-valid', 'disagree_small': 'agree'})

    def test_stalecucumber(self):
        self.check('stalecucumber', {'disagree_small': 'agree', 'crash': 'agree'})


def main():
    missing = [(n, ad.by_name([n])[0].unavailable()) for n in NAMES]
    missing = [(n, why) for n, why in missing if why]
    if missing:
        for n, why in missing:
            sys.stderr.write('skipped: %s unavailable (%s)\n' % (n, why))
        return SKIP
    prog = unittest.main(verbosity=2, exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
