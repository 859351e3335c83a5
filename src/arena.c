/*
 * arena.c - chunked bump allocation with resizable large blocks.
 */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* madvise */
#endif
#include "arena.h"

#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

struct arena_chunk {
    arena_chunk *next;
    size_t size; /* including this header */
};

struct arena_big {
    arena_big *prev, *next;
    size_t size; /* payload bytes */
    size_t pad;  /* keeps the payload 16-byte aligned */
};

enum {
    FIRST_CHUNK = 16 * 1024,
    /* Large documents end up in chunks of this size, big enough to hold
     * whole 2 MB pages (arena_advise_huge). */
    MAX_CHUNK = 8 * 1024 * 1024,
    CAPPED_MAX_CHUNK = 1024 * 1024,
    BIG_THRESHOLD = 16 * 1024, /* blocks at least this large get their own allocation */
    ALIGN = 8,
};

static void *libc_malloc(void *ctx, size_t size) {
    (void)ctx;
    return malloc(size);
}

static void *libc_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    (void)ctx;
    (void)old_size;
    return realloc(p, new_size);
}

static void libc_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    (void)size;
    free(p);
}

const brine_alloc brine_default_alloc = {libc_malloc, libc_realloc, libc_free, NULL};

void arena_advise_huge(const brine_alloc *alloc, void *p, size_t size) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* Large graphs spend much of their decoding time in page faults, one
     * per 4 KB touched for the first time; transparent huge pages take one
     * per 2 MB. Only the C library's memory is advised (a caller's
     * allocator may hand out anything), only whole aligned 2 MB ranges, and
     * only before they are touched; failure changes nothing. */
    enum { HUGE = 2 * 1024 * 1024 };
    if (!alloc || alloc->malloc != libc_malloc || size < 2 * HUGE) return;
    uintptr_t start = ((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1);
    uintptr_t end = ((uintptr_t)p + size) & ~(uintptr_t)(HUGE - 1);
    if (end > start) (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
#else
    (void)alloc;
    (void)p;
    (void)size;
#endif
}

void arena_init(brine_arena *a, const brine_alloc *alloc, size_t limit) {
    memset(a, 0, sizeof *a);
    a->alloc = alloc ? *alloc : brine_default_alloc;
    a->next_chunk = FIRST_CHUNK;
    a->limit = limit;
}

static void free_chunks(brine_arena *a, arena_chunk *c) {
    while (c) {
        arena_chunk *next = c->next;
        a->alloc.free(a->alloc.ctx, c, c->size);
        c = next;
    }
}

static void free_bigs(brine_arena *a) {
    arena_big *b = a->bigs;
    while (b) {
        arena_big *next = b->next;
        a->alloc.free(a->alloc.ctx, b, sizeof *b + b->size);
        b = next;
    }
    a->bigs = NULL;
}

void arena_free_all(brine_arena *a) {
    free_chunks(a, a->chunks);
    arena_drop_spare(a);
    free_bigs(a);
    a->chunks = NULL;
    a->cur = a->end = a->last = NULL;
    a->bytes = a->retired = 0;
}

void arena_reset(brine_arena *a, size_t limit) {
    free_bigs(a);
    /* Oldest first: the order in which a fresh arena asks for sizes. */
    arena_chunk *order = NULL;
    while (a->chunks) {
        arena_chunk *c = a->chunks;
        a->chunks = c->next;
        c->next = order;
        order = c;
    }
    if (order) {
        arena_chunk *tail = order;
        while (tail->next)
            tail = tail->next;
        tail->next = a->spare;
        a->spare = order;
    }
    a->cur = a->end = a->last = NULL;
    a->next_chunk = FIRST_CHUNK;
    a->bytes = a->retired = 0;
    a->limit = limit;
    a->over_limit = 0;
}

void arena_drop_spare(brine_arena *a) {
    free_chunks(a, a->spare);
    a->spare = NULL;
}

/* A kept chunk of exactly `size` bytes, unlinked, or NULL. */
static arena_chunk *take_spare(brine_arena *a, size_t size) {
    for (arena_chunk **link = &a->spare; *link; link = &(*link)->next) {
        arena_chunk *c = *link;
        if (c->size == size) {
            *link = c->next;
            return c;
        }
    }
    return NULL;
}

/* Asks the allocator for n more bytes, honouring the cap. */
static int reserve(brine_arena *a, size_t n) {
    if (a->limit && (n > a->limit || a->bytes > a->limit - n)) {
        a->over_limit = 1;
        return 0;
    }
    a->over_limit = 0;
    return 1;
}

static void *big_alloc(brine_arena *a, size_t size) {
    if (size > SIZE_MAX - sizeof(arena_big) || !reserve(a, sizeof(arena_big) + size)) return NULL;
    arena_big *b = a->alloc.malloc(a->alloc.ctx, sizeof *b + size);
    if (!b) return NULL;
    arena_advise_huge(&a->alloc, b, sizeof *b + size);
    a->bytes += sizeof *b + size;
    b->size = size;
    b->prev = NULL;
    b->next = a->bigs;
    if (a->bigs) a->bigs->prev = b;
    a->bigs = b;
    return b + 1;
}

/* A chunk from the allocator. The C library's chunks of 4 MB and more are
 * aligned on 2 MB, so that every byte of them can be a huge page: malloc
 * gives a page-aligned block, whose partial 2 MB ranges at both ends (a
 * quarter of an 8 MB chunk on average) would fault in 4 KB at a time. */
static arena_chunk *chunk_alloc(brine_arena *a, size_t size) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    enum { HUGE = 2 * 1024 * 1024 };
    if (a->alloc.malloc == libc_malloc && size >= 2 * HUGE && size % HUGE == 0)
        return aligned_alloc(HUGE, size); /* free() releases it */
#endif
    return a->alloc.malloc(a->alloc.ctx, size);
}

static int new_chunk(brine_arena *a, size_t need) {
    size_t size = a->next_chunk;
    while (size < need + sizeof(arena_chunk))
        size *= 2;
    if (!reserve(a, size)) return 0;
    arena_chunk *c = take_spare(a, size);
    if (!c) {
        c = chunk_alloc(a, size);
        if (!c) return 0;
        arena_advise_huge(&a->alloc, c, size);
    }
    a->bytes += size;
    a->retired += (size_t)(a->end - a->cur); /* 0 for the first chunk */
    c->size = size;
    c->next = a->chunks;
    a->chunks = c;
    a->cur = (char *)(c + 1);
    a->end = (char *)c + size;
    /* Under a cap, chunks stop at 1 MB, so that the cap is reached where
     * it always was rather than up to 8 MB early. */
    if (a->next_chunk < (a->limit ? CAPPED_MAX_CHUNK : MAX_CHUNK)) a->next_chunk *= 2;
    return 1;
}

void *arena_alloc_slow(brine_arena *a, size_t size) {
    if (size >= BIG_THRESHOLD) return big_alloc(a, size);
    size_t rounded = (size + (ALIGN - 1)) & ~(size_t)(ALIGN - 1);
    if (rounded == 0) rounded = ALIGN;
    if ((size_t)(a->end - a->cur) < rounded && !new_chunk(a, rounded)) return NULL;
    void *p = a->cur;
    a->last = a->cur;
    a->cur += rounded;
    return p;
}

void *arena_zalloc(brine_arena *a, size_t size) {
    void *p = arena_alloc(a, size);
    if (p) memset(p, 0, size);
    return p;
}

static arena_big *big_header(void *p) {
    return (arena_big *)p - 1;
}

void *arena_grow_slow(brine_arena *a, void *p, size_t old_size, size_t new_size) {
    if (old_size >= BIG_THRESHOLD && new_size >= BIG_THRESHOLD) {
        /* A block of its own: let the allocator resize it. */
        arena_big *b = big_header(p);
        size_t extra = new_size > old_size ? new_size - old_size : 0;
        if (new_size > SIZE_MAX - sizeof *b || !reserve(a, extra)) return NULL;
        arena_big *nb =
            a->alloc.realloc(a->alloc.ctx, b, sizeof *b + old_size, sizeof *b + new_size);
        if (!nb) return NULL;
        a->bytes = a->bytes - old_size + new_size;
        nb->size = new_size;
        if (nb->prev)
            nb->prev->next = nb;
        else
            a->bigs = nb;
        if (nb->next) nb->next->prev = nb;
        return nb + 1;
    }
    if (old_size < BIG_THRESHOLD && (char *)p == a->last && new_size < BIG_THRESHOLD) {
        /* The newest small block: extend it in place when the chunk has room. */
        size_t rounded = (new_size + (ALIGN - 1)) & ~(size_t)(ALIGN - 1);
        if ((size_t)(a->end - a->last) >= rounded) {
            a->cur = a->last + rounded;
            return p;
        }
    }
    void *q = arena_alloc(a, new_size);
    if (!q) return NULL;
    memcpy(q, p, old_size < new_size ? old_size : new_size);
    if (old_size >= BIG_THRESHOLD) {
        /* Shrinking a big block into a small one: give the big one back. */
        arena_big *b = big_header(p);
        if (b->prev)
            b->prev->next = b->next;
        else
            a->bigs = b->next;
        if (b->next) b->next->prev = b->prev;
        a->bytes -= sizeof *b + b->size;
        a->alloc.free(a->alloc.ctx, b, sizeof *b + b->size);
    }
    return q;
}

const void *arena_chunk_next(const brine_arena *a, const void *it, const char **lo,
                             const char **hi) {
    const arena_chunk *c = it ? ((const arena_chunk *)it)->next : a->chunks;
    if (c) {
        *lo = (const char *)(c + 1);
        *hi = (const char *)c + c->size;
    }
    return c;
}

brine_code arena_error(const brine_arena *a) {
    return a->over_limit ? BRINE_E_LIMIT_MEMORY : BRINE_E_NOMEM;
}
