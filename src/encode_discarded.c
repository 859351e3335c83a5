/*
 * encode_discarded.c - the document's discarded nodes: state setter calls,
 * the popped copies of recursive reduces ("twins"), and the rest, written
 * before the root as `save(node) POP`.
 *
 * pickle.dumps writes nothing the root does not reach except in two ways:
 * save_reduce's state setter call (`setter X state TUPLE2 REDUCE POP`,
 * right after X is memoized) and the outer copy of an object that was
 * written while saving its own arguments (popped, then fetched from the
 * memo). The decoder lists both as discarded nodes, in the order they were
 * made; the plan here puts each back where CPython writes it, so that
 * encoding a decoded encoder output gives the same bytes. A popped copy
 * can look like a state setter call (CPython's TUPLE2 pair and the copy's
 * args tuple read back alike), and what the root reaches includes the
 * globals its reductions save, with their operations (enc_mark_written).
 * The outer copy of a tuple that reaches itself is popped too, and the
 * persistent ids among its items (never memoized, so written in both
 * copies) are left as discarded nodes: the encoder writes the tuple twice
 * as well, so they are not written on their own (cover_popped_items).
 */
#include <string.h>

#include "compat.h"
#include "encode.h"
#include "graph.h"

/* A discarded new(X, (state,)) below protocol 2 is written as the call
 * copyreg.__newobj__(X, state), which has the shape of a state setter. */
static int is_new_setter(const encoder *e, const bobject *o) {
    return o->make == BRINE_MAKE_NEW && e->proto < 2 && o->nargs == 1 && o->nkw == 0 &&
           o->opcode != OP_NEWOBJ_EX;
}

/* The object a setter call sets the state of. */
static const brine_value *setter_target(const encoder *e, const bobject *o) {
    return is_new_setter(e, o) ? o->callable : o->args[0];
}

/* save_reduce's state_setter: setter, obj, state, TUPLE2 REDUCE POP. The
 * pair is built on the stack, not saved as a tuple, so it takes no memo. */
int enc_step_setter(encoder *e, size_t fi) {
    eframe *f = &e->stack[fi];
    const bobject *o = f->node->u.o;
    while (f->state < 3) {
        const brine_value *child;
        if (is_new_setter(e, o)) /* copyreg.__newobj__, X, state */
            child = f->state == 0   ? enc_global(e, "copyreg", 7, "__newobj__", 10)
                    : f->state == 1 ? o->callable
                                    : o->args[0];
        else
            child = f->state == 0 ? o->callable : o->args[f->state - 1];
        if (!child) return -1; /* enc_global ran out of memory */
        f->state++;
        int r = enc_save(e, child);
        if (r) return r;
    }
    static const uint8_t tail[3] = {OP_TUPLE2, OP_REDUCE, OP_POP};
    return out_write(e, tail, 3);
}

/* How many of v's slots the pickler saves before it memoizes v: a
 * reduce's callable and arguments, a tuple's or frozenset's items and,
 * below protocol 4, a set's (a reduce of a new list), a persistent id's
 * pid (never memoized); none of a list's, dict's or global's, nor an
 * object's operations. */
static size_t slots_before_memo(const encoder *e, const brine_value *v) {
    switch (v->kind) {
    case BRINE_OBJECT: return graph_nslots(v) - 2 * (size_t)v->u.o->log.n;
    case BRINE_SET: return e->proto < 4 ? graph_nslots(v) : 0;
    case BRINE_TUPLE:
    case BRINE_FROZENSET:
    case BRINE_PERSID: return graph_nslots(v);
    default: return 0;
    }
}

/* Walks what d's callable, arguments and keyword arguments reach (through
 * no more than *budget nodes, which it uses up) into seen, stopping at x:
 * 1 when x is reached, 0 when not, -1 on allocation failure. From a node
 * in `blocked` (NULL: none) the walk goes on only through what is saved
 * before the node is memoized (slots_before_memo, its reduction's
 * globals): the rest finds it memoized. A node's state setter calls count
 * as its children: they are written right after it; so do the globals of
 * its reduction (enc_reduce_globals). The budget keeps the checks of all
 * discarded nodes together linear in the size of the document. */
static int walk(encoder *e, const brine_value *d, const brine_value *x, ptrmap *seen,
                const ptrmap *blocked, size_t *budget) {
    size_t n = 0, cap = 64;
    int found = 0;
    const brine_value **stack = e->alloc.malloc(e->alloc.ctx, cap * sizeof *stack);
    if (!stack) goto nomem;
    stack[n++] = d;
    while (n && !found && *budget) {
        const brine_value *v = stack[--n], *globals[3];
        int nglobals = enc_reduce_globals(e, v, globals);
        if (nglobals < 0) goto fail;
        int early = blocked && ptrmap_get(blocked, v);
        size_t own = early ? slots_before_memo(e, v) : graph_nslots(v);
        size_t slots = own + (size_t)nglobals;
        const uint64_t *head = early ? NULL : ptrmap_get(&e->setter_of, v);
        size_t setter = head ? (size_t)*head : 0;
        for (size_t i = 0; (i < slots || setter) && !found; i++) {
            const brine_value *c;
            if (i < own) {
                c = graph_slot(v, i);
            } else if (i < slots) {
                c = globals[i - own];
            } else {
                c = e->setters[setter - 1].call;
                setter = e->setters[setter - 1].next;
            }
            int inserted;
            if (!c) continue;
            if (c == x) found = 1;
            if (!ptrmap_put(seen, c, &inserted)) goto nomem;
            if (!inserted ||
                (!graph_nslots(c) && !ptrmap_get(&e->setter_of, c) && !enc_written_by_reduce(e, c)))
                continue;
            if (*budget) --*budget;
            if (n == cap) {
                const brine_value **t =
                    e->alloc.realloc(e->alloc.ctx, stack, cap * sizeof *t, 2 * cap * sizeof *t);
                if (!t) goto nomem;
                stack = t;
                cap *= 2;
            }
            stack[n++] = c;
        }
    }
    e->alloc.free(e->alloc.ctx, stack, cap * sizeof *stack);
    return found;
nomem:
    enc_fail(e, BRINE_E_NOMEM, NULL);
fail:
    if (stack) e->alloc.free(e->alloc.ctx, stack, cap * sizeof *stack);
    return -1;
}

/* Whether x is reachable from d's callable, arguments or keyword arguments
 * (the edges and budget of walk): 1, 0, or -1 on allocation failure. */
static int reaches(encoder *e, const brine_value *d, const brine_value *x, size_t *budget) {
    ptrmap seen;
    ptrmap_init(&seen, &e->alloc);
    int r = walk(e, d, x, &seen, NULL, budget);
    ptrmap_free(&seen);
    return r;
}

/* Whether d reaches x, an object whose arguments reach it, by a path that
 * goes through the nodes x's arguments reach only by what they save before
 * they are memoized (a reduce's callable, say): then d's write saves x
 * before anything on x's own cycle is memoized, and x's outer copy is
 * popped right there (1); else d writes a node of the cycle first, and x
 * inside it, fetching that node from the memo. That cuts x's cycle only
 * where it goes through the nodes d entered: when x still reaches itself
 * around them (its callable's state setter writing x again, say), the
 * copy is popped inside d all the same (1); else 0. -1 on failure. A
 * heuristic where d has paths of both kinds: save order decides, and the
 * walk does not follow it. */
static int enters_at(encoder *e, const brine_value *d, const brine_value *x, size_t *budget) {
    ptrmap cycle, seen, around;
    ptrmap_init(&cycle, &e->alloc);
    ptrmap_init(&seen, &e->alloc);
    ptrmap_init(&around, &e->alloc);
    int r = walk(e, x, NULL, &cycle, NULL, budget);
    if (r >= 0) r = walk(e, d, x, &seen, &cycle, budget);
    /* The cycle's nodes d writes are memo hits for x's own write: seen
     * already, the walk from x does not enter them. */
    for (size_t s = 0; r == 0 && seen.slots && s <= seen.mask; s++) {
        const void *k = seen.slots[s].key;
        if (k && ptrmap_get(&cycle, k) && !ptrmap_put(&around, k, NULL))
            r = enc_fail(e, BRINE_E_NOMEM, NULL);
    }
    if (r == 0) r = walk(e, x, x, &around, NULL, budget);
    ptrmap_free(&cycle);
    ptrmap_free(&seen);
    ptrmap_free(&around);
    return r;
}

/* call(setter, (X, state)) with X written from the root by save_reduce:
 * CPython's state setter call, `setter X state TUPLE2 REDUCE POP` right
 * after X is memoized. */
static int is_setter(const encoder *e, const brine_value *d, const ptrmap *seen) {
    if (d->kind != BRINE_OBJECT) return 0;
    const bobject *o = d->u.o;
    if (o->log.n) return 0;
    if (!is_new_setter(e, o) &&
        (o->make != BRINE_MAKE_CALL || o->nargs != 2 || o->nkw || o->callable == o->args[0]))
        return 0;
    const brine_value *x = setter_target(e, o);
    return enc_written_by_reduce(e, x) && ptrmap_get(seen, x) != NULL;
}

/* What becomes of each discarded node. */
enum {
    D_BEFORE,  /* written before the root: save(node) POP */
    D_SETTER,  /* a state setter call, written after its object */
    D_TWIN,    /* a recursive reduce's popped copy: the recursion writes it */
    D_SUBST,   /* the popped copy of a discarded object: write that object */
    D_COVERED, /* written where the root or another discarded node reaches it */
    D_ROOT,    /* the root reaches it: not discarded at all */
    D_POPPED,  /* a persistent id popped with a container's outer copy */
};

/* Makes discarded node i the popped copy of x: D_TWIN when the root writes
 * x, else D_SUBST (match[i] = x). */
static int set_twin(encoder *e, size_t i, const brine_value *x, uint8_t *cls,
                    const brine_value **match, const ptrmap *from_root) {
    match[i] = x;
    cls[i] = ptrmap_get(from_root, x) ? D_TWIN : D_SUBST;
    uint64_t *slot = ptrmap_put(&e->twin_of, x, NULL);
    if (!slot) return enc_fail(e, BRINE_E_NOMEM, NULL);
    /* Later copies are outer ones: written first. */
    e->twin_next[i] = (size_t)*slot;
    *slot = i + 1;
    return 0;
}

/* For x, discarded and the object that discarded node i copies: 1 when
 * no earlier discarded node (outside the copy) reaches x, or the first one
 * that does saves x before the rest of its cycle (enters_at), 0 when it
 * does not, -1 on failure. CPython leaves a popped copy only where x itself
 * is being written when its arguments reach it; an earlier node that
 * reaches x through that cycle (a state setter, say) writes it memoized,
 * and the copy is then an object of its own. Only nodes written on their
 * own before the root count: not setters, popped copies (written where
 * their objects are), nodes a later discarded node or the root reaches
 * (written there, inside[]), nor nodes the copy or x writes. */
static int first_written_inside(encoder *e, size_t i, const brine_value *x, const uint8_t *cls,
                                const brine_value **match, const uint8_t *inside,
                                const ptrmap *from_root, size_t *budget) {
    const ptrvec *dv = &e->doc->discarded;
    for (size_t j = 0; j < i; j++) {
        if (cls[j] == D_SETTER || match[j] || inside[j] || ptrmap_get(from_root, dv->items[j]))
            continue;
        const brine_value *d = dv->items[j];
        int r = reaches(e, d, x, budget);
        if (r <= 0) {
            if (r < 0) return -1;
            continue;
        }
        /* Unless the copy or x itself writes d (the decoder lists a
         * persistent id's pid, made first, ahead of them). */
        r = reaches(e, dv->items[i], d, budget);
        if (r == 0) r = reaches(e, x, d, budget);
        if (r < 0) return r;
        if (r > 0) continue;
        /* d is written first and writes x: the copy is made inside d (and
         * listed after it, d being made before its operations run) when
         * d saves x before the rest of x's cycle. */
        return enters_at(e, d, x, budget);
    }
    return 1;
}

/* Whether discarded node i can be the popped copy of x: its arguments
 * reach x, and x is written from the root or first inside an earlier
 * discarded node (first_written_inside). 1, 0, or -1 on failure. */
static int can_copy(encoder *e, size_t i, const brine_value *x, const uint8_t *cls,
                    const brine_value **match, const uint8_t *inside, const ptrmap *from_root,
                    size_t *budget) {
    int r = reaches(e, e->doc->discarded.items[i], x, budget);
    if (r > 0 && !ptrmap_get(from_root, x))
        r = first_written_inside(e, i, x, cls, match, inside, from_root, budget);
    return r;
}

/* Numbers what the root reaches in the order a save from it first
 * meets each node (preorder, slots in order) into pos, from 1. -1 on
 * allocation failure. */
static int save_order(encoder *e, ptrmap *pos) {
    size_t n = 0, cap = 64;
    const brine_value **stack = e->alloc.malloc(e->alloc.ctx, cap * sizeof *stack);
    if (!stack) return enc_fail(e, BRINE_E_NOMEM, NULL);
    stack[n++] = e->doc->root;
    while (n) {
        const brine_value *v = stack[--n];
        int inserted;
        uint64_t *slot = ptrmap_put(pos, v, &inserted);
        if (!slot) goto nomem;
        if (!inserted) continue;
        *slot = pos->n;
        /* Pushed last to first, so that the first slot is met first. */
        for (size_t i = graph_nslots(v); i-- > 0;) {
            const brine_value *c = graph_slot(v, i);
            if (!c || ptrmap_get(pos, c)) continue;
            if (n == cap) {
                const brine_value **t =
                    e->alloc.realloc(e->alloc.ctx, stack, cap * sizeof *t, 2 * cap * sizeof *t);
                if (!t) goto nomem;
                stack = t;
                cap *= 2;
            }
            stack[n++] = c;
        }
    }
    e->alloc.free(e->alloc.ctx, stack, cap * sizeof *stack);
    return 0;
nomem:
    e->alloc.free(e->alloc.ctx, stack, cap * sizeof *stack);
    return enc_fail(e, BRINE_E_NOMEM, NULL);
}

/* The popped copies of x the plan has so far (twin_of's chain). */
static size_t planned_copies(const encoder *e, const brine_value *x) {
    const uint64_t *head = ptrmap_get(&e->twin_of, x);
    size_t n = 0;
    for (size_t k = head ? (size_t)*head : 0; k; k = e->twin_next[k - 1])
        n++;
    return n;
}

/* How many popped copies of x the first pass wrote (encoder.copies), at
 * least 1: an object that reaches itself is copied once whatever the plan
 * (the first pass has no record of its own). */
static size_t seen_copies(const encoder *e, const brine_value *x) {
    const uint64_t *n = e->copies && !e->record_popped ? ptrmap_get(e->copies, x) : NULL;
    return n && *n > 1 ? (size_t)*n : 1;
}

/* Sorts out the twins among the D_TWIN candidates (chained from `twins`):
 * a candidate made like a written object x is x's popped copy (D_TWIN when
 * the root writes x, else D_SUBST with match[i] = x); the others are
 * written on their own. Then the state setters (chained from `stwins`):
 * an object whose arguments reach it is written twice whatever the plan
 * says, and its popped copy can have a setter's shape, call(f, (X, state))
 * (CPython's TUPLE2 pair and a copy's args look alike): an object that
 * reaches itself and has no copy takes the last setter made like it, or
 * each round of decode and encode would write one more. */
static int match_twins(encoder *e, const ptrmap *twins, const ptrmap *stwins, const size_t *next,
                       uint8_t *cls, const brine_value **match, const size_t *setter_at,
                       const uint8_t *inside, const ptrmap *from_root) {
    const ptrvec *dv = &e->doc->discarded;
    ptrmap all, index, first_met; /* index: discarded node -> position + 1 */
    ptrmap_init(&all, &e->alloc);
    ptrmap_init(&index, &e->alloc);
    ptrmap_init(&first_met, &e->alloc); /* save_order, made at the first tie that needs it */
    int rc = enc_mark_written(e, &all, e->doc->root);
    for (size_t i = 0; rc == 0 && i < dv->n; i++) {
        uint64_t *slot = ptrmap_put(&index, dv->items[i], NULL);
        if (!slot)
            rc = enc_fail(e, BRINE_E_NOMEM, NULL);
        else if (!*slot)
            *slot = i + 1;
        if (rc == 0) rc = enc_mark_written(e, &all, dv->items[i]);
    }
    size_t budget = 4 * all.n + 4096;
    /* The written nodes in the order of the walk (enc_mark_written), not
     * of the map's slots: ties below go to the later one, and slot order
     * follows the nodes' addresses, which differ from run to run. */
    const brine_value **order = rc == 0 ? arena_zalloc(&e->arena, all.n * sizeof *order) : NULL;
    if (rc == 0 && !order) rc = enc_fail(e, BRINE_E_NOMEM, NULL);
    for (size_t s = 0; rc == 0 && all.slots && s <= all.mask; s++)
        if (all.slots[s].key) order[all.slots[s].value - 1] = all.slots[s].key;
    for (size_t w = 0; rc == 0 && w < all.n; w++) {
        const brine_value *x = order[w];
        if (x->kind != BRINE_OBJECT) continue;
        const uint64_t *at = ptrmap_get(&index, x);
        for (int pass = 0; rc == 0 && pass < 2; pass++) {
            const uint64_t *head =
                ptrmap_get(pass ? stwins : twins, (const void *)enc_making_hash(x));
            for (size_t i = head ? (size_t)*head : 0; i; i = next[i - 1]) {
                const brine_value *d = dv->items[i - 1], *old = match[i - 1];
                /* The written object is made before its popped copy. */
                if (d == x || (at && *at >= i) || !enc_same_making(e, d, x)) continue;
                if (!old) {
                    match[i - 1] = x;
                    continue;
                }
                /* Objects made alike (the root call(f, ()) and another
                 * one): the copy is of one its arguments reach. */
                int ro = reaches(e, d, old, &budget), rx = reaches(e, d, x, &budget);
                if (ro < 0 || rx < 0) {
                    rc = -1;
                    break;
                }
                /* A tie: the copy calls the very callable of the object
                 * it copies unless a __reduce__ made that one afresh (a
                 * partial below protocol 4), so the same callable node
                 * wins over an alike one; then the copy follows the
                 * object made last (the inner write), the later of two
                 * discarded objects; else one the root writes. */
                const brine_value *c = d->u.o->callable;
                int cx = c == x->u.o->callable, co = c == old->u.o->callable;
                if (rx != ro || cx != co) {
                    if (rx > ro || (rx == ro && cx > co)) match[i - 1] = x;
                    continue;
                }
                /* Then one that can be the copy's object at all (its
                 * recursion happens where the copy is listed) over one
                 * that cannot: the walk's order (a node's slots before
                 * its argument tuple's items) is not the save order. */
                int vx = can_copy(e, i - 1, x, cls, match, inside, from_root, &budget);
                int vo =
                    vx < 0 ? -1 : can_copy(e, i - 1, old, cls, match, inside, from_root, &budget);
                if (vx < 0 || vo < 0) {
                    rc = -1;
                    break;
                }
                /* Then, of two discarded objects, the one made last
                 * (the inner write); of two the root writes, the one a
                 * save from the root meets first: its arguments recurse,
                 * and the cycle is memoized before the other's are saved;
                 * else one the root writes. */
                const uint64_t *oi = ptrmap_get(&index, old);
                int prefer_x = 0;
                if (oi && at) {
                    prefer_x = *at > *oi;
                } else if (ptrmap_get(from_root, x) && ptrmap_get(from_root, old)) {
                    if (!first_met.n && save_order(e, &first_met) < 0) {
                        rc = -1;
                        break;
                    }
                    const uint64_t *px = ptrmap_get(&first_met, x),
                                   *po = ptrmap_get(&first_met, old);
                    prefer_x = px && (!po || *px < *po);
                } else {
                    prefer_x = ptrmap_get(from_root, x) != NULL;
                }
                if ((vx > 0) > (vo > 0) || ((vx > 0) == (vo > 0) && prefer_x)) match[i - 1] = x;
            }
        }
    }
    /* A popped copy exists only when the arguments reach the object. */
    for (size_t i = 0; rc == 0 && i < dv->n; i++) {
        if (cls[i] != D_TWIN) continue;
        if (match[i]) {
            int r = can_copy(e, i, match[i], cls, match, inside, from_root, &budget);
            if (r < 0) rc = -1;
            if (r <= 0) match[i] = NULL;
        }
        cls[i] = D_BEFORE;
        if (rc == 0 && match[i]) rc = set_twin(e, i, match[i], cls, match, from_root);
    }
    /* Setters last to first: the last copy made is the outermost. An
     * object takes as many as the first pass saw it copied, at least one. */
    for (size_t i = dv->n; rc == 0 && i-- > 0;) {
        const brine_value *x = match[i];
        if (cls[i] != D_SETTER || !x || planned_copies(e, x) >= seen_copies(e, x)) continue;
        int r = reaches(e, dv->items[i], x, &budget);
        if (r < 0) rc = -1;
        if (r <= 0) continue;
        e->setters[setter_at[i] - 1].call = NULL; /* skipped when writing */
        rc = set_twin(e, i, x, cls, match, from_root);
    }
    ptrmap_free(&all);
    ptrmap_free(&index);
    ptrmap_free(&first_met);
    return rc;
}

/* A hash of persistent id p that pid_alike keeps, never 0 (a ptrmap key). */
static uintptr_t pid_hash(const brine_value *p) {
    const brine_value *pid = p->u.pid;
    uint64_t h = 0xcbf29ce484222325u;
    if (pid->kind == BRINE_STR)
        for (size_t k = 0; k < pid->u.s.n; k++)
            h = (h ^ (uint8_t)pid->u.s.p[k]) * 0x100000001B3u;
    else
        h = enc_atom_hash(p);
    return (uintptr_t)(h ^ (h >> 29)) | 1;
}

/* Persistent ids a and b read back alike: enc_same_atom, or str pids with
 * the same text (protocol 0 writes the pid as text, which reads back as a
 * new str each time). */
static int pid_alike(const encoder *e, const brine_value *a, const brine_value *b) {
    if (enc_same_atom(e, a, b)) return 1;
    const brine_value *p = a->u.pid, *q = b->u.pid;
    return p->kind == BRINE_STR && q->kind == BRINE_STR && p->u.s.n == q->u.s.n &&
           (!p->u.s.n || memcmp(p->u.s.p, q->u.s.p, p->u.s.n) == 0);
}

/* Whether discarded node i is a persistent id alike p written on its own,
 * and the next node after it that is written on its own (D_BEFORE, no
 * later node reaching it) is one too: that one can be written in i's
 * place with the same bytes. */
static int takes_over(const encoder *e, const brine_value *p, size_t i, const uint8_t *cls,
                      const uint8_t *inside) {
    const ptrvec *dv = &e->doc->discarded;
    if (cls[i] != D_BEFORE || inside[i] || dv->items[i]->kind != BRINE_PERSID ||
        !pid_alike(e, p, dv->items[i]))
        return 0;
    for (size_t j = i + 1; j < dv->n; j++)
        if (cls[j] == D_BEFORE && !inside[j])
            return dv->items[j]->kind == BRINE_PERSID && pid_alike(e, p, dv->items[j]);
    return 0;
}

/* A tuple (or from protocol 4 a frozenset; below 4 it is a reduce, whose
 * popped copy is a twin) that is written twice, as save_tuple writes one
 * that reaches itself through its items: the outer copy's items, the inner
 * copy (memoized), then the outer copy is popped. Items are memo hits the
 * second time, but for persistent ids, which the pickler never memoizes:
 * each one that is an item is written in both copies, and the outer one
 * reads back as a discarded persistent id. The encoder's recursion writes
 * it again, so each such write becomes one discarded persistent id alike
 * it, not reached by anything: D_POPPED. Which writes happen, how many
 * times (a container can be written three times) and where is what a
 * first pass of the encoder saw (e->popped, enc_note_recursed): reaching
 * itself is not enough, since a container first entered from inside its
 * own cycle, after what leads back to it is memoized, is written once.
 * -1 on failure. */
static int cover_popped_items(encoder *e, uint8_t *cls, const uint8_t *inside) {
    const ptrvec *dv = &e->doc->discarded;
    if (!e->popped || e->record_popped || !e->popped->n) return 0;
    ptrmap heads; /* pid_hash -> last candidate + 1 */
    ptrmap_init(&heads, &e->alloc);
    size_t *prev = arena_zalloc(&e->arena, dv->n * sizeof *prev); /* earlier candidate + 1 */
    int rc = prev ? 0 : enc_fail(e, BRINE_E_NOMEM, NULL);
    for (size_t i = 0; rc == 0 && i < dv->n; i++) {
        const brine_value *d = dv->items[i];
        if (cls[i] != D_BEFORE || inside[i] || d->kind != BRINE_PERSID) continue;
        uint64_t *head = ptrmap_put(&heads, (const void *)pid_hash(d), NULL);
        if (!head) {
            rc = enc_fail(e, BRINE_E_NOMEM, NULL);
            break;
        }
        prev[i] = (size_t)*head;
        *head = i + 1;
    }
    for (size_t ev = 0; rc == 0 && ev < e->popped->n; ev++) {
        const brine_value *p = e->popped->items[ev].pid;
        /* Where it was made (enc_note_recursed): 0, while the root was
         * written: after every node before the root, so the last alike
         * one; else 2 * (i + 1) + made for the discarded node i being
         * written then: before it (the last alike one before i) or, when
         * i was made already, right after it (the first alike one after
         * i). */
        uint64_t where = e->popped->items[ev].where;
        int after_i = (int)(where & 1);
        size_t i = where ? (size_t)(where >> 1) - 1 : dv->n;
        uint64_t *head = ptrmap_get(&heads, (const void *)pid_hash(p));
        /* The chain runs from the last candidate made to the first. */
        size_t pick = 0, pick_before = 0;
        for (size_t at = head ? (size_t)*head : 0, before = 0; at; before = at, at = prev[at - 1]) {
            int ok = after_i ? at - 1 > i : at - 1 < i;
            if (!ok || !pid_alike(e, p, dv->items[at - 1])) continue;
            pick = at;
            pick_before = before;
            if (!after_i) break; /* the last one before i */
        }
        /* Made inside node i's own write, with none alike listed before:
         * i, a persistent id alike p, is the popped one (made first), and
         * the next node written on its own, alike too, takes i's write. */
        if (!pick && !after_i && i < dv->n && takes_over(e, p, i, cls, inside))
            for (size_t at = head ? (size_t)*head : 0, before = 0; at;
                 before = at, at = prev[at - 1])
                if (at - 1 == i) {
                    pick = at;
                    pick_before = before;
                    break;
                }
        if (!pick) continue;
        if (pick_before)
            prev[pick_before - 1] = prev[pick - 1];
        else
            *head = prev[pick - 1];
        cls[pick - 1] = D_POPPED;
    }
    ptrmap_free(&heads);
    return rc;
}

/* The first pass (record_popped) must save in the order the second one
 * will, or it records a different recursion. A twin that shares its
 * object's argument tuple says the tuple was written twice, its outer
 * copy popped: each persistent id among the tuple's items was written in
 * that copy too and read back as a discarded one, made before the twin.
 * Writing that one on its own, first, would save its pid (and what the
 * pid reaches) ahead of the cycle. So the first pass leaves the last such
 * persistent id before each twin to the recursion, as the second pass
 * will when the recursion does pop it. */
static void guess_popped_items(encoder *e, uint8_t *cls, const uint8_t *inside,
                               const brine_value **match) {
    const ptrvec *dv = &e->doc->discarded;
    if (!e->record_popped) return;
    for (size_t i = 0; i < dv->n; i++) {
        const brine_value *x = match[i], *copy = dv->items[i];
        if ((cls[i] != D_TWIN && cls[i] != D_SUBST) || !x || x->kind != BRINE_OBJECT ||
            copy->kind != BRINE_OBJECT)
            continue;
        const brine_value *args = x->u.o->args_tuple;
        if (!args || args != copy->u.o->args_tuple) continue;
        for (size_t k = 0; k < args->u.tup.n; k++) {
            const brine_value *item = args->u.tup.items[k];
            if (item->kind != BRINE_PERSID) continue;
            for (size_t j = i; j-- > 0;) {
                const brine_value *d = dv->items[j];
                if (cls[j] == D_BEFORE && !inside[j] && d->kind == BRINE_PERSID &&
                    pid_alike(e, item, d)) {
                    cls[j] = D_POPPED;
                    break;
                }
            }
        }
    }
}

int enc_plan_discarded(encoder *e) {
    const ptrvec *dv = &e->doc->discarded;
    if (!dv->n) return 0;
    ptrmap seen, twins, stwins;
    ptrmap_init(&seen, &e->alloc);
    ptrmap_init(&twins, &e->alloc);  /* making hash -> first candidate + 1 */
    ptrmap_init(&stwins, &e->alloc); /* the same for the setters */
    uint8_t *cls = arena_zalloc(&e->arena, dv->n);
    uint8_t *inside = arena_zalloc(&e->arena, dv->n); /* a later node reaches it */
    size_t *next = arena_zalloc(&e->arena, dv->n * sizeof *next);
    size_t *setter_at = arena_zalloc(&e->arena, dv->n * sizeof *setter_at);
    const brine_value **match = arena_zalloc(&e->arena, dv->n * sizeof *match);
    e->twin_next = arena_zalloc(&e->arena, dv->n * sizeof *e->twin_next);
    e->setters = arena_alloc(&e->arena, dv->n * sizeof *e->setters);
    e->before_root = arena_alloc(&e->arena, dv->n * sizeof *e->before_root);
    e->before_index = arena_alloc(&e->arena, dv->n * sizeof *e->before_index);
    int rc = cls && inside && next && setter_at && match && e->twin_next && e->setters &&
                     e->before_root && e->before_index
                 ? enc_mark_written(e, &seen, e->doc->root)
                 : enc_fail(e, BRINE_E_NOMEM, NULL);
    int any_twin = 0;
    /* What the discarded nodes after the current one reach. CPython never
     * memoizes a setter call's result or a popped copy, so nothing written
     * later can refer to one: a node that a later one reaches is written
     * inside it (the decoder lists it first, as it was made first). */
    ptrmap later;
    ptrmap_init(&later, &e->alloc);
    for (size_t i = dv->n; rc == 0 && i-- > 0;) {
        const brine_value *d = dv->items[i];
        if (ptrmap_get(&seen, d)) {
            cls[i] = D_ROOT;
            continue;
        }
        if (ptrmap_get(&later, d)) {
            cls[i] = D_BEFORE;
            inside[i] = 1;
        } else if (is_setter(e, d, &seen)) {
            /* Walking backwards and prepending keeps the setters of one
             * object in the order they were made. */
            uint64_t *head = ptrmap_put(&e->setter_of, setter_target(e, d->u.o), NULL);
            uint64_t *made =
                head ? ptrmap_put(&stwins, (const void *)enc_making_hash(d), NULL) : NULL;
            if (!made) {
                rc = enc_fail(e, BRINE_E_NOMEM, NULL);
                break;
            }
            e->setters[e->nsetters].call = d;
            e->setters[e->nsetters].next = (size_t)*head;
            *head = ++e->nsetters;
            setter_at[i] = e->nsetters;
            next[i] = (size_t)*made;
            *made = i + 1;
            any_twin = 1;
            cls[i] = D_SETTER;
        } else if (d->kind == BRINE_OBJECT && d->u.o->log.n == 0) {
            /* A reduce whose object was written while saving its own
             * arguments leaves CPython's outer copy popped: the twin of
             * the written object, made from the same callable and args. */
            uint64_t *head = ptrmap_put(&twins, (const void *)enc_making_hash(d), NULL);
            if (!head) {
                rc = enc_fail(e, BRINE_E_NOMEM, NULL);
                break;
            }
            next[i] = (size_t)*head;
            *head = i + 1;
            any_twin = 1;
            cls[i] = D_TWIN;
        }
        if (rc == 0) rc = enc_mark_written(e, &later, d);
    }
    ptrmap_free(&later);
    if (rc == 0 && any_twin)
        rc = match_twins(e, &twins, &stwins, next, cls, match, setter_at, inside, &seen);
    if (rc == 0) guess_popped_items(e, cls, inside, match);
    if (rc == 0) rc = cover_popped_items(e, cls, inside);
    /* The decoder lists a discarded node ahead of later ones that reach it
     * (a call inside a persistent id's pid, an object in a setter's
     * state), as it was made first. Walking backwards, a node the root or
     * a later discarded node reaches is written there, not on its own. */
    for (size_t i = dv->n; rc == 0 && i-- > 0;) {
        int subst = cls[i] == D_SUBST;
        const brine_value *d = subst ? match[i] : dv->items[i];
        if (cls[i] == D_ROOT) continue;
        /* A popped persistent id is written again by the recursion, with
         * what its pid holds: persistent ids nested in it (never
         * memoized, so made afresh and listed ahead of it) come with it. */
        if (cls[i] == D_POPPED) {
            rc = enc_mark_written(e, &seen, d);
            continue;
        }
        if ((cls[i] == D_BEFORE || subst) && ptrmap_get(&seen, d))
            cls[i] = D_COVERED;
        else
            rc = enc_mark_written(e, &seen, d);
        /* x's outer write is made with its copy's arguments: what the
         * copy reaches is written there, wherever x is. */
        if (rc == 0 && subst) rc = enc_mark_written(e, &seen, dv->items[i]);
    }
    /* The others go before the root, save(node) POP, in their order; one
     * that an earlier one reaches is written inside it. */
    ptrmap written;
    ptrmap_init(&written, &e->alloc);
    for (size_t i = 0; rc == 0 && i < dv->n; i++) {
        const brine_value *d = cls[i] == D_SUBST ? match[i] : dv->items[i];
        if ((cls[i] != D_BEFORE && cls[i] != D_SUBST) || ptrmap_get(&written, d)) continue;
        e->before_index[e->nbefore] = i;
        e->before_root[e->nbefore++] = d;
        rc = enc_mark_written(e, &written, d);
    }
    ptrmap_free(&written);
    ptrmap_free(&seen);
    ptrmap_free(&twins);
    ptrmap_free(&stwins);
    return rc;
}
