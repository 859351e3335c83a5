"""The findings archive: corpus/regressions/<signature>/.

Each entry is a directory named after the finding's signature holding

    input       the minimized input (what every target replays)
    original    the input as the engine saved it
    meta.json   target, engine, class, kind, first_seen, last_seen,
                times_seen, brine_commit, cpython, status, description, ...

Guarantees (tests/py/test_archive_kill.py kills writers at random moments
and checks them):

- an entry appears whole or not at all: it is written into a staging
  directory next to the archive (``.<archive>.staging/``, same file
  system), every file fsynced, then renamed into place in one rename(2);
- nothing is overwritten: a finding whose signature is already archived
  only gets its meta.json replaced (atomically) with a later last_seen, a
  larger times_seen and the engines that saw it; its input, original and
  first_seen never change;
- a run killed half way leaves at most a staging directory, which is not
  part of the archive; the next run removes it (the finding is still in the
  fuzzer's working directory and is archived again);
- one writer at a time (an flock on the staging directory's lock file).

CLI (for tests and by hand):

    python3 -m campaign.archive check [DIR]      # exit 1 on any problem
    python3 -m campaign.archive add DIR SIG INPUT ORIGINAL META_JSON
"""

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import sys

from . import common

REQUIRED_META = ('signature', 'target', 'class', 'first_seen', 'last_seen', 'status')
STATUSES = ('open', 'fixed', 'wontfix', 'reference-bug')
DEFAULT_ARCHIVE = os.path.join(common.ROOT, 'corpus', 'regressions')


def staging_dir(archive):
    archive = os.path.abspath(archive)
    return os.path.join(os.path.dirname(archive), '.%s.staging' % os.path.basename(archive))


def valid_signature(sig):
    return (0 < len(sig) <= 120 and sig[0].isalnum()
            and all(c.isalnum() or c in '-_.' for c in sig))


@contextlib.contextmanager
def locked(archive):
    """Holds the archive's writer lock (blocking)."""
    st = staging_dir(archive)
    os.makedirs(st, exist_ok=True)
    fd = os.open(os.path.join(st, 'lock'), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def clean_staging(archive):
    """Removes the leftovers of killed runs (never part of the archive).
    Call with the lock held."""
    st = staging_dir(archive)
    if not os.path.isdir(st):
        return 0
    n = 0
    for name in os.listdir(st):
        if name == 'lock':
            continue
        path = os.path.join(st, name)
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
        n += 1
    return n


def _write_file(path, data):
    with open(path, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def entries(archive=DEFAULT_ARCHIVE):
    """The archived signatures, sorted."""
    if not os.path.isdir(archive):
        return []
    return sorted(n for n in os.listdir(archive)
                  if not n.startswith('.') and os.path.isdir(os.path.join(archive, n)))


def load(archive, signature):
    """meta.json of an entry, or None."""
    try:
        return common.read_json(os.path.join(archive, signature, 'meta.json'))
    except (OSError, ValueError):
        return None


def add(archive, signature, minimized, original, meta, seen_at=None, notes=None):
    """Archives one finding.  Returns ('new', meta) when the entry was
    created, ('seen', meta) when the signature was archived already (only
    its meta.json is updated).  meta: the new entry's metadata (signature,
    first_seen, last_seen and times_seen are filled in here); notes: extra
    text files for a new entry, {name ending in .txt: str}."""
    if not valid_signature(signature):
        raise ValueError('bad signature %r' % signature)
    for name in notes or {}:
        if not (name.endswith('.txt') and valid_signature(name)):
            raise ValueError('bad note name %r' % name)
    seen_at = seen_at or common.iso(common.now())
    os.makedirs(archive, exist_ok=True)
    with locked(archive):
        clean_staging(archive)
        final = os.path.join(archive, signature)
        if os.path.isdir(final):
            return 'seen', _mark_seen(final, meta, seen_at)
        meta = dict(meta)
        meta.update(signature=signature, first_seen=seen_at, last_seen=seen_at, times_seen=1)
        meta.setdefault('status', 'open')
        meta.setdefault('engines', [meta['engine']] if meta.get('engine') else [])
        st = staging_dir(archive)
        tmp = os.path.join(st, '%s.%d' % (signature, os.getpid()))
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        _write_file(os.path.join(tmp, 'input'), minimized)
        _write_file(os.path.join(tmp, 'original'), original)
        for name, text in (notes or {}).items():
            _write_file(os.path.join(tmp, name), text.encode('utf-8', 'replace'))
        _write_file(os.path.join(tmp, 'meta.json'),
                    (json.dumps(meta, indent=2, sort_keys=True) + '\n').encode())
        common.fsync_dir(tmp)
        try:
            os.rename(tmp, final)
        except OSError:
            # Appeared meanwhile (another writer without the lock): keep theirs.
            shutil.rmtree(tmp, ignore_errors=True)
            return 'seen', _mark_seen(final, meta, seen_at)
        common.fsync_dir(archive)
        common.fsync_dir(st)
        return 'new', meta


def _mark_seen(final, meta, seen_at):
    path = os.path.join(final, 'meta.json')
    try:
        old = common.read_json(path)
    except (OSError, ValueError):
        old = None
    if not isinstance(old, dict):
        # A hand-made entry without readable metadata: leave it alone.
        return {'signature': os.path.basename(final), 'status': 'unknown'}
    new = dict(old)
    if seen_at > str(old.get('last_seen', '')):
        new['last_seen'] = seen_at
    new['times_seen'] = int(old.get('times_seen', 1)) + 1
    engines = list(old.get('engines') or ([old['engine']] if old.get('engine') else []))
    if meta.get('engine') and meta['engine'] not in engines:
        engines.append(meta['engine'])
    new['engines'] = engines
    # Written in the staging directory and renamed over meta.json, so that
    # a kill leaves no temporary file inside the entry.
    tmp = os.path.join(staging_dir(os.path.dirname(final)), 'meta.%d.json' % os.getpid())
    _write_file(tmp, (json.dumps(new, indent=2, sort_keys=True) + '\n').encode())
    os.replace(tmp, path)
    common.fsync_dir(final)
    return new


def check(archive=DEFAULT_ARCHIVE):
    """Problems of the archive, as strings (empty when it is consistent):
    every entry has an input, parseable metadata naming itself, and no
    temporary files."""
    problems = []
    if not os.path.isdir(archive):
        return problems
    for name in sorted(os.listdir(archive)):
        path = os.path.join(archive, name)
        if name.startswith('.tmp-'):
            problems.append('%s: temporary file in the archive' % name)
            continue
        if name.startswith('.') or not os.path.isdir(path):
            continue
        if not os.path.isfile(os.path.join(path, 'input')):
            problems.append('%s: no input' % name)
        for f in os.listdir(path):
            if f.startswith('.tmp-'):
                problems.append('%s/%s: temporary file' % (name, f))
        meta = load(archive, name)
        if meta is None:
            problems.append('%s: meta.json missing or not JSON' % name)
            continue
        for key in REQUIRED_META:
            if key not in meta:
                problems.append('%s: meta.json lacks %s' % (name, key))
        if meta.get('signature') not in (None, name):
            problems.append('%s: meta.json names %r' % (name, meta.get('signature')))
        if meta.get('status') not in STATUSES + (None,):
            problems.append('%s: unknown status %r' % (name, meta.get('status')))
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(prog='python3 -m campaign.archive', description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest='cmd', required=True)
    c = sub.add_parser('check', help='check an archive; exit 1 on problems')
    c.add_argument('dir', nargs='?', default=DEFAULT_ARCHIVE)
    a = sub.add_parser('add', help='archive one finding')
    a.add_argument('dir')
    a.add_argument('signature')
    a.add_argument('input')
    a.add_argument('original')
    a.add_argument('meta', help='JSON object')
    args = ap.parse_args(argv)
    if args.cmd == 'check':
        problems = check(args.dir)
        for p in problems:
            print(p)
        print('archive %s: %d entries, %d problems' % (args.dir, len(entries(args.dir)),
                                                       len(problems)))
        return 1 if problems else 0
    with open(args.input, 'rb') as f:
        minimized = f.read()
    with open(args.original, 'rb') as f:
        original = f.read()
    status, meta = add(args.dir, args.signature, minimized, original, json.loads(args.meta))
    print(status, meta.get('signature'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
