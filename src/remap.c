/*
 * remap.c: ms_as_remap() - guest RAM ranges of an address space mapped a
 * second time, side by side, into one contiguous host range.
 *
 * The ranges are resolved in the address space's current view inside an
 * RCU read-side section. Every byte must be writable RAM whose block maps
 * a shared fd, since only a shared mapping can be mapped again with the
 * same pages; the pieces of one region at contiguous offsets are merged,
 * and each piece takes a reference on its region while the view still
 * holds one. The host range is made after the section: a PROT_NONE
 * reservation of the total length, then one MAP_SHARED | MAP_FIXED mapping
 * of the block's fd per piece over it. A failure unmaps the reservation
 * whole and drops the references taken, so nothing is left behind.
 *
 * Invariant of a live remap: the pieces are in host order, contiguous,
 * each a multiple of its block's page size, and cover [base, base + len).
 * The library never writes through the host range, so dirty logging does
 * not see writes made there.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "as.h"

/* One mapping of the host range. */
typedef struct remap_piece {
	ms_region *region;  /* reference held until ms_remap_free() */
	uint64_t fd_offset; /* where the piece starts in the region's block fd */
	uint64_t pos;       /* where it starts in the host range */
	uint64_t len;
} remap_piece;

struct ms_remap {
	ms_ctx *ctx;
	uint8_t *base; /* NULL until mapped */
	uint64_t len;
	remap_piece *pieces;
	size_t nr_pieces, cap_pieces;
};

static uint64_t host_page_size(void)
{
	long sz = sysconf(_SC_PAGESIZE);

	return sz > 0 ? (uint64_t)sz : 4096;
}

/*
 * Add the @take bytes at @addr of flat range @r, which land at @pos of the
 * host range: check that they can be mapped again and append (or extend)
 * a piece. Inside the RCU read-side section that found @r.
 * Return: 0, -EFAULT, -ENOTSUP, -EINVAL or -ENOMEM.
 */
static int add_piece(ms_remap *m, const ms__range *r, uint64_t addr, uint64_t take, uint64_t pos)
{
	ms_region *mr = r->region;
	const ms__ramblock *rb = mr->rb;
	uint64_t fd_offset;
	remap_piece *last;
	int rc;

	/* ROM, ROM and RAM devices, I/O and IOMMU regions are not plain RAM;
	 * the range's flag carries a readonly region or alias on the path. */
	if (mr->kind != MS_REGION_RAM && mr->kind != MS_REGION_RAM_PTR)
		return -EFAULT;
	if (r->flags & MS__RANGE_READONLY)
		return -EFAULT;
	if (!rb || rb->fd < 0 || !rb->shared || !mr->ram)
		return -ENOTSUP; /* anonymous, private file, caller's pointer, layout only */
	fd_offset = rb->fd_offset + r->offset_in_region + (addr - r->start);
	if (fd_offset % rb->page_size || take % rb->page_size || pos % rb->page_size)
		return -EINVAL;
	last = m->nr_pieces ? &m->pieces[m->nr_pieces - 1] : NULL;
	if (last && last->region == mr && last->fd_offset + last->len == fd_offset &&
	    last->pos + last->len == pos) {
		last->len += take;
		return 0;
	}
	rc = ms__ctx_grow(m->ctx, (void **)&m->pieces, &m->cap_pieces, m->nr_pieces + 1,
			  sizeof(*m->pieces));
	if (rc < 0)
		return rc;
	m->pieces[m->nr_pieces++] = (remap_piece){ms_region_ref(mr), fd_offset, pos, take};
	return 0;
}

/*
 * Resolve the @len bytes at @addr of @view, landing at @pos of the host
 * range, into pieces. Inside an RCU read-side section.
 */
static int collect(ms_remap *m, const ms_flatview *view, uint64_t addr, uint64_t len, uint64_t pos)
{
	while (len) {
		const ms__range *r = ms__dispatch_lookup(view, addr);
		uint64_t take;
		int rc;

		if (!r)
			return -EFAULT; /* a hole */
		/* len - 1 and r->last - addr cannot overflow, unlike the ends. */
		take = r->last - addr >= len - 1 ? len : r->last - addr + 1;
		rc = add_piece(m, r, addr, take, pos);
		if (rc < 0)
			return rc;
		addr += take;
		pos += take;
		len -= take;
	}
	return 0;
}

/* Reserve the host range and map every piece over it. 0 or a negative errno. */
static int map_pieces(ms_remap *m)
{
	uint64_t page = host_page_size(), align = page;
	size_t len = (size_t)m->len, slack;
	uint8_t *res, *base;
	size_t i;

	for (i = 0; i < m->nr_pieces; i++)
		if (m->pieces[i].region->rb->page_size > align)
			align = m->pieces[i].region->rb->page_size;
	/* Huge-page pieces need MAP_FIXED addresses aligned to their page. */
	slack = align > page ? (size_t)align : 0;
	if (ms__ctx_inject_failure(m->ctx))
		return -ENOMEM;
	res = mmap(NULL, len + slack, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		   0);
	if (res == MAP_FAILED)
		return -ENOMEM;
	base = res;
	if (slack) {
		base = (uint8_t *)(((uintptr_t)res + slack - 1) & ~((uintptr_t)slack - 1));
		if (base > res)
			munmap(res, (size_t)(base - res));
		if (res + slack > base)
			munmap(base + len, (size_t)(res + slack - base));
	}
	for (i = 0; i < m->nr_pieces; i++) {
		const remap_piece *p = &m->pieces[i];
		int rc = 0;

		if (ms__ctx_inject_failure(m->ctx))
			rc = -ENOMEM;
		else if (mmap(base + p->pos, (size_t)p->len, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_FIXED, p->region->rb->fd,
			      (off_t)p->fd_offset) == MAP_FAILED)
			rc = errno ? -errno : -ENOMEM;
		if (rc < 0) {
			munmap(base, len); /* the pieces mapped so far go with it */
			return rc;
		}
	}
	m->base = base;
	return 0;
}

/* Unmap what is mapped, drop the references, free @m. Outside RCU sections. */
static void remap_release(ms_remap *m)
{
	size_t i;

	if (m->base)
		munmap(m->base, (size_t)m->len);
	for (i = 0; i < m->nr_pieces; i++)
		ms_region_unref(m->pieces[i].region);
	free(m->pieces);
	free(m);
}

int ms_as_remap(ms_remap **out, ms_as *as, const ms_ram_range *ranges, size_t n)
{
	uint64_t page = host_page_size(), total = 0, pos = 0;
	ms_remap *m;
	size_t i;
	int rc = 0;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!as || !ranges || n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		uint64_t addr = ranges[i].addr, len = ranges[i].len;

		if (len == 0 || addr % page || len % page || len - 1 > UINT64_MAX - addr ||
		    len > UINT64_MAX - total)
			return -EINVAL;
		total += len;
	}
	if (total > (uint64_t)(SIZE_MAX / 2))
		return -ENOMEM;
	m = ms__ctx_calloc(as->ctx, 1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->ctx = as->ctx;
	m->len = total;
	ms__rcu_read_lock();
	{
		const ms_flatview *view = ms__deref(as->view);

		for (i = 0; i < n && rc == 0; i++) {
			rc = collect(m, view, ranges[i].addr, ranges[i].len, pos);
			pos += ranges[i].len;
		}
	}
	ms__rcu_read_unlock();
	if (rc == 0)
		rc = map_pieces(m);
	if (rc < 0) {
		remap_release(m);
		return rc;
	}
	*out = m;
	return 0;
}

void *ms_remap_ptr(const ms_remap *m)
{
	return m ? m->base : NULL;
}

uint64_t ms_remap_len(const ms_remap *m)
{
	return m ? m->len : 0;
}

void ms_remap_free(ms_remap *m)
{
	if (m)
		remap_release(m);
}
