/* encode.c: the encoder is not written yet; every call fails cleanly. */
#include <string.h>

#include "errors.h"

void brine_encode_options_init(brine_encode_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->protocol = BRINE_DEFAULT_PROTOCOL;
    opts->fix_imports = 1;
}

int brine_encode(const brine_doc *doc, const brine_encode_options *opts, brine_write_fn write,
                 void *ctx, brine_error *err) {
    (void)doc, (void)opts, (void)write, (void)ctx;
    brine_set_error(err, BRINE_E_USAGE, "brine_encode is not implemented yet", 0);
    return -1;
}
