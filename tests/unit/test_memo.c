/*
 * test_memo.c - the decoder's memo against a plain model.
 *
 * Runs sequences of puts and gets (in order as picklers write them, at
 * random below the dense bound, far above it, overwriting, under an entry
 * cap) on src/memo.c and on a model map, and checks every get, the number
 * of entries, the error codes, the byte count (the whole dense capacity
 * plus the sparse table) and the allocator's view: every block freed with
 * the size it was allocated with, nothing left at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "memo.h"
#include "tcheck.h"

/* --- an allocator that checks the sizes it is given back --------------- */

enum { MAX_BLOCKS = 4096 };
static struct {
    void *p;
    size_t size;
} blocks[MAX_BLOCKS];
static size_t nblocks, live;

static size_t find_block(void *p) {
    for (size_t i = 0; i < nblocks; i++)
        if (blocks[i].p == p) return i;
    TFAIL_("unknown block %p", p);
    return nblocks;
}

static void *t_malloc(void *ctx, size_t size) {
    (void)ctx;
    void *p = malloc(size);
    if (p && nblocks < MAX_BLOCKS) {
        blocks[nblocks].p = p;
        blocks[nblocks++].size = size;
        live += size;
    }
    return p;
}

static void *t_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    if (!p) return t_malloc(ctx, new_size);
    size_t i = find_block(p);
    if (i < nblocks) CHECK_EQ_INT(blocks[i].size, old_size);
    void *q = realloc(p, new_size);
    if (q && i < nblocks) {
        blocks[i].p = q;
        blocks[i].size = new_size;
        live = live - old_size + new_size;
    }
    return q;
}

static void t_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    size_t i = find_block(p);
    if (i < nblocks) {
        CHECK_EQ_INT(blocks[i].size, size);
        live -= blocks[i].size;
        blocks[i] = blocks[--nblocks];
    }
    free(p);
}

static const brine_alloc checking = {t_malloc, t_realloc, t_free, NULL};

/* --- the model: entries in a list, found through a hash table --------- */

enum { MODEL_MAX = 200000, MODEL_SLOTS = 1 << 19 };
static uint64_t model_idx[MODEL_MAX];
static struct brine_value *model_val[MODEL_MAX];
static size_t model_n;
static uint32_t model_slot[MODEL_SLOTS]; /* entry + 1, 0 = empty */

static void model_reset(void) {
    model_n = 0;
    memset(model_slot, 0, sizeof model_slot);
}

/* The entry holding idx, or MODEL_MAX; *slot is where it is or would go. */
static size_t model_find_slot(uint64_t idx, size_t *slot) {
    size_t j = (size_t)((idx * 0x9E3779B97F4A7C15u) >> 45) & (MODEL_SLOTS - 1);
    for (; model_slot[j]; j = (j + 1) & (MODEL_SLOTS - 1))
        if (model_idx[model_slot[j] - 1] == idx) break;
    *slot = j;
    return model_slot[j] ? model_slot[j] - 1 : MODEL_MAX;
}

static size_t model_find(uint64_t idx) {
    size_t slot;
    return model_find_slot(idx, &slot);
}

/* Values are never dereferenced: distinct non-NULL pointers will do. */
static struct brine_value *val(uint64_t k) {
    return (struct brine_value *)(uintptr_t)(0x1000 + 16 * k);
}

static uint64_t rng_state = 88172645463325252u;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* One put on both; checks they agree. */
static void put(memo *m, uint64_t idx, struct brine_value *v, size_t cap) {
    size_t slot, at = model_find_slot(idx, &slot);
    brine_code want = BRINE_OK;
    if (at == MODEL_MAX && cap && model_n >= cap) want = BRINE_E_LIMIT_MEMO;
    brine_code got = memo_put(m, idx, v, cap);
    CHECK_EQ_INT(got, want);
    if (got != BRINE_OK) return;
    if (at == MODEL_MAX) {
        model_slot[slot] = (uint32_t)(model_n + 1);
        model_idx[model_n] = idx;
        model_val[model_n++] = v;
    } else {
        model_val[at] = v;
    }
}

static void check_all(const memo *m, const char *when) {
    tcheck_current = when;
    CHECK_EQ_INT(m->len, model_n);
    for (size_t i = 0; i < model_n; i++)
        if (memo_get(m, model_idx[i]) != model_val[i]) {
            TFAIL_("get(%llu) differs", (unsigned long long)model_idx[i]);
            break;
        }
    size_t sparse = m->sparse ? (m->sparse_mask + 1) * sizeof(memo_slot) : 0;
    CHECK_EQ_INT(m->bytes, m->dense_cap * sizeof(struct brine_value *) + sparse);
}

static void test_sequences(void) {
    memo m;
    model_reset();
    memo_init(&m, &checking);

    /* In order, as the pickler writes: many pages. */
    for (uint64_t i = 0; i < 70000; i++)
        put(&m, i, val(i), 0);
    check_all(&m, "in order");
    CHECK(m.dense_cap > 4 * MEMO_PAGE);
    CHECK(memo_get(&m, 70000) == NULL);
    CHECK(memo_get(&m, m.dense_cap - 1) == NULL);
    CHECK(memo_get(&m, UINT64_MAX) == NULL);

    /* Overwrites, everywhere below the bound. */
    for (int k = 0; k < 5000; k++) {
        uint64_t i = rng() % 70000;
        put(&m, i, val(i + 1000000), 0);
    }
    check_all(&m, "overwrites");

    /* Far indices (sparse), then enough entries that the dense part grows
     * over some of them, which move into pages made for them. */
    for (int k = 0; k < 3000; k++) {
        uint64_t i = 200000 + rng() % 600000;
        put(&m, i, val(i), 0);
        uint64_t huge = (rng() >> 1) | (1ull << 40);
        put(&m, huge, val(k + 5000000), 0);
    }
    check_all(&m, "sparse");
    for (uint64_t i = 70000; i < 180000; i++)
        put(&m, i, val(i), 0);
    check_all(&m, "dense over sparse");
    CHECK(memo_get(&m, 0) == model_val[model_find(0)]);
    memo_free(&m);
    CHECK_EQ_INT(live, 0);
    CHECK_EQ_INT(nblocks, 0);
}

/* The entry cap counts new indices only, in the first page, in a page not
 * made yet and in the sparse table alike. */
static void test_cap(void) {
    memo m;
    model_reset();
    memo_init(&m, &checking);
    size_t cap = 3 * MEMO_PAGE + 5;
    for (uint64_t i = 0; i < cap + 10; i++)
        put(&m, 2 * i, val(i), cap);
    check_all(&m, "cap in order");
    CHECK_EQ_INT(m.len, cap);
    put(&m, 2, val(7), cap); /* an overwrite is not a new entry */
    put(&m, 1, val(8), cap); /* a new one is refused */
    put(&m, m.dense_cap - 1, val(9), cap);
    put(&m, 1ull << 50, val(10), cap);
    check_all(&m, "cap refusals");
    memo_free(&m);
    CHECK_EQ_INT(live, 0);

    /* A first put far into the dense part: a page in the middle. */
    model_reset();
    memo_init(&m, &checking);
    for (uint64_t i = 0; i < 5000; i++)
        put(&m, 1ull << 45 | i, val(i), 0);
    put(&m, 10000, val(1), 0);
    check_all(&m, "page in the middle");
    CHECK(m.dense_cap > MEMO_PAGE && memo_get(&m, 0) == NULL);
    memo_free(&m);
    CHECK_EQ_INT(live, 0);
}

int main(void) {
    test_sequences();
    test_cap();
    return TDONE();
}
