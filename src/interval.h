/*
 * interval.h: an interval index (interval.c), the container behind IOMMU
 * notifier delivery; used by iommu.c alone.
 *
 * A treap of inclusive ranges ordered by (start, seq), each node augmented
 * with the largest last address of its subtree. Nodes are embedded in
 * their owners; seq must be unique within one tree and below UINT64_MAX
 * (it also derives the node's heap priority). No locking: the owner
 * serialises.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_INTERVAL_INT_H
#define MEMSPACE_INTERVAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ms__interval_node {
	uint64_t start, last; /* the range [start, last] */
	uint64_t seq;         /* tie-breaker among equal starts, unique */
	uint64_t max_last;    /* largest last in this subtree */
	struct ms__interval_node *left, *right;
} ms__interval_node;

/* A position in (start, seq) order: visits go strictly after it. */
typedef struct ms__interval_key {
	uint64_t start, seq;
} ms__interval_key;

void ms__interval_insert(ms__interval_node **root, ms__interval_node *node);
void ms__interval_remove(ms__interval_node **root, ms__interval_node *node);
/*
 * Call @fn on every node after *@after (in (start, seq) order) whose range
 * intersects [first, last], in that order. *@after is set to each node's key
 * before @fn runs. A non-zero return of @fn stops the visit at once (no node
 * is touched afterwards, so @fn may change the tree if it then returns
 * non-zero) and is returned; resume with the same *@after.
 */
int ms__interval_visit(ms__interval_node *root, uint64_t first, uint64_t last,
		       ms__interval_key *after, int (*fn)(ms__interval_node *node, void *arg),
		       void *arg);
/* Checker: order, heap and max_last invariants. Number of nodes, or -EINVAL. */
long ms__interval_check(const ms__interval_node *root);

#endif /* MEMSPACE_INTERVAL_INT_H */
