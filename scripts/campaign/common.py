"""Shared facts and helpers of the campaign: paths, targets, run facts and
atomic file writes."""

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # for the oracle package

ENGINES = ('libfuzzer', 'afl')


def log(msg):
    """Progress on stderr: stdout is kept for results."""
    print('campaign: ' + msg, file=sys.stderr, flush=True)


def targets():
    """The fuzz targets, in order: harness/targets.cmake is the one list."""
    out = subprocess.run(['cmake', '-P', os.path.join(ROOT, 'harness', 'targets.cmake')],
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def build_dir(preset):
    return os.path.join(ROOT, 'build' if preset == 'default' else 'build-' + preset)


def target_binary(preset, target):
    return os.path.join(build_dir(preset), 'harness', target)


def libfuzzer_flags(target):
    """The lines of corpus/options/<target>.options, paths made absolute."""
    path = os.path.join(ROOT, 'corpus', 'options', target + '.options')
    flags = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.split('#', 1)[0].strip()
                if not line:
                    continue
                if line.startswith('-dict=') and not line[6:].startswith('/'):
                    line = '-dict=' + os.path.join(ROOT, line[6:])
                flags.append(line)
    return flags


def flag_value(target, name, default=None):
    for f in libfuzzer_flags(target):
        if f.startswith('-%s=' % name):
            return f.split('=', 1)[1]
    return default


def git_commit(root=ROOT):
    """(short commit, dirty) of the tree, or ('unknown', False)."""
    try:
        sha = subprocess.run(['git', '-C', root, 'rev-parse', '--short=12', 'HEAD'],
                             check=True, capture_output=True, text=True).stdout.strip()
        st = subprocess.run(['git', '-C', root, 'status', '--porcelain', '--untracked-files=no'],
                            check=True, capture_output=True, text=True).stdout
        return sha, bool(st.strip())
    except (OSError, subprocess.CalledProcessError):
        return 'unknown', False


def cpython_version():
    return platform.python_version()


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return {'cores': os.cpu_count() or 1, 'cpu': cpu,
            'os': '%s %s' % (platform.system(), platform.release()),
            'hostname': platform.node()}


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(t):
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path, data):
    """Writes bytes or str to path so that a reader (or a run killed at any
    moment) sees the old file or the new one, never a part: a temporary file
    in the same directory, fsync, rename over, fsync the directory."""
    if isinstance(data, str):
        data = data.encode()
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', dir=d)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(d)


def write_json(path, obj):
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=True) + '\n')


def read_json(path):
    with open(path) as f:
        return json.load(f)
