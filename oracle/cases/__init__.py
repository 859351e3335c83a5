"""Value families of the conformance corpus (see oracle.generate).

objects      picklable functions, classes and singletons (imported by name
             by CPython's pickler at dump time, never by the reference decoder)
families     the catalogue: FAMILIES maps a family name to (function, doc)
handwritten  streams written by hand (Python 2 and rare opcodes)
"""
