/*
 * memspace CLI: DMA - map, map-read, map-write, unmap, bounce-budget and
 * map clients.
 *
 * Mappings are numbered from 1 for the whole session and live in a fixed
 * table (MSC_MAX_MAPPINGS); unmap takes the mapping out of the table before
 * it calls the library, so a failed unmap is still forgotten.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

int msc_do_map(msc_session *s, msc_call *c)
{
	bool is_write = msc_opt_word(c, "write") != NULL, direct = false;
	uint64_t addr, len, got, tlen = 1;
	msc_mapping *m;
	ms_section sec;
	ms_attrs attrs;
	ms_as *as;
	void *p;

	if (msc_access_range(s, c, &addr, &len, &as, &attrs))
		return 1;
	if (msc_check_length(s, c, c->pos[1], len, MSC_MAX_BYTES))
		return 1;
	if (s->nr_mappings == MSC_MAX_MAPPINGS)
		return msc_error(s, c->word->col, "map: too many live mappings (the limit is %u)",
				 MSC_MAX_MAPPINGS);
	got = len;
	p = ms_as_map(as, addr, &got, is_write, attrs);
	if (!p) {
		fprintf(s->o.out, "map 0x%" PRIx64 " %" PRIu64 " %s -> nothing mapped\n", addr, len,
			is_write ? "write" : "read");
		return 0;
	}
	m = &s->mappings[s->nr_mappings++];
	m->id = ++s->next_map_id;
	m->as = as;
	m->p = p;
	m->addr = addr;
	m->len = got;
	m->is_write = is_write;
	fprintf(s->o.out, "map %lu: 0x%" PRIx64 " %" PRIu64 " %s", m->id, addr, got,
		is_write ? "write" : "read");
	ms_rcu_read_lock();
	if (ms_as_translate(&sec, &tlen, as, addr,
			    &(ms_access_opts){.is_write = is_write, .attrs = attrs}) == 0) {
		uint8_t *ram = ms_region_ram_ptr(sec.region);

		direct = ram && (uint8_t *)p == ram + sec.offset_in_region;
		fprintf(s->o.out, " %s (%s +0x%" PRIx64 ")\n", direct ? "direct" : "bounce",
			ms_region_name(sec.region), sec.offset_in_region);
	} else {
		fputs(" bounce\n", s->o.out);
	}
	ms_rcu_read_unlock();
	return 0;
}

static int mapping_arg(msc_session *s, const msc_word *w, msc_mapping **out)
{
	uint64_t id;
	size_t i;

	if (msc_arg_number(s, w, "mapping id", false, &id))
		return 1;
	for (i = 0; i < s->nr_mappings; i++) {
		if (s->mappings[i].id == id) {
			*out = &s->mappings[i];
			return 0;
		}
	}
	return msc_error(s, w->col, "no live mapping %" PRIu64, id);
}

int msc_do_map_read(msc_session *s, msc_call *c)
{
	msc_mapping *m;
	uint64_t off, len;

	if (mapping_arg(s, c->pos[0], &m) || msc_arg_number(s, c->pos[1], "offset", false, &off) ||
	    msc_arg_number(s, c->pos[2], "length", false, &len))
		return 1;
	if (off > m->len || len > m->len - off)
		return msc_error(s, c->pos[2]->col,
				 "map-read: past the end of mapping %lu (%" PRIu64 " bytes)", m->id,
				 m->len);
	if (msc_check_length(s, c, c->pos[2], len, MSC_MAX_PRINT))
		return 1;
	fprintf(s->o.out, "map-read %lu +0x%" PRIx64 " %" PRIu64 ":\n", m->id, off, len);
	msc_hexdump(s, m->addr + off, (const uint8_t *)m->p + off, (size_t)len);
	return 0;
}

int msc_do_map_write(msc_session *s, msc_call *c)
{
	uint8_t buf[MSC_MAX_LINE];
	msc_mapping *m;
	uint64_t off;
	size_t len;

	if (mapping_arg(s, c->pos[0], &m) || msc_arg_number(s, c->pos[1], "offset", false, &off) ||
	    msc_arg_data(s, c, 2, buf, sizeof(buf), &len))
		return 1;
	if (!m->is_write)
		return msc_error(s, c->pos[0]->col, "map-write: mapping %lu is a read mapping",
				 m->id);
	if (off > m->len || len > m->len - off)
		return msc_error(s, c->pos[1]->col,
				 "map-write: past the end of mapping %lu (%" PRIu64 " bytes)",
				 m->id, m->len);
	memcpy((uint8_t *)m->p + off, buf, len);
	fprintf(s->o.out, "map-write %lu +0x%" PRIx64 " %zu byte%s\n", m->id, off, len,
		len == 1 ? "" : "s");
	return 0;
}

int msc_do_unmap(msc_session *s, msc_call *c)
{
	msc_mapping *m, copy;
	uint64_t written;
	int rc;

	if (mapping_arg(s, c->pos[0], &m))
		return 1;
	written = m->is_write ? m->len : 0;
	if (c->npos > 1 && msc_arg_number(s, c->pos[1], "length written", false, &written))
		return 1;
	if (written > m->len)
		return msc_error(s, c->pos[1]->col, "unmap: mapping %lu has only %" PRIu64 " bytes",
				 m->id, m->len);
	copy = *m;
	*m = s->mappings[--s->nr_mappings];
	fprintf(s->o.out, "unmap %lu\n", copy.id);
	rc = ms_as_unmap(copy.as, copy.p, copy.len, copy.is_write, written);
	if (rc)
		return msc_lib_error(s, c->word->col, "unmap", rc, NULL);
	return 0;
}

int msc_do_bounce_budget(msc_session *s, msc_call *c)
{
	uint64_t n;
	ms_as *as;

	if (msc_arg_number(s, c->pos[0], "budget", false, &n) || msc_access_as(s, c, &as))
		return 1;
	if (n < MS_BOUNCE_BUDGET_MIN || n > MSC_MAX_BOUNCE_BUDGET)
		return msc_error(s, c->pos[0]->col, "bounce-budget: give 4K to 16M");
	return ms_as_set_bounce_budget(as, (size_t)n)
		       ? msc_lib_error(s, c->word->col, "bounce-budget", -EINVAL, NULL)
		       : 0;
}

static void client_called(void *opaque)
{
	msc_client_ent *e = opaque;

	fprintf(e->s->o.out, "[map-client %s] bounce budget available\n", e->name);
}

int msc_do_map_client(msc_session *s, msc_call *c)
{
	msc_client_ent *e;
	ms_as *as;
	int rc;

	if (msc_check_new_name(s, c->pos[0], "map client", &s->clients) || msc_access_as(s, c, &as))
		return 1;
	e = msc_new_entry(s, c, &s->clients, sizeof(*e), MSC_MAX_MAP_CLIENTS, "map clients");
	if (!e)
		return 1;
	e->s = s;
	e->as = as;
	rc = ms_as_register_map_client(&e->c, as, client_called, e);
	if (rc) {
		msc_drop_new_entry(&s->clients);
		return msc_lib_error(s, c->word->col, "map-client", rc, NULL);
	}
	return 0;
}

int msc_do_map_client_free(msc_session *s, msc_call *c)
{
	msc_client_ent *e = msc_arg_entry(s, c->pos[0], &s->clients, "map client", false);

	if (!e)
		return 1;
	msc_table_remove(&s->clients, msc_table_index_of(&s->clients, e));
	ms_as_unregister_map_client(e->c);
	free(e);
	return 0;
}
