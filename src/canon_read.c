/* canon_read.c: the canonical text reader is not written yet; it fails cleanly. */
#include "errors.h"

brine_doc *brine_canon_read(const char *text, size_t len, const brine_alloc *alloc,
                            brine_error *err) {
    (void)text, (void)len, (void)alloc;
    brine_set_error(err, BRINE_E_USAGE, "brine_canon_read is not implemented yet", 0);
    return NULL;
}
