/*
 * test_encode_roundtrip.c - brine_encode(brine_decode(pickle)) == pickle,
 * for pickles CPython 3.11 wrote.
 *
 * Usage: test_encode_roundtrip [DIR]
 *   DIR holds the cases tests/py/test_encode_cases.py writes (manifest.txt
 *   and the pickles); BRINE_ENCODE_CASES may name it instead. Without
 *   either (as ctest runs it) the script is run into a temporary directory
 *   with $BRINE_PYTHON (default python3), from the source tree.
 *   For an oracle corpus (`python3 -m oracle generate --out CORPUS`), make
 *   DIR with `tests/py/test_encode_cases.py --corpus CORPUS --out DIR`: it
 *   lists the round trips the corpus's manifest.json marks.
 *
 * Each check decodes `src` under each listed policy (out-of-band buffers
 * given as writable brine_buffers) and encodes the document at `protocol`;
 * the bytes must equal `want`, or the encoder must fail with the Python
 * exception class `want` names. Every mismatch is printed with the first
 * differing offset; the first few also with a diff of both pickletools
 * disassemblies.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brine.h"

#define MAX_BUFFERS 16
#define MAX_DIS     6

typedef struct membuf {
    uint8_t *p;
    size_t n, cap;
} membuf;

static int mem_write(void *ctx, const void *data, size_t len) {
    membuf *m = ctx;
    if (len > m->cap - m->n) {
        size_t ncap = m->cap ? m->cap : 1024;
        while (ncap - m->n < len)
            ncap *= 2;
        uint8_t *p = realloc(m->p, ncap);
        if (!p) return -1;
        m->p = p;
        m->cap = ncap;
    }
    memcpy(m->p + m->n, data, len);
    m->n += len;
    return 0;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    membuf m = {0};
    uint8_t chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (mem_write(&m, chunk, got) < 0) break;
    fclose(f);
    if (!m.p) m.p = malloc(1);
    *len = m.n;
    return m.p;
}

static int write_file(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

static const char *python(void) {
    const char *py = getenv("BRINE_PYTHON");
    return py && *py ? py : "python3";
}

typedef struct stats {
    int checks[6][2], failures[6][2];
    int known, known_passing; /* known limitations run, and those that passed */
    int shown;
    int quiet; /* a known limitation: print one line, not the details */
} stats;

static void show_difference(const char *dir, const char *label, const uint8_t *want, size_t wlen,
                            const uint8_t *got, size_t glen, stats *st) {
    size_t i = 0;
    while (i < wlen && i < glen && want[i] == got[i])
        i++;
    printf("    first difference at offset %zu (want %zu bytes, got %zu)\n", i, wlen, glen);
    printf("    want:");
    for (size_t k = i > 8 ? i - 8 : 0; k < wlen && k < i + 16; k++)
        printf(" %02x", want[k]);
    printf("\n    got: ");
    for (size_t k = i > 8 ? i - 8 : 0; k < glen && k < i + 16; k++)
        printf(" %02x", got[k]);
    printf("\n");
    if (st->shown++ >= MAX_DIS) return;
    char wpath[4096], gpath[4096], cmd[16384];
    snprintf(wpath, sizeof wpath, "%s/mismatch%d.want", dir, st->shown);
    snprintf(gpath, sizeof gpath, "%s/mismatch%d.got", dir, st->shown);
    if (write_file(wpath, want, wlen) < 0 || write_file(gpath, got, glen) < 0) return;
    printf("    pickletools diff (%s):\n", label);
    fflush(stdout);
    int len = snprintf(cmd, sizeof cmd,
                       "%s -m pickletools %s > %s.dis 2>&1; %s -m pickletools %s > %s.dis 2>&1; "
                       "diff %s.dis %s.dis | head -40 | sed 's/^/      /'",
                       python(), wpath, wpath, python(), gpath, gpath, wpath, gpath);
    if (len < 0 || (size_t)len >= sizeof cmd || system(cmd) != 0)
        printf("      (could not run pickletools)\n");
}

/* One check: decode src under policy, encode at proto, compare. */
#define REPORT(...) (st->quiet ? 0 : printf(__VA_ARGS__))

static int check_one(const char *dir, const char *label, const uint8_t *src, size_t slen,
                     const brine_buffer *bufs, size_t nbuf, int proto, int policy,
                     const char *want_err, const uint8_t *want, size_t wlen, stats *st) {
    brine_decode_options dopts;
    brine_decode_options_init(&dopts);
    dopts.policy = policy ? BRINE_POLICY_BUILTINS : BRINE_POLICY_SYMBOLIC;
    if (nbuf) {
        dopts.has_buffers = 1;
        dopts.buffers = bufs;
        dopts.nbuffers = nbuf;
    }
    const char *pname = policy ? "builtins" : "symbolic";
    brine_error err;
    brine_doc *doc = brine_decode(src, slen, &dopts, NULL, &err);
    if (!doc) {
        REPORT("MISMATCH %s, protocol %d, %s: decode failed: %s: %s\n", label, proto, pname,
               err.pyclass, err.msg);
        return 0;
    }
    brine_encode_options eopts;
    brine_encode_options_init(&eopts);
    eopts.protocol = proto;
    membuf out = {0};
    int rc = brine_encode(doc, &eopts, mem_write, &out, &err);
    int ok;
    if (want_err) {
        ok = rc < 0 && strcmp(err.pyclass, want_err) == 0;
        if (!ok)
            REPORT("MISMATCH %s, protocol %d, %s: want %s, got %s%s%s\n", label, proto, pname,
                   want_err, rc < 0 ? err.pyclass : "success", rc < 0 ? ": " : "",
                   rc < 0 ? err.msg : "");
    } else if (rc < 0) {
        ok = 0;
        REPORT("MISMATCH %s, protocol %d, %s: encode failed: %s: %s\n", label, proto, pname,
               err.pyclass, err.msg);
    } else {
        ok = out.n == wlen && memcmp(out.p, want, wlen) == 0;
        if (!ok) {
            REPORT("MISMATCH %s, protocol %d, %s:\n", label, proto, pname);
            if (!st->quiet) show_difference(dir, label, want, wlen, out.p, out.n, st);
        }
    }
    free(out.p);
    brine_doc_free(doc);
    return ok;
}

static int run_manifest(const char *dir, stats *st) {
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *mf = fopen(path, "r");
    if (!mf) {
        printf("cannot open %s\n", path);
        return -1;
    }
    char line[4096];
    while (fgets(line, sizeof line, mf)) {
        line[strcspn(line, "\n")] = 0;
        char *save = NULL;
        char *want_name = strtok_r(line, "\t", &save);
        char *src_name = strtok_r(NULL, "\t", &save);
        char *proto_s = strtok_r(NULL, "\t", &save);
        char *pols = strtok_r(NULL, "\t", &save);
        char *nbuf_s = strtok_r(NULL, "\t", &save);
        char *label = strtok_r(NULL, "", &save);
        if (!label) continue;
        int proto = atoi(proto_s);
        size_t nbuf = (size_t)atoi(nbuf_s);
        size_t slen, wlen = 0;
        snprintf(path, sizeof path, "%s/%s", dir, src_name);
        uint8_t *src = read_file(path, &slen);
        uint8_t *want = NULL;
        const char *want_err = NULL;
        if (want_name[0] == '!') {
            want_err = want_name + 1;
        } else {
            snprintf(path, sizeof path, "%s/%s", dir, want_name);
            want = read_file(path, &wlen);
        }
        brine_buffer bufs[MAX_BUFFERS];
        uint8_t *bufdata[MAX_BUFFERS] = {0};
        for (size_t i = 0; i < nbuf && i < MAX_BUFFERS; i++) {
            snprintf(path, sizeof path, "%s/%s.buf%zu", dir, src_name, i);
            bufdata[i] = read_file(path, &bufs[i].len);
            bufs[i].data = bufdata[i];
            bufs[i].readonly = 0;
        }
        if (!src || (!want && !want_err)) {
            printf("MISSING files for %s\n", label);
            st->failures[proto][0]++;
        } else {
            for (int pol = 0; pol < 2; pol++) {
                if (pols[pol] == '-') continue;
                if (pols[pol] == 'S' || pols[pol] == 'B') {
                    /* A known limitation (the reason is in test_encode_cases.py). */
                    st->quiet = 1;
                    st->known++;
                    int ok = check_one(dir, label, src, slen, bufs, nbuf, proto, pol, want_err,
                                       want, wlen, st);
                    st->quiet = 0;
                    st->known_passing += ok;
                    printf("%s %s, protocol %d, %s\n", ok ? "KNOWN-NOW-PASSES" : "known", label,
                           proto, pol ? "builtins" : "symbolic");
                    continue;
                }
                st->checks[proto][pol]++;
                if (!check_one(dir, label, src, slen, bufs, nbuf, proto, pol, want_err, want, wlen,
                               st))
                    st->failures[proto][pol]++;
            }
        }
        for (size_t i = 0; i < nbuf && i < MAX_BUFFERS; i++)
            free(bufdata[i]);
        free(src);
        free(want);
    }
    fclose(mf);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : getenv("BRINE_ENCODE_CASES");
    char tmp[] = "/tmp/brine_encode_XXXXXX";
    int made = 0;
    if (!dir || !*dir) {
        if (!mkdtemp(tmp)) {
            perror("mkdtemp");
            return 1;
        }
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "%s tests/py/test_encode_cases.py --out %s", python(), tmp);
        if (system(cmd) != 0) {
            printf("could not generate the cases (%s)\n", cmd);
            return 1;
        }
        dir = tmp;
        made = 1;
    }
    stats st;
    memset(&st, 0, sizeof st);
    if (run_manifest(dir, &st) < 0) return 1;

    int total = 0, failed = 0;
    printf("protocol  symbolic (checks/failures)  builtins (checks/failures)\n");
    for (int p = 0; p < 6; p++) {
        printf("%8d  %10d / %-14d %10d / %d\n", p, st.checks[p][0], st.failures[p][0],
               st.checks[p][1], st.failures[p][1]);
        for (int pol = 0; pol < 2; pol++) {
            total += st.checks[p][pol];
            failed += st.failures[p][pol];
        }
    }
    printf("test_encode_roundtrip: %d checks, %d mismatches; %d known limitations run "
           "(%d of them pass)\n",
           total, failed, st.known, st.known_passing);
    if (made && failed == 0) {
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        if (system(cmd) != 0) printf("could not remove %s\n", tmp);
    } else if (made) {
        printf("cases kept in %s\n", tmp);
    }
    return failed || total == 0 ? 1 : 0;
}
