"""The conformance matrix page (oracle/matrix/report.py) as a browser reads
it: headless Chromium's --dump-dom of a page made from the fake adapter of
test_adapters.py, with hostile strings in the adapter's title and output,
must hold the summary and per-implementation tables, colour classes on the
cells, links from failing cells to inputs/ files that exist, and no element
that came from the strings.  Exits 77 (ctest: skipped) without Chromium.
"""

import os
import pathlib
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

import test_report_browser as B  # noqa: E402  (chromium(), CHROMIUM)
from test_adapters import Base  # noqa: E402
from oracle import adapters as ad  # noqa: E402
from oracle import matrix  # noqa: E402
from oracle.matrix import report as report_mod  # noqa: E402

SKIP = 77
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>'


class TestMatrixPage(Base):
    def test_page_in_browser(self):
        refs = self.run_one(ad.by_name(['cpython'])[0])
        self.fake.title = HOSTILE
        recs = self.run_one(self.fake, file_timeout=2.0, startup=5.0)
        tally = matrix.compare_adapter(self.fake, self.items, recs, refs)
        results = {'fake': {'adapter': self.fake, 'status': 'ok', 'seconds': 1.0,
                            'tally': tally},
                   'gone': {'adapter': ad.Adapter('gone', 'x', ['/nonexistent']),
                            'status': 'unavailable', 'reason': HOSTILE}}
        rep = report_mod.build(results, {'cpython': '3.11', 'sources': {HOSTILE: 1},
                                         'excluded': {}, 'elapsed_seconds': 1})
        out = tempfile.mkdtemp(prefix='brine-matrix-page-', dir=B.TMP.name)
        report_mod.write(rep, out)
        page = pathlib.Path(out, 'index.html').as_uri()
        p = B.chromium(page, '--dump-dom')
        dom = p.stdout.decode('utf-8', 'replace')
        self.assertIn('<h1>Conformance matrix</h1>', dom)
        self.assertNotIn('<script', dom)
        self.assertNotIn('<img', dom)
        self.assertIn('&lt;script&gt;', dom)
        links = re.findall(r'href="(inputs/[0-9a-f]{16}\.pickle)"', dom)
        self.assertTrue(links)
        for link in links:
            self.assertTrue(os.path.isfile(os.path.join(out, link)), link)
        for tone in ('r100', 'r50', 'na'):
            self.assertRegex(dom, r'<td class="(num )?%s"' % tone)
        self.assertEqual(dom.count('<h2'), 4)   # summary, fake, gone, divergences
        shot = os.path.join(out, 'page.png')
        B.chromium(page, '--screenshot=' + shot)
        self.assertGreater(os.path.getsize(shot), 10000)


def main():
    if not B.CHROMIUM:
        sys.stderr.write('skipped: no chromium (scripts/lib/browser.sh installs it)\n')
        return SKIP
    prog = unittest.main(verbosity=2, exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
