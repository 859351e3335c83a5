/*
 * graph.c - edges of nodes, and the discarded-node computation.
 */
#include "graph.h"

static size_t oplog_slots(const oplog *log) {
    return (size_t)log->n * 2;
}

static brine_value *oplog_slot(const oplog *log, size_t i) {
    const oprec *op = &log->ops[i / 2];
    return i % 2 ? op->b : op->a;
}

/* An object's arguments are one slot (the args tuple node) when the stream
 * built a tuple for them, else one slot per argument. Keyword arguments
 * likewise: the kwargs dict, or a key and a value per entry. */
static size_t object_arg_slots(const bobject *o) {
    return o->args_tuple ? 1 : o->nargs;
}

static size_t object_kw_slots(const bobject *o) {
    return o->kwargs_dict ? 1 : 2 * (size_t)o->nkw;
}

size_t graph_nslots(const brine_value *v) {
    switch (v->kind) {
    case BRINE_TUPLE: return v->u.tup.n;
    case BRINE_LIST: return v->u.list.n;
    case BRINE_DICT: return v->u.set.n * 2;
    case BRINE_SET:
    case BRINE_FROZENSET: return v->u.set.n;
    case BRINE_GLOBAL: return 2 + oplog_slots(&v->u.g->log);
    case BRINE_OBJECT: {
        const bobject *o = v->u.o;
        return 1 + object_arg_slots(o) + object_kw_slots(o) + oplog_slots(&o->log);
    }
    case BRINE_PERSID:
    case BRINE_READONLY_VIEW: return 1;
    default: return 0;
    }
}

brine_value *graph_slot(const brine_value *v, size_t i) {
    switch (v->kind) {
    case BRINE_TUPLE: return v->u.tup.items[i];
    case BRINE_LIST: return v->u.list.items[i];
    case BRINE_DICT: {
        const bentry *e = &v->u.set.entries[i / 2];
        return i % 2 ? e->value : e->key;
    }
    case BRINE_SET:
    case BRINE_FROZENSET: return v->u.set.entries[i].key;
    case BRINE_GLOBAL:
        if (i < 2) return i ? v->u.g->name_str : v->u.g->module_str;
        return oplog_slot(&v->u.g->log, i - 2);
    case BRINE_OBJECT: {
        const bobject *o = v->u.o;
        if (i == 0) return o->callable;
        i -= 1;
        if (i < object_arg_slots(o)) return o->args_tuple ? o->args_tuple : o->args[i];
        i -= object_arg_slots(o);
        if (i < object_kw_slots(o))
            return o->kwargs_dict ? o->kwargs_dict : i % 2 ? o->kwvals[i / 2] : o->kwkeys[i / 2];
        i -= object_kw_slots(o);
        return oplog_slot(&o->log, i);
    }
    case BRINE_PERSID: return v->u.pid;
    case BRINE_READONLY_VIEW: return v->u.view.target;
    default: return NULL;
    }
}

/* Marks everything reachable from v with doc->epoch (a node's `mark`
 * field, so that a pass over millions of nodes needs no hash table).
 * Returns 0 on allocation failure. `stack` is reused between calls. */
static int mark_reachable(brine_doc *doc, ptrvec *stack, brine_value *v) {
    const uint32_t epoch = doc->epoch;
    if (v->mark == epoch) return 1;
    v->mark = epoch;
    stack->n = 0;
    if (!ptrvec_push(&doc->arena, stack, v)) return 0;
    while (stack->n) {
        brine_value *node = stack->items[--stack->n];
        size_t n = graph_nslots(node);
        for (size_t i = 0; i < n; i++) {
            brine_value *c = graph_slot(node, i);
            if (!c || c->mark == epoch) continue;
            c->mark = epoch;
            if (graph_nslots(c) && !ptrvec_push(&doc->arena, stack, c)) return 0;
        }
    }
    return 1;
}

int doc_compute_discarded(brine_doc *doc) {
    doc->discarded.n = 0;
    if (!doc->created.n) return 1;
    doc->epoch++;
    ptrvec stack = {0};
    int ok = doc->root ? mark_reachable(doc, &stack, doc->root) : 1;
    for (size_t i = 0; ok && i < doc->created.n; i++) {
        brine_value *v = doc->created.items[i];
        if (v->mark == doc->epoch) continue;
        ok = ptrvec_push(&doc->arena, &doc->discarded, v) && mark_reachable(doc, &stack, v);
    }
    return ok;
}
