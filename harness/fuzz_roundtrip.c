/*
 * fuzz_roundtrip.c - the encoder round trip shared by the decode, canon and
 * encode targets.
 *
 * For a document D with canonical text T, at each protocol p in 0..5:
 *
 *   B  = brine_encode(D, p)   may fail, but only with a clean error
 *                             (CPython cannot pickle every graph);
 *   B' = brine_encode(D, p)   equals B (cfg->encode_twice);
 *   decode(B) prints T        when D is exactly representable at p (below);
 *   encode(decode(B)) == B    when decode(B) prints T; else, D was not
 *                             in the decoder's form (next paragraph),
 *                             and the check moves to D' = decode(B):
 *                             B2 = encode(D') must give
 *                             encode(decode(B2)) == B2, or, where D' can
 *                             be reshaped again (reshaped_again), the same
 *                             one round later.
 *
 * Why D': the decoder lists discarded nodes in the order a stream makes
 * them and merges what a stream cannot keep apart; a document built
 * through the API need not be in that form (say, a persistent id
 * discarded ahead of the object it wraps). Its encoding B is faithful
 * where the value is exactly representable, but two streams can decode to
 * the same D' (a popped memo fetch and a popped fresh write of a node that
 * nothing else shares read back alike), and only the form D' tells which
 * one the encoder writes. What must hold is that the encoder's output
 * becomes a fixed point once a decoder has made the graph: exactly what
 * re-encoding a CPython pickle needs. A graph can be reshaped a second
 * time only where it does not record what the stream did: the operations
 * of a global (a log on the node, not placed among the other writes) and,
 * below protocol 3 with fix_imports, two names that map to one Python 2
 * name (builtins.object and __builtin__.object read back as one node).

 * "Exactly representable" is where pickle itself is lossy, so that the
 * check is strict everywhere else:
 *  - kinds without an opcode at p (complex always; bytes below 3; set and
 *    frozenset below 4; bytearray below 5) come back as calls, which only
 *    the builtins policy folds back, so they need that policy; and the
 *    builtins policy is only usable when D has no call on one of the
 *    folded globals (it would fold those too);
 *  - a one-byte bytes below protocol 3 comes back as CPython's shared
 *    one-byte singleton (from _codecs.encode), not as a fresh object;
 *  - protocol 0 writes floats with repr(), which drops NaN payloads;
 *  - below protocol 3 with fix_imports, names are mapped to Python 2 and
 *    back, which is not the identity for every name, so no GLOBAL node;
 *  - out-of-band buffers and read-only views come back in band;
 *  - CPython does not memoize persistent ids: each reference to a shared
 *    one is written, and comes back, as a new one;
 *  - pickle.dumps writes what the root reaches: discarded nodes are lost;
 *  - protocols without NEWOBJ (0, 1) or NEWOBJ_EX (0-3) write
 *    copyreg.__newobj__ / __newobj_ex__ calls instead of new(...);
 *  - below protocol 4, GLOBAL writes fresh strs (STACK_GLOBAL shares them)
 *    and a dotted qualified name becomes a getattr() call;
 *  - protocol 0 writes a persistent id as str(pid), a fresh str;
 *  - an object that reaches itself through its callable or arguments is
 *    written twice by CPython (save_reduce's "recursive" POP + GET); so
 *    is one whose arguments reach it only at p, through the operations of
 *    a global that a reduction saves there (frozenset(list) below 4 saves
 *    builtins.frozenset, written with its operations): the decoded graph
 *    shows that recursion;
 *  - a tuple or frozenset (or a set below protocol 4, reduced to set(list))
 *    that reaches itself through its items is written twice by CPython
 *    too: save_tuple / save_frozenset / save_reduce write the outer copy's
 *    items, find the value memoized by the inner copy and pop the outer
 *    one (POP_MARK, or POPs at protocol 0). Items are memo hits the second
 *    time, except persistent ids, which CPython never memoizes: each one
 *    that is an item is written, and loaded, twice, and the decoded graph
 *    has one more discarded persistent id than D (fuzz_recursive_items).
 *    "Through its items" includes state setter calls (save_reduce writes
 *    one right after its object): with fs = frozenset({pid, y}) and y's
 *    setter reaching fs, pickle.dumps writes the pid twice and pops the
 *    outer fs just the same (fuzz_reach_add_setters). That decoded graph
 *    is a fixed point, as CPython's bytes are: the encoder takes such a
 *    discarded persistent id for the outer copy's, which its own
 *    recursion writes, and not as one to write before the root (so an
 *    args tuple that reaches itself is no exception either).
 * brine_encode is being written; while it reports "not implemented" the
 * whole check is skipped.
 */
#include "fuzz_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- what the graph holds ------------------------------------------------------ */

typedef struct scan {
    int complex_, bytes_, bytes1, set_, bytearray_, buffer_, global_, foldcall, nan_payload;
    int shared_persid, discarded;
    int new_, new_kwargs, dotted_name, shared_name, persid, recursive, global_ops;
    int recursive_items; /* fuzz_recursive_items(): bit 0 at every protocol, bit 1 below 4 */
} scan;

static int name_is(const brine_value *g, const char *module, const char *name) {
    size_t ml, nl;
    const char *m = brine_global_module(g, &ml), *n = brine_global_name(g, &nl);
    return ml == strlen(module) && memcmp(m, module, ml) == 0 && nl == strlen(name) &&
           memcmp(n, name, nl) == 0;
}

/* The globals the builtins policy folds calls on (docs/canonical.md). */
static int is_folded_global(const brine_value *g) {
    static const char *const names[] = {"set", "frozenset", "bytearray", "bytes", "complex"};
    if (brine_kind_of(g) != BRINE_GLOBAL) return 0;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (name_is(g, "builtins", names[i]) || name_is(g, "__builtin__", names[i])) return 1;
    return name_is(g, "_codecs", "encode");
}

static scan scan_doc(const brine_doc *doc) {
    scan s;
    memset(&s, 0, sizeof s);
    fuzz_walk w = {0};
    fuzz_walk_push(&w, brine_doc_root(doc));
    for (size_t i = 0, n = brine_doc_discarded_count(doc); i < n; i++)
        fuzz_walk_push(&w, brine_doc_discarded(doc, i));
    while (w.n) {
        brine_value *v = w.stack[--w.n];
        size_t len;
        switch (brine_kind_of(v)) {
        case BRINE_FLOAT: {
            uint64_t bits = brine_float_bits(v);
            double d = brine_float_value(v);
            if (d != d && bits != 0x7ff8000000000000ull) s.nan_payload = 1;
            break;
        }
        case BRINE_COMPLEX: {
            double part[2];
            brine_complex_value(v, &part[0], &part[1]);
            for (int i = 0; i < 2; i++) {
                uint64_t bits;
                memcpy(&bits, &part[i], sizeof bits);
                if (part[i] != part[i] && bits != 0x7ff8000000000000ull) s.nan_payload = 1;
            }
            s.complex_ = 1;
            break;
        }
        case BRINE_BYTES:
            s.bytes_ = 1;
            brine_bytes_data(v, &len);
            if (len == 1) s.bytes1 = 1;
            break;
        case BRINE_BYTEARRAY: s.bytearray_ = 1; break;
        case BRINE_SET:
        case BRINE_FROZENSET:
            s.set_ = 1;
            /* fall through */
        case BRINE_TUPLE:
        case BRINE_LIST:
            for (size_t i = 0, n = brine_len(v); i < n; i++)
                fuzz_walk_push(&w, brine_item(v, i));
            break;
        case BRINE_DICT:
            for (size_t i = 0, n = brine_len(v); i < n; i++) {
                fuzz_walk_push(&w, brine_dict_key(v, i));
                fuzz_walk_push(&w, brine_dict_value(v, i));
            }
            break;
        case BRINE_GLOBAL: {
            s.global_ = 1;
            size_t nl;
            const char *q = brine_global_name(v, &nl);
            if (memchr(q, '.', nl)) s.dotted_name = 1;
            if (brine_nops(v)) s.global_ops = 1;
            fuzz_walk_push_ops(&w, v);
            break;
        }

        case BRINE_OBJECT: {
            brine_value *f = brine_object_callable(v);
            if (brine_object_make(v) == BRINE_MAKE_CALL && is_folded_global(f)) s.foldcall = 1;
            if (brine_object_make(v) == BRINE_MAKE_NEW) s.new_ = 1;
            /* NEWOBJ_EX (0x92), even with no keywords. */
            if (brine_object_nkwargs(v) || brine_object_opcode(v) == 0x92) s.new_kwargs = 1;
            fuzz_walk_push(&w, f);
            for (size_t i = 0, n = brine_object_nargs(v); i < n; i++)
                fuzz_walk_push(&w, brine_object_arg(v, i));
            for (size_t i = 0, n = brine_object_nkwargs(v); i < n; i++) {
                fuzz_walk_push(&w, brine_object_kwarg_key(v, i));
                fuzz_walk_push(&w, brine_object_kwarg_value(v, i));
            }
            fuzz_walk_push_ops(&w, v);
            break;
        }
        case BRINE_PERSID:
            s.persid = 1;
            fuzz_walk_push(&w, brine_persid_pid(v));
            break;
        case BRINE_PICKLEBUFFER: s.buffer_ = 1; break;
        case BRINE_READONLY_VIEW:
            s.buffer_ = 1;
            fuzz_walk_push(&w, brine_view_target(v));
            break;
        default: break;
        }
    }
    s.shared_persid = w.persid_again;
    s.discarded = brine_doc_discarded_count(doc) > 0;
    fuzz_walk_free(&w);
    return s;
}

/* Whether a global's module or name str carries a label in the canonical
 * text: `global(&1 'm', ...)`, `global(*1, ...)`, `global('m', &2 'n')`.
 * The str API gives no identity, so the text tells; a "global(" inside a
 * str value can only make the check skip more. */
static int shared_global_str(const fuzz_buf *text) {
    static const char key[] = "global(";
    const char *t = text->p, *end = text->p + text->n;
    while (t && (size_t)(end - t) > sizeof key) {
        const char *g = memchr(t, 'g', (size_t)(end - t));
        if (!g || (size_t)(end - g) <= sizeof key) break;
        t = g + 1;
        if (memcmp(g, key, sizeof key - 1) != 0) continue;
        const char *c = g + sizeof key - 1;
        if (*c == '&' || *c == '*') return 1;
        if (*c != '\'') continue;
        for (c++; c < end && *c != '\''; c++)
            if (*c == '\\') c++;
        if (end - c > 3 && c[1] == ',' && c[2] == ' ' && (c[3] == '&' || c[3] == '*')) return 1;
    }
    return 0;
}

/* Whether decode(encode(D, p)) under `policy` must print D's text. */
static int exact_at(const scan *s, int p, brine_policy policy, int fix_imports) {
    int folds = policy == BRINE_POLICY_BUILTINS;
    if (s->buffer_ || s->shared_persid || s->discarded || s->recursive) return 0;
    if (s->recursive_items & fuzz_items_mask(p)) return 0;
    if (s->complex_ && !folds) return 0;
    if (p < 3 && s->bytes_ && (!folds || s->bytes1)) return 0;
    if (p < 3 && s->global_ && fix_imports) return 0;
    if (p < 4 && s->set_ && !folds) return 0;
    if (p < 5 && s->bytearray_ && !folds) return 0;
    if (p == 0 && (s->nan_payload || s->persid)) return 0;
    if (p < 2 && s->new_) return 0;
    if (p < 4 && (s->new_kwargs || s->dotted_name || s->shared_name)) return 0;
    return 1;
}

/* --- the round trip ---------------------------------------------------------------- */

/* For the NEXT_BUFFERs in the encoder's output: brine writes buffer nodes
 * out of band when there is no buffer callback (CPython's pickle.dumps
 * writes them in band), and decoding must not fail for want of buffers. */
/* Empty buffers for the out-of-band buffers of a stream of n bytes: one
 * per byte is enough (NEXT_BUFFER is one byte), and a fixed number is not,
 * since no buffer is memoized: a buffer the graph shares is written once
 * per reference. Grown, never freed (still reachable at exit). */
static brine_buffer *dummy_buffers(size_t n) {
    static brine_buffer *bufs;
    static size_t cap;
    if (n > cap) {
        brine_buffer *b = realloc(bufs, n * sizeof *b);
        FUZZ_ASSERT(b, "out of memory for %zu buffers", n);
        memset(b + cap, 0, (n - cap) * sizeof *b);
        bufs = b;
        cap = n;
    }
    return bufs;
}

/* Up to 120 bytes of b from `from`, as a C string literal body, for
 * messages; three rotating buffers so that one message can show three. */
static const char *hex_at(const fuzz_buf *b, size_t from) {
    static char outs[3][4 * 120 + 16];
    static int which;
    char *out = outs[which = (which + 1) % 3];
    size_t k = 0;
    if (from) k += (size_t)snprintf(out, sizeof outs[0], "@%zu:", from);
    for (size_t i = from; i < b->n && i < from + 120; i++) {
        unsigned char c = (unsigned char)b->p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            out[k++] = (char)c;
        else
            k += (size_t)snprintf(out + k, sizeof outs[0] - k, "\\x%02x", c);
    }
    snprintf(out + k, sizeof outs[0] - k, "%s", b->n > from + 120 ? "..." : "");
    return out;
}

static const char *hex(const fuzz_buf *b) {
    return hex_at(b, 0);
}

/* Whether a decoded graph D' can still be reshaped by one more encode and
 * decode (see the header): the operations of a global are one log on the
 * node, so the graph does not say where among the other writes they ran,
 * nor which objects they made first (the decoder lists discarded objects
 * in the order they were made); and below protocol 3 with fix_imports,
 * two names that map to one Python 2 name read back as one global. */
static int reshaped_again(const brine_doc *d, int p, int fix_imports) {
    scan s = scan_doc(d);
    return s.global_ops || (p < 3 && fix_imports && s.global_);
}

/* Where a message shows a and b from: 16 bytes before they first differ. */
static size_t near_mismatch(const fuzz_buf *a, const fuzz_buf *b) {
    size_t i = 0;
    while (i < a->n && i < b->n && a->p[i] == b->p[i])
        i++;
    return i > 16 ? i - 16 : 0;
}

/* Whether a line of brine_dis output is opcode byte `op` (its first field
 * after the offset, "\x97": an argument never stands there). */
static int dis_line_is(const char *line, const char *end, unsigned op) {
    char want[8];
    snprintf(want, sizeof want, ": \\x%02x", op);
    size_t n = strlen(want);
    const char *colon = memchr(line, ':', (size_t)(end - line));
    return colon && (size_t)(end - colon) >= n && memcmp(colon, want, n) == 0;
}

/* Makes buffer k of bufs read-only exactly when the k-th NEXT_BUFFER of the
 * encoder's output b is followed by READONLY_BUFFER: the encoder writes
 * that for a buffer that was read-only, and a consumer hands the same
 * buffer back. (A writable one would come back as a read-only view of
 * writable data, which is unhashable: decoding would fail where the
 * document's own buffer, say a frozenset item, did not. A read-only one
 * everywhere would come back read-only where the document's was not, and
 * be written again with READONLY_BUFFER.) */
static void match_readonly(const fuzz_buf *b, brine_buffer *bufs, size_t n) {
    for (size_t i = 0; i < n; i++)
        bufs[i].readonly = 0;
    if (!memchr(b->p, 0x97, b->n)) return; /* no NEXT_BUFFER */
    fuzz_buf text = {0};
    brine_error err;
    /* dis fails where pickletools does (a Python 2 str it cannot show, an
     * int too long to print): then all stay writable, as before. */
    if (brine_dis(b->p, b->n, fuzz_buf_write, &text, &err) != 0) {
        fuzz_buf_free(&text);
        return;
    }
    size_t k = 0;
    int after_next = 0;
    for (const char *line = text.p, *end = text.p + text.n; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        if (dis_line_is(line, nl, 0x97)) {
            k++;
            after_next = 1;
        } else {
            if (after_next && dis_line_is(line, nl, 0x98) && k <= n) bufs[k - 1].readonly = 1;
            after_next = 0;
        }
        line = nl + 1;
    }
    fuzz_buf_free(&text);
}

static brine_doc *decode_back(const fuzz_buf *b, brine_policy policy, int fix_imports, int p) {
    brine_decode_options o;
    brine_decode_options_init(&o);
    o.policy = policy;
    o.fix_imports = fix_imports;
    o.has_buffers = 1;
    brine_buffer *bufs = dummy_buffers(b->n);
    match_readonly(b, bufs, b->n);
    o.buffers = bufs;
    o.nbuffers = b->n;
    brine_error err;
    brine_doc *doc = brine_decode(b->p, b->n, &o, NULL, &err);
    FUZZ_ASSERT(doc,
                "decoding the encoder's protocol %d output fails: %s: %s (offset %zu); bytes: %s",
                p, err.pyclass, err.msg, err.offset, hex(b));
    return doc;
}

/* Returns 0, or -1 with *err set. */
static int encode(const brine_doc *doc, int p, const fuzz_rt_config *cfg, fuzz_buf *out,
                  brine_error *err) {
    brine_encode_options o;
    brine_encode_options_init(&o);
    o.protocol = p;
    o.fix_imports = cfg->fix_imports;
    o.buffers = cfg->buffers;
    o.nbuffers = cfg->nbuffers;
    out->n = 0;
    return brine_encode(doc, &o, fuzz_buf_write, out, err);
}

/* encode() of a graph the decoder made from the encoder's own output,
 * which must not fail. */
static void encode_decoded(const brine_doc *doc, int p, const fuzz_rt_config *cfg, fuzz_buf *out) {
    brine_error err;
    FUZZ_ASSERT(encode(doc, p, cfg, out, &err) == 0,
                "protocol %d: encoding the decoded encoder output fails: %s: %s", p, err.pyclass,
                err.msg);
}

void fuzz_check_roundtrip(const brine_doc *doc, const fuzz_buf *text, const fuzz_rt_config *cfg) {
    scan s;
    int scanned = 0;
    brine_policy policy = BRINE_POLICY_BUILTINS;
    fuzz_buf b1 = {0}, b2 = {0}, t2 = {0};
    for (int p = 0; p <= BRINE_HIGHEST_PROTOCOL; p++) {
        if (cfg->only_protocol >= 0 && p != cfg->only_protocol) continue;
        brine_error err;
        if (encode(doc, p, cfg, &b1, &err) != 0) {
            if (fuzz_not_implemented(&err)) break;
            fuzz_assert_clean_error(&err, "brine_encode");
            continue;
        }
        if (cfg->encode_twice) {
            int rc = encode(doc, p, cfg, &b2, &err);
            FUZZ_ASSERT(rc == 0, "protocol %d: the second encoding fails: %s: %s", p, err.pyclass,
                        err.msg);
            FUZZ_ASSERT(fuzz_buf_eq(&b1, &b2),
                        "protocol %d: two encodings differ (%zu and %zu bytes)", p, b1.n, b2.n);
        }
        if (!scanned) {
            /* Only once the encoder has written something: the walk costs
             * more than a failing encode. */
            s = scan_doc(doc);
            s.shared_name = shared_global_str(text);
            s.recursive = fuzz_recursive_reduce(doc);
            s.recursive_items = fuzz_recursive_items(doc);
            scanned = 1;
            policy = s.foldcall ? BRINE_POLICY_SYMBOLIC : BRINE_POLICY_BUILTINS;
        }
        brine_doc *sym = decode_back(&b1, BRINE_POLICY_SYMBOLIC, cfg->fix_imports, p);
        int sym_recursive = fuzz_recursive_reduce(sym);
        if (exact_at(&s, p, policy, cfg->fix_imports) && !sym_recursive) {
            brine_doc *d2 = policy == BRINE_POLICY_SYMBOLIC
                                ? sym
                                : decode_back(&b1, policy, cfg->fix_imports, p);
            fuzz_canon(d2, &t2);
            FUZZ_ASSERT(fuzz_buf_eq(text, &t2),
                        "protocol %d round trip changes the text: %.*s -> %.*s", p,
                        (int)(text->n < 400 ? text->n : 400), text->p,
                        (int)(t2.n < 400 ? t2.n : 400), t2.p);
            if (d2 != sym) brine_doc_free(d2);
        }
        if (s.recursive || sym_recursive) {
            /* Each round writes the recursive object once more (see
             * fuzz_recursive_reduce): no fixed point to check. (A container
             * that reaches itself through its items has one: see
             * fuzz_recursive_items.) The decoded graph can be recursive
             * when D is not: a global's op log is read back onto the
             * global, so a call whose arguments reach the global then
             * reaches the ops, and through them itself. */
            brine_doc_free(sym);
            continue;
        }
        encode_decoded(sym, p, cfg, &b2);
        if (!fuzz_buf_eq(&b1, &b2)) {
            fuzz_canon(sym, &t2);
            FUZZ_ASSERT(
                !fuzz_buf_eq(text, &t2),
                "protocol %d: encode(decode(encode(D))) != encode(D) where decode(encode(D)) "
                "prints D: %s then %s; %s",
                p, hex_at(&b1, near_mismatch(&b1, &b2)), hex_at(&b2, near_mismatch(&b1, &b2)),
                hex(&b1));
            /* D was not in the decoder's form: the check moves on to
             * D' (b1 becomes B2 = encode(D')), or to D'' when D' can be
             * reshaped once more (reshaped_again). */
            int rounds = reshaped_again(sym, p, cfg->fix_imports) ? 2 : 1, skip = 0;
            for (int r = 0; r < rounds && !fuzz_buf_eq(&b1, &b2) && !skip; r++) {
                brine_doc *d2 = decode_back(&b2, BRINE_POLICY_SYMBOLIC, cfg->fix_imports, p);
                brine_doc_free(sym);
                sym = d2;
                skip = fuzz_recursive_reduce(sym);
                fuzz_buf t = b1;
                b1 = b2;
                b2 = t;
                encode_decoded(sym, p, cfg, &b2);
            }
            if (skip) { /* as above: no fixed point to check */
                brine_doc_free(sym);
                continue;
            }
        }
        FUZZ_ASSERT(fuzz_buf_eq(&b1, &b2),
                    "protocol %d: encode(decode(B)) != B for B = encode(D'), D' a decoded graph: "
                    "%s then %s; %s",
                    p, hex_at(&b1, near_mismatch(&b1, &b2)), hex_at(&b2, near_mismatch(&b1, &b2)),
                    hex(&b1));
        brine_doc_free(sym);
    }
    fuzz_buf_free(&b1);
    fuzz_buf_free(&b2);
    fuzz_buf_free(&t2);
}
