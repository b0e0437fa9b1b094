/*
 * region_edit.c: the public calls that change the region tree.
 *
 * Each call is one mutation of the transaction layer (txn.h): it checks its
 * arguments, records the regions it touches and the windows it may change
 * (with the tree as it is before the change), changes the tree through
 * region.c, and ends the mutation, which commits when no transaction is
 * open. If that commit fails, the call's undo puts the tree back, so a
 * failed call changes nothing.
 *
 * Locking: every call takes the topology lock (through the mutation).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>

#include "txn.h"

/* Where a region was, for an undo. */
typedef struct placement {
	ms_region *region;
	ms_region *container;
	uint64_t seq; /* its insertion sequence number there (region.h) */
	uint64_t addr;
	int priority;
} placement;

/* Record the window @sub covers (or would cover) at @addr in @container. */
static void dirty_placed(ms_region *sub, ms_region *container, uint64_t addr)
{
	if (sub->size > 0)
		ms__txn_dirty(container, addr, (ms__u128)addr + sub->size - 1, container->size);
}

static void undo_add(void *state)
{
	placement *pl = state;
	ms_region *sub = pl->region;

	ms__region_sub_remove(pl->container, sub);
	sub->container = NULL;
	sub->addr = pl->addr;
	sub->priority = pl->priority;
	ms_region_unref(sub);
}

/* Check a container/subregion pair, then begin a mutation of their context. */
static int begin_pair(ms__txn_mutation *m, ms_region *container, ms_region *sub)
{
	if (!container || !sub)
		return -EINVAL;
	if (container->ctx != sub->ctx)
		return -EXDEV;
	return ms__txn_mutation_begin(m, container->ctx);
}

int ms_region_add_subregion_overlap(ms_region *container, uint64_t addr, ms_region *sub,
				    int priority)
{
	placement old;
	ms_region *up;
	ms_ctx *ctx;
	ms__txn_mutation m;
	int rc;

	rc = begin_pair(&m, container, sub);
	if (rc < 0)
		return rc;
	ctx = container->ctx;
	if (container->kind == MS_REGION_ALIAS || sub == container)
		rc = -EINVAL;
	else if (sub->container)
		rc = -EBUSY;
	for (up = container; rc == 0 && up; up = up->container)
		if (up == sub)
			rc = -ELOOP;
	/* The container's rendering changes, and so does @sub's own position,
	 * which matters where @sub is itself a root (of an address space or a
	 * flatview). */
	if (rc == 0)
		rc = ms__txn_touch(container);
	if (rc == 0)
		rc = ms__txn_touch(sub);
	if (rc < 0) {
		ms__txn_mutation_cancel(&m);
		return rc;
	}
	dirty_placed(sub, container, addr);
	if (sub->fv_root_users)
		ms__txn_dirty_all(ctx); /* its own render base moves */
	old = (placement){sub, container, 0, sub->addr, sub->priority};
	sub->addr = addr;
	sub->priority = priority;
	ms__region_sub_add(container, ms_region_ref(sub));
	sub->container = container;
	return ms__txn_mutation_end(&m, undo_add, &old);
}

int ms_region_add_subregion(ms_region *container, uint64_t addr, ms_region *sub)
{
	return ms_region_add_subregion_overlap(container, addr, sub, 0);
}

static void undo_del(void *state)
{
	placement *pl = state;
	ms_region *sub = pl->region;

	ms__region_sub_restore(pl->container, sub, pl->seq);
	sub->container = pl->container;
}

/* Remove @sub from @container; the container's reference goes to the caller. */
static int remove_subregion(ms_region *container, ms_region *sub)
{
	placement old;
	ms__txn_mutation m;
	int rc;

	rc = begin_pair(&m, container, sub);
	if (rc < 0)
		return rc;
	if (sub->container != container)
		rc = -ENOENT;
	else
		rc = ms__txn_touch(container);
	if (rc < 0) {
		ms__txn_mutation_cancel(&m);
		return rc;
	}
	dirty_placed(sub, container, sub->addr);
	old = (placement){sub, container, ms__region_sub_seq(sub), sub->addr, sub->priority};
	ms__region_sub_remove(container, sub);
	sub->container = NULL;
	return ms__txn_mutation_end(&m, undo_del, &old);
}

int ms_region_del_subregion(ms_region *container, ms_region *sub)
{
	int rc = remove_subregion(container, sub);

	if (rc == 0)
		ms_region_unref(sub); /* the container's reference */
	return rc;
}

int ms_region_take_subregion(ms_region *container, ms_region *sub)
{
	return remove_subregion(container, sub);
}

/* Re-insert @r in its container as if added now (QEMU's re-add on move). */
static void readd(ms_region *r)
{
	ms_region *c = r->container;

	ms__region_sub_remove(c, r);
	ms__region_sub_add(c, r);
}

static void undo_move(void *state)
{
	placement *pl = state;
	ms_region *r = pl->region;

	r->addr = pl->addr;
	r->priority = pl->priority;
	if (pl->container) {
		ms__region_sub_remove(pl->container, r);
		ms__region_sub_restore(pl->container, r, pl->seq);
	}
}

static int move_region(ms_region *r, uint64_t addr, int priority, bool need_container)
{
	placement old;
	ms_ctx *ctx;
	ms__txn_mutation m;
	int rc;

	if (!r)
		return -EINVAL;
	ctx = r->ctx;
	rc = ms__txn_mutation_begin(&m, ctx);
	if (rc < 0)
		return rc;
	if (need_container && !r->container)
		rc = -EINVAL;
	else if (r->addr == addr && r->priority == priority)
		rc = 1; /* nothing to do */
	else
		rc = ms__txn_touch(r);
	if (rc != 0) {
		ms__txn_mutation_cancel(&m);
		return rc < 0 ? rc : 0;
	}
	if (r->container) {
		dirty_placed(r, r->container, r->addr);
		dirty_placed(r, r->container, addr);
	}
	if (r->fv_root_users && r->addr != addr)
		ms__txn_dirty_all(ctx); /* its own render base moves */
	old = (placement){r, r->container, ms__region_sub_seq(r), r->addr, r->priority};
	r->addr = addr;
	r->priority = priority;
	if (r->container)
		readd(r);
	return ms__txn_mutation_end(&m, undo_move, &old);
}

int ms_region_set_address(ms_region *r, uint64_t addr)
{
	return r ? move_region(r, addr, r->priority, false) : -EINVAL;
}

int ms_region_set_priority(ms_region *r, int priority)
{
	return r ? move_region(r, r->addr, priority, true) : -EINVAL;
}

/* Scalar properties share one mutation path. */
typedef enum prop {
	PROP_SIZE,
	PROP_ENABLED,
	PROP_READONLY,
	PROP_NONVOLATILE,
	PROP_UNMERGEABLE,
	PROP_ALIAS_OFFSET,
	PROP_ROMD,
	PROP_DIRTY_LOG_MASK,
} prop;

typedef struct prop_change {
	ms_region *region;
	prop which;
	ms__u128 old_value;
} prop_change;

static ms__u128 prop_get(const ms_region *r, prop which)
{
	switch (which) {
	case PROP_SIZE:
		return r->size;
	case PROP_ENABLED:
		return r->enabled;
	case PROP_READONLY:
		return r->readonly;
	case PROP_NONVOLATILE:
		return r->nonvolatile;
	case PROP_UNMERGEABLE:
		return r->unmergeable;
	case PROP_ALIAS_OFFSET:
		return r->alias_offset;
	case PROP_ROMD:
		return r->romd;
	case PROP_DIRTY_LOG_MASK:
		return r->dirty_log_mask;
	}
	return 0;
}

static void prop_set(ms_region *r, prop which, ms__u128 value)
{
	switch (which) {
	case PROP_SIZE:
		r->size = value;
		ms__region_sub_refresh(r);
		break;
	case PROP_ENABLED:
		r->enabled = value != 0;
		ms__region_sub_refresh(r);
		break;
	case PROP_READONLY:
		r->readonly = value != 0;
		break;
	case PROP_NONVOLATILE:
		r->nonvolatile = value != 0;
		break;
	case PROP_UNMERGEABLE:
		r->unmergeable = value != 0;
		break;
	case PROP_ALIAS_OFFSET:
		r->alias_offset = (uint64_t)value;
		break;
	case PROP_ROMD:
		r->romd = value != 0;
		break;
	case PROP_DIRTY_LOG_MASK:
		r->dirty_log_mask = (uint8_t)value;
		/* The bitmaps were allocated before (ms_region_set_dirty_log()). */
		(void)ms__region_update_log(r);
		break;
	}
}

static void undo_prop(void *state)
{
	prop_change *change = state;

	prop_set(change->region, change->which, change->old_value);
}

static int set_prop(ms_region *r, prop which, ms__u128 value)
{
	prop_change change;
	ms_ctx *ctx;
	ms__txn_mutation m;
	int rc;

	ctx = r->ctx;
	rc = ms__txn_mutation_begin(&m, ctx);
	if (rc < 0)
		return rc;
	change = (prop_change){r, which, prop_get(r, which)};
	rc = change.old_value == value ? 1 : ms__txn_touch(r);
	if (rc != 0) {
		ms__txn_mutation_cancel(&m);
		return rc < 0 ? rc : 0;
	}
	if (which == PROP_SIZE) {
		/* What changes is [min, max) of the two sizes. */
		ms__u128 lo = value < r->size ? value : r->size;
		ms__u128 hi = value < r->size ? r->size : value;

		ms__txn_dirty(r, lo, hi - 1, hi);
	} else if (r->size > 0) {
		ms__txn_dirty(r, 0, r->size - 1, r->size);
	}
	prop_set(r, which, value);
	return ms__txn_mutation_end(&m, undo_prop, &change);
}

int ms_region_set_size(ms_region *r, uint64_t size)
{
	if (!r)
		return -EINVAL;
	if (ms__region_kind_has_memory(r->kind))
		return ms__size_from_api(size) == r->size ? 0 : -EINVAL;
	if (size == 0 && r->kind == MS_REGION_IOMMU)
		return -EINVAL;
	return set_prop(r, PROP_SIZE, ms__size_from_api(size));
}

int ms_region_set_enabled(ms_region *r, bool enabled)
{
	return r ? set_prop(r, PROP_ENABLED, enabled) : -EINVAL;
}

int ms_region_set_readonly(ms_region *r, bool readonly)
{
	if (!r || (!readonly && r->rb && r->rb->readonly))
		return -EINVAL; /* memory mapped read-only stays read-only */
	return set_prop(r, PROP_READONLY, readonly);
}

int ms_region_set_nonvolatile(ms_region *r, bool nonvolatile)
{
	return r ? set_prop(r, PROP_NONVOLATILE, nonvolatile) : -EINVAL;
}

int ms_region_set_unmergeable(ms_region *r, bool unmergeable)
{
	return r ? set_prop(r, PROP_UNMERGEABLE, unmergeable) : -EINVAL;
}

int ms_region_set_alias_offset(ms_region *r, uint64_t offset)
{
	if (!r || r->kind != MS_REGION_ALIAS)
		return -EINVAL;
	return set_prop(r, PROP_ALIAS_OFFSET, offset);
}

int ms_region_set_romd(ms_region *r, bool romd)
{
	if (!r || r->kind != MS_REGION_ROM_DEVICE)
		return -EINVAL;
	return set_prop(r, PROP_ROMD, romd);
}

int ms_region_set_dirty_log(ms_region *r, unsigned client, bool enable)
{
	uint8_t mask;
	int rc;

	if (!r || client > 7 || !ms__region_kind_has_memory(r->kind))
		return -EINVAL;
	mask = enable ? (uint8_t)(r->dirty_log_mask | (1u << client))
		      : (uint8_t)(r->dirty_log_mask & ~(1u << client));
	if (r->rb && r->rb->host) {
		/* Allocate the client's bitmap now, so the change cannot fail later. */
		ms__ctx_lock(r->ctx);
		rc = ms__bitmap_alloc(r->rb, r->ctx,
				      mask | ms__region_log_mask(r, r->ctx->global_dirty_log));
		ms__ctx_unlock(r->ctx);
		if (rc < 0)
			return rc;
	}
	return set_prop(r, PROP_DIRTY_LOG_MASK, mask);
}

int ms_region_ram_resize(ms_region *r, uint64_t new_size)
{
	ms__ramblock *rb;
	uint64_t old_size;
	int rc;

	if (!r || !r->rb || !r->rb->resizeable || new_size == 0 || new_size > r->rb->max_size)
		return -EINVAL;
	rb = r->rb;
	ms__ctx_lock(r->ctx);
	old_size = (uint64_t)r->size;
	if (r->ctx->depth > 0)
		rc = -EBUSY; /* the callback would run before the change is seen */
	else if (new_size == old_size)
		rc = 1;
	else
		rc = set_prop(r, PROP_SIZE, new_size);
	if (rc == 0) {
		if (new_size < old_size)
			ms__ramblock_discard(rb, new_size, old_size - new_size);
		/* The used range changed meaning: every client sees all of it. */
		ms__bitmap_mark(rb, 0xff, 0, new_size);
	}
	ms__ctx_unlock(r->ctx);
	if (rc == 0 && rb->resized)
		rb->resized(r, old_size, new_size, rb->opaque);
	return rc < 0 ? rc : 0;
}

int ms_region_set_owner(ms_region *r, const char *owner)
{
	char *copy = NULL;

	if (!r)
		return -EINVAL;
	if (owner) {
		copy = ms__ctx_strdup(r->ctx, owner);
		if (!copy)
			return -ENOMEM;
	}
	ms__ctx_lock(r->ctx);
	free(r->owner);
	r->owner = copy;
	ms__ctx_unlock(r->ctx);
	return 0;
}
