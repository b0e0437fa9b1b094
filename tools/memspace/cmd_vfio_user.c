/*
 * memspace CLI: devices in another process over vfio-user
 * (<memspace/vfio_user.h>) - vfio-user, vfio-user-info, vfio-user-irq,
 * vfio-user-wait-irq, vfio-user-reset and vfio-user-close.
 *
 * vfio-user connects to a server's socket and makes one container region,
 * entered in the regions table under the device's name, that holds the
 * device's BARs side by side, each at an offset aligned to its size (as a
 * PCI bus would place them). The device's DMA reaches either the RAM of an
 * address space, mapped once when it connects (by fd for shared RAM, by
 * messages otherwise), or what an IOMMU maps, followed as it changes.
 *
 * Lifetime: the BAR regions use the connection, so it is only freed after
 * the context (msc_vfio_user_free_all()); vfio-user-close and the session's
 * end before the context only disconnect it (ms_vfio_user_disconnect()), so
 * that the IOMMU notifier and the DMA served from an address space stop
 * while both still exist. Interrupts are counted per vector by the
 * connection's interrupt thread (atomics); vfio-user-wait-irq reads them.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buffer.h"
#include "script_int.h"

#define MAX_BARS 6u    /* BAR0-BAR5; the ROM and config space are not placed */
#define IRQ_INDEXES 3u /* INTx, MSI, MSI-X */
#define DEFAULT_WAIT_MS 1000u

static const char *const irq_index_names[IRQ_INDEXES] = {"intx", "msi", "msix"};

static int vfu_arg(msc_session *s, const msc_word *w, msc_vfu_ent **out)
{
	*out = msc_arg_entry(s, w, &s->vfio_users, "vfio-user device", true);
	return *out ? 0 : 1;
}

/* An IRQ index named intx, msi or msix; 0, or 1 after reporting. */
static int irq_index_arg(msc_session *s, const msc_word *w, uint32_t *out)
{
	for (uint32_t i = 0; i < IRQ_INDEXES; i++) {
		if (w->len == strlen(irq_index_names[i]) &&
		    memcmp(w->text, irq_index_names[i], w->len) == 0) {
			*out = i;
			return 0;
		}
	}
	return msc_error(s, w->col, "the interrupt kind is intx, msi or msix, not %s",
			 msc_quote_word(s, w));
}

/* What an error of ms_vfio_user_connect() means. */
static const char *connect_error(int rc)
{
	switch (-rc) {
	case ENOENT:
		return "no socket at that path (start the server first)";
	case ECONNREFUSED:
		return "nothing listens on that socket";
	case ENOTSOCK:
		return "that path is not a socket";
	case EINVAL:
		return "the socket path is empty or longer than a UNIX socket takes (107 bytes)";
	case EPROTO:
		return "the server speaks another protocol version or sent a malformed reply";
	case ETIMEDOUT:
		return "the server did not answer in time";
	case ECONNRESET:
		return "the server closed the connection";
	default:
		return NULL;
	}
}

/* "4K", "64K", "1M" for a power of two, else the hex number. */
static void print_size(FILE *o, uint64_t size)
{
	static const char units[] = "KMGTPE";

	for (unsigned k = 6; k-- > 0;) {
		uint64_t unit = (uint64_t)1 << (10 * (k + 1));

		if (size >= unit && size % unit == 0) {
			fprintf(o, "%" PRIu64 "%c", size / unit, units[k]);
			return;
		}
	}
	fprintf(o, "0x%" PRIx64, size);
}

static void on_irq(uint32_t index, uint32_t vector, void *opaque)
{
	msc_vfu_ent *e = opaque;

	if (index < IRQ_INDEXES && vector < MSC_VFU_MAX_VECTORS)
		__atomic_fetch_add(&e->irq_hits[index][vector], 1, __ATOMIC_RELEASE);
}

/*
 * Map what the device may reach without an IOMMU: every RAM and ROM range
 * of @as's current view, at its guest address (by fd when the region's
 * backend is shared). Counts what it mapped in @e. 0 or the error.
 */
static int map_ram(msc_vfu_ent *e, ms_as *as)
{
	ms_flatview *fv = ms_as_get_flatview(as);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < ms_flatview_nr_ranges(fv); i++) {
		ms_region_kind kind;
		ms_ram_info ri;
		ms_section sec;

		if (ms_flatview_range(&sec, fv, i) < 0)
			continue;
		kind = ms_region_get_kind(sec.region);
		if ((kind != MS_REGION_RAM && kind != MS_REGION_ROM) || sec.size == MS_SIZE_2_64)
			continue;
		rc = ms_vfio_user_dma_map(e->dev, sec.start, sec.size, sec.region,
					  sec.offset_in_region,
					  !sec.readonly && kind == MS_REGION_RAM);
		if (rc == 0 && ms_region_ram_info(sec.region, &ri) == 0 && ri.fd >= 0 &&
		    ri.shared && ri.host)
			e->maps_by_fd++;
		else if (rc == 0)
			e->maps_by_msg++;
	}
	ms_flatview_unref(fv);
	return rc;
}

/* The IOMMU and the device's view through it, from iommu= (and as=). 0, or 1 after reporting. */
static int iommu_arg(msc_session *s, msc_call *c, ms_region **iommu, ms_as **dma_as, bool have_as)
{
	msc_word *opt = msc_opt_word(c, "iommu");
	msc_word v;
	msc_region_ent *re;
	ms_as *as;

	*iommu = NULL;
	if (!opt)
		return 0;
	v = msc_value_of(opt);
	as = msc_table_lookup(&s->spaces, v.text, v.len);
	if (as) {
		if (ms_region_get_kind(ms_as_root(as)) != MS_REGION_IOMMU)
			return msc_error(s, v.col,
					 "vfio-user: address space %s does not start at an IOMMU "
					 "(its root %s is no IOMMU region)",
					 msc_quote_word(s, &v),
					 msc_quote_str(s, ms_region_name(ms_as_root(as))));
		*iommu = ms_as_root(as);
		if (!have_as)
			*dma_as = as;
		return 0;
	}
	re = msc_find_region(s, v.text, v.len);
	if (!re)
		return msc_error(s, v.col, "vfio-user: unknown IOMMU region or address space %s",
				 msc_quote_word(s, &v));
	if (ms_region_get_kind(re->r) != MS_REGION_IOMMU)
		return msc_error(s, v.col, "vfio-user: region %s is not an IOMMU region",
				 msc_quote_word(s, &v));
	*iommu = re->r;
	if (have_as)
		return 0;
	for (size_t i = 0; i < s->spaces.nr; i++) {
		if (ms_as_root(msc_table_item(&s->spaces, i)) == re->r) {
			*dma_as = msc_table_item(&s->spaces, i);
			return 0;
		}
	}
	return msc_error(s, v.col,
			 "vfio-user: no address space starts at IOMMU %s: the device's DMA needs "
			 "one (make it with 'as NAME %.*s', or name it with as=)",
			 msc_quote_word(s, &v), (int)v.len, v.text);
}

/* Where the BARs go: in=C at=ADDR, or at=ADDR in the current address space's root. */
static int placement(msc_session *s, msc_call *c, msc_placement *p)
{
	msc_word *in = msc_opt_word(c, "in"), *at = msc_opt_word(c, "at");
	ms_region *root;

	if (in || !at)
		return msc_parse_placement(s, c, p);
	memset(p, 0, sizeof(*p));
	if (!s->current)
		return msc_error(s, at->col,
				 "vfio-user: at= without in= places the device in the "
				 "current address space, and there is none (give in=)");
	root = ms_as_root(s->current);
	for (size_t i = 0; i < s->regions.nr; i++) {
		msc_region_ent *re = msc_table_item(&s->regions, i);

		if (re->r == root)
			p->container = re;
	}
	if (!p->container)
		return msc_error(
			s, at->col,
			"vfio-user: the root of the current address space has no name here "
			"(give in=)");
	if (msc_opt_number(s, c, "at", &p->addr) || msc_opt_prio(s, c, "prio", &p->prio))
		return 1;
	p->present = true;
	p->owner = msc_opt_word(c, "owner");
	return 0;
}

/* Ask the device for its BARs and lay them out in @e; 0 or the error. */
static int find_bars(msc_vfu_ent *e, uint64_t *total)
{
	ms_vfio_user_info info;
	uint64_t end = 0;
	int rc;

	(void)ms_vfio_user_get_info(e->dev, &info);
	e->nr_bars = 0;
	for (uint32_t i = 0; i < MAX_BARS && i < info.num_regions; i++) {
		ms_vfio_user_region_info ri;
		uint64_t align = 4096, off;

		rc = ms_vfio_user_get_region_info(e->dev, i, &ri);
		if (rc < 0)
			return rc;
		if (ri.size == 0)
			continue;
		while (align < ri.size && align < (1ull << 40))
			align <<= 1;
		off = (end + align - 1) & ~(align - 1);
		if (off < end || ri.size > UINT64_MAX - off)
			return -EFBIG;
		e->bars[e->nr_bars].index = i;
		e->bars[e->nr_bars].offset = off;
		e->bars[e->nr_bars].info = ri;
		e->nr_bars++;
		end = off + ri.size;
	}
	*total = end;
	return e->nr_bars ? 0 : -ENODEV;
}

/* The container of the BARs; 0 or the error. */
static int make_region(msc_session *s, msc_vfu_ent *e, uint64_t size, ms_region **out)
{
	char name[MSC_MAX_LINE + 16];
	ms_region *c;
	int rc;

	rc = ms_region_new_container(&c, s->ctx, e->name, size);
	for (unsigned i = 0; rc == 0 && i < e->nr_bars; i++) {
		ms_region *bar;

		snprintf(name, sizeof(name), "%s.bar%u", e->name, e->bars[i].index);
		rc = ms_vfio_user_region(&bar, e->dev, e->bars[i].index, name);
		if (rc == 0) {
			rc = ms_region_add_subregion(c, e->bars[i].offset, bar);
			ms_region_unref(bar);
		}
	}
	if (rc) {
		if (c)
			ms_region_unref(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* Keep a connection that can no longer be used, for msc_vfio_user_free_all(). */
static void retire(msc_session *s, ms_vfio_user *dev)
{
	(void)ms_vfio_user_disconnect(dev);
	if (msc_grow((void **)&s->retired_vfus, &s->cap_retired_vfus, s->nr_retired_vfus,
		     sizeof(*s->retired_vfus), 4) == 0)
		s->retired_vfus[s->nr_retired_vfus++] = dev;
	/* Out of memory: leaked rather than freed under regions that may use it. */
}

/* vfio-user NAME SOCKET [in=C] [at=ADDR [prio=N]] [as=AS] [iommu=IOMMU [index=N]] [timeout=MS] */
int msc_do_vfio_user(msc_session *s, msc_call *c)
{
	uint64_t timeout = 0, iommu_idx = 0, size;
	const msc_word *sock = c->pos[1];
	ms_region *iommu = NULL, *r = NULL;
	msc_placement place;
	ms_as *dma_as;
	msc_vfu_ent *e;
	int rc;

	dma_as = s->current;
	if (msc_check_region_budget(s, c) ||
	    msc_check_new_name(s, c->pos[0], "region", &s->regions) ||
	    msc_check_new_name(s, c->pos[0], "vfio-user device", &s->vfio_users) ||
	    placement(s, c, &place) || msc_opt_as(s, c, "as", &dma_as) ||
	    iommu_arg(s, c, &iommu, &dma_as, msc_opt_word(c, "as") != NULL) ||
	    msc_opt_number(s, c, "index", &iommu_idx) || msc_opt_number(s, c, "timeout", &timeout))
		return 1;
	if (msc_opt_word(c, "index") && !iommu)
		return msc_error(s, msc_opt_word(c, "index")->col,
				 "vfio-user: index= needs iommu=");
	if (timeout > 600000)
		return msc_error(s, msc_opt_word(c, "timeout")->col,
				 "vfio-user: timeout= is at most 600000 ms, not %" PRIu64, timeout);
	if (!dma_as)
		return msc_error(
			s, c->word->col,
			"vfio-user: the device's DMA needs an address space (as= or iommu=; "
			"there is no current one)");
	if (sock->len == 0 || memchr(sock->text, '\0', sock->len))
		return msc_error(s, sock->col, "vfio-user: bad socket path %s",
				 msc_quote_word(s, sock));
	if (msc_table_lookup(&s->vfio_users, c->pos[0]->text, c->pos[0]->len) == NULL &&
	    s->vfio_users.nr >= MSC_MAX_VFIO_USERS)
		return msc_error(
			s, c->word->col,
			"vfio-user: too many vfio-user devices (the limit is %u per session)",
			MSC_MAX_VFIO_USERS);
	e = calloc(1, sizeof(*e));
	if (!e)
		return msc_lib_error(s, c->word->col, "vfio-user", -ENOMEM, NULL);
	e->socket = strndup(sock->text, sock->len);
	if (!e->socket) {
		free(e);
		return msc_lib_error(s, c->word->col, "vfio-user", -ENOMEM, NULL);
	}
	e->name = c->pos[0]->text; /* until the table's copy replaces it */
	e->dma_as = dma_as;
	e->iommu = iommu;
	rc = ms_vfio_user_connect(&e->dev, s->ctx,
				  &(ms_vfio_user_opts){.socket = e->socket,
						       .dma_as = dma_as,
						       .timeout_ms = (unsigned)timeout});
	if (rc) {
		free(e->socket);
		free(e);
		return msc_lib_error(s, sock->col, "vfio-user", rc, connect_error(rc));
	}
	rc = find_bars(e, &size);
	if (rc)
		goto fail;
	if (iommu)
		rc = ms_vfio_user_attach_iommu(e->dev, iommu, (unsigned)iommu_idx);
	else
		rc = map_ram(e, dma_as);
	if (rc)
		goto fail;
	rc = make_region(s, e, size, &r);
	if (rc)
		goto fail;
	e->region = ms_region_ref(r);
	/* msc_finish_region() names r after the call's first argument and places it. */
	if (msc_finish_region(s, c, r, NULL, &place, NULL)) {
		ms_region_unref(e->region);
		retire(s, e->dev);
		free(e->socket);
		free(e);
		return 1;
	}
	e->name = msc_table_add(&s->vfio_users, c->pos[0]->text, c->pos[0]->len, e);
	if (!e->name) {
		/* The region stays, under its name, as a device whose server went away. */
		ms_region_unref(e->region);
		retire(s, e->dev);
		free(e->socket);
		free(e);
		return msc_lib_error(s, c->word->col, "vfio-user", -ENOMEM, NULL);
	}
	return 0;
fail:
	retire(s, e->dev);
	free(e->socket);
	free(e);
	return msc_lib_error(
		s, c->word->col, "vfio-user", rc,
		rc == -ENODEV  ? "the device has no BARs"
		: rc == -EFBIG ? "the device's BARs do not fit in 2^64 bytes"
		: rc == -EEXIST
			? "two RAM ranges of the address space overlap as the device sees them"
			: NULL);
}

/* vfio-user-info NAME */
int msc_do_vfio_user_info(msc_session *s, msc_call *c)
{
	ms_vfio_user_info info;
	FILE *o = s->o.out;
	uint32_t ids = 0;
	msc_vfu_ent *e;

	if (vfu_arg(s, c->pos[0], &e))
		return 1;
	fprintf(o, "vfio-user-info %s: socket %s", e->name, msc_quote_str(s, e->socket));
	if (e->closed) {
		fputs(", closed\n", o);
		return 0;
	}
	(void)ms_vfio_user_get_info(e->dev, &info);
	fprintf(o, ", protocol %u.%u", info.major, info.minor);
	if ((info.flags & 0x2) &&
	    ms_vfio_user_region_rw(e->dev, MS_VFIO_USER_PCI_CONFIG, 0, &ids, 4, false) == 0)
		fprintf(o, ", PCI %04x:%04x", ids & 0xffff, ids >> 16);
	fprintf(o, ", %u BAR%s, %u regions, %u IRQ indexes\n", e->nr_bars,
		e->nr_bars == 1 ? "" : "s", info.num_regions, info.num_irqs);
	if (e->iommu)
		fprintf(o, "  DMA through IOMMU %s, seen from address space %s\n",
			ms_region_name(e->iommu), ms_as_name(e->dma_as));
	else
		fprintf(o,
			"  DMA into address space %s: %u RAM range%s by fd, %u served by "
			"messages\n",
			ms_as_name(e->dma_as), e->maps_by_fd, e->maps_by_fd == 1 ? "" : "s",
			e->maps_by_msg);
	for (unsigned i = 0; i < e->nr_bars; i++) {
		const ms_vfio_user_region_info *ri = &e->bars[i].info;

		fprintf(o, "  bar%u +0x%" PRIx64 " ", e->bars[i].index, e->bars[i].offset);
		print_size(o, ri->size);
		fprintf(o, " %s%s", ri->flags & MS_VFIO_USER_REGION_READ ? "r" : "-",
			ri->flags & MS_VFIO_USER_REGION_WRITE ? "w" : "-");
		if (!ri->mmappable || ri->nr_areas == 0) {
			fputs(", by message\n", o);
			continue;
		}
		fputs(", mmapped", o);
		for (uint32_t k = 0; k < ri->nr_areas; k++)
			fprintf(o, " 0x%" PRIx64 "-0x%" PRIx64, ri->areas[k].offset,
				ri->areas[k].offset + ri->areas[k].size - 1);
		fputs(", the rest by message\n", o);
	}
	for (uint32_t k = 0; k < IRQ_INDEXES; k++) {
		uint64_t hits = 0;

		if (!e->irq_routed[k])
			continue;
		for (uint32_t v = 0; v < MSC_VFU_MAX_VECTORS; v++)
			hits += __atomic_load_n(&e->irq_hits[k][v], __ATOMIC_ACQUIRE);
		fprintf(o, "  %s: vectors 0-%u routed, %" PRIu64 " interrupt%s\n",
			irq_index_names[k], e->irq_routed[k] - 1, hits, hits == 1 ? "" : "s");
	}
	return 0;
}

/* The vectors of interrupt @index, or an error message (1) when there are none. */
static int irq_count(msc_session *s, msc_call *c, msc_vfu_ent *e, uint32_t index, uint32_t *count)
{
	int rc = ms_vfio_user_get_irq_info(e->dev, index, count, NULL);

	if (rc == 0 && *count == 0)
		rc = -ENOENT;
	if (rc)
		return msc_lib_error(s, c->word->col, "vfio-user-irq", rc,
				     rc == -ENOENT || rc == -EINVAL
					     ? "the device has no interrupt of that kind"
					     : NULL);
	return 0;
}

/* vfio-user-irq NAME intx|msi|msix mask|unmask [VECTOR]: every vector of the kind without one. */
static int mask_irqs(msc_session *s, msc_call *c, msc_vfu_ent *e, uint32_t index, bool mask)
{
	uint32_t count = 0, start = 0, n;
	uint64_t vector;
	int rc;

	if (irq_count(s, c, e, index, &count))
		return 1;
	n = count;
	if (c->npos > 3) {
		if (msc_arg_number(s, c->pos[3], "vector", false, &vector))
			return 1;
		if (vector >= count)
			return msc_error(s, c->pos[3]->col,
					 "vfio-user-irq: %s has %s vectors 0 to %u, not %" PRIu64,
					 msc_quote_str(s, e->name), irq_index_names[index],
					 count - 1, vector);
		start = (uint32_t)vector;
		n = 1;
	}
	rc = ms_vfio_user_mask_irqs(e->dev, index, start, n, mask);
	if (rc)
		return msc_lib_error(s, c->word->col, "vfio-user-irq", rc, NULL);
	return 0;
}

/* vfio-user-irq NAME intx|msi|msix on|off|mask|unmask [VECTOR] */
int msc_do_vfio_user_irq(msc_session *s, msc_call *c)
{
	static const msc_name actions[] = {
		{"on", 1}, {"off", 0}, {"mask", 2}, {"unmask", 3}, {NULL, 0}};
	ms_vfio_user_info info;
	uint32_t index, count = 0, chunk;
	const msc_word *w = c->pos[2];
	int action = -1;
	msc_vfu_ent *e;
	int rc;

	if (vfu_arg(s, c->pos[0], &e) || irq_index_arg(s, c->pos[1], &index))
		return 1;
	for (const msc_name *a = actions; a->name; a++)
		if (w->len == strlen(a->name) && memcmp(w->text, a->name, w->len) == 0)
			action = a->value;
	if (action < 0)
		return msc_error(s, w->col, "vfio-user-irq: on, off, mask or unmask, not %s",
				 msc_quote_word(s, w));
	if (c->npos > 3 && action < 2)
		return msc_error(
			s, c->pos[3]->col,
			"vfio-user-irq: a vector goes with mask and unmask only (on and off "
			"take every vector of the kind)");
	if (e->closed)
		return msc_error(s, c->pos[0]->col, "vfio-user-irq: %s is closed",
				 msc_quote_str(s, e->name));
	if (action >= 2)
		return mask_irqs(s, c, e, index, action == 2);
	if (action == 0) {
		rc = ms_vfio_user_set_irqs(e->dev, index, 0, 0, NULL, NULL);
		if (rc)
			return msc_lib_error(s, c->word->col, "vfio-user-irq", rc, NULL);
		e->irq_routed[index] = 0;
		return 0;
	}
	if (irq_count(s, c, e, index, &count))
		return 1;
	if (count > MSC_VFU_MAX_VECTORS)
		count = MSC_VFU_MAX_VECTORS;
	(void)ms_vfio_user_get_info(e->dev, &info);
	chunk = info.max_msg_fds < 8 ? (uint32_t)info.max_msg_fds : 8;
	if (chunk == 0)
		return msc_error(
			s, c->word->col,
			"vfio-user-irq: the server takes no file descriptors in a message");
	for (uint32_t v = 0; v < count; v += chunk) {
		uint32_t n = count - v < chunk ? count - v : chunk;

		rc = ms_vfio_user_set_irqs(e->dev, index, v, n, on_irq, e);
		if (rc) {
			/* Not half routed: the whole kind goes off (reported). */
			(void)ms_vfio_user_set_irqs(e->dev, index, 0, 0, NULL, NULL);
			e->irq_routed[index] = 0;
			return msc_lib_error(s, c->word->col, "vfio-user-irq", rc, NULL);
		}
	}
	e->irq_routed[index] = count;
	return 0;
}

/* vfio-user-wait-irq NAME intx|msi|msix VECTOR [timeout=MS]: one new interrupt, or a timeout. */
int msc_do_vfio_user_wait_irq(msc_session *s, msc_call *c)
{
	uint64_t vector, timeout = DEFAULT_WAIT_MS, hits = 0;
	struct timespec tick = {0, 1000000};
	uint32_t index;
	msc_vfu_ent *e;

	if (vfu_arg(s, c->pos[0], &e) || irq_index_arg(s, c->pos[1], &index) ||
	    msc_arg_number(s, c->pos[2], "vector", false, &vector) ||
	    msc_opt_number(s, c, "timeout", &timeout))
		return 1;
	if (vector >= e->irq_routed[index])
		return msc_error(s, c->pos[2]->col,
				 "vfio-user-wait-irq: %s vector %" PRIu64
				 " of %s is not routed (vfio-user-irq %s %s on)",
				 irq_index_names[index], vector, msc_quote_str(s, e->name), e->name,
				 irq_index_names[index]);
	if (timeout > 600000)
		return msc_error(s, msc_opt_word(c, "timeout")->col,
				 "vfio-user-wait-irq: timeout= is at most 600000 ms, not %" PRIu64,
				 timeout);
	for (uint64_t waited = 0;; waited++) {
		hits = __atomic_load_n(&e->irq_hits[index][vector], __ATOMIC_ACQUIRE);
		if (hits > e->irq_seen[index][vector] || waited >= timeout)
			break;
		nanosleep(&tick, NULL);
	}
	fprintf(s->o.out, "vfio-user-wait-irq %s %s %" PRIu64 ": ", e->name, irq_index_names[index],
		vector);
	if (hits > e->irq_seen[index][vector])
		fprintf(s->o.out, "interrupt (%" PRIu64 " so far)\n", hits);
	else
		fprintf(s->o.out, "no interrupt within %" PRIu64 " ms\n", timeout);
	e->irq_seen[index][vector] = hits;
	return 0;
}

/* vfio-user-reset NAME */
int msc_do_vfio_user_reset(msc_session *s, msc_call *c)
{
	msc_vfu_ent *e;
	int rc;

	if (vfu_arg(s, c->pos[0], &e))
		return 1;
	if (e->closed)
		return msc_error(s, c->pos[0]->col, "vfio-user-reset: %s is closed",
				 msc_quote_str(s, e->name));
	rc = ms_vfio_user_reset(e->dev);
	if (rc)
		return msc_lib_error(s, c->word->col, "vfio-user-reset", rc, NULL);
	return 0;
}

/* vfio-user-close NAME: disconnect and take the BARs out of the machine. */
int msc_do_vfio_user_close(msc_session *s, msc_call *c)
{
	ms_region *parent;
	msc_vfu_ent *e;

	if (vfu_arg(s, c->pos[0], &e))
		return 1;
	if (e->closed)
		return msc_error(s, c->pos[0]->col, "vfio-user-close: %s is closed already",
				 msc_quote_str(s, e->name));
	(void)ms_vfio_user_disconnect(e->dev);
	parent = ms_region_container(e->region);
	if (parent)
		(void)ms_region_del_subregion(parent, e->region);
	e->closed = true;
	return 0;
}

bool msc_vfio_user_uses_as(msc_session *s, const ms_as *as, const char **name)
{
	for (size_t i = 0; i < s->vfio_users.nr; i++) {
		msc_vfu_ent *e = msc_table_item(&s->vfio_users, i);

		if (!e->closed && e->dma_as == as) {
			*name = e->name;
			return true;
		}
	}
	return false;
}

void msc_vfio_user_disconnect_all(msc_session *s)
{
	for (size_t i = 0; i < s->vfio_users.nr; i++) {
		msc_vfu_ent *e = msc_table_item(&s->vfio_users, i);

		(void)ms_vfio_user_disconnect(e->dev);
		ms_region_unref(e->region);
		e->region = NULL;
	}
}

void msc_vfio_user_free_all(msc_session *s)
{
	for (size_t i = 0; i < s->vfio_users.nr; i++) {
		msc_vfu_ent *e = msc_table_item(&s->vfio_users, i);

		ms_vfio_user_close(e->dev);
		free(e->socket);
		free(e);
	}
	msc_table_free(&s->vfio_users);
	for (size_t i = 0; i < s->nr_retired_vfus; i++)
		ms_vfio_user_close(s->retired_vfus[i]);
	free(s->retired_vfus);
}
