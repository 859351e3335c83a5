"""Protocol conformance of brine: agreement with CPython per protocol,
opcode and outcome class.

``python3 -m oracle conformance [--seed N] [--json OUT] [--md OUT]
[--regressions DIR] [--policy symbolic|builtins|both] [--brine PATH] ...``
compares brine with the reference (oracle.compare, long-lived processes)
on three sources:

generated
    oracle.generate's cases for the seed (every family, protocols 0-5),
    with their out-of-band buffers and extension registries;
malformed
    oracle.malformed's streams for the same seed;
regressions
    ``DIR/*/input`` (default corpus/regressions).  The target that found a
    finding is meta.json's ``target``, else the directory name up to its
    first '-'.  decode and diff inputs are split into pickle and option
    bytes as the harness does (oracle.fuzzinput; compared as the diff
    target compares: without the brine-only caps, zero_copy not passed)
    and compared once, under their own options.  Other targets' inputs
    (encode, canon) are not pickles: they are counted as skipped.

Generated and malformed streams are compared under each policy asked for
(default both), so the unit of every count is a *comparison* (a stream
under one policy).  Each comparison falls in one bucket: ``agree``;
``known`` (a documented difference, oracle.known_differences; not a
failure); ``resource`` (the reference ran out of memory or time: no
answer to compare with); ``fail`` (every other class, see oracle.compare).

Protocol of a stream.  Generated cases count at the protocol they were
dumped at.  Malformed streams and regressions: the argument of a PROTO at
offset 0 ("invalid" above 5, "unknown" when the argument is cut off);
without a leading PROTO, "0" when every opcode read is a protocol-0 opcode,
"1" when the highest is a protocol-1 opcode, else "unknown" (opcodes of a
later protocol without a PROTO saying so).

Opcodes of a stream: those a decoder reads, in order, up to STOP, the
first byte that is no opcode, or the opcode whose argument is cut off
(oracle.malformed.scan_opcodes).  A comparison counts once for every
opcode its stream contains; the agreement rate of an opcode is agreeing
comparisons containing it / comparisons containing it.

For every failing cell (a protocol, an opcode, an opcode at a protocol)
the smallest failing input (fewest bytes; the first found on ties) is
kept; the cell names it by failure id, and ``failures`` lists each such
input once, with its bytes in hex, or its path for regressions.

JSON (``--json``), format "brine-conformance/1"::

    {"format": "brine-conformance/1", "cpython": "3.11.7",
     "brine": "/path/build/brine", "brine_version": "brine 0.1.0",
     "brine_commit": "321eb24c0ffe" (+ "-dirty" with uncommitted changes),
     "seed": 0, "count_per_family": 3, "policies": ["symbolic", "builtins"],
     "elapsed_seconds": 9.1,
     "sources": {"generated": N, "malformed": N, "regressions": N,
                 "regressions_skipped": N},   # comparisons; only the sources asked for
     "source_details": {"generated": {"streams": N, "comparisons": N, "by_class": {...}},
                        "malformed": {...},
                        "regressions": {..., "skipped": N, "skipped_targets": {"encode": N}}},
     "overall": CELL,
     "by_protocol": {"0": CELL, ..., "5": CELL, "invalid": CELL, "unknown": CELL},
     "by_opcode": {"PROTO": CELL + {"protocols": {"2": CELL, ...}}, ...},
     "by_class": {"agree": N, "known-difference": N, ...},
     "known_entries": {"huge-length": N, ...},   # registry ids seen, on known
                                                  # differences and resource outcomes
     "failures": [{"id": "F1", "source": "malformed", "name": "mal_flip-3-p2",
                   "policy": "symbolic", "class": "different-graph", "entry": null,
                   "protocol": "2", "size": 9, "hex": "8002..." | "path": "corpus/...",
                   "opcodes": ["PROTO", "NONE", "DUP", "STOP"],
                   "brine": "first line", "reference": "first line",
                   "cells": ["protocol 2", "opcode DUP", "opcode DUP at protocol 2"]}]}

    CELL = {"total": N, "agree": N, "known": N, "resource": N, "fail": N,
            "agree_rate": agree / total (null when total is 0),
            "smallest": "F1"  (failing cells only)}

Markdown (``--md``) has the same tables.  The human table goes to stdout.
Exit status 0 (it is a measurement, failures included), 2 on usage errors.
"""

import argparse
import collections
import json
import os
import platform
import pickletools
import subprocess
import sys
import time

from . import compare
from . import generate
from .malformed import scan_opcodes

FORMAT = 'brine-conformance/1'
SOURCES = ('generated', 'malformed', 'regressions')
BUCKETS = ('agree', 'known', 'resource', 'fail')
PROTOCOL_KEYS = ('0', '1', '2', '3', '4', '5', 'invalid', 'unknown')
OPCODE_ORDER = [o.name for o in pickletools.opcodes]
_OP_PROTO = {o.name: o.proto for o in pickletools.opcodes}
DEFAULT_REGRESSIONS = os.path.join(compare.ROOT, 'corpus', 'regressions')
PICKLE_TARGETS = ('decode', 'diff')


def stream_protocol(data, opcodes=None):
    """The protocol a stream counts under (see the module docstring)."""
    if data[:1] == b'\x80':
        if len(data) < 2:
            return 'unknown'
        return str(data[1]) if data[1] <= 5 else 'invalid'
    if opcodes is None:
        opcodes = scan_opcodes(data)
    top = max((_OP_PROTO[n] for n in opcodes), default=0)
    return str(top) if top <= 1 else 'unknown'


def bucket(cls):
    """The bucket of a comparison class (None for skipped)."""
    if cls == 'agree':
        return 'agree'
    if cls == 'known-difference':
        return 'known'
    if cls == 'reference-resource':
        return 'resource'
    if cls == 'skipped':
        return None
    return 'fail'


class Item:
    """One stream to compare: where it comes from, its bytes and options."""

    __slots__ = ('source', 'name', 'data', 'buffers', 'extensions', 'protocol', 'policies',
                 'options', 'path')

    def __init__(self, source, name, data, protocol, policies, buffers=None, extensions=None,
                 options=(), path=None):
        self.source = source
        self.name = name
        self.data = bytes(data)
        self.protocol = protocol
        self.policies = tuple(policies)
        self.buffers = buffers
        self.extensions = extensions
        self.options = tuple(options)   # (encoding, errors, fix_imports); () = defaults
        self.path = path


# --- counting ----------------------------------------------------------------------

def _cell():
    return dict.fromkeys(('total',) + BUCKETS, 0)


class Tally:
    """The counts of a conformance run; add() one comparison at a time."""

    def __init__(self, sources=SOURCES):
        self.overall = _cell()
        self.by_protocol = collections.defaultdict(_cell)
        self.by_opcode = collections.defaultdict(_cell)
        self.by_opcode_protocol = collections.defaultdict(lambda: collections.defaultdict(_cell))
        self.by_class = collections.Counter()
        self.known_entries = collections.Counter()
        self.sources = {s: {'streams': 0, 'comparisons': 0, 'by_class': collections.Counter()}
                        for s in sources}
        self.smallest = {}      # cell key -> failure record
        self._seq = 0

    def add_stream(self, source):
        self.sources[source]['streams'] += 1

    def add(self, source, name, policy, protocol, opcodes, cls, entry=None, data=b'',
            path=None, brine=None, reference=None):
        """One comparison: protocol (str), opcodes (names in the stream),
        cls (oracle.compare class), entry (known-difference id or None)."""
        src = self.sources[source]
        src['comparisons'] += 1
        src['by_class'][cls] += 1
        self.by_class[cls] += 1
        if entry:
            self.known_entries[entry] += 1
        b = bucket(cls)
        if b is None:
            return
        ops = [o for o in dict.fromkeys(opcodes)]
        cells = [('overall',), ('protocol', protocol)]
        cells += [('opcode', o) for o in ops] + [('opcode', o, protocol) for o in ops]
        for key in cells:
            c = self._cell(key)
            c['total'] += 1
            c[b] += 1
        if b != 'fail':
            return
        self._seq += 1
        rec = {'source': source, 'name': name, 'policy': policy, 'class': cls, 'entry': entry,
               'protocol': protocol, 'size': len(data), 'seq': self._seq, 'opcodes': ops,
               'brine': brine, 'reference': reference}
        if path:
            rec['path'] = path
        else:
            rec['hex'] = bytes(data).hex()
        for key in cells:
            old = self.smallest.get(key)
            if old is None or (rec['size'], rec['seq']) < (old['size'], old['seq']):
                self.smallest[key] = rec

    def _cell(self, key):
        if key[0] == 'overall':
            return self.overall
        if key[0] == 'protocol':
            return self.by_protocol[key[1]]
        if len(key) == 2:
            return self.by_opcode[key[1]]
        return self.by_opcode_protocol[key[1]][key[2]]

    def report(self, meta=None):
        """The JSON-ready report (schema in the module docstring)."""
        recs = {}
        for rec in self.smallest.values():
            recs[rec['seq']] = rec
        order = sorted(recs.values(), key=lambda r: (r['size'], r['seq']))
        fid = {r['seq']: 'F%d' % (i + 1) for i, r in enumerate(order)}
        cells_of = collections.defaultdict(list)
        for key, rec in sorted(self.smallest.items(), key=lambda kv: _key_order(kv[0])):
            cells_of[rec['seq']].append(_key_label(key))

        def cell(key, c):
            out = dict(c)
            out['agree_rate'] = round(c['agree'] / c['total'], 6) if c['total'] else None
            if key in self.smallest:
                out['smallest'] = fid[self.smallest[key]['seq']]
            return out

        by_opcode = {}
        for op in _ordered(set(self.by_opcode) | set(OPCODE_ORDER), OPCODE_ORDER):
            d = cell(('opcode', op), self.by_opcode[op])
            per = self.by_opcode_protocol[op]
            d['protocols'] = {p: cell(('opcode', op, p), per[p])
                              for p in _ordered(per, PROTOCOL_KEYS)}
            by_opcode[op] = d
        failures = []
        for r in order:
            f = {'id': fid[r['seq']]}
            f.update((k, v) for k, v in r.items() if k != 'seq')
            f['cells'] = cells_of[r['seq']]
            failures.append(f)
        out = dict(meta or {})
        out['sources'] = {s: v['comparisons'] for s, v in self.sources.items()}
        if 'skipped' in self.sources.get('regressions', {}):
            out['sources']['regressions_skipped'] = self.sources['regressions']['skipped']
        out['source_details'] = {s: dict(v, by_class=dict(v['by_class'])) for s, v in
                                 self.sources.items()}
        out['overall'] = cell(('overall',), self.overall)
        out['by_protocol'] = {p: cell(('protocol', p), self.by_protocol[p])
                              for p in _ordered(self.by_protocol, PROTOCOL_KEYS)}
        out['by_opcode'] = by_opcode
        out['by_class'] = {c: self.by_class[c] for c in compare.CLASSES if self.by_class[c]}
        out['known_entries'] = dict(sorted(self.known_entries.items()))
        out['failures'] = failures
        return out


def _ordered(keys, order):
    rank = {k: i for i, k in enumerate(order)}
    return sorted(keys, key=lambda k: (rank.get(k, len(rank)), k))


def _key_order(key):
    kind = ('overall', 'protocol', 'opcode').index(key[0])
    return (kind, len(key)) + tuple(
        (OPCODE_ORDER.index(k) if k in OPCODE_ORDER else
         PROTOCOL_KEYS.index(k) if k in PROTOCOL_KEYS else 99, k) for k in key[1:])


def _key_label(key):
    if key[0] == 'overall':
        return 'overall'
    if key[0] == 'protocol':
        return 'protocol %s' % key[1]
    if len(key) == 2:
        return 'opcode %s' % key[1]
    return 'opcode %s at protocol %s' % (key[1], key[2])


# --- sources --------------------------------------------------------------------------

def generated_items(seed, count, protocols, families, policies):
    for c in generate.generate_cases(seed, count, protocols, families):
        ext = {code: (m, n) for m, n, code in c.extensions} or None
        yield Item('generated', c.stem, c.data, str(c.protocol), policies,
                   c.buffer_data or None, ext)


def malformed_items(seed, count, protocols, policies):
    for c in generate.generate_cases(seed, count, protocols, malformed=True):
        yield Item('malformed', c.stem, c.data, stream_protocol(c.data), policies,
                   c.buffer_data or None)


def _target_of(entry_dir):
    meta = os.path.join(entry_dir, 'meta.json')
    if os.path.isfile(meta):
        try:
            with open(meta, encoding='utf-8') as f:
                t = json.load(f).get('target')
            if t:
                return str(t)
        except (OSError, ValueError, AttributeError):
            pass
    return os.path.basename(entry_dir).split('-', 1)[0]


def regression_items(directory, tally):
    """Items for DIR/*/input of the pickle targets; the rest counted as skipped."""
    from . import fuzzinput
    src = tally.sources['regressions']
    src.setdefault('skipped', 0)
    src.setdefault('skipped_targets', collections.Counter())
    if not directory or not os.path.isdir(directory):
        return
    for name in sorted(os.listdir(directory)):
        entry = os.path.join(directory, name)
        path = os.path.join(entry, 'input')
        if name.startswith('.') or not os.path.isfile(path):
            continue
        target = _target_of(entry)
        if target not in PICKLE_TARGETS:
            src['skipped'] += 1
            src['skipped_targets'][target] += 1
            continue
        with open(path, 'rb') as f:
            data, fo = fuzzinput.split(f.read())
        ext = {c: (m, n) for c, m, n in fuzzinput.EXTENSIONS} if fo.extensions else None
        rel = os.path.relpath(path, compare.ROOT)
        yield Item('regressions', name, data, stream_protocol(data), (fo.policy,), fo.buffers,
                   ext, (fo.encoding, fo.errors, fo.fix_imports),
                   path if rel.startswith('..') else rel)


# --- running -----------------------------------------------------------------------------

def _first_line(outcome):
    if outcome is None:
        return None
    if getattr(outcome, 'kind', None) == 'internal':
        lines = (outcome.message or '').strip().splitlines()
        return 'oracle error: %s' % (lines[-1] if lines else '?')
    line = outcome.output().split('\n', 1)[0]
    return line if len(line) <= 200 else line[:200] + '...'


def run(items, tally, brine=None, batch=compare.DEFAULT_BATCH, comparers=None):
    """Compare every item under each of its policies and add it to tally.
    Items are grouped by decode options (one Comparer each)."""
    groups = collections.OrderedDict()
    for it in items:
        groups.setdefault(it.options, []).append(it)
        tally.add_stream(it.source)
    own = comparers is None
    comparers = {} if comparers is None else comparers
    try:
        for opts, its in groups.items():
            cmp = comparers.get(opts)
            if cmp is None:
                enc, err, fix = opts or ('ASCII', 'strict', True)
                cmp = comparers[opts] = compare.Comparer(brine=brine, encoding=enc, errors=err,
                                                         fix_imports=fix, batch=batch)
            ops = [scan_opcodes(it.data) for it in its]
            for policy in ('symbolic', 'builtins'):
                sel = [k for k, it in enumerate(its) if policy in it.policies]
                inputs = (compare.Input(its[k].data, its[k].buffers, its[k].extensions,
                                        its[k].name) for k in sel)
                for k, r in zip(sel, cmp.compare_many(inputs, policy)):
                    it = its[k]
                    tally.add(it.source, it.name, policy, it.protocol, ops[k], r.cls, r.entry,
                              it.data, it.path, _first_line(r.brine), _first_line(r.reference))
    finally:
        if own:
            for c in comparers.values():
                c.close()
    return tally


def brine_facts(brine):
    """(version line, commit of the source tree) for the report."""
    version = None
    try:
        p = subprocess.run([brine, '--version'], capture_output=True, timeout=10)
        version = p.stdout.decode('utf-8', 'replace').strip() or None
    except (OSError, subprocess.TimeoutExpired):
        pass
    commit = None
    try:
        git = ['git', '-C', compare.ROOT]
        commit = subprocess.run(git + ['rev-parse', '--short=12', 'HEAD'], capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
        dirty = subprocess.run(git + ['status', '--porcelain', '--untracked-files=no'],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        if commit and dirty:
            commit += '-dirty'
    except (OSError, subprocess.TimeoutExpired):
        pass
    return version, commit


# --- output ----------------------------------------------------------------------------

_COLS = ('total', 'agree', 'known', 'resource', 'fail')


def _rate(c):
    return '%.2f%%' % (100.0 * c['agree'] / c['total']) if c['total'] else '-'


def _rows(report):
    """(title, [(label, cell)]) for each table."""
    yield 'protocol', [('all', report['overall'])] + list(report['by_protocol'].items())
    yield 'opcode', list(report['by_opcode'].items())


def format_text(report):
    lines = ['conformance: CPython %s, %s (commit %s), seed %s, policies %s, %.1f s' % (
        report.get('cpython'), report.get('brine_version'), report.get('brine_commit'),
        report.get('seed'), '+'.join(report.get('policies', ())),
        report.get('elapsed_seconds', 0))]
    src = report['source_details']
    lines.append('sources: ' + ', '.join(
        '%s %d streams (%d comparisons%s)' % (s, v['streams'], v['comparisons'],
                                             ', %d skipped' % v['skipped'] if v.get('skipped')
                                             else '') for s, v in src.items()))
    for title, rows in _rows(report):
        lines.append('')
        lines.append('%-18s %7s %7s %6s %8s %5s %8s  %s'
                     % ((title,) + _COLS + ('agree', 'smallest')))
        for label, c in rows:
            lines.append('%-18s %7d %7d %6d %8d %5d %8s  %s' % (
                (label,) + tuple(c[k] for k in _COLS) + (_rate(c), c.get('smallest', ''))))
    lines.append('')
    lines.append('by class: ' + ', '.join('%s %d' % kv for kv in report['by_class'].items()))
    if report['known_entries']:
        lines.append('registry entries (known differences, explained resource outcomes): '
                     + ', '.join('%s %d' % kv for kv in report['known_entries'].items()))
    lines.append('failures (smallest per failing cell): %d' % len(report['failures']))
    for f in report['failures'][:30]:
        where = f.get('path') or (f['hex'][:64] + ('...' if len(f['hex']) > 64 else ''))
        lines.append('  %s %s %s/%s [%s] %d bytes %s' % (f['id'], f['class'], f['source'],
                                                        f['name'], f['policy'], f['size'],
                                                        where))
    return '\n'.join(lines) + '\n'


def format_markdown(report):
    out = ['# brine conformance', '',
           '- CPython %s; %s, commit `%s`; seed %s; policies %s; %.1f s' % (
               report.get('cpython'), report.get('brine_version'), report.get('brine_commit'),
               report.get('seed'), ', '.join(report.get('policies', ())),
               report.get('elapsed_seconds', 0))]
    for s, v in report['source_details'].items():
        extra = ''
        if v.get('skipped'):
            extra = '; %d skipped (%s)' % (v['skipped'], ', '.join(
                '%s %d' % kv for kv in sorted(v.get('skipped_targets', {}).items())))
        out.append('- %s: %d streams, %d comparisons%s' % (s, v['streams'], v['comparisons'],
                                                          extra))
    for title, rows in _rows(report):
        out += ['', '## By %s' % title, '',
                '| %s | total | agree | known | resource | fail | agree %% | smallest |' % title,
                '|---|---:|---:|---:|---:|---:|---:|---|']
        for label, c in rows:
            small = c.get('smallest', '')
            out.append('| %s | %d | %d | %d | %d | %d | %s | %s |' % (
                (label,) + tuple(c[k] for k in _COLS) + (
                    _rate(c), '[%s](#%s)' % (small, small.lower()) if small else '')))
    out += ['', '## By class', '', '| class | comparisons |', '|---|---:|']
    out += ['| %s | %d |' % kv for kv in report['by_class'].items()]
    if report['known_entries']:
        out += ['', 'Registry entries (known differences, explained resource outcomes): '
                + ', '.join('`%s` %d' % kv for kv in report['known_entries'].items())]
    out += ['', '## Failures', '']
    if not report['failures']:
        out.append('None.')
    for f in report['failures']:
        if f.get('path'):
            where = '[%s](%s)' % (f['path'], f['path'])
        else:
            h = f['hex']
            where = '`%s`' % (h if len(h) <= 128 else h[:128] + '...')
        out.append('- <a id="%s"></a>**%s** %s, %s `%s` [%s], %d bytes: %s; brine `%s`, '
                   'reference `%s`; cells: %s' % (
                       f['id'].lower(), f['id'], f['class'], f['source'], f['name'], f['policy'],
                       f['size'], where, f['brine'], f['reference'], ', '.join(f['cells'])))
    return '\n'.join(out) + '\n'


# --- command line ----------------------------------------------------------------------

def build_parser():
    p = argparse.ArgumentParser(
        prog='python3 -m oracle conformance',
        description='Measure agreement of brine with CPython per protocol, opcode and '
                    'outcome class on generated, malformed and archived streams.')
    p.add_argument('--seed', type=int, default=0, help='generator seed (default 0)')
    p.add_argument('--count-per-family', type=int, default=generate.DEFAULT_COUNT, metavar='K')
    p.add_argument('--protocols', type=generate._parse_protocols,
                   default=list(generate.ALL_PROTOCOLS), help='generated/malformed protocols')
    p.add_argument('--families', default=None, help='generated families (comma separated)')
    p.add_argument('--sources', default=','.join(SOURCES),
                   help='comma-separated subset of %s' % ', '.join(SOURCES))
    p.add_argument('--policy', choices=('symbolic', 'builtins', 'both'), default='both')
    p.add_argument('--regressions', default=DEFAULT_REGRESSIONS, metavar='DIR',
                   help='archived findings (default corpus/regressions)')
    p.add_argument('--brine', default=None, help='brine executable (default $BRINE_BIN or '
                   'build/brine)')
    p.add_argument('--batch', type=int, default=compare.DEFAULT_BATCH)
    p.add_argument('--json', metavar='OUT', help='write the JSON report')
    p.add_argument('--md', metavar='OUT', help='write the Markdown report')
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    sources = [s.strip() for s in args.sources.split(',') if s.strip()]
    if any(s not in SOURCES for s in sources):
        sys.stderr.write('conformance: unknown source in %r\n' % args.sources)
        return 2
    policies = ('symbolic', 'builtins') if args.policy == 'both' else (args.policy,)
    families = [f.strip() for f in args.families.split(',')] if args.families else None
    brine = os.path.abspath(args.brine or compare.default_brine())
    if not os.access(brine, os.X_OK):
        sys.stderr.write('conformance: brine executable not found: %s\n' % brine)
        return 2
    t0 = time.monotonic()
    tally = Tally([s for s in SOURCES if s in sources])
    items = []
    try:
        if 'generated' in sources:
            items += generated_items(args.seed, args.count_per_family, args.protocols,
                                     families, policies)
        if 'malformed' in sources:
            items += malformed_items(args.seed, args.count_per_family, args.protocols,
                                     policies)
        if 'regressions' in sources:
            items += regression_items(args.regressions, tally)
    except ValueError as e:
        sys.stderr.write('conformance: %s\n' % e)
        return 2
    run(items, tally, brine, args.batch)
    version, commit = brine_facts(brine)
    meta = {'format': FORMAT, 'cpython': platform.python_version(), 'brine': brine,
            'brine_version': version, 'brine_commit': commit, 'seed': args.seed,
            'count_per_family': args.count_per_family, 'protocols': list(args.protocols),
            'policies': list(policies), 'elapsed_seconds': round(time.monotonic() - t0, 2)}
    report = tally.report(meta)
    sys.stdout.write(format_text(report))
    for path, text in ((args.json, lambda: json.dumps(report, indent=1) + '\n'),
                       (args.md, lambda: format_markdown(report))):
        if path:
            with open(path, 'w', encoding='utf-8') as f:
                f.write(text())
    return 0


if __name__ == '__main__':
    sys.exit(main())
