"""The walker (oracle.walker) against real CPython: crafted frame-boundary
streams, the protocol at each find_class call, and mutated framed pickles.

The reference reads from io.BytesIO, where an opcode that straddles the end
of a frame loses the rest of the frame; pickle.loads(bytes) treats frames as
transparent, and pickle._Unpickler enforces them.
"""

import io
import pathlib
import pickle
import random
import subprocess
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from oracle import walker  # noqa: E402
from oracle.limits import Limits  # noqa: E402
from oracle.reference import Options, decode_inprocess  # noqa: E402
from oracle.worker import WorkerClient  # noqa: E402

P4 = b'\x80\x04'


def frame(n):
    return b'\x95' + n.to_bytes(8, 'little')


# These tests run CPython's own unpicklers on crafted plain-data streams to
# show how they read frames.  They must never resolve a global: find_class is
# overridden, and pickle.loads (whose find_class cannot be overridden) runs
# under an audit hook that rejects the "pickle.find_class" event, which
# CPython raises before importing anything.
_GUARD = [False]


def _audit(event, args):
    if _GUARD[0] and event == 'pickle.find_class':
        raise RuntimeError('the walker tests never resolve globals')


sys.addaudithook(_audit)


class _NoGlobals:
    def find_class(self, module, name):
        raise RuntimeError('the walker tests never resolve globals')

    def persistent_load(self, pid):
        return pid


class _CNoGlobals(_NoGlobals, pickle.Unpickler):
    pass


class _PyNoGlobals(_NoGlobals, pickle._Unpickler):
    pass


def _run(load):
    try:
        return 'ok', load()
    except Exception as e:
        return type(e).__name__, str(e)


def c_bytesio(data):
    """The C unpickler reading io.BytesIO: the reference form."""
    return _run(lambda: _CNoGlobals(io.BytesIO(data)).load())


def c_loads(data):
    """The C unpickler reading bytes from memory (pickle.loads)."""
    _GUARD[0] = True
    try:
        return _run(lambda: pickle.loads(data))
    finally:
        _GUARD[0] = False


def py_bytesio(data):
    """The pure-Python unpickler reading io.BytesIO."""
    return _run(lambda: _PyNoGlobals(io.BytesIO(data)).load())


# name: (stream, walker verdict, executed bytes or None, CPython BytesIO result,
#        pickle.loads(bytes) result, pickle._Unpickler result)
FRAME_CASES = {
    # BININT needs 4 bytes, the frame holds 2 more: they are dropped and the
    # next 4 bytes of the file are read
    'binint straddles': (
        P4 + frame(3) + b'J\x01\x02' + b'\x03\x04\x05\x06.', 'stop', P4 + b'J\x03\x04\x05\x06.',
        ('ok', 0x06050403), ('UnpicklingError', "invalid load key, '\\x05'."),
        ('UnpicklingError', 'pickle exhausted before end of frame')),
    'frame longer than the data': (
        P4 + frame(255) + b'K\x01.', ('UnpicklingError', 'pickle data was truncated'), None,
        ('UnpicklingError', 'pickle data was truncated'),
        ('UnpicklingError', 'pickle data was truncated'), ('ok', 1)),
    'empty frame': (
        P4 + frame(0) + b'K\x01.', 'stop', P4 + b'K\x01.', ('ok', 1), ('ok', 1), ('ok', 1)),
    'inner frame longer than the outer rest': (
        P4 + frame(11) + frame(5) + b'K\x01' + b'K\x07N\x86.', 'stop', P4 + b'K\x07N\x86.',
        ('ok', (7, None)), ('ok', (7, None)),
        ('UnpicklingError', 'beginning of a new frame before end of current frame')),
    'readline straddles': (
        P4 + frame(3) + b'I12' + b'3\n.', 'stop', P4 + b'I3\n.', ('ok', 3), ('ok', 123),
        ('UnpicklingError', 'pickle exhausted before end of frame')),
    'readinto straddles (nothing lost)': (
        P4 + frame(4) + b'C\x04ab' + b'cd.', 'stop', P4 + b'C\x04abcd.', ('ok', b'abcd'),
        ('ok', b'abcd'), ('UnpicklingError', 'pickle exhausted before end of frame')),
    'read straddles': (
        P4 + frame(4) + b'\x8c\x04ab' + b'cdef.', 'stop', P4 + b'\x8c\x04cdef.', ('ok', 'cdef'),
        ('UnpicklingError', 'could not find MARK'),
        ('UnpicklingError', 'pickle exhausted before end of frame')),
    'STOP inside a frame, junk after': (
        P4 + frame(3) + b'K\x01.' + b'junk', 'stop', P4 + b'K\x01.', ('ok', 1), ('ok', 1),
        ('ok', 1)),
    'frame header after a frame': (
        P4 + frame(2) + b'K\x01' + frame(1) + b'N.', 'stop', P4 + b'K\x01N.', ('ok', None),
        ('ok', None), ('ok', None)),
    'opcode fetch at the end': (
        P4 + frame(2) + b'K\x01', ('EOFError', 'Ran out of input'), None,
        ('EOFError', 'Ran out of input'), ('EOFError', 'Ran out of input'), ('EOFError', '')),
    'frame length above PY_SSIZE_T_MAX': (
        P4 + b'\x95' + (1 << 63).to_bytes(8, 'little') + b'.',
        ('OverflowError', "FRAME length exceeds system's maximum of 9223372036854775807 bytes"),
        None, ('OverflowError', "FRAME length exceeds system's maximum of 9223372036854775807 bytes"),
        ('OverflowError', "FRAME length exceeds system's maximum of 9223372036854775807 bytes"),
        ('ValueError', 'frame size > sys.maxsize: 9223372036854775808')),
    'read would overflow': (
        P4 + b'\x8d' + ((1 << 63) - 1).to_bytes(8, 'little') + b'.',
        ('UnpicklingError', 'read would overflow (invalid bytecode)'), None,
        ('UnpicklingError', 'read would overflow (invalid bytecode)'),
        ('UnpicklingError', 'read would overflow (invalid bytecode)'),
        # pickle._Unpickler does not check the length it got: it takes '.' as
        # the string and then runs out of input
        ('EOFError', '')),
}


class FrameBoundaryTest(unittest.TestCase):

    def test_crafted_streams(self):
        for name, (data, verdict, executed, ref, loads, py) in FRAME_CASES.items():
            with self.subTest(name):
                w = walker.walk(data)
                got = 'stop' if w.stopped else (w.exc_class, w.message)
                self.assertEqual(got, verdict)
                if executed is not None:
                    self.assertEqual(w.executed(data), executed)
                self.assertEqual(c_bytesio(data), ref)
                self.assertEqual(c_loads(data), loads)
                self.assertEqual(py_bytesio(data), py)
                # the executed bytes, read without frames, decode the same
                if executed is not None:
                    self.assertEqual(c_bytesio(executed), ref)

    def test_guards(self):
        self.assertEqual(c_loads(b'cos\nsystem\n.'),
                         ('RuntimeError', 'the walker tests never resolve globals'))
        self.assertEqual(c_bytesio(b'cos\nsystem\n.')[0], 'RuntimeError')
        self.assertEqual(py_bytesio(b'cos\nsystem\n.')[0], 'RuntimeError')

    def test_oracle_uses_the_bytesio_form(self):
        data = FRAME_CASES['binint straddles'][0]
        self.assertEqual(decode_inprocess(data, Options()).output(), 'root: 100992003\n')
        self.assertEqual(decode_inprocess(data, Options(impl='python')).output(),
                         'error: UnpicklingError: pickle exhausted before end of frame\n')


class ListingTest(unittest.TestCase):

    def test_ops_offsets_and_executed_bytes(self):
        data = pickle.dumps([1, 'ab'], 4)
        w = walker.walk(data)
        self.assertEqual(w.op_names(), [(0, 'PROTO'), (2, 'FRAME'), (11, 'EMPTY_LIST'),
                                        (12, 'MEMOIZE'), (13, 'MARK'), (14, 'BININT1'),
                                        (16, 'SHORT_BINUNICODE'), (20, 'MEMOIZE'),
                                        (21, 'APPENDS'), (22, 'STOP')])
        self.assertEqual(w.executed(data), data[:2] + data[11:])
        self.assertTrue(w.stopped)

    def test_find_class_protocols(self):
        data = (b'(\x80\x03cm\nA\n\x80\x02\x8c\x01m\x8c\x01B\x93\x80\x01(im\nC\n'
                b'\x82\x01\x82\x01\x80\x05\x83\x02\x00t.')
        w = walker.walk(data, {1: ('m', 'E1'), 2: ('m', 'E2')})
        self.assertEqual(w.find_class_protos, [3, 2, 1, 1, 5])
        self.assertTrue(w.stopped)
        w = walker.walk(b'\x80\x02\x82\x01.')
        self.assertEqual((w.exc_class, w.message), ('ValueError', 'unregistered extension code 1'))

    def test_reading_errors(self):
        cases = [
            (b'', ('EOFError', 'Ran out of input')),
            (b'I1', ('UnpicklingError', 'pickle data was truncated')),
            (b'I\n.', ('UnpicklingError', 'pickle data was truncated')),
            (b'c\n\n.', ('UnpicklingError', 'pickle data was truncated')),
            (b'\x8b\xff\xff\xff\xff.', ('UnpicklingError', 'LONG pickle has negative byte count')),
            (b'\x80\x06.', ('ValueError', 'unsupported pickle protocol: 6')),
            (b'\xff', ('UnpicklingError', "invalid load key, '\\xff'.")),
            (b'Pcaf\xe9\n.', ('UnpicklingError', 'persistent IDs in protocol 0 must be ASCII strings')),
            (b'\x8e' + (1 << 63).to_bytes(8, 'little'),
             ('OverflowError', "BINBYTES exceeds system's maximum size of 9223372036854775807 bytes")),
        ]
        for data, expect in cases:
            w = walker.walk(data)
            self.assertEqual((w.exc_class, w.message), expect, data)
            self.assertEqual(c_bytesio(data), expect, data)


class MutationTest(unittest.TestCase):
    """Randomly mutated framed pickles: where the walker says reading stops
    with an error, CPython never accepts; where it says STOP, CPython never
    runs out of data, and an accepted stream decodes exactly like its
    executed bytes.  Decodes go through a limited worker (mutations can
    declare gigabyte sizes)."""

    def test_mutations(self):
        rng = random.Random(20240611)
        values = [[1, 2, 'abc' * 5, b'xyz' * 3, (1.5, None)], {'k': list(range(20)), 'b': b'\x00' * 30},
                  ['s' * 40, 2**80, [[], {}], {1, 2}]]
        bases = [pickle.dumps(v, p) for v in values for p in (4, 5)]
        checked = 0
        # (CPython 3.11 prints "SystemError: deallocated bytearray object has
        # exported buffers" when BYTEARRAY8 cannot allocate: keep it quiet)
        with WorkerClient(Limits(max_memory=512 << 20, timeout=10),
                          stderr=subprocess.DEVNULL) as client:
            for _ in range(400):
                b = bytearray(rng.choice(bases))
                for _ in range(rng.randint(1, 3)):
                    r = rng.random()
                    pos = rng.randrange(len(b))
                    if r < 0.3:
                        b[pos] = rng.randrange(256)
                    elif r < 0.5:
                        del b[pos]
                    elif r < 0.75:
                        b[pos:pos] = frame(rng.randrange(0, 40))
                    else:
                        b[pos:pos] = bytes([rng.randrange(256)])
                data = bytes(b)
                w = walker.walk(data)
                o = client.decode(data, want_ops=False)
                if not w.stopped:
                    self.assertNotEqual(o.kind, 'accept', data)
                    continue
                self.assertNotIn(o.message, ('pickle data was truncated', 'Ran out of input'), data)
                if o.kind == 'accept':
                    checked += 1
                    self.assertEqual(client.decode(w.executed(data), want_ops=False).text, o.text,
                                     data)
        self.assertGreater(checked, 10)


if __name__ == '__main__':
    unittest.main()
