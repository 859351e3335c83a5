"""``python3 -m oracle.matrix [run] ...`` and ``python3 -m oracle.matrix fuzz ...``."""

import argparse
import os
import platform
import sys
import time

from .. import adapters as ad
from .. import generate
from . import collect, run_matrix, write_inputs, report as report_mod

DEFAULT_OUT = os.path.join(ad.ROOT, 'reports', 'conformance')


def run_main(argv):
    p = argparse.ArgumentParser(prog='python3 -m oracle.matrix',
                                description='The conformance matrix of every adapter.')
    p.add_argument('--adapters', default=None, help='comma-separated names (default all)')
    p.add_argument('--extra', action='append', default=[], metavar='JSON',
                   help='register more adapters from a JSON file (docs/adapters.md)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--count-per-family', type=int, default=generate.DEFAULT_COUNT)
    p.add_argument('--sample', type=int, default=None, metavar='N',
                   help='at most N generated and N malformed streams (default all)')
    p.add_argument('--sources', default='generated,malformed,regressions,examples')
    p.add_argument('--regressions', default=None, metavar='DIR')
    p.add_argument('--out', default=DEFAULT_OUT)
    p.add_argument('--work', default=os.path.join(ad.BUILD_DIR, 'inputs'))
    p.add_argument('--batch', type=int, default=ad.DEFAULT_BATCH)
    p.add_argument('--file-timeout', type=float, default=ad.DEFAULT_FILE_TIMEOUT)
    p.add_argument('--encode-sample', type=int, default=200, metavar='N',
                   help='plain values for the encoder check (0: skip it)')
    args = p.parse_args(argv)
    t0 = time.monotonic()
    log = lambda m: sys.stderr.write('matrix: %s\n' % m)  # noqa: E731
    try:
        adapters = ad.by_name([n for n in (args.adapters or '').split(',') if n],
                              extra=ad.load_extra(args.extra))
    except KeyError as e:
        sys.stderr.write('matrix: %s\n' % e.args[0])
        return 2
    kw = {}
    if args.regressions:
        kw['regressions'] = args.regressions
    items, excluded = collect(args.seed, args.count_per_family, args.sources.split(','),
                              sample=args.sample, **kw)
    write_inputs(items, args.work)
    log('%d inputs (%s)' % (len(items), ', '.join('%s %d' % kv for kv in excluded.items())))
    results = run_matrix(items, adapters, log=log, batch=args.batch,
                         file_timeout=args.file_timeout)
    sources = {}
    for it in items:
        sources[it.source] = sources.get(it.source, 0) + 1
    meta = {'cpython': platform.python_version(), 'seed': args.seed,
            'count_per_family': args.count_per_family, 'sample': args.sample,
            'sources': sources, 'excluded': dict(excluded)}
    if args.encode_sample:
        from . import encode
        meta['encoders'] = encode.run(items, adapters, results, args.encode_sample,
                                      os.path.join(ad.BUILD_DIR, 'encode'), log=log)
    meta['elapsed_seconds'] = round(time.monotonic() - t0, 1)
    rep = report_mod.build(results, meta)
    report_mod.write(rep, args.out)
    sys.stdout.write(report_mod.text_summary(rep))
    if meta.get('encoders'):
        sys.stdout.write(encode.text_summary(meta['encoders']))
    sys.stdout.write('written: %s/{matrix.json,matrix.md,index.html,inputs/} (%.0f s)\n'
                     % (args.out, meta['elapsed_seconds']))
    return 0


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ['fuzz']:
        from . import fuzz
        return fuzz.main(argv[1:])
    if argv[:1] == ['run']:
        argv = argv[1:]
    return run_main(argv)


if __name__ == '__main__':
    sys.exit(main())
