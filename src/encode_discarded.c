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

/* For a persistent id alike p popped inside the write of discarded node i
 * (a persistent id alike p, written on its own), with none alike listed
 * before i: the node that is the popped one, + 1, or 0 for none. Node i's
 * write, the pid and what it reaches, is made by the first of the run of
 * alike persistent ids written on its own from i on that is not popped
 * yet; that one is the popped one (made first) when a node written after
 * it with the same bytes takes its write: the next one written on its own
 * (D_BEFORE, no later node reaching it), alike too, or, after the last of
 * them, the root when it is alike. Several popped ids made inside i's
 * write (a tuple written twice with two of them) take i and the next ones
 * of the run in turn. */
static size_t popped_in_own_write(const encoder *e, const brine_value *p, size_t i,
                                  const uint8_t *cls, const uint8_t *inside) {
    const ptrvec *dv = &e->doc->discarded;
    if (inside[i] || (cls[i] != D_BEFORE && cls[i] != D_POPPED) ||
        dv->items[i]->kind != BRINE_PERSID || !pid_alike(e, p, dv->items[i]))
        return 0;
    size_t pick = 0;
    for (size_t j = i; j < dv->n; j++) {
        if (inside[j] || (cls[j] != D_BEFORE && (j != i || cls[j] != D_POPPED))) continue;
        if (dv->items[j]->kind != BRINE_PERSID || !pid_alike(e, p, dv->items[j])) return 0;
        if (cls[j] != D_BEFORE) continue; /* i, popped already */
        if (pick) return pick;            /* j takes pick's write */
        pick = j + 1;
    }
    const brine_value *root = e->doc->root;
    return pick && root && root->kind == BRINE_PERSID && pid_alike(e, p, root) ? pick : 0;
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
        /* Made inside node i's own write, with none alike listed before. */
        size_t own = !pick && !after_i && i < dv->n ? popped_in_own_write(e, p, i, cls, inside) : 0;
        if (own)
            for (size_t at = head ? (size_t)*head : 0, before = 0; at;
                 before = at, at = prev[at - 1])
                if (at == own) {
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
        rc = enc_match_twins(e, &twins, &stwins, next, cls, match, setter_at, inside, &seen);
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
