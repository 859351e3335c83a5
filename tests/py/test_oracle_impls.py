"""The C unpickler (the reference) and pickle._Unpickler disagree on some
streams; both outcomes are recorded here, as CPython 3.11.7 gives them."""

import pathlib
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from oracle.reference import Options, decode_inprocess  # noqa: E402


def out(data, impl, **kw):
    return decode_inprocess(data, Options(impl=impl, **kw)).output()


# stream: (C accelerator, pickle._Unpickler)
DIVERGENT = {
    # INT: C uses strtol(base 0) and returns a bool for any 3-byte line
    # holding 0 or 1; Python compares the line with b'00'/b'01' and uses int(, 0)
    b'I01\n.': ('root: True\n', 'root: True\n'),
    b'I+1\n.': ('root: True\n', 'root: 1\n'),
    b'I 1\n.': ('root: True\n', 'root: 1\n'),
    b'I-0\n.': ('root: False\n', 'root: 0\n'),
    b'I010\n.': ('root: 8\n',
                 "error: ValueError: invalid literal for int() with base 0: b'010\\n'\n"),
    b'I\n.': ('error: UnpicklingError: pickle data was truncated\n',
              "error: ValueError: invalid literal for int() with base 0: b'\\n'\n"),
    # FLOAT: C uses PyOS_string_to_double (no underscores, no spaces, overflow
    # is an error); Python uses float()
    b'F1_0\n.': ('error: ValueError: could not convert string to float\n', 'root: 10.0\n'),
    b'F1e500\n.': ("error: OverflowError: value too large to convert to float: '1e500\\n'\n",
                   'root: inf\n'),
    # BUILD without __setstate__: C requires a dict (or None) state, Python
    # only looks at truthy states
    b']NN\x86b.': ('error: UnpicklingError: slot state is not a dictionary\n', 'root: []\n'),
    b']}b.': ("error: AttributeError: 'list' object has no attribute '__dict__'\n", 'root: []\n'),
    b']K\x00b.': ('error: UnpicklingError: state is not a dictionary\n', 'root: []\n'),
    # empty APPENDS / ADDITEMS: a no-op in C, an attribute lookup in Python
    b'K\x01(e.': ('root: 1\n', "error: AttributeError: 'int' object has no attribute 'append'\n"),
    b'\x80\x04K\x01(\x90.': ('root: 1\n',
                             "error: AttributeError: 'int' object has no attribute 'add'\n"),
    b'\x80\x04cm\nC\n(e.': ("root: global('m', 'C')\n", "root: global('m', 'C').extend([])\n"),
    # REDUCE and NEWOBJ arguments: C requires a tuple, Python unpacks anything
    b'\x80\x02cm\nf\n]R.': ('error: TypeError: argument list must be a tuple\n',
                           "root: call(global('m', 'f'), ())\n"),
    b'\x80\x02cm\nC\n]\x81.': ('error: UnpicklingError: NEWOBJ args argument must be a tuple, '
                              'not list\n', "root: new(global('m', 'C'), ())\n"),
    b'\x80\x02K\x01)\x81.': ('error: UnpicklingError: NEWOBJ class argument must be a type, '
                            'not int\n', 'error: TypeError: int.__new__(X): X is not a type '
                            'object (int)\n'),
    # GLOBAL: C rejects lines shorter than 2 bytes
    b'c\n\n.': ('error: UnpicklingError: pickle data was truncated\n', "root: global('', '')\n"),
    # BINSTRING: the length is unsigned in C, signed in Python
    b'T\xff\xff\xff\xff.': ('error: UnpicklingError: pickle data was truncated\n',
                            'error: UnpicklingError: BINSTRING pickle has negative byte count\n'),
    # counted strings: Python does not check that it got the whole length
    b'\x8c\x05ab.': ('error: UnpicklingError: pickle data was truncated\n', 'error: EOFError: \n'),
    # PUT: the index must fit in Py_ssize_t in C; any int is a dict key in Python
    b'Np99999999999999999999999\n.': ('error: OverflowError: Python int too large to convert '
                                      'to C ssize_t\n', 'root: None\n'),
    # stack errors have different classes
    b'.': ('error: UnpicklingError: unpickling stack underflow\n',
           'error: IndexError: pop from empty list\n'),
    b'(.': ('error: UnpicklingError: unexpected MARK found\n',
            'error: IndexError: pop from empty list\n'),
    b'\xff.': ("error: UnpicklingError: invalid load key, '\\xff'.\n", 'error: KeyError: 255\n'),
    b'': ('error: EOFError: Ran out of input\n', 'error: EOFError: \n'),
    # frames: C (reading BytesIO) drops the frame's tail, Python enforces frames
    b'\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00J\x01\x02\x03\x04\x05\x06.': (
        'root: 100992003\n', 'error: UnpicklingError: pickle exhausted before end of frame\n'),
    b'\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00K\x01.': (
        'error: UnpicklingError: pickle data was truncated\n', 'root: 1\n'),
}

SAME = [
    b'(I1\nI00\nI0x10\nI1_0\nI9999999999999999999999\nL12L\nl.',
    b"(S'a\\x41\\n\\q'\nV\\u20ac\nFnan\nF-inf\nl.",
    b'\x80\x02cm\nC\n)\x81}b.',
    b'\x80\x04\x8c\x01m\x8c\x01C\x93)}\x8c\x01kK\x02s\x92.',
    b']N}\x86b.',
]


class ImplTest(unittest.TestCase):

    def test_divergent_streams(self):
        for data, (c, py) in DIVERGENT.items():
            with self.subTest(data=data):
                self.assertEqual(out(data, 'c'), c)
                self.assertEqual(out(data, 'python'), py)

    def test_agreeing_streams(self):
        for data in SAME:
            self.assertEqual(out(data, 'c'), out(data, 'python'), data)
        self.assertEqual(out(SAME[0], 'c'),
                         'root: [1, False, 16, 10, 9999999999999999999999, 12]\n')


if __name__ == '__main__':
    unittest.main()
