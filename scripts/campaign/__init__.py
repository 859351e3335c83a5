"""scripts/campaign - the nightly fuzzing campaign behind ./scripts/nightly.

Run as ``PYTHONPATH=scripts python3 -m campaign.<module>``.  The steps, one
module each:

- ``common``   paths, the target list (harness/targets.cmake), run facts
               (commit, CPython version, machine), atomic file writes;
- ``fuzzrun``  one target under one engine for a time slice, through
               ./scripts/fuzz, with its time series (coverage, exec/s);
- ``triage``   replays a finding, classifies it (sanitizer kind, timeout,
               memory, FUZZ_ASSERT, the oracle's divergence classes) and
               computes its signature;
- ``minimize`` libFuzzer -minimize_crash / afl-tmin for crashes, the oracle's
               opcode-aware reducer for divergences;
- ``archive``  corpus/regressions/<signature>/, written atomically, never
               overwritten;
- ``coverage`` llvm-cov line and branch coverage of src/ over the corpora;
- ``run``      the whole campaign (what ./scripts/nightly calls);
- ``report``   summary.json to summary.md and index.html.
"""
