#!/usr/bin/env python3
"""bench/run.py - brine against CPython's pickle on the same inputs, in one run.

    bench/run.py [--bench build-bench/bench/brine_bench] [--quick] [--reps N] [--rounds N]
                 [--workloads records,bytes,...] [--out-dir reports/bench]
                 [--no-scaling] [--no-peak]

Makes each workload with CPython (deterministic: fixed seeds), writes its
pickles (protocols 2 and 5; the records also at protocol 0, the text
protocol), then for each file:

  CPython  pickle.loads(file) and pickle.dumps(value, protocol) in this
           process (the C accelerator), gc disabled while timing, as timeit
           does; the result is freed outside the timed region;
  brine    bench/brine_bench on the same file: brine_decode (copying, and
           zero-copy; a first decoding, into memory the system provides),
           brine_decode_into a document holding the previous run's graph
           ("decode reused": the memory is already there; not counted
           against the targets), brine_encode of the decoded graph at the
           same protocol into a fresh buffer (as pickle.dumps makes a new
           bytes object; the output must be the file byte for byte), and
           into one buffer kept between runs ("encode reused", not counted
           against the targets either).

CPython and brine take turns on each file, --rounds times (default 3),
--reps runs each (default 5); every figure is the median of the rounds'
medians, so that a machine whose speed drifts slows both alike. The two
do different work:
CPython builds Python objects (refcounted, allocated one by one), brine
builds its arena graph (docs/canonical.md), so the ratio compares two ways
of turning a pickle into a usable value, not the same machine code. The
same holds for encoding: brine writes the graph it decoded with the
symbolic policy, where (below protocol 3) each bytes value is already the
_codecs.encode call CPython wrote, while pickle.dumps makes that call's
arguments again on every run.

Then the scaling table (brine decode and encode at 1/4, 1/2 and 1 of each
workload's size, time per MB; "WORSE THAN LINEAR" when the time per MB at
the full size exceeds SCALING_TOLERANCE times that at a quarter, which an
O(n log n) workload stays within and an O(n^2) one, at 4x, does not; the
encoder is judged writing into a reused buffer, see SCALED_OPS), and
the peak memory table (one fresh brine_bench process per decode, peak RSS
from /proc/self/status). Prints Markdown on stdout and writes bench.json and
bench.md to --out-dir. Exits 1 when a workload scales worse than linearly
(not with --quick, whose sizes are too small to tell), or when brine's
encoder output differs from CPython's.
"""

import argparse
import gc
import json
import os
import pickle
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCALING_TOLERANCE = 2.0
# The brine_bench ops the scaling table times, its label for each, and
# whether the verdict counts. The encoder's own scaling is timed into a
# buffer kept between runs: a fresh output buffer adds the page faults of
# memory the C library maps anew once the buffer passes its mmap threshold
# (up to 32 MB), and reuses below it, a step that depends on the heap's
# history rather than on the encoder. The fresh-buffer series is printed
# beside it, unchecked.
SCALED_OPS = (('decode', 'decode', True),
              ('encode-reuse', 'encode (reused output buffer)', True),
              ('encode', 'encode (fresh output buffer)', False))
MB = 1e6


# --------------------------------------------------------------------------
# Workloads: name -> (builder(scale), protocols); scale 1.0 is the default.
# --------------------------------------------------------------------------

def make_records(scale):
    """Small records: a dict of ints, floats, short strs, bytes and bools."""
    rng = random.Random(8)
    words = ['alpha', 'beta', 'gamma', 'delta', 'épsilon', 'zeta', 'eta', 'theta']
    out = []
    for i in range(int(200_000 * scale)):
        out.append({'id': i, 'count': rng.randrange(-1000, 100_000),
                    'score': rng.random() * 100, 'name': '%s-%d' % (rng.choice(words), i),
                    'tag': rng.randbytes(rng.randrange(1, 12)), 'ok': rng.random() < 0.5})
    return out


def make_bytes(scale):
    """One bytes object of 200 MB (random, so no encoding has a shortcut)."""
    return random.Random(8).randbytes(int(200_000_000 * scale))


def make_bigints(scale):
    """Ints of 64 to 2048 bits, both signs."""
    rng = random.Random(8)
    return [rng.getrandbits(rng.randrange(64, 2048)) * rng.choice((1, -1))
            for _ in range(int(100_000 * scale))]


def make_dict(scale):
    """A dict of 1,000,000 str keys to ints."""
    return {'key%07d' % i: i * 7 for i in range(int(1_000_000 * scale))}


def make_nested(scale):
    """25 lists nested 10,000 deep (CPython's pickler recurses: the limit is
    raised for it)."""
    depth = int(10_000 * scale)
    chains = []
    for c in range(25):
        x = [c]
        for _ in range(depth):
            x = [x]
        chains.append(x)
    return chains


WORKLOADS = {
    'records': (make_records, (0, 2, 5)),
    'bytes': (make_bytes, (2, 5)),
    'bigints': (make_bigints, (2, 5)),
    'dict': (make_dict, (2, 5)),
    'nested': (make_nested, (2, 5)),
}


# --------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------

def timed(fn, reps):
    """Median and minimum seconds of fn() over reps runs, gc off; each
    result is dropped outside the timed region."""
    times = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(reps):
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
            del result
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(times), min(times)


def run_bench(bench, args):
    """Runs brine_bench; returns its JSON lines as {op: record}."""
    p = subprocess.run([bench] + [str(a) for a in args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit('brine_bench %s failed: %s' % (' '.join(map(str, args)), p.stderr))
    return {r['op']: r for r in map(json.loads, p.stdout.splitlines())}


# CPython's peak for the same decode, measured as brine_bench --peak
# measures brine's: a fresh process, VmHWM before the file is read and
# after pickle.loads. The files are the bench's own pickles, never fuzzed
# input.
CPYTHON_PEAK = r'''
import pickle, sys
def hwm():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1])
before = hwm()
with open(sys.argv[1], 'rb') as f:
    data = f.read()
value = pickle.loads(data)
print(hwm() - before)
'''


def cpython_peak_kb(path):
    p = subprocess.run([sys.executable, '-c', CPYTHON_PEAK, path], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit('CPython peak of %s failed: %s' % (path, p.stderr))
    return int(p.stdout)


def machine():
    # The CPU model and core count as the nightly report reads them.
    sys.path.insert(0, os.path.join(ROOT, 'scripts'))
    from campaign import common
    host = common.machine()
    try:
        commit = subprocess.run(['git', 'describe', '--always', '--dirty'], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip() or 'unknown'
    except OSError:
        commit = 'unknown'
    return {'python': sys.version.replace('\n', ' '), 'uname': ' '.join(x for x in platform.uname() if x),
            'cpu': host['cpu'], 'cores': host['cores'], 'brine_commit': commit}


def bench_file(bench, path, proto, value, reps, rounds, fig):
    """CPython and brine on one file; appends rows to fig['rows']. The two
    take turns, `rounds` times: a machine whose speed drifts (a shared
    virtual machine does) then slows both alike, not only whichever ran
    during the slow minute. Each figure is the median of the rounds'
    medians (and the minimum of their minima)."""
    with open(path, 'rb') as f:
        data = f.read()
    ops = 'decode,decode-zc,decode-reuse,encode,encode-reuse'
    py_dec, py_enc, runs = [], [], []
    for _ in range(rounds):
        py_dec.append(timed(lambda: pickle.loads(data), reps))
        py_enc.append(timed(lambda: pickle.dumps(value, proto), reps))
        runs.append(run_bench(bench, ['--reps', reps, '--protocol', proto, '--ops', ops, path]))
    py_dec = (statistics.median(t[0] for t in py_dec), min(t[1] for t in py_dec))
    py_enc = (statistics.median(t[0] for t in py_enc), min(t[1] for t in py_enc))
    b = {}
    for op in runs[0]:
        b[op] = dict(runs[0][op])
        b[op]['median_s'] = statistics.median(r[op]['median_s'] for r in runs)
        b[op]['min_s'] = min(r[op]['min_s'] for r in runs)
        if 'identical' in b[op]:
            b[op]['identical'] = all(r[op].get('identical') for r in runs)
    nodes = b['decode']['nodes']
    rows = []
    for op, py, br in (('decode', py_dec, b['decode']),
                       ('decode zero-copy', py_dec, b['decode-zc']),
                       ('decode reused', py_dec, b['decode-reuse']),
                       ('encode', py_enc, b['encode']),
                       ('encode reused', py_enc, b['encode-reuse'])):
        rows.append({'op': op, 'bytes': len(data), 'nodes': nodes,
                     'cpython_s': py[0], 'cpython_min_s': py[1],
                     'brine_s': br['median_s'], 'brine_min_s': br['min_s'],
                     'identical': br.get('identical')})
    return rows, b


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

def fmt_rate(x):
    return '%.0f' % x if x >= 100 else '%.1f' % x


def main_table(results):
    out = ['| workload | protocol | op | size MB | objects | CPython MB/s | brine MB/s '
           '| ratio | brine objects/s |',
           '|---|---:|---|---:|---:|---:|---:|---:|---:|']
    for r in results:
        mb = r['bytes'] / MB
        note = '' if r['identical'] in (None, True) else ' (OUTPUT DIFFERS)'
        out.append('| %s | %d | %s%s | %.1f | %d | %s | %s | %.1fx | %.3g |' % (
            r['workload'], r['protocol'], r['op'], note, mb, r['nodes'],
            fmt_rate(mb / r['cpython_s']), fmt_rate(mb / r['brine_s']),
            r['cpython_s'] / r['brine_s'], r['nodes'] / r['brine_s']))
    return out


def scaling_table(points):
    out = ['| workload | op | size MB at 1/4, 1/2, 1 | ms per MB at 1/4, 1/2, 1 | growth | verdict |',
           '|---|---|---|---|---:|---|']
    bad = []
    labels = {op: (label, checked) for op, label, checked in SCALED_OPS}
    for (w, op), pts in points.items():
        label, checked = labels[op]
        per = [p['s'] / (p['bytes'] / MB) for p in pts]
        growth = per[-1] / per[0]
        verdict = 'linear' if growth <= SCALING_TOLERANCE else 'WORSE THAN LINEAR'
        if not checked:
            verdict = '(not checked) ' + verdict
        elif verdict != 'linear':
            bad.append((w, label))
        out.append('| %s | %s | %s | %s | %.2f | %s |' % (
            w, label, ', '.join('%.2f' % (p['bytes'] / MB) for p in pts),
            ', '.join('%.2f' % (x * 1e3) for x in per), growth, verdict))
    return out, bad


def peak_table(peaks):
    out = ['| workload | protocol | decode | input MB | peak MB | arena held MB | arena used MB '
           '| peak / input | limit 2 x input + used + 1 | verdict | CPython peak MB | brine / CPython |',
           '|---|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|']
    bad = []
    for p in peaks:
        inp = p['bytes'] / MB
        # The decoder's peak: what the process grew by from just before the
        # input was read (the input included).
        peak = (p['rss_peak_kb'] - p['rss_start_kb']) * 1024 / MB
        arena = p['arena_bytes'] / MB
        # The graph is what its values take of the arena: the unused end
        # of the last chunk (up to 8 MB) is address space, not memory, and
        # would otherwise loosen the limit.
        used = p['arena_used_bytes'] / MB
        limit = 2 * inp + used + 1.0  # 1 MB: the allocator's own slack
        ok = peak <= limit
        if not ok:
            bad.append(p['workload'])
        cpy = p['cpython_peak_kb'] * 1024 / MB
        out.append('| %s | %d | %s | %.1f | %.1f | %.1f | %.1f | %.2f | %.1f | %s | %.1f | %.2f |' % (
            p['workload'], p['protocol'], 'zero-copy' if p['op'] == 'peak-zc' else 'copying',
            inp, peak, arena, used, peak / inp if inp else 0, limit, 'ok' if ok else 'OVER',
            cpy, peak / cpy if cpy else 0))
    return out, bad


def targets(results, memcpy):
    """The issue's targets, each with its figure and met / NOT MET."""
    out = []
    for r in results:
        if r['workload'] != 'records' or r['op'] in ('decode zero-copy', 'decode reused',
                                                      'encode reused'):
            continue
        want = 10 if r['op'] == 'decode' else 5
        ratio = r['cpython_s'] / r['brine_s']
        out.append('- records, protocol %d, %s: %.1fx CPython (target %dx): %s' % (
            r['protocol'], r['op'], ratio, want, 'met' if ratio >= want else 'NOT MET'))
    if memcpy:
        warm = memcpy['memcpy-warm']['median_s']
        for r in results:
            if (r['workload'] == 'bytes' and r['protocol'] == 5 and r['op'].startswith('decode')
                    and r['op'] != 'decode reused'):
                x = warm / r['brine_s']
                out.append('- bytes (%.0f MB), protocol 5, %s: %.2f x memcpy (target 0.5): %s' % (
                    r['bytes'] / MB, r['op'], x, 'met' if x >= 0.5 else 'NOT MET'))
    return out


# --------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--bench', default=os.path.join(ROOT, 'build-bench', 'bench', 'brine_bench'))
    ap.add_argument('--quick', action='store_true', help='1/100 of the sizes, 3 runs (a test)')
    ap.add_argument('--reps', type=int, default=None, help='runs per figure (default 5)')
    ap.add_argument('--rounds', type=int, default=None,
                    help='turns CPython and brine take on each file (default 3, 1 with --quick)')
    ap.add_argument('--workloads', default=','.join(WORKLOADS))
    ap.add_argument('--out-dir', default=os.path.join(ROOT, 'reports', 'bench'))
    ap.add_argument('--no-scaling', action='store_true')
    ap.add_argument('--no-peak', action='store_true')
    args = ap.parse_args(argv)
    base = 0.01 if args.quick else 1.0
    reps = args.reps or (3 if args.quick else 5)
    rounds = args.rounds or (1 if args.quick else 3)
    names = args.workloads.split(',')
    for n in names:
        if n not in WORKLOADS:
            ap.error('unknown workload %s' % n)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))

    info = machine()
    info['load_before'] = os.getloadavg()
    info['quick'] = args.quick
    info['reps'] = reps
    info['rounds'] = rounds
    results, scaling, peaks, memcpy = [], {}, [], None
    with tempfile.TemporaryDirectory(prefix='brine-bench-') as tmp:
        for name in names:
            build, protos = WORKLOADS[name]
            sizes = (0.25, 0.5, 1.0) if not args.no_scaling else (1.0,)
            for frac in sizes:
                value = build(base * frac)
                for proto in protos:
                    path = os.path.join(tmp, '%s-%g-p%d.pickle' % (name, frac, proto))
                    with open(path, 'wb') as f:
                        f.write(pickle.dumps(value, proto))
                    if frac == 1.0:
                        rows, b = bench_file(args.bench, path, proto, value, reps, rounds, info)
                        for r in rows:
                            r.update(workload=name, protocol=proto)
                        results.extend(rows)
                        if name == 'bytes' and proto == 5:
                            memcpy = run_bench(args.bench, ['--reps', reps, '--ops', 'memcpy',
                                                            path])
                        if not args.no_peak:
                            cpy_kb = cpython_peak_kb(path)
                            for zc in ([], ['--zero-copy']):
                                pk = run_bench(args.bench, ['--peak'] + zc + [path])
                                rec = next(iter(pk.values()))
                                rec.update(workload=name, protocol=proto,
                                           cpython_peak_kb=cpy_kb)
                                peaks.append(rec)
                    else:
                        b = None
                    # Scaling: the protocol CPython uses by default (4 is
                    # 5's twin for these values), brine only.
                    if proto == 5 and not args.no_scaling:
                        if b is None:
                            b = run_bench(args.bench, ['--reps', reps, '--protocol', proto,
                                                       '--ops', ','.join(o for o, _, _ in SCALED_OPS),
                                                       path])
                        for op, _, _ in SCALED_OPS:
                            scaling.setdefault((name, op), []).append(
                                {'frac': frac, 'bytes': b[op]['bytes'],
                                 's': b[op]['min_s']})
                    os.unlink(path)
                del value
                gc.collect()
    info['load_after'] = os.getloadavg()

    md = ['# brine vs CPython pickle', '',
          '- CPython: %s (pickle.loads / pickle.dumps, C accelerator)' % info['python'],
          '- machine: %s; CPU: %s; %s cores' % (info['uname'], info['cpu'], info['cores']),
          '- brine: %s, built by the `bench` preset (Release, -O2); policy builtins' %
          info['brine_commit'],
          '- load average (1, 5, 15 min): %.2f %.2f %.2f before, %.2f %.2f %.2f after' %
          (tuple(info['load_before']) + tuple(info['load_after'])),
          '- CPython and brine take turns, %d rounds of %d runs each; a figure is the median of '
          'the rounds\' medians%s; MB = 10^6 bytes of pickle; objects = nodes of the decoded '
          'graph' % (rounds, reps, ', QUICK sizes (1/100)' if args.quick else ''),
          '- CPython builds Python objects, brine its arena graph: the ratio compares the two '
          'ways of making a usable value from the same bytes. Times exclude freeing the '
          'result. Encode: brine writes the decoded graph back at the same protocol and its '
          'output is checked to be CPython\'s byte for byte.', '']
    md += main_table(results)
    if memcpy:
        warm, fresh = memcpy['memcpy-warm'], memcpy['memcpy-fresh']
        bytes_rows = [r for r in results if r['workload'] == 'bytes' and r['protocol'] == 5]
        md += ['', 'memcpy of the protocol 5 bytes pickle (%.1f MB) in the same run: %s MB/s '
               'into a written buffer, %s MB/s into a fresh one (page faults included).' %
               (warm['bytes'] / MB, fmt_rate(warm['bytes'] / MB / warm['median_s']),
                fmt_rate(fresh['bytes'] / MB / fresh['median_s']))]
        for r in bytes_rows:
            if r['op'].startswith('decode'):
                md.append('brine %s: %.2f x memcpy (written buffer), %.2f x memcpy (fresh).' % (
                    r['op'], warm['median_s'] / r['brine_s'], fresh['median_s'] / r['brine_s']))
    md += ['', '## Targets (issue 8)', '']
    md += targets(results, memcpy)
    bad_scaling = []
    if scaling:
        tab, bad_scaling = scaling_table(scaling)
        md += ['', '## Scaling (brine, protocol 5)', '',
               'Time per MB (the fastest of the runs: interference only ever adds time) at '
               '1/4, 1/2 and all of each workload; growth = the last over the first. Verdict '
               '"linear" when growth <= %.1f (O(n^2) would show about 4).%s The encoder is '
               'judged writing into an output buffer kept between runs; into a fresh one '
               '(printed, not checked) its time also holds the page faults of a buffer the C '
               'library maps anew above its mmap threshold and reuses below it, a step '
               'that depends on the heap\'s history, not on the encoder.' %
               (SCALING_TOLERANCE, ' Not enforced with --quick.' if args.quick else ''), '']
        md += tab
    if peaks:
        tab, bad_peak = peak_table(peaks)
        md += ['', '## Peak memory (brine decode, one process per decode)', '',
               'peak = growth of the resident set (VmHWM of /proc/self/status) from before the input '
               'was read to after the decode, input included; arena held = the memory the '
               'document obtained (brine_doc_stats), arena used = what its values take of it '
               '(brine_doc_used_bytes: all but the unwritten end of the last chunk), which '
               'holds copied byte strings; the limit counts the used part. CPython peak = the '
               'same growth around pickle.loads in a fresh python3 process.', '']
        md += tab
    text = '\n'.join(md) + '\n'
    sys.stdout.write(text)
    os.makedirs(args.out_dir, exist_ok=True)
    with open(os.path.join(args.out_dir, 'bench.md'), 'w') as f:
        f.write(text)
    with open(os.path.join(args.out_dir, 'bench.json'), 'w') as f:
        json.dump({'info': info, 'results': results, 'memcpy': memcpy, 'peaks': peaks,
                   'scaling': [{'workload': w, 'op': op, 'points': pts}
                               for (w, op), pts in scaling.items()],
                   'scaling_tolerance': SCALING_TOLERANCE}, f, indent=1)
    differs = [r for r in results if r['identical'] is False]
    if differs:
        print('error: brine encode output differs from CPython for %s' %
              ', '.join('%s p%d' % (r['workload'], r['protocol']) for r in differs),
              file=sys.stderr)
        return 1
    if bad_scaling and not args.quick:
        print('error: worse than linear: %s' % bad_scaling, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
