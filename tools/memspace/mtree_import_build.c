/*
 * memspace CLI, mtree importer pass 4: the library objects of a dump.
 *
 * Creates one region per identity region (non-aliases first, then each alias
 * after its target), places children in their container's subregion list
 * order (rule I8: priority, then address descending, then print order) and
 * creates the address spaces in file order. Regions are created inside one
 * transaction; on any failure msc_mtree_rollback() removes everything made.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mtree_import_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buffer.h"

static uint64_t romd_read(uint64_t addr, unsigned size, void *opaque)
{
	(void)addr;
	(void)size;
	(void)opaque;
	return 0;
}

static void romd_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

/* ROM devices of a dump: reads come from their RAM (romd mode), writes are dropped. */
static const ms_region_ops romd_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = romd_read,
	.write = romd_write,
	.endianness = MS_ENDIAN_LITTLE,
};

static const char *errname(int rc)
{
	return rc == -ENOMEM ? "out of memory" : strerror(-rc);
}

static int lib_fail(struct importer *im, const struct printing *p, const char *what, int rc)
{
	msc_mtree_fail(im, p->line, p->name_col, "cannot %s region %s: %s", what,
		       msc_mtree_qname(im, 0, p), errname(rc));
	return rc;
}

static int add_extra(struct importer *im, ms_region *r)
{
	if (msc_grow((void **)&im->extra, &im->cap_extra, im->nr_extra, sizeof(*im->extra), 8) < 0)
		return -ENOMEM;
	im->extra[im->nr_extra++] = r;
	return 0;
}

/*
 * A `ram` or `rom` region of the dump: with memory, or layout only
 * (MSC_MTREE_LAYOUT_ONLY, or MSC_MTREE_LAYOUT_FALLBACK when the host
 * cannot back it, with a warning).
 */
static int new_ram(struct importer *im, const struct printing *p, ms_region **out, const char *name)
{
	ms_ram_opts opts = {
		.name = name,
		.size = p->size,
		.backend = MS_RAM_ANON,
		.flags = p->kind == KIND_ROM ? MS_RAM_ROM : 0,
		.fd = -1,
	};
	char size[24];
	int rc;

	if (p->size == MS_SIZE_2_64)
		snprintf(size, sizeof(size), "2^64");
	else
		snprintf(size, sizeof(size), "0x%" PRIx64, p->size);
	if (!(im->flags & MSC_MTREE_LAYOUT_ONLY)) {
		rc = ms_region_new_ram_with(out, im->ctx, &opts);
		if (rc != -ENOMEM || !(im->flags & MSC_MTREE_LAYOUT_FALLBACK))
			return rc;
	}
	opts.backend = MS_RAM_NONE;
	rc = ms_region_new_ram_with(out, im->ctx, &opts);
	if (rc == 0 && !(im->flags & MSC_MTREE_LAYOUT_ONLY))
		msc_mtree_warn(im, p->line, p->name_col,
			       "region %s: this host cannot back its %s bytes of memory; "
			       "loaded layout only (accesses to it fail)",
			       msc_mtree_qname(im, 0, p), size);
	return rc;
}

static int create_one(struct importer *im, size_t idx)
{
	struct region *r = &im->rg[idx];
	const struct printing *p = &im->pr[r->rep];
	char *name = malloc(p->name_len + 1);
	ms_region *backing = NULL;
	int rc;

	if (!name)
		return msc_mtree_nomem(im);
	memcpy(name, p->name, p->name_len);
	name[p->name_len] = '\0';
	if (p->is_alias) {
		rc = ms_region_new_alias(&r->mr, im->ctx,
					 &(ms_region_alias_opts){.name = name,
								 .target = im->rg[r->target].mr,
								 .offset = p->alias_offset,
								 .size = p->size});
	} else {
		switch (p->kind) {
		case KIND_RAM:
		case KIND_ROM:
			rc = new_ram(im, p, &r->mr, name);
			break;
		case KIND_ROMD:
			rc = ms_region_new_rom_device(&r->mr, im->ctx,
						      &(ms_region_io_opts){.name = name,
									   .size = p->size,
									   .ops = &romd_ops});
			break;
		case KIND_RAMD:
			rc = ms_region_new_ram(&backing, im->ctx, name, p->size);
			if (rc == 0 && (rc = add_extra(im, backing)) < 0)
				ms_region_unref(backing);
			if (rc == 0)
				rc = ms_region_new_ram_device(&r->mr, im->ctx, name, p->size,
							      ms_region_ram_ptr(backing));
			break;
		default:
			if ((r->flags & ANN_CONTAINER) ||
			    (!(r->flags & ANN_IO) && p->nr_children > 0))
				rc = ms_region_new_container(&r->mr, im->ctx, name, p->size);
			else
				rc = ms_region_new_io(&r->mr, im->ctx,
						      &(ms_region_io_opts){.name = name,
									   .size = p->size,
									   .ops = NULL});
			break;
		}
	}
	free(name);
	if (rc < 0)
		return lib_fail(im, p, "create", rc);
	if ((p->disabled && (rc = ms_region_set_enabled(r->mr, false)) < 0) ||
	    ((r->flags & ANN_READONLY) && (rc = ms_region_set_readonly(r->mr, true)) < 0) ||
	    (p->nonvolatile && (rc = ms_region_set_nonvolatile(r->mr, true)) < 0) ||
	    ((r->flags & ANN_UNMERGEABLE) && (rc = ms_region_set_unmergeable(r->mr, true)) < 0))
		return lib_fail(im, p, "configure", rc);
	return 0;
}

static int create_regions(struct importer *im)
{
	size_t i;
	int rc;

	/* Non-aliases first, then each alias after its target (chains are acyclic). */
	for (i = 0; i < im->nr_rg; i++)
		if (!im->pr[im->rg[i].rep].is_alias && (rc = create_one(im, i)) < 0)
			return rc;
	for (i = 0; i < im->nr_rg; i++) {
		while (!im->rg[i].mr) {
			size_t r = i;

			while (!im->rg[im->rg[r].target].mr)
				r = im->rg[r].target;
			if ((rc = create_one(im, r)) < 0)
				return rc;
		}
	}
	return 0;
}

/* A child printing with the keys of its place in the subregion list (rule I8). */
struct list_key {
	int priority;
	uint64_t addr;
	size_t printing; /* printings number in file order, so this is print order */
};

/* Priority descending, then address descending, then print order. */
static int cmp_list_order(const void *pa, const void *pb)
{
	const struct list_key *a = pa, *b = pb;

	if (a->priority != b->priority)
		return a->priority > b->priority ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr > b->addr ? -1 : 1;
	return a->printing < b->printing ? -1 : a->printing > b->printing;
}

static int place_regions(struct importer *im)
{
	size_t i;
	int rc;

	for (i = 0; i < im->nr_rg; i++) {
		struct region *r = &im->rg[i];
		const struct printing *p = &im->pr[r->rep];
		struct list_key *kids;
		size_t ch, nr = 0;

		if (r->container == NONE) {
			/*
			 * A top region without printed container: its address shows on
			 * the top line; a priority other than 0 means QEMU had it in a
			 * container that is not printed, so give it one.
			 */
			if (p->priority != 0) {
				ms_region *hidden;

				rc = ms_region_new_container(&hidden, im->ctx,
							     "(container not in the dump)",
							     MS_SIZE_2_64);
				if (rc < 0)
					return lib_fail(im, p, "place", rc);
				if ((rc = add_extra(im, hidden)) < 0) {
					ms_region_unref(hidden);
					return msc_mtree_nomem(im);
				}
				rc = ms_region_add_subregion_overlap(hidden, p->addr, r->mr,
								     p->priority);
			} else {
				rc = ms_region_set_address(r->mr, p->addr);
			}
			if (rc < 0)
				return lib_fail(im, p, "place", rc);
		}
		if (!p->nr_children)
			continue;
		/*
		 * I8: the list order is priority descending, then address
		 * descending, then print order. A child goes before the siblings of
		 * its priority that are already in the list, so adding the children
		 * in the reverse of that order rebuilds it.
		 */
		kids = malloc(p->nr_children * sizeof(*kids));
		if (!kids)
			return msc_mtree_nomem(im);
		for (ch = p->first_child; ch != NONE; ch = im->pr[ch].next_sibling) {
			kids[nr].priority = im->pr[ch].priority;
			kids[nr].addr = im->pr[ch].addr;
			kids[nr].printing = ch;
			nr++;
		}
		qsort(kids, nr, sizeof(*kids), cmp_list_order);
		while (nr-- > 0) {
			const struct printing *k = &im->pr[kids[nr].printing];
			struct region *kr = &im->rg[k->region];

			rc = ms_region_add_subregion_overlap(r->mr, k->addr, kr->mr, k->priority);
			if (rc < 0) {
				free(kids);
				return lib_fail(im, k, "place", rc);
			}
			kr->added = true;
		}
		free(kids);
	}
	return 0;
}

static int create_address_spaces(struct importer *im)
{
	size_t b, j;
	int rc;

	im->as = malloc((im->nr_names + 1) * sizeof(*im->as));
	if (!im->as)
		return msc_mtree_nomem(im);
	for (b = 0; b < im->nr_blk; b++) {
		const struct block *bk = &im->blk[b];
		ms_region *root = im->rg[im->pr[bk->top].region].mr;

		for (j = 0; j < bk->nr_names; j++) {
			const struct as_name *an = &im->names[bk->first_name + j];
			char *name = malloc(an->len + 1);

			if (!name)
				return msc_mtree_nomem(im);
			memcpy(name, an->name, an->len);
			name[an->len] = '\0';
			rc = ms_as_new(&im->as[im->nr_as], im->ctx, root, name);
			free(name);
			if (rc == -ELOOP) {
				msc_mtree_fail(
					im, an->line, 16,
					"address space %s: its view nests deeper than %d regions "
					"(an alias leads back into its own subtree)",
					msc_mtree_quote(im, 0, an->name, an->len),
					MS_RENDER_MAX_DEPTH);
				return rc;
			}
			if (rc < 0) {
				msc_mtree_fail(im, an->line, 16, "address space %s: %s",
					       msc_mtree_quote(im, 0, an->name, an->len),
					       errname(rc));
				return rc;
			}
			im->nr_as++;
		}
	}
	return 0;
}

/* Remove everything the import created from the context. */
void msc_mtree_rollback(struct importer *im)
{
	size_t i;

	if (!im->building)
		return;
	while (im->nr_as > 0)
		ms_as_free(im->as[--im->nr_as]);
	ms_transaction_begin(im->ctx);
	for (i = 0; i < im->nr_rg; i++) {
		struct region *r = &im->rg[i];

		if (r->mr && ms_region_container(r->mr))
			ms_region_del_subregion(ms_region_container(r->mr), r->mr);
	}
	for (i = 0; i < im->nr_rg; i++) {
		ms_region_unref(im->rg[i].mr);
		im->rg[i].mr = NULL;
	}
	while (im->nr_extra > 0)
		ms_region_unref(im->extra[--im->nr_extra]);
	ms_transaction_commit(im->ctx);
}

int msc_mtree_build(struct importer *im)
{
	size_t i;
	int rc;

	im->building = true;
	ms_transaction_begin(im->ctx);
	rc = create_regions(im);
	if (rc == 0)
		rc = place_regions(im);
	if (rc < 0) {
		ms_transaction_commit(im->ctx);
		return rc;
	}
	rc = ms_transaction_commit(im->ctx);
	if (rc < 0) {
		msc_mtree_fail(im, 0, 0, "cannot commit the imported regions: %s", errname(rc));
		return rc;
	}
	rc = create_address_spaces(im);
	if (rc < 0)
		return rc;
	/* Containers, alias targets and address spaces hold every printed region now. */
	for (i = 0; i < im->nr_rg; i++) {
		ms_region_unref(im->rg[i].mr);
		im->rg[i].mr = NULL;
	}
	return 0;
}
