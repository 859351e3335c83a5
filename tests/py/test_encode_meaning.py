"""What brine encode writes, CPython loads back as the same canonical text.

For a sample of the oracle's generated corpus, the canonical text T of each
pickle (written by CPython at protocol p) is encoded by `brine encode` at
every protocol q >= p, and CPython itself (the oracle's reference decoder)
must load the result back to exactly T. Below p the encoder follows
CPython's protocol fallbacks (NEWOBJ becomes copyreg.__newobj__ below
protocol 2, NEWOBJ_EX functools.partial below 4, ...), which load back as
different but equivalent graphs; those are counted, not compared.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from oracle import reference  # noqa: E402

BRINE = os.environ.get("BRINE_BIN", os.path.join(ROOT, "build", "brine"))


class EncodeMeaning(unittest.TestCase):
    def test_cpython_loads_what_brine_writes(self):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "oracle", "generate", "--seed", "11",
                            "--count-per-family", "1", "--out", tmp],
                           cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            manifest = json.load(open(os.path.join(tmp, "manifest.json")))
            compared = lower = 0
            failures = []
            for case in manifest["cases"]:
                if case["buffers"] or case["extensions"] or case["how"] == "handwritten":
                    continue
                if zlib.crc32(case["file"].encode()) % 4:
                    continue
                for policy in ("symbolic", "builtins"):
                    data = open(os.path.join(tmp, case["file"]), "rb").read()
                    dec = subprocess.run([BRINE, "decode", "--policy", policy, "-"], input=data,
                                         capture_output=True)
                    if dec.returncode:
                        failures.append((case["file"], policy, "decode", dec.stderr))
                        continue
                    for q in range(case["protocol"], 6):
                        enc = subprocess.run([BRINE, "encode", "--protocol", str(q), "-"],
                                             input=dec.stdout, capture_output=True)
                        if enc.returncode:
                            failures.append((case["file"], policy, q, enc.stderr))
                            continue
                        back = reference.decode(enc.stdout, policy=policy)
                        compared += 1
                        if back.kind != "accept" or back.text != dec.stdout.decode():
                            failures.append((case["file"], policy, q, back))
                    lower += case["protocol"]
        for f in failures[:20]:
            print(f, file=sys.stderr)
        print("encode meaning: %d encodings loaded back by CPython and compared, %d failures "
              "(%d lower-protocol encodings not compared)" % (compared, len(failures), lower),
              file=sys.stderr)
        self.assertGreater(compared, 300)
        self.assertEqual(failures, [])


if __name__ == "__main__":
    unittest.main()
