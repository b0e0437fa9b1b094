/*
 * memspace: flat views.
 *
 * A flat view is the rendering of one root region: a sorted list of
 * disjoint ranges, each mapping a piece of the address space to a piece of
 * one terminating region. Views are immutable and reference counted; get
 * one from an address space (as.h) and walk or search it with these calls.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_FLATVIEW_H
#define MEMSPACE_FLATVIEW_H

#include <errno.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct ms_section - one range of a flat view.
 * @region: the terminating region that answers there (never an alias or
 *          a container). Borrowed: valid as long as the view is held.
 * @start: first address of the range in the address space.
 * @last: last address (inclusive), so a range may cover all 2^64 bytes.
 * @size: the range's bytes, last - start + 1; MS_SIZE_2_64 for the range
 *        that covers all 2^64 bytes (the convention of region sizes).
 * @offset_in_region: offset inside @region that @start maps to.
 * @readonly: writes are ignored (inherited from the path to the region).
 * @nonvolatile: inherited nonvolatile flag.
 * @unmergeable: inherited unmergeable flag.
 * @romd: the region was a ROM device in romd mode when rendered.
 * @dirty_log_mask: the region's dirty-logging clients when rendered.
 * @as: in listener callbacks, the address space the section belongs to (the
 *      one the listener follows); NULL from the flat-view calls, since one
 *      view may be shared by several address spaces.
 */
typedef struct ms_section {
	ms_region *region;
	uint64_t start;
	uint64_t last;
	uint64_t offset_in_region;
	bool readonly;
	bool nonvolatile;
	bool unmergeable;
	bool romd;
	uint8_t dirty_log_mask;
	uint64_t size;
	ms_as *as;
} ms_section;

/* Flags of a flat entry (struct ms_flat_entry::flags). */
#define MS_FLAT_READONLY (1u << 0)    /* writes are ignored */
#define MS_FLAT_NONVOLATILE (1u << 1) /* inherited nonvolatile flag */
#define MS_FLAT_UNMERGEABLE (1u << 2) /* inherited unmergeable flag */
#define MS_FLAT_ROMD (1u << 3)        /* a ROM device in romd mode */
/*
 * Reads of the range are plain loads at @host, whatever their attributes:
 * RAM, ROM and RAM at a caller's pointer that have host memory. A ROM
 * device in romd mode (MS_FLAT_ROMD) is read from @host too, but only by
 * accesses without the memory attribute, so it does not carry this flag.
 */
#define MS_FLAT_HOST_READ (1u << 4)

/**
 * struct ms_flat_entry - one range of a flat view as the lookup index stores
 * it: what an access needs, without touching the region.
 * @start: first address of the range.
 * @last: last address (inclusive).
 * @offset_in_region: offset inside @region that @start maps to.
 * @region: the terminating region that answers there. Borrowed: valid as
 *          long as the view is held.
 * @host: host address of @start when @region has host memory that plain
 *        loads and stores may reach (RAM, ROM, RAM at a caller's pointer,
 *        ROM devices whatever their mode), NULL otherwise (devices, RAM
 *        devices, IOMMUs, layout-only RAM). Reading through it is what a
 *        read of the range does when @kind is RAM, ROM or RAM pointer, or a
 *        ROM device with MS_FLAT_ROMD; writing through it bypasses dirty
 *        logging and read-only flags: go through ms_as_write() for writes.
 * @flags: MS_FLAT_* flags, inherited from the path to the region.
 * @dirty_log_mask: the region's dirty-logging clients when rendered.
 * @kind: the region's kind (an ms_region_kind), copied.
 *
 * Entries are immutable: a commit publishes a new view with new entries.
 */
typedef struct ms_flat_entry {
	uint64_t start;
	uint64_t last;
	uint64_t offset_in_region;
	ms_region *region;
	uint8_t *host;
	uint8_t flags;
	uint8_t dirty_log_mask;
	uint8_t kind;
} ms_flat_entry;

/** ms_flatview_ref - take another reference. Return: @fv. Context: any thread. */
MS_API ms_flatview *ms_flatview_ref(ms_flatview *fv);

/**
 * ms_flatview_unref - drop a reference; the last one frees the view after
 * an RCU grace period. @fv may be NULL. Context: any thread.
 */
MS_API void ms_flatview_unref(ms_flatview *fv);

/** ms_flatview_nr_ranges - number of ranges. Context: any thread. */
MS_API size_t ms_flatview_nr_ranges(const ms_flatview *fv);

/**
 * ms_flatview_range - describe range @index (0-based, in address order).
 * Return: 0, or -ERANGE when @index is out of bounds or @out or @fv is NULL.
 * Context: any thread.
 */
MS_API int ms_flatview_range(ms_section *out, const ms_flatview *fv, size_t index);

/**
 * ms_flatview_root - the region this view was rendered from, or NULL for the
 * empty view of address spaces whose flatview root is NULL.
 */
MS_API ms_region *ms_flatview_root(const ms_flatview *fv);

/**
 * ms_flatview_find - the range containing @addr, whole: @out->start may lie
 * below @addr (ms_as_translate() instead clips the section to start at the
 * address it was asked about).
 *
 * Calls compile to ms_flatview_find_inline() (a macro), which the caller's
 * compiler reduces to the look-up and the fields the caller reads; this
 * exported function does the same out of line, for bindings and for calls
 * that take its address or name it in parentheses: (ms_flatview_find)(...).
 * Return: 0 and fills @out, -ENOENT when nothing is mapped there, or -EINVAL
 * when @out or @fv is NULL.
 * Context: any thread, lock-free.
 */
MS_API int ms_flatview_find(ms_section *out, const ms_flatview *fv, uint64_t addr);

/**
 * ms_flatview_lookup - the lean look-up for hot paths: the entry containing
 * @addr, or NULL when nothing is mapped there (or @fv is NULL). Unlike
 * ms_flatview_find() it copies nothing: the entry lives in the view.
 * Return: a pointer valid as long as the view is held.
 * Context: any thread, lock-free.
 */
MS_API const ms_flat_entry *ms_flatview_lookup(const ms_flatview *fv, uint64_t addr);

/**
 * ms_flat_entry_section - describe @e, an entry of a flat view, as the
 * section ms_flatview_find() returns (@out->as is NULL).
 * @out: the section to fill; must not be NULL.
 * @e: an entry from ms_flatview_lookup(); must not be NULL. The section
 *     borrows @e's region as the entry does: valid while the view is held.
 * A field-by-field copy with no check of its own: the callers that can
 * get NULL (ms_flatview_find()) test it first.
 * Context: any thread; reads @e and writes @out, nothing else.
 */
static inline void ms_flat_entry_section(ms_section *out, const ms_flat_entry *e)
{
	out->region = e->region;
	out->start = e->start;
	out->last = e->last;
	out->offset_in_region = e->offset_in_region;
	out->readonly = (e->flags & MS_FLAT_READONLY) != 0;
	out->nonvolatile = (e->flags & MS_FLAT_NONVOLATILE) != 0;
	out->unmergeable = (e->flags & MS_FLAT_UNMERGEABLE) != 0;
	out->romd = (e->flags & MS_FLAT_ROMD) != 0;
	out->dirty_log_mask = e->dirty_log_mask;
	/* 2^64 bytes, the whole space, is MS_SIZE_2_64 as for regions */
	out->size = e->last - e->start == UINT64_MAX ? MS_SIZE_2_64 : e->last - e->start + 1;
	out->as = NULL;
}

/**
 * ms_flatview_find_inline - ms_flatview_find() compiled into the caller: the
 * look-up (ms_flatview_lookup()), then ms_flat_entry_section(). Where
 * @out is the caller's own variable, its compiler keeps only the fields
 * the caller reads.
 * @out: filled on success, untouched otherwise.
 * @fv: the view, held by the caller.
 * @addr: the address to look up.
 * Return: 0, -ENOENT when nothing is mapped at @addr, -EINVAL when @out or
 * @fv is NULL (as ms_flatview_find()).
 * Context: any thread, lock-free.
 */
static inline int ms_flatview_find_inline(ms_section *out, const ms_flatview *fv, uint64_t addr)
{
	const ms_flat_entry *e;

	if (!out)
		return -EINVAL;
	e = ms_flatview_lookup(fv, addr); /* NULL for a NULL @fv too */
	if (!e)
		return fv ? -ENOENT : -EINVAL;
	ms_flat_entry_section(out, e);
	return 0;
}

/**
 * ms_flatview_find - calls of ms_flatview_find() are calls of
 * ms_flatview_find_inline(); the exported function above stays reachable
 * as (ms_flatview_find)(out, fv, addr) and through its address.
 */
#define ms_flatview_find(out, fv, addr) ms_flatview_find_inline((out), (fv), (addr))

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_FLATVIEW_H */
