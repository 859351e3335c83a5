"""The findings archive (scripts/campaign/archive.py) survives being killed.

A writer process archives a stream of findings (new signatures, repeats of
earlier ones, big and empty inputs) into a scratch archive and is killed
with SIGKILL at random moments, over and over.  After every kill the
archive must be consistent (campaign.archive.check: every entry whole, no
temporary files), no entry may have lost or changed its input, original or
first_seen, and times_seen may only grow.  A final uninterrupted run must
leave every signature archived exactly once with its own bytes.
"""

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))
from campaign import archive  # noqa: E402

NSIGS = 40
WRITER = r'''
import sys
sys.path.insert(0, %(scripts)r)
from campaign import archive
d = sys.argv[1]
for i in range(int(sys.argv[2])):
    k = i %% %(nsigs)d
    sig = 'decode-test-%%04d' %% k
    data = bytes([k]) * (k * 997 %% 70000)
    archive.add(d, sig, data, data + b'-original', {'target': 'decode', 'engine': 'afl' if i %% 3 else 'libfuzzer',
                                                'class': 'test', 'kind': 'crash', 'description': 'test %%d' %% k})
'''


def expected_input(k):
    return bytes([k]) * (k * 997 % 70000)


class ArchiveKill(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = os.path.join(self.tmp.name, 'regressions')
        self.script = os.path.join(self.tmp.name, 'writer.py')
        with open(self.script, 'w') as f:
            f.write(WRITER % {'scripts': os.path.join(ROOT, 'scripts'), 'nsigs': NSIGS})

    def tearDown(self):
        self.tmp.cleanup()

    def snapshot(self):
        snap = {}
        for sig in archive.entries(self.dir):
            meta = archive.load(self.dir, sig)
            with open(os.path.join(self.dir, sig, 'input'), 'rb') as f:
                inp = f.read()
            with open(os.path.join(self.dir, sig, 'original'), 'rb') as f:
                orig = f.read()
            snap[sig] = (inp, orig, meta['first_seen'], meta['times_seen'])
        return snap

    def check_against(self, before):
        problems = archive.check(self.dir)
        self.assertEqual(problems, [])
        after = self.snapshot()
        for sig, (inp, orig, first, times) in before.items():
            self.assertIn(sig, after, 'entry %s lost' % sig)
            self.assertEqual(after[sig][:3], (inp, orig, first), 'entry %s changed' % sig)
            self.assertGreaterEqual(after[sig][3], times)
        for sig, (inp, orig, _, _) in after.items():
            k = int(sig.rsplit('-', 1)[1])
            self.assertEqual(inp, expected_input(k), sig)
            self.assertEqual(orig, expected_input(k) + b'-original', sig)
        return after

    def test_random_kills_never_corrupt(self):
        rng = random.Random(1234)
        snap = {}
        kills = 0
        for trial in range(25):
            p = subprocess.Popen([sys.executable, self.script, self.dir, str(20 * NSIGS)])
            time.sleep(rng.uniform(0.05, 0.5))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                kills += 1
            p.wait()
            snap = self.check_against(snap)
        self.assertGreater(kills, 10, 'the writer finished before most kills: test too weak')
        # An uninterrupted run completes the archive.
        subprocess.run([sys.executable, self.script, self.dir, str(2 * NSIGS)], check=True)
        snap = self.check_against(snap)
        self.assertEqual(len(snap), NSIGS)
        staging = archive.staging_dir(self.dir)
        self.assertEqual(sorted(os.listdir(staging)), ['lock'])
        print('archive: %d kills, %d entries, all consistent' % (kills, len(snap)))

    def test_seen_again_only_updates_meta(self):
        s1, m1 = archive.add(self.dir, 'diff-x-1', b'in', b'orig', {'target': 'diff', 'engine': 'afl',
                                                                   'class': 'c'}, seen_at='2026-11-01T00:00:00Z')
        s2, m2 = archive.add(self.dir, 'diff-x-1', b'OTHER', b'OTHER', {'target': 'diff',
                                                                       'engine': 'libfuzzer', 'class': 'c'},
                             seen_at='2026-11-02T00:00:00Z')
        self.assertEqual((s1, s2), ('new', 'seen'))
        with open(os.path.join(self.dir, 'diff-x-1', 'input'), 'rb') as f:
            self.assertEqual(f.read(), b'in')
        meta = archive.load(self.dir, 'diff-x-1')
        self.assertEqual(meta['first_seen'], '2026-11-01T00:00:00Z')
        self.assertEqual(meta['last_seen'], '2026-11-02T00:00:00Z')
        self.assertEqual(meta['times_seen'], 2)
        self.assertEqual(meta['engines'], ['afl', 'libfuzzer'])
        self.assertEqual(meta['status'], 'open')

    def test_check_reports_damage(self):
        archive.add(self.dir, 'decode-y-1', b'a', b'a', {'target': 'decode', 'class': 'c'})
        os.unlink(os.path.join(self.dir, 'decode-y-1', 'input'))
        os.makedirs(os.path.join(self.dir, 'decode-y-2'))
        with open(os.path.join(self.dir, 'decode-y-2', 'input'), 'wb') as f:
            f.write(b'x')
        with open(os.path.join(self.dir, 'decode-y-2', 'meta.json'), 'w') as f:
            f.write('{"signature": "other"')
        problems = archive.check(self.dir)
        self.assertTrue(any('decode-y-1: no input' in p for p in problems), problems)
        self.assertTrue(any('decode-y-2: meta.json missing or not JSON' in p for p in problems), problems)

    def test_bad_signatures_are_refused(self):
        for sig in ('', '../x', 'a/b', '.hidden', 'x' * 200):
            with self.assertRaises(ValueError):
                archive.add(self.dir, sig, b'', b'', {})


class RealArchive(unittest.TestCase):
    def test_corpus_regressions_is_consistent(self):
        problems = archive.check(archive.DEFAULT_ARCHIVE)
        self.assertEqual(problems, [], 'corpus/regressions/ has problems')


if __name__ == '__main__':
    unittest.main()
