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


if __name__ == "__main__":
    unittest.main()
