"""Checks tests/data/decode_cases.txt against CPython 3.11 itself.

tests/unit/test_decode_cases.c checks that brine gives each case's expected
canonical text or error. This test checks the expectations: the oracle's
reference decoder (CPython's C unpickler with inert stubs) must print the
same canonical text, or raise the same exception class. A case may say
`ref resource` when CPython only fails by running out of memory (a known,
documented difference: see docs/known-differences.md).
"""
import ast
import os
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from oracle import reference  # noqa: E402


def load_cases(path):
    cases, case = [], None
    with open(path, encoding="ascii") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("case "):
                case = {"name": line[5:], "opts": {}, "out": [], "err": None, "ref": None}
                cases.append(case)
            elif case is None or not line or line.startswith("#"):
                continue
            elif line.startswith("in "):
                case["in"] = ast.literal_eval("b" + line[3:])
            elif line.startswith("opt "):
                for tok in line[4:].split():
                    key, _, val = tok.partition("=")
                    case["opts"].setdefault(key, []).append(val)
            elif line.startswith("out "):
                case["out"].append(line[4:])
            elif line.startswith("err "):
                case["err"] = line.split()[1]
            elif line.startswith("ref "):
                case["ref"] = line[4:]
    return cases


def reference_kwargs(opts):
    kw = {}
    for key, vals in opts.items():
        val = vals[-1]
        if key == "policy":
            kw["policy"] = val
        elif key == "encoding":
            kw["encoding"] = val
        elif key == "errors":
            kw["errors"] = val
        elif key == "fix_imports":
            kw["fix_imports"] = val != "0"
        elif key in ("buffers", "robuffers"):
            kw["buffers"] = [(b"b%d" % i, key == "robuffers") for i in range(int(val))]
        elif key == "ext":
            reg = {}
            for v in vals:
                code, mod, name = v.split(":")
                reg[int(code)] = (mod, name)
            kw["extensions"] = reg
        elif key in ("max_memo", "max_marks", "max_memory"):
            kw["brine_only"] = True  # brine's own caps; CPython has none
    return kw


class DecodeCasesAgainstCPython(unittest.TestCase):
    def test_cases(self):
        cases = load_cases(os.path.join(ROOT, "tests", "data", "decode_cases.txt"))
        self.assertGreater(len(cases), 100)
        checked = skipped = 0
        failures = []
        for case in cases:
            kw = reference_kwargs(case["opts"])
            if kw.pop("brine_only", False):
                skipped += 1
                continue
            outcome = reference.decode(case["in"], **kw)
            checked += 1
            if case["ref"] == "resource":
                if outcome.kind != "resource":
                    failures.append((case["name"], "expected a resource failure", outcome))
                continue
            if case["err"]:
                if outcome.kind != "reject" or outcome.exc_class != case["err"]:
                    failures.append((case["name"], "expected " + case["err"], outcome))
            else:
                want = "".join(line + "\n" for line in case["out"])
                if outcome.kind != "accept" or outcome.text != want:
                    failures.append((case["name"], "expected " + want.strip(), outcome))
        for name, what, outcome in failures:
            print("%s: %s, CPython gave %r" % (name, what, outcome), file=sys.stderr)
        print("decode cases: %d checked against CPython, %d brine-only, %d disagree"
              % (checked, skipped, len(failures)), file=sys.stderr)
        self.assertEqual(failures, [])


class ReferenceOutputTest(unittest.TestCase):
    """The reference decoder prints nothing of CPython's own on stderr."""

    # BYTEARRAY8 with a length no process can allocate: CPython 3.11 frees
    # the half-made bytearray with ob_exports unset and, now and then,
    # prints "SystemError: deallocated bytearray object has exported
    # buffers" (oracle/reference.py, _BYTEARRAY_DEALLOC_NOISE).
    HUGE_BYTEARRAY8 = b"\x96" + (0x610A31490A30706C).to_bytes(8, "little") + b"."

    def test_no_bytearray_dealloc_noise(self):
        code = (
            "import sys\n"
            "sys.path.insert(0, %r)\n"
            "from oracle import reference\n"
            "kinds = set()\n"
            "for _ in range(300):\n"
            "    o = reference.decode(%r, limits=None)\n"
            "    kinds.add((o.kind, o.exc_class))\n"
            "print(sorted(kinds))\n" % (ROOT, self.HUGE_BYTEARRAY8))
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "[('resource', 'MemoryError')]\n")
        self.assertEqual(p.stderr, "")

    def test_other_printed_exceptions_still_reach_the_hook(self):
        seen = []

        def hook(exc_type, value, tb):
            seen.append((exc_type, str(value)))

        saved = sys.excepthook
        sys.excepthook = hook
        try:
            with reference._quiet_bytearray_dealloc():
                noise = reference._BYTEARRAY_DEALLOC_NOISE
                sys.excepthook(SystemError, SystemError(noise), None)
                sys.excepthook(SystemError, SystemError("something else"), None)
                sys.excepthook(ValueError, ValueError(noise), None)
            restored = sys.excepthook
        finally:
            sys.excepthook = saved
        self.assertIs(restored, hook)
        self.assertEqual(seen, [(SystemError, "something else"), (ValueError, noise)])

if __name__ == "__main__":
    unittest.main()
