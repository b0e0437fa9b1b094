/*
 * ioevent.c: the hypervisor-facing hooks of device regions: coalesced MMIO
 * windows, ioeventfds and execute-from-MMIO (request_ptr).
 *
 * Coalesced windows and ioeventfds are per region and change as topology
 * changes do: inside a mutation (txn.h), with ctx->events_dirty set so that
 * the commit tells the listeners (listener.c) even when no view changed.
 * The ioeventfd table is immutable: a change builds a new one, publishes it
 * with one pointer store and frees the old one after an RCU grace period,
 * because the access path (access.c) reads it without the lock. Invariant:
 * ctx->nr_event_regions counts the regions with ms__region_has_events().
 *
 * Locking: the topology lock for every change; ms_region_request_ptr() takes
 * none (it calls the device).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "txn.h"

/* A region whose writes reach device callbacks (an I/O reservation has none). */
static bool is_device(const ms_region *r)
{
	return (r->kind == MS_REGION_IO && r->ops) || r->kind == MS_REGION_ROM_DEVICE;
}

/* Whether [offset, offset + size) lies in @r (size >= 1). */
static bool window_ok(const ms_region *r, uint64_t offset, uint64_t size)
{
	return size > 0 && (ms__u128)offset + size <= r->size;
}

/* Keep ctx->nr_event_regions right across a change of @r (lock held). */
static void count_events(ms_region *r, bool had)
{
	bool has = ms__region_has_events(r);

	if (has && !had)
		r->ctx->nr_event_regions++;
	else if (had && !has)
		r->ctx->nr_event_regions--;
	r->ctx->events_dirty = true;
}

/* ---- coalesced MMIO ------------------------------------------------------------ */

typedef struct coalesced_undo {
	ms_region *r;
	struct ms__coalesced *list;
	size_t nr;
} coalesced_undo;

static void coalesced_restore(void *state)
{
	coalesced_undo *u = state;
	bool had = ms__region_has_events(u->r);

	free(u->r->coalesced);
	u->r->coalesced = u->list;
	u->r->nr_coalesced = u->nr;
	u->list = NULL;
	count_events(u->r, had);
}

/*
 * Replace @r's coalesced list by @list (owned) inside the mutation @m, which
 * this ends; the old list goes on success, @list on failure.
 */
static int coalesced_replace(ms__txn_mutation *m, ms_region *r, struct ms__coalesced *list,
			     size_t nr)
{
	coalesced_undo undo = {r, r->coalesced, r->nr_coalesced};
	bool had = ms__region_has_events(r);
	int rc;

	r->coalesced = list;
	r->nr_coalesced = nr;
	count_events(r, had);
	rc = ms__txn_mutation_end(m, coalesced_restore, &undo);
	free(undo.list); /* the old list, or NULL after an undo */
	return rc;
}

int ms_region_add_coalescing(ms_region *r, uint64_t offset, uint64_t size)
{
	struct ms__coalesced *list;
	ms__txn_mutation m;
	size_t nr;
	int rc;

	if (!r || !is_device(r) || !window_ok(r, offset, size))
		return -EINVAL;
	rc = ms__txn_mutation_begin(&m, r->ctx);
	if (rc < 0)
		return rc;
	nr = r->nr_coalesced;
	list = ms__ctx_malloc(r->ctx, (nr + 1) * sizeof(*list));
	if (!list) {
		ms__txn_mutation_cancel(&m);
		return -ENOMEM;
	}
	if (nr)
		memcpy(list, r->coalesced, nr * sizeof(*list));
	list[nr] = (struct ms__coalesced){offset, offset + (size - 1)};
	return coalesced_replace(&m, r, list, nr + 1);
}

int ms_region_clear_coalescing(ms_region *r)
{
	ms__txn_mutation m;
	int rc;

	if (!r)
		return -EINVAL;
	rc = ms__txn_mutation_begin(&m, r->ctx);
	if (rc < 0)
		return rc;
	if (r->nr_coalesced == 0) {
		ms__txn_mutation_cancel(&m);
		return 0;
	}
	return coalesced_replace(&m, r, NULL, 0);
}

/* ---- ioeventfds ---------------------------------------------------------------- */

static bool eventfd_equal(const ms_ioeventfd *a, const ms_ioeventfd *b)
{
	return a->offset == b->offset && a->size == b->size && a->match_data == b->match_data &&
	       a->data == b->data && a->fd == b->fd;
}

static void eventfds_free_rcu(struct rcu_head *head)
{
	ms__rcu_reclaiming();
	free(caa_container_of(head, struct ms__eventfds, rcu));
}

/* Let go of a table readers may still hold. */
static void eventfds_retire(struct ms__eventfds *t)
{
	if (t) {
		ms__rcu_released();
		call_rcu_bp(&t->rcu, eventfds_free_rcu);
	}
}

typedef struct eventfd_undo {
	ms_region *r;
	struct ms__eventfds *old;
	bool undone;
} eventfd_undo;

static void eventfd_restore(void *state)
{
	eventfd_undo *u = state;
	struct ms__eventfds *cur = u->r->eventfds;
	bool had = ms__region_has_events(u->r);

	ms__publish(u->r->eventfds, u->old);
	count_events(u->r, had);
	eventfds_retire(cur);
	u->undone = true;
}

/*
 * Publish a table of @r's ioeventfds with @add added or the entry at @drop
 * (SIZE_MAX: none) removed. Lock held by @m's begin; ends the mutation.
 */
static int eventfds_change(ms__txn_mutation *m, ms_region *r, const ms_ioeventfd *add, size_t drop)
{
	struct ms__eventfds *old = r->eventfds, *t = NULL;
	size_t nr_old = old ? old->nr : 0, nr = add ? nr_old + 1 : nr_old - 1, i, j;
	eventfd_undo undo = {r, old, false};
	bool had = ms__region_has_events(r);
	int rc;

	if (nr > 0) {
		t = ms__ctx_malloc(r->ctx, sizeof(*t) + nr * sizeof(t->e[0]));
		if (!t) {
			ms__txn_mutation_cancel(m);
			return -ENOMEM;
		}
		t->nr = nr;
		for (i = j = 0; i < nr_old; i++)
			if (i != drop)
				t->e[j++] = old->e[i];
		if (add)
			t->e[j] = *add;
	}
	ms__publish(r->eventfds, t);
	count_events(r, had);
	rc = ms__txn_mutation_end(m, eventfd_restore, &undo);
	if (!undo.undone)
		eventfds_retire(old);
	return rc;
}

/* Index of the entry of @r equal to @e, or SIZE_MAX (lock held). */
static size_t eventfd_find(const ms_region *r, const ms_ioeventfd *e)
{
	for (size_t i = 0; r->eventfds && i < r->eventfds->nr; i++)
		if (eventfd_equal(&r->eventfds->e[i], e))
			return i;
	return SIZE_MAX;
}

int ms_region_add_eventfd(ms_region *r, const ms_ioeventfd *e)
{
	ms__txn_mutation m;
	int rc;

	if (!r || !e || !is_device(r) || e->fd < 0 ||
	    (e->size != 0 && e->size != 1 && e->size != 2 && e->size != 4 && e->size != 8) ||
	    !window_ok(r, e->offset, e->size ? e->size : 1))
		return -EINVAL;
	rc = ms__txn_mutation_begin(&m, r->ctx);
	if (rc < 0)
		return rc;
	if (eventfd_find(r, e) != SIZE_MAX) {
		ms__txn_mutation_cancel(&m);
		return -EEXIST;
	}
	return eventfds_change(&m, r, e, SIZE_MAX);
}

int ms_region_del_eventfd(ms_region *r, const ms_ioeventfd *e)
{
	ms__txn_mutation m;
	size_t index;
	int rc;

	if (!r || !e)
		return -EINVAL;
	rc = ms__txn_mutation_begin(&m, r->ctx);
	if (rc < 0)
		return rc;
	index = eventfd_find(r, e);
	if (index == SIZE_MAX) {
		ms__txn_mutation_cancel(&m);
		return -ENOENT;
	}
	return eventfds_change(&m, r, NULL, index);
}

/* ---- execute from MMIO --------------------------------------------------------- */

int ms_region_request_ptr(ms_mmio_ptr *out, ms_region *r, uint64_t offset)
{
	const ms_region_ops *ops;
	uint64_t start = 0, size = 0, room;
	void *host;

	if (!out || !r || (ms__u128)offset >= r->size)
		return -EINVAL;
	/* kind and ops are fixed at creation: no lock needed to read them. */
	ops = r->ops;
	if (!is_device(r) || !ops || ops->version < 2 || !ops->request_ptr)
		return -EOPNOTSUPP;
	host = ops->request_ptr(offset, &start, &size, r->opaque);
	if (!host)
		return -ENODATA;
	/* The window must hold @offset; it is clipped to the region. */
	if (size == 0 || start > offset || offset - start >= size)
		return -EINVAL;
	room = (uint64_t)(r->size - start > UINT64_MAX ? UINT64_MAX : r->size - start);
	if (size > room)
		size = room;
	*out = (ms_mmio_ptr){.host = host, .offset = start, .size = size};
	return 0;
}
