"""scripts/repro: reproduce one input or one archived finding.

    PYTHONPATH=scripts python3 -m campaign.repro INPUT|SIGNATURE [--targets a,b]

INPUT is a file (a fuzz input or a plain pickle with --raw), or an archive
entry directory; SIGNATURE names corpus/regressions/<signature>/ (a unique
prefix is enough).  The input runs once through every fuzz target (the
libFuzzer build, with ASan and UBSan, when there is one; else the replay
build) and, when it is a pickle, through ``brine dis`` and pickletools
(side by side), ``brine decode`` and the oracle (CPython) under the input's
options, with the difference of their outcomes.  Exit status 0 when the
finding reproduces (a target fails or brine and CPython disagree), 1 when
it does not, 2 on usage errors.
"""

import argparse
import difflib
import io
import os
import pickletools
import subprocess
import sys
import tempfile

from . import archive, common, triage


def resolve(arg, archive_dir):
    """(input path, meta or None) for a path or a signature."""
    if os.path.isfile(arg):
        d = os.path.dirname(os.path.abspath(arg))
        meta = archive.load(os.path.dirname(d), os.path.basename(d)) \
            if os.path.basename(arg) in ('input', 'original') else None
        return arg, meta
    if os.path.isdir(arg) and os.path.isfile(os.path.join(arg, 'input')):
        d = os.path.abspath(arg)
        return os.path.join(d, 'input'), archive.load(os.path.dirname(d), os.path.basename(d))
    names = archive.entries(archive_dir)
    hits = [n for n in names if n == arg] or [n for n in names if n.startswith(arg)]
    if len(hits) == 1:
        return os.path.join(archive_dir, hits[0], 'input'), archive.load(archive_dir, hits[0])
    if len(hits) > 1:
        raise SystemExit('repro: %r matches %d entries: %s' % (arg, len(hits), ', '.join(hits[:8])))
    raise SystemExit('repro: no file, directory or archived signature %r' % arg)


def sanitizer_stack(text):
    """The sanitizer or FUZZ_ASSERT part of a replay's output."""
    lines = text.splitlines()
    out, keep = [], False
    for line in lines:
        if ('ERROR: AddressSanitizer' in line or 'ERROR: LeakSanitizer' in line or
                'runtime error:' in line or 'FUZZ_ASSERT failed' in line or
                'ERROR: libFuzzer' in line):
            keep = True
        if keep:
            out.append(line)
        if keep and line.startswith('SUMMARY:'):
            break
    return '\n'.join(out[:80])


def dis_python(data):
    out = io.StringIO()
    try:
        pickletools.dis(data, out)
    except Exception as e:  # noqa: BLE001 - garbage is what we show
        out.write('error: %s: %s\n' % (type(e).__name__, e))
    return out.getvalue()


def run(argv, **kw):
    p = subprocess.run(argv, capture_output=True, **kw)
    return p.returncode, p.stdout.decode('utf-8', 'replace'), p.stderr.decode('utf-8', 'replace')


def side_by_side(left, right, width=58):
    a, b = left.splitlines(), right.splitlines()
    rows = []
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else ''
        y = b[i] if i < len(b) else ''
        if len(x) > width:
            x = x[:width - 1] + '~'
        mark = ' ' if x.strip() == y.strip()[:width].strip() or (not x and not y) else '|'
        rows.append('%-*s %s %s' % (width, x, mark, y))
    return '\n'.join(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(prog='scripts/repro', description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('what', help='input file, archive entry directory, or signature')
    ap.add_argument('--targets', help='comma-separated (default: every target)')
    ap.add_argument('--raw', action='store_true',
                    help='the file is a plain pickle (no option bytes at its end)')
    ap.add_argument('--archive', default=archive.DEFAULT_ARCHIVE)
    args = ap.parse_args(argv)
    from oracle import fuzzinput

    path, meta = resolve(args.what, args.archive)
    with open(path, 'rb') as f:
        data = f.read()
    print('== input %s (%d bytes)' % (os.path.relpath(path), len(data)))
    if meta:
        print('   archived: %s, target %s, engine %s, class %s, status %s, first seen %s, '
              'last seen %s' % (meta.get('signature'), meta.get('target'), meta.get('engine'),
                                meta.get('class'), meta.get('status'), meta.get('first_seen'),
                                meta.get('last_seen')))
        if meta.get('description'):
            print('   %s' % meta['description'][:300])
    reproduced = False

    targets = args.targets.split(',') if args.targets else common.targets()
    print('\n== fuzz targets')
    stacks = []
    for t in targets:
        try:
            argv_t = triage.replay_command(t, path)
        except FileNotFoundError as e:
            print('  %-8s not built (%s)' % (t, e))
            continue
        try:
            rc, out, err = run(argv_t, timeout=120)
        except subprocess.TimeoutExpired:
            rc, out, err = -9, '', 'libFuzzer: timeout (repro: 120 s)'
        tri = triage.classify_output(t, err + out, rc)
        if tri.reproduces:
            reproduced = True
            print('  %-8s FAILS: %s (%s)' % (t, tri.summary[:200], tri.cls))
            stack = sanitizer_stack(err + out)
            if stack:
                stacks.append((t, stack))
        else:
            print('  %-8s passes' % t)

    target = meta.get('target') if meta else None
    is_pickle = args.raw or target is None or fuzzinput.target_takes_pickles(target)
    if is_pickle:
        if args.raw:
            body, opts = data, fuzzinput.FuzzOptions()
        else:
            body, opts = fuzzinput.split(data)
        print('\n== pickle: %d bytes, options: %s' % (len(body), opts.describe()))
        brine = os.environ.get('BRINE_BIN') or os.path.join(common.ROOT, 'build', 'brine')
        with tempfile.TemporaryDirectory(prefix='brine-repro-') as tmp:
            pk = os.path.join(tmp, 'pickle')
            with open(pk, 'wb') as f:
                f.write(body)
            _, bdis, bdis_err = run([brine, 'dis', pk])
            pdis = dis_python(body)
            print('\n== disassembly: brine dis %s python3 -m pickletools' % (' ' * 38))
            print(side_by_side(bdis + bdis_err, pdis))

            brc, bout, berr = run([brine, 'decode'] + opts.brine_args(tmp, with_caps=False) + [pk])
            env = dict(os.environ, PYTHONPATH=common.ROOT)
            orc, oout, oerr = run([sys.executable, '-m', 'oracle', 'decode'] +
                                  opts.oracle_args(tmp) + [pk], env=env, cwd=common.ROOT)
        b_outcome = bout if brc == 0 else berr.strip()
        o_outcome = oout if orc == 0 else oerr.strip()
        print('\n== brine decode (exit %d)\n%s' % (brc, b_outcome.rstrip()))
        print('\n== CPython via the oracle (exit %d%s)\n%s' % (
            orc, ', reference ran out of resources' if orc == 3 else '', o_outcome.rstrip()))
        try:
            res = triage.compare_pickle(body, opts, brine)
            verdict = res.cls + (' (%s)' % res.entry if res.entry else '')
            differs = not res.ok
        except Exception as e:  # noqa: BLE001 - still show what we have
            verdict = 'compare failed: %s' % e
            differs = brc != orc or (brc == 0 and bout != oout)
        if differs:
            reproduced = True
            print('\n== difference (brine -> CPython): %s' % verdict)
            print(''.join(difflib.unified_diff((b_outcome.rstrip() + '\n').splitlines(True),
                                               (o_outcome.rstrip() + '\n').splitlines(True),
                                               'brine', 'CPython')), end='')
            try:
                part = triage.parting_point(body, opts, brine)
            except Exception as e:  # noqa: BLE001 - still show what we have
                part, why = None, 'failed: %s' % e
            else:
                why = ('no cut of the stream diverges (the divergence needs what follows, or '
                       'lies past a frame straddle or the first 512 opcodes)')
            if part:
                print('== parting point: opcode %d (%s) at offset %d: %s (brine %s, CPython %s)'
                      % (part['index'], part['opcode'], part['offset'], part['class'],
                         part['brine'], part['reference']))
            else:
                print('== parting point: %s' % why)
        else:
            print('\n== brine and CPython agree: %s' % verdict)
    for t, stack in stacks:
        print('\n== %s: report\n%s' % (t, stack))
    print('\nrepro: %s' % ('REPRODUCES' if reproduced else 'does not reproduce'))
    return 0 if reproduced else 1


if __name__ == '__main__':
    sys.exit(main())
