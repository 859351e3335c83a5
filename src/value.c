/*
 * value.c - documents, nodes and their constructors.
 *
 * Identity follows CPython 3.11, because the canonical text and the encoder
 * both depend on which nodes are the same object: None, True and False,
 * the small ints, the empty str and one-character strs below U+0100, the
 * empty bytes, one-byte bytes made by copying constructors and the empty
 * tuple are per-document singletons; everything else is a fresh node.
 */
#include "value.h"

#include <string.h>

#include "bigint.h"

int ptrvec_push(brine_arena *a, ptrvec *v, brine_value *item) {
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 16;
        brine_value **items = arena_grow(a, v->items, v->cap * sizeof *items, ncap * sizeof *items);
        if (!items) return 0;
        v->items = items;
        v->cap = ncap;
    }
    v->items[v->n++] = item;
    return 1;
}

size_t wtf8_count(const char *p, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80) count++;
    return count;
}

/* ------------------------------------------------------------------------ */
/* Documents                                                                 */
/* ------------------------------------------------------------------------ */

/* Everything but the arena: no values, the three singletons. */
static void doc_init_values(brine_doc *doc) {
    brine_arena arena = doc->arena;
    memset(doc, 0, sizeof *doc);
    doc->arena = arena;
    doc->none.kind = BRINE_NONE;
    doc->none.flags = VF_SINGLETON;
    doc->t.kind = BRINE_BOOL;
    doc->t.flags = VF_SINGLETON;
    doc->t.u.boolean = 1;
    doc->f.kind = BRINE_BOOL;
    doc->f.flags = VF_SINGLETON;
    doc->f.u.boolean = 0;
}

static brine_doc *doc_create(const brine_alloc *alloc, size_t limit) {
    const brine_alloc *al = alloc ? alloc : &brine_default_alloc;
    brine_doc *doc = al->malloc(al->ctx, sizeof *doc);
    if (!doc) return NULL;
    arena_init(&doc->arena, al, limit);
    doc_init_values(doc);
    return doc;
}

void doc_reset(brine_doc *doc, size_t limit) {
    arena_reset(&doc->arena, limit);
    doc_init_values(doc);
}

brine_doc *brine_doc_new(const brine_alloc *alloc) {
    return doc_create(alloc, 0);
}

brine_doc *doc_new_limited(const brine_alloc *alloc, size_t limit) {
    return doc_create(alloc, limit);
}

void brine_doc_free(brine_doc *doc) {
    if (!doc) return;
    brine_alloc al = doc->arena.alloc;
    arena_free_all(&doc->arena);
    al.free(al.ctx, doc, sizeof *doc);
}

brine_value *brine_doc_root(const brine_doc *doc) {
    return doc->root;
}

void brine_doc_set_root(brine_doc *doc, brine_value *v) {
    doc->root = v;
}

size_t brine_doc_discarded_count(const brine_doc *doc) {
    return doc->discarded.n;
}

brine_value *brine_doc_discarded(const brine_doc *doc, size_t i) {
    return i < doc->discarded.n ? doc->discarded.items[i] : NULL;
}

int brine_doc_add_discarded(brine_doc *doc, brine_value *v) {
    return ptrvec_push(&doc->arena, &doc->discarded, v) ? 0 : -1;
}

void brine_doc_stats(const brine_doc *doc, size_t *nodes, size_t *bytes) {
    if (nodes) *nodes = doc->nodes;
    if (bytes) *bytes = doc->arena.bytes;
}

size_t brine_doc_used_bytes(const brine_doc *doc) {
    return arena_used(&doc->arena);
}

/* ------------------------------------------------------------------------ */
/* Node constructors                                                         */
/* ------------------------------------------------------------------------ */

brine_value *val_small_int(brine_doc *doc, int64_t i) {
    brine_value **slot = &doc->small_ints[i - SMALL_INT_MIN];
    if (!*slot) {
        *slot = val_new(doc, BRINE_INT);
        if (!*slot) return NULL;
        (*slot)->flags = VF_SINGLETON;
        (*slot)->u.i = i;
    }
    return *slot;
}

brine_value *val_frozenset(brine_doc *doc) {
    brine_value *v = val_new(doc, BRINE_FROZENSET);
    if (!v) return NULL;
    /* The hash is cached in aux (hashing cannot allocate): made now. */
    v->u.set.aux = arena_alloc(&doc->arena, sizeof *v->u.set.aux);
    if (!v->u.set.aux) return NULL;
    memset(v->u.set.aux, 0, sizeof *v->u.set.aux);
    return v;
}

brine_value *val_int_limbs(brine_doc *doc, uint32_t *limbs, size_t n, int neg) {
    while (n && limbs[n - 1] == 0)
        n--;
    bi x = {limbs, n, n ? neg : 0};
    int64_t small;
    if (bi_to_i64(&x, &small)) return val_int64(doc, small);
    brine_value *v = val_new(doc, BRINE_INT);
    if (!v) return NULL;
    v->flags = VF_BIG | (x.neg ? VF_NEG : 0);
    v->u.big.limbs = limbs;
    v->u.big.n = n;
    return v;
}

void val_int_view(const brine_value *v, uint32_t tmp[2], bi *out) {
    if (v->kind == BRINE_BOOL) {
        bi_from_i64(v->u.boolean, tmp, out);
    } else if (v->flags & VF_BIG) {
        out->limbs = v->u.big.limbs;
        out->n = v->u.big.n;
        out->neg = (v->flags & VF_NEG) != 0;
    } else {
        bi_from_i64(v->u.i, tmp, out);
    }
}

/* The singleton slot for a str of ncp code points (256 for ''), or -1. */
static int str_singleton_slot(const char *p, size_t n, size_t ncp) {
    if (ncp == 0) return 256;
    if (ncp != 1) return -1;
    const unsigned char *u = (const unsigned char *)p;
    if (n == 1) return u[0];
    if (n == 2 && (u[0] & 0xE0) == 0xC0) {
        unsigned cp = ((u[0] & 0x1Fu) << 6) | (u[1] & 0x3Fu);
        return cp < 256 ? (int)cp : -1;
    }
    return -1;
}

brine_value *val_str_owned(brine_doc *doc, const char *p, size_t n, size_t ncp, int borrowed) {
    int slot_no = str_singleton_slot(p, n, ncp);
    if (slot_no >= 0) {
        brine_value **slot = &doc->str1[slot_no];
        if (!*slot) {
            *slot = val_new(doc, BRINE_STR);
            if (!*slot) return NULL;
            (*slot)->flags = VF_SINGLETON | (borrowed ? VF_BORROWED : 0);
            (*slot)->u.s.p = p;
            (*slot)->u.s.n = n;
        }
        return *slot;
    }
    brine_value *v = val_new(doc, BRINE_STR);
    if (!v) return NULL;
    v->flags = borrowed ? VF_BORROWED : 0;
    v->u.s.p = p;
    v->u.s.n = n;
    return v;
}

brine_value *val_str_copy_short(brine_doc *doc, const char *p, size_t n, size_t ncp) {
    int slot_no = str_singleton_slot(p, n, ncp);
    if (slot_no >= 0 && doc->str1[slot_no]) return doc->str1[slot_no];
    char *q = arena_dup(&doc->arena, p, n);
    return q ? val_str_owned(doc, q, n, ncp, 0) : NULL;
}

static brine_value *bytes_singleton(brine_doc *doc, size_t slot_no, const uint8_t *p, size_t n) {
    brine_value **slot = &doc->bytes1[slot_no];
    if (!*slot) {
        *slot = val_bytes_node(doc, p, n, 0);
        if (*slot) (*slot)->flags |= VF_SINGLETON;
    }
    return *slot;
}

brine_value *val_bytes_copy(brine_doc *doc, const uint8_t *p, size_t n) {
    if (n == 0) return bytes_singleton(doc, 256, p, 0);
    if (n == 1) return bytes_singleton(doc, p[0], p, 1);
    return val_bytes_node(doc, p, n, 0);
}

brine_value *val_bytes_owned(brine_doc *doc, uint8_t *p, size_t n) {
    if (n <= 1) return val_bytes_copy(doc, p, n);
    brine_value *v = val_new(doc, BRINE_BYTES);
    if (!v) return NULL;
    v->u.s.p = (const char *)p;
    v->u.s.n = n;
    return v;
}

brine_value *val_bytearray(brine_doc *doc, const uint8_t *p, size_t n) {
    brine_value *v = val_new(doc, BRINE_BYTEARRAY);
    if (!v) return NULL;
    if (n) {
        v->u.ba.p = arena_dup(&doc->arena, p, n);
        if (!v->u.ba.p) return NULL;
    }
    v->u.ba.n = v->u.ba.cap = n;
    return v;
}

brine_value *val_tuple_owned(brine_doc *doc, brine_value **items, size_t n) {
    if (n == 0) {
        if (!doc->empty_tuple) {
            doc->empty_tuple = val_new(doc, BRINE_TUPLE);
            if (doc->empty_tuple) doc->empty_tuple->flags = VF_SINGLETON;
        }
        return doc->empty_tuple;
    }
    brine_value *v = val_new(doc, BRINE_TUPLE);
    if (!v) return NULL;
    v->u.tup.items = items;
    v->u.tup.n = n;
    return v;
}

brine_value *val_tuple_copy(brine_doc *doc, brine_value *const *items, size_t n) {
    if (n == 0) return val_tuple_owned(doc, NULL, 0);
    brine_value **copy = arena_dup(&doc->arena, items, n * sizeof *items);
    return copy ? val_tuple_owned(doc, copy, n) : NULL;
}

brine_value *val_list_copy(brine_doc *doc, brine_value *const *items, size_t n) {
    brine_value *v = val_new(doc, BRINE_LIST);
    if (!v) return NULL;
    if (n) {
        v->u.list.items = arena_dup(&doc->arena, items, n * sizeof *items);
        if (!v->u.list.items) return NULL;
    }
    v->u.list.n = v->u.list.cap = n;
    return v;
}

brine_code list_extend(brine_doc *doc, brine_value *list, brine_value *const *items, size_t n) {
    size_t need = list->u.list.n + n;
    if (need > list->u.list.cap) {
        /* An empty list gets exactly what it needs: lists of one item (a
         * nested chain's every level) then take 8 bytes, not 32. Growth
         * doubles from 4 on, as the arena cannot reuse what it leaves. */
        size_t cap = list->u.list.cap, ncap = cap == 0 ? need : cap < 2 ? 4 : 2 * cap;
        while (ncap < need)
            ncap *= 2;
        brine_value **grown = arena_grow(&doc->arena, list->u.list.items,
                                         list->u.list.cap * sizeof *grown, ncap * sizeof *grown);
        if (!grown) return arena_error(&doc->arena);
        list->u.list.items = grown;
        list->u.list.cap = ncap;
    }
    memcpy(list->u.list.items + list->u.list.n, items, n * sizeof *items);
    list->u.list.n = need;
    return BRINE_OK;
}

brine_code bytearray_extend(brine_doc *doc, brine_value *ba, const uint8_t *p, size_t n) {
    size_t need = ba->u.ba.n + n;
    if (need > ba->u.ba.cap) {
        size_t ncap = ba->u.ba.cap ? ba->u.ba.cap : 8;
        while (ncap < need)
            ncap *= 2;
        uint8_t *grown = arena_grow(&doc->arena, ba->u.ba.p, ba->u.ba.cap, ncap);
        if (!grown) return arena_error(&doc->arena);
        ba->u.ba.p = grown;
        ba->u.ba.cap = ncap;
    }
    memcpy(ba->u.ba.p + ba->u.ba.n, p, n);
    ba->u.ba.n = need;
    return BRINE_OK;
}

oplog *val_oplog(brine_value *v) {
    if (v->kind == BRINE_GLOBAL) return &v->u.g->log;
    if (v->kind == BRINE_OBJECT) return &v->u.o->log;
    return NULL;
}

brine_code oplog_add(brine_doc *doc, oplog *log, brine_op_kind kind, brine_value *a,
                     brine_value *b) {
    if (log->n == log->cap) {
        uint32_t ncap = log->cap ? log->cap * 2 : 4;
        oprec *ops =
            arena_grow(&doc->arena, log->ops, log->cap * sizeof *ops, (size_t)ncap * sizeof *ops);
        if (!ops) return arena_error(&doc->arena);
        log->ops = ops;
        log->cap = ncap;
    }
    oprec *op = &log->ops[log->n++];
    op->kind = (uint8_t)kind;
    op->a = a;
    op->b = b;
    return BRINE_OK;
}

static uint64_t name_hash(const char *m, size_t mlen, const char *n, size_t nlen) {
    uint64_t h = 0x9E3779B97F4A7C15u ^ mlen;
    for (size_t i = 0; i < mlen; i++)
        h = (h ^ (unsigned char)m[i]) * 0x100000001B3u;
    h ^= 0xFF;
    for (size_t i = 0; i < nlen; i++)
        h = (h ^ (unsigned char)n[i]) * 0x100000001B3u;
    return h ^ (h >> 29);
}

static int globals_grow(brine_doc *doc) {
    size_t nslots = doc->globals_mask ? (doc->globals_mask + 1) * 2 : 16;
    brine_value **slots = arena_zalloc(&doc->arena, nslots * sizeof *slots);
    if (!slots) return 0;
    if (doc->globals) {
        for (size_t i = 0; i <= doc->globals_mask; i++) {
            brine_value *g = doc->globals[i];
            while (g) {
                brine_value *next = g->u.g->next;
                size_t j = g->u.g->name_hash & (nslots - 1);
                g->u.g->next = slots[j];
                slots[j] = g;
                g = next;
            }
        }
    }
    doc->globals = slots;
    doc->globals_mask = nslots - 1;
    return 1;
}

brine_value *val_global(brine_doc *doc, const char *module, size_t mlen, const char *name,
                        size_t nlen, brine_value *module_str, brine_value *name_str) {
    uint64_t h = name_hash(module, mlen, name, nlen);
    if (doc->globals) {
        for (brine_value *g = doc->globals[h & doc->globals_mask]; g; g = g->u.g->next) {
            bglobal *gl = g->u.g;
            if (gl->name_hash == h && gl->mlen == mlen && gl->nlen == nlen &&
                memcmp(gl->module, module, mlen) == 0 && memcmp(gl->name, name, nlen) == 0)
                return g;
        }
    }
    if (doc->nglobals * 2 >= doc->globals_mask && !globals_grow(doc)) return NULL;
    brine_value *v = val_new(doc, BRINE_GLOBAL);
    bglobal *gl = v ? arena_zalloc(&doc->arena, sizeof *gl) : NULL;
    char *m = gl ? arena_dup(&doc->arena, module, mlen) : NULL;
    char *n = m || !mlen ? arena_dup(&doc->arena, name, nlen) : NULL;
    if (!gl || (mlen && !m) || (nlen && !n)) return NULL;
    gl->module = m;
    gl->mlen = mlen;
    gl->name = n;
    gl->nlen = nlen;
    gl->name_hash = h;
    gl->module_str = module_str ? module_str : val_str_copy(doc, m, mlen, wtf8_count(m, mlen));
    gl->name_str = name_str ? name_str : val_str_copy(doc, n, nlen, wtf8_count(n, nlen));
    if (!gl->module_str || !gl->name_str) return NULL;
    v->u.g = gl;
    size_t j = h & doc->globals_mask;
    gl->next = doc->globals[j];
    doc->globals[j] = v;
    doc->nglobals++;
    return v;
}

brine_value *val_object(brine_doc *doc, brine_make make, uint8_t opcode, brine_value *callable,
                        brine_value *const *args, size_t nargs, brine_value *const *kwkeys,
                        brine_value *const *kwvals, size_t nkw) {
    brine_value *v = val_new(doc, BRINE_OBJECT);
    bobject *o = v ? arena_zalloc(&doc->arena, sizeof *o) : NULL;
    if (!o) return NULL;
    o->callable = callable;
    o->make = (uint8_t)make;
    o->opcode = opcode;
    o->nargs = (uint32_t)nargs;
    o->nkw = (uint32_t)nkw;
    if (nargs && !(o->args = arena_dup(&doc->arena, args, nargs * sizeof *args))) return NULL;
    if (nkw) {
        o->kwkeys = arena_dup(&doc->arena, kwkeys, nkw * sizeof *kwkeys);
        o->kwvals = arena_dup(&doc->arena, kwvals, nkw * sizeof *kwvals);
        if (!o->kwkeys || !o->kwvals) return NULL;
    }
    v->u.o = o;
    if (!ptrvec_push(&doc->arena, &doc->created, v)) return NULL;
    return v;
}

brine_value *val_persid(brine_doc *doc, brine_value *pid) {
    brine_value *v = val_new(doc, BRINE_PERSID);
    if (!v) return NULL;
    v->u.pid = pid;
    if (!ptrvec_push(&doc->arena, &doc->created, v)) return NULL;
    return v;
}
