/*
 * fuzz_diff.c - the differential target: brine against CPython 3.11.
 *
 * Property: for any bytes and the decode options the input's tail selects
 * (fuzz_options_from_tail; the caps are not used here, as CPython has
 * none), brine_decode and the oracle's reference decoder (CPython's C
 * unpickler with inert stubs, oracle/reference.py) agree: both accept with
 * byte-identical canonical text, or both reject with the same exception
 * class. A disagreement that the known-differences registry does not
 * excuse (harness/diffglue.py asks oracle/known_differences.py, and without
 * it excuses only reference "resource" outcomes and unverified set orders)
 * fails a FUZZ_ASSERT with a one-line description, so the engine saves the
 * input. An exception escaping the oracle is reported the same way: it is
 * a bug in the oracle.
 *
 * CPython is embedded (initialised once, isolated, hash seed 0, no signal
 * handlers, so the engine keeps its own) and oracle.reference is imported
 * from the source tree (BRINE_SOURCE_DIR, or $BRINE_ORACLE_ROOT). The
 * target calls oracle.reference.decode_inprocess directly, without the
 * oracle's worker process: that is the cheapest call the oracle offers, and
 * what makes >= 2,000 exec/s possible. The worker's protections are
 * replaced by in-process ones:
 *  - memory: CPython allocates what a stream declares before reading it
 *    (gh-115952); a hook on CPython's allocators refuses any single
 *    allocation above DIFF_MAX_ALLOC, which CPython reports as MemoryError,
 *    i.e. a "resource" outcome, as under the worker's RLIMIT_AS;
 *  - stack: CPython hashes nested tuples recursively, so inputs longer than
 *    DIFF_MAX_INPUT (bounding the nesting depth) are not compared;
 *  - time: the engine's -timeout.
 * Safety rules of the oracle hold: nothing is ever unpickled by plain
 * pickle.loads, and the stubs never import.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#define DIFF_MAX_INPUT (16 * 1024)
#define DIFF_MAX_ALLOC ((size_t)128 << 20)

static PyObject *py_decode;  /* oracle.reference.decode_inprocess */
static PyObject *py_options; /* oracle.reference.Options */
static PyObject *py_excuse;  /* diffglue.excuse */
static PyObject *py_false;
static PyObject *opts_cache[1 << 12];

/* --- the allocation cap ------------------------------------------------------- */

static PyMemAllocatorEx prev_raw, prev_mem, prev_obj;

static void *cap_malloc(void *ctx, size_t n) {
    PyMemAllocatorEx *prev = ctx;
    return n > DIFF_MAX_ALLOC ? NULL : prev->malloc(prev->ctx, n);
}
static void *cap_calloc(void *ctx, size_t k, size_t n) {
    PyMemAllocatorEx *prev = ctx;
    return (n && k > DIFF_MAX_ALLOC / n) ? NULL : prev->calloc(prev->ctx, k, n);
}
static void *cap_realloc(void *ctx, void *p, size_t n) {
    PyMemAllocatorEx *prev = ctx;
    return n > DIFF_MAX_ALLOC ? NULL : prev->realloc(prev->ctx, p, n);
}
static void cap_free(void *ctx, void *p) {
    PyMemAllocatorEx *prev = ctx;
    prev->free(prev->ctx, p);
}

static void hook(PyMemAllocatorDomain domain, PyMemAllocatorEx *prev) {
    PyMem_GetAllocator(domain, prev);
    PyMemAllocatorEx a = {prev, cap_malloc, cap_calloc, cap_realloc, cap_free};
    PyMem_SetAllocator(domain, &a);
}

/* --- start-up ------------------------------------------------------------------ */

static void die_py(const char *what) {
    fprintf(stderr, "fuzz_diff: %s\n", what);
    if (PyErr_Occurred()) PyErr_Print();
    exit(2);
}

static PyObject *import_attr(const char *module, const char *attr) {
    PyObject *m = PyImport_ImportModule(module);
    if (!m) return NULL;
    PyObject *a = PyObject_GetAttrString(m, attr);
    Py_DECREF(m);
    return a;
}

static void init_python(void) {
    /* Every CPython allocation through malloc: LeakSanitizer does not scan
     * pymalloc's mmap'ed arenas, so objects referenced only from there
     * would be reported as leaked. */
    PyPreConfig pre;
    PyPreConfig_InitIsolatedConfig(&pre);
    pre.allocator = PYMEM_ALLOCATOR_MALLOC;
    PyStatus st = Py_PreInitialize(&pre);
    if (PyStatus_Exception(st)) {
        fprintf(stderr, "fuzz_diff: cannot pre-initialize CPython: %s\n",
                st.err_msg ? st.err_msg : "?");
        exit(2);
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.install_signal_handlers = 0; /* libFuzzer and AFL++ own SIGINT, SIGALRM */
    config.use_hash_seed = 1;           /* reproducible: same hash order on every replay */
    config.hash_seed = 0;
    config.site_import = 0;
    config.write_bytecode = 0; /* no __pycache__ in the source tree */
    config.parse_argv = 0;
    const char *home = getenv("BRINE_PYTHON_HOME");
    if (!home || !*home) home = BRINE_PYTHON_HOME;
    st = PyConfig_SetBytesString(&config, &config.home, home);
    if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) {
        fprintf(stderr, "fuzz_diff: cannot start CPython (home %s): %s\n", home,
                st.err_msg ? st.err_msg : "?");
        exit(2);
    }
    hook(PYMEM_DOMAIN_RAW, &prev_raw);
    hook(PYMEM_DOMAIN_MEM, &prev_mem);
    hook(PYMEM_DOMAIN_OBJ, &prev_obj);

    /* The oracle package and the glue, from the source tree. */
    const char *root = getenv("BRINE_ORACLE_ROOT");
    if (!root || !*root) root = BRINE_SOURCE_DIR;
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    PyObject *r = PyUnicode_DecodeFSDefault(root);
    PyObject *h = PyUnicode_FromFormat("%s/harness", root);
    if (!path || !r || !h || PyList_Insert(path, 0, h) || PyList_Insert(path, 0, r))
        die_py("cannot set sys.path");
    Py_DECREF(r);
    Py_DECREF(h);
    py_decode = import_attr("oracle.reference", "decode_inprocess");
    py_options = import_attr("oracle.reference", "Options");
    py_excuse = import_attr("diffglue", "excuse");
    if (!py_decode || !py_options || !py_excuse)
        die_py("cannot import oracle.reference or harness/diffglue.py");
    py_false = Py_False;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    if (!Py_IsInitialized()) init_python();
    return 0;
}

/* --- options ---------------------------------------------------------------------- */

/* oracle.reference.Options for the options of fo, cached per combination. */
static PyObject *py_opts_for(const fuzz_options *fo) {
    int err_i = 0;
    static const char *const errs[] = {"strict",
                                       "replace",
                                       "ignore",
                                       "surrogateescape",
                                       "backslashreplace",
                                       "surrogatepass",
                                       "xmlcharrefreplace",
                                       "no-such-handler"};
    while (strcmp(errs[err_i], fo->errors) != 0)
        err_i++;
    int enc_i = fo->encoding[0] == 'A'   ? 0
                : fo->encoding[0] == 'l' ? 1
                : fo->encoding[0] == 'b' ? 2
                                         : 3;
    unsigned key = (unsigned)fo->opts.policy | (unsigned)enc_i << 1 | (unsigned)err_i << 3 |
                   (unsigned)fo->opts.fix_imports << 6 | (unsigned)(fo->nbuffers_sel + 1) << 7 |
                   (unsigned)fo->buffers[0].readonly << 9 |
                   (unsigned)fo->buffers[1].readonly << 10 | (unsigned)fo->extensions << 11;
    if (opts_cache[key]) return opts_cache[key];

    PyObject *buffers = Py_None, *ext = Py_None;
    Py_INCREF(Py_None);
    Py_INCREF(Py_None);
    if (fo->nbuffers_sel >= 0) {
        Py_DECREF(buffers);
        buffers = PyList_New(0);
        for (int i = 0; buffers && i < fo->nbuffers_sel; i++) {
            PyObject *t = Py_BuildValue("(y#O)", (const char *)fo->buffers[i].data,
                                        (Py_ssize_t)fo->buffers[i].len,
                                        fo->buffers[i].readonly ? Py_True : Py_False);
            if (!t || PyList_Append(buffers, t)) die_py("cannot build buffers");
            Py_DECREF(t);
        }
    }
    if (fo->extensions) {
        Py_DECREF(ext);
        ext = PyDict_New();
        for (int i = 0; ext && i < FUZZ_NEXTENSIONS; i++) {
            PyObject *k = PyLong_FromLong(FUZZ_EXTENSIONS[i].code);
            PyObject *v = Py_BuildValue("(ss)", FUZZ_EXTENSIONS[i].module, FUZZ_EXTENSIONS[i].name);
            if (!k || !v || PyDict_SetItem(ext, k, v)) die_py("cannot build extensions");
            Py_DECREF(k);
            Py_DECREF(v);
        }
    }
    if (!buffers || !ext) die_py("cannot build options");
    PyObject *o = PyObject_CallFunction(
        py_options, "sssOOOs", fo->opts.policy == BRINE_POLICY_BUILTINS ? "builtins" : "symbolic",
        fo->encoding, fo->errors, fo->opts.fix_imports ? Py_True : Py_False, buffers, ext, "c");
    Py_DECREF(buffers);
    Py_DECREF(ext);
    if (!o) die_py("oracle.reference.Options refused the options");
    opts_cache[key] = o;
    return o;
}

/* --- outcomes ------------------------------------------------------------------------ */

typedef struct outcome {
    const char *kind; /* "accept", "reject", "resource" */
    const char *exc_class;
    const char *message;
    const char *text;
    size_t text_len;
    int set_order_verified;
} outcome;

static const char *str_attr(PyObject *o, const char *name, size_t *len) {
    PyObject *a = PyObject_GetAttrString(o, name);
    if (!a) die_py("malformed oracle Outcome");
    const char *s = NULL;
    Py_ssize_t n = 0;
    /* The UTF-8 form is cached in the str, which o keeps alive. */
    if (a != Py_None) s = PyUnicode_AsUTF8AndSize(a, &n);
    Py_DECREF(a);
    if (len) *len = (size_t)n;
    return s;
}

static int is_resource(brine_code c) {
    return c == BRINE_E_NOMEM || c == BRINE_E_LIMIT_MEMORY || c == BRINE_E_LIMIT_MEMO ||
           c == BRINE_E_LIMIT_MARKS;
}

/* The one-line description of a disagreement; "" when there is none. */
static void describe(char *out, size_t cap, const outcome *b, const outcome *r) {
    out[0] = '\0';
    if (strcmp(b->kind, r->kind) != 0) {
        snprintf(out, cap, "brine %s (%s%s%.*s) but CPython %s (%s%s%.*s)", b->kind,
                 b->exc_class ? b->exc_class : "", b->exc_class ? ": " : "",
                 b->exc_class ? 200 : (int)(b->text_len < 200 ? b->text_len : 200),
                 b->exc_class ? b->message : b->text, r->kind, r->exc_class ? r->exc_class : "",
                 r->exc_class ? ": " : "", 200,
                 r->exc_class ? (r->message ? r->message : "") : r->text);
    } else if (strcmp(b->kind, "accept") == 0) {
        if (b->text_len != r->text_len || memcmp(b->text, r->text, b->text_len) != 0)
            snprintf(out, cap, "canonical texts differ: brine %.*s CPython %.*s",
                     (int)(b->text_len < 400 ? b->text_len : 400), b->text,
                     (int)(r->text_len < 400 ? r->text_len : 400), r->text);
    } else if (strcmp(b->kind, "reject") == 0 && strcmp(b->exc_class, r->exc_class) != 0) {
        snprintf(out, cap, "exception classes differ: brine %s: %s, CPython %s: %.300s",
                 b->exc_class, b->message, r->exc_class, r->message ? r->message : "");
    }
}

/* Asks harness/diffglue.py whether the registry excuses the disagreement;
 * returns a new reference to the reason (str) or NULL. */
static PyObject *excused(const uint8_t *data, size_t n, PyObject *opts, const outcome *b,
                         PyObject *ref) {
    PyObject *reason = PyObject_CallFunction(
        py_excuse, "y#O(ssss#)O", (const char *)data, (Py_ssize_t)n, opts, b->kind,
        b->exc_class ? b->exc_class : "", b->message ? b->message : "", b->text ? b->text : "",
        (Py_ssize_t)b->text_len, ref);
    if (!reason) die_py("harness/diffglue.py excuse() raised");
    if (reason == Py_None) {
        Py_DECREF(reason);
        return NULL;
    }
    return reason;
}

/* $BRINE_DIFF_REPORT_ONLY=1: print divergences instead of aborting. */
static int report_only(void) {
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("BRINE_DIFF_REPORT_ONLY");
        v = e && *e && strcmp(e, "0") != 0;
    }
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_check_planted(data, size);
    if (!Py_IsInitialized()) init_python();
    if (size > DIFF_MAX_INPUT) return 0;
    fuzz_options fo;
    size_t n = fuzz_options_from_tail(data, size, &fo);
    fo.opts.max_memory = fo.opts.max_memo = fo.opts.max_marks = 0;

    /* brine */
    outcome b = {0};
    fuzz_buf text = {0};
    brine_error err;
    brine_doc *doc = brine_decode(data, n, &fo.opts, NULL, &err);
    if (doc) {
        fuzz_canon(doc, &text);
        brine_doc_free(doc);
        b.kind = "accept";
        b.text = text.p ? text.p : "";
        b.text_len = text.n;
    } else {
        b.kind = is_resource(err.code) ? "resource" : "reject";
        b.exc_class = err.pyclass;
        b.message = err.msg;
    }

    /* CPython */
    PyObject *opts = py_opts_for(&fo);
    PyObject *bytes = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)n);
    if (!bytes) die_py("out of memory");
    PyObject *ref = PyObject_CallFunctionObjArgs(py_decode, bytes, opts, py_false, NULL);
    outcome r = {0};
    if (!ref) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        int mem = PyErr_GivenExceptionMatches(type, PyExc_MemoryError);
        PyObject *s = value ? PyObject_Str(value) : NULL;
        const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
        if (!mem) {
            /* Before aborting, so that the traceback is in the engine's log. */
            PyErr_Restore(type, value, tb);
            PyErr_Print();
            FUZZ_ASSERT(mem, "the oracle raised %s: %.300s", ((PyTypeObject *)type)->tp_name,
                        msg ? msg : "?");
        }
        PyErr_Clear();
        Py_XDECREF(s);
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        r.kind = "resource"; /* MemoryError while printing: as the oracle's worker does */
        r.exc_class = "MemoryError";
        ref = Py_None;
        Py_INCREF(ref);
    } else {
        r.kind = str_attr(ref, "kind", NULL);
        r.exc_class = str_attr(ref, "exc_class", NULL);
        r.message = str_attr(ref, "message", NULL);
        r.text = str_attr(ref, "text", &r.text_len);
        PyObject *v = PyObject_GetAttrString(ref, "set_order_verified");
        r.set_order_verified = v && PyObject_IsTrue(v) == 1;
        Py_XDECREF(v);
        if (!r.kind) die_py("malformed oracle Outcome");
    }

    char what[1400];
    describe(what, sizeof what, &b, &r);
    if (what[0]) {
        PyObject *reason = excused(data, n, opts, &b, ref);
        if (!reason && report_only()) {
            /* Triage mode: list every divergence of a corpus, then go on. */
            char line[4096];
            fuzz_escape(what, line, sizeof line);
            fprintf(stderr, "%s: divergence: %s\n", fuzz_input_name ? fuzz_input_name : "input",
                    line);
        } else {
            FUZZ_ASSERT(reason, "divergence: %s", what);
        }
        Py_XDECREF(reason);
    }
    Py_DECREF(ref);
    Py_DECREF(bytes);
    fuzz_buf_free(&text);
    return 0;
}
