"""brine's oracle: reference decodes by CPython 3.11, as canonical text.

The reference semantics of a pickle stream is what CPython 3.11's C
unpickler builds, reading from ``io.BytesIO(data)``, when its
``find_class`` returns inert stubs and its ``persistent_load`` returns
inert records.  This package runs that unpickler without ever importing or
calling anything a stream names, and prints the result in the canonical
text of docs/canonical.md, byte-identical to ``brine decode``.

Modules, one concern each:

  stubs      the inert stubs, their recording, and the builtins folds
  walker     replay of the C unpickler's reading model (executed opcodes,
             protocol in effect at each find_class call)
  reference  decode(): the C / pure-Python unpicklers and outcomes
  canon      the canonical printer (labels, discarded lines)
  setorder   recovering set insertion order
  limits     memory and time limits
  worker     the long-lived decode process, its protocol and client
  cli        `python3 -m oracle ...`
  bench      `python3 -m oracle bench-worker`

Quick use::

    from oracle.reference import decode
    outcome = decode(data, policy='builtins')
    print(outcome.text or outcome.error_line)
"""

__all__ = ['decode', 'Outcome']


def decode(data, **kwargs):
    """oracle.reference.decode (imported lazily)."""
    from .reference import decode as _decode
    return _decode(data, **kwargs)


def __getattr__(name):
    if name == 'Outcome':
        from .reference import Outcome
        return Outcome
    raise AttributeError(name)
