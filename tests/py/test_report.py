"""Tests of the nightly campaign's report renderer (scripts/campaign/report.py,
svg.py, conformance_view.py) on synthetic summaries (report_fixtures.py):

- full: the numbers of summary.json (runs, findings, coverage, corpus,
  conformance) appear in summary.md and index.html; index.html is one
  well-formed XML document, every <svg> parses on its own, it has the
  charts (coverage and exec/s per engine with one line per run, findings
  by class, the opcode x protocol matrix with every pickletools opcode),
  no script and no http(s) reference; matrix cells are coloured by
  agreement and link failures to the smallest failing input, relatively;
- empty and single-point summaries render (no runs, zero findings, missing
  conformance; one sample drawn as a dot, huge numbers with suffixes);
- hostile strings in every field cannot inject HTML or Markdown;
- the command line (python3 -m campaign.report) and its errors;
- the SVG helpers: number suffixes, ticks, relative hrefs.
"""

import json
import math
import os
import pickletools
import re
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_fixtures as F  # noqa: E402  (sets up sys.path for campaign)

from campaign import conformance_view, report, svg  # noqa: E402

ROOT = F.ROOT


TMP = tempfile.TemporaryDirectory(prefix='brine-report-')


def tearDownModule():
    TMP.cleanup()


def tmpdir():
    return tempfile.mkdtemp(dir=TMP.name)


def render(summary, root=None):
    """Writes summary to a fresh directory, renders it; returns (dir, md, html)."""
    d = tmpdir()
    with open(os.path.join(d, 'summary.json'), 'w', encoding='utf-8') as f:
        json.dump(summary, f)
    report.render_dir(d, root or ROOT)
    with open(os.path.join(d, 'summary.md'), encoding='utf-8') as f:
        md = f.read()
    with open(os.path.join(d, 'index.html'), encoding='utf-8') as f:
        page = f.read()
    return d, md, page


def parse_page(page):
    """The page as an XML tree (it is written XHTML-compatible)."""
    return ET.fromstring(page)


def svgs(page):
    """Every <svg>...</svg> of the page, each parsed on its own."""
    found = re.findall(r'<svg\b.*?</svg>', page, re.S)
    return [ET.fromstring(s) for s in found]


def texts(elem):
    return [''.join(e.itertext()) for e in elem.iter('text')]


def md_rows(md, header_start):
    """The rows (lists of cells) of the Markdown table whose header starts
    with header_start, split on unescaped '|' as GFM does."""
    lines = md.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith('| ' + header_start))
    rows = []
    for ln in lines[i:]:
        if not ln.startswith('|'):
            break
        cells = re.split(r'(?<!\\)\|', ln)[1:-1]
        rows.append([c.strip() for c in cells])
    return rows[0], rows[2:]


def check_safe(test, page, urls_in_text=False):
    """No script, no event handler, no external reference anywhere (and no
    URL at all, unless urls_in_text: hostile data shows them as text)."""
    test.assertNotRegex(page.lower(), r'<\s*script')
    if not urls_in_text:
        test.assertNotIn('http://', page)
        test.assertNotIn('https://', page)
    tree = parse_page(page)
    for e in tree.iter():
        tag = e.tag.lower()
        test.assertNotIn(tag, ('script', 'img', 'iframe', 'object', 'embed', 'foreignobject',
                               'link', 'base', 'form'))
        for name, value in e.attrib.items():
            test.assertFalse(name.lower().startswith('on'), (tag, name, value))
            if name in ('href', 'src'):
                test.assertFalse(value.startswith('//'), value)
                test.assertNotRegex(value, r'^[A-Za-z][A-Za-z0-9+.-]*:', value)
    test.assertNotRegex(page, r'url\s*\(')
    test.assertNotIn('@import', page)


class Full(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.s = F.full()
        cls.dir, cls.md, cls.page = render(cls.s)

    def test_markdown_numbers(self):
        header, rows = md_rows(self.md, 'target | engine')
        self.assertEqual(len(rows), len(self.s['runs']))
        for r, row in zip(self.s['runs'], rows):
            self.assertEqual(len(row), len(header))
            cells = dict(zip(header, row))
            self.assertEqual(cells['target'], r['target'])
            self.assertEqual(cells['engine'], r['engine'])
            self.assertEqual(cells['execs'], '{:,}'.format(r['execs']))
            self.assertEqual(cells['exec/s'], '{:,}'.format(r['exec_per_sec']))
            self.assertEqual(cells['corpus start'], '{:,}'.format(r['corpus_start']))
            self.assertEqual(cells['corpus end'], '{:,}'.format(r['corpus_end']))
            self.assertEqual(cells['findings'], str(r['findings']))
        header, rows = md_rows(self.md, 'signature')
        self.assertEqual(len(rows), 2)
        first = dict(zip(header, rows[0]))   # new findings come first
        f = self.s['findings'][0]
        self.assertEqual(first['signature'], '`%s`' % f['signature'])
        self.assertEqual(first['repro'], '`%s`' % f['repro'])
        self.assertEqual(first['new/seen'], 'new')
        self.assertEqual(first['size original \u2192 minimized'], '2,048 \u2192 11')
        self.assertEqual(dict(zip(header, rows[1]))['new/seen'], 'seen before')
        self.assertIn('lines: 9,000 of 10,000 (90.0%)', self.md)
        self.assertIn('branches: 5,000 of 7,000 (71.4%)', self.md)
        self.assertIn('decoder lines: 93.2%', self.md)
        header, rows = md_rows(self.md, 'protocol')
        conf = self.s['conformance']
        self.assertEqual([r[0] for r in rows], list(F.PROTOS) + ['all'])
        buckets = ('total', 'agree', 'known', 'resource', 'fail')
        for row in rows:
            c = conf['by_protocol'][row[0]] if row[0] != 'all' else conf['overall']
            self.assertEqual(row[1:6], ['{:,}'.format(c[k]) for k in buckets])
            rate = (c['agree'] + c['known']) / c['total']
            self.assertEqual(row[6], '%g%%' % (math.floor(rate * 1000) / 10))
        for word in ('CPython 3.11.7', 'brine 321eb24', 'ci-box-7', '2 core(s)',
                     '1 new finding (2 in all)', '3 min, 2 job(s)'):
            self.assertIn(word, self.md)
        self.assertTrue(self.md.startswith('## '))

    def test_html_is_xml_and_safe(self):
        tree = parse_page(self.page)
        self.assertEqual(tree.tag, 'html')
        self.assertEqual([''.join(h.itertext()) for h in tree.iter('h2')],
                         ['Runs', 'Findings', 'Coverage', 'Throughput', 'Conformance', 'Notes'])
        check_safe(self, self.page)

    def test_html_numbers(self):
        cells = {''.join(td.itertext()) for td in parse_page(self.page).iter('td')}
        for r in self.s['runs']:
            for k in ('execs', 'exec_per_sec', 'corpus_start', 'corpus_end', 'coverage'):
                self.assertIn('{:,}'.format(r[k]), cells, k)
        for t, c in self.s['corpus'].items():
            self.assertIn('{:,}'.format(c['after_merge']), cells)
        for f in self.s['findings']:
            self.assertIn(f['signature'], cells)
            self.assertIn(f['repro'], cells)
            self.assertIn(f['description'], cells)
        self.assertIn('95.1%', cells)   # per-file coverage
        for line in self.s['notes']:
            self.assertIn(line, self.page)

    def test_charts(self):
        charts = svgs(self.page)
        labels = [c.get('aria-label') for c in charts]
        self.assertEqual(labels[:1], ['findings by class (dark: new)'])
        self.assertIn('coverage: libfuzzer', labels)
        self.assertIn('coverage: afl', labels)
        self.assertIn('exec/s: libfuzzer', labels)
        self.assertIn('exec/s: afl', labels)
        for c in charts:
            if c.get('aria-label', '').startswith(('coverage:', 'exec/s:')):
                self.assertEqual(len(list(c.iter('polyline'))), len(F.TARGETS), c.get('aria-label'))
                for pl in c.iter('polyline'):
                    pts = [tuple(map(float, p.split(','))) for p in pl.get('points').split()]
                    self.assertEqual(len(pts), 12)
                    self.assertTrue(all(math.isfinite(v) for p in pts for v in p))
        cov = next(c for c in charts if c.get('aria-label') == 'coverage: libfuzzer')
        self.assertIn('libFuzzer cov (edges)', texts(cov))   # the y axis names the unit
        self.assertIn('seconds into the run', texts(cov))
        bars = charts[0]
        self.assertIn('exception-class', texts(bars))
        self.assertIn('crash', texts(bars))

    def test_matrix(self):
        conf = self.s['conformance']
        m = next(c for c in svgs(self.page)
                 if c.get('aria-label') == 'agreement with CPython by opcode and protocol')
        labels = set(texts(m))
        for op in pickletools.opcodes:
            self.assertIn(op.name, labels)
        for fam, _ in conformance_view.FAMILIES:
            self.assertIn(fam, labels)
        # Index every cell by its tooltip's subject.
        cells = {}
        for g in list(m.iter('g')) + list(m.iter('a')):
            title = g.find('title')
            if title is not None and g.find('rect') is not None:
                cells[title.text.split(':')[0]] = g
        checked_link = checked_green = 0
        for op, entry in conf['by_opcode'].items():
            for p, c in entry['protocols'].items():
                g = cells['%s at protocol %s' % (op, p)]
                tip = g.find('title').text
                self.assertIn('%s cases' % svg.fmt_si(c['total']), tip)
                shown = ''.join(g.find('text').itertext())
                rate = (c['agree'] + c['known']) / c['total']
                self.assertTrue(shown.startswith('%g%%' % (math.floor(rate * 1000) / 10)), shown)
                if c['fail']:
                    self.assertIn('\u2717%d' % c['fail'], shown)
                    self.assertNotEqual(g.find('rect').get('fill'), '#74c476')
                    self.assertIn('smallest failing input %s:' % c['smallest'], tip)
                    paths = [f for f in conf['failures'] if f['protocol'] == p
                             and op in f['opcodes'] and f.get('path')]
                    if not paths:       # only hex inputs: nothing to link to
                        self.assertNotEqual(g.tag, 'a')
                        continue
                    best = min(paths, key=lambda f: f['size'])
                    self.assertEqual(g.tag, 'a')
                    want = os.path.relpath(os.path.join(ROOT, best['path']), self.dir)
                    self.assertEqual(urllib.parse.unquote(g.get('href')), want)
                    checked_link += 1
                else:
                    self.assertNotEqual(g.tag, 'a')
                    green = '#74c476' if not c['known'] and not c['resource'] else '#c7e9c0'
                    self.assertEqual(g.find('rect').get('fill'), green)
                    checked_green += 1
        self.assertGreater(checked_link, 10)
        self.assertGreater(checked_green, 10)
        total = cells['all protocols']
        self.assertIn('%s cases' % svg.fmt_si(conf['overall']['total']), total.find('title').text)
        self.assertIn('unknown', labels)    # a column for streams of no known protocol

    def test_links_resolve(self):
        """With the repository root given, a finding's link lands on its file."""
        root = tmpdir()
        f = self.s['findings'][0]
        os.makedirs(os.path.join(root, f['path']))
        d, _, page = render(self.s, root=root)
        hrefs = [a.get('href') for a in parse_page(page).iter('a') if a.text == f['path']]
        self.assertEqual(len(hrefs), 1)
        self.assertTrue(os.path.isdir(os.path.join(d, urllib.parse.unquote(hrefs[0]))))


class Sparse(unittest.TestCase):

    def test_empty(self):
        _, md, page = render(F.empty())
        for want in ('No runs.', 'No findings.', 'Not measured.', 'Not measured in this run.',
                     'no new findings'):
            self.assertIn(want, md)
        check_safe(self, page)
        charts = svgs(page)
        msgs = [t for c in charts for t in texts(c)]
        self.assertIn('no findings', msgs)
        self.assertIn('no runs', msgs)
        self.assertIn('Conformance was not measured in this run.', page)

    def test_single_point_and_huge_numbers(self):
        s = F.single_point()
        _, md, page = render(s)
        check_safe(self, page)
        charts = {c.get('aria-label'): c for c in svgs(page)}
        cov = charts['coverage: libfuzzer']
        self.assertEqual(len(list(cov.iter('polyline'))), 0)
        self.assertEqual(len(list(cov.iter('circle'))), 1)       # one sample: a dot
        rate = charts['exec/s: libfuzzer']
        ticks = texts(rate)
        self.assertIn('5G', ticks)                                # 4.5e9 on a 0..5G axis
        self.assertTrue(all(len(t) <= 6 for t in ticks if re.match(r'^[\d.]+[kMGTP]?$', t)), ticks)
        empty = charts['coverage: afl: no samples: canon (afl)']
        self.assertIn('no samples: canon (afl)', texts(empty))
        self.assertIn('987,654,321,000', md)
        self.assertIn('4,500,000,000', page)
        self.assertIn('No findings.', md)
        self.assertIn('no findings', [t for c in charts.values() for t in texts(c)])
        self.assertIn('No per-opcode counts', page)    # conformance without by_opcode

    def test_nan_and_junk(self):
        s = F.full()
        s['runs'][0]['series'][3]['coverage'] = float('nan')
        s['runs'][1]['series'] = 'not a list'
        s['runs'][2]['execs'] = 'many'
        s['machine'] = None
        s['conformance']['by_opcode']['INT'] = 7
        d = tmpdir()
        with open(os.path.join(d, 'summary.json'), 'w') as f:
            f.write(json.dumps(s))        # writes NaN, as Python's json does
        report.render_dir(d)
        with open(os.path.join(d, 'index.html'), encoding='utf-8') as f:
            page = f.read()
        check_safe(self, page)
        self.assertNotIn('nan', ' '.join(p.get('points') for c in svgs(page)
                                         for p in c.iter('polyline')))


class Hostile(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir, cls.md, cls.page = render(F.hostile())

    def test_html(self):
        check_safe(self, self.page, urls_in_text=True)
        self.assertIn('&lt;script&gt;alert(1)&lt;/script&gt;', self.page)
        # The text survives, as text.
        tree = parse_page(self.page)
        alltext = ''.join(tree.itertext())
        self.assertIn(F.HOSTILE, alltext)
        self.assertIn('ctrl \\x01\\x1b[31m and \\ud800', alltext)
        # javascript: and //host paths are shown, never linked.
        self.assertIn('javascript:alert(5)', alltext)
        hrefs = [a.get('href') for a in tree.iter('a')]
        self.assertFalse([h for h in hrefs if 'evil' in h or 'javascript' in h], hrefs)

    def test_markdown(self):
        md = self.md
        for ln in md.splitlines():
            # Outside code spans, every markup character is backslash-escaped.
            plain = re.sub(r'(`+)(?!`).*?(?<!`)\1(?!`)', '', ln)
            self.assertNotRegex(plain, r'(?<!\\)[<>\[\]`*]', ln)
        self.assertNotIn('\x01', md)
        self.assertNotRegex(md, r'(?i)https?://')   # GitHub would autolink it
        self.assertNotIn('\n\n\nline two', md)
        self.assertIn('line one line two \\| not a cell', md)
        for start in ('target | engine', 'signature', 'protocol'):
            header, rows = md_rows(md, start)
            for row in rows:
                self.assertEqual(len(row), len(header), row)
        _, rows = md_rows(md, 'signature')
        self.assertIn('`` sig<b>\\|`x` ``', [r[0] for r in rows])
        self.assertIn('``./x `rm -rf /` \\| y``', [r[-1] for r in rows])


class CommandLine(unittest.TestCase):

    def run_cli(self, *args):
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'scripts'))
        return subprocess.run([sys.executable, '-m', 'campaign.report'] + list(args),
                              capture_output=True, text=True, env=env, timeout=120)

    def test_ok(self):
        d = tmpdir()
        with open(os.path.join(d, 'summary.json'), 'w') as f:
            json.dump(F.full(), f)
        p = self.run_cli(d)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), os.path.join(d, 'index.html'))
        self.assertGreater(os.path.getsize(os.path.join(d, 'summary.md')), 1000)
        self.assertEqual(sorted(os.listdir(d)), ['index.html', 'summary.json', 'summary.md'])

    def test_errors(self):
        d = tmpdir()
        p = self.run_cli(d)
        self.assertEqual(p.returncode, 1)
        self.assertIn('summary.json', p.stderr)
        with open(os.path.join(d, 'summary.json'), 'w') as f:
            f.write('[1, 2')
        self.assertEqual(self.run_cli(d).returncode, 1)
        with open(os.path.join(d, 'summary.json'), 'w') as f:
            f.write('[1, 2]')
        p = self.run_cli(d)
        self.assertEqual(p.returncode, 1)
        self.assertIn('not a JSON object', p.stderr)
        self.assertEqual(self.run_cli().returncode, 2)


class Helpers(unittest.TestCase):

    def test_fmt_si(self):
        cases = {0: '0', 7: '7', 999: '999', 1000: '1k', 1500: '1.5k', 15360: '15.4k',
                 999_999: '1M', 2_000_000: '2M', 4.5e9: '4.5G', 1e13: '10T', 71.4: '71.4',
                 -2500: '-2.5k', float('nan'): '-', None: '-', True: '-'}
        for v, want in cases.items():
            self.assertEqual(svg.fmt_si(v), want, v)

    def test_ticks(self):
        for lo, hi in ((0, 1), (2100, 2345), (0, 4.5e9), (5, 5), (0, 0), (-3, 7), (0, 1e300)):
            a, b, ticks = svg.nice_ticks(lo, hi)
            self.assertLessEqual(a, min(lo, hi))
            self.assertGreaterEqual(b, max(lo, hi))
            self.assertLess(a, b)
            self.assertLessEqual(len(ticks), 12)
            self.assertEqual((ticks[0], ticks[-1]), (a, b))
        self.assertEqual(svg.nice_ticks(0, 1, 4, integer=True)[2], [0, 1])
        stop, ticks = svg.time_ticks(190)
        self.assertEqual((stop, ticks), (240, [0, 60, 120, 180, 240]))
        self.assertEqual(svg.time_ticks(0), (1, [0, 1]))
        self.assertEqual([svg.fmt_duration(t) for t in (5, 60, 90, 3600, 4500)],
                         ['5s', '1m', '1m30s', '1h', '1h15m'])

    def test_rel_href(self):
        self.assertEqual(svg.rel_href('a/b c'), './a/b%20c')
        self.assertEqual(svg.rel_href('../x:y'), '../x%3Ay')
        for bad in ('javascript:alert(1)', 'https://x', '//host/x', '/etc/passwd', '', None,
                    'JaVaScRiPt:x', 'data:text/html,x'):
            self.assertIsNone(svg.rel_href(bad), bad)

    def test_families_cover_pickletools(self):
        listed = [op for _, ops in conformance_view.FAMILIES for op in ops]
        self.assertEqual(len(listed), len(set(listed)))
        self.assertEqual(set(listed), {op.name for op in pickletools.opcodes})


if __name__ == '__main__':
    unittest.main(verbosity=2)
