"""Nothing a stream names is ever imported or called.

Classic payloads (os.system, subprocess.Popen/check_output, builtins
eval/exec/__import__, getattr(__import__('os'), 'system') chains, writes to
os.environ, putenv), handwritten and as CPython writes them via __reduce__
of malicious classes, at every protocol, each try to create a marker file
or set an environment variable.  They are decoded in this process (so that
environment changes would be visible here) and through the worker, with
both policies and both unpickler implementations; nothing may run, and the
canonical text must show the calls.
"""

import os
import re
import pathlib
import pickle
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from oracle.limits import Limits  # noqa: E402
from oracle.reference import Options, decode_inprocess  # noqa: E402
from oracle.worker import WorkerClient  # noqa: E402

ENV = 'BRINE_ORACLE_PWNED'


class _Reduce:
    """Pickles as func(*args) (pickling calls nothing)."""

    def __init__(self, func, args):
        self.func = func
        self.args = args

    def __reduce__(self):
        return (self.func, self.args)

    def __call__(self, *a):  # pickle requires the reduce callable to be callable
        raise AssertionError('never called')


def reduce_payloads(marker):
    touch = 'touch ' + marker
    py_touch = "open(%r, 'w').close()" % marker
    py_env = 'import os; os.environ[%r] = "1"' % ENV
    import_os = _Reduce(__import__, ('os',))
    get_system = _Reduce(getattr, (import_os, 'system'))
    return {
        'os.system': _Reduce(os.system, (touch,)),
        'subprocess.Popen': _Reduce(subprocess.Popen, (['touch', marker],)),
        'subprocess.check_output': _Reduce(subprocess.check_output, (['touch', marker],)),
        'eval': _Reduce(eval, (py_touch,)),
        'exec': _Reduce(exec, (py_env,)),
        '__import__ chain': _Reduce(get_system, (touch,)),
        'putenv': _Reduce(os.putenv, (ENV, '1')),
        'environ.__setitem__': _Reduce(_Reduce(getattr, (_Reduce(getattr, (import_os, 'environ')),
                                                         '__setitem__')), (ENV, '1')),
    }


def expand_str_labels(text):
    """The text with labelled str literals written out at every reference
    (labels on other nodes are kept)."""
    strs = {}

    def define(m):
        strs[m.group(1)] = m.group(2)
        return m.group(2)

    text = re.sub(r"&(\d+) ('(?:[^'\\]|\\.)*')", define, text)
    return re.sub(r"\*(\d+)", lambda m: strs.get(m.group(1), m.group(0)), text)


def handwritten_payloads(marker):
    m = marker.encode()
    touch = b"S'touch " + m + b"'\n"
    py = b"S\"open('" + m + b"', 'w').close()\"\n"
    return {
        'GLOBAL REDUCE': b'cos\nsystem\n(' + touch + b'tR.',
        'posix': b'cposix\nsystem\n(' + touch + b'tR.',
        'INST': b'(' + touch + b'ios\nsystem\n.',
        'OBJ': b'(cos\nsystem\n' + touch + b'o.',
        'NEWOBJ': b'\x80\x02csubprocess\nPopen\n(' + touch + b't\x81.',
        'NEWOBJ_EX': (b'\x80\x04\x8c\nsubprocess\x8c\x05Popen\x93)}\x8c\x04args\x8c\x05touch'
                      + b'\x8c' + bytes([len(m)]) + m + b'\x86s\x92.'),
        'STACK_GLOBAL': b'\x80\x04\x8c\x02os\x8c\x06system\x93\x8c' + bytes([len(m) + 6])
                        + b'touch ' + m + b'\x85R.',
        'eval': b'c__builtin__\neval\n(' + py + b'tR.',
        'exec env': (b"cbuiltins\nexec\n(S'import os; os.environ[\"" + ENV.encode()
                     + b"\"] = \"1\"'\ntR."),
        '__import__ getattr': (b"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(S'os'\ntRS'system'\n"
                               b"tR(" + touch + b"tR."),
        'environ SETITEM': b"cos\nenviron\nS'" + ENV.encode() + b"'\nS'1'\ns.",
        'environ BUILD': b"cos\nenviron\n(dS'" + ENV.encode() + b"'\nS'1'\nsb.",
        'putenv': b"cos\nputenv\n(S'" + ENV.encode() + b"'\nS'1'\ntR.",
        'EXT': b'\x80\x02\x82\x01(' + touch + b'tR.',
        'PERSID': b'Pos.system\n.',
        'APPENDS on a global': b'cos\nsystem\n(' + touch + b'e.',
        'builtins fold shapes': b'cbuiltins\nset\n((cos\nsystem\n(' + touch + b'tRltR.',
    }


class SafetyTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.marker = os.path.join(self.tmp.name, 'pwned')
        os.environ.pop(ENV, None)

    def tearDown(self):
        self.tmp.cleanup()
        os.environ.pop(ENV, None)

    def assert_nothing_ran(self, what):
        self.assertFalse(os.path.exists(self.marker), what)
        self.assertNotIn(ENV, os.environ, what)
        # putenv changes the C environment only: a child process would see it
        child = subprocess.run(['sh', '-c', 'printf "%%s" "${%s:-}"' % ENV], capture_output=True)
        self.assertEqual(child.stdout, b'', what)

    def test_the_checks_detect_effects(self):
        # positive control: each effect the payloads aim at is detected
        open(self.marker, 'w').close()
        self.assertRaises(AssertionError, self.assert_nothing_ran, 'marker')
        os.remove(self.marker)
        os.environ[ENV] = '1'
        self.assertRaises(AssertionError, self.assert_nothing_ran, 'environ')
        del os.environ[ENV]
        os.putenv(ENV, '1')
        try:
            self.assertRaises(AssertionError, self.assert_nothing_ran, 'putenv')
        finally:
            os.unsetenv(ENV)
        self.assert_nothing_ran('clean')

    def streams(self):
        for proto in range(6):
            for name, obj in reduce_payloads(self.marker).items():
                yield '%s, protocol %d' % (name, proto), pickle.dumps(obj, proto)
        yield from handwritten_payloads(self.marker).items()

    def check_text(self, what, text):
        """The text shows what the stream asked for, as data."""
        shown = ('call(', 'new(', '.setitem(', '.setstate(', 'persid(', '.extend(')
        self.assertTrue(any(s in text for s in shown), (what, text))

    def test_in_process(self):
        ext = {1: ('os', 'system')}
        n = 0
        for what, data in self.streams():
            for policy in ('symbolic', 'builtins'):
                for impl in ('c', 'python'):
                    o = decode_inprocess(data, Options(policy=policy, impl=impl, extensions=ext))
                    self.assert_nothing_ran((what, policy, impl))
                    self.assertEqual(o.kind, 'accept', (what, policy, impl, o))
                    self.check_text(what, o.text)
                    n += 1
        self.assertGreater(n, 200)

    def test_texts_show_the_calls(self):
        p = reduce_payloads(self.marker)
        touch = "'touch %s'" % self.marker
        expect = {
            'os.system': "root: call(global('posix', 'system'), (%s,))\n" % touch,
            '__import__ chain': "root: call(call(global('builtins', 'getattr'), (call(global("
                                "'builtins', '__import__'), ('os',)), 'system')), (%s,))\n" % touch,
            'environ.__setitem__': "root: call(call(&1 global('builtins', 'getattr'), (call(*1, "
                                   "(call(global('builtins', '__import__'), ('os',)), 'environ')), "
                                   "'__setitem__')), ('%s', '1'))\n" % ENV,
        }
        for name, text in expect.items():
            for proto in range(6):
                got = decode_inprocess(pickle.dumps(p[name], proto), Options()).text
                # Protocols 4-5 share the module strs of globals (STACK_GLOBAL
                # with a memoized 'builtins'), which the text shows as labels
                # on strs; expand those to compare with the plain text.
                self.assertTrue(expand_str_labels(got).startswith(expand_str_labels(text)),
                                (name, proto, got))
        hw = handwritten_payloads(self.marker)
        self.assertEqual(decode_inprocess(hw['environ SETITEM'], Options()).text,
                         "root: global('os', 'environ').setitem('%s', '1')\n" % ENV)
        self.assertEqual(decode_inprocess(hw['INST'], Options()).text,
                         "root: call(global('os', 'system'), (%s,))\n" % touch)
        self.assertEqual(decode_inprocess(hw['builtins fold shapes'], Options(policy='builtins')).text,
                         "root: {call(global('os', 'system'), (%s,))}\n" % touch)
        self.assert_nothing_ran('texts')

    def test_through_the_worker(self):
        with WorkerClient(Limits(timeout=30)) as client:
            for what, data in self.streams():
                o = client.decode(data, policy='builtins', extensions={1: ('os', 'system')})
                self.assertEqual(o.kind, 'accept', (what, o))
                self.check_text(what, o.text)
        self.assert_nothing_ran('worker')

    def test_modules_are_not_imported(self):
        # a module no one has imported stays unimported in the decoding process
        name = 'this_module_does_not_exist_%d' % os.getpid()
        data = b'c' + name.encode() + b'\nf\n)R.'
        o = decode_inprocess(data, Options())
        self.assertEqual(o.text, "root: call(global('%s', 'f'), ())\n" % name)
        for mod in ('antigravity', 'this'):
            self.assertNotIn(mod, sys.modules)
            decode_inprocess(b'c' + mod.encode() + b'\nx\n.', Options())
            self.assertNotIn(mod, sys.modules)


if __name__ == '__main__':
    unittest.main()
