/*
 * graph.h - walking the value graph without recursion.
 *
 * Every node exposes its outgoing edges as numbered slots, in print order
 * (docs/canonical.md): items; dict keys before values; for globals the
 * module and name strs, then the operands of each recorded operation; for
 * objects the callable, the arguments, the keyword arguments (key, value)
 * and then the operands of each recorded operation. The arguments are one
 * slot, the args tuple, when the stream built one (REDUCE, NEWOBJ), and the
 * keyword arguments one slot, the kwargs dict, for NEWOBJ_EX. A slot may be
 * empty (NULL): the second operand of operations other than SETITEM.
 */
#ifndef BRINE_GRAPH_H
#define BRINE_GRAPH_H

#include <stddef.h>

#include "value.h"

size_t graph_nslots(const brine_value *v);
brine_value *graph_slot(const brine_value *v, size_t i);

#endif
