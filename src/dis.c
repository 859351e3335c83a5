/*
 * dis.c - `brine dis`: exactly what `python3 -m pickletools FILE` prints.
 *
 * This mirrors pickletools.dis() of CPython 3.11 as its __main__ block calls
 * it for one file (indentlevel 4, no annotations, a fresh memo), not the
 * unpickler: pickletools has its own argument readers (int()/float() of
 * bytes, escape_decode + ASCII for STRING and GLOBAL, no protocol or FRAME
 * checks, negative BINSTRING lengths rejected) and its own stack emulation,
 * in which only "is this the markobject" matters. So the stack is kept as
 * run lengths of non-mark items between marks, the memo as a set of keys
 * (Python ints, compared by value: their decimal text), and the MARK
 * positions as their own stack, which can fall out of step with the marks
 * on the stack exactly as it does in pickletools.
 *
 * Output goes through a buffer; when pickletools raises, everything it
 * printed before raising (sometimes a lone "%5d: " prefix) is written and
 * -1 returned with err->pyclass naming the exception pickletools raises.
 * Memory is O(input): no recursion, no globals, every length checked
 * against the remaining input before it is used.
 */
#include "dis.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "pyrepr.h"

enum { F_PUT = 1, F_GET = 2, F_MEMOIZE = 4, F_POP = 8, F_MARK = 16, F_STOP = 32 };

typedef struct {
    const char *name;
    uint8_t arg, proto;
    uint8_t nbefore; /* len(stack_before) */
    int8_t markidx;  /* stack_before.index(markobject), or -1 */
    uint8_t nafter;  /* len(stack_after), the markobject of MARK not counted */
    uint8_t flags;
} opinfo;

#define OP(c, n, a, p, b, m, af, fl) [c] = {n, a, p, b, m, af, fl}
/* Generated from pickletools.opcodes; tests/py/test_dis_diff.py checks it. */
static const opinfo ops[256] = {
    OP('I', "INT", A_DECNL_SHORT, 0, 0, -1, 1, 0),
    OP('J', "BININT", A_I4, 1, 0, -1, 1, 0),
    OP('K', "BININT1", A_U1, 1, 0, -1, 1, 0),
    OP('M', "BININT2", A_U2, 1, 0, -1, 1, 0),
    OP('L', "LONG", A_DECNL_LONG, 0, 0, -1, 1, 0),
    OP(0x8a, "LONG1", A_LONG1, 2, 0, -1, 1, 0),
    OP(0x8b, "LONG4", A_LONG4, 2, 0, -1, 1, 0),
    OP('S', "STRING", A_STRINGNL, 0, 0, -1, 1, 0),
    OP('T', "BINSTRING", A_STRING4, 1, 0, -1, 1, 0),
    OP('U', "SHORT_BINSTRING", A_STRING1, 1, 0, -1, 1, 0),
    OP('B', "BINBYTES", A_BYTES4, 3, 0, -1, 1, 0),
    OP('C', "SHORT_BINBYTES", A_BYTES1, 3, 0, -1, 1, 0),
    OP(0x8e, "BINBYTES8", A_BYTES8, 4, 0, -1, 1, 0),
    OP(0x96, "BYTEARRAY8", A_BYTEARRAY8, 5, 0, -1, 1, 0),
    OP(0x97, "NEXT_BUFFER", A_NONE, 5, 0, -1, 1, 0),
    OP(0x98, "READONLY_BUFFER", A_NONE, 5, 1, -1, 1, 0),
    OP('N', "NONE", A_NONE, 0, 0, -1, 1, 0),
    OP(0x88, "NEWTRUE", A_NONE, 2, 0, -1, 1, 0),
    OP(0x89, "NEWFALSE", A_NONE, 2, 0, -1, 1, 0),
    OP('V', "UNICODE", A_UNICODENL, 0, 0, -1, 1, 0),
    OP(0x8c, "SHORT_BINUNICODE", A_UNICODE1, 4, 0, -1, 1, 0),
    OP('X', "BINUNICODE", A_UNICODE4, 1, 0, -1, 1, 0),
    OP(0x8d, "BINUNICODE8", A_UNICODE8, 4, 0, -1, 1, 0),
    OP('F', "FLOAT", A_FLOATNL, 0, 0, -1, 1, 0),
    OP('G', "BINFLOAT", A_FLOAT8, 1, 0, -1, 1, 0),
    OP(']', "EMPTY_LIST", A_NONE, 1, 0, -1, 1, 0),
    OP('a', "APPEND", A_NONE, 0, 2, -1, 1, 0),
    OP('e', "APPENDS", A_NONE, 1, 3, 1, 1, 0),
    OP('l', "LIST", A_NONE, 0, 2, 0, 1, 0),
    OP(')', "EMPTY_TUPLE", A_NONE, 1, 0, -1, 1, 0),
    OP('t', "TUPLE", A_NONE, 0, 2, 0, 1, 0),
    OP(0x85, "TUPLE1", A_NONE, 2, 1, -1, 1, 0),
    OP(0x86, "TUPLE2", A_NONE, 2, 2, -1, 1, 0),
    OP(0x87, "TUPLE3", A_NONE, 2, 3, -1, 1, 0),
    OP('}', "EMPTY_DICT", A_NONE, 1, 0, -1, 1, 0),
    OP('d', "DICT", A_NONE, 0, 2, 0, 1, 0),
    OP('s', "SETITEM", A_NONE, 0, 3, -1, 1, 0),
    OP('u', "SETITEMS", A_NONE, 1, 3, 1, 1, 0),
    OP(0x8f, "EMPTY_SET", A_NONE, 4, 0, -1, 1, 0),
    OP(0x90, "ADDITEMS", A_NONE, 4, 3, 1, 1, 0),
    OP(0x91, "FROZENSET", A_NONE, 4, 2, 0, 1, 0),
    OP('0', "POP", A_NONE, 0, 1, -1, 0, F_POP),
    OP('2', "DUP", A_NONE, 0, 1, -1, 2, 0),
    OP('(', "MARK", A_NONE, 0, 0, -1, 0, F_MARK),
    OP('1', "POP_MARK", A_NONE, 1, 2, 0, 0, 0),
    OP('g', "GET", A_DECNL_SHORT, 0, 0, -1, 1, F_GET),
    OP('h', "BINGET", A_U1, 1, 0, -1, 1, F_GET),
    OP('j', "LONG_BINGET", A_U4, 1, 0, -1, 1, F_GET),
    OP('p', "PUT", A_DECNL_SHORT, 0, 0, -1, 0, F_PUT),
    OP('q', "BINPUT", A_U1, 1, 0, -1, 0, F_PUT),
    OP('r', "LONG_BINPUT", A_U4, 1, 0, -1, 0, F_PUT),
    OP(0x94, "MEMOIZE", A_NONE, 4, 1, -1, 1, F_MEMOIZE),
    OP(0x82, "EXT1", A_U1, 2, 0, -1, 1, 0),
    OP(0x83, "EXT2", A_U2, 2, 0, -1, 1, 0),
    OP(0x84, "EXT4", A_I4, 2, 0, -1, 1, 0),
    OP('c', "GLOBAL", A_PAIR, 0, 0, -1, 1, 0),
    OP(0x93, "STACK_GLOBAL", A_NONE, 4, 2, -1, 1, 0),
    OP('R', "REDUCE", A_NONE, 0, 2, -1, 1, 0),
    OP('b', "BUILD", A_NONE, 0, 2, -1, 1, 0),
    OP('i', "INST", A_PAIR, 0, 2, 0, 1, 0),
    OP('o', "OBJ", A_NONE, 1, 3, 0, 1, 0),
    OP(0x81, "NEWOBJ", A_NONE, 2, 2, -1, 1, 0),
    OP(0x92, "NEWOBJ_EX", A_NONE, 4, 3, -1, 1, 0),
    OP(0x80, "PROTO", A_U1, 2, 0, -1, 0, 0),
    OP('.', "STOP", A_NONE, 0, 1, -1, 0, F_STOP),
    OP(0x95, "FRAME", A_U8, 4, 0, -1, 0, 0),
    OP('P', "PERSID", A_NOESC, 0, 0, -1, 1, 0),
    OP('Q', "BINPERSID", A_NONE, 1, 1, -1, 1, 0),
};

#define OUT_CAP    16384
#define REPR_CHUNK 1024 /* input bytes per pyrepr_* call */

typedef struct {
    dis_input in; /* input, error, and the readers' number buffers */
    brine_write_fn write;
    void *ctx;
    /* The stack as run lengths: cnt[0] items below the first mark, cnt[k]
     * items above the k-th mark; nmarks marks; total = len(stack). */
    size_t *cnt, nmarks, cntcap, total;
    size_t *markpos, nmarkpos, markcap; /* pickletools' markstack */
    /* The memo: keys in a pool, open addressing over entry indices + 1. */
    char *pool;
    size_t poollen, poolcap;
    size_t *ent, nent, entcap; /* (offset, length) pairs */
    size_t *slot, nslot;
    uint64_t seed;
    size_t outlen;
    char out[OUT_CAP];
    char repr[10 * (REPR_CHUNK + 4) + 8];
} dis_state;

static int value_error(dis_state *d, brine_code code, const char *msg) {
    return dis_fail(&d->in, code, "ValueError", msg);
}

static int nomem(dis_state *d) {
    return dis_fail(&d->in, BRINE_E_NOMEM, NULL, NULL);
}

/* ---- output ---- */

static int out_flush(dis_state *d) {
    size_t n = d->outlen;
    d->outlen = 0;
    if (n && d->write(d->ctx, d->out, n) != 0) {
        d->in.failed = 0; /* the caller must learn that output was lost */
        return dis_fail(&d->in, BRINE_E_IO, NULL, NULL);
    }
    return 0;
}

static int out_put(dis_state *d, const void *s, size_t n) {
    if (n > OUT_CAP - d->outlen && out_flush(d) != 0) return -1;
    if (n >= OUT_CAP) {
        if (d->write(d->ctx, s, n) != 0) {
            d->in.failed = 0;
            return dis_fail(&d->in, BRINE_E_IO, NULL, NULL);
        }
        return 0;
    }
    memcpy(d->out + d->outlen, s, n);
    d->outlen += n;
    return 0;
}

static int out_str(dis_state *d, const char *s) {
    return out_put(d, s, strlen(s));
}

static int out_spaces(dis_state *d, size_t n) {
    static const char sp[64] = "                                                                ";
    for (; n > sizeof sp; n -= sizeof sp)
        if (out_put(d, sp, sizeof sp) != 0) return -1;
    return out_put(d, sp, n);
}

/* repr() of a str (WTF-8, mode 0), bytes (1) or the b'' of a bytearray (2)
 * of any size, in chunks through the bounded pyrepr_* functions. Python
 * picks the quote from the whole value (double quotes when it holds ' but
 * no "), so quotes are handled here and no chunk passed down holds one:
 * its body is then the same whatever quote Python picked. */
static int out_repr(dis_state *d, const uint8_t *s, size_t n, int mode) {
    int sq = memchr(s, '\'', n) != NULL, dq = memchr(s, '"', n) != NULL;
    const char q = sq && !dq ? '"' : '\'';
    if (out_str(d, mode ? (q == '"' ? "b\"" : "b'") : (q == '"' ? "\"" : "'")) != 0) return -1;
    size_t i = 0;
    while (i < n) {
        if (s[i] == '\'' || s[i] == '"') {
            /* With double quotes there is no " to escape and ' is left
             * alone -- except by bytearray's repr, which escapes it always. */
            if (out_str(d, s[i] == '"' ? "\"" : q == '\'' || mode == 2 ? "\\'" : "'") != 0)
                return -1;
            i++;
            continue;
        }
        size_t j = i, lim = n - i > REPR_CHUNK ? i + REPR_CHUNK : n;
        while (j < lim && s[j] != '\'' && s[j] != '"')
            j++;
        if (!mode) /* end the chunk on a code point: skip continuation bytes */
            while (j < n && (s[j] & 0xC0) == 0x80)
                j++;
        size_t m = mode ? pyrepr_bytes(s + i, j - i, d->repr) : pyrepr_str(s + i, j - i, d->repr);
        size_t skip = mode ? 2 : 1; /* b' or ' */
        if (out_put(d, d->repr + skip, m - skip - 1) != 0) return -1;
        i = j;
    }
    return out_put(d, &q, 1);
}

/* ---- stack, mark stack and memo ---- */

static void *grow(dis_state *d, void *p, size_t *cap, size_t elem, size_t need) {
    if (need <= *cap) return p;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 4 / elem) return nomem(d), NULL;
        nc *= 2;
    }
    void *q = realloc(p, nc * elem);
    if (!q) return nomem(d), NULL;
    *cap = nc;
    return q;
}

static int top_is_mark(const dis_state *d) {
    return d->nmarks > 0 && d->cnt[d->nmarks] == 0;
}

static int push_mark(dis_state *d) {
    size_t *c = grow(d, d->cnt, &d->cntcap, sizeof *c, d->nmarks + 2);
    if (!c) return -1;
    d->cnt = c;
    c[++d->nmarks] = 0;
    d->total++;
    return 0;
}

/* del stack[-n:] for n <= total: marks in the slice go too, as in Python. */
static void pop_items(dis_state *d, size_t n) {
    while (n > 0) {
        size_t *top = &d->cnt[d->nmarks];
        if (*top >= n) {
            *top -= n;
            d->total -= n;
            return;
        }
        n -= *top + 1;
        d->total -= *top + 1;
        d->nmarks--;
    }
}

/* The stream picks the keys, so the hash is seeded per call (from where
 * the state was allocated): keys crafted to share a probe chain would
 * otherwise make the memo quadratic. */
static uint64_t key_hash(uint64_t seed, const char *k, size_t n) {
    uint64_t h = seed ^ 1469598103934665603u; /* FNV-1a, then a final mix */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)k[i]) * 1099511628211u;
    h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9u;
    return h ^ (h >> 29);
}

/* The slot holding the key, or the empty slot where it would go. */
static size_t memo_slot(const dis_state *d, const char *k, size_t n) {
    size_t mask = d->nslot - 1, s = (size_t)key_hash(d->seed, k, n) & mask;
    for (;; s = (s + 1) & mask) {
        size_t e = d->slot[s];
        if (!e) return s;
        const size_t *en = &d->ent[2 * (e - 1)];
        if (en[1] == n && memcmp(d->pool + en[0], k, n) == 0) return s;
    }
}

static int memo_has(const dis_state *d, const char *k, size_t n) {
    return d->nslot && d->slot[memo_slot(d, k, n)] != 0;
}

static int memo_add(dis_state *d, const char *k, size_t n) {
    if (2 * (d->nent + 1) > d->nslot) { /* at most half full */
        size_t ns = d->nslot ? 2 * d->nslot : 64;
        size_t *sl = ns <= SIZE_MAX / sizeof *sl ? calloc(ns, sizeof *sl) : NULL;
        if (!sl) return nomem(d);
        free(d->slot);
        d->slot = sl;
        d->nslot = ns;
        for (size_t e = 0; e < d->nent; e++)
            d->slot[memo_slot(d, d->pool + d->ent[2 * e], d->ent[2 * e + 1])] = e + 1;
    }
    char *pool = grow(d, d->pool, &d->poolcap, 1, d->poollen + n);
    if (!pool) return -1;
    d->pool = pool;
    size_t *ent = grow(d, d->ent, &d->entcap, 2 * sizeof *ent, d->nent + 1);
    if (!ent) return -1;
    d->ent = ent;
    memcpy(d->pool + d->poollen, k, n);
    d->slot[memo_slot(d, k, n)] = d->nent + 1;
    ent[2 * d->nent] = d->poollen;
    ent[2 * d->nent + 1] = n;
    d->nent++;
    d->poollen += n;
    return 0;
}

/* ---- the disassembly loop (pickletools.dis) ---- */

/* The line after "%5d: ": "%-4s %s%s" % (repr(code)[1:-1], indent, name),
 * then the argument and the mark or memo message when there are any. */
static int out_line(dis_state *d, uint8_t code, const opinfo *op, size_t indent, const dis_arg *a,
                    const char *markmsg) {
    char pfx[16];
    int m = code >= 0x80 ? snprintf(pfx, sizeof pfx, "\\x%02x ", code)
                         : snprintf(pfx, sizeof pfx, "%c    ", code);
    if (out_put(d, pfx, (size_t)m) != 0 || out_spaces(d, 4 * indent) != 0 ||
        out_str(d, op->name) != 0)
        return -1;
    if (op->arg != A_NONE || markmsg[0]) {
        size_t nl = strlen(op->name); /* a mild effort to align arguments */
        if (nl < 10 && out_spaces(d, 10 - nl) != 0) return -1;
        if (op->arg != A_NONE) {
            int r = out_str(d, a->kind == V_BYTEARRAY ? " bytearray(" : " ");
            if (!r)
                r = a->kind == V_TEXT ? out_put(d, a->p, a->n)
                                      : out_repr(d, a->p, a->n,
                                                 a->kind == V_STR     ? 0
                                                 : a->kind == V_BYTES ? 1
                                                                      : 2);
            if (!r && a->kind == V_BYTEARRAY) r = out_str(d, ")");
            if (r) return -1;
        }
        if (markmsg[0] && (out_str(d, " ") != 0 || out_str(d, markmsg) != 0)) return -1;
    }
    return out_str(d, "\n");
}

static int dis_op(dis_state *d, const opinfo *op, uint8_t code, dis_arg *a) {
    char pfx[32];
    int m = snprintf(pfx, sizeof pfx, "%5zu: ", d->in.pos);
    if (out_put(d, pfx, (size_t)m) != 0) return -1;
    const size_t indent = d->nmarkpos; /* len(markstack) before any pop */

    const char *errmsg = NULL;
    brine_code errcode = BRINE_OK;
    char markmsg[48] = "";
    size_t numtopop = op->nbefore;
    if (op->markidx >= 0 || ((op->flags & F_POP) && top_is_mark(d))) {
        if (d->nmarkpos) {
            snprintf(markmsg, sizeof markmsg, "(MARK at %zu)", d->markpos[--d->nmarkpos]);
            /* "while stack[-1] is not markobject: stack.pop()" finds no mark
             * when an earlier opcode popped it as an ordinary item. */
            if (d->nmarks == 0)
                return dis_fail(&d->in, BRINE_E_INDEX_RANGE, "IndexError",
                                "list index out of range");
            d->total -= d->cnt[d->nmarks] + 1;
            d->nmarks--;
            numtopop = op->markidx >= 0 ? (size_t)op->markidx : 0;
        } else {
            errmsg = "no MARK exists on stack";
            errcode = BRINE_E_NO_MARK;
            snprintf(markmsg, sizeof markmsg, "%s", errmsg);
        }
    }

    if (op->flags & (F_PUT | F_MEMOIZE)) {
        if (op->flags & F_MEMOIZE) { /* memo_idx = len(memo) */
            dis_small_int(a, d->nent, 0);
            snprintf(markmsg, sizeof markmsg, "(as %zu)", d->nent);
        }
        if (memo_has(d, a->key, a->keylen))
            errmsg = "memo key already defined", errcode = BRINE_E_USAGE;
        else if (d->total == 0)
            errmsg = "stack is empty -- can't store into memo", errcode = BRINE_E_STACK_UNDERFLOW;
        else if (top_is_mark(d))
            errmsg = "can't store markobject in the memo", errcode = BRINE_E_UNEXPECTED_MARK;
        else if (memo_add(d, a->key, a->keylen) != 0)
            return -1;
    } else if ((op->flags & F_GET) && !memo_has(d, a->key, a->keylen)) {
        errmsg = "memo key has never been stored into";
        errcode = BRINE_E_MEMO_MISSING;
    }
    if (a->too_long) /* repr(arg) raises as the line is built */
        return value_error(d, BRINE_E_INT_DIGITS,
                           "Exceeds the limit (4300 digits) for integer string conversion");
    if (out_line(d, code, op, indent, a, markmsg) != 0) return -1;
    if (errmsg) return value_error(d, errcode, errmsg); /* only once the line is out */

    if (d->total < numtopop)
        return value_error(d, BRINE_E_STACK_UNDERFLOW,
                           "tries to pop more items from stack than it holds");
    pop_items(d, numtopop);
    if (op->flags & F_MARK) {
        size_t *mp = grow(d, d->markpos, &d->markcap, sizeof *mp, d->nmarkpos + 1);
        if (!mp) return -1;
        d->markpos = mp;
        mp[d->nmarkpos++] = d->in.pos;
        if (push_mark(d) != 0) return -1;
    }
    d->cnt[d->nmarks] += op->nafter;
    d->total += op->nafter;
    return 0;
}

static int dis_all(dis_state *d) {
    int maxproto = -1;
    for (;;) {
        d->in.pos = d->in.i;
        if (d->in.i >= d->in.len)
            return value_error(d, BRINE_E_TRUNCATED, "pickle exhausted before seeing STOP");
        const uint8_t code = d->in.p[d->in.i++];
        const opinfo *op = &ops[code];
        if (!op->name) return value_error(d, BRINE_E_BAD_OPCODE, "opcode unknown");
        if (op->proto > maxproto) maxproto = op->proto;
        dis_arg a;
        memset(&a, 0, sizeof a);
        int rc = dis_read_arg(&d->in, op->arg, &a);
        if (rc == 0) rc = dis_op(d, op, code, &a);
        free(a.buf);
        if (rc != 0) return -1;
        if (op->flags & F_STOP) break;
    }
    char line[64];
    int m = snprintf(line, sizeof line, "highest protocol among opcodes = %d\n", maxproto);
    if (out_put(d, line, (size_t)m) != 0) return -1;
    d->in.pos = d->in.i;
    if (d->total) return value_error(d, BRINE_E_USAGE, "stack not empty after STOP");
    return 0;
}

int brine_dis(const void *data, size_t len, brine_write_fn write, void *ctx, brine_error *err) {
    brine_clear_error(err);
    if (!write || (!data && len)) {
        brine_set_error(err, BRINE_E_USAGE, "brine_dis: no data or no write function", 0);
        return -1;
    }
    dis_state *d = calloc(1, sizeof *d);
    if (!d) {
        brine_set_error(err, BRINE_E_NOMEM, NULL, 0);
        return -1;
    }
    d->in.p = data;
    d->in.len = len;
    d->in.err = err;
    d->write = write;
    d->ctx = ctx;
    d->seed = (uint64_t)(uintptr_t)d * 0x9e3779b97f4a7c15u;
    int rc = -1;
    d->cnt = grow(d, NULL, &d->cntcap, sizeof *d->cnt, 1);
    if (d->cnt) {
        d->cnt[0] = 0;
        rc = dis_all(d);
    }
    /* What was printed before pickletools raised is part of the output. */
    if (out_flush(d) != 0) rc = -1;
    free(d->cnt);
    free(d->markpos);
    free(d->pool);
    free(d->ent);
    free(d->slot);
    free(d);
    return rc;
}
