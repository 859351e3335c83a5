"""Every CPython-written case loads with the real pickle.loads and gives back
the original value (where equality is meaningful).

The loading happens in a child python3 under PYTHONHASHSEED=0 that
regenerates the cases in process (so it has the original values) and loads
only the cases CPython wrote ('dumps', 'pickler+persistent_id',
'pickler+buffer_callback'): they reference nothing but the standard library
and oracle.cases.objects.  Hand-written streams are never loaded here.
"""

import functools
import math
import os
import pickle
import struct
import subprocess
import sys
import types
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

SEED = 20240611
LOADABLE = ('dumps', 'pickler+persistent_id', 'pickler+buffer_callback')


def _bits(x):
    return struct.unpack('<Q', struct.pack('<d', x))[0]


class Comparer:
    """Structural equality of an original value and what pickle.loads made,
    with exact float bits, cycles, and preserved sharing of mutable nodes."""

    MUTABLE = (list, dict, set, bytearray)

    def __init__(self, protocol):
        self.protocol = protocol
        self.pairs = {}
        self.image = {}
        self.keep = []

    def same_float(self, a, b):
        if math.isnan(a) and math.isnan(b) and self.protocol == 0:
            return True     # protocol 0 writes repr(): 'nan' has no sign nor payload
        return _bits(a) == _bits(b)

    def __call__(self, a, b):
        if isinstance(a, pickle.PickleBuffer):
            with a.raw() as m:
                with memoryview(b) as n:
                    return m.tobytes() == n.tobytes()
        ta = type(a)
        if ta is not type(b):
            return False
        if ta is float:
            return self.same_float(a, b)
        if ta is complex:
            return self.same_float(a.real, b.real) and self.same_float(a.imag, b.imag)
        if ta in (int, str, bytes, bool, type(None)):
            return a == b
        if (isinstance(a, (type, types.FunctionType, types.MethodDescriptorType,
                           types.ClassMethodDescriptorType, types.WrapperDescriptorType))
                or a is NotImplemented or a is Ellipsis
                or (isinstance(a, types.BuiltinFunctionType)
                    and isinstance(a.__self__, (types.ModuleType, type(None))))):
            return a is b
        key = (id(a), id(b))
        if key in self.pairs:
            return True
        if isinstance(a, self.MUTABLE) or hasattr(a, '__dict__'):
            # sharing: a node already matched must match the same node again
            if self.image.setdefault(id(a), id(b)) != id(b):
                return False
        self.pairs[key] = True
        self.keep.append((a, b))
        return self.compare(a, b)

    def compare(self, a, b):
        if isinstance(a, (types.MethodType,)):
            return a.__func__ is b.__func__ and self(a.__self__, b.__self__)
        if isinstance(a, types.BuiltinMethodType):
            return a.__name__ == b.__name__ and self(a.__self__, b.__self__)
        if isinstance(a, functools.partial):
            return (self(a.func, b.func) and self(a.args, b.args)
                    and self(a.keywords, b.keywords) and self.attrs(a, b))
        if isinstance(a, BaseException):
            return self(a.args, b.args) and self.attrs(a, b)
        if isinstance(a, (list, tuple)):
            return (len(a) == len(b) and all(self(x, y) for x, y in zip(a, b))
                    and self.attrs(a, b))
        if isinstance(a, dict):
            return (len(a) == len(b)
                    and all(self(ka, kb) and self(va, vb)
                            for (ka, va), (kb, vb) in zip(a.items(), b.items()))
                    and self.attrs(a, b))
        if isinstance(a, (set, frozenset)):
            if len(a) != len(b):
                return False
            if not (a == b):
                rest = list(b)
                for x in a:
                    for i, y in enumerate(rest):
                        if Comparer(self.protocol)(x, y):
                            del rest[i]
                            break
                    else:
                        return False
            return self.attrs(a, b)
        if isinstance(a, (bytes, bytearray)):
            return bytes(a) == bytes(b) and self.attrs(a, b)
        for base in (int, float, str, complex):
            if isinstance(a, base):
                return self(base(a), base(b)) and self.attrs(a, b)
        if type(a).__eq__ is not object.__eq__:
            return a == b and self.attrs(a, b)
        return self.attrs(a, b)

    def attrs(self, a, b):
        da = getattr(a, '__dict__', None)
        db = getattr(b, '__dict__', None)
        if (da is None) != (db is None):
            return False
        if da is not None:
            if len(da) != len(db) or list(da) != list(db):
                return False
            if not all(self(da[k], db[k]) for k in da):
                return False
        for cls in type(a).__mro__:
            slots = cls.__dict__.get('__slots__', ())
            if isinstance(slots, str):
                slots = (slots,)
            for name in slots:
                if name in ('__dict__', '__weakref__'):
                    continue
                ha, hb = hasattr(a, name), hasattr(b, name)
                if ha != hb or (ha and not self(getattr(a, name), getattr(b, name))):
                    return False
        return True


def load_case(case):
    from oracle.generate import registered_extensions
    from oracle.cases import objects as O
    buffers = [b if ro else bytearray(b) for b, ro in case.buffer_data]
    with registered_extensions(case.extensions):
        if case.how == 'pickler+persistent_id':
            import io

            class U(pickle.Unpickler):
                def persistent_load(self, pid):
                    return O.Marker.from_pid(pid)
            return U(io.BytesIO(case.data)).load()
        return pickle.loads(case.data, buffers=buffers)


def child_main():
    from oracle.generate import NO_VALUE, generate_cases, hash_seed_ok
    assert hash_seed_ok()
    loaded = compared = 0
    failures = []
    for case in generate_cases(SEED):
        if case.how not in LOADABLE:
            continue
        try:
            value = load_case(case)
        except Exception as e:
            failures.append('%s: loads failed: %r' % (case.file, e))
            continue
        loaded += 1
        if case.expect is NO_VALUE:
            continue
        compared += 1
        if not Comparer(case.protocol)(case.expect, value):
            failures.append('%s: %s: loaded value differs: %.200r' % (
                case.file, case.description, value))
    print('loaded %d compared %d' % (loaded, compared))
    for f in failures:
        print('FAIL', f)
    return 1 if failures else 0


class LoadsTest(unittest.TestCase):

    def test_cpython_written_cases_load_and_compare(self):
        env = dict(os.environ)
        env['PYTHONHASHSEED'] = '0'
        env['PYTHONPATH'] = ROOT + (os.pathsep + env['PYTHONPATH'] if env.get('PYTHONPATH') else '')
        r = subprocess.run([sys.executable, os.path.abspath(__file__), '--child'], env=env,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout[-5000:] + r.stderr[-5000:])
        loaded, compared = map(int, r.stdout.split()[1:4:2])
        self.assertGreater(loaded, 2500)
        self.assertGreater(compared, 2400)

    def test_comparer(self):
        nan = float('nan')
        c = Comparer(2)
        self.assertTrue(c([1, (2.0, 'x'), {3: b'y'}], [1, (2.0, 'x'), {3: b'y'}]))
        self.assertFalse(Comparer(2)(0.0, -0.0))
        self.assertFalse(Comparer(2)(nan, -nan))
        self.assertTrue(Comparer(0)(nan, -nan))
        self.assertTrue(Comparer(2)({nan}, {float('nan')}))
        shared = [1]
        self.assertFalse(Comparer(2)([shared, shared], [[1], [1]]))
        a = []
        a.append(a)
        b = []
        b.append(b)
        self.assertTrue(Comparer(2)(a, b))
        self.assertFalse(Comparer(2)({'k': 1, 'j': 2}, {'j': 2, 'k': 1}))
        self.assertFalse(Comparer(2)(len, abs))
        self.assertTrue(Comparer(2)(len, len))


if __name__ == '__main__':
    if sys.argv[1:] == ['--child']:
        sys.exit(child_main())
    unittest.main()
