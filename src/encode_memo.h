/*
 * encode_memo.h - the memo's fast paths, inline: every save of a str, bytes
 * or container looks its node up, and most of them memoize it.
 *
 * A node's entry is found from its address alone: a hint per 2 MB of
 * address names the arena chunk last found there, and (address - chunk
 * start) / 32 is the node's slot in the chunk's arrays (encode.h,
 * ememo_chunk). The index is the slot's 16-bit entry added to its page's
 * 32-bit base. Anything else (another chunk, a chunk without arrays yet,
 * an index the entry cannot hold, a node moved to the ptrmap) takes the
 * slow paths of encode_memo.c, which say how the arrays are laid out.
 */
#ifndef BRINE_ENCODE_MEMO_H
#define BRINE_ENCODE_MEMO_H

#include "encode.h"

/* Sets up the memo (the document's chunks); 0, or -1 (encoder error set). */
int enc_memo_init(encoder *e);
/* Frees the memo's memory. */
void enc_memo_free(encoder *e);

/* Which hint an address uses: one per 2 MB, so that lookups alternating
 * between a few places (the keys made early, the record being written)
 * each find their chunk at once. */
static inline size_t enc_memo_hint(uintptr_t a) {
    return (a >> 21) & (EMEMO_HINTS - 1);
}
/* The chunk of node when it is the hinted one and has arrays, else NULL
 * (the slow paths then find out); *slot is node's place in it. Every hint
 * points into chunks, which has an element from the start, so that it can
 * be read before anything was added. */
static inline const ememo_chunk *enc_memo_chunk_fast(const encoder *e, const brine_value *node,
                                                     size_t *slot) {
    uintptr_t a = (uintptr_t)node;
    const ememo_chunk *c = e->memo.hint[enc_memo_hint(a)];
    uintptr_t off = a - c->lo;
    if (off >= c->span) return NULL;
    *slot = off >> EMEMO_SHIFT;
    return c;
}
/* Puts index idx (the memo's size) at entry `slot` of chunk c when the
 * arrays can hold it: 1, else 0 (the node then goes to `other`). */
static inline int enc_memo_set(encoder *e, const ememo_chunk *c, size_t slot, uint64_t idx) {
    uint16_t *entry = &c->idx[slot];
    uint32_t *base = &c->base[slot >> EMEMO_PAGE_SHIFT];
    if (*entry == EMEMO_ELSEWHERE || idx >= UINT32_MAX - 1) return 0;
    if (!*base) *base = (uint32_t)(idx + 1);
    uint64_t d = idx + 2 - *base;
    if (d >= EMEMO_ELSEWHERE) return 0;
    /* PyMemoTable_Set on a key already present replaces its index with
     * the table size without growing the table. */
    if (!*entry) e->memo_len++;
    *entry = (uint16_t)d;
    return 1;
}
/* Clears recent_more (enc_memo_gen_bump's slow path). */
void enc_forget_recent(encoder *e);
/* memo_gen++ for a memo_put of an object that can be fetched again: the
 * saves in progress are no longer recent. */
static inline void enc_memo_gen_bump(encoder *e) {
    e->memo_gen++;
    if (e->nrecent > ENC_RECENT) enc_forget_recent(e);
    e->nrecent = 0;
}
int64_t enc_memo_index_slow(encoder *e, const brine_value *node);
int enc_memoize_slow(encoder *e, const brine_value *node);
/* memo_put's opcode for index idx (the put itself is done). */
int enc_write_put(encoder *e, uint64_t idx);
/* The memo index of node, or -1 when it is not memoized. */
static inline int64_t enc_memo_index(encoder *e, const brine_value *node) {
    size_t slot;
    const ememo_chunk *c = enc_memo_chunk_fast(e, node, &slot);
    if (c) {
        uint32_t v = c->idx[slot];
        if (!v) return -1;
        if (v != EMEMO_ELSEWHERE) return (int64_t)c->base[slot >> EMEMO_PAGE_SHIFT] + v - 2;
    }
    return enc_memo_index_slow(e, node);
}
/* memo_put for node (NULL: a fresh object that takes an index). */
static inline int enc_memoize(encoder *e, const brine_value *node) {
    uint64_t idx = e->memo_len;
    size_t slot;
    const ememo_chunk *c = node ? enc_memo_chunk_fast(e, node, &slot) : NULL;
    if (!c || !enc_memo_set(e, c, slot, idx)) return enc_memoize_slow(e, node);
    if (node->spare != ENC_FRESH) enc_memo_gen_bump(e);
    if (e->proto >= 4) return out_byte(e, OP_MEMOIZE);
    return enc_write_put(e, idx);
}

/* enc_write_get for what BINGET cannot fetch: GET, LONG_BINGET. */
int enc_write_get_long(encoder *e, uint64_t index);
/* memo_get: writes GET / BINGET / LONG_BINGET for a memoized node. */
static inline int enc_write_get(encoder *e, uint64_t index) {
    if (index >= 256 || e->proto == 0) return enc_write_get_long(e, index);
    uint8_t *p = out_reserve(e, 2);
    if (!p) return -1;
    p[0] = OP_BINGET;
    p[1] = (uint8_t)index;
    return 0;
}

#endif
