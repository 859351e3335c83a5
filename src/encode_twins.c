/*
 * encode_twins.c - which written object each popped copy ("twin") in the
 * discarded list is a copy of.
 *
 * CPython leaves a popped copy where an object is saved again while its
 * own arguments are being saved: the outer save ends in REDUCE, POP and a
 * memo fetch. The decoder lists the copy as a discarded node made like
 * its object (same callable and arguments, as far as a stream can tell:
 * encode_alike.c). Several written objects can look alike; the one whose
 * save recursed is found by reachability (walk, enters_at), by what the
 * encoder's first pass counted (encoder.copies), and by the order a save
 * from the root meets them. encode_discarded.c plans with the result.
 */
#include <string.h>

#include "encode.h"
#include "graph.h"

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
    enode_stack st = {0};
    int found = 0, rc = enc_stack_push(e, &st, d);
    while (rc == 0 && st.n && !found && *budget) {
        const brine_value *v = st.items[--st.n], *globals[3];
        int nglobals = enc_reduce_globals(e, v, globals);
        if (nglobals < 0) {
            rc = -1;
            break;
        }
        int early = blocked && ptrmap_get(blocked, v);
        size_t own = early ? slots_before_memo(e, v) : graph_nslots(v);
        size_t slots = own + (size_t)nglobals;
        const uint64_t *head = early ? NULL : ptrmap_get(&e->setter_of, v);
        size_t setter = head ? (size_t)*head : 0;
        for (size_t i = 0; rc == 0 && (i < slots || setter) && !found; i++) {
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
            if (!ptrmap_put(seen, c, &inserted)) {
                rc = enc_fail(e, BRINE_E_NOMEM, NULL);
                break;
            }
            if (!inserted ||
                (!graph_nslots(c) && !ptrmap_get(&e->setter_of, c) && !enc_written_by_reduce(e, c)))
                continue;
            if (*budget) --*budget;
            rc = enc_stack_push(e, &st, c);
        }
    }
    enc_stack_free(e, &st);
    return rc < 0 ? -1 : found;
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

/* Makes discarded node i the popped copy of x: D_TWIN when the root writes
 * x, else D_SUBST (match[i] = x), and counts it in planned (x -> copies).
 * The chains of encoder.twin_of are made once the plan is complete
 * (chain_twins). */
static int set_twin(encoder *e, size_t i, const brine_value *x, uint8_t *cls,
                    const brine_value **match, const ptrmap *from_root, ptrmap *planned) {
    match[i] = x;
    cls[i] = ptrmap_get(from_root, x) ? D_TWIN : D_SUBST;
    uint64_t *n = ptrmap_put(planned, x, NULL);
    if (!n) return enc_fail(e, BRINE_E_NOMEM, NULL);
    ++*n;
    return 0;
}

/* Chains each object's popped copies in encoder.twin_of, the last made
 * first: it is the outermost write, the one the encoder makes first. The
 * copies are chosen in two orders (twins first to last, setters last to
 * first), so the chains are made here, in the order the copies were made. */
static int chain_twins(encoder *e, const uint8_t *cls, const brine_value **match) {
    for (size_t i = 0; i < e->doc->discarded.n; i++) {
        if ((cls[i] != D_TWIN && cls[i] != D_SUBST) || !match[i]) continue;
        uint64_t *slot = ptrmap_put(&e->twin_of, match[i], NULL);
        if (!slot) return enc_fail(e, BRINE_E_NOMEM, NULL);
        e->twin_next[i] = (size_t)*slot;
        *slot = i + 1;
    }
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
    enode_stack st = {0};
    int rc = enc_stack_push(e, &st, e->doc->root);
    while (rc == 0 && st.n) {
        const brine_value *v = st.items[--st.n];
        int inserted;
        uint64_t *slot = ptrmap_put(pos, v, &inserted);
        if (!slot) {
            rc = enc_fail(e, BRINE_E_NOMEM, NULL);
            break;
        }
        if (!inserted) continue;
        *slot = pos->n;
        /* Pushed last to first, so that the first slot is met first. */
        for (size_t i = graph_nslots(v); rc == 0 && i-- > 0;) {
            const brine_value *c = graph_slot(v, i);
            if (c && !ptrmap_get(pos, c)) rc = enc_stack_push(e, &st, c);
        }
    }
    enc_stack_free(e, &st);
    return rc;
}

/* The popped copies of x the plan has so far (set_twin's count). */
static size_t planned_copies(const ptrmap *planned, const brine_value *x) {
    const uint64_t *n = ptrmap_get(planned, x);
    return n ? (size_t)*n : 0;
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
int enc_match_twins(encoder *e, const ptrmap *twins, const ptrmap *stwins, const size_t *next,
                    uint8_t *cls, const brine_value **match, const size_t *setter_at,
                    const uint8_t *inside, const ptrmap *from_root) {
    const ptrvec *dv = &e->doc->discarded;
    ptrmap all, index, first_met, planned; /* index: discarded node -> position + 1 */
    ptrmap_init(&all, &e->alloc);
    ptrmap_init(&planned, &e->alloc);
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
        /* A setter-shaped node is written as a state setter or as a popped
         * copy: neither is memoized, so neither can have a copy itself. */
        if (at && cls[*at - 1] == D_SETTER) continue;
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
        if (rc == 0 && match[i]) rc = set_twin(e, i, match[i], cls, match, from_root, &planned);
    }
    /* Setters last to first: the last copy made is the outermost. An
     * object takes as many as the first pass saw it copied, at least one. */
    for (size_t i = dv->n; rc == 0 && i-- > 0;) {
        const brine_value *x = match[i];
        if (cls[i] != D_SETTER || !x || planned_copies(&planned, x) >= seen_copies(e, x)) continue;
        int r = reaches(e, dv->items[i], x, &budget);
        if (r < 0) rc = -1;
        if (r <= 0) continue;
        e->setters[setter_at[i] - 1].call = NULL; /* skipped when writing */
        rc = set_twin(e, i, x, cls, match, from_root, &planned);
    }
    if (rc == 0) rc = chain_twins(e, cls, match);
    ptrmap_free(&all);
    ptrmap_free(&index);
    ptrmap_free(&first_met);
    ptrmap_free(&planned);
    return rc;
}
