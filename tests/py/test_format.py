"""The C sources are formatted by the repository's .clang-format.

Runs clang-format --dry-run --Werror over every tracked .c and .h file. The
style is pinned to clang-format 14 (Debian bookworm's, which ./scripts/test
installs): other versions lay some constructs out differently, so with no
clang-format 14 the test is skipped (exit 77), not passed.
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def c_sources():
    try:
        out = subprocess.run(['git', 'ls-files', '*.c', '*.h'], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = [os.path.relpath(os.path.join(d, f), ROOT)
               for top in ('src', 'include', 'harness', 'tests', 'bench')
               for d, _, fs in os.walk(os.path.join(ROOT, top))
               for f in fs if f.endswith(('.c', '.h'))]
    return sorted(out)


class Format(unittest.TestCase):
    def test_sources_are_formatted(self):
        files = c_sources()
        self.assertGreater(len(files), 50)
        r = subprocess.run([FORMAT, '--dry-run', '--Werror'] + files, cwd=ROOT,
                           capture_output=True, text=True)
        bad = sorted(set(re.findall(r'^(\S+?):\d+:\d+: error', r.stderr, re.M)))
        self.assertEqual(r.returncode, 0,
                         'not formatted (run clang-format -i on them): %s' % ' '.join(bad))


if __name__ == '__main__':
    FORMAT = shutil.which('clang-format-14') or shutil.which('clang-format')
    version = subprocess.run([FORMAT, '--version'], capture_output=True,
                             text=True).stdout if FORMAT else ''
    if not re.search(r'version 14\.', version):
        print('skipped: no clang-format 14 (%s)' % (version.strip() or 'none'))
        sys.exit(77)
    unittest.main()
