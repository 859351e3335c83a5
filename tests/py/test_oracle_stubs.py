"""The stub design: what stubs define, and that CPython's unpickler finds
nothing else on them (each assumption is checked against CPython)."""

import io
import operator
import pathlib
import pickle
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from oracle import stubs  # noqa: E402
from oracle.reference import Options, decode_inprocess  # noqa: E402


class StubDesignTest(unittest.TestCase):

    def setUp(self):
        self.factory = stubs.StubFactory()
        self.ctx = self.factory.active()
        self.ctx.__enter__()
        self.g = self.factory.global_stub('m', 'C')

    def tearDown(self):
        self.ctx.__exit__(None, None, None)

    def test_namespaces_hold_only_what_is_needed(self):
        self.assertEqual(set(vars(stubs.Stub)) - {'__module__', '__doc__'},
                         {'__call__', 'extend', 'append', 'add', '__setitem__', '__setstate__'})
        self.assertEqual(set(vars(stubs.StubBase)), {'__module__', '__doc__', '__slots__', '__new__'})
        self.assertEqual(set(vars(self.g)), {'__module__', '__doc__', '__slots__'})
        obj = self.g()
        self.assertEqual(set(vars(obj)), {'__module__', '__doc__', '__slots__'})
        self.assertIs(type(obj), stubs.Stub)
        self.assertIsInstance(obj, type)

    def test_nothing_the_unpickler_could_probe(self):
        g = self.g
        for name in ('__getinitargs__', '__index__', '__iter__', '__len__', '__bool__',
                     '__buffer__', '__eq__', '__hash__', 'append_func', '__reduce_ex__'):
            if name in ('__eq__', '__hash__', '__reduce_ex__'):
                # inherited from object/type only: identity semantics
                self.assertNotIn(name, vars(stubs.Stub))
                self.assertNotIn(name, vars(stubs.StubBase))
            else:
                self.assertFalse(hasattr(g, name), name)
        self.assertEqual(hash(g), object.__hash__(g))
        other = self.factory.global_stub('m', 'D')
        self.assertFalse(g == other)
        self.assertTrue(g == g)
        self.assertRaises(TypeError, memoryview, g)
        self.assertRaises(TypeError, operator.index, g)
        self.assertRaises(TypeError, iter, g)
        self.assertRaises(TypeError, len, g)

    def test_operations_are_found_on_the_class_and_not_shadowed(self):
        for name in ('extend', 'append', 'add', '__setstate__'):
            method = getattr(self.g, name)
            self.assertIs(method.__self__, self.g)
            self.assertIs(method.__func__, vars(stubs.Stub)[name])
        self.g['k'] = 1
        self.g.extend([1])
        self.g.append(2)
        self.assertEqual(self.factory.info[self.g].ops,
                         [('setitem', 'k', 1), ('extend', [1, 2], None)])

    def test_calls_and_new_make_classes(self):
        a = self.g(1)
        b = self.g.__new__(self.g, 2, k=3)
        c = a()
        for x in (a, b, c):
            self.assertIs(type(x), stubs.Stub)
        infos = [self.factory.info[x] for x in (a, b, c)]
        self.assertEqual([(i.serial, i.make, i.args, list(i.kwargs)) for i in infos],
                         [(0, 'call', (1,), []), (1, 'new', (2,), [('k', 3)]), (2, 'call', (), [])])
        self.assertIs(infos[2].callable, a)

    def test_persistent_records_are_inert(self):
        r = self.factory.persistent('pid')
        self.assertRaises(TypeError, r)
        self.assertRaises(AttributeError, setattr, r, 'x', 1)
        self.assertFalse(hasattr(r, '__dict__'))
        self.assertEqual(hash(r), object.__hash__(r))
        self.assertEqual(self.factory.persids[r].pid, 'pid')
        self.assertEqual(self.factory.created, [r])

    def test_stubs_outside_a_load(self):
        self.ctx.__exit__(None, None, None)
        try:
            self.assertRaises(RuntimeError, self.g)
        finally:
            self.ctx = self.factory.active()
            self.ctx.__enter__()


class CPythonProbesTest(unittest.TestCase):
    """What the real C unpickler does with classes, confirming the design."""

    def load(self, data, cls):
        class U(pickle.Unpickler):
            def find_class(self, module, name):
                return cls
        return U(io.BytesIO(data)).load()

    def test_instantiate_probes_getinitargs(self):
        seen = []

        class WithInitArgs:
            def __getinitargs__(self):
                return ()

            def __init__(self, *args):
                seen.append(args)

        self.load(b'(im\nC\n.', WithInitArgs)
        self.assertEqual(seen, [()])  # called, because __getinitargs__ exists

        class Plain:
            def __init__(self, *args):
                seen.append('init')

        self.load(b'(im\nC\n.', Plain)
        self.assertEqual(seen, [()])  # only __new__: __init__ not called

    def test_appends_prefers_extend(self):
        calls = []

        class L:
            @classmethod
            def extend(cls, items):
                calls.append(('extend', items))

            @classmethod
            def append(cls, item):
                calls.append(('append', item))

        self.load(b'cm\nC\nK\x01a(K\x02K\x03e.', L)
        self.assertEqual(calls, [('extend', [1]), ('extend', [2, 3])])

    def test_build_uses_setstate_found_through_the_metaclass(self):
        o = decode_inprocess(b'cm\nC\n(K\x01K\x02tb.', Options())
        self.assertEqual(o.text, "root: global('m', 'C').setstate((1, 2))\n")


if __name__ == '__main__':
    unittest.main()
