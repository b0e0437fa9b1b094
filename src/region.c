/*
 * region.c: memory-region objects and the tree structure.
 *
 * Creation of every kind, references and lifetime, properties and the
 * ordered subregion lists. The public calls that change the tree are in
 * region_edit.c, which runs each one as a transaction; nothing here
 * commits or renders.
 *
 * Invariants: a region has at most one container and appears once in its
 * subregion views; those views (region.h, struct ms__sibling) agree and
 * follow rendering order: priority descending, most recently added first
 * among equals (ms__region_subs_check()); an alias's
 * target is fixed, so alias chains are acyclic; every alias appears in its
 * target's aliased_by list.
 *
 * Locking: all [lock] fields are changed with the topology lock held. The
 * reference count is atomic; the final unref takes the lock to unlink.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "region.h"

/* ---- helpers ------------------------------------------------------------ */

bool ms__region_kind_has_memory(ms_region_kind kind)
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
	if (ops->version < 1 || ops->version > MS_REGION_OPS_VERSION)
		return false;
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
	if (size == 0 && (ms__region_kind_has_memory(kind) || kind == MS_REGION_IOMMU))
		return -EINVAL;
	r = ms__ctx_calloc(ctx, 1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->name = ms__ctx_strdup(ctx, name);
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

static void free_all(ms_ctx *ctx);
static void region_destroy(ms_region *r);

/* Link a fully built region into the context. */
static void region_publish(ms_region *r)
{
	ms_ctx *ctx = r->ctx;

	ms__ctx_lock(ctx);
	ms__ctx_on_free(ctx, MS__FREE_REGIONS, free_all);
	r->next = ctx->regions;
	if (ctx->regions)
		ctx->regions->prev = r;
	ctx->regions = r;
	ms__ctx_unlock(ctx);
}

static void region_free_fields(ms_region *r)
{
	if (r->iommu_destroy)
		r->iommu_destroy(r);
	ms__ramblock_free(r->rb);
	free(r->aliased_by);
	free(r->coalesced);
	free(r->eventfds); /* no reader can reach @r any more */
	free(r->name);
	free(r->owner);
	free(r);
}

bool ms__region_logs_migration(const ms_region *r)
{
	return r->rb && r->rb->host && r->kind != MS_REGION_RAM_DEVICE &&
	       !(r->rb->flags & MS_RAM_NOT_MIGRATABLE);
}

uint8_t ms__region_log_mask(const ms_region *r, bool global)
{
	uint8_t mask = r->dirty_log_mask;

	if (global && ms__region_logs_migration(r))
		mask |= 1u << MS_DIRTY_MIGRATION;
	return r->rb && r->rb->host ? mask : 0;
}

uint8_t ms__region_render_log_mask(const ms_region *r)
{
	uint8_t mask = r->dirty_log_mask;

	if (r->ctx->global_dirty_log && ms__region_logs_migration(r))
		mask |= 1u << MS_DIRTY_MIGRATION;
	return mask;
}

int ms__region_update_log(ms_region *r)
{
	uint8_t mask = ms__region_log_mask(r, r->ctx->global_dirty_log);
	int rc;

	if (!r->rb)
		return 0;
	rc = ms__bitmap_alloc(r->rb, r->ctx, mask);
	if (rc == 0)
		ms__bitmap_set_log_mask(r->rb, mask);
	return rc;
}

int ms__region_new_memory(ms_region **out, ms_ctx *ctx, ms_region_kind kind,
			  const ms_ram_opts *opts, const ms_region_ops *ops, void *opaque)
{
	ms_region *r;
	int rc;

	rc = region_alloc(out, ctx, kind, opts->name, opts->size);
	if (rc < 0)
		return rc;
	r = *out;
	r->ops = ops;
	r->opaque = opaque;
	r->readonly = kind == MS_REGION_ROM || (opts->flags & (MS_RAM_ROM | MS_RAM_READONLY));
	r->romd = kind == MS_REGION_ROM_DEVICE;
	rc = ms__ramblock_new(&r->rb, ctx, opts);
	if (rc == 0) {
		r->ram = r->rb->host;
		/* One locked section: global logging cannot start in between. */
		ms__ctx_lock(ctx);
		ms__bitmap_init(r->rb, ctx->dirty_page_shift);
		rc = ms__region_update_log(r);
		if (rc == 0) {
			ctx->made_ramblock = true;
			region_publish(r); /* the lock is recursive */
		}
		ms__ctx_unlock(ctx);
	}
	if (rc < 0) {
		region_free_fields(r);
		*out = NULL;
	}
	return rc;
}

/* The options of the plain creators: anonymous memory, or @ptr. */
static int new_memory_region(ms_region **out, ms_ctx *ctx, ms_region_kind kind, const char *name,
			     uint64_t size, void *ptr, const ms_region_ops *ops, void *opaque)
{
	ms_ram_opts opts = {
		.name = name,
		.size = size,
		.backend = ptr ? MS_RAM_PTR : MS_RAM_ANON,
		.ptr = ptr,
		.fd = -1,
	};

	if (!out)
		return -EINVAL;
	if (!ctx || !name) {
		*out = NULL;
		return -EINVAL;
	}
	return ms__region_new_memory(out, ctx, kind, &opts, ops, opaque);
}

int ms_region_new_ram_with(ms_region **out, ms_ctx *ctx, const ms_ram_opts *opts)
{
	ms_region_kind kind;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!ctx || !opts || !opts->name)
		return -EINVAL;
	if (opts->backend == MS_RAM_PTR)
		kind = MS_REGION_RAM_PTR;
	else
		kind = opts->flags & MS_RAM_ROM ? MS_REGION_ROM : MS_REGION_RAM;
	return ms__region_new_memory(out, ctx, kind, opts, NULL, NULL);
}

int ms_region_ram_info(const ms_region *r, ms_ram_info *info)
{
	if (!r || !info || !r->rb)
		return -EINVAL;
	ms__ramblock_info(r->rb, info);
	info->size = (uint64_t)r->size;
	info->resizeable = r->rb->resizeable;
	return 0;
}

int ms_region_new_container(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size)
{
	int rc = region_alloc(out, ctx, MS_REGION_CONTAINER, name, size);

	if (rc == 0)
		region_publish(*out);
	return rc;
}

/* Refuse the call: *@out = NULL (when there is one) and -EINVAL. */
static int refuse(ms_region **out)
{
	if (out)
		*out = NULL;
	return -EINVAL;
}

int ms_region_new_io(ms_region **out, ms_ctx *ctx, const ms_region_io_opts *opts)
{
	int rc;

	if (!opts || (opts->ops && !ops_valid(opts->ops)))
		return refuse(out);
	rc = region_alloc(out, ctx, MS_REGION_IO, opts->name, opts->size);
	if (rc == 0) {
		(*out)->ops = opts->ops;
		(*out)->opaque = opts->opaque;
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

int ms_region_new_rom_device(ms_region **out, ms_ctx *ctx, const ms_region_io_opts *opts)
{
	if (!opts || !opts->ops || !ops_valid(opts->ops))
		return refuse(out);
	return new_memory_region(out, ctx, MS_REGION_ROM_DEVICE, opts->name, opts->size, NULL,
				 opts->ops, opts->opaque);
}

int ms_region_new_ram_device(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
			     void *ptr)
{
	if (!ptr)
		return refuse(out);
	return new_memory_region(out, ctx, MS_REGION_RAM_DEVICE, name, size, ptr, NULL, NULL);
}

int ms_region_new_ram_ptr(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
			  void *ptr)
{
	if (!ptr)
		return refuse(out);
	return new_memory_region(out, ctx, MS_REGION_RAM_PTR, name, size, ptr, NULL, NULL);
}

int ms_region_new_alias(ms_region **out, ms_ctx *ctx, const ms_region_alias_opts *opts)
{
	ms_region *target = opts ? opts->target : NULL;
	ms_region *r;
	int rc;

	if (!target)
		return refuse(out);
	if (ctx && target->ctx != ctx) {
		if (out)
			*out = NULL;
		return -EXDEV;
	}
	rc = region_alloc(out, ctx, MS_REGION_ALIAS, opts->name, opts->size);
	if (rc < 0)
		return rc;
	r = *out;
	ms__ctx_lock(ctx);
	rc = ms__ctx_grow(ctx, (void **)&target->aliased_by, &target->cap_aliased_by,
			  target->nr_aliased_by + 1, sizeof(*target->aliased_by));
	if (rc < 0) {
		ms__ctx_unlock(ctx);
		region_free_fields(r);
		*out = NULL;
		return rc;
	}
	target->aliased_by[target->nr_aliased_by++] = r;
	r->alias = ms_region_ref(target);
	r->alias_offset = opts->offset;
	ms__ctx_unlock(ctx);
	region_publish(r);
	return 0;
}

int ms__region_new_iommu(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size,
			 struct ms__iommu *state, int (*init)(ms_region *r),
			 void (*destroy)(ms_region *r))
{
	int rc = region_alloc(out, ctx, MS_REGION_IOMMU, name, size);

	if (rc < 0)
		return rc;
	if (state) {
		(*out)->iommu = state;
		rc = init(*out);
		if (rc < 0) {
			/* The caller still owns @state. */
			(*out)->iommu = NULL;
			region_free_fields(*out);
			*out = NULL;
			return rc;
		}
		(*out)->iommu_destroy = destroy;
	}
	region_publish(*out);
	return 0;
}

ms_region *ms_region_ref(ms_region *r)
{
	if (r)
		__atomic_fetch_add(&r->refcount, 1, __ATOMIC_RELAXED);
	return r;
}

bool ms__region_tryget(ms_region *r)
{
	uint32_t n = __atomic_load_n(&r->refcount, __ATOMIC_RELAXED);

	while (n != 0)
		if (__atomic_compare_exchange_n(&r->refcount, &n, n + 1, true, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
	return false;
}

void ms_region_unref(ms_region *r)
{
	if (r && __atomic_sub_fetch(&r->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		region_destroy(r);
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

static void region_destroy(ms_region *r)
{
	ms_ctx *ctx = r->ctx;
	ms_region *sub, *next;

	/*
	 * Nothing references @r: it has no container, roots no address space,
	 * is in no published view and no alias targets it. Unlink it, then let
	 * go of what it references.
	 */
	ms__ctx_lock(ctx);
	if (r->prev)
		r->prev->next = r->next;
	else
		ctx->regions = r->next;
	if (r->next)
		r->next->prev = r->prev;
	for (sub = r->sub_first; sub; sub = next) {
		next = sub->sib.next;
		sub->container = NULL;
		ms_region_unref(sub);
	}
	r->sub_first = r->sub_last = NULL;
	r->sub_order = r->sub_where = NULL;
	r->nr_subs = 0;
	if (r->alias) {
		remove_pointer(r->alias->aliased_by, &r->alias->nr_aliased_by, r);
		ms_region_unref(r->alias);
	}
	if (ms__region_has_events(r))
		ctx->nr_event_regions--;
	ms__ctx_unlock(ctx);
	region_free_fields(r);
}

/* Free every region of a dying context, whatever its references. */
static void free_all(ms_ctx *ctx)
{
	while (ctx->regions) {
		ms_region *r = ctx->regions;

		ctx->regions = r->next;
		region_free_fields(r);
	}
}

/* ---- subregion storage (region.h) ----------------------------------------- */

/* The rendering-order key: priority descending, then seq descending. */
static void set_order_key(ms_region *sub, uint64_t seq)
{
	sub->sib.order.start = (uint64_t)((int64_t)INT_MAX - sub->priority);
	sub->sib.order.last = sub->sib.order.start;
	sub->sib.order.seq = UINT64_MAX - seq; /* seq >= 1: below UINT64_MAX */
}

/* Put @sub into the address index when it is enabled and not empty. */
static void index_where(ms_region *container, ms_region *sub)
{
	ms__u128 last = (ms__u128)sub->addr + sub->size - 1;

	sub->sib.indexed = sub->enabled && sub->size > 0;
	if (!sub->sib.indexed)
		return;
	sub->sib.where.start = sub->addr;
	sub->sib.where.last = last >= MS__2_64 ? UINT64_MAX : (uint64_t)last;
	ms__interval_insert(&container->sub_where, &sub->sib.where);
}

static void unindex_where(ms_region *container, ms_region *sub)
{
	if (sub->sib.indexed)
		ms__interval_remove(&container->sub_where, &sub->sib.where);
	sub->sib.indexed = false;
}

static ms_region *region_of_order(ms__interval_node *node)
{
	return node ? (ms_region *)((char *)node - offsetof(ms_region, sib.order)) : NULL;
}

void ms__region_sub_restore(ms_region *container, ms_region *sub, uint64_t seq)
{
	ms_region *next;

	set_order_key(sub, seq);
	sub->sib.where.seq = seq;
	ms__interval_insert(&container->sub_order, &sub->sib.order);
	/* Link before the following subregion in rendering order. */
	next = region_of_order(ms__interval_next(container->sub_order, &sub->sib.order));
	sub->sib.next = next;
	sub->sib.prev = next ? next->sib.prev : container->sub_last;
	if (sub->sib.prev)
		sub->sib.prev->sib.next = sub;
	else
		container->sub_first = sub;
	if (next)
		next->sib.prev = sub;
	else
		container->sub_last = sub;
	index_where(container, sub);
	container->nr_subs++;
}

void ms__region_sub_add(ms_region *container, ms_region *sub)
{
	ms__region_sub_restore(container, sub, ++container->sub_seq);
}

void ms__region_sub_remove(ms_region *container, ms_region *sub)
{
	unindex_where(container, sub);
	ms__interval_remove(&container->sub_order, &sub->sib.order);
	if (sub->sib.prev)
		sub->sib.prev->sib.next = sub->sib.next;
	else
		container->sub_first = sub->sib.next;
	if (sub->sib.next)
		sub->sib.next->sib.prev = sub->sib.prev;
	else
		container->sub_last = sub->sib.prev;
	sub->sib.next = sub->sib.prev = NULL;
	container->nr_subs--;
}

uint64_t ms__region_sub_seq(const ms_region *sub)
{
	return sub->container ? UINT64_MAX - sub->sib.order.seq : 0;
}

void ms__region_sub_refresh(ms_region *sub)
{
	if (!sub->container)
		return;
	unindex_where(sub->container, sub);
	index_where(sub->container, sub);
}

typedef struct where_count {
	const ms_region *container;
	size_t nr;
} where_count;

/* Visit callback of the check: count the address index's entries, and stop
 * (non-zero) at one that is not an indexed subregion of the container. */
static int count_where(ms__interval_node *node, void *arg)
{
	where_count *count = arg;
	const ms_region *sub = ms__region_of_where(node);

	count->nr++;
	return !sub->sib.indexed || sub->container != count->container;
}

int ms__region_subs_check(const ms_region *c)
{
	const ms_region *sub, *prev = NULL;
	size_t nr = 0, nr_indexed = 0;
	where_count visited = {c, 0};
	ms__interval_key after = {0, 0};

	if (ms__interval_check(c->sub_order) != (long)c->nr_subs ||
	    ms__interval_check(c->sub_where) < 0)
		return -EINVAL;
	for (sub = c->sub_first; sub; prev = sub, sub = sub->sib.next, nr++) {
		ms__u128 last = (ms__u128)sub->addr + sub->size - 1;
		uint64_t seq = UINT64_MAX - sub->sib.order.seq;

		if (sub->container != c || sub->sib.prev != prev || nr >= c->nr_subs)
			return -EINVAL;
		if (region_of_order(ms__interval_nth(c->sub_order, nr)) != sub)
			return -EINVAL;
		if (sub->sib.order.start != (uint64_t)((int64_t)INT_MAX - sub->priority) ||
		    seq == 0 || seq > c->sub_seq || sub->sib.where.seq != seq)
			return -EINVAL;
		if (prev && !ms__region_sub_before(prev, sub))
			return -EINVAL;
		if (sub->sib.indexed != (sub->enabled && sub->size > 0))
			return -EINVAL;
		if (sub->sib.indexed &&
		    (sub->sib.where.start != sub->addr ||
		     sub->sib.where.last != (last >= MS__2_64 ? UINT64_MAX : (uint64_t)last)))
			return -EINVAL;
		nr_indexed += sub->sib.indexed;
	}
	if (nr != c->nr_subs || prev != c->sub_last)
		return -EINVAL;
	/* The address index holds the nr_indexed subregions found above. */
	if (ms__interval_visit(c->sub_where, 0, UINT64_MAX, &after, count_where, &visited) ||
	    visited.nr != nr_indexed)
		return -EINVAL;
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
	return region_of_order(ms__interval_nth(r->sub_order, index));
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
