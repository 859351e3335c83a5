"""Every case of tests/data/decode_cases.txt under every protocol header.

The decoder only consults the protocol for the Python 2 name mapping, but
that is exactly the kind of assumption a conformance suite should check:
each case's body is run after `PROTO p` for p = 0..5, through brine
(`brine decode --batch`) and through CPython (the oracle's reference), and
the outcomes must agree: the same canonical text, or the same exception
class. Cases that CPython only fails by exhausting memory are skipped.
"""
import os
import struct
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from oracle import reference  # noqa: E402
from test_decode_cases import load_cases, reference_kwargs  # noqa: E402

BRINE = os.environ.get("BRINE_BIN", os.path.join(ROOT, "build", "brine"))


class BatchDecoder:
    """One long-lived `brine decode --batch` process per option set."""

    def __init__(self, args):
        self.proc = subprocess.Popen([BRINE, "decode", "--batch", *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def decode(self, data, buffers=()):
        rec = struct.pack("<I", len(buffers))
        for blob, readonly in buffers:
            rec += struct.pack("<BI", readonly, len(blob)) + blob
        rec += data
        self.proc.stdin.write(struct.pack("<I", len(rec)) + rec)
        self.proc.stdin.flush()
        n, = struct.unpack("<I", self.proc.stdout.read(4))
        reply = self.proc.stdout.read(n).decode("ascii")
        if reply.startswith("ok\n"):
            return ("accept", reply[3:])
        return ("reject", reply.split(":", 2)[1].strip())

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()
        self.proc.stdout.close()


def cli_args(opts):
    args = []
    for key, vals in opts.items():
        if key in ("policy", "encoding", "errors"):
            args += ["--" + key, vals[-1]]
        elif key == "fix_imports" and vals[-1] == "0":
            args.append("--no-fix-imports")
    return args


class ProtocolSweep(unittest.TestCase):
    def test_every_case_under_every_protocol(self):
        cases = load_cases(os.path.join(ROOT, "tests", "data", "decode_cases.txt"))
        decoders = {}
        compared = 0
        failures = []
        for case in cases:
            opts = case["opts"]
            kw = reference_kwargs(opts)
            if kw.pop("brine_only", False) or case["ref"] == "resource" or "ext" in opts:
                continue
            body = case["in"]
            if body[:1] == b"\x80" and len(body) >= 2:
                body = body[2:]
            buffers = kw.get("buffers") or ()
            key = tuple(cli_args(opts))
            if key not in decoders:
                decoders[key] = BatchDecoder(list(key))
            for proto in range(6):
                data = b"\x80" + bytes([proto]) + body
                ref = reference.decode(data, **kw)
                if ref.kind == "resource":
                    continue
                got = decoders[key].decode(data, buffers)
                want = ("accept", ref.text) if ref.kind == "accept" else ("reject", ref.exc_class)
                compared += 1
                if got != want:
                    failures.append((case["name"], proto, got, want))
        for d in decoders.values():
            d.close()
        for name, proto, got, want in failures:
            print("%s at protocol %d: brine %r, CPython %r" % (name, proto, got, want),
                  file=sys.stderr)
        print("protocol sweep: %d decodes compared, %d disagree" % (compared, len(failures)),
              file=sys.stderr)
        self.assertGreater(compared, 600)
        self.assertEqual(failures, [])


if __name__ == "__main__":
    unittest.main()
