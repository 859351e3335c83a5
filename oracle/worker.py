"""A long-lived reference-decode process, and its parent-side client.

``python3 -m oracle worker [--max-memory BYTES]`` reads requests on stdin
and writes responses on stdout until stdin closes, so that scripts and the
fuzz harness decode many inputs without starting Python per input.  It
limits its own address space (RLIMIT_AS) at start-up; the wall-clock
budget is enforced by the parent (WorkerClient), which kills and restarts
the worker, because C-level computations cannot be interrupted from inside.

Protocol (all integers unsigned big-endian)::

    message  = u32 N, then N bytes of body
    body     = u32 H, then H bytes of JSON header (UTF-8), then N-4-H bytes
               of payload

Request headers:

    {"op": "decode", "data_len": D,
     "policy": "symbolic"|"builtins", "impl": "c"|"python",
     "encoding": str, "errors": str, "fix_imports": bool,
     "buffers": null | [[length, readonly], ...],
     "extensions": null | [[code, module, name], ...],
     "want_ops": bool}
        payload: the D bytes of the pickle, then each buffer's bytes in order
    {"op": "ping"}      -> {"kind": "pong", "pid": <worker pid>}
    {"op": "exit"}      -> no response; the worker exits

Response header to "decode":

    {"kind": "accept"|"reject"|"resource"|"internal",
     "exc_class": str|null, "message": str|null,
     "set_order_verified": bool,
     "ops": null | [[offset, name], ...]}
        payload: the canonical text (ASCII) for "accept", else empty

"internal" reports a bug in the oracle (message: the traceback); the
client raises oracle.reference.OracleError for it.  A worker that exceeds
the time budget is killed (outcome: resource, Timeout); one that dies
during a request (e.g. a C stack overflow on a deeply nested tuple used
as a set element) gives resource, WorkerDied.  Both are restarted on the
next request.
"""

import atexit
import json
import os
import select
import signal
import struct
import subprocess
import sys
import time
import traceback

from . import limits as limits_mod
from .reference import OracleError, Options, Outcome, decode_inprocess

_U32 = struct.Struct('>I')
_PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# --- message encoding -----------------------------------------------------------

def pack(header, payload=b''):
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    return b''.join([_U32.pack(4 + len(h) + len(payload)), _U32.pack(len(h)), h, payload])


def unpack(body):
    (hlen,) = _U32.unpack_from(body, 0)
    header = json.loads(body[4:4 + hlen].decode('utf-8'))
    return header, body[4 + hlen:]


def request_for(data, opts, want_ops):
    data = bytes(data)
    payload = [data]
    bufs = None
    if opts.buffers is not None:
        bufs = []
        for b, ro in opts.buffers:
            bufs.append([len(b), ro])
            payload.append(b)
    ext = None
    if opts.extensions:
        ext = [[code, m, n] for code, (m, n) in sorted(opts.extensions.items())]
    header = {'op': 'decode', 'data_len': len(data), 'policy': opts.policy,
              'impl': opts.impl, 'encoding': opts.encoding, 'errors': opts.errors,
              'fix_imports': opts.fix_imports, 'buffers': bufs, 'extensions': ext,
              'want_ops': want_ops}
    return pack(header, b''.join(payload))


def _options_from(header, payload):
    n = header['data_len']
    data = payload[:n]
    pos = n
    buffers = None
    if header.get('buffers') is not None:
        buffers = []
        for length, ro in header['buffers']:
            buffers.append((payload[pos:pos + length], ro))
            pos += length
    ext = None
    if header.get('extensions'):
        ext = {code: (m, nm) for code, m, nm in header['extensions']}
    opts = Options(header.get('policy', 'symbolic'), header.get('encoding', 'ASCII'),
                   header.get('errors', 'strict'), header.get('fix_imports', True),
                   buffers, ext, header.get('impl', 'c'))
    return data, opts, bool(header.get('want_ops', False))


def response_for(outcome):
    header = {'kind': outcome.kind, 'exc_class': outcome.exc_class,
              'message': outcome.message, 'set_order_verified': outcome.set_order_verified,
              'ops': outcome.ops}
    text = outcome.text.encode('ascii') if outcome.text is not None else b''
    return pack(header, text)


def outcome_from(header, payload):
    ops = header.get('ops')
    if ops is not None:
        ops = [tuple(x) for x in ops]
    return Outcome(header['kind'], text=payload.decode('ascii') if header['kind'] == 'accept' else None,
                   exc_class=header.get('exc_class'), message=header.get('message'),
                   set_order_verified=header.get('set_order_verified', True), ops=ops)


# --- the worker side ------------------------------------------------------------

def _read_exact(fd, n):
    chunks = []
    while n:
        b = os.read(fd, min(n, 1 << 20))
        if not b:
            return None
        chunks.append(b)
        n -= len(b)
    return b''.join(chunks)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def serve(max_memory=limits_mod.DEFAULT_MAX_MEMORY, infd=0, outfd=1):
    """The worker loop (runs until stdin closes or an "exit" request)."""
    # Keep the protocol channel private: anything printed goes to stderr.
    outfd = os.dup(outfd)
    os.dup2(2, 1)
    limits_mod.apply_in_this_process(max_memory)
    while True:
        head = _read_exact(infd, 4)
        if head is None:
            return 0
        (n,) = _U32.unpack(head)
        body = _read_exact(infd, n)
        if body is None:
            return 0
        try:
            header, payload = unpack(body)
            op = header.get('op')
            if op == 'exit':
                return 0
            if op == 'ping':
                resp = pack({'kind': 'pong', 'pid': os.getpid()})
            elif op == 'decode':
                data, opts, want_ops = _options_from(header, payload)
                del body, payload
                try:
                    outcome = decode_inprocess(data, opts, want_ops)
                except MemoryError as e:  # while printing or recovering
                    outcome = Outcome('resource', exc_class='MemoryError', message=str(e))
                del data
                resp = response_for(outcome)
                del outcome
            else:
                raise ValueError('unknown request op %r' % (op,))
        except MemoryError as e:
            resp = pack({'kind': 'resource', 'exc_class': 'MemoryError', 'message': str(e),
                         'set_order_verified': True, 'ops': None})
        except Exception:
            resp = pack({'kind': 'internal', 'exc_class': 'OracleError',
                         'message': traceback.format_exc(), 'set_order_verified': True,
                         'ops': None})
        _write_all(outfd, resp)


# --- the parent side ------------------------------------------------------------

class WorkerClient:
    """Runs `python3 -m oracle worker` as a subprocess and sends it decodes.

    env: extra environment variables for the worker (e.g. PYTHONHASHSEED).
    The time budget (limits.timeout) is enforced here: a worker that does not
    answer in time is killed and the outcome is resource/Timeout; a worker
    that dies while decoding gives resource/WorkerDied.  The next request
    starts a fresh worker (self.restarts counts them).
    """

    def __init__(self, limits=limits_mod.DEFAULT_LIMITS, python=None, stderr=None, env=None):
        self.limits = limits
        self.python = python or sys.executable
        self.stderr = stderr
        self.extra_env = dict(env or {})
        self.proc = None
        self.starts = 0
        self.restarts = 0

    # -- process management --

    def _start(self):
        env = dict(os.environ)
        env.update(self.extra_env)
        env['PYTHONPATH'] = _PKG_PARENT + (os.pathsep + env['PYTHONPATH']
                                           if env.get('PYTHONPATH') else '')
        cmd = [self.python, '-m', 'oracle', 'worker']
        if self.limits.max_memory is not None:
            cmd += ['--max-memory', str(self.limits.max_memory)]
        else:
            cmd += ['--max-memory', 'none']
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=env, bufsize=0)
        if self.starts:
            self.restarts += 1
        self.starts += 1

    def _kill(self):
        p = self.proc
        self.proc = None
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
        for f in (p.stdin, p.stdout):
            try:
                f.close()
            except OSError:
                pass
        return p.returncode

    @property
    def pid(self):
        return self.proc.pid if self.proc is not None else None

    def close(self):
        p = self.proc
        if p is None:
            return
        try:
            if p.poll() is None:
                _write_all(p.stdin.fileno(), pack({'op': 'exit'}))
                p.wait(2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self._kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests --

    def _send(self, message):
        """Send, restarting once if the worker died while idle."""
        for attempt in (0, 1):
            if self.proc is None or self.proc.poll() is not None:
                self._kill()
                self._start()
            try:
                _write_all(self.proc.stdin.fileno(), message)
                return
            except OSError:
                self._kill()
                if attempt:
                    raise

    def _receive(self, timeout):
        """The response body, or a string saying why there is none."""
        fd = self.proc.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        buf = bytearray()
        need = 4
        have_len = False
        while True:
            while len(buf) < need:
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return 'timeout'
                    r, _, _ = select.select([fd], [], [], left)
                    if not r:
                        return 'timeout'
                chunk = os.read(fd, max(need - len(buf), 65536))
                if not chunk:
                    return 'died'
                buf += chunk
            if not have_len:
                (n,) = _U32.unpack_from(buf, 0)
                need = 4 + n
                have_len = True
                continue
            return bytes(buf[4:need])

    def request(self, message, timeout):
        self._send(message)
        body = self._receive(timeout)
        if body == 'timeout':
            self._kill()
            return None, Outcome('resource', exc_class='Timeout',
                                 message='reference decode exceeded %g s' % timeout)
        if body == 'died':
            code = self._kill()
            if code is not None and code < 0:
                try:
                    why = 'killed by %s' % signal.Signals(-code).name
                except ValueError:
                    why = 'killed by signal %d' % -code
            else:
                why = 'exited with status %s' % code
            return None, Outcome('resource', exc_class='WorkerDied',
                                 message='reference worker %s' % why)
        return unpack(body), None

    def ping(self):
        """Start the worker if needed; returns its pong header."""
        got, failed = self.request(pack({'op': 'ping'}), self.limits.timeout or 30.0)
        if failed is not None:
            raise OracleError('reference worker did not answer a ping: ' + failed.message)
        return got[0]

    def decode_opts(self, data, opts, want_ops=True):
        got, failed = self.request(request_for(data, opts, want_ops), self.limits.timeout)
        if failed is not None:
            return failed
        header, payload = got
        if header['kind'] == 'internal':
            raise OracleError('reference worker failed:\n' + header.get('message', ''))
        return outcome_from(header, payload)

    def decode(self, data, *, policy='symbolic', encoding='ASCII', errors='strict',
               fix_imports=True, buffers=None, extensions=None, impl='c', want_ops=True):
        opts = Options(policy, encoding, errors, fix_imports, buffers, extensions, impl)
        return self.decode_opts(data, opts, want_ops)


_SHARED = {}


def shared_client(limits):
    """One WorkerClient per distinct Limits, shared by oracle.reference.decode
    and closed at exit."""
    c = _SHARED.get(limits)
    if c is None:
        c = _SHARED[limits] = WorkerClient(limits)
    return c


@atexit.register
def _close_shared():
    for c in list(_SHARED.values()):
        c.close()
    _SHARED.clear()


def main(argv):
    import argparse
    p = argparse.ArgumentParser(
        prog='python3 -m oracle worker',
        description='Serve reference decodes on stdin/stdout.',
        epilog=__doc__.split('Protocol', 1)[1].join(['Protocol', '']),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--max-memory', default=str(limits_mod.DEFAULT_MAX_MEMORY),
                   help='address-space limit in bytes, or "none" (default: %(default)s)')
    args = p.parse_args(argv)
    mm = None if args.max_memory == 'none' else int(args.max_memory)
    return serve(mm)
