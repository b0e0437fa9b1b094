/*
 * interval.c: the interval index behind IOMMU notifier delivery and the
 * subregion indexes of a container.
 *
 * A treap (a binary search tree that is also a heap on a priority) of
 * inclusive ranges, ordered by (start, seq) and heap-ordered on a hash of
 * seq, so its shape is that of a random binary search tree: expected depth
 * O(log n) whatever the insertion order, with no balancing state and no
 * random-number generator. Every node carries max_last, the largest last
 * address in its subtree, which lets a stabbing query skip every subtree
 * that ends before the query begins, and count, the size of its subtree,
 * which finds the n-th node by descending once.
 *
 * Invariants (ms__interval_check()): in-order keys strictly increase; a parent's
 * priority is at least its children's; max_last and count are exact.
 *
 * Locking: none; the owner serialises (IOMMU notifiers and subregion
 * indexes: the topology lock).
 *
 * SPDX-License-Identifier: MIT
 */
#include <assert.h>
#include <errno.h>

#include "interval.h"

/* The heap priority of a node: a 64-bit mix of its unique seq. */
static uint64_t priority(const ms__interval_node *n)
{
	uint64_t z = n->seq + 0x9e3779b97f4a7c15u;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Whether (start, seq) of @n sorts before the key (@start, @seq). */
static bool key_less(uint64_t start_a, uint64_t seq_a, uint64_t start_b, uint64_t seq_b)
{
	return start_a < start_b || (start_a == start_b && seq_a < seq_b);
}

static void update(ms__interval_node *n)
{
	uint64_t m = n->last;
	size_t count = 1;

	if (n->left) {
		if (n->left->max_last > m)
			m = n->left->max_last;
		count += n->left->count;
	}
	if (n->right) {
		if (n->right->max_last > m)
			m = n->right->max_last;
		count += n->right->count;
	}
	n->max_last = m;
	n->count = count;
}

/* Split @t into the nodes with keys below (start, seq) and the rest. */
static void split(ms__interval_node *t, uint64_t start, uint64_t seq, ms__interval_node **below,
		  ms__interval_node **rest)
{
	if (!t) {
		*below = *rest = NULL;
		return;
	}
	if (key_less(t->start, t->seq, start, seq)) {
		split(t->right, start, seq, &t->right, rest);
		*below = t;
	} else {
		split(t->left, start, seq, below, &t->left);
		*rest = t;
	}
	update(t);
}

/* Join two treaps where every key of @a is below every key of @b. */
static ms__interval_node *merge(ms__interval_node *a, ms__interval_node *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (priority(a) >= priority(b)) {
		a->right = merge(a->right, b);
		update(a);
		return a;
	}
	b->left = merge(a, b->left);
	update(b);
	return b;
}

void ms__interval_insert(ms__interval_node **root, ms__interval_node *node)
{
	uint64_t pr = priority(node);
	ms__interval_node **link = root;

	node->left = node->right = NULL;
	node->max_last = node->last;
	node->count = 1;
	/* Descend by key while the node there outranks @node (priorities are
	 * unique: the hash is a bijection of the unique seq). @node ends up
	 * below each of them, so their counts and max_last take it in now. */
	while (*link && priority(*link) >= pr) {
		ms__interval_node *t = *link;

		t->count++;
		if (node->last > t->max_last)
			t->max_last = node->last;
		link = key_less(node->start, node->seq, t->start, t->seq) ? &t->left : &t->right;
	}
	/* What hangs there ranks below @node: its halves become @node's children. */
	split(*link, node->start, node->seq, &node->left, &node->right);
	update(node);
	*link = node;
}

void ms__interval_remove(ms__interval_node **root, ms__interval_node *node)
{
	ms__interval_node *below, *rest, *self, *above;

	/* seq is unique and below UINT64_MAX, so (start, seq + 1) separates @node. */
	assert(node->seq < UINT64_MAX);
	split(*root, node->start, node->seq, &below, &rest);
	split(rest, node->start, node->seq + 1, &self, &above);
	assert(self == node && !node->left && !node->right);
	*root = merge(below, above);
}

/*
 * In-order walk restricted to nodes after *@after intersecting
 * [first, last]. Loop invariant: every node of @t's subtree that precedes
 * it in order and matches has been visited before @t itself.
 */
int ms__interval_visit(ms__interval_node *t, uint64_t first, uint64_t last, ms__interval_key *after,
		       int (*fn)(ms__interval_node *node, void *arg), void *arg)
{
	while (t) {
		int rc;

		if (t->max_last < first)
			return 0; /* everything below ends before the query */
		/* The left subtree holds smaller keys: only useful past *after. */
		if (key_less(after->start, after->seq, t->start, t->seq)) {
			rc = ms__interval_visit(t->left, first, last, after, fn, arg);
			if (rc)
				return rc;
			if (t->start > last)
				return 0; /* this node and everything right start too late */
			if (t->last >= first) {
				after->start = t->start;
				after->seq = t->seq;
				rc = fn(t, arg);
				if (rc)
					return rc;
			}
		} else if (t->start > last) {
			return 0;
		}
		t = t->right; /* tail position: iterate instead of recursing */
	}
	return 0;
}

ms__interval_node *ms__interval_nth(ms__interval_node *t, size_t index)
{
	while (t) {
		size_t left = ms__interval_count(t->left);

		if (index == left)
			return t;
		if (index < left) {
			t = t->left;
		} else {
			index -= left + 1;
			t = t->right;
		}
	}
	return NULL;
}

ms__interval_node *ms__interval_next(ms__interval_node *t, const ms__interval_node *node)
{
	ms__interval_node *best = NULL;

	/* The smallest key above @node's: the last node where the search went left. */
	while (t) {
		if (key_less(node->start, node->seq, t->start, t->seq)) {
			best = t;
			t = t->left;
		} else {
			t = t->right;
		}
	}
	return best;
}

static long check(const ms__interval_node *t, const ms__interval_node *lo,
		  const ms__interval_node *hi)
{
	long left, right;
	uint64_t m;

	if (!t)
		return 0;
	if (t->start > t->last)
		return -EINVAL;
	if (lo && !key_less(lo->start, lo->seq, t->start, t->seq))
		return -EINVAL;
	if (hi && !key_less(t->start, t->seq, hi->start, hi->seq))
		return -EINVAL;
	if ((t->left && priority(t->left) > priority(t)) ||
	    (t->right && priority(t->right) > priority(t)))
		return -EINVAL;
	m = t->last;
	if (t->left && t->left->max_last > m)
		m = t->left->max_last;
	if (t->right && t->right->max_last > m)
		m = t->right->max_last;
	if (m != t->max_last)
		return -EINVAL;
	left = check(t->left, lo, t);
	right = check(t->right, t, hi);
	if (left < 0 || right < 0 || t->count != (size_t)(left + right + 1))
		return -EINVAL;
	return left + right + 1;
}

long ms__interval_check(const ms__interval_node *root)
{
	return check(root, NULL, NULL);
}
