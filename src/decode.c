/*
 * decode.c - the unpickling machine: dispatch, stack, marks, memo and the
 * container opcodes. Scalars are in decode_scalar.c, globals and objects in
 * decode_object.c.
 *
 * Every check happens in the order CPython 3.11 makes it, because the first
 * failing check decides the exception class.
 */
#include <string.h>

#include "bigint.h"
#include "decode.h"
#include "errors.h"
#include "pyops.h"


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

static int op_mark(decoder *d) {
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

const uint8_t *dec_readline(decoder *d, size_t *len) {
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

static int op_pop(decoder *d) {
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

static int op_pop_mark(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    d->sp = i;
    return 0;
}

static int op_dup(decoder *d) {
    if (d->sp <= d->fence) return dec_underflow(d);
    return dec_push(d, d->stack[d->sp - 1]);
}

static int memo_fetch(decoder *d, uint64_t idx) {
    brine_value *v = memo_get(&d->memo, idx);
    if (!v) return dec_fail(d, BRINE_E_MEMO_MISSING);
    return dec_push(d, v);
}

static int memo_store(decoder *d, uint64_t idx) {
    brine_code code = memo_put(&d->memo, idx, d->stack[d->sp - 1], d->opts->max_memo);
    if (code == BRINE_OK) {
        size_t cap = d->opts->max_memory;
        if (cap && d->memo.bytes + d->scratch_bytes + d->doc->arena.bytes > cap)
            return dec_fail(d, BRINE_E_LIMIT_MEMORY);
        return 0;
    }
    return dec_fail(d, code);
}

/* The memo index of GET and PUT: PyLong_FromString(s, NULL, 10), then
 * PyLong_AsSsize_t. Returns 0 and *out, or -1 after dec_fail. */
static int memo_index_text(decoder *d, const uint8_t *line, size_t len, int64_t *out) {
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

static int op_get(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    if (len < 2) return dec_fail(d, BRINE_E_TRUNCATED);
    int64_t idx;
    if (memo_index_text(d, line, len, &idx) < 0) return -1;
    /* A negative index is looked up as a huge size_t: never found. */
    return memo_fetch(d, (uint64_t)idx);
}

static int op_binget(decoder *d, int nbytes) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    return p ? memo_fetch(d, dec_le(p, nbytes)) : -1;
}

static int op_put(decoder *d) {
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

static int op_binput(decoder *d, int nbytes) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    if (!p) return -1;
    if (d->sp <= d->fence) return dec_underflow(d);
    return memo_store(d, dec_le(p, nbytes));
}

static int op_memoize(decoder *d) {
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

static int op_counted_tuple(decoder *d, size_t n) {
    if (d->sp < n) return dec_underflow(d);
    return pop_tuple(d, d->sp - n);
}

static int op_tuple(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    return pop_tuple(d, i);
}

static int op_list(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    brine_value *list = val_list_copy(d->doc, d->sp > i ? d->stack + i : NULL, d->sp - i);
    d->sp = i;
    return dec_push(d, list);
}

static int op_dict(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    brine_value *dict = val_container(d->doc, BRINE_DICT);
    if (!dict) return dec_nomem(d);
    if ((d->sp - i) % 2 != 0) return dec_fail(d, BRINE_E_ODD_DICT);
    for (size_t k = i + 1; k < d->sp; k += 2) {
        brine_code code = py_dict_set(d->doc, dict, d->stack[k - 1], d->stack[k]);
        if (code != BRINE_OK) return dec_fail(d, code);
    }
    d->sp = i;
    return dec_push(d, dict);
}

static int op_frozenset(decoder *d) {
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

static int op_proto(decoder *d) {
    const uint8_t *p = dec_read(d, 1);
    if (!p) return -1;
    if (p[0] > BRINE_HIGHEST_PROTOCOL) return dec_fail(d, BRINE_E_PROTO);
    d->proto = p[0];
    return 0;
}

static int op_frame(decoder *d) {
    const uint8_t *p = dec_read(d, 8);
    if (!p) return -1;
    uint64_t len = dec_le(p, 8);
    if (len > (uint64_t)INT64_MAX)
        return dec_fail_msg(d, BRINE_E_SIZE_OVERFLOW, "FRAME length exceeds system's maximum");
    brine_code code;
    if (!reader_frame(&d->r, (size_t)len, &code)) return dec_fail(d, code);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Dispatch                                                                  */
/* ------------------------------------------------------------------------ */

/* Runs opcodes until STOP. Returns the value STOP pops, or NULL. */
static brine_value *run(decoder *d) {
    for (;;) {
        const uint8_t *p = reader_take(&d->r, 1);
        if (!p) {
            brine_code code;
            p = reader_read(&d->r, 1, &code);
            if (!p) {
                d->op_offset = d->r.len;
                dec_fail(d, BRINE_E_EOF);
                return NULL;
            }
        }
        d->op_offset = (size_t)(p - d->r.data);
        int rc;
        switch (*p) {
        case '(': rc = op_mark(d); break;
        case '.': {
            brine_value *v;
            return dec_pop(d, &v) < 0 ? NULL : v;
        }
        case '0': rc = op_pop(d); break;
        case '1': rc = op_pop_mark(d); break;
        case '2': rc = op_dup(d); break;
        case 'F': rc = op_float(d); break;
        case 'G': rc = op_binfloat(d); break;
        case 'I': rc = op_int(d); break;
        case 'J': {
            const uint8_t *q = dec_read(d, 4);
            rc = q ? dec_push(d, val_int64(d->doc, (int32_t)(uint32_t)dec_le(q, 4))) : -1;
            break;
        }
        case 'K': {
            const uint8_t *q = dec_read(d, 1);
            rc = q ? dec_push(d, val_int64(d->doc, q[0])) : -1;
            break;
        }
        case 'M': {
            const uint8_t *q = dec_read(d, 2);
            rc = q ? dec_push(d, val_int64(d->doc, (int64_t)dec_le(q, 2))) : -1;
            break;
        }
        case 'L': rc = op_long(d); break;
        case 0x8a: rc = op_counted_long(d, 1); break;
        case 0x8b: rc = op_counted_long(d, 4); break;
        case 'N': rc = dec_push(d, &d->doc->none); break;
        case 0x88: rc = dec_push(d, &d->doc->t); break;
        case 0x89: rc = dec_push(d, &d->doc->f); break;
        case 'S': rc = op_string(d); break;
        case 'T': rc = op_counted_binstring(d, 4); break;
        case 'U': rc = op_counted_binstring(d, 1); break;
        case 'V': rc = op_unicode(d); break;
        case 'X': rc = op_counted_binunicode(d, 4); break;
        case 0x8c: rc = op_counted_binunicode(d, 1); break;
        case 0x8d: rc = op_counted_binunicode(d, 8); break;
        case 'B': rc = op_counted_binbytes(d, 4); break;
        case 'C': rc = op_counted_binbytes(d, 1); break;
        case 0x8e: rc = op_counted_binbytes(d, 8); break;
        case 0x96: rc = op_bytearray8(d); break;
        case 0x97: rc = op_next_buffer(d); break;
        case 0x98: rc = op_readonly_buffer(d); break;
        case ')': rc = op_counted_tuple(d, 0); break;
        case 0x85: rc = op_counted_tuple(d, 1); break;
        case 0x86: rc = op_counted_tuple(d, 2); break;
        case 0x87: rc = op_counted_tuple(d, 3); break;
        case 't': rc = op_tuple(d); break;
        case ']': rc = dec_push(d, val_list_copy(d->doc, NULL, 0)); break;
        case 'l': rc = op_list(d); break;
        case '}': rc = dec_push(d, val_container(d->doc, BRINE_DICT)); break;
        case 'd': rc = op_dict(d); break;
        case 0x8f: rc = dec_push(d, val_container(d->doc, BRINE_SET)); break;
        case 0x90: rc = op_additems(d); break;
        case 0x91: rc = op_frozenset(d); break;
        case 'a': rc = op_append(d); break;
        case 'e': rc = op_appends(d); break;
        case 's': rc = op_setitem(d); break;
        case 'u': rc = op_setitems(d); break;
        case 'b': rc = op_build(d); break;
        case 'c': rc = op_global(d); break;
        case 0x93: rc = op_stack_global(d); break;
        case 'i': rc = op_inst(d); break;
        case 'o': rc = op_obj(d); break;
        case 0x81: rc = op_newobj(d, 0); break;
        case 0x92: rc = op_newobj(d, 1); break;
        case 'R': rc = op_reduce(d); break;
        case 'P': rc = op_persid(d); break;
        case 'Q': rc = op_binpersid(d); break;
        case 0x82: rc = op_extension(d, 1); break;
        case 0x83: rc = op_extension(d, 2); break;
        case 0x84: rc = op_extension(d, 4); break;
        case 'g': rc = op_get(d); break;
        case 'h': rc = op_binget(d, 1); break;
        case 'j': rc = op_binget(d, 4); break;
        case 'p': rc = op_put(d); break;
        case 'q': rc = op_binput(d, 1); break;
        case 'r': rc = op_binput(d, 4); break;
        case 0x94: rc = op_memoize(d); break;
        case 0x80: rc = op_proto(d); break;
        case 0x95: rc = op_frame(d); break;
        default: rc = dec_fail(d, BRINE_E_BAD_OPCODE); break;
        }
        if (rc < 0) return NULL;
    }
}

void brine_decode_options_init(brine_decode_options *opts) {
    memset(opts, 0, sizeof *opts);
    opts->policy = BRINE_POLICY_SYMBOLIC;
    opts->fix_imports = 1;
}

brine_doc *brine_decode(const void *data, size_t len, const brine_decode_options *opts,
                        const brine_alloc *alloc, brine_error *err) {
    brine_decode_options defaults;
    if (!opts) {
        brine_decode_options_init(&defaults);
        opts = &defaults;
    }
    brine_clear_error(err);
    if (!data && len) {
        brine_set_error(err, BRINE_E_USAGE, "data is NULL", 0);
        return NULL;
    }
    brine_doc *doc = doc_new_limited(alloc, opts->max_memory);
    if (!doc) {
        brine_set_error(err, BRINE_E_NOMEM, NULL, 0);
        return NULL;
    }
    decoder d;
    memset(&d, 0, sizeof d);
    d.doc = doc;
    d.opts = opts;
    reader_init(&d.r, data, len);
    memo_init(&d.memo, &doc->arena.alloc);
    d.encoding_is_bytes = opts->encoding && strcmp(opts->encoding, "bytes") == 0;

    brine_value *root = run(&d);
    if (root) {
        doc->root = root;
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
        brine_doc_free(doc);
        return NULL;
    }
    return doc;
}
