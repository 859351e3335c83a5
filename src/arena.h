/*
 * arena.h - the memory of one document, freed in one call.
 *
 * Small allocations are bumped out of chunks; large ones (and arrays that
 * grow past the chunk-friendly size) get blocks of their own that can be
 * resized in place by the allocator. Everything goes when the arena does.
 * A byte cap (0 = none) turns runaway inputs into a clean error.
 */
#ifndef BRINE_ARENA_H
#define BRINE_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "brine.h"

typedef struct arena_chunk arena_chunk;
typedef struct arena_big arena_big;

typedef struct brine_arena {
    brine_alloc alloc;
    arena_chunk *chunks; /* newest first */
    arena_chunk *spare;  /* chunks kept by arena_reset for new_chunk to reuse */
    char *cur;           /* bump pointer in the newest chunk */
    char *end;
    char *last;        /* start of the most recent small allocation */
    size_t next_chunk; /* size of the next chunk to get */
    arena_big *bigs;   /* doubly linked list of large blocks */
    size_t bytes;      /* bytes obtained from the allocator */
    size_t retired;    /* of those, the ends that earlier chunks left unused */
    size_t limit;      /* cap on `bytes`, 0 = none */
    int over_limit;    /* the last failure was the cap, not the allocator */
} brine_arena;

/* The C library allocator, used when a brine_alloc pointer is NULL. */
extern const brine_alloc brine_default_alloc;

void arena_init(brine_arena *a, const brine_alloc *alloc, size_t limit);

/* The bytes of `bytes` that allocations took: all but the unused ends of
 * the chunks (which the system does not back until they are written).
 * Blocks abandoned by arena_grow count as taken. */
static inline size_t arena_used(const brine_arena *a) {
    return a->bytes - a->retired - (size_t)(a->end - a->cur);
}

/* Asks the system to back the untouched block [p, p + size), just obtained
 * from `alloc`, with huge pages where it can (Linux, the C library's
 * allocator, blocks of 4 MB and more); a hint that never fails. */
void arena_advise_huge(const brine_alloc *alloc, void *p, size_t size);
void arena_free_all(brine_arena *a);

/* Gives back every block at once but keeps the chunks, untouched by the
 * allocator, for the allocations that follow: a chunk of the size a fresh
 * arena would ask for is taken from them instead, and counted in `bytes`
 * as if it were new, so that caps are reached where they would be in a
 * fresh arena. Large blocks are freed. `limit` is the new cap (0 = none).
 * Kept chunks are freed by arena_free_all. */
void arena_reset(brine_arena *a, size_t limit);

/* Frees the chunks arena_reset kept that were not used again. */
void arena_drop_spare(brine_arena *a);

/* 8-byte aligned, uninitialized. NULL on failure (a->over_limit tells why). */
void *arena_alloc_slow(brine_arena *a, size_t size);
static inline void *arena_alloc(brine_arena *a, size_t size) {
    /* The common case, inline: a small block that fits the current chunk. */
    size_t rounded = (size + 7) & ~(size_t)7;
    if (size - 1 < 4096 && (size_t)(a->end - a->cur) >= rounded) {
        void *p = a->cur;
        a->last = a->cur;
        a->cur += rounded;
        return p;
    }
    return arena_alloc_slow(a, size);
}
void *arena_zalloc(brine_arena *a, size_t size);

/* Resizes a block from arena_alloc/arena_grow (or NULL) to new_size bytes,
 * keeping min(old_size, new_size) bytes. The old block must not be used
 * afterwards. NULL on failure, in which case the old block is untouched.
 * arena_grow_slow is the case of a block (p not NULL). */
void *arena_grow_slow(brine_arena *a, void *p, size_t old_size, size_t new_size);
static inline void *arena_grow(brine_arena *a, void *p, size_t old_size, size_t new_size) {
    /* Growing from nothing (a table's or a list's first block), inline. */
    return p ? arena_grow_slow(a, p, old_size, new_size) : arena_alloc(a, new_size);
}

/* Walks the chunks that hold the small blocks (every block of less than
 * 16 KB, so every node but those of long strs and bytes), newest first: `it` is NULL for the first
 * call, then the previous return value. Each call sets [*lo, *hi) to one chunk's usable bytes; NULL
 * after the last. New chunks go to the front, so a walk that stops at the chunk a previous walk
 * started from sees exactly the chunks added since. */
const void *arena_chunk_next(const brine_arena *a, const void *it, const char **lo,
                             const char **hi);

/* Copies n <= 32 bytes without a call: the short strs and bytes that most
 * pickles are made of would spend more in memcpy's dispatch than in the
 * copy. Overlapping loads and stores, all within both ranges (the decoder's
 * arena_dup and the encoder's output both use it). */
static inline void copy_short(uint8_t *dst, const uint8_t *src, size_t n) {
    if (n >= 16) {
        uint8_t a[16], b[16];
        memcpy(a, src, 16);
        memcpy(b, src + n - 16, 16);
        memcpy(dst, a, 16);
        memcpy(dst + n - 16, b, 16);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else if (n) {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

/* Copies n bytes into the arena (arena_alloc's block, NULL on failure). */
static inline void *arena_dup(brine_arena *a, const void *p, size_t n) {
    uint8_t *q = arena_alloc(a, n);
    if (!q || !n) return q;
    if (n <= 32)
        copy_short(q, p, n);
    else
        memcpy(q, p, n);
    return q;
}

/* The error code for the last failure: BRINE_E_LIMIT_MEMORY or BRINE_E_NOMEM. */
brine_code arena_error(const brine_arena *a);

#endif
