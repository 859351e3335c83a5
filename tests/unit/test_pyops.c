/*
 * test_pyops.c - dicts and sets keep Python's key relation through every
 * size: the small tables that are scanned, the first index, and each
 * larger index built from the one before.
 *
 * Keys are ints, floats, strs and tuples made as fresh nodes each time,
 * so that only equality (never the node's identity) can find an entry;
 * each table is checked against what Python does with the same keys: the
 * number of entries, the key kept (the first), the value (the last), and
 * lookups of keys present and absent, after every insertion up to the
 * point where the index has been rebuilt several times.
 */
#include <stdio.h>
#include <string.h>

#include "pyops.h"
#include "pyfloat.h"
#include "tcheck.h"

static brine_value *str_node(brine_doc *doc, const char *prefix, long i) {
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%s%ld", prefix, i);
    return val_str_copy(doc, buf, (size_t)n, (size_t)n);
}

static brine_value *tuple2(brine_doc *doc, brine_value *a, brine_value *b) {
    brine_value *items[2] = {a, b};
    return val_tuple_copy(doc, items, 2);
}

/* Key number i of four kinds, as a fresh node each call. */
static brine_value *key_of(brine_doc *doc, long i) {
    switch (i % 4) {
    case 0: return val_int64(doc, 1000 + i);
    case 1: return str_node(doc, "k", i);
    case 2: return tuple2(doc, val_int64(doc, i), str_node(doc, "t", i));
    default: return val_float_bits(doc, pyfloat_bits(0.5 + (double)i));
    }
}

static long lookup(brine_doc *doc, brine_value *table, brine_value *key) {
    brine_code code = BRINE_OK;
    long at = py_lookup(doc, table, key, &code);
    CHECK_EQ_INT(code, BRINE_OK);
    return at;
}

/* Inserts keys 0..n-1, then every key again as a new node with a new
 * value; after each step every key so far is found where it went in. */
static void test_dict_through_growth(void) {
    enum { N = 3000 };
    brine_doc *doc = brine_doc_new(NULL);
    brine_value *d = val_container(doc, BRINE_DICT);
    brine_value *first_keys[N];
    for (long i = 0; i < N; i++) {
        first_keys[i] = key_of(doc, i);
        CHECK_EQ_INT(py_dict_set(doc, d, first_keys[i], val_int64(doc, i)), BRINE_OK);
        CHECK_EQ_INT(d->u.set.n, i + 1);
        /* Right after each insertion (and so after each index rebuild),
         * a few earlier keys and the absent next one. */
        for (long j = i; j >= 0; j -= 1 + j / 3)
            CHECK_EQ_INT(lookup(doc, d, key_of(doc, j)), j);
        CHECK_EQ_INT(lookup(doc, d, key_of(doc, i + 1)), -1);
    }
    for (long i = 0; i < N; i++) {
        CHECK_EQ_INT(py_dict_set(doc, d, key_of(doc, i), val_int64(doc, -i - 10)), BRINE_OK);
        CHECK_EQ_INT(d->u.set.n, N);
    }
    for (long i = 0; i < N; i++) {
        CHECK_EQ_INT(lookup(doc, d, key_of(doc, i)), i);
        const bentry *e = &d->u.set.entries[i];
        CHECK(e->key == first_keys[i]); /* the first key object stays */
        CHECK_EQ_INT(e->value->u.i, -i - 10);
    }
    brine_doc_free(doc);
}

/* 1, 1.0 and True are one key; -0.0 and 0 too; a NaN only equals itself. */
static void test_numeric_keys(void) {
    brine_doc *doc = brine_doc_new(NULL);
    for (int big = 0; big < 2; big++) {
        brine_value *s = val_container(doc, BRINE_SET);
        /* big: enough other elements first that the table has an index. */
        for (long i = 0; big && i < 40; i++)
            CHECK_EQ_INT(py_set_add(doc, s, str_node(doc, "x", i)), BRINE_OK);
        size_t base = s->u.set.n;
        brine_value *one = val_int64(doc, 1);
        CHECK_EQ_INT(py_set_add(doc, s, one), BRINE_OK);
        CHECK_EQ_INT(py_set_add(doc, s, val_float_bits(doc, pyfloat_bits(1.0))), BRINE_OK);
        CHECK_EQ_INT(py_set_add(doc, s, &doc->t), BRINE_OK);
        CHECK_EQ_INT(s->u.set.n, base + 1);
        CHECK(s->u.set.entries[base].key == one);
        CHECK_EQ_INT(py_set_add(doc, s, val_float_bits(doc, pyfloat_bits(-0.0))), BRINE_OK);
        CHECK_EQ_INT(py_set_add(doc, s, val_int64(doc, 0)), BRINE_OK);
        CHECK_EQ_INT(s->u.set.n, base + 2);
        brine_value *nan = val_float_bits(doc, 0x7ff8000000000000u);
        CHECK_EQ_INT(py_set_add(doc, s, nan), BRINE_OK);
        CHECK_EQ_INT(py_set_add(doc, s, nan), BRINE_OK);
        CHECK_EQ_INT(s->u.set.n, base + 3);
        CHECK_EQ_INT(py_set_add(doc, s, val_float_bits(doc, 0x7ff8000000000000u)), BRINE_OK);
        CHECK_EQ_INT(s->u.set.n, base + 4);
    }
    brine_doc_free(doc);
}

/* Frozensets with the same elements, added in other orders, are one key
 * (their hash and equality read the entries' keys). */
static void test_frozenset_keys(void) {
    brine_doc *doc = brine_doc_new(NULL);
    for (long size = 0; size < 40; size += 3) {
        brine_value *d = val_container(doc, BRINE_DICT);
        for (int copy = 0; copy < 3; copy++) {
            brine_value *f = val_container(doc, BRINE_FROZENSET);
            for (long i = 0; i < size; i++) {
                long k = copy == 1 ? size - 1 - i : (i + 5 * copy) % size; /* permutations */
                CHECK_EQ_INT(py_set_add(doc, f, key_of(doc, k)), BRINE_OK);
            }
            CHECK_EQ_INT(f->u.set.n, size);
            CHECK_EQ_INT(py_dict_set(doc, d, f, val_int64(doc, copy)), BRINE_OK);
        }
        CHECK_EQ_INT(d->u.set.n, 1);
        CHECK_EQ_INT(d->u.set.entries[0].value->u.i, 2);
        /* One element more is another key. */
        brine_value *g = val_container(doc, BRINE_FROZENSET);
        for (long i = 0; i <= size; i++)
            CHECK_EQ_INT(py_set_add(doc, g, key_of(doc, i)), BRINE_OK);
        CHECK_EQ_INT(lookup(doc, d, g), -1);
    }
    brine_doc_free(doc);
}

static brine_value *big_int(brine_doc *doc, uint32_t seed, size_t nlimbs, int neg) {
    uint32_t *limbs = arena_alloc(&doc->arena, nlimbs * sizeof *limbs);
    for (size_t i = 0; i < nlimbs; i++)
        limbs[i] = seed * 2654435761u + (uint32_t)i;
    limbs[nlimbs - 1] |= 1; /* no leading zero limb */
    return val_int_limbs(doc, limbs, nlimbs, neg);
}

/* Big ints are keys by value, and a key's hash is kept once computed:
 * the scans of small tables ask for every entry's key hash on each
 * insertion, which must not read every limb again each time. */
static void test_big_int_keys(void) {
    brine_doc *doc = brine_doc_new(NULL);
    for (size_t nkeys = 1; nkeys <= 40; nkeys += 13) {
        brine_value *d = val_container(doc, BRINE_DICT);
        for (size_t round = 0; round < 3; round++)
            for (size_t i = 0; i < nkeys; i++) {
                brine_value *k = big_int(doc, (uint32_t)i, 50, (int)(i & 1));
                CHECK(k->flags & VF_BIG);
                CHECK_EQ_INT(py_dict_set(doc, d, k, val_int64(doc, (int64_t)round)), BRINE_OK);
                CHECK_EQ_INT(d->u.set.n, round ? nkeys : i + 1);
            }
        for (size_t i = 0; i < nkeys; i++) {
            const bentry *e = &d->u.set.entries[i];
            CHECK(e->key->flags & VF_HASHED);
            CHECK_EQ_INT(e->value->u.i, 2);
            CHECK_EQ_INT(lookup(doc, d, big_int(doc, (uint32_t)i, 50, (int)(i & 1))), (long)i);
            CHECK_EQ_INT(lookup(doc, d, big_int(doc, (uint32_t)i, 50, !(i & 1))), -1);
        }
    }
    brine_doc_free(doc);
}

int main(void) {
    TRUN(test_dict_through_growth);
    TRUN(test_numeric_keys);
    TRUN(test_frozenset_keys);
    TRUN(test_big_int_keys);
    return TDONE();
}
