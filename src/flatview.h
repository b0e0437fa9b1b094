/*
 * flatview.h: flat views and their lookup (flatview.c, dispatch.c).
 *
 * A flat view is the immutable, reference-counted rendering of one root
 * region plus its lookup index. Other modules see views only through these
 * calls; the chunked layout is private to flatview.c and dispatch.c
 * (flatview_int.h).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_FLATVIEW_INT_H
#define MEMSPACE_FLATVIEW_INT_H

#include "render.h"

/* Position of a range in a view, for walking it in order; start at {0}. */
typedef struct ms__fvpos {
	size_t seg, chunk, index;
} ms__fvpos;

/* Build a view from rendered ranges (copies them; takes references on the
 * root and every region). 0 or -ENOMEM. */
int ms__flatview_new(ms_flatview **out, ms_ctx *ctx, ms_region *root, const ms__range *ranges,
		     size_t nr);

/* A window of a view to re-render: [lo, hi] with the ranges rendered there. */
typedef struct ms__window {
	uint64_t lo, hi;
	ms__range *ranges;
	size_t nr;
} ms__window;

/*
 * Build the view that equals @old except inside the windows (sorted,
 * disjoint), where it has their rendered ranges; shares @old's chunks
 * outside them. Return: 0, -ENOMEM, or -EAGAIN when the result would not
 * equal a full render (an unmergeable range meets a window edge): the
 * caller then renders in full.
 */
int ms__flatview_splice(ms_flatview **out, const ms_flatview *old, ms_region *root,
			const ms__window *windows, size_t nr_windows);

/*
 * Take a reference on a view found through rcu_dereference() unless its
 * count already dropped to 0: a commit replaced it and call_rcu frees it
 * when the caller's read-side section ends. Return: whether it was taken.
 */
bool ms__flatview_tryref(ms_flatview *fv);

/*
 * The range containing @addr, or NULL (dispatch.c). The access path's
 * look-up: any thread, the view held (reference or RCU read-side section).
 * The access path itself compiles its inline form, ms__dispatch_find()
 * (flatview_int.h), into its loop.
 */
const ms__range *ms__dispatch_lookup(const ms_flatview *fv, uint64_t addr);
/* The first range starting after @addr, or NULL (dispatch.c). */
const ms__range *ms__dispatch_next_after(const ms_flatview *fv, uint64_t addr);
/* The range at sorted position @i (< the number of ranges). */
const ms__range *ms__flatview_at(const ms_flatview *fv, size_t i);

/*
 * Walk a view in order: for (ms__fvpos p = {0}; (r = ms__flatview_next(fv, &p));).
 * ms__flatview_peek() returns the range at @p without moving (NULL at the end,
 * or when @fv is NULL).
 */
const ms__range *ms__flatview_next(const ms_flatview *fv, ms__fvpos *p);
const ms__range *ms__flatview_peek(const ms_flatview *fv, const ms__fvpos *p);
/*
 * When @pa and @pb both stand at the start of the same shared segment or
 * chunk of @a and @b, move both past it and return true: the ranges it
 * holds are equal in both views (a listener difference skips them).
 */
bool ms__flatview_skip_shared(const ms_flatview *a, ms__fvpos *pa, const ms_flatview *b,
			      ms__fvpos *pb);

/*
 * The shape of a view's lookup index (dispatch.c), for `info mtree -d`:
 * its chunks, and the levels of the static index over their first starts.
 * ms__dispatch_chunk() gives chunk @c's first range's sorted position and
 * number of ranges (@c < *nr_chunks).
 */
void ms__dispatch_shape(const ms_flatview *fv, size_t *nr_chunks, unsigned *nr_levels);
void ms__dispatch_chunk(const ms_flatview *fv, size_t c, size_t *first, size_t *nr);

/* The public section that describes @r. */
void ms__flatview_section(ms_section *s, const ms__range *r);

/* Invariant checker: sorted, disjoint, non-empty, merged, chunks consistent. 0 or -EINVAL. */
int ms__flatview_check(const ms_flatview *fv);

#endif /* MEMSPACE_FLATVIEW_INT_H */
