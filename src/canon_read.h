/*
 * canon_read.h - what the files of the canonical text reader share.
 *
 * canon_read_lex.c reads numbers and literals; canon_read.c parses the
 * text into nodes; canon_read_check.c then runs the checks that need the
 * whole document: cycles that no stream could have made, and the dict, set
 * and frozenset insertions, which wait until every tuple and frozenset is
 * complete (a key may be a tuple that is still being read when it is first
 * met: `&1 (new(C, ()).setstate({*1: 0}),)`).
 */
#ifndef BRINE_CANON_READ_H
#define BRINE_CANON_READ_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

/* brine_value.mark while reading. A node being read (its text is open)
 * holds CR_OPEN and its frame index; a closed non-empty frozenset holds its
 * index in cr_post.conts plus one; the checks add CR_BUSY and CR_DONE. All
 * marks are zero again when the reader returns a document. */
#define CR_OPEN  0x80000000u
#define CR_BUSY  0x40000000u
#define CR_DONE  0x20000000u
#define CR_INDEX 0x1FFFFFFFu

/* A deferred insertion: dict[key] = value, or set.add(key) (value NULL).
 * Also the parser's stack of children of open nodes. */
typedef struct cr_pair {
    brine_value *key;
    brine_value *value;
    size_t off; /* text offset of the key, for errors */
} cr_pair;

/* A dict, set or frozenset and its insertions pend[start..+count). */
typedef struct cr_cont {
    brine_value *node;
    size_t start, count;
} cr_cont;

/* A reference, through an edge fixed when `from` was made (a tuple item, an
 * argument, ...), to `to` while `to` was still open: a creation cycle unless
 * some mutation breaks it, which only the whole graph can tell. */
typedef struct cr_susp {
    brine_value *from, *to;
    size_t off;
} cr_susp;

typedef struct cr_post {
    const brine_alloc *al;
    cr_pair *pend;
    size_t npend, cappend;
    cr_cont *conts; /* in the order their text closed */
    size_t nconts, capconts;
    cr_susp *susp; /* in text order */
    size_t nsusp, capsusp;
    /* objects (from) with a kwargs dict (to) written at off */
    cr_susp *kwobjs;
    size_t nkwobjs, capkwobjs;
    /* the failure, when cr_check returns 0 */
    brine_code code;
    const char *msg;
    size_t off;
} cr_post;

/* The text being read, the scratch buffer of literals and the failure;
 * canon_read_lex.c reads the tokens (numbers and literals). */
typedef struct cr_text {
    const char *t;
    size_t n, pos;
    brine_doc *doc;
    const brine_alloc *al;
    uint8_t *buf; /* an unescaped literal */
    size_t capbuf;
    brine_code code;
    const char *msg;
    size_t eoff;
} cr_text;

static inline int cr_at(const cr_text *x, char c) {
    return x->pos < x->n && x->t[x->pos] == c;
}

/* Whether the text continues with s. */
static inline int cr_peek(const cr_text *x, const char *s) {
    size_t k = 0;
    while (s[k] && x->pos + k < x->n && x->t[x->pos + k] == s[k])
        k++;
    return s[k] == '\0';
}

/* Consumes s if the text continues with it. */
static inline int cr_lit(cr_text *x, const char *s) {
    size_t k = 0;
    while (s[k] && x->pos + k < x->n && x->t[x->pos + k] == s[k])
        k++;
    if (s[k]) return 0;
    x->pos += k;
    return 1;
}

/* Record a failure at `off` (a syntax error with a static message, or an
 * allocation failure of the arena or of scratch memory). All return 0. */
int cr_fail(cr_text *x, size_t off, const char *msg);
int cr_nomem(cr_text *x);
int cr_scratch_nomem(cr_text *x);

/* A decimal without leading zeros at x->pos (label numbers; buffer
 * indexes, which may be 0, with allow_zero), saturating at SIZE_MAX.
 * Returns 0, consuming nothing, when there is none. */
int cr_decimal_size(cr_text *x, size_t *out, int allow_zero);

/* The int or float at x->pos as a new node, or NULL with the failure set. */
brine_value *cr_number(cr_text *x);

/* The float at x->pos (the parts of complex()); 0 on failure. */
int cr_float_only(cr_text *x, uint64_t *bits);

/* The body of the str (is_str) or bytes literal whose opening quote is at
 * x->pos, unescaped into x->buf; 0 on failure. */
int cr_literal(cr_text *x, int is_str, size_t *outlen);

/* Grows *p (an array of `size`-byte elements with *cap slots) to hold at
 * least `need`, with the caller's allocator. Returns 0 on failure. */
int cr_grow(const brine_alloc *al, void **p, size_t *cap, size_t need, size_t size);

/* The whole-document checks and the deferred insertions. Returns 1, or 0
 * with post->code, msg and off set. */
int cr_check(brine_doc *doc, cr_post *post);

/* Frees the scratch arrays of post. */
void cr_post_free(cr_post *post);

#endif
