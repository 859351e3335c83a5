/*
 * options_dump.c - prints the decode options that fuzz inputs select, for
 * tests/py/test_fuzzinput.py, which checks oracle/fuzzinput.py (the Python
 * mirror used by triage and scripts/repro) against this C original.
 *
 * Reads lines of hex (an input's last bytes) on stdin; prints one line per
 * input: pickle_len policy encoding errors zero_copy fix_imports nbuffers
 * ro0 ro1 cap extensions.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int main(void) {
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        uint8_t data[100];
        size_t n = 0;
        for (char *p = line; hexval(p[0]) >= 0 && hexval(p[1]) >= 0 && n < sizeof data; p += 2)
            data[n++] = (uint8_t)(hexval(p[0]) * 16 + hexval(p[1]));
        fuzz_options fo;
        size_t len = fuzz_options_from_tail(data, n, &fo);
        printf("%zu %s %s %s %d %d %d %d %d %d %d\n", len,
               fo.opts.policy == BRINE_POLICY_BUILTINS ? "builtins" : "symbolic", fo.encoding,
               fo.errors, fo.opts.zero_copy, fo.opts.fix_imports, fo.nbuffers_sel,
               fo.buffers[0].readonly, fo.buffers[1].readonly, fo.cap, fo.extensions);
    }
    return 0;
}
