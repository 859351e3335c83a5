"""Minimization: the smallest input that shows the same finding.

- crashes, asserts, leaks and timeouts: libFuzzer's -minimize_crash (with
  the libFuzzer build) or afl-tmin (with the AFL++ build), whichever engine
  found it;
- divergences: the oracle's opcode-aware reducer (oracle/reduce.py), which
  removes whole opcodes and arguments while the same comparison class and
  exception pair hold.

Every engine's result is replayed and triaged again: it is kept only when
it has the same signature key as the original (a minimizer may wander to
another bug), else the original stays the archived input.
"""

import os
import shutil
import subprocess
import sys
import tempfile

from . import common, triage


def _libfuzzer_minimize(target, src, dst, seconds):
    binary = common.target_binary('libfuzzer', target)
    if not os.access(binary, os.X_OK):
        return False
    argv = [binary, '-minimize_crash=1', '-max_total_time=%d' % max(1, int(seconds)),
            '-exact_artifact_path=' + dst, '-timeout=%s' % common.flag_value(target, 'timeout', '10'),
            '-rss_limit_mb=%s' % common.flag_value(target, 'rss_limit_mb', '2048')]
    if common.flag_value(target, 'detect_leaks') == '0':
        argv.append('-detect_leaks=0')
    subprocess.run(argv + [src], capture_output=True, timeout=seconds + 60)
    return os.path.exists(dst)


def _afl_minimize(target, src, dst, seconds):
    binary = common.target_binary('afl', target)
    if not (os.access(binary, os.X_OK) and shutil.which('afl-tmin')):
        return False
    timeout_ms = int(common.flag_value(target, 'timeout', '10')) * 1000
    env = dict(os.environ, AFL_SKIP_CPUFREQ='1', AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES='1')
    try:
        subprocess.run(['afl-tmin', '-i', src, '-o', dst, '-t', str(timeout_ms), '-m', 'none',
                        '--', binary], capture_output=True, timeout=seconds, env=env)
    except subprocess.TimeoutExpired:
        pass
    return os.path.exists(dst)


def _reduce_divergence(src, dst, seconds, max_checks):
    env = dict(os.environ)
    env['PYTHONPATH'] = common.ROOT + (os.pathsep + env['PYTHONPATH']
                                       if env.get('PYTHONPATH') else '')
    argv = [sys.executable, '-m', 'oracle', 'reduce', src, '-o', dst, '--fuzz-input',
            '--seconds', str(int(seconds)), '--max-checks', str(max_checks)]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, env=env,
                           cwd=common.ROOT)
    except subprocess.TimeoutExpired:
        return False, 'reducer timed out'
    return p.returncode == 0 and os.path.exists(dst), (p.stdout + p.stderr).strip()[-500:]


def _parting_cut(t, data, tmp):
    """For a divergence with a parting point: the stream cut there and
    ended by STOP (with the input's option bytes), written to a file in
    tmp, when it still triages to the same key: a smaller witness to start
    the reducer from, which keeps the parting point better than the whole
    stream does (the reducer holds the whole stream's class, which one bug
    does not fix). Else None."""
    from oracle import fuzzinput
    from oracle.chunks import tokenize
    if t.parting is None or not fuzzinput.target_takes_pickles(t.target):
        return None
    body, opts = fuzzinput.split(data)
    cut = dict(triage._cuts(body, tokenize(body))).get(t.parting['index'])
    if cut is None or len(cut) >= len(body):
        return None
    path = os.path.join(tmp, 'parting-cut')
    with open(path, 'wb') as f:
        f.write(fuzzinput.join(cut, opts))
    t2 = triage.triage(t.target, path)
    return path if (t2.kind, t2.key) == (t.kind, t.key) else None


def minimize(t, path, engine, seconds=60, max_checks=3000):
    """Minimizes the finding at path (whose Triage is t).  Returns
    (minimized bytes, Triage of the minimized input, note)."""
    with open(path, 'rb') as f:
        original = f.read()
    with tempfile.TemporaryDirectory(prefix='brine-min-') as tmp:
        dst = os.path.join(tmp, 'minimized')
        if t.kind == 'divergence':
            src = _parting_cut(t, original, tmp) or path
            ok, note = _reduce_divergence(src, dst, seconds, max_checks)
        elif engine == 'afl':
            ok = _afl_minimize(t.target, path, dst, seconds)
            note = 'afl-tmin'
            if not ok:
                ok, note = _libfuzzer_minimize(t.target, path, dst, seconds), 'libFuzzer'
        else:
            ok = _libfuzzer_minimize(t.target, path, dst, seconds)
            note = 'libFuzzer -minimize_crash'
        if not ok:
            return original, t, 'not minimized (%s)' % note
        with open(dst, 'rb') as f:
            small = f.read()
        if len(small) >= len(original):
            return original, t, 'not smaller (%s)' % note
        t2 = triage.triage(t.target, dst)
        if t2.kind != t.kind or t2.key != t.key:
            return original, t, 'minimized input shows another finding (%s: %s); kept the original' % (
                t2.cls, t2.summary[:100])
        return small, t2, '%s: %d -> %d bytes' % (note.split(':')[0] or 'minimized',
                                                  len(original), len(small))
