"""The campaign report as a person sees it: index.html rendered by headless
Chromium (Debian's package `chromium`; scripts/lib/browser.sh installs it
for ./scripts/test).

- --dump-dom of the full report: the headings, every chart's <svg> with its
  lines and the conformance matrix with its linked cells are in the DOM the
  browser built, and nothing executable is;
- --dump-dom of a report made of hostile strings: the browser's own parser
  finds no script, no event handler and no element the data smuggled in;
- --screenshot at 1280x2000: a PNG of that size (parsed here with zlib and
  struct) that is not one flat colour, shows dark text and the chart
  colours of the targets.

Exits 77 (ctest: skipped) when Chromium is not installed ($BRINE_CHROMIUM,
when set, names the browser binary instead of chromium on PATH).
"""

import html.parser
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report_fixtures as F  # noqa: E402  (sets up sys.path for campaign)

from campaign import report, svg  # noqa: E402

SKIP = 77
# $BRINE_CHROMIUM names another browser binary (one that does not exist: skip).
CHROMIUM = (shutil.which(os.environ['BRINE_CHROMIUM']) if os.environ.get('BRINE_CHROMIUM')
            else shutil.which('chromium') or shutil.which('chromium-browser'))
WIDTH, HEIGHT = 1280, 2000


def chromium(url, *args, timeout=90):
    """Runs headless Chromium on url with its own throw-away profile."""
    profile = tempfile.mkdtemp(prefix='brine-chromium-')
    try:
        cmd = [CHROMIUM, '--headless', '--disable-gpu', '--no-sandbox', '--disable-dev-shm-usage',
               '--user-data-dir=' + profile, '--no-first-run', '--no-default-browser-check',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               '--disable-breakpad', '--disable-crash-reporter', '--disable-extensions',
               '--hide-scrollbars', '--mute-audio',
               '--window-size=%d,%d' % (WIDTH, HEIGHT)] + list(args) + [url]
        env = dict(os.environ, HOME=profile)    # keeps ~/.pki and the like out of $HOME
        # Its own process group, so that a hung run (an alert() that escaped
        # into the page blocks headless Chromium) ends with all its children.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise AssertionError('Chromium did not finish within %ds on %s (a script in the '
                                 'page waiting on a dialog?)' % (timeout, url))
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


TMP = tempfile.TemporaryDirectory(prefix='brine-report-browser-')


def tearDownModule():
    TMP.cleanup()


def rendered(summary):
    d = tempfile.mkdtemp(dir=TMP.name)
    with open(os.path.join(d, 'summary.json'), 'w', encoding='utf-8') as f:
        json.dump(summary, f)
    report.render_dir(d)
    return d


class DOM(html.parser.HTMLParser):
    """Tags, attributes and text of a dumped DOM."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags = []          # (tag, attrs dict)
        self.headings = []
        self.text = []
        self._heading = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ('h1', 'h2'):
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ('h1', 'h2') and self._heading is not None:
            self.headings.append(''.join(self._heading).strip())
            self._heading = None

    def handle_data(self, data):
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)

    def count(self, tag):
        return sum(1 for t, _ in self.tags if t == tag)


def read_png(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced
    truecolour PNG, as Chromium writes them."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:8] != b'\x89PNG\r\n\x1a\n':
        raise ValueError('not a PNG')
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0]:
            raise ValueError('bad CRC in %r chunk' % kind)
        if kind == b'IHDR':
            ihdr = struct.unpack('>IIBBBBB', body)
        elif kind == b'IDAT':
            idat.append(body)
        elif kind == b'IEND':
            break
        pos += 12 + n
    width, height, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError('unsupported PNG: depth %d, colour type %d, interlace %d'
                         % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b''.join(idat))
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise ValueError('IDAT holds %d bytes, want %d' % (len(raw), height * (stride + 1)))
    rows, prev = [], bytearray(stride)
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if ftype == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xff
        elif ftype == 2:
            line = bytearray((a + b) & 0xff for a, b in zip(line, prev))
        elif ftype == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xff
        elif ftype == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xff
        elif ftype != 0:
            raise ValueError('bad filter type %d' % ftype)
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def hex_rgb(color):
    return bytes(int(color[i:i + 2], 16) for i in (1, 3, 5))


class Browser(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.summary = F.full()
        cls.dir = rendered(cls.summary)
        cls.url = 'file://' + os.path.join(cls.dir, 'index.html')
        with open(os.path.join(cls.dir, 'index.html'), encoding='utf-8') as f:
            cls.page = f.read()

    def test_dom(self):
        p = chromium(self.url, '--dump-dom')
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors='replace')[-2000:])
        dom = DOM(p.stdout.decode('utf-8'))
        self.assertEqual(dom.headings, ['brine nightly campaign', 'Runs', 'Findings', 'Coverage',
                                        'Throughput', 'Conformance', 'Notes'])
        self.assertEqual(dom.count('svg'), self.page.count('<svg '))
        self.assertGreaterEqual(dom.count('svg'), 6)   # findings, 2 coverage, 2 exec/s, matrix
        # 8 runs in the coverage charts and 8 in the exec/s charts
        self.assertEqual(dom.count('polyline'), 2 * len(self.summary['runs']))
        self.assertEqual(dom.count('script'), 0)
        text = ''.join(dom.text)
        for word in ('BINUNICODE8', 'NEWOBJ_EX', 'protocol 5', 'libFuzzer cov (edges)',
                     'exception-class', '{:,}'.format(self.summary['runs'][0]['execs'])):
            self.assertIn(word, text)
        links = [a.get('href') for t, a in dom.tags if t == 'a' and a.get('class') == 'cell']
        self.assertGreater(len(links), 10)
        self.assertTrue(all(h.startswith('../') for h in links), links[:3])

    def test_hostile_dom(self):
        d = rendered(F.hostile())
        p = chromium('file://' + os.path.join(d, 'index.html'), '--dump-dom')
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors='replace')[-2000:])
        dom = DOM(p.stdout.decode('utf-8'))
        self.assertIn('brine nightly campaign', dom.headings)
        for tag, attrs in dom.tags:
            self.assertNotIn(tag, ('script', 'img', 'iframe', 'object', 'embed', 'foreignobject'))
            for name, value in attrs.items():
                self.assertFalse(name.startswith('on'), (tag, name))
                if name == 'href':
                    self.assertTrue(value.startswith(('#', './', '../')), value)
        self.assertIn(F.HOSTILE, ''.join(dom.text))

    def test_screenshot(self):
        out = os.path.join(self.dir, 'shot.png')
        p = chromium(self.url, '--screenshot=' + out)
        self.assertEqual(p.returncode, 0, p.stderr.decode(errors='replace')[-2000:])
        self.assertTrue(os.path.exists(out))
        width, height, bpp, rows = read_png(out)
        self.assertEqual((width, height), (WIDTH, HEIGHT))
        if os.environ.get('BRINE_BUILD_DIR'):   # kept for a person to look at
            shutil.copy(out, os.path.join(os.environ['BRINE_BUILD_DIR'], 'report-browser.png'))
        colours, dark = set(), 0
        for row in rows[::2]:
            for x in range(0, len(row), bpp * 2):
                px = row[x:x + 3]
                colours.add(px)
                dark += max(px) < 90
        self.assertGreater(len(colours), 50, 'the screenshot is (nearly) one flat colour')
        self.assertGreater(dark, 2000, 'no text drawn')
        # The coverage charts are above the fold: each target's line colour is there.
        exact = {}
        want = {hex_rgb(svg.PALETTE[i]) for i in range(len(F.TARGETS))}
        for row in rows:
            for x in range(0, len(row), bpp):
                px = row[x:x + 3]
                if px in want:
                    exact[px] = exact.get(px, 0) + 1
        for c in want:
            self.assertGreater(exact.get(c, 0), 20, 'colour %s not drawn' % c.hex())


def main():
    if CHROMIUM is None:
        print('SKIP: chromium is not installed (scripts/lib/browser.sh: need_chromium)')
        return SKIP
    prog = unittest.main(verbosity=2, exit=False)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
