/*
 * test_canon_read.c - the canonical text reader (src/canon_read*.c).
 *
 * Without arguments: hand-written texts that must be read and printed back
 * byte for byte, texts that must be rejected with a given message at a given
 * position, random documents built through the API (printed, read, printed
 * again), very deep nesting, allocation failures, and mutations of all of
 * those texts: whatever the reader accepts must print back identically.
 *
 * With `--corpus FILE`: the pickles in FILE (written by
 * tests/py/test_canon_read_corpus.py) are decoded, printed, read and printed
 * again; each text and each pickle is also mutated. Prints one summary line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "graph.h"
#include "tcheck.h"
#include "value.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sbuf_write(void *ctx, const void *data, size_t len) {
    sbuf *b = ctx;
    if (b->n + len > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->n + len)
            ncap *= 2;
        char *p = realloc(b->p, ncap);
        if (!p) return -1;
        b->p = p;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    return 0;
}

static void sbuf_puts(sbuf *b, const char *s) {
    sbuf_write(b, s, strlen(s));
}

static void sbuf_rep(sbuf *b, const char *s, size_t times) {
    for (size_t i = 0; i < times; i++)
        sbuf_puts(b, s);
}

/* Prints doc into a fresh buffer (b->p NULL on failure). */
static int print_doc(const brine_doc *doc, sbuf *b) {
    brine_error err;
    b->n = 0;
    if (brine_canon_write(doc, sbuf_write, b, &err) != 0) {
        fprintf(stderr, "canon_write failed: %s\n", err.msg);
        return 0;
    }
    return 1;
}

/* xorshift64*, deterministic across platforms. */
typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *g) {
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * 0x2545F4914F6CDD1Du;
}

static size_t rndn(rng *g, size_t n) {
    return n ? (size_t)(rnd(g) % n) : 0;
}

/* The 1-based line and column of byte `off`, as the reader must report. */
static void line_col(const char *t, size_t n, size_t off, size_t *line, size_t *col) {
    size_t l = 1, start = 0;
    for (size_t i = 0; i < off && i < n; i++)
        if (t[i] == '\n') {
            l++;
            start = i + 1;
        }
    *line = l;
    *col = off - start + 1;
}

/* Whether every node of doc has mark 0: the reader uses the field while
 * reading and must leave it as the decoder's reachability pass expects. */
static int marks_clear(const brine_doc *doc) {
    size_t cap = 1024, n = 0, top = 0, scap = 1024;
    const brine_value **set = calloc(cap, sizeof *set);
    brine_value **stack = malloc(scap * sizeof *stack);
    int ok = 1;
    for (size_t r = 0; r <= doc->discarded.n; r++) {
        stack[top++] = r ? doc->discarded.items[r - 1] : doc->root;
        while (top && ok) {
            brine_value *v = stack[--top];
            size_t h = ((uintptr_t)v >> 4) * 0x9E3779B97F4A7C15u;
            size_t j = h & (cap - 1);
            while (set[j] && set[j] != v)
                j = (j + 1) & (cap - 1);
            if (set[j]) continue;
            set[j] = v;
            if (v->mark) ok = 0;
            if (++n * 2 > cap) { /* grow the pointer set */
                const brine_value **old = set;
                set = calloc(cap * 2, sizeof *set);
                for (size_t i = 0; i < cap; i++)
                    if (old[i]) {
                        size_t k = (((uintptr_t)old[i] >> 4) * 0x9E3779B97F4A7C15u) & (cap * 2 - 1);
                        while (set[k])
                            k = (k + 1) & (cap * 2 - 1);
                        set[k] = old[i];
                    }
                free(old);
                cap *= 2;
            }
            for (size_t i = 0, ns = graph_nslots(v); i < ns; i++) {
                brine_value *c = graph_slot(v, i);
                if (!c) continue;
                if (top == scap) stack = realloc(stack, (scap *= 2) * sizeof *stack);
                stack[top++] = c;
            }
        }
    }
    free(set);
    free(stack);
    return ok;
}

/* Reads text and prints it back: returns 1 when both agree, 0 when the text
 * was rejected (*err set), -1 when it was accepted but printed differently
 * (the property that must never fail) or left a mark set. */
static int read_print(const char *text, size_t len, brine_error *err) {
    brine_doc *doc = brine_canon_read(text, len, NULL, err);
    if (!doc) return 0;
    sbuf b = {0};
    int ok = print_doc(doc, &b) && b.n == len && memcmp(b.p, text, len) == 0;
    if (ok && !marks_clear(doc)) {
        fprintf(stderr, "a node's mark was left set\n");
        ok = 0;
    }
    if (!ok) {
        tcheck_dump_("  read", text, len);
        tcheck_dump_("  printed", b.p ? b.p : "", b.n);
    }
    free(b.p);
    brine_doc_free(doc);
    return ok ? 1 : -1;
}

/* A rejection must be well-formed: a syntax or hash error with a position
 * inside the text whose line and column agree with its offset. */
static int error_well_formed(const char *text, size_t len, const brine_error *err) {
    size_t line, col;
    line_col(text, len, err->offset, &line, &col);
    return (err->code == BRINE_E_SYNTAX || err->code == BRINE_E_UNHASHABLE) && err->msg &&
           err->offset <= len && err->line == line && err->column == col;
}

/* ------------------------------------------------------------------------ */
/* Mutations                                                                 */
/* ------------------------------------------------------------------------ */

typedef struct mut_stats {
    size_t tried, accepted, failed;
} mut_stats;

static const char mut_alphabet[] = "()[]{},: '\\&*0123456789abcdefxnuUN-.e+\nrtsFT_";

/* One random edit of src into dst (which has room for 2 * n + 16 bytes). */
static size_t mutate(rng *g, const char *src, size_t n, char *dst) {
    size_t i = rndn(g, n + 1), k;
    if (n == 0 || n > ((size_t)-1) / 16) {
        dst[0] = mut_alphabet[rndn(g, sizeof mut_alphabet - 1)];
        return 1;
    }
    memcpy(dst, src, n);
    switch (rndn(g, 8)) {
    case 0: /* replace a byte */
        if (i < n) dst[i] = mut_alphabet[rndn(g, sizeof mut_alphabet - 1)];
        return n;
    case 1: /* delete a byte */
        if (i == n) return n;
        memmove(dst + i, dst + i + 1, n - i - 1);
        return n - 1;
    case 2: /* insert a byte */
        memmove(dst + i + 1, dst + i, n - i);
        dst[i] = mut_alphabet[rndn(g, sizeof mut_alphabet - 1)];
        return n + 1;
    case 3: /* delete a run */
        k = rndn(g, 12) + 1;
        if (i + k > n) k = n - i;
        memmove(dst + i, dst + i + k, n - i - k);
        return n - k;
    case 4: { /* copy a run somewhere else (duplicates labels, items, ...) */
        size_t from = rndn(g, n + 1);
        k = rndn(g, 24) + 1;
        if (from + k > n) k = n - from;
        memmove(dst + i + k, dst + i, n - i);
        memcpy(dst + i, src + from, k);
        return n + k;
    }
    case 5: /* change a digit */
        for (k = i; k < n; k++)
            if (dst[k] >= '0' && dst[k] <= '9') {
                dst[k] = (char)('0' + rndn(g, 10));
                break;
            }
        return n;
    case 6: /* flip a bit */
        if (i < n) dst[i] ^= (char)(1 << rndn(g, 8));
        return n;
    default: /* swap two bytes */
        k = rndn(g, n + 1);
        if (i < n && k < n) {
            char c = dst[i];
            dst[i] = dst[k];
            dst[k] = c;
        }
        return n;
    }
}

/* Applies `count` independent mutations (each 1-3 edits) to text. */
static void mutation_test(rng *g, const char *text, size_t n, size_t count, mut_stats *st) {
    char *a = malloc(8 * n + 64), *b = malloc(8 * n + 64);
    for (size_t c = 0; c < count; c++) {
        size_t m = mutate(g, text, n, a);
        for (size_t e = rndn(g, 3); e > 0 && m < 3 * n + 8; e--) {
            m = mutate(g, a, m, b);
            memcpy(a, b, m);
        }
        brine_error err;
        int r = read_print(a, m, &err);
        st->tried++;
        if (r == 1) {
            st->accepted++;
        } else if (r < 0 || !error_well_formed(a, m, &err)) {
            st->failed++;
            if (st->failed <= 10) {
                fprintf(stderr, "mutation %s (error %d %s at %zu, %zu:%zu)\n",
                        r < 0 ? "accepted but printed differently" : "badly rejected",
                        (int)err.code, err.msg ? err.msg : "", err.offset, err.line, err.column);
                tcheck_dump_("  original", text, n);
                tcheck_dump_("  mutated", a, m);
            }
        }
    }
    free(a);
    free(b);
}

/* ------------------------------------------------------------------------ */
/* Texts the printer writes                                                  */
/* ------------------------------------------------------------------------ */

static const char *const accepted_texts[] = {
    /* atoms */
    "root: None\n",
    "root: [True, False]\n",
    "root: [0, 1, -1, -5, 256, 257, -7, 9223372036854775807, -9223372036854775808]\n",
    "root: [9223372036854775808, 18446744073709551615, 18446744073709551616, "
    "-18446744073709551616, 123456789012345678901234567890]\n",
    "root: [1.5, -0.0, 0.0, 1.0, 1e+16, 1e-05, 0.0001, 5e-324, 1.7976931348623157e+308, "
    "2.2250738585072014e-308, 0.1, 123456789.0, 1e+22, -2.5e-10]\n",
    "root: [inf, -inf, nan, nan:0xfff8000000000000, nan:0x7ff0000000000001, "
    "nan:0xffffffffffffffff, nan:0x7ff4000000000000]\n",
    "root: [complex(1.0, -0.0), complex(nan, inf), complex(nan:0x7ff4000000000000, -1.5), "
    "complex(0.0, 0.0)]\n",
    "root: ['', 'a', ' ', '~', '\\'', '\\\\', '\\t\\n\\r', '\\x00\\x1f\\x7f\\x80\\xff', "
    "'\\u0100\\u20ac\\ud800\\udfff\\uffff', '\\U00010000\\U0010ffff', 'abc def', "
    "'\\ud83d\\ude00', 'caf\\xe9']\n",
    "root: [b'', b'a', b'\\x00\\xff', b'\\'\\\\\\t\\n\\r', b' ~', bytearray(b''), "
    "bytearray(b'xyz'), bytearray(b'\\x80')]\n",
    "root: ((), (1,), (1, 2), ((),), (((1,),),), ('a', b'b', None))\n",
    "root: [[], [[]], {}, {1: 2}, {'a': [1], 'b': {}}, set(), {1, 2}, frozenset(), "
    "frozenset({1, 'a'}), {(): ()}]\n",
    "root: [buffer(0), buffer(17), readonly(buffer(1)), readonly(bytearray(b'x')), buffer(0)]\n",
    /* separators inside literals are not separators */
    "root: {'a: b': ', ', '}': ']', ')': '\\n'}\n",
    /* globals, objects, operations, persistent ids */
    "root: [global('os', 'system'), global('builtins', 'len'), global('', ''), "
    "global('a', 'a')]\n",
    "root: [&1 'mod', global(*1, 'A'), global(*1, 'B')]\n",
    "root: [global(&1 'mod', 'A'), global(*1, 'B'), *1]\n",
    "root: [global('m', &1 'same'), global(*1, *1)]\n",
    "root: call(global('m', 'f'), ())\n",
    "root: call(global('m', 'f'), (1,))\n",
    "root: call(global('m', 'f'), (1, 'two', [3]))\n",
    "root: new(global('m', 'C'), (1, 2), {'k': 3, 'j': None})\n",
    "root: new(global('m', 'C'), (), {'k': 3})\n",
    "root: new(global('m', 'C'), (), {})\n",
    "root: [&1 {}, new(global('m', 'C'), (), *1)]\n",
    "root: new(global('m', 'C'), (), {1: 2, (1, 'a'): None, 1.5: [], frozenset({1}): 0})\n",
    "root: call(new(global('m', 'C'), ()), ())\n",
    "root: new(global('m', 'C'), ()).extend([1, 2, 3]).setitem('k', 'v').add(4)"
    ".setstate({'a': 1}).extend([5])\n",
    "root: global('m', 'C').setstate(None).setstate(None).add(1).add(1)\n",
    "root: [persid('42'), persid((1, 'x')), persid(None)]\n",
    /* labels and cycles */
    "root: &1 [*1]\n",
    "root: &1 {'self': *1}\n",
    "root: [&1 'shared', *1, (1,), (1,)]\n",
    "root: &1 new(&2 global('__main__', 'Node'), ()).setstate({'next': new(*2, ())"
    ".setstate({'prev': *1})})\n",
    "root: &1 ([*1],)\n",
    "root: &1 ({'k': *1},)\n",
    "root: &1 (new(global('m', 'C'), ()).setstate({*1: 0}),)\n",
    "root: &1 (new(global('m', 'C'), ()).setstate({(*1,): 0, frozenset({*1}): 1}),)\n",
    "root: &1 frozenset({new(global('m', 'C'), ()).setstate(frozenset({(*1,)}))})\n",
    "root: &1 frozenset({new(global('m', 'C'), ()).setstate({*1})})\n",
    "root: &1 call(new(global('m', 'C'), ()).setstate([*1]), ())\n",
    "root: &1 call(global('m', 'f'), ([*1],))\n",
    "root: &1 new(global('m', 'C'), (), {'k': [*1]})\n",
    /* REDUCE's and NEWOBJ's tuple and NEWOBJ_EX's dict are nodes */
    "root: [call(global('m', 'f'), &1 (1,)), *1]\n",
    "root: [&1 (1, 2), call(global('m', 'f'), *1), new(global('m', 'C'), *1, &2 {'k': *1}), *2]\n",
    "root: [new(global('m', 'C'), (), &1 {'a': 1}), *1]\n",
    "root: new(global('__main__', 'KwNew'), &1 (1,), &2 {'k': 2})"
    ".setstate({'args': *1, 'kw': *2})\n",
    "root: &1 new(global('m', 'C'), (), {'k': *1})\n",
    "root: &1 new(global('m', 'C'), (), {'a': 1, (*1,): 2})\n",
    "root: &1 ([call(global('m', 'f'), *1)],)\n",
    "root: &1 persid([*1])\n",
    "root: &1 ([persid(*1)],)\n",
    "root: &1 ([&2 persid(*1)], [*2])\n",
    "root: &1 global('m', 'C').setstate(*1)\n",
    "root: &1 global('m', 'C').setstate((*1,))\n",
    "root: [&1 (1, 2), {*1: *1}]\n",
    "root: &1 [&2 {}, *2, *1]\n",
    "root: (&1 [], *1)\n",
    "root: [&1 b'a', *1, b'a', &2 bytearray(b''), readonly(*2), *2]\n",
    "root: [&1 readonly(buffer(0)), *1, &2 buffer(1), readonly(*2)]\n",
    "root: [&1 complex(1.0, 2.0), *1]\n",
    "root: [&1 set(), *1, &2 frozenset(), *2, &3 [], *3, &4 {}, *4]\n",
    "root: [&1 'xy', &2 [*1, *2], *2]\n",
    /* sets and dicts with keys of every hashable kind */
    "root: {1: 'a', 'a': 1, (1, 'a'): 2, frozenset({1}): 3, None: 4, 2.5: 5, b'x': 6, "
    "global('m', 'C'): 7, complex(1.0, 1.0): 8, persid(1): 9, buffer(0): 10, "
    "18446744073709551616: 11, -0.0: 12}\n",
    "root: {nan: 1, nan: 2, nan:0x7ff0000000000001: 3}\n",
    "root: {new(global('m', 'C'), ()), new(global('m', 'D'), ()), 'x', (1, (2, (3,)))}\n",
    "root: frozenset({frozenset({frozenset()}), (frozenset({1}), 2)})\n",
    /* discarded lines */
    "root: None\ndiscarded: call(global('os', 'system'), ('echo hi',))\n",
    "root: &1 [1]\ndiscarded: call(global('m', 'f'), (*1,))\ndiscarded: &2 persid('x')\n"
    "discarded: call(global('m', 'g'), (*2,))\n",
    "root: None\ndiscarded: &1 new(global('m', 'C'), ()).setstate(*1)\n",
    "root: None\ndiscarded: persid([])\n",
    "root: &1 global('m', 'C')\ndiscarded: new(*1, ())\ndiscarded: new(*1, ())\n",
};

static void test_accepts(void) {
    for (size_t i = 0; i < sizeof accepted_texts / sizeof *accepted_texts; i++) {
        const char *t = accepted_texts[i];
        brine_error err;
        int r = read_print(t, strlen(t), &err);
        if (r != 1) {
            TFAIL_("text %zu %s: %s at %zu:%zu", i, r ? "printed differently" : "rejected",
                   r ? "" : err.msg, err.line, err.column);
            tcheck_dump_("  text", t, strlen(t));
        }
        tcheck_checks++;
    }
}

/* Big ints across the decimal/hex boundary, made through the API from
 * little-endian two's complement bytes. */
static void test_int_boundary(void) {
    static const char *const want[] = {
        "root: 10443888814131525066917527107166243825799642490473837803842334",  /* 2**4096-1 */
        "root: -10443888814131525066917527107166243825799642490473837803842334", /* -(2**4096-1) */
        "root: 0x1000000000000000000000000000000000000000000000000000000000000", /* 2**4096 */
        "root: -0x100000000000000000000000000000000000000000000000000000000000", /* -(2**4096) */
    };
    uint8_t le[514];
    for (int c = 0; c < 4; c++) {
        size_t n = c < 2 ? 513 : 514;
        memset(le, c == 0 ? 0xff : 0x00, n);
        if (c == 0) le[512] = 0x00;
        if (c == 1) le[0] = 0x01, le[512] = 0xff;
        if (c == 2) le[512] = 0x01;
        if (c == 3) le[512] = 0xff, le[513] = 0xff;
        brine_doc *doc = brine_doc_new(NULL);
        brine_doc_set_root(doc, brine_new_int_bytes(doc, le, n));
        sbuf b = {0};
        CHECK(print_doc(doc, &b));
        CHECK(b.n > strlen(want[c]) && memcmp(b.p, want[c], strlen(want[c])) == 0);
        brine_error err;
        CHECK_EQ_INT(read_print(b.p, b.n, &err), 1);
        free(b.p);
        brine_doc_free(doc);
    }
}

/* ------------------------------------------------------------------------ */
/* Texts the printer never writes                                            */
/* ------------------------------------------------------------------------ */

typedef struct reject_case {
    const char *text;
    /* the error is at the first occurrence of this in the text (the last
     * one when it starts with '$'); NULL: at the end of the text */
    const char *at;
    const char *msg;
    brine_code code; /* 0: BRINE_E_SYNTAX */
} reject_case;

#define UNHASH BRINE_E_UNHASHABLE
#define SELF   "a node cannot contain itself through items fixed when it was made"

static const reject_case rejected[] = {
    /* document structure */
    {"", NULL, "expected 'root: '", 0},
    {"root: None", NULL, "missing final newline", 0},
    {"root:None\n", "None", "expected 'root: '", 0},
    {"Root: None\n", "Root", "expected 'root: '", 0},
    {"root:  None\n", " None", "expected a value", 0},
    {"root: None \n", " \n", "expected end of line", 0},
    {"root: None\r\n", "\r", "expected end of line", 0},
    {"root: None\n\n", "$\n", "expected 'discarded: ' or the end of the text", 0},
    {"root: None\nroot: None\n", "$root", "expected 'discarded: ' or the end of the text", 0},
    {"root: None\ndiscarded: call(global('m', 'f'), ())", NULL, "missing final newline", 0},
    {"root: None\ndiscarded: call(global('m', 'f'), ())x\n", "x\n", "expected end of line", 0},
    {"root: none\n", "none", "expected a value", 0},
    {"root: Nonesuch\n", "such", "expected end of line", 0},
    {"root: \"a\"\n", "\"", "expected a value", 0},
    /* separators */
    {"root: [1,2]\n", ",2", "expected ', ' or ']'", 0},
    {"root: [1 , 2]\n", " ,", "expected ', ' or ']'", 0},
    {"root: [1,  2]\n", " 2", "expected a value", 0},
    {"root: [ 1]\n", " 1", "expected a value", 0},
    {"root: [1, 2, ]\n", "]", "expected a value", 0},
    {"root: [1, 2\n", "\n", "expected ', ' or ']'", 0},
    {"root: (1)\n", ")", "expected ', ' or ',)'", 0},
    {"root: (1, 2,)\n", ",)", "expected ', ' or ')'", 0},
    {"root: (,)\n", ",", "expected a value", 0},
    {"root: {1:2}\n", ":2", "expected ': ', ', ' or '}'", 0},
    {"root: {1 : 2}\n", " :", "expected ': ', ', ' or '}'", 0},
    {"root: {1: 2,3: 4}\n", ",3", "expected ', ' or '}'", 0},
    {"root: {1: 2, 3}\n", "}", "expected ': '", 0},
    {"root: {1, 2: 3}\n", ": 3", "expected ', ' or '}'", 0},
    {"root: frozenset({})\n", "})", "expected a value", 0},
    {"root: frozenset({1})x\n", "x", "expected end of line", 0},
    {"root: frozenset({1)\n", ")", "expected ', ' or '})'", 0},
    {"root: set([])\n", "set", "expected a value", 0},
    {"root: complex(1.0,-0.0)\n", ",-", "expected ', '", 0},
    {"root: complex(1, 2)\n", "1,", "expected a float", 0},
    {"root: complex(1.0, 0x1)\n", "0x1", "expected a float", 0},
    {"root: bytearray('x')\n", "'x'", "expected a bytes literal", 0},
    {"root: bytearray(b'x'\n", "\n", "expected ')'", 0},
    /* numbers */
    {"root: 007\n", "007", "an int is written without leading zeros", 0},
    {"root: -0\n", "-0", "zero is written 0, not -0", 0},
    {"root: -00\n", "-00", "an int is written without leading zeros", 0},
    {"root: +1\n", "+1", "expected a value", 0},
    {"root: 1_000\n", "1_000", "invalid number", 0},
    {"root: 0x10\n", "0x10", "an int below 2**4096 is written in decimal", 0},
    {"root: 0x10000000000000000\n", "0x1", "an int below 2**4096 is written in decimal", 0},
    {"root: -0x0\n", "-0x0", "a hex int is written without leading zeros", 0},
    {"root: 0x\n", "0x", "a hex int is written without leading zeros", 0},
    {"root: 0xAB\n", "AB", "hex digits are lowercase 0-9a-f", 0},
    {"root: 0X10\n", "0X10", "invalid number", 0},
    {"root: 1.50\n", "1.50", "a float is written as its repr()", 0},
    {"root: 1e5\n", "1e5", "a float is written as its repr()", 0},
    {"root: 1E+16\n", "1E+16", "a float is written as its repr()", 0},
    {"root: 1e16\n", "1e16", "a float is written as its repr()", 0},
    {"root: .5\n", ".5", "expected a value", 0},
    {"root: 0.10000000000000001\n", "0.1", "a float is written as its repr()", 0},
    {"root: 1.\n", "1.", "a float is written as its repr()", 0},
    {"root: 2.0e-05\n", "2.0", "a float is written as its repr()", 0},
    {"root: Infinity\n", "Infinity", "expected a value", 0},
    {"root: infinity\n", "infinity", "expected a value", 0},
    {"root: -infinity\n", "-infinity", "expected a value", 0},
    {"root: nano\n", "nano", "expected a value", 0},
    {"root: -inf", NULL, "missing final newline", 0},
    {"root: -nan\n", "-nan", "invalid number", 0},
    {"root: nan:0x7ff8000000000000\n", "nan", "this NaN is written nan", 0},
    {"root: nan:0x7FF8000000000001\n", "FF8", "hex digits are lowercase 0-9a-f", 0},
    {"root: nan:0x7ff800000000001\n", "7ff", "a NaN payload has 16 hex digits", 0},
    {"root: nan:0x3ff0000000000000\n", "3ff", "nan:0x needs the bits of a NaN", 0},
    {"root: nan:0x7ff0000000000000\n", "7ff", "nan:0x needs the bits of a NaN", 0},
    {"root: nan:7ff8000000000001\n", ":7", "expected end of line", 0},
    {"root: 1e400\n", "1e400", "invalid number", 0},
    {"root: buffer(01)\n", "01", "expected a buffer index", 0},
    {"root: buffer(-1)\n", "-1", "expected a buffer index", 0},
    {"root: buffer(99999999999999999999999)\n", "9", "expected a buffer index", 0},
    {"root: buffer(1 )\n", " )", "expected ')'", 0},
    /* literals */
    {"root: 'a\\x41'\n", "\\x41", "an escape the printer does not write", 0},
    {"root: '\\u00e9'\n", "\\u00e9", "an escape the printer does not write", 0},
    {"root: '\\xAB'\n", "\\xAB", "an escape the printer does not write", 0},
    {"root: '\\U0001F600'\n", "\\U0001F600", "an escape the printer does not write", 0},
    {"root: '\\U00001234'\n", "\\U00001234", "an escape the printer does not write", 0},
    {"root: '\\U00110000'\n", "\\U00110000", "an escape the printer does not write", 0},
    {"root: '\\\"'\n", "\\\"", "an escape the printer does not write", 0},
    {"root: '\\0'\n", "\\0", "an escape the printer does not write", 0},
    {"root: '\\x0'\n", "\\x0", "an escape the printer does not write", 0},
    {"root: 'a\tb'\n", "\tb", "a character the printer escapes", 0},
    {"root: '\xc3\xa9'\n", "\xc3", "a character the printer escapes", 0},
    {"root: 'abc\n", "'abc", "unterminated literal", 0},
    {"root: 'abc\\'\n", "'abc", "unterminated literal", 0},
    {"root: b'\\u0100'\n", "\\u0100", "an escape the printer does not write", 0},
    {"root: b'\\x41'\n", "\\x41", "an escape the printer does not write", 0},
    {"root: b\"x\"\n", "b\"", "expected a value", 0},
    {"root: B'x'\n", "B'", "expected a value", 0},
    /* labels */
    {"root: [&2 [], *2]\n", "&2", "labels are numbered 1, 2, 3, ... in order of appearance", 0},
    {"root: [&1 [], &1 []]\n", "&1 []]", "labels are numbered 1, 2, 3, ... in order of appearance",
     0},
    {"root: [&1 [], *2]\n", "*2", "label used before definition", 0},
    {"root: [*1, &1 []]\n", "*1", "label used before definition", 0},
    {"root: [&1 [], *0]\n", "0]", "expected a label number", 0},
    {"root: [&1 [], *01]\n", "01]", "expected a label number", 0},
    {"root: &01 []\n", "01", "expected a label number", 0},
    {"root: &1[]\n", "[]", "expected ' ' after the label", 0},
    {"root: &1  []\n", " []", "expected a value", 0},
    {"root: &1 *1\n", "*1", "expected a node after the label", 0},
    {"root: &1 [1]\n", "&1", "a label that is never used", 0},
    {"root: [&1 [], &2 [*1]]\n", "&2", "a label that is never used", 0},
    {"root: [&1 1, *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 'a', *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 '\\xff', *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 '', *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 (), *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 b'', *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 None, *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 True, *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 1.5, *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 nan, *1]\n", "&1", "this value cannot carry a label", 0},
    {"root: [&1 123456789012345678901234567890, *1]\n", "&1", "this value cannot carry a label", 0},
    /* globals */
    {"root: [global('m', 'C'), global('m', 'C')]\n", "global('m', 'C')]",
     "a global appears once; later uses are labels", 0},
    {"root: [&1 global('m', 'C'), global('m', 'C'), *1]\n", "global('m', 'C'), *1",
     "a global appears once; later uses are labels", 0},
    {"root: global(1, 'C')\n", "1,", "a global's module and name are strs", 0},
    {"root: global('m', b'C')\n", "b'C'", "a global's module and name are strs", 0},
    {"root: global('m')\n", ")", "expected ', '", 0},
    {"root: global('m', 'C', 'D')\n", ", 'D'", "expected ')'", 0},
    {"root: &1 global(*1, 'C')\n", "*1", "label used before definition", 0},
    /* operations */
    {"root: new(global('m', 'C'), ()).extend([1]).extend([2])\n", ".extend([2",
     "consecutive extends are written as one .extend()", 0},
    {"root: new(global('m', 'C'), ()).extend([])\n", "])", "an empty .extend() is not written", 0},
    {"root: new(global('m', 'C'), ()).append(1)\n", ".append",
     "expected .extend([, .setitem(, .add( or .setstate(", 0},
    {"root: new(global('m', 'C'), ()).extend(1)\n", ".extend(1",
     "expected .extend([, .setitem(, .add( or .setstate(", 0},
    {"root: new(global('m', 'C'), ()).setitem(1)\n", ")\n", "expected ', '", 0},
    {"root: new(global('m', 'C'), ()).setstate(1, 2)\n", ", 2", "expected ')'", 0},
    {"root: new(global('m', 'C'), ()).extend([1, 2)\n", ")\n", "expected ', ' or '])'", 0},
    {"root: [new(global('m', 'C'), ())] .add(1)\n", " .add", "expected end of line", 0},
    {"root: [&1 new(global('m', 'C'), ()), *1.add(1)]\n", ".add", "expected ', ' or ']'", 0},
    /* objects */
    {"root: call(1, ())\n", "1,", "a callable is a global or an object", 0},
    {"root: call([], ())\n", "[]", "a callable is a global or an object", 0},
    {"root: new(persid('x'), ())\n", "persid", "a callable is a global or an object", 0},
    {"root: call(global('m', 'f'), [])\n", "[]", "an object's arguments are a tuple", 0},
    {"root: call(global('m', 'f'), {1})\n", "{1}", "an object's arguments are a tuple", 0},
    {"root: call(global('m', 'f'), None)\n", "None", "an object's arguments are a tuple", 0},
    {"root: call(global('m', 'f'))\n", ")\n", "expected ', '", 0},
    {"root: call(global('m', 'f'),())\n", ",(", "expected ', '", 0},
    {"root: call(global('m', 'f'), (1))\n", "))", "expected ', ' or ',)'", 0},
    {"root: call(global('m', 'f'), (1, 2,))\n", ",))", "expected ', ' or ')'", 0},
    {"root: call(global('m', 'f'), &1 (1,))\n", "&1", "a label that is never used", 0},
    {"root: call(global('m', 'f'), (), {'a': 1})\n", ", {", "expected ')'", 0},
    {"root: new(global('m', 'C'), (), [1])\n", "[1]", "keyword arguments are a dict", 0},
    {"root: new(global('m', 'C'), (), {1})\n", "{1}", "keyword arguments are a dict", 0},
    {"root: new(global('m', 'C'), () {'a': 1})\n", " {", "expected ')' or ', '", 0},
    {"root: new(global('m', 'C'), (), {'a': 1, 'a': 2})\n", "'a': 2", "duplicate dict key", 0},
    {"root: new(global('m', 'C'), (), {1: 2, True: 3})\n", "True", "duplicate dict key", 0},
    {"root: new(global('m', 'C'), (), {'a': 1, []: 2})\n", "[]", "unhashable dict key", UNHASH},
    {"root: new(global('m', 'C'), (), {'a': 1}, {})\n", ", {}", "expected ')'", 0},
    {"root: new(global('m', 'C'), (), &1 {'a': 1})\n", "&1", "a label that is never used", 0},
    /* readonly, persid */
    {"root: readonly(b'x')\n", "b'x'", "readonly() applies to a bytearray or a buffer", 0},
    {"root: readonly(readonly(buffer(0)))\n", "readonly(buffer",
     "readonly() applies to a bytearray or a buffer", 0},
    {"root: readonly([])\n", "[]", "readonly() applies to a bytearray or a buffer", 0},
    {"root: persid('x', 'y')\n", ", 'y'", "expected ')'", 0},
    /* equal keys and elements, with Python's rules */
    {"root: {1: 2, True: 3}\n", "True", "duplicate dict key", 0},
    {"root: {1: 2, 1.0: 3}\n", "1.0", "duplicate dict key", 0},
    {"root: {0.0: 2, -0.0: 3}\n", "-0.0", "duplicate dict key", 0},
    {"root: {1: 2, complex(1.0, 0.0): 3}\n", "complex", "duplicate dict key", 0},
    {"root: {'a': 1, 'a': 1}\n", "'a': 1}", "duplicate dict key", 0},
    {"root: {(1, 'a'): 1, (1.0, 'a'): 2}\n", "(1.0", "duplicate dict key", 0},
    {"root: {b'x': 1, b'x': 2}\n", "b'x': 2", "duplicate dict key", 0},
    {"root: {&1 global('m', 'C'): 1, *1: 2}\n", "*1", "duplicate dict key", 0},
    {"root: {1, 1.0}\n", "1.0", "duplicate set element", 0},
    {"root: {frozenset({1, 2}), frozenset({2, 1})}\n", "frozenset({2", "duplicate set element", 0},
    {"root: frozenset({0, -0.0})\n", "-0.0", "duplicate frozenset element", 0},
    {"root: frozenset({(frozenset({1}),), (frozenset({True}),)})\n", "(frozenset({True",
     "duplicate frozenset element", 0},
    {"root: {&1 (new(global('m', 'C'), ()).setstate({*1: 0, *1: 1}),): 2}\n", "*1: 1",
     "duplicate dict key", 0},
    {"root: {[]: 1}\n", "[]", "unhashable dict key", UNHASH},
    {"root: {{}}\n", "{}}", "unhashable set element", UNHASH},
    {"root: {(1, []): 2}\n", "(1", "unhashable dict key", UNHASH},
    {"root: {bytearray(b''): 2}\n", "bytearray", "unhashable dict key", UNHASH},
    {"root: {readonly(buffer(0)): 2}\n", "readonly", "unhashable dict key", UNHASH},
    {"root: frozenset({set()})\n", "set()", "unhashable frozenset element", UNHASH},
    {"root: &1 [{*1: 1}]\n", "*1", "unhashable dict key", UNHASH},
    /* discarded lines */
    {"root: None\ndiscarded: 1\n", "1\n", "a discarded line holds an object or a persid", 0},
    {"root: None\ndiscarded: [new(global('m', 'C'), ())]\n", "[",
     "a discarded line holds an object or a persid", 0},
    {"root: None\ndiscarded: global('m', 'C')\n", "global",
     "a discarded line holds an object or a persid", 0},
    {"root: &1 new(global('m', 'C'), ())\ndiscarded: *1\n", "*1\n",
     "a discarded node is not reached from above", 0},
    {"root: None\ndiscarded: &1 persid(1)\ndiscarded: *1\n", "*1\n",
     "a discarded node is not reached from above", 0},
    {"root: None\ndiscarded:  persid(1)\n", " persid", "expected a value", 0},
    {"root: None\ndiscarded:persid(1)\n", "persid", "expected 'discarded: ' or the end of the text",
     0},
    /* graphs no stream can make */
    {"root: &1 (*1,)\n", "*1", SELF, 0},
    {"root: &1 ((*1,),)\n", "*1", SELF, 0},
    {"root: &1 frozenset({*1})\n", "*1", SELF, 0},
    {"root: &1 frozenset({frozenset({*1})})\n", "*1", SELF, 0},
    {"root: &1 call(*1, ())\n", "*1", SELF, 0},
    {"root: &1 call(global('m', 'f'), (*1,))\n", "*1", SELF, 0},
    {"root: &1 call(global('m', 'f'), *1)\n", "*1", SELF, 0},
    {"root: &1 (call(global('m', 'f'), *1),)\n", "*1", SELF, 0},
    {"root: &1 (new(global('m', 'C'), (*1,)),)\n", "*1", SELF, 0},
    {"root: &1 persid(*1)\n", "*1", SELF, 0},
    {"root: &1 persid((*1,))\n", "*1", SELF, 0},
    {"root: &1 ([&2 persid(*1)], *2)\n", "*1", SELF, 0},
    {"root: &1 ([&2 (*1,)], *2)\n", "*1", SELF, 0},
    {"root: {&1 (new(global('m', 'C'), ()).setstate(&2 (*1,)), *2): 1}\n", "*1", SELF, 0},
    {"root: &1 call(new(global('m', 'C'), ()).setstate(&2 call(*1, ())), (*2,))\n", "*1", SELF, 0},
};

static void test_rejects(void) {
    for (size_t i = 0; i < sizeof rejected / sizeof *rejected; i++) {
        const reject_case *c = &rejected[i];
        size_t len = strlen(c->text);
        int last = c->at && c->at[0] == '$';
        const char *want_at = c->at ? c->at + last : NULL;
        const char *at = want_at ? strstr(c->text, want_at) : c->text + len;
        for (const char *more = at; last && more && (more = strstr(more + 1, want_at));)
            at = more;
        if (!at) {
            TFAIL_("case %zu: bad test, '%s' not in the text", i, c->at);
            continue;
        }
        size_t off = (size_t)(at - c->text), line, col;
        line_col(c->text, len, off, &line, &col);
        brine_error err;
        int r = read_print(c->text, len, &err);
        brine_code want = c->code ? c->code : BRINE_E_SYNTAX;
        tcheck_checks++;
        if (r != 0 || err.code != want || err.offset != off || err.line != line ||
            err.column != col || !err.msg || strcmp(err.msg, c->msg) != 0) {
            TFAIL_("case %zu: want %d '%s' at %zu (%zu:%zu), got %s %d '%s' at %zu (%zu:%zu)", i,
                   (int)want, c->msg, off, line, col, r ? "accepted" : "rejected", (int)err.code,
                   err.msg ? err.msg : "", err.offset, err.line, err.column);
            tcheck_dump_("  text", c->text, len);
        }
        if (r == 0 && strcmp(err.pyclass, want == BRINE_E_SYNTAX ? "ValueError" : "TypeError"))
            TFAIL_("case %zu: pyclass %s", i, err.pyclass);
    }
}

/* Line and column on a later line, spelled out. */
static void test_positions(void) {
    const char *t = "root: &1 [1]\ndiscarded: call(global('m', 'f'), (*1, 07))\n";
    brine_error err;
    CHECK(brine_canon_read(t, strlen(t), NULL, &err) == NULL);
    CHECK_EQ_INT(err.code, BRINE_E_SYNTAX);
    CHECK_EQ_INT(err.line, 2);
    CHECK_EQ_INT(err.column, 40);
    CHECK_EQ_INT(err.offset, 52);
    CHECK_EQ_STR(err.msg, "an int is written without leading zeros");
    /* a NULL error pointer is allowed; NULL text only when empty */
    CHECK(brine_canon_read(t, strlen(t), NULL, NULL) == NULL);
    CHECK(brine_canon_read(NULL, 0, NULL, &err) == NULL);
    CHECK_EQ_INT(err.code, BRINE_E_SYNTAX);
    CHECK(brine_canon_read(NULL, 5, NULL, &err) == NULL);
    CHECK_EQ_INT(err.code, BRINE_E_USAGE);
    /* a NUL byte is just a bad character */
    CHECK(brine_canon_read("root: 'a\0'\n", 11, NULL, &err) == NULL);
    CHECK_EQ_INT(err.offset, 8);
}

/* Ints whose text is long: the decimal/hex boundary at 2**4096, by length. */
static void expect_text(const char *what, const sbuf *b, int accept, const char *msg) {
    brine_error err;
    int r = read_print(b->p, b->n, &err);
    tcheck_checks++;
    if (accept ? r != 1 : r != 0 || err.offset != 6 || strcmp(err.msg, msg) != 0)
        TFAIL_("%s: got %d %s at %zu", what, r, r ? "" : err.msg, err.offset);
}

static void test_long_numbers(void) {
    static const struct {
        const char *head, *digit;
        size_t count;
        int accept;
        const char *msg;
    } cases[] = {
        {"1", "0", 1233, 1, NULL}, /* 10**1233 < 2**4096 */
        {"9", "9", 1232, 1, NULL}, /* 10**1233 - 1 */
        {"-1", "0", 1233, 1, NULL},
        {"9", "9", 1233, 0, "an int of 2**4096 or more is written in hex"},
        {"-9", "9", 1233, 0, "an int of 2**4096 or more is written in hex"},
        {"1", "0", 100000, 0, "an int of 2**4096 or more is written in hex"},
        {"0x1", "0", 1024, 1, NULL}, /* 2**4096 */
        {"-0xf", "f", 1024, 1, NULL},
        {"0x1", "0", 1023, 0, "an int below 2**4096 is written in decimal"},
        {"0xf", "f", 1023, 0, "an int below 2**4096 is written in decimal"},
        {"0x0", "f", 1024, 0, "a hex int is written without leading zeros"},
        {"0x1", "0", 1000000, 1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sbuf b = {0};
        sbuf_puts(&b, "root: ");
        sbuf_puts(&b, cases[i].head);
        sbuf_rep(&b, cases[i].digit, cases[i].count);
        sbuf_puts(&b, "\n");
        char what[64];
        snprintf(what, sizeof what, "long number %zu", i);
        expect_text(what, &b, cases[i].accept, cases[i].msg);
        free(b.p);
    }
}

/* Wide texts: nothing may take time quadratic in the number of items. */
static void test_wide(void) {
    const size_t n = 200000;
    static const char *const heads[] = {
        "new(global('m', 'C'), (), {",       "frozenset({", "{", "{", "[",
        "new(global('m', 'C'), ()).extend(["};
    static const char *const tails[] = {"})", "})", "}", "}", "]", "])"};
    for (int kind = 0; kind < 6; kind++) {
        sbuf b = {0};
        char item[64];
        sbuf_puts(&b, "root: ");
        if (kind == 4) sbuf_puts(&b, "&1 ");
        sbuf_puts(&b, heads[kind]);
        for (size_t i = 0; i < n; i++) {
            if (i) sbuf_puts(&b, ", ");
            switch (kind) {
            case 0: snprintf(item, sizeof item, "'k%zu': %zu", i, i); break;
            case 1: snprintf(item, sizeof item, "(%zu, 'a')", i); break;
            case 2: snprintf(item, sizeof item, "%zu.5: nan", i); break;
            case 3: snprintf(item, sizeof item, "nan: %zu", i); break; /* NaNs differ */
            case 4: snprintf(item, sizeof item, "*1"); break;
            default: snprintf(item, sizeof item, "&%zu 'x%zu'", i + 1, i); break;
            }
            sbuf_puts(&b, item);
        }
        if (kind == 5)
            for (size_t i = 0; i < n; i++) {
                snprintf(item, sizeof item, ".add(*%zu)", i + 1);
                sbuf_puts(&b, i == 0 ? "])" : "");
                sbuf_puts(&b, item);
            }
        else
            sbuf_puts(&b, tails[kind]);
        sbuf_puts(&b, "\n");
        char what[32];
        snprintf(what, sizeof what, "wide text %d", kind);
        expect_text(what, &b, 1, NULL);
        free(b.p);
    }
}

/* ------------------------------------------------------------------------ */
/* Random documents built through the API                                    */
/* ------------------------------------------------------------------------ */

enum { POOL = 96 };

typedef struct gen {
    rng *g;
    brine_doc *doc;
    brine_value *pool[POOL];
    size_t n;
} gen;

static void keep(gen *G, brine_value *v) {
    if (!v) return;
    if (G->n < POOL)
        G->pool[G->n++] = v;
    else
        G->pool[rndn(G->g, POOL)] = v;
}

static brine_value *pick(gen *G) {
    return G->n ? G->pool[rndn(G->g, G->n)] : brine_new_none(G->doc);
}

/* A pool node of one of the two kinds, or NULL. */
static brine_value *pick_kind(gen *G, brine_kind a, brine_kind b) {
    for (int tries = 0; tries < 8 && G->n; tries++) {
        brine_value *v = G->pool[rndn(G->g, G->n)];
        if (brine_kind_of(v) == a || brine_kind_of(v) == b) return v;
    }
    return NULL;
}

static size_t put_utf8(char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static brine_value *random_str(gen *G, int short_only) {
    static const char *const names[] = {"", "a", "mod", "C", "__main__", "builtins", "k", "x y"};
    if (short_only || rndn(G->g, 3) == 0) {
        const char *s = names[rndn(G->g, sizeof names / sizeof *names)];
        return brine_new_str(G->doc, s, strlen(s), NULL);
    }
    char buf[64];
    size_t n = 0, len = rndn(G->g, 8);
    for (size_t i = 0; i < len; i++) {
        uint32_t cp;
        switch (rndn(G->g, 6)) {
        case 0: cp = (uint32_t)(0x20 + rndn(G->g, 0x5F)); break;
        case 1: cp = "\\'\t\n\r\"\x00\x7f"[rndn(G->g, 8)]; break;
        case 2: cp = (uint32_t)rndn(G->g, 0x100); break;
        case 3: cp = (uint32_t)(0xD800 + rndn(G->g, 0x800)); break; /* lone surrogates */
        case 4: cp = (uint32_t)rndn(G->g, 0x10000); break;
        default: cp = (uint32_t)(0x10000 + rndn(G->g, 0x100000)); break;
        }
        n += put_utf8(buf + n, cp);
    }
    return brine_new_str(G->doc, buf, n, NULL);
}

static brine_value *random_atom(gen *G) {
    brine_doc *doc = G->doc;
    uint8_t bytes[600];
    size_t n;
    switch (rndn(G->g, 11)) {
    case 0: return rndn(G->g, 2) ? brine_new_none(doc) : brine_new_bool(doc, (int)rndn(G->g, 2));
    case 1: {
        /* (each draw in its own statement: the order is then fixed) */
        uint64_t x = rnd(G->g);
        x >>= rndn(G->g, 64);
        return brine_new_int64(doc, rndn(G->g, 2) ? (int64_t)(x >> 1) : -(int64_t)(x >> 1));
    }
    case 2: /* big ints of every size, across the decimal/hex boundary */
        n = rndn(G->g, 4) ? rndn(G->g, 20) : 500 + rndn(G->g, 40);
        for (size_t i = 0; i < n; i++)
            bytes[i] = (uint8_t)rnd(G->g);
        return brine_new_int_bytes(doc, bytes, n);
    case 3: {
        static const uint64_t special[] = {0,
                                           0x8000000000000000u,
                                           0x7ff0000000000000u,
                                           0xfff0000000000000u,
                                           0x7ff8000000000000u,
                                           0xfff8000000000000u,
                                           0x7ff0000000000001u,
                                           0x3ff0000000000000u,
                                           1,
                                           0x4340000000000000u};
        uint64_t bits = rndn(G->g, 2) ? rnd(G->g) : special[rndn(G->g, 10)];
        return brine_new_float_bits(doc, bits);
    }
    case 4: return brine_new_float(doc, (double)(int64_t)rndn(G->g, 2000) / 16.0 - 50.0);
    case 5: {
        brine_value *v = val_new(doc, BRINE_COMPLEX);
        if (v) {
            v->u.c.re = rndn(G->g, 2) ? rnd(G->g) : 0;
            v->u.c.im = rnd(G->g);
        }
        return v;
    }
    case 6:
    case 7: return random_str(G, 0);
    case 8:
        n = rndn(G->g, 6);
        for (size_t i = 0; i < n; i++)
            bytes[i] = (uint8_t)rnd(G->g);
        return brine_new_bytes(doc, bytes, n);
    case 9:
        n = rndn(G->g, 4);
        for (size_t i = 0; i < n; i++)
            bytes[i] = (uint8_t)rnd(G->g);
        return brine_new_bytearray(doc, bytes, n);
    default: return brine_new_picklebuffer(doc, rndn(G->g, 4));
    }
}

static brine_value *random_global(gen *G) {
    static const char *const mods[] = {"m", "os", "builtins", "copyreg", "__main__"};
    static const char *const names[] = {"C", "f", "system", "set", "Node"};
    if (rndn(G->g, 3) == 0) { /* STACK_GLOBAL style: strs shared with the graph */
        brine_value *m = pick_kind(G, BRINE_STR, BRINE_STR);
        brine_value *nm = pick_kind(G, BRINE_STR, BRINE_STR);
        if (m && nm) return val_global(G->doc, m->u.s.p, m->u.s.n, nm->u.s.p, nm->u.s.n, m, nm);
    }
    const char *m = mods[rndn(G->g, 5)], *nm = names[rndn(G->g, 5)];
    return brine_new_global(G->doc, m, strlen(m), nm, strlen(nm), NULL);
}

static void random_step(gen *G) {
    brine_doc *doc = G->doc;
    brine_value *items[6], *v;
    size_t k = rndn(G->g, 5);
    for (size_t i = 0; i < k; i++)
        items[i] = pick(G);
    switch (rndn(G->g, 16)) {
    case 0:
    case 1:
    case 2: keep(G, random_atom(G)); break;
    case 3: keep(G, brine_new_tuple(doc, items, k)); break;
    case 4:
        v = brine_new_list(doc);
        for (size_t i = 0; i < k; i++)
            brine_list_append(doc, v, items[i]);
        keep(G, v);
        break;
    case 5:
        v = brine_new_dict(doc);
        for (size_t i = 0; i + 1 < k; i += 2)
            brine_dict_set(doc, v, items[i], items[i + 1], NULL);
        keep(G, v);
        break;
    case 6:
        v = brine_new_set(doc);
        for (size_t i = 0; i < k; i++)
            brine_set_add(doc, v, items[i], NULL);
        keep(G, v);
        break;
    case 7: {
        brine_error err;
        keep(G, brine_new_frozenset(doc, items, k, &err));
        break;
    }
    case 8: keep(G, random_global(G)); break;
    case 9: { /* an object */
        brine_value *c = pick_kind(G, BRINE_GLOBAL, BRINE_OBJECT);
        if (!c) c = random_global(G);
        brine_make make = rndn(G->g, 2) ? BRINE_MAKE_CALL : BRINE_MAKE_NEW;
        brine_value *kw = NULL;
        if (make == BRINE_MAKE_NEW && rndn(G->g, 3) == 0) {
            kw = brine_new_dict(doc);
            for (size_t i = 0; i < 3; i++) {
                /* keyword names are strs but for documents built by hand */
                brine_value *key = rndn(G->g, 4) ? random_str(G, 1) : pick(G);
                brine_dict_set(doc, kw, key, pick(G), NULL);
            }
        }
        brine_value *t = rndn(G->g, 3) ? NULL : pick_kind(G, BRINE_TUPLE, BRINE_TUPLE);
        brine_value *o = t ? brine_new_object(doc, make, c, t->u.tup.items, t->u.tup.n, kw)
                           : brine_new_object(doc, make, c, items, k, kw);
        /* As the decoder records REDUCE's and NEWOBJ's tuple and NEWOBJ_EX's
         * dict, which the graph may share (and the dict may grow later). */
        if (o && t) o->u.o->args_tuple = t;
        if (o && kw && kw->u.set.n && rndn(G->g, 2)) {
            o->u.o->kwargs_dict = kw;
            keep(G, kw);
        }
        keep(G, o);
        break;
    }
    case 10:
    case 11: { /* operations, possibly on the node itself */
        brine_value *t = pick_kind(G, BRINE_GLOBAL, BRINE_OBJECT);
        for (size_t i = 0; t && i < k; i++) {
            brine_op_kind op = (brine_op_kind)rndn(G->g, 4);
            brine_value *a = rndn(G->g, 4) ? items[i] : t;
            brine_add_op(doc, t, op, a, pick(G));
        }
        break;
    }
    case 12: keep(G, brine_new_persid(doc, k ? items[0] : random_atom(G))); break;
    case 13: {
        brine_value *t = pick_kind(G, BRINE_BYTEARRAY, BRINE_PICKLEBUFFER);
        if (t) keep(G, brine_new_readonly_view(doc, t));
        break;
    }
    case 14: { /* mutate a list or dict: cycles through mutable containers */
        brine_value *t = pick_kind(G, BRINE_LIST, BRINE_DICT);
        for (size_t i = 0; t && i < k; i++) {
            if (brine_kind_of(t) == BRINE_LIST)
                brine_list_append(doc, t, items[i]);
            else
                brine_dict_set(doc, t, pick(G), items[i], NULL);
        }
        break;
    }
    default: { /* add to a set */
        brine_value *t = pick_kind(G, BRINE_SET, BRINE_SET);
        for (size_t i = 0; t && i < k; i++)
            brine_set_add(doc, t, items[i], NULL);
        break;
    }
    }
}

static brine_doc *random_doc(rng *g, size_t steps) {
    gen G;
    memset(&G, 0, sizeof G);
    G.g = g;
    G.doc = brine_doc_new(NULL);
    for (size_t i = 0; i < steps; i++)
        random_step(&G);
    brine_value *root = G.n ? G.pool[G.n - 1 - rndn(g, G.n < 4 ? G.n : 4)] : NULL;
    brine_doc_set_root(G.doc, root ? root : brine_new_none(G.doc));
    doc_compute_discarded(G.doc);
    return G.doc;
}

static mut_stats random_mut;

static void test_random_documents(void) {
    rng g = {0x9E3779B97F4A7C15u};
    size_t docs = 3000, texts_with_labels = 0, bytes = 0;
    for (size_t i = 0; i < docs; i++) {
        brine_doc *doc = random_doc(&g, 1 + rndn(&g, i % 10 == 0 ? 200 : 40));
        sbuf b = {0};
        CHECK(print_doc(doc, &b));
        brine_error err;
        int r = read_print(b.p, b.n, &err);
        tcheck_checks++;
        if (r != 1) {
            TFAIL_("random document %zu: %s %s at %zu:%zu", i,
                   r ? "printed differently" : "rejected", r ? "" : err.msg, err.line, err.column);
            tcheck_dump_("  text", b.p, b.n);
        }
        if (memchr(b.p, '&', b.n)) texts_with_labels++;
        bytes += b.n;
        if (i % 10 == 0) mutation_test(&g, b.p, b.n, 40, &random_mut);
        free(b.p);
        brine_doc_free(doc);
    }
    fprintf(stderr, "random documents: %zu (%zu with labels, %zu bytes of text)\n", docs,
            texts_with_labels, bytes);
    CHECK(texts_with_labels > docs / 4);
}

/* ------------------------------------------------------------------------ */
/* Deep nesting: no recursion anywhere                                       */
/* ------------------------------------------------------------------------ */

static void deep(const char *name, const char *head, const char *open, const char *mid,
                 const char *close, const char *tail, size_t depth) {
    sbuf b = {0};
    sbuf_puts(&b, "root: ");
    sbuf_puts(&b, head);
    sbuf_rep(&b, open, depth);
    sbuf_puts(&b, mid);
    sbuf_rep(&b, close, depth);
    sbuf_puts(&b, tail);
    sbuf_puts(&b, "\n");
    brine_error err;
    int r = read_print(b.p, b.n, &err);
    tcheck_checks++;
    if (r != 1)
        TFAIL_("deep %s: %s %s at %zu", name, r ? "printed differently" : "rejected",
               r ? "" : err.msg, err.offset);
    free(b.p);
}

static void test_deep(void) {
    const size_t big = 1000000, mid = 200000;
    deep("lists", "", "[", "", "]", "", big);
    deep("tuples", "", "(", "None", ",)", "", big);
    deep("cycle", "&1 ", "[", "*1", "]", "", big);
    deep("tuple cycle", "&1 ", "([", "*1", "],)", "", mid);
    deep("dicts", "", "{1: ", "None", "}", "", mid);
    deep("frozensets of tuples", "", "frozenset({(", "1", ",)})", "", mid);
    deep("frozensets", "", "frozenset({", "1", "})", "", mid);
    deep("tuple key", "{", "(", "frozenset({1})", ",)", ": 1}", mid);
    deep("persids", "", "persid(", "None", ")", "", mid);
    deep("readonly in lists", "", "[", "readonly(bytearray(b''))", "]", "", mid);
    deep("objects", "[&1 global('m', 'C'), ", "new(*1, ()).setstate(", "None", ")", "]", mid);
    deep("calls", "[&1 global('m', 'f'), ", "call(*1, (", "None", ",))", "]", mid);
    deep("object cycle", "&1 new(global('m', 'C'), ()).setstate(", "[", "*1", "]", ")", mid);
}

/* ------------------------------------------------------------------------ */
/* Allocation failures                                                       */
/* ------------------------------------------------------------------------ */

typedef struct counting {
    size_t allocs, fail_at; /* fail the fail_at-th allocation (1-based; 0 never) */
    long long outstanding;
} counting;

static void *c_malloc(void *ctx, size_t size) {
    counting *c = ctx;
    if (++c->allocs == c->fail_at) return NULL;
    void *p = malloc(size);
    if (p) c->outstanding += (long long)size;
    return p;
}

static void *c_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size) {
    counting *c = ctx;
    if (++c->allocs == c->fail_at) return NULL;
    void *p = realloc(ptr, new_size);
    if (p) c->outstanding += (long long)new_size - (long long)old_size;
    return p;
}

static void c_free(void *ctx, void *ptr, size_t size) {
    counting *c = ctx;
    c->outstanding -= (long long)size;
    free(ptr);
}

static void test_allocation_failures(void) {
    static const char text[] =
        "root: &1 ([&2 persid(*1)], [*2], {frozenset({1, (2,)}): (*1,), 'k': {3}}, "
        "new(global('m', 'C'), ('abc', 12345678901234567890123, 1.5), {'k': b'xy'})"
        ".extend([1, 2]).setstate(*1), bytearray(b'z'))\ndiscarded: call(global('m', 'f'), ())\n";
    size_t n = sizeof text - 1, failures = 0;
    for (size_t k = 1;; k++) {
        counting c = {0, k, 0};
        brine_alloc al = {c_malloc, c_realloc, c_free, &c};
        brine_error err;
        brine_doc *doc = brine_canon_read(text, n, &al, &err);
        size_t used = c.allocs;
        c.fail_at = 0;
        if (doc) {
            sbuf b = {0};
            CHECK(print_doc(doc, &b) && b.n == n && memcmp(b.p, text, n) == 0);
            free(b.p);
            brine_doc_free(doc);
            CHECK_EQ_INT(c.outstanding, 0);
            CHECK(used < k); /* every allocation of the reader failed once */
            break;
        }
        failures++;
        CHECK(err.code == BRINE_E_NOMEM);
        CHECK_EQ_INT(c.outstanding, 0);
        if (k > 10000) {
            TFAIL_("no success after %zu allocations", k);
            break;
        }
    }
    fprintf(stderr, "allocation failures survived: %zu\n", failures);
    CHECK(failures > 10);
}

static mut_stats table_mut;

static void test_mutations_of_tables(void) {
    rng g = {12345};
    for (size_t i = 0; i < sizeof accepted_texts / sizeof *accepted_texts; i++)
        mutation_test(&g, accepted_texts[i], strlen(accepted_texts[i]), 600, &table_mut);
    for (size_t i = 0; i < sizeof rejected / sizeof *rejected; i++)
        mutation_test(&g, rejected[i].text, strlen(rejected[i].text), 60, &table_mut);
    fprintf(stderr, "mutations of hand-written texts: %zu tried, %zu accepted, %zu failed\n",
            table_mut.tried, table_mut.accepted, table_mut.failed);
    fprintf(stderr, "mutations of random documents: %zu tried, %zu accepted, %zu failed\n",
            random_mut.tried, random_mut.accepted, random_mut.failed);
    CHECK_EQ_INT(table_mut.failed, 0);
    CHECK_EQ_INT(random_mut.failed, 0);
    CHECK(table_mut.accepted > 100);
}

/* ------------------------------------------------------------------------ */
/* --corpus FILE: decoder output, as tests/py/test_canon_read_corpus.py     */
/* writes it                                                                 */
/* ------------------------------------------------------------------------ */

/* Each record: u32le length, then u8 policy, u8 fix_imports, u8 len +
 * encoding ("" = default), u8 len + errors, u32le nbuffers, per buffer
 * (u8 readonly, u32le length, bytes), u32le nextensions, per extension
 * (i32le code, u16le length + module, u16le length + name), the pickle. */

typedef struct cursor {
    const uint8_t *p, *end;
    int bad;
} cursor;

static uint32_t get_le(cursor *c, int n) {
    uint32_t x = 0;
    if (c->end - c->p < n) {
        c->bad = 1;
        return 0;
    }
    for (int i = 0; i < n; i++)
        x |= (uint32_t)c->p[i] << (8 * i);
    c->p += n;
    return x;
}

static const uint8_t *get_bytes(cursor *c, size_t n) {
    if ((size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    return p;
}

enum { MAX_BUFS = 64, MAX_EXTS = 64 };

typedef struct record {
    brine_decode_options opts;
    char encoding[256], errors[256];
    brine_buffer bufs[MAX_BUFS];
    brine_extension exts[MAX_EXTS];
    char names[MAX_EXTS][2][256];
    const uint8_t *pickle;
    size_t len;
} record;

static int parse_record(cursor *c, record *r) {
    brine_decode_options_init(&r->opts);
    r->opts.policy = (brine_policy)get_le(c, 1);
    r->opts.fix_imports = (int)get_le(c, 1);
    size_t n = get_le(c, 1);
    const uint8_t *s = get_bytes(c, n);
    if (s && n) {
        memcpy(r->encoding, s, n);
        r->encoding[n] = 0;
        r->opts.encoding = r->encoding;
    }
    n = get_le(c, 1);
    s = get_bytes(c, n);
    if (s && n) {
        memcpy(r->errors, s, n);
        r->errors[n] = 0;
        r->opts.errors = r->errors;
    }
    size_t nb = get_le(c, 4);
    if (nb > MAX_BUFS) return 0;
    for (size_t i = 0; i < nb; i++) {
        r->bufs[i].readonly = (int)get_le(c, 1);
        r->bufs[i].len = get_le(c, 4);
        r->bufs[i].data = get_bytes(c, r->bufs[i].len);
    }
    r->opts.has_buffers = 1;
    r->opts.buffers = r->bufs;
    r->opts.nbuffers = nb;
    size_t ne = get_le(c, 4);
    if (ne > MAX_EXTS) return 0;
    for (size_t i = 0; i < ne; i++) {
        r->exts[i].code = (int32_t)get_le(c, 4);
        for (int j = 0; j < 2; j++) {
            n = get_le(c, 2);
            s = get_bytes(c, n);
            if (!s || n > 255) return 0;
            memcpy(r->names[i][j], s, n);
            r->names[i][j][n] = 0;
        }
        r->exts[i].module = r->names[i][0];
        r->exts[i].name = r->names[i][1];
    }
    r->opts.extensions = r->exts;
    r->opts.nextensions = ne;
    r->pickle = c->p;
    r->len = (size_t)(c->end - c->p);
    return !c->bad;
}

typedef struct corpus_stats {
    size_t records, decoded, roundtrips, failures;
    size_t pickle_mutants, pickle_mutants_decoded;
    mut_stats text_mut;
} corpus_stats;

/* Decodes, prints, reads, prints; returns 0 after reporting a failure. */
static int corpus_roundtrip(const record *r, const uint8_t *pickle, size_t len, const char *what,
                            size_t index, corpus_stats *st, rng *g, size_t text_mutations) {
    brine_error err;
    brine_doc *doc = brine_decode(pickle, len, &r->opts, NULL, &err);
    if (!doc) return 1;
    sbuf b = {0};
    int ok = print_doc(doc, &b);
    brine_doc_free(doc);
    if (ok) {
        int rp = read_print(b.p, b.n, &err);
        ok = rp == 1;
        if (!ok && st->failures < 20) {
            fprintf(stderr, "%s %zu: decoder output %s", what, index,
                    rp ? "read back but printed differently\n" : "rejected: ");
            if (!rp)
                fprintf(stderr, "%s at %zu:%zu (offset %zu)\n", err.msg, err.line, err.column,
                        err.offset);
            tcheck_dump_("  pickle", pickle, len);
            tcheck_dump_("  text", b.p, b.n);
        }
        if (ok && text_mutations) mutation_test(g, b.p, b.n, text_mutations, &st->text_mut);
    }
    free(b.p);
    if (!ok) st->failures++;
    return ok;
}

static int run_corpus(const char *path, size_t text_mutations, size_t pickle_mutations) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return 2;
    }
    sbuf all = {0};
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        sbuf_write(&all, chunk, got);
    fclose(f);
    corpus_stats st;
    memset(&st, 0, sizeof st);
    rng g = {0xC0FFEE};
    cursor c = {(const uint8_t *)all.p, (const uint8_t *)all.p + all.n, 0};
    record *rec = malloc(sizeof *rec);
    uint8_t *mut = NULL;
    size_t mutcap = 0;
    while (c.p < c.end) {
        size_t len = get_le(&c, 4);
        const uint8_t *body = get_bytes(&c, len);
        memset(rec, 0, sizeof *rec);
        cursor rc = {body, body + len, 0};
        if (!body || !parse_record(&rc, rec)) {
            fprintf(stderr, "corpus: bad record %zu\n", st.records);
            st.failures++;
            break;
        }
        st.records++;
        brine_error err;
        brine_doc *doc = brine_decode(rec->pickle, rec->len, &rec->opts, NULL, &err);
        if (!doc) continue;
        brine_doc_free(doc);
        st.decoded++;
        if (corpus_roundtrip(rec, rec->pickle, rec->len, "record", st.records - 1, &st, &g,
                             text_mutations))
            st.roundtrips++;
        /* Random edits of the pickle: whatever the decoder makes of them
         * must be readable too. */
        if (mutcap < rec->len + 8) {
            mutcap = 2 * rec->len + 8;
            mut = realloc(mut, mutcap);
        }
        for (size_t m = 0; m < pickle_mutations && rec->len; m++) {
            memcpy(mut, rec->pickle, rec->len);
            size_t n = rec->len;
            for (size_t e = 1 + rndn(&g, 3); e > 0; e--) {
                size_t i = rndn(&g, n);
                switch (rndn(&g, 4)) {
                case 0: mut[i] = (uint8_t)rnd(&g); break;
                case 1: mut[i] ^= (uint8_t)(1u << rndn(&g, 8)); break;
                case 2:
                    if (n > 1) memmove(mut + i, mut + i + 1, n - i - 1), n--;
                    break;
                default:
                    if (n + 1 < mutcap)
                        memmove(mut + i + 1, mut + i, n - i), mut[i] = (uint8_t)rnd(&g), n++;
                    break;
                }
            }
            st.pickle_mutants++;
            doc = brine_decode(mut, n, &rec->opts, NULL, &err);
            if (!doc) continue;
            brine_doc_free(doc);
            st.pickle_mutants_decoded++;
            corpus_roundtrip(rec, mut, n, "mutated pickle of record", st.records - 1, &st, &g, 0);
        }
    }
    free(mut);
    free(rec);
    free(all.p);
    printf("records=%zu decoded=%zu roundtrips=%zu pickle_mutants=%zu decoded_mutants=%zu "
           "text_mutants=%zu accepted_text_mutants=%zu failures=%zu\n",
           st.records, st.decoded, st.roundtrips, st.pickle_mutants, st.pickle_mutants_decoded,
           st.text_mut.tried, st.text_mut.accepted, st.failures + st.text_mut.failed);
    return st.failures || st.text_mut.failed || st.decoded == 0 ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--corpus") == 0) {
        size_t tm = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 8;
        size_t pm = argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 8;
        return run_corpus(argv[2], tm, pm);
    }
    TRUN(test_accepts);
    TRUN(test_rejects);
    TRUN(test_positions);
    TRUN(test_int_boundary);
    TRUN(test_long_numbers);
    TRUN(test_wide);
    TRUN(test_random_documents);
    TRUN(test_deep);
    TRUN(test_allocation_failures);
    TRUN(test_mutations_of_tables);
    return TDONE();
}
