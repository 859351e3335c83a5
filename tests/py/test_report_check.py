"""tests/campaign/report_check.py: it passes a report that matches the
engines' files, and fails each figure that does not.

A fake tree is built in a temporary directory: a libFuzzer log, two AFL++
fuzzer_stats, the merged corpus directories, an archived finding and a
report (summary.json, summary.md, index.html) that says the same. Then one
figure at a time is changed in the report and the checker must fail.
"""

import contextlib
import copy
import io
import json
import os
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'campaign'))

import report_check  # noqa: E402

SUMMARY = {
    'config': {'archive': 'corpus/regressions'},
    'runs': [
        {'target': 'decode', 'engine': 'libfuzzer', 'ok': True, 'execs': 123456,
         'corpus_end': 77, 'findings': 0, 'finding_paths': []},
        {'target': 'decode', 'engine': 'afl', 'ok': True, 'execs': 5000000,
         'corpus_end': 300, 'findings': 1,
         'finding_paths': ['build-afl/fuzz-work/decode/afl/main/crashes/id:000000']},
    ],
    'corpus': {'decode': {'after_merge': 3, 'afl_cmin': 2}},
    'findings': [{'signature': 'decode-assert-0123abcd', 'new': True,
                  'path': 'corpus/regressions/decode-assert-0123abcd'}],
    'new_findings': 1,
}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def fake_tree(root):
    lf = os.path.join(root, 'build-libfuzzer', 'fuzz-work', 'decode')
    write(os.path.join(lf, 'libfuzzer.log'),
          '#100: cov: 5 ft: 6 corp: 10 exec/s 50 oom/timeout/crash: 0/0/0 time: 2s\n'
          '#123456: cov: 9 ft: 9 corp: 77 exec/s 99 oom/timeout/crash: 0/0/0 time: 60s\n')
    for i in range(3):
        write(os.path.join(lf, 'corpus', 'in%d' % i), 'x')
    afl = os.path.join(root, 'build-afl', 'fuzz-work', 'decode')
    write(os.path.join(afl, 'afl', 'main', 'fuzzer_stats'),
          'execs_done        : 3000000\ncorpus_count      : 300\n')
    write(os.path.join(afl, 'afl', 'sec1', 'fuzzer_stats'),
          'execs_done        : 2000000\ncorpus_count      : 250\n')
    write(os.path.join(afl, 'afl', 'main', 'crashes', 'id:000000'), 'x')
    for i in range(2):
        write(os.path.join(afl, 'cmin', 'c%d' % i), 'x')
    write(os.path.join(root, 'corpus', 'regressions', 'decode-assert-0123abcd', 'meta.json'),
          json.dumps({'signature': 'decode-assert-0123abcd'}))


def write_report(rdir, summary, md=None, html=None):
    write(os.path.join(rdir, 'summary.json'), json.dumps(summary))
    runs = ' '.join('{:,}'.format(r['execs']) for r in summary['runs'])
    write(os.path.join(rdir, 'summary.md'), md if md is not None else '| %s |\n' % runs)
    write(os.path.join(rdir, 'index.html'),
          html if html is not None else '<td>%s</td>' % runs.replace(' ', '</td><td>'))


def run(root, rdir, fresh=True):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = report_check.main(['--root', root, '--report', rdir] + (['--fresh'] if fresh else []))
    return rc, out.getvalue()


class ReportCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix='brine-report-check-')
        self.root = self.tmp.name
        self.rdir = os.path.join(self.root, 'reports', '2026-01-01')
        fake_tree(self.root)

    def tearDown(self):
        self.tmp.cleanup()

    def test_matching_report_passes(self):
        write_report(self.rdir, SUMMARY)
        rc, out = run(self.root, self.rdir)
        self.assertEqual(rc, 0, out)
        self.assertIn('report_check: ok', out)

    def test_each_wrong_figure_fails(self):
        def changed(edit):
            s = copy.deepcopy(SUMMARY)
            edit(s)
            return s
        cases = {
            'libFuzzer execs': changed(lambda s: s['runs'][0].update(execs=123457)),
            'libFuzzer corpus': changed(lambda s: s['runs'][0].update(corpus_end=78)),
            'AFL++ execs': changed(lambda s: s['runs'][1].update(execs=4999999)),
            'AFL++ corpus': changed(lambda s: s['runs'][1].update(corpus_end=299)),
            'finding count': changed(lambda s: s['runs'][1].update(findings=2)),
            'missing finding path': changed(
                lambda s: s['runs'][1]['finding_paths'].__setitem__(0, 'no/such/file')),
            'merged corpus': changed(lambda s: s['corpus']['decode'].update(after_merge=4)),
            'afl-cmin corpus': changed(lambda s: s['corpus']['decode'].update(afl_cmin=1)),
            'unarchived finding': changed(
                lambda s: s['findings'][0].update(signature='decode-assert-ffffffff')),
            'new count': changed(lambda s: s.update(new_findings=0)),
        }
        for what, summary in cases.items():
            with self.subTest(what):
                write_report(self.rdir, summary)
                rc, out = run(self.root, self.rdir)
                self.assertEqual(rc, 1, out)
                self.assertIn('FAIL', out)

    def test_rendered_reports_must_print_the_execs(self):
        # 123,456 must appear as a whole number: 1,123,456 is not it
        write_report(self.rdir, SUMMARY, md='| 1,123,456 | 5,000,000 |\n')
        rc, out = run(self.root, self.rdir)
        self.assertEqual(rc, 1, out)
        self.assertIn('FAIL decode/libfuzzer: summary.md', out)

    def test_afl_without_fresh_allows_earlier_runs(self):
        # AFL_AUTORESUME carries earlier execs: without --fresh the report's
        # figure only has to be at most the sum
        s = copy.deepcopy(SUMMARY)
        s['runs'][1]['execs'] = 4000000
        write_report(self.rdir, s)
        self.assertEqual(run(self.root, self.rdir, fresh=False)[0], 0)
        self.assertEqual(run(self.root, self.rdir, fresh=True)[0], 1)


if __name__ == '__main__':
    unittest.main()
