/*
 * pyops.h - Python's hashing and equality rules on nodes, and the dict and
 * set operations built on them.
 *
 * Only the *relation* matters, not CPython's hash values: two keys are the
 * same dict key exactly when Python would say so (1, 1.0, True and 1+0j are
 * one key; -0.0 equals 0.0; a NaN equals only itself; lists, dicts, sets,
 * bytearrays and readonly views (memoryview hashes its bytearray) are
 * unhashable). Hashes are a strong mix rather than CPython's, so crafted
 * inputs cannot make lookups quadratic. Nothing here recurses on the depth
 * of a value, and comparing two large shared structures costs time linear
 * in the number of distinct node pairs compared.
 */
#ifndef BRINE_PYOPS_H
#define BRINE_PYOPS_H

#include <stdint.h>

#include "value.h"

/* hash(v): BRINE_OK and *out, BRINE_E_UNHASHABLE, or an allocation error. */
brine_code py_hash(brine_doc *doc, brine_value *v, uint64_t *out);

/* 1 when hashable as far as the kind tells (lists, dicts, sets, bytearrays
 * are not; tuples may still contain something unhashable). */
int py_kind_hashable(const brine_value *v);

/* a == b for two hashable values: 1 equal, 0 not, -1 allocation failure. */
int py_eq(brine_doc *doc, brine_value *a, brine_value *b);

/* dict[key] = value. Keeps the first equal key object, takes the new value. */
brine_code py_dict_set(brine_doc *doc, brine_value *dict, brine_value *key, brine_value *value);

/* Room for `extra` more entries in a table: exactly that many when it is
 * empty (SETITEMS knows how many pairs it brings), else at least double.
 * Returns BRINE_OK or the allocation failure (the table unchanged). Inline,
 * as the two below: the decoder's fast paths fill a dict per record. */
static inline brine_code py_table_reserve(brine_doc *doc, bdict *d, size_t extra) {
    if (extra <= d->cap - d->n) return BRINE_OK;
    size_t ncap = d->cap ? (size_t)d->cap * 2 : 0;
    if (ncap < d->n + extra) ncap = d->n + extra;
    if (extra > UINT32_MAX || ncap > UINT32_MAX - 1) return BRINE_E_NOMEM;
    bentry *grown =
        arena_grow(&doc->arena, d->entries, d->cap * sizeof *grown, ncap * sizeof *grown);
    if (!grown) return arena_error(&doc->arena);
    d->entries = grown;
    d->cap = (uint32_t)ncap;
    return BRINE_OK;
}

/* Makes room for `extra` more entries in a DICT/SET/FROZENSET (a hint: the
 * table is the same afterwards, only its capacity may have grown). Returns
 * BRINE_OK or the allocation failure. */
static inline brine_code py_reserve(brine_doc *doc, brine_value *container, size_t extra) {
    return py_table_reserve(doc, &container->u.set, extra);
}

/* A hint before inserting `key` into a DICT/SET/FROZENSET a few keys from
 * now: fetches the index slot its probe starts at, so that insertions into
 * a large table wait for memory in parallel rather than one after another. */
void py_prefetch(brine_value *container, brine_value *key);

/* Tables of up to this many entries have no index: lookups scan them. */
enum { PY_SMALL_TABLE = 8 };

/* dict[key] = value for a DICT with fewer than PY_SMALL_TABLE entries,
 * none of which equals key, and a key that was hashed (it is another
 * dict's key): py_dict_set's result without its lookup, for callers that
 * know the key is new. Returns BRINE_OK or the allocation failure. */
static inline brine_code py_append_new(brine_doc *doc, brine_value *dict, brine_value *key,
                                       brine_value *value) {
    bdict *d = &dict->u.set;
    /* What insert() does once it found no equal key, below the index. */
    if (d->n == d->cap) {
        brine_code code = py_table_reserve(doc, d, d->cap ? d->cap : 4);
        if (code != BRINE_OK) return code;
    }
    bentry *e = &d->entries[d->n++];
    e->key = key;
    e->value = value;
    return BRINE_OK;
}

/* py_append_new for the k pairs kv[0]: kv[1], kv[2]: kv[3], ... when the
 * table has room for them without growing (n + k <= capacity,
 * n + k <= PY_SMALL_TABLE). */
static inline void py_append_new_many(brine_value *dict, brine_value *const *kv, size_t k) {
    bdict *d = &dict->u.set;
    bentry *e = &d->entries[d->n];
    for (size_t i = 0; i < k; i++) {
        e[i].key = kv[2 * i];
        e[i].value = kv[2 * i + 1];
    }
    d->n += (uint32_t)k;
}

/* set.add(item) for SET and FROZENSET nodes (an equal element stays). */
brine_code py_set_add(brine_doc *doc, brine_value *set, brine_value *item);

/* Finds key in a DICT/SET/FROZENSET: entry index, -1 when absent, or -2 on
 * error (*code set). */
long py_lookup(brine_doc *doc, brine_value *container, brine_value *key, brine_code *code);

#endif
