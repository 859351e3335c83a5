/*
 * reader.c - CPython's buffered file reading, replayed over memory.
 */
#include "reader.h"

#include <string.h>

void reader_init(reader *r, const uint8_t *data, size_t len) {
    r->data = data;
    r->len = len;
    r->buf_start = 0;
    r->buf_idx = 0;
    r->file_pos = 0;
}

/* The file.read(n) that refills the buffer. */
static const uint8_t *file_read(reader *r, size_t n, brine_code *code) {
    /* CPython refuses a read whose end would not fit in Py_ssize_t. */
    size_t idx = r->buf_idx - r->buf_start;
    if (idx > (size_t)INT64_MAX - n) {
        *code = BRINE_E_READ_OVERFLOW;
        return NULL;
    }
    size_t avail = r->len - r->file_pos;
    size_t got = n < avail ? n : avail;
    r->buf_start = r->file_pos;
    r->file_pos += got;
    r->buf_idx = r->file_pos;
    if (got < n) {
        *code = BRINE_E_TRUNCATED;
        return NULL;
    }
    return r->data + r->buf_start;
}

const uint8_t *reader_read(reader *r, size_t n, brine_code *code) {
    const uint8_t *p = reader_take(r, n);
    return p ? p : file_read(r, n, code);
}

const uint8_t *reader_readline(reader *r, size_t *len, brine_code *code) {
    size_t start = r->buf_idx;
    const uint8_t *nl = memchr(r->data + start, '\n', r->file_pos - start);
    if (nl) {
        size_t end = (size_t)(nl - r->data) + 1;
        r->buf_idx = end;
        *len = end - start;
        return r->data + start;
    }
    /* file.readline(): the next line of the file becomes the buffer. */
    start = r->file_pos;
    nl = memchr(r->data + start, '\n', r->len - start);
    size_t end = nl ? (size_t)(nl - r->data) + 1 : r->len;
    r->buf_start = start;
    r->file_pos = end;
    r->buf_idx = end;
    if (!nl) {
        *code = BRINE_E_TRUNCATED;
        return NULL;
    }
    *len = end - start;
    return r->data + start;
}

const uint8_t *reader_readinto(reader *r, size_t n, brine_code *code) {
    size_t in_buffer = r->file_pos - r->buf_idx;
    const uint8_t *p = r->data + r->buf_idx;
    if (n <= in_buffer) {
        r->buf_idx += n;
        return p;
    }
    size_t rest = n - in_buffer;
    size_t avail = r->len - r->file_pos;
    r->buf_idx = r->file_pos;
    if (rest > avail) {
        /* readinto() copies what there is before CPython sees it is short. */
        r->file_pos = r->len;
        r->buf_idx = r->len;
        *code = BRINE_E_TRUNCATED;
        return NULL;
    }
    r->file_pos += rest;
    r->buf_idx = r->file_pos;
    /* The buffer stays where it was, exhausted: buf_start is unchanged. */
    return p;
}

int reader_frame(reader *r, size_t frame_len, brine_code *code) {
    const uint8_t *p = reader_read(r, frame_len, code);
    if (!p) return 0;
    r->buf_idx -= frame_len;
    return 1;
}
