/*
 * memspace CLI: the TZ-MPC-like filter (models/mpc.h) - mpc, mpc-lut-set,
 * mpc-lut-get, mpc-info - and the vhost-like device IOTLB
 * (models/devtlb.h) - devtlb, devtlb-read, devtlb-write, devtlb-flush,
 * devtlb-info.
 *
 * An MPC's IOMMU region is entered in the regions table under the MPC's
 * name (with a reference of the session), so that it can be placed like
 * any region; its downstream region must stand alone (in no container).
 * MPCs and device IOTLBs live until the session ends; as-free refuses the
 * address space a device IOTLB follows. Blocked accesses are output, not
 * errors: the access commands print their result, mpc-info the counts.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

/* ---- the MPC -------------------------------------------------------------------- */

static int mpc_arg(msc_session *s, const msc_word *w, msc_mpc_ent **out)
{
	*out = msc_arg_entry(s, w, &s->mpcs, "MPC", true);
	return *out ? 0 : 1;
}

/* mpc NAME DOWNSTREAM BLOCK [raz] [in=C at=ADDR [prio=N]] [owner=TEXT] */
int msc_do_mpc(msc_session *s, msc_call *c)
{
	msc_region_ent *down;
	msc_placement place;
	uint64_t block, size;
	msc_mpc_ent *e;
	ms_region *r;
	int rc;

	if (msc_check_region_budget(s, c) ||
	    msc_check_new_name(s, c->pos[0], "region", &s->regions) ||
	    msc_check_new_name(s, c->pos[0], "MPC", &s->mpcs) ||
	    msc_arg_region(s, c->pos[1], &down) ||
	    msc_arg_number(s, c->pos[2], "block size", false, &block) ||
	    msc_parse_placement(s, c, &place))
		return 1;
	if (ms_region_container(down->r))
		return msc_error(s, c->pos[1]->col,
				 "mpc: region %s is placed in %s; the downstream region must stand "
				 "alone (the MPC takes its place)",
				 msc_quote_word(s, c->pos[1]),
				 msc_quote_str(s, ms_region_name(ms_region_container(down->r))));
	if (block < MS_MPC_MIN_BLOCK || (block & (block - 1)))
		return msc_error(s, c->pos[2]->col,
				 "mpc: the block size must be a power of two of at least %" PRIu64
				 ", not 0x%" PRIx64,
				 (uint64_t)MS_MPC_MIN_BLOCK, block);
	size = ms_region_size(down->r);
	if (size == MS_SIZE_2_64 || (size & (block - 1)))
		return msc_error(s, c->pos[2]->col,
				 "mpc: region %s (0x%" PRIx64
				 " bytes) is not a whole number of blocks of 0x%" PRIx64,
				 msc_quote_word(s, c->pos[1]), size, block);
	if (size / block > MSC_MAX_MPC_BLOCKS)
		return msc_error(s, c->pos[2]->col,
				 "mpc: %" PRIu64 " blocks is over the limit of %u per MPC",
				 size / block, MSC_MAX_MPC_BLOCKS);
	e = msc_new_entry(s, c, &s->mpcs, sizeof(*e), MSC_MAX_MPCS, "MPCs");
	if (!e)
		return 1;
	e->downstream = down->r;
	rc = ms_mpc_new(&e->m, s->ctx,
			&(ms_mpc_opts){.name = c->pos[0]->text,
				       .downstream = down->r,
				       .block_size = block,
				       .raz_wi = msc_opt_word(c, "raz") != NULL});
	if (rc) {
		msc_drop_new_entry(&s->mpcs);
		return msc_lib_error(s, c->word->col, "mpc", rc, NULL);
	}
	r = ms_region_ref(ms_mpc_region(e->m));
	if (msc_finish_region(s, c, r, NULL, &place, NULL)) {
		ms_mpc_free(e->m);
		msc_drop_new_entry(&s->mpcs);
		return 1;
	}
	return 0;
}

/* FIRST [COUNT] of mpc-lut-set and mpc-lut-get: blocks inside the MPC. */
static int block_range(msc_session *s, msc_call *c, msc_mpc_ent *e, size_t at, uint64_t *first,
		       uint64_t *count)
{
	ms_mpc_stats st;

	(void)ms_mpc_get_stats(&st, e->m);
	*count = 1;
	if (msc_arg_number(s, c->pos[at], "block", false, first) ||
	    (c->npos > at + 1 && msc_arg_number(s, c->pos[at + 1], "count", false, count)))
		return 1;
	if (*first >= st.nr_blocks)
		return msc_error(s, c->pos[at]->col, "%s: MPC %s has blocks 0 to %" PRIu64,
				 c->cmd->name, msc_quote_str(s, e->name), st.nr_blocks - 1);
	if (*count == 0)
		return msc_error(s, c->pos[at + 1]->col, "%s: the count cannot be 0", c->cmd->name);
	if (*count > st.nr_blocks - *first)
		return msc_error(s, c->pos[at + 1]->col,
				 "%s: %" PRIu64 " blocks from %" PRIu64
				 " run past the last (%" PRIu64 ")",
				 c->cmd->name, *count, *first, st.nr_blocks - 1);
	return 0;
}

/* mpc-lut-set MPC secure|nonsecure FIRST [COUNT] */
int msc_do_mpc_lut_set(msc_session *s, msc_call *c)
{
	uint64_t first, count;
	msc_mpc_ent *e;
	bool ns;
	int rc;

	if (mpc_arg(s, c->pos[0], &e))
		return 1;
	if (c->pos[1]->len == 6 && memcmp(c->pos[1]->text, "secure", 6) == 0)
		ns = false;
	else if (c->pos[1]->len == 9 && memcmp(c->pos[1]->text, "nonsecure", 9) == 0)
		ns = true;
	else
		return msc_error(s, c->pos[1]->col,
				 "mpc-lut-set: the world is secure or nonsecure, not %s",
				 msc_quote_word(s, c->pos[1]));
	if (block_range(s, c, e, 2, &first, &count))
		return 1;
	rc = ms_mpc_lut_set(e->m, first, count, ns);
	if (rc < 0)
		return msc_lib_error(s, c->word->col, "mpc-lut-set", rc, NULL);
	fprintf(s->o.out, "mpc-lut-set %s: %d block%s changed\n", e->name, rc, rc == 1 ? "" : "s");
	return 0;
}

/* mpc-lut-get MPC FIRST [COUNT]: one letter per block, S or N. */
int msc_do_mpc_lut_get(msc_session *s, msc_call *c)
{
	uint64_t first, count;
	msc_mpc_ent *e;

	if (mpc_arg(s, c->pos[0], &e) || block_range(s, c, e, 1, &first, &count))
		return 1;
	if (count > MSC_MAX_PRINT)
		return msc_error(s, c->pos[2]->col, "mpc-lut-get: at most %u blocks at once",
				 MSC_MAX_PRINT);
	fprintf(s->o.out, "mpc-lut-get %s %" PRIu64 "-%" PRIu64 ": ", e->name, first,
		first + count - 1);
	for (uint64_t b = first; b < first + count; b++) {
		bool ns = false;

		(void)ms_mpc_lut_get(&ns, e->m, b);
		fputc(ns ? 'N' : 'S', s->o.out);
	}
	fputc('\n', s->o.out);
	return 0;
}

/* mpc-info MPC [clear]: geometry, blocked-access counts, the latched fault. */
int msc_do_mpc_info(msc_session *s, msc_call *c)
{
	FILE *o = s->o.out;
	ms_mpc_stats st;
	msc_mpc_ent *e;
	int rc;

	if (mpc_arg(s, c->pos[0], &e))
		return 1;
	rc = ms_mpc_get_stats(&st, e->m);
	if (rc)
		return msc_lib_error(s, c->word->col, "mpc-info", rc, NULL);
	fprintf(o,
		"mpc-info %s: downstream %s, %" PRIu64 " blocks of 0x%" PRIx64 ", %" PRIu64
		" nonsecure\n",
		e->name, ms_region_name(e->downstream), st.nr_blocks, st.block_size,
		st.nr_nonsecure);
	fprintf(o,
		"  blocked: %" PRIu64 " read%s, %" PRIu64 " write%s (%" PRIu64 " secure, %" PRIu64
		" nonsecure)\n",
		st.blocked_reads, st.blocked_reads == 1 ? "" : "s", st.blocked_writes,
		st.blocked_writes == 1 ? "" : "s", st.blocked_secure, st.blocked_nonsecure);
	if (st.irq_pending)
		fprintf(o, "  irq pending: first fault %s of %u at 0x%" PRIx64 " (%s)\n",
			st.first_fault.is_write ? "write" : "read", st.first_fault.size,
			st.first_fault.addr, st.first_fault.secure ? "secure" : "nonsecure");
	else
		fputs("  irq clear\n", o);
	if (msc_opt_word(c, "clear")) {
		(void)ms_mpc_irq_clear(e->m);
		fputs("  irq cleared\n", o);
	}
	return 0;
}

/* ---- the device IOTLB ----------------------------------------------------------- */

static int devtlb_arg(msc_session *s, const msc_word *w, msc_devtlb_ent **out)
{
	*out = msc_arg_entry(s, w, &s->devtlbs, "device IOTLB", true);
	return *out ? 0 : 1;
}

/* devtlb NAME AS [entries=N] [ATTRS] */
int msc_do_devtlb(msc_session *s, msc_call *c)
{
	uint64_t entries = MS_DEVTLB_DEFAULT_ENTRIES;
	msc_devtlb_ent *e;
	ms_attrs attrs;
	ms_as *as;
	int rc;

	if (msc_check_new_name(s, c->pos[0], "device IOTLB", &s->devtlbs) ||
	    msc_arg_as(s, c->pos[1], &as) || msc_opt_number(s, c, "entries", &entries) ||
	    msc_access_attrs(s, c, &attrs))
		return 1;
	if (entries == 0 || (entries & (entries - 1)) || entries > MS_DEVTLB_MAX_ENTRIES)
		return msc_error(s, msc_value_of(msc_opt_word(c, "entries")).col,
				 "devtlb: entries= takes a power of two up to %u, not %" PRIu64,
				 MS_DEVTLB_MAX_ENTRIES, entries);
	e = msc_new_entry(s, c, &s->devtlbs, sizeof(*e), MSC_MAX_DEVTLBS, "device IOTLBs");
	if (!e)
		return 1;
	rc = ms_devtlb_new(
		&e->d, s->ctx,
		&(ms_devtlb_opts){.as = as, .attrs = attrs, .nr_entries = (unsigned)entries});
	if (rc) {
		msc_drop_new_entry(&s->devtlbs);
		return msc_lib_error(s, c->word->col, "devtlb", rc,
				     rc == -ENOSPC ? "the address space shows more than 16 IOMMU "
						     "ranges"
						   : NULL);
	}
	e->as = as;
	return 0;
}

/* devtlb-read NAME ADDR LEN, devtlb-write NAME ADDR DATA... (the command's arg: write) */
int msc_do_devtlb_rw(msc_session *s, msc_call *c)
{
	bool is_write = c->cmd->arg;
	uint8_t data[MSC_MAX_LINE], *buf;
	msc_devtlb_ent *e;
	uint64_t addr, len;
	ms_result res;
	char result[64];

	if (devtlb_arg(s, c->pos[0], &e) || msc_arg_number(s, c->pos[1], "address", false, &addr))
		return 1;
	if (msc_arg_transfer(s, c, is_write, data, &buf, &len))
		return 1;
	if (is_write) {
		res = ms_devtlb_write(e->d, addr, buf, (size_t)len);
		msc_result_name(result, sizeof(result), res);
		fprintf(s->o.out, "devtlb-write %s 0x%" PRIx64 " %" PRIu64 " byte%s (%s)\n",
			e->name, addr, len, len == 1 ? "" : "s", result);
		return 0;
	}
	res = ms_devtlb_read(e->d, addr, buf, (size_t)len);
	msc_result_name(result, sizeof(result), res);
	fprintf(s->o.out, "devtlb-read %s 0x%" PRIx64 " %" PRIu64, e->name, addr, len);
	msc_print_bytes(s, addr, buf, (size_t)len, result);
	free(buf);
	return 0;
}

/* devtlb-flush NAME */
int msc_do_devtlb_flush(msc_session *s, msc_call *c)
{
	msc_devtlb_ent *e;
	int rc;

	if (devtlb_arg(s, c->pos[0], &e))
		return 1;
	rc = ms_devtlb_flush(e->d);
	if (rc)
		return msc_lib_error(s, c->word->col, "devtlb-flush", rc, NULL);
	return 0;
}

/* devtlb-info NAME */
int msc_do_devtlb_info(msc_session *s, msc_call *c)
{
	ms_devtlb_stats st;
	msc_devtlb_ent *e;
	int rc;

	if (devtlb_arg(s, c->pos[0], &e))
		return 1;
	rc = ms_devtlb_get_stats(&st, e->d);
	if (rc)
		return msc_lib_error(s, c->word->col, "devtlb-info", rc, NULL);
	fprintf(s->o.out,
		"devtlb-info %s: address space %s, %" PRIu64 " of %u entries cached, %u IOMMU "
		"range%s followed (%u with device-IOTLB invalidations)\n",
		e->name, ms_as_name(e->as), st.nr_cached, st.nr_entries, st.nr_iommus,
		st.nr_iommus == 1 ? "" : "s", st.nr_deviotlb);
	fprintf(s->o.out,
		"  %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64 " faults, %" PRIu64
		" invalidations dropping %" PRIu64 " entries\n",
		st.hits, st.misses, st.faults, st.invalidations, st.entries_dropped);
	return 0;
}
