"""Differential fuzzing between any two adapters (docs/adapters.md).

    python3 -m oracle.matrix fuzz --adapter A [--against B] [--seconds S]
        [--batch N] [--seed N] [--archive DIR] [--max-new N]

Mutates the seed corpus (corpus/seeds/decode and diff, option tails cut
off with oracle.fuzzinput.split) with byte flips, deletions, insertions
and tokens of the dictionary corpus/pickle.dict, and splices of two seeds;
runs each batch through A and B (default B: cpython, the reference) with
the adapter driver (limits, crash and timeout per file), classifies every
pair with oracle.matrix.classify (B plays the reference, in A's view;
against cpython, a documented divergence counts as ``known``), and
archives each new kind of disagreement with scripts/campaign/archive.py
(default archive build-matrix/findings/A-vs-B; signature
``<class>-<families>-<sha1>``, at most one per class and family set per
run).  There is no coverage guidance: only brine's own harness (harness/,
scripts/fuzz) has it; this loop is blind mutation, for implementations
that the harness cannot instrument.
"""

import argparse
import hashlib
import os
import random
import re
import shutil
import sys
import time

from .. import adapters as ad
from .. import fuzzinput
from . import BUCKET_OF, FAMILIES, Item, classify, known_label

SEED_DIRS = ('decode', 'diff')


def load_seeds(root=ad.ROOT):
    seeds = []
    for d in SEED_DIRS:
        path = os.path.join(root, 'corpus', 'seeds', d)
        if not os.path.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            with open(os.path.join(path, name), 'rb') as f:
                data, _ = fuzzinput.split(f.read())
            if data:
                seeds.append(data)
    return seeds or [b'\x80\x04N.']


_TOKEN = re.compile(r'^[A-Za-z0-9_]+="(.*)"\s*$')


def load_dict(path=os.path.join(ad.ROOT, 'corpus', 'pickle.dict')):
    tokens = []
    try:
        with open(path, encoding='latin-1') as f:
            for line in f:
                m = _TOKEN.match(line.strip())
                if m:
                    tokens.append(m.group(1).encode('latin-1').decode('unicode_escape')
                                  .encode('latin-1'))
    except OSError:
        pass
    return tokens or [b'(', b'.', b'\x80\x05']


def mutate(rng, seeds, tokens, max_len=4096):
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        pos = rng.randint(0, len(data))
        if op == 0 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        elif op == 1 and data:
            del data[pos:pos + rng.randint(1, 8)]
        elif op == 2:
            data[pos:pos] = rng.choice(tokens)
        elif op == 3:
            other = rng.choice(seeds)
            a = rng.randint(0, len(other))
            data[pos:] = other[a:]
        else:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    return bytes(data[:max_len])


def main(argv=None):
    p = argparse.ArgumentParser(prog='python3 -m oracle.matrix fuzz')
    p.add_argument('--adapter', required=True)
    p.add_argument('--against', default='cpython')
    p.add_argument('--seconds', type=float, default=60)
    p.add_argument('--batch', type=int, default=200)
    p.add_argument('--seed', type=int, default=None)
    p.add_argument('--archive', default=None)
    p.add_argument('--max-new', type=int, default=20)
    p.add_argument('--work', default=None)
    p.add_argument('--extra', action='append', default=[], metavar='JSON',
                   help='register more adapters from a JSON file (docs/adapters.md)')
    args = p.parse_args(argv)
    try:
        a, b = ad.by_name([args.adapter, args.against], extra=ad.load_extra(args.extra))
    except KeyError as e:
        sys.stderr.write('fuzz: %s\n' % e.args[0])
        return 2
    for x in (a, b):
        why = x.unavailable()
        if why:
            sys.stderr.write('fuzz: %s is unavailable: %s\n' % (x.name, why))
            return 2
    # B answers in A's view when A has one (only the Python runner can).
    b_args = ('--view', a.view) if a.view and b.view != a.view else ()
    if b_args and 'oracle.adapters.pyrun' not in ' '.join(b.argv):
        sys.stderr.write('fuzz: %s cannot answer in the %s view of %s\n'
                         % (b.name, a.view, a.name))
        return 2
    sys.path.insert(0, os.path.join(ad.ROOT, 'scripts'))
    from campaign import archive
    archive_dir = args.archive or os.path.join(ad.BUILD_DIR, 'findings',
                                               '%s-vs-%s' % (a.name, b.name))
    work = args.work or os.path.join(ad.BUILD_DIR, 'fuzz-%s-vs-%s' % (a.name, b.name))
    seed = args.seed if args.seed is not None else int(time.time())
    rng = random.Random(seed)
    seeds, tokens = load_seeds(), load_dict()
    seen, counts, new = set(), {}, 0
    t0 = time.monotonic()
    runs = 0
    while time.monotonic() - t0 < args.seconds:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        items = []
        for k in range(args.batch):
            it = Item('fuzz', 'm%d' % k, mutate(rng, seeds, tokens))
            it.path = os.path.join(work, '%05d.pickle' % k)
            with open(it.path, 'wb') as f:
                f.write(it.data)
            items.append(it)
        paths = [it.path for it in items]
        ra = ad.run_adapter(a, paths)
        rb = ad.run_adapter(b, paths, extra_args=b_args)
        for it, x, y in zip(items, ra, rb):
            cls = classify(a, x, y)
            if b.name == 'cpython' and BUCKET_OF[cls] == 'fail' and known_label(a, it.data, x, y):
                cls = 'known'
            counts[cls] = counts.get(cls, 0) + 1
            runs += 1
            if BUCKET_OF[cls] not in ('fail', 'crash'):
                continue
            fams = '.'.join(f[:4] for f in it.families) or 'none'
            key = (cls, fams)
            if key in seen or new >= args.max_new:
                continue
            seen.add(key)
            sig = '%s-%s-%s' % (cls, fams, hashlib.sha1(it.data).hexdigest()[:12])
            meta = {'target': 'adapter-diff', 'engine': 'oracle.matrix.fuzz', 'class': cls,
                    'kind': 'divergence', 'adapter': a.name, 'against': b.name,
                    'description': '%s: %s | %s: %s' % (a.name, x.first_line(), b.name,
                                                        y.first_line())}
            state, _ = archive.add(archive_dir, sig[:120], it.data, it.data, meta)
            if state == 'new':
                new += 1
    shutil.rmtree(work, ignore_errors=True)
    sys.stdout.write('fuzz %s vs %s: seed %d, %d inputs in %.0f s, %s; %d new findings in %s\n'
                     % (a.name, b.name, seed, runs, time.monotonic() - t0,
                        ', '.join('%s %d' % kv for kv in sorted(counts.items())), new,
                        archive_dir))
    sys.stdout.write('(no coverage guidance: blind mutation of corpus/seeds; families: %s)\n'
                     % ', '.join(FAMILIES))
    return 0
