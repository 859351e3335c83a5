/*
 * dis.h - private to brine_dis(): what src/dis.c (the disassembly loop, the
 * stack and memo emulation, the output) shares with src/dis_args.c (the
 * argument readers, pickletools' read_* functions).
 */
#ifndef BRINE_DIS_H
#define BRINE_DIS_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"

/* pickletools' ArgumentDescriptors, one reader each. */
/* clang-format off */
enum {
    A_NONE, A_U1, A_U2, A_I4, A_U4, A_U8, A_DECNL_SHORT, A_DECNL_LONG, A_LONG1, A_LONG4,
    A_FLOATNL, A_FLOAT8, A_STRINGNL, A_NOESC, A_PAIR, A_STRING1, A_STRING4, A_BYTES1, A_BYTES4,
    A_BYTES8, A_BYTEARRAY8, A_UNICODENL, A_UNICODE1, A_UNICODE4, A_UNICODE8
};
/* clang-format on */

#define DIS_NUM_CAP     4400 /* repr(int) of at most 4300 digits, sign, slack */
#define DIS_SCRATCH_LIM 460  /* limbs of any int of at most 14400 bits */

/* The input being read and the failure, if any. */
typedef struct dis_input {
    const uint8_t *p;
    size_t len, i, pos; /* input, read position, offset of the current opcode */
    brine_error *err;
    int failed; /* *err is set (the first failure wins) */
    char numbuf[DIS_NUM_CAP];
    uint32_t scratch[DIS_SCRATCH_LIM];
} dis_input;

/* The decoded argument of one opcode, as repr() will print it. */
typedef struct dis_arg {
    enum { V_TEXT, V_STR, V_BYTES, V_BYTEARRAY } kind;
    const uint8_t *p; /* V_TEXT: printed as is; V_STR: WTF-8; else raw bytes */
    size_t n;
    const char *key; /* int arguments: the memo key, the value's decimal text */
    size_t keylen;
    int too_long; /* repr(int) would exceed 4300 digits: raise when printing */
    uint8_t *buf; /* owned by the argument; the caller frees it */
    char num[40]; /* small ints and floats */
} dis_arg;

/* Records the failure at in->pos and returns -1. pyclass names what
 * pickletools raises (NULL: the class of `code`), which is often not the
 * class brine's code table gives: pickletools raises ValueError for most
 * things the unpickler reports as UnpicklingError. */
int dis_fail(dis_input *in, brine_code code, const char *pyclass, const char *msg);

/* Reads the argument of `kind` at in->i (a zeroed *a) and advances in->i,
 * or fails as the pickletools reader does, before anything is printed. */
int dis_read_arg(dis_input *in, int kind, dis_arg *a);

/* Sets *a to the int v (negative when `neg` and the int64 v is). */
void dis_small_int(dis_arg *a, uint64_t v, int neg);

#endif
