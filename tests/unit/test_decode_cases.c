/*
 * test_decode_cases.c - runs tests/data/decode_cases.txt through brine_decode
 * and checks the canonical text, or the error code, class and offset, of
 * every case. (tests/py/test_decode_cases.py checks the same table against
 * CPython, so the expectations themselves are tested too.)
 */
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "tcheck.h"

typedef struct {
    const char *name;
    brine_code code;
} code_name;

#define C(x)                                                                                       \
    { #x, x }
static const code_name code_names[] = {
    C(BRINE_E_NOMEM),
    C(BRINE_E_LIMIT_MEMORY),
    C(BRINE_E_LIMIT_MEMO),
    C(BRINE_E_LIMIT_MARKS),
    C(BRINE_E_EOF),
    C(BRINE_E_TRUNCATED),
    C(BRINE_E_BAD_OPCODE),
    C(BRINE_E_STACK_UNDERFLOW),
    C(BRINE_E_UNEXPECTED_MARK),
    C(BRINE_E_NO_MARK),
    C(BRINE_E_MEMO_MISSING),
    C(BRINE_E_ODD_DICT),
    C(BRINE_E_ODD_SETITEMS),
    C(BRINE_E_STRING_QUOTES),
    C(BRINE_E_LONG_NEGATIVE),
    C(BRINE_E_NEWOBJ_CLS),
    C(BRINE_E_NEWOBJ_ARGS),
    C(BRINE_E_NEWOBJ_KWARGS),
    C(BRINE_E_STACK_GLOBAL),
    C(BRINE_E_PERSID_ASCII),
    C(BRINE_E_EXT_CODE),
    C(BRINE_E_STATE_NOT_DICT),
    C(BRINE_E_SLOTSTATE_NOT_DICT),
    C(BRINE_E_NO_BUFFERS),
    C(BRINE_E_FEW_BUFFERS),
    C(BRINE_E_READ_OVERFLOW),
    C(BRINE_E_INT_PARSE),
    C(BRINE_E_LONG_PARSE),
    C(BRINE_E_INT_DIGITS),
    C(BRINE_E_FLOAT_PARSE),
    C(BRINE_E_PROTO),
    C(BRINE_E_NEGATIVE_PUT),
    C(BRINE_E_EXT_UNREGISTERED),
    C(BRINE_E_ESCAPE),
    C(BRINE_E_BYTE_RANGE),
    C(BRINE_E_SIZE_OVERFLOW),
    C(BRINE_E_FLOAT_OVERFLOW),
    C(BRINE_E_INDEX_OVERFLOW),
    C(BRINE_E_NOT_CALLABLE),
    C(BRINE_E_ARGS_NOT_TUPLE),
    C(BRINE_E_UNHASHABLE),
    C(BRINE_E_NO_SETITEM),
    C(BRINE_E_INDEX_TYPE),
    C(BRINE_E_ATTR_NAME_TYPE),
    C(BRINE_E_CLASS_ASSIGN),
    C(BRINE_E_NOT_BUFFER),
    C(BRINE_E_NOT_INTEGER),
    C(BRINE_E_KEYWORDS_NOT_STR),
    C(BRINE_E_READONLY),
    C(BRINE_E_BUFFER_EXPORT),
    C(BRINE_E_NO_ATTRIBUTE),
    C(BRINE_E_INDEX_RANGE),
    C(BRINE_E_UNICODE_DECODE),
    C(BRINE_E_UNICODE_ENCODE),
    C(BRINE_E_UNKNOWN_ENCODING),
    C(BRINE_E_UNKNOWN_ERRORS),
    C(BRINE_E_HANDLER_TYPE),
};
#undef C

static int lookup_code(const char *name, brine_code *out) {
    for (size_t i = 0; i < sizeof code_names / sizeof code_names[0]; i++)
        if (strcmp(code_names[i].name, name) == 0) {
            *out = code_names[i].code;
            return 1;
        }
    return 0;
}

/* Parses a "C-escaped" string literal into raw bytes. */
static size_t unescape(const char *s, unsigned char *out) {
    size_t n = 0;
    if (*s == '"') s++;
    while (*s && *s != '"') {
        if (*s != '\\') {
            out[n++] = (unsigned char)*s++;
            continue;
        }
        s++;
        switch (*s) {
        case 'n':
            out[n++] = '\n';
            s++;
            break;
        case 't':
            out[n++] = '\t';
            s++;
            break;
        case 'x': {
            char hex[3] = {s[1], s[2], 0};
            out[n++] = (unsigned char)strtoul(hex, NULL, 16);
            s += 3;
            break;
        }
        default: out[n++] = (unsigned char)*s++; break;
        }
    }
    return n;
}

typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static int sbuf_write(void *ctx, const void *data, size_t len) {
    sbuf *b = ctx;
    if (b->n + len + 1 > b->cap) {
        b->cap = (b->n + len + 1) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) return -1;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = 0;
    return 0;
}

enum { MAX_IN = 4096, MAX_EXT = 8 };

typedef struct {
    char name[128];
    char encoding[64], errors[64];
    unsigned char in[MAX_IN];
    size_t inlen;
    brine_decode_options opts;
    brine_buffer buffers[4];
    brine_extension ext[MAX_EXT];
    char ext_text[MAX_EXT][2][64];
    char expect[8192];
    int has_err;
    char err_class[64];
    brine_code err_code;
    size_t err_offset;
    int active;
} test_case;

static const unsigned char buffer_bytes[4][3] = {"b0", "b1", "b2", "b3"};

static void parse_opt(test_case *c, char *tok) {
    char *eq = strchr(tok, '=');
    if (!eq) return;
    *eq = 0;
    const char *key = tok, *val = eq + 1;
    if (strcmp(key, "policy") == 0)
        c->opts.policy =
            strcmp(val, "builtins") == 0 ? BRINE_POLICY_BUILTINS : BRINE_POLICY_SYMBOLIC;
    else if (strcmp(key, "encoding") == 0) {
        snprintf(c->encoding, sizeof c->encoding, "%s", val);
        c->opts.encoding = c->encoding;
    } else if (strcmp(key, "errors") == 0) {
        snprintf(c->errors, sizeof c->errors, "%s", val);
        c->opts.errors = c->errors;
    } else if (strcmp(key, "fix_imports") == 0)
        c->opts.fix_imports = atoi(val);
    else if (strcmp(key, "max_memo") == 0)
        c->opts.max_memo = (size_t)atol(val);
    else if (strcmp(key, "max_marks") == 0)
        c->opts.max_marks = (size_t)atol(val);
    else if (strcmp(key, "max_memory") == 0)
        c->opts.max_memory = (size_t)atol(val);
    else if (strcmp(key, "buffers") == 0 || strcmp(key, "robuffers") == 0) {
        size_t n = (size_t)atoi(val);
        for (size_t i = 0; i < n && i < 4; i++)
            c->buffers[i] = (brine_buffer){buffer_bytes[i], 2, key[0] == 'r'};
        c->opts.has_buffers = 1;
        c->opts.buffers = c->buffers;
        c->opts.nbuffers = n;
    } else if (strcmp(key, "ext") == 0 && c->opts.nextensions < MAX_EXT) {
        size_t k = c->opts.nextensions++;
        char *colon1 = strchr(val, ':'), *colon2 = colon1 ? strchr(colon1 + 1, ':') : NULL;
        if (!colon2) return;
        *colon1 = *colon2 = 0;
        snprintf(c->ext_text[k][0], 64, "%s", colon1 + 1);
        snprintf(c->ext_text[k][1], 64, "%s", colon2 + 1);
        c->ext[k] = (brine_extension){(int32_t)atol(val), c->ext_text[k][0], c->ext_text[k][1]};
        c->opts.extensions = c->ext;
    }
}

/* Checks one decoding's result (doc, or NULL and err) against the case. */
static void check_case(const test_case *c, const brine_doc *doc, const brine_error *err) {
    if (c->has_err) {
        tcheck_checks++;
        if (doc) {
            sbuf got = {0};
            brine_canon_write(doc, sbuf_write, &got, NULL);
            TFAIL_("expected %s, decoded: %s", c->err_class, got.p ? got.p : "");
            free(got.p);
        } else {
            CHECK_EQ_INT(err->code, c->err_code);
            CHECK_EQ_STR(err->pyclass, c->err_class);
            CHECK_EQ_INT(err->offset, c->err_offset);
        }
    } else {
        tcheck_checks++;
        if (!doc) {
            TFAIL_("expected success, got %s (%s) at %zu", err->pyclass, err->msg, err->offset);
        } else {
            sbuf got = {0};
            brine_error werr;
            CHECK(brine_canon_write(doc, sbuf_write, &got, &werr) == 0);
            CHECK_EQ_STR(got.p ? got.p : "", c->expect);
            free(got.p);
        }
    }
}

/* Every case twice: into a new document, and with brine_decode_into into
 * `reused`, which holds what the previous case left (a result, or nothing
 * after a failure), so that reused memory changes no result, error,
 * offset or limit. */
static void run_case(test_case *c, brine_doc *reused) {
    tcheck_current = c->name;
    brine_error err;
    brine_doc *doc = brine_decode(c->in, c->inlen, &c->opts, NULL, &err);
    check_case(c, doc, &err);
    brine_doc_free(doc);
    int rc = brine_decode_into(reused, c->in, c->inlen, &c->opts, &err);
    check_case(c, rc == 0 ? reused : NULL, &err);
    CHECK(rc == 0 || brine_doc_root(reused) == NULL);
}

/* Decodes `pickle`, prints it, and returns the text (malloc'd) or NULL. */
static char *decode_text(const char *pickle, brine_doc **doc) {
    brine_decode_options opts;
    brine_decode_options_init(&opts);
    *doc = brine_decode((const unsigned char *)pickle, strlen(pickle), &opts, NULL, NULL);
    if (!*doc) return NULL;
    sbuf got = {0};
    if (brine_canon_write(*doc, sbuf_write, &got, NULL) != 0) {
        free(got.p);
        return NULL;
    }
    return got.p;
}

/* Checks that doc prints `want` and that the text reads back to itself. */
static void check_prints_and_reads_back(const brine_doc *doc, const char *want) {
    sbuf got = {0}, again = {0};
    CHECK(brine_canon_write(doc, sbuf_write, &got, NULL) == 0);
    CHECK_EQ_STR(got.p ? got.p : "", want);
    brine_error err;
    brine_doc *back = brine_canon_read(got.p ? got.p : "", got.n, NULL, &err);
    if (!back) TFAIL_("canon_read rejects the printer's text: %s", err.msg);
    CHECK(back && brine_canon_write(back, sbuf_write, &again, NULL) == 0);
    CHECK_EQ_STR(again.p ? again.p : "", want);
    brine_doc_free(back);
    free(got.p);
    free(again.p);
}

/* The printer skips discarded entries that the root or an earlier entry
 * reaches, so documents built with brine_doc_add_discarded print text
 * that reads back; the decoder's own lists never hold such entries, and
 * what it prints is unchanged. */
static void test_discarded_entries_already_reached(void) {
    tcheck_current = "discarded_entries_already_reached";
    brine_doc *doc;

    /* The root itself, and a discarded entry listed twice. */
    char *text = decode_text("cm\nf\n)R0cm\ng\n)R.", &doc);
    const char *want = "root: call(global('m', 'g'), ())\n"
                       "discarded: call(global('m', 'f'), ())\n";
    CHECK_EQ_STR(text ? text : "", want);
    if (doc) {
        CHECK_EQ_INT(brine_doc_discarded_count(doc), 1);
        CHECK(brine_doc_add_discarded(doc, brine_doc_root(doc)) == 0);
        CHECK(brine_doc_add_discarded(doc, brine_doc_discarded(doc, 0)) == 0);
        CHECK_EQ_INT(brine_doc_discarded_count(doc), 3);
        check_prints_and_reads_back(doc, want);
    }
    free(text);
    brine_doc_free(doc);

    /* A node the root reaches twice keeps its label numbering. */
    text = decode_text("(cm\nf\n)Rp0\ng0\nl.", &doc);
    want = "root: [&1 call(global('m', 'f'), ()), *1]\n";
    CHECK_EQ_STR(text ? text : "", want);
    if (doc) {
        brine_value *x = brine_item(brine_doc_root(doc), 0);
        CHECK(x && brine_doc_add_discarded(doc, x) == 0);
        check_prints_and_reads_back(doc, want);
    }
    free(text);
    brine_doc_free(doc);

    /* A node an earlier discarded entry reaches (through setstate). */
    text = decode_text("cm\nf\n)Rcm\ng\n)Rb0N.", &doc);
    want = "root: None\n"
           "discarded: call(global('m', 'f'), ()).setstate(call(global('m', 'g'), ()))\n";
    CHECK_EQ_STR(text ? text : "", want);
    if (doc) {
        CHECK_EQ_INT(brine_doc_discarded_count(doc), 1);
        brine_value *state = NULL;
        brine_value *f = brine_doc_discarded(doc, 0);
        if (f && brine_nops(f) == 1) brine_op(f, 0, &state, NULL);
        CHECK(state && brine_doc_add_discarded(doc, state) == 0);
        check_prints_and_reads_back(doc, want);
    }
    free(text);
    brine_doc_free(doc);
}

int main(void) {
    test_discarded_entries_already_reached();
    FILE *f = fopen("tests/data/decode_cases.txt", "r");
    if (!f) {
        perror("tests/data/decode_cases.txt");
        return 1;
    }
    static test_case c;
    static char line[MAX_IN * 2];
    brine_doc *reused = brine_doc_new(NULL);
    CHECK(reused != NULL);
    int ncases = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "case ", 5) == 0) {
            if (c.active) {
                run_case(&c, reused);
                ncases++;
            }
            memset(&c, 0, sizeof c);
            brine_decode_options_init(&c.opts);
            snprintf(c.name, sizeof c.name, "%.100s", line + 5);
            c.active = 1;
        } else if (strncmp(line, "in ", 3) == 0) {
            c.inlen = unescape(line + 3, c.in);
        } else if (strncmp(line, "opt ", 4) == 0) {
            for (char *tok = strtok(line + 4, " "); tok; tok = strtok(NULL, " "))
                parse_opt(&c, tok);
        } else if (strncmp(line, "out ", 4) == 0) {
            strncat(c.expect, line + 4, sizeof c.expect - strlen(c.expect) - 2);
            strcat(c.expect, "\n");
        } else if (strncmp(line, "err ", 4) == 0) {
            char code[64];
            c.has_err = 1;
            if (sscanf(line + 4, "%63s %63s %zu", c.err_class, code, &c.err_offset) != 3 ||
                !lookup_code(code, &c.err_code)) {
                tcheck_current = c.name;
                TFAIL_("bad err line: %s", line);
            }
        }
    }
    if (c.active) {
        run_case(&c, reused);
        ncases++;
    }
    fclose(f);
    brine_doc_free(reused);
    fprintf(stderr, "%d cases\n", ncases);
    CHECK(ncases > 100);
    return TDONE();
}
