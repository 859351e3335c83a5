"""The adapter of brine itself (docs/adapters.md).

    python3 -m oracle.adapters.brinerun FILE...             brine decode FILE
    python3 -m oracle.adapters.brinerun --encode P FILE...  brine encode --protocol P FILE

One ``brine`` process per file (a C program starts in about a millisecond,
and a crash then takes only its own file); the executable is $BRINE_BIN or
build/brine.  brine decode prints the canonical text on stdout, or
``error: <Class>: <message>`` on stderr with exit status 1.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    brine = os.environ.get('BRINE_BIN') or os.path.join(ROOT, 'build', 'brine')
    protocol = None
    if args[:1] == ['--encode']:
        protocol = args[1]
        args = args[2:]
    out = sys.stdout
    for path in args:
        out.write('### %s\n' % path)
        out.flush()
        if protocol is None:
            cmd = [brine, 'decode', path]
        else:
            cmd = [brine, 'encode', '--protocol', protocol, path]
        p = subprocess.run(cmd, capture_output=True)
        if p.returncode == 0 and protocol is not None:
            out.write('pickle: %s\n' % p.stdout.hex())
        elif p.returncode == 0:
            out.write(p.stdout.decode('ascii', 'backslashreplace'))
        elif p.returncode in (1, 3) and p.stderr.startswith(b'error: '):
            line = p.stderr.decode('utf-8', 'backslashreplace').splitlines()[0]
            out.write(line + '\n')
        else:
            # brine died: let the driver classify this file as a crash.
            sys.stderr.write('brine exit status %d: %s\n' % (
                p.returncode, p.stderr.decode('utf-8', 'replace').strip()[-300:]))
            return 70
        out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
