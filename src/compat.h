/*
 * compat.h - the fix_imports name mapping between Python 2 and 3.
 *
 * CPython's unpickler, for protocols < 3, first looks (module, name) up in
 * _compat_pickle.NAME_MAPPING and replaces both, else looks module up in
 * IMPORT_MAPPING and replaces the module; its pickler does the same with
 * the REVERSE_ tables. compat_map() applies one direction.
 */
#ifndef BRINE_COMPAT_H
#define BRINE_COMPAT_H

#include <stddef.h>

typedef struct compat_name {
    const char *module, *name, *new_module, *new_name;
} compat_name;

typedef struct compat_module {
    const char *module, *new_module;
} compat_module;

typedef struct compat_tables {
    const compat_name *names;
    size_t nnames;
    const compat_module *modules;
    size_t nmodules;
} compat_tables;

extern const compat_tables compat_2to3; /* unpickler: Python 2 names to 3 */
extern const compat_tables compat_3to2; /* pickler: Python 3 names to 2 */

/* Maps (module, name) in place when a table entry applies; returns 1 when
 * something changed. The results point to static strings. */
int compat_map(const compat_tables *t, const char **module, size_t *mlen, const char **name,
               size_t *nlen);

/* The names in CPython 3.11's builtins module that are types, sorted. */
extern const char *const *const compat_builtin_types;
extern const size_t compat_nbuiltin_types;

/* 1 when builtins.<name> is a type (its __module__ is CPython's interned
 * 'builtins', shared by every builtin type; functions have another). */
int compat_is_builtin_type(const char *name, size_t nlen);

#endif
