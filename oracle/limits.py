"""Resource limits for reference decodes.

CPython allocates before it reads in several places (gh-115952: BINBYTES8
and BYTEARRAY8 allocate their declared length before reading it; PUT and
LONG_BINPUT resize the memo to twice the index; FRAME and BINUNICODE8 ask
the file for their declared length), so a short hostile stream can make it
allocate gigabytes.  Reference decodes therefore run in a worker process
(oracle.worker) under an address-space limit (RLIMIT_AS), where such a
stream ends in MemoryError, and under a wall-clock budget enforced by the
parent, which kills and restarts the worker: long C-level computations
(hash collisions, huge ints) cannot be interrupted by Python signals.

Outcomes of both kinds, and deaths of the worker, are classified as
``resource`` (see oracle.reference.Outcome).
"""

import resource

DEFAULT_MAX_MEMORY = 2 << 30  # bytes of address space for the worker
DEFAULT_TIMEOUT = 5.0         # seconds of wall-clock time per decode


class Limits:
    """Limits for one worker: address space (bytes; None for no limit) and
    wall-clock budget per decode (seconds; None for no limit)."""

    __slots__ = ('max_memory', 'timeout')

    def __init__(self, max_memory=DEFAULT_MAX_MEMORY, timeout=DEFAULT_TIMEOUT):
        self.max_memory = max_memory
        self.timeout = timeout

    def key(self):
        return (self.max_memory, self.timeout)

    def __eq__(self, other):
        return isinstance(other, Limits) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def __repr__(self):
        return 'Limits(max_memory=%r, timeout=%r)' % (self.max_memory, self.timeout)


DEFAULT_LIMITS = Limits()


def apply_in_this_process(max_memory):
    """Limit this process's address space (soft RLIMIT_AS) and disable core
    dumps.  Called by the worker at start-up."""
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ValueError, OSError):
        pass
    if max_memory is None:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY and max_memory > hard:
        max_memory = hard
    resource.setrlimit(resource.RLIMIT_AS, (max_memory, hard))
