/* dis.c: the disassembler is not written yet; it fails cleanly. */
#include "errors.h"

int brine_dis(const void *data, size_t len, brine_write_fn write, void *ctx, brine_error *err) {
    (void)data, (void)len, (void)write, (void)ctx;
    brine_set_error(err, BRINE_E_USAGE, "brine_dis is not implemented yet", 0);
    return -1;
}
