"""Entry point: ``python3 -m oracle <command>`` (see oracle.cli).

``reduce`` (oracle/reduce.py) and ``conformance`` (oracle/conformance.py)
are dispatched here, imported only when asked for; every other command
goes to oracle.cli unchanged.
"""

import importlib
import sys

from .cli import main

_MORE = {'reduce': ('oracle.reduce', 'shrink a divergent pickle, keeping the divergence'),
         'conformance': ('oracle.conformance', 'agreement per protocol, opcode and class')}


def _run():
    argv = sys.argv[1:]
    if argv and argv[0] in _MORE:
        return importlib.import_module(_MORE[argv[0]][0]).main(argv[1:])
    rc = main(argv)
    if not argv or argv[0] in ('-h', '--help', 'help'):
        sys.stdout.write('more commands:\n')
        for cmd, (_, what) in _MORE.items():
            sys.stdout.write('  %-13s %s\n' % (cmd, what))
    return rc


sys.exit(_run())
