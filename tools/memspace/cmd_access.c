/*
 * memspace CLI: accesses through an address space - read, write, load,
 * fill, the ld* and st* scalars, translate, valid and access-depth.
 *
 * Every access prints its ms_result; a refused access is output, not an
 * error. Lengths are bounded (MSC_MAX_BYTES, MSC_MAX_PRINT) before any
 * buffer is allocated. The access width of ld* and st* is the command's arg.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

int msc_do_read(msc_session *s, msc_call *c)
{
	char res[48];
	uint64_t addr, len;
	ms_attrs attrs;
	uint8_t *buf;
	ms_result r;
	ms_as *as;

	if (msc_access_range(s, c, &addr, &len, &as, &attrs))
		return 1;
	if (msc_check_length(s, c, c->pos[1], len, MSC_MAX_PRINT))
		return 1;
	buf = malloc(len ? (size_t)len : 1);
	if (!buf)
		return msc_lib_error(s, c->word->col, "read", -ENOMEM, NULL);
	r = ms_as_read(as, addr, attrs, buf, (size_t)len);
	msc_result_name(res, sizeof(res), r);
	fprintf(s->o.out, "read 0x%" PRIx64 " %" PRIu64, addr, len);
	msc_print_bytes(s, addr, buf, (size_t)len, res);
	free(buf);
	return 0;
}

int msc_do_write(msc_session *s, msc_call *c)
{
	bool load = c->cmd->arg == MSC_WRITE_LOADER;
	uint8_t buf[MSC_MAX_LINE];
	char res[48];
	uint64_t addr;
	ms_attrs attrs = MS_ATTRS_UNSPECIFIED;
	size_t len;
	ms_result r;
	ms_as *as;

	if (msc_arg_number(s, c->pos[0], "address", false, &addr) ||
	    msc_arg_data(s, c, 1, buf, sizeof(buf), &len) || msc_access_as(s, c, &as) ||
	    (!load && msc_access_attrs(s, c, &attrs)))
		return 1;
	r = load ? ms_as_write_rom(as, addr, buf, len) : ms_as_write(as, addr, attrs, buf, len);
	msc_result_name(res, sizeof(res), r);
	fprintf(s->o.out, "%s 0x%" PRIx64 " %zu byte%s (%s)\n", c->cmd->name, addr, len,
		len == 1 ? "" : "s", res);
	return 0;
}

int msc_do_fill(msc_session *s, msc_call *c)
{
	uint64_t addr, len, byte;
	char res[48];
	ms_attrs attrs;
	ms_result r;
	ms_as *as;

	if (msc_arg_number(s, c->pos[0], "address", false, &addr) ||
	    msc_arg_number(s, c->pos[1], "length", false, &len) ||
	    msc_arg_number(s, c->pos[2], "byte", false, &byte) || msc_access_as(s, c, &as) ||
	    msc_access_attrs(s, c, &attrs))
		return 1;
	if (msc_check_length(s, c, c->pos[1], len, MSC_MAX_BYTES))
		return 1;
	if (byte > 0xff)
		return msc_error(s, c->pos[2]->col, "fill: 0x%" PRIx64 " does not fit in a byte",
				 byte);
	r = ms_as_set(as, addr, attrs, (uint8_t)byte, (size_t)len);
	msc_result_name(res, sizeof(res), r);
	fprintf(s->o.out, "fill 0x%" PRIx64 " %" PRIu64 " 0x%02x (%s)\n", addr, len, (unsigned)byte,
		res);
	return 0;
}

int msc_do_ld(msc_session *s, msc_call *c)
{
	unsigned size = (unsigned)c->cmd->arg;
	uint64_t addr, v = 0;
	ms_result r = 0;
	char res[48];
	ms_attrs attrs;
	ms_as *as;
	bool be;

	if (msc_arg_number(s, c->pos[0], "address", false, &addr) || msc_access_as(s, c, &as) ||
	    msc_access_attrs(s, c, &attrs) || msc_opt_big_endian(s, c, &be))
		return 1;
	switch (size) {
	case 1:
		v = ms_as_ldub(as, addr, attrs, &r);
		break;
	case 2:
		v = be ? ms_as_lduw_be(as, addr, attrs, &r) : ms_as_lduw_le(as, addr, attrs, &r);
		break;
	case 4:
		v = be ? ms_as_ldl_be(as, addr, attrs, &r) : ms_as_ldl_le(as, addr, attrs, &r);
		break;
	default:
		v = be ? ms_as_ldq_be(as, addr, attrs, &r) : ms_as_ldq_le(as, addr, attrs, &r);
		break;
	}
	msc_result_name(res, sizeof(res), r);
	fprintf(s->o.out, "%s 0x%" PRIx64 "%s -> 0x%0*" PRIx64 " (%s)\n", c->cmd->name, addr,
		size > 1 ? (be ? " be" : " le") : "", (int)size * 2, v, res);
	return 0;
}

int msc_do_st(msc_session *s, msc_call *c)
{
	unsigned size = (unsigned)c->cmd->arg;
	uint64_t addr, v;
	ms_result r;
	char res[48];
	ms_attrs attrs;
	ms_as *as;
	bool be;

	if (msc_arg_number(s, c->pos[0], "address", false, &addr) ||
	    msc_arg_number(s, c->pos[1], "value", false, &v) || msc_access_as(s, c, &as) ||
	    msc_access_attrs(s, c, &attrs) || msc_opt_big_endian(s, c, &be))
		return 1;
	if (msc_check_fits(s, c, c->pos[1], v, size))
		return 1;
	switch (size) {
	case 1:
		r = ms_as_stb(as, addr, attrs, (uint8_t)v);
		break;
	case 2:
		r = be ? ms_as_stw_be(as, addr, attrs, (uint16_t)v)
		       : ms_as_stw_le(as, addr, attrs, (uint16_t)v);
		break;
	case 4:
		r = be ? ms_as_stl_be(as, addr, attrs, (uint32_t)v)
		       : ms_as_stl_le(as, addr, attrs, (uint32_t)v);
		break;
	default:
		r = be ? ms_as_stq_be(as, addr, attrs, v) : ms_as_stq_le(as, addr, attrs, v);
		break;
	}
	msc_result_name(res, sizeof(res), r);
	fprintf(s->o.out, "%s 0x%" PRIx64 "%s 0x%0*" PRIx64 " (%s)\n", c->cmd->name, addr,
		size > 1 ? (be ? " be" : " le") : "", (int)size * 2, v, res);
	return 0;
}

int msc_do_translate(msc_session *s, msc_call *c)
{
	uint64_t addr, len = UINT64_MAX;
	ms_section sec;
	ms_attrs attrs;
	ms_as *as;
	int rc;

	if (msc_arg_number(s, c->pos[0], "address", false, &addr) ||
	    (c->npos > 1 && msc_arg_number(s, c->pos[1], "length", false, &len)) ||
	    msc_access_as(s, c, &as) || msc_access_attrs(s, c, &attrs))
		return 1;
	if (len == 0)
		return msc_error(s, c->pos[1]->col, "translate: the length must be at least 1");
	ms_rcu_read_lock();
	rc = ms_as_translate(
		&sec, &len, as, addr,
		&(ms_access_opts){.is_write = msc_opt_word(c, "write") != NULL, .attrs = attrs});
	if (rc == 0) {
		fprintf(s->o.out,
			"translate 0x%" PRIx64 " -> %s +0x%" PRIx64 ", 0x%" PRIx64 " bytes (%s",
			addr, ms_region_name(sec.region), sec.offset_in_region, len,
			msc_section_type(&sec));
		msc_print_section_flags(s->o.out, &sec);
		fputs(")\n", s->o.out);
	}
	ms_rcu_read_unlock();
	if (rc == -ENOENT)
		fprintf(s->o.out, "translate 0x%" PRIx64 " -> nothing, 0x%" PRIx64 " bytes\n", addr,
			len);
	else if (rc)
		return msc_lib_error(s, c->word->col, "translate", rc, NULL);
	return 0;
}

int msc_do_valid(msc_session *s, msc_call *c)
{
	uint64_t addr, len;
	ms_attrs attrs;
	ms_as *as;
	bool w = msc_opt_word(c, "write") != NULL;

	if (msc_access_range(s, c, &addr, &len, &as, &attrs))
		return 1;
	if (msc_check_length(s, c, c->pos[1], len, MSC_MAX_BYTES))
		return 1;
	fprintf(s->o.out, "valid 0x%" PRIx64 " %" PRIu64 " %s -> %s\n", addr, len,
		w ? "write" : "read",
		ms_as_access_valid(as, addr, (size_t)len, w, attrs) ? "yes" : "no");
	return 0;
}

int msc_do_access_depth(msc_session *s, msc_call *c)
{
	uint64_t n;

	if (msc_arg_number(s, c->pos[0], "depth", false, &n))
		return 1;
	if (n == 0 || n > 64)
		return msc_error(s, c->pos[0]->col, "access-depth: give 1 to 64");
	return ms_ctx_set_max_access_depth(s->ctx, (unsigned)n) ? 1 : 0;
}
