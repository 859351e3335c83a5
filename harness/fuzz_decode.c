/*
 * fuzz_decode.c - brine_decode on any bytes, with the options the input's
 * last bytes select (fuzz_options_from_tail: policy, encoding, errors,
 * zero_copy, fix_imports, out-of-band buffers, small caps, extensions).
 *
 * Property: decoding never crashes, leaks or hangs (the engines' sanitizers,
 * -rss_limit_mb and -timeout catch those), fails only with a clean error,
 * and for an accepted stream
 *   - the canonical text is ASCII and brine_canon_read reads it back into
 *     a document that prints identically;
 *   - encoding the document at a protocol 0-5 and decoding again gives
 *     the same text (fuzz_roundtrip.c says exactly when);
 * and brine_dis runs on the same bytes without crashing (it may fail, and
 * must report a failing write function).
 * The replay driver checks the round trip at all six protocols and runs
 * brine_dis on every input; under the engines each input gets the round
 * trip at one protocol and one in FUZZ_DIS_EVERY gets brine_dis, picked by
 * a hash of the input (fuzz_plan_for in fuzz_common.h says why).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_check_planted(data, size);
    fuzz_plan plan = fuzz_plan_for(data, size);
    fuzz_options fo;
    size_t n = fuzz_options_from_tail(data, size, &fo);

    brine_error err;
    brine_doc *doc = brine_decode(data, n, &fo.opts, NULL, &err);
    if (!doc) {
        fuzz_assert_clean_error(&err, "brine_decode");
        FUZZ_ASSERT(err.offset <= n, "error offset %zu past the end of a %zu-byte input",
                    err.offset, n);
    } else {
        fuzz_buf text = {0};
        fuzz_canon(doc, &text);
        brine_doc_free(fuzz_check_canon_reread(text.p, text.n, 0));
        fuzz_rt_config cfg = {fo.opts.fix_imports, 0, fo.buffers, 2, plan.protocol};
        fuzz_check_roundtrip(doc, &text, &cfg);
        fuzz_buf_free(&text);
        brine_doc_free(doc);
    }
    if (plan.dis) fuzz_check_dis(data, n);
    return 0;
}
