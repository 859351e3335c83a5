"""Case generator: the conformance corpus of brine, made by CPython 3.11.

Usage::

    python3 -m oracle generate --seed N [--count-per-family K]
        [--protocols 0,1,...] [--families a,b] [--out DIR] [--list-families]
    python3 -m oracle generate --malformed --seed N [--out DIR] [...]
    python3 -m oracle.generate ...          (the same, without the dispatcher)

What it writes
==============

Into DIR (default ``corpus/generated``; ``corpus/malformed`` with
``--malformed``), one file per case and one ``manifest.json``:

``<family>-<index>-p<protocol>.pickle``
    The exact bytes ``pickle.dumps(value, protocol)`` returned (or, for the
    persistent-id and out-of-band cases, what ``pickle.Pickler.dump`` wrote
    with the hook; or a hand-written / malformed stream).  ``index`` numbers
    the values of a family from 0 and names the same value at every protocol
    and under every ``--protocols`` filter.  Family names never contain '-'.

``<stem>.buf<i>`` and ``<stem>.buf<i>.ro``
    The i-th out-of-band buffer (0-based, in the order the pickler handed
    them to ``buffer_callback``), holding its raw bytes; the ``.ro`` suffix
    marks a read-only buffer (pass ``bytes``; for the others pass a
    ``bytearray``), and the manifest says the same in ``readonly``.

``manifest.json``
    UTF-8 JSON, ASCII only, stable key order, one case per entry::

      {
        "format": "brine-corpus/1",
        "kind": "generated" | "malformed",
        "seed": N, "count_per_family": K, "protocols": [...],
        "families": [...],            # in catalogue order
        "python": "3.11.7", "hash_seed": 0, "hash_algorithm": "siphash13",
        "int_max_str_digits": 4300,
        "cases": [
          {
            "file": "int_small-3-p2.pickle",
            "family": "int_small", "index": 3, "protocol": 2, "seed": N,
            "how": "dumps" | "pickler+persistent_id"
                   | "pickler+buffer_callback" | "handwritten" | "malformed",
            "size": 7, "sha256": "...",
            "buffers": [{"file": "...buf0.ro", "readonly": true,
                         "size": 9, "sha256": "..."}],
            "roundtrip": true,
            "roundtrip_policies": ["symbolic", "builtins"],
            "roundtrip_note": "",      # why not, when not
            "description": "int 255",
            "extensions": [["oracle.cases.objects", "ext_target_a", 1]],
            "tags": [],
            "resource_risky": false
          }, ...
        ]
      }

    ``roundtrip`` is true when decoding the file (canonical text) and
    encoding that text again at ``protocol`` must give back exactly the
    file's bytes, under both decoder policies; ``roundtrip_policies`` lists
    the policies under which that holds (a case can round-trip symbolically
    but not once ``builtins`` folds a call into a native value).  It is
    always false for hand-written and malformed streams, which CPython did
    not write.  ``extensions`` lists the copyreg extension codes registered
    while the case was dumped (decoding EXT1/EXT2/EXT4 needs them).
    ``resource_risky`` marks malformed streams whose length fields could make
    a decoder allocate gigabytes (CPython's allocates BINBYTES, BINBYTES8 and
    BYTEARRAY8 before reading): feed those to CPython only from ``bytes``
    through ``pickle.loads``, or not at all.  Malformed cases also carry
    ``"base"`` (what they were made from) and ``"mutation"``.

In-process use: :func:`generate_cases` yields :class:`Case` objects with the
same fields plus ``data`` (the bytes), ``buffer_data`` and, when the value
was built in this process, ``value`` and ``expect`` (what ``pickle.loads``
must give back; ``NO_VALUE`` when equality is not meaningful or the value
was built in a child process).

Determinism
===========

All randomness comes from ``random.Random`` seeded with ``"<seed>/<family>"``
(so one family's values do not depend on which other families are asked
for).  CPython's output also depends on the hash seed: the iteration order
of a set or frozenset of strs, bytes (or tuples of them) is the order
their items are pickled in, and so decides the order of the items in
ADDITEMS / FROZENSET / ``set([...])`` and the memo numbering after them.
Dict order and everything else do not depend on it.  The dumping therefore
always runs under ``PYTHONHASHSEED=0``: :func:`generate_cases` runs the
generator in a child ``python3`` with that environment when the current
process was started with another hash seed (values are then not
available in-process), and the hash seed is recorded in the manifest.
The same seed and options give byte-identical files and manifest.
"""

import argparse
import hashlib
import io
import json
import marshal
import os
import pickle
import pickletools
import random
import subprocess
import sys
import copyreg
import contextlib

FORMAT = 'brine-corpus/1'
HASH_SEED = 0
DEFAULT_COUNT = 3
DEFAULT_OUT = os.path.join('corpus', 'generated')
DEFAULT_MALFORMED_OUT = os.path.join('corpus', 'malformed')
ALL_PROTOCOLS = (0, 1, 2, 3, 4, 5)
POLICIES = ('symbolic', 'builtins')
HOWS = ('dumps', 'pickler+persistent_id', 'pickler+buffer_callback', 'handwritten',
        'malformed')

_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _NoValue:
    def __repr__(self):
        return 'NO_VALUE'


NO_VALUE = _NoValue()


class Case:
    """One generated file and its manifest entry."""

    def __init__(self, family, index, protocol, seed, how, data, buffer_data=(),
                 roundtrip_policies=(), roundtrip_note='', description='',
                 extensions=(), tags=(), resource_risky=False, value=NO_VALUE,
                 expect=NO_VALUE, extra=None):
        assert how in HOWS, how
        self.family = family
        self.index = index
        self.protocol = protocol
        self.seed = seed
        self.how = how
        self.data = bytes(data)
        self.buffer_data = [(bytes(b), bool(ro)) for b, ro in buffer_data]
        self.roundtrip_policies = tuple(p for p in POLICIES if p in roundtrip_policies)
        self.roundtrip_note = roundtrip_note
        self.description = description
        self.extensions = [tuple(e) for e in extensions]
        self.tags = list(tags)
        self.resource_risky = bool(resource_risky)
        self.value = value
        self.expect = expect
        self.extra = dict(extra or {})

    @property
    def stem(self):
        return '%s-%d-p%d' % (self.family, self.index, self.protocol)

    @property
    def file(self):
        return self.stem + '.pickle'

    @property
    def roundtrip(self):
        return self.roundtrip_policies == POLICIES

    def buffer_files(self):
        return ['%s.buf%d%s' % (self.stem, i, '.ro' if ro else '')
                for i, (_, ro) in enumerate(self.buffer_data)]

    def manifest_entry(self):
        entry = {
            'file': self.file,
            'family': self.family,
            'index': self.index,
            'protocol': self.protocol,
            'seed': self.seed,
            'how': self.how,
            'size': len(self.data),
            'sha256': hashlib.sha256(self.data).hexdigest(),
            'buffers': [{'file': name, 'readonly': ro, 'size': len(b),
                         'sha256': hashlib.sha256(b).hexdigest()}
                        for name, (b, ro) in zip(self.buffer_files(), self.buffer_data)],
            'roundtrip': self.roundtrip,
            'roundtrip_policies': list(self.roundtrip_policies),
            'roundtrip_note': self.roundtrip_note,
            'description': self.description,
            'extensions': [list(e) for e in self.extensions],
            'tags': self.tags,
            'resource_risky': self.resource_risky,
        }
        entry.update(self.extra)
        return entry

    def to_record(self):
        """Plain data (for marshal between processes); no value."""
        return {
            'family': self.family, 'index': self.index, 'protocol': self.protocol,
            'seed': self.seed, 'how': self.how, 'data': self.data,
            'buffer_data': [[b, ro] for b, ro in self.buffer_data],
            'roundtrip_policies': list(self.roundtrip_policies),
            'roundtrip_note': self.roundtrip_note, 'description': self.description,
            'extensions': [list(e) for e in self.extensions], 'tags': self.tags,
            'resource_risky': self.resource_risky, 'extra': self.extra,
        }

    @classmethod
    def from_record(cls, r):
        return cls(r['family'], r['index'], r['protocol'], r['seed'], r['how'], r['data'],
                   [tuple(x) for x in r['buffer_data']], r['roundtrip_policies'],
                   r['roundtrip_note'], r['description'], r['extensions'], r['tags'],
                   r['resource_risky'], extra=r['extra'])

    def __repr__(self):
        return '<Case %s %s>' % (self.file, self.description)


# ---------------------------------------------------------------------------
# Dumping
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def registered_extensions(extensions):
    """Register copyreg extension codes for the duration of a dump/load."""
    done = []
    try:
        for module, name, code in extensions:
            copyreg.add_extension(module, name, code)
            done.append((module, name, code))
        yield
    finally:
        for module, name, code in reversed(done):
            copyreg.remove_extension(module, name, code)


def dump_spec(spec, protocol):
    """Pickle spec.value at protocol the way spec.how says.

    Returns (data, [(buffer bytes, readonly), ...]).
    """
    with registered_extensions(spec.extensions):
        if spec.how == 'dumps':
            return pickle.dumps(spec.value, protocol), []
        f = io.BytesIO()
        if spec.how == 'pickler+persistent_id':
            pid = spec.pid

            class _Pickler(pickle.Pickler):
                def persistent_id(self, obj):
                    return pid(obj, protocol)

            _Pickler(f, protocol).dump(spec.value)
            return f.getvalue(), []
        if spec.how == 'pickler+buffer_callback':
            buffers = []
            decide = spec.oob()

            def callback(pb):
                in_band = decide(pb)
                if not in_band:
                    with pb.raw() as m:
                        buffers.append((m.tobytes(), m.readonly))
                return in_band

            pickle.Pickler(f, protocol, buffer_callback=callback).dump(spec.value)
            return f.getvalue(), buffers
    raise ValueError('cannot dump a %r spec' % spec.how)


# Values CPython's unpickler always makes as one shared object, and that the
# canonical text therefore never labels: if the pickler wrote one of them
# twice (it had two distinct objects), no encoder can tell from the text.
def identity_duplicates(data):
    """The identity-less values a CPython-written stream writes more than once."""
    seen = {}
    dups = []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ('UNICODE', 'BINUNICODE', 'SHORT_BINUNICODE', 'BINUNICODE8'):
            if len(arg) == 0 or (len(arg) == 1 and ord(arg) < 256):
                key = ('str', arg)
            else:
                continue
        elif op.name in ('SHORT_BINBYTES', 'BINBYTES', 'BINBYTES8') and len(arg) == 0:
            key = ('bytes', arg)
        else:
            continue
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            dups.append(key)
    return dups


def _select_families(families):
    from .cases.families import FAMILIES
    if families is None:
        return list(FAMILIES)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise ValueError('unknown families: %s' % ', '.join(unknown))
    return [f for f in FAMILIES if f in families]


def family_rng(seed, family):
    return random.Random('%s/%s' % (seed, family))


def _generate_here(seed, count, protocols, families, malformed):
    if malformed:
        from .malformed import generate_malformed
        yield from generate_malformed(seed, count, protocols)
        return
    from .cases import families as F
    protocols = sorted(set(protocols))
    for name in _select_families(families):
        fn, _ = F.FAMILIES[name]
        specs = fn(family_rng(seed, name), count)
        for index, spec in enumerate(specs):
            for protocol in protocols:
                if protocol not in spec.protocols:
                    continue
                yield _make_case(F, name, index, protocol, seed, spec)


def _make_case(F, name, index, protocol, seed, spec):
    if spec.how == 'handwritten':
        return Case(name, index, protocol, seed, 'handwritten', spec.data,
                    roundtrip_policies=(), roundtrip_note=spec.note or 'hand-written stream',
                    description=spec.desc, tags=spec.tags, value=NO_VALUE, expect=NO_VALUE)
    data, buffers = dump_spec(spec, protocol)
    rt = spec.roundtrip(protocol) if callable(spec.roundtrip) else spec.roundtrip
    note = spec.note if tuple(rt) != POLICIES else ''
    dups = identity_duplicates(data)
    if dups and rt:
        rt = ()
        note = ('CPython wrote %s more than once (distinct objects); the decoded '
                'value has one object' % ', '.join(ascii(v) for _, v in dups))
    expect = spec.expect
    if isinstance(expect, F.PerProtocol):
        expect = expect(protocol)
    if expect is F.NO_COMPARE:
        expect = NO_VALUE
    elif expect is F.SAME:
        expect = spec.value
    return Case(name, index, protocol, seed, spec.how, data, buffers, rt, note,
                spec.desc, spec.extensions, spec.tags, value=spec.value, expect=expect)


def hash_seed_ok():
    """True when this process hashes strs as under PYTHONHASHSEED=0."""
    return sys.flags.hash_randomization == 0


def child_env():
    env = dict(os.environ)
    env['PYTHONHASHSEED'] = str(HASH_SEED)
    path = env.get('PYTHONPATH')
    env['PYTHONPATH'] = _PKG_PARENT + (os.pathsep + path if path else '')
    return env


def generate_cases(seed, count_per_family=DEFAULT_COUNT, protocols=ALL_PROTOCOLS,
                   families=None, malformed=False):
    """Yield the corpus cases for seed, deterministically.

    Under PYTHONHASHSEED=0 the values are built and dumped in this process
    (each case has ``value`` and ``expect``); otherwise a child python3 does
    it and the cases carry the bytes and metadata only.
    """
    protocols = tuple(sorted(set(int(p) for p in protocols)))
    for p in protocols:
        if p not in ALL_PROTOCOLS:
            raise ValueError('unsupported protocol %r' % p)
    if families is not None:
        families = list(families)
        if not malformed:
            _select_families(families)  # validate early
    if hash_seed_ok():
        yield from _generate_here(seed, count_per_family, protocols, families, malformed)
        return
    args = json.dumps([seed, count_per_family, list(protocols), families, malformed])
    proc = subprocess.Popen(
        [sys.executable, '-c', 'import sys; from oracle.generate import _emit; _emit(sys.argv[1])',
         args], stdout=subprocess.PIPE, env=child_env())
    try:
        while True:
            try:
                record = marshal.load(proc.stdout)
            except EOFError:
                break
            yield Case.from_record(record)
    finally:
        proc.stdout.close()
        rc = proc.wait()
    if rc != 0:
        raise RuntimeError('case generator child failed with status %d' % rc)


def _emit(args):
    seed, count, protocols, families, malformed = json.loads(args)
    assert hash_seed_ok()
    out = sys.stdout.buffer
    try:
        for case in _generate_here(seed, count, protocols, families, malformed):
            marshal.dump(case.to_record(), out)
        out.flush()
    except BrokenPipeError:
        # the parent stopped iterating early: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())


# ---------------------------------------------------------------------------
# Writing a corpus directory
# ---------------------------------------------------------------------------

def manifest_header(seed, count, protocols, families, malformed):
    return {
        'format': FORMAT,
        'kind': 'malformed' if malformed else 'generated',
        'seed': seed,
        'count_per_family': count,
        'protocols': list(protocols),
        'families': families,
        'python': '%d.%d.%d' % sys.version_info[:3],
        'hash_seed': HASH_SEED,
        'hash_algorithm': sys.hash_info.algorithm,
        'int_max_str_digits': sys.get_int_max_str_digits(),
    }


def _remove_previous(out):
    path = os.path.join(out, 'manifest.json')
    if not os.path.exists(path):
        return
    try:
        with open(path, encoding='utf-8') as f:
            old = json.load(f)
    except (OSError, ValueError):
        return
    for entry in old.get('cases', ()):
        names = [entry.get('file')] + [b.get('file') for b in entry.get('buffers', ())]
        for name in names:
            if name and os.path.basename(name) == name:
                try:
                    os.remove(os.path.join(out, name))
                except FileNotFoundError:
                    pass


def write_corpus(out, seed, count=DEFAULT_COUNT, protocols=ALL_PROTOCOLS, families=None,
                 malformed=False):
    """Generate into directory out; return the manifest (a dict)."""
    protocols = tuple(sorted(set(protocols)))
    cases = list(generate_cases(seed, count, protocols, families, malformed))
    os.makedirs(out, exist_ok=True)
    _remove_previous(out)
    fams = []
    for case in cases:
        if case.family not in fams:
            fams.append(case.family)
        with open(os.path.join(out, case.file), 'wb') as f:
            f.write(case.data)
        for name, (b, _) in zip(case.buffer_files(), case.buffer_data):
            with open(os.path.join(out, name), 'wb') as f:
                f.write(b)
    manifest = manifest_header(seed, count, list(protocols), fams, malformed)
    manifest['cases'] = [c.manifest_entry() for c in cases]
    text = json.dumps(manifest, indent=1, ensure_ascii=True) + '\n'
    tmp = os.path.join(out, 'manifest.json.tmp')
    with open(tmp, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)
    os.replace(tmp, os.path.join(out, 'manifest.json'))
    return manifest


def _parse_protocols(text):
    try:
        ps = sorted(set(int(x) for x in text.split(',') if x.strip() != ''))
    except ValueError:
        raise argparse.ArgumentTypeError('protocols are integers 0-5, comma separated')
    if not ps or any(p not in ALL_PROTOCOLS for p in ps):
        raise argparse.ArgumentTypeError('protocols are integers 0-5, comma separated')
    return ps


def main(argv=None):
    """The ``generate`` command; argv holds the arguments after 'generate'."""
    parser = argparse.ArgumentParser(
        prog='python3 -m oracle generate',
        description='Write the conformance corpus (pickles made by CPython %d.%d) '
                    'and its manifest.json.' % sys.version_info[:2])
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    parser.add_argument('--count-per-family', type=int, default=DEFAULT_COUNT, metavar='K',
                        help='random values each family adds to its fixed edge cases '
                             '(default %d)' % DEFAULT_COUNT)
    parser.add_argument('--protocols', type=_parse_protocols, default=list(ALL_PROTOCOLS),
                        help='comma-separated protocols (default 0,1,2,3,4,5)')
    parser.add_argument('--families', default=None,
                        help='comma-separated family names (default: all)')
    parser.add_argument('--out', default=None,
                        help='output directory (default %s, or %s with --malformed)'
                             % (DEFAULT_OUT, DEFAULT_MALFORMED_OUT))
    parser.add_argument('--malformed', action='store_true',
                        help='write the malformed/mutated streams instead')
    parser.add_argument('--list-families', action='store_true',
                        help='list the families and exit')
    args = parser.parse_args(argv)
    if args.count_per_family < 0:
        parser.error('--count-per-family must be >= 0')
    if args.list_families:
        if args.malformed:
            from .malformed import MALFORMED_FAMILIES as table
        else:
            from .cases.families import FAMILIES as table
        for name, (_, doc) in table.items():
            print('%-18s %s' % (name, doc))
        return 0
    families = None
    if args.families:
        families = [f.strip() for f in args.families.split(',') if f.strip()]
    out = args.out or (DEFAULT_MALFORMED_OUT if args.malformed else DEFAULT_OUT)
    try:
        manifest = write_corpus(out, args.seed, args.count_per_family, args.protocols,
                                families, args.malformed)
    except ValueError as e:
        parser.error(str(e))
    cases = manifest['cases']
    nbuf = sum(len(c['buffers']) for c in cases)
    size = sum(c['size'] + sum(b['size'] for b in c['buffers']) for c in cases)
    print('wrote %d cases (%d files with %d buffers, %d bytes) to %s'
          % (len(cases), len(cases) + nbuf, nbuf, size, out))
    return 0


if __name__ == '__main__':
    sys.exit(main())
