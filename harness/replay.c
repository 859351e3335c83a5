/*
 * replay.c - the plain driver: runs a fuzz target's LLVMFuzzerTestOneInput
 * once over every file named on the command line, descending into
 * directories (in name order, so that runs are reproducible). It makes
 * every target a regression test without a fuzzing engine, with any
 * compiler.
 *
 *   harness/decode corpus/seeds/decode corpus/regressions
 *
 * Files that hold no input are skipped: names starting with '.', README*,
 * and *.json, *.md, *.txt, *.log, *.options, *.dict (regression metadata,
 * notes). A path that does not exist is an error, so that a typo cannot
 * turn a test into a no-op. Exit status 0 when every input ran; a failing
 * FUZZ_ASSERT aborts, and the SIGABRT/SIGSEGV handler first prints which
 * input was running.
 *
 * With BRINE_REPLAY_KEEP_GOING=1 each input runs in a forked child, and a
 * failing input is listed ("replay: FAILED <path> ...") instead of ending
 * the run: for triaging a directory of findings. The exit status is then 1
 * when any input failed.
 *
 * Every check runs on every input here (fuzz_check_everything): the fuzz
 * engines sample the costly ones (fuzz_plan_for in fuzz_common.h), and the
 * regression tests and the reproduction of a finding must not.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz_common.h"

/* Weak so that targets without an initializer link too. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static char current[4096];
static size_t ninputs, nfailed;
static int keep_going;

static void on_signal(int sig) {
    /* Only async-signal-safe calls here. */
    static const char head[] = "replay: crashed on input ";
    if (write(2, head, sizeof head - 1) < 0 || write(2, current, strlen(current)) < 0 ||
        write(2, "\n", 1) < 0) {
        /* nothing more to do */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int skipped(const char *name) {
    static const char *const exts[] = {".json", ".md", ".txt", ".log", ".options", ".dict"};
    if (name[0] == '.' || strncmp(name, "README", 6) == 0) return 1;
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        size_t k = strlen(exts[i]);
        if (n >= k && strcmp(name + n - k, exts[i]) == 0) return 1;
    }
    return 0;
}

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            fprintf(stderr, "replay: out of memory\n");
            return -1;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        cap *= 2;
        uint8_t *grown = realloc(buf, cap);
        if (!grown) free(buf);
        buf = grown;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "replay: %s: read error\n", path);
        free(buf);
        return -1;
    }
    snprintf(current, sizeof current, "%s", path);
    /* An exact-size copy, so that ASan sees reads past the input's end. */
    uint8_t *input = malloc(n ? n : 1);
    if (!input) {
        free(buf);
        return -1;
    }
    memcpy(input, buf, n);
    free(buf);
    fuzz_input_name = current;
    if (keep_going) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            LLVMFuzzerTestOneInput(input, n);
            _exit(0);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            nfailed++;
            fprintf(stderr, "replay: FAILED %s (%s %d)\n", path,
                    WIFSIGNALED(status) ? "signal" : "status",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        }
    } else {
        LLVMFuzzerTestOneInput(input, n);
    }
    fuzz_input_name = NULL;
    free(input);
    ninputs++;
    return 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_path(const char *path, int top) {
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        /* Files named explicitly are always run, whatever their name. */
        const char *base = strrchr(path, '/');
        return (!top && skipped(base ? base + 1 : path)) ? 0 : run_file(path);
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (skipped(e->d_name)) continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) break;
            names = grown;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(names[i]) + 2;
        char *child = malloc(len);
        if (child) {
            snprintf(child, len, "%s/%s", path, names[i]);
            if (run_path(child, 0) != 0) rc = -1;
        }
        free(child);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...  (runs the fuzz target once on each input)\n",
                argv[0]);
        return 2;
    }
    signal(SIGABRT, on_signal);
    signal(SIGSEGV, on_signal);
    signal(SIGBUS, on_signal);
    signal(SIGFPE, on_signal);
    const char *kg = getenv("BRINE_REPLAY_KEEP_GOING");
    keep_going = kg && *kg && strcmp(kg, "0") != 0;
    fuzz_check_everything = 1;
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    int rc = 0;
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], 1) != 0) rc = 1;
    if (nfailed) rc = 1;
    printf("replay: %zu inputs from %d path(s)%s", ninputs, argc - 1,
           rc ? ", with errors" : ", ok");
    if (nfailed) printf(", %zu failed", nfailed);
    printf("\n");
    return rc;
}
