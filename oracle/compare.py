"""Differential comparison of ``brine decode`` with the reference.

``python3 -m oracle compare [options] PATHS...`` decodes every input with
brine and with the reference (CPython 3.11's unpickler, oracle.reference)
and classifies each pair of outcomes:

    agree                            same canonical text, or both rejected
                                     with the same exception class
    known-difference                 a documented difference explains it
                                     (oracle.known_differences; the id is
                                     reported)
    reference-resource               CPython hit its memory or time limit,
                                     or its worker died: no reference answer
    different-graph                  both accepted, the texts differ
    different-exception              both rejected, the classes differ
    brine-accepts-reference-rejects
    brine-rejects-reference-accepts
    brine-crash                      the brine process died, or a sanitizer
                                     reported an error on its stderr
    brine-timeout                    brine did not answer within its budget
    oracle-error                     the oracle itself failed (a bug there)
    skipped                          a manifest asked not to compare it

Only exception *classes* are compared: brine's messages are static
(docs/known-differences.md, ``messages``).  When the reference could not
recover a set's insertion order (``set_order_verified`` false) it printed
the set sorted; the texts are then compared again with the elements of
every set sorted on both sides, and a match counts as agree with a note.
A registry entry found for a reference-resource outcome is reported with
it (which documented mechanism exhausted CPython), but the class stays.

Why long-lived processes: starting CPython costs tens of milliseconds, so
a campaign that compares thousands of inputs per second cannot start
anything per input.  brine runs as one ``brine decode --batch`` process per
option set (policy, encoding, errors, fix_imports, extension registry), the
reference as one ``python3 -m oracle worker``.  Requests are pipelined to
both processes at once (:func:`exchange`), each input with its own time
budget counted from the previous reply; a process that dies or overruns is
killed, that input is classified, and a fresh process takes the rest.
brine's stderr is read during the exchange: a sanitizer report makes the
input a brine-crash (a pipelined batch with any stderr output is redone
one input at a time, so that the report is attributed exactly).  The
reference is asked for no opcode list; the registry replays the stream
with oracle.walker (the same code the worker would run) only for the few
inputs that disagree.

Out-of-band buffers go to both sides.  Extension registries go to brine
as ``--extension CODE:MODULE:NAME`` when its usage text lists that option;
otherwise the input is compared without a registry on both sides, and the
command says how many inputs that concerned.

Python API (for campaign scripts)::

    from oracle.compare import Comparer
    with Comparer(policy='symbolic', brine='build/brine') as c:
        r = c.compare(data, buffers=[(b'..', True)], extensions=None)
        r.cls, r.brine, r.reference, r.entry
        for r in c.compare_many(inputs):    # pipelined: much faster
            ...

Exit status of the command: 0 when every input is agree, known-difference,
reference-resource (or skipped), 1 otherwise, 2 on usage errors.
``python3 -m oracle compare --bench ...`` runs oracle.bench_compare.
"""

import argparse
import collections
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time

from . import known_differences
from . import limits as limits_mod
from . import worker as worker_mod
from .reference import Options, Outcome

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CLASSES = ('agree', 'known-difference', 'reference-resource', 'different-graph',
           'different-exception', 'brine-accepts-reference-rejects',
           'brine-rejects-reference-accepts', 'brine-crash', 'brine-timeout',
           'oracle-error', 'skipped')
PASSING = frozenset({'agree', 'known-difference', 'reference-resource', 'skipped'})

DEFAULT_BRINE_TIMEOUT = 10.0
DEFAULT_BATCH = 128
SANITIZER_MARKERS = (b'AddressSanitizer', b'UndefinedBehaviorSanitizer', b'LeakSanitizer',
                     b'MemorySanitizer', b'ThreadSanitizer', b'runtime error:')


def default_brine():
    """$BRINE_BIN, else build/brine in the repository."""
    return os.environ.get('BRINE_BIN') or os.path.join(ROOT, 'build', 'brine')


# --- long-lived child processes ------------------------------------------------

class Channel:
    """A child process answering length-prefixed messages on stdin/stdout,
    one reply per request, in order.

    ``prefix`` is the struct of the length prefix ('<I' for brine, '>I' for
    the oracle worker).  The process starts on first use and after a death;
    ``starts`` and ``restarts`` count.  With ``capture_stderr`` its stderr
    is read during exchanges and attributed to the input being decoded
    (sanitizer reports)."""

    def __init__(self, argv, prefix, env=None, capture_stderr=False, stderr=None, name=''):
        self.argv = list(argv)
        self.prefix = struct.Struct(prefix)
        self.env = env
        self.capture_stderr = capture_stderr
        self.stderr = stderr
        self.name = name or os.path.basename(argv[0])
        self.proc = None
        self.starts = 0
        self.restarts = 0

    def start(self):
        err = subprocess.PIPE if self.capture_stderr else self.stderr
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=err, env=self.env, bufsize=0)
        os.set_blocking(self.proc.stdin.fileno(), False)
        if self.starts:
            self.restarts += 1
        self.starts += 1

    def kill(self):
        """Kill the process (if running) and return its exit status."""
        p, self.proc = self.proc, None
        if p is None:
            return None
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        for f in (p.stdin, p.stdout, p.stderr):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        return p.returncode

    def close(self, goodbye=b''):
        """End the process politely (close stdin, or send `goodbye`), then kill."""
        p = self.proc
        if p is None:
            return
        try:
            if goodbye:
                os.set_blocking(p.stdin.fileno(), True)
                p.stdin.write(goodbye)
            p.stdin.close()
            p.wait(2)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def frame(self, body):
        return self.prefix.pack(len(body)) + body


def describe_exit(code):
    """'killed by SIGSEGV' / 'exited with status 2' for a returncode."""
    if code is not None and code < 0:
        try:
            return 'killed by %s' % signal.Signals(-code).name
        except ValueError:
            return 'killed by signal %d' % -code
    return 'exited with status %s' % code


class Reply:
    """One reply of an exchange: status 'ok' (body), 'timeout' or 'died'
    (exit: the returncode), and the stderr the process wrote meanwhile."""

    __slots__ = ('status', 'body', 'exit', 'stderr')

    def __init__(self, status, body=None, exit=None, stderr=b''):
        self.status = status
        self.body = body
        self.exit = exit
        self.stderr = stderr


class _Job:
    """One channel's share of an exchange: its messages and replies so far."""

    def __init__(self, channel, messages, timeout):
        self.ch = channel
        self.messages = messages
        self.timeout = timeout
        self.replies = [None] * len(messages)
        self.head = 0            # first message without a reply
        self.pending = None      # memoryview of bytes still to write
        self.inbuf = bytearray()
        self.errbuf = bytearray()
        self.err_open = True
        self.deadline = None

    def done(self):
        return self.head >= len(self.messages)

    def launch(self, now):
        """(Re)start the process if needed and queue every unanswered message."""
        ch = self.ch
        if ch.proc is not None and ch.proc.poll() is not None:
            ch.kill()  # died while idle: not this input's fault
        if ch.proc is None:
            ch.start()
        self.pending = memoryview(b''.join(self.messages[self.head:]))
        self.inbuf = bytearray()
        self.errbuf = bytearray()
        self.err_open = True
        self.deadline = None if self.timeout is None else now + self.timeout

    def fail(self, status, now):
        """The head message failed: record it, kill, and move on."""
        if status == 'died':
            self.drain_stderr()
        code = self.ch.kill()
        self.replies[self.head] = Reply(status, exit=code, stderr=bytes(self.errbuf))
        self.head += 1
        self.pending = None
        if not self.done():
            self.launch(now)

    def drain_stderr(self, wait=1.0):
        """Read what a dead process left on its stderr (a sanitizer's report)."""
        p = self.ch.proc
        if p is None or p.stderr is None:
            return
        fd = p.stderr.fileno()
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return
            self.errbuf += chunk

    def take_replies(self, now):
        buf = self.inbuf
        size = self.ch.prefix.size
        unpack = self.ch.prefix.unpack_from
        pos = 0
        while len(buf) - pos >= size:
            (n,) = unpack(buf, pos)
            if len(buf) - pos - size < n:
                break
            body = bytes(buf[pos + size:pos + size + n])
            pos += size + n
            self.replies[self.head] = Reply('ok', body, stderr=bytes(self.errbuf))
            self.errbuf = bytearray()
            self.head += 1
            if self.timeout is not None:
                self.deadline = now + self.timeout
        if pos:
            del buf[:pos]


def exchange(jobs):
    """Send each job's messages to its channel, pipelined, all channels at
    once, and collect one Reply per message.  A channel that does not answer
    within its job's per-message timeout (counted from the previous reply),
    or dies, is killed; that message gets a 'timeout'/'died' reply, and a
    fresh process gets the rest."""
    jobs = [j for j in jobs if j.messages]
    now = time.monotonic()
    for j in jobs:
        j.launch(now)
    while True:
        active = [j for j in jobs if not j.done()]
        if not active:
            return
        rmap, wmap = {}, {}
        wait = None
        for j in active:
            p = j.ch.proc
            rmap[p.stdout.fileno()] = (j, False)
            if j.ch.capture_stderr and j.err_open:
                rmap[p.stderr.fileno()] = (j, True)
            if j.pending:
                wmap[p.stdin.fileno()] = j
            if j.deadline is not None:
                left = j.deadline - now
                wait = left if wait is None else min(wait, left)
        r, w, _ = select.select(list(rmap), list(wmap), [], None if wait is None else max(wait, 0))
        now = time.monotonic()
        for fd in w:
            j = wmap[fd]
            try:
                n = os.write(fd, j.pending[:1 << 16])
                j.pending = j.pending[n:]
            except BlockingIOError:
                pass
            except OSError:  # broken pipe: the death shows up on stdout
                j.pending = None
        # stderr before stdout: bytes written before a reply go with it
        r.sort(key=lambda fd: not rmap[fd][1])
        dead = []
        for fd in r:
            j, is_err = rmap[fd]
            chunk = os.read(fd, 1 << 16)
            if is_err:
                j.errbuf += chunk
                j.err_open = bool(chunk)
            elif chunk:
                j.inbuf += chunk
                j.take_replies(now)
            else:
                dead.append(j)
        for j in dead:
            if not j.done() and j.ch.proc is not None:
                j.fail('died', now)
        for j in jobs:
            if not j.done() and j.deadline is not None and now >= j.deadline:
                j.fail('timeout', now)


# --- brine's side ------------------------------------------------------------

class BrineOutcome:
    """brine's result for one input, shaped like oracle.reference.Outcome.

    kind: 'accept' | 'reject' | 'crash' | 'timeout'; text (accept);
    exc_class, message, offset (reject; crash/timeout: a description);
    stderr: what the process wrote on stderr while decoding it."""

    __slots__ = ('kind', 'text', 'exc_class', 'message', 'offset', 'stderr')
    set_order_verified = True
    ops = None

    def __init__(self, kind, text=None, exc_class=None, message=None, offset=None, stderr=b''):
        self.kind = kind
        self.text = text
        self.exc_class = exc_class
        self.message = message
        self.offset = offset
        self.stderr = stderr

    @property
    def error_line(self):
        if self.kind == 'accept':
            return None
        line = 'error: %s: %s' % (self.exc_class, self.message)
        if self.offset is not None:
            line += ' (offset %d)' % self.offset
        return line

    def output(self):
        return self.text if self.kind == 'accept' else self.error_line + '\n'

    def to_dict(self):
        return {'kind': self.kind, 'text': self.text, 'exc_class': self.exc_class,
                'message': self.message, 'offset': self.offset,
                'stderr': self.stderr.decode('utf-8', 'replace') if self.stderr else ''}

    def __repr__(self):
        if self.kind == 'accept':
            return 'BrineOutcome(accept, %r)' % (self.text,)
        return 'BrineOutcome(%s, %s)' % (self.kind, self.error_line)


def sanitizer_report(stderr):
    """True when stderr holds a sanitizer's error report."""
    return bool(stderr) and any(m in stderr for m in SANITIZER_MARKERS)


def brine_request(data, buffers):
    """The body of one `brine decode --batch` request (no length prefix)."""
    if not buffers:
        return b'\0\0\0\0' + data
    parts = [struct.pack('<I', len(buffers))]
    for b, ro in buffers:
        parts.append(struct.pack('<BI', 1 if ro else 0, len(b)))
        parts.append(b)
    parts.append(data)
    return b''.join(parts)


def brine_outcome(reply):
    """A BrineOutcome from a Reply of the batch process."""
    err = reply.stderr
    if reply.status == 'timeout':
        return BrineOutcome('timeout', exc_class='Timeout',
                            message='brine did not answer in time', stderr=err)
    if reply.status == 'died':
        return BrineOutcome('crash', exc_class='Sanitizer' if sanitizer_report(err) else 'Crash',
                            message='brine decode --batch %s' % describe_exit(reply.exit),
                            stderr=err)
    body = reply.body
    if sanitizer_report(err):
        return BrineOutcome('crash', exc_class='Sanitizer',
                            message='sanitizer report on stderr', stderr=err)
    if body.startswith(b'ok\n'):
        try:
            return BrineOutcome('accept', text=body[3:].decode('ascii'), stderr=err)
        except UnicodeDecodeError:
            pass
    elif body.startswith(b'error: '):
        line = body[7:].decode('utf-8', 'replace').rstrip('\n')
        head, sep, off = line.rpartition(' (offset ')
        cls, sep2, msg = head.partition(': ')
        if sep and sep2 and off.endswith(')') and off[:-1].isdigit():
            return BrineOutcome('reject', exc_class=cls, message=msg, offset=int(off[:-1]),
                                stderr=err)
    return BrineOutcome('crash', exc_class='BadReply',
                        message='malformed reply %r' % body[:80], stderr=err)


_EXTENSION_SUPPORT = {}


def brine_supports_extensions(brine):
    """Whether this brine's decode accepts --extension CODE:MODULE:NAME."""
    got = _EXTENSION_SUPPORT.get(brine)
    if got is None:
        try:
            p = subprocess.run([brine], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=10)
            got = b'--extension' in p.stdout
        except (OSError, subprocess.TimeoutExpired):
            got = False
        _EXTENSION_SUPPORT[brine] = got
    return got


# --- the reference's side ------------------------------------------------------

def _json_str(s):
    return json.dumps(s, ensure_ascii=True)


class _ReferenceRequests:
    """Worker requests for one option set, the constant part of the JSON
    header serialized once (oracle.worker's protocol)."""

    def __init__(self, policy, impl, encoding, errors, fix_imports):
        self.const = ',"policy":%s,"impl":%s,"encoding":%s,"errors":%s,"fix_imports":%s' % (
            _json_str(policy), _json_str(impl), _json_str(encoding), _json_str(errors),
            'true' if fix_imports else 'false')

    def body(self, data, buffers, extensions, want_ops=False):
        bufs = 'null'
        payload = data
        if buffers is not None:
            bufs = json.dumps([[len(b), bool(ro)] for b, ro in buffers])
            payload = b''.join([data] + [b for b, _ in buffers])
        ext = 'null'
        if extensions:
            ext = json.dumps([[c, m, n] for c, (m, n) in sorted(extensions.items())],
                             ensure_ascii=True)
        header = ('{"op":"decode","data_len":%d%s,"buffers":%s,"extensions":%s,"want_ops":%s}'
                  % (len(data), self.const, bufs, ext, 'true' if want_ops else 'false')
                  ).encode('ascii')
        return struct.pack('>I', len(header)) + header + payload


def reference_outcome(reply, timeout):
    if reply.status == 'timeout':
        return Outcome('resource', exc_class='Timeout',
                       message='reference decode exceeded %g s' % timeout)
    if reply.status == 'died':
        return Outcome('resource', exc_class='WorkerDied',
                       message='reference worker %s' % describe_exit(reply.exit))
    header, payload = worker_mod.unpack(reply.body)
    if header['kind'] == 'internal':
        return Outcome('internal', exc_class='OracleError', message=header.get('message'))
    return worker_mod.outcome_from(header, payload)


# --- classification --------------------------------------------------------------

_TOKEN = re.compile(r"'(?:[^'\\]|\\.)*'|[&*]\d+|, |: |[()\[\]{}]|[^'&*(),:\[\]{}]+|.", re.S)
_OPEN = {'(': ')', '[': ']', '{': '}'}


def sorted_sets(text):
    """The canonical text with the elements of every set and frozenset
    sorted (by their text with label numbers blanked) and labels renumbered
    in order of appearance, so that two texts that differ only in set order
    become equal.  Malformed text comes back unchanged."""
    # frame: [open char, current item text parts, key parts, items, is dict]
    stack = [[None, [], [], [], False]]
    for m in _TOKEN.finditer(text):
        t = m.group()
        top = stack[-1]
        if t in _OPEN:
            stack.append([t, [], [], [], False])
        elif t in (')', ']', '}'):
            if len(stack) == 1 or _OPEN[top[0]] != t:
                return text
            stack.pop()
            items = top[3]
            if top[1]:
                items.append((''.join(top[2]), ''.join(top[1])))
            if top[0] == '{' and not top[4]:
                items.sort()
            parent = stack[-1]
            parent[1].append(top[0] + ', '.join(i[1] for i in items) + t)
            parent[2].append(top[0] + ', '.join(i[0] for i in items) + t)
        elif t == ', ' and len(stack) > 1:
            top[3].append((''.join(top[2]), ''.join(top[1])))
            top[1], top[2] = [], []
        else:
            if t == ': ' and len(stack) > 1:
                top[4] = True
            top[1].append(t)
            top[2].append(t[0] if t[0] in '&*' and len(t) > 1 else t)
    if len(stack) != 1:
        return text
    labels = {}

    def renumber(m):
        t = m.group()
        if t[0] in '&*' and len(t) > 1:
            return t[0] + labels.setdefault(t[1:], str(len(labels) + 1))
        return t
    return _TOKEN.sub(renumber, ''.join(stack[0][1]))


SET_ORDER_NOTE = 'set order not verified by the reference; equal with set elements sorted'
SET_ORDER_DIFF_NOTE = ('set order not verified by the reference; different even with '
                       'set elements sorted')


def classify_outcomes(brine, reference):
    """(class, note) before consulting the registry."""
    if reference.kind == 'internal':
        return 'oracle-error', None
    if brine.kind == 'crash':
        return 'brine-crash', None
    if brine.kind == 'timeout':
        return 'brine-timeout', None
    if reference.kind == 'resource':
        return 'reference-resource', None
    if brine.kind == 'accept':
        if reference.kind != 'accept':
            return 'brine-accepts-reference-rejects', None
        if brine.text == reference.text:
            return 'agree', None
        if not reference.set_order_verified:
            if sorted_sets(brine.text) == sorted_sets(reference.text):
                return 'agree', SET_ORDER_NOTE
            return 'different-graph', SET_ORDER_DIFF_NOTE
        return 'different-graph', None
    if reference.kind == 'accept':
        return 'brine-rejects-reference-accepts', None
    if brine.exc_class == reference.exc_class:
        return 'agree', None
    return 'different-exception', None


# --- the comparer ------------------------------------------------------------

class Input:
    """One input: the pickle, its out-of-band buffers ([(bytes, readonly)]
    or None), its extension registry ({code: (module, name)} or None), a
    name for reports, and a reason to skip it (or None)."""

    __slots__ = ('data', 'buffers', 'extensions', 'name', 'skip')

    def __init__(self, data, buffers=None, extensions=None, name=None, skip=None):
        self.data = bytes(data)
        self.buffers = None if buffers is None else [(bytes(b), bool(ro)) for b, ro in buffers]
        self.extensions = dict(extensions) if extensions else None
        self.name = name
        self.skip = skip


class Result:
    """The comparison of one input: cls (one of CLASSES), brine
    (BrineOutcome), reference (oracle.reference.Outcome), entry (the id of
    the known difference, or None), note, name, policy."""

    __slots__ = ('cls', 'brine', 'reference', 'entry', 'note', 'name', 'policy')

    def __init__(self, cls, brine, reference, entry=None, note=None, name=None, policy=None):
        self.cls = cls
        self.brine = brine
        self.reference = reference
        self.entry = entry
        self.note = note
        self.name = name
        self.policy = policy

    @property
    def ok(self):
        return self.cls in PASSING

    def to_dict(self, texts=True):
        d = {'name': self.name, 'policy': self.policy, 'class': self.cls, 'entry': self.entry,
             'note': self.note}
        for side in ('brine', 'reference'):
            o = getattr(self, side)
            if o is None:
                d[side] = None
                continue
            od = o.to_dict()
            od.pop('ops', None)
            if not texts:
                od.pop('text', None)
            d[side] = od
        return d

    def __repr__(self):
        return 'Result(%s%s, %r)' % (self.cls, ' ' + self.entry if self.entry else '', self.name)


def _as_input(item):
    if isinstance(item, Input):
        return item
    if isinstance(item, (bytes, bytearray, memoryview)):
        return Input(item)
    return Input(*item)


class Comparer:
    """Compares brine with the reference through long-lived processes.

    policy: the default policy ('symbolic' | 'builtins'; compare() and
    compare_many() take another per call); brine: path of the brine
    executable; encoding, errors, fix_imports: decode options of both
    sides; impl: the reference unpickler ('c' | 'python'); limits: the
    reference's oracle.limits.Limits; brine_timeout: seconds per input;
    batch: inputs per pipelined round of compare_many().

    One brine process runs per option set (policy, encoding, errors,
    fix_imports, extensions), one reference worker for all.  Use as a
    context manager or call close()."""

    MAX_BRINE_PROCESSES = 8

    def __init__(self, policy='symbolic', brine=None, encoding='ASCII', errors='strict',
                 fix_imports=True, impl='c', limits=limits_mod.DEFAULT_LIMITS,
                 brine_timeout=DEFAULT_BRINE_TIMEOUT, batch=DEFAULT_BATCH, version=None,
                 worker_stderr=subprocess.DEVNULL):
        Options(policy, encoding, errors, fix_imports, None, None, impl)  # validates
        self.policy = policy
        self.brine = os.path.abspath(brine or default_brine())
        if not os.access(self.brine, os.X_OK):
            raise FileNotFoundError('brine executable not found: %s' % self.brine)
        self.encoding = encoding
        self.errors = errors
        self.fix_imports = bool(fix_imports)
        self.impl = impl
        self.limits = limits
        self.brine_timeout = brine_timeout
        self.batch = max(1, int(batch))
        self.version = version
        self.extensions_supported = None
        self.extensions_dropped = 0
        self._brines = collections.OrderedDict()
        self._old_restarts = 0      # of brine processes closed since
        self._requests = {}
        env = dict(os.environ)
        env['PYTHONPATH'] = worker_mod._PKG_PARENT + (
            os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
        mm = 'none' if limits.max_memory is None else str(limits.max_memory)
        self.worker = Channel([sys.executable, '-m', 'oracle', 'worker', '--max-memory', mm],
                              '>I', env=env, stderr=worker_stderr, name='oracle worker')

    # -- processes --

    def _brine_channel(self, policy, extensions):
        ext_key = tuple(sorted(extensions.items())) if extensions else ()
        key = (policy, ext_key)
        ch = self._brines.get(key)
        if ch is not None:
            self._brines.move_to_end(key)
            return ch
        argv = [self.brine, 'decode', '--batch', '--policy', policy,
                '--encoding', self.encoding, '--errors', self.errors]
        if not self.fix_imports:
            argv.append('--no-fix-imports')
        for code, (m, n) in ext_key:
            argv += ['--extension', '%d:%s:%s' % (code, m, n)]
        ch = self._brines[key] = Channel(argv, '<I', capture_stderr=True, name='brine')
        while len(self._brines) > self.MAX_BRINE_PROCESSES:
            _, old = self._brines.popitem(last=False)
            self._old_restarts += old.restarts
            old.close()
        return ch

    def _requests_for(self, policy):
        r = self._requests.get(policy)
        if r is None:
            r = self._requests[policy] = _ReferenceRequests(
                policy, self.impl, self.encoding, self.errors, self.fix_imports)
        return r

    @property
    def brine_restarts(self):
        return self._old_restarts + sum(ch.restarts for ch in self._brines.values())

    @property
    def worker_restarts(self):
        return self.worker.restarts

    def close(self):
        for ch in self._brines.values():
            self._old_restarts += ch.restarts
            ch.close()
        self._brines.clear()
        self.worker.close(goodbye=worker_mod.pack({'op': 'exit'}))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- comparing --

    def compare(self, data, buffers=None, extensions=None, policy=None, name=None):
        """Compare one input; returns a Result."""
        return self._compare_chunk([Input(data, buffers, extensions, name)], policy)[0]

    def compare_many(self, items, policy=None):
        """Compare many inputs (bytes, Input, or (data, buffers, extensions[, name])
        tuples), pipelined `batch` at a time; yields Results in order."""
        chunk = []
        for item in items:
            chunk.append(_as_input(item))
            if len(chunk) >= self.batch:
                yield from self._compare_chunk(chunk, policy)
                chunk = []
        if chunk:
            yield from self._compare_chunk(chunk, policy)

    def _effective_extensions(self, inp):
        if not inp.extensions:
            return None, None
        if self.extensions_supported is None:
            self.extensions_supported = brine_supports_extensions(self.brine)
        if self.extensions_supported:
            return inp.extensions, None
        self.extensions_dropped += 1
        return None, ('extensions not passed: brine decode has no --extension option; '
                      'compared without a registry on both sides')

    def _compare_chunk(self, inputs, policy):
        policy = policy or self.policy
        results = [None] * len(inputs)
        live = []
        for i, inp in enumerate(inputs):
            if inp.skip:
                results[i] = Result('skipped', None, None, note=inp.skip, name=inp.name,
                                    policy=policy)
            else:
                live.append(i)
        if not live:
            return results
        reqs = self._requests_for(policy)
        by_channel = collections.OrderedDict()
        ref_msgs, exts, notes = [], {}, {}
        for i in live:
            inp = inputs[i]
            ext, notes[i] = self._effective_extensions(inp)
            exts[i] = ext
            ref_msgs.append(self.worker.frame(reqs.body(inp.data, inp.buffers, ext)))
            ch = self._brine_channel(policy, ext)
            by_channel.setdefault(ch, []).append(i)
        ref_job = _Job(self.worker, ref_msgs, self.limits.timeout)
        brine_jobs = []
        for ch, idxs in by_channel.items():
            msgs = [ch.frame(brine_request(inputs[i].data, inputs[i].buffers)) for i in idxs]
            brine_jobs.append((_Job(ch, msgs, self.brine_timeout), idxs))
        exchange([ref_job] + [j for j, _ in brine_jobs])
        brine_out = {}
        for job, idxs in brine_jobs:
            replies = job.replies
            if len(replies) > 1 and any(r.stderr for r in replies):
                replies = self._rerun_singly(job)
            for i, reply in zip(idxs, replies):
                brine_out[i] = brine_outcome(reply)
        for k, i in enumerate(live):
            inp = inputs[i]
            ref = reference_outcome(ref_job.replies[k], self.limits.timeout)
            results[i] = self._judge(inp, policy, exts[i], notes[i], brine_out[i], ref)
        return results

    def _rerun_singly(self, job):
        """Replies of a pipelined job, redone one message at a time so that
        stderr output is attributed to the right input."""
        replies = []
        for msg in job.messages:
            single = _Job(job.ch, [msg], job.timeout)
            exchange([single])
            replies.append(single.replies[0])
        return replies

    def _judge(self, inp, policy, ext, note, brine, ref):
        cls, why = classify_outcomes(brine, ref)
        note = '; '.join(n for n in (note, why) if n) or None
        entry = None
        if cls not in ('agree', 'brine-crash', 'brine-timeout', 'oracle-error'):
            opts = {'policy': policy, 'encoding': self.encoding, 'errors': self.errors,
                    'fix_imports': self.fix_imports, 'buffers': inp.buffers,
                    'extensions': ext, 'impl': self.impl}
            if ref.kind == 'resource' and len(inp.data) > (1 << 20):
                e = None  # not worth replaying a huge stream for an informative id
            else:
                e = known_differences.match(inp.data, opts, brine, ref, self.version)
            if e is not None:
                entry = e.id
                if cls != 'reference-resource':
                    cls = 'known-difference'
        return Result(cls, brine, ref, entry, note, inp.name, policy)


# --- inputs from paths ----------------------------------------------------------

_BUFFER_FILE = re.compile(r'\.buf\d+(\.ro)?$')


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _manifest_inputs(directory, manifest, skip_risky):
    """Inputs listed by a corpus manifest (oracle.generate's format)."""
    with open(manifest, encoding='utf-8') as f:
        m = json.load(f)
    out = []
    for case in m.get('cases', ()):
        path = os.path.join(directory, case['file'])
        skip = None
        if case.get('skip'):
            skip = case['skip'] if isinstance(case['skip'], str) else 'skip flag in manifest'
        elif case.get('compare') is False:
            skip = 'compare: false in manifest'
        elif skip_risky and case.get('resource_risky'):
            skip = 'resource_risky (--skip-risky)'
        if not os.path.exists(path):
            out.append(Input(b'', name=path, skip='file missing'))
            continue
        buffers = None
        if case.get('buffers'):
            buffers = [(_read(os.path.join(directory, b['file'])), bool(b.get('readonly')))
                       for b in case['buffers']]
        ext = None
        if case.get('extensions'):
            ext = {int(code): (mod, name) for mod, name, code in case['extensions']}
        out.append(Input(_read(path), buffers, ext, path, skip))
    return out


def iter_inputs(paths, skip_risky=False):
    """Inputs from files and directories (recursively, in name order).  A
    directory with a manifest.json contributes the cases it lists, with
    their buffers, extensions and skip flags; other directories contribute
    every regular file except buffer files and manifests."""
    for path in paths:
        if not os.path.isdir(path):
            yield _file_input(path)
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames.sort()
            manifest = os.path.join(dirpath, 'manifest.json')
            if os.path.isfile(manifest):
                yield from _manifest_inputs(dirpath, manifest, skip_risky)
                continue
            for fn in sorted(filenames):
                if fn.startswith('.') or fn == 'manifest.json' or _BUFFER_FILE.search(fn):
                    continue
                full = os.path.join(dirpath, fn)
                if os.path.isfile(full):
                    yield Input(_read(full), name=full)


def _file_input(path):
    """One file; its buffers and extensions come from a manifest beside it, if any."""
    directory, base = os.path.split(path)
    manifest = os.path.join(directory or '.', 'manifest.json')
    if os.path.isfile(manifest):
        for inp in _manifest_inputs(directory or '.', manifest, False):
            if os.path.basename(inp.name) == base:
                inp.name = path
                return inp
    return Input(_read(path), name=path)


# --- reports ------------------------------------------------------------------

def _clip(s, around, width=300):
    """s cut to `width` characters around position `around`."""
    s = s.rstrip('\n').replace('\n', '\\n')
    if len(s) <= width:
        return s
    start = max(0, min(around - width // 3, len(s) - width))
    head = '...' if start else ''
    tail = '...' if start + width < len(s) else ''
    return head + s[start:start + width] + tail + ' (%d chars)' % len(s)


def _first_difference(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def format_result(r):
    """A few lines describing one non-agreeing result."""
    lines = ['--- %s%s  [%s] %s' % (r.cls, ' (%s)' % r.entry if r.entry else '', r.policy, r.name)]
    if r.brine is None:
        lines.append('  skipped: %s' % r.note)
        return '\n'.join(lines)
    b = r.brine.output()
    ref = r.reference.output() if r.reference.kind != 'internal' else \
        'oracle error: %s\n' % r.reference.message
    at = _first_difference(b, ref) if r.brine.kind == 'accept' and r.reference.kind == 'accept' else 0
    lines.append('  brine:     ' + _clip(b, at))
    lines.append('  reference: ' + _clip(ref, at))
    if r.brine.stderr:
        lines.append('  brine stderr: ' + _clip(r.brine.stderr.decode('utf-8', 'replace'), 0, 600))
    if r.note:
        lines.append('  note: ' + r.note)
    return '\n'.join(lines)


def format_counts(counts, entries, title):
    lines = [title]
    for cls in CLASSES:
        n = counts.get(cls, 0)
        if cls == 'skipped' and not n:
            continue
        line = '  %-34s %6d' % (cls, n)
        ids = entries.get(cls)
        if ids:
            line += '  (' + ', '.join('%s %d' % kv for kv in sorted(ids.items())) + ')'
        lines.append(line)
    return '\n'.join(lines)


# --- command line ----------------------------------------------------------------

def _parse_memory(s):
    if s.lower() == 'none':
        return None
    mult = 1
    for suffix, m in (('k', 1 << 10), ('m', 1 << 20), ('g', 1 << 30)):
        if s.lower().endswith(suffix):
            s, mult = s[:-1], m
            break
    return int(s) * mult


def build_parser():
    p = argparse.ArgumentParser(
        prog='python3 -m oracle compare',
        description='Compare `brine decode` with the reference (CPython 3.11, oracle.reference) '
                    'on pickle files and directories, and classify every input.',
        epilog='Classes: ' + ', '.join(CLASSES) + '.  Exit status 0 when every input is '
               'agree, known-difference, reference-resource or skipped; 1 otherwise.')
    p.add_argument('paths', nargs='+', metavar='PATH',
                   help='pickle file, or directory (recursive; manifest.json is honoured)')
    p.add_argument('--policy', choices=('symbolic', 'builtins', 'both'), default='both')
    p.add_argument('--impl', choices=('c', 'python'), default='c',
                   help='reference unpickler (default c)')
    p.add_argument('--brine', default=None, help='brine executable (default $BRINE_BIN or '
                   'build/brine)')
    p.add_argument('--encoding', default='ASCII')
    p.add_argument('--errors', default='strict')
    p.add_argument('--no-fix-imports', dest='fix_imports', action='store_false')
    p.add_argument('--json', metavar='OUT', help='write every result as JSON')
    p.add_argument('--show', type=int, default=10, metavar='N',
                   help='print the first N divergent inputs with both outcomes: failures '
                        'first, then known differences and reference-resource (default 10)')
    p.add_argument('--timeout', type=float, default=limits_mod.DEFAULT_TIMEOUT,
                   help='reference seconds per input (default %(default)s)')
    p.add_argument('--max-memory', type=_parse_memory, default=limits_mod.DEFAULT_MAX_MEMORY,
                   help='reference address-space limit (suffix k/m/g, or none; default 2g)')
    p.add_argument('--brine-timeout', type=float, default=DEFAULT_BRINE_TIMEOUT,
                   help='brine seconds per input (default %(default)s)')
    p.add_argument('--batch', type=int, default=DEFAULT_BATCH,
                   help='inputs per pipelined round trip (default %(default)s)')
    p.add_argument('--skip-risky', action='store_true',
                   help='skip manifest cases marked resource_risky')
    return p


class _Tally:
    """Counts per class and entry for one policy, the divergent results to
    show (failures first), and the JSON report."""

    def __init__(self, show, keep_json):
        self.show = max(show, 0)
        self.keep_json = keep_json
        self.failed = False
        self.failures, self.others = [], []
        self.tables = []
        self.report = {'summary': {}, 'results': []}

    def run(self, comparer, inputs, policy):
        counts = collections.Counter()
        entries = collections.defaultdict(collections.Counter)
        for r in comparer.compare_many(inputs, policy):
            counts[r.cls] += 1
            if r.entry:
                entries[r.cls][r.entry] += 1
            if not r.ok:
                self.failed = True
                if len(self.failures) < self.show:
                    self.failures.append(r)
            elif r.cls != 'agree' and len(self.others) < self.show:
                self.others.append(r)
            if self.keep_json:
                self.report['results'].append(r.to_dict(texts=r.cls != 'agree'))
        self.report['summary'][policy] = {'counts': dict(counts),
                                          'entries': {k: dict(v) for k, v in entries.items()}}
        self.tables.append(format_counts(counts, entries, 'policy %s: %d inputs'
                                         % (policy, len(inputs))))

    def write(self, out):
        for r in (self.failures + self.others)[:self.show]:
            out.write(format_result(r) + '\n')
        for t in self.tables:
            out.write(t + '\n')


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == '--bench':
        from . import bench_compare
        return bench_compare.main(argv[1:])
    args = build_parser().parse_args(argv)
    policies = ('symbolic', 'builtins') if args.policy == 'both' else (args.policy,)
    try:
        inputs = list(iter_inputs(args.paths, args.skip_risky))
        comparer = Comparer(policies[0], args.brine, args.encoding, args.errors,
                            args.fix_imports, args.impl,
                            limits_mod.Limits(args.max_memory, args.timeout),
                            args.brine_timeout, args.batch)
    except (OSError, ValueError) as e:
        sys.stderr.write('compare: %s\n' % e)
        return 2
    tally = _Tally(args.show, bool(args.json))
    t0 = time.monotonic()
    with comparer:
        for policy in policies:
            tally.run(comparer, inputs, policy)
    elapsed = time.monotonic() - t0
    out = sys.stdout
    tally.write(out)
    n = len(inputs) * len(policies)
    out.write('%d comparisons in %.1f s (%.0f/s); brine restarts %d, worker restarts %d'
              % (n, elapsed, n / elapsed if elapsed else 0, comparer.brine_restarts,
                 comparer.worker_restarts))
    if comparer.extensions_dropped:
        out.write('; %d comparisons without their extension registry (brine decode has '
                  'no --extension option)' % comparer.extensions_dropped)
    out.write('\n')
    if args.json:
        report = {'brine': comparer.brine, 'impl': args.impl, 'encoding': args.encoding,
                  'errors': args.errors, 'fix_imports': args.fix_imports}
        report.update(tally.report)
        with open(args.json, 'w', encoding='utf-8') as f:
            json.dump(report, f, indent=1)
            f.write('\n')
    return 1 if tally.failed else 0


if __name__ == '__main__':
    sys.exit(main())
