"""Set and frozenset elements are printed in insertion (stream) order, not
in CPython's hash order, whatever the hash seed."""

import pathlib
import pickle
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from oracle.limits import Limits  # noqa: E402
from oracle.reference import Options, decode_inprocess  # noqa: E402
from oracle.worker import WorkerClient  # noqa: E402

P4 = b'\x80\x04'


def sbu(s):
    b = s.encode('utf-8', 'surrogatepass')
    return b'\x8c' + bytes([len(b)]) + b


def decode(data, **kw):
    return decode_inprocess(data, Options(**kw))


def out(data, **kw):
    return decode(data, **kw).output()


# EMPTY_SET, then ADDITEMS of 'delta' 'alpha' 'charlie' 'alpha' 'bravo' 'delta'
# in two batches: insertion order delta, alpha, charlie, bravo
STR_SET = (P4 + b'\x8f(' + sbu('delta') + sbu('alpha') + sbu('charlie') + b'\x90('
           + sbu('alpha') + sbu('bravo') + sbu('delta') + b'\x90.')
STR_SET_TEXT = "root: {'delta', 'alpha', 'charlie', 'bravo'}\n"


class InsertionOrderTest(unittest.TestCase):

    def test_strs_at_every_protocol(self):
        words = ['w%d' % i for i in range(12)] + ['ab', 'ba', '\u20ac', '\ud800']
        s = set(words)
        f = frozenset(words[::-1])
        for proto in range(6):
            for v in (s, f):
                data = pickle.dumps(v, proto)
                # CPython wrote the elements in this process's iteration order
                body = '{%s}' % ', '.join(_canon_str(x) for x in v)
                expect = body if type(v) is set else 'frozenset(%s)' % body
                o = decode(data, policy='builtins')
                self.assertEqual(o.text, 'root: %s\n' % expect, (proto, data))
                self.assertTrue(o.set_order_verified)

    def test_handwritten_order_and_dedup(self):
        o = decode(STR_SET)
        self.assertEqual(o.output(), STR_SET_TEXT)
        self.assertTrue(o.set_order_verified)
        # FROZENSET keeps the first of equal elements
        data = P4 + b'(' + sbu('b') + sbu('a') + sbu('b') + b'\x91.'
        self.assertEqual(out(data), "root: frozenset({'b', 'a'})\n")
        # 1, True and 1.0 are equal: the first one wins, with its type
        data = P4 + b'\x8f(\x88K\x01G?\xf0\x00\x00\x00\x00\x00\x00K\x02\x90.'
        self.assertEqual(out(data), 'root: {True, 2}\n')
        data = P4 + b'(G?\xf0\x00\x00\x00\x00\x00\x00\x88K\x01\x91.'
        self.assertEqual(out(data), 'root: frozenset({1.0})\n')

    def test_order_does_not_depend_on_the_hash_seed(self):
        for seed in ('0', '1', '2', '12345'):
            with WorkerClient(Limits(), env={'PYTHONHASHSEED': seed}) as c:
                o = c.decode(STR_SET)
                self.assertEqual(o.output(), STR_SET_TEXT, seed)
                self.assertTrue(o.set_order_verified)

    def test_nested_frozensets_tuples_and_stubs(self):
        # {frozenset({'y', 'x'}), ('t', 1), C(), 'z', global m.C} in that order
        data = (P4 + b'\x8c\x01m\x8c\x01C\x93\x94\x8f(' + b'(' + sbu('y') + sbu('x') + b'\x91'
                + sbu('t') + b'K\x01\x86' + b'h\x00)\x81' + sbu('z') + b'h\x00' + b'\x90.')
        self.assertEqual(out(data), "root: {frozenset({'y', 'x'}), ('t', 1), new(&1 global('m', "
                                    "'C'), ()), 'z', *1}\n")

    def test_sets_in_dict_values_and_discarded_lines(self):
        data = (P4 + b'}(' + sbu('k') + b'\x8f(' + sbu('q') + sbu('p') + b'\x90u'
                + b'\x8c\x01m\x8c\x01f\x93(' + sbu('s') + sbu('r') + b'\x91\x85R0.')
        self.assertEqual(out(data), "root: {'k': {'q', 'p'}}\n"
                                    "discarded: call(global('m', 'f'), (frozenset({'s', 'r'}),))\n")

    def test_fold_then_additems(self):
        # set(['b', 'a']) folded, then ADDITEMS 'c' 'a': order b, a, c
        data = (b'\x80\x02c__builtin__\nset\n](' + sbu('b') + sbu('a') + b'e\x85R('
                + sbu('c') + sbu('a') + b'\x90.')
        o = decode(data, policy='builtins')
        self.assertEqual(o.output(), "root: {'b', 'a', 'c'}\n")
        self.assertTrue(o.set_order_verified)

    def test_frames_are_removed_for_the_recovery_pass(self):
        # a set split across a frame boundary that drops bytes (see the walker)
        # SHORT_BINUNICODE of 3 bytes with 2 left in the frame: 'xy' is dropped
        # and the next 3 bytes of the file are read instead
        body = b'\x8f(' + sbu('b') + sbu('a') + b'\x8c\x03xy'
        data = P4 + b'\x95' + len(body).to_bytes(8, 'little') + body + b'ccc\x90.'
        o = decode(data)
        self.assertEqual(o.output(), "root: {'b', 'a', 'ccc'}\n")
        self.assertTrue(o.set_order_verified)

    def test_python_impl_records_order_directly(self):
        self.assertEqual(out(STR_SET, impl='python'), STR_SET_TEXT)


class FallbackTest(unittest.TestCase):

    def test_divergent_element_gives_sorted_unverified_order(self):
        # INT '+1' is True for the C unpickler but 1 for pickle._Unpickler, so
        # the recovery pass cannot match that element: sorted order instead
        data = b'\x80\x04\x8f(' + sbu('b') + sbu('a') + b'I+1\n\x90.'
        o = decode(data)
        self.assertEqual(o.output(), "root: {True, 'a', 'b'}\n")
        self.assertFalse(o.set_order_verified)

    def test_recovery_run_failing(self):
        # empty APPENDS on an int: a no-op in C, AttributeError in Python
        data = b'\x80\x04K\x01(e0\x8f(' + sbu('b') + sbu('a') + b'\x90.'
        o = decode(data)
        self.assertEqual(o.output(), "root: {'a', 'b'}\n")
        self.assertFalse(o.set_order_verified)

    def test_one_element_sets_need_no_order(self):
        data = b'\x80\x04K\x01(e0\x8f(' + sbu('b') + b'\x90.'
        o = decode(data)
        self.assertEqual(o.output(), "root: {'b'}\n")
        self.assertTrue(o.set_order_verified)


def _canon_str(s):
    from oracle.canon import esc_str
    return esc_str(s)


if __name__ == '__main__':
    unittest.main()
