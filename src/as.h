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

struct ms_as {
	ms_ctx *ctx;
	char *name;
	ms_region *root;     /* reference held */
	ms_region *fv_root;  /* [lock] flatview root at the last commit */
	ms_flatview *view;   /* [rcu] reference held */
	size_t nr_listeners; /* [lock] listeners registered on it (listener.c) */

	/* DMA map/unmap (map.c): the pool is created on first use (atomic
	 * pointer) and freed by map_destroy with the space. */
	struct ms__map_pool *map_pool;
	void (*map_destroy)(ms_as *as);
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
/* Debug checker: every address space's view equals a fresh render. 0 or -EINVAL. */
int ms__as_check(ms_ctx *ctx);

#endif /* MEMSPACE_AS_INT_H */
