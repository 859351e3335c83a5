/*
 * reader.h - how CPython's unpickler reads a file object, over a byte buffer.
 *
 * The reference is `pickle.Unpickler(io.BytesIO(data)).load()`. Reading from
 * a file, CPython keeps a buffer holding its last file read:
 *  - read(n) takes n bytes from the buffer when it has them; otherwise the
 *    rest of the buffer is dropped and the next n bytes of the file become
 *    the buffer (fewer than n: "pickle data was truncated");
 *  - readline() takes through the next '\n' in the buffer; otherwise the
 *    rest of the buffer is dropped and the next line of the file becomes
 *    the buffer (no '\n' before the end: truncated);
 *  - readinto(n) (byte payloads) takes what the buffer has, then the rest
 *    straight from the file, leaving the buffer empty;
 *  - FRAME reads its length and then read(length) into the buffer and
 *    rewinds over it.
 * So frames are not enforced, but an opcode straddling the end of a frame
 * loses the frame's tail. The buffer always ends where the file position
 * is, so every piece of data is contiguous in the input.
 */
#ifndef BRINE_READER_H
#define BRINE_READER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "brine.h"

typedef struct reader {
    const uint8_t *data;
    size_t len;
    size_t buf_start; /* the buffer is data[buf_start .. file_pos) */
    size_t buf_idx;   /* absolute offset of the next unread buffer byte */
    size_t file_pos;  /* absolute offset of the next byte the file returns */
} reader;

void reader_init(reader *r, const uint8_t *data, size_t len);

/* Absolute offset of the next byte the unpickler would read. */
static inline size_t reader_pos(const reader *r) {
    return r->buf_idx < r->file_pos ? r->buf_idx : r->file_pos;
}

/* Fast path for the common case: n bytes available in the buffer. */
static inline const uint8_t *reader_take(reader *r, size_t n) {
    if (n <= r->file_pos - r->buf_idx) {
        const uint8_t *p = r->data + r->buf_idx;
        r->buf_idx += n;
        return p;
    }
    return NULL;
}

/* The common cases of read(n), inline: n bytes in the buffer, or (outside
 * frames, where every read empties the buffer) n more bytes in the file,
 * which become the buffer as in reader_read. NULL when neither holds:
 * then reader_read decides. reader_read's overflow check cannot fail
 * here: the buffer index is at most file_pos, so index + n <= len, the
 * size of the input in memory, which fits in an int64. */
static inline const uint8_t *reader_read_fast(reader *r, size_t n) {
    const uint8_t *p = reader_take(r, n);
    if (p) return p;
    if (n <= r->len - r->file_pos) {
        r->buf_start = r->file_pos;
        r->file_pos += n;
        r->buf_idx = r->file_pos;
        return r->data + r->buf_start;
    }
    return NULL;
}

/* read(n). Returns a pointer to n bytes, or NULL with *code set
 * (BRINE_E_TRUNCATED or BRINE_E_READ_OVERFLOW). */
const uint8_t *reader_read(reader *r, size_t n, brine_code *code);

/* readline(). Returns the line including its '\n' and its length. */
const uint8_t *reader_readline(reader *r, size_t *len, brine_code *code);

/* The common case of readline(), inline: outside frames the buffer is
 * empty and the next line of the file, short in text pickles, becomes it
 * (as in reader_readline). NULL when that does not hold: then
 * reader_readline decides. */
static inline const uint8_t *reader_readline_fast(reader *r, size_t *len) {
    enum { SHORT_LINE = 32 };
    size_t start = r->file_pos, avail = r->len - start, k = 0;
    if (r->buf_idx != start) return NULL;
    const uint8_t *p = r->data + start;
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* 8 bytes at a time: the lowest byte of w ^ "\n\n..." that is zero is
     * the first newline (the borrow trick only errs above a true zero).
     * The last 7 bytes of the input are left to reader_readline. */
    for (; k < SHORT_LINE && avail - k >= 8; k += 8) {
        uint64_t w;
        memcpy(&w, p + k, 8);
        uint64_t x = w ^ 0x0a0a0a0a0a0a0a0au;
        uint64_t zero = (x - 0x0101010101010101u) & ~x & 0x8080808080808080u;
        if (zero) {
            k += (size_t)__builtin_ctzll(zero) / 8;
            goto found;
        }
    }
    return NULL;
#else
    for (size_t lim = avail < SHORT_LINE ? avail : SHORT_LINE; k < lim; k++)
        if (p[k] == '\n') goto found;
    return NULL;
#endif
found:
    r->buf_start = start;
    r->file_pos = r->buf_idx = start + k + 1;
    *len = k + 1;
    return p;
}

/* readinto(n) for byte payloads: the data, contiguous in the input. */
const uint8_t *reader_readinto(reader *r, size_t n, brine_code *code);

/* FRAME with the given length (after its 8-byte argument was read). */
int reader_frame(reader *r, size_t frame_len, brine_code *code);

#endif
