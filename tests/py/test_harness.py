"""Tests of the fuzzing harness (harness/, scripts/fuzz, corpus/).

- harness/targets.cmake is the one list of targets, and every target has
  its seeds, its options file and a binary in this build;
- the replay build of every target runs its seed corpus and the archived
  regressions cleanly;
- FUZZ_ASSERT aborts with its one-line description in every target (a
  planted failure: $BRINE_FUZZ_PLANT), and the replay driver names the
  input, skips metadata files, refuses missing paths, and keeps going when
  asked;
- scripts/fuzz prints its summary line after a 5-second libFuzzer run of
  decode: skipped without clang's libFuzzer runtime, and in sanitizer
  builds (the default build covers it).

The replay binaries are those of $BRINE_BUILD_DIR (set by ctest), else of
build/.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('BRINE_BUILD_DIR') or os.path.join(ROOT, 'build')
HARNESS = os.path.join(BUILD, 'harness')


def listed_targets():
    out = subprocess.run(['cmake', '-P', os.path.join(ROOT, 'harness', 'targets.cmake')],
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def built_targets():
    path = os.path.join(HARNESS, 'targets.txt')
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return f.read().split()


def cache_value(name):
    try:
        with open(os.path.join(BUILD, 'CMakeCache.txt')) as f:
            for line in f:
                if line.startswith(name + ':'):
                    return line.split('=', 1)[1].strip()
    except OSError:
        pass
    return ''


def run(target, *paths, env=None, timeout=120):
    e = dict(os.environ)
    e.pop('BRINE_FUZZ_PLANT', None)
    e.update(env or {})
    return subprocess.run([os.path.join(HARNESS, target)] + list(paths), capture_output=True,
                          text=True, errors='replace', env=e, timeout=timeout)


@unittest.skipUnless(built_targets(), 'no fuzz targets in %s (BRINE_FUZZ_ENGINE=replay builds them)'
                     % BUILD)
class ReplayTargets(unittest.TestCase):

    def test_list_and_files(self):
        targets = listed_targets()
        self.assertEqual(len(targets), len(set(targets)))
        self.assertTrue({'decode', 'canon', 'encode', 'diff'} <= set(targets))
        for t in targets:
            self.assertTrue(os.path.exists(os.path.join(ROOT, 'harness', 'fuzz_%s.c' % t)), t)
            self.assertTrue(os.path.exists(os.path.join(ROOT, 'corpus', 'options', t + '.options')), t)
            seeds = os.path.join(ROOT, 'corpus', 'seeds', t)
            self.assertTrue(os.path.isdir(seeds) and os.listdir(seeds), 'no seeds for ' + t)
        # Only diff may be missing (no CPython headers), and never silently:
        # CMake warns about it.
        self.assertLessEqual(set(targets) - set(built_targets()), {'diff'})

    def test_every_target_runs_its_corpus(self):
        for t in built_targets():
            with self.subTest(target=t):
                p = run(t, os.path.join(ROOT, 'corpus', 'seeds', t),
                        os.path.join(ROOT, 'corpus', 'regressions'))
                self.assertEqual(p.returncode, 0, p.stderr[-2000:])
                m = re.search(r'replay: (\d+) inputs from 2 path\(s\), ok', p.stdout)
                self.assertTrue(m and int(m.group(1)) > 0, p.stdout)

    def test_fuzz_assert_aborts_in_every_target(self):
        tmp = tempfile.mkdtemp()
        try:
            path = os.path.join(tmp, 'planted')
            with open(path, 'wb') as f:
                f.write(b'PLANTED-FAILURE\x80\x04K\x01.\x00')
            for t in built_targets():
                with self.subTest(target=t):
                    p = run(t, path, env={'BRINE_FUZZ_PLANT': 'PLANTED-FAILURE'})
                    self.assertEqual(p.returncode, -6, p.stderr)  # SIGABRT
                    lines = [x for x in p.stderr.splitlines() if x.startswith('FUZZ_ASSERT failed: ')]
                    self.assertEqual(len(lines), 1, p.stderr)
                    self.assertRegex(lines[0], r'^FUZZ_ASSERT failed: fuzz_common\.c:\d+: .*planted failure')
                    self.assertIn('replay: crashed on input ' + path, p.stderr)
                    # Without the variable the same input passes.
                    self.assertEqual(run(t, path).returncode, 0)
        finally:
            shutil.rmtree(tmp)

    def test_replay_driver(self):
        t = built_targets()[0]
        tmp = tempfile.mkdtemp()
        try:
            sub = os.path.join(tmp, 'sig', 'nested')
            os.makedirs(sub)
            # Metadata is never run, even when it would fail.
            for name in ('README.md', 'meta.json', 'notes.txt', '.hidden'):
                with open(os.path.join(sub, name), 'wb') as f:
                    f.write(b'PLANT')
            with open(os.path.join(sub, 'input'), 'wb') as f:
                f.write(b'\x80\x04K\x01.\x00')
            env = {'BRINE_FUZZ_PLANT': 'PLANT'}
            p = run(t, tmp, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn('replay: 1 inputs from 1 path(s), ok', p.stdout)
            # A missing path is an error, not an empty run.
            p = run(t, os.path.join(tmp, 'missing'))
            self.assertNotEqual(p.returncode, 0)
            # Keep-going mode lists each failing input and goes on.
            with open(os.path.join(sub, 'bad1'), 'wb') as f:
                f.write(b'PLANT1')
            with open(os.path.join(sub, 'bad2'), 'wb') as f:
                f.write(b'PLANT2')
            p = run(t, tmp, env=dict(env, BRINE_REPLAY_KEEP_GOING='1'))
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertEqual(len(re.findall(r'^replay: FAILED ', p.stderr, re.M)), 2, p.stderr)
            self.assertIn('replay: 3 inputs from 1 path(s), with errors, 2 failed', p.stdout)
        finally:
            shutil.rmtree(tmp)


def libfuzzer_runtime():
    clang = shutil.which('clang')
    if not clang:
        return False
    p = subprocess.run([clang, '-print-file-name=libclang_rt.fuzzer-x86_64.a'],
                       capture_output=True, text=True)
    return p.returncode == 0 and os.path.isabs(p.stdout.strip()) and os.path.exists(p.stdout.strip())


@unittest.skipUnless(libfuzzer_runtime(), "clang's libFuzzer runtime is not installed")
@unittest.skipIf(cache_value('BRINE_SANITIZE'), 'sanitizer build: the default build runs it')
class ScriptsFuzz(unittest.TestCase):

    def test_summary_line(self):
        # A work directory of its own: the repository's default one may be a
        # running campaign's.
        work = tempfile.mkdtemp(prefix='brine-fuzz-test-')
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        p = subprocess.run([os.path.join(ROOT, 'scripts', 'fuzz'), 'decode', '--seconds', '5',
                            '--work-dir', work],
                           capture_output=True, text=True, errors='replace', cwd=ROOT, timeout=900,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        last = p.stdout.strip().splitlines()[-1]
        m = re.fullmatch(r'fuzz: target=decode engine=libfuzzer seconds=5 jobs=1 execs=(\d+) '
                         r'exec/s=(\d+) corpus=(\d+) findings=(\d+)(?: (.*))?', last)
        self.assertTrue(m, last)
        self.assertGreater(int(m.group(1)), 0)
        self.assertGreater(int(m.group(3)), 0)
        n = int(m.group(4))
        self.assertEqual(len(m.group(5).split()) if m.group(5) else 0, n)
        # The run's log and corpus are in the given directory.
        with open(os.path.join(work, 'libfuzzer.log'), errors='replace') as f:
            self.assertIn('#%s: ' % m.group(1), f.read())
        self.assertTrue(os.path.isdir(os.path.join(work, 'corpus')))


if __name__ == '__main__':
    unittest.main(verbosity=2)
