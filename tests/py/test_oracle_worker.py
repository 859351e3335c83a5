"""The worker protocol, the client (restart on kill), resource limits
(memory, time, worker death) and the command line."""

import os
import pathlib
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from oracle import reference, worker  # noqa: E402
from oracle.limits import Limits  # noqa: E402
from oracle.reference import OracleError, Options, decode_inprocess  # noqa: E402
from oracle.worker import WorkerClient  # noqa: E402

ENV = dict(os.environ, PYTHONPATH=str(ROOT))
MERSENNE61 = (1 << 61) - 1


def long1(x):
    n = (x.bit_length() + 8) // 8 if x else 0
    return b'\x8a' + bytes([n]) + x.to_bytes(n, 'little', signed=True)


def colliding_set(n):
    """A set of n ints that all hash to 0: quadratic insertion in CPython."""
    return b'\x80\x04\x8f(' + b''.join(long1(i * MERSENNE61) for i in range(1, n)) + b'\x900N.'


class ProtocolTest(unittest.TestCase):

    def test_request_round_trip(self):
        opts = Options('builtins', 'latin1', 'replace', False, [(b'ab', False), (b'', True)],
                       {7: ('m', '\ud800')}, 'python')
        body = worker.request_for(b'data', opts, True)
        (n,) = struct.unpack('>I', body[:4])
        self.assertEqual(n, len(body) - 4)
        header, payload = worker.unpack(body[4:])
        data, got, want_ops = worker._options_from(header, payload)
        self.assertEqual(data, b'data')
        self.assertTrue(want_ops)
        for attr in Options.__slots__:
            self.assertEqual(getattr(got, attr), getattr(opts, attr), attr)

    def test_raw_protocol_with_a_subprocess(self):
        p = subprocess.Popen([sys.executable, '-m', 'oracle', 'worker'], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=ENV, cwd=str(ROOT))

        def ask(header, payload=b''):
            p.stdin.write(worker.pack(header, payload))
            p.stdin.flush()
            (n,) = struct.unpack('>I', p.stdout.read(4))
            return worker.unpack(p.stdout.read(n))

        try:
            header, _ = ask({'op': 'ping'})
            self.assertEqual(header, {'kind': 'pong', 'pid': p.pid})
            header, payload = ask({'op': 'decode', 'data_len': 3, 'want_ops': True,
                                   'buffers': [[2, False]]}, b'\x97\x98.ab')
            self.assertEqual(header['kind'], 'accept')
            self.assertEqual(payload, b'root: readonly(buffer(0))\n')
            self.assertEqual(header['ops'], [[0, 'NEXT_BUFFER'], [1, 'READONLY_BUFFER'], [2, 'STOP']])
            header, payload = ask({'op': 'decode', 'data_len': 1}, b'.')
            self.assertEqual((header['kind'], header['exc_class'], header['message'], payload),
                             ('reject', 'UnpicklingError', 'unpickling stack underflow', b''))
            header, _ = ask({'op': 'bogus'})
            self.assertEqual(header['kind'], 'internal')
            p.stdin.write(worker.pack({'op': 'exit'}))
            p.stdin.flush()
            self.assertEqual(p.wait(10), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdin.close()
            p.stdout.close()


class ClientTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.client = WorkerClient(Limits(timeout=20), stderr=subprocess.DEVNULL)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def test_same_outcomes_as_in_process(self):
        cases = [
            (b'\x80\x02]q\x00(K\x01h\x00e.', {}),
            (b'\x80\x05\x97\x98\x97\x86.', {'buffers': [(b'x', False), (b'y', True)]}),
            (b'\x80\x02\x82\x05.', {'extensions': {5: ('m', 'n')}}),
            (b'\x80\x02\x82\x05.', {}),
            (b'\x80\x02c__builtin__\nset\n]K\x01\x85R.', {'policy': 'builtins'}),
            (b'I+1\n.', {'impl': 'python'}),
            (b"U\x01\xe9.", {'encoding': 'latin1'}),
        ]
        for data, kw in cases:
            got = self.client.decode(data, **kw)
            self.assertEqual(got, decode_inprocess(data, Options(**kw)), (data, kw))

    def test_restart_after_kill_between_requests(self):
        self.assertEqual(self.client.decode(b'K\x01.').text, 'root: 1\n')
        before = self.client.restarts
        os.kill(self.client.pid, signal.SIGKILL)
        time.sleep(0.05)
        self.assertEqual(self.client.decode(b'K\x02.').text, 'root: 2\n')
        self.assertEqual(self.client.restarts, before + 1)

    def test_internal_errors_raise(self):
        got, failed = self.client.request(worker.pack({'op': 'bogus'}), 10)
        self.assertIsNone(failed)
        self.assertEqual(got[0]['kind'], 'internal')
        self.assertRaises(ValueError, self.client.decode, b'.', policy='nope')

    def test_reference_decode_uses_a_shared_worker(self):
        o = reference.decode(b'\x80\x02cos\nsystem\n.', want_ops=False)
        self.assertEqual(o.text, "root: global('os', 'system')\n")
        self.assertIsNone(o.ops)
        self.assertIs(worker.shared_client(reference.DEFAULT_LIMITS),
                      worker.shared_client(Limits()))
        o = reference.decode(b'N.', limits=None)
        self.assertEqual(o.ops, [(0, 'NONE'), (1, 'STOP')])


class ResourceTest(unittest.TestCase):
    """Streams that make CPython allocate gigabytes or compute for seconds
    end as resource outcomes, never as an OOM of the machine."""

    def test_memory(self):
        with WorkerClient(Limits(max_memory=1 << 30, timeout=30), stderr=subprocess.DEVNULL) as c:
            huge = (3 << 30).to_bytes(8, 'little')
            for data in (b'\x80\x04\x8e' + huge + b'.',                  # BINBYTES8, gh-115952
                         b'\x80\x05\x96' + huge + b'.',                  # BYTEARRAY8
                         b'N\x72\xff\xff\xff\x7f.',                      # LONG_BINPUT 2**31-1
                         b'Np1073741823\n.'):                            # PUT: memo of 2**31
                o = c.decode(data)
                self.assertEqual((o.kind, o.exc_class), ('resource', 'MemoryError'), data)
            # below the limit the allocation succeeds and the data is just short
            o = c.decode(b'\x80\x04\x8e' + (256 << 20).to_bytes(8, 'little') + b'.')
            self.assertEqual((o.kind, o.message), ('reject', 'pickle data was truncated'))
            self.assertEqual(c.restarts, 0)
            self.assertEqual(c.decode(b'K\x01.').text, 'root: 1\n')

    def test_time_budget_kills_and_restarts(self):
        with WorkerClient(Limits(timeout=0.5)) as c:
            self.assertEqual(c.decode(b'K\x01.').text, 'root: 1\n')
            start = time.monotonic()
            o = c.decode(colliding_set(40000))
            self.assertLess(time.monotonic() - start, 3)
            self.assertEqual((o.kind, o.exc_class), ('resource', 'Timeout'))
            self.assertEqual(c.decode(b'K\x02.').text, 'root: 2\n')
            self.assertEqual(c.restarts, 1)
        # the same stream completes with a larger budget (it is only slow)
        with WorkerClient(Limits(timeout=30)) as c:
            self.assertEqual(c.decode(colliding_set(3000)).text, 'root: None\n')

    def test_worker_death_is_a_resource_outcome(self):
        # hashing a 10**6-deep tuple (ADDITEMS) overflows CPython's C stack
        data = b'\x80\x04\x8f(N' + b'\x85' * 1000000 + b'\x90.'
        with WorkerClient(Limits(timeout=30)) as c:
            o = c.decode(data, want_ops=False)
            self.assertEqual((o.kind, o.exc_class), ('resource', 'WorkerDied'))
            self.assertIn('SIGSEGV', o.message)
            self.assertEqual(c.decode(b'K\x03.').text, 'root: 3\n')


class CommandLineTest(unittest.TestCase):

    def run_oracle(self, *args, stdin=b''):
        return subprocess.run([sys.executable, '-m', 'oracle'] + list(args), input=stdin,
                              capture_output=True, env=ENV, cwd=str(ROOT), timeout=60)

    def test_decode(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'p')
            with open(path, 'wb') as f:
                f.write(b'\x80\x02c__builtin__\nset\n]K\x01a\x85R.')
            r = self.run_oracle('decode', '--policy', 'builtins', path)
            self.assertEqual((r.returncode, r.stdout, r.stderr), (0, b'root: {1}\n', b''))
            r = self.run_oracle('decode', '--no-fix-imports', '--ops', path)
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stdout, b"root: call(global('__builtin__', 'set'), ([1],))\n")
            self.assertTrue(r.stderr.startswith(b'0 PROTO\n2 GLOBAL\n'), r.stderr)
            b0, b1 = os.path.join(tmp, 'b0'), os.path.join(tmp, 'b1')
            for name, content in ((b0, b'ro'), (b1, b'rw')):
                with open(name, 'wb') as f:
                    f.write(content)
            r = self.run_oracle('decode', '--readonly-buffer', b0, '--buffer', b1, '-',
                                stdin=b'\x80\x05\x97\x98\x97\x98\x86.')
            self.assertEqual(r.stdout, b'root: (buffer(0), readonly(buffer(1)))\n')

    def test_errors_and_exit_codes(self):
        r = self.run_oracle('decode', '-', stdin=b'K\x01')
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, b'', b'error: EOFError: Ran out of input\n'))
        r = self.run_oracle('decode', '--max-memory', '512m', '-',
                            stdin=b'\x80\x04\x8e' + (1 << 30).to_bytes(8, 'little') + b'.')
        self.assertEqual((r.returncode, r.stderr), (3, b'error: MemoryError: \n'))

    def test_help(self):
        r = self.run_oracle('--help')
        self.assertEqual(r.returncode, 0)
        for cmd in (b'decode', b'worker', b'bench-worker', b'generate', b'compare'):
            self.assertIn(cmd, r.stdout)
        for cmd in ('decode', 'worker', 'bench-worker'):
            r = self.run_oracle(cmd, '--help')
            self.assertEqual(r.returncode, 0, cmd)
            self.assertIn(b'usage: python3 -m oracle ' + cmd.encode(), r.stdout)
        self.assertIn(b'u32', self.run_oracle('worker', '--help').stdout)
        r = self.run_oracle('frobnicate')
        self.assertEqual(r.returncode, 2)


if __name__ == '__main__':
    unittest.main()
