"""Policies (folds), Python 2 streams and encodings, fix_imports name
mapping by protocol (including PROTO changing mid-stream), and EXT with an
extension registry."""

import copyreg
import pathlib
import pickle
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from oracle.reference import Options, decode_inprocess  # noqa: E402


def out(data, **kw):
    return decode_inprocess(data, Options(**kw)).output()


def both(data, **kw):
    return out(data, policy='symbolic', **kw), out(data, policy='builtins', **kw)


class FoldTest(unittest.TestCase):

    def test_cpython_shapes_fold_at_every_protocol(self):
        # sets: the pickler writes elements in iteration order, which is the
        # insertion order the reference must report
        values = [({3, 1}, None), (frozenset({'b', 'a'}), None), (bytearray(b'xy'), "bytearray(b'xy')"),
                  (bytearray(), 'bytearray(b\'\')'), (b'\x00\xff', "b'\\x00\\xff'"), (b'', "b''"),
                  (complex(1.5, -0.0), 'complex(1.5, -0.0)')]
        for v, text in values:
            for proto in range(6):
                data = pickle.dumps(v, proto)
                got = out(data, policy='builtins')
                expect = text
                if text is None:
                    expect = '{%s}' % ', '.join(repr(x) for x in v)
                    if type(v) is frozenset:
                        expect = 'frozenset(%s)' % expect
                self.assertEqual(got, 'root: %s\n' % expect, (v, proto, data))

    def test_symbolic_keeps_the_calls(self):
        data = pickle.dumps([{1, 2}, bytearray(b'a'), b'b', 2j], 2)
        sym, blt = both(data)
        # the pickler memoizes 'latin1' (BINPUT/BINGET): one shared str
        self.assertEqual(sym, "root: [call(global('builtins', 'set'), ([1, 2],)), "
                              "call(global('builtins', 'bytearray'), (call(&1 global('_codecs', "
                              "'encode'), ('a', &2 'latin1')),)), call(*1, ('b', *2)), "
                              "call(global('builtins', 'complex'), (0.0, 2.0))]\n")
        self.assertEqual(blt, "root: [{1, 2}, bytearray(b'a'), b'b', complex(0.0, 2.0)]\n")

    def test_protocol_0_to_2_write_builtin_and_mapping_folds_it(self):
        data = b'c__builtin__\nset\np0\n((lp1\nI1\naI2\natp2\nRp3\n.'
        sym, blt = both(data)
        self.assertEqual(sym, "root: call(global('builtins', 'set'), ([1, 2],))\n")
        self.assertEqual(blt, 'root: {1, 2}\n')
        # without fix_imports __builtin__ stays, and nothing folds
        self.assertEqual(out(data, policy='builtins', fix_imports=False),
                         "root: call(global('__builtin__', 'set'), ([1, 2],))\n")

    def test_only_exact_shapes_fold(self):
        g = b'\x80\x02c__builtin__\n%s\n'
        cases = [
            (g % b'set' + b'K\x01\x85\x85R.', "call(global('builtins', 'set'), ((1,),))"),
            (g % b'set' + b')R.', "call(global('builtins', 'set'), ())"),
            (g % b'set' + b']]\x86R.', "call(global('builtins', 'set'), ([], []))"),
            (g % b'complex' + b'K\x01G?\xf0\x00\x00\x00\x00\x00\x00\x86R.',
             "call(global('builtins', 'complex'), (1, 1.0))"),
            (g % b'complex' + b'G?\xf0\x00\x00\x00\x00\x00\x00\x85R.',
             "call(global('builtins', 'complex'), (1.0,))"),
            (g % b'bytearray' + b'\x88\x85R.', "call(global('builtins', 'bytearray'), (True,))"),
            (g % b'bytes' + b'C\x01a\x85R.', "call(global('builtins', 'bytes'), (b'a',))"),
            (b'\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x07\x00\x00\x00latin-1\x86R.',
             "call(global('_codecs', 'encode'), ('a', 'latin-1'))"),
            # new() never folds, even on a foldable global
            (g % b'set' + b']\x85\x81.', "new(global('builtins', 'set'), ([],))"),
            (b'(c__builtin__\nbytearray\no.', "new(global('builtins', 'bytearray'), ())"),
        ]
        for data, text in cases:
            self.assertEqual(out(data, policy='builtins'), 'root: %s\n' % text, data)
        # INST/OBJ with arguments call, so they fold
        self.assertEqual(out(b'(c__builtin__\nset\n(lp0\nI3\naI4\nao.', policy='builtins'),
                         'root: {3, 4}\n')
        self.assertEqual(out(b'(V\\u20ac\nVlatin1\ni_codecs\nencode\n.', policy='symbolic'),
                         "root: call(global('_codecs', 'encode'), ('\\u20ac', 'latin1'))\n")

    def test_fold_errors_are_cpythons(self):
        self.assertEqual(out(b'c__builtin__\nset\n((]ltR.', policy='builtins'),
                         "error: TypeError: unhashable type: 'list'\n")
        self.assertEqual(out(b'(V\\u20ac\nVlatin1\ni_codecs\nencode\n.', policy='builtins'),
                         "error: UnicodeEncodeError: 'latin-1' codec can't encode character "
                         "'\\u20ac' in position 0: ordinal not in range(256)\n")
        # symbolic: the same streams are accepted
        self.assertEqual(out(b'c__builtin__\nset\n((]ltR.'),
                         "root: call(global('builtins', 'set'), ([[]],))\n")

    def test_fold_set_order_is_the_lists(self):
        data = b'\x80\x02c__builtin__\nset\n]K\x03K\x01K\x03K\x02\x87\x85\x85R.'
        self.assertEqual(out(data.replace(b'\x87\x85\x85R', b'\x87'), policy='builtins'),
                         'root: (1, 3, 2)\n')
        data = b'\x80\x02c__builtin__\nset\n](K\x03K\x01K\x03K\x02e\x85R.'
        self.assertEqual(out(data, policy='builtins'), 'root: {3, 1, 2}\n')


class Python2Test(unittest.TestCase):

    PY2_DICT = b"(dp0\nS'a'\np1\nS'caf\\xe9'\np2\nsS'n'\np3\nU\x03\xe9t\xe9p4\ns."

    def test_encodings(self):
        self.assertEqual(out(self.PY2_DICT), "error: UnicodeDecodeError: 'ascii' codec can't "
                         "decode byte 0xe9 in position 3: ordinal not in range(128)\n")
        self.assertEqual(out(self.PY2_DICT, encoding='latin1'),
                         "root: {'a': 'caf\\xe9', 'n': '\\xe9t\\xe9'}\n")
        self.assertEqual(out(self.PY2_DICT, encoding='bytes'),
                         "root: {b'a': b'caf\\xe9', b'n': b'\\xe9t\\xe9'}\n")
        self.assertEqual(out(self.PY2_DICT, encoding='ascii', errors='replace'),
                         "root: {'a': 'caf\\ufffd', 'n': '\\ufffdt\\ufffd'}\n")
        self.assertEqual(out(self.PY2_DICT, encoding='ascii', errors='surrogateescape'),
                         "root: {'a': 'caf\\udce9', 'n': '\\udce9t\\udce9'}\n")
        self.assertEqual(out(b"S'a'\n.", encoding='nope'),
                         'error: LookupError: unknown encoding: nope\n')
        # the encoding is looked up lazily: unused, it does not matter
        self.assertEqual(out(b'K\x01.', encoding='nope'), 'root: 1\n')

    def test_python2_object_and_old_style_instance(self):
        # Python 2 protocol 0 pickle of a new-style object and an old-style instance
        data = (b"ccopy_reg\n_reconstructor\np0\n(c__main__\nP\np1\nc__builtin__\nobject\np2\n"
                b"Ntp3\nRp4\n(dp5\nS'x'\np6\nI1\nsb.")
        self.assertEqual(out(data), "root: call(global('copyreg', '_reconstructor'), "
                                    "(global('__main__', 'P'), global('builtins', 'object'), None))"
                                    ".setstate({'x': 1})\n")
        data = b"(i__main__\nOld\np0\n(dp1\nS'y'\np2\nI2\nsb."
        self.assertEqual(out(data), "root: new(global('__main__', 'Old'), ()).setstate({'y': 2})\n")


class NameMappingTest(unittest.TestCase):

    def test_mapping_only_below_protocol_3(self):
        for proto, name in ((b'', 'builtins'), (b'\x80\x02', 'builtins'), (b'\x80\x03', '__builtin__'),
                            (b'\x80\x04', '__builtin__'), (b'\x80\x05', '__builtin__')):
            self.assertEqual(out(proto + b'c__builtin__\nlen\n.'),
                             "root: global('%s', 'len')\n" % name)
        # NAME_MAPPING maps the pair; IMPORT_MAPPING the module
        self.assertEqual(out(b'cexceptions\nStandardError\n.'), "root: global('builtins', 'Exception')\n")
        self.assertEqual(out(b'cUserDict\nIterableUserDict\n.'), "root: global('collections', 'UserDict')\n")
        self.assertEqual(out(b'ccPickle\nloads\n.'), "root: global('pickle', 'loads')\n")
        self.assertEqual(out(b'\x80\x03ccPickle\nloads\n.'), "root: global('cPickle', 'loads')\n")
        self.assertEqual(out(b'ccPickle\nloads\n.', fix_imports=False), "root: global('cPickle', 'loads')\n")

    def test_proto_changing_mid_stream(self):
        data = (b'(\x80\x03c__builtin__\nlen\n'        # protocol 3: kept
                b'\x80\x02c__builtin__\nlen\n'          # protocol 2: mapped
                b'\x80\x04\x8c\x0b__builtin__\x8c\x03len\x93'   # STACK_GLOBAL at 4: kept
                b'\x80\x01(i__builtin__\nlen\n'         # INST at 1: mapped (same node)
                b'\x80\x02\x8c\x0b__builtin__\x8c\x03len\x93'   # STACK_GLOBAL at 2: mapped
                b't.')
        self.assertEqual(out(data), "root: (&1 global('__builtin__', 'len'), &2 global('builtins', "
                                    "'len'), *1, new(*2, ()), *2)\n")

    def test_proto_inside_a_frame(self):
        frame = b'\x80\x02c__builtin__\nlen\n.'
        data = b'\x80\x04\x95' + len(frame).to_bytes(8, 'little') + frame
        self.assertEqual(out(data), "root: global('builtins', 'len')\n")

    def test_python_impl_maps_the_same(self):
        data = b'\x80\x03c__builtin__\nlen\n\x80\x02c__builtin__\nlen\n\x86.'
        self.assertEqual(out(data, impl='python'), out(data))


class ExtensionTest(unittest.TestCase):

    REG = {1: ('copy_reg', '_reconstructor'), 0x1234: ('m', 'two'), 0x12345678: ('m', 'four')}

    def test_ext_opcodes_with_a_registry(self):
        data = b'\x80\x02(\x82\x01\x83\x34\x12\x84\x78\x56\x34\x12\x82\x01t.'
        self.assertEqual(out(data, extensions=self.REG),
                         "root: (&1 global('copyreg', '_reconstructor'), global('m', 'two'), "
                         "global('m', 'four'), *1)\n")
        # protocol 3: no mapping; an EXT name and a GLOBAL name share one node
        data = b'\x80\x03\x82\x01ccopy_reg\n_reconstructor\n\x86.'
        self.assertEqual(out(data, extensions=self.REG),
                         "root: (&1 global('copy_reg', '_reconstructor'), *1)\n")
        self.assertEqual(copyreg._inverted_registry, {})
        self.assertEqual(copyreg._extension_cache, {})

    def test_ext_errors(self):
        self.assertEqual(out(b'\x80\x02\x82\x01.'), 'error: ValueError: unregistered extension code 1\n')
        self.assertEqual(out(b'\x80\x02\x82\x00.', extensions=self.REG),
                         'error: UnpicklingError: EXT specifies code <= 0\n')
        self.assertEqual(out(b'\x80\x02\x84\xff\xff\xff\xff.', extensions=self.REG),
                         'error: UnpicklingError: EXT specifies code <= 0\n')

    def test_cache_does_not_leak_between_loads(self):
        out(b'\x80\x02\x82\x01.', extensions=self.REG)
        self.assertEqual(out(b'\x80\x02\x82\x01.'), 'error: ValueError: unregistered extension code 1\n')

    def test_mapping_applies_per_ext_call(self):
        # first EXT 1 at protocol 3 caches the unmapped name; later EXT 1 at
        # protocol 2 hits the cache: no find_class, no mapping
        data = b'\x80\x03\x82\x01\x80\x02\x82\x01\x86.'
        self.assertEqual(out(data, extensions=self.REG),
                         "root: (&1 global('copy_reg', '_reconstructor'), *1)\n")


if __name__ == '__main__':
    unittest.main()
