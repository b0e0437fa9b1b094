/*
 * memspace CLI: listeners that print their callbacks, and dirty logging
 * (dirty-log, log-global, log-sync).
 *
 * A listener entry owns the ops table the library holds, so it is freed
 * only after it is unregistered (or after the context, at the end of the
 * session). Callbacks print to the session's output stream, except while
 * the session is being freed: what the teardown changes is not the script's.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script_int.h"

/* A callback about a section: "[NAME] EVENT START-LAST TYPE REGION [@OFFSET] [FLAGS]". */
static void print_section(msc_listener_ent *e, const char *what, const ms_section *sec)
{
	FILE *o = e->s->o.out;

	if (e->s->closing)
		return;
	fprintf(o, "[%s] %s %016" PRIx64 "-%016" PRIx64 " %s %s", e->name, what, sec->start,
		sec->last, msc_section_type(sec), ms_region_name(sec->region));
	if (sec->offset_in_region)
		fprintf(o, " @0x%" PRIx64, sec->offset_in_region);
	msc_print_section_flags(o, sec);
	if (sec->dirty_log_mask)
		fprintf(o, " dirty-log=0x%x", sec->dirty_log_mask);
	fputc('\n', o);
}

/* A callback without a section: "[NAME] EVENT". */
static void print_event(msc_listener_ent *e, const char *what)
{
	if (e->s->closing)
		return;
	fprintf(e->s->o.out, "[%s] %s\n", e->name, what);
}

static void on_begin(void *opaque)
{
	print_event(opaque, "begin");
}

static void on_commit(void *opaque)
{
	print_event(opaque, "commit");
}

static void on_add(const ms_section *sec, void *opaque)
{
	print_section(opaque, "region_add", sec);
}

static void on_del(const ms_section *sec, void *opaque)
{
	print_section(opaque, "region_del", sec);
}

static void on_nop(const ms_section *sec, void *opaque)
{
	msc_listener_ent *e = opaque;

	if (e->show_nop)
		print_section(e, "region_nop", sec);
}

static void on_log_start(const ms_section *sec, uint8_t old_mask, uint8_t new_mask, void *opaque)
{
	(void)old_mask;
	(void)new_mask;
	print_section(opaque, "log_start", sec);
}

static void on_log_stop(const ms_section *sec, uint8_t old_mask, uint8_t new_mask, void *opaque)
{
	(void)old_mask;
	(void)new_mask;
	print_section(opaque, "log_stop", sec);
}

static void on_log_sync(const ms_section *sec, void *opaque)
{
	print_section(opaque, "log_sync", sec);
}

static void on_global_start(void *opaque)
{
	print_event(opaque, "log_global_start");
}

static void on_global_stop(void *opaque)
{
	print_event(opaque, "log_global_stop");
}

static void print_coalesced(msc_listener_ent *e, const char *what, const ms_section *sec,
			    uint64_t addr, uint64_t size)
{
	if (e->s->closing)
		return;
	fprintf(e->s->o.out, "[%s] %s %016" PRIx64 "+0x%" PRIx64 " in %s\n", e->name, what, addr,
		size, ms_region_name(sec->region));
}

static void on_coalesced_add(const ms_section *sec, uint64_t addr, uint64_t size, void *opaque)
{
	print_coalesced(opaque, "coalesced_io_add", sec, addr, size);
}

static void on_coalesced_del(const ms_section *sec, uint64_t addr, uint64_t size, void *opaque)
{
	print_coalesced(opaque, "coalesced_io_del", sec, addr, size);
}

static void print_eventfd(msc_listener_ent *e, const char *what, const ms_section *sec,
			  const ms_ioeventfd *fd)
{
	FILE *o = e->s->o.out;

	if (e->s->closing)
		return;
	fprintf(o, "[%s] %s %016" PRIx64 " size %u %s @0x%" PRIx64, e->name, what, sec->start,
		fd->size, ms_region_name(sec->region), fd->offset);
	if (fd->match_data)
		fprintf(o, " data=0x%" PRIx64, fd->data);
	fputc('\n', o);
}

static void on_eventfd_add(const ms_section *sec, const ms_ioeventfd *fd, void *opaque)
{
	print_eventfd(opaque, "eventfd_add", sec, fd);
}

static void on_eventfd_del(const ms_section *sec, const ms_ioeventfd *fd, void *opaque)
{
	print_eventfd(opaque, "eventfd_del", sec, fd);
}

int msc_do_listen(msc_session *s, msc_call *c)
{
	msc_listener_ent *e;
	ms_as *as;
	int prio = 0, rc;
	bool nop = true;

	if (msc_check_new_name(s, c->pos[0], "listener", &s->listeners) || msc_access_as(s, c, &as))
		return 1;
	if (msc_opt_prio(s, c, "prio", &prio) || msc_opt_bool(s, c, "nop", &nop))
		return 1;
	e = msc_new_entry(s, c, &s->listeners, sizeof(*e), MSC_MAX_LISTENERS, "listeners");
	if (!e)
		return 1;
	e->s = s;
	e->as = as;
	e->show_nop = nop;
	e->ops.version = MS_LISTENER_OPS_VERSION;
	e->ops.begin = on_begin;
	e->ops.commit = on_commit;
	e->ops.region_add = on_add;
	e->ops.region_del = on_del;
	e->ops.region_nop = on_nop;
	e->ops.log_start = on_log_start;
	e->ops.log_stop = on_log_stop;
	e->ops.log_sync = on_log_sync;
	e->ops.log_global_start = on_global_start;
	e->ops.log_global_stop = on_global_stop;
	e->ops.coalesced_io_add = on_coalesced_add;
	e->ops.coalesced_io_del = on_coalesced_del;
	e->ops.eventfd_add = on_eventfd_add;
	e->ops.eventfd_del = on_eventfd_del;
	e->ops.priority = prio;
	rc = ms_listener_register(&e->l, as, &e->ops, e);
	if (rc) {
		msc_drop_new_entry(&s->listeners);
		return msc_lib_error(s, c->word->col, "listen", rc, NULL);
	}
	return 0;
}

int msc_do_unlisten(msc_session *s, msc_call *c)
{
	msc_listener_ent *e = msc_arg_entry(s, c->pos[0], &s->listeners, "listener", false);
	int rc;

	if (!e)
		return 1;
	rc = ms_listener_unregister(e->l);
	if (rc)
		return msc_lib_error(s, c->word->col, "unlisten", rc, NULL);
	msc_table_remove(&s->listeners, msc_table_index_of(&s->listeners, e));
	free(e);
	return 0;
}

int msc_do_dirty_log(msc_session *s, msc_call *c)
{
	msc_region_ent *e;
	unsigned client;
	bool on;
	int rc;

	if (msc_arg_region(s, c->pos[0], &e) || msc_arg_dirty_client(s, c->pos[1], &client) ||
	    msc_arg_bool(s, c->pos[2], &on))
		return 1;
	rc = ms_region_set_dirty_log(e->r, client, on);
	if (rc)
		return msc_lib_error(s, c->word->col, "dirty-log", rc,
				     rc == -EINVAL ? "the region has no RAM" : NULL);
	return 0;
}

static const msc_name log_global_names[] = {
	{"start", true}, {"stop", false}, {"on", true}, {"off", false}, {NULL, 0},
};

int msc_do_log_global(msc_session *s, msc_call *c)
{
	const msc_word *w = c->pos[0];
	int value, rc;
	bool on;

	/* start|stop, or on|off as before. */
	if (msc_name_value(log_global_names, w->text, w->len, &value))
		return msc_error(s, w->col, "log-global: expected start or stop, not %s",
				 msc_quote_word(s, w));
	on = value;
	rc = on ? ms_ctx_dirty_log_global_start(s->ctx) : ms_ctx_dirty_log_global_stop(s->ctx);
	return rc ? msc_lib_error(s, c->word->col, "log-global", rc, NULL) : 0;
}

int msc_do_log_sync(msc_session *s, msc_call *c)
{
	ms_as *as;
	int rc;

	if (msc_access_as(s, c, &as))
		return 1;
	rc = ms_as_log_sync(as);
	return rc ? msc_lib_error(s, c->word->col, "log-sync", rc, NULL) : 0;
}
