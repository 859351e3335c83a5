"""Line and branch coverage of src/ reached by the corpora (llvm-cov).

Builds the ``coverage`` preset (clang source-based coverage, replay
driver), replays every target over its seeds, the archived regressions and
the campaign's working corpora (libFuzzer's corpus and the AFL++ queues),
merges the profiles and reads llvm-cov's export summary for the files of
src/.  "decoder" lines are those of src/decode*.c, src/reader.c and
src/memo.c (the unpickling machine).

    PYTHONPATH=scripts python3 -m campaign.coverage [--json OUT] [--fuzz-work DIR]
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

from . import common

DECODER_FILES = ('decode', 'reader.c', 'memo.c')


def _tool(name):
    for cand in (name + '-14', name):
        if shutil.which(cand):
            return cand
    return None


def corpora(target, fuzz_work=None):
    """The directories a target's coverage run replays: seeds, regressions,
    and the working corpora of scripts/fuzz's default directories
    (build-<engine>/fuzz-work/TARGET), or of FUZZ_WORK/<engine>/TARGET when
    the runs were given work directories of their own (--work-dir)."""
    def work(engine):
        if fuzz_work:
            return os.path.join(fuzz_work, engine, target)
        return os.path.join(common.build_dir(engine), 'fuzz-work', target)
    dirs = [os.path.join(common.ROOT, 'corpus', 'seeds', target),
            os.path.join(common.ROOT, 'corpus', 'regressions'),
            os.path.join(work('libfuzzer'), 'corpus')]
    dirs += sorted(glob.glob(os.path.join(work('afl'), 'afl', '*', 'queue')))
    return [d for d in dirs if os.path.isdir(d) and os.listdir(d)]


def build():
    subprocess.run(['cmake', '--preset', 'coverage', '-S', common.ROOT], check=True,
                   capture_output=True)
    subprocess.run(['cmake', '--build', '--preset', 'coverage', '-j', str(os.cpu_count() or 2)],
                   check=True, capture_output=True, cwd=common.ROOT)


def measure(targets=None, do_build=True, fuzz_work=None):
    """Returns the summary.json "coverage" object, or None (with a reason
    in its 'skipped' key) when clang's coverage tools are missing."""
    profdata, cov = _tool('llvm-profdata'), _tool('llvm-cov')
    if not (profdata and cov and shutil.which('clang')):
        return {'skipped': 'llvm-profdata, llvm-cov or clang not installed'}
    if do_build:
        build()
    targets = targets or common.targets()
    binaries, replayed, failures = [], {}, []
    with tempfile.TemporaryDirectory(prefix='brine-cov-') as tmp:
        for t in targets:
            b = common.target_binary('coverage', t)
            if not os.access(b, os.X_OK):
                continue
            binaries.append(b)
            dirs = corpora(t, fuzz_work)
            env = dict(os.environ, LLVM_PROFILE_FILE=os.path.join(tmp, '%s-%%p.profraw' % t),
                       BRINE_DIFF_REPORT_ONLY='1')
            p = subprocess.run([b] + dirs, capture_output=True, text=True, env=env)
            if p.returncode != 0:
                failures.append('%s: replay exited %d: %s' % (t, p.returncode,
                                                              p.stderr.strip()[-200:]))
            replayed[t] = sum(len(os.listdir(d)) for d in dirs)
        raws = glob.glob(os.path.join(tmp, '*.profraw'))
        if not raws:
            return {'skipped': 'no profiles written', 'failures': failures}
        merged = os.path.join(tmp, 'all.profdata')
        subprocess.run([profdata, 'merge', '-sparse', '-o', merged] + raws, check=True)
        argv = [cov, 'export', '-summary-only', '-instr-profile', merged, binaries[0]]
        for b in binaries[1:]:
            argv += ['-object', b]
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
    data = json.loads(out)['data'][0]
    files = []
    tot = {'lines': [0, 0], 'branches': [0, 0]}
    dec = [0, 0]
    src = os.path.join(common.ROOT, 'src') + os.sep
    for f in data['files']:
        name = f['filename']
        if not name.startswith(src):
            continue
        rel = os.path.relpath(name, common.ROOT)
        s = f['summary']
        lc, lt = s['lines']['covered'], s['lines']['count']
        bc, bt = s['branches']['covered'], s['branches']['count']
        tot['lines'][0] += lc
        tot['lines'][1] += lt
        tot['branches'][0] += bc
        tot['branches'][1] += bt
        base = os.path.basename(rel)
        if base.startswith(DECODER_FILES[0]) or base in DECODER_FILES[1:]:
            dec[0] += lc
            dec[1] += lt
        files.append({'file': rel, 'lines_covered': lc, 'lines_total': lt,
                      'lines_percent': _pct(lc, lt), 'branches_covered': bc,
                      'branches_total': bt, 'branches_percent': _pct(bc, bt)})
    ver = subprocess.run([cov, '--version'], capture_output=True, text=True).stdout
    version = next((line.strip() for line in ver.splitlines() if 'version' in line), cov)
    return {'tool': version,
            'lines': {'covered': tot['lines'][0], 'total': tot['lines'][1],
                      'percent': _pct(*tot['lines'])},
            'branches': {'covered': tot['branches'][0], 'total': tot['branches'][1],
                         'percent': _pct(*tot['branches'])},
            'decoder_lines_percent': _pct(*dec), 'decoder_lines': {'covered': dec[0],
                                                                   'total': dec[1]},
            'files': sorted(files, key=lambda x: x['file']), 'inputs': replayed,
            'failures': failures}


def _pct(a, b):
    return round(100.0 * a / b, 2) if b else 0.0


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python3 -m campaign.coverage', description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--json', help='write the coverage object here')
    ap.add_argument('--no-build', action='store_true')
    ap.add_argument('--targets', help='comma-separated (default: all)')
    ap.add_argument('--fuzz-work', metavar='DIR',
                    help='read the working corpora from DIR/<engine>/<target> (the --work-dir '
                         'of scripts/fuzz runs) instead of build-<engine>/fuzz-work/<target>')
    args = ap.parse_args(argv)
    res = measure(args.targets.split(',') if args.targets else None, not args.no_build,
                  args.fuzz_work)
    if args.json:
        common.write_json(args.json, res)
    if 'skipped' in res:
        print('coverage: skipped: %s' % res['skipped'])
        return 1
    for f in res['files']:
        print('  %-28s lines %6.2f%% (%d/%d)  branches %6.2f%% (%d/%d)' % (
            f['file'], f['lines_percent'], f['lines_covered'], f['lines_total'],
            f['branches_percent'], f['branches_covered'], f['branches_total']))
    print('coverage: src/ lines %.2f%% (%d/%d), branches %.2f%% (%d/%d); decoder lines %.2f%% '
          '(%d/%d); inputs %s' % (
              res['lines']['percent'], res['lines']['covered'], res['lines']['total'],
              res['branches']['percent'], res['branches']['covered'], res['branches']['total'],
              res['decoder_lines_percent'], res['decoder_lines']['covered'],
              res['decoder_lines']['total'],
              ', '.join('%s=%d' % kv for kv in sorted(res['inputs'].items()))))
    for f in res['failures']:
        print('  note: ' + f)
    return 0


if __name__ == '__main__':
    sys.exit(main())
