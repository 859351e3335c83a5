"""The conformance matrix: every adapter (oracle.adapters) against the
reference, per implementation x protocol x opcode family.

``python3 -m oracle.matrix [--adapters a,b] [--out reports/conformance] ...``
(``./scripts/conformance --matrix`` installs the adapters first) runs the
generated values (protocols 0-5), the malformed-stream suite and the
archived regressions through every adapter and through the reference
(CPython's C unpickler, oracle.adapters.pyrun --impl c; in the view of an
adapter that has one, oracle.adapters.view), and writes matrix.json,
matrix.md, index.html and inputs/ (the smallest input of every failing
cell) into the output directory.  ``python3 -m oracle.matrix fuzz ...`` is
the differential fuzz campaign between any two adapters
(oracle.matrix.fuzz).

A fourth source, ``examples``, holds the streams of
oracle.matrix.known.EXAMPLES, which show each documented divergence
between CPython's C and pure-Python unpicklers.

Inputs the adapter contract cannot carry are left out and counted:
generated cases with out-of-band buffers or an extension registry, and
regressions decoded under non-default options.  Everything is decoded
under the symbolic policy (nothing folded) with default options.

Each comparison falls in one class (:func:`classify`), and each class in
one bucket:

    agree                 same text; or both rejected (same exception class
                          for Python implementations, any error otherwise)
    known                 a documented divergence (oracle.matrix.known, or
                          for brine oracle.known_differences) explains it
    cannot                the adapter or the reference's view cannot express
                          the result (cannot-represent): not a failure
    resource              the reference (or the adapter) ran out of memory
                          or recursion: no answer to compare
    crash                 the adapter died (crash) or overran (timeout)
    fail                  different-graph, different-exception,
                          accepts-invalid (adapter accepts, reference
                          rejects), rejects-valid (the reverse)

Agreement rate of a cell = agree / (total - cannot - resource).  Opcode
families (:data:`FAMILIES`): a stream counts in every family of an opcode
it contains (oracle.malformed.scan_opcodes), and in the protocol of
oracle.conformance.stream_protocol.
"""

import collections
import hashlib
import os
import pickletools
import shutil

from .. import adapters as ad
from .. import generate
from ..conformance import DEFAULT_REGRESSIONS, PICKLE_TARGETS, _target_of, stream_protocol
from ..malformed import scan_opcodes
from . import known as known_mod

FORMAT = 'brine-matrix/1'
PROTOCOLS = ('0', '1', '2', '3', '4', '5', 'invalid', 'unknown')
FAMILY_OPS = collections.OrderedDict([
    ('ints', 'INT BININT BININT1 BININT2 LONG LONG1 LONG4'),
    ('floats', 'FLOAT BINFLOAT'),
    ('constants', 'NONE NEWTRUE NEWFALSE'),
    ('strings', 'STRING BINSTRING SHORT_BINSTRING UNICODE BINUNICODE SHORT_BINUNICODE '
                'BINUNICODE8'),
    ('bytes', 'BINBYTES SHORT_BINBYTES BINBYTES8 BYTEARRAY8'),
    ('containers', 'EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST APPEND APPENDS '
                   'EMPTY_DICT DICT SETITEM SETITEMS EMPTY_SET ADDITEMS FROZENSET'),
    ('memo', 'PUT BINPUT LONG_BINPUT MEMOIZE GET BINGET LONG_BINGET DUP'),
    ('framing', 'PROTO FRAME'),
    ('objects', 'GLOBAL STACK_GLOBAL REDUCE NEWOBJ NEWOBJ_EX OBJ INST'),
    ('build', 'BUILD'),
    ('extensions', 'PERSID BINPERSID EXT1 EXT2 EXT4 NEXT_BUFFER READONLY_BUFFER'),
    ('structure', 'MARK POP POP_MARK STOP'),
])
FAMILIES = tuple(FAMILY_OPS)
FAMILY_OF = {op: fam for fam, ops in FAMILY_OPS.items() for op in ops.split()}
assert set(FAMILY_OF) == {o.name for o in pickletools.opcodes}
BUCKETS = ('agree', 'known', 'cannot', 'resource', 'crash', 'fail')
BUCKET_OF = {'agree': 'agree', 'known': 'known', 'cannot-represent': 'cannot',
             'resource': 'resource', 'crash': 'crash', 'timeout': 'crash',
             'different-graph': 'fail', 'different-exception': 'fail',
             'accepts-invalid': 'fail', 'rejects-valid': 'fail'}
CLASSES = tuple(BUCKET_OF)
RESOURCE_ERRORS = ('MemoryError', 'RecursionError')


class Item:
    __slots__ = ('source', 'name', 'data', 'protocol', 'ops', 'families', 'path')

    def __init__(self, source, name, data, protocol=None):
        self.source = source
        self.name = name
        self.data = bytes(data)
        self.ops = scan_opcodes(self.data)
        self.protocol = protocol if protocol is not None else stream_protocol(self.data,
                                                                                self.ops)
        self.families = sorted({FAMILY_OF[o] for o in self.ops}, key=FAMILIES.index)
        self.path = None


# --- inputs ---------------------------------------------------------------------------

def collect(seed=0, count=generate.DEFAULT_COUNT, sources=('generated', 'malformed',
                                                           'regressions', 'examples'),
            regressions=DEFAULT_REGRESSIONS, sample=None):
    """(items, excluded counts).  sample: keep every k-th generated and
    malformed case so that at most `sample` of each remain (None: all)."""
    from .. import fuzzinput
    items, excluded = [], collections.Counter()
    for src, malformed in (('generated', False), ('malformed', True)):
        if src not in sources:
            continue
        cases = list(generate.generate_cases(seed, count, malformed=malformed))
        kept = []
        for c in cases:
            if c.buffer_data or c.extensions:
                excluded[src + ': out-of-band buffers or extension registry'] += 1
                continue
            kept.append(c)
        if sample and len(kept) > sample:
            step = len(kept) / float(sample)
            picked = [kept[int(i * step)] for i in range(sample)]
            excluded[src + ': not sampled'] += len(kept) - len(picked)
            kept = picked
        for c in kept:
            items.append(Item(src, c.stem, c.data,
                              str(c.protocol) if src == 'generated' else None))
    if 'regressions' in sources and regressions and os.path.isdir(regressions):
        for name in sorted(os.listdir(regressions)):
            path = os.path.join(regressions, name, 'input')
            if name.startswith('.') or not os.path.isfile(path):
                continue
            if _target_of(os.path.dirname(path)) not in PICKLE_TARGETS:
                excluded['regressions: not a pickle target'] += 1
                continue
            with open(path, 'rb') as f:
                data, fo = fuzzinput.split(f.read())
            if (fo.buffers is not None or fo.extensions or fo.encoding != 'ASCII'
                    or fo.errors != 'strict' or not fo.fix_imports):
                excluded['regressions: non-default options'] += 1
                continue
            items.append(Item('regressions', name, data))
    if 'examples' in sources:
        for k, (div, data) in enumerate(known_mod.EXAMPLES):
            items.append(Item('examples', '%s-%d' % (div, k), data))
    return items, excluded


def write_inputs(items, directory):
    """Write every item to directory/NNNNN.pickle (item.path)."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for k, it in enumerate(items):
        it.path = os.path.join(directory, '%05d.pickle' % k)
        with open(it.path, 'wb') as f:
            f.write(it.data)


# --- classification ---------------------------------------------------------------------

def _sorted_sets(text):
    from ..compare import sorted_sets
    try:
        return sorted_sets(text)
    except Exception:
        return None


def classify(adapter, rec, ref):
    """The class of one comparison (see the module docstring)."""
    if rec.status != 'ok':
        return rec.status                       # crash, timeout
    if ref.status != 'ok':
        return 'resource'
    if ref.kind == 'reject' and ref.exc_class in RESOURCE_ERRORS:
        return 'resource'
    if rec.kind == 'reject' and rec.exc_class in RESOURCE_ERRORS:
        return 'resource'
    if ref.kind == 'cannot' or rec.kind == 'cannot':
        return 'cannot-represent'
    if rec.kind == 'accept' and ref.kind == 'accept':
        if rec.body == ref.body:
            return 'agree'
        if not adapter.sets_ordered and _sorted_sets(rec.body) == _sorted_sets(ref.body) \
                is not None:
            return 'agree'
        return 'different-graph'
    if rec.kind == 'reject' and ref.kind == 'reject':
        if not adapter.python_errors or rec.exc_class == ref.exc_class:
            return 'agree'
        return 'different-exception'
    if rec.kind == 'accept':
        return 'accepts-invalid'
    if rec.kind == 'reject':
        return 'rejects-valid'
    return 'crash'


class _Outcome:
    """An outcome-like view of a Record for oracle.known_differences."""

    def __init__(self, rec):
        self.kind = rec.kind if rec.kind in ('accept', 'reject') else 'other'
        self.text = rec.body if rec.kind == 'accept' else None
        self.exc_class = rec.exc_class
        self.message = None
        if rec.kind == 'reject':
            parts = rec.body.split(': ', 2)
            self.message = parts[2] if len(parts) > 2 else ''
        self.ops = None


def known_label(adapter, data, rec, ref):
    """(id, issues, description) of the documented divergence explaining a
    failing comparison, or None."""
    if adapter.name == 'brine':
        from .. import known_differences
        try:
            e = known_differences.match(data, None, _Outcome(rec), _Outcome(ref))
        except Exception:
            e = None
        return (e.id, tuple(e.issues), e.description) if e else None
    if adapter.name in PYTHON_LIKE:
        d = known_mod.match(data, rec, ref)
        return (d.id, d.issues, d.description) if d else None
    return None


# Unpicklers built like pickle._Unpickler: the C/Python divergences apply.
PYTHON_LIKE = ('pure-python', 'pypy3')


# --- counting ------------------------------------------------------------------------------

def _cell():
    return dict.fromkeys(('total',) + BUCKETS, 0)


def rate(c, known=False):
    """agree (plus known, when asked) / comparable (total less cannot and
    resource); None if nothing is comparable."""
    n = c['total'] - c['cannot'] - c['resource']
    return round((c['agree'] + (c['known'] if known else 0)) / n, 6) if n else None


class Tally:
    """Counts of one adapter: overall, per protocol, per family, per
    (family, protocol); the smallest non-agreeing input of every cell."""

    def __init__(self):
        self.cells = collections.defaultdict(_cell)
        self.classes = collections.Counter()
        self.known = collections.Counter()
        self.smallest = {}
        self._seq = 0

    def add(self, item, cls, rec, ref, label=None):
        self.classes[cls] += 1
        b = BUCKET_OF[cls]
        if label:
            self.known[label[0]] += 1
        keys = [('all', 'all'), ('all', item.protocol)]
        for fam in item.families:
            keys += [(fam, 'all'), (fam, item.protocol)]
        for k in keys:
            c = self.cells[k]
            c['total'] += 1
            c[b] += 1
        if b not in ('fail', 'crash', 'known'):
            return
        self._seq += 1
        rec_d = {'class': cls, 'source': item.source, 'name': item.name,
                 'protocol': item.protocol, 'size': len(item.data), 'seq': self._seq,
                 'sha1': hashlib.sha1(item.data).hexdigest()[:16], 'hex': item.data.hex(),
                 'adapter': rec.first_line(), 'reference': ref.first_line(),
                 'known': ({'id': label[0], 'issues': list(label[1]), 'description': label[2]}
                           if label else None)}
        if label:
            keys.append(('known', label[0]))
        for k in keys:
            old = self.smallest.get(k)
            if old is None or (rec_d['size'], rec_d['seq']) < (old['size'], old['seq']):
                self.smallest[k] = rec_d

    def to_dict(self):
        cells = {}
        known_smallest = {k[1]: r['sha1'] for k, r in self.smallest.items()
                          if k[0] == 'known'}
        for (fam, proto), c in self.cells.items():
            d = dict(c, rate=rate(c), rate_with_known=rate(c, True))
            if (fam, proto) in self.smallest:
                d['smallest'] = self.smallest[(fam, proto)]['sha1']
            cells.setdefault(fam, {})[proto] = d
        inputs = {}
        for r in self.smallest.values():
            inputs.setdefault(r['sha1'], {k: v for k, v in r.items() if k != 'seq'})
        return {'cells': cells, 'classes': dict(self.classes), 'known': dict(self.known),
                'known_smallest': known_smallest, 'inputs': inputs}


def compare_adapter(adapter, items, recs, refs):
    """Tally of one adapter's records against the reference records."""
    t = Tally()
    for it, rec, ref in zip(items, recs, refs):
        cls = classify(adapter, rec, ref)
        label = None
        if BUCKET_OF[cls] == 'fail':
            label = known_label(adapter, it.data, rec, ref)
            if label:
                cls = 'known'
        t.add(it, cls, rec, ref, label)
    return t


def run_matrix(items, adapters, log=None, **run_kw):
    """{adapter name: {'adapter': Adapter, 'status': 'ok'|'unavailable',
    'reason', 'tally', 'seconds'}} for items already written (item.path)."""
    import time
    paths = [it.path for it in items]
    say = log or (lambda *_: None)
    ref_adapter = ad.by_name(['cpython'])[0]
    t0 = time.monotonic()
    refs = {None: ad.run_adapter(ref_adapter, paths, **run_kw)}
    say('reference (CPython C): %d inputs, %.1f s' % (len(paths), time.monotonic() - t0))
    out = collections.OrderedDict()
    for a in adapters:
        why = a.unavailable()
        if why:
            out[a.name] = {'adapter': a, 'status': 'unavailable', 'reason': why}
            say('%s: unavailable (%s)' % (a.name, why))
            continue
        if a.view not in refs:
            t1 = time.monotonic()
            refs[a.view] = ad.run_adapter(ref_adapter, paths, extra_args=('--view', a.view),
                                          **run_kw)
            say('reference in view %s: %.1f s' % (a.view, time.monotonic() - t1))
        t1 = time.monotonic()
        if a.name == 'cpython' and a.argv == ref_adapter.argv:
            recs = refs[None]   # the reference itself: the same run
        else:
            recs = ad.run_adapter(a, paths, **run_kw)
        secs = time.monotonic() - t1
        tally = compare_adapter(a, items, recs, refs[a.view])
        out[a.name] = {'adapter': a, 'status': 'ok', 'tally': tally, 'seconds': round(secs, 1)}
        c = tally.cells[('all', 'all')]
        say('%s: %d inputs, agree %s, %.1f s' % (a.name, c['total'], _pct(rate(c)), secs))
    return out


def _pct(r):
    return '-' if r is None else '%.2f%%' % (100 * r)
