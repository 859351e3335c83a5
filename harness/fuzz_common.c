/*
 * fuzz_common.c - helpers shared by the fuzz targets (see fuzz_common.h)
 * and FUZZ_ASSERT's failure path.
 */
#include "fuzz_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *fuzz_input_name;

/* --- FUZZ_ASSERT ------------------------------------------------------------ */

size_t fuzz_escape(const char *in, char *out, size_t cap) {
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && k + 8 < cap; p++) {
        if (*p == '\n')
            k += (size_t)snprintf(out + k, cap - k, "\\n");
        else if (*p < 0x20 || *p >= 0x7f)
            k += (size_t)snprintf(out + k, cap - k, "\\x%02x", *p);
        else
            out[k++] = (char)*p;
    }
    if (cap) out[k] = '\0';
    return k;
}

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
    char msg[2048], out[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One line whatever the message holds: canonical texts end in \n and
     * error messages may quote raw input. */
    fuzz_escape(msg, out, sizeof out);
    const char *base = strrchr(file, '/');
    fprintf(stderr, "FUZZ_ASSERT failed: %s:%d: %s: %s%s\n", base ? base + 1 : file, line, cond,
            out, n >= (int)sizeof msg ? " [...]" : "");
    fflush(stderr);
    abort();
}

/* --- buffers ----------------------------------------------------------------- */

int fuzz_buf_write(void *ctx, const void *data, size_t len) {
    fuzz_buf *b = ctx;
    if (len > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->n < len)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return -1;
        b->p = p;
        b->cap = cap;
    }
    if (len) memcpy(b->p + b->n, data, len);
    b->n += len;
    return 0;
}

int fuzz_count_write(void *ctx, const void *data, size_t len) {
    (void)data;
    *(size_t *)ctx += len;
    return 0;
}

void fuzz_buf_free(fuzz_buf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

int fuzz_buf_eq(const fuzz_buf *a, const fuzz_buf *b) {
    return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

/* --- options ------------------------------------------------------------------ */

/* Registered when E bit 6 is set. The codes cover EXT1, EXT2 and EXT4; the
 * names include a Python 2 name (mapped by fix_imports below protocol 3)
 * and a builtin that the builtins policy folds. */
const brine_extension FUZZ_EXTENSIONS[FUZZ_NEXTENSIONS] = {
    {1, "builtins", "set"},
    {300, "__builtin__", "xrange"},
    {0x10000, "m", "Ext"},
};

/* Distinct sizes and a NUL byte, so that mixing them up shows. */
static const uint8_t buffer0[] = "\x00buf0\xff";
static const uint8_t buffer1[] = "b1";

size_t fuzz_options_from_tail(const uint8_t *data, size_t size, fuzz_options *fo) {
    static const char *const enc_c[4] = {NULL, "latin1", "bytes", "utf-8"};
    static const char *const enc_py[4] = {"ASCII", "latin1", "bytes", "utf-8"};
    static const char *const err_a[4] = {"strict", "replace", "ignore", "surrogateescape"};
    static const char *const err_b[4] = {"backslashreplace", "surrogatepass", "xmlcharrefreplace",
                                         "no-such-handler"};
    memset(fo, 0, sizeof *fo);
    brine_decode_options_init(&fo->opts);
    fo->encoding = "ASCII";
    fo->errors = "strict";
    fo->nbuffers_sel = -1;
    if (size == 0) return 0;
    uint8_t l = data[--size], e = 0;
    if ((l & 0x80) && size > 0) e = data[--size];

    fo->opts.policy = (l & 1) ? BRINE_POLICY_BUILTINS : BRINE_POLICY_SYMBOLIC;
    fo->opts.encoding = enc_c[(l >> 1) & 3];
    fo->encoding = enc_py[(l >> 1) & 3];
    fo->errors = (e & 0x80) ? err_b[(l >> 3) & 3] : err_a[(l >> 3) & 3];
    /* "strict" is also what NULL means; pass the name to cover the lookup. */
    fo->opts.errors = fo->errors;
    fo->opts.zero_copy = (l >> 5) & 1;
    fo->opts.fix_imports = !((l >> 6) & 1);

    fo->buffers[0] = (brine_buffer){buffer0, sizeof buffer0 - 1, (e >> 2) & 1};
    fo->buffers[1] = (brine_buffer){buffer1, sizeof buffer1 - 1, (e >> 3) & 1};
    fo->nbuffers_sel = (int)(e & 3) - 1;
    if (fo->nbuffers_sel >= 0) {
        fo->opts.has_buffers = 1;
        fo->opts.buffers = fo->buffers;
        fo->opts.nbuffers = (size_t)fo->nbuffers_sel;
    }
    /* Small enough that ordinary seeds hit them, so the limit paths (and
     * freeing a half-built document) are exercised. */
    fo->cap = (e >> 4) & 3;
    if (fo->cap == 1) fo->opts.max_memory = 1 << 14;
    if (fo->cap == 2) fo->opts.max_memo = 4;
    if (fo->cap == 3) fo->opts.max_marks = 2;
    fo->extensions = (e >> 6) & 1;
    if (fo->extensions) {
        fo->opts.extensions = FUZZ_EXTENSIONS;
        fo->opts.nextensions = FUZZ_NEXTENSIONS;
    }
    return size;
}

/* --- checks -------------------------------------------------------------------- */

int fuzz_not_implemented(const brine_error *err) {
    return err->code == BRINE_E_USAGE && err->msg && strstr(err->msg, "not implemented");
}

void fuzz_assert_clean_error(const brine_error *err, const char *what) {
    FUZZ_ASSERT(err->code > BRINE_OK && err->code < BRINE_E__COUNT, "%s failed with code %d", what,
                (int)err->code);
    FUZZ_ASSERT(err->pyclass && err->msg, "%s failed without class or message (code %d)", what,
                (int)err->code);
}

void fuzz_canon(const brine_doc *doc, fuzz_buf *out) {
    brine_error err;
    out->n = 0;
    int rc = brine_canon_write(doc, fuzz_buf_write, out, &err);
    FUZZ_ASSERT(rc == 0, "brine_canon_write failed: %s: %s", err.pyclass, err.msg);
    /* The text is ASCII by definition (docs/canonical.md). */
    for (size_t i = 0; i < out->n; i++)
        FUZZ_ASSERT((unsigned char)out->p[i] < 0x80,
                    "non-ASCII byte 0x%02x at %zu of the canonical text", (unsigned char)out->p[i],
                    i);
}

brine_doc *fuzz_check_canon_reread(const char *text, size_t len, int any_text) {
    brine_error err;
    brine_doc *doc = brine_canon_read(text, len, NULL, &err);
    if (!doc) {
        if (fuzz_not_implemented(&err)) return NULL;
        fuzz_assert_clean_error(&err, "brine_canon_read");
        FUZZ_ASSERT(
            any_text,
            "brine_canon_read rejects the printer's text: %s: %s (line %zu, column %zu): %.*s",
            err.pyclass, err.msg, err.line, err.column, (int)(len < 300 ? len : 300), text);
        return NULL;
    }
    fuzz_buf again = {0};
    fuzz_canon(doc, &again);
    FUZZ_ASSERT(again.n == len && memcmp(again.p, text, len) == 0,
                "text read back prints differently: read %.*s printed %.*s",
                (int)(len < 300 ? len : 300), text, (int)(again.n < 300 ? again.n : 300), again.p);
    fuzz_buf_free(&again);
    return doc;
}

/* Counts brine_dis's output, failing past a cap. */
typedef struct dis_sink {
    size_t n, cap;
    int full;
} dis_sink;

static int dis_write(void *ctx, const void *data, size_t len) {
    dis_sink *s = ctx;
    (void)data;
    if (len > s->cap - s->n) {
        s->full = 1;
        return -1;
    }
    s->n += len;
    return 0;
}

void fuzz_check_dis(const uint8_t *data, size_t len) {
    dis_sink sink = {0, FUZZ_DIS_MAX_OUTPUT(len), 0};
    brine_error err;
    int rc = brine_dis(data, len, dis_write, &sink, &err);
    if (rc != 0 && fuzz_not_implemented(&err)) return;
    if (rc != 0) fuzz_assert_clean_error(&err, "brine_dis");
    FUZZ_ASSERT(!sink.full || (rc != 0 && err.code == BRINE_E_IO),
                "brine_dis's write function failed, but brine_dis returned %d (code %d)", rc,
                (int)err.code);
}

/* --- which checks an input gets ------------------------------------------------ */

int fuzz_check_everything;

fuzz_plan fuzz_plan_for(const uint8_t *data, size_t size) {
    static int sample = -1;
    if (sample < 0) {
        /* Read once: getenv per input would show in the exec/s figures. */
        const char *e = getenv("BRINE_FUZZ_SAMPLE");
        sample = (e && *e) ? strcmp(e, "0") != 0 : !fuzz_check_everything;
    }
    fuzz_plan plan = {-1, 1};
    if (!sample) return plan;
    /* FNV-1a over the first bytes, the last bytes (the options) and the
     * size, then a finalizer so that the low bits mix too: a mutation
     * anywhere in a short input, or of its length, picks again. */
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < size && i < 64; i++)
        h = (h ^ data[i]) * 16777619u;
    for (size_t i = size > 64 ? (size - 8 > 64 ? size - 8 : 64) : size; i < size; i++)
        h = (h ^ data[i]) * 16777619u;
    h = (h ^ (uint32_t)size) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    plan.protocol = (int)(h % (BRINE_HIGHEST_PROTOCOL + 1));
    plan.dis = (h / (BRINE_HIGHEST_PROTOCOL + 1)) % FUZZ_DIS_EVERY == 0;
    return plan;
}

void fuzz_check_planted(const uint8_t *data, size_t size) {
    /* Read once: getenv per input would show in the exec/s figures. */
    static int init;
    static const char *plant;
    static size_t plant_len;
    if (!init) {
        init = 1;
        plant = getenv("BRINE_FUZZ_PLANT");
        plant_len = plant ? strlen(plant) : 0;
    }
    if (plant_len == 0 || size < plant_len) return;
    FUZZ_ASSERT(memcmp(data, plant, plant_len) != 0,
                "planted failure: the input starts with $BRINE_FUZZ_PLANT (%s)", plant);
}

/* Adds to r the discarded calls with a state setter's shape, f(X, ...),
 * whose X r holds: CPython writes a setter call right after its object, so
 * what it reaches is reached from there (encode_discarded.c). A few rounds
 * follow setters of objects that other setters reach. */
void fuzz_reach_add_setters(fuzz_reach *r, const brine_doc *doc) {
    size_t k = brine_doc_discarded_count(doc);
    for (int round = 0, more = 1; more && round < 8; round++) {
        more = 0;
        for (size_t i = 0; i < k; i++) {
            brine_value *d = brine_doc_discarded(doc, i);
            if (brine_kind_of(d) != BRINE_OBJECT || brine_object_make(d) != BRINE_MAKE_CALL ||
                brine_object_nargs(d) == 0 || fuzz_reach_has(r, d) ||
                !fuzz_reach_has(r, brine_object_arg(d, 0)))
                continue;
            fuzz_reach_add(r, d);
            more = 1;
        }
    }
}
