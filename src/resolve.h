/*
 * resolve.h: where an access goes (resolve.c) - from an address space's
 * view through every IOMMU on the way to what finally answers, piece by
 * piece. The access engine (access.c), DMA mapping (map.c), region caches
 * (cache.c) and ms_as_get_iotlb_entry() all resolve through this one walk.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_RESOLVE_H
#define MEMSPACE_RESOLVE_H

#include "iommu.h"

/*
 * One address space on the path of a piece: the one the walk started in
 * (depth 0), then the target of each IOMMU translated on the way. Levels
 * live on the walk's stack, linked innermost first, and are valid only
 * while the callback that receives them runs.
 */
typedef struct ms__resolve_level {
	ms_as *as;
	const ms_flatview *view;
	/* The IOMMU translated in this view on the way to the piece (for the
	 * piece's own level: NULL, or the IOMMU whose translation failed), and
	 * its notification count, read before it translated. */
	const ms_region *iommu;
	uint64_t gen;
	/* What the path grants on reaching this view: the smallest page mask
	 * (UINT64_MAX at depth 0) and the intersection of the permissions
	 * (MS_IOMMU_RW at depth 0). */
	uint64_t mask;
	ms_iommu_perm perm;
	unsigned depth;
	const struct ms__resolve_level *outer; /* NULL at depth 0 */
	/* Private to resolve.c: the translations that led here (NULL at depth 0). */
	const ms__iommu_hop *hops;
} ms__resolve_level;

typedef enum ms__piece_kind {
	MS__PIECE_RANGE, /* a range of the view answers (any kind but an IOMMU with a class) */
	MS__PIECE_HOLE,  /* nothing answers: a hole, or past the top of the address space */
	MS__PIECE_FAULT, /* an IOMMU translation failed */
} ms__piece_kind;

/* A stretch of the walk that ends in one place. */
typedef struct ms__piece {
	ms__piece_kind kind;
	int error; /* FAULT: what ms__iommu_translate_hop() returned */
	/* RANGE: the range that answers; FAULT: the IOMMU's range; HOLE: NULL. */
	const ms__range *range;
	/* Where the piece ends, and the path there; NULL unless the walk records. */
	const ms__resolve_level *level;
	uint64_t addr; /* first address of the piece in the view where it ends */
	uint64_t pos;  /* offset of its first byte from the start of the walk */
	/* Bytes of the piece (at least 1): clamped to its range or hole and to
	 * every IOMMU page on the path. */
	uint64_t len;
	/* Bytes from @addr on that reach that view contiguously: like @len,
	 * but not clamped to the range, so callers can extend over following
	 * ranges (>= @len). */
	uint64_t stretch;
} ms__piece;

/* Called for each piece in address order; non-zero stops the walk. */
typedef int (*ms__piece_fn)(const ms__piece *piece, void *arg);

/* How to walk: the access the caller means to make, and where pieces go. */
typedef struct ms__walk {
	bool is_write; /* with @attrs: the permission and index of every IOMMU */
	ms_attrs attrs;
	/* Record the path of every piece in its levels (ms__resolve());
	 * without, pieces come with level NULL and the walk does less. */
	bool record;
	/* Optional: what ms__dispatch_lookup() returned for the first address
	 * in the first view, when the caller has looked it up already. */
	const ms__range *first;
	ms__piece_fn fn;
	void *arg;
	/* Optional: where the last piece goes, instead of to @fn (with level
	 * NULL). Nothing happens in the walk after its last piece, so the
	 * caller may as well handle it after the walk returns 0; then a walk
	 * of one piece, as nearly every access is, makes no indirect call. */
	ms__piece *last;
} ms__walk;

/*
 * Resolve the @len (>= 1) bytes at @addr of @as (view @view) for @w: hand
 * every piece, in address order, to w->fn (the last one to *w->last when
 * w->last is not NULL). An IOMMU region with a class is
 * translated page by page (cycles and chains that are too long fail) and
 * each page continues in its target address space, where the walk starts
 * over; the translation of a page happens after w->fn has had every piece
 * before it. A translation that fails makes one FAULT piece of the rest of
 * that IOMMU's range. Inside an RCU read-side section; w->fn may make
 * accesses of its own.
 * Return: 0 (every piece handed out), or the first non-zero value of w->fn
 * (the walk stopped there, *w->last untouched).
 */
int ms__resolve_walk(const ms__walk *w, ms_as *as, const ms_flatview *view, uint64_t addr,
		     uint64_t len);

/* One address space passed on the way to a final range (ms__resolve()). */
typedef struct ms__resolve_hop {
	ms_as *as;
	const ms_flatview *view;
	const ms_region *iommu; /* the IOMMU translated in this view, or NULL at the end */
	uint64_t gen;           /* its notification count, read before translating */
} ms__resolve_hop;

/*
 * What an access of @len (>= 1) bytes at @addr of @as (view @view) reaches
 * first, through every IOMMU: the first piece of ms__resolve_walk(). That
 * is the final range (NULL in a hole), the address in the final view, how
 * many of the @len bytes get there contiguously (clamped to every IOMMU
 * page on the path, and in a hole to the hole; not to the final range, so
 * callers can extend over following ranges), the smallest page mask and
 * the intersection of the permissions on the path.
 * An IOMMU region without a class is a final range like any other.
 * When @hops is not NULL, up to @max_hops address spaces passed are stored
 * there (the last one is where the path ends) and their number in @nr_hops
 * (which may exceed @max_hops). Inside an RCU read-side section.
 * Return: 0 (also in a hole: range NULL); the errors of ms__iommu_translate_hop().
 */
typedef struct ms__resolved {
	const ms__range *range;
	ms_as *as;
	const ms_flatview *view;
	uint64_t addr;
	uint64_t len;
	uint64_t mask;
	ms_iommu_perm perm;
	bool translated; /* at least one IOMMU on the path */
} ms__resolved;

int ms__resolve(ms__resolved *out, ms_as *as, const ms_flatview *view, uint64_t addr, uint64_t len,
		bool is_write, ms_attrs attrs, ms__resolve_hop *hops, size_t max_hops,
		size_t *nr_hops);

#endif /* MEMSPACE_RESOLVE_H */
