/*
 * fold.c - the builtins policy: the call shapes CPython's pickler writes for
 * set, frozenset, bytearray, bytes and complex become native values.
 *
 * This is the one table of folded shapes (docs/canonical.md, "Folding").
 * Argument types are checked exactly, and a folded call behaves as the real
 * builtin does, errors included. Anything else stays a symbolic call.
 */
#include <string.h>

#include "decode.h"
#include "pyfloat.h"
#include "pyops.h"
#include "pytext.h"

typedef enum {
    FOLD_SET,
    FOLD_FROZENSET,
    FOLD_BYTEARRAY,
    FOLD_BYTES,
    FOLD_CODECS_ENCODE,
    FOLD_COMPLEX,
} fold_kind;

static const struct {
    const char *module;
    const char *name;
    fold_kind kind;
} fold_globals[] = {
    {"builtins", "set", FOLD_SET},
    {"builtins", "frozenset", FOLD_FROZENSET},
    {"builtins", "bytearray", FOLD_BYTEARRAY},
    {"builtins", "bytes", FOLD_BYTES},
    {"_codecs", "encode", FOLD_CODECS_ENCODE},
    {"builtins", "complex", FOLD_COMPLEX},
};

static int is_name(const brine_value *g, const char *module, const char *name) {
    const bglobal *gl = g->u.g;
    return gl->mlen == strlen(module) && memcmp(gl->module, module, gl->mlen) == 0 &&
           gl->nlen == strlen(name) && memcmp(gl->name, name, gl->nlen) == 0;
}

/* Whether v is the str `text` (a literal: its length is a constant, and
 * so the comparison is a few loads rather than calls). */
#define IS_STR(v, text)                                                                            \
    ((v)->kind == BRINE_STR && (v)->u.s.n == sizeof(text) - 1 &&                                   \
     memcmp((v)->u.s.p, text, sizeof(text) - 1) == 0)

/* set(list) / frozenset(list): elements in list order, first equal kept. */
static int fold_set(decoder *d, brine_kind kind, const brine_value *list, brine_value **out) {
    brine_value *set = val_container(d->doc, kind);
    if (!set) return dec_nomem(d);
    for (size_t i = 0; i < list->u.list.n; i++) {
        brine_code code = py_set_add(d->doc, set, list->u.list.items[i]);
        if (code != BRINE_OK) return dec_fail(d, code);
    }
    *out = set;
    return 1;
}

int fold_call(decoder *d, brine_value *callable, brine_value *const *args, size_t nargs,
              brine_value **out) {
    size_t which = sizeof fold_globals / sizeof fold_globals[0];
    if (callable == d->fold_callable) {
        which = d->fold_row; /* a GLOBAL's names never change */
    } else {
        for (size_t i = 0; i < sizeof fold_globals / sizeof fold_globals[0]; i++)
            if (is_name(callable, fold_globals[i].module, fold_globals[i].name)) which = i;
        d->fold_callable = callable;
        d->fold_row = which;
    }
    if (which == sizeof fold_globals / sizeof fold_globals[0]) return 0;

    switch (fold_globals[which].kind) {
    case FOLD_SET:
    case FOLD_FROZENSET:
        if (nargs != 1 || args[0]->kind != BRINE_LIST) return 0;
        return fold_set(d, fold_globals[which].kind == FOLD_SET ? BRINE_SET : BRINE_FROZENSET,
                        args[0], out);
    case FOLD_BYTEARRAY:
        if (nargs == 0) {
            *out = val_bytearray(d->doc, NULL, 0);
        } else if (nargs == 1 && args[0]->kind == BRINE_BYTES) {
            *out = val_bytearray(d->doc, (const uint8_t *)args[0]->u.s.p, args[0]->u.s.n);
        } else {
            return 0;
        }
        return *out ? 1 : dec_nomem(d);
    case FOLD_BYTES:
        if (nargs != 0) return 0;
        *out = val_bytes_copy(d->doc, NULL, 0);
        return *out ? 1 : dec_nomem(d);
    case FOLD_CODECS_ENCODE: {
        if (nargs != 2 || args[0]->kind != BRINE_STR || !IS_STR(args[1], "latin1")) return 0;
        /* A short str is encoded on the stack and copied: the arena then
         * holds the bytes (one per code point), not the UTF-8 length. */
        size_t n = args[0]->u.s.n, outlen;
        uint8_t small[256];
        uint8_t *bytes = n <= sizeof small ? small : arena_alloc(&d->doc->arena, n);
        if (!bytes) return dec_nomem(d);
        brine_code code = pt_latin1_encode((const uint8_t *)args[0]->u.s.p, n, bytes, &outlen);
        if (code != BRINE_OK) return dec_fail(d, code);
        *out = bytes == small ? val_bytes_copy(d->doc, bytes, outlen)
                              : val_bytes_owned(d->doc, bytes, outlen);
        return *out ? 1 : dec_nomem(d);
    }
    case FOLD_COMPLEX:
        if (nargs != 2 || args[0]->kind != BRINE_FLOAT || args[1]->kind != BRINE_FLOAT) return 0;
        *out = val_new(d->doc, BRINE_COMPLEX);
        if (!*out) return dec_nomem(d);
        (*out)->u.c.re = args[0]->u.fbits;
        (*out)->u.c.im = args[1]->u.fbits;
        return 1;
    }
    return 0;
}
