#!/usr/bin/env python3
"""test_bench.py - bench/run.py --quick measures real work and reports it.

Runs the benchmark driver at its quick sizes against the build's
bench/brine_bench and checks, without asserting any timing:
  - the Markdown report: the CPython version, the machine and the load, one
    row per workload, protocol and operation, the memcpy line, the scaling
    table (every workload and op, three sizes, a verdict) and the peak
    memory table;
  - bench.json: brine's encoder wrote CPython's bytes back for every file,
    and the node counts of the decoded records and dict are the number of
    distinct objects in CPython's own pickle.loads of the same pickle (the
    decoder built the whole graph, zero-copy and reusing a document too);
  - brine_bench rejects a broken pickle with an error, not a figure.
Exit 77 (skipped) when the build has no brine_bench (BRINE_BENCH=OFF).
"""
import json
import os
import pickle
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'bench'))
import run as bench_run  # noqa: E402

WORKLOADS = ('records', 'bytes', 'bigints', 'dict', 'nested')
OPS = ('decode', 'decode zero-copy', 'decode reused', 'encode', 'encode reused')


def distinct_objects(value):
    """Objects reachable from value, by identity, less None, True and False
    (brine's document holds those three without counting them as nodes)."""
    seen, stack = set(), [value]
    while stack:
        v = stack.pop()
        if v is None or v is True or v is False or id(v) in seen:
            continue
        seen.add(id(v))
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
    return len(seen)


def main():
    build = os.environ.get('BRINE_BUILD_DIR', os.path.join(ROOT, 'build'))
    bench = os.path.join(build, 'bench', 'brine_bench')
    if not os.path.exists(bench):
        print('skipped: no %s' % bench)
        return 77
    with tempfile.TemporaryDirectory() as out:
        p = subprocess.run([sys.executable, os.path.join(ROOT, 'bench', 'run.py'), '--quick',
                            '--bench', bench, '--out-dir', out],
                           capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        md = p.stdout
        with open(os.path.join(out, 'bench.md')) as f:
            assert f.read() == md
        with open(os.path.join(out, 'bench.json')) as f:
            report = json.load(f)

    # The header: CPython version, machine, load.
    assert 'CPython: %s' % sys.version.split()[0] in md, md[:400]
    assert 'machine: ' in md and 'cores' in md and 'load average' in md
    info = report['info']
    assert info['python'].startswith(sys.version.split()[0]) and info['quick'] is True

    # The main table: every workload, protocol and op, once, with figures.
    rows = [line for line in md.splitlines() if line.startswith('| ') and ' | decode' in line
            or line.startswith('| ') and ' | encode' in line]
    want = {(w, proto, op) for w in WORKLOADS for proto in bench_run.WORKLOADS[w][1]
            for op in OPS}
    got = set()
    for line in rows:
        cells = [c.strip() for c in line.strip('|').split('|')]
        if len(cells) != 9 or cells[0] not in WORKLOADS:
            continue
        got.add((cells[0], int(cells[1]), cells[2]))
        assert float(cells[5]) > 0 and float(cells[6]) > 0 and cells[7].endswith('x'), line
    assert got == want, sorted(want ^ got)
    assert len(report['results']) == len(want)
    for r in report['results']:
        assert r['cpython_s'] > 0 and r['brine_s'] > 0, r
        if r['op'] in ('encode', 'encode reused'):
            # brine wrote the pickle CPython wrote, byte for byte.
            assert r['identical'] is True, r
    assert 'x memcpy' in md and report['memcpy']['memcpy-warm']['median_s'] > 0

    # Node counts: brine built the graph CPython builds (protocol 5, where
    # neither makes intermediate objects).
    nodes = {(r['workload'], r['protocol'], r['op']): r['nodes'] for r in report['results']}
    for name in ('records', 'dict', 'nested'):
        value = pickle.loads(pickle.dumps(bench_run.WORKLOADS[name][0](0.01), 5))
        n = distinct_objects(value)
        assert nodes[(name, 5, 'decode')] == n, (name, nodes[(name, 5, 'decode')], n)
        assert nodes[(name, 5, 'decode zero-copy')] == n
        assert nodes[(name, 5, 'decode reused')] == n
    assert nodes[('bytes', 5, 'decode')] == 1

    # Scaling: every workload and op at three growing sizes, with a verdict;
    # the encoder is judged into a reused buffer, the fresh one only shown.
    scaling = {(s['workload'], s['op']): s['points'] for s in report['scaling']}
    assert set(scaling) == {(w, op) for w in WORKLOADS
                            for op in ('decode', 'encode-reuse', 'encode')}
    for pts in scaling.values():
        sizes = [p['bytes'] for p in pts]
        assert len(sizes) == 3 and sizes[0] < sizes[1] < sizes[2], sizes
    checked = md.count('| linear |') + md.count('| WORSE THAN LINEAR |')
    assert '## Scaling' in md and checked == 10, checked
    assert md.count('| encode (fresh output buffer) |') == 5
    assert md.count('| (not checked) ') == 5

    # Peak memory: both decodes of every file, input and arena accounted.
    peaks = report['peaks']
    assert len(peaks) == 2 * sum(len(bench_run.WORKLOADS[w][1]) for w in WORKLOADS)
    for pk in peaks:
        assert pk['rss_peak_kb'] >= pk['rss_loaded_kb'] >= pk['rss_start_kb'] > 0, pk
        # The values take part of what the arena holds, at least a node each.
        assert 32 * pk['nodes'] <= pk['arena_used_bytes'] <= pk['arena_bytes'], pk
        assert pk['cpython_peak_kb'] > 0, pk
    big = [pk for pk in peaks if pk['workload'] == 'bytes' and pk['protocol'] == 5]
    copying = next(pk for pk in big if pk['op'] == 'peak')
    zero = next(pk for pk in big if pk['op'] == 'peak-zc')
    assert copying['arena_bytes'] >= copying['bytes'] > zero['arena_bytes'], (copying, zero)
    assert '## Peak memory' in md

    # A broken pickle is an error, not a figure.
    with tempfile.NamedTemporaryFile(suffix='.pickle') as f:
        f.write(b'\x80\x05]\x94(K\x01')  # no STOP
        f.flush()
        p = subprocess.run([bench, '--reps', '1', f.name], capture_output=True, text=True)
        assert p.returncode != 0 and 'brine_bench' in p.stderr and p.stdout == '', p
    print('bench --quick: %d rows, %d scaling series, %d peaks' %
          (len(report['results']), len(scaling), len(peaks)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
