/*
 * brine_bench.c - times libbrine on one pickle file (bench/run.py drives it).
 *
 *   brine_bench [--reps N] [--policy symbolic|builtins] [--protocol P]
 *               [--ops decode,decode-zc,decode-reuse,encode,encode-reuse,memcpy] FILE
 *   brine_bench --peak [--zero-copy] [--policy P] FILE
 *
 * Prints one JSON object per line on stdout, one per operation:
 *
 *   decode     brine_decode of the whole file, copying byte strings;
 *   decode-zc  the same with opts.zero_copy (byte strings stay in the input);
 *   decode-reuse  brine_decode_into one document that holds the previous
 *              repetition's graph (an untimed decoding fills it first):
 *              the figure of a program decoding pickle after pickle, whose
 *              memory is already there; "decode" is a first decoding, into
 *              memory the system has to provide;
 *   encode     brine_encode of the graph (decoded with the symbolic policy,
 *              the one that keeps every node CPython wrote) at --protocol into a
 *              fresh memory buffer each time, grown by doubling (as
 *              pickle.dumps makes a new bytes object), and whether the output
 *              is the input byte for byte (the file is what CPython wrote, so
 *              it must be: the bench measures real work);
 *   encode-reuse  the same into one buffer kept between repetitions: the
 *              figure of a program writing pickle after pickle;
 *   memcpy     memcpy of the file's size, into a freshly allocated buffer
 *              (page faults included, as a copying decode pays them) and
 *              into a buffer already written once (the memory bandwidth).
 *
 * Each figure is the median of --reps runs on a monotonic clock; the time
 * excludes reading the file and freeing the result (pickle.loads is timed
 * the same way by the driver). --peak decodes once in this fresh process
 * and reports the peak resident set (VmHWM, else ru_maxrss) before reading
 * the input, after reading it and after decoding, so the decoder's peak
 * memory can be compared with the input size and the graph's arena.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "brine.h"

typedef struct args {
    const char *file;
    int reps;
    int protocol;
    brine_policy policy;
    int peak;
    int zero_copy;
    const char *ops;
} args;

typedef struct membuf {
    uint8_t *p;
    size_t len, cap;
} membuf;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts t[0..n) and returns the median. */
static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void die(const char *what, const char *detail) {
    fprintf(stderr, "brine_bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

/* The whole file in a buffer of exactly its size (so that the resident set
 * after reading holds the input once, not a doubled buffer and a copy). */
static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open", path);
    if (fseek(f, 0, SEEK_END) != 0) die("cannot seek", path);
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) die("cannot seek", path);
    uint8_t *p = malloc(size ? (size_t)size : 1);
    if (!p) die("out of memory", NULL);
    if (fread(p, 1, (size_t)size, f) != (size_t)size) die("cannot read", path);
    fclose(f);
    *len = (size_t)size;
    return p;
}

/* The peak resident set of this process image, in kB: VmHWM from
 * /proc/self/status where there is one, since getrusage's ru_maxrss keeps
 * the high-water mark of the process that exec'd this one (the driver,
 * holding every workload). */
static long maxrss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        long kb = -1;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "VmHWM:", 6) == 0) kb = strtol(line + 6, NULL, 10);
        fclose(f);
        if (kb >= 0) return kb;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int membuf_write(void *ctx, const void *data, size_t len) {
    membuf *m = ctx;
    if (len > m->cap - m->len) {
        size_t cap = m->cap ? m->cap : 1 << 16;
        while (cap - m->len < len)
            cap *= 2;
        uint8_t *q = realloc(m->p, cap);
        if (!q) return -1;
        m->p = q;
        m->cap = cap;
    }
    memcpy(m->p + m->len, data, len);
    m->len += len;
    return 0;
}

static brine_doc *decode(const args *a, const uint8_t *data, size_t len, int zero_copy,
                         brine_policy policy) {
    brine_decode_options opts;
    brine_decode_options_init(&opts);
    opts.policy = policy;
    opts.zero_copy = zero_copy;
    brine_error err;
    brine_doc *doc = brine_decode(data, len, &opts, NULL, &err);
    if (!doc) {
        fprintf(stderr, "brine_bench: %s: %s: %s (offset %zu)\n", a->file, err.pyclass, err.msg,
                err.offset);
        exit(1);
    }
    return doc;
}

static void print_times(const char *op, const args *a, size_t len, double *t) {
    double lo = t[0];
    for (int i = 1; i < a->reps; i++)
        if (t[i] < lo) lo = t[i];
    printf("{\"file\": \"%s\", \"op\": \"%s\", \"bytes\": %zu, \"reps\": %d, \"min_s\": %.9f, "
           "\"median_s\": %.9f",
           a->file, op, len, a->reps, lo, median(t, a->reps));
}

static void bench_decode(const args *a, const uint8_t *data, size_t len, int zero_copy, double *t) {
    size_t nodes = 0, bytes = 0;
    for (int i = 0; i < a->reps; i++) {
        double t0 = now();
        brine_doc *doc = decode(a, data, len, zero_copy, a->policy);
        t[i] = now() - t0;
        brine_doc_stats(doc, &nodes, &bytes);
        brine_doc_free(doc);
    }
    print_times(zero_copy ? "decode-zc" : "decode", a, len, t);
    printf(", \"nodes\": %zu, \"arena_bytes\": %zu}\n", nodes, bytes);
}

static void bench_decode_reuse(const args *a, const uint8_t *data, size_t len, double *t) {
    brine_decode_options opts;
    brine_decode_options_init(&opts);
    opts.policy = a->policy;
    brine_doc *doc = decode(a, data, len, 0, a->policy);
    for (int i = 0; i < a->reps; i++) {
        brine_error err;
        double t0 = now();
        int rc = brine_decode_into(doc, data, len, &opts, &err);
        t[i] = now() - t0;
        if (rc < 0) {
            fprintf(stderr, "brine_bench: %s: %s: %s (offset %zu)\n", a->file, err.pyclass, err.msg,
                    err.offset);
            exit(1);
        }
    }
    size_t nodes, bytes;
    brine_doc_stats(doc, &nodes, &bytes);
    print_times("decode-reuse", a, len, t);
    printf(", \"nodes\": %zu, \"arena_bytes\": %zu}\n", nodes, bytes);
    brine_doc_free(doc);
}

static void bench_encode(const args *a, const uint8_t *data, size_t len, int reuse, double *t) {
    /* The symbolic graph: folding (say bytes below protocol 3 into native
     * bytes) drops the sharing CPython's own reduce arguments had, so only
     * the unfolded graph is written back byte for byte. */
    brine_doc *doc = decode(a, data, len, 0, BRINE_POLICY_SYMBOLIC);
    brine_encode_options eo;
    brine_encode_options_init(&eo);
    eo.protocol = a->protocol;
    membuf out = {NULL, 0, 0};
    for (int i = 0; i < a->reps; i++) {
        if (!reuse) { /* freed outside the timed region, as pickle.dumps's result is */
            free(out.p);
            out = (membuf){NULL, 0, 0};
        }
        out.len = 0;
        brine_error err;
        double t0 = now();
        int rc = brine_encode(doc, &eo, membuf_write, &out, &err);
        t[i] = now() - t0;
        if (rc < 0) {
            fprintf(stderr, "brine_bench: encode %s: %s: %s\n", a->file, err.pyclass, err.msg);
            exit(1);
        }
    }
    size_t nodes, bytes;
    brine_doc_stats(doc, &nodes, &bytes);
    int same = out.len == len && memcmp(out.p, data, len) == 0;
    print_times(reuse ? "encode-reuse" : "encode", a, len, t);
    printf(", \"nodes\": %zu, \"out_bytes\": %zu, \"identical\": %s}\n", nodes, out.len,
           same ? "true" : "false");
    free(out.p);
    brine_doc_free(doc);
}

static void bench_memcpy(const args *a, const uint8_t *data, size_t len, double *t) {
    /* Fresh destination each time: what a copying decode pays. */
    for (int i = 0; i < a->reps; i++) {
        double t0 = now();
        uint8_t *dst = malloc(len ? len : 1);
        if (!dst) die("out of memory", NULL);
        memcpy(dst, data, len);
        t[i] = now() - t0;
        /* Keeps the copy from being optimized away. */
        if (len && dst[len - 1] != data[len - 1]) die("memcpy", "mismatch");
        free(dst);
    }
    print_times("memcpy-fresh", a, len, t);
    printf("}\n");
    uint8_t *dst = malloc(len ? len : 1);
    if (!dst) die("out of memory", NULL);
    memset(dst, 1, len);
    for (int i = 0; i < a->reps; i++) {
        double t0 = now();
        memcpy(dst, data, len);
        t[i] = now() - t0;
        if (len && dst[len - 1] != data[len - 1]) die("memcpy", "mismatch");
    }
    free(dst);
    print_times("memcpy-warm", a, len, t);
    printf("}\n");
}

/* Peak memory of one decode in this (fresh) process. */
static void bench_peak(const args *a) {
    long before = maxrss_kb();
    size_t len;
    uint8_t *fit = read_file(a->file, &len);
    long loaded = maxrss_kb();
    brine_doc *doc = decode(a, fit, len, a->zero_copy, a->policy);
    long after = maxrss_kb();
    size_t nodes, bytes;
    brine_doc_stats(doc, &nodes, &bytes);
    printf("{\"file\": \"%s\", \"op\": \"%s\", \"bytes\": %zu, \"rss_start_kb\": %ld, "
           "\"rss_loaded_kb\": %ld, \"rss_peak_kb\": %ld, \"nodes\": %zu, \"arena_bytes\": %zu, "
           "\"arena_used_bytes\": %zu}\n",
           a->file, a->zero_copy ? "peak-zc" : "peak", len, before, loaded, after, nodes, bytes,
           brine_doc_used_bytes(doc));
    brine_doc_free(doc);
    free(fit);
}

static int has_op(const char *ops, const char *op) {
    size_t n = strlen(op);
    for (const char *p = ops; (p = strstr(p, op)) != NULL; p += n)
        if ((p == ops || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
    return 0;
}

static void usage(void) {
    fputs(
        "usage: brine_bench [--reps N] [--policy symbolic|builtins] [--protocol P]\n"
        "                   [--ops decode,decode-zc,decode-reuse,encode,encode-reuse,memcpy] FILE\n"
        "       brine_bench --peak [--zero-copy] [--policy P] FILE\n",
        stderr);
    exit(2);
}

int main(int argc, char **argv) {
    args a = {NULL, 5, 2, BRINE_POLICY_BUILTINS, 0, 0, "decode,decode-zc,encode"};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(s, "--reps") == 0 && v)
            a.reps = atoi(argv[++i]);
        else if (strcmp(s, "--protocol") == 0 && v)
            a.protocol = atoi(argv[++i]);
        else if (strcmp(s, "--ops") == 0 && v)
            a.ops = argv[++i];
        else if (strcmp(s, "--policy") == 0 && v) {
            i++;
            if (strcmp(v, "symbolic") == 0)
                a.policy = BRINE_POLICY_SYMBOLIC;
            else if (strcmp(v, "builtins") == 0)
                a.policy = BRINE_POLICY_BUILTINS;
            else
                usage();
        } else if (strcmp(s, "--peak") == 0)
            a.peak = 1;
        else if (strcmp(s, "--zero-copy") == 0)
            a.zero_copy = 1;
        else if (s[0] == '-' || a.file)
            usage();
        else
            a.file = s;
    }
    if (!a.file || a.reps < 1 || a.reps > 1000) usage();
    if (a.peak) {
        bench_peak(&a);
        return 0;
    }
    size_t len;
    uint8_t *data = read_file(a.file, &len);
    double *t = malloc((size_t)a.reps * sizeof *t);
    if (!t) die("out of memory", NULL);
    if (has_op(a.ops, "memcpy")) bench_memcpy(&a, data, len, t);
    if (has_op(a.ops, "decode")) bench_decode(&a, data, len, 0, t);
    if (has_op(a.ops, "decode-zc")) bench_decode(&a, data, len, 1, t);
    if (has_op(a.ops, "decode-reuse")) bench_decode_reuse(&a, data, len, t);
    if (has_op(a.ops, "encode")) bench_encode(&a, data, len, 0, t);
    if (has_op(a.ops, "encode-reuse")) bench_encode(&a, data, len, 1, t);
    free(t);
    free(data);
    return 0;
}
