"""scripts/campaign/triage.py: one bug, one signature.

A decoder bug shows as many divergent streams with different outcomes: a
brine that accepts PROTO 6 accepts `\\x80\\x06N.`, fails with a stack
underflow on `\\x80\\x06.`, with a TypeError on another stream.  Triage
names a divergence by the opcode where brine and CPython part ways, so all
of them must get one signature, and another bug another one.

The bugs are planted in a fake brine (a script speaking `brine decode
--batch` that rewrites each request's pickle before the real brine sees
it, so offsets stay right):

    proto6   PROTO 6 is read as PROTO 5 (brine goes on where CPython fails)
    newtrue  NEWTRUE is read as NEWFALSE (both go on, the values differ)

Environment: BRINE_BIN (default build/brine).
"""

import os
import stat
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'scripts'))

from campaign import triage  # noqa: E402
from oracle import fuzzinput  # noqa: E402

BRINE = os.environ.get('BRINE_BIN') or os.path.join(ROOT, 'build', 'brine')

FAKE = r'''#!%(python)s
import struct, subprocess, sys
REWRITE = %(rewrite)r
real = subprocess.Popen([%(brine)r] + sys.argv[1:], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE)
inp, out = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = inp.read(4)
    if len(head) < 4:
        break
    body = inp.read(struct.unpack('<I', head)[0])
    pos = 4                                  # skip the buffers header
    for _ in range(struct.unpack_from('<I', body)[0]):
        pos += 5 + struct.unpack_from('<I', body, pos + 1)[0]
    body = body[:pos] + body[pos:].replace(*REWRITE)
    real.stdin.write(struct.pack('<I', len(body)) + body)
    real.stdin.flush()
    reply = real.stdout.read(struct.unpack('<I', real.stdout.read(4))[0])
    out.write(struct.pack('<I', len(reply)) + reply)
    out.flush()
'''

PLANTS = {'proto6': (b'\x80\x06', b'\x80\x05'), 'newtrue': (b'\x88', b'\x89')}

# Pickles; analysed() appends the option byte the decode/diff targets read
# (0x00: the default options).
PROTO6_STREAMS = [
    b'\x80\x06N.',                # brine accepts, CPython ValueError
    b'\x80\x06.',                 # brine: stack underflow
    b'N\x80\x06.',                # PROTO 6 after a value
    b'\x80\x06]\x94N\x85R.',      # brine: TypeError/UnpicklingError at REDUCE
    b'\x80\x06\x95\x02\x00\x00\x00\x00\x00\x00\x00N.',
    # inside a FRAME: a cut there must not leave the frame short
    b'\x80\x04\x95\x06\x00\x00\x00\x00\x00\x00\x00]\x80\x06Na.',
]
NEWTRUE_STREAMS = [b'\x80\x02\x88.', b'\x80\x02]\x88a.', b'(\x88\x88t.']


def write_fake(directory, plant):
    path = os.path.join(directory, 'fake-brine-' + plant)
    with open(path, 'w') as f:
        f.write(FAKE % {'python': sys.executable, 'rewrite': PLANTS[plant],
                        'brine': os.path.abspath(BRINE)})
    os.chmod(path, stat.S_IRWXU)
    return path


def analysed(pickle, brine, option_byte=b'\x00'):
    t = triage.Triage('diff')
    t.kind, t.cls = 'divergence', 'divergence'
    triage.analyse_divergence(t, pickle + option_byte, brine)
    return t


@unittest.skipUnless(os.access(BRINE, os.X_OK), 'no brine binary at %s' % BRINE)
class PartingPointTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix='brine-triage-')
        cls.fakes = {p: write_fake(cls.tmp.name, p) for p in PLANTS}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_one_signature_for_many_outcomes(self):
        seen = {}
        for data in PROTO6_STREAMS:
            t = analysed(data, self.fakes['proto6'])
            self.assertFalse(t.result.ok, data)
            self.assertEqual(t.parting['opcode'], 'PROTO', data)
            self.assertEqual((t.parting['class'], t.parting['reference']),
                             ('reference-rejects', 'ValueError'), data)
            seen.setdefault(t.signature(), []).append((data, t.cls, t.exc_pair))
        self.assertEqual(len(seen), 1, seen)
        # the whole streams did diverge in different ways
        whole = {(cls, exc) for streams in seen.values() for _, cls, exc in streams}
        self.assertGreater(len(whole), 1, whole)
        sig = next(iter(seen))
        self.assertTrue(sig.startswith('diff-reference-rejects-'), sig)

    def test_parting_offset_is_the_opcode(self):
        t = analysed(b'N\x80\x06.', self.fakes['proto6'])
        self.assertEqual((t.parting['index'], t.parting['offset']), (1, 1))
        t = analysed(PROTO6_STREAMS[-1], self.fakes['proto6'])
        self.assertEqual((t.parting['index'], t.parting['offset']), (3, 12))

    def test_cuts_inside_a_frame_resize_it(self):
        body = PROTO6_STREAMS[-1]
        from oracle.chunks import tokenize
        cuts = [c for _, c in triage._cuts(body, tokenize(body))]
        # after ']' (payload 1 byte): the frame holds ']' and the STOP
        self.assertEqual(cuts[2], b'\x80\x04\x95\x02' + bytes(7) + b'].')
        # the whole stream: the frame is complete, its length unchanged
        self.assertEqual(cuts[-1], body + b'.')

    def test_cuts_leave_overrunning_frames_and_stop_at_straddles(self):
        from oracle.chunks import tokenize

        def cuts(body):
            return list(triage._cuts(body, tokenize(body)))
        # a frame that runs past the end stays as it is: its overrun is
        # part of what is compared
        body = b'\x80\x04\x95' + (100).to_bytes(8, 'little') + b'N.'
        self.assertEqual([c for _, c in cuts(body)][1], body[:11] + b'.')
        # LONG_BINPUT's index straddles the frame's end (CPython reads it
        # from after the frame): no cut from there on
        body = b'\x95' + (3).to_bytes(8, 'little') + b']r\x00' + b'\x00\x00\x00\x40.'
        self.assertEqual([i for i, _ in cuts(body)], [0, 1])
        # an argument that runs past the end: no cut (STOP would become
        # argument bytes)
        self.assertEqual([i for i, _ in cuts(b'\x80\x04K')], [0])

    def test_value_difference(self):
        sigs = set()
        for data in NEWTRUE_STREAMS:
            t = analysed(data, self.fakes['newtrue'])
            self.assertEqual(t.parting['opcode'], 'NEWTRUE', data)
            self.assertEqual(t.parting['class'], 'different-value', data)
            sigs.add(t.signature())
        self.assertEqual(len(sigs), 1, sigs)
        proto6 = analysed(PROTO6_STREAMS[0], self.fakes['proto6']).signature()
        self.assertNotIn(proto6, sigs)

    def test_coarse_key_groups_before_minimization(self):
        keys = {analysed(d, self.fakes['proto6']).coarse_key() for d in PROTO6_STREAMS}
        self.assertEqual(len(keys), 1, keys)

    def test_options_are_kept(self):
        # option byte 0x01: the builtins policy
        self.assertEqual(fuzzinput.split(b'\x80\x06N.\x01')[1].policy, 'builtins')
        t = analysed(b'\x80\x06N.', self.fakes['proto6'], b'\x01')
        self.assertEqual(t.parting['opcode'], 'PROTO')
        self.assertEqual(t.result.policy, 'builtins')

    def test_agreeing_stream_has_no_parting_point(self):
        body, opts = fuzzinput.split(b'\x80\x04N.\x00')
        self.assertEqual(body, b'\x80\x04N.')
        self.assertIsNone(triage.parting_point(body, opts, self.fakes['proto6']))


if __name__ == '__main__':
    unittest.main()
