/*
 * encode.h - the pickler's state, shared by encode*.c.
 *
 * The encoder is CPython 3.11's C pickler (Modules/_pickle.c) run over brine
 * nodes instead of Python objects. CPython's save() recurses; here every
 * save that has children pushes a frame on an explicit stack, and the
 * driver loop in encode.c steps the top frame until it is done, so graphs of
 * any depth are written with memory proportional to their depth.
 *
 * Identity is CPython's: the memo maps node pointers to memo indices.
 * Objects CPython creates itself while pickling (the args tuple of every
 * reduce, the list handed to set() below protocol 4, the latin-1 str of a
 * bytes below protocol 3, ...) are either "fresh" (frames with node NULL:
 * they take a memo index but can never be fetched again) or private nodes
 * made in the encoder's own arena when something may refer to them twice.
 *
 * Layout:
 *   encode.c            options, driver loop, output buffer and framing
 *   encode_memo.c       the memo: node -> memo index, PUT and GET (its
 *                       fast paths inline in encode_memo.h)
 *   encode_atoms.c      None, bool, int, float, str, bytes, bytearray,
 *                       pickle buffers, persistent ids at protocol 0
 *   encode_containers.c tuple, list, dict, set, frozenset and the batching
 *                       of APPENDS / SETITEMS / ADDITEMS
 *   encode_objects.c    globals, objects (REDUCE, NEWOBJ, NEWOBJ_EX), their
 *                       recorded operations
 *   encode_discarded.c  state setters, the popped items of containers
 *                       written twice, the other discarded nodes: the plan
 *   encode_twins.c      which object each popped copy of a reduce copies
 *   encode_alike.c      when two nodes can be one object to the pickler
 *   encode_reduce.c     the reductions CPython uses for values that have no
 *                       opcode at the protocol (bytes, bytearray, set,
 *                       frozenset, complex, dotted names, NEW below 4),
 *                       made of private nodes
 */
#ifndef BRINE_ENCODE_H
#define BRINE_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "ptrmap.h"
#include "value.h"

/* Pickle opcodes the encoder writes. */
enum {
    OP_MARK = '(',
    OP_STOP = '.',
    OP_POP = '0',
    OP_POP_MARK = '1',
    OP_FLOAT = 'F',
    OP_BINFLOAT = 'G',
    OP_INT = 'I',
    OP_BININT = 'J',
    OP_BININT1 = 'K',
    OP_BININT2 = 'M',
    OP_LONG = 'L',
    OP_NONE = 'N',
    OP_PERSID = 'P',
    OP_BINPERSID = 'Q',
    OP_REDUCE = 'R',
    OP_UNICODE = 'V',
    OP_BINUNICODE = 'X',
    OP_BINBYTES = 'B',
    OP_SHORT_BINBYTES = 'C',
    OP_APPEND = 'a',
    OP_BUILD = 'b',
    OP_GLOBAL = 'c',
    OP_DICT = 'd',
    OP_EMPTY_DICT = '}',
    OP_APPENDS = 'e',
    OP_GET = 'g',
    OP_BINGET = 'h',
    OP_LONG_BINGET = 'j',
    OP_LIST = 'l',
    OP_EMPTY_LIST = ']',
    OP_PUT = 'p',
    OP_BINPUT = 'q',
    OP_LONG_BINPUT = 'r',
    OP_SETITEM = 's',
    OP_TUPLE = 't',
    OP_EMPTY_TUPLE = ')',
    OP_SETITEMS = 'u',
    OP_PROTO = 0x80,
    OP_NEWOBJ = 0x81,
    OP_TUPLE1 = 0x85,
    OP_TUPLE2 = 0x86,
    OP_TUPLE3 = 0x87,
    OP_NEWTRUE = 0x88,
    OP_NEWFALSE = 0x89,
    OP_LONG1 = 0x8a,
    OP_LONG4 = 0x8b,
    OP_SHORT_BINUNICODE = 0x8c,
    OP_BINUNICODE8 = 0x8d,
    OP_BINBYTES8 = 0x8e,
    OP_EMPTY_SET = 0x8f,
    OP_ADDITEMS = 0x90,
    OP_FROZENSET = 0x91,
    OP_NEWOBJ_EX = 0x92,
    OP_STACK_GLOBAL = 0x93,
    OP_MEMOIZE = 0x94,
    OP_FRAME = 0x95,
    OP_BYTEARRAY8 = 0x96,
    OP_NEXT_BUFFER = 0x97,
    OP_READONLY_BUFFER = 0x98,
};

enum {
    ENC_BATCHSIZE = 1000,         /* BATCHSIZE in _pickle.c */
    ENC_FRAME_TARGET = 64 * 1024, /* FRAME_SIZE_TARGET */
    ENC_FRAME_MIN = 4,            /* FRAME_SIZE_MIN */
    ENC_FRAME_HEADER = 9,         /* FRAME + 8-byte length */
    ENC_FLUSH_AT = 64 * 1024,     /* unframed output is handed on in pieces this big */
    ENC_RECENT = 8,               /* encoder.recent */
};

/* Frame kinds: one per CPython function that recurses through save(). */
typedef enum eframe_kind {
    EF_ROOT,      /* dump(): discarded nodes, the root, STOP */
    EF_POP,       /* save(node) POP: a discarded node written before the root */
    EF_TUPLE,     /* save_tuple */
    EF_LIST,      /* save_list */
    EF_DICT,      /* save_dict */
    EF_SET,       /* save_set, protocol >= 4 */
    EF_FROZENSET, /* save_frozenset, protocol >= 4 */
    EF_REDUCE,    /* save_reduce up to the memo check */
    EF_OPS,       /* save_reduce after it: listitems, dictitems, state, setters */
    EF_GLOBAL4,   /* save_global with STACK_GLOBAL */
    EF_SETTER,    /* save_reduce's state_setter call */
    EF_PERSID,    /* save_pers, protocol >= 1 */
    EF_VIEW,      /* READONLY_VIEW: save(target) READONLY_BUFFER */
} eframe_kind;

/* Where the units of a batched run come from. A unit is one node (list
 * items, set elements, EXTEND and ADD operands) or a pair (dict entries,
 * keyword arguments, SETITEM operands). */
typedef enum eseq_src {
    SEQ_ARRAY, /* u.items[i] */
    SEQ_PAIRS, /* u.items[i], vals[i] */
    SEQ_DICT,  /* u.entries[i].key, .value */
    SEQ_SET,   /* u.entries[i].key */
    SEQ_OPS1,  /* u.ops[i].a */
    SEQ_OPS2,  /* u.ops[i].a, .b */
} eseq_src;

/* How a run is cut into MARK ... APPENDS groups (see encode_containers.c). */
typedef enum ebatch_mode {
    BM_LIST_EXACT, /* batch_list_exact */
    BM_DICT_EXACT, /* batch_dict_exact */
    BM_SET,        /* save_set's loop */
    BM_ITER,       /* batch_list / batch_dict over an iterator, protocol >= 1 */
    BM_SINGLE,     /* protocol 0: APPEND / SETITEM after every unit */
    BM_ADD,        /* ADD operations: MARK ... ADDITEMS per 1000 */
} ebatch_mode;

/* The units a frame saves (their source and width are in the frame). */
typedef struct eseq {
    union {
        brine_value *const *items;
        const bentry *entries;
        const oprec *ops;
    } u;
    brine_value *const *vals; /* SEQ_PAIRS */
    size_t n;                 /* units */
} eseq;

/* State of a batched run inside a frame. */
typedef struct ebatch {
    uint8_t mode;     /* ebatch_mode */
    uint8_t single;   /* the current group is `unit APPEND`, not MARK ... APPENDS */
    uint8_t in_group; /* a group is open */
    uint8_t started;  /* at least one group was written */
    uint8_t lastfull; /* the last group had ENC_BATCHSIZE units */
    uint8_t half;     /* next node of the current unit */
    uint8_t op1, opn; /* closing opcodes: single form, MARK form */
    size_t pos;       /* units written */
    size_t gend;      /* end of the open group */
} ebatch;

/* One save in progress. Frames are kept small (104 bytes): a graph 10**6
 * deep needs as many. */
typedef struct eframe {
    uint8_t kind;            /* eframe_kind */
    uint8_t state;           /* kind-specific progress */
    uint8_t counted;         /* node is in the recursion guard (enc_enter) */
    uint8_t op;              /* EF_REDUCE: REDUCE, NEWOBJ or NEWOBJ_EX */
    uint8_t src;             /* eseq_src of seq */
    uint8_t width;           /* nodes per unit of seq: 1 or 2 */
    const brine_value *node; /* the object saved (memo key); NULL when fresh */
    uint64_t gen;            /* counted: encoder.memo_gen + 1 when the save started */
    eseq seq;                /* items, entries, operations; EF_REDUCE: the args */
    union {
        struct { /* containers, batched runs, EF_OPS, EF_ROOT */
            ebatch b;
            size_t k; /* EF_OPS: next operation, then next setter; EF_ROOT: next discarded */
        };
        struct { /* EF_REDUCE */
            const brine_value *callable;
            const brine_value *args_node;   /* saved as is; else a fresh tuple of seq */
            const brine_value *kwargs_node; /* NEWOBJ_EX: saved as is; else a fresh dict */
            const brine_value *post_memo;   /* memoized after the reduce (dotted globals) */
            brine_value *const *kwkeys;     /* NEWOBJ_EX: fresh dict kwkeys -> kwvals */
            brine_value *const *kwvals;
            size_t nkw;
        };
    };
} eframe;

/* One state setter call to write after an object's operations. */
typedef struct esetter {
    const brine_value *call; /* call(setter, (obj, state)); NULL: a popped copy */
    size_t next;             /* next setter of the same object + 1, or 0 */
} esetter;

/* A persistent id popped with a container's outer copy (encoder.popped). */
typedef struct epopped {
    const brine_value *pid; /* the container's item */
    uint64_t where;
} epopped;

typedef struct epopvec {
    epopped *items;
    size_t n, cap;
} epopvec;

/* The memo's arrays for one arena chunk (encode_memo.c). */
typedef struct ememo_chunk {
    uintptr_t lo, hi; /* the chunk's bytes */
    uintptr_t span;   /* hi - lo once the arrays are there, 0 before: one compare */
    /* Per node, (address - lo) >> EMEMO_SHIFT: its memo index - its
     * page's base + 1, 0 when absent, EMEMO_ELSEWHERE when in `other`.
     * NULL until a node of the chunk is memoized. */
    uint16_t *idx;
    /* Per page of 1 << EMEMO_PAGE_SHIFT nodes: the first memo index put
     * there + 1, 0 before. Memo indices only grow, so the others are past
     * it. */
    uint32_t *base;
    void *res; /* its arrays' place in ememo.block, not zeroed yet; NULL: its own */
} ememo_chunk;

enum {
    EMEMO_SHIFT = 5,          /* log2 of a full node's size: one entry per 32 bytes
                               * (16-byte FLOAT and INT nodes are never memoized) */
    EMEMO_PAGE_SHIFT = 7,     /* log2 of the nodes per page (4 KB of arena) */
    EMEMO_HINTS = 64,         /* chunk guesses, by 2 MB of address */
    EMEMO_ELSEWHERE = 0xffff, /* an idx entry: the node is in ememo.other */
};

typedef struct ememo {
    ememo_chunk *chunks; /* sorted by address */
    size_t n, cap;
    const ememo_chunk *hint[EMEMO_HINTS]; /* a chunk to try first, in chunks */
    const void *seen_doc, *seen_enc;      /* newest chunk of each arena already added */
    /* The arrays of the document's chunks, in one block: allocated before
     * any output reaches the caller, so that the caller's buffer grows past
     * them rather than between them. */
    void *block;
    size_t block_size;
    /* Nodes outside the chunks, indices past 32 bits or too far past
     * their page's base. */
    ptrmap other;
} ememo;

typedef struct encoder {
    const brine_doc *doc;
    const brine_encode_options *opts;
    int proto;
    brine_alloc alloc;

    /* output (encode.c) */
    brine_write_fn write;
    void *ctx;
    uint8_t *buf;
    size_t len, cap;
    /* out_reserve writes in place while len + n < lim (<= cap): 0 while a
     * frame has to be opened first or unframed output handed on. */
    size_t lim;
    int framing;        /* protocol >= 4, after PROTO */
    size_t frame_start; /* offset of the open frame's header, or SIZE_MAX */
    /* frame_start + ENC_FRAME_HEADER + ENC_FRAME_TARGET: the length from
     * which out_boundary closes the open frame; SIZE_MAX when none is. */
    size_t frame_full;
    uint64_t written; /* bytes handed to the callback */

    /* memo (encode_memo.c) */
    ememo memo;
    uint64_t memo_len;
    /* recursion guard (encode.c): memo_gen counts the memo_puts of objects
     * that can be fetched again (not ENC_FRESH). The nodes whose saves
     * (tuple, frozenset, reduce) started since the last of them and are
     * still in progress, outermost first: the first ENC_RECENT in recent,
     * the others in recent_more. */
    uint64_t memo_gen;
    const brine_value *recent[ENC_RECENT];
    size_t nrecent;
    ptrmap recent_more;

    /* frames (encode.c) */
    eframe *stack;
    size_t sp, stack_cap;

    /* private nodes (encode_reduce.c) */
    brine_arena arena;
    const brine_value **gtab; /* globals by (module, name): the document's, then private */
    size_t gmask, gn;         /* gtab slots - 1 (0 before indexing), entries */
    brine_value *str1[257];   /* private one-character strs, [256] = '' */
    brine_value *latin1;      /* the interned 'latin1' */
    brine_value *object_new;  /* object.__new__, as getattr(object, '__new__') */

    /* discarded nodes (encode_discarded.c) */
    ptrmap setter_of; /* object -> index + 1 of its first setter */
    /* object -> 1 + index in the discarded list of its last popped copy
     * (recursive reduce) not yet written; twin_next[i] is the one made
     * before discarded node i, + 1 (0: none). An object saved n times over
     * before it is memoized leaves n - 1 copies, the outermost made last. */
    ptrmap twin_of;
    size_t *twin_next;
    esetter *setters;
    size_t nsetters;
    const brine_value **before_root; /* discarded nodes written before the root */
    size_t *before_index;            /* their places in the discarded list */
    size_t nbefore;
    size_t writing_before; /* 1 + which before_root node is being written, 0 after */
    /* The persistent ids written as items of the outer copy of a tuple or
     * frozenset written twice (popped with it), in order, each with where:
     * 0 while the root was written, else 2 * (1 + the discarded-list index
     * of the node being written before the root) + 1 if that node was made
     * already. Recorded by a first pass that writes nothing when the
     * document has discarded persistent ids (record_popped), read by the
     * plan of the second (cover_popped_items). NULL when neither. */
    epopvec *popped;
    int record_popped;
    /* Object -> how many popped copies of it (recursive reduces) the first
     * pass wrote, when there is one (NULL otherwise): the second pass's
     * plan makes as many of its discarded look-alikes copies (match_twins). */
    ptrmap *copies;

    brine_code code;
    const char *msg;
} encoder;

/* What becomes of each discarded node (encode_discarded.c's plan). */
enum {
    D_BEFORE,  /* written before the root: save(node) POP */
    D_SETTER,  /* a state setter call, written after its object */
    D_TWIN,    /* a recursive reduce's popped copy: the recursion writes it */
    D_SUBST,   /* the popped copy of a discarded object: write that object */
    D_COVERED, /* written where the root or another discarded node reaches it */
    D_ROOT,    /* the root reaches it: not discarded at all */
    D_POPPED,  /* a persistent id popped with a container's outer copy */
};

/* Sorts out the popped copies among the discarded nodes (encode_twins.c):
 * `twins` and `stwins` chain (through next[]) the candidates made like
 * reduce twins and like state setters, by enc_making_hash; cls[] and
 * match[] receive each one's fate (D_TWIN, D_SUBST or D_BEFORE, and the
 * object copied); setter_at[i] is discarded setter i's entry in
 * encoder.setters + 1; inside[i] is set when a later discarded node
 * reaches node i; from_root holds what the root writes. Fills
 * encoder.twin_of / twin_next. 0, or -1 on failure (encoder error set). */
int enc_match_twins(encoder *e, const ptrmap *twins, const ptrmap *stwins, const size_t *next,
                    uint8_t *cls, const brine_value **match, const size_t *setter_at,
                    const uint8_t *inside, const ptrmap *from_root);

/* brine_value.spare of a private node standing for an object CPython makes
 * afresh for one save (the list of set(list), the str of a bytes below
 * protocol 3, ...): it is memoized but never fetched again. */
#define ENC_FRESH 1

/* --- encode.c --- */

/* Records the first failure; always returns -1. msg is static or NULL. */
int enc_fail(encoder *e, brine_code code, const char *msg);
/* Writes op, '-' when neg, x in decimal and a newline (the protocol 0
 * forms of INT, PUT and GET). */
int enc_write_decimal_line(encoder *e, uint8_t op, int neg, uint64_t x);

/* out_reserve when the fast path cannot: opens a frame, hands on unframed
 * output, grows the buffer. */
uint8_t *out_reserve_slow(encoder *e, size_t n);
/* Room for n bytes at the end of the output, for writing in place; the
 * bytes count as written. NULL after a failure. Inline: every opcode goes
 * through it. */
static inline uint8_t *out_reserve(encoder *e, size_t n) {
    if (e->len + n < e->lim) {
        uint8_t *p = e->buf + e->len;
        e->len += n;
        return p;
    }
    return out_reserve_slow(e, n);
}
/* _Pickler_Write: appends to the output, opening a frame when framing and
 * no frame is open. */
static inline int out_write(encoder *e, const void *p, size_t n) {
    uint8_t *dst = out_reserve(e, n);
    if (!dst) return -1;
    if (n) memcpy(dst, p, n);
    return 0;
}
static inline int out_byte(encoder *e, uint8_t c) {
    uint8_t *dst = out_reserve(e, 1);
    if (!dst) return -1;
    *dst = c;
    return 0;
}
/* _Pickler_write_bytes: a header and a payload; payloads of 64 KiB and more
 * bypass framing. */
int out_write_bytes(encoder *e, const uint8_t *header, size_t hlen, const void *data, size_t dlen);
/* An opcode, a one-byte length and n <= 255 bytes (SHORT_BINUNICODE,
 * SHORT_BINBYTES): one reservation. */
static inline int out_write_short(encoder *e, uint8_t op, const void *data, size_t n) {
    uint8_t *p = out_reserve(e, 2 + n);
    if (!p) return -1;
    p[0] = op;
    p[1] = (uint8_t)n;
    if (n <= 32)
        copy_short(p + 2, data, n);
    else
        memcpy(p + 2, data, n);
    return 0;
}
/* Commits the open frame and hands it on (out_boundary's slow path). */
int out_end_frame(encoder *e);
/* _Pickler_OpcodeBoundary, called where save() starts: a frame that holds
 * ENC_FRAME_TARGET bytes is closed. frame_full is SIZE_MAX whenever no
 * frame is open, so always when not framing. */
static inline int out_boundary(encoder *e) {
    if (e->len < e->frame_full) return 0;
    return out_end_frame(e);
}

/* Records the persistent id items of the tuple or frozenset node, whose
 * outer copy is being popped, when the pass records them (encoder.popped).
 * 0, or -1 when out of memory. */
int enc_note_recursed(encoder *e, const brine_value *node);
/* Pushes a frame (zeroed apart from kind and node). NULL on failure. The
 * pointer is valid until the next push. */
eframe *enc_push(encoder *e, eframe_kind kind, const brine_value *node);
/* Enters f->node into the recursion guard; fails when the node is already
 * being saved and no object that can be fetched again was memoized since
 * that save started: CPython's save() then repeats itself until
 * RecursionError. */
int enc_enter(encoder *e, eframe *f);
/* Leaves the recursion guard (undoes enc_enter for frame f). */
void enc_leave(encoder *e, eframe *f);

/* Doubles the capacity of items, an array of *cap elements of `size` bytes
 * (NULL with *cap 0: it gets `first`), in the encoder's allocator. The
 * array, moved or not, with *cap updated; NULL when out of memory (encoder
 * error set), items and *cap then unchanged. */
void *enc_grow(encoder *e, void *items, size_t *cap, size_t size, size_t first);

/* A growable stack of nodes for the graph walks (mark, walk, save_order),
 * in the encoder's allocator. Starts empty ({0}). */
typedef struct enode_stack {
    const brine_value **items;
    size_t n, cap;
} enode_stack;
/* Pushes v: 0, or -1 when out of memory (encoder error set). */
int enc_stack_push(encoder *e, enode_stack *s, const brine_value *v);
/* Frees the stack's memory (an empty one has none). */
void enc_stack_free(encoder *e, enode_stack *s);

/* Adds root and everything reachable from it to seen. -1 on failure. */
int enc_mark_reachable(encoder *e, ptrmap *seen, const brine_value *root);
/* The same, as save(root) reaches nodes: with the globals of reductions
 * (enc_reduce_globals). */
int enc_mark_written(encoder *e, ptrmap *seen, const brine_value *root);

/* save(v): boundary, then atoms and memo hits are written at once (0);
 * anything with children pushes a frame (1). -1 on failure. */
int enc_save(encoder *e, const brine_value *v);

/* --- encode_atoms.c --- */
int enc_save_bool(encoder *e, const brine_value *v);
int enc_save_int(encoder *e, const brine_value *v);
int enc_save_float_bits(encoder *e, uint64_t bits);
int enc_save_str(encoder *e, const brine_value *v);
/* Bytes and bytearray payloads with their memo_put (protocols 3+ / 5). */
int enc_save_bytes_data(encoder *e, const brine_value *key, const uint8_t *p, size_t n);
int enc_save_bytearray_data(encoder *e, const brine_value *key, const uint8_t *p, size_t n);
int enc_save_picklebuffer(encoder *e, const brine_value *v);
int enc_save_persid0(encoder *e, const brine_value *pid);

/* --- encode_containers.c --- */
/* save(tuple of items) for a tuple CPython creates while pickling. */
int enc_save_fresh_tuple(encoder *e, brine_value *const *items, size_t n);
/* save(dict) for a dict CPython creates while pickling (keys -> vals). */
int enc_save_fresh_dict(encoder *e, brine_value *const *keys, brine_value *const *vals, size_t n);
int enc_push_tuple(encoder *e, const brine_value *v, brine_value *const *items, size_t n);
int enc_push_list(encoder *e, const brine_value *v);
int enc_push_dict(encoder *e, const brine_value *v);
int enc_push_set(encoder *e, const brine_value *v);
int enc_step_tuple(encoder *e, size_t fi);
int enc_step_list(encoder *e, size_t fi);
int enc_step_dict(encoder *e, size_t fi);
int enc_step_set(encoder *e, size_t fi);
int enc_step_frozenset(encoder *e, size_t fi);
/* Sets up a batched run in frame f. */
void enc_batch_init(eframe *f, ebatch_mode mode, uint8_t op1, uint8_t opn);
/* Advances the batched run of frame fi: 0 when it is complete, 1 when a
 * child frame was pushed, -1 on failure. */
int enc_batch_step(encoder *e, size_t fi);

/* --- encode_objects.c --- */
int enc_save_global(encoder *e, const brine_value *g);
int enc_save_object(encoder *e, const brine_value *v);
/* Pushes a reduce frame: save(callable), save(args), opcode, then the memo
 * check of obj (NULL: none) and obj's operations. */
eframe *enc_push_reduce(encoder *e, const brine_value *callable, const brine_value *obj,
                        uint8_t op);
int enc_step_reduce(encoder *e, size_t fi);
int enc_step_ops(encoder *e, size_t fi);
int enc_step_global4(encoder *e, size_t fi);

/* --- encode_discarded.c --- */
int enc_step_setter(encoder *e, size_t fi);
/* Sorts the document's discarded nodes into state setters (written after
 * their object), reduce twins (written by the recursion itself) and the
 * rest (written before the root). */
int enc_plan_discarded(encoder *e);

/* --- encode_alike.c --- */
/* Whether a and b are one object as far as a stream can tell: the same
 * node, or atoms CPython never memoizes (numbers, persistent ids,
 * out-of-band buffers, read-only views) equal by value. */
int enc_same_atom(const encoder *e, const brine_value *a, const brine_value *b);
/* A hash of v that enc_same_atom keeps. */
uint64_t enc_atom_hash(const brine_value *v);
/* Whether objects d and x are made alike (callable, arguments, keyword
 * arguments), as a popped copy is made like its object. */
int enc_same_making(const encoder *e, const brine_value *d, const brine_value *x);
/* A hash of how object v was made that enc_same_making keeps; never 0 (it
 * is used as a ptrmap key). */
uintptr_t enc_making_hash(const brine_value *v);

/* --- encode_reduce.c --- */
/* Whether save() writes v through save_reduce at this protocol: objects,
 * and the values the protocol has no opcode for. Symbolic decoding turns
 * the latter into objects, so anything that depends on "is an object"
 * (state setters) asks this instead, or the bytes would change on the way
 * through decode. */
int enc_written_by_reduce(const encoder *e, const brine_value *v);
/* save() of values that CPython pickles through save_reduce at this
 * protocol: bytes < 3, bytearray < 5, set and frozenset < 4, complex. */
int enc_save_bytes_reduce(encoder *e, const brine_value *v);
int enc_save_bytearray_reduce(encoder *e, const brine_value *v);
int enc_save_set_reduce(encoder *e, const brine_value *v);
int enc_save_complex(encoder *e, const brine_value *v);
/* The global CPython pickles for (module, name): the document's node when
 * it has one, else a private node made once per dump. */
const brine_value *enc_global(encoder *e, const char *module, size_t mlen, const char *name,
                              size_t nlen);
/* The document's globals that save(v) writes in a reduction at this
 * protocol (builtins.set for a set below 4, the parent of a dotted name,
 * ...) into out; how many (at most 3), or -1 on failure. A global's
 * operations are written where it is first saved, so what reaches v
 * reaches them too. */
int enc_reduce_globals(encoder *e, const brine_value *v, const brine_value *out[3]);
/* save_global for a dotted name below protocol 4: getattr(parent, last). */
int enc_save_dotted_global(encoder *e, const brine_value *g, size_t dot);
/* NEW objects below protocol 2 and NEW objects with keyword arguments below
 * 4; `made` holds the arguments to write (v's, or its popped copy's). */
int enc_save_new_reduce(encoder *e, const brine_value *v, const bobject *made, int with_kwargs);
/* A private str node; empty and one-character strs below U+0100 are the
 * document's singletons (or private ones), as in CPython. */
brine_value *enc_str(encoder *e, const char *p, size_t n);
/* Frees the private nodes. */
void enc_reduce_free(encoder *e);

#endif
