"""Adapters: other pickle implementations behind one command-line contract.

An adapter is a command that decodes pickle files given as arguments and
prints, for each file in order (docs/adapters.md is the full contract)::

    ### <the path as given>              header, printed (and flushed) first
    root: ...                            the canonical text of docs/canonical.md
    discarded: ...                       (or the text of the adapter's view)
or  error: <Class>: <message>            one line: the stream was rejected
or  cannot-represent: <why>              one line: the result has a node the
                                         implementation cannot express

and exits 0.  A process that dies or overruns its budget loses only the
file it was working on (its header is the last one printed): the driver
(:func:`run_adapter`) records that file as ``crash`` or ``timeout`` and
starts a fresh process for the files after it.

Encoders use the same framing: ``--encode PROTOCOL FILE...`` where each
file holds a canonical text, and the body is ``pickle: <hex>``, an error
line or a cannot-represent line.

The registry (:data:`REGISTRY`, built by :func:`registry`) says for each
implementation how to run it, whether it is there (``check`` returns None
or the reason it is unavailable), its *view* (oracle.adapters.view: the
distinctions it cannot make, erased on both sides before comparing; None
for the full canonical text), and whether its exception classes are
Python's (only then are two rejections compared by class).
"""

import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
# Where scripts/lib/adapters.sh installs npm packages and builds the Go adapter.
BUILD_DIR = os.environ.get('BRINE_MATRIX_BUILD', os.path.join(ROOT, 'build-matrix'))

HEADER = '### '
CANNOT = 'cannot-represent: '
ERROR = 'error: '
PICKLE = 'pickle: '
DEFAULT_BATCH = 200
DEFAULT_FILE_TIMEOUT = 5.0      # seconds per file; a batch gets startup + n * this
DEFAULT_STARTUP = 15.0
DEFAULT_MAX_MEMORY = 4 << 30     # address space of an adapter process


class Adapter:
    """One implementation under test.

    name: short id used on the command line and in reports
    title: what it is, for people
    argv: the command (list of str) to which file paths are appended
    check: callable returning None when runnable, else the reason it is not
    view: None (full canonical text) or a view spec (oracle.adapters.view)
    python_errors: its rejections carry Python exception class names
    sets_ordered: it keeps set insertion order (else sets compare sorted)
    encode_argv: the encoder command (``--encode P`` style), or None
    notes: one line on what is left out
    """

    def __init__(self, name, title, argv, check=None, view=None, python_errors=True,
                 sets_ordered=True, encode_argv=None, notes='', install='', env=None,
                 address_limit=True):
        self.name = name
        # False: run without the address-space limit (ASan builds reserve
        # terabytes of address space and cannot start under one).
        self.address_limit = address_limit
        self.title = title
        self.argv = list(argv)
        self._check = check
        self.view = view
        self.python_errors = python_errors
        self.sets_ordered = sets_ordered
        self.encode_argv = encode_argv
        self.notes = notes
        self.install = install
        self.env = env

    def unavailable(self):
        """None when the adapter can run here, else why not."""
        if self._check is None:
            return None
        try:
            return self._check()
        except Exception as e:  # a broken check is a reason, not a crash
            return 'check failed: %s' % e

    def __repr__(self):
        return 'Adapter(%r)' % self.name


def _need_file(path, what):
    return lambda: None if os.path.exists(path) else '%s missing (%s)' % (what, path)


def _need_cmd(cmd, probe=None):
    def check():
        exe = shutil.which(cmd)
        if exe is None:
            return '%s not on PATH' % cmd
        if probe:
            p = subprocess.run([exe] + probe, capture_output=True, timeout=60)
            if p.returncode != 0:
                return '%s %s failed: %s' % (cmd, ' '.join(probe),
                                             p.stderr.decode('utf-8', 'replace').strip()[-200:])
        return None
    return check


def _all(*checks):
    def check():
        for c in checks:
            r = c()
            if r:
                return r
        return None
    return check


def brine_path():
    return os.environ.get('BRINE_BIN') or os.path.join(ROOT, 'build', 'brine')


def _py(python, impl, extra=()):
    return [python, '-m', 'oracle.adapters.pyrun', '--impl', impl] + list(extra)


# Debian's own python3 (3.11) carries python3-zodbpickle; the reference
# python3 may be another build (pyenv) without it.
DEBIAN_PYTHON = '/usr/bin/python3'


def registry():
    """The eight implementations of the matrix, in report order."""
    py = sys.executable
    node_dir = os.path.join(BUILD_DIR, 'node_modules')
    go_bin = os.path.join(BUILD_DIR, 'go', 'bin', 'stalecucumber-adapter')
    js = os.path.join(HERE, 'js')
    return [
        Adapter('brine', 'brine decode (this repository)',
                [py, '-m', 'oracle.adapters.brinerun'],
                check=lambda: None if os.access(brine_path(), os.X_OK)
                else 'brine executable missing (%s)' % brine_path(),
                encode_argv=[py, '-m', 'oracle.adapters.brinerun'],
                install='cmake --preset default && cmake --build --preset default',
                # brine never allocates from a length it has not checked
                # against the input, and $BRINE_BIN may be an ASan build.
                address_limit=False),
        Adapter('cpython', "CPython %d.%d C _pickle (the reference)" % sys.version_info[:2],
                _py(py, 'c'), encode_argv=_py(py, 'c'),
                notes='the reference itself: agreement is 100% by construction'),
        Adapter('pure-python', 'CPython pickle._Unpickler / pickle._Pickler',
                _py(py, 'python'), encode_argv=_py(py, 'python')),
        Adapter('pypy3', 'PyPy 3 pickle (pure-Python stdlib of PyPy)',
                _py('pypy3', 'python'),
                check=_need_cmd('pypy3', ['-c', 'import pickle']),
                encode_argv=_py('pypy3', 'python'), install='apt-get install pypy3',
                env={'PYTHONPATH': ROOT}),
        Adapter('zodbpickle', 'zodbpickle (C unpickler, Debian python3-zodbpickle)',
                _py(DEBIAN_PYTHON, 'zodbpickle'),
                check=_need_cmd(DEBIAN_PYTHON, ['-c', 'import zodbpickle.pickle']),
                encode_argv=_py(DEBIAN_PYTHON, 'zodbpickle'),
                install='apt-get install python3-zodbpickle', env={'PYTHONPATH': ROOT}),
        Adapter('pickleparser', 'npm pickleparser (JavaScript)',
                ['node', os.path.join(js, 'pickleparser.js')],
                check=_all(_need_cmd('node'),
                           _need_file(os.path.join(node_dir, 'pickleparser'), 'npm package')),
                view='js', python_errors=False,
                install='npm install pickleparser', env={'NODE_PATH': node_dir},
                notes='JavaScript values: see the js view (oracle/adapters/view.py)'),
        Adapter('jpickle', 'npm jpickle (JavaScript)',
                ['node', os.path.join(js, 'jpickle.js')],
                check=_all(_need_cmd('node'),
                           _need_file(os.path.join(node_dir, 'jpickle'), 'npm package')),
                view='js-object', python_errors=False,
                install='npm install jpickle', env={'NODE_PATH': node_dir},
                notes='dicts are JavaScript objects: string keys, sorted'),
        Adapter('stalecucumber', 'Go github.com/hydrogen18/stalecucumber',
                [go_bin], check=_need_file(go_bin, 'Go adapter binary'),
                view='go', python_errors=False,
                install='apt-get install golang-go golang-github-hydrogen18-stalecucumber-dev',
                notes='dicts are Go maps: no order'),
    ]


def load_extra(paths):
    """Adapters registered in JSON files: a list of objects with name,
    argv (relative paths resolve against the file's directory), and
    optionally title, view, python_errors, sets_ordered, encode_argv, env."""
    import json
    out = []
    for path in paths or ():
        base = os.path.dirname(os.path.abspath(path))
        with open(path, encoding='utf-8') as f:
            specs = json.load(f)
        for s in specs if isinstance(specs, list) else [specs]:
            fix = lambda argv: [os.path.join(base, x) if x.startswith('./') else x  # noqa
                                for x in argv]
            out.append(Adapter(s['name'], s.get('title', s['name']), fix(s['argv']),
                               check=_need_cmd(fix(s['argv'])[0]) if not os.path.isabs(
                                   fix(s['argv'])[0]) else _need_file(fix(s['argv'])[0],
                                                                      'adapter'),
                               view=s.get('view'), python_errors=s.get('python_errors', True),
                               sets_ordered=s.get('sets_ordered', True),
                               encode_argv=fix(s['encode_argv']) if s.get('encode_argv')
                               else None, env=s.get('env'), notes=s.get('notes', '')))
    return out


def by_name(names=None, extra=()):
    """Adapters of the registry (plus extra Adapter objects) by name."""
    regs = registry() + list(extra)
    if not names:
        return regs
    index = {a.name: a for a in regs}
    missing = [n for n in names if n not in index]
    if missing:
        raise KeyError('unknown adapter(s): %s (known: %s)'
                       % (', '.join(missing), ', '.join(index)))
    return [index[n] for n in names]


# --- running an adapter ------------------------------------------------------------

class Record:
    """What an adapter said about one file.

    status: 'ok' (body holds its answer), 'crash', 'timeout'
    kind: for 'ok': 'accept', 'reject', 'cannot', 'pickle'
    body: the text (accept: the canonical/view text; reject: the error line;
          cannot: the reason; pickle: bytes)
    """

    __slots__ = ('status', 'kind', 'body', 'detail')

    def __init__(self, status, kind=None, body=None, detail=None):
        self.status = status
        self.kind = kind
        self.body = body
        self.detail = detail

    @property
    def exc_class(self):
        if self.kind != 'reject':
            return None
        return self.body[len(ERROR):].split(':', 1)[0].strip()

    def first_line(self):
        if self.status != 'ok':
            return '%s: %s' % (self.status, self.detail or '')
        if self.kind == 'pickle':
            return 'pickle: ' + self.body.hex()[:200]
        line = (self.body or '').split('\n', 1)[0]
        return line if len(line) <= 200 else line[:200] + '...'

    def __repr__(self):
        return 'Record(%s, %s, %r)' % (self.status, self.kind, self.first_line())


def parse_body(lines):
    """A Record from the body lines of one file."""
    if len(lines) == 1 and lines[0].startswith(CANNOT):
        return Record('ok', 'cannot', lines[0][len(CANNOT):])
    if len(lines) == 1 and lines[0].startswith(ERROR):
        return Record('ok', 'reject', lines[0])
    if len(lines) == 1 and lines[0].startswith(PICKLE):
        try:
            return Record('ok', 'pickle', bytes.fromhex(lines[0][len(PICKLE):].strip()))
        except ValueError:
            return Record('crash', detail='bad pickle line')
    if lines and lines[0].startswith('root: '):
        return Record('ok', 'accept', '\n'.join(lines) + '\n')
    return Record('crash', detail='malformed output: %r' % ('\n'.join(lines)[:200],))


def _parse_output(out, paths):
    """{index: (lines, complete)} from the adapter's stdout; the last file
    whose header was printed is incomplete unless followed by another
    header (the caller decides, knowing whether the process exited 0)."""
    text = out.decode('utf-8', 'replace')
    got = {}
    order = {p: i for i, p in enumerate(paths)}
    cur = None
    for line in text.split('\n'):
        if line.startswith(HEADER):
            cur = order.get(line[len(HEADER):])
            if cur is not None:
                got[cur] = []
            continue
        if cur is not None and line != '':
            got[cur].append(line)
    return got, cur


def _limit_child(max_memory):
    def preexec():
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if max_memory:
            resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    return preexec


def _run_chunk(argv, env, cwd, cpaths, file_timeout, startup, max_memory):
    """Run one process on cpaths: (stdout bytes, stderr bytes, exit status
    or None, timed_out).  The budget of each file counts from the header
    before it, or any output since (the first from the start, plus
    `startup`)."""
    import selectors
    p = subprocess.Popen(argv + cpaths, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True,
                         preexec_fn=_limit_child(max_memory))
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    sel.register(p.stderr, selectors.EVENT_READ)
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + startup + file_timeout
    timed_out = False
    open_streams = 2
    try:
        while open_streams:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(min(left, 1.0)):
                chunk = os.read(key.fileobj.fileno(), 1 << 16)
                if not chunk:
                    sel.unregister(key.fileobj)
                    open_streams -= 1
                    continue
                if key.fileobj is p.stdout:
                    out += chunk    # progress: the file budget starts again
                    deadline = time.monotonic() + file_timeout
                elif len(err) < (1 << 20):
                    err += chunk
    finally:
        if timed_out:
            try:
                os.killpg(p.pid, 9)
            except OSError:
                pass
        sel.close()
        p.stdout.close()
        p.stderr.close()
        rc = p.wait()
    return bytes(out), bytes(err), (None if timed_out else rc), timed_out


def run_adapter(adapter, paths, extra_args=(), batch=DEFAULT_BATCH,
                file_timeout=DEFAULT_FILE_TIMEOUT, startup=DEFAULT_STARTUP, cwd=ROOT,
                max_memory=DEFAULT_MAX_MEMORY):
    """Run adapter on every path; returns [Record] in order.  Batches of
    `batch` files per process, under an address-space limit (max_memory
    bytes, None for none); a death or overrun loses only the file in
    progress (crash / timeout), the rest run in a new process."""
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + (os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    for k, v in (adapter.env or {}).items():
        env[k] = v if k != 'PYTHONPATH' else ROOT
    env.setdefault('PYTHONHASHSEED', '0')
    argv = list(adapter.argv) + list(extra_args)
    if not getattr(adapter, 'address_limit', True):
        max_memory = None
    results = [None] * len(paths)
    pending = list(range(len(paths)))
    while pending:
        chunk = pending[:batch]
        cpaths = [paths[i] for i in chunk]
        try:
            out, err, rc, timed_out = _run_chunk(argv, env, cwd, cpaths, file_timeout, startup,
                                                 max_memory)
        except OSError as e:
            for i in pending:
                results[i] = Record('crash', detail='cannot start: %s' % e)
            break
        got, last = _parse_output(out, cpaths)
        clean_exit = rc == 0 and not timed_out
        done = 0
        for k, i in enumerate(chunk):
            if k not in got or (k == last and not clean_exit):
                break
            results[i] = parse_body(got[k])
            done = k + 1
        if done == len(chunk):
            pending = pending[len(chunk):]
            continue
        # The file in progress when the process died or overran.
        culprit = chunk[done]
        if timed_out:
            results[culprit] = Record('timeout', detail='no answer within %.0f s' % file_timeout)
        else:
            tail = err.decode('utf-8', 'replace').strip().splitlines()[-1:] or ['']
            if rc < 0:
                what = 'killed by signal %d' % -rc
            elif rc == 0:
                what = 'exited 0 without an answer'
            else:
                what = 'exit status %d' % rc
            results[culprit] = Record('crash', detail='%s; %s' % (what, tail[0][:200]))
        pending = pending[done + 1:]
    return results


def elapsed(fn, *a, **kw):
    t0 = time.monotonic()
    r = fn(*a, **kw)
    return r, time.monotonic() - t0
