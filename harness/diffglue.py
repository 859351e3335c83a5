"""harness/diffglue.py - which brine/CPython disagreements the diff target
(harness/fuzz_diff.c) lets pass.

fuzz_diff.c calls :func:`excuse` only when the two decoders disagree (a
different kind of outcome, canonical text or exception class), so nothing
here is on the fast path.  A disagreement is excused when

1. the oracle raised MemoryError outside the load (while printing), so
   there is no reference answer;
2. the reference printed sets in sorted order because it could not recover
   their insertion order (``set_order_verified`` false), and only the
   texts differ;
3. the known-differences registry (oracle/known_differences.py,
   ``match(data, options, brine, reference)``) matches it; its entries are
   specific on purpose, so a reference ``resource`` outcome it does not
   explain is reported;
4. without a registry (older trees): the reference outcome is ``resource``,
   or brine's is.

The target's allocation cap (128 MiB per allocation) is above the
registry's thresholds for eager allocations (oracle.known_differences.HUGE),
so the registry explains the MemoryErrors the cap causes as it explains
the worker's.

The function returns a short reason, or None for a real divergence.
"""

import importlib

_registry = None
_registry_loaded = False


def _load_registry():
    global _registry, _registry_loaded
    if not _registry_loaded:
        _registry_loaded = True
        try:
            _registry = importlib.import_module('oracle.known_differences')
        except ModuleNotFoundError as e:
            if e.name != 'oracle.known_differences':
                raise
    return _registry


class BrineOutcome:
    """brine's side, shaped like oracle.reference.Outcome."""

    __slots__ = ('kind', 'exc_class', 'message', 'text', 'set_order_verified')

    def __init__(self, kind, exc_class, message, text):
        self.kind = kind
        self.exc_class = exc_class or None
        self.message = message or None
        self.text = text if kind == 'accept' else None
        self.set_order_verified = True

    @property
    def error_line(self):
        if self.kind == 'accept':
            return None
        return 'error: %s: %s' % (self.exc_class, self.message)


def _ask_registry(reg, data, options, brine, reference):
    """The registry's verdict: a reason string, or None."""
    for name in ('match', 'excuse', 'explain', 'lookup', 'classify'):
        fn = getattr(reg, name, None)
        if callable(fn):
            hit = fn(data, options, brine, reference)
            if hit is None or hit is False:
                return None
            return getattr(hit, 'name', None) or getattr(hit, 'id', None) or str(hit)
    return None


def excuse(data, options, brine, reference):
    """data: the pickle bytes; options: the oracle.reference.Options used;
    brine: (kind, exc_class, message, text); reference: the
    oracle.reference.Outcome, or None when the oracle raised MemoryError."""
    b = BrineOutcome(*brine)
    if reference is None:
        return 'reference raised MemoryError outside the load'
    if b.kind == 'accept' and reference.kind == 'accept' and not reference.set_order_verified:
        return 'set insertion order not verified by the reference'
    reg = _load_registry()
    if reg is not None:
        return _ask_registry(reg, data, options, b, reference)
    if reference.kind == 'resource':
        return 'reference resource outcome'
    if b.kind == 'resource':
        return 'brine resource outcome'
    return None
