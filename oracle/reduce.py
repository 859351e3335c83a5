"""Opcode-aware reducer of brine/CPython divergences.

``python3 -m oracle reduce INPUT -o OUTPUT [--fuzz-input] [--max-checks N]
[--seconds S] [--brine PATH] [decode options]`` shrinks a pickle on which
brine and the reference disagree while *the same divergence* holds: the
same oracle.compare class and the same pair (brine's outcome kind and
exception class, the reference's), and prints the sizes before and after
and the number of oracle checks.  INPUT is a raw pickle decoded with the
options given (``--policy``, ``--encoding``, ``--errors``, buffers,
extensions), or with ``--fuzz-input`` an input of the decode/diff fuzz
targets: oracle.fuzzinput splits it into pickle and option bytes as
harness/fuzz_common.c does, the pickle is reduced under those options (as
the diff target compares: without the brine-only caps; ``zero_copy`` is not
passed, it must not change an outcome), and OUTPUT is the reduced pickle
followed by the same option bytes.

The units are the chunks of oracle.chunks: one per opcode with its
argument, one per byte that is no opcode, one opaque chunk for an opcode
whose argument runs past the end (tokenizing goes on after STOP).  The
passes, repeated until a round changes nothing:

1. drop FRAMEs (all, else one at a time): removing anything inside a frame
   breaks its length;
2. delta debugging over the chunks (halves, quarters, ... single opcodes;
   after a success the granularity steps back by one);
3. replace whole values by ``N``, outermost first (chunks.value_spans
   simulates pickletools' stack effects), keeping the consumer's arity;
4. remove each MARK together with the opcode that closes it;
5. simplify arguments (chunks.simpler_forms): strings and bytes shortened,
   ints towards 0, text lines shortened, then smaller opcodes for the same
   value (BININT -> BININT2 -> BININT1, LONG4 -> LONG1, BINUNICODE ->
   SHORT_BINUNICODE, LONG_BINPUT -> BINPUT, EXT4 -> EXT1, ...);
6. renumber memo indexes 0, 1, ... in order of first PUT (chunks.renumbered);
7. delta debugging over single bytes, until no single byte can go.

Each candidate is one oracle check, cached by a digest of its bytes.  The
reducer stops after ``max_checks`` checks (default 2000) or ``seconds``
(default 120) with the smallest divergent input found.  Candidates are
tried in a fixed order and the first that holds wins, so the result
depends only on the input, the options and the oracle's answers (unless
the time limit cuts the run short).  :class:`OracleCheck` goes through one
compare.Comparer (a long-lived ``brine decode --batch`` and oracle worker,
~0.3 ms a check); runs of failing candidates are sent in pipelined batches
of up to 16, which costs a few checks past a success.

The brine side is pluggable: ``--brine``/``OracleCheck(brine=...)`` takes
any executable speaking ``brine decode --batch`` (a wrapper with a planted
difference, another build), and :class:`Reducer` takes any callable from a
list of candidates to a list of signatures (a pure-Python model)::

    with OracleCheck(policy='symbolic') as check:
        r = Reducer(check, max_checks=2000, seconds=60)
        small = r.reduce(data)      # NoDivergence if the input agrees
        r.target, r.checks, r.stop_reason
"""

import argparse
import collections
import hashlib
import sys
import time

from . import compare
from . import limits as limits_mod
from .chunks import chunks_of, opname, renumbered, simpler_forms, tokenize, value_spans

DEFAULT_MAX_CHECKS = 2000
DEFAULT_SECONDS = 120.0
MAX_BATCH = 16


class NoDivergence(Exception):
    """The input does not diverge (the comparison class is agree/skipped)."""


# --- the oracle check ---------------------------------------------------------------

Signature = collections.namedtuple('Signature', 'cls brine_kind brine_exc ref_kind ref_exc')


def signature(result):
    """The divergence a compare.Result shows (comparison class and outcome pair)."""
    b, r = result.brine, result.reference
    if b is None:
        return Signature(result.cls, None, None, None, None)
    return Signature(result.cls, b.kind, b.exc_class, r.kind, r.exc_class)


def describe_signature(sig):
    def side(kind, exc):
        return kind if kind == 'accept' or exc is None else '%s %s' % (kind, exc)
    return '%s (brine %s, reference %s)' % (sig.cls, side(sig.brine_kind, sig.brine_exc),
                                            side(sig.ref_kind, sig.ref_exc))


class OracleCheck:
    """Candidates -> signatures through one compare.Comparer (long-lived
    brine and oracle worker), under one option set.

    brine: an executable speaking `brine decode --batch` (default $BRINE_BIN
    or build/brine); buffers: [(bytes, readonly)] or None; extensions:
    {code: (module, name)} or None.  Callable with a list of bytes."""

    def __init__(self, brine=None, policy='symbolic', encoding='ASCII', errors='strict',
                 fix_imports=True, buffers=None, extensions=None,
                 limits=limits_mod.DEFAULT_LIMITS, brine_timeout=compare.DEFAULT_BRINE_TIMEOUT):
        self.comparer = compare.Comparer(policy, brine, encoding, errors, fix_imports,
                                         limits=limits, brine_timeout=brine_timeout,
                                         batch=MAX_BATCH)
        self.buffers = buffers
        self.extensions = extensions

    def results(self, datas, name=None):
        """compare.Results of the candidates."""
        inputs = [compare.Input(d, self.buffers, self.extensions, name) for d in datas]
        return list(self.comparer.compare_many(inputs))

    def __call__(self, datas):
        return [signature(r) for r in self.results(datas)]

    def close(self):
        self.comparer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# --- the reducer -------------------------------------------------------------------

class _OutOfBudget(Exception):
    pass


def _key(candidate):
    """The cache key of a candidate: a digest, so that the cache of a run on
    a large input stays small."""
    return hashlib.blake2b(candidate, digest_size=16).digest()


class Reducer:
    """Shrinks one input while check(candidate) gives the target signature.

    check: callable(list of bytes) -> list of signatures (hashable; a
    Signature whose cls is 'agree' or 'skipped' means no divergence).
    After reduce(): target (the input's signature), checks (oracle checks
    made, the input's own included), cached (answers served from the
    cache), stop_reason ('fixpoint' | 'max-checks' | 'time'), passes
    (successful edits per pass), elapsed.  Use one Reducer per input."""

    def __init__(self, check, max_checks=DEFAULT_MAX_CHECKS, seconds=DEFAULT_SECONDS,
                 log=None):
        self.check = check
        self.max_checks = max_checks
        self.seconds = seconds
        self.log = log
        self.target = None
        self.checks = 0
        self.cached = 0
        self.stop_reason = None
        self.passes = collections.Counter()
        self.elapsed = 0.0
        self._cache = {}
        self._batch = 1
        self._deadline = None
        self.best = None

    # -- checking --

    def _run(self, fresh):
        """Check uncached candidates (a prefix of them when the budget is
        nearly spent); raises _OutOfBudget when none can be checked."""
        left = self.max_checks - self.checks
        if left <= 0:
            raise _OutOfBudget('max-checks')
        if time.monotonic() >= self._deadline:
            raise _OutOfBudget('time')
        fresh = fresh[:left]
        sigs = self.check(fresh)
        self.checks += len(fresh)
        for c, s in zip(fresh, sigs):
            self._cache[_key(c)] = s == self.target

    def _first(self, n, make):
        """The index of the first of n candidates (make(i) builds the i-th,
        only when needed) that holds, or None.  A run of failures is
        checked in growing pipelined batches."""
        i = 0
        while i < n:
            group = [make(k) for k in range(i, min(n, i + self._batch))]
            keys = [_key(c) for c in group]
            fresh = {k: c for k, c in zip(keys, group) if k not in self._cache}
            if fresh:
                self._run(list(fresh.values()))
            for j, k in enumerate(keys):
                if k not in self._cache:   # the budget cut the batch short
                    break
                if k not in fresh:
                    self.cached += 1
                if self._cache[k]:
                    self._batch = 1
                    return i + j
            else:
                j = len(group)
                self._batch = min(self._batch * 2, MAX_BATCH)
            i += j
        return None

    def _holds(self, cand):
        return self._first(1, lambda i: cand) == 0

    def _accept(self, data, pass_name):
        if len(data) < len(self.best) or (len(data) == len(self.best) and data != self.best):
            self.passes[pass_name] += 1
        self.best = data

    # -- passes: each starts from chunks_of(self.best); _accept() moves self.best --

    def _ddmin(self, chunks, pass_name):
        n = 2
        at = 0
        while len(chunks) >= 2:
            size = len(chunks)
            n = min(n, size)
            order = list(range(at, n)) + list(range(at))

            def without(i):
                a, b = order[i] * size // n, (order[i] + 1) * size // n
                return chunks[:a] + chunks[b:]
            hit = self._first(n, lambda i: b''.join(without(i)))
            if hit is not None:
                chunks = without(hit)
                self._accept(b''.join(chunks), pass_name)
                n = max(n - 1, 2)
                at = min(order[hit], n - 1)
            elif n >= size:
                break
            else:
                at = 0
                n = min(2 * n, size)
        if len(chunks) == 1 and self._holds(b''):
            chunks = []
            self._accept(b'', pass_name)
        return chunks

    def _frames(self, chunks):
        idx = [k for k, c in enumerate(chunks) if opname(c) == 'FRAME']
        dropped = set()
        for drop in [set(idx)] + ([{k} for k in idx] if len(idx) > 1 else []):
            if not drop or drop & dropped:
                continue
            cand = b''.join(c for k, c in enumerate(chunks) if k not in dropped | drop)
            if self._holds(cand):
                dropped |= drop
                self._accept(cand, 'frames')
        return [c for k, c in enumerate(chunks) if k not in dropped]

    def _values(self, chunks):
        spans, _ = value_spans([opname(c) for c in chunks])
        spans.sort(key=lambda s: (s[0], -s[1]))
        cur = list(chunks)
        covered = -1
        for first, last in spans:
            if first <= covered:
                continue
            popped = opname(chunks[last]) in ('POP', 'POP_MARK')
            repl = [] if popped else [b'N']
            if first == last and len(cur[first]) <= 2 or cur[first:last + 1] == repl:
                continue  # a small leaf: the arguments pass shrinks it
            cand = cur[:first] + repl + [b''] * (last - first + 1 - len(repl)) + cur[last + 1:]
            if self._holds(b''.join(cand)):
                cur = cand
                self._accept(b''.join(cur), 'values')
                covered = last
        return [c for c in cur if c]

    def _unwrap(self, chunks):
        _, groups = value_spans([opname(c) for c in chunks])
        cur = list(chunks)
        for mark, close in sorted(groups):
            cand = list(cur)
            cand[mark] = cand[close] = b''
            if self._holds(b''.join(cand)):
                cur = cand
                self._accept(b''.join(cur), 'unwrap')
        return [c for c in cur if c]

    def _arguments(self, chunks):
        cur = list(chunks)
        for k in range(len(cur)):
            for _ in range(64):
                forms = simpler_forms(cur[k])
                head, tail = b''.join(cur[:k]), b''.join(cur[k + 1:])
                hit = self._first(len(forms), lambda i: head + forms[i] + tail)
                if hit is None:
                    break
                cur[k] = forms[hit]
                self._accept(b''.join(cur), 'arguments')
        return cur

    def _memo(self, chunks):
        for downsize in (True, False):
            cand = renumbered(chunks, downsize)
            if cand is not None and self._holds(b''.join(cand)):
                self._accept(b''.join(cand), 'memo')
                return cand
        return chunks

    # -- driver --

    def reduce(self, data):
        """The smallest input found on which the target divergence holds."""
        t0 = time.monotonic()
        self._deadline = t0 + self.seconds
        if self.best is not None:
            raise RuntimeError('a Reducer reduces one input')
        data = bytes(data)
        self.best = data
        self.target = self.check([data])[0]
        self.checks += 1
        cls = getattr(self.target, 'cls', None)
        if self.target is None or cls in ('agree', 'skipped'):
            raise NoDivergence('the input does not diverge: %s' % cls)
        self._cache[_key(data)] = True
        steps = (('frames', self._frames), ('ddmin', lambda c: self._ddmin(c, 'ddmin')),
                 ('values', self._values), ('unwrap', self._unwrap),
                 ('arguments', self._arguments), ('memo', self._memo),
                 ('bytes', lambda c: self._ddmin([bytes([b]) for b in self.best], 'bytes')))
        try:
            while True:
                before = self.best
                for name, step in steps:
                    step(chunks_of(self.best))
                    self._note(name)
                if self.best == before:
                    self.stop_reason = 'fixpoint'
                    break
        except _OutOfBudget as e:
            self.stop_reason = str(e)
        self.elapsed = time.monotonic() - t0
        return self.best

    def _note(self, name):
        if self.log:
            self.log('%-9s %6d bytes  %5d checks' % (name, len(self.best), self.checks))


# --- command line ---------------------------------------------------------------------

def build_parser():
    from .cli import _AppendBuffer, _parse_extension
    p = argparse.ArgumentParser(
        prog='python3 -m oracle reduce',
        description='Shrink a pickle on which brine and CPython disagree, keeping the same '
                    'divergence (comparison class and outcome pair).')
    p.add_argument('input', help='the divergent input')
    p.add_argument('-o', '--output', required=True, help='where to write the reduced input')
    p.add_argument('--fuzz-input', action='store_true',
                   help='INPUT is a decode/diff fuzz input: pickle + option bytes '
                        '(harness/fuzz_common.h); OUTPUT keeps the option bytes')
    p.add_argument('--max-checks', type=int, default=DEFAULT_MAX_CHECKS, metavar='N',
                   help='oracle checks at most (default %(default)s)')
    p.add_argument('--seconds', type=float, default=DEFAULT_SECONDS, metavar='S',
                   help='time limit (default %(default)s)')
    p.add_argument('--brine', default=None, help='executable speaking `brine decode --batch` '
                   '(default $BRINE_BIN or build/brine)')
    p.add_argument('--policy', choices=('symbolic', 'builtins'), default='symbolic')
    p.add_argument('--encoding', default='ASCII')
    p.add_argument('--errors', default='strict')
    p.add_argument('--no-fix-imports', dest='fix_imports', action='store_false')
    p.add_argument('--buffer', '--readonly-buffer', dest='buffers', action=_AppendBuffer,
                   metavar='FILE', help='an out-of-band buffer (repeat in order)')
    p.add_argument('--extension', action='append', type=_parse_extension, default=[],
                   metavar='CODE:MODULE:NAME', help='an extension registry entry (repeatable)')
    p.add_argument('--timeout', type=float, default=limits_mod.DEFAULT_TIMEOUT,
                   help='reference seconds per check (default %(default)s)')
    p.add_argument('--brine-timeout', type=float, default=compare.DEFAULT_BRINE_TIMEOUT,
                   help='brine seconds per check (default %(default)s)')
    p.add_argument('-v', '--verbose', action='store_true', help='print progress per pass')
    return p


def _options(args, raw):
    """(pickle, tail, OracleCheck keyword arguments, description)."""
    if args.fuzz_input:
        from . import fuzzinput
        data, fo = fuzzinput.split(raw)
        ext = {c: (m, n) for c, m, n in fuzzinput.EXTENSIONS} if fo.extensions else None
        kw = dict(policy=fo.policy, extensions=ext, **fo.decode_kwargs())
        return data, fo.tail, kw, 'fuzz input, options ' + fo.describe()
    buffers = None
    if args.buffers:
        buffers = []
        for path, ro in args.buffers:
            with open(path, 'rb') as f:
                buffers.append((f.read(), ro))
    ext = {c: (m, n) for c, m, n in args.extension} or None
    kw = dict(policy=args.policy, encoding=args.encoding, errors=args.errors,
              fix_imports=args.fix_imports, buffers=buffers, extensions=ext)
    return raw, b'', kw, 'raw pickle, policy %s, %s/%s' % (args.policy, args.encoding,
                                                             args.errors)


def main(argv=None):
    args = build_parser().parse_args(argv)
    out = sys.stdout
    try:
        with open(args.input, 'rb') as f:
            raw = f.read()
        data, tail, kw, what = _options(args, raw)
        check = OracleCheck(args.brine, limits=limits_mod.Limits(
            limits_mod.DEFAULT_MAX_MEMORY, args.timeout), brine_timeout=args.brine_timeout, **kw)
    except (OSError, ValueError) as e:
        sys.stderr.write('reduce: %s\n' % e)
        return 2
    log = (lambda s: sys.stderr.write('reduce: %s\n' % s)) if args.verbose else None
    with check:
        r = Reducer(check, args.max_checks, args.seconds, log)
        try:
            small = r.reduce(data)
        except NoDivergence as e:
            sys.stderr.write('reduce: %s: %s\n' % (args.input, e))
            return 1
        final = check.results([small], 'reduced ' + args.input)[0]
    result = small + tail       # fuzzinput.join: the same option bytes
    with open(args.output, 'wb') as f:
        f.write(result)
    out.write('reduce: %s (%s)\n' % (args.input, what))
    out.write('  divergence: %s\n' % describe_signature(r.target))
    out.write('  size: %d -> %d bytes (pickle %d -> %d)\n' % (len(raw), len(result), len(data),
                                                             len(small)))
    out.write('  checks: %d (+%d cached) in %.1f s; stopped: %s\n' % (
        r.checks, r.cached, r.elapsed, r.stop_reason))
    if r.passes:
        out.write('  edits: %s\n' % ', '.join('%s %d' % kv for kv in sorted(r.passes.items())))
    names = [t.name or 'opaque:%s' % small[t.start:t.end].hex() for t in tokenize(small)]
    out.write('  opcodes: %s\n' % ' '.join(names))
    out.write('  hex: %s\n' % small.hex())
    out.write(compare.format_result(final) + '\n')
    if signature(final) != r.target:
        out.write('  warning: the final check gave %s\n' % describe_signature(signature(final)))
    out.write('wrote %s\n' % args.output)
    return 0


if __name__ == '__main__':
    sys.exit(main())
