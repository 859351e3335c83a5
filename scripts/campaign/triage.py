"""Triage: replay a finding, say what it is, and name it.

A finding (a file an engine saved: crash, leak, timeout, OOM, hang) is
replayed once through the target's libFuzzer build (ASan + UBSan; the
replay build when there is none) and classified from what it printed:

    kind        class                        signature key
    sanitizer   asan-<report kind>, ubsan,   kind + top frames
                leak
    timeout     timeout                      kind + top frames
    memory      oom                          kind + top frames
    assert      assert                       FUZZ_ASSERT file:line + condition
    divergence  the oracle's comparison      where brine and CPython part
                class (different-graph,      ways: the opcode and what each
                different-exception, ...)    side does there (see below)
    signal      deadly-signal                kind + top frames
    none        no-repro                     (not archived)

Divergences are the diff target's FUZZ_ASSERT "divergence: ..." aborts; the
comparison class comes from oracle.compare run on the pickle under the
input's options (oracle/fuzzinput.py).

One bug shows as many divergent streams: a decoder that accepts PROTO 6
accepts some of them, and fails on others later, with whatever exception
the next opcodes raise.  So a divergence is named by its *parting point*,
not by the whole stream's outcomes: the stream is cut after each opcode
in turn and ended with STOP, and the first cut on which the two sides
compare differently (after the known-differences registry) names the
opcode where they part.  What each side does there makes the signature's
class: ``brine-rejects`` (brine fails inside that opcode, CPython goes
on), ``reference-rejects`` (CPython fails, brine goes on),
``different-exception`` (both fail there) or ``different-value`` (both go
on, the values differ); the key is the class, the opcode and the
exception class(es) at that point.  The whole stream's class and
exceptions stay in the metadata.  Signatures are
``<target>-<class>-<8 hex digits of the key>``: stable across runs and
machines (no addresses, no paths), so a finding seen again is recognised.
"""

import hashlib
import os
import pickletools
import re
import subprocess

from . import common

FRAME_RE = re.compile(r'^\s*#(\d+) 0x[0-9a-f]+ in (\S+) (\S+)')
ASAN_RE = re.compile(r'ERROR: AddressSanitizer: ([\w-]+)')
UBSAN_RE = re.compile(r'(\S+):(\d+):\d+: runtime error: (.*)')
ASSERT_RE = re.compile(r'FUZZ_ASSERT failed: ([^:]+):(\d+): (.*?): (.*)')
DIVERGENCE_RE = re.compile(r'FUZZ_ASSERT failed: fuzz_diff\.c:\d+: reason: divergence: (.*)')
# Frames that say nothing about the bug: runtimes, libc, the engines.
NOISE_FRAME = re.compile(r'^(__asan|__ubsan|__sanitizer|__interceptor|__lsan|fuzzer::|'
                         r'__libc|abort|raise|gsignal|_start|main$|malloc|calloc|realloc|'
                         r'free$|LLVMFuzzerTestOneInput$|fuzz_fail|__GI_|__pthread|'
                         r'ExecuteCallback|RunOneTest|FuzzerDriver|std::)')


class Triage:
    """What a replay showed.  kind, cls, summary (one line), frames (top
    function names, noise removed), key (what the signature hashes),
    output (the replay's stderr, cut), and for divergences: result (the
    oracle.compare Result) and opcodes."""

    __slots__ = ('target', 'kind', 'cls', 'summary', 'frames', 'key', 'output', 'result',
                 'opcodes', 'exc_pair', 'parting')

    def __init__(self, target):
        self.target = target
        self.kind = 'none'
        self.cls = 'no-repro'
        self.summary = ''
        self.frames = []
        self.key = ''
        self.output = ''
        self.result = None
        self.opcodes = []
        self.exc_pair = ('', '')
        self.parting = None

    @property
    def reproduces(self):
        return self.kind != 'none'

    @property
    def signature_class(self):
        """The class in the signature: for divergences the parting point's
        (stable across the streams one bug produces), else cls."""
        if self.kind == 'divergence' and self.parting is not None:
            return self.parting['class']
        return self.cls

    def signature(self):
        cls = self.signature_class
        h = hashlib.sha256(('%s|%s|%s' % (self.target, cls, self.key)).encode())
        return '%s-%s-%s' % (self.target, cls, h.hexdigest()[:8])

    def coarse_key(self):
        """Groups findings before minimization; the parting point is known
        before it, so findings of one bug share one group."""
        return (self.target, self.signature_class, self.key)


def replay_command(target, path, prefer='libfuzzer'):
    """The command that runs one input through the target once, with the
    sanitizers when a libFuzzer build exists."""
    lf = common.target_binary('libfuzzer', target)
    if prefer == 'libfuzzer' and os.access(lf, os.X_OK):
        timeout = common.flag_value(target, 'timeout', '10')
        rss = common.flag_value(target, 'rss_limit_mb', '2048')
        argv = [lf, '-timeout=%s' % timeout, '-rss_limit_mb=%s' % rss, '-runs=1']
        if common.flag_value(target, 'detect_leaks') == '0':
            argv.append('-detect_leaks=0')
        return argv + [path]
    for preset in ('replay', 'asan', 'default'):
        b = common.target_binary(preset, target)
        if os.access(b, os.X_OK):
            return [b, path]
    raise FileNotFoundError('no build of fuzz target %s (run ./scripts/fuzz or '
                            'cmake --preset replay)' % target)


def opcodes_of(data):
    """Names of the opcodes a tolerant walk of the stream finds, in order of
    first appearance; garbage ends the walk."""
    names = []
    try:
        for op, _, _ in pickletools.genops(data):
            if op.name not in names:
                names.append(op.name)
    except Exception:  # noqa: BLE001 - any garbage just ends the walk
        pass
    return names


def _frames(text):
    out = []
    for line in text.splitlines():
        m = FRAME_RE.match(line)
        if not m:
            if out and not line.strip().startswith('#'):
                # The first stack only: a blank or other line ends it.
                if line.strip() == '' or 'SUMMARY' in line:
                    break
            continue
        fn = m.group(2)
        if NOISE_FRAME.match(fn):
            continue
        out.append(fn)
    return out[:3]


def classify_output(target, text, returncode):
    """A Triage from a replay's stderr and exit status (no divergence
    analysis: see triage())."""
    t = Triage(target)
    t.output = text[-20000:]
    frames = _frames(text)
    m = ASAN_RE.search(text)
    if 'ERROR: LeakSanitizer' in text:
        t.kind, t.cls = 'sanitizer', 'leak'
        t.summary = 'memory leak'
    elif m and m.group(1) not in ('SEGV', 'ABRT'):
        t.kind, t.cls = 'sanitizer', 'asan-' + m.group(1).lower()
        t.summary = 'AddressSanitizer: ' + m.group(1)
    elif UBSAN_RE.search(text):
        u = UBSAN_RE.search(text)
        t.kind, t.cls = 'sanitizer', 'ubsan'
        t.summary = 'UBSan: %s at %s:%s' % (u.group(3), os.path.basename(u.group(1)),
                                            u.group(2))
        frames = ['%s:%s' % (os.path.basename(u.group(1)), u.group(2)), u.group(3)[:60]]
    elif 'libFuzzer: timeout' in text:
        t.kind, t.cls = 'timeout', 'timeout'
        t.summary = 'timeout'
    elif 'libFuzzer: out-of-memory' in text or 'malloc limit' in text or \
            'allocation-size-too-big' in text:
        t.kind, t.cls = 'memory', 'oom'
        t.summary = 'out of memory'
    elif ASSERT_RE.search(text):
        a = ASSERT_RE.search(text)
        d = DIVERGENCE_RE.search(text)
        if d:
            t.kind, t.cls = 'divergence', 'divergence'
            t.summary = d.group(1)[:300]
        else:
            t.kind, t.cls = 'assert', 'assert'
            t.summary = 'FUZZ_ASSERT %s:%s: %s' % (a.group(1), a.group(2), a.group(4)[:200])
            frames = ['%s:%s' % (a.group(1), a.group(2)), a.group(3)]
    elif m or 'deadly signal' in text or returncode < 0 or returncode > 1:
        t.kind, t.cls = 'signal', 'deadly-signal'
        t.summary = (m and 'AddressSanitizer: ' + m.group(1)) or 'signal/exit %d' % returncode
    t.frames = frames
    if t.kind not in ('none', 'divergence'):
        t.key = '%s|%s' % (t.cls, '|'.join(frames))
    return t


def compare_fuzz_input(data, brine=None):
    """oracle.compare Result for a decode/diff fuzz input, under its options
    and without brine's caps (as the diff target compares)."""
    from oracle import fuzzinput
    body, opts = fuzzinput.split(data)
    return compare_pickle(body, opts, brine)


def compare_pickle(body, opts, brine=None):
    """oracle.compare Result for a pickle under fuzzinput.FuzzOptions."""
    from oracle import compare, fuzzinput
    ext = None
    if opts.extensions:
        ext = {code: (m, n) for code, m, n in fuzzinput.EXTENSIONS}
    with compare.Comparer(policy=opts.policy, brine=brine, encoding=opts.encoding,
                          errors=opts.errors, fix_imports=opts.fix_imports) as c:
        return c.compare(body, opts.buffers, ext)


def _token_name(body, tok):
    """The opcode a token of oracle.chunks.tokenize stands for."""
    from oracle import walker
    if tok.name:
        return tok.name
    name = walker.NAMES.get(body[tok.start])
    # An argument that runs past the end, or a byte that is no opcode (its
    # value left out: any unknown byte is the same bug).
    return name + '(truncated)' if name else 'unknown-opcode'


def _cuts(body, toks):
    """(token index, the stream cut after that token and ended by STOP).

    A cut inside a FRAME would leave the frame short, and both sides would
    only say "truncated": each frame the cut ends inside gets the length
    that makes it end with the STOP instead (not a frame that runs past the
    end of the stream: its overrun is part of what is compared). No cut is
    made after a token whose argument runs past the end (the STOP would
    become argument bytes), and none from the first token that straddles
    the end of a frame on: CPython (reading from BytesIO, see
    oracle.walker) reads such an argument from the bytes after the frame,
    so the tokens from there on are not what it executes."""
    from oracle import walker
    frames = []  # (offset of the length field, payload start, payload end)
    for i, t in enumerate(toks):
        if any(start <= t.start < end < t.end for _, start, end in frames):
            return
        if t.name is None and (t.end - t.start > 1 or body[t.start] in walker.NAMES):
            continue  # an opcode whose argument runs past the end
        if t.name == 'FRAME':
            n = int.from_bytes(body[t.start + 1:t.end], 'little')
            frames.append((t.start + 1, t.end, t.end + n))
        cut = bytearray(body[:t.end] + b'.')
        for field, start, end in frames:
            if start <= t.end < end <= len(body):
                cut[field:field + 8] = (t.end + 1 - start).to_bytes(8, 'little')
        yield i, bytes(cut)


def parting_point(body, opts, brine=None, max_cuts=512):
    """Where brine and the reference part ways on a divergent pickle: the
    first opcode after which the stream, cut there and ended by STOP,
    compares differently (oracle.compare, known differences applied).
    Returns a dict (index, offset, opcode, class, brine, reference,
    stream_class), or None when no cut diverges (the divergence needs what
    follows, or lies past a frame straddle or the first max_cuts tokens,
    see _cuts) or the oracle failed."""
    from oracle import compare, fuzzinput
    from oracle.chunks import tokenize
    toks = tokenize(body)[:max_cuts]
    ext = None
    if opts.extensions:
        ext = {code: (m, n) for code, m, n in fuzzinput.EXTENSIONS}
    cuts = list(_cuts(body, toks))
    with compare.Comparer(policy=opts.policy, brine=brine, encoding=opts.encoding,
                          errors=opts.errors, fix_imports=opts.fix_imports) as c:
        results = c.compare_many([(cut, opts.buffers, ext) for _, cut in cuts])
        for (i, _), r in zip(cuts, results):
            if r.ok:
                continue
            tok = toks[i]
            b, ref = r.brine, r.reference
            if ref.kind not in ('accept', 'reject', 'resource'):
                return None  # the oracle itself failed: no answer
            ref_exc = (ref.exc_class or ref.kind) if ref.kind != 'accept' else None
            if b.kind not in ('accept', 'reject'):
                # crash, timeout: where is not known, only that it happened
                cls, brine_side = 'brine-' + b.kind, b.kind
            elif b.kind == 'reject' and b.offset is not None and \
                    tok.start <= b.offset < tok.end:
                cls = 'different-exception' if ref_exc else 'brine-rejects'
                brine_side = b.exc_class or b.kind
            else:
                # brine executed the opcode (it accepted, or failed later,
                # at the STOP of the cut at the earliest)
                cls = 'reference-rejects' if ref_exc else 'different-value'
                brine_side = 'goes on'
            return {'index': i, 'offset': tok.start, 'opcode': _token_name(body, tok),
                    'class': cls, 'brine': brine_side, 'reference': ref_exc or 'goes on',
                    'stream_class': r.cls}
    return None


def analyse_divergence(t, data, brine=None):
    """Fills in the class, exceptions, opcodes and parting point of a
    divergence, and its signature key."""
    from oracle import fuzzinput
    body, opts = fuzzinput.split(data)
    t.opcodes = opcodes_of(body)
    try:
        r = compare_fuzz_input(data, brine)
    except Exception as e:  # noqa: BLE001 - triage must go on
        t.summary += ' [oracle compare failed: %s]' % e
        r = None
    t.result = r
    if r is not None and not r.ok:
        t.cls = r.cls
        t.exc_pair = (r.brine.exc_class or r.brine.kind, r.reference.exc_class or r.reference.kind)
    else:
        # oracle compare agrees where the embedded comparison did not (a
        # zero-copy or buffer-lifetime effect inside one process, say):
        # keep the target's own description.
        t.cls = 'divergence'
        t.exc_pair = ('', '')
    t.parting = None
    if r is not None and not r.ok:
        try:
            t.parting = parting_point(body, opts, brine)
        except Exception as e:  # noqa: BLE001 - triage must go on
            t.summary += ' [parting point failed: %s]' % e
    p = t.parting
    if p is not None:
        keep = [p['opcode']]
        if p['class'] in ('different-exception', 'brine-rejects', 'brine-crash',
                          'brine-timeout'):
            keep.append(p['brine'])
        if p['class'] in ('different-exception', 'reference-rejects'):
            keep.append(p['reference'])
        t.key = 'part|%s|%s' % (p['class'], '|'.join(keep))
    else:
        # No cut diverges (or none could be made): the whole stream's class
        # and exception classes. Not its opcodes: the reducer removes some,
        # and the minimized input must keep the key.
        t.key = '%s|%s|%s' % (t.cls, t.exc_pair[0], t.exc_pair[1])


def triage(target, path, brine=None, timeout=120):
    """Replays the finding at path and returns its Triage."""
    argv = replay_command(target, path)
    env = dict(os.environ)
    env.setdefault('ASAN_OPTIONS', 'detect_leaks=1:allocator_may_return_null=1')
    try:
        p = subprocess.run(argv, capture_output=True, timeout=timeout, env=env)
        text = p.stderr.decode('utf-8', 'replace') + p.stdout.decode('utf-8', 'replace')
        rc = p.returncode
    except subprocess.TimeoutExpired as e:
        text = (e.stderr or b'').decode('utf-8', 'replace') + '\nlibFuzzer: timeout (triage)'
        rc = -9
    t = classify_output(target, text, rc)
    if t.kind == 'divergence':
        with open(path, 'rb') as f:
            analyse_divergence(t, f.read(), brine)
    return t
