/*
 * ctx.h: the context, the bottom layer of the library.
 *
 * struct ms_ctx is one memory system. It holds the state of every module,
 * grouped below by the module that owns it; only that module writes it.
 * ctx.c provides what every module needs from the context and nothing
 * more: allocation (with fault injection), the topology lock, limits and
 * counters, and the context's lifetime, in which each module that hangs
 * state off the context registers its own teardown (ms__ctx_on_free()), so
 * the context never calls up into the modules built on it.
 *
 * Locking: fields marked [lock] are read and written with the topology lock
 * held; [atomic] ones with __atomic builtins.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CTX_INT_H
#define MEMSPACE_CTX_INT_H

#include <pthread.h>

#include "base.h"

struct ms__dirty;
struct ms__ramslabs;
struct ms__splice_scratch;

/*
 * Teardown stages of ms_ctx_free(), run in this order. Views dropped by the
 * stages before MS__FREE_REGIONS are reclaimed (an RCU barrier) before it.
 */
typedef enum ms__free_stage {
	MS__FREE_LISTENERS, /* listener.c */
	MS__FREE_AS,        /* as.c: address spaces, their views and DMA state */
	MS__FREE_TXN,       /* txn.c: pending change records */
	MS__FREE_SPLICE,    /* flatview.c: the buffers splices reuse */
	MS__FREE_REGIONS,   /* region.c: every region, whatever its references */
	MS__FREE_RAM,       /* ramblock.c: the slabs of small RAM blocks */
	MS__FREE_NR_STAGES
} ms__free_stage;

struct ms_ctx {
	pthread_mutex_t lock; /* the topology lock (recursive) */
	void (*on_free[MS__FREE_NR_STAGES])(ms_ctx *ctx);

	/* ctx.c: limits, counters, fault injection */
	uint64_t render_limit;     /* [lock] max ranges per render; 0 = default */
	uint64_t render_count;     /* [atomic] renders so far */
	uint64_t splice_count;     /* [atomic] renders that were windowed (txn.c) */
	uint64_t alloc_countdown;  /* [atomic] 0 = no fault injection */
	unsigned max_access_depth; /* [atomic] 0 = MS_ACCESS_DEPTH_DEFAULT */

	/* flatview.c: a splice's arrays, kept from one commit to the next */
	struct ms__splice_scratch *splice; /* [lock] made by the first splice */
	/* [atomic] blocks reclaimed on liburcu's thread, freed by the next
	 * commit (ms__ctx_reap()): a stack linked through each block's first word */
	void *garbage;

	/* ramblock.c: small anonymous RAM blocks, carved from shared slabs */
	struct ms__ramslabs *ramslabs; /* made with the first such block */

	/* region.c */
	ms_region *regions;        /* [lock] all live regions (doubly linked) */
	unsigned dirty_page_shift; /* [lock] of new RAM blocks' dirty bitmaps */
	bool made_ramblock;        /* [lock] a RAM block was created: the shift is fixed */

	/* as.c */
	ms_as **as; /* [lock] address spaces in creation order */
	size_t nr_as, cap_as;
	ms_flatview *empty_view; /* the shared view of NULL roots, made with the first space */

	/* listener.c */
	ms_listener **listeners; /* [lock] sorted by priority, then sequence */
	size_t nr_listeners, cap_listeners;
	uint64_t listener_seq;
	bool global_dirty_log;
	bool in_listener; /* [lock] listener callbacks are running: no topology change */
	/* [lock] regions with coalesced windows or ioeventfds (ioevent.c, region.c) */
	size_t nr_event_regions;
	bool events_dirty; /* [lock] they changed since the last commit */

	/* txn.c: transactions and the changes pending until the next commit */
	unsigned depth;      /* [lock] transaction nesting */
	ms_region **touched; /* [lock] regions changed since the last successful commit */
	size_t nr_touched, cap_touched;
	uint64_t touch_epoch; /* [lock] generation of the touched list */
	uint64_t epoch;       /* [lock] commit epoch for region marks */
	/* [lock] windows of flatview roots that pending changes may have
	 * altered; dirty_all when they are unknown or too many, and the touched
	 * views are then rendered in full. */
	struct ms__dirty *dirty;
	size_t nr_dirty, cap_dirty;
	bool dirty_all;

	/* migrate.c */
	bool precopy_running; /* [lock] an ms_precopy of this context is alive */
};

/* A list of dead blocks to free, linked through their first word. */
typedef struct ms__garbage {
	struct ms__garbage *next;
} ms__garbage;

/* Push the list @head .. @tail onto the context's garbage (any thread). */
void ms__ctx_defer_free(ms_ctx *ctx, ms__garbage *head, ms__garbage *tail);
/* Free the context's garbage (any thread: each call takes the whole list). */
void ms__ctx_reap(ms_ctx *ctx);

/* Allocation through the context, so tests can inject failures. */
void *ms__ctx_malloc(ms_ctx *ctx, size_t size);
void *ms__ctx_calloc(ms_ctx *ctx, size_t n, size_t size);
void *ms__ctx_realloc(ms_ctx *ctx, void *p, size_t size);
char *ms__ctx_strdup(ms_ctx *ctx, const char *s);
/* Grow *array (element size @elem) so it holds at least @need elements. */
int ms__ctx_grow(ms_ctx *ctx, void **array, size_t *cap, size_t need, size_t elem);
/* Fault injection: true when this allocation must fail. */
bool ms__ctx_inject_failure(ms_ctx *ctx);

void ms__ctx_lock(ms_ctx *ctx);
void ms__ctx_unlock(ms_ctx *ctx);

/*
 * Have ms_ctx_free() call @fn at @stage (a module does this when it first
 * hangs state off @ctx; calling it again is harmless). Lock held.
 */
void ms__ctx_on_free(ms_ctx *ctx, ms__free_stage stage, void (*fn)(ms_ctx *ctx));

/* Count a render; @windowed when it re-rendered windows of an old view. */
void ms__ctx_count_render(ms_ctx *ctx, bool windowed);

#endif /* MEMSPACE_CTX_INT_H */
