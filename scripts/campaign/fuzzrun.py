"""One fuzz target under one engine for a time slice, with its time series.

The engine runs through ./scripts/fuzz (the one place that knows how to
build and start libFuzzer and AFL++ and where their working directories
are); this module watches the engine's own files while it runs:

- libFuzzer (fork mode): the status lines of build-libfuzzer/fuzz-work/
  <target>/libfuzzer.log, ``#EXECS: cov: C ft: F corp: N exec/s R ...
  time: Ts``; coverage is libFuzzer's ``cov`` (edges and counters);
- AFL++: every instance's plot_data (one row every few seconds) under
  build-afl/fuzz-work/<target>/afl/; execs and exec/s are summed over the
  instances, coverage is the main instance's edges_found.

The run record (see "runs" in docs/campaign.md) takes its
totals from scripts/fuzz's summary line, so the report says what the
script said.
"""

import os
import re
import subprocess
import threading
import time

from . import common

SUMMARY_RE = re.compile(r'^fuzz: (.*)$', re.M)
LF_STATUS_RE = re.compile(r'^#(\d+): cov: (\d+) ft: \d+ corp: (\d+) exec/s:? (\d+) .*? time: (\d+)s',
                          re.M)
LF_SEEDS_RE = re.compile(r'INFO: -fork=\d+: (\d+) seed inputs')


def work_dir(engine, target):
    return os.path.join(common.build_dir(engine), 'fuzz-work', target)


def parse_summary(text):
    """The key=value fields of scripts/fuzz's last line, and its findings."""
    m = None
    for m in SUMMARY_RE.finditer(text):
        pass
    if not m:
        return None
    fields, findings = {}, []
    for tok in m.group(1).split():
        if '=' in tok and not tok.startswith('/'):
            k, v = tok.split('=', 1)
            fields[k] = v
        else:
            findings.append(tok)
    fields['paths'] = findings
    return fields


def libfuzzer_series(log_text):
    series = []
    for m in LF_STATUS_RE.finditer(log_text):
        execs, cov, corp, rate, t = (int(x) for x in m.groups())
        series.append({'t': float(t), 'execs': execs, 'exec_per_sec': rate, 'coverage': cov,
                       'corpus': corp})
    return series


def _plot_rows(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                if line.startswith('#'):
                    continue
                parts = [p.strip() for p in line.split(',')]
                if len(parts) < 13:
                    continue
                rows.append({'time': int(parts[0]), 'corpus': int(parts[3]),
                             'exec_per_sec': float(parts[10]), 'execs': int(parts[11]),
                             'edges': int(parts[12])})
    except (OSError, ValueError):
        pass
    return rows


def _afl_totals(afl_dir):
    """(execs, exec/s, corpus of main, edges of main) from the instances'
    latest plot rows."""
    execs = rate = 0
    corpus = edges = 0
    if not os.path.isdir(afl_dir):
        return 0, 0.0, 0, 0
    for inst in sorted(os.listdir(afl_dir)):
        rows = _plot_rows(os.path.join(afl_dir, inst, 'plot_data'))
        if not rows:
            continue
        last = rows[-1]
        execs += last['execs']
        rate += last['exec_per_sec']
        if inst == 'main':
            corpus, edges = last['corpus'], last['edges']
    return execs, rate, corpus, edges


class _AflWatcher(threading.Thread):
    """Samples the AFL++ instances every `period` seconds."""

    def __init__(self, afl_dir, period=3.0):
        super().__init__(daemon=True)
        self.afl_dir = afl_dir
        self.period = period
        self.base = _afl_totals(afl_dir)[0]   # AFL_AUTORESUME carries execs over
        self.start_time = time.monotonic()
        self.series = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(self.period):
            self.sample()

    def sample(self):
        execs, rate, corpus, edges = _afl_totals(self.afl_dir)
        if execs <= self.base or not corpus:
            return  # no plot row of this run yet
        self.series.append({'t': round(time.monotonic() - self.start_time, 1),
                            'execs': max(0, execs - self.base), 'exec_per_sec': round(rate),
                            'coverage': edges, 'corpus': corpus})


def count_files(d):
    """Inputs in a corpus directory: its regular files, not its dot files
    (AFL++ keeps per-entry state in queue/.state/)."""
    try:
        return sum(1 for e in os.scandir(d) if e.is_file() and not e.name.startswith('.'))
    except OSError:
        return 0


def run_slice(target, engine, seconds, jobs, extra_env=None):
    """Runs ./scripts/fuzz TARGET for `seconds` with `jobs` workers and
    returns the run record: target, engine, seconds, instances, execs,
    exec_per_sec, corpus_start, corpus_end, findings, finding_paths,
    coverage, coverage_unit, series, ok, log (the script's last lines on
    failure)."""
    wd = work_dir(engine, target)
    rec = {'target': target, 'engine': engine, 'seconds': seconds, 'instances': jobs,
           'execs': 0, 'exec_per_sec': 0, 'corpus_start': 0, 'corpus_end': 0, 'findings': 0,
           'finding_paths': [], 'coverage': 0, 'series': [], 'ok': False,
           'coverage_unit': 'libFuzzer cov' if engine == 'libfuzzer' else 'AFL++ edges_found'}
    watcher = None
    if engine == 'afl':
        q = os.path.join(wd, 'afl', 'main', 'queue')
        rec['corpus_start'] = count_files(q) if os.path.isdir(q) else count_files(
            os.path.join(common.ROOT, 'corpus', 'seeds', target))
        watcher = _AflWatcher(os.path.join(wd, 'afl'))
        watcher.start()
    env = dict(os.environ, **(extra_env or {}))
    argv = [os.path.join(common.ROOT, 'scripts', 'fuzz'), target, '--engine', engine,
            '--seconds', str(int(seconds)), '--jobs', str(jobs)]
    started = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    rec['wall_seconds'] = round(time.monotonic() - started, 1)
    if watcher:
        watcher.stop.set()
        watcher.join()
        watcher.sample()
        rec['series'] = watcher.series
    fields = parse_summary(p.stdout)
    if p.returncode != 0 or fields is None:
        rec['log'] = (p.stdout + p.stderr)[-3000:]
        return rec
    rec['ok'] = True
    rec['execs'] = int(fields.get('execs', 0))
    rec['exec_per_sec'] = int(fields.get('exec/s', 0))
    rec['corpus_end'] = int(fields.get('corpus', 0))
    rec['finding_paths'] = fields['paths']
    rec['findings'] = len(fields['paths'])
    if engine == 'libfuzzer':
        try:
            with open(os.path.join(wd, 'libfuzzer.log'), errors='replace') as f:
                text = f.read()
        except OSError:
            text = ''
        rec['series'] = libfuzzer_series(text)
        m = LF_SEEDS_RE.search(text)
        if m:
            rec['corpus_start'] = int(m.group(1))
    if rec['series']:
        rec['coverage'] = rec['series'][-1]['coverage']
    return rec
