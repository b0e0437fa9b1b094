/*
 * interval.h: an interval index (interval.c), the container behind IOMMU
 * notifier delivery and the subregion indexes of a container (region.c).
 *
 * A treap of inclusive ranges ordered by (start, seq), each node augmented
 * with the largest last address of its subtree and the number of nodes in
 * it (so the n-th node in order is found in O(log n)). Nodes are embedded
 * in their owners; seq must be unique within one tree and below UINT64_MAX
 * (it also derives the node's heap priority). A tree of points (start ==
 * last) is an ordered set. No locking: the owner serialises.
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
	size_t count;         /* nodes in this subtree, this one included */
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
/* The node at 0-based @index in (start, seq) order, or NULL past the end. O(log n). */
ms__interval_node *ms__interval_nth(ms__interval_node *root, size_t index);
/* The node following @node in (start, seq) order (@node in the tree), or NULL. O(log n). */
ms__interval_node *ms__interval_next(ms__interval_node *root, const ms__interval_node *node);
/* The number of nodes in the tree. */
static inline size_t ms__interval_count(const ms__interval_node *root)
{
	return root ? root->count : 0;
}
/* Checker: order, heap, max_last and count invariants. Number of nodes, or -EINVAL. */
long ms__interval_check(const ms__interval_node *root);

#endif /* MEMSPACE_INTERVAL_INT_H */
