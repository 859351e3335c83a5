/*
 * decode_object.c - globals, calls, instantiation, BUILD, persistent ids,
 * extensions, and the opcodes that mutate what is on the stack (APPEND(S),
 * SETITEM(S), ADDITEMS).
 *
 * Globals and the objects made from them stand for CPython's inert stubs:
 * they are classes whose __call__, __new__, extend, __setitem__, add and
 * __setstate__ only record what the stream did. Every other node behaves as
 * the native Python object it stands for.
 */
#include <string.h>

#include "compat.h"
#include "decode.h"
#include "pyops.h"
#include "pytext.h"

/* find_class(module, name) with the Python 2 mapping of protocols < 3.
 * module_str and name_str are the str objects passed (STACK_GLOBAL) or NULL;
 * a mapped name is a different object. */
static brine_value *find_class(decoder *d, const char *module, size_t mlen, const char *name,
                               size_t nlen, brine_value *module_str, brine_value *name_str) {
    if (d->opts->fix_imports && d->proto < 3 &&
        compat_map(&compat_2to3, &module, &mlen, &name, &nlen))
        module_str = name_str = NULL;
    return val_global(d->doc, module, mlen, name, nlen, module_str, name_str);
}

/* One name line of GLOBAL (UTF-8) or INST (ASCII), without its newline. */
static const uint8_t *name_line(decoder *d, size_t *len, int ascii_only) {
    const uint8_t *line = dec_readline(d, len);
    if (!line) return NULL;
    if (*len < 2) {
        dec_fail(d, BRINE_E_TRUNCATED);
        return NULL;
    }
    (*len)--;
    size_t pos;
    if (ascii_only) {
        for (size_t i = 0; i < *len; i++)
            if (line[i] >= 0x80) {
                dec_fail(d, BRINE_E_UNICODE_DECODE);
                return NULL;
            }
    } else if (pt_utf8_check_strict(line, *len, &pos) != BRINE_OK) {
        dec_fail(d, BRINE_E_UNICODE_DECODE);
        return NULL;
    }
    return line;
}

int op_global(decoder *d) {
    size_t mlen, nlen;
    const uint8_t *module = name_line(d, &mlen, 0);
    if (!module) return -1;
    const uint8_t *name = name_line(d, &nlen, 0);
    if (!name) return -1;
    return dec_push(
        d, find_class(d, (const char *)module, mlen, (const char *)name, nlen, NULL, NULL));
}

int op_stack_global(decoder *d) {
    brine_value *name, *module;
    if (dec_pop(d, &name) < 0 || dec_pop(d, &module) < 0) return -1;
    if (module->kind != BRINE_STR || name->kind != BRINE_STR)
        return dec_fail(d, BRINE_E_STACK_GLOBAL);
    return dec_push(
        d, find_class(d, module->u.s.p, module->u.s.n, name->u.s.p, name->u.s.n, module, name));
}

/* callable(*args): a record on a stub, a native value when the builtins
 * policy folds it, TypeError for anything that is not a class. `args_tuple`
 * is the tuple REDUCE popped (NULL for INST and OBJ). */
static int do_call(decoder *d, brine_value *callable, brine_value *const *args, size_t nargs,
                   uint8_t opcode, brine_value *args_tuple) {
    if (!is_stub(callable)) return dec_fail(d, BRINE_E_NOT_CALLABLE);
    if (d->opts->policy == BRINE_POLICY_BUILTINS && callable->kind == BRINE_GLOBAL) {
        brine_value *folded;
        int r = fold_call(d, callable, args, nargs, &folded);
        if (r < 0) return -1;
        if (r > 0) return dec_push(d, folded);
    }
    brine_value *obj =
        val_object(d->doc, BRINE_MAKE_CALL, opcode, callable, args, nargs, NULL, NULL, 0);
    if (obj) obj->u.o->args_tuple = args_tuple;
    return dec_push(d, obj);
}

/* INST and OBJ: cls.__new__(cls) when there are no arguments and cls is a
 * class without __getinitargs__ (the stubs have none), else cls(*args). */
static int instantiate(decoder *d, brine_value *cls, brine_value *const *args, size_t nargs,
                       uint8_t opcode) {
    if (nargs == 0 && is_stub(cls))
        return dec_push(d, val_object(d->doc, BRINE_MAKE_NEW, opcode, cls, NULL, 0, NULL, NULL, 0));
    return do_call(d, cls, args, nargs, opcode, NULL);
}

int op_inst(decoder *d) {
    size_t i, mlen, nlen;
    if (dec_marker(d, &i) < 0) return -1;
    const uint8_t *module = name_line(d, &mlen, 1);
    if (!module) return -1;
    const uint8_t *name = name_line(d, &nlen, 1);
    if (!name) return -1;
    brine_value *cls =
        find_class(d, (const char *)module, mlen, (const char *)name, nlen, NULL, NULL);
    if (!cls) return dec_nomem(d);
    if (i < d->fence) return dec_underflow(d);
    size_t nargs = d->sp - i;
    d->sp = i;
    return instantiate(d, cls, nargs ? d->stack + i : NULL, nargs, 'i');
}

int op_obj(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    if (d->sp - i < 1) return dec_underflow(d);
    size_t nargs = d->sp - i - 1;
    brine_value *cls = d->stack[i];
    d->sp = i;
    /* No pointer into the stack for no arguments (as in op_inst). */
    return instantiate(d, cls, nargs ? d->stack + i + 1 : NULL, nargs, 'o');
}

int op_reduce(decoder *d) {
    brine_value *args, *callable;
    if (dec_pop(d, &args) < 0 || dec_pop(d, &callable) < 0) return -1;
    if (args->kind != BRINE_TUPLE) return dec_fail(d, BRINE_E_ARGS_NOT_TUPLE);
    return do_call(d, callable, args->u.tup.items, args->u.tup.n, 'R', args);
}

/* NEWOBJ, NEWOBJ_EX: cls.__new__(cls, *args, **kwargs). */
int op_newobj(decoder *d, int with_kwargs) {
    brine_value *kwargs = NULL, *args, *cls;
    if (with_kwargs && dec_pop(d, &kwargs) < 0) return -1;
    if (dec_pop(d, &args) < 0 || dec_pop(d, &cls) < 0) return -1;
    if (!is_stub(cls))
        return dec_fail_msg(d, BRINE_E_NEWOBJ_CLS,
                            with_kwargs ? "NEWOBJ_EX class argument must be a type" : NULL);
    if (args->kind != BRINE_TUPLE)
        return dec_fail_msg(d, BRINE_E_NEWOBJ_ARGS,
                            with_kwargs ? "NEWOBJ_EX args argument must be a tuple" : NULL);
    if (with_kwargs && kwargs->kind != BRINE_DICT) return dec_fail(d, BRINE_E_NEWOBJ_KWARGS);
    size_t nkw = kwargs ? kwargs->u.set.n : 0;
    brine_value **keys = NULL, **vals = NULL;
    if (nkw) {
        keys = arena_alloc(&d->doc->arena, nkw * sizeof *keys);
        vals = arena_alloc(&d->doc->arena, nkw * sizeof *vals);
        if (!keys || !vals) return dec_nomem(d);
        for (size_t i = 0; i < nkw; i++) {
            const bentry *e = &kwargs->u.set.entries[i];
            /* The call machinery passes **kwargs to __new__ by name. */
            if (e->key->kind != BRINE_STR) return dec_fail(d, BRINE_E_KEYWORDS_NOT_STR);
            keys[i] = e->key;
            vals[i] = e->value;
        }
    }
    brine_value *obj = val_object(d->doc, BRINE_MAKE_NEW, with_kwargs ? 0x92 : 0x81, cls,
                                  args->u.tup.items, args->u.tup.n, keys, vals, nkw);
    if (obj) {
        obj->u.o->args_tuple = args;
        obj->u.o->kwargs_dict = kwargs;
    }
    return dec_push(d, obj);
}

void dec_settle_kwargs(brine_doc *doc) {
    for (size_t i = 0; i < doc->created.n; i++) {
        brine_value *v = doc->created.items[i];
        if (v->kind != BRINE_OBJECT || !v->u.o->kwargs_dict) continue;
        bobject *o = v->u.o;
        const bdict *t = &o->kwargs_dict->u.set;
        int same = t->n == o->nkw;
        for (uint32_t k = 0; same && k < o->nkw; k++)
            same = t->entries[k].key == o->kwkeys[k] && t->entries[k].value == o->kwvals[k];
        if (!same) o->kwargs_dict = NULL;
    }
}

/* setattr(inst, key, value) on a native value, which has no attributes to set. */
static int native_setattr(decoder *d, brine_value *key) {
    if (key->kind != BRINE_STR) return dec_fail(d, BRINE_E_ATTR_NAME_TYPE);
    if (key->u.s.n == 9 && memcmp(key->u.s.p, "__class__", 9) == 0)
        return dec_fail(d, BRINE_E_CLASS_ASSIGN);
    return dec_fail(d, BRINE_E_NO_ATTRIBUTE);
}

/* BUILD: a stub records the state; a native value gets CPython's default
 * __setstate__ rules, under which only empty updates can succeed. */
int op_build(decoder *d) {
    if (d->sp < d->fence + 2) return dec_underflow(d);
    brine_value *state = d->stack[--d->sp];
    brine_value *inst = d->stack[d->sp - 1];
    if (is_stub(inst)) {
        brine_code code = oplog_add(d->doc, val_oplog(inst), BRINE_OP_SETSTATE, state, NULL);
        return code == BRINE_OK ? 0 : dec_fail(d, code);
    }
    brine_value *slotstate = NULL;
    if (state->kind == BRINE_TUPLE && state->u.tup.n == 2) {
        slotstate = state->u.tup.items[1];
        state = state->u.tup.items[0];
    }
    if (state->kind != BRINE_NONE) {
        if (state->kind != BRINE_DICT) return dec_fail(d, BRINE_E_STATE_NOT_DICT);
        /* inst.__dict__: no native value has one. */
        return dec_fail(d, BRINE_E_NO_ATTRIBUTE);
    }
    if (slotstate) {
        if (slotstate->kind != BRINE_DICT) return dec_fail(d, BRINE_E_SLOTSTATE_NOT_DICT);
        const bdict *sd = &slotstate->u.set;
        if (sd->n) return native_setattr(d, sd->entries[0].key);
    }
    return 0;
}

static int persistent(decoder *d, brine_value *pid) {
    if (!d->opts->persistent_load) return dec_push(d, val_persid(d->doc, pid));
    brine_error err;
    memset(&err, 0, sizeof err);
    brine_value *v = d->opts->persistent_load(d->opts->persistent_ctx, d->doc, pid, &err);
    if (!v) return dec_fail_msg(d, err.code ? err.code : BRINE_E_USAGE, err.msg);
    return dec_push(d, v);
}

int op_persid(decoder *d) {
    size_t len;
    const uint8_t *line = dec_readline(d, &len);
    if (!line) return -1;
    len--;
    for (size_t i = 0; i < len; i++)
        if (line[i] >= 0x80) return dec_fail(d, BRINE_E_PERSID_ASCII);
    brine_value *pid = val_str_copy(d->doc, (const char *)line, len, len);
    if (!pid) return dec_nomem(d);
    return persistent(d, pid);
}

int op_binpersid(decoder *d) {
    brine_value *pid;
    if (dec_pop(d, &pid) < 0) return -1;
    return persistent(d, pid);
}

/* EXT1, EXT2, EXT4: a global from the caller's extension registry, cached
 * by code for the rest of the load as CPython caches it. */
int op_extension(decoder *d, int nbytes) {
    const uint8_t *p = dec_read(d, (size_t)nbytes);
    if (!p) return -1;
    int64_t code = nbytes == 4 ? (int32_t)(uint32_t)load_le(p, 4) : (int64_t)load_le(p, nbytes);
    if (code <= 0) return dec_fail(d, BRINE_E_EXT_CODE);
    for (size_t i = 0; i < d->next_cache; i++)
        if (d->ext_cache[i].code == code) return dec_push(d, d->ext_cache[i].value);
    const brine_extension *e = NULL;
    for (size_t i = 0; i < d->opts->nextensions && !e; i++)
        if (d->opts->extensions[i].code == code) e = &d->opts->extensions[i];
    if (!e) return dec_fail(d, BRINE_E_EXT_UNREGISTERED);
    brine_value *g =
        find_class(d, e->module, strlen(e->module), e->name, strlen(e->name), NULL, NULL);
    if (!g) return dec_nomem(d);
    if (!d->ext_cache) {
        brine_alloc *al = &d->doc->arena.alloc;
        d->ext_cache = al->malloc(al->ctx, d->opts->nextensions * sizeof *d->ext_cache);
        if (!d->ext_cache) return dec_fail(d, BRINE_E_NOMEM);
    }
    d->ext_cache[d->next_cache].code = (int32_t)code;
    d->ext_cache[d->next_cache++].value = g;
    return dec_push(d, g);
}

/* The byte value bytearray accepts for an item: 0..255 ints. */
static int byte_value(decoder *d, const brine_value *v, uint8_t *out) {
    int64_t x;
    if (v->kind == BRINE_BOOL)
        x = v->u.boolean;
    else if (v->kind != BRINE_INT)
        return dec_fail(d, BRINE_E_NOT_INTEGER);
    else if (v->flags & VF_BIG)
        return dec_fail(d, BRINE_E_BYTE_RANGE);
    else
        x = v->u.i;
    if (x < 0 || x > 255) return dec_fail(d, BRINE_E_BYTE_RANGE);
    *out = (uint8_t)x;
    return 0;
}

/* APPEND(S) onto stack[x-1] of the items stack[x..sp). */
static int do_append(decoder *d, size_t x) {
    size_t len = d->sp;
    if (x > len || x <= d->fence) return dec_underflow(d);
    if (len == x) return 0;
    brine_value *target = d->stack[x - 1];
    brine_value *const *items = d->stack + x;
    size_t n = len - x;
    d->sp = x;
    if (target->kind == BRINE_LIST) {
        brine_code code = list_extend(d->doc, target, items, n);
        return code == BRINE_OK ? 0 : dec_fail(d, code);
    }
    if (is_stub(target)) {
        for (size_t i = 0; i < n; i++) {
            brine_code code = oplog_add(d->doc, val_oplog(target), BRINE_OP_EXTEND, items[i], NULL);
            if (code != BRINE_OK) return dec_fail(d, code);
        }
        return 0;
    }
    if (target->kind == BRINE_BYTEARRAY) {
        /* bytearray.extend(list): every item is checked before the resize. */
        uint8_t *bytes = arena_alloc(&d->doc->arena, n);
        if (!bytes) return dec_nomem(d);
        for (size_t i = 0; i < n; i++)
            if (byte_value(d, items[i], &bytes[i]) < 0) return -1;
        if (target->flags & VF_EXPORTED) return dec_fail(d, BRINE_E_BUFFER_EXPORT);
        brine_code code = bytearray_extend(d->doc, target, bytes, n);
        return code == BRINE_OK ? 0 : dec_fail(d, code);
    }
    return dec_fail(d, BRINE_E_NO_ATTRIBUTE); /* no extend() and no append() */
}

int op_append(decoder *d) {
    if (d->sp <= d->fence + 1) return dec_underflow(d);
    return do_append(d, d->sp - 1);
}

int op_appends(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    return do_append(d, i);
}

/* An index key (int or bool) as a Py_ssize_t (PyNumber_AsSsize_t with
 * IndexError): 1 with *out set, 0 when the key is no index, -1 after
 * dec_fail when it does not fit. */
static int index_key(decoder *d, const brine_value *key, int64_t *out) {
    if (key->kind == BRINE_BOOL)
        *out = key->u.boolean;
    else if (key->kind != BRINE_INT)
        return 0;
    else if (key->flags & VF_BIG)
        return dec_fail_msg(d, BRINE_E_INDEX_RANGE, "cannot fit 'int' into an index-sized integer");
    else
        *out = key->u.i;
    return 1;
}

/* Wraps a negative index like Python; 0 when out of range. */
static int wrap_index(int64_t i, size_t len, size_t *out) {
    if (i < 0) i += (int64_t)len;
    if (i < 0 || (uint64_t)i >= len) return 0;
    *out = (size_t)i;
    return 1;
}

/* CPython's "'<type>' object does not support item assignment" for native
 * kinds; NULL (the table's message) for the persistent records, whose type
 * is the oracle's stub class. */
static const char *no_setitem_msg(const brine_value *target) {
    switch (target->kind) {
    case BRINE_NONE: return "'NoneType' object does not support item assignment";
    case BRINE_BOOL: return "'bool' object does not support item assignment";
    case BRINE_INT: return "'int' object does not support item assignment";
    case BRINE_FLOAT: return "'float' object does not support item assignment";
    case BRINE_COMPLEX: return "'complex' object does not support item assignment";
    case BRINE_STR: return "'str' object does not support item assignment";
    case BRINE_BYTES: return "'bytes' object does not support item assignment";
    case BRINE_TUPLE: return "'tuple' object does not support item assignment";
    case BRINE_SET: return "'set' object does not support item assignment";
    case BRINE_FROZENSET: return "'frozenset' object does not support item assignment";
    case BRINE_PICKLEBUFFER: return "'pickle.PickleBuffer' object does not support item assignment";
    default: return NULL;
    }
}

/* target[key] = value (PyObject_SetItem). The order of the checks is
 * CPython 3.11's; tests/data/decode_cases.txt has a case for each step. */
static int set_item(decoder *d, brine_value *target, brine_value *key, brine_value *value) {
    brine_code code;
    int64_t i = 0;
    size_t at;
    int r;
    switch (target->kind) {
    case BRINE_DICT:
        code = py_dict_set(d->doc, target, key, value);
        return code == BRINE_OK ? 0 : dec_fail(d, code);
    case BRINE_GLOBAL:
    case BRINE_OBJECT:
        code = oplog_add(d->doc, val_oplog(target), BRINE_OP_SETITEM, key, value);
        return code == BRINE_OK ? 0 : dec_fail(d, code);
    case BRINE_LIST: /* list_ass_subscript */
        r = index_key(d, key, &i);
        if (r < 0) return -1;
        if (r == 0)
            return dec_fail_msg(d, BRINE_E_INDEX_TYPE, "list indices must be integers or slices");
        if (!wrap_index(i, target->u.list.n, &at))
            return dec_fail_msg(d, BRINE_E_INDEX_RANGE, "list assignment index out of range");
        target->u.list.items[at] = value;
        return 0;
    case BRINE_BYTEARRAY: { /* bytearray_ass_subscript */
        uint8_t b = 0;      /* byte_value sets it; GCC -O3 cannot tell (-Wmaybe-uninitialized) */
        r = index_key(d, key, &i);
        if (r < 0) return -1;
        if (r == 0)
            return dec_fail_msg(d, BRINE_E_INDEX_TYPE,
                                "bytearray indices must be integers or slices");
        /* The value is converted before the bounds check (GH-91153). */
        if (byte_value(d, value, &b) < 0) return -1;
        if (!wrap_index(i, target->u.ba.n, &at))
            return dec_fail_msg(d, BRINE_E_INDEX_RANGE, "bytearray index out of range");
        target->u.ba.p[at] = b;
        return 0;
    }
    case BRINE_READONLY_VIEW: return dec_fail(d, BRINE_E_READONLY); /* checked before the key */
    case BRINE_STR:
    case BRINE_BYTES:
    case BRINE_TUPLE:
    case BRINE_SET:
    case BRINE_FROZENSET:
    case BRINE_PERSID:
        /* Types with tp_as_sequence (the persistent records' class is a heap
         * type, which always has one) but no item assignment: an index key
         * is converted first, so a huge one fails with IndexError. */
        if (index_key(d, key, &i) < 0) return -1;
        /* fall through */
    default: return dec_fail_msg(d, BRINE_E_NO_SETITEM, no_setitem_msg(target));
    }
}

/* dict[key] = value through the key shape (decode.h), which it keeps
 * true: a key the shape predicts is appended without a lookup; any other
 * goes through py_dict_set and, when appended, becomes the shape's key at
 * that position. */
static int dict_set_shaped(decoder *d, brine_value *dict, brine_value *key, brine_value *value) {
    key_shape *s = &d->shape;
    bdict *t = &dict->u.set;
    brine_code code;
    if (t->n == 0) {
        s->dict = dict;
        s->pos = 0;
    }
    if (s->dict != dict || t->n != s->pos) {
        code = py_dict_set(d->doc, dict, key, value);
        return code == BRINE_OK ? 0 : dec_fail(d, code);
    }
    if (s->pos < s->n && key == s->keys[s->pos]) {
        code = dec_shape_append(d, dict, key, value);
        return code == BRINE_OK ? 0 : dec_fail(d, code);
    }
    code = py_dict_set(d->doc, dict, key, value);
    if (code != BRINE_OK) return dec_fail(d, code);
    if (t->n == s->pos + 1 && s->pos < PY_SMALL_TABLE) {
        /* A new key: distinct from keys[0..pos), the dict's other keys. */
        s->keys[s->pos] = key;
        s->n = ++s->pos;
    }
    return 0;
}

/* SETITEM(S) on stack[x-1] with the pairs stack[x..sp). x may be "negative"
 * for SETITEM on a short stack, which CPython reports as an underflow. */
static int do_setitems(decoder *d, size_t x, int x_negative) {
    size_t len = d->sp;
    if (x_negative || x > len || x <= d->fence) return dec_underflow(d);
    if (len == x) return 0;
    if ((len - x) % 2 != 0) return dec_fail(d, BRINE_E_ODD_SETITEMS);
    brine_value *target = d->stack[x - 1];
    d->sp = x;
    /* Best effort: the table's exact size at once. A failure here is left
     * to the insertions, which fail in CPython's order. */
    if (target->kind == BRINE_DICT) {
        size_t k = (len - x) / 2;
        (void)py_reserve(d->doc, target, k);
        if (dec_fill_shaped(d, target, d->stack + x, k)) return 0;
        enum { AHEAD = 8 }; /* pairs: py_prefetch */
        for (size_t i = x + 1; i < len; i += 2) {
            if (i + 2 * AHEAD < len) py_prefetch(target, d->stack[i - 1 + 2 * AHEAD]);
            /* set_item's DICT case, through the key shape. */
            if (dict_set_shaped(d, target, d->stack[i - 1], d->stack[i]) < 0) return -1;
        }
        return 0;
    }
    for (size_t i = x + 1; i < len; i += 2)
        if (set_item(d, target, d->stack[i - 1], d->stack[i]) < 0) return -1;
    return 0;
}

int op_setitem(decoder *d) {
    return do_setitems(d, d->sp - 2, d->sp < 2);
}

int op_setitems(decoder *d) {
    size_t i;
    if (dec_marker(d, &i) < 0) return -1;
    return do_setitems(d, i, 0);
}

int op_additems(decoder *d) {
    size_t mark;
    if (dec_marker(d, &mark) < 0) return -1;
    size_t len = d->sp;
    if (mark > len || mark <= d->fence) return dec_underflow(d);
    if (len == mark) return 0;
    brine_value *target = d->stack[mark - 1];
    d->sp = mark;
    for (size_t i = mark; i < len; i++) {
        brine_code code;
        if (target->kind == BRINE_SET)
            code = py_set_add(d->doc, target, d->stack[i]);
        else if (is_stub(target))
            code = oplog_add(d->doc, val_oplog(target), BRINE_OP_ADD, d->stack[i], NULL);
        else
            return dec_fail(d, BRINE_E_NO_ATTRIBUTE); /* no add() */
        if (code != BRINE_OK) return dec_fail(d, code);
    }
    return 0;
}
