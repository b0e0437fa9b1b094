/*
 * region.c: memory regions and tree mutations.
 *
 * Mutations check their arguments, change the tree, record the changed
 * region in the context's "touched" list (commit re-renders only the views
 * that can reach a touched region) and commit when they are not inside a
 * transaction. If that implicit commit fails, the mutation is undone, so a
 * failed call changes nothing.
 *
 * Invariants: a region has at most one container and appears once in its
 * subregion list; subregion lists are sorted by priority, descending, most
 * recently added first among equals; containment is acyclic; an alias's
 * target is fixed, so alias chains are acyclic; every alias appears in its
 * target's aliased_by list.
 *
 * Locking: all [lock] fields are changed with the topology lock held. The
 * reference count is atomic; the final unref takes the lock to unlink.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* ---- helpers ------------------------------------------------------------ */

static bool kind_has_memory(ms_region_kind kind)
{
	switch (kind) {
	case MS_REGION_RAM:
	case MS_REGION_ROM:
	case MS_REGION_ROM_DEVICE:
	case MS_REGION_RAM_DEVICE:
	case MS_REGION_RAM_PTR:
		return true;
	default:
		return false;
	}
}

static bool access_size_ok(unsigned size)
{
	return size == 0 || size == 1 || size == 2 || size == 4 || size == 8;
}

static bool size_range_ok(unsigned min, unsigned max)
{
	if (!access_size_ok(min) || !access_size_ok(max))
		return false;
	return (min ? min : 1) <= (max ? max : 4);
}

static bool ops_valid(const ms_region_ops *ops)
{
	if (!ops->read && !ops->read_with_attrs)
		return false;
	if (!ops->write && !ops->write_with_attrs)
		return false;
	if (ops->endianness != MS_ENDIAN_NATIVE && ops->endianness != MS_ENDIAN_LITTLE &&
	    ops->endianness != MS_ENDIAN_BIG)
		return false;
	return size_range_ok(ops->valid.min_access_size, ops->valid.max_access_size) &&
	       size_range_ok(ops->impl.min_access_size, ops->impl.max_access_size);
}

int ms__region_touch(ms_region *r)
{
	ms_ctx *ctx = r->ctx;
	int rc;

	if (r->touched == ctx->touch_epoch)
		return 0;
	rc = ms__grow(ctx, (void **)&ctx->touched, &ctx->cap_touched, ctx->nr_touched + 1,
		      sizeof(*ctx->touched));
	if (rc < 0)
		return rc;
	ctx->touched[ctx->nr_touched++] = ms_region_ref(r);
	r->touched = ctx->touch_epoch;
	return 0;
}

/* ---- creation and lifetime ---------------------------------------------- */

static int region_alloc(ms_region **out, ms_ctx *ctx, ms_region_kind kind, const char *name,
			uint64_t size)
{
	ms_region *r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctx || !name)
		return -EINVAL;
	if (size == 0 && (kind_has_memory(kind) || kind == MS_REGION_IOMMU))
		return -EINVAL;
	r = ms__calloc(ctx, 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->name = ms__strdup(ctx, name);
	if (!r->name) {
		free(r);
		return -ENOMEM;
	}
	r->ctx = ctx;
	r->refcount = 1;
	r->kind = kind;
	r->size = ms__size_from_api(size);
	r->enabled = true;
	*out = r;
	return 0;
}

/* Link a fully built region into the context. */
static void region_publish(ms_region *r)
{
	ms_ctx *ctx = r->ctx;

	ms__lock(ctx);
	r->next = ctx->regions;
	if (ctx->regions)
		ctx->regions->prev = r;
	ctx->regions = r;
	ms__unlock(ctx);
}

static void region_release_memory(ms_region *r)
{
	if (r->ram_mapped)
		munmap(r->ram, r->ram_len);
	r->ram = NULL;
	r->ram_mapped = false;
}

static void region_free_fields(ms_region *r)
{
	ms__iommu_destroy(r);
	region_release_memory(r);
	free(r->subs);
	free(r->sub_ext);
	free(r->aliased_by);
	free(r->name);
	free(r->owner);
	free(r);
}

/* Anonymous, zeroed, lazily committed memory for RAM-like regions. */
static int region_map_memory(ms_region *r)
{
	void *p;

	if (r->size > (ms__u128)(SIZE_MAX / 2) || ms__inject_failure(r->ctx))
		return -ENOMEM;
	p = mmap(NULL, (size_t)r->size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	r->ram = p;
	r->ram_len = (size_t)r->size;
	r->ram_mapped = true;
	return 0;
}

static int new_memory_region(ms_region **out, ms_ctx *ctx, ms_region_kind kind,
			     const char *name, uint64_t size, void *ptr,
			     const ms_region_ops *ops, void *opaque)
{
	ms_region *r;
	int rc;

	rc = region_alloc(out, ctx, kind, name, size);
	if (rc < 0)
		return rc;
	r = *out;
	r->ops = ops;
	r->opaque = opaque;
	r->readonly = kind == MS_REGION_ROM;
	r->romd = kind == MS_REGION_ROM_DEVICE;
	if (ptr) {
		r->ram = ptr;
	} else {
		rc = region_map_memory(r);
		if (rc < 0) {
			region_free_fields(r);
			*out = NULL;
			return rc;
		}
	}
	region_publish(r);
	return 0;
}

int ms_region_new_container(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size)
{
	int rc = region_alloc(out, ctx, MS_REGION_CONTAINER, name, size);

	if (rc == 0)
		region_publish(*out);
	return rc;
}

int ms_region_new_io(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
		     const ms_region_ops *ops, void *opaque)
{
	int rc;

	if (ops && !ops_valid(ops)) {
		if (out)
			*out = NULL;
		return -EINVAL;
	}
	rc = region_alloc(out, ctx, MS_REGION_IO, name, size);
	if (rc == 0) {
		(*out)->ops = ops;
		(*out)->opaque = opaque;
		region_publish(*out);
	}
	return rc;
}

int ms_region_new_ram(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size)
{
	return new_memory_region(out, ctx, MS_REGION_RAM, name, size, NULL, NULL, NULL);
}

int ms_region_new_rom(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size)
{
	return new_memory_region(out, ctx, MS_REGION_ROM, name, size, NULL, NULL, NULL);
}

int ms_region_new_rom_device(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
			     const ms_region_ops *ops, void *opaque)
{
	if (!ops || !ops_valid(ops)) {
		if (out)
			*out = NULL;
		return -EINVAL;
	}
	return new_memory_region(out, ctx, MS_REGION_ROM_DEVICE, name, size, NULL, ops, opaque);
}

int ms_region_new_ram_device(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
			     void *ptr)
{
	if (!ptr) {
		if (out)
			*out = NULL;
		return -EINVAL;
	}
	return new_memory_region(out, ctx, MS_REGION_RAM_DEVICE, name, size, ptr, NULL, NULL);
}

int ms_region_new_ram_ptr(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
			  void *ptr)
{
	if (!ptr) {
		if (out)
			*out = NULL;
		return -EINVAL;
	}
	return new_memory_region(out, ctx, MS_REGION_RAM_PTR, name, size, ptr, NULL, NULL);
}

int ms_region_new_alias(ms_region **out, ms_ctx *ctx, const char *name, ms_region *target,
			uint64_t offset, uint64_t size)
{
	ms_region *r;
	int rc;

	if (!target) {
		if (out)
			*out = NULL;
		return -EINVAL;
	}
	if (ctx && target->ctx != ctx) {
		if (out)
			*out = NULL;
		return -EXDEV;
	}
	rc = region_alloc(out, ctx, MS_REGION_ALIAS, name, size);
	if (rc < 0)
		return rc;
	r = *out;
	ms__lock(ctx);
	rc = ms__grow(ctx, (void **)&target->aliased_by, &target->cap_aliased_by,
		      target->nr_aliased_by + 1, sizeof(*target->aliased_by));
	if (rc < 0) {
		ms__unlock(ctx);
		region_free_fields(r);
		*out = NULL;
		return rc;
	}
	target->aliased_by[target->nr_aliased_by++] = r;
	r->alias = ms_region_ref(target);
	r->alias_offset = offset;
	ms__unlock(ctx);
	region_publish(r);
	return 0;
}

int ms__region_new_iommu(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
			 struct ms__iommu *state)
{
	int rc = region_alloc(out, ctx, MS_REGION_IOMMU, name, size);

	if (rc < 0)
		return rc;
	if (state) {
		(*out)->iommu = state;
		rc = ms__iommu_init(*out);
		if (rc < 0) {
			/* The caller still owns @state. */
			(*out)->iommu = NULL;
			region_free_fields(*out);
			*out = NULL;
			return rc;
		}
	}
	region_publish(*out);
	return 0;
}

int ms_region_new_iommu(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size)
{
	return ms__region_new_iommu(out, ctx, name, size, NULL);
}

ms_region *ms_region_ref(ms_region *r)
{
	if (r)
		__atomic_fetch_add(&r->refcount, 1, __ATOMIC_RELAXED);
	return r;
}

void ms_region_unref(ms_region *r)
{
	if (r && __atomic_sub_fetch(&r->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		ms__region_destroy(r);
}

static void remove_pointer(ms_region **array, size_t *nr, const ms_region *r)
{
	size_t i;

	for (i = 0; i < *nr; i++) {
		if (array[i] == r) {
			memmove(&array[i], &array[i + 1], (*nr - i - 1) * sizeof(*array));
			(*nr)--;
			return;
		}
	}
}

void ms__region_destroy(ms_region *r)
{
	ms_ctx *ctx = r->ctx;
	size_t i;

	/*
	 * Nothing references @r: it has no container, roots no address space,
	 * is in no published view and no alias targets it. Unlink it, then let
	 * go of what it references.
	 */
	ms__lock(ctx);
	if (r->prev)
		r->prev->next = r->next;
	else
		ctx->regions = r->next;
	if (r->next)
		r->next->prev = r->prev;
	for (i = 0; i < r->nr_subs; i++) {
		r->subs[i]->container = NULL;
		ms_region_unref(r->subs[i]);
	}
	r->nr_subs = 0;
	if (r->alias) {
		remove_pointer(r->alias->aliased_by, &r->alias->nr_aliased_by, r);
		ms_region_unref(r->alias);
	}
	ms__unlock(ctx);
	region_free_fields(r);
}

void ms__region_free_all(ms_ctx *ctx)
{
	while (ctx->regions) {
		ms_region *r = ctx->regions;

		ctx->regions = r->next;
		region_free_fields(r);
	}
}

/* ---- mutations ------------------------------------------------------------ */

/*
 * Finish a mutation: commit if outermost; on a failed commit run @undo so
 * the tree is as before (the touched records made before the change still
 * cover it), and drop the pending change records: all of them when nothing
 * else was pending before this call, else only the ones this call added
 * (its dirty windows stay: re-rendering a little more is harmless).
 */
typedef void (*undo_fn)(ms_region *r, void *state);

static int mutation_commit(ms_ctx *ctx, bool clean, undo_fn undo, ms_region *r, void *state)
{
	size_t since = ctx->mutation_touched;
	int rc = ms__mutation_commit(ctx);

	if (rc < 0) {
		undo(r, state);
		if (clean)
			ms__discard_pending(ctx);
		else
			ms__touched_truncate(ctx, since); /* keep only what was pending */
	}
	ms__unlock(ctx);
	return rc;
}

static size_t list_index(const ms_region *container, const ms_region *sub)
{
	size_t i;

	for (i = 0; i < container->nr_subs; i++)
		if (container->subs[i] == sub)
			return i;
	return SIZE_MAX;
}

static struct ms__extent sub_extent(const ms_region *sub)
{
	ms__u128 last = (ms__u128)sub->addr + sub->size - 1;

	if (!sub->enabled || sub->size == 0)
		return (struct ms__extent){1, 0};
	return (struct ms__extent){sub->addr, last >= MS__2_64 ? UINT64_MAX : (uint64_t)last};
}

/* Refresh @sub's extent in its container after its size or enabled changed. */
static void ext_refresh(ms_region *sub)
{
	ms_region *c = sub->container;
	size_t i = c ? list_index(c, sub) : SIZE_MAX;

	if (i != SIZE_MAX)
		c->sub_ext[i] = sub_extent(sub);
}

static void list_remove_at(ms_region *container, size_t index)
{
	memmove(&container->subs[index], &container->subs[index + 1],
		(container->nr_subs - index - 1) * sizeof(*container->subs));
	memmove(&container->sub_ext[index], &container->sub_ext[index + 1],
		(container->nr_subs - index - 1) * sizeof(*container->sub_ext));
	container->nr_subs--;
}

/* Capacity must already allow one more element (grow_subs()). */
static void list_insert_at(ms_region *container, size_t index, ms_region *sub)
{
	memmove(&container->subs[index + 1], &container->subs[index],
		(container->nr_subs - index) * sizeof(*container->subs));
	memmove(&container->sub_ext[index + 1], &container->sub_ext[index],
		(container->nr_subs - index) * sizeof(*container->sub_ext));
	container->subs[index] = sub;
	container->sub_ext[index] = sub_extent(sub);
	container->nr_subs++;
}

/* Room for @need subregions in both arrays. 0 or -ENOMEM (the one that
 * grew keeps its capacity: harmless). */
static int grow_subs(ms_region *container, size_t need)
{
	int rc = ms__grow(container->ctx, (void **)&container->subs, &container->cap_subs, need,
			  sizeof(*container->subs));

	if (rc == 0)
		rc = ms__grow(container->ctx, (void **)&container->sub_ext, &container->cap_ext,
			      need, sizeof(*container->sub_ext));
	return rc;
}

/* QEMU's rule: before the first sibling whose priority is <= ours. */
static size_t list_position(const ms_region *container, int priority)
{
	size_t i;

	for (i = 0; i < container->nr_subs; i++)
		if (container->subs[i]->priority <= priority)
			break;
	return i;
}

typedef struct placement {
	ms_region *container;
	size_t index;
	uint64_t addr;
	int priority;
} placement;

/* Record the window @sub covers (or would cover) at @addr in @container. */
static void dirty_placed(ms_region *sub, ms_region *container, uint64_t addr)
{
	if (sub->size > 0)
		ms__region_dirty(container, addr, (ms__u128)addr + sub->size - 1, container->size);
}

static void undo_add(ms_region *sub, void *state)
{
	placement *pl = state;

	list_remove_at(pl->container, list_index(pl->container, sub));
	sub->container = NULL;
	sub->addr = pl->addr;
	sub->priority = pl->priority;
	ms_region_unref(sub);
}

int ms_region_add_subregion_overlap(ms_region *container, uint64_t addr, ms_region *sub,
				    int priority)
{
	placement old;
	ms_region *up;
	ms_ctx *ctx;
	bool clean;
	int rc;

	if (!container || !sub)
		return -EINVAL;
	if (container->ctx != sub->ctx)
		return -EXDEV;
	ctx = container->ctx;
	rc = ms__mutation_begin(ctx, &clean);
	if (rc < 0)
		return rc;
	if (container->kind == MS_REGION_ALIAS || sub == container)
		rc = -EINVAL;
	else if (sub->container)
		rc = -EBUSY;
	for (up = container; rc == 0 && up; up = up->container)
		if (up == sub)
			rc = -ELOOP;
	if (rc == 0)
		rc = grow_subs(container, container->nr_subs + 1);
	/* The container's rendering changes, and so does @sub's own position,
	 * which matters where @sub is itself a root (of an address space or a
	 * flatview). */
	if (rc == 0)
		rc = ms__region_touch(container);
	if (rc == 0)
		rc = ms__region_touch(sub);
	if (rc < 0) {
		ms__mutation_cancel(ctx);
		return rc;
	}
	dirty_placed(sub, container, addr);
	if (sub->fv_root_users)
		ctx->dirty_all = true; /* its own render base moves */
	old = (placement){container, 0, sub->addr, sub->priority};
	sub->addr = addr;
	sub->priority = priority;
	sub->container = container;
	list_insert_at(container, list_position(container, priority), ms_region_ref(sub));
	return mutation_commit(ctx, clean, undo_add, sub, &old);
}

int ms_region_add_subregion(ms_region *container, uint64_t addr, ms_region *sub)
{
	return ms_region_add_subregion_overlap(container, addr, sub, 0);
}

static void undo_del(ms_region *sub, void *state)
{
	placement *pl = state;

	sub->container = pl->container;
	list_insert_at(pl->container, pl->index, sub);
}

int ms_region_del_subregion(ms_region *container, ms_region *sub)
{
	placement old;
	ms_ctx *ctx;
	bool clean;
	size_t index;
	int rc;

	if (!container || !sub)
		return -EINVAL;
	if (container->ctx != sub->ctx)
		return -EXDEV;
	ctx = container->ctx;
	rc = ms__mutation_begin(ctx, &clean);
	if (rc < 0)
		return rc;
	index = sub->container == container ? list_index(container, sub) : SIZE_MAX;
	if (index == SIZE_MAX)
		rc = -ENOENT;
	else
		rc = ms__region_touch(container);
	if (rc < 0) {
		ms__mutation_cancel(ctx);
		return rc;
	}
	dirty_placed(sub, container, sub->addr);
	old = (placement){container, index, sub->addr, sub->priority};
	list_remove_at(container, index);
	sub->container = NULL;
	rc = mutation_commit(ctx, clean, undo_del, sub, &old);
	if (rc == 0)
		ms_region_unref(sub); /* the container's reference */
	return rc;
}

/* Re-insert @r in its container as if added now (QEMU's re-add on move). */
static void readd(ms_region *r)
{
	ms_region *c = r->container;

	list_remove_at(c, list_index(c, r));
	list_insert_at(c, list_position(c, r->priority), r);
}

static void undo_move(ms_region *r, void *state)
{
	placement *pl = state;

	r->addr = pl->addr;
	r->priority = pl->priority;
	if (pl->container) {
		list_remove_at(pl->container, list_index(pl->container, r));
		list_insert_at(pl->container, pl->index, r);
	}
}

static int move_region(ms_region *r, uint64_t addr, int priority, bool need_container)
{
	placement old;
	ms_ctx *ctx;
	bool clean;
	int rc;

	if (!r)
		return -EINVAL;
	ctx = r->ctx;
	rc = ms__mutation_begin(ctx, &clean);
	if (rc < 0)
		return rc;
	if (need_container && !r->container)
		rc = -EINVAL;
	else if (r->addr == addr && r->priority == priority)
		rc = 1; /* nothing to do */
	else
		rc = ms__region_touch(r);
	if (rc != 0) {
		ms__mutation_cancel(ctx);
		return rc < 0 ? rc : 0;
	}
	if (r->container) {
		dirty_placed(r, r->container, r->addr);
		dirty_placed(r, r->container, addr);
	}
	if (r->fv_root_users && r->addr != addr)
		ctx->dirty_all = true; /* its own render base moves */
	old = (placement){r->container, r->container ? list_index(r->container, r) : 0,
			  r->addr, r->priority};
	r->addr = addr;
	r->priority = priority;
	if (r->container)
		readd(r);
	return mutation_commit(ctx, clean, undo_move, r, &old);
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
		ext_refresh(r);
		break;
	case PROP_ENABLED:
		r->enabled = value != 0;
		ext_refresh(r);
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
		break;
	}
}

static void undo_prop(ms_region *r, void *state)
{
	prop_change *change = state;

	prop_set(r, change->which, change->old_value);
}

static int set_prop(ms_region *r, prop which, ms__u128 value)
{
	prop_change change;
	ms_ctx *ctx;
	bool clean;
	int rc;

	ctx = r->ctx;
	rc = ms__mutation_begin(ctx, &clean);
	if (rc < 0)
		return rc;
	change = (prop_change){which, prop_get(r, which)};
	rc = change.old_value == value ? 1 : ms__region_touch(r);
	if (rc != 0) {
		ms__mutation_cancel(ctx);
		return rc < 0 ? rc : 0;
	}
	if (which == PROP_SIZE) {
		/* What changes is [min, max) of the two sizes. */
		ms__u128 lo = value < r->size ? value : r->size;
		ms__u128 hi = value < r->size ? r->size : value;

		ms__region_dirty(r, lo, hi - 1, hi);
	} else if (r->size > 0) {
		ms__region_dirty(r, 0, r->size - 1, r->size);
	}
	prop_set(r, which, value);
	return mutation_commit(ctx, clean, undo_prop, r, &change);
}

int ms_region_set_size(ms_region *r, uint64_t size)
{
	if (!r)
		return -EINVAL;
	if (kind_has_memory(r->kind))
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
	return r ? set_prop(r, PROP_READONLY, readonly) : -EINVAL;
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

	if (!r || client > 7 || !kind_has_memory(r->kind))
		return -EINVAL;
	mask = enable ? (uint8_t)(r->dirty_log_mask | (1u << client))
		      : (uint8_t)(r->dirty_log_mask & ~(1u << client));
	return set_prop(r, PROP_DIRTY_LOG_MASK, mask);
}

int ms_region_set_owner(ms_region *r, const char *owner)
{
	char *copy = NULL;

	if (!r)
		return -EINVAL;
	if (owner) {
		copy = ms__strdup(r->ctx, owner);
		if (!copy)
			return -ENOMEM;
	}
	ms__lock(r->ctx);
	free(r->owner);
	r->owner = copy;
	ms__unlock(r->ctx);
	return 0;
}

/* ---- getters -------------------------------------------------------------- */

ms_ctx *ms_region_ctx(const ms_region *r)
{
	return r->ctx;
}

ms_region_kind ms_region_get_kind(const ms_region *r)
{
	return r->kind;
}

const char *ms_region_name(const ms_region *r)
{
	return r->name;
}

const char *ms_region_owner(const ms_region *r)
{
	return r->owner;
}

uint64_t ms_region_size(const ms_region *r)
{
	return ms__size_to_api(r->size);
}

uint64_t ms_region_addr(const ms_region *r)
{
	return r->addr;
}

int ms_region_priority(const ms_region *r)
{
	return r->priority;
}

bool ms_region_enabled(const ms_region *r)
{
	return r->enabled;
}

bool ms_region_readonly(const ms_region *r)
{
	return r->readonly;
}

bool ms_region_nonvolatile(const ms_region *r)
{
	return r->nonvolatile;
}

bool ms_region_unmergeable(const ms_region *r)
{
	return r->unmergeable;
}

bool ms_region_romd(const ms_region *r)
{
	return r->romd;
}

bool ms_region_is_terminating(const ms_region *r)
{
	return ms__region_terminates(r);
}

ms_region *ms_region_container(const ms_region *r)
{
	return r->container;
}

ms_region *ms_region_alias_target(const ms_region *r)
{
	return r->alias;
}

uint64_t ms_region_alias_offset(const ms_region *r)
{
	return r->alias_offset;
}

void *ms_region_ram_ptr(const ms_region *r)
{
	return r->ram;
}

size_t ms_region_nr_subregions(const ms_region *r)
{
	return r->nr_subs;
}

ms_region *ms_region_subregion(const ms_region *r, size_t index)
{
	return index < r->nr_subs ? r->subs[index] : NULL;
}

const char *ms__region_type_name(const ms_region *r)
{
	while (r->kind == MS_REGION_ALIAS)
		r = r->alias;
	if (r->kind == MS_REGION_RAM_DEVICE)
		return "ramd";
	if (r->kind == MS_REGION_ROM_DEVICE)
		return r->romd ? "romd" : "i/o";
	if (r->kind == MS_REGION_RAM || r->kind == MS_REGION_ROM || r->kind == MS_REGION_RAM_PTR)
		return r->readonly ? "rom" : "ram";
	return "i/o";
}
