/*
 * encode_memo.c - the pickler's memo (node -> memo index) and the opcodes
 * that put to it and get from it.
 *
 * CPython keys its memo by object address in a hash table; a hash of node
 * pointers spreads the nodes of a large graph over a table that misses the
 * cache on every lookup. Nodes live in the chunks of an arena (the
 * document's, or the encoder's own for private nodes) and are 32 bytes
 * each, so (address - chunk start) / 32 numbers the nodes of a chunk
 * densely and without collisions: the memo is an array of entries per
 * chunk, zeroed when the chunk's first node is memoized, and a save in
 * graph order walks those arrays in order too.
 *
 * Entries are 16 bits, an offset from a 32-bit base per page of 128
 * entries (4 KB of arena): the nodes of a page are made together and
 * mostly written together, so their indices are close. The arrays take a
 * sixteenth of the arena instead of an eighth: fewer pages to fault in,
 * and the caller's output buffer, which grows while the memo does, finds
 * the memory the allocator kept from the previous pickle. A node whose
 * index is too far past its page's base, a node outside every chunk (a
 * str or bytes of 16 KB or more, made in one block with its data) and
 * indices past 32 bits go to a ptrmap.
 *
 * The memo maps identities only; its layout never shows in the output.
 */
#include <string.h>

#include "encode.h"
#include "encode_memo.h"

_Static_assert(sizeof(brine_value) >= (1u << EMEMO_SHIFT), "nodes must not share a memo entry");

static void reset_hints(ememo *m) {
    for (size_t i = 0; i < EMEMO_HINTS; i++)
        m->hint[i] = m->chunks;
}

/* Inserts the chunk [lo, hi), keeping the array sorted. 0, or -1. */
static int add_chunk(encoder *e, uintptr_t lo, uintptr_t hi) {
    ememo *m = &e->memo;
    if (m->n == m->cap) {
        ememo_chunk *c = enc_grow(e, m->chunks, &m->cap, sizeof *c, 32);
        if (!c) return -1;
        m->chunks = c;
    }
    size_t i = m->n;
    while (i > 0 && m->chunks[i - 1].lo > lo) {
        m->chunks[i] = m->chunks[i - 1];
        i--;
    }
    m->chunks[i] = (ememo_chunk){lo, hi, 0, NULL, NULL, NULL};
    m->n++;
    /* The hints point into the array, which just moved. */
    reset_hints(m);
    return 0;
}

/* Adds the chunks arena `a` got since the walk that started at *seen. */
static int add_new_chunks(encoder *e, const brine_arena *a, const void **seen) {
    const char *lo, *hi;
    const void *first = NULL;
    for (const void *it = arena_chunk_next(a, NULL, &lo, &hi); it && it != *seen;
         it = arena_chunk_next(a, it, &lo, &hi)) {
        if (!first) first = it;
        if (add_chunk(e, (uintptr_t)lo, (uintptr_t)hi) < 0) return -1;
    }
    if (first) *seen = first;
    return 0;
}

/* Bytes of the arrays of chunk c: its page bases, then its entries (kept
 * a multiple of 4, so that the next chunk's bases stay aligned). */
static size_t arrays_size(const ememo_chunk *c) {
    size_t slots = ((c->hi - c->lo) >> EMEMO_SHIFT) + 1;
    size_t pages = (slots >> EMEMO_PAGE_SHIFT) + 1;
    return pages * sizeof(uint32_t) + ((slots + 1) & ~(size_t)1) * sizeof(uint16_t);
}

int enc_memo_init(encoder *e) {
    ememo *m = &e->memo;
    ptrmap_init(&m->other, &e->alloc);
    /* chunks[0] exists from the start (an empty range until a chunk is
     * added), so that enc_memo_chunk_fast never checks for it. */
    m->chunks = e->alloc.malloc(e->alloc.ctx, 32 * sizeof *m->chunks);
    if (!m->chunks) return enc_fail(e, BRINE_E_NOMEM, NULL);
    m->cap = 32;
    m->chunks[0] = (ememo_chunk){0, 0, 0, NULL, NULL, NULL};
    reset_hints(m);
    if (add_new_chunks(e, &e->doc->arena, &m->seen_doc) < 0) return -1;
    /* One block for the document's chunks, touched only where a chunk
     * gets its first memoized node. */
    size_t total = 0;
    for (size_t i = 0; i < m->n; i++)
        total += arrays_size(&m->chunks[i]);
    if (!total) return 0;
    m->block = e->alloc.malloc(e->alloc.ctx, total);
    if (!m->block) return enc_fail(e, BRINE_E_NOMEM, NULL);
    m->block_size = total;
    char *p = m->block;
    for (size_t i = 0; i < m->n; i++) {
        m->chunks[i].res = p;
        p += arrays_size(&m->chunks[i]);
    }
    return 0;
}

void enc_memo_free(encoder *e) {
    ememo *m = &e->memo;
    for (size_t i = 0; i < m->n; i++)
        if (m->chunks[i].base && !m->chunks[i].res)
            e->alloc.free(e->alloc.ctx, m->chunks[i].base, arrays_size(&m->chunks[i]));
    if (m->chunks) e->alloc.free(e->alloc.ctx, m->chunks, m->cap * sizeof *m->chunks);
    if (m->block) e->alloc.free(e->alloc.ctx, m->block, m->block_size);
    ptrmap_free(&m->other);
    memset(m, 0, sizeof *m);
}

/* The chunk holding address a, or NULL. */
static ememo_chunk *find_chunk(ememo *m, uintptr_t a) {
    if (!m->n) return NULL;
    size_t h = enc_memo_hint(a);
    const ememo_chunk *c = m->hint[h];
    if (a - c->lo < c->hi - c->lo) return &m->chunks[c - m->chunks];
    size_t lo = 0, n = m->n;
    while (n > 1) {
        size_t half = n / 2;
        if (m->chunks[lo + half].lo <= a) lo += half;
        n -= half;
    }
    if (a - m->chunks[lo].lo >= m->chunks[lo].hi - m->chunks[lo].lo) return NULL;
    m->hint[h] = &m->chunks[lo];
    return &m->chunks[lo];
}

int64_t enc_memo_index_slow(encoder *e, const brine_value *node) {
    uintptr_t a = (uintptr_t)node;
    ememo_chunk *c = find_chunk(&e->memo, a);
    if (c) {
        if (!c->idx) return -1;
        size_t slot = (a - c->lo) >> EMEMO_SHIFT;
        uint32_t v = c->idx[slot];
        if (!v) return -1;
        if (v != EMEMO_ELSEWHERE) return (int64_t)c->base[slot >> EMEMO_PAGE_SHIFT] + v - 2;
    }
    if (!e->memo.other.n) return -1;
    const uint64_t *slot = ptrmap_get(&e->memo.other, node);
    return slot && *slot ? (int64_t)(*slot - 1) : -1;
}

/* The chunk of node with its arrays (made when missing), or NULL when node
 * is in no chunk; -1 in *rc when out of memory. */
static ememo_chunk *chunk_of(encoder *e, const brine_value *node, int *rc) {
    ememo *m = &e->memo;
    uintptr_t a = (uintptr_t)node;
    ememo_chunk *c = find_chunk(m, a);
    if (!c) {
        /* Private nodes live in the encoder's arena, which grows. */
        if (add_new_chunks(e, &e->arena, &m->seen_enc) < 0) {
            *rc = -1;
            return NULL;
        }
        c = find_chunk(m, a);
        if (!c) return NULL;
    }
    if (!c->idx) {
        size_t size = arrays_size(c);
        void *p = c->res ? c->res : e->alloc.malloc(e->alloc.ctx, size);
        if (!p) {
            *rc = enc_fail(e, BRINE_E_NOMEM, NULL);
            return NULL;
        }
        memset(p, 0, size);
        size_t slots = ((c->hi - c->lo) >> EMEMO_SHIFT) + 1;
        c->base = p;
        c->idx = (uint16_t *)(c->base + (slots >> EMEMO_PAGE_SHIFT) + 1);
        c->span = c->hi - c->lo;
    }
    return c;
}

/* A memo opcode for index idx: its 1-byte form (BINPUT, BINGET) below 256
 * from protocol 1, its 4-byte form (LONG_) up to 2^32 - 1, its protocol 0
 * text form (PUT, GET) in decimal. too_large is the error beyond that. */
static inline int write_memo_op(encoder *e, uint64_t idx, uint8_t text_op, uint8_t op1, uint8_t op4,
                                const char *too_large) {
    if (e->proto == 0) return enc_write_decimal_line(e, text_op, 0, idx);
    if (idx < 256) {
        uint8_t *p = out_reserve(e, 2);
        if (!p) return -1;
        p[0] = op1;
        p[1] = (uint8_t)idx;
        return 0;
    }
    if (idx > 0xffffffffu) return enc_fail(e, BRINE_E_PICKLING, too_large);
    uint8_t b[5] = {op4};
    for (int i = 0; i < 4; i++)
        b[1 + i] = (uint8_t)(idx >> (8 * i));
    return out_write(e, b, 5);
}

/* PUT / BINPUT / LONG_BINPUT / MEMOIZE with the index memo_put uses. */
int enc_write_put(encoder *e, uint64_t idx) {
    if (e->proto >= 4) return out_byte(e, OP_MEMOIZE);
    return write_memo_op(e, idx, OP_PUT, OP_BINPUT, OP_LONG_BINPUT,
                         "memo id too large for LONG_BINPUT");
}

int enc_memoize_slow(encoder *e, const brine_value *node) {
    uint64_t idx = e->memo_len;
    if (node) {
        int rc = 0;
        ememo_chunk *c = chunk_of(e, node, &rc);
        if (rc < 0) return -1;
        size_t at = c ? ((uintptr_t)node - c->lo) >> EMEMO_SHIFT : 0;
        if (!c || !enc_memo_set(e, c, at, idx)) {
            /* The node moves to `other` for good; an index it had in its
             * chunk goes with it. */
            uint64_t *slot = ptrmap_put(&e->memo.other, node, NULL);
            if (!slot) return enc_fail(e, BRINE_E_NOMEM, NULL);
            if (c) {
                uint16_t *entry = &c->idx[at];
                if (*entry && *entry != EMEMO_ELSEWHERE)
                    *slot = (uint64_t)c->base[at >> EMEMO_PAGE_SHIFT] + *entry - 1;
                *entry = EMEMO_ELSEWHERE;
            }
            if (!*slot) e->memo_len++;
            *slot = idx + 1;
        }
        if (node->spare != ENC_FRESH) enc_memo_gen_bump(e);
    } else {
        e->memo_len++;
    }
    return enc_write_put(e, idx);
}

int enc_write_get_long(encoder *e, uint64_t idx) {
    return write_memo_op(e, idx, OP_GET, OP_BINGET, OP_LONG_BINGET,
                         "memo id too large for LONG_BINGET");
}
