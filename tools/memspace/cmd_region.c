/*
 * memspace CLI: making regions - container, ram, rom, io, romdevice,
 * ramdevice, ramptr, a class-less iommu, and alias - with their device
 * models and placement.
 *
 * A new region is checked in full before the library sees it, and named in
 * the session only once it is placed; a failure on the way frees the
 * region, its device and its memory (msc_finish_region()). RAM-backed bytes
 * and regions created are counted over the whole session (script.h limits).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memspace/backend.h>

#include "buffer.h"
#include "script_int.h"

static int add_region_entry(msc_session *s, const msc_word *name, ms_region *r, msc_device *dev)
{
	msc_region_ent *e;

	if (dev &&
	    msc_grow((void **)&s->devices, &s->cap_devices, s->nr_devices, sizeof(*s->devices), 16))
		return -ENOMEM;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->r = r;
	e->dev = dev;
	e->name = msc_table_add(&s->regions, name->text, name->len, e);
	if (!e->name) {
		free(e);
		return -ENOMEM;
	}
	s->created_regions++;
	if (dev)
		s->devices[s->nr_devices++] = dev;
	return 0;
}

/* Read the device options of io / romdevice into @cfg. */
static int device_config(msc_session *s, msc_call *c, msc_device_config *cfg, bool have_model)
{
	const msc_param *p;
	msc_word *w;
	int endian;
	bool log;

	cfg->log = -1;
	if (!have_model) {
		for (p = msc_model_params; p->kind != MSC_P_END; p++)
			if ((w = msc_opt_word(c, p->name)) != NULL)
				return msc_error(
					s, w->col,
					"option %s needs a device model (regs, const, error, dma)",
					msc_quote(s, w->text,
						  w->eq >= 0 ? (size_t)w->eq + 1 : w->len));
		return 0;
	}
	if ((w = msc_opt_word(c, "value")) != NULL) {
		if (strcmp(cfg->model, "const"))
			return msc_error(s, w->col, "value= applies only to the const model");
		if (msc_opt_number(s, c, "value", &cfg->value))
			return 1;
	}
	if ((w = msc_opt_word(c, "as")) != NULL) {
		if (strcmp(cfg->model, "dma"))
			return msc_error(s, w->col, "as= applies only to the dma model");
		if (msc_opt_as(s, c, "as", &cfg->dma_as))
			return 1;
	}
	endian = (int)cfg->endianness;
	if (msc_opt_keyword(s, c, "endian", &endian) ||
	    msc_opt_sizes(s, c, "valid", &cfg->valid_min, &cfg->valid_max) ||
	    msc_opt_sizes(s, c, "impl", &cfg->impl_min, &cfg->impl_max))
		return 1;
	cfg->endianness = (ms_endian)endian;
	cfg->unaligned = msc_opt_word(c, "unaligned") != NULL;
	cfg->secure_only = msc_opt_word(c, "secure-only") != NULL;
	if (msc_opt_word(c, "log")) {
		if (msc_opt_bool(s, c, "log", &log))
			return 1;
		cfg->log = log;
	}
	if (strcmp(cfg->model, "dma") == 0 && !cfg->dma_as) {
		if (!s->current)
			return msc_error(
				s, c->pos[2]->col,
				"a dma device needs an address space: create one first or give as=NAME");
		cfg->dma_as = s->current;
	}
	return 0;
}

int msc_parse_placement(msc_session *s, msc_call *c, msc_placement *p)
{
	msc_word *in = msc_opt_word(c, "in"), *at = msc_opt_word(c, "at"),
		 *prio = msc_opt_word(c, "prio");

	memset(p, 0, sizeof(*p));
	if ((at || prio) && !in)
		return msc_error(s, (at ? at : prio)->col, "at= and prio= need in=CONTAINER");
	if (in && !at)
		return msc_error(s, in->col, "in= needs at=ADDRESS");
	if (msc_opt_region(s, c, "in", &p->container) || msc_opt_number(s, c, "at", &p->addr) ||
	    msc_opt_prio(s, c, "prio", &p->prio))
		return 1;
	p->present = in != NULL;
	p->owner = msc_opt_word(c, "owner");
	return 0;
}

const char *msc_add_error(int rc, ms_region *container, ms_region *sub)
{
	ms_region *up;

	switch (-rc) {
	case EBUSY:
		return "the region is already in a container (del it first)";
	case EINVAL:
		return "cannot add a region to an alias or to itself";
	case ELOOP:
		for (up = container; up; up = ms_region_container(up))
			if (up == sub)
				return "the container lies inside the region being added";
		return "the view would nest deeper than 1024 levels (an alias that leads back "
		       "into itself without end)";
	default:
		return NULL;
	}
}

/* Finish a new region: owner, placement, name. On failure the region is freed. */
int msc_finish_region(msc_session *s, msc_call *c, ms_region *r, msc_device *dev,
		      const msc_placement *p, msc_memory_block *block)
{
	int rc = 0;

	if (p->owner) {
		msc_word v = msc_value_of(p->owner);

		rc = ms_region_set_owner(r, v.len ? v.text : NULL);
		if (rc)
			msc_lib_error(s, p->owner->col, "owner", rc, NULL);
	}
	if (!rc && p->present) {
		rc = ms_region_add_subregion_overlap(p->container->r, p->addr, r, p->prio);
		if (rc)
			msc_lib_error(s, msc_opt_word(c, "in")->col, "in", rc,
				      msc_add_error(rc, p->container->r, r));
	}
	if (!rc && block &&
	    msc_grow((void **)&s->blocks, &s->cap_blocks, s->nr_blocks, sizeof(*s->blocks), 16)) {
		rc = -ENOMEM;
		msc_lib_error(s, c->word->col, c->cmd->name, rc, NULL);
	}
	if (!rc) {
		rc = add_region_entry(s, c->pos[0], r, dev);
		if (rc)
			msc_lib_error(s, c->word->col, c->cmd->name, rc, NULL);
	}
	if (rc) {
		if (p->present && ms_region_container(r))
			ms_region_del_subregion(p->container->r, r);
		ms_region_unref(r);
		msc_device_free(dev);
		if (block)
			munmap(block->p, block->len);
		return 1;
	}
	if (block) {
		s->blocks[s->nr_blocks++] = *block;
		s->memory_used += block->len;
	}
	return 0;
}

int msc_check_region_budget(msc_session *s, msc_call *c)
{
	if (s->created_regions >= MSC_MAX_REGIONS)
		return msc_error(s, c->word->col,
				 "%s: too many regions (the limit is %u per session)", c->cmd->name,
				 MSC_MAX_REGIONS);
	return 0;
}

/* Does a region of @kind hold memory (counted against MSC_MAX_MEMORY)? */
static bool needs_memory(ms_region_kind kind)
{
	switch (kind) {
	case MS_REGION_RAM:
	case MS_REGION_ROM:
	case MS_REGION_ROM_DEVICE:
	case MS_REGION_RAM_DEVICE:
	case MS_REGION_RAM_PTR:
		return true;
	default:
		return false;
	}
}

/* ---- RAM backends (ram and rom options, raminfo, resize) ----------------- */

/* How raminfo prints backends. */
static const msc_name backend_names[] = {
	{"anon", MS_RAM_ANON},
	{"memfd", MS_RAM_MEMFD},
	{"file", MS_RAM_FILE},
	{"fd", MS_RAM_FD},
	{"ptr", MS_RAM_PTR},
	{"none", MS_RAM_NONE},
	{NULL, 0},
};

/* Is any backend option of ram / rom given? */
static bool has_backend_options(msc_call *c)
{
	static const char *const keys[] = {"backend", "path",     "offset",   "max",       "align",
					   "shared",  "readonly", "prealloc", "nomigrate", NULL};

	for (size_t i = 0; keys[i]; i++)
		if (msc_opt_word(c, keys[i]))
			return true;
	return false;
}

/* Option @key is given but does not apply: say so at its column. */
static int not_for(msc_session *s, msc_call *c, const char *key, const char *why)
{
	msc_word *w = msc_opt_word(c, key);

	return w ? msc_error(s, w->col, "%s%s %s", key, w->eq >= 0 ? "=" : "", why) : 0;
}

/*
 * Read the backend options into @o (name and size set by the caller), with
 * a message at the option's column for each combination backend.h refuses.
 */
static int ram_options(msc_session *s, msc_call *c, bool rom, ms_ram_opts *o)
{
	int backend = MS_RAM_ANON;
	msc_word *w;

	if (msc_opt_keyword(s, c, "backend", &backend) ||
	    msc_opt_number(s, c, "offset", &o->offset) ||
	    msc_opt_number(s, c, "max", &o->max_size) || msc_opt_number(s, c, "align", &o->align))
		return 1;
	o->backend = (ms_ram_backend)backend;
	o->fd = -1;
	o->flags = rom ? MS_RAM_ROM : 0;
	if (msc_opt_word(c, "shared"))
		o->flags |= MS_RAM_SHARED;
	if (msc_opt_word(c, "readonly"))
		o->flags |= MS_RAM_READONLY;
	if (msc_opt_word(c, "prealloc"))
		o->flags |= MS_RAM_PREALLOC;
	if (msc_opt_word(c, "nomigrate"))
		o->flags |= MS_RAM_NOT_MIGRATABLE;
	if ((w = msc_opt_word(c, "path")) != NULL) {
		msc_word v = msc_value_of(w);

		if (!v.len || memchr(v.text, '\0', v.len))
			return msc_error(s, w->col, "path= needs a file name");
		if (s->o.no_files)
			return msc_error(s, w->col, "path=: this session cannot use files");
		o->path = v.text;
	}
	if (o->backend == MS_RAM_NONE) {
		static const char *const keys[] = {"path",     "offset",   "align",     "shared",
						   "readonly", "prealloc", "nomigrate", NULL};

		for (size_t i = 0; keys[i]; i++)
			if (not_for(s, c, keys[i],
				    "does not apply to backend=none (layout only: no memory)"))
				return 1;
	}
	if (o->backend != MS_RAM_FILE && (not_for(s, c, "path", "applies only to backend=file") ||
					  not_for(s, c, "offset", "applies only to backend=file")))
		return 1;
	if (o->backend == MS_RAM_FILE && !o->path)
		return msc_error(s, msc_opt_word(c, "backend")->col,
				 "backend=file needs path=FILE");
	if (o->backend == MS_RAM_ANON &&
	    not_for(s, c, "shared",
		    "needs backend=memfd or backend=file (anonymous memory is private)"))
		return 1;
	if (o->backend == MS_RAM_MEMFD &&
	    not_for(s, c, "readonly", "does not apply to backend=memfd (a new memfd is empty)"))
		return 1;
	if (o->max_size && o->max_size < o->size)
		return msc_error(s, msc_opt_word(c, "max")->col,
				 "max=0x%" PRIx64 " is below the size 0x%" PRIx64, o->max_size,
				 o->size);
	if (o->align & (o->align - 1))
		return msc_error(s, msc_opt_word(c, "align")->col,
				 "align=0x%" PRIx64 " is not a power of two", o->align);
	return 0;
}

/* Why ms_region_new_ram_with() refused, for the errors scripts can make. */
static const char *ram_error(int rc, const ms_ram_opts *o)
{
	switch (-rc) {
	case EINVAL:
		if (o->offset % (uint64_t)sysconf(_SC_PAGESIZE))
			return "offset= must be a multiple of the file's page size";
		if (o->backend == MS_RAM_FILE && (o->flags & MS_RAM_READONLY))
			return "a readonly file must hold offset + size bytes (it cannot grow)";
		if (o->backend == MS_RAM_FILE)
			return "the path is not a regular file, or offset= is not a multiple of its "
			       "page size";
		return NULL;
	case ENOMEM:
		return "this host cannot reserve that much memory (backend=none loads the layout "
		       "only)";
	case EFBIG:
		return "the file cannot grow that large";
	case ENOSPC:
		return "no space left for the file";
	default:
		return NULL;
	}
}

int msc_do_raminfo(msc_session *s, msc_call *c)
{
	msc_region_ent *e;
	ms_ram_info info;
	FILE *o = s->o.out;

	if (msc_arg_region(s, c->pos[0], &e))
		return 1;
	if (ms_region_ram_info(e->r, &info) < 0)
		return msc_error(s, c->pos[0]->col,
				 "raminfo: %s has no memory backend (not RAM, ROM or a RAM device)",
				 e->name);
	fprintf(o,
		"raminfo %s: backend %s, fd %s, page 0x%" PRIx64 ", shared %s, readonly %s, "
		"migratable %s, size 0x%" PRIx64 ", max 0x%" PRIx64 "%s%s\n",
		e->name, msc_name_text(backend_names, (int)info.backend, "?"),
		info.fd >= 0 ? "yes" : "no", info.page_size, info.shared ? "yes" : "no",
		info.readonly ? "yes" : "no", info.migratable ? "yes" : "no", info.size,
		info.max_size, info.resizeable ? ", resizeable" : "",
		info.host ? "" : ", no memory (layout only)");
	return 0;
}

int msc_do_resize(msc_session *s, msc_call *c)
{
	msc_region_ent *e;
	ms_ram_info info;
	uint64_t size;
	int rc;

	if (msc_arg_region(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "size", false, &size))
		return 1;
	if (ms_region_ram_info(e->r, &info) < 0 || !info.resizeable)
		return msc_error(s, c->pos[0]->col,
				 "resize: %s is not resizeable RAM (create it with max=SIZE)",
				 e->name);
	if (size == 0 || size > info.max_size)
		return msc_error(s, c->pos[1]->col,
				 "resize: size 0x%" PRIx64 " is not in 1..max (0x%" PRIx64 ")",
				 size, info.max_size);
	rc = ms_region_ram_resize(e->r, size);
	if (rc)
		return msc_lib_error(s, c->word->col, "resize", rc,
				     rc == -EBUSY ? "not inside a transaction (commit first)"
						  : NULL);
	return 0;
}

/* container, io, ram, rom, romdevice, ramdevice, ramptr and iommu (without target=). */
int msc_do_region(msc_session *s, msc_call *c)
{
	ms_region_kind kind = (ms_region_kind)c->cmd->arg;
	const char *what = c->cmd->name;
	msc_device_config cfg = {0};
	msc_memory_block block = {NULL, 0}, *blockp = NULL;
	msc_placement place;
	msc_device *dev = NULL;
	ms_region *r = NULL;
	ms_ram_opts ram = {.backend = MS_RAM_ANON, .fd = -1};
	const char *why;
	uint64_t size, reserved;
	bool has_model = c->npos > 2, backend;
	int rc;

	if (msc_check_region_budget(s, c) ||
	    msc_check_new_name(s, c->pos[0], "region", &s->regions) ||
	    msc_arg_number(s, c->pos[1], "size", true, &size))
		return 1;
	if (needs_memory(kind) && size == 0)
		return msc_error(s, c->pos[1]->col, "%s: the size cannot be 0", what);
	backend = (kind == MS_REGION_RAM || kind == MS_REGION_ROM) && has_backend_options(c);
	if (backend) {
		ram.name = c->pos[0]->text;
		ram.size = size;
		if (ram_options(s, c, kind == MS_REGION_ROM, &ram))
			return 1;
	}
	/* What counts against the session's memory: the reservation, none for layout only. */
	reserved = !needs_memory(kind) || ram.backend == MS_RAM_NONE ? 0
		   : ram.max_size                                    ? ram.max_size
								     : size;
	if (reserved > MSC_MAX_MEMORY - s->memory_used)
		return msc_error(s, c->pos[1]->col,
				 "%s: size 0x%" PRIx64 " is over the memory limit (%" PRIu64
				 " MiB left of 8 GiB per session)",
				 what, reserved,
				 (uint64_t)((MSC_MAX_MEMORY - s->memory_used) >> 20));
	if (kind == MS_REGION_ROM_DEVICE && !has_model)
		return msc_error(s, c->word->col,
				 "romdevice needs a device model: romdevice NAME SIZE MODEL");
	if (has_model)
		cfg.model = c->pos[2]->text;
	if (device_config(s, c, &cfg, has_model) || msc_parse_placement(s, c, &place))
		return 1;
	if (has_model) {
		cfg.name = c->pos[0]->text;
		cfg.size = size;
		cfg.out = s->o.out;
		if (memchr(cfg.model, '\0', c->pos[2]->len) || msc_device_new(&dev, &cfg, &why))
			return msc_error(
				s, c->pos[2]->col, "device %s: %s", msc_quote_word(s, c->pos[2]),
				memchr(cfg.model, '\0', c->pos[2]->len) ? "unknown device model"
									: why);
	}
	if (kind == MS_REGION_RAM_DEVICE || kind == MS_REGION_RAM_PTR) {
		block.len = (size_t)size;
		block.p = mmap(NULL, block.len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (block.p == MAP_FAILED)
			return msc_lib_error(s, c->word->col, what, -ENOMEM, NULL);
		blockp = &block;
	}
	switch (kind) {
	case MS_REGION_CONTAINER:
		rc = ms_region_new_container(&r, s->ctx, c->pos[0]->text, size);
		break;
	case MS_REGION_IO:
		rc = ms_region_new_io(&r, s->ctx,
				      &(ms_region_io_opts){.name = c->pos[0]->text,
							   .size = size,
							   .ops = dev ? msc_device_ops(dev) : NULL,
							   .opaque = dev});
		break;
	case MS_REGION_RAM:
	case MS_REGION_ROM:
		if (backend)
			rc = ms_region_new_ram_with(&r, s->ctx, &ram);
		else if (kind == MS_REGION_RAM)
			rc = ms_region_new_ram(&r, s->ctx, c->pos[0]->text, size);
		else
			rc = ms_region_new_rom(&r, s->ctx, c->pos[0]->text, size);
		break;
	case MS_REGION_ROM_DEVICE:
		rc = ms_region_new_rom_device(&r, s->ctx,
					      &(ms_region_io_opts){.name = c->pos[0]->text,
								   .size = size,
								   .ops = msc_device_ops(dev),
								   .opaque = dev});
		break;
	case MS_REGION_RAM_DEVICE:
		rc = ms_region_new_ram_device(&r, s->ctx, c->pos[0]->text, size, block.p);
		break;
	case MS_REGION_RAM_PTR:
		rc = ms_region_new_ram_ptr(&r, s->ctx, c->pos[0]->text, size, block.p);
		break;
	default:
		rc = ms_iommu_new(&r, s->ctx,
				  &(ms_iommu_opts){.name = c->pos[0]->text, .size = size});
		break;
	}
	if (rc) {
		msc_device_free(dev);
		if (blockp)
			munmap(block.p, block.len);
		return msc_lib_error(s, c->word->col, what, rc,
				     backend ? ram_error(rc, &ram) : NULL);
	}
	if (!blockp) {
		/* Library-owned memory counts against the budget too. */
		s->memory_used += reserved;
	}
	if (msc_finish_region(s, c, r, dev, &place, blockp)) {
		if (!blockp)
			s->memory_used -= reserved;
		return 1;
	}
	return 0;
}

int msc_do_alias(msc_session *s, msc_call *c)
{
	msc_region_ent *target;
	msc_placement place;
	uint64_t offset, size;
	ms_region *r;
	int rc;

	if (msc_check_region_budget(s, c) ||
	    msc_check_new_name(s, c->pos[0], "region", &s->regions) ||
	    msc_arg_region(s, c->pos[1], &target) ||
	    msc_arg_number(s, c->pos[2], "offset", false, &offset) ||
	    msc_arg_number(s, c->pos[3], "size", true, &size) || msc_parse_placement(s, c, &place))
		return 1;
	rc = ms_region_new_alias(&r, s->ctx,
				 &(ms_region_alias_opts){.name = c->pos[0]->text,
							 .target = target->r,
							 .offset = offset,
							 .size = size});
	if (rc)
		return msc_lib_error(s, c->word->col, "alias", rc, NULL);
	return msc_finish_region(s, c, r, NULL, &place, NULL);
}
