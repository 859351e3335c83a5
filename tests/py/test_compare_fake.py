"""oracle.compare against fake brine executables: crashes, timeouts,
sanitizer reports, malformed replies and chosen mismatches, alone and in
the middle of pipelined batches (the process is restarted and the other
inputs are unaffected).

The fake is a small Python script speaking `brine decode --batch`'s
protocol.  It forwards each request to a real `brine decode --batch` with
the same options, unless the request contains a marker word (inputs are
real pickles of those words, so the reference decodes them normally):

    SEGV        kill itself with SIGSEGV
    EXIT3       exit with status 3
    SLEEP       sleep for a minute (brine-timeout)
    UBSAN       print a UBSan report on stderr, then answer correctly
    GARBAGE     answer something that is neither `ok` nor an error line
    WRONGTEXT   answer `ok` with another text (different-graph)
    WRONGCLASS  answer ValueError (different-exception, on a rejected stream)
    REJECT      answer UnpicklingError (brine-rejects-reference-accepts)
    ACCEPT      answer `ok` (brine-accepts-reference-rejects)
"""

import os
import pathlib
import pickle
import stat
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from oracle import known_differences  # noqa: E402
from oracle.compare import Comparer  # noqa: E402

BRINE = os.environ.get('BRINE_BIN') or str(ROOT / 'build' / 'brine')

FAKE = r'''#!%(python)s
import os, signal, struct, subprocess, sys, time
real = subprocess.Popen([%(brine)r] + sys.argv[1:], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE)
inp, out = sys.stdin.buffer, sys.stdout.buffer

def read_exact(f, n):
    b = f.read(n)
    return b if len(b) == n else None

while True:
    head = read_exact(inp, 4)
    if head is None:
        break
    body = read_exact(inp, struct.unpack('<I', head)[0])
    if b'SEGV' in body:
        os.kill(os.getpid(), signal.SIGSEGV)
    if b'EXIT3' in body:
        sys.exit(3)
    if b'SLEEP' in body:
        time.sleep(60)
    if b'UBSAN' in body:
        sys.stderr.write('src/x.c:1:2: runtime error: signed integer overflow\n')
        sys.stderr.flush()
    if b'GARBAGE' in body:
        reply = b'what?'
    elif b'WRONGTEXT' in body:
        reply = b'ok\nroot: 0\n'
    elif b'WRONGCLASS' in body:
        reply = b'error: ValueError: fake (offset 0)\n'
    elif b'REJECT' in body:
        reply = b'error: UnpicklingError: fake (offset 0)\n'
    elif b'ACCEPT' in body:
        reply = b'ok\nroot: None\n'
    else:
        real.stdin.write(head + body)
        real.stdin.flush()
        n = struct.unpack('<I', real.stdout.read(4))[0]
        reply = real.stdout.read(n)
    out.write(struct.pack('<I', len(reply)) + reply)
    out.flush()
'''


def word(w):
    """A real pickle containing the marker word (the reference accepts it)."""
    return pickle.dumps(w, 4)


def bad(w):
    """A stream the reference rejects (truncated), containing the word."""
    return b'\x80\x04\x8c' + bytes([len(w) + 5]) + w.encode()


@unittest.skipUnless(os.access(BRINE, os.X_OK), 'brine not built: ' + BRINE)
class FakeBrineTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.fake = os.path.join(cls.tmp.name, 'fake-brine')
        with open(cls.fake, 'w') as f:
            f.write(FAKE % {'python': sys.executable, 'brine': os.path.abspath(BRINE)})
        os.chmod(cls.fake, stat.S_IRWXU)
        # A restarted fake is a Python process: on a loaded 2-core machine
        # (ctest -j2 next to a build) its start alone took over 1 s once,
        # and an honest input was classed brine-timeout.
        cls.c = Comparer(brine=cls.fake, brine_timeout=3.0, batch=8)

    @classmethod
    def tearDownClass(cls):
        cls.c.close()
        cls.tmp.cleanup()

    def classes(self, inputs, policy='symbolic'):
        return [r.cls for r in self.c.compare_many(inputs, policy)]

    def test_passthrough_agrees(self):
        for policy in ('symbolic', 'builtins'):
            self.assertEqual(self.classes([word('x'), b'(.', b'N.'],
                                          policy), ['agree'] * 3)

    def test_segfault(self):
        r = self.c.compare(word('SEGV'))
        self.assertEqual(r.cls, 'brine-crash')
        self.assertEqual(r.brine.message, 'brine decode --batch killed by SIGSEGV')
        self.assertFalse(r.ok)
        self.assertIsNone(r.entry)

    def test_exit(self):
        r = self.c.compare(word('EXIT3'))
        self.assertEqual(r.cls, 'brine-crash')
        self.assertIn('exited with status 3', r.brine.message)

    def test_timeout(self):
        r = self.c.compare(word('SLEEP'))
        self.assertEqual(r.cls, 'brine-timeout')
        self.assertEqual(r.reference.kind, 'accept')

    def test_sanitizer(self):
        r = self.c.compare(word('UBSAN'))
        self.assertEqual(r.cls, 'brine-crash')
        self.assertEqual(r.brine.exc_class, 'Sanitizer')
        self.assertIn(b'runtime error', r.brine.stderr)

    def test_garbage_reply(self):
        r = self.c.compare(word('GARBAGE'))
        self.assertEqual((r.cls, r.brine.exc_class), ('brine-crash', 'BadReply'))

    def test_chosen_mismatches(self):
        for policy in ('symbolic', 'builtins'):
            got = self.classes([word('WRONGTEXT'), bad('WRONGCLASS'), word('REJECT'),
                                bad('ACCEPT')], policy)
            self.assertEqual(got, ['different-graph', 'different-exception',
                                   'brine-rejects-reference-accepts',
                                   'brine-accepts-reference-rejects'])

    def test_failures_inside_a_pipelined_batch(self):
        """Each failure hits only its own input; the rest of the batch (sent
        before the failure, to a process that no longer exists) is resent."""
        inputs = [word('a'), word('SEGV'), word('b'), word('c'), word('SLEEP'), word('d'),
                  word('UBSAN'), word('e'), word('EXIT3'), word('f'), word('g')]
        before = self.c.brine_restarts
        got = self.classes(inputs)
        self.assertEqual(got, ['agree', 'brine-crash', 'agree', 'agree', 'brine-timeout',
                               'agree', 'brine-crash', 'agree', 'brine-crash', 'agree',
                               'agree'])
        self.assertGreaterEqual(self.c.brine_restarts - before, 3)
        rs = list(self.c.compare_many(inputs))
        self.assertEqual(rs[6].brine.exc_class, 'Sanitizer')  # attributed exactly
        self.assertFalse(any(r.brine.stderr for i, r in enumerate(rs) if i != 6))
        self.assertEqual(rs[7].brine.text, "root: 'e'\n")

    def test_registry_does_not_excuse_fakes(self):
        """The forced mismatches are not known differences."""
        for data in (word('WRONGTEXT'), bad('WRONGCLASS'), word('REJECT'), bad('ACCEPT')):
            r = self.c.compare(data)
            self.assertIsNone(r.entry)
            self.assertIsNone(known_differences.match(data, None, r.brine, r.reference))


if __name__ == '__main__':
    unittest.main()
