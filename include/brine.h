/*
 * brine.h - libbrine, a pickle codec that never runs code.
 *
 * libbrine reads Python pickle streams (protocols 0 to 5) into a value graph
 * that mirrors what CPython 3.11's C unpickler builds when its find_class()
 * returns inert stubs, writes such graphs back as the exact bytes CPython's
 * pickler writes, prints and reads the canonical text of a graph
 * (docs/canonical.md), and disassembles streams like pickletools.
 *
 * Conventions used throughout this header:
 *  - Every value lives in the arena of one brine_doc and is freed, with all
 *    other values of that document, by one call to brine_doc_free().
 *    Pointers to values are never owned by the caller.
 *  - Functions that can fail take a brine_error *err (which may be NULL) and
 *    report failure through their return value (NULL, 0 or -1, as documented)
 *    and, when err is not NULL, through *err.
 *  - Strings passed in are not retained unless documented otherwise; the
 *    library copies what it keeps.
 *  - Python `str` values are stored as "surrogate-permissive UTF-8": UTF-8
 *    in which lone surrogates U+D800..U+DFFF are encoded as ordinary 3-byte
 *    sequences (what Python's "surrogatepass" error handler produces). Every
 *    Python str has exactly one such encoding.
 */
#ifndef BRINE_H
#define BRINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BRINE_VERSION_STRING   "0.1.0"
#define BRINE_HIGHEST_PROTOCOL 5
#define BRINE_DEFAULT_PROTOCOL 4

/* ------------------------------------------------------------------------ */
/* Allocation                                                                */
/* ------------------------------------------------------------------------ */

/* A caller-supplied allocator. `realloc` and `free` receive the size the
 * block was allocated with, so that sized allocators can be plugged in.
 * Passing NULL wherever a `const brine_alloc *` is expected selects the C
 * library's malloc, realloc and free. */
typedef struct brine_alloc {
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
    void (*free)(void *ctx, void *ptr, size_t size);
    void *ctx;
} brine_alloc;

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/* One code per distinct failure. brine_error_pyclass() names the Python
 * exception class CPython raises for the same failure. The full table, with
 * messages, is in src/errors.c. */
typedef enum brine_code {
    BRINE_OK = 0,
    /* resources and usage */
    BRINE_E_NOMEM,        /* MemoryError: the allocator failed */
    BRINE_E_LIMIT_MEMORY, /* MemoryError: options.max_memory exceeded */
    BRINE_E_LIMIT_MEMO,   /* MemoryError: options.max_memo exceeded */
    BRINE_E_LIMIT_MARKS,  /* MemoryError: options.max_marks exceeded */
    BRINE_E_USAGE,        /* ValueError: invalid argument to a brine function */
    BRINE_E_IO,           /* OSError: the write callback failed */
    /* stream structure (UnpicklingError unless noted) */
    BRINE_E_EOF,                /* EOFError: Ran out of input */
    BRINE_E_TRUNCATED,          /* pickle data was truncated */
    BRINE_E_BAD_OPCODE,         /* invalid load key */
    BRINE_E_STACK_UNDERFLOW,    /* unpickling stack underflow */
    BRINE_E_UNEXPECTED_MARK,    /* unexpected MARK found */
    BRINE_E_NO_MARK,            /* could not find MARK */
    BRINE_E_MEMO_MISSING,       /* Memo value not found at index */
    BRINE_E_ODD_DICT,           /* odd number of items for DICT */
    BRINE_E_ODD_SETITEMS,       /* odd number of items for SETITEMS */
    BRINE_E_STRING_QUOTES,      /* the STRING opcode argument must be quoted */
    BRINE_E_LONG_NEGATIVE,      /* LONG pickle has negative byte count */
    BRINE_E_NEWOBJ_CLS,         /* NEWOBJ class argument must be a type */
    BRINE_E_NEWOBJ_ARGS,        /* NEWOBJ args argument must be a tuple */
    BRINE_E_NEWOBJ_KWARGS,      /* NEWOBJ_EX kwargs argument must be a dict */
    BRINE_E_STACK_GLOBAL,       /* STACK_GLOBAL requires str */
    BRINE_E_PERSID_ASCII,       /* persistent IDs in protocol 0 must be ASCII strings */
    BRINE_E_EXT_CODE,           /* EXT specifies code <= 0 */
    BRINE_E_STATE_NOT_DICT,     /* state is not a dictionary */
    BRINE_E_SLOTSTATE_NOT_DICT, /* slot state is not a dictionary */
    BRINE_E_NO_BUFFERS,         /* out-of-band data but no buffers argument */
    BRINE_E_FEW_BUFFERS,        /* not enough out-of-band buffers */
    BRINE_E_READ_OVERFLOW,      /* read would overflow (invalid bytecode) */
    /* ValueError */
    BRINE_E_INT_PARSE,        /* INT: could not convert string to int */
    BRINE_E_LONG_PARSE,       /* LONG, GET, PUT: invalid literal for int() */
    BRINE_E_INT_DIGITS,       /* LONG, GET, PUT: exceeds the limit (4300 digits) */
    BRINE_E_FLOAT_PARSE,      /* could not convert string to float */
    BRINE_E_PROTO,            /* unsupported pickle protocol */
    BRINE_E_NEGATIVE_PUT,     /* negative PUT argument */
    BRINE_E_EXT_UNREGISTERED, /* unregistered extension code */
    BRINE_E_ESCAPE,           /* STRING: invalid \x escape / trailing \ */
    BRINE_E_BYTE_RANGE,       /* byte must be in range(0, 256) */
    /* OverflowError */
    BRINE_E_SIZE_OVERFLOW,  /* a length exceeds the system's maximum size */
    BRINE_E_FLOAT_OVERFLOW, /* value too large to convert to float */
    BRINE_E_INDEX_OVERFLOW, /* Python int too large to convert to C ssize_t */
    /* TypeError */
    BRINE_E_NOT_CALLABLE,     /* object is not callable */
    BRINE_E_ARGS_NOT_TUPLE,   /* argument list must be a tuple */
    BRINE_E_UNHASHABLE,       /* unhashable type */
    BRINE_E_NO_SETITEM,       /* object does not support item assignment */
    BRINE_E_INDEX_TYPE,       /* indices must be integers */
    BRINE_E_ATTR_NAME_TYPE,   /* attribute name must be string */
    BRINE_E_CLASS_ASSIGN,     /* __class__ assignment */
    BRINE_E_NOT_BUFFER,       /* a bytes-like object is required */
    BRINE_E_NOT_INTEGER,      /* object cannot be interpreted as an integer */
    BRINE_E_KEYWORDS_NOT_STR, /* keywords must be strings */
    BRINE_E_READONLY,         /* cannot modify read-only memory */
    BRINE_E_HANDLER_TYPE,     /* error handler cannot handle UnicodeDecodeError */
    /* BufferError */
    BRINE_E_BUFFER_EXPORT, /* Existing exports of data: object cannot be re-sized */
    /* AttributeError, IndexError */
    BRINE_E_NO_ATTRIBUTE, /* object has no attribute ... */
    BRINE_E_INDEX_RANGE,  /* index out of range */
    /* codecs */
    BRINE_E_UNICODE_DECODE,   /* UnicodeDecodeError */
    BRINE_E_UNICODE_ENCODE,   /* UnicodeEncodeError */
    BRINE_E_UNKNOWN_ENCODING, /* LookupError: unknown encoding */
    BRINE_E_UNKNOWN_ERRORS,   /* LookupError: unknown error handler name */
    /* encoder */
    BRINE_E_PICKLING,        /* PicklingError */
    BRINE_E_ENCODE_VALUE,    /* ValueError raised while pickling */
    BRINE_E_ENCODE_OVERFLOW, /* OverflowError raised while pickling */
    /* canonical text reader */
    BRINE_E_SYNTAX, /* ValueError: malformed canonical text */
    BRINE_E__COUNT
} brine_code;

/* Where and why an operation failed. All strings are static. */
typedef struct brine_error {
    brine_code code;
    const char *pyclass; /* e.g. "UnpicklingError"; NULL when code is BRINE_OK */
    const char *msg;     /* static message, without the offset */
    size_t offset;       /* byte offset of the failing opcode, or of the text position */
    size_t line;         /* canonical text reader: 1-based line; 0 elsewhere */
    size_t column;       /* canonical text reader: 1-based column; 0 elsewhere */
} brine_error;

/* The Python exception class CPython raises for `code` ("UnpicklingError",
 * "EOFError", ...). Never NULL for a valid code; NULL for BRINE_OK. */
const char *brine_error_pyclass(brine_code code);

/* The static message for `code`. Never NULL for a valid code. */
const char *brine_error_message(brine_code code);

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum brine_kind {
    BRINE_NONE,
    BRINE_BOOL,
    BRINE_INT,   /* arbitrary precision */
    BRINE_FLOAT, /* exact IEEE-754 bits, NaN payloads kept */
    BRINE_COMPLEX,
    BRINE_STR, /* surrogate-permissive UTF-8 */
    BRINE_BYTES,
    BRINE_BYTEARRAY,
    BRINE_TUPLE,
    BRINE_LIST,
    BRINE_DICT, /* insertion order, Python key semantics */
    BRINE_SET,  /* insertion order, Python element semantics */
    BRINE_FROZENSET,
    BRINE_GLOBAL,       /* (module, qualified name), one node per name per document */
    BRINE_OBJECT,       /* made by calling or instantiating a global or object */
    BRINE_PERSID,       /* result of a persistent-id load with no callback */
    BRINE_PICKLEBUFFER, /* the n-th out-of-band buffer */
    BRINE_READONLY_VIEW /* READONLY_BUFFER applied to a writable buffer or bytearray */
} brine_kind;

/* How an object node was made. CALL covers REDUCE and INST/OBJ with
 * arguments (callable(*args)); NEW covers NEWOBJ, NEWOBJ_EX and INST/OBJ
 * without arguments (cls.__new__(cls, *args, **kwargs)). */
typedef enum brine_make { BRINE_MAKE_CALL = 0, BRINE_MAKE_NEW = 1 } brine_make;

/* What the stream did to a global or object node after making it, in order. */
typedef enum brine_op_kind {
    BRINE_OP_EXTEND,  /* one item appended by APPEND/APPENDS (a = item) */
    BRINE_OP_SETITEM, /* SETITEM/SETITEMS (a = key, b = value) */
    BRINE_OP_ADD,     /* one item of ADDITEMS (a = item) */
    BRINE_OP_SETSTATE /* BUILD (a = state) */
} brine_op_kind;

typedef struct brine_value brine_value;
typedef struct brine_doc brine_doc;

/* Creates an empty document (root NULL). Returns NULL when allocation fails.
 * `alloc` is copied; NULL selects the C library allocator. */
brine_doc *brine_doc_new(const brine_alloc *alloc);

/* Frees the document and every value in it. NULL is a no-op. */
void brine_doc_free(brine_doc *doc);

/* The root value, or NULL for an empty document. */
brine_value *brine_doc_root(const brine_doc *doc);

/* Sets the root. `v` must belong to `doc`. */
void brine_doc_set_root(brine_doc *doc, brine_value *v);

/* Object and persistent-id nodes made while decoding that the root does not
 * reach (calls whose results the stream popped, state setters), in the order
 * they were made. Printed after the root in canonical text. */
size_t brine_doc_discarded_count(const brine_doc *doc);
brine_value *brine_doc_discarded(const brine_doc *doc, size_t i);

/* Appends `v` (an object or persid node of `doc`) to the discarded list.
 * Returns 0, or -1 when allocation fails. Add only nodes the root does not
 * reach, each once, and none that an earlier discarded node reaches: that
 * is the list the decoder makes, the only one the canonical text can
 * express (brine_canon_write prints any list, but brine_canon_read rejects
 * a discarded node reached from above), and brine_encode writes a node the
 * root reaches where the root reaches it. */
int brine_doc_add_discarded(brine_doc *doc, brine_value *v);

/* Number of nodes and bytes of arena memory the document holds (obtained
 * from its allocator); either pointer may be NULL. */
void brine_doc_stats(const brine_doc *doc, size_t *nodes, size_t *bytes);

/* The part of brine_doc_stats's bytes that the values take: all but the
 * unused ends of the arena's chunks, which the system does not back with
 * memory until they are written (up to 8 MB for a large document). */
size_t brine_doc_used_bytes(const brine_doc *doc);

/* --- reading values (all accessors accept only the kinds they name) --- */

brine_kind brine_kind_of(const brine_value *v);
int brine_bool_value(const brine_value *v);

/* Returns 1 and stores the value when the int fits in int64_t, else 0. */
int brine_int_to_int64(const brine_value *v, int64_t *out);

/* Writes the minimal little-endian two's complement encoding of the int
 * (the bytes LONG1 carries, empty for 0) into buf when it fits in cap bytes.
 * Returns the number of bytes the encoding needs. */
size_t brine_int_to_bytes(const brine_value *v, uint8_t *buf, size_t cap);

double brine_float_value(const brine_value *v);
uint64_t brine_float_bits(const brine_value *v);
void brine_complex_value(const brine_value *v, double *re, double *im);

/* STR: surrogate-permissive UTF-8; BYTES, BYTEARRAY: raw bytes. The data
 * is not NUL-terminated and lives as long as the document (or, for values
 * decoded with zero_copy, as long as the input buffer). */
const char *brine_str_data(const brine_value *v, size_t *len);
const uint8_t *brine_bytes_data(const brine_value *v, size_t *len);

/* Item count of TUPLE, LIST, DICT, SET and FROZENSET. */
size_t brine_len(const brine_value *v);
/* i-th item of TUPLE, LIST, SET or FROZENSET (sets in insertion order). */
brine_value *brine_item(const brine_value *v, size_t i);
/* i-th key and value of a DICT, in insertion order. */
brine_value *brine_dict_key(const brine_value *v, size_t i);
brine_value *brine_dict_value(const brine_value *v, size_t i);

/* GLOBAL: module and qualified name, surrogate-permissive UTF-8. */
const char *brine_global_module(const brine_value *v, size_t *len);
const char *brine_global_name(const brine_value *v, size_t *len);

/* OBJECT: how it was made, the opcode byte that made it, the callable (or
 * class), positional arguments and keyword arguments. */
brine_make brine_object_make(const brine_value *v);
uint8_t brine_object_opcode(const brine_value *v);
brine_value *brine_object_callable(const brine_value *v);
size_t brine_object_nargs(const brine_value *v);
brine_value *brine_object_arg(const brine_value *v, size_t i);
size_t brine_object_nkwargs(const brine_value *v);
brine_value *brine_object_kwarg_key(const brine_value *v, size_t i);
brine_value *brine_object_kwarg_value(const brine_value *v, size_t i);

/* GLOBAL and OBJECT: the operations recorded on the node, in order. For
 * EXTEND, ADD and SETSTATE *b is set to NULL. */
size_t brine_nops(const brine_value *v);
brine_op_kind brine_op(const brine_value *v, size_t i, brine_value **a, brine_value **b);

brine_value *brine_persid_pid(const brine_value *v);
size_t brine_picklebuffer_index(const brine_value *v);
brine_value *brine_view_target(const brine_value *v);

/* --- building values (all return NULL, or -1, when allocation fails or,
 *     where Python would raise, with *err set) --- */

brine_value *brine_new_none(brine_doc *doc);
brine_value *brine_new_bool(brine_doc *doc, int b);
brine_value *brine_new_int64(brine_doc *doc, int64_t v);
/* An int from its little-endian two's complement bytes (n may be 0). */
brine_value *brine_new_int_bytes(brine_doc *doc, const uint8_t *le, size_t n);
brine_value *brine_new_float(brine_doc *doc, double v);
brine_value *brine_new_float_bits(brine_doc *doc, uint64_t bits);
brine_value *brine_new_complex(brine_doc *doc, double re, double im);
/* `data` must be surrogate-permissive UTF-8 (else BRINE_E_UNICODE_DECODE).
 * Empty and one-character strings below U+0100 are per-document
 * singletons, as in CPython. */
brine_value *brine_new_str(brine_doc *doc, const char *data, size_t len, brine_error *err);
brine_value *brine_new_bytes(brine_doc *doc, const uint8_t *data, size_t len);
brine_value *brine_new_bytearray(brine_doc *doc, const uint8_t *data, size_t len);
brine_value *brine_new_tuple(brine_doc *doc, brine_value *const *items, size_t n);
brine_value *brine_new_list(brine_doc *doc);
int brine_list_append(brine_doc *doc, brine_value *list, brine_value *item);
brine_value *brine_new_dict(brine_doc *doc);
/* dict[key] = value with Python semantics: an equal key keeps the first key
 * object and takes the new value; unhashable keys fail with TypeError. */
int brine_dict_set(brine_doc *doc, brine_value *dict, brine_value *key, brine_value *value,
                   brine_error *err);
brine_value *brine_new_set(brine_doc *doc);
int brine_set_add(brine_doc *doc, brine_value *set, brine_value *item, brine_error *err);
brine_value *brine_new_frozenset(brine_doc *doc, brine_value *const *items, size_t n,
                                 brine_error *err);
/* The global (module, name); the same node is returned for the same pair. */
brine_value *brine_new_global(brine_doc *doc, const char *module, size_t mlen, const char *name,
                              size_t nlen, brine_error *err);
/* An object made by `callable` (a GLOBAL or OBJECT node). `kwargs` may be
 * NULL or a DICT node whose entries are copied (only with BRINE_MAKE_NEW). */
brine_value *brine_new_object(brine_doc *doc, brine_make make, brine_value *callable,
                              brine_value *const *args, size_t nargs, const brine_value *kwargs);
/* Records an operation on a GLOBAL or OBJECT node; `b` is used by SETITEM. */
int brine_add_op(brine_doc *doc, brine_value *target, brine_op_kind kind, brine_value *a,
                 brine_value *b);
brine_value *brine_new_persid(brine_doc *doc, brine_value *pid);
brine_value *brine_new_picklebuffer(brine_doc *doc, size_t index);
brine_value *brine_new_readonly_view(brine_doc *doc, brine_value *target);

/* ------------------------------------------------------------------------ */
/* Decoding                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum brine_policy {
    /* No global is ever resolved: calls on globals and objects make object
     * nodes; everything else behaves as in CPython. */
    BRINE_POLICY_SYMBOLIC = 0,
    /* Also folds the shapes CPython's pickler writes for set, frozenset,
     * bytearray, bytes and complex into native values (docs/canonical.md). */
    BRINE_POLICY_BUILTINS = 1
} brine_policy;

/* An out-of-band buffer (protocol 5). The data is not copied. */
typedef struct brine_buffer {
    const uint8_t *data;
    size_t len;
    int readonly;
} brine_buffer;

/* One entry of the extension registry (EXT1, EXT2, EXT4). */
typedef struct brine_extension {
    int32_t code;
    const char *module;
    const char *name;
} brine_extension;

/* Called for PERSID and BINPERSID. Returns the node to push, made in `doc`,
 * or NULL with *err set to fail the decode. */
typedef brine_value *(*brine_persistent_fn)(void *ctx, brine_doc *doc, brine_value *pid,
                                            brine_error *err);

typedef struct brine_decode_options {
    brine_policy policy;
    const char *encoding; /* Python 2 strings: "ASCII" (NULL), "latin1", "bytes", "utf-8", ... */
    const char *errors;   /* "strict" (NULL), "ignore", "replace", "surrogateescape", ... */
    int fix_imports;      /* map Python 2 names for protocols < 3 (default 1) */
    /* Out-of-band buffers; has_buffers = 0 is `buffers=None` in CPython. */
    int has_buffers;
    const brine_buffer *buffers;
    size_t nbuffers;
    /* Extension registry; empty by default, as in CPython. */
    const brine_extension *extensions;
    size_t nextensions;
    /* Persistent ids; NULL makes BRINE_PERSID nodes. */
    brine_persistent_fn persistent_load;
    void *persistent_ctx;
    /* Zero copy: the data of BYTES made by BINBYTES, SHORT_BINBYTES and
     * BINBYTES8, and of STR made by BINUNICODE, SHORT_BINUNICODE and
     * BINUNICODE8, points into `data` instead of being copied into the
     * document, so decoding a large byte string costs no copy at all.
     * Ownership: the caller keeps owning the input; it must then stay
     * allocated and unchanged for as long as the document is used (every
     * accessor, brine_canon_write and brine_encode read it) and may be
     * freed after brine_doc_free(). Nothing else changes: the graph, its
     * identities and its canonical text are those of a copying decode.
     * Other data is still copied (text opcodes, bytearrays, bytes folded
     * from reduce calls, whose bytes are not in the input as such);
     * out-of-band buffers are never copied (brine_buffer). */
    int zero_copy;
    /* Caps, 0 meaning none: arena bytes, memo entries, open MARKs. */
    size_t max_memory;
    size_t max_memo;
    size_t max_marks;
} brine_decode_options;

/* Fills *opts with the defaults: symbolic, ASCII, strict, fix_imports,
 * no buffers, no extensions, no persistent callback, copying, no caps. */
void brine_decode_options_init(brine_decode_options *opts);

/* Decodes one pickle from data[0..len). `opts` may be NULL (defaults).
 * Returns a new document the caller frees with brine_doc_free(), or NULL
 * with *err describing the first failure (its offset is the opcode's).
 * Never recurses, never reads outside the input, checks every declared
 * length against the remaining input before allocating. */
brine_doc *brine_decode(const void *data, size_t len, const brine_decode_options *opts,
                        const brine_alloc *alloc, brine_error *err);

/* brine_decode into an existing document (from brine_decode, brine_doc_new,
 * brine_canon_read or an earlier brine_decode_into), reusing its memory:
 * for a program that decodes many pickles one after another, the pages the
 * previous document used need not be obtained and zeroed by the system
 * again. First every value of `doc` is freed (pointers to them become
 * invalid), then the pickle is decoded as brine_decode decodes it, with
 * doc's allocator: the same graph, text, errors and offsets, and the
 * same max_memory behaviour, since memory that doc kept counts as it is
 * used again. Memory this decoding did not use again is given back before
 * it returns, so that doc holds at most what its current contents need
 * (after a failure, what the failed decoding used, for the next call).
 * Returns 0 with the result in doc, or -1 with *err set and doc empty (no
 * root; still the caller's to reuse or free with brine_doc_free()). A NULL
 * doc is a usage error (-1, BRINE_E_USAGE). */
int brine_decode_into(brine_doc *doc, const void *data, size_t len,
                      const brine_decode_options *opts, brine_error *err);

/* ------------------------------------------------------------------------ */
/* Canonical text (docs/canonical.md)                                        */
/* ------------------------------------------------------------------------ */

/* Output sink: returns 0 on success, non-zero to abort (BRINE_E_IO). */
typedef int (*brine_write_fn)(void *ctx, const void *data, size_t len);

/* Writes the canonical text of `doc`. Returns 0, or -1 with *err set. */
int brine_canon_write(const brine_doc *doc, brine_write_fn write, void *ctx, brine_error *err);

/* Parses canonical text into a new document. Only text the printer could
 * have written is accepted; errors carry line and column. */
brine_doc *brine_canon_read(const char *text, size_t len, const brine_alloc *alloc,
                            brine_error *err);

/* ------------------------------------------------------------------------ */
/* Encoding                                                                  */
/* ------------------------------------------------------------------------ */

/* Called for each PICKLEBUFFER node at protocol 5. Returns 1 to write the
 * buffer in band, 0 to write it out of band (NEXT_BUFFER), -1 to fail
 * (PicklingError). Unlike pickle.dumps, which writes PickleBuffers in band
 * when it has no buffer_callback, brine_encode writes them out of band
 * when buffer_callback is NULL: buffer nodes decoded from out-of-band data
 * or read from canonical text need not carry their bytes, and writing them
 * back out of band is what keeps decode + encode the identity. To match
 * pickle.dumps, pass a callback that returns 1 (and the data in
 * brine_encode_options.buffers where the nodes have none). */
typedef int (*brine_buffer_fn)(void *ctx, const brine_value *buffer);

typedef struct brine_encode_options {
    int protocol;    /* 0..5; negative means BRINE_HIGHEST_PROTOCOL */
    int fix_imports; /* map names to Python 2 for protocols < 3 (default 1) */
    brine_buffer_fn buffer_callback;
    void *buffer_ctx;
    /* Out-of-band buffer contents, for writing PICKLEBUFFER nodes in band. */
    const brine_buffer *buffers;
    size_t nbuffers;
} brine_encode_options;

void brine_encode_options_init(brine_encode_options *opts);

/* Writes the pickle of `doc` at opts->protocol (opts NULL: the defaults):
 * the bytes CPython 3.11's pickle.dumps writes for the same value, where
 * the value is the root; the discarded nodes are written too (state
 * setters after their object, popped copies of recursive reduces where
 * the recursion makes them, others before the root, each followed by
 * POP), so that decoding gives the document back. Nodes the root and the
 * discarded nodes do not reach (say a global a stream made and popped) are
 * not part of the value and are never written. A document with discarded
 * persistent ids is encoded twice over, the first time writing nothing:
 * whether one of them is the popped copy of a container's item depends on
 * the order of the whole save.
 *
 * Returns 0, or -1 with *err set: the class CPython raises for the same
 * value (PicklingError, ValueError, OverflowError, ...), BRINE_E_USAGE for
 * a NULL doc or write, a document without root or an unknown node,
 * BRINE_E_IO when `write` returns non-zero, BRINE_E_NOMEM. Deliberately
 * stricter than CPython, which writes bytes its own unpickler rejects:
 * below protocol 4, a global whose module or name holds a newline, or
 * whose qualified name is empty or starts with '.', fails with
 * PicklingError. Where CPython's pickler recurses until RecursionError (an
 * object reaching itself through tuples, frozensets and reduce arguments
 * only) brine fails with PicklingError and CPython's message; graphs that
 * are merely deep are written at any depth, where CPython raises
 * RecursionError past its recursion limit (about 1000 nested objects).
 *
 * On failure, `write` may already have received a prefix of the stream (as
 * a file given to pickle.dump would): discard it. err->offset is then the
 * number of bytes of output produced before the failure, counting those
 * still buffered (an open frame's 9-byte header included): how far the
 * pickle got, not a position in the document. err->line and err->column
 * are 0. */
int brine_encode(const brine_doc *doc, const brine_encode_options *opts, brine_write_fn write,
                 void *ctx, brine_error *err);

/* ------------------------------------------------------------------------ */
/* Disassembly                                                               */
/* ------------------------------------------------------------------------ */

/* Writes what `python3 -m pickletools` prints for the stream. Returns 0, or
 * -1 with *err set where pickletools would raise (the output written so far
 * matches what pickletools printed before raising). */
int brine_dis(const void *data, size_t len, brine_write_fn write, void *ctx, brine_error *err);

#ifdef __cplusplus
}
#endif

#endif /* BRINE_H */
