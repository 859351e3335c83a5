/*
 * test_decode_reuse.c - brine_decode_into gives what brine_decode gives.
 *
 * A document that held a large graph (many arena chunks) decodes other
 * pickles into the memory it kept: the canonical text, the node and byte
 * counts, the error and offset under max_memory are those of a decoding
 * into a new document, and the memory the new contents do not need is
 * given back (a counting allocator sees the same live bytes as for a new
 * document). brine_doc_used_bytes counts what the values take of the
 * arena, the same in both.
 */
#include <stdlib.h>
#include <string.h>

#include "brine.h"
#include "tcheck.h"

typedef struct {
    unsigned char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_le32(buf *b, uint32_t x) {
    unsigned char le[4] = {(unsigned char)x, (unsigned char)(x >> 8), (unsigned char)(x >> 16),
                           (unsigned char)(x >> 24)};
    put(b, le, 4);
}

/* A protocol 2 list of n records as CPython writes them: dicts whose keys
 * are memoized once and fetched with BINGET, holding an int and a str. */
static buf records(uint32_t n, uint32_t salt) {
    buf b = {0};
    put(&b, "\x80\x02]q\x00(", 6);
    for (uint32_t i = 0; i < n; i++) {
        put(&b, "}(", 2);
        if (i == 0)
            put(&b, "X\x02\x00\x00\x00idq\x01", 9);
        else
            put(&b, "h\x01", 2);
        put(&b, "J", 1);
        put_le32(&b, i * 7919u + salt);
        if (i == 0)
            put(&b, "X\x04\x00\x00\x00nameq\x02", 11);
        else
            put(&b, "h\x02", 2);
        char text[32];
        int len = snprintf(text, sizeof text, "rec-%u-%u", i, salt);
        put(&b, "X", 1);
        put_le32(&b, (uint32_t)len);
        put(&b, text, (size_t)len);
        put(&b, "u", 1);
    }
    put(&b, "e.", 2);
    return b;
}

static int text_write(void *ctx, const void *data, size_t len) {
    put(ctx, data, len);
    return 0;
}

/* The canonical text of doc, NUL-terminated, malloc'd. */
static char *text_of(const brine_doc *doc) {
    buf t = {0};
    CHECK(brine_canon_write(doc, text_write, &t, NULL) == 0);
    put(&t, "", 1);
    return (char *)t.p;
}

/* An allocator that counts the bytes it has handed out and not taken back. */
static size_t live_bytes;

static void *count_malloc(void *ctx, size_t size) {
    (void)ctx;
    void *p = malloc(size);
    if (p) live_bytes += size;
    return p;
}

static void *count_realloc(void *ctx, void *p, size_t old_size, size_t new_size) {
    (void)ctx;
    void *q = realloc(p, new_size);
    if (q) live_bytes = live_bytes - old_size + new_size;
    return q;
}

static void count_free(void *ctx, void *p, size_t size) {
    (void)ctx;
    free(p);
    live_bytes -= size;
}

static const brine_alloc counting = {count_malloc, count_realloc, count_free, NULL};

/* The same text and counts as a new document, into a document that held
 * something else. */
static void test_same_result(void) {
    tcheck_current = "same_result";
    buf big = records(60000, 1), other = records(40000, 2);
    brine_error err;
    brine_doc *fresh = brine_decode(big.p, big.n, NULL, NULL, &err);
    brine_doc *doc = brine_decode(other.p, other.n, NULL, NULL, &err);
    CHECK(fresh && doc);
    if (!fresh || !doc) return;
    CHECK(brine_decode_into(doc, big.p, big.n, NULL, &err) == 0);
    char *want = text_of(fresh), *got = text_of(doc);
    CHECK_EQ_STR(got, want);
    size_t n1, b1, n2, b2;
    brine_doc_stats(fresh, &n1, &b1);
    brine_doc_stats(doc, &n2, &b2);
    CHECK_EQ_INT(n2, n1);
    CHECK_EQ_INT(b2, b1);
    CHECK(n1 > 100000);
    /* Again into itself: the document's own chunks come back. */
    CHECK(brine_decode_into(doc, big.p, big.n, NULL, &err) == 0);
    free(got);
    got = text_of(doc);
    CHECK_EQ_STR(got, want);
    brine_doc_stats(doc, &n2, &b2);
    CHECK_EQ_INT(b2, b1);
    free(want);
    free(got);
    brine_doc_free(fresh);
    brine_doc_free(doc);
    free(big.p);
    free(other.p);
}

/* max_memory fails at the same opcode whatever memory the document kept,
 * and the document is empty and reusable afterwards. */
static void test_limit_same_offset(void) {
    tcheck_current = "limit_same_offset";
    buf big = records(60000, 3);
    brine_error err, err2;
    brine_doc *full = brine_decode(big.p, big.n, NULL, NULL, &err);
    CHECK(full != NULL);
    if (!full) return;
    size_t bytes;
    brine_doc_stats(full, NULL, &bytes);
    brine_decode_options opts;
    brine_decode_options_init(&opts);
    opts.max_memory = bytes / 2;
    brine_doc *fresh = brine_decode(big.p, big.n, &opts, NULL, &err);
    CHECK(fresh == NULL);
    CHECK_EQ_INT(err.code, BRINE_E_LIMIT_MEMORY);
    CHECK(brine_decode_into(full, big.p, big.n, &opts, &err2) == -1);
    CHECK_EQ_INT(err2.code, err.code);
    CHECK_EQ_INT(err2.offset, err.offset);
    CHECK(err.offset > 0 && err.offset < big.n);
    CHECK(brine_doc_root(full) == NULL);
    /* Usable again, without the cap. */
    CHECK(brine_decode_into(full, big.p, big.n, NULL, &err) == 0);
    size_t again;
    brine_doc_stats(full, NULL, &again);
    CHECK_EQ_INT(again, bytes);
    brine_doc_free(full);
    free(big.p);
}

/* A small pickle into a document that held a large one: the memory the
 * small result does not need goes back to the allocator. */
static void test_memory_given_back(void) {
    tcheck_current = "memory_given_back";
    buf big = records(60000, 4), small = records(3, 5);
    brine_error err;
    live_bytes = 0;
    brine_doc *fresh = brine_decode(small.p, small.n, NULL, &counting, &err);
    CHECK(fresh != NULL);
    size_t small_live = live_bytes;
    brine_doc *doc = brine_decode(big.p, big.n, NULL, &counting, &err);
    CHECK(doc != NULL);
    if (!fresh || !doc) return;
    CHECK(live_bytes > small_live + 1000000);
    CHECK(brine_decode_into(doc, small.p, small.n, NULL, &err) == 0);
    CHECK_EQ_INT(live_bytes, 2 * small_live);
    char *want = text_of(fresh), *got = text_of(doc);
    CHECK_EQ_STR(got, want);
    free(want);
    free(got);
    brine_doc_free(fresh);
    brine_doc_free(doc);
    CHECK_EQ_INT(live_bytes, 0);
    free(big.p);
    free(small.p);
}

/* Used bytes: no more than the arena holds, at least a node per node, the
 * same after brine_decode_into; a list of one item takes one pointer. */
static void test_used_bytes(void) {
    tcheck_current = "used_bytes";
    buf big = records(60000, 6);
    brine_error err;
    brine_doc *doc = brine_decode(big.p, big.n, NULL, NULL, &err);
    CHECK(doc != NULL);
    if (!doc) return;
    size_t nodes, bytes, used = brine_doc_used_bytes(doc);
    brine_doc_stats(doc, &nodes, &bytes);
    CHECK(used <= bytes);
    CHECK(used >= 32 * nodes);
    CHECK(brine_decode_into(doc, big.p, big.n, NULL, &err) == 0);
    CHECK_EQ_INT(brine_doc_used_bytes(doc), used);
    brine_doc_free(doc);
    free(big.p);

    /* [[0], [0], ...]: n lists filled by APPEND, then one APPENDS. */
    enum { N = 20000 };
    buf lists = {0};
    put(&lists, "\x80\x02](", 4);
    for (int i = 0; i < N; i++)
        put(&lists,
            "]K\x00"
            "a",
            4); /* split: \x00a would be one escape */
    put(&lists, "e.", 2);
    doc = brine_decode(lists.p, lists.n, NULL, NULL, &err);
    CHECK(doc != NULL);
    if (!doc) return;
    used = brine_doc_used_bytes(doc);
    /* A node (32 bytes) and one item (8) per inner list, the outer list's
     * items (8 per list, up to twice that while doubling): under 64. */
    CHECK(used >= (size_t)N * 48);
    CHECK(used < (size_t)N * 64);
    brine_doc_free(doc);
    free(lists.p);
}

static void test_usage(void) {
    tcheck_current = "usage";
    brine_error err;
    CHECK(brine_decode_into(NULL, "N.", 2, NULL, &err) == -1);
    CHECK_EQ_INT(err.code, BRINE_E_USAGE);
    brine_doc *doc = brine_doc_new(NULL);
    CHECK(brine_decode_into(doc, NULL, 2, NULL, &err) == -1);
    CHECK_EQ_INT(err.code, BRINE_E_USAGE);
    CHECK(brine_decode_into(doc, "N.", 2, NULL, &err) == 0);
    CHECK(brine_doc_root(doc) != NULL);
    /* A failure leaves no root behind, not the previous one. */
    CHECK(brine_decode_into(doc, "N", 1, NULL, &err) == -1);
    CHECK_EQ_INT(err.code, BRINE_E_EOF);
    CHECK(brine_doc_root(doc) == NULL);
    brine_doc_free(doc);
}

int main(void) {
    test_same_result();
    test_limit_same_offset();
    test_memory_given_back();
    test_used_bytes();
    test_usage();
    return TDONE();
}
