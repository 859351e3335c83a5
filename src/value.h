/*
 * value.h - the value graph inside libbrine.
 *
 * A node is 32 bytes: a small header and a union; a FLOAT or a small INT
 * is only its first 16 (val_new_word), and a copied str or bytes has its
 * data right after it. A dict's or set's table is in the node, its entries
 * and (large tables) index beside it; globals and objects point to a side
 * structure. Nodes are never freed individually: they live in their
 * document's arena.
 */
#ifndef BRINE_VALUE_H
#define BRINE_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "brine.h"

enum {
    VF_HASHED = 1 << 0,     /* u.*.hash (or ext hash) is valid */
    VF_UNHASHABLE = 1 << 1, /* hashing found an unhashable part (cached TypeError) */
    VF_BIG = 1 << 2,        /* INT: u.big holds a bigint */
    VF_NEG = 1 << 3,        /* INT big: negative */
    VF_SINGLETON = 1 << 4,  /* a per-document shared atom (never labelled) */
    VF_BORROWED = 1 << 5,   /* BYTES/STR data points into the caller's input */
    VF_READONLY = 1 << 6,   /* PICKLEBUFFER: a read-only buffer */
    VF_EXPORTED = 1 << 7,   /* BYTEARRAY: a readonly view of it was made (resizing fails) */
};

typedef struct oprec {
    uint8_t kind; /* brine_op_kind */
    brine_value *a;
    brine_value *b;
} oprec;

/* Records of what the stream did to a global or object. */
typedef struct oplog {
    oprec *ops;
    uint32_t n, cap;
} oplog;

/* An entry of a table. Its key's hash is not kept here: keys cache their
 * hash or compute it in a bounded number of steps (pyops.c, entry_hash),
 * and an index slot keeps the top half. */
typedef struct bentry {
    brine_value *key;
    brine_value *value; /* NULL in sets */
} bentry;

/* What a table needs besides its entries, rarely: the open-addressing
 * index of a large table, and a frozenset's cached hash. */
typedef struct bdict_aux {
    size_t mask;   /* index slots - 1; 0 while the table is small (no index) */
    uint64_t hash; /* FROZENSET: hash(v) once VF_HASHED */
    /* mask + 1 slots when mask != 0: 0 = empty, else the entry number + 1
     * in the low 32 bits and the top 32 bits of the entry's hash in the
     * high ones, so that probing compares hashes without reading entries. */
    uint64_t slots[];
} bdict_aux;

/* Insertion-ordered hash table, used for DICT, SET and FROZENSET, inside
 * the node: a record's dict is one node and its entries. */
typedef struct bdict {
    bentry *entries;
    uint32_t n, cap; /* insert() keeps both below UINT32_MAX */
    bdict_aux *aux;  /* NULL for a small dict or set; every FROZENSET has one */
} bdict;

typedef struct bglobal {
    const char *module; /* the name find_class looked up (after fix_imports) */
    size_t mlen;
    const char *name;
    size_t nlen;
    /* The str objects find_class received: the stack's for STACK_GLOBAL,
     * fresh ones otherwise. They can be shared with the rest of the graph. */
    brine_value *module_str;
    brine_value *name_str;
    uint64_t name_hash;
    brine_value *next; /* chain in the document's intern table */
    oplog log;
} bglobal;

typedef struct bobject {
    brine_value *callable;
    /* The tuple REDUCE/NEWOBJ/NEWOBJ_EX popped for the arguments, and the
     * dict NEWOBJ_EX popped for the keyword arguments: the stream can share
     * them with the rest of the graph. NULL for INST and OBJ, whose
     * arguments come straight off the stack. */
    brine_value *args_tuple;
    brine_value *kwargs_dict;
    brine_value **args;
    brine_value **kwkeys;
    brine_value **kwvals;
    uint32_t nargs;
    uint32_t nkw;
    uint8_t make;   /* brine_make */
    uint8_t opcode; /* the opcode that made it */
    oplog log;
} bobject;

struct brine_value {
    uint8_t kind;  /* brine_kind */
    uint8_t flags; /* VF_* */
    uint16_t spare;
    uint32_t mark; /* doc->epoch when the decoder's reachability pass saw it;
                    * the canonical reader uses it as scratch and leaves 0 */
    /* One line per kind reads as a table. */
    /* clang-format off */
    union {
        int boolean;
        int64_t i;                                        /* INT, small */
        struct { uint32_t *limbs; size_t n; uint64_t hash; } big; /* INT, VF_BIG; sign in VF_NEG */
        uint64_t fbits;                                   /* FLOAT */
        struct { uint64_t re, im; } c;                    /* COMPLEX */
        struct { const char *p; size_t n; uint64_t hash; } s;  /* STR, BYTES */
        struct { uint8_t *p; size_t n, cap; } ba;         /* BYTEARRAY */
        struct { brine_value **items; size_t n; uint64_t hash; } tup; /* TUPLE */
        struct { brine_value **items; size_t n, cap; } list;          /* LIST */
        bdict set;                                        /* DICT, SET, FROZENSET */
        bglobal *g;                                       /* GLOBAL */
        bobject *o;                                       /* OBJECT */
        brine_value *pid;                                 /* PERSID */
        struct { const uint8_t *p; size_t n, index; } pb; /* PICKLEBUFFER, VF_READONLY */
        struct { brine_value *target; } view;             /* READONLY_VIEW */
    } u;
    /* clang-format on */
};

_Static_assert(sizeof(brine_value) == 32, "a node is 32 bytes (encode_memo.c numbers them so)");

typedef struct ptrvec {
    brine_value **items;
    size_t n, cap;
} ptrvec;

struct brine_doc {
    brine_arena arena;
    brine_value *root;
    brine_value none, t, f;       /* singletons */
    brine_value *small_ints[262]; /* -5..256, made on demand */
    brine_value *str1[257];       /* [c] = chr(c) for c < 256, [256] = '' */
    brine_value *bytes1[257];     /* [b] = bytes([b]) (copying paths), [256] = b'' */
    brine_value *empty_tuple;
    brine_value **globals; /* intern table of GLOBAL nodes */
    size_t nglobals, globals_mask;
    ptrvec created; /* OBJECT and PERSID nodes in creation order */
    ptrvec discarded;
    size_t nodes;
    uint32_t epoch; /* traversal stamp for `mark` (decoder only) */
};

/* A document whose arena is capped at `limit` bytes (0 = no cap). */
brine_doc *doc_new_limited(const brine_alloc *alloc, size_t limit);

/* Empties doc (every value goes, the arena keeps its chunks for reuse,
 * see arena_reset) and caps its arena at `limit` bytes (0 = no cap). */
void doc_reset(brine_doc *doc, size_t limit);

/* --- internal constructors (all NULL on allocation failure) --- */

/* The constructors the decoder's loop makes per record are forced inline
 * there (the loop is too big for the compiler to choose that itself). */
#if defined(__GNUC__) || defined(__clang__)
#define VAL_HOT static inline __attribute__((always_inline))
#else
#define VAL_HOT static inline
#endif

/* The constructors below start here: `size` bytes of arena, the first of
 * them a counted node of `kind` with a zeroed header and its payload left
 * to the caller. NULL on failure. */
static inline brine_value *val_new_sized(brine_doc *doc, brine_kind kind, size_t size) {
    brine_value *v = arena_alloc(&doc->arena, size);
    if (!v) return NULL;
    memset(v, 0, offsetof(brine_value, u));
    v->kind = (uint8_t)kind;
    doc->nodes++;
    return v;
}
/* Inline: every opcode that makes a node calls it. */
static inline brine_value *val_new(brine_doc *doc, brine_kind kind) {
    brine_value *v = val_new_sized(doc, kind, sizeof *v);
    if (v) memset(&v->u, 0, sizeof v->u);
    return v;
}
/* The bytes of a node whose payload is one 8-byte word (u.i, u.fbits). */
#define VAL_WORD_NODE_SIZE (offsetof(brine_value, u) + sizeof(uint64_t))
/* A FLOAT, or an INT that is not big, as half a node: nothing reads past
 * u.i / u.fbits of such nodes, and records are mostly made of them, so
 * half the bytes is a tenth less memory to fault in and fill. Never
 * memoized by the encoder (atoms are not), whose memo numbers nodes by
 * 32-byte slot (encode_memo.c). */
static inline brine_value *val_new_word(brine_doc *doc, brine_kind kind, uint64_t word) {
    brine_value *v = val_new_sized(doc, kind, VAL_WORD_NODE_SIZE);
    if (v) memcpy(&v->u, &word, sizeof word);
    return v;
}
enum { SMALL_INT_MIN = -5, SMALL_INT_MAX = 256 }; /* CPython's shared ints */
/* The singleton for SMALL_INT_MIN <= v <= SMALL_INT_MAX. */
brine_value *val_small_int(brine_doc *doc, int64_t v);
static inline brine_value *val_int64(brine_doc *doc, int64_t v) {
    if (v >= SMALL_INT_MIN && v <= SMALL_INT_MAX) return val_small_int(doc, v);
    return val_new_word(doc, BRINE_INT, (uint64_t)v);
}
/* Takes over `limbs` (arena memory), normalizing; fits-in-int64 values become small. */
brine_value *val_int_limbs(brine_doc *doc, uint32_t *limbs, size_t n, int neg);
static inline brine_value *val_float_bits(brine_doc *doc, uint64_t bits) {
    return val_new_word(doc, BRINE_FLOAT, bits);
}
/* STR from valid WTF-8 of `ncp` code points whose data is already in the
 * arena (or borrowed when `borrowed`). Returns the singleton when CPython
 * would. */
brine_value *val_str_owned(brine_doc *doc, const char *p, size_t n, size_t ncp, int borrowed);
/* STR from valid WTF-8, copied: val_str_copy_short for the strs CPython
 * may share (fewer than 2 code points), the rest inline (every str a
 * stream of records holds). */
brine_value *val_str_copy_short(brine_doc *doc, const char *p, size_t n, size_t ncp);
/* A STR or BYTES node whose n bytes of data follow it in one allocation
 * (a record's strs and bytes are short: one bump, one line); the caller
 * writes them at u.s.p. NULL on failure. */
VAL_HOT brine_value *val_new_with_data(brine_doc *doc, brine_kind kind, size_t n) {
    if (n > SIZE_MAX - sizeof(brine_value)) return NULL;
    brine_value *v = val_new_sized(doc, kind, sizeof *v + n);
    if (!v) return NULL;
    memset(&v->u, 0, sizeof v->u);
    v->u.s.p = (const char *)(v + 1);
    v->u.s.n = n;
    return v;
}
/* val_new_with_data holding a copy of p[0..n). */
VAL_HOT brine_value *val_with_copy(brine_doc *doc, brine_kind kind, const void *p, size_t n) {
    brine_value *v = val_new_with_data(doc, kind, n);
    if (!v) return NULL;
    uint8_t *q = (uint8_t *)(v + 1);
    if (n <= 32)
        copy_short(q, p, n);
    else
        memcpy(q, p, n);
    return v;
}
/* A STR of the n >= 2 Latin-1 code points p[0..n), utf8_len bytes of UTF-8
 * (n plus the number of bytes of 0x80 and more), in one allocation with
 * its node. NULL on failure. */
VAL_HOT brine_value *val_str_latin1(brine_doc *doc, const uint8_t *p, size_t n, size_t utf8_len) {
    brine_value *v = val_new_with_data(doc, BRINE_STR, utf8_len);
    if (!v) return NULL;
    uint8_t *o = (uint8_t *)(v + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned c = p[i];
        if (c < 0x80) {
            *o++ = (uint8_t)c;
        } else {
            *o++ = (uint8_t)(0xC0 | (c >> 6));
            *o++ = (uint8_t)(0x80 | (c & 0x3F));
        }
    }
    return v;
}
VAL_HOT brine_value *val_str_copy(brine_doc *doc, const char *p, size_t n, size_t ncp) {
    if (ncp < 2) return val_str_copy_short(doc, p, n, ncp);
    return val_with_copy(doc, BRINE_STR, p, n);
}
/* A BYTES node of its own (never shared): `data` is copied unless
 * borrowed. NULL on failure. */
VAL_HOT brine_value *val_bytes_node(brine_doc *doc, const uint8_t *p, size_t n, int borrowed) {
    if (!borrowed) return val_with_copy(doc, BRINE_BYTES, p, n);
    brine_value *v = val_new(doc, BRINE_BYTES);
    if (!v) return NULL;
    v->flags = VF_BORROWED;
    v->u.s.p = (const char *)p;
    v->u.s.n = n;
    return v;
}
/* BYTES made by a copying path (PyBytes_FromStringAndSize with data): the
 * empty and one-byte values are shared, as in CPython. */
brine_value *val_bytes_copy(brine_doc *doc, const uint8_t *p, size_t n);
/* BYTES made by a path that CPython allocates fresh (BINBYTES family): only
 * the empty bytes is shared. `data` is copied unless borrowed. */
VAL_HOT brine_value *val_bytes_fresh(brine_doc *doc, const uint8_t *p, size_t n, int borrowed) {
    return n ? val_bytes_node(doc, p, n, borrowed) : val_bytes_copy(doc, p, 0);
}
/* val_bytes_copy for data already in the arena: the node takes over `p`
 * (n >= 2) instead of copying it. */
brine_value *val_bytes_owned(brine_doc *doc, uint8_t *p, size_t n);
brine_value *val_bytearray(brine_doc *doc, const uint8_t *p, size_t n);
/* TUPLE taking over an arena array of n items (n may be 0: the singleton). */
brine_value *val_tuple_owned(brine_doc *doc, brine_value **items, size_t n);
brine_value *val_tuple_copy(brine_doc *doc, brine_value *const *items, size_t n);
brine_value *val_list_copy(brine_doc *doc, brine_value *const *items, size_t n);
/* An empty DICT, SET or FROZENSET; NULL on failure. Inline: EMPTY_DICT
 * makes one per record. */
brine_value *val_frozenset(brine_doc *doc);
VAL_HOT brine_value *val_container(brine_doc *doc, brine_kind kind) {
    if (kind == BRINE_FROZENSET) return val_frozenset(doc);
    return val_new(doc, kind);
}

/* Appends n items to a LIST / BYTEARRAY data; 0 or a brine_code. */
brine_code list_extend(brine_doc *doc, brine_value *list, brine_value *const *items, size_t n);
brine_code bytearray_extend(brine_doc *doc, brine_value *ba, const uint8_t *p, size_t n);

/* The node's op log (GLOBAL, OBJECT) or NULL. */
oplog *val_oplog(brine_value *v);
brine_code oplog_add(brine_doc *doc, oplog *log, brine_op_kind kind, brine_value *a,
                     brine_value *b);

/* The interned GLOBAL for (module, name). On first use the node takes
 * module_str and name_str as the str objects it was found with, or makes
 * fresh ones when they are NULL. */
brine_value *val_global(brine_doc *doc, const char *module, size_t mlen, const char *name,
                        size_t nlen, brine_value *module_str, brine_value *name_str);

/* A new OBJECT (recorded in doc->created). args and kwargs arrays are copied. */
brine_value *val_object(brine_doc *doc, brine_make make, uint8_t opcode, brine_value *callable,
                        brine_value *const *args, size_t nargs, brine_value *const *kwkeys,
                        brine_value *const *kwvals, size_t nkw);
brine_value *val_persid(brine_doc *doc, brine_value *pid);

int ptrvec_push(brine_arena *a, ptrvec *v, brine_value *item);

/* Number of code points in valid WTF-8. */
size_t wtf8_count(const char *p, size_t n);

/* Computes doc->discarded from doc->created and the root (decoder's job). */
int doc_compute_discarded(brine_doc *doc);

/* Value of an INT as a bigint view: uses `tmp` (2 limbs) for small ints. */
struct bi;
void val_int_view(const brine_value *v, uint32_t tmp[2], struct bi *out);

#endif
