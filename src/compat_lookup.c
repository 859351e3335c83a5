/*
 * compat_lookup.c - binary search over the generated mapping tables.
 */
#include <string.h>

#include "compat.h"

/* Byte-wise comparison of a counted string with a C string. */
static int cmp_counted(const char *s, size_t n, const char *c) {
    size_t cn = strlen(c);
    int r = memcmp(s, c, n < cn ? n : cn);
    if (r) return r;
    return n < cn ? -1 : n > cn;
}

int compat_map(const compat_tables *t, const char **module, size_t *mlen, const char **name,
               size_t *nlen) {
    size_t lo = 0, hi = t->nnames;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const compat_name *e = &t->names[mid];
        int r = cmp_counted(*module, *mlen, e->module);
        if (!r) r = cmp_counted(*name, *nlen, e->name);
        if (!r) {
            *module = e->new_module;
            *mlen = strlen(e->new_module);
            *name = e->new_name;
            *nlen = strlen(e->new_name);
            return 1;
        }
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    lo = 0;
    hi = t->nmodules;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = cmp_counted(*module, *mlen, t->modules[mid].module);
        if (!r) {
            *module = t->modules[mid].new_module;
            *mlen = strlen(*module);
            return 1;
        }
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

int compat_is_builtin_type(const char *name, size_t nlen) {
    size_t lo = 0, hi = compat_nbuiltin_types;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = cmp_counted(name, nlen, compat_builtin_types[mid]);
        if (!r) return 1;
        if (r < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}
