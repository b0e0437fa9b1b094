/*
 * memspace CLI: region caches - cache, cache-read, cache-write, the
 * cache-ld* and cache-st* scalars, cache-invalidate and cache-free.
 *
 * Every access prints its ms_result and whether it took the direct path.
 * A cache keeps the address space it works in alive (as-free refuses it).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

static const char *path_name(msc_cache_ent *e, bool is_write)
{
	return ms_cache_is_direct(&e->c, is_write) ? "direct" : "slow";
}

int msc_do_cache(msc_session *s, msc_call *c)
{
	bool is_write = msc_opt_word(c, "write") != NULL;
	msc_cache_ent *e;
	uint64_t addr, len;
	ms_as *as;
	int rc;

	if (msc_check_new_name(s, c->pos[0], "cache", &s->caches) ||
	    msc_arg_number(s, c->pos[1], "address", false, &addr) ||
	    msc_arg_number(s, c->pos[2], "length", false, &len) || msc_access_as(s, c, &as))
		return 1;
	if (len == 0)
		return msc_error(s, c->pos[2]->col, "cache: the length must be at least 1");
	if (msc_check_length(s, c, c->pos[2], len, MSC_MAX_BYTES))
		return 1;
	if (len - 1 > UINT64_MAX - addr)
		return msc_error(s, c->pos[2]->col, "cache: the stretch wraps past 2^64");
	e = msc_new_entry(s, c, &s->caches, sizeof(*e), MSC_MAX_CACHES, "caches");
	if (!e)
		return 1;
	e->as = as;
	e->is_write = is_write;
	rc = ms_cache_init(&e->c, as, addr, len, is_write);
	if (rc) {
		msc_drop_new_entry(&s->caches);
		return msc_lib_error(s, c->word->col, "cache", rc, NULL);
	}
	fprintf(s->o.out, "cache %s: 0x%" PRIx64 " %" PRIu64 " %s, %s\n", e->name, addr, len,
		is_write ? "write" : "read", path_name(e, is_write));
	return 0;
}

static int cache_arg(msc_session *s, const msc_word *w, msc_cache_ent **out)
{
	*out = msc_arg_entry(s, w, &s->caches, "cache", false);
	return *out ? 0 : 1;
}

int msc_do_cache_read(msc_session *s, msc_call *c)
{
	msc_cache_ent *e;
	uint64_t off, len;
	char res[48], result[64];
	uint8_t *buf;
	ms_result r;

	if (cache_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "offset", false, &off) ||
	    msc_arg_number(s, c->pos[2], "length", false, &len))
		return 1;
	if (msc_check_length(s, c, c->pos[2], len, MSC_MAX_PRINT))
		return 1;
	buf = malloc(len ? (size_t)len : 1);
	if (!buf)
		return msc_lib_error(s, c->word->col, "cache-read", -ENOMEM, NULL);
	r = ms_cache_read(&e->c, off, buf, (size_t)len);
	msc_result_name(res, sizeof(res), r);
	snprintf(result, sizeof(result), "%s, %s", res, path_name(e, false));
	fprintf(s->o.out, "cache-read %s +0x%" PRIx64 " %" PRIu64, e->name, off, len);
	msc_print_bytes(s, off, buf, (size_t)len, result);
	free(buf);
	return 0;
}

int msc_do_cache_write(msc_session *s, msc_call *c)
{
	uint8_t buf[MSC_MAX_LINE];
	msc_cache_ent *e;
	char res[48];
	uint64_t off;
	ms_result r;
	size_t len;

	if (cache_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "offset", false, &off) ||
	    msc_arg_data(s, c, 2, buf, sizeof(buf), &len))
		return 1;
	r = ms_cache_write(&e->c, off, buf, len);
	msc_result_name(res, sizeof(res), r);
	fprintf(s->o.out, "cache-write %s +0x%" PRIx64 " %zu byte%s (%s, %s)\n", e->name, off, len,
		len == 1 ? "" : "s", res, path_name(e, true));
	return 0;
}

int msc_do_cache_ld(msc_session *s, msc_call *c)
{
	unsigned size = (unsigned)c->cmd->arg;
	msc_cache_ent *e;
	uint64_t off, v;
	ms_result r = 0;
	char res[48];
	bool be;

	if (cache_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "offset", false, &off) ||
	    msc_opt_big_endian(s, c, &be))
		return 1;
	switch (size) {
	case 1:
		v = ms_cache_ldub(&e->c, off, &r);
		break;
	case 2:
		v = be ? ms_cache_lduw_be(&e->c, off, &r) : ms_cache_lduw_le(&e->c, off, &r);
		break;
	case 4:
		v = be ? ms_cache_ldl_be(&e->c, off, &r) : ms_cache_ldl_le(&e->c, off, &r);
		break;
	default:
		v = be ? ms_cache_ldq_be(&e->c, off, &r) : ms_cache_ldq_le(&e->c, off, &r);
		break;
	}
	msc_result_name(res, sizeof(res), r);
	fprintf(s->o.out, "%s %s +0x%" PRIx64 "%s -> 0x%0*" PRIx64 " (%s, %s)\n", c->cmd->name,
		e->name, off, size > 1 ? (be ? " be" : " le") : "", (int)size * 2, v, res,
		path_name(e, false));
	return 0;
}

int msc_do_cache_st(msc_session *s, msc_call *c)
{
	unsigned size = (unsigned)c->cmd->arg;
	msc_cache_ent *e;
	uint64_t off, v;
	char res[48];
	ms_result r;
	bool be;

	if (cache_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "offset", false, &off) ||
	    msc_arg_number(s, c->pos[2], "value", false, &v) || msc_opt_big_endian(s, c, &be))
		return 1;
	if (msc_check_fits(s, c, c->pos[2], v, size))
		return 1;
	switch (size) {
	case 1:
		r = ms_cache_stb(&e->c, off, (uint8_t)v);
		break;
	case 2:
		r = be ? ms_cache_stw_be(&e->c, off, (uint16_t)v)
		       : ms_cache_stw_le(&e->c, off, (uint16_t)v);
		break;
	case 4:
		r = be ? ms_cache_stl_be(&e->c, off, (uint32_t)v)
		       : ms_cache_stl_le(&e->c, off, (uint32_t)v);
		break;
	default:
		r = be ? ms_cache_stq_be(&e->c, off, v) : ms_cache_stq_le(&e->c, off, v);
		break;
	}
	msc_result_name(res, sizeof(res), r);
	fprintf(s->o.out, "%s %s +0x%" PRIx64 "%s 0x%0*" PRIx64 " (%s, %s)\n", c->cmd->name,
		e->name, off, size > 1 ? (be ? " be" : " le") : "", (int)size * 2, v, res,
		path_name(e, true));
	return 0;
}

int msc_do_cache_invalidate(msc_session *s, msc_call *c)
{
	msc_cache_ent *e;

	if (cache_arg(s, c->pos[0], &e))
		return 1;
	ms_cache_invalidate(&e->c);
	return 0;
}

int msc_do_cache_free(msc_session *s, msc_call *c)
{
	msc_cache_ent *e;

	if (cache_arg(s, c->pos[0], &e))
		return 1;
	msc_table_remove(&s->caches, msc_table_index_of(&s->caches, e));
	ms_cache_destroy(&e->c);
	free(e);
	return 0;
}
