"""Command line of the oracle: ``python3 -m oracle <command> ...``.

Commands: decode, worker, bench-worker (this package), generate
(oracle/generate.py) and compare (oracle/compare.py); the last two are
imported only when asked for, if they exist.
"""

import argparse
import importlib
import sys

from . import limits as limits_mod

USAGE = """\
usage: python3 -m oracle <command> [options]

The reference decoder of brine: CPython 3.11's unpickler with inert stubs,
printing the canonical text of docs/canonical.md.

commands:
  decode        print the reference canonical text of one pickle
  worker        serve reference decodes on stdin/stdout (length-prefixed)
  bench-worker  measure reference decodes per second (worker vs. processes)
  generate      generate test pickles (oracle/generate.py)
  compare       compare brine decode with the reference (oracle/compare.py)
  bench-compare measure comparisons per second (long-lived vs. per process)

Run `python3 -m oracle <command> --help` for a command's options.
"""

_LAZY = {'generate': 'oracle.generate', 'compare': 'oracle.compare',
         'bench-compare': 'oracle.bench_compare'}


def _parse_memory(s):
    if s.lower() == 'none':
        return None
    mult = 1
    for suffix, m in (('k', 1 << 10), ('m', 1 << 20), ('g', 1 << 30)):
        if s.lower().endswith(suffix):
            s, mult = s[:-1], m
            break
    return int(s) * mult


def _parse_timeout(s):
    return None if s.lower() == 'none' else float(s)


def _parse_extension(s):
    code, module, name = s.split(':', 2)
    return int(code, 0), module, name


class _AppendBuffer(argparse.Action):
    """--buffer and --readonly-buffer append to one ordered list."""

    def __call__(self, parser, namespace, value, option_string=None):
        lst = getattr(namespace, self.dest, None) or []
        lst.append((value, option_string == '--readonly-buffer'))
        setattr(namespace, self.dest, lst)


def decode_main(argv):
    p = argparse.ArgumentParser(
        prog='python3 -m oracle decode',
        description='Decode one pickle with the reference (CPython 3.11 with inert stubs) and '
                    'print its canonical text (docs/canonical.md).  On rejection print '
                    '"error: <Class>: <message>" on stderr and exit 1; exit 3 when the '
                    'reference ran out of resources (memory limit, time budget, worker death).')
    p.add_argument('file', help='pickle file, or - for stdin')
    p.add_argument('--policy', choices=('symbolic', 'builtins'), default='symbolic')
    p.add_argument('--impl', choices=('c', 'python'), default='c',
                   help='CPython unpickler: the C accelerator (default) or pickle._Unpickler')
    p.add_argument('--encoding', default='ASCII', help='for Python 2 strings (default ASCII)')
    p.add_argument('--errors', default='strict', help='for Python 2 strings (default strict)')
    p.add_argument('--no-fix-imports', dest='fix_imports', action='store_false',
                   help='do not map Python 2 names at protocols < 3')
    p.add_argument('--buffer', '--readonly-buffer', dest='buffers', action=_AppendBuffer,
                   metavar='FILE', help='an out-of-band buffer (writable, or readonly with '
                   '--readonly-buffer); repeat in order; with none given, buffers=None')
    p.add_argument('--extension', action='append', type=_parse_extension, default=[],
                   metavar='CODE:MODULE:NAME', help='register an EXT code (repeatable)')
    p.add_argument('--max-memory', type=_parse_memory, default=limits_mod.DEFAULT_MAX_MEMORY,
                   metavar='BYTES', help='address-space limit of the worker (suffix k/m/g, or '
                   'none; default 2g)')
    p.add_argument('--timeout', type=_parse_timeout, default=limits_mod.DEFAULT_TIMEOUT,
                   metavar='SECONDS', help='time budget (or none; default %(default)s)')
    p.add_argument('--no-limits', action='store_true',
                   help='decode in this process without limits (trusted input only)')
    p.add_argument('--ops', action='store_true',
                   help='also print the executed opcodes (offset name) on stderr')
    args = p.parse_args(argv)

    from . import reference
    if args.file == '-':
        data = sys.stdin.buffer.read()
    else:
        with open(args.file, 'rb') as f:
            data = f.read()
    buffers = None
    if args.buffers:
        buffers = []
        for path, ro in args.buffers:
            with open(path, 'rb') as f:
                buffers.append((f.read(), ro))
    extensions = {c: (m, n) for c, m, n in args.extension} or None
    lim = None if args.no_limits else limits_mod.Limits(args.max_memory, args.timeout)
    outcome = reference.decode(data, policy=args.policy, encoding=args.encoding,
                               errors=args.errors, fix_imports=args.fix_imports,
                               buffers=buffers, extensions=extensions, impl=args.impl,
                               limits=lim, want_ops=args.ops)
    err = sys.stderr
    if args.ops and outcome.ops is not None:
        for off, name in outcome.ops:
            err.write('%d %s\n' % (off, name))
    if outcome.kind == 'accept':
        sys.stdout.buffer.write(outcome.text.encode('ascii'))
        sys.stdout.flush()
        if not outcome.set_order_verified:
            err.write('warning: set insertion order not verified (sorted order printed)\n')
        return 0
    err.buffer.write((outcome.error_line + '\n').encode('utf-8', 'backslashreplace'))
    err.flush()
    return 1 if outcome.kind == 'reject' else 3


def main(argv=None):
    if argv is None:
        argv = sys.argv[1:]
    if not argv or argv[0] in ('-h', '--help', 'help'):
        sys.stdout.write(USAGE)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == 'decode':
        return decode_main(rest)
    if cmd == 'worker':
        from . import worker
        return worker.main(rest)
    if cmd == 'bench-worker':
        from . import bench
        return bench.main(rest)
    if cmd in _LAZY:
        try:
            mod = importlib.import_module(_LAZY[cmd])
        except ModuleNotFoundError as e:
            if e.name != _LAZY[cmd]:
                raise
            sys.stderr.write('oracle: %r is not available (%s.py is missing)\n'
                             % (cmd, _LAZY[cmd].replace('.', '/')))
            return 2
        return mod.main(rest)
    sys.stderr.write('oracle: unknown command %r\n\n' % cmd)
    sys.stderr.write(USAGE)
    return 2
