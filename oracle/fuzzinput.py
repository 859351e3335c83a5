"""oracle/fuzzinput.py - the input format of the decode and diff fuzz targets.

A decode/diff fuzz input is a pickle followed by one or two option bytes
(harness/fuzz_common.h, ``fuzz_options_from_tail``): the last byte L, and
when L has bit 7 set, the byte E before it.  This module is the Python
mirror of that C function, so that triage, reduction and ``scripts/repro``
can replay a fuzz input with ``brine decode`` and the oracle under exactly
the options the target used.  Keep the two in step: tests/py/test_fuzzinput.py
checks this module against the C target on every option byte.
"""

import os

ENCODINGS = ('ASCII', 'latin1', 'bytes', 'utf-8')
ERRORS_A = ('strict', 'replace', 'ignore', 'surrogateescape')
ERRORS_B = ('backslashreplace', 'surrogatepass', 'xmlcharrefreplace', 'no-such-handler')

# FUZZ_EXTENSIONS in harness/fuzz_common.c.
EXTENSIONS = ((1, 'builtins', 'set'), (300, '__builtin__', 'xrange'), (0x10000, 'm', 'Ext'))
# buffer0 and buffer1 in harness/fuzz_common.c.
BUFFERS = (b'\x00buf0\xff', b'b1')
# The caps a fuzz input can select (E bits 4-5): (option name, value).
CAPS = (None, ('max_memory', 1 << 14), ('max_memo', 4), ('max_marks', 2))


class FuzzOptions:
    """The decode options selected by a fuzz input's tail."""

    __slots__ = ('policy', 'encoding', 'errors', 'zero_copy', 'fix_imports', 'buffers',
                 'cap', 'extensions', 'tail')

    def __init__(self):
        self.policy = 'symbolic'
        self.encoding = 'ASCII'
        self.errors = 'strict'
        self.zero_copy = False
        self.fix_imports = True
        self.buffers = None      # None, or a list of (bytes, readonly)
        self.cap = None          # None, or (option name, value)
        self.extensions = False
        self.tail = b''          # the option bytes themselves

    def describe(self):
        """A short human description, e.g. 'builtins, latin1/strict'."""
        parts = [self.policy, '%s/%s' % (self.encoding, self.errors)]
        if self.zero_copy:
            parts.append('zero-copy')
        if not self.fix_imports:
            parts.append('no-fix-imports')
        if self.buffers is not None:
            parts.append('buffers=[%s]' % ', '.join(
                ('ro ' if ro else '') + repr(b) for b, ro in self.buffers))
        if self.cap:
            parts.append('%s=%d' % self.cap)
        if self.extensions:
            parts.append('extensions')
        return ', '.join(parts)

    def _buffer_files(self, tmpdir):
        paths = []
        for i, (data, readonly) in enumerate(self.buffers or ()):
            path = os.path.join(tmpdir, 'buffer%d' % i)
            with open(path, 'wb') as f:
                f.write(data)
            paths.append(('--readonly-buffer' if readonly else '--buffer', path))
        return paths

    def _common_args(self, tmpdir):
        args = ['--policy', self.policy, '--encoding', self.encoding, '--errors', self.errors]
        if not self.fix_imports:
            args.append('--no-fix-imports')
        for flag, path in self._buffer_files(tmpdir):
            args += [flag, path]
        if self.extensions:
            for code, module, name in EXTENSIONS:
                args += ['--extension', '%d:%s:%s' % (code, module, name)]
        return args

    def brine_args(self, tmpdir, with_caps=True):
        """Arguments for ``brine decode``; buffer files are written to tmpdir.

        The diff target compares without the caps (they are brine-only
        limits, fuzz_diff.c clears them): pass with_caps=False to match it."""
        args = self._common_args(tmpdir)
        if self.zero_copy:
            args.append('--zero-copy')
        if with_caps and self.cap:
            args += ['--' + self.cap[0].replace('_', '-'), str(self.cap[1])]
        return args

    def oracle_args(self, tmpdir):
        """Arguments for ``python3 -m oracle decode``."""
        return self._common_args(tmpdir)

    def decode_kwargs(self):
        """Keyword arguments for oracle.compare/oracle.reference calls that
        take encoding, errors, fix_imports and buffers."""
        return {'encoding': self.encoding, 'errors': self.errors,
                'fix_imports': self.fix_imports,
                'buffers': None if self.buffers is None else list(self.buffers)}


def split(data):
    """Splits a fuzz input into (pickle bytes, FuzzOptions), exactly as
    fuzz_options_from_tail does."""
    opts = FuzzOptions()
    size = len(data)
    if size == 0:
        return b'', opts
    size -= 1
    last = data[size]
    extra = 0
    if last & 0x80 and size > 0:
        size -= 1
        extra = data[size]
        opts.tail = bytes(data[size:])
    elif last & 0x80:
        # No byte before L: E is 0, and join() must write it explicitly or
        # the pickle's last byte would become E.
        opts.tail = b'\x00' + bytes([last])
    else:
        opts.tail = bytes([last])
    opts.policy = 'builtins' if last & 1 else 'symbolic'
    opts.encoding = ENCODINGS[(last >> 1) & 3]
    opts.errors = (ERRORS_B if extra & 0x80 else ERRORS_A)[(last >> 3) & 3]
    opts.zero_copy = bool((last >> 5) & 1)
    opts.fix_imports = not ((last >> 6) & 1)
    nbuffers = (extra & 3) - 1
    if nbuffers >= 0:
        opts.buffers = [(BUFFERS[i], bool((extra >> (2 + i)) & 1)) for i in range(nbuffers)]
    opts.cap = CAPS[(extra >> 4) & 3]
    opts.extensions = bool((extra >> 6) & 1)
    return bytes(data[:size]), opts


def join(pickle_bytes, opts):
    """The fuzz input for a pickle under the options of an earlier split()
    (the same tail bytes)."""
    return bytes(pickle_bytes) + opts.tail


def target_takes_pickles(target):
    """True for the targets whose inputs are pickles plus option bytes."""
    return target in ('decode', 'diff')
