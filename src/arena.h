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
    size_t limit;      /* cap on `bytes`, 0 = none */
    int over_limit;    /* the last failure was the cap, not the allocator */
} brine_arena;

/* The C library allocator, used when a brine_alloc pointer is NULL. */
extern const brine_alloc brine_default_alloc;

void arena_init(brine_arena *a, const brine_alloc *alloc, size_t limit);

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
 * afterwards. NULL on failure, in which case the old block is untouched. */
void *arena_grow(brine_arena *a, void *p, size_t old_size, size_t new_size);

/* Walks the chunks that hold the small blocks (every block of less than
 * 16 KB, so every node), newest first: `it` is NULL for the first call,
 * then the previous return value. Each call sets [*lo, *hi) to one chunk's
 * usable bytes; NULL after the last. New chunks go to the front, so a walk
 * that stops at the chunk a previous walk started from sees exactly the
 * chunks added since. */
const void *arena_chunk_next(const brine_arena *a, const void *it, const char **lo,
                             const char **hi);

/* Copies n bytes into the arena (arena_alloc's block, NULL on failure).
 * Inline, with short copies (the strings and bytes of records) done as
 * two overlapping moves instead of a call to memcpy. */
static inline void *arena_dup(brine_arena *a, const void *p, size_t n) {
    unsigned char *q = arena_alloc(a, n);
    const unsigned char *s = p;
    if (!q || !n) return q;
    if (n > 16) {
        memcpy(q, s, n);
    } else if (n >= 8) {
        memcpy(q, s, 8);
        memcpy(q + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(q, s, 4);
        memcpy(q + n - 4, s + n - 4, 4);
    } else {
        q[0] = s[0];
        q[n / 2] = s[n / 2];
        q[n - 1] = s[n - 1];
    }
    return q;
}

/* The error code for the last failure: BRINE_E_LIMIT_MEMORY or BRINE_E_NOMEM. */
brine_code arena_error(const brine_arena *a);

#endif
