"""Synthetic summary.json documents (schema 1) for the campaign report tests
(test_report.py, test_report_browser.py). Not a test itself: ctest runs
tests/py/test_*.py only.

Every number is made by a seeded generator, so the tests can look the
same numbers up in the rendered files.
"""

import os
import pickletools
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

TARGETS = ('decode', 'canon', 'encode', 'diff')
ENGINES = ('libfuzzer', 'afl')
PROTOS = ('0', '1', '2', '3', '4', '5', 'unknown')
UNITS = {'libfuzzer': 'libFuzzer cov (edges)', 'afl': 'AFL++ bitmap edges'}


def base(**over):
    s = {
        'schema': 1,
        'started': '2026-11-21T16:40:00Z', 'finished': '2026-11-21T16:43:10Z',
        'duration_seconds': 190.2,
        'machine': {'cores': 2, 'cpu': 'Test CPU @ 2.0GHz', 'os': 'Linux 6.1.0',
                    'hostname': 'ci-box-7'},
        'cpython': '3.11.7', 'brine_commit': '321eb24', 'brine_dirty': False,
        'config': {'minutes': 3, 'jobs': 2, 'engines': list(ENGINES), 'targets': list(TARGETS)},
        'runs': [], 'corpus': {}, 'coverage': None, 'findings': [], 'findings_by_class': {},
        'new_findings': 0, 'conformance': None, 'notes': [],
    }
    s.update(over)
    return s


def run(rng, target, engine, samples):
    execs = 0
    cov = rng.randrange(1500, 3000)
    corpus = rng.randrange(900, 1500)
    series = []
    for i in range(samples):
        t = i * 22.5 / max(samples - 1, 1)
        rate = rng.randrange(3000, 9000) if engine == 'libfuzzer' else rng.randrange(20000, 90000)
        if i:
            execs += int(rate * 22.5 / (samples - 1))
            cov += rng.randrange(0, 40)
            corpus += rng.randrange(0, 9)
        series.append({'t': round(t, 1), 'execs': execs, 'exec_per_sec': rate if i else 0,
                       'coverage': cov, 'corpus': corpus})
    return {'target': target, 'engine': engine, 'seconds': 22.5, 'instances': 2,
            'execs': execs, 'exec_per_sec': int(execs / 22.5) if samples else 0,
            'corpus_start': series[0]['corpus'] if series else corpus,
            'corpus_end': corpus, 'findings': 0, 'coverage': cov,
            'coverage_unit': UNITS[engine], 'series': series}


def conformance(rng, with_failures=True):
    """The shape of `python3 -m oracle conformance --json` (oracle/conformance.py):
    cells with agree/known/resource/fail, failing cells naming their smallest
    failure by id, failures with a path (regressions) or hex (generated)."""
    buckets = ('total', 'agree', 'known', 'resource', 'fail')
    zero = dict.fromkeys(buckets, 0)
    by_opcode, by_proto, raw = {}, {p: dict(zero) for p in PROTOS}, []
    for op in pickletools.opcodes:
        entry = dict(zero, protocols={})
        for p in [str(i) for i in range(op.proto, 6)] + ['unknown'] * (op.proto >= 2):
            total = rng.randrange(50, 5000)
            fail = rng.choice((0, 0, 0, 0, 1, 3, 40)) if with_failures else 0
            known = rng.choice((0, 0, 0, 5))
            resource = rng.choice((0, 0, 0, 0, 0, 2))
            c = {'total': total, 'agree': total - fail - known - resource, 'known': known,
                 'resource': resource, 'fail': fail}
            entry['protocols'][p] = dict(c)
            for k in buckets:
                entry[k] += c[k]
                by_proto[p][k] += c[k]
            for i in range(min(fail, 2)):
                f = {'source': 'generated', 'name': '%s-%s-%d' % (op.name, p, i),
                     'policy': 'symbolic', 'class': 'different-graph', 'entry': None,
                     'protocol': p, 'size': rng.randrange(3, 300),
                     'opcodes': ['PROTO', op.name, 'STOP'], 'brine': 'x', 'reference': 'y'}
                if rng.random() < 0.5:
                    f['hex'] = '80%02x' % (int(p) if p.isdigit() else 9) + '2e' * 3
                else:
                    f.update(source='regressions',
                             path='corpus/regressions/decode-%s-p%s-%d/input' % (op.name, p, i))
                raw.append(f)
        by_opcode[op.name] = entry
    raw.append({'source': 'malformed', 'name': 'mal-1', 'class': 'exception-class', 'size': 2,
                'protocol': '2', 'opcodes': ['PROTO'], 'hex': '8002'})
    raw.sort(key=lambda f: f['size'])
    for i, f in enumerate(raw):
        f['id'] = 'F%d' % (i + 1)

    def mark(c, pred):
        if c['fail']:
            c['smallest'] = next(f['id'] for f in raw if pred(f))

    for op, entry in by_opcode.items():
        mark(entry, lambda f: op in f['opcodes'])
        for p, c in entry['protocols'].items():
            mark(c, lambda f: op in f['opcodes'] and f['protocol'] == p)
    for p, c in by_proto.items():
        mark(c, lambda f: f['protocol'] == p)
    overall = {k: sum(c[k] for c in by_proto.values()) for k in buckets}
    mark(overall, lambda f: True)
    return {'format': 'brine-conformance/1', 'cpython': '3.11.7', 'brine_commit': '321eb24',
            'sources': {'generated': 51234, 'malformed': 8000, 'regressions': 12,
                        'regressions_skipped': 7},
            'overall': overall, 'by_protocol': by_proto, 'by_opcode': by_opcode,
            'by_class': {'agree': 1000, 'known-difference': 20, 'different-graph': 3},
            'failures': raw}


def full(seed=7):
    """Every section filled: 4 targets x 2 engines, findings, coverage,
    conformance with failures."""
    rng = random.Random(seed)
    runs = [run(rng, t, e, 12) for e in ENGINES for t in TARGETS]
    runs[3]['findings'] = 2
    findings = [
        {'signature': 'diff-exception-class-setitem-3f2a91c0', 'target': 'diff', 'engine': 'afl',
         'class': 'exception-class', 'kind': 'divergence', 'new': True, 'seen_before': False,
         'size_original': 2048, 'size_minimized': 11,
         'path': 'corpus/regressions/diff-exception-class-setitem-3f2a91c0',
         'description': 'brine: TypeError unhashable; CPython: IndexError pop from empty list',
         'repro': './scripts/repro diff-exception-class-setitem-3f2a91c0',
         'first_seen': '2026-11-21', 'last_seen': '2026-11-21'},
        {'signature': 'decode-asan-heap-overflow-77aa0101', 'target': 'decode',
         'engine': 'libfuzzer', 'class': 'crash', 'kind': 'asan', 'new': False,
         'seen_before': True, 'size_original': 60001, 'size_minimized': 23,
         'path': 'corpus/regressions/decode-asan-heap-overflow-77aa0101',
         'description': 'heap-buffer-overflow READ of size 8 in reader_take',
         'repro': './scripts/repro decode-asan-heap-overflow-77aa0101',
         'first_seen': '2026-11-19', 'last_seen': '2026-11-21'},
    ]
    return base(
        runs=runs,
        corpus={t: {'seeds': 1374 + i, 'before': 1374 + i, 'after_merge': 1410 + i,
                    'afl_cmin': 1390 + i} for i, t in enumerate(TARGETS)},
        coverage={'tool': 'llvm-cov 14',
                  'lines': {'covered': 9000, 'total': 10000, 'percent': 90.0},
                  'branches': {'covered': 5000, 'total': 7000, 'percent': 71.4},
                  'files': [{'file': 'src/decode.c', 'lines_percent': 95.1,
                             'branches_percent': 80.2},
                            {'file': 'src/reader.c', 'lines_percent': 88.8,
                             'branches_percent': 66.6}],
                  'decoder_lines_percent': 93.2},
        findings=findings,
        findings_by_class={'exception-class': 1, 'crash': 1},
        new_findings=1,
        conformance=conformance(rng),
        notes=['afl-cmin skipped for diff: no AFL++ build of the diff target',
               'coverage measured on the replay build'])


def empty():
    """A run that did nothing: no runs, findings, coverage or conformance."""
    return base(runs=[], duration_seconds=0.0, notes=[])


def single_point():
    """One run with one sample, one with none, zero findings, huge numbers."""
    rng = random.Random(3)
    r1 = run(rng, 'decode', 'libfuzzer', 1)
    r1['series'][0].update(exec_per_sec=4_500_000_000, coverage=123_456_789)
    r1.update(execs=987_654_321_000, exec_per_sec=4_500_000_000, coverage=123_456_789)
    r2 = run(rng, 'canon', 'afl', 0)
    return base(runs=[r1, r2], config={'minutes': 1, 'jobs': 1, 'engines': ['libfuzzer', 'afl'],
                                       'targets': ['decode', 'canon']},
                conformance={'cpython': '3.11.7', 'by_protocol': {'2': {'total': 10, 'agree': 10,
                                                                       'known': 0, 'fail': 0}}})


HOSTILE = ('<script>alert(1)</script><img src=x onerror=alert(2)>"\'&amp;|`**x**'
           '[a](https://evil.example/)')


def hostile():
    """Markup, Markdown and URL injection attempts in every string field."""
    s = full(seed=11)
    s['machine']['hostname'] = HOSTILE
    s['brine_commit'] = HOSTILE
    s['notes'] = [HOSTILE, 'line one\nline two | not a cell', 'ctrl \x01\x1b[31m and \ud800']
    s['runs'][0]['target'] = '<svg onload=alert(3)>'
    s['runs'][0]['coverage_unit'] = '</text><script>alert(4)</script>'
    f = s['findings'][0]
    f.update(signature='sig<b>|`x`', description=HOSTILE, kind=HOSTILE, repro='./x `rm -rf /` | y',
             path='javascript:alert(5)')
    s['findings'][1]['path'] = '//evil.example/x'
    s['findings_by_class'] = {HOSTILE: 1, 'crash': 1}
    conf = s['conformance']
    conf['failures'].insert(0, {'source': HOSTILE, 'id': HOSTILE, 'class': HOSTILE, 'size': 1,
                                'protocol': 0, 'opcodes': ['INT', HOSTILE],
                                'path': 'https://evil.example/y'})
    conf['by_protocol'][HOSTILE] = {'total': 3, 'agree': 1, 'fail': 2, 'smallest': HOSTILE}
    conf['by_opcode'][HOSTILE] = {'total': 1, 'agree': 0, 'known': 0, 'fail': 1,
                                  'protocols': {'0': {'total': 1, 'fail': 1}}}
    return s
