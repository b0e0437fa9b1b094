/*
 * memspace CLI: VFIO-like containers (models/vfio.h) - vfio-container,
 * vfio-container-free, vfio-attach, vfio-detach, vfio-info, vfio-read,
 * vfio-write and vfio-check.
 *
 * The session remembers which address space each container holds, so that
 * as-free refuses it meanwhile and vfio-info can name it. A container's
 * DMA (vfio-read, vfio-write) prints its outcome like any access: a page
 * that is not mapped is output, not an error. Containers pin one page per
 * ms_as_map(); what they may be asked to pin is bounded (MSC_MAX_PINNABLE,
 * script.h): vfio-attach checks the page-table IOMMUs here, iommu-map
 * checks them while a container is attached, the TCE commands check the
 * TCEs.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

static int container_arg(msc_session *s, const msc_word *w, msc_container_ent **out)
{
	*out = msc_arg_entry(s, w, &s->containers, "container", true);
	return *out ? 0 : 1;
}

bool msc_any_attached(msc_session *s)
{
	for (size_t i = 0; i < s->containers.nr; i++)
		if (((msc_container_ent *)msc_table_item(&s->containers, i))->group)
			return true;
	return false;
}

uint64_t msc_session_iommu_pages(msc_session *s)
{
	uint64_t n = 0;

	for (size_t i = 0; i < s->nr_models; i++)
		n += msc_iommu_pages(s->models[i]);
	return n;
}

/* vfio-container NAME */
int msc_do_vfio_container(msc_session *s, msc_call *c)
{
	msc_container_ent *e;
	int rc;

	if (msc_check_new_name(s, c->pos[0], "container", &s->containers))
		return 1;
	e = msc_new_entry(s, c, &s->containers, sizeof(*e), MSC_MAX_CONTAINERS, "containers");
	if (!e)
		return 1;
	rc = ms_vfio_container_new(&e->c, s->ctx);
	if (rc) {
		msc_drop_new_entry(&s->containers);
		return msc_lib_error(s, c->word->col, "vfio-container", rc, NULL);
	}
	return 0;
}

/* vfio-container-free NAME: detaches the group first. */
int msc_do_vfio_container_free(msc_session *s, msc_call *c)
{
	msc_container_ent *e;

	if (container_arg(s, c->pos[0], &e))
		return 1;
	msc_table_remove(&s->containers, msc_table_index_of(&s->containers, e));
	ms_vfio_container_free(e->c);
	free(e);
	return 0;
}

/* What an error of ms_vfio_attach() means. */
static const char *attach_error(int rc)
{
	switch (-rc) {
	case EBUSY:
		return "the container holds a group already (vfio-detach it first)";
	case EFAULT:
		return "a current mapping cannot be shadowed: its target is not RAM; nothing is "
		       "attached";
	case ENOSPC:
		return "the group shows more IOMMU windows than a container shadows (8); nothing "
		       "is attached";
	case E2BIG:
		return "a window spans more pages than a container shadows (4194304); nothing is "
		       "attached";
	case EINVAL:
		return "a window is not aligned to its pages; nothing is attached";
	default:
		return NULL;
	}
}

/* vfio-attach NAME GROUP */
int msc_do_vfio_attach(msc_session *s, msc_call *c)
{
	msc_container_ent *e;
	uint64_t pages;
	ms_as *group;
	int rc;

	if (container_arg(s, c->pos[0], &e) || msc_arg_as(s, c->pos[1], &group))
		return 1;
	pages = msc_session_iommu_pages(s);
	if (!e->group && pages > MSC_MAX_PINNABLE)
		return msc_error(s, c->word->col,
				 "vfio-attach: the page-table IOMMUs map %" PRIu64
				 " pages, over the %u a container may pin (iommu-unmap some first)",
				 pages, MSC_MAX_PINNABLE);
	rc = ms_vfio_attach(e->c, group);
	if (rc)
		return msc_lib_error(s, c->word->col, "vfio-attach", rc, attach_error(rc));
	e->group = group;
	return 0;
}

/* vfio-detach NAME GROUP */
int msc_do_vfio_detach(msc_session *s, msc_call *c)
{
	msc_container_ent *e;
	ms_as *group;
	int rc;

	if (container_arg(s, c->pos[0], &e) || msc_arg_as(s, c->pos[1], &group))
		return 1;
	rc = ms_vfio_detach(e->c, group);
	if (rc)
		return msc_lib_error(
			s, c->word->col, "vfio-detach", rc,
			rc == -ENOENT ? "that address space is not the container's group" : NULL);
	e->group = NULL;
	return 0;
}

/* Page sizes as "4K 64K 2M 16M". */
static void print_page_sizes(FILE *o, uint64_t sizes)
{
	static const char *const units[] = {"", "K", "M", "G", "T", "P", "E"};

	for (unsigned k = 0; k < 64; k++) {
		if (!((sizes >> k) & 1))
			continue;
		fprintf(o, " %" PRIu64 "%s", (uint64_t)1 << (k % 10), units[k / 10]);
	}
}

/* vfio-info NAME */
int msc_do_vfio_info(msc_session *s, msc_call *c)
{
	msc_container_ent *e;
	ms_vfio_info info;
	FILE *o = s->o.out;
	uint64_t pinned;
	int rc, last;

	if (container_arg(s, c->pos[0], &e))
		return 1;
	rc = ms_vfio_get_info(&info, e->c);
	if (rc)
		return msc_lib_error(s, c->word->col, "vfio-info", rc, NULL);
	fprintf(o, "vfio-info %s: ", e->name);
	if (e->group)
		fprintf(o, "group %s, %u window%s, page sizes", ms_as_name(e->group),
			info.nr_windows, info.nr_windows == 1 ? "" : "s");
	else
		fputs("no group, page sizes", o);
	if (info.page_sizes)
		print_page_sizes(o, info.page_sizes);
	else
		fputs(" none", o);
	last = ms_vfio_last_error(e->c);
	pinned = ms_vfio_nr_mapped(e->c);
	fprintf(o, "; %" PRIu64 " page%s pinned, 0x%" PRIx64 " bytes dirtied, last error %s\n",
		pinned, pinned == 1 ? "" : "s", ms_vfio_dirty_bytes(e->c),
		last ? msc_errno_name(last) : "none");
	for (unsigned i = 0; i < info.nr_windows; i++)
		fprintf(o,
			"  window 0x%" PRIx64 "-0x%" PRIx64 ", page 0x%" PRIx64 ", %" PRIu64
			" mapped\n",
			info.windows[i].iova_start, info.windows[i].iova_last,
			info.windows[i].page_size, info.windows[i].nr_mapped);
	return 0;
}

/* What a failed ms_vfio_dma_rw() says. */
static void print_dma_failure(msc_session *s, int rc)
{
	fprintf(s->o.out, " (%s: %s)\n", msc_errno_name(rc),
		rc == -EFAULT   ? "a page is not mapped"
		: rc == -EACCES ? "a page is mapped without that permission"
				: "refused");
}

/* vfio-read NAME IOVA LEN, vfio-write NAME IOVA DATA... (the command's arg: write) */
int msc_do_vfio_rw(msc_session *s, msc_call *c)
{
	bool is_write = c->cmd->arg;
	uint8_t data[MSC_MAX_LINE], *buf;
	msc_container_ent *e;
	uint64_t iova, len;
	int rc;

	if (container_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "IOVA", false, &iova))
		return 1;
	if (msc_arg_transfer(s, c, is_write, data, &buf, &len))
		return 1;
	if (len && len - 1 > UINT64_MAX - iova) {
		if (!is_write)
			free(buf);
		return msc_error(s, c->pos[1]->col, "%s: the transfer wraps past 2^64",
				 c->cmd->name);
	}
	rc = ms_vfio_dma_rw(e->c, iova, buf, (size_t)len, is_write);
	if (is_write) {
		fprintf(s->o.out, "vfio-write %s 0x%" PRIx64 " %" PRIu64 " byte%s", e->name, iova,
			len, len == 1 ? "" : "s");
		if (rc)
			print_dma_failure(s, rc);
		else
			fputs(" (OK)\n", s->o.out);
		return 0;
	}
	fprintf(s->o.out, "vfio-read %s 0x%" PRIx64 " %" PRIu64, e->name, iova, len);
	if (rc)
		print_dma_failure(s, rc);
	else
		msc_print_bytes(s, iova, buf, (size_t)len, "OK");
	free(buf);
	return 0;
}

/* vfio-check NAME */
int msc_do_vfio_check(msc_session *s, msc_call *c)
{
	msc_container_ent *e;
	uint64_t pinned;
	int rc;

	if (container_arg(s, c->pos[0], &e))
		return 1;
	rc = ms_vfio_check(e->c);
	if (rc)
		return msc_lib_error(s, c->word->col, "vfio-check", rc,
				     rc == -EIO ? "the shadow differs from a replay of the IOMMUs"
						: NULL);
	pinned = ms_vfio_nr_mapped(e->c);
	fprintf(s->o.out, "vfio-check %s: the shadow matches the IOMMUs (%" PRIu64 " page%s)\n",
		e->name, pinned, pinned == 1 ? "" : "s");
	return 0;
}
