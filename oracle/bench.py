"""``python3 -m oracle bench-worker``: reference decodes per second.

Measures, on a fixed set of small pickles (CPython's own output for small
values at protocols 0-5, plus a few objects, globals and sets):

* through one worker (oracle.worker.WorkerClient), the harness's path;
* in this process (oracle.reference.decode_inprocess), the ceiling;
* one ``python3 -m oracle decode FILE`` process per input, the naive path.
"""

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import time

from . import limits as limits_mod
from .reference import Options, decode_inprocess
from .worker import WorkerClient


class _Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


def sample_pickles():
    """Small pickles (each under ~200 bytes) covering common shapes."""
    values = [None, True, 7, -2**40, 1.5, 'text', b'bytes', 'é€',
              [1, 2, 3], (1, 'a', None), {'a': 1, 'b': [2.5, 'x']},
              {1, 2, 3}, frozenset({'p', 'q'}), bytearray(b'ab'), 3 + 4j,
              [[1], [2, [3]]], {'k': (1, 2), 'l': [None] * 5}]
    out = []
    for proto in range(6):
        for v in values:
            out.append(pickle.dumps(v, proto))
    # objects and globals, written by hand (no class needs to exist)
    out.append(b'\x80\x02c__main__\nPoint\nq\x00)\x81q\x01}q\x02(X\x01\x00\x00\x00xK\x01'
               b'X\x01\x00\x00\x00yK\x02ub.')
    out.append(b'\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94'
               b'\x93\x94\x8c\x02hi\x94\x85\x94R\x94.')
    out.append(b'ccopy_reg\n_reconstructor\np0\n(c__main__\nPoint\np1\nc__builtin__\nobject\n'
               b'p2\nNtp3\nRp4\n(dp5\nVx\np6\nI1\nsb.')
    return out


def _rate(fn, inputs, seconds):
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for data in inputs:
            fn(data)
        n += len(inputs)
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - start), n


def main(argv):
    p = argparse.ArgumentParser(prog='python3 -m oracle bench-worker',
                                description=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--seconds', type=float, default=3.0,
                   help='time per measurement (default %(default)s)')
    p.add_argument('--processes', type=int, default=30,
                   help='inputs decoded with one process each (default %(default)s)')
    p.add_argument('--policy', choices=('symbolic', 'builtins'), default='builtins')
    args = p.parse_args(argv)

    inputs = sample_pickles()
    sizes = [len(d) for d in inputs]
    print('inputs: %d pickles, %d..%d bytes (mean %.0f)'
          % (len(inputs), min(sizes), max(sizes), sum(sizes) / len(sizes)))

    opts = Options(policy=args.policy)
    with WorkerClient(limits_mod.DEFAULT_LIMITS) as client:
        client.ping()
        rate, n = _rate(lambda d: client.decode_opts(d, opts, False), inputs, args.seconds)
        print('worker (one process, want_ops=False): %8.0f decodes/s  (%d decodes)' % (rate, n))
        rate, n = _rate(lambda d: client.decode_opts(d, opts, True), inputs, args.seconds)
        print('worker (one process, want_ops=True):  %8.0f decodes/s  (%d decodes)' % (rate, n))
    rate, n = _rate(lambda d: decode_inprocess(d, opts, False), inputs, args.seconds)
    print('in process, no limits (ceiling):      %8.0f decodes/s  (%d decodes)' % (rate, n))

    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env['PYTHONPATH'] = pkg_parent + (os.pathsep + env['PYTHONPATH']
                                      if env.get('PYTHONPATH') else '')
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(args.processes):
            path = os.path.join(tmp, '%d.pickle' % i)
            with open(path, 'wb') as f:
                f.write(inputs[i % len(inputs)])
            paths.append(path)
        start = time.perf_counter()
        for path in paths:
            subprocess.run([sys.executable, '-m', 'oracle', 'decode', '--policy', args.policy,
                            path], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
        elapsed = time.perf_counter() - start
    print('one `python3 -m oracle decode` process per input: %8.1f decodes/s  (%d decodes)'
          % (len(paths) / elapsed, len(paths)))
    return 0
