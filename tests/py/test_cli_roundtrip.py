"""`brine decode --policy P f | brine encode --protocol p` gives back f.

The strictest end-to-end property of the codec: for pickles CPython writes,
the canonical text carries everything needed to write the same bytes again.
This runs the real command line (decoder, printer, reader, encoder) on a
deterministic sample of the oracle's generated corpus, under both policies,
at the protocol each pickle was written with. The full corpus is run by
`python3 tests/py/test_cli_roundtrip.py --all DIR` (see the issue notes).
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile
import unittest
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BRINE = os.environ.get("BRINE_BIN", os.path.join(ROOT, "build", "brine"))


def generate(out, seed=7, count=1):
    subprocess.run([sys.executable, "-m", "oracle", "generate", "--seed", str(seed),
                    "--count-per-family", str(count), "--out", out],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def round_trip(corpus, case, policy):
    """None when decode | encode reproduces the file, else a description."""
    data = open(os.path.join(corpus, case["file"]), "rb").read()
    args = []
    for buf in case.get("buffers", []):
        args += ["--buffer", os.path.join(corpus, buf["file"])]
    for module, name, code in case.get("extensions", []):
        args += ["--extension", "%d:%s:%s" % (code, module, name)]
    dec = subprocess.run([BRINE, "decode", "--policy", policy, *args, "-"], input=data,
                         capture_output=True)
    if dec.returncode:
        return "decode failed: %s" % dec.stderr.decode(errors="replace").strip()
    enc = subprocess.run([BRINE, "encode", "--protocol", str(case["protocol"]), "-"],
                         input=dec.stdout, capture_output=True)
    if enc.returncode:
        return "encode failed: %s" % enc.stderr.decode(errors="replace").strip()
    if enc.stdout != data:
        n = next((i for i, (a, b) in enumerate(zip(enc.stdout, data)) if a != b),
                 min(len(enc.stdout), len(data)))
        return "bytes differ at offset %d (%d vs %d bytes)" % (n, len(enc.stdout), len(data))
    return None


def run(corpus, every=1):
    manifest = json.load(open(os.path.join(corpus, "manifest.json")))
    jobs = [(c, p) for c in manifest["cases"]
            if c["roundtrip"] and zlib.crc32(c["file"].encode()) % every == 0
            for p in c["roundtrip_policies"]]
    counts, failures = {}, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for (case, policy), problem in zip(jobs, pool.map(lambda j: round_trip(corpus, *j), jobs)):
            key = (case["protocol"], policy)
            n, bad = counts.get(key, (0, 0))
            counts[key] = (n + 1, bad + (problem is not None))
            if problem:
                failures.append("%s (%s): %s" % (case["file"], policy, problem))
    for (proto, policy), (n, bad) in sorted(counts.items()):
        print("protocol %d %-8s %5d round trips, %d mismatches" % (proto, policy, n, bad),
              file=sys.stderr)
    return counts, failures


class CliRoundTrip(unittest.TestCase):
    def test_sample_of_generated_corpus(self):
        with tempfile.TemporaryDirectory() as tmp:
            generate(tmp)
            counts, failures = run(tmp, every=3)
        for f in failures:
            print(f, file=sys.stderr)
        self.assertEqual({p for p, _ in counts}, {0, 1, 2, 3, 4, 5})
        self.assertGreater(sum(n for n, _ in counts.values()), 500)
        self.assertEqual(failures, [])


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--all":
        _, fails = run(sys.argv[2])
        print("\n".join(fails[:50]))
        print("%d failures" % len(fails))
        sys.exit(1 if fails else 0)
    unittest.main()
