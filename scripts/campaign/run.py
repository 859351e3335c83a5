"""The nightly campaign (./scripts/nightly calls this after installing and
building what it needs).

    PYTHONPATH=scripts python3 -m campaign.run [--minutes M] [--jobs N]
        [--engines libfuzzer,afl] [--targets decode,diff,...]
        [--archive DIR] [--reports DIR] [--no-coverage] [--no-conformance]

1. fuzz: every target under every engine.  The machine's N cores run one
   (target, engine) pair at a time with N workers (libFuzzer -fork=N,
   AFL++ one main with CmpLog and N-1 secondaries), each pair for an equal
   share of the M minutes, so that every pair gets the same core-seconds
   and no pair starves another of CPU;
2. merge: per target, libFuzzer -merge=1 of its working corpus, the AFL++
   queues and the seeds into a fresh corpus that replaces the libFuzzer
   working corpus; afl-cmin of the main AFL++ queue (sizes reported);
3. triage every finding of this run, group by coarse key, minimize one
   representative per group, sign and archive it (campaign.archive);
4. coverage (llvm-cov) and the protocol conformance measurement
   (python3 -m oracle conformance);
5. reports/<date>/summary.json, summary.md and index.html; reports/latest
   points at it.

Exit status: 0 nothing new, 1 new findings archived, 2 the campaign itself
failed (a fuzzer did not run).
"""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import time

from . import archive, common, fuzzrun, minimize, triage

MAX_TRIAGE = 300          # findings replayed per run; the rest are counted
MAX_REPRESENTATIVES = 2   # minimized per coarse group


def schedule(targets, engines, minutes):
    pairs = [(t, e) for t in targets for e in engines]
    per = max(10.0, minutes * 60.0 / max(1, len(pairs)))
    return pairs, per


def merge_corpus(target, engines, notes):
    """libFuzzer -merge=1 of every corpus of the target into a fresh
    directory that becomes the libFuzzer working corpus; afl-cmin of the
    main AFL++ queue.  Returns the summary's corpus entry."""
    seeds = os.path.join(common.ROOT, 'corpus', 'seeds', target)
    entry = {'seeds': fuzzrun.count_files(seeds)}
    lf_dir = os.path.join(fuzzrun.work_dir('libfuzzer', target), 'corpus')
    afl_dir = os.path.join(fuzzrun.work_dir('afl', target), 'afl')
    queues = []
    if os.path.isdir(afl_dir):
        for inst in sorted(os.listdir(afl_dir)):
            q = os.path.join(afl_dir, inst, 'queue')
            if os.path.isdir(q):
                queues.append(q)
    sources = [d for d in [lf_dir] + queues + [seeds] if os.path.isdir(d)]
    entry['before'] = sum(fuzzrun.count_files(d) for d in sources)
    binary = common.target_binary('libfuzzer', target)
    if 'libfuzzer' in engines and os.access(binary, os.X_OK):
        new = lf_dir + '.merging'
        shutil.rmtree(new, ignore_errors=True)
        os.makedirs(new)
        flags = [f for f in common.libfuzzer_flags(target) if not f.startswith('-dict=')]
        p = subprocess.run([binary, '-merge=1'] + flags + [new] + sources, capture_output=True,
                           text=True, env=dict(os.environ, BRINE_DIFF_REPORT_ONLY='1'))
        if p.returncode == 0:
            old = lf_dir + '.old'
            shutil.rmtree(old, ignore_errors=True)
            if os.path.isdir(lf_dir):
                os.rename(lf_dir, old)
            os.rename(new, lf_dir)
            shutil.rmtree(old, ignore_errors=True)
            entry['after_merge'] = fuzzrun.count_files(lf_dir)
        else:
            shutil.rmtree(new, ignore_errors=True)
            notes.append('%s: libFuzzer merge failed (%d): %s' % (
                target, p.returncode, p.stderr.strip()[-200:]))
    afl_bin = common.target_binary('afl', target)
    main_q = os.path.join(afl_dir, 'main', 'queue')
    if 'afl' in engines and os.path.isdir(main_q) and shutil.which('afl-cmin') and \
            os.access(afl_bin, os.X_OK):
        out = os.path.join(fuzzrun.work_dir('afl', target), 'cmin')
        shutil.rmtree(out, ignore_errors=True)
        timeout_ms = int(common.flag_value(target, 'timeout', '10')) * 1000
        # afl-cmin refuses paths under /tmp unless told (its own temporary
        # files could be raced there); ours live in the tree's build dir,
        # which is under /tmp when the tree is (a scratch clone).
        env = dict(os.environ, AFL_SKIP_CPUFREQ='1', AFL_NO_UI='1', AFL_ALLOW_TMP='1')
        try:
            p = subprocess.run(['afl-cmin', '-i', main_q, '-o', out, '-m', 'none', '-t',
                                str(timeout_ms), '--', afl_bin], capture_output=True, text=True,
                               env=env, timeout=600)
            if os.path.isdir(out):
                entry['afl_cmin'] = fuzzrun.count_files(out)
                entry['afl_queue'] = fuzzrun.count_files(main_q)
            else:
                said = [ln for ln in (p.stdout + p.stderr).splitlines() if ln.strip()]
                errors = [ln for ln in said if 'rror' in ln] or said[-1:]
                notes.append('%s: afl-cmin wrote nothing (exit %d): %s'
                             % (target, p.returncode, ' / '.join(errors)[-300:]))
        except subprocess.TimeoutExpired:
            notes.append('%s: afl-cmin timed out after 600 s' % target)
    return entry


def triage_findings(runs, archive_dir, commit, dirty, budget_seconds, notes):
    """Triage, minimize and archive this run's findings.  Returns the
    summary's findings list and the count of findings that did not
    reproduce."""
    raw = []
    for r in runs:
        for p in r['finding_paths']:
            raw.append((r['target'], r['engine'], p))
    if len(raw) > MAX_TRIAGE:
        notes.append('%d findings; the first %d triaged' % (len(raw), MAX_TRIAGE))
        raw = raw[:MAX_TRIAGE]
    groups = collections.OrderedDict()
    no_repro = 0
    for target, engine, path in raw:
        t = triage.triage(target, path)
        if not t.reproduces:
            no_repro += 1
            continue
        groups.setdefault(t.coarse_key(), []).append((os.path.getsize(path), path, engine, t))
    findings = []
    deadline = time.monotonic() + budget_seconds
    per_group = max(20.0, budget_seconds / max(1, len(groups)))
    from oracle import fuzzinput
    # Once per run: a minimized input can land on another group's signature.
    seen_sigs = set()
    for key, members in groups.items():
        members.sort(key=lambda m: (m[0], m[1]))
        for size, path, engine, t in members[:MAX_REPRESENTATIVES]:
            left = deadline - time.monotonic()
            secs = min(per_group / MAX_REPRESENTATIVES, max(5.0, left))
            small, t2, how = minimize.minimize(t, path, engine, seconds=secs)
            sig = t2.signature()
            if sig in seen_sigs:
                continue
            seen_sigs.add(sig)
            with open(path, 'rb') as f:
                original = f.read()
            meta = {'target': t2.target, 'engine': engine, 'class': t2.signature_class,
                    'stream_class': t2.cls, 'kind': t2.kind,
                    'description': t2.summary, 'frames': t2.frames, 'opcodes': t2.opcodes,
                    'exceptions': list(t2.exc_pair) if t2.kind == 'divergence' else [],
                    'parting': t2.parting,
                    'size_original': len(original), 'size_minimized': len(small),
                    'minimized_by': how, 'brine_commit': commit + ('-dirty' if dirty else ''),
                    'cpython': common.cpython_version(), 'group_size': len(members),
                    'source_file': os.path.relpath(path, common.ROOT)}
            if fuzzinput.target_takes_pickles(t2.target):
                meta['options'] = fuzzinput.split(small)[1].describe()
            status, meta = archive.add(archive_dir, sig, small, original, meta,
                                       notes={'replay.txt': t2.output})
            findings.append({
                'signature': sig, 'target': t2.target, 'engine': engine,
                'class': t2.signature_class, 'stream_class': t2.cls,
                'kind': t2.kind, 'new': status == 'new', 'seen_before': status == 'seen',
                'size_original': len(original), 'size_minimized': len(small),
                'path': os.path.relpath(os.path.join(archive_dir, sig), common.ROOT),
                'description': t2.summary, 'repro': './scripts/repro %s' % sig,
                'first_seen': meta.get('first_seen'), 'last_seen': meta.get('last_seen'),
                'minimized_by': how, 'group_size': len(members)})
            common.log('%s %s (%s, %d -> %d bytes)' % (status, sig, t2.signature_class, len(original),
                                                       len(small)))
    return findings, no_repro


def run_conformance(out_json, notes):
    env = dict(os.environ)
    env['PYTHONPATH'] = common.ROOT
    try:
        p = subprocess.run([sys.executable, '-m', 'oracle', 'conformance', '--json', out_json,
                            '--regressions', os.path.join(common.ROOT, 'corpus', 'regressions')],
                           capture_output=True, text=True, env=env, cwd=common.ROOT, timeout=1800)
    except subprocess.TimeoutExpired:
        notes.append('conformance: timed out after 1800 s')
        return None
    if p.returncode not in (0, 1) or not os.path.exists(out_json):
        notes.append('conformance: failed (%d): %s' % (p.returncode, p.stderr.strip()[-300:]))
        return None
    return common.read_json(out_json)


def report_dir(root, when):
    base = os.path.join(root, when.strftime('%Y-%m-%d'))
    d, n = base, 1
    while os.path.exists(d):
        n += 1
        d = '%s-%d' % (base, n)
    os.makedirs(d)
    return d


def point_latest(root, d):
    link = os.path.join(root, 'latest')
    tmp = link + '.tmp'
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(os.path.basename(d), tmp)
    os.replace(tmp, link)


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python3 -m campaign.run', description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--minutes', type=float, default=5.0)
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--engines', default='libfuzzer,afl')
    ap.add_argument('--targets', default=None, help='comma-separated (default: all)')
    ap.add_argument('--archive', default=archive.DEFAULT_ARCHIVE)
    ap.add_argument('--reports', default=os.path.join(common.ROOT, 'reports'))
    ap.add_argument('--no-coverage', action='store_true')
    ap.add_argument('--no-conformance', action='store_true')
    args = ap.parse_args(argv)

    engines = [e for e in args.engines.split(',') if e]
    for e in engines:
        if e not in common.ENGINES:
            ap.error('unknown engine %s' % e)
    all_targets = common.targets()
    targets = args.targets.split(',') if args.targets else all_targets
    for t in targets:
        if t not in all_targets:
            ap.error('unknown target %s (targets: %s)' % (t, ', '.join(all_targets)))

    started = common.now()
    t0 = time.monotonic()
    commit, dirty = common.git_commit()
    notes = []
    pairs, per = schedule(targets, engines, args.minutes)
    common.log('%d pairs x %.0f s on %d cores' % (len(pairs), per, args.jobs))
    runs, failed = [], []
    for target, engine in pairs:
        common.log('fuzzing %s with %s for %.0f s' % (target, engine, per))
        rec = fuzzrun.run_slice(target, engine, per, args.jobs)
        common.log('  %s: execs=%d exec/s=%d corpus=%d findings=%d' % (
            'ok' if rec['ok'] else 'FAILED', rec['execs'], rec['exec_per_sec'],
            rec['corpus_end'], rec['findings']))
        if not rec['ok']:
            failed.append('%s/%s' % (target, engine))
            notes.append('%s under %s did not run: %s' % (target, engine,
                                                          rec.get('log', '')[-300:]))
        runs.append(rec)

    common.log('merging corpora')
    corpus = {t: merge_corpus(t, engines, notes) for t in targets}

    common.log('triaging %d findings' % sum(r['findings'] for r in runs))
    findings, no_repro = triage_findings(runs, args.archive, commit, dirty,
                                         budget_seconds=max(60.0, args.minutes * 20), notes=notes)
    if no_repro:
        notes.append('%d findings did not reproduce on replay (flaky or fixed meanwhile)' % no_repro)

    coverage = None
    if not args.no_coverage:
        common.log('measuring coverage')
        from . import coverage as cov
        try:
            coverage = cov.measure(targets)
        except (subprocess.CalledProcessError, OSError, ValueError) as e:
            notes.append('coverage: failed: %s' % e)
        if coverage and 'skipped' in coverage:
            notes.append('coverage: skipped: %s' % coverage['skipped'])
            coverage = None

    rdir = report_dir(args.reports, started)
    conformance = None
    if not args.no_conformance:
        common.log('measuring conformance')
        conformance = run_conformance(os.path.join(rdir, 'conformance.json'), notes)

    by_class = collections.Counter(f['class'] for f in findings)
    new = sum(1 for f in findings if f['new'])
    for r in runs:
        r.pop('log', None)
    summary = {
        'schema': 1, 'started': common.iso(started), 'finished': common.iso(common.now()),
        'duration_seconds': round(time.monotonic() - t0, 1), 'machine': common.machine(),
        'cpython': common.cpython_version(), 'brine_commit': commit, 'brine_dirty': dirty,
        'config': {'minutes': args.minutes, 'jobs': args.jobs, 'engines': engines,
                   'targets': targets, 'seconds_per_pair': round(per, 1),
                   'archive': os.path.relpath(args.archive, common.ROOT)},
        'runs': runs, 'corpus': corpus, 'coverage': coverage, 'findings': findings,
        'findings_by_class': dict(by_class), 'new_findings': new, 'no_repro': no_repro,
        'conformance': conformance, 'notes': notes}
    common.write_json(os.path.join(rdir, 'summary.json'), summary)
    p = subprocess.run([sys.executable, '-m', 'campaign.report', rdir],
                       env=dict(os.environ, PYTHONPATH=os.path.join(common.ROOT, 'scripts')),
                       capture_output=True, text=True)
    if p.returncode != 0:
        common.log('report rendering failed: ' + p.stderr.strip()[-500:])
    point_latest(args.reports, rdir)
    md = os.path.join(rdir, 'summary.md')
    if os.path.exists(md):
        with open(md) as f:
            sys.stdout.write(f.read())
    print('nightly: %d runs, %d execs, %d findings (%d new, %d seen before, %d no-repro); '
          'report %s' % (len(runs), sum(r['execs'] for r in runs), len(findings), new,
                         len(findings) - new, no_repro, os.path.relpath(rdir, common.ROOT)))
    if failed:
        print('nightly: FAILED runs: ' + ', '.join(failed))
        return 2
    return 1 if new else 0


if __name__ == '__main__':
    sys.exit(main())
