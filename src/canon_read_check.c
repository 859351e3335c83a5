/*
 * canon_read_check.c - the canonical text reader's whole-document checks.
 *
 * Run once the text is parsed, when every node is complete:
 *
 *  1. Creation cycles. A tuple's items, a frozenset's elements, an object's
 *     callable and arguments and a persid's pid exist before the node that
 *     holds them, so a cycle made only of such edges describes no possible
 *     graph (`&1 ([&2 persid(*1)], *2)`: the tuple needs the persid and the
 *     persid the tuple). Any cycle contains an edge back to a node that was
 *     still open in the text; the parser rejects those whose way down has
 *     no mutation at all and records the rest, and Tarjan's algorithm over
 *     the creation edges decides them here. Most texts record none.
 *
 *  2. Frozensets, in an order where every frozenset a hash depends on is
 *     filled first (a depth-first walk over tuple items and frozenset
 *     elements), then dicts and sets in text order. Insertions use Python's
 *     rules (pyops.h): an equal key or element is a text the printer cannot
 *     have written, an unhashable one a TypeError.
 *
 *  3. Objects get their arguments from their (now complete) args tuple and
 *     keyword arguments from their kwargs dict.
 *
 * Nothing here recurses.
 */
#include <string.h>

#include "canon_read.h"
#include "ptrmap.h"
#include "pyops.h"

static int post_fail(cr_post *p, brine_code code, const char *msg, size_t off) {
    p->code = code;
    p->msg = msg;
    p->off = off;
    return 0;
}

static void scratch_free(const brine_alloc *al, void *p, size_t bytes) {
    if (p) al->free(al->ctx, p, bytes);
}

void cr_post_free(cr_post *p) {
    scratch_free(p->al, p->pend, p->cappend * sizeof *p->pend);
    scratch_free(p->al, p->conts, p->capconts * sizeof *p->conts);
    scratch_free(p->al, p->susp, p->capsusp * sizeof *p->susp);
    scratch_free(p->al, p->kwobjs, p->capkwobjs * sizeof *p->kwobjs);
    p->pend = NULL;
    p->conts = NULL;
    p->susp = NULL;
    p->kwobjs = NULL;
}

/* The i-th edge of v that was fixed when v was made, or NULL past the last.
 * A frozenset's elements are still in its deferred insertions. */
static brine_value *creation_edge(const cr_post *p, const brine_value *v, size_t i) {
    switch (v->kind) {
    case BRINE_TUPLE: return i < v->u.tup.n ? v->u.tup.items[i] : NULL;
    case BRINE_FROZENSET: {
        uint32_t c = v->mark & CR_INDEX;
        if (!c) return NULL;
        const cr_cont *ct = &p->conts[c - 1];
        return i < ct->count ? p->pend[ct->start + i].key : NULL;
    }
    case BRINE_OBJECT: {
        /* The callable and the args tuple; the kwargs dict is a dict, whose
         * entries may have been added after the object was made. */
        const bobject *o = v->u.o;
        return i == 0 ? o->callable : i == 1 ? o->args_tuple : NULL;
    }
    case BRINE_PERSID: return i == 0 ? v->u.pid : NULL;
    default: return NULL;
    }
}

/* --- 1. creation cycles --- */

typedef struct tj_node {
    brine_value *v;
    size_t low, next, comp;
    int on_stack;
} tj_node;

typedef struct tarjan {
    const cr_post *p;
    ptrmap map; /* node -> index in nodes + 1; a node's index is its DFS number */
    tj_node *nodes;
    size_t nnodes, capnodes;
    size_t *call, ncall, capcall; /* the DFS path */
    size_t *scc, nscc, capscc;    /* Tarjan's stack */
} tarjan;

/* Starts visiting v, which *slot (new in the map) will point to. */
static int tj_push(tarjan *t, brine_value *v, uint64_t *slot) {
    const brine_alloc *al = t->p->al;
    size_t i = t->nnodes;
    *slot = i + 1;
    if (!cr_grow(al, (void **)&t->nodes, &t->capnodes, i + 1, sizeof *t->nodes) ||
        !cr_grow(al, (void **)&t->call, &t->capcall, t->ncall + 1, sizeof *t->call) ||
        !cr_grow(al, (void **)&t->scc, &t->capscc, t->nscc + 1, sizeof *t->scc))
        return 0;
    t->nodes[i] = (tj_node){v, i, 0, 0, 1};
    t->nnodes++;
    t->call[t->ncall++] = i;
    t->scc[t->nscc++] = i;
    return 1;
}

static int tj_run(tarjan *t, brine_value *root) {
    int inserted;
    uint64_t *slot = ptrmap_put(&t->map, root, &inserted);
    if (!slot) return 0;
    if (!inserted) return 1;
    if (!tj_push(t, root, slot)) return 0;
    while (t->ncall) {
        size_t ti = t->call[t->ncall - 1];
        brine_value *c = creation_edge(t->p, t->nodes[ti].v, t->nodes[ti].next);
        if (c) {
            t->nodes[ti].next++;
            if (c->kind != BRINE_TUPLE && c->kind != BRINE_FROZENSET && c->kind != BRINE_OBJECT &&
                c->kind != BRINE_PERSID)
                continue;
            if (!(slot = ptrmap_put(&t->map, c, &inserted))) return 0;
            if (inserted) {
                if (!tj_push(t, c, slot)) return 0;
                continue;
            }
            const tj_node *cn = &t->nodes[*slot - 1];
            if (cn->on_stack && *slot - 1 < t->nodes[ti].low) t->nodes[ti].low = *slot - 1;
            continue;
        }
        t->ncall--;
        size_t low = t->nodes[ti].low;
        if (low == ti) { /* ti roots a strongly connected component */
            size_t x;
            do {
                x = t->scc[--t->nscc];
                t->nodes[x].on_stack = 0;
                t->nodes[x].comp = ti;
            } while (x != ti);
        }
        if (t->ncall) {
            tj_node *parent = &t->nodes[t->call[t->ncall - 1]];
            if (low < parent->low) parent->low = low;
        }
    }
    return 1;
}

static int check_cycles(cr_post *p) {
    if (!p->nsusp) return 1;
    tarjan t;
    memset(&t, 0, sizeof t);
    t.p = p;
    ptrmap_init(&t.map, p->al);
    int ok = 1;
    for (size_t i = 0; i < p->nsusp && ok; i++)
        ok = tj_run(&t, p->susp[i].from);
    if (!ok) {
        post_fail(p, BRINE_E_NOMEM, NULL, 0);
    } else {
        for (size_t i = 0; i < p->nsusp; i++) {
            const uint64_t *a = ptrmap_get(&t.map, p->susp[i].from);
            const uint64_t *b = ptrmap_get(&t.map, p->susp[i].to);
            /* `to` is reached from `from`, so both were visited. */
            if (a && b && t.nodes[*a - 1].comp == t.nodes[*b - 1].comp) {
                ok = post_fail(p, BRINE_E_SYNTAX,
                               "a node cannot contain itself through items fixed when it was made",
                               p->susp[i].off);
                break;
            }
        }
    }
    ptrmap_free(&t.map);
    scratch_free(p->al, t.nodes, t.capnodes * sizeof *t.nodes);
    scratch_free(p->al, t.call, t.capcall * sizeof *t.call);
    scratch_free(p->al, t.scc, t.capscc * sizeof *t.scc);
    return ok;
}

/* --- 2. insertions --- */

static const char *const unhashable_msg[] = {"unhashable dict key", "unhashable set element",
                                             "unhashable frozenset element"};
static const char *const duplicate_msg[] = {"duplicate dict key", "duplicate set element",
                                            "duplicate frozenset element"};

/* Inserts the deferred entries of one container. */
static int fill(brine_doc *doc, cr_post *p, const cr_cont *c) {
    brine_value *node = c->node;
    int dict = node->kind == BRINE_DICT;
    int what = dict ? 0 : node->kind == BRINE_SET ? 1 : 2;
    for (size_t i = 0; i < c->count; i++) {
        const cr_pair *e = &p->pend[c->start + i];
        size_t before = node->u.set.n;
        brine_code code =
            dict ? py_dict_set(doc, node, e->key, e->value) : py_set_add(doc, node, e->key);
        if (code == BRINE_E_UNHASHABLE) return post_fail(p, code, unhashable_msg[what], e->off);
        if (code != BRINE_OK) return post_fail(p, code, NULL, e->off);
        /* The printer never shows two equal keys: the second would have
         * replaced the first's value or not been added at all. */
        if (node->u.set.n == before)
            return post_fail(p, BRINE_E_SYNTAX, duplicate_msg[what], e->off);
    }
    return 1;
}

typedef struct walk_frame {
    brine_value *v;
    size_t next;
} walk_frame;

/* Children whose hash may depend on a frozenset not filled yet. */
static int needs_walk(const brine_value *c) {
    if (c->kind == BRINE_TUPLE) return c->u.tup.n != 0;
    return c->kind == BRINE_FROZENSET && (c->mark & CR_INDEX);
}

static int fill_frozensets(brine_doc *doc, cr_post *p) {
    walk_frame *stack = NULL;
    size_t n = 0, cap = 0;
    brine_value **touched = NULL; /* tuples whose mark was set */
    size_t ntouched = 0, captouched = 0;
    int ok = 1;
    for (size_t ci = 0; ci < p->nconts && ok; ci++) {
        brine_value *root = p->conts[ci].node;
        if (root->kind != BRINE_FROZENSET || (root->mark & CR_DONE)) continue;
        if (!cr_grow(p->al, (void **)&stack, &cap, 1, sizeof *stack)) {
            ok = post_fail(p, BRINE_E_NOMEM, NULL, 0);
            break;
        }
        root->mark |= CR_BUSY;
        stack[n++] = (walk_frame){root, 0};
        while (n && ok) {
            walk_frame *top = &stack[n - 1];
            brine_value *c = creation_edge(p, top->v, top->next);
            if (c) {
                top->next++;
                if (!needs_walk(c) || (c->mark & CR_DONE)) continue;
                if (c->mark & CR_BUSY) { /* excluded by check_cycles */
                    ok = post_fail(p, BRINE_E_SYNTAX, "a node cannot contain itself", 0);
                    break;
                }
                if (!cr_grow(p->al, (void **)&stack, &cap, n + 1, sizeof *stack) ||
                    (c->kind == BRINE_TUPLE && !cr_grow(p->al, (void **)&touched, &captouched,
                                                        ntouched + 1, sizeof *touched))) {
                    ok = post_fail(p, BRINE_E_NOMEM, NULL, 0);
                    break;
                }
                if (c->kind == BRINE_TUPLE) touched[ntouched++] = c;
                c->mark |= CR_BUSY;
                stack[n++] = (walk_frame){c, 0};
                continue;
            }
            brine_value *v = top->v;
            n--;
            if (v->kind == BRINE_FROZENSET) ok = fill(doc, p, &p->conts[(v->mark & CR_INDEX) - 1]);
            v->mark = (v->mark & ~CR_BUSY) | CR_DONE;
        }
    }
    for (size_t i = 0; i < ntouched; i++)
        touched[i]->mark = 0;
    scratch_free(p->al, stack, cap * sizeof *stack);
    scratch_free(p->al, touched, captouched * sizeof *touched);
    return ok;
}

/* --- 3. objects --- */

/* Copies each object's arguments out of its args tuple and keyword
 * arguments out of its kwargs dict, now that both are complete. */
static int finish_objects(brine_doc *doc, cr_post *p) {
    for (size_t i = 0; i < doc->created.n; i++) {
        brine_value *v = doc->created.items[i];
        if (v->kind != BRINE_OBJECT) continue;
        bobject *o = v->u.o;
        const brine_value *t = o->args_tuple;
        if (t->u.tup.n > UINT32_MAX) return post_fail(p, BRINE_E_SYNTAX, "too many arguments", 0);
        o->args = t->u.tup.items;
        o->nargs = (uint32_t)t->u.tup.n;
    }
    for (size_t i = 0; i < p->nkwobjs; i++) {
        bobject *o = p->kwobjs[i].from->u.o;
        const bdict *d = &p->kwobjs[i].to->u.set;
        if (d->n == 0) continue; /* NEWOBJ_EX with no keyword arguments */
        if (d->n > UINT32_MAX)
            return post_fail(p, BRINE_E_SYNTAX, "too many keyword arguments", p->kwobjs[i].off);
        o->kwkeys = arena_alloc(&doc->arena, d->n * sizeof *o->kwkeys);
        o->kwvals = arena_alloc(&doc->arena, d->n * sizeof *o->kwvals);
        if (!o->kwkeys || !o->kwvals) return post_fail(p, arena_error(&doc->arena), NULL, 0);
        for (size_t k = 0; k < d->n; k++) {
            o->kwkeys[k] = d->entries[k].key;
            o->kwvals[k] = d->entries[k].value;
        }
        o->nkw = (uint32_t)d->n;
    }
    return 1;
}

int cr_check(brine_doc *doc, cr_post *p) {
    int ok = check_cycles(p) && fill_frozensets(doc, p);
    for (size_t i = 0; ok && i < p->nconts; i++)
        if (p->conts[i].node->kind != BRINE_FROZENSET) ok = fill(doc, p, &p->conts[i]);
    ok = ok && finish_objects(doc, p);
    for (size_t i = 0; i < p->nconts; i++)
        p->conts[i].node->mark = 0;
    return ok;
}
