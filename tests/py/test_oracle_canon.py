"""Canonical text of reference decodes: atoms, containers, labels, cycles,
objects and their operations, discarded lines, deep graphs.

Every expected text is written by hand from docs/canonical.md.
"""

import pathlib
import struct
import sys
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))

from oracle import canon  # noqa: E402
from oracle.reference import Options, decode_inprocess  # noqa: E402

P2 = b'\x80\x02'
P4 = b'\x80\x04'
P5 = b'\x80\x05'


def long1(x):
    n = (x.bit_length() + 8) // 8 if x else 0
    return b'\x8a' + bytes([n]) + x.to_bytes(n, 'little', signed=True)


def binfloat(x):
    return b'G' + struct.pack('>d', x)


def floatbits(bits):
    return b'G' + bits.to_bytes(8, 'big')


def uni(s):
    b = s.encode('utf-8', 'surrogatepass')
    return b'X' + len(b).to_bytes(4, 'little') + b


def sbu(s):
    b = s.encode('utf-8', 'surrogatepass')
    return b'\x8c' + bytes([len(b)]) + b


def sbytes(b):
    return b'C' + bytes([len(b)]) + b


def glob(module, name):
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def out(data, **kw):
    """What `python3 -m oracle decode` prints (in process: trusted input)."""
    return decode_inprocess(data, Options(**kw)).output()


class AtomTest(unittest.TestCase):

    def test_ints_bools_none(self):
        data = (P4 + b'(' + long1(2**64 - 1) + long1(2**64) + long1(-2**64) + long1(-2**64 + 1)
                + b'J\xff\xff\xff\xffK\x00\x88\x89Nt.')
        self.assertEqual(out(data), 'root: (18446744073709551615, 18446744073709551616, '
                         '-18446744073709551616, -18446744073709551615, -1, 0, True, False, None)\n')
        self.assertEqual(out(long1(-0x1f0000000000000000) + b'.'), 'root: -571849066284996100096\n')
        n = 2**4096
        long4 = b'\x8b' + struct.pack('<i', 514) + (-n).to_bytes(514, 'little', signed=True)
        self.assertEqual(out(long4 + b'.'), 'root: -0x1' + '0' * 1024 + '\n')
        long4 = b'\x8b' + struct.pack('<i', 514) + (n - 1).to_bytes(514, 'little', signed=True)
        self.assertEqual(out(long4 + b'.'), 'root: %d\n' % (n - 1))

    def test_floats_and_nan_payloads(self):
        data = (P4 + b'(' + binfloat(1.5) + binfloat(-0.0) + binfloat(1e16) + binfloat(5e-324)
                + binfloat(float('inf')) + binfloat(float('-inf')) + floatbits(0x7ff8000000000000)
                + floatbits(0xfff8000000000000) + floatbits(0x7ff0000000000001)
                + floatbits(0xfff800000000002a) + binfloat(0.1) + b'l.')
        self.assertEqual(out(data), 'root: [1.5, -0.0, 1e+16, 5e-324, inf, -inf, nan, '
                         'nan:0xfff8000000000000, nan:0x7ff0000000000001, '
                         'nan:0xfff800000000002a, 0.1]\n')
        # text FLOAT: 'nan' is the default NaN, '-nan' has the sign bit
        self.assertEqual(out(b'(Fnan\nF-nan\nF1e16\nl.'),
                         'root: [nan, nan:0xfff8000000000000, 1e+16]\n')

    def test_str_escapes_and_lone_surrogates(self):
        data = P4 + uni("a'b\\\t\n\r\x00\x1f\x7f\xe9\u20ac\U0001f600\ud800\udc80 ~") + b'.'
        self.assertEqual(out(data), "root: 'a\\'b\\\\\\t\\n\\r\\x00\\x1f\\x7f\\xe9\\u20ac"
                                    "\\U0001f600\\ud800\\udc80 ~'\n")
        # the UNICODE opcode (raw-unicode-escape) and latin-1 range
        self.assertEqual(out(b'V\\u20ac\\ud800\xff\n.'), "root: '\\u20ac\\ud800\\xff'\n")

    def test_bytes_and_bytearray(self):
        self.assertEqual(out(P4 + sbytes(b"\x00ab'\\\t\n\r\x7f\x80\xff\"") + b'.'),
                         "root: b'\\x00ab\\'\\\\\\t\\n\\r\\x7f\\x80\\xff\"'\n")
        self.assertEqual(out(P5 + b'\x96\x03' + b'\x00' * 7 + b'a\x00b.'),
                         "root: bytearray(b'a\\x00b')\n")
        self.assertEqual(out(P5 + b'\x96' + b'\x00' * 8 + b'.'), "root: bytearray(b'')\n")

    def test_empty_and_small_containers(self):
        data = P4 + b'()K\x01\x85K\x01K\x02\x86]}\x8f(\x91l.'
        self.assertEqual(out(data), 'root: [(), (1,), (1, 2), [], {}, set(), frozenset()]\n')
        self.assertEqual(out(b'(K\x01K\x02dK\x03(K\x04K\x05ls.'), 'root: {1: 2, 3: [4, 5]}\n')

    def test_formatters(self):
        self.assertEqual(canon.fmt_int(-(2**64) + 1), '-18446744073709551615')
        self.assertEqual(canon.fmt_int(2**64), '18446744073709551616')
        self.assertEqual(canon.fmt_int(2**4096 - 1), str(2**4096 - 1))
        self.assertEqual(canon.fmt_int(2**4096), '0x1' + '0' * 1024)
        self.assertEqual(canon.fmt_int(-2**4096), '-0x1' + '0' * 1024)
        self.assertEqual(canon.fmt_float(float('nan')), 'nan')
        self.assertEqual(canon.esc_str(''), "''")
        self.assertEqual(canon.esc_str('\U0010ffff'), "'\\U0010ffff'")
        self.assertEqual(canon.esc_bytes(b''), "b''")


class LabelTest(unittest.TestCase):

    def test_shared_str_list_and_unlabelable_nodes(self):
        # the memo shares 'shared', a one-char str, the empty tuple, b'' and an int
        data = (P4 + sbu('shared') + b'\x94' + sbu('a') + b'\x94' + b')\x94' + b'C\x00\x94'
                + b'J\x00\x00\x00\x40\x94' + b'(h\x00h\x00h\x01h\x01h\x02h\x02h\x03h\x03h\x04h\x04'
                + b'K\x01\x85K\x01\x85l.')
        self.assertEqual(out(data), "root: [&1 'shared', *1, 'a', 'a', (), (), b'', b'', "
                                    "1073741824, 1073741824, (1,), (1,)]\n")

    def test_one_byte_bytes_and_empty_frozenset_carry_labels(self):
        self.assertEqual(out(P4 + b'C\x01a\x942\x86.'), "root: (&1 b'a', *1)\n")
        self.assertEqual(out(P4 + b'(\x91\x942\x86.'), 'root: (&1 frozenset(), *1)\n')
        # a non-BMP one-char str is labelable, a latin-1 one is not
        self.assertEqual(out(P4 + sbu('\u20ac') + b'2\x86.'), "root: (&1 '\\u20ac', *1)\n")

    def test_one_byte_bytes_identity_depends_on_the_opcode(self):
        # BINBYTES-family payloads are read into fresh objects ...
        self.assertEqual(out(b'\x80\x03(C\x01aC\x01al.'), "root: [b'a', b'a']\n")
        # ... but BINSTRING with encoding='bytes' and the _codecs.encode fold
        # return CPython's cached one-byte bytes: one shared object
        self.assertEqual(out(b'(U\x01aU\x01al.', encoding='bytes'), "root: [&1 b'a', *1]\n")
        data = b'(U\x01ac_codecs\nencode\n(Va\nVlatin1\ntRl.'
        self.assertEqual(out(data, encoding='bytes', policy='builtins'), "root: [&1 b'a', *1]\n")

    def test_labels_numbered_in_print_order(self):
        # [A, B, B, A] with A, B lists: A is labeled first
        data = P4 + b']\x94]\x94(h\x00h\x01h\x01h\x00l.'
        self.assertEqual(out(data), 'root: [&1 [], &2 [], *2, *1]\n')

    def test_cycles(self):
        self.assertEqual(out(P4 + b']\x94h\x00a.'), 'root: &1 [*1]\n')
        self.assertEqual(out(P4 + b'}\x94K\x01h\x00s.'), 'root: &1 {1: *1}\n')
        # a list containing a dict containing the list, reached twice from the root
        data = P4 + b']\x94}\x94K\x01h\x00sa(h\x00h\x01t.'
        self.assertEqual(out(data), 'root: (&1 [&2 {1: *1}], *2)\n')
        # an object whose state holds itself
        data = P2 + glob('m', 'C') + b')\x81\x94}K\x01h\x00sb.'
        self.assertEqual(out(data), "root: &1 new(global('m', 'C'), ()).setstate({1: *1})\n")

    def test_doubly_linked_objects(self):
        # what CPython writes at protocol 2 for n.next = m; m.prev = n
        data = (b'\x80\x02c__main__\nNode\nq\x00)\x81q\x01}q\x02X\x04\x00\x00\x00nextq\x03'
                b'h\x00)\x81q\x04}q\x05X\x04\x00\x00\x00prevq\x06h\x01sbsb.')
        self.assertEqual(out(data), "root: &1 new(&2 global('__main__', 'Node'), ())"
                                    ".setstate({'next': new(*2, ()).setstate({'prev': *1})})\n")

    def test_deep_graphs_are_printed_iteratively(self):
        n = 100000
        text = out(b'(' * n + b'l' * n + b'.')
        self.assertEqual(text, 'root: ' + '[' * n + ']' * n + '\n')
        # 10**5 nested dicts through SETITEM, then a cycle back to the top
        data = P4 + b'}\x94' + b'K\x00}' * n + b's' * n + b'.'
        self.assertEqual(out(data), 'root: ' + '{0: ' * n + '{}' + '}' * n + '\n')
        chain = P4 + glob('m', 'C') + b'\x94' + b'h\x00)\x81' * n + b'b' * (n - 1) + b'.'
        text = out(chain)
        self.assertTrue(text.startswith("root: new(&1 global('m', 'C'), ()).setstate(new(*1, ())"))
        self.assertEqual(text.count('.setstate('), n - 1)


class ObjectTest(unittest.TestCase):

    def test_reduce_newobj_newobj_ex_inst_obj(self):
        data = P4 + glob('m', 'f') + b'K\x01K\x02\x86R.'
        self.assertEqual(out(data), "root: call(global('m', 'f'), (1, 2))\n")
        data = P4 + glob('m', 'C') + b'K\x01\x85\x81.'
        self.assertEqual(out(data), "root: new(global('m', 'C'), (1,))\n")
        data = P4 + glob('m', 'C') + b'K\x01\x85}\x8c\x01kK\x02s\x92.'
        self.assertEqual(out(data), "root: new(global('m', 'C'), (1,), {'k': 2})\n")
        data = P4 + glob('m', 'C') + b')}\x92.'
        self.assertEqual(out(data), "root: new(global('m', 'C'), (), {})\n")
        self.assertEqual(out(b'(imod\nC\n.'), "root: new(global('mod', 'C'), ())\n")
        self.assertEqual(out(b'(K\x01imod\nC\n.'), "root: call(global('mod', 'C'), (1,))\n")
        self.assertEqual(out(b'(cm\nC\no.'), "root: new(global('m', 'C'), ())\n")
        self.assertEqual(out(b'(cm\nC\nK\x01K\x02o.'), "root: call(global('m', 'C'), (1, 2))\n")

    def test_calls_on_results_behave_as_classes(self):
        # getattr(Outer, 'Inner') then NEWOBJ on the result (protocols 2-3)
        data = (P2 + glob('builtins', 'getattr') + glob('m', 'Outer') + b'X\x05\x00\x00\x00Inner'
                + b'\x86R)\x81.')
        self.assertEqual(out(data), "root: new(call(global('builtins', 'getattr'), "
                                    "(global('m', 'Outer'), 'Inner')), ())\n")

    def test_operations_merged_extend_setitem_add_setstate(self):
        data = (P4 + glob('m', 'C') + b')\x81' + b'K\x01a' + b'(K\x02K\x03e' + b'K\x04a'
                + b'(K\x05K\x06u' + b'K\x07K\x08s' + b'K\x09a' + b'(K\x0a\x90' + b'}b' + b'Nb.')
        self.assertEqual(out(data), "root: new(global('m', 'C'), ()).extend([1, 2, 3, 4])"
                                    ".setitem(5, 6).setitem(7, 8).extend([9]).add(10)"
                                    ".setstate({}).setstate(None)\n")

    def test_empty_appends_and_setitems_on_a_stub_are_no_ops(self):
        data = P4 + glob('m', 'C') + b'(e(u(\x90.'
        self.assertEqual(out(data), "root: global('m', 'C')\n")

    def test_globals_carry_operations(self):
        data = P4 + glob('m', 'G') + b'\x94}b0(h\x00K\x01ah\x00l.'
        self.assertEqual(out(data), "root: [&1 global('m', 'G').setstate({}).extend([1]), *1]\n")

    def test_one_node_per_global_name(self):
        data = b'(cm\nC\ncm\nC\ncm\nD\nl.'
        self.assertEqual(out(data), "root: [&1 global('m', 'C'), *1, global('m', 'D')]\n")

    def test_argument_tuples_keep_their_identity(self):
        # T = ([],) is memoized, used as REDUCE arguments and put in the root:
        # the call's arguments are T itself, shared with the root (CPython
        # only hands the stub a copy; oracle.provenance finds T in the memo)
        data = P4 + glob('m', 'f') + b']\x94\x85\x94R(h\x01h\x00l.'
        self.assertEqual(out(data), "root: [&1 (&2 [],), *2]\n"
                                    "discarded: call(global('m', 'f'), *1)\n")
        # without the memo there is nothing to share: plain arguments
        data = P4 + glob('m', 'f') + b']\x85R.'
        self.assertEqual(out(data), "root: call(global('m', 'f'), ([],))\n")

    def test_argument_tuples_found_after_their_memo_slot_is_reused(self):
        # T = (None,) is PUT 0, REDUCE's arguments, fetched into the root,
        # and then PUT 0 stores the root: T is no longer in the final memo,
        # but it is the root's item 0 (a diff target finding)
        data = b'cm\nn\n(Ntp0\nR(g0\ntp0\n.'
        self.assertEqual(out(data), "root: (&1 (None,),)\n"
                                    "discarded: call(global('m', 'n'), *1)\n")
        # through a list built by APPEND, and reached from a memo entry
        data = b'cm\nn\n(Ntp0\nR(lp1\ng0\naNp0\n0g1\n.'
        self.assertEqual(out(data), "root: [&1 (None,)]\n"
                                    "discarded: call(global('m', 'n'), *1)\n")
        # a list item replaced by SETITEM is not followed (the list's items
        # are no longer known)
        data = b'cm\nn\n(Ntp0\nR(lp1\ng0\naI0\nI5\ns0Np0\n0g1\n.'
        self.assertEqual(out(data), "root: [5]\n"
                                    "discarded: call(global('m', 'n'), (None,))\n")

    def test_persistent_ids(self):
        self.assertEqual(out(b'P42\n.'), "root: persid('42')\n")
        self.assertEqual(out(P2 + b']\x94Q\x94(h\x01h\x00l.'), 'root: [persid(&1 []), *1]\n')
        self.assertEqual(out(b'P1\n0N.'), "root: None\ndiscarded: persid('1')\n")


class DiscardedTest(unittest.TestCase):

    def test_state_setter_call_is_discarded(self):
        # what CPython writes for __reduce__ with a state setter:
        # obj, then setter(obj, state) REDUCE, POP
        data = P4 + glob('m', 'C') + b')\x81\x94' + glob('m', 'setter') + b'h\x00K\x01\x86R0.'
        self.assertEqual(out(data), "root: &1 new(global('m', 'C'), ())\n"
                                    "discarded: call(global('m', 'setter'), (*1, 1))\n")

    def test_discarded_in_creation_order_and_not_repeated(self):
        # A = f(); B = g(); A.setstate(B); pop A; C = h(); pop C; root None
        data = (P4 + glob('m', 'f') + b')R' + glob('m', 'g') + b')Rb0'
                + glob('m', 'h') + b')R0N.')
        self.assertEqual(out(data), "root: None\n"
                                    "discarded: call(global('m', 'f'), ()).setstate("
                                    "call(global('m', 'g'), ()))\n"
                                    "discarded: call(global('m', 'h'), ())\n")

    def test_node_shared_between_discarded_lines(self):
        # A = f(); B = g(A); pop B (A stays on the stack as... popped too)
        data = P4 + glob('m', 'f') + b')R\x94' + glob('m', 'g') + b'h\x00\x85R00N.'
        self.assertEqual(out(data), "root: None\n"
                                    "discarded: &1 call(global('m', 'f'), ())\n"
                                    "discarded: call(global('m', 'g'), (*1,))\n")

    def test_discarded_reached_from_the_root_is_not_listed(self):
        data = P4 + glob('m', 'f') + b')R\x940h\x00.'
        self.assertEqual(out(data), "root: call(global('m', 'f'), ())\n")


class BufferTest(unittest.TestCase):

    def test_out_of_band_buffers_and_readonly(self):
        bufs = [(b'ab', False), (b'cd', True)]
        self.assertEqual(out(P5 + b'\x97\x97\x86.', buffers=bufs), 'root: (buffer(0), buffer(1))\n')
        # READONLY_BUFFER wraps a writable buffer; a readonly one stays as it is
        self.assertEqual(out(P5 + b'\x97\x98\x97\x98\x86.', buffers=bufs),
                         'root: (readonly(buffer(0)), buffer(1))\n')
        # the same buffer seen through a view and directly
        self.assertEqual(out(P5 + b'\x97\x942\x98\x86.', buffers=bufs),
                         'root: (&1 buffer(0), readonly(*1))\n')
        # READONLY_BUFFER on a bytearray, and on bytes (no change)
        self.assertEqual(out(P5 + b'\x96\x01' + b'\x00' * 7 + b'a\x98.'),
                         "root: readonly(bytearray(b'a'))\n")
        self.assertEqual(out(P5 + b'C\x01a\x98.'), "root: b'a'\n")

    def test_buffer_errors(self):
        self.assertEqual(out(P5 + b'\x97.'), 'error: UnpicklingError: pickle stream refers to '
                         'out-of-band data but no *buffers* argument was given\n')
        self.assertEqual(out(P5 + b'\x97\x97.', buffers=[(b'a', False)]),
                         'error: UnpicklingError: not enough out-of-band buffers\n')
        self.assertEqual(out(P5 + b'\x97.', buffers=[]),
                         'error: UnpicklingError: not enough out-of-band buffers\n')


# one stream per opcode family not covered above, with its text; together
# with ALL_STREAMS below every opcode of protocols 0-5 is executed
FAMILIES = [
    (b'(K\x01K\x02(K\x031M\x01\x02J\x00\x00\x00\x80l.',        # POP_MARK, BININT2, BININT
     'root: [1, 2, 513, -2147483648]\n'),
    (b'(L-123456789012345678901234567890L\n\x8b\x02\x00\x00\x00\x00\x80l.',  # LONG, LONG4
     'root: [-123456789012345678901234567890, -32768]\n'),  # decimal below 2**4096
    (b"(S'py2'\nT\x02\x00\x00\x00abU\x01cl.",                   # STRING, BINSTRING, SHORT_BINSTRING
     "root: ['py2', 'ab', 'c']\n"),
    (b'\x80\x04(\x8d\x02\x00\x00\x00\x00\x00\x00\x00hiB\x01\x00\x00\x00b'
     b'\x8e\x01\x00\x00\x00\x00\x00\x00\x00cl.',                  # BINUNICODE8, BINBYTES, BINBYTES8
     "root: ['hi', b'b', b'c']\n"),
    (b']p0\ng0\nr\x00\x01\x00\x00j\x00\x01\x00\x00q\x05h\x05\x87.',  # PUT GET LONG_BINPUT/GET
     'root: (&1 [], *1, *1)\n'),
    (b'\x80\x04]\x94(h\x00\x90.',                                   # ADDITEMS on a list: error
     "error: AttributeError: 'list' object has no attribute 'add'\n"),
    (b'\x80\x04(]\x94h\x00\x90.',                                   # no target below the MARK
     'error: UnpicklingError: unpickling stack underflow\n'),
]

class OpcodeFamiliesTest(unittest.TestCase):

    def test_families(self):
        for data, text in FAMILIES:
            self.assertEqual(out(data), text, data)

    def test_every_opcode_is_exercised_by_these_tests(self):
        from oracle import walker
        # streams written as literals in the oracle tests, walked with the EXT
        # codes they use registered
        seen = set()
        for data in _all_streams():
            seen.update(code for _, code in walker.walk(data, {1: ('m', 'n'), 0x1234: ('m', 'o'),
                                                               0x12345678: ('m', 'p')}).ops)
        missing = sorted(walker.NAMES[c] for c in set(walker.NAMES) - seen)
        self.assertEqual(missing, [])


def _all_streams():
    """Every bytes literal passed to out() in this file and its siblings."""
    import ast
    streams = []
    here = pathlib.Path(__file__).resolve().parent
    for path in sorted(here.glob('test_oracle_*.py')):
        tree = ast.parse(path.read_text())
        env = {'P2': P2, 'P4': P4, 'P5': P5}
        for node in ast.walk(tree):
            if isinstance(node, (ast.BinOp, ast.Constant)):
                try:
                    value = eval(compile(ast.Expression(node), str(path), 'eval'),
                                 {'__builtins__': {}}, env)
                except Exception:
                    continue
                if type(value) is bytes:
                    streams.append(value)
    return streams


class RejectTest(unittest.TestCase):
    """Rejections print error: <Class>: <message> (CPython's own)."""

    CASES = [
        (b'.', 'UnpicklingError', 'unpickling stack underflow'),
        (b'(.', 'UnpicklingError', 'unexpected MARK found'),
        (b'N(\x85.', 'UnpicklingError', 'unexpected MARK found'),
        (b't.', 'UnpicklingError', 'could not find MARK'),
        (b'0.', 'UnpicklingError', 'unpickling stack underflow'),
        (b'h\x01.', 'UnpicklingError', 'Memo value not found at index 1'),
        (b'(K\x01d.', 'UnpicklingError', 'odd number of items for DICT'),
        (b'}(K\x01u.', 'UnpicklingError', 'odd number of items for SETITEMS'),
        (b'(]K\x01d.', 'TypeError', "unhashable type: 'list'"),
        (b'\x80\x04K\x01\x8c\x01C\x93.', 'UnpicklingError', 'STACK_GLOBAL requires str'),
        (b'Pcaf\xe9\n.', 'UnpicklingError', 'persistent IDs in protocol 0 must be ASCII strings'),
        (b'Sabc\n.', 'UnpicklingError', 'the STRING opcode argument must be quoted'),
        (b"S'\\x4'\n.", 'ValueError', 'invalid \\x escape at position 0'),
        (b'\x80\x06.', 'ValueError', 'unsupported pickle protocol: 6'),
        (b'Np-1\n.', 'ValueError', 'negative PUT argument'),
        (b'K\x01)R.', 'TypeError', "'int' object is not callable"),
        (b'P1\n)R.', 'TypeError', "'Persid' object is not callable"),
        (b'K\x01(K\x02e.', 'AttributeError', "'int' object has no attribute 'append'"),
        (b'\x80\x05K\x01\x98.', 'TypeError', "memoryview: a bytes-like object is required, not 'int'"),
        (b'X\x01\x00\x00\x00\xff.', 'UnicodeDecodeError',
         "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"),
        (b'\x80\x04\x8c\x01m\x8c\x01C\x93)}K\x01K\x02s\x92.', 'TypeError', 'keywords must be strings'),
        (b'\xff', 'UnpicklingError', "invalid load key, '\\xff'."),
        (b'K', 'UnpicklingError', 'pickle data was truncated'),
        (b'K\x01', 'EOFError', 'Ran out of input'),
    ]

    def test_rejections(self):
        for data, cls, msg in self.CASES:
            o = decode_inprocess(data, Options())
            self.assertEqual((o.kind, o.exc_class, o.message), ('reject', cls, msg), data)
            self.assertEqual(o.output(), 'error: %s: %s\n' % (cls, msg))


if __name__ == '__main__':
    unittest.main()
