#!/usr/bin/env python3
"""End-to-end test of the campaign with a planted decoder bug.

    python3 tests/campaign/planted.py [--minutes 2] [--keep]

In a copy of the working tree, one comparison of the decoder is patched
(op_proto in src/decode.c accepts protocol 6, which CPython rejects with
"unsupported pickle protocol: 6"), then:

1. the seed corpus alone must not show the bug (so that fuzzing, not the
   seeds, has to find it);
2. ./scripts/nightly --targets diff --engines libfuzzer --minutes M must
   find it, exit 1, and archive it once (one entry, whose parting point is
   PROTO: CPython rejects there, brine goes on; the streams that show it
   diverge in several ways, see scripts/campaign/triage.py), minimized to
   at most 16 bytes, and nothing else (any other new finding is a real bug
   of the tree under test);
3. a second nightly run must not add an archive entry (the finding, if seen
   again, only gets its last_seen and times_seen updated);
4. ./scripts/repro <signature> must reproduce it (exit 0);
5. a third nightly run killed at a random moment (SIGKILL to its whole
   process group) must leave the archive consistent and unchanged.

Takes about 10 minutes on 2 cores (two builds and three campaigns), so it
is not part of ./scripts/test; the nightly CI workflow runs it.  Prints
what it measured and exits 0 when every check held.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLANT_FILE = 'src/decode.c'
PLANT_FROM = 'if (p[0] > BRINE_HIGHEST_PROTOCOL) return dec_fail(d, BRINE_E_PROTO);'
PLANT_TO = 'if (p[0] > BRINE_HIGHEST_PROTOCOL + 1) return dec_fail(d, BRINE_E_PROTO);'
# PROTO 6, which only the patched decoder accepts.
PLANT_BYTES = b'\x80\x06'
# What the whole stream can look like to the oracle: brine accepts a stream
# that CPython rejects, or rejects it later with another exception class.
PLANT_CLASSES = ('brine-accepts-reference-rejects', 'different-exception')
# Where brine and CPython part ways (triage.parting_point): at PROTO, which
# CPython rejects with ValueError and brine executes.
PLANT_PARTING = {'opcode': 'PROTO', 'class': 'reference-rejects', 'reference': 'ValueError'}

failures = []


def check(cond, what):
    print('  %s %s' % ('ok  ' if cond else 'FAIL', what), flush=True)
    if not cond:
        failures.append(what)
    return cond


def copy_tree(dst):
    files = subprocess.run(['git', '-C', ROOT, 'ls-files', '-co', '--exclude-standard', '-z'],
                           check=True, capture_output=True).stdout.split(b'\0')
    for rel in files:
        if not rel:
            continue
        rel = rel.decode()
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src) or rel.startswith(('build', 'reports/')):
            continue
        out = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        shutil.copy2(src, out)


def entries(tree):
    d = os.path.join(tree, 'corpus', 'regressions')
    return sorted(n for n in os.listdir(d) if os.path.isdir(os.path.join(d, n))
                  and not n.startswith('.'))


def nightly(tree, minutes, log):
    t0 = time.monotonic()
    with open(log, 'w') as f:
        p = subprocess.run([os.path.join(tree, 'scripts', 'nightly'), '--targets', 'diff',
                            '--engines', 'libfuzzer', '--minutes', str(minutes),
                            '--no-coverage', '--no-conformance'], stdout=f,
                           stderr=subprocess.STDOUT, cwd=tree)
    return p.returncode, time.monotonic() - t0


def latest_summary(tree):
    with open(os.path.join(tree, 'reports', 'latest', 'summary.json')) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--minutes', type=float, default=2.0)
    ap.add_argument('--keep', action='store_true', help='keep the scratch tree')
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='brine-planted-')
    tree = os.path.join(tmp, 'brine')
    print('planted: scratch tree %s' % tree, flush=True)
    try:
        copy_tree(tree)
        path = os.path.join(tree, PLANT_FILE)
        with open(path) as f:
            src = f.read()
        if not check(src.count(PLANT_FROM) == 1, 'the comparison to patch is in %s' % PLANT_FILE):
            return 1
        with open(path, 'w') as f:
            f.write(src.replace(PLANT_FROM, PLANT_TO))
        before = entries(tree)

        print('planted: 1. the seeds alone', flush=True)
        subprocess.run(['cmake', '--preset', 'replay', '-S', tree], check=True,
                       capture_output=True)
        subprocess.run(['cmake', '--build', '--preset', 'replay', '-j2'], check=True,
                       capture_output=True, cwd=tree)
        p = subprocess.run([os.path.join(tree, 'build-replay', 'harness', 'diff'),
                            os.path.join(tree, 'corpus', 'seeds', 'diff')],
                           capture_output=True, text=True, cwd=tree,
                           env=dict(os.environ, BRINE_DIFF_REPORT_ONLY='1'))
        seeds_show = len(re.findall(r': divergence: ', p.stderr))
        check(seeds_show == 0, 'no seed shows the planted bug (%d do)' % seeds_show)

        print('planted: 2. nightly finds, minimizes and archives it', flush=True)
        rc, secs = nightly(tree, args.minutes, os.path.join(tmp, 'nightly1.log'))
        new = [e for e in entries(tree) if e not in before]
        check(rc == 1, 'first nightly exits 1 (new findings) [exit %d, %.0f s]' % (rc, secs))
        # Triage names a divergence by its parting point, so the plant is one
        # entry whatever the streams did after PROTO 6. An entry whose input
        # has no PROTO 6 is not the plant but a real bug in the tree under
        # test, and fails the test.
        planted, unplanted = [], []
        for e in new:
            with open(os.path.join(tree, 'corpus', 'regressions', e, 'input'), 'rb') as f:
                (planted if PLANT_BYTES in f.read() else unplanted).append(e)
        check(len(planted) == 1, 'the plant is archived once: %s' % planted)
        check(not unplanted, 'no other new finding (a real bug otherwise): %s' % unplanted)
        sig = planted[0] if planted else None
        for e in planted:
            with open(os.path.join(tree, 'corpus', 'regressions', e, 'meta.json')) as f:
                meta_e = json.load(f)
            size = os.path.getsize(os.path.join(tree, 'corpus', 'regressions', e, 'input'))
            check(meta_e.get('stream_class') in PLANT_CLASSES,
                  '%s: stream class %s' % (e, meta_e.get('stream_class')))
            check(meta_e['class'] == PLANT_PARTING['class'], '%s: class %s' % (e, meta_e['class']))
            part = meta_e.get('parting') or {}
            check(all(part.get(k) == v for k, v in PLANT_PARTING.items()),
                  '%s: parts at %s' % (e, part))
            check(size <= 16, '%s: minimized to %d bytes (original %d)' % (
                e, size, meta_e['size_original']))
        if sig:
            with open(os.path.join(tree, 'corpus', 'regressions', sig, 'meta.json')) as f:
                meta = json.load(f)
            found_at = None
            s = latest_summary(tree)
            for r in s['runs']:
                print('     run: %s/%s %d s, %d execs, %d exec/s, %d findings' % (
                    r['target'], r['engine'], r['seconds'], r['execs'], r['exec_per_sec'],
                    r['findings']))
            log = os.path.join(tree, 'build-libfuzzer', 'fuzz-work', 'diff', 'libfuzzer.log')
            with open(log, errors='replace') as f:
                for line in f:
                    m = re.match(r'#\d+: .* oom/timeout/crash: \d+/\d+/(\d+) time: (\d+)s', line)
                    if m and int(m.group(1)) > 0:
                        found_at = int(m.group(2))
                        break
            check(found_at is not None and found_at <= 300,
                  'found by the diff target after %s s of fuzzing (limit 300)' % found_at)
            with open(os.path.join(tree, 'corpus', 'regressions', sig, 'input'), 'rb') as f:
                print('     minimized input: %r' % f.read())

        print('planted: 3. a second run does not duplicate it', flush=True)
        rc2, secs2 = nightly(tree, 1, os.path.join(tmp, 'nightly2.log'))
        after2 = entries(tree)
        check(after2 == sorted(before + new), 'archive unchanged by the second run (%d entries, '
              'exit %d, %.0f s)' % (len(after2), rc2, secs2))
        check(rc2 == 0, 'second nightly exits 0 (nothing new)')
        if sig:
            with open(os.path.join(tree, 'corpus', 'regressions', sig, 'meta.json')) as f:
                meta2 = json.load(f)
            print('     times_seen %s, first_seen %s, last_seen %s' % (
                meta2.get('times_seen'), meta2.get('first_seen'), meta2.get('last_seen')))
            check(meta2['first_seen'] == meta['first_seen'], 'first_seen kept')

        if sig:
            print('planted: 4. scripts/repro reproduces it from the archive', flush=True)
            p = subprocess.run([os.path.join(tree, 'scripts', 'repro'), sig], capture_output=True,
                               text=True, cwd=tree)
            print('\n'.join('     | ' + line for line in p.stdout.splitlines()[-25:]))
            check(p.returncode == 0, 'scripts/repro %s exits 0' % sig)

        print('planted: 5. killing a run never corrupts the archive', flush=True)
        snap = {e: open(os.path.join(tree, 'corpus', 'regressions', e, 'input'), 'rb').read()
                for e in entries(tree)}
        delay = random.Random().uniform(20, 80)
        proc = subprocess.Popen([os.path.join(tree, 'scripts', 'nightly'), '--targets', 'diff',
                                 '--engines', 'libfuzzer', '--minutes', '1', '--no-coverage',
                                 '--no-conformance'], cwd=tree, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        p = subprocess.run([sys.executable, '-m', 'campaign.archive', 'check',
                            os.path.join(tree, 'corpus', 'regressions')], capture_output=True,
                           text=True, env=dict(os.environ, PYTHONPATH=os.path.join(tree, 'scripts')))
        check(p.returncode == 0, 'archive consistent after SIGKILL at %.0f s: %s' % (
            delay, p.stdout.strip().splitlines()[-1] if p.stdout.strip() else p.stderr[-200:]))
        now = {e: open(os.path.join(tree, 'corpus', 'regressions', e, 'input'), 'rb').read()
               for e in entries(tree)}
        check(now == snap, 'no entry lost or changed by the killed run')
    finally:
        if args.keep:
            print('planted: kept %s' % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print('planted: %s' % ('PASS' if not failures else 'FAIL: ' + '; '.join(failures)))
    return 0 if not failures else 1


if __name__ == '__main__':
    sys.exit(main())
