/*
 * errors.h - filling in brine_error.
 */
#ifndef BRINE_ERRORS_H
#define BRINE_ERRORS_H

#include <stddef.h>

#include "brine.h"

/* Sets *err (when err is not NULL). msg NULL means the code's table message;
 * otherwise msg must be a static string. */
void brine_set_error(brine_error *err, brine_code code, const char *msg, size_t offset);

/* Resets *err to BRINE_OK (when err is not NULL). */
void brine_clear_error(brine_error *err);

#endif
