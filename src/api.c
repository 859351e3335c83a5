/*
 * api.c - the public accessors and builders of brine.h over value.h nodes.
 *
 * Accessors trust their caller to pass the kind they name (as documented);
 * builders check what Python would check and report it through brine_error.
 */
#include <string.h>

#include "bigint.h"
#include "errors.h"
#include "pyfloat.h"
#include "pyops.h"
#include "pytext.h"
#include "value.h"

/* --- reading --- */

brine_kind brine_kind_of(const brine_value *v) {
    return (brine_kind)v->kind;
}

int brine_bool_value(const brine_value *v) {
    return v->u.boolean;
}

int brine_int_to_int64(const brine_value *v, int64_t *out) {
    if (v->kind == BRINE_BOOL) {
        *out = v->u.boolean;
        return 1;
    }
    if (!(v->flags & VF_BIG)) {
        *out = v->u.i;
        return 1;
    }
    return 0;
}

size_t brine_int_to_bytes(const brine_value *v, uint8_t *buf, size_t cap) {
    uint32_t tmp[2];
    bi x;
    val_int_view(v, tmp, &x);
    return bi_to_le_bytes(&x, buf, cap);
}

double brine_float_value(const brine_value *v) {
    return pyfloat_from_bits(v->u.fbits);
}

uint64_t brine_float_bits(const brine_value *v) {
    return v->u.fbits;
}

void brine_complex_value(const brine_value *v, double *re, double *im) {
    *re = pyfloat_from_bits(v->u.c.re);
    *im = pyfloat_from_bits(v->u.c.im);
}

const char *brine_str_data(const brine_value *v, size_t *len) {
    *len = v->u.s.n;
    return v->u.s.p;
}

const uint8_t *brine_bytes_data(const brine_value *v, size_t *len) {
    if (v->kind == BRINE_BYTEARRAY) {
        *len = v->u.ba.n;
        return v->u.ba.p;
    }
    *len = v->u.s.n;
    return (const uint8_t *)v->u.s.p;
}

size_t brine_len(const brine_value *v) {
    switch (v->kind) {
    case BRINE_TUPLE: return v->u.tup.n;
    case BRINE_LIST: return v->u.list.n;
    case BRINE_DICT:
    case BRINE_SET:
    case BRINE_FROZENSET: return v->u.set.n;
    default: return 0;
    }
}

brine_value *brine_item(const brine_value *v, size_t i) {
    switch (v->kind) {
    case BRINE_TUPLE: return i < v->u.tup.n ? v->u.tup.items[i] : NULL;
    case BRINE_LIST: return i < v->u.list.n ? v->u.list.items[i] : NULL;
    case BRINE_SET:
    case BRINE_FROZENSET: return i < v->u.set.n ? v->u.set.entries[i].key : NULL;
    default: return NULL;
    }
}

brine_value *brine_dict_key(const brine_value *v, size_t i) {
    return i < v->u.set.n ? v->u.set.entries[i].key : NULL;
}

brine_value *brine_dict_value(const brine_value *v, size_t i) {
    return i < v->u.set.n ? v->u.set.entries[i].value : NULL;
}

const char *brine_global_module(const brine_value *v, size_t *len) {
    *len = v->u.g->mlen;
    return v->u.g->module;
}

const char *brine_global_name(const brine_value *v, size_t *len) {
    *len = v->u.g->nlen;
    return v->u.g->name;
}

brine_make brine_object_make(const brine_value *v) {
    return (brine_make)v->u.o->make;
}

uint8_t brine_object_opcode(const brine_value *v) {
    return v->u.o->opcode;
}

brine_value *brine_object_callable(const brine_value *v) {
    return v->u.o->callable;
}

size_t brine_object_nargs(const brine_value *v) {
    return v->u.o->nargs;
}

brine_value *brine_object_arg(const brine_value *v, size_t i) {
    return i < v->u.o->nargs ? v->u.o->args[i] : NULL;
}

size_t brine_object_nkwargs(const brine_value *v) {
    return v->u.o->nkw;
}

brine_value *brine_object_kwarg_key(const brine_value *v, size_t i) {
    return i < v->u.o->nkw ? v->u.o->kwkeys[i] : NULL;
}

brine_value *brine_object_kwarg_value(const brine_value *v, size_t i) {
    return i < v->u.o->nkw ? v->u.o->kwvals[i] : NULL;
}

size_t brine_nops(const brine_value *v) {
    const oplog *log = val_oplog((brine_value *)v);
    return log ? log->n : 0;
}

brine_op_kind brine_op(const brine_value *v, size_t i, brine_value **a, brine_value **b) {
    const oplog *log = val_oplog((brine_value *)v);
    const oprec *op = &log->ops[i];
    if (a) *a = op->a;
    if (b) *b = op->b;
    return (brine_op_kind)op->kind;
}

brine_value *brine_persid_pid(const brine_value *v) {
    return v->u.pid;
}

size_t brine_picklebuffer_index(const brine_value *v) {
    return v->u.pb.index;
}

brine_value *brine_view_target(const brine_value *v) {
    return v->u.view.target;
}

/* --- building --- */

static brine_value *fail(brine_doc *doc, brine_error *err, brine_code code) {
    if (code == BRINE_E_NOMEM) code = arena_error(&doc->arena);
    brine_set_error(err, code, NULL, 0);
    return NULL;
}

brine_value *brine_new_none(brine_doc *doc) {
    return &doc->none;
}

brine_value *brine_new_bool(brine_doc *doc, int b) {
    return b ? &doc->t : &doc->f;
}

brine_value *brine_new_int64(brine_doc *doc, int64_t v) {
    return val_int64(doc, v);
}

brine_value *brine_new_int_bytes(brine_doc *doc, const uint8_t *le, size_t n) {
    uint32_t *limbs = arena_alloc(&doc->arena, bi_bytes_limbs(n) * sizeof *limbs + 4);
    if (!limbs) return NULL;
    bi x;
    bi_from_le_bytes(le, n, limbs, &x);
    return val_int_limbs(doc, x.limbs, x.n, x.neg);
}

brine_value *brine_new_float(brine_doc *doc, double v) {
    return val_float_bits(doc, pyfloat_bits(v));
}

brine_value *brine_new_float_bits(brine_doc *doc, uint64_t bits) {
    return val_float_bits(doc, bits);
}

brine_value *brine_new_complex(brine_doc *doc, double re, double im) {
    brine_value *v = val_new(doc, BRINE_COMPLEX);
    if (v) {
        v->u.c.re = pyfloat_bits(re);
        v->u.c.im = pyfloat_bits(im);
    }
    return v;
}

brine_value *brine_new_str(brine_doc *doc, const char *data, size_t len, brine_error *err) {
    size_t ncp, pos;
    brine_code code = pt_utf8_check((const uint8_t *)data, len, &ncp, &pos);
    if (code != BRINE_OK) {
        brine_set_error(err, code, NULL, pos);
        return NULL;
    }
    brine_value *v = val_str_copy(doc, data, len, ncp);
    return v ? v : fail(doc, err, BRINE_E_NOMEM);
}

brine_value *brine_new_bytes(brine_doc *doc, const uint8_t *data, size_t len) {
    return val_bytes_fresh(doc, data, len, 0);
}

brine_value *brine_new_bytearray(brine_doc *doc, const uint8_t *data, size_t len) {
    return val_bytearray(doc, data, len);
}

brine_value *brine_new_tuple(brine_doc *doc, brine_value *const *items, size_t n) {
    return val_tuple_copy(doc, items, n);
}

brine_value *brine_new_list(brine_doc *doc) {
    return val_list_copy(doc, NULL, 0);
}

int brine_list_append(brine_doc *doc, brine_value *list, brine_value *item) {
    return list_extend(doc, list, &item, 1) == BRINE_OK ? 0 : -1;
}

brine_value *brine_new_dict(brine_doc *doc) {
    return val_container(doc, BRINE_DICT);
}

int brine_dict_set(brine_doc *doc, brine_value *dict, brine_value *key, brine_value *value,
                   brine_error *err) {
    brine_code code = py_dict_set(doc, dict, key, value);
    if (code == BRINE_OK) return 0;
    fail(doc, err, code);
    return -1;
}

brine_value *brine_new_set(brine_doc *doc) {
    return val_container(doc, BRINE_SET);
}

int brine_set_add(brine_doc *doc, brine_value *set, brine_value *item, brine_error *err) {
    brine_code code = py_set_add(doc, set, item);
    if (code == BRINE_OK) return 0;
    fail(doc, err, code);
    return -1;
}

brine_value *brine_new_frozenset(brine_doc *doc, brine_value *const *items, size_t n,
                                 brine_error *err) {
    brine_value *v = val_container(doc, BRINE_FROZENSET);
    if (!v) return fail(doc, err, BRINE_E_NOMEM);
    for (size_t i = 0; i < n; i++) {
        brine_code code = py_set_add(doc, v, items[i]);
        if (code != BRINE_OK) return fail(doc, err, code);
    }
    return v;
}

brine_value *brine_new_global(brine_doc *doc, const char *module, size_t mlen, const char *name,
                              size_t nlen, brine_error *err) {
    size_t ncp, pos;
    if (pt_utf8_check((const uint8_t *)module, mlen, &ncp, &pos) != BRINE_OK ||
        pt_utf8_check((const uint8_t *)name, nlen, &ncp, &pos) != BRINE_OK)
        return fail(doc, err, BRINE_E_UNICODE_DECODE);
    brine_value *v = val_global(doc, module, mlen, name, nlen, NULL, NULL);
    return v ? v : fail(doc, err, BRINE_E_NOMEM);
}

brine_value *brine_new_object(brine_doc *doc, brine_make make, brine_value *callable,
                              brine_value *const *args, size_t nargs, const brine_value *kwargs) {
    size_t nkw = kwargs ? kwargs->u.set.n : 0;
    brine_value **keys = NULL, **vals = NULL;
    if (nkw) {
        keys = arena_alloc(&doc->arena, nkw * sizeof *keys);
        vals = arena_alloc(&doc->arena, nkw * sizeof *vals);
        if (!keys || !vals) return NULL;
        for (size_t i = 0; i < nkw; i++) {
            keys[i] = kwargs->u.set.entries[i].key;
            vals[i] = kwargs->u.set.entries[i].value;
        }
    }
    uint8_t opcode = make == BRINE_MAKE_CALL ? 'R' : (nkw ? 0x92 : 0x81);
    return val_object(doc, make, opcode, callable, args, nargs, keys, vals, nkw);
}

int brine_add_op(brine_doc *doc, brine_value *target, brine_op_kind kind, brine_value *a,
                 brine_value *b) {
    oplog *log = val_oplog(target);
    if (!log) return -1;
    return oplog_add(doc, log, kind, a, kind == BRINE_OP_SETITEM ? b : NULL) == BRINE_OK ? 0 : -1;
}

brine_value *brine_new_persid(brine_doc *doc, brine_value *pid) {
    return val_persid(doc, pid);
}

brine_value *brine_new_picklebuffer(brine_doc *doc, size_t index) {
    brine_value *v = val_new(doc, BRINE_PICKLEBUFFER);
    if (v) v->u.pb.index = index;
    return v;
}

brine_value *brine_new_readonly_view(brine_doc *doc, brine_value *target) {
    brine_value *v = val_new(doc, BRINE_READONLY_VIEW);
    if (v) v->u.view.target = target;
    return v;
}
