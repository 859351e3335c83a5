/*
 * pyops.c - hashing, equality and insertion with Python's semantics.
 */
#include "pyops.h"

#include <math.h>
#include <string.h>

#include "bigint.h"
#include "pyfloat.h"

/* Domain tags keep kinds that can never be equal apart in hash space. */
#define TAG_NUM 0x6e756d0000000000u
#define TAG_STR 0x7374720000000000u
#define TAG_BYT 0x6279740000000000u
#define TAG_TUP 0x7475700000000000u
#define TAG_FRZ 0x66727a0000000000u
#define TAG_ID  0x6964000000000000u

/* The splitmix64 finalizer: a bijective 64-bit mix. */
static uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_mem(uint64_t tag, const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t h = tag ^ (n * 0x9E3779B97F4A7C15u);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ mix64(w)) * 0x100000001B3u;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ mix64(w ^ n)) * 0x100000001B3u;
    return mix64(h);
}

static uint64_t hash_identity(const void *p) {
    return mix64(TAG_ID ^ (uint64_t)(uintptr_t)p);
}

static uint64_t hash_i64(int64_t i) {
    return mix64(TAG_NUM ^ (uint64_t)i);
}

static uint64_t hash_bi(const bi *x) {
    uint64_t h = TAG_NUM ^ 0x5a5a ^ (uint64_t)x->neg;
    for (size_t i = 0; i < x->n; i++)
        h = mix64(h ^ x->limbs[i]);
    return h;
}

/* hash of a float value; `owner` is the node a NaN's identity comes from. */
static uint64_t hash_double(double d, const void *owner) {
    if (isnan(d)) return hash_identity(owner);
    if (isinf(d) || d != floor(d)) return mix64(TAG_NUM ^ 0xF1 ^ pyfloat_bits(d));
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return hash_i64((int64_t)d);
    uint32_t limbs[40];
    bi x;
    bi_from_integral_double(d, limbs, &x);
    return hash_bi(&x);
}

int py_kind_hashable(const brine_value *v) {
    switch (v->kind) {
    case BRINE_LIST:
    case BRINE_DICT:
    case BRINE_SET:
    case BRINE_BYTEARRAY: return 0;
    /* memoryview.__hash__ first hashes the object it exports from, and a
     * readonly view only exists over writable (bytearray-like) data. */
    case BRINE_READONLY_VIEW: return 0;
    default: return 1;
    }
}

static int hash_direct(brine_value *v, uint64_t *out);

/* The hash of a table entry's key. Entries do not store it: every key was
 * hashed on its way in, so this is a cached value (str, bytes, big int,
 * tuple, frozenset) or a bounded computation (small ints, identities, and
 * floats, whose integral values of 2^63 and more take a bigint of at most
 * 33 limbs). */
static inline uint64_t entry_hash(const bentry *e) {
    uint64_t h = 0;
    (void)hash_direct(e->key, &h); /* only an unhashed tuple fails, never a key */
    return h;
}

/* Hash of a node whose children, if any, need no traversal. Returns 0 when
 * the node is a tuple still needing its items' hashes. */
static int hash_direct(brine_value *v, uint64_t *out) {
    switch (v->kind) {
    case BRINE_NONE: *out = mix64(TAG_ID ^ 0x4e6f6e65); return 1;
    case BRINE_BOOL: *out = hash_i64(v->u.boolean); return 1;
    case BRINE_INT:
        if (v->flags & VF_BIG) {
            /* Cached: the hash reads every limb, and table scans ask for
             * an entry's key hash again on each insertion. */
            if (!(v->flags & VF_HASHED)) {
                bi x = {v->u.big.limbs, v->u.big.n, (v->flags & VF_NEG) != 0};
                v->u.big.hash = hash_bi(&x);
                v->flags |= VF_HASHED;
            }
            *out = v->u.big.hash;
        } else {
            *out = hash_i64(v->u.i);
        }
        return 1;
    case BRINE_FLOAT: *out = hash_double(pyfloat_from_bits(v->u.fbits), v); return 1;
    case BRINE_COMPLEX: {
        double re = pyfloat_from_bits(v->u.c.re), im = pyfloat_from_bits(v->u.c.im);
        if (im == 0.0)
            *out = hash_double(re, v);
        else
            *out = mix64(hash_double(re, v) * 31 + hash_double(im, v));
        return 1;
    }
    case BRINE_STR:
    case BRINE_BYTES:
        if (!(v->flags & VF_HASHED)) {
            v->u.s.hash = hash_mem(v->kind == BRINE_STR ? TAG_STR : TAG_BYT, v->u.s.p, v->u.s.n);
            v->flags |= VF_HASHED;
        }
        *out = v->u.s.hash;
        return 1;
    case BRINE_FROZENSET:
        if (!(v->flags & VF_HASHED)) {
            const bdict *d = &v->u.set;
            uint64_t h = TAG_FRZ ^ d->n;
            for (size_t i = 0; i < d->n; i++)
                h += mix64(entry_hash(&d->entries[i]));
            v->u.set.aux->hash = mix64(h); /* val_frozenset made aux */
            v->flags |= VF_HASHED;
        }
        *out = v->u.set.aux->hash;
        return 1;
    case BRINE_TUPLE:
        if (v->flags & VF_HASHED) {
            *out = v->u.tup.hash;
            return 1;
        }
        return 0;
    default: /* GLOBAL, OBJECT, PERSID, PICKLEBUFFER: identity */ *out = hash_identity(v); return 1;
    }
}

typedef struct {
    brine_value *node;
    size_t next;
} hash_frame;

brine_code py_hash(brine_doc *doc, brine_value *v, uint64_t *out) {
    if (v->flags & VF_UNHASHABLE || !py_kind_hashable(v)) return BRINE_E_UNHASHABLE;
    if (hash_direct(v, out)) return BRINE_OK;

    /* A tuple whose hash is not cached yet: post-order over nested tuples. */
    hash_frame local[32];
    hash_frame *stack = local;
    size_t cap = 32, depth = 0;
    brine_alloc *al = &doc->arena.alloc;
    brine_code result = BRINE_OK;
    stack[depth++] = (hash_frame){v, 0};
    while (depth) {
        hash_frame *top = &stack[depth - 1];
        brine_value *t = top->node;
        int descended = 0;
        while (top->next < t->u.tup.n) {
            brine_value *c = t->u.tup.items[top->next];
            uint64_t ignored;
            if ((c->flags & VF_UNHASHABLE) || !py_kind_hashable(c)) {
                t->flags |= VF_UNHASHABLE;
                break;
            }
            if (c->kind == BRINE_TUPLE && !hash_direct(c, &ignored)) {
                if (depth == cap) {
                    size_t ncap = cap * 2;
                    hash_frame *grown = al->malloc(al->ctx, ncap * sizeof *grown);
                    if (!grown) {
                        result = BRINE_E_NOMEM;
                        goto done;
                    }
                    memcpy(grown, stack, depth * sizeof *grown);
                    if (stack != local) al->free(al->ctx, stack, cap * sizeof *stack);
                    stack = grown;
                    cap = ncap;
                    top = &stack[depth - 1];
                }
                stack[depth++] = (hash_frame){c, 0};
                descended = 1;
                break;
            }
            top->next++;
        }
        if (descended) continue;
        if (!(t->flags & VF_UNHASHABLE)) {
            uint64_t h = TAG_TUP ^ t->u.tup.n;
            for (size_t i = 0; i < t->u.tup.n; i++) {
                uint64_t ih;
                hash_direct(t->u.tup.items[i], &ih);
                h = mix64(h ^ ih) + i;
            }
            t->u.tup.hash = h;
            t->flags |= VF_HASHED;
        }
        depth--;
        if (depth && (t->flags & VF_UNHASHABLE))
            stack[depth - 1].node->flags |= VF_UNHASHABLE;
        else if (depth)
            stack[depth - 1].next++;
    }
    if (v->flags & VF_UNHASHABLE)
        result = BRINE_E_UNHASHABLE;
    else
        *out = v->u.tup.hash;
done:
    if (stack != local) al->free(al->ctx, stack, cap * sizeof *stack);
    return result;
}

/* ------------------------------------------------------------------------ */
/* Equality                                                                  */
/* ------------------------------------------------------------------------ */

static int is_numeric(const brine_value *v) {
    return v->kind == BRINE_BOOL || v->kind == BRINE_INT || v->kind == BRINE_FLOAT ||
           v->kind == BRINE_COMPLEX;
}

/* int (or bool) == double, exactly. */
static int int_eq_double(const brine_value *v, double d) {
    if (v->kind == BRINE_BOOL) return d == (double)v->u.boolean;
    if (!(v->flags & VF_BIG)) {
        if (isnan(d) || isinf(d) || d != floor(d)) return 0;
        if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return 0;
        return (int64_t)d == v->u.i;
    }
    bi x = {v->u.big.limbs, v->u.big.n, (v->flags & VF_NEG) != 0};
    return bi_eq_double(&x, d);
}

static int int_eq_int(const brine_value *a, const brine_value *b) {
    uint32_t ta[2], tb[2];
    bi x, y;
    val_int_view(a, ta, &x);
    val_int_view(b, tb, &y);
    return bi_cmp(&x, &y) == 0;
}

/* Numbers: Python compares int, bool, float and complex by value. */
static int numeric_eq(const brine_value *a, const brine_value *b) {
    if (a->kind == BRINE_COMPLEX || b->kind == BRINE_COMPLEX) {
        if (a->kind != BRINE_COMPLEX) {
            const brine_value *t = a;
            a = b;
            b = t;
        }
        double re = pyfloat_from_bits(a->u.c.re), im = pyfloat_from_bits(a->u.c.im);
        if (b->kind == BRINE_COMPLEX)
            return re == pyfloat_from_bits(b->u.c.re) && im == pyfloat_from_bits(b->u.c.im);
        if (im != 0.0) return 0;
        if (b->kind == BRINE_FLOAT) return re == pyfloat_from_bits(b->u.fbits);
        return int_eq_double(b, re);
    }
    if (a->kind == BRINE_FLOAT && b->kind == BRINE_FLOAT)
        return pyfloat_from_bits(a->u.fbits) == pyfloat_from_bits(b->u.fbits);
    if (a->kind == BRINE_FLOAT) return int_eq_double(b, pyfloat_from_bits(a->u.fbits));
    if (b->kind == BRINE_FLOAT) return int_eq_double(a, pyfloat_from_bits(b->u.fbits));
    return int_eq_int(a, b);
}

typedef struct {
    brine_value *a, *b;
} eq_pair;

/* A set of node pairs, used once a comparison gets large. */
typedef struct {
    eq_pair *slots;
    size_t mask, n;
} pair_set;

typedef struct {
    eq_pair local[64];
    eq_pair *items;
    size_t n, cap;
    pair_set seen;
    size_t pushed;
    brine_alloc *al;
} eq_stack;

enum { EQ_DEDUP_AFTER = 4096, EQ_MAX_NESTED = 16 };

static size_t pair_slot(const brine_value *a, const brine_value *b, size_t mask) {
    return (size_t)mix64((uint64_t)(uintptr_t)a * 31 + (uint64_t)(uintptr_t)b) & mask;
}

/* Adds (a, b); returns 1 if new, 0 if present, -1 on allocation failure. */
static int pair_set_add(pair_set *ps, brine_alloc *al, brine_value *a, brine_value *b) {
    if (!ps->slots || (ps->n + 1) * 2 > ps->mask + 1) {
        size_t nslots = ps->slots ? (ps->mask + 1) * 2 : 1024;
        eq_pair *slots = al->malloc(al->ctx, nslots * sizeof *slots);
        if (!slots) return -1;
        memset(slots, 0, nslots * sizeof *slots);
        for (size_t i = 0; ps->slots && i <= ps->mask; i++) {
            if (!ps->slots[i].a) continue;
            size_t j = pair_slot(ps->slots[i].a, ps->slots[i].b, nslots - 1);
            while (slots[j].a)
                j = (j + 1) & (nslots - 1);
            slots[j] = ps->slots[i];
        }
        if (ps->slots) al->free(al->ctx, ps->slots, (ps->mask + 1) * sizeof *ps->slots);
        ps->slots = slots;
        ps->mask = nslots - 1;
    }
    size_t j = pair_slot(a, b, ps->mask);
    while (ps->slots[j].a) {
        if (ps->slots[j].a == a && ps->slots[j].b == b) return 0;
        j = (j + 1) & ps->mask;
    }
    ps->slots[j] = (eq_pair){a, b};
    ps->n++;
    return 1;
}

static int eq_push(eq_stack *s, brine_value *a, brine_value *b) {
    if (a == b) return 1;
    if (++s->pushed > EQ_DEDUP_AFTER) {
        /* Shared substructure can make a naive comparison exponential:
         * compare each distinct pair once. */
        int r = pair_set_add(&s->seen, s->al, a, b);
        if (r <= 0) return r;
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap * 2;
        eq_pair *grown = s->al->malloc(s->al->ctx, ncap * sizeof *grown);
        if (!grown) return -1;
        memcpy(grown, s->items, s->n * sizeof *grown);
        if (s->items != s->local) s->al->free(s->al->ctx, s->items, s->cap * sizeof *s->items);
        s->items = grown;
        s->cap = ncap;
    }
    s->items[s->n++] = (eq_pair){a, b};
    return 1;
}

static int py_eq_nested(brine_doc *doc, brine_value *a, brine_value *b, int nesting);

/* The index of a large table (bdict_aux), NULL while it is small. */
static inline uint64_t *table_index(const bdict *d) {
    return d->aux && d->aux->mask ? d->aux->slots : NULL;
}

/* Index slots: entry number and hash tag. */
static inline uint64_t slot_make(size_t entry, uint64_t h) {
    return (h & 0xffffffff00000000u) | (uint64_t)(entry + 1);
}
static inline int slot_tag_is(uint64_t slot, uint64_t h) {
    return ((slot ^ h) >> 32) == 0;
}
static inline size_t slot_entry(uint64_t slot) {
    return (size_t)(slot & 0xffffffffu) - 1;
}
/* Where the probe for hash h starts: the bits of the top half first, the
 * half a slot keeps, so that a larger index (of fewer than 2^32 slots) is
 * built from the slots alone, without reading an entry or its key. */
static inline size_t slot_home(uint64_t h, size_t mask) {
    return (size_t)((h >> 32) | (h << 32)) & mask;
}
/* Stores slot in the first empty place of the probe from home. */
static inline void slot_place(uint64_t *index, size_t mask, size_t home, uint64_t slot) {
    size_t j = home;
    while (index[j])
        j = (j + 1) & mask;
    index[j] = slot;
}

/* Calls fn for every entry of d whose hash is h (index probe or scan);
 * stops early when fn returns non-zero and returns that value. */
typedef int (*entry_fn)(void *ctx, const bentry *e);
static int for_hash(const bdict *d, uint64_t h, entry_fn fn, void *ctx) {
    const uint64_t *index = table_index(d);
    if (!index) {
        for (size_t i = 0; i < d->n; i++)
            if (entry_hash(&d->entries[i]) == h) {
                int r = fn(ctx, &d->entries[i]);
                if (r) return r;
            }
        return 0;
    }
    const size_t mask = d->aux->mask;
    for (size_t j = slot_home(h, mask); index[j]; j = (j + 1) & mask) {
        if (!slot_tag_is(index[j], h)) continue;
        const bentry *e = &d->entries[slot_entry(index[j])];
        if (entry_hash(e) == h) {
            int r = fn(ctx, e);
            if (r) return r;
        }
    }
    return 0;
}

typedef struct {
    const bentry *want;
    const bentry *only;
    size_t count;
    int identical;
} candidates;

static int count_candidate(void *ctx, const bentry *e) {
    candidates *c = ctx;
    if (e->key == c->want->key) {
        c->identical = 1;
        return 1;
    }
    c->count++;
    c->only = e;
    return 0;
}

typedef struct {
    brine_doc *doc;
    const bentry *want;
    int nesting;
} nested_try;

static int try_candidate(void *ctx, const bentry *e) {
    nested_try *t = ctx;
    int r = py_eq_nested(t->doc, t->want->key, e->key, t->nesting + 1);
    return r; /* 1 stops with a match, -1 stops with an error */
}

/* Queues, for each element of frozenset a, its equal candidate in b. */
static int frozenset_pairs(brine_doc *doc, eq_stack *s, brine_value *a, brine_value *b,
                           int nesting) {
    const bdict *da = &a->u.set, *db = &b->u.set;
    if (da->n != db->n) return 0;
    for (size_t i = 0; i < da->n; i++) {
        const bentry *e = &da->entries[i];
        uint64_t h = entry_hash(e);
        candidates c = {e, NULL, 0, 0};
        for_hash(db, h, count_candidate, &c);
        if (c.identical) continue;
        if (c.count == 0) return 0;
        if (c.count == 1) {
            if (eq_push(s, e->key, c.only->key) < 0) return -1;
            continue;
        }
        /* Several candidates share the hash: try each (rare; bounded). */
        if (nesting >= EQ_MAX_NESTED) return 0;
        nested_try t = {doc, e, nesting};
        int r = for_hash(db, h, try_candidate, &t);
        if (r <= 0) return r;
    }
    return 1;
}

static int py_eq_nested(brine_doc *doc, brine_value *a, brine_value *b, int nesting) {
    if (a == b) return 1;
    eq_stack s;
    s.items = s.local;
    s.n = 0;
    s.cap = sizeof s.local / sizeof s.local[0];
    s.pushed = 0;
    s.al = &doc->arena.alloc;
    s.seen.slots = NULL;
    s.seen.mask = s.seen.n = 0;
    int result = 1;
    s.items[s.n++] = (eq_pair){a, b};
    while (s.n && result == 1) {
        eq_pair p = s.items[--s.n];
        brine_value *x = p.a, *y = p.b;
        if (x == y) continue;
        if (is_numeric(x) && is_numeric(y)) {
            result = numeric_eq(x, y);
            continue;
        }
        if (x->kind != y->kind) {
            result = 0;
            continue;
        }
        switch (x->kind) {
        case BRINE_STR:
        case BRINE_BYTES:
            result = x->u.s.n == y->u.s.n && memcmp(x->u.s.p, y->u.s.p, x->u.s.n) == 0;
            break;
        case BRINE_TUPLE:
            if (x->u.tup.n != y->u.tup.n) {
                result = 0;
                break;
            }
            for (size_t i = x->u.tup.n; i-- > 0 && result == 1;)
                if (eq_push(&s, x->u.tup.items[i], y->u.tup.items[i]) < 0) result = -1;
            break;
        case BRINE_FROZENSET: result = frozenset_pairs(doc, &s, x, y, nesting); break;
        default: result = 0; /* identity-compared kinds, already known distinct */
        }
    }
    if (s.items != s.local) s.al->free(s.al->ctx, s.items, s.cap * sizeof *s.items);
    if (s.seen.slots) s.al->free(s.al->ctx, s.seen.slots, (s.seen.mask + 1) * sizeof(eq_pair));
    return result;
}

int py_eq(brine_doc *doc, brine_value *a, brine_value *b) {
    return py_eq_nested(doc, a, b, 0);
}

/* ------------------------------------------------------------------------ */
/* Dicts and sets                                                            */
/* ------------------------------------------------------------------------ */

static brine_code build_index(brine_doc *doc, bdict *d, size_t nslots) {
    if (nslots > (SIZE_MAX - sizeof(bdict_aux)) / sizeof(uint64_t)) return BRINE_E_NOMEM;
    bdict_aux *aux = arena_zalloc(&doc->arena, sizeof *aux + nslots * sizeof(uint64_t));
    if (!aux) return arena_error(&doc->arena);
    uint64_t *index = aux->slots;
    size_t mask = nslots - 1;
    const uint64_t *old = table_index(d);
    size_t indexed = 0; /* the old index holds entries [0, indexed) */
    if (old && mask <= 0xffffffffu) {
        /* A slot's home in the new index depends on its tag only. */
        for (size_t i = 0, n = d->aux->mask + 1; i < n; i++) {
            if (!old[i]) continue;
            slot_place(index, mask, slot_home(old[i], mask), old[i]);
            indexed++;
        }
    }
    /* The entries the old index does not have: the one just appended, or
     * all of them. */
    for (size_t i = indexed; i < d->n; i++) {
        uint64_t h = entry_hash(&d->entries[i]);
        slot_place(index, mask, slot_home(h, mask), slot_make(i, h));
    }
    aux->mask = mask;
    aux->hash = d->aux ? d->aux->hash : 0;
    d->aux = aux;
    return BRINE_OK;
}

static long find_entry(brine_doc *doc, const bdict *d, brine_value *key, uint64_t h,
                       brine_code *code) {
    const uint64_t *index = table_index(d);
    if (!index) {
        for (size_t i = 0; i < d->n; i++) {
            const bentry *e = &d->entries[i];
            if (e->key == key) return (long)i;
            if (entry_hash(e) == h) {
                int r = py_eq(doc, e->key, key);
                if (r < 0) goto nomem;
                if (r) return (long)i;
            }
        }
        return -1;
    }
    const size_t mask = d->aux->mask;
    for (size_t j = slot_home(h, mask);; j = (j + 1) & mask) {
        uint64_t slot = index[j];
        if (!slot) return -1;
        /* An entry with another hash is neither the key nor equal to it. */
        if (!slot_tag_is(slot, h)) continue;
        size_t at = slot_entry(slot);
        const bentry *e = &d->entries[at];
        if (e->key == key) return (long)at;
        if (entry_hash(e) == h) {
            int r = py_eq(doc, e->key, key);
            if (r < 0) goto nomem;
            if (r) return (long)at;
        }
    }
nomem:
    *code = BRINE_E_NOMEM;
    return -2;
}

long py_lookup(brine_doc *doc, brine_value *container, brine_value *key, brine_code *code) {
    uint64_t h;
    brine_code c = py_hash(doc, key, &h);
    if (c != BRINE_OK) {
        *code = c;
        return -2;
    }
    return find_entry(doc, &container->u.set, key, h, code);
}

void py_prefetch(brine_value *container, brine_value *key) {
#if defined(__GNUC__) || defined(__clang__)
    const bdict *d = &container->u.set;
    uint64_t h;
    /* Only keys whose hash needs no allocation; hashing has no other effect
     * than caching the hash in the key, which insertion would do anyway. */
    const uint64_t *index = table_index(d);
    if (index && key->kind != BRINE_TUPLE && hash_direct(key, &h))
        __builtin_prefetch(&index[slot_home(h, d->aux->mask)]);
#else
    (void)container;
    (void)key;
#endif
}

/* py_hash, with the common case inline: a str or bytes already hashed
 * (memoized keys are, after their first insertion). */
static inline brine_code hash_of(brine_doc *doc, brine_value *v, uint64_t *out) {
    if ((v->kind == BRINE_STR || v->kind == BRINE_BYTES) && (v->flags & VF_HASHED)) {
        *out = v->u.s.hash;
        return BRINE_OK;
    }
    return py_hash(doc, v, out);
}

static brine_code insert(brine_doc *doc, bdict *d, brine_value *key, brine_value *value,
                         int replace_value) {
    uint64_t h;
    brine_code code = hash_of(doc, key, &h);
    if (code != BRINE_OK) return code;
    long at;
    uint64_t *index = table_index(d);
    if (!index) {
        /* Small table: find_entry's scan, inline (most dicts are small). */
        at = -1;
        for (size_t i = 0; i < d->n; i++) {
            const bentry *e = &d->entries[i];
            if (e->key == key) {
                at = (long)i;
                break;
            }
            if (entry_hash(e) == h) {
                int r = py_eq(doc, e->key, key);
                if (r < 0) return BRINE_E_NOMEM;
                if (r) {
                    at = (long)i;
                    break;
                }
            }
        }
    } else {
        at = find_entry(doc, d, key, h, &code);
        if (at == -2) return code;
    }
    if (at >= 0) {
        if (replace_value) d->entries[at].value = value;
        return BRINE_OK;
    }
    if (d->n == d->cap) {
        code = py_table_reserve(doc, d, d->cap ? d->cap : 4);
        if (code != BRINE_OK) return code;
    }
    bentry *e = &d->entries[d->n++];
    e->key = key;
    e->value = value;
    if (d->n > PY_SMALL_TABLE) {
        size_t mask = index ? d->aux->mask : 0;
        if (!index || (size_t)d->n * 3 >= (mask + 1) * 2) {
            size_t nslots = index ? (mask + 1) * 4 : 32;
            while (nslots * 2 < (size_t)d->n * 3)
                nslots *= 2;
            return build_index(doc, d, nslots);
        }
        slot_place(index, mask, slot_home(h, mask), slot_make(d->n - 1, h));
    }
    return BRINE_OK;
}

brine_code py_dict_set(brine_doc *doc, brine_value *dict, brine_value *key, brine_value *value) {
    return insert(doc, &dict->u.set, key, value, 1);
}

brine_code py_set_add(brine_doc *doc, brine_value *set, brine_value *item) {
    return insert(doc, &set->u.set, item, NULL, 0);
}
