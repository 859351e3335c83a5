#!/usr/bin/env python3
"""Checks a nightly report against what the run left on disk.

    python3 tests/campaign/report_check.py [--root DIR] [--report DIR] [--fresh]

The report (default: ROOT/reports/latest) says how many executions each
engine ran, how large the corpora were, and what was found. This reads the
engines' own files and the archive, independently of scripts/campaign, and
checks that every figure matches:

- libFuzzer runs: executions and corpus size against the last status line
  of build-libfuzzer/fuzz-work/<target>/libfuzzer.log;
- AFL++ runs: executions against the sum of execs_done over the instances'
  fuzzer_stats (with --fresh: equal, for a run that started from an empty
  working directory; otherwise at most that sum, since AFL_AUTORESUME
  carries earlier runs' counts), corpus size against the main instance's
  corpus_count;
- each run's finding paths exist, and their number is its findings count;
- the merged corpora: after_merge against the files of the libFuzzer
  working corpus, afl_cmin against afl-cmin's output directory;
- every archived finding of the report exists in the archive with a
  meta.json of the same signature, and new_findings counts the new ones;
- summary.md and index.html print each run's executions.

Run it right after ./scripts/nightly (the working directories change with
the next run). Prints one line per check; exits 0 when all hold.
"""

import argparse
import glob
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LF_STATUS = re.compile(r'^#(\d+): cov: \d+ ft: \d+ corp: (\d+) ', re.M)

failures = []


def check(cond, what):
    print('  %s %s' % ('ok  ' if cond else 'FAIL', what))
    if not cond:
        failures.append(what)


def files_in(d):
    try:
        return sum(1 for e in os.scandir(d) if e.is_file() and not e.name.startswith('.'))
    except OSError:
        return None


def shows(text, number):
    """Whether text prints number (as 1234567 or 1,234,567) as a whole
    number, not as part of a longer one."""
    for form in ('{:,}'.format(number), str(number)):
        if re.search(r'(?<![\d,.])%s(?![\d,]|\.\d)' % re.escape(form), text):
            return True
    return False


def afl_stats(path):
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(':')
            out[k.strip()] = v.strip()
    return out


def check_libfuzzer(root, r):
    log = os.path.join(root, 'build-libfuzzer', 'fuzz-work', r['target'], 'libfuzzer.log')
    try:
        with open(log, errors='replace') as f:
            status = LF_STATUS.findall(f.read())
    except OSError:
        status = []
    if not status:
        check(False, '%s/libfuzzer: a status line in %s' % (r['target'], log))
        return
    execs, corp = (int(x) for x in status[-1])
    check(execs == r['execs'], '%s/libfuzzer: execs %d in the report, %d in the log'
          % (r['target'], r['execs'], execs))
    check(corp == r['corpus_end'], '%s/libfuzzer: corpus %d in the report, %d in the log'
          % (r['target'], r['corpus_end'], corp))


def check_afl(root, r, fresh):
    stats = sorted(glob.glob(os.path.join(root, 'build-afl', 'fuzz-work', r['target'], 'afl',
                                          '*', 'fuzzer_stats')))
    if not stats:
        check(False, '%s/afl: fuzzer_stats files' % r['target'])
        return
    total = sum(int(afl_stats(p).get('execs_done', 0)) for p in stats)
    if fresh:
        check(total == r['execs'], '%s/afl: execs %d in the report, %d in %d fuzzer_stats'
              % (r['target'], r['execs'], total, len(stats)))
    else:
        check(0 < r['execs'] <= total, '%s/afl: execs %d in the report, at most %d in fuzzer_stats'
              % (r['target'], r['execs'], total))
    main = [p for p in stats if os.path.basename(os.path.dirname(p)) == 'main']
    if main:
        corpus = int(afl_stats(main[0]).get('corpus_count', -1))
        check(corpus == r['corpus_end'], '%s/afl: corpus %d in the report, %d in main/fuzzer_stats'
              % (r['target'], r['corpus_end'], corpus))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--root', default=ROOT)
    ap.add_argument('--report', help='report directory (default ROOT/reports/latest)')
    ap.add_argument('--fresh', action='store_true',
                    help='the run started from empty working directories')
    args = ap.parse_args(argv)
    del failures[:]
    root = os.path.abspath(args.root)
    rdir = args.report or os.path.join(root, 'reports', 'latest')
    with open(os.path.join(rdir, 'summary.json')) as f:
        s = json.load(f)
    with open(os.path.join(rdir, 'summary.md')) as f:
        md = f.read()
    with open(os.path.join(rdir, 'index.html')) as f:
        html = f.read()
    print('report %s: %d runs, %d findings (%d new)' % (
        os.path.realpath(rdir), len(s['runs']), len(s['findings']), s['new_findings']))

    for r in s['runs']:
        check(r['ok'], '%s/%s ran' % (r['target'], r['engine']))
        if r['engine'] == 'libfuzzer':
            check_libfuzzer(root, r)
        else:
            check_afl(root, r, args.fresh)
        missing = [p for p in r['finding_paths'] if not os.path.exists(os.path.join(root, p))]
        check(len(r['finding_paths']) == r['findings'] and not missing,
              '%s/%s: %d findings, %d paths, missing %s' % (
                  r['target'], r['engine'], r['findings'], len(r['finding_paths']), missing))
        shown = '{:,}'.format(r['execs'])
        check(shows(md, r['execs']), '%s/%s: summary.md shows %s execs'
              % (r['target'], r['engine'], shown))
        check(shows(html, r['execs']), '%s/%s: index.html shows %s execs'
              % (r['target'], r['engine'], shown))

    for target, c in sorted(s.get('corpus', {}).items()):
        if 'after_merge' in c:
            n = files_in(os.path.join(root, 'build-libfuzzer', 'fuzz-work', target, 'corpus'))
            check(n == c['after_merge'], '%s: merged corpus %d in the report, %s files'
                  % (target, c['after_merge'], n))
        if 'afl_cmin' in c:
            n = files_in(os.path.join(root, 'build-afl', 'fuzz-work', target, 'cmin'))
            check(n == c['afl_cmin'], '%s: afl-cmin corpus %d in the report, %s files'
                  % (target, c['afl_cmin'], n))

    archive = s.get('config', {}).get('archive') or 'corpus/regressions'
    archive = os.path.normpath(os.path.join(root, archive))
    new = 0
    for fnd in s['findings']:
        meta_path = os.path.join(root, fnd['path'], 'meta.json')
        try:
            with open(meta_path) as f:
                meta = json.load(f)
        except OSError:
            meta = {}
        check(meta.get('signature') == fnd['signature'],
              'finding %s archived at %s' % (fnd['signature'], fnd['path']))
        check(os.path.dirname(os.path.normpath(os.path.join(root, fnd['path']))) == archive,
              'finding %s is in the archive %s' % (fnd['signature'], archive))
        new += bool(fnd['new'])
    check(new == s['new_findings'], 'new_findings %d, %d findings marked new'
          % (s['new_findings'], new))

    print('report_check: %s (%d failed)' % ('ok' if not failures else 'FAILED', len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
