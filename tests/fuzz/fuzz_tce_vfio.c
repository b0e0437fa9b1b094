/*
 * Fuzz target: the sPAPR TCE table and the VFIO-like container
 * (include/memspace/models/), operations as bytes.
 *
 * Every input builds the same machine: "mem" has 1 MiB of RAM at 0 and an
 * MMIO device at 0x200000; a TCE table targets it, its root is the "dma"
 * address space, and a container may be attached to it. The input is a
 * sequence of operations (put, stuff, put_indirect, get, window create and
 * remove, attach, detach, device DMA) with arguments taken from the
 * following bytes. A reference table predicts every TCE and whether each
 * call succeeds; after every operation the table must equal the reference
 * and the container's shadow must equal a fresh replay of every window
 * (ms_vfio_check()), with one pinned page per present entry while
 * attached. Any difference aborts.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/tce.h>
#include <memspace/models/vfio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 256
#define RAM_SIZE 0x100000u
#define MMIO_BASE 0x200000u
#define MAX_PAGES 64u

#define CHECK(cond)                                                                               \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "fuzz_tce_vfio: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

typedef struct input {
	const uint8_t *p;
	size_t left;
} input;

static uint64_t take(input *in, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		v = v << 8 | (in->left ? *in->p : 0);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return v;
}

typedef struct ref_window {
	bool live;
	uint64_t base;
	unsigned shift;
	uint64_t n;
	uint64_t tce[MAX_PAGES];
} ref_window;

typedef struct machine {
	ms_ctx *ctx;
	ms_region *root, *ram, *mmio;
	ms_as *mem, *dma;
	ms_tce_table *t;
	ms_vfio_container *c;
	bool attached;
	ref_window ref[MS_TCE_MAX_WINDOWS];
} machine;

static uint64_t mmio_read(uint64_t addr, unsigned size, void *opaque)
{
	(void)size;
	(void)opaque;
	return addr;
}

static void mmio_write(uint64_t addr, uint64_t data, unsigned size, void *opaque)
{
	(void)addr;
	(void)data;
	(void)size;
	(void)opaque;
}

static const ms_region_ops mmio_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = mmio_read,
	.write = mmio_write,
};

static const unsigned shifts[4] = {12, 16, 21, 24};

/* A TCE: RAM page, MMIO page, beyond the target, or with reserved bits. */
static uint64_t make_tce(input *in, unsigned shift)
{
	uint8_t kind = (uint8_t)take(in, 1);
	uint64_t perm = kind & 3, page = take(in, 1);

	switch ((kind >> 2) & 7) {
	case 0:
		return perm; /* a clear */
	case 1:
		return MMIO_BASE | perm;
	case 2:
		return ((uint64_t)0x400000 << (page & 7)) | perm; /* beyond the target */
	case 3:
		return (page << 12) | 4 | perm; /* reserved bit (for every page size) */
	default:
		return ((page << shift) & (RAM_SIZE - 1) & ~(((uint64_t)1 << shift) - 1)) | perm;
	}
}

static bool tce_bad(const ref_window *w, uint64_t tce)
{
	uint64_t mask = ((uint64_t)1 << w->shift) - 1;

	if (!(tce & MS_TCE_RW))
		return false;
	if (tce & mask & ~MS_TCE_RW)
		return true;
	/* The target "mem" is 4 MiB: the whole page must lie inside it. */
	return mask + 1 > 0x400000 || (tce & ~mask) > 0x400000 - (mask + 1);
}

/* Does the machine's memory hold RAM for the whole page of @tce? */
static bool tce_ram(const ref_window *w, uint64_t tce)
{
	uint64_t addr = tce & ~(((uint64_t)1 << w->shift) - 1);

	return addr + ((uint64_t)1 << w->shift) <= RAM_SIZE;
}

static void check_all(machine *m)
{
	uint64_t present = 0;

	for (unsigned k = 0; k < MS_TCE_MAX_WINDOWS; k++) {
		const ref_window *w = &m->ref[k];

		if (!w->live)
			continue;
		for (uint64_t p = 0; p < w->n; p++) {
			uint64_t tce = 1;

			CHECK(ms_tce_get(&tce, m->t, w->base + (p << w->shift)) == 0);
			CHECK(tce == w->tce[p]);
			present += (tce & MS_TCE_RW) != 0;
		}
	}
	CHECK(ms_vfio_check(m->c) == 0);
	CHECK(ms_vfio_nr_mapped(m->c) == (m->attached ? present : 0));
}

/* Set entries in the table and the reference; @tces NULL: all @tce. */
static void do_set(machine *m, ref_window *w, uint64_t first, uint64_t n, const uint64_t *tces,
		   uint64_t tce, int rc)
{
	bool bad = false, unmappable = false;

	if (first + n > w->n || n == 0) {
		CHECK(rc == -EINVAL);
		return;
	}
	for (uint64_t k = 0; k < n; k++) {
		uint64_t v = tces ? tces[k] : tce;

		bad |= tce_bad(w, v);
		unmappable |= (v & MS_TCE_RW) && !tce_ram(w, v); /* MMIO or a hole */
	}
	if (bad) {
		CHECK(rc == -EINVAL);
		return;
	}
	if (unmappable && m->attached) {
		CHECK(rc == -EFAULT);
		return;
	}
	CHECK(rc == 0);
	for (uint64_t k = 0; k < n; k++) {
		uint64_t v = tces ? tces[k] : tce;

		w->tce[first + k] = (v & MS_TCE_RW) ? v : 0;
	}
	if (unmappable) {
		/* Nobody refused it; clear again so that the next attach works. */
		CHECK(ms_tce_stuff(m->t, w->base + (first << w->shift), 0, n) == 0);
		for (uint64_t k = 0; k < n; k++)
			w->tce[first + k] = 0;
	}
}

static void run_op(machine *m, input *in)
{
	uint8_t op = (uint8_t)take(in, 1);
	unsigned wi = (op >> 4) % MS_TCE_MAX_WINDOWS;
	ref_window *w = &m->ref[wi];

	switch (op & 15) {
	case 0: { /* window create */
		unsigned fs = 0, shift = shifts[take(in, 1) & 3];
		uint64_t n = 1 + take(in, 1) % MAX_PAGES, base = (uint64_t)(take(in, 1) & 7) << 40;
		int rc;

		while (fs < MS_TCE_MAX_WINDOWS && m->ref[fs].live)
			fs++;
		rc = ms_tce_window_create(m->t, base, n << shift, shift);
		if (fs == MS_TCE_MAX_WINDOWS) {
			CHECK(rc == -EBUSY);
			break;
		}
		for (unsigned k = 0; k < MS_TCE_MAX_WINDOWS; k++) {
			const ref_window *o = &m->ref[k];

			if (o->live && base < o->base + (o->n << o->shift) &&
			    o->base < base + (n << shift)) {
				CHECK(rc == -EBUSY);
				return;
			}
		}
		CHECK(rc == (int)fs);
		memset(&m->ref[fs], 0, sizeof(m->ref[fs]));
		m->ref[fs] = (ref_window){.live = true, .base = base, .shift = shift, .n = n};
		break;
	}
	case 1: /* window remove */
		CHECK(ms_tce_window_remove(m->t, wi) == (w->live ? 0 : -ENOENT));
		w->live = false;
		break;
	case 2: /* attach / detach */
		if (m->attached)
			CHECK(ms_vfio_detach(m->c, m->dma) == 0);
		else
			CHECK(ms_vfio_attach(m->c, m->dma) == 0);
		m->attached = !m->attached;
		break;
	case 3:
	case 4:
	case 5: { /* put */
		uint64_t i = take(in, 1), tce;

		if (!w->live)
			break;
		tce = make_tce(in, w->shift);
		i %= w->n + 1;
		do_set(m, w, i, 1, NULL, tce, ms_tce_put(m->t, w->base + (i << w->shift), tce));
		break;
	}
	case 6:
	case 7: { /* stuff */
		uint64_t i = take(in, 1), n = take(in, 1), tce;

		if (!w->live)
			break;
		tce = make_tce(in, w->shift);
		i %= w->n;
		do_set(m, w, i, n, NULL, tce,
		       ms_tce_stuff(m->t, w->base + (i << w->shift), tce, n));
		break;
	}
	case 8: { /* put_indirect: the list lives at 0x80000 in RAM */
		uint64_t i = take(in, 1), tces[8];
		unsigned n = 1 + (unsigned)(take(in, 1) % 8);

		if (!w->live)
			break;
		i %= w->n;
		for (unsigned k = 0; k < n; k++) {
			tces[k] = make_tce(in, w->shift);
			CHECK(ms_as_stq_be(m->mem, 0x80000 + 8 * k, MS_ATTRS_UNSPECIFIED,
					   tces[k]) == MS_RESULT_OK);
		}
		do_set(m, w, i, n, tces, 0,
		       ms_tce_put_indirect(m->t, w->base + (i << w->shift), 0x80000, n));
		break;
	}
	case 9:
	case 10: { /* device DMA through the shadow: succeeds iff mapped with permission */
		uint64_t i = take(in, 1), off = take(in, 2);
		bool is_write = op & 1;
		uint8_t buf[16];
		uint64_t tce;
		int rc;

		if (!w->live)
			break;
		i %= w->n;
		off &= ((uint64_t)1 << w->shift) - 1;
		if (off > ((uint64_t)1 << w->shift) - sizeof(buf))
			off = 0;
		memset(buf, 0x5a, sizeof(buf));
		rc = ms_vfio_dma_rw(m->c, w->base + (i << w->shift) + off, buf, sizeof(buf),
				    is_write);
		tce = w->tce[i];
		if (!m->attached || !(tce & MS_TCE_RW))
			CHECK(rc == -EFAULT);
		else if (!(tce & (is_write ? MS_TCE_WRITE : MS_TCE_READ)))
			CHECK(rc == -EACCES);
		else
			CHECK(rc == 0);
		break;
	}
	default: { /* get of an arbitrary bus address */
		uint64_t addr = take(in, 8), tce = 1;
		int rc = ms_tce_get(&tce, m->t, addr);

		CHECK(rc == 0 || rc == -EINVAL);
		CHECK(rc == 0 || tce == 0);
		break;
	}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input in = {data, size};
	machine m;

	memset(&m, 0, sizeof(m));
	if (ms_ctx_new(&m.ctx) < 0)
		return 0;
	CHECK(ms_region_new_container(&m.root, m.ctx, "mem", 0x400000) == 0);
	CHECK(ms_region_new_ram(&m.ram, m.ctx, "ram", RAM_SIZE) == 0);
	CHECK(ms_region_add_subregion(m.root, 0, m.ram) == 0);
	CHECK(ms_region_new_io(&m.mmio, m.ctx,
			       &(ms_region_io_opts){
				       .name = "mmio", .size = 0x200000, .ops = &mmio_ops}) == 0);
	CHECK(ms_region_add_subregion(m.root, MMIO_BASE, m.mmio) == 0);
	CHECK(ms_as_new(&m.mem, m.ctx, m.root, "mem") == 0);
	CHECK(ms_tce_new(&m.t, m.ctx, "tce", m.mem) == 0);
	CHECK(ms_as_new(&m.dma, m.ctx, ms_tce_root(m.t), "dma") == 0);
	CHECK(ms_vfio_container_new(&m.c, m.ctx) == 0);
	CHECK(ms_vfio_attach(m.c, m.dma) == 0);
	m.attached = true;

	for (unsigned n = 0; n < MAX_OPS && in.left; n++) {
		run_op(&m, &in);
		check_all(&m);
	}

	ms_vfio_container_free(m.c);
	(void)ms_as_free(m.dma);
	ms_tce_free(m.t);
	ms_region_unref(m.ram);
	ms_region_unref(m.mmio);
	ms_region_unref(m.root);
	ms_ctx_free(m.ctx);
	return 0;
}
