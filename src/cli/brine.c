/*
 * brine - the command line: decode, encode, dis.
 *
 * Exit status: 0 success, 1 the input was rejected (one line on stderr:
 * `error: <PythonExceptionClass>: <message> (offset N)`), 2 usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brine.h"

#define MAX_BUFFERS    256
#define MAX_EXTENSIONS 256

static const char usage_text[] =
    "usage: brine decode [options] FILE|-    print the canonical text of a pickle\n"
    "       brine encode --protocol N [FILE|-]  write the pickle of canonical text\n"
    "       brine dis FILE|-                  disassemble like python3 -m pickletools\n"
    "       brine --version\n"
    "\n"
    "decode options:\n"
    "  --policy symbolic|builtins   fold nothing (default) or CPython's builtin shapes\n"
    "  --encoding E, --errors E     Python 2 strings (default ASCII, strict; 'bytes' keeps bytes)\n"
    "  --no-fix-imports             do not map Python 2 names for protocols < 3\n"
    "  --buffer FILE                an out-of-band buffer (writable); repeat in order\n"
    "  --readonly-buffer FILE       an out-of-band buffer (read-only)\n"
    "  --extension CODE:MODULE:NAME an extension registry entry (EXT1/2/4); repeatable\n"
    "  --zero-copy                  reference bytes inside the input instead of copying\n"
    "  --max-memory N, --max-memo N, --max-marks N   caps (0 = none)\n"
    "  --stats                      print `nodes=N bytes=N seconds=S` instead of the text\n"
    "  --batch                      read length-prefixed inputs on stdin (see --help-batch)\n"
    "\n"
    "encode options:\n"
    "  --protocol N                 0..5 (default 4)\n"
    "  --no-fix-imports             do not map names to Python 2 for protocols < 3\n";

static const char batch_text[] =
    "brine decode --batch: a long-lived decoder for scripts and harnesses.\n"
    "Each request on stdin: u32le length L, then L bytes: u32le nbuffers, then for each\n"
    "buffer u8 readonly, u32le length, its bytes; the rest is the pickle. Each reply on\n"
    "stdout: u32le length, then `ok\\n` and the canonical text, or the one-line error.\n"
    "The decode options of the command line apply to every request.\n";

static int usage(const char *msg) {
    if (msg) fprintf(stderr, "brine: %s\n", msg);
    fputs(usage_text, stderr);
    return 2;
}

/* Reads a whole file ("-" is stdin). Returns NULL with errno set. */
static uint8_t *read_all(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        uint8_t *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    if (f != stdin) fclose(f);
    *len = n;
    return buf;
}

static int write_file(void *ctx, const void *data, size_t len) {
    return fwrite(data, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

static void print_error(FILE *f, const brine_error *err) {
    if (err->line)
        fprintf(f, "error: %s: %s (line %zu, column %zu)\n", err->pyclass, err->msg, err->line,
                err->column);
    else
        fprintf(f, "error: %s: %s (offset %zu)\n", err->pyclass, err->msg, err->offset);
}

static int parse_size(const char *s, size_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !*s || *end) return 0;
    *out = (size_t)v;
    return 1;
}

typedef struct decode_args {
    brine_decode_options opts;
    brine_buffer buffers[MAX_BUFFERS];
    uint8_t *buffer_data[MAX_BUFFERS];
    brine_extension extensions[MAX_EXTENSIONS];
    int stats, batch;
    const char *path;
} decode_args;

static int parse_decode_args(int argc, char **argv, decode_args *a) {
    brine_decode_options_init(&a->opts);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--policy") == 0 && val) {
            if (strcmp(val, "symbolic") == 0)
                a->opts.policy = BRINE_POLICY_SYMBOLIC;
            else if (strcmp(val, "builtins") == 0)
                a->opts.policy = BRINE_POLICY_BUILTINS;
            else
                return usage("--policy takes symbolic or builtins");
            i++;
        } else if (strcmp(arg, "--encoding") == 0 && val) {
            a->opts.encoding = val;
            i++;
        } else if (strcmp(arg, "--errors") == 0 && val) {
            a->opts.errors = val;
            i++;
        } else if (strcmp(arg, "--no-fix-imports") == 0) {
            a->opts.fix_imports = 0;
        } else if ((strcmp(arg, "--buffer") == 0 || strcmp(arg, "--readonly-buffer") == 0) && val) {
            if (a->opts.nbuffers == MAX_BUFFERS) return usage("too many buffers");
            size_t len;
            uint8_t *data = read_all(val, &len);
            if (!data) {
                fprintf(stderr, "brine: %s: %s\n", val, strerror(errno));
                return 2;
            }
            a->buffer_data[a->opts.nbuffers] = data;
            a->buffers[a->opts.nbuffers] = (brine_buffer){data, len, arg[2] == 'r'};
            a->opts.nbuffers++;
            a->opts.has_buffers = 1;
            a->opts.buffers = a->buffers;
            i++;
        } else if (strcmp(arg, "--extension") == 0 && val) {
            /* CODE:MODULE:NAME; the strings stay in argv. */
            if (a->opts.nextensions == MAX_EXTENSIONS) return usage("too many extensions");
            char *end, *module, *name;
            long code = strtol(val, &end, 10);
            if (*end != ':' || !(name = strchr(end + 1, ':')))
                return usage("--extension takes CODE:MODULE:NAME");
            module = end + 1;
            *name++ = 0;
            a->extensions[a->opts.nextensions++] = (brine_extension){(int32_t)code, module, name};
            a->opts.extensions = a->extensions;
            i++;
        } else if (strcmp(arg, "--zero-copy") == 0) {
            a->opts.zero_copy = 1;
        } else if (strcmp(arg, "--max-memory") == 0 && val) {
            if (!parse_size(val, &a->opts.max_memory)) return usage("bad --max-memory");
            i++;
        } else if (strcmp(arg, "--max-memo") == 0 && val) {
            if (!parse_size(val, &a->opts.max_memo)) return usage("bad --max-memo");
            i++;
        } else if (strcmp(arg, "--max-marks") == 0 && val) {
            if (!parse_size(val, &a->opts.max_marks)) return usage("bad --max-marks");
            i++;
        } else if (strcmp(arg, "--stats") == 0) {
            a->stats = 1;
        } else if (strcmp(arg, "--batch") == 0) {
            a->batch = 1;
        } else if (strcmp(arg, "--help-batch") == 0) {
            fputs(batch_text, stdout);
            exit(0);
        } else if (arg[0] == '-' && arg[1] && !a->path) {
            fprintf(stderr, "brine: unknown option %s\n", arg);
            return 2;
        } else if (!a->path) {
            a->path = arg;
        } else {
            return usage("too many arguments");
        }
    }
    if (!a->path && !a->batch) return usage("decode needs a FILE or -");
    return 0;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One reply of --batch: canonical text or the error line, length-prefixed. */
typedef struct membuf {
    char *p;
    size_t n, cap;
} membuf;

static int write_mem(void *ctx, const void *data, size_t len) {
    membuf *m = ctx;
    if (m->n + len > m->cap) {
        size_t ncap = m->cap ? m->cap : 4096;
        while (ncap < m->n + len)
            ncap *= 2;
        char *grown = realloc(m->p, ncap);
        if (!grown) return -1;
        m->p = grown;
        m->cap = ncap;
    }
    memcpy(m->p + m->n, data, len);
    m->n += len;
    return 0;
}

static int read_exact(uint8_t *p, size_t n) {
    return fread(p, 1, n, stdin) == n;
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int run_batch(decode_args *a) {
    uint8_t hdr[4];
    membuf reply = {0};
    while (read_exact(hdr, 4)) {
        size_t len = le32(hdr);
        uint8_t *req = malloc(len ? len : 1);
        if (!req || !read_exact(req, len)) {
            free(req);
            return 2;
        }
        brine_decode_options opts = a->opts;
        brine_buffer bufs[MAX_BUFFERS];
        size_t pos = 0, nbuf = 0;
        int bad = len < 4;
        if (!bad) {
            nbuf = le32(req);
            pos = 4;
            bad = nbuf > MAX_BUFFERS;
        }
        for (size_t i = 0; !bad && i < nbuf; i++) {
            if (len - pos < 5) {
                bad = 1;
                break;
            }
            size_t blen = le32(req + pos + 1);
            if (len - pos - 5 < blen) {
                bad = 1;
                break;
            }
            bufs[i] = (brine_buffer){req + pos + 5, blen, req[pos] != 0};
            pos += 5 + blen;
        }
        if (bad) {
            free(req);
            fputs("brine: malformed batch request\n", stderr);
            return 2;
        }
        if (nbuf) {
            opts.has_buffers = 1;
            opts.buffers = bufs;
            opts.nbuffers = nbuf;
        }
        reply.n = 0;
        brine_error err;
        brine_doc *doc = brine_decode(req + pos, len - pos, &opts, NULL, &err);
        if (doc) {
            write_mem(&reply, "ok\n", 3);
            if (brine_canon_write(doc, write_mem, &reply, &err) != 0) {
                reply.n = 0;
                doc = (brine_doc_free(doc), NULL);
            }
            brine_doc_free(doc);
        }
        if (!doc && reply.n == 0) {
            char line[512];
            int k = snprintf(line, sizeof line, "error: %s: %s (offset %zu)\n", err.pyclass,
                             err.msg, err.offset);
            write_mem(&reply, line, (size_t)k);
        }
        free(req);
        uint8_t out[4] = {(uint8_t)reply.n, (uint8_t)(reply.n >> 8), (uint8_t)(reply.n >> 16),
                          (uint8_t)(reply.n >> 24)};
        if (fwrite(out, 1, 4, stdout) != 4 || fwrite(reply.p, 1, reply.n, stdout) != reply.n)
            return 2;
        fflush(stdout);
    }
    free(reply.p);
    return 0;
}

static int cmd_decode(int argc, char **argv) {
    decode_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_decode_args(argc, argv, &a);
    if (rc) return rc;
    if (a.batch) return run_batch(&a);
    size_t len;
    uint8_t *data = read_all(a.path, &len);
    if (!data) {
        fprintf(stderr, "brine: %s: %s\n", a.path, strerror(errno));
        return 2;
    }
    brine_error err;
    double t0 = now_seconds();
    brine_doc *doc = brine_decode(data, len, &a.opts, NULL, &err);
    double t1 = now_seconds();
    if (!doc) {
        print_error(stderr, &err);
        rc = 1;
    } else if (a.stats) {
        size_t nodes, bytes;
        brine_doc_stats(doc, &nodes, &bytes);
        printf("nodes=%zu bytes=%zu input=%zu seconds=%.6f\n", nodes, bytes, len, t1 - t0);
    } else if (brine_canon_write(doc, write_file, stdout, &err) != 0) {
        print_error(stderr, &err);
        rc = 1;
    }
    brine_doc_free(doc);
    free(data);
    for (size_t i = 0; i < a.opts.nbuffers; i++)
        free(a.buffer_data[i]);
    if (fflush(stdout) != 0) return 1;
    return rc;
}

static int cmd_encode(int argc, char **argv) {
    brine_encode_options opts;
    brine_encode_options_init(&opts);
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--protocol") == 0 && i + 1 < argc) {
            char *end;
            long p = strtol(argv[++i], &end, 10);
            if (*end || p < -1 || p > BRINE_HIGHEST_PROTOCOL)
                return usage("--protocol takes 0..5 (or -1 for the highest)");
            opts.protocol = (int)p;
        } else if (strcmp(argv[i], "--no-fix-imports") == 0) {
            opts.fix_imports = 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "brine: unknown option %s\n", argv[i]);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            return usage("too many arguments");
        }
    }
    size_t len;
    uint8_t *text = read_all(path ? path : "-", &len);
    if (!text) {
        fprintf(stderr, "brine: %s: %s\n", path ? path : "-", strerror(errno));
        return 2;
    }
    brine_error err;
    int rc = 0;
    brine_doc *doc = brine_canon_read((const char *)text, len, NULL, &err);
    if (!doc || brine_encode(doc, &opts, write_file, stdout, &err) != 0) {
        print_error(stderr, &err);
        rc = 1;
    }
    brine_doc_free(doc);
    free(text);
    if (fflush(stdout) != 0) return 1;
    return rc;
}

static int cmd_dis(int argc, char **argv) {
    if (argc != 1) return usage("dis takes one FILE or -");
    size_t len;
    uint8_t *data = read_all(argv[0], &len);
    if (!data) {
        fprintf(stderr, "brine: %s: %s\n", argv[0], strerror(errno));
        return 2;
    }
    brine_error err;
    int rc = 0;
    if (brine_dis(data, len, write_file, stdout, &err) != 0) {
        fflush(stdout);
        print_error(stderr, &err);
        rc = 1;
    }
    free(data);
    if (fflush(stdout) != 0) return 1;
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage(NULL);
    const char *cmd = argv[1];
    if (strcmp(cmd, "decode") == 0) return cmd_decode(argc - 2, argv + 2);
    if (strcmp(cmd, "encode") == 0) return cmd_encode(argc - 2, argv + 2);
    if (strcmp(cmd, "dis") == 0) return cmd_dis(argc - 2, argv + 2);
    if (strcmp(cmd, "--version") == 0) {
        printf("brine %s\n", BRINE_VERSION_STRING);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    return usage("unknown command");
}
