/*
 * fuzz_common.h - what the fuzz targets share: an output buffer for the
 * writers, the decode options a fuzz input selects with its last bytes,
 * the canonical text checks, and the planted failure used to test that
 * FUZZ_ASSERT really aborts.
 */
#ifndef BRINE_FUZZ_COMMON_H
#define BRINE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "brine.h"
#include "fuzz_assert.h"

/* Every target's entry point (libFuzzer's names). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The path of the input being run, set by the replay driver (NULL under
 * the fuzzing engines); for messages only. */
extern const char *fuzz_input_name;

/* Copies the NUL-terminated `in` to out[0..cap) on one line: newlines as
 * \n, other control and non-ASCII bytes as \xhh. Returns the length. */
size_t fuzz_escape(const char *in, char *out, size_t cap);

/* --- output buffer --------------------------------------------------------- */

typedef struct fuzz_buf {
    char *p;
    size_t n, cap;
} fuzz_buf;

/* brine_write_fn appending to a fuzz_buf (ctx). */
int fuzz_buf_write(void *ctx, const void *data, size_t len);
/* brine_write_fn that only counts bytes into a size_t (ctx). */
int fuzz_count_write(void *ctx, const void *data, size_t len);
void fuzz_buf_free(fuzz_buf *b);
int fuzz_buf_eq(const fuzz_buf *a, const fuzz_buf *b);

/* --- decode options from the input's tail ---------------------------------- */

/* The last byte L of an input selects the options; when L has bit 7 set,
 * the byte E before it selects more. The rest is the pickle.
 *
 *   L bit 0     policy: symbolic, builtins
 *   L bits 1-2  encoding: ASCII, latin1, bytes, utf-8
 *   L bits 3-4  errors: strict, replace, ignore, surrogateescape
 *               (with E bit 7: backslashreplace, surrogatepass,
 *               xmlcharrefreplace, an unknown handler name)
 *   L bit 5     zero_copy
 *   L bit 6     fix_imports off
 *   E bits 0-1  buffers: None, [], [b0], [b0, b1]
 *   E bits 2-3  b0, b1 read-only
 *   E bits 4-5  one small cap: none, max_memory, max_memo, max_marks
 *   E bit 6     an extension registry (FUZZ_EXTENSIONS)
 *
 * So a plain pickle with the byte 0x00 appended decodes with the defaults. */
typedef struct fuzz_options {
    brine_decode_options opts;
    brine_buffer buffers[2];
    const char *encoding; /* Python's name of the encoding ("ASCII", ...) */
    const char *errors;   /* Python's name of the error handler ("strict", ...) */
    int nbuffers_sel;     /* -1 for buffers=None, else the number of buffers */
    int cap;              /* 0 none, 1 max_memory, 2 max_memo, 3 max_marks */
    int extensions;       /* 1 when FUZZ_EXTENSIONS is registered */
} fuzz_options;

/* Returns the size of the pickle part of the input. */
size_t fuzz_options_from_tail(const uint8_t *data, size_t size, fuzz_options *fo);

#define FUZZ_NEXTENSIONS 3
extern const brine_extension FUZZ_EXTENSIONS[FUZZ_NEXTENSIONS];

/* --- checks ---------------------------------------------------------------- */

/* 1 when err says the called function is a stub that is not written yet
 * (BRINE_E_USAGE "... not implemented ..."): the check is then skipped. */
int fuzz_not_implemented(const brine_error *err);

/* Asserts that err describes a real failure: a valid code with a class. */
void fuzz_assert_clean_error(const brine_error *err, const char *what);

/* Writes the canonical text of doc into out (which it resets); asserts
 * that printing succeeds. */
void fuzz_canon(const brine_doc *doc, fuzz_buf *out);

/* Reads `text` (printer output, or any text when `any_text`) back with
 * brine_canon_read and asserts that the document prints as exactly `text`.
 * Returns the document read (caller frees), or NULL when the reader is not
 * implemented yet or (any_text) rejected the text. */
brine_doc *fuzz_check_canon_reread(const char *text, size_t len, int any_text);

/* The encoder round trip (fuzz_roundtrip.c): at every protocol 0-5 (or
 * at cfg->only_protocol) where brine_encode succeeds, decoding the bytes
 * gives back `text` (the canonical text of doc) when the value is
 * representable exactly at that protocol, and decoding and encoding again
 * gives the same bytes. */
typedef struct fuzz_rt_config {
    int fix_imports;             /* for both the encoder and the decoder */
    int encode_twice;            /* also assert that encoding is deterministic */
    const brine_buffer *buffers; /* contents of PICKLEBUFFER nodes (in-band) */
    size_t nbuffers;
    int only_protocol; /* -1: every protocol; else just this one */
} fuzz_rt_config;

void fuzz_check_roundtrip(const brine_doc *doc, const fuzz_buf *text, const fuzz_rt_config *cfg);

/* brine_dis on data[0..len): it must not crash, and may only fail with a
 * clean error. Its output is counted, not kept, and cut after
 * FUZZ_DIS_MAX_OUTPUT(len) bytes (the write function then fails, and
 * brine_dis must report that as BRINE_E_IO): pickletools indents each line
 * by the depth of the mark stack, so a run of MARKs prints quadratically
 * much (7 GB for 60,000 MARKs), which would make a slow input of every
 * such mutant without checking anything more. */
#define FUZZ_DIS_MAX_OUTPUT(len) ((size_t)64 * (len) + ((size_t)64 << 10))
void fuzz_check_dis(const uint8_t *data, size_t len);

/* --- which checks an input gets ---------------------------------------------- */

/* The round trip at six protocols and brine_dis cost several times the
 * decoding they check, so under the fuzzing engines each input gets the
 * round trip at ONE protocol, and brine_dis one input in FUZZ_DIS_EVERY:
 * both picked by a hash of the input, so that an engine's finding
 * reproduces with the same binary, and mutants of one input reach the
 * other protocols (the engines keep an input for the coverage it adds,
 * which covers what each protocol's encoder and decoder paths do). The
 * replay driver (the fuzz.* tests, reproducing and triaging findings)
 * sets fuzz_check_everything: every check on every input, so a finding
 * also fails there. $BRINE_FUZZ_SAMPLE=1 or 0 overrides either default. */
#define FUZZ_DIS_EVERY 4

typedef struct fuzz_plan {
    int protocol; /* -1: the round trip at every protocol; else only this one */
    int dis;      /* 1: run fuzz_check_dis */
} fuzz_plan;

extern int fuzz_check_everything;
fuzz_plan fuzz_plan_for(const uint8_t *data, size_t size);

/* The set of nodes reachable from the ones added (fuzz_roundtrip.c). */
typedef struct fuzz_reach fuzz_reach;
fuzz_reach *fuzz_reach_new(void);
void fuzz_reach_add(fuzz_reach *r, brine_value *v);
int fuzz_reach_has(fuzz_reach *r, const brine_value *v);
void fuzz_reach_free(fuzz_reach *r);
/* Adds the discarded calls with a state setter's shape, f(X, ...), whose X
 * r holds (and so on): CPython writes them right after X. */
void fuzz_reach_add_setters(fuzz_reach *r, const brine_doc *doc);

/* When the environment variable BRINE_FUZZ_PLANT is set and non-empty and
 * the input starts with its bytes, fails a FUZZ_ASSERT: lets the tests
 * check that a broken property really aborts, in every build. */
void fuzz_check_planted(const uint8_t *data, size_t size);

#endif
