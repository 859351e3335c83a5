"""Comparisons per second: long-lived processes vs. one process per input.

``python3 -m oracle.bench_compare [options]`` (also ``python3 -m oracle
compare --bench [options]``) compares the small pickles of oracle.bench
(CPython's output for small values at protocols 0-5, a few objects and
globals; 2..97 bytes) with brine and the reference, and prints, in one run:

* pipelined: oracle.compare.Comparer.compare_many, one ``brine decode
  --batch`` and one oracle worker, `--batch` requests in flight to each;
* the same figure by CPU time: comparisons per CPU-second summed over the
  three processes, i.e. the rate one dedicated core would sustain, which
  does not depend on what else runs on the machine (target: >= 5,000);
* pipelined, every process pinned to one CPU (wall clock);
* one at a time: Comparer.compare, one round trip to each process per input;
* one process per input: ``brine decode FILE`` and ``python3 -m oracle
  decode FILE`` spawned for each input (the naive path);

and the ratio of the first to the last.  Every comparison is checked to
agree, so the figure is not that of a broken pipeline.
"""

import argparse
import collections
import os
import resource
import subprocess
import sys
import tempfile
import time

from .bench import sample_pickles
from .compare import (DEFAULT_BATCH, BrineOutcome, Comparer, classify_outcomes,
                      default_brine)
from .reference import Outcome


def _rate(step, seconds):
    """Calls step() (returning how many comparisons it made) for `seconds`;
    returns (comparisons per second, comparisons, classes seen)."""
    n = 0
    classes = collections.Counter()
    start = time.perf_counter()
    while True:
        for r in step():
            classes[r.cls] += 1
            n += 1
        now = time.perf_counter()
        if now - start >= seconds:
            return n / (now - start), n, classes


def _cpu_seconds():
    """CPU time of this process and of its reaped children so far."""
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _measure_pipelined(args, inputs):
    """The pipelined rate, and comparisons per CPU-second of all three
    processes (start-up included; the children are reaped by close())."""
    cpu0 = _cpu_seconds()
    with Comparer(args.policy, args.brine, batch=args.batch) as c:
        list(c.compare_many(inputs))  # start both processes
        measured = _rate(lambda: c.compare_many(inputs * 4), args.seconds)
    cpu = _cpu_seconds() - cpu0
    return measured, (measured[1] + len(inputs)) / cpu if cpu else float('inf')


def _measure_single(args, inputs):
    with Comparer(args.policy, args.brine) as c:
        c.compare(inputs[0])
        return _rate(lambda: [c.compare(d) for d in inputs], args.seconds)


def _measure_pinned(args, inputs):
    """The pipelined figure with this process and its children on one CPU."""
    if not hasattr(os, 'sched_setaffinity'):
        return None
    saved = os.sched_getaffinity(0)
    cpu = min(saved)
    os.sched_setaffinity(0, {cpu})
    try:
        return cpu, _measure_pipelined(args, inputs)[0]
    finally:
        os.sched_setaffinity(0, saved)


def _one_shot(cmd):
    """Run one decoder process; an outcome from its exit status and output."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode == 0:
        return 'accept', p.stdout.decode('ascii', 'replace'), None
    line = p.stderr.decode('utf-8', 'replace').strip().splitlines()[-1:] or ['']
    cls = line[0][len('error: '):].split(':', 1)[0] if line[0].startswith('error: ') else None
    return ('reject' if p.returncode == 1 else 'resource'), None, cls


def _measure_processes(args, inputs):
    env = dict(os.environ)
    parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env['PYTHONPATH'] = parent + (os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
    classes = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(args.processes):
            path = os.path.join(tmp, '%d.pickle' % i)
            with open(path, 'wb') as f:
                f.write(inputs[i % len(inputs)])
            paths.append(path)
        start = time.perf_counter()
        for path in paths:
            bk, bt, bc = _one_shot([args.brine, 'decode', '--policy', args.policy, path])
            rk, rt, rc = _one_shot([sys.executable, '-m', 'oracle', 'decode', '--policy',
                                    args.policy, path])
            b = BrineOutcome(bk, text=bt, exc_class=bc)
            r = Outcome(rk, text=rt, exc_class=rc)
            classes[classify_outcomes(b, r)[0]] += 1
        elapsed = time.perf_counter() - start
    return len(paths) / elapsed, len(paths), classes


def _line(label, measured):
    rate, n, classes = measured
    extra = '' if set(classes) == {'agree'} else '  NOT ALL AGREE: %s' % dict(classes)
    return '%-52s %9.1f comparisons/s  (%d comparisons)%s' % (label, rate, n, extra)


def main(argv=None):
    p = argparse.ArgumentParser(prog='python3 -m oracle.bench_compare',
                                description=__doc__.split('\n\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--brine', default=None, help='brine executable (default $BRINE_BIN or '
                   'build/brine)')
    p.add_argument('--policy', choices=('symbolic', 'builtins'), default='builtins')
    p.add_argument('--seconds', type=float, default=3.0,
                   help='time per long-lived measurement (default %(default)s)')
    p.add_argument('--processes', type=int, default=20,
                   help='inputs compared with one process pair each (default %(default)s)')
    p.add_argument('--batch', type=int, default=DEFAULT_BATCH,
                   help='requests in flight per process (default %(default)s)')
    p.add_argument('--no-pin', dest='pin', action='store_false',
                   help='skip the measurement pinned to one CPU')
    args = p.parse_args(argv)
    args.brine = os.path.abspath(args.brine or default_brine())

    inputs = sample_pickles()
    sizes = [len(d) for d in inputs]
    print('inputs: %d pickles, %d..%d bytes (mean %.0f), policy %s, %d CPUs available'
          % (len(inputs), min(sizes), max(sizes), sum(sizes) / len(sizes), args.policy,
             len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()))
    pipelined, per_cpu = _measure_pipelined(args, inputs)
    print(_line('long-lived, pipelined (batch %d):' % args.batch, pipelined))
    print('%-52s %9.1f comparisons per CPU-second (parent + brine + worker: %.0f us each)'
          % ('  the same, by CPU time (independent of load):', per_cpu, 1e6 / per_cpu))
    if args.pin:
        pinned = _measure_pinned(args, inputs)
        if pinned is not None:
            print(_line('long-lived, pipelined, all processes on CPU %d:' % pinned[0],
                        pinned[1]))
    print(_line('long-lived, one input per round trip:', _measure_single(args, inputs)))
    naive = _measure_processes(args, inputs)
    print(_line('one brine + one `python3 -m oracle decode` per input:', naive))
    print('ratio long-lived pipelined / process per input: %.0fx' % (pipelined[0] / naive[0]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
