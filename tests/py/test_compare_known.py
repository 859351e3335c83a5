"""oracle.known_differences: the registry matches docs/known-differences.md,
each matcher explains its own difference, and none excuses unrelated
disagreements (outcomes are built by hand here; test_compare.py has the
same differences coming from real brine and CPython)."""

import pathlib
import re
import sys
import types
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from oracle import known_differences as kd  # noqa: E402
from oracle import reference  # noqa: E402
from oracle.reference import Options, Outcome  # noqa: E402


def brine(kind, text=None, exc=None):
    """A brine outcome as the fuzz harness passes it (any object with these fields)."""
    return types.SimpleNamespace(kind=kind, text=text, exc_class=exc, message='m')


def ref(kind, text=None, exc=None, ops=None):
    return Outcome(kind, text=text, exc_class=exc, message='m', ops=ops)


def deep_pair(depth):
    t = b')' + b'\x85' * depth
    return b'\x80\x04}' + t + b'K\x01s' + t + b'K\x02s.'


def shared_pair(depth):
    t = b')' + b'2\x86' * depth
    return b'\x80\x04}' + t + b'K\x01s' + t + b'K\x02s.'


BYTEARRAY_EXPORT = b'\x80\x05\x96' + bytes(8) + b'\x94\x980h\x00(KAe.'
HUGE_PUT = b'Nr\xff\xff\xff\x7f.'
HUGE_BINBYTES8 = b'\x80\x04\x8e' + (3 << 30).to_bytes(8, 'little') + b'ab.'
PY2_STRING = b'U\x02a\x80.'

ACCEPT = ref('accept', 'root: 1\n')
OOM = ref('resource', exc='MemoryError')
TRUNCATED = brine('reject', exc='UnpicklingError')


def matched(data, b, r, options=None):
    e = kd.match(data, options, b, r)
    return e.id if e else None


class RegistryTest(unittest.TestCase):

    def test_ids_are_those_of_the_document(self):
        doc = (ROOT / 'docs' / 'known-differences.md').read_text()
        documented = re.findall(r'^\| `([a-z0-9-]+)` \|', doc, re.M)
        self.assertEqual([e.id for e in kd.entries('3.11')], documented)

    def test_entry_fields(self):
        for e in kd.entries():
            self.assertEqual(e.version, '3.11')
            self.assertTrue(e.issues)
            for issue in e.issues:
                self.assertRegex(issue, r'^(gh-\d+|bpo-\d+|none filed)$')
            self.assertNotIn('\n', e.description)
            self.assertIn(e.kind, ('resource', 'choice'))
            self.assertEqual(kd.get(e.id), e)
        self.assertEqual(kd.get('huge-memo-index').issues, ('gh-115952', 'bpo-34656'))
        self.assertEqual(kd.versions(), ('3.11',))
        self.assertEqual(kd.reference_version(), '3.11')

    def test_other_versions_excuse_nothing(self):
        self.assertEqual(kd.entries('3.12'), ())
        self.assertIsNone(kd.match(HUGE_PUT, None, brine('accept', 'root: None\n'), OOM, '3.12'))
        self.assertEqual(kd.match(HUGE_PUT, None, brine('accept', 'root: None\n'), OOM,
                                  '3.11').id, 'huge-memo-index')

    def test_documentation_only_entries_never_match(self):
        for i in ('frame-file-model', 'messages', 'text-buffers'):
            self.assertFalse(kd.get(i).matches(b'(.', None, TRUNCATED, ACCEPT))


class MatcherTest(unittest.TestCase):
    """Each entry on its own difference, and on near misses."""

    def test_huge_memo_index(self):
        b = brine('accept', 'root: None\n')
        self.assertEqual(matched(HUGE_PUT, b, OOM), 'huge-memo-index')
        self.assertEqual(matched(b'Np1073741823\n.', b, OOM), 'huge-memo-index')
        self.assertEqual(matched(HUGE_PUT, b, ref('reject', exc='MemoryError')),
                         'huge-memo-index')
        # small index, or brine out of memory too, or CPython did not run out
        self.assertIsNone(matched(b'Nr\x05\x00\x00\x00.', b, OOM))
        self.assertIsNone(matched(HUGE_PUT, brine('reject', exc='MemoryError'), OOM))
        self.assertIsNone(matched(HUGE_PUT, b, ref('accept', 'root: 0\n')))

    def test_huge_memo_index_read_after_a_frame(self):
        # LONG_BINPUT in the second-last byte of a 3-byte FRAME: CPython
        # drops the frame's last byte and reads the index from the 4 bytes
        # after the frame (2**30), as brine does; only CPython's dense memo
        # runs out of memory (a diff target finding in the planted-bug run).
        data = b'\x95' + (3).to_bytes(8, 'little') + b']r\x00' + b'\x00\x00\x00\x40' + b'.'
        out = reference.decode(data)
        self.assertEqual((out.kind, out.exc_class), ('resource', 'MemoryError'))
        self.assertEqual(matched(data, brine('accept', 'root: []\n'), OOM), 'huge-memo-index')
        small = b'\x95' + (3).to_bytes(8, 'little') + b']r\x00' + b'\x05\x00\x00\x00' + b'.'
        self.assertIsNone(matched(small, brine('accept', 'root: []\n'), OOM))

    def test_huge_memo_index_put_line_with_nul(self):
        """CPython reads PUT's line as a C string: the index ends at the
        first NUL (an AFL++ finding: brine rejected a later opcode, CPython
        ran out of memory at the PUT, and nothing excused it)."""
        rejected = brine('reject', exc='UnpicklingError')
        data = b'(lp111111111111111\x00...\n\xff'
        self.assertEqual(matched(data, rejected, OOM), 'huge-memo-index')
        self.assertEqual(matched(b'Np1073741823\x00\n.', brine('accept', 'root: None\n'), OOM),
                         'huge-memo-index')
        # the number before the NUL is small, or there is none
        self.assertIsNone(matched(b'(lp111\x00111111111111\n\xff', rejected, OOM))
        self.assertIsNone(matched(b'(lp\x00111111111111111\n\xff', rejected, OOM))
        # the reference really stops at the NUL
        out = reference.decode(data)
        self.assertEqual((out.kind, out.exc_class), ('resource', 'MemoryError'))
        self.assertEqual(reference.decode(b'(lp1\x00x\ng1\n.').text, 'root: []\n')

    def test_huge_length(self):
        self.assertEqual(matched(HUGE_BINBYTES8, TRUNCATED, OOM), 'huge-length')
        ba = b'\x80\x05\x96' + (3 << 30).to_bytes(8, 'little') + b'.'
        self.assertEqual(matched(ba, TRUNCATED, OOM), 'huge-length')
        # a length that fits, brine accepting, CPython not out of memory
        small = b'\x80\x04\x8e' + (5).to_bytes(8, 'little') + b'ab.'
        self.assertIsNone(matched(small, TRUNCATED, OOM))
        self.assertIsNone(matched(HUGE_BINBYTES8, brine('accept', 'root: 1\n'), OOM))
        self.assertIsNone(matched(HUGE_BINBYTES8, TRUNCATED, ref('reject', exc='ValueError')))

    def test_huge_length_read_after_a_frame(self):
        # BYTEARRAY8 in the last byte of an 11-byte FRAME: 7 bytes of its
        # length are inside the frame; CPython drops them and reads the
        # length from the 8 bytes after the frame (huge here), as brine
        # does; CPython then runs out of memory allocating it, brine reports
        # truncation (corpus/regressions/diff-huge-length-straddles-frame).
        data = (b'\x95\x0b' + bytes(7) + b'}]\x94\x96' + bytes(7)
                + bytes(3) + b'y\x94Ns.')
        out = reference.decode(data)
        self.assertEqual((out.kind, out.exc_class), ('resource', 'MemoryError'))
        self.assertEqual(matched(data, TRUNCATED, OOM), 'huge-length')
        # the same frame followed by a small length is not excused
        small = b'\x95\x0b' + bytes(7) + b'}]\x94\x96' + bytes(7) + bytes(8) + b'.'
        self.assertIsNone(matched(small, TRUNCATED, OOM))

    def test_deep_compare(self):
        data = deep_pair(1200)
        b = brine('accept', 'root: {...}\n')
        rec = ref('reject', exc='RecursionError')
        self.assertEqual(matched(data, b, rec), 'deep-compare')
        self.assertEqual(matched(data, b, ref('resource', exc='WorkerDied')), 'deep-compare')
        self.assertEqual(matched(data, brine('reject', exc='UnpicklingError'), rec),
                         'deep-compare')
        self.assertIsNone(matched(deep_pair(50), b, rec))            # not deep
        self.assertIsNone(matched(data, brine('reject', exc='RecursionError'), rec))
        self.assertIsNone(matched(data, b, ref('reject', exc='TypeError')))
        flat = b'\x80\x04' + b')' + b'\x85' * 1200 + b'.'             # no hashing
        self.assertIsNone(matched(flat, b, rec))

    def test_shared_compare(self):
        b = brine('accept', 'root: {...}\n')
        timeout = ref('resource', exc='Timeout')
        self.assertEqual(matched(shared_pair(40), b, timeout), 'shared-compare')
        self.assertIsNone(matched(shared_pair(40), b, OOM))
        self.assertIsNone(matched(deep_pair(10), b, timeout))        # nothing shared
        self.assertIsNone(matched(shared_pair(40), brine('crash', exc='Crash'), timeout))

    def test_bytearray_export(self):
        be = brine('reject', exc='BufferError')
        got = ref('accept', "root: bytearray(b'A')\n")
        self.assertEqual(matched(BYTEARRAY_EXPORT, be, got), 'bytearray-export')
        self.assertEqual(matched(BYTEARRAY_EXPORT, be, ref('reject', exc='TypeError')),
                         'bytearray-export')
        # no READONLY_BUFFER before the APPENDS; CPython's BufferError; brine's other error
        no_view = b'\x80\x05\x96' + bytes(8) + b'(KAe.'
        self.assertIsNone(matched(no_view, be, got))
        self.assertIsNone(matched(BYTEARRAY_EXPORT, be, ref('reject', exc='BufferError')))
        self.assertIsNone(matched(BYTEARRAY_EXPORT, brine('reject', exc='TypeError'), got))
        # the view made after the APPENDS
        late = b'\x80\x05\x96' + bytes(8) + b'(KAe\x98.'
        self.assertIsNone(matched(late, be, got))

    def test_codecs(self):
        lookup = brine('reject', exc='LookupError')
        got = ref('accept', "root: 'a\\u20ac'\n")
        self.assertEqual(matched(PY2_STRING, lookup, got, {'encoding': 'cp1252'}), 'codecs')
        self.assertEqual(matched(PY2_STRING, lookup, ref('reject', exc='UnicodeDecodeError'),
                                 Options(encoding='utf-16')), 'codecs')
        # brine implements these (aliases included), 'bytes', or CPython has no such codec
        for enc in ('ASCII', 'latin1', 'L1', 'UTF8', 'iso-8859-1', 'bytes', 'no-such-codec'):
            self.assertIsNone(matched(PY2_STRING, lookup, got, {'encoding': enc}), enc)
        # no Python 2 string decoded; brine's other error; default options
        self.assertIsNone(matched(b'\x80\x04K\x01.', lookup, got, {'encoding': 'cp1252'}))
        self.assertIsNone(matched(PY2_STRING, brine('reject', exc='UnicodeDecodeError'), got,
                                  {'encoding': 'cp1252'}))
        self.assertIsNone(matched(PY2_STRING, lookup, got))

    def test_ops_from_the_reference_are_used(self):
        """With ops given, the matcher uses them rather than replaying the stream."""
        be = brine('reject', exc='BufferError')
        ops = [(0, 'PROTO'), (2, 'BYTEARRAY8'), (11, 'READONLY_BUFFER'), (12, 'APPENDS')]
        self.assertEqual(matched(b'', be, ref('accept', 'root: 1\n', ops=ops)),
                         'bytearray-export')
        self.assertIsNone(matched(BYTEARRAY_EXPORT, be, ref('accept', 'root: 1\n', ops=[])))


class UnrelatedTest(unittest.TestCase):
    """Ordinary disagreements on ordinary streams: nothing excuses them."""

    STREAMS = [b'\x80\x04K\x01.', b'(.', b']]b.', b'I+1\n.', PY2_STRING, BYTEARRAY_EXPORT,
               HUGE_PUT, HUGE_BINBYTES8, deep_pair(1200), shared_pair(20), b'']
    PAIRS = [
        (brine('accept', 'root: 2\n'), ACCEPT),                        # different graph
        (brine('reject', exc='ValueError'), ref('reject', exc='UnpicklingError')),
        (brine('accept', 'root: 1\n'), ref('reject', exc='UnpicklingError')),
        (TRUNCATED, ACCEPT),
        (brine('reject', exc='MemoryError'), ACCEPT),
        (brine('reject', exc='OverflowError'), ref('reject', exc='TypeError')),
    ]

    def test_nothing_excused(self):
        for data in self.STREAMS:
            for b, r in self.PAIRS:
                for options in (None, Options(policy='builtins'), {'encoding': 'latin1'}):
                    self.assertIsNone(kd.match(data, options, b, r),
                                      (data[:20], b.kind, b.exc_class, r))

    def test_matcher_errors_do_not_escape(self):
        """Garbage input to the walker (ops None) is not an exception."""
        self.assertIsNone(kd.match(b'\x95\xff\xff\xff\xff\xff\xff\xff\xff', None,
                                   TRUNCATED, OOM))


if __name__ == '__main__':
    unittest.main()
