/*
 * as.h: address spaces (as.c).
 *
 * An address space is a root region plus the view published for it. as.c
 * owns the objects, their list in the context, the flatview-root rule and
 * the reader entry points; the commit that replaces views (txn.c) and the
 * modules that hang DMA state off a space (map.c) are built on top.
 *
 * Locking: [lock] fields with the topology lock held; view is [rcu]:
 * published with ms__publish() and read with ms__deref() inside a
 * read-side section.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_AS_INT_H
#define MEMSPACE_AS_INT_H

#include "flatview.h"

struct ms__map_pool;

/* What modules built on address spaces release when one is freed, in order. */
typedef enum ms__as_free_stage {
	MS__AS_FREE_LISTENERS, /* listener.c: unregister what is left */
	MS__AS_FREE_MAP,       /* map.c: mappings, clients, the bounce pool */
	MS__AS_FREE_NR_STAGES
} ms__as_free_stage;

struct ms_as {
	ms_ctx *ctx;
	char *name;
	ms_region *root;    /* reference held */
	ms_region *fv_root; /* [lock] flatview root at the last commit */
	ms_flatview *view;  /* [rcu] reference held */
	bool free_pending;  /* [lock] ms_as_free() from a listener callback */
	/* [lock] set by a module when it first hangs state off the space */
	void (*on_free[MS__AS_FREE_NR_STAGES])(ms_as *as);
	/* [lock] listener.c: the coalesced windows and ioeventfds its listeners
	 * were last told of; NULL before the first listener. */
	struct ms__events *events;

	/* DMA map/unmap (map.c): the pool is created on first use (atomic
	 * pointer). */
	struct ms__map_pool *map_pool;
	size_t bounce_budget; /* atomic; 0 means MS_BOUNCE_BUDGET_DEFAULT */
};

/*
 * QEMU's flatview-root rule: the region whose render @mr's address space
 * shows (passing through enabled full-size aliases at offset 0 and
 * containers whose only enabled child sits at 0), or NULL when it renders
 * nothing. Lock held. Return: 0 or -ELOOP.
 */
int ms__as_flatview_root_of(ms_region **out, ms_region *mr);
/* Render @root in full into a new view (and count the render). 0, -ENOMEM, -ELOOP, -E2BIG. */
int ms__as_render_view(ms_flatview **out, ms_ctx *ctx, ms_region *root);
/* The shared view of address spaces that render nothing (exists once a space does). */
ms_flatview *ms__as_empty_view(ms_ctx *ctx);
/* Make @root the flatview root of @as (keeps the regions' user counts). Lock held. */
void ms__as_set_fv_root(ms_as *as, ms_region *root);
/*
 * Have ms_as_free() call @fn at @stage. Lock held, or (map.c's lock-free
 * pool creation) a relaxed atomic store that only the winner makes.
 */
void ms__as_on_free(ms_as *as, ms__as_free_stage stage, void (*fn)(ms_as *as));
/*
 * Free the spaces whose ms_as_free() came from a listener callback. Called
 * with the lock held once ctx->in_listener is clear and nothing of the
 * caller still indexes ctx->as.
 */
void ms__as_reap(ms_ctx *ctx);
/* Debug checker: every address space's view equals a fresh render. 0 or -EINVAL. */
int ms__as_check(ms_ctx *ctx);

#endif /* MEMSPACE_AS_INT_H */
