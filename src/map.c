/*
 * map.c: DMA map/unmap - direct RAM pointers and bounce buffers.
 *
 * ms_as_map() looks the address up in the address space's current view
 * inside an RCU read-side section, like an access, through every IOMMU on
 * the way. RAM usable in place is handed out directly, extended over
 * following ranges and IOMMU pages that reach the same region at contiguous
 * offsets, and the mapping takes one reference on the region (it is dropped
 * at unmap). Anything else that answers gets a bounce buffer charged
 * to the address space's budget. Every live mapping has an entry in its
 * address space's pool, so ms_as_unmap() knows what a pointer is and refuses
 * one it never handed out. Map clients wait in the pool for budget.
 *
 * Invariants, pool lock held (checked by ms__map_check()): used is the
 * sum of the lengths of the live bounce entries; the waiting list holds
 * exactly the clients in state WAITING, in increasing registration order;
 * every other client is on the done list.
 *
 * Locking: the pool lock is a leaf. Nothing is called with it held but
 * malloc/free: device callbacks (bounce fill and write-back), map-client
 * callbacks and ms_region_unref() (which takes the topology lock) all run
 * after it is released, so any of them may map and unmap again.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/list.h>

#include "map.h"

/* One live mapping. */
typedef struct map_entry {
	struct cds_list_head link; /* pool->entries, newest first */
	void *buffer;              /* what ms_as_map() returned */
	uint64_t len;              /* what ms_as_map() returned in *len */
	bool is_write;
	/* Direct mappings: the region (a reference held) and the offset of buffer in it. */
	ms_region *region;
	uint64_t offset;
	/* Bounce buffers (region == NULL): where and how to write back. */
	uint64_t addr;
	ms_attrs attrs;
	alignas(max_align_t) unsigned char bounce[]; /* len bytes */
} map_entry;

typedef enum client_state {
	CLIENT_WAITING, /* on pool->waiting */
	CLIENT_FIRING,  /* callback running on firing_thread; on pool->done */
	CLIENT_DONE,    /* callback returned; on pool->done until unregistered */
} client_state;

struct ms_map_client {
	struct cds_list_head link;
	struct ms__map_pool *pool;
	void (*callback)(void *opaque);
	void *opaque;
	uint64_t seq; /* registration order */
	client_state state;
	pthread_t firing_thread;
	bool free_when_done; /* unregistered from its own callback */
};

struct ms__map_pool {
	pthread_mutex_t lock;
	pthread_cond_t callback_returned;
	size_t used;                  /* bytes of live bounce buffers */
	struct cds_list_head entries; /* live mappings */
	struct cds_list_head waiting; /* clients waiting for budget, oldest first */
	struct cds_list_head done;    /* clients called (or being called) */
	uint64_t client_seq;          /* last registration number handed out */
};

/* ---- helpers ------------------------------------------------------------- */

static size_t budget_of(const ms_as *as)
{
	size_t budget = __atomic_load_n(&as->bounce_budget, __ATOMIC_SEQ_CST);

	return budget ? budget : MS_BOUNCE_BUDGET_DEFAULT;
}

/* Bounce bytes a new map could get now. Pool lock held. */
static size_t budget_left(const ms_as *as, const struct ms__map_pool *pool)
{
	size_t budget = budget_of(as);

	return pool->used < budget ? budget - pool->used : 0;
}

static void pool_free(struct ms__map_pool *pool)
{
	pthread_cond_destroy(&pool->callback_returned);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

static void map_destroy(ms_as *as);

/* The pool of @as, created on first use. NULL when that allocation fails. */
static struct ms__map_pool *get_pool(ms_as *as)
{
	struct ms__map_pool *pool = __atomic_load_n(&as->map_pool, __ATOMIC_ACQUIRE);
	struct ms__map_pool *installed = NULL;

	if (pool)
		return pool;
	pool = ms__ctx_calloc(as->ctx, 1, sizeof(*pool));
	if (!pool)
		return NULL;
	if (pthread_mutex_init(&pool->lock, NULL) != 0) {
		free(pool);
		return NULL;
	}
	if (pthread_cond_init(&pool->callback_returned, NULL) != 0) {
		pthread_mutex_destroy(&pool->lock);
		free(pool);
		return NULL;
	}
	CDS_INIT_LIST_HEAD(&pool->entries);
	CDS_INIT_LIST_HEAD(&pool->waiting);
	CDS_INIT_LIST_HEAD(&pool->done);
	/* Seq-cst so that ms_as_set_bounce_budget() either sees the pool or
	 * its new budget is seen by every registration made on it. */
	if (!__atomic_compare_exchange_n(&as->map_pool, &installed, pool, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_ACQUIRE)) {
		pool_free(pool); /* another thread won the race */
		return installed;
	}
	ms__as_on_free(as, MS__AS_FREE_MAP, map_destroy);
	return pool;
}

/* ---- map clients ------------------------------------------------------------ */

/*
 * Call the clients waiting when this starts, oldest first, each only while
 * some budget is left (a callback that maps may use it up; the others then
 * wait for the next release). Clients registered meanwhile are left for the
 * next release, so a callback that re-registers cannot make this loop
 * forever. Called with the pool lock not held.
 */
static void notify_clients(ms_as *as, struct ms__map_pool *pool)
{
	uint64_t last_seq;

	pthread_mutex_lock(&pool->lock);
	last_seq = pool->client_seq;
	while (!cds_list_empty(&pool->waiting) && budget_left(as, pool) > 0) {
		ms_map_client *c = cds_list_first_entry(&pool->waiting, ms_map_client, link);
		void (*callback)(void *opaque) = c->callback;
		void *opaque = c->opaque;

		if (c->seq > last_seq)
			break;
		cds_list_move(&c->link, &pool->done);
		c->state = CLIENT_FIRING;
		c->firing_thread = pthread_self();
		pthread_mutex_unlock(&pool->lock);
		callback(opaque);
		pthread_mutex_lock(&pool->lock);
		c->state = CLIENT_DONE;
		if (c->free_when_done) {
			cds_list_del(&c->link);
			free(c);
		}
		pthread_cond_broadcast(&pool->callback_returned);
	}
	pthread_mutex_unlock(&pool->lock);
}

int ms_as_register_map_client(ms_map_client **out, ms_as *as, void (*callback)(void *opaque),
			      void *opaque)
{
	struct ms__map_pool *pool;
	ms_map_client *c;
	bool available;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!as || !callback)
		return -EINVAL;
	pool = get_pool(as);
	if (!pool)
		return -ENOMEM;
	c = ms__ctx_calloc(as->ctx, 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->pool = pool;
	c->callback = callback;
	c->opaque = opaque;
	c->state = CLIENT_WAITING;
	pthread_mutex_lock(&pool->lock);
	c->seq = ++pool->client_seq;
	cds_list_add_tail(&c->link, &pool->waiting);
	available = budget_left(as, pool) > 0;
	pthread_mutex_unlock(&pool->lock);
	*out = c;
	/* QEMU's rule: budget free at registration means "retry now". */
	if (available)
		notify_clients(as, pool);
	return 0;
}

void ms_as_unregister_map_client(ms_map_client *client)
{
	struct ms__map_pool *pool;

	if (!client)
		return;
	pool = client->pool;
	pthread_mutex_lock(&pool->lock);
	if (client->state == CLIENT_FIRING) {
		if (pthread_equal(client->firing_thread, pthread_self())) {
			/* From its own callback: notify_clients() frees it on return. */
			client->free_when_done = true;
			pthread_mutex_unlock(&pool->lock);
			return;
		}
		while (client->state == CLIENT_FIRING)
			pthread_cond_wait(&pool->callback_returned, &pool->lock);
	}
	cds_list_del(&client->link);
	pthread_mutex_unlock(&pool->lock);
	free(client);
}

/* ---- map ----------------------------------------------------------------------- */

typedef enum map_kind {
	MAP_NONE,   /* nothing to map */
	MAP_DIRECT, /* host pointer into the region's memory */
	MAP_BOUNCE, /* bounce buffer */
} map_kind;

/* What ms_as_map() found at the address. */
typedef struct map_target {
	map_kind kind;
	uint64_t len;      /* bytes from addr on (bounce: before the budget) */
	ms_region *region; /* direct: a reference taken */
	uint64_t offset;   /* direct: offset of addr in region */
	void *ptr;         /* direct: host address of addr */
} map_target;

/* Where the walk of find_target() is: what it found so far, and for what. */
typedef struct target_walk {
	map_target *t;
	bool is_write;
	ms_attrs attrs;
	ms_region *mr; /* direct: the region mapped (no reference yet) */
} target_walk;

/*
 * Take the piece of ms__resolve_walk() at byte p->pos of the map. The first
 * decides the kind of mapping; each following one extends a direct mapping
 * when it is the same region at the next offset and usable in place, and
 * stops the walk otherwise. Return: 0 to go on, 1 to stop.
 */
static int take_piece(const ms__piece *p, void *arg)
{
	target_walk *tw = arg;
	map_target *t = tw->t;
	const ms__range *r = p->range;
	uint64_t offset;
	ms_region *mr;

	if (p->kind != MS__PIECE_RANGE)
		return 1; /* a hole or a failed translation: nothing, or the end */
	mr = r->region;
	offset = r->offset_in_region + (p->addr - r->start);
	if (p->pos > 0) {
		/* Loop invariant: the t->len bytes before this piece map directly
		 * and contiguously onto tw->mr, ending just before t->offset + t->len. */
		if (mr != tw->mr || offset != t->offset + t->len ||
		    !ms__access_is_direct(r, tw->is_write))
			return 1;
		t->len += p->len;
		return 0;
	}
	/* An IOMMU region without a class, or a reservation: nothing answers. */
	if (mr->kind == MS_REGION_IOMMU || (mr->kind == MS_REGION_IO && !mr->ops))
		return 1;
	if (mr->kind != MS_REGION_IO && mr->kind != MS_REGION_ROM_DEVICE &&
	    !ms__region_kind_is_ram(mr->kind))
		return 1; /* containers and aliases never render */
	if (tw->attrs.memory && !ms__region_kind_is_ram(mr->kind))
		return 1; /* access.c answers ACCESS_ERROR; nothing to map */
	if (mr->rb && !mr->ram)
		return 1; /* layout-only RAM: no memory to map */
	t->len = p->len;
	if (!ms__access_is_direct(r, tw->is_write)) {
		/* QEMU's rule: a bounce buffer covers the one range (and IOMMU page). */
		t->kind = MAP_BOUNCE;
		return 1;
	}
	t->kind = MAP_DIRECT;
	t->offset = offset;
	t->ptr = (uint8_t *)mr->ram + offset;
	tw->mr = mr;
	return 0;
}

/*
 * Decide how [addr, addr + want) of @as is mapped. Inside an RCU read-side
 * section; a direct target takes its region reference here, while the view
 * still holds one.
 *
 * The range is walked piece by piece (ms__resolve_walk()), through every
 * IOMMU on the way: a piece never crosses a range or an IOMMU page, and each
 * page is translated with the map's direction and attrs just before its
 * pieces. A direct mapping extends over following pieces while each is the
 * same region at the next offset and usable in place for this direction,
 * whatever view it was found in: pieces of one region's memory that the view
 * keeps apart (a readonly window, different flags), or consecutive IOMMU
 * pages that translate to contiguous offsets (QEMU's
 * flatview_extend_translation()). A page whose translation fails (no
 * mapping, a missing permission) ends it. The walk stops at the first piece
 * that does not extend, so nothing after it is translated.
 */
static void find_target(map_target *t, ms_as *as, uint64_t addr, uint64_t want, bool is_write,
			ms_attrs attrs)
{
	target_walk tw = {t, is_write, attrs, NULL};
	ms__piece last;
	ms__walk w = {is_write, attrs, false, NULL, take_piece, &tw, &last};

	memset(t, 0, sizeof(*t));
	/* The last piece comes back here rather than through take_piece(). */
	if (ms__resolve_walk(&w, as, ms__deref(as->view), addr, want) == 0)
		take_piece(&last, &tw);
	if (t->kind == MAP_DIRECT)
		t->region = ms_region_ref(tw.mr);
}

static void *map_direct(ms_as *as, struct ms__map_pool *pool, const map_target *t, bool is_write,
			uint64_t *len)
{
	map_entry *e = ms__ctx_calloc(as->ctx, 1, sizeof(*e));

	if (!e) {
		ms_region_unref(t->region);
		return NULL;
	}
	e->buffer = t->ptr;
	e->len = t->len;
	e->is_write = is_write;
	e->region = t->region;
	e->offset = t->offset;
	pthread_mutex_lock(&pool->lock);
	cds_list_add(&e->link, &pool->entries);
	pthread_mutex_unlock(&pool->lock);
	*len = t->len;
	return e->buffer;
}

static void *map_bounce(ms_as *as, struct ms__map_pool *pool, uint64_t addr, uint64_t want,
			bool is_write, ms_attrs attrs, uint64_t *len)
{
	map_entry *e;
	size_t n;

	pthread_mutex_lock(&pool->lock);
	n = budget_left(as, pool);
	if (want < n)
		n = (size_t)want;
	/* The budget is at most SIZE_MAX / 2, so the size cannot overflow. */
	e = n ? ms__ctx_calloc(as->ctx, 1, sizeof(*e) + n) : NULL;
	if (!e) {
		pthread_mutex_unlock(&pool->lock);
		return NULL; /* budget used up, or out of memory */
	}
	e->buffer = e->bounce;
	e->len = n;
	e->is_write = is_write;
	e->addr = addr;
	e->attrs = attrs;
	pool->used += n;
	cds_list_add(&e->link, &pool->entries);
	pthread_mutex_unlock(&pool->lock);

	/* Nobody else knows the buffer yet: fill it without the lock. */
	if (!is_write && ms_as_read(as, addr, attrs, e->bounce, n) != MS_RESULT_OK) {
		pthread_mutex_lock(&pool->lock);
		cds_list_del(&e->link);
		pool->used -= n;
		pthread_mutex_unlock(&pool->lock);
		free(e);
		/* A map refused meanwhile for lack of budget may be waiting. */
		notify_clients(as, pool);
		return NULL;
	}
	*len = n;
	return e->buffer;
}

void *ms_as_map(ms_as *as, uint64_t addr, uint64_t *len, bool is_write, ms_attrs attrs)
{
	struct ms__map_pool *pool;
	map_target t;
	uint64_t want;

	if (!len)
		return NULL;
	want = *len;
	*len = 0;
	if (!as || want == 0)
		return NULL;
	pool = get_pool(as);
	if (!pool)
		return NULL;
	ms__rcu_read_lock();
	find_target(&t, as, addr, want, is_write, attrs);
	ms__rcu_read_unlock();
	switch (t.kind) {
	case MAP_DIRECT:
		return map_direct(as, pool, &t, is_write, len);
	case MAP_BOUNCE:
		return map_bounce(as, pool, addr, t.len, is_write, attrs, len);
	default:
		return NULL;
	}
}

/* ---- unmap ----------------------------------------------------------------------- */

/*
 * [offset, offset + len) of @r's memory was written through a direct
 * mapping or a cache, behind the access path's back: mark it dirty for the
 * clients logging @r, as a write through the access path would.
 */
void ms__map_mark_dirty(ms_region *r, uint64_t offset, uint64_t len)
{
	ms__ramblock_written(r->rb, offset, len);
}

int ms_as_unmap(ms_as *as, void *buffer, uint64_t len, bool is_write, uint64_t access_len)
{
	struct ms__map_pool *pool;
	map_entry *e, *found = NULL;

	if (!as || !buffer || access_len > len)
		return -EINVAL;
	pool = __atomic_load_n(&as->map_pool, __ATOMIC_ACQUIRE);
	if (!pool)
		return -EINVAL; /* nothing was ever mapped here */
	pthread_mutex_lock(&pool->lock);
	cds_list_for_each_entry (e, &pool->entries, link) {
		if (e->buffer == buffer && e->len == len && e->is_write == is_write) {
			found = e;
			break;
		}
	}
	if (found)
		cds_list_del(&found->link);
	pthread_mutex_unlock(&pool->lock);
	if (!found)
		return -EINVAL;

	if (found->region) {
		if (is_write && access_len > 0)
			ms__map_mark_dirty(found->region, found->offset, access_len);
		ms_region_unref(found->region);
		free(found);
		return 0;
	}
	/* Write back before giving the bytes back, so the budget holds meanwhile. */
	if (is_write && access_len > 0)
		(void)ms_as_write(as, found->addr, found->attrs, found->bounce, (size_t)access_len);
	pthread_mutex_lock(&pool->lock);
	pool->used -= (size_t)found->len;
	pthread_mutex_unlock(&pool->lock);
	free(found);
	notify_clients(as, pool);
	return 0;
}

/* ---- budget ------------------------------------------------------------------------ */

int ms_as_set_bounce_budget(ms_as *as, size_t bytes)
{
	struct ms__map_pool *pool;

	if (!as || bytes < MS_BOUNCE_BUDGET_MIN || bytes > MS_BOUNCE_BUDGET_MAX)
		return -EINVAL;
	__atomic_store_n(&as->bounce_budget, bytes, __ATOMIC_SEQ_CST);
	/* No pool yet means no client yet: a later registration sees @bytes. */
	pool = __atomic_load_n(&as->map_pool, __ATOMIC_SEQ_CST);
	if (pool)
		notify_clients(as, pool);
	return 0;
}

size_t ms_as_bounce_budget(const ms_as *as)
{
	return budget_of(as);
}

/* ---- teardown and checks ------------------------------------------------------------ */

/*
 * Release everything held for @as: live mappings (bounce buffers are freed
 * without write-back, direct mappings drop their region references), map
 * clients, the pool itself. Called when the space is freed.
 */
static void map_destroy(ms_as *as)
{
	struct ms__map_pool *pool = as->map_pool;
	map_entry *e, *next_e;
	ms_map_client *c, *next_c;

	if (!pool)
		return;
	as->map_pool = NULL;
	cds_list_for_each_entry_safe (e, next_e, &pool->entries, link) {
		ms_region_unref(e->region); /* NULL for bounce buffers */
		free(e);
	}
	cds_list_for_each_entry_safe (c, next_c, &pool->waiting, link)
		free(c);
	cds_list_for_each_entry_safe (c, next_c, &pool->done, link)
		free(c);
	pool_free(pool);
}

/*
 * Debug checker (tests call it after operations): the pool invariants of
 * the header comment. Return: 0, or -EINVAL when one is broken.
 */
int ms__map_check(ms_as *as)
{
	struct ms__map_pool *pool = __atomic_load_n(&as->map_pool, __ATOMIC_ACQUIRE);
	const map_entry *e;
	const ms_map_client *c;
	uint64_t bounce_bytes = 0, seq = 0;
	int rc = 0;

	if (!pool)
		return 0;
	pthread_mutex_lock(&pool->lock);
	cds_list_for_each_entry (e, &pool->entries, link) {
		if (e->region)
			continue;
		if (e->buffer != (const void *)e->bounce || e->len == 0)
			rc = -EINVAL;
		bounce_bytes += e->len;
	}
	if (bounce_bytes != pool->used)
		rc = -EINVAL;
	cds_list_for_each_entry (c, &pool->waiting, link) {
		if (c->state != CLIENT_WAITING || c->seq <= seq || c->pool != pool)
			rc = -EINVAL;
		seq = c->seq;
	}
	cds_list_for_each_entry (c, &pool->done, link)
		if (c->state == CLIENT_WAITING || c->pool != pool)
			rc = -EINVAL;
	pthread_mutex_unlock(&pool->lock);
	return rc;
}

/* ---- DMA helpers ------------------------------------------------------------------ */

/*
 * What the device's doorbell write did before the DMA is visible to it:
 * liburcu's full barrier (GCC's ThreadSanitizer refuses
 * __atomic_thread_fence()).
 */
static void dma_barrier(void)
{
	cmm_smp_mb();
}

ms_result ms_as_dma_read(ms_as *as, uint64_t addr, void *buf, size_t len, ms_attrs attrs)
{
	dma_barrier();
	return ms_as_read(as, addr, attrs, buf, len);
}

ms_result ms_as_dma_write(ms_as *as, uint64_t addr, const void *buf, size_t len, ms_attrs attrs)
{
	dma_barrier();
	return ms_as_write(as, addr, attrs, buf, len);
}

ms_result ms_as_dma_set(ms_as *as, uint64_t addr, uint8_t byte, size_t len, ms_attrs attrs)
{
	dma_barrier();
	return ms_as_set(as, addr, attrs, byte, len);
}

ms_result ms_as_dma_rw(ms_as *as, uint64_t addr, void *buf, size_t len, ms_dma_direction dir)
{
	switch (dir) {
	case MS_DMA_TO_DEVICE:
		return ms_as_dma_read(as, addr, buf, len, MS_ATTRS_UNSPECIFIED);
	case MS_DMA_FROM_DEVICE:
		return ms_as_dma_write(as, addr, buf, len, MS_ATTRS_UNSPECIFIED);
	}
	return MS_RESULT_ACCESS_ERROR;
}
