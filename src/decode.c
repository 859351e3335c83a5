/*
 * decode.c - the unpickling machine: its entry points, errors, stack, marks,
 * memo and the container opcodes. The dispatch loop is in decode_run.c,
 * scalars in decode_scalar.c, globals and objects in decode_object.c.
 *
 * Every check happens in the order CPython 3.11 makes it, because the first
 * failing check decides the exception class.
 */
#include <string.h>

#include "bigint.h"
#include "decode.h"
#include "errors.h"
#include "pyops.h"
#include "pytext.h"

/* ------------------------------------------------------------------------ */
/* Errors, stack, marks                                                      */
/* ------------------------------------------------------------------------ */

int dec_fail(decoder *d, brine_code code) {
    if (d->code == BRINE_OK) {
        d->code = code;
        d->msg = NULL;
    }
    return -1;
}

int dec_fail_msg(decoder *d, brine_code code, const char *msg) {
    if (d->code == BRINE_OK) {
        d->code = code;
        d->msg = msg;
    }
    return -1;
}

int dec_nomem(decoder *d) {
    return dec_fail(d, arena_error(&d->doc->arena));
}

/* Scratch memory (stack, marks) counts against max_memory too. */
static void *scratch_grow(decoder *d, void *p, size_t old_size, size_t new_size) {
    size_t cap = d->opts->max_memory;
    size_t used = d->scratch_bytes + d->memo.bytes + d->doc->arena.bytes;
    if (cap && new_size > old_size && new_size - old_size > cap - (used < cap ? used : cap)) {
        dec_fail(d, BRINE_E_LIMIT_MEMORY);
        return NULL;
    }
    brine_alloc *al = &d->doc->arena.alloc;
    void *q = p ? al->realloc(al->ctx, p, old_size, new_size) : al->malloc(al->ctx, new_size);
    if (!q) {
        dec_fail(d, BRINE_E_NOMEM);
        return NULL;
    }
    d->scratch_bytes = d->scratch_bytes - old_size + new_size;
    return q;
}

int dec_push_slow(decoder *d, brine_value *v) {
    if (!v) return dec_nomem(d);
    if (d->sp == d->stack_cap) {
        size_t ncap = d->stack_cap ? d->stack_cap * 2 : 64;
        brine_value **s = scratch_grow(d, d->stack, d->stack_cap * sizeof *s, ncap * sizeof *s);
        if (!s) return -1;
        d->stack = s;
        d->stack_cap = ncap;
    }
    d->stack[d->sp++] = v;
    return 0;
}

int dec_underflow(decoder *d) {
    return dec_fail(d, d->nmarks ? BRINE_E_UNEXPECTED_MARK : BRINE_E_STACK_UNDERFLOW);
}

int dec_pop(decoder *d, brine_value **out) {
    if (d->sp <= d->fence) return dec_underflow(d);
    *out = d->stack[--d->sp];
    return 0;
}

int dec_marker(decoder *d, size_t *out) {
    if (d->nmarks < 1) return dec_fail(d, BRINE_E_NO_MARK);
    *out = d->marks[--d->nmarks];
    d->fence = d->nmarks ? d->marks[d->nmarks - 1] : 0;
    return 0;
}

int op_mark(decoder *d) {
    if (d->opts->max_marks && d->nmarks >= d->opts->max_marks)
        return dec_fail(d, BRINE_E_LIMIT_MARKS);
    if (d->nmarks == d->marks_cap) {
        size_t ncap = d->marks_cap * 2 + 20;
        size_t *m = scratch_grow(d, d->marks, d->marks_cap * sizeof *m, ncap * sizeof *m);
        if (!m) return -1;
        d->marks = m;
        d->marks_cap = ncap;
    }
    d->marks[d->nmarks++] = d->sp;
    d->fence = d->sp;
    return 0;
}

const uint8_t *dec_read_slow(decoder *d, size_t n) {
    brine_code code;
    const uint8_t *p = reader_read(&d->r, n, &code);
    if (!p) dec_fail(d, code);
    return p;
}

const uint8_t *dec_readline_slow(decoder *d, size_t *len) {
    brine_code code;
    const uint8_t *p = reader_readline(&d->r, len, &code);
    if (!p) dec_fail(d, code);
    return p;
}

const uint8_t *dec_readinto(decoder *d, size_t n) {
    brine_code code;
    const uint8_t *p = reader_readinto(&d->r, n, &code);
    if (!p) dec_fail(d, code);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Stack and memo opcodes                                                    */
/* ------------------------------------------------------------------------ */

int op_pop(decoder *d) {
    /* POP removes a MARK when the mark sits at the top of the stack. */
    if (d->nmarks > 0 && d->marks[d->nmarks - 1] == d->sp) {
        d->nmarks--;
        d->fence = d->nmarks ? d->marks[d->nmarks - 1] : 0;
        return 0;
    }
    if (d->sp <= d->fence) return dec_underflow(d);
    d->sp--;
    return 0;
}

int op_pop_mark(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    d->sp = i;
    return 0;
}

int op_dup(decoder *d) {
    if (d->sp <= d->fence) return dec_underflow(d);
    return dec_push(d, d->stack[d->sp - 1]);
}

DEC_HOT int memo_fetch(decoder *d, uint64_t idx) {
    brine_value *v = memo_get(&d->memo, idx);
    if (!v) return dec_fail(d, BRINE_E_MEMO_MISSING);
    return dec_push(d, v);
}

DEC_HOT int memo_store(decoder *d, uint64_t idx) {
    brine_code code = memo_put(&d->memo, idx, d->stack[d->sp - 1], d->opts->max_memo);
    if (code == BRINE_OK) {
        size_t cap = d->opts->max_memory;
        if (cap && d->memo.bytes + d->scratch_bytes + d->doc->arena.bytes > cap)
            return dec_fail(d, BRINE_E_LIMIT_MEMORY);
        return 0;
    }
    return dec_fail(d, code);
}

/* memo_index_text for what the fast path leaves: the general parser, out
 * of line so that its 64-limb frame stays out of the fast path. */
static DEC_NOINLINE int memo_index_parse(decoder *d, const uint8_t *line, size_t len,
                                         int64_t *out) {
    uint32_t limbs_local[64];
    size_t nlimbs = bi_text_limbs(len);
    uint32_t *limbs = limbs_local;
    if (nlimbs > 64) {
        limbs = arena_alloc(&d->doc->arena, nlimbs * sizeof *limbs);
        if (!limbs) return dec_nomem(d);
    }
    bi x;
    size_t consumed;
    bi_status st = bi_parse_py((const char *)line, len, 10, limbs, &x, &consumed);
    if (st == BI_TOO_MANY_DIGITS) return dec_fail(d, BRINE_E_INT_DIGITS);
    if (st != BI_OK) {
        /* CPython decodes the text for its message, which can fail first. */
        if (bi_invalid_literal_is_unicode_error((const char *)line, len))
            return dec_fail(d, BRINE_E_UNICODE_DECODE);
        return dec_fail_msg(d, BRINE_E_LONG_PARSE, "invalid literal for int() with base 10");
    }
    if (!bi_to_i64(&x, out)) return dec_fail(d, BRINE_E_INDEX_OVERFLOW);
    return 0;
}

/* The memo index of GET and PUT: PyLong_FromString(s, NULL, 10), then
 * PyLong_AsSsize_t. Returns 0 and *out, or -1 after dec_fail. */
static inline int memo_index_text(decoder *d, const uint8_t *line, size_t len, int64_t *out) {
    /* What the pickler writes, without the general parser. The line ends
     * at its first newline, so a run of digits and a newline is all of it. */
    uint64_t v;
    if (line_digits(line, len, &v)) {
        *out = (int64_t)v;
        return 0;
    }
    return memo_index_parse(d, line, len, out);
}

int op_get(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    if (len < 2) return dec_fail(d, BRINE_E_TRUNCATED);
    int64_t idx;
    if (memo_index_text(d, line, len, &idx) < 0) return -1;
    /* A negative index is looked up as a huge size_t: never found. */
    return memo_fetch(d, (uint64_t)idx);
}

int op_binget(decoder *d, int nbytes) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    return p ? memo_fetch(d, load_le(p, nbytes)) : -1;
}

int op_put(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    if (len < 2) return dec_fail(d, BRINE_E_TRUNCATED);
    if (d->sp <= d->fence) return dec_underflow(d);
    int64_t idx;
    if (memo_index_text(d, line, len, &idx) < 0) return -1;
    if (idx < 0) return dec_fail(d, BRINE_E_NEGATIVE_PUT);
    return memo_store(d, (uint64_t)idx);
}

int op_binput(decoder *d, int nbytes) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    if (!p) return -1;
    if (d->sp <= d->fence) return dec_underflow(d);
    return memo_store(d, load_le(p, nbytes));
}

int op_memoize(decoder *d) {
    if (d->sp <= d->fence) return dec_underflow(d);
    return memo_store(d, d->memo.len);
}

/* ------------------------------------------------------------------------ */
/* Containers                                                                */
/* ------------------------------------------------------------------------ */

/* Pops stack[start..sp) into a tuple (CPython's Pdata_poptuple). */
static int pop_tuple(decoder *d, size_t start) {
    if (start < d->fence) return dec_underflow(d);
    size_t n = d->sp - start;
    brine_value **items = NULL;
    if (n) {
        items = arena_dup(&d->doc->arena, d->stack + start, n * sizeof *items);
        if (!items) return dec_nomem(d);
    }
    d->sp = start;
    return dec_push(d, val_tuple_owned(d->doc, items, n));
}

int op_counted_tuple(decoder *d, size_t n) {
    if (d->sp < n) return dec_underflow(d);
    return pop_tuple(d, d->sp - n);
}

int op_tuple(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    return pop_tuple(d, i);
}

int op_list(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    brine_value *list = val_list_copy(d->doc, d->sp > i ? d->stack + i : NULL, d->sp - i);
    d->sp = i;
    return dec_push(d, list);
}

int op_dict(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    brine_value *dict = val_container(d->doc, BRINE_DICT);
    if (!dict) return dec_nomem(d);
    if ((d->sp - i) % 2 != 0) return dec_fail(d, BRINE_E_ODD_DICT);
    (void)py_reserve(d->doc, dict, (d->sp - i) / 2); /* a hint, as in do_setitems */
    for (size_t k = i + 1; k < d->sp; k += 2) {
        brine_code code = py_dict_set(d->doc, dict, d->stack[k - 1], d->stack[k]);
        if (code != BRINE_OK) return dec_fail(d, code);
    }
    d->sp = i;
    return dec_push(d, dict);
}

int op_frozenset(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    if (i < d->fence) return dec_underflow(d);
    brine_value *set = val_container(d->doc, BRINE_FROZENSET);
    if (!set) return dec_nomem(d);
    for (size_t k = i; k < d->sp; k++) {
        brine_code code = py_set_add(d->doc, set, d->stack[k]);
        if (code != BRINE_OK) return dec_fail(d, code);
    }
    d->sp = i;
    return dec_push(d, set);
}

int op_proto(decoder *d) {
    const uint8_t *p = dec_read(d, 1);
    if (!p) return -1;
    if (p[0] > BRINE_HIGHEST_PROTOCOL) return dec_fail(d, BRINE_E_PROTO);
    d->proto = p[0];
    return 0;
}

int op_frame(decoder *d) {
    const uint8_t *p = dec_read(d, 8);
    if (!p) return -1;
    uint64_t len = load_le(p, 8);
    if (len > (uint64_t)INT64_MAX)
        return dec_fail_msg(d, BRINE_E_SIZE_OVERFLOW, "FRAME length exceeds system's maximum");
    brine_code code;
    if (!reader_frame(&d->r, (size_t)len, &code)) return dec_fail(d, code);
    return 0;
}

void brine_decode_options_init(brine_decode_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->policy = BRINE_POLICY_SYMBOLIC;
    opts->fix_imports = 1;
}

/* Decodes into the empty document `doc`. Returns 0, or -1 with *err set
 * (the document then holds what the decoding made so far). */
static int decode_doc(brine_doc *doc, const void *data, size_t len,
                      const brine_decode_options *opts, brine_error *err) {
    decoder d;
    memset(&d, 0, sizeof d);
    d.doc = doc;
    d.opts = opts;
    static const uint8_t no_data[1];
    /* dec_run() makes pointers from data: never NULL, even when len is 0. */
    reader_init(&d.r, len ? data : no_data, len);
    memo_init(&d.memo, &doc->arena.alloc);
    d.encoding_is_bytes = opts->encoding && strcmp(opts->encoding, "bytes") == 0;

    brine_value *root = dec_run(&d);
    if (root) {
        doc->root = root;
        dec_settle_kwargs(doc);
        if (!doc_compute_discarded(doc)) {
            root = NULL;
            dec_nomem(&d);
        }
    }

    brine_alloc *al = &doc->arena.alloc;
    if (d.stack) al->free(al->ctx, d.stack, d.stack_cap * sizeof *d.stack);
    if (d.marks) al->free(al->ctx, d.marks, d.marks_cap * sizeof *d.marks);
    if (d.ext_cache) al->free(al->ctx, d.ext_cache, opts->nextensions * sizeof *d.ext_cache);
    memo_free(&d.memo);
    if (!root) {
        brine_set_error(err, d.code, d.msg, d.op_offset);
        return -1;
    }
    return 0;
}

/* The checks both entry points make first; NULL after *err is set. */
static const brine_decode_options *decode_begin(const void *data, size_t len,
                                                const brine_decode_options *opts,
                                                brine_decode_options *defaults, brine_error *err) {
    if (!opts) {
        brine_decode_options_init(defaults);
        opts = defaults;
    }
    brine_clear_error(err);
    if (!data && len) {
        brine_set_error(err, BRINE_E_USAGE, "data is NULL", 0);
        return NULL;
    }
    return opts;
}

brine_doc *brine_decode(const void *data, size_t len, const brine_decode_options *opts,
                        const brine_alloc *alloc, brine_error *err) {
    brine_decode_options defaults;
    opts = decode_begin(data, len, opts, &defaults, err);
    if (!opts) return NULL;
    brine_doc *doc = doc_new_limited(alloc, opts->max_memory);
    if (!doc) {
        brine_set_error(err, BRINE_E_NOMEM, NULL, 0);
        return NULL;
    }
    if (decode_doc(doc, data, len, opts, err) < 0) {
        brine_doc_free(doc);
        return NULL;
    }
    return doc;
}

int brine_decode_into(brine_doc *doc, const void *data, size_t len,
                      const brine_decode_options *opts, brine_error *err) {
    brine_decode_options defaults;
    if (!doc) {
        brine_clear_error(err);
        brine_set_error(err, BRINE_E_USAGE, "doc is NULL", 0);
        return -1;
    }
    opts = decode_begin(data, len, opts, &defaults, err);
    if (!opts) return -1;
    doc_reset(doc, opts->max_memory);
    int rc = decode_doc(doc, data, len, opts, err);
    /* What this decoding did not use again goes; after a failure, what it
     * used stays for the next call. */
    arena_drop_spare(&doc->arena);
    if (rc < 0) doc_reset(doc, 0);
    return rc;
}
