/*
 * fuzz_canon.c - brine_canon_read on any bytes.
 *
 * Property: the reader never crashes, leaks or hangs, fails only with a
 * clean error, and accepts only text the printer could have written: an
 * accepted text prints back byte for byte (brine_canon_write), and the
 * document it describes survives the encoder round trip (fuzz_roundtrip.c):
 * at every protocol in the replay driver, at one protocol per input picked
 * by a hash of the input under the engines (fuzz_plan_for).
 * brine_canon_read is being written; while it reports "not implemented"
 * the target only checks that it fails cleanly.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_check_planted(data, size);
    brine_doc *doc = fuzz_check_canon_reread((const char *)data, size, 1);
    if (doc) {
        static const brine_buffer buffers[2] = {{(const uint8_t *)"\x00buf0\xff", 6, 0},
                                                {(const uint8_t *)"b1", 2, 1}};
        fuzz_buf text = {(char *)(uintptr_t)data, size, size};
        fuzz_rt_config cfg = {0, 0, buffers, 2, fuzz_plan_for(data, size).protocol};
        fuzz_check_roundtrip(doc, &text, &cfg);
        brine_doc_free(doc);
    }
    return 0;
}
