/*
 * memspace CLI: coalesced MMIO and ioeventfds (coalesce, coalesce-clear,
 * eventfd, eventfd-del, eventfds).
 *
 * The session owns the eventfds it registers: each is an eventfd(2) made by
 * the eventfd command and closed by eventfd-del or, after the context is
 * freed, by the end of the session. `eventfds` prints and resets their
 * counters, so a script shows which writes signalled instead of reaching
 * the device.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "script_int.h"

int msc_do_coalesce(msc_session *s, msc_call *c)
{
	msc_region_ent *e;
	uint64_t offset, size;
	int rc;

	if (msc_arg_region(s, c->pos[0], &e) ||
	    msc_arg_number(s, c->pos[1], "offset", false, &offset) ||
	    msc_arg_number(s, c->pos[2], "size", false, &size))
		return 1;
	rc = ms_region_add_coalescing(e->r, offset, size);
	if (rc)
		return msc_lib_error(s, c->word->col, "coalesce", rc,
				     rc == -EINVAL ? "not a device region, or outside it" : NULL);
	return 0;
}

int msc_do_coalesce_clear(msc_session *s, msc_call *c)
{
	msc_region_ent *e;
	int rc;

	if (msc_arg_region(s, c->pos[0], &e))
		return 1;
	rc = ms_region_clear_coalescing(e->r);
	return rc ? msc_lib_error(s, c->word->col, "coalesce-clear", rc, NULL) : 0;
}

/* REGION OFFSET SIZE [data=N] into *@out (fd -1). 0, or 1 after reporting. */
static int read_eventfd_args(msc_session *s, msc_call *c, msc_region_ent **region,
			     ms_ioeventfd *out)
{
	uint64_t offset, size, data = 0;

	if (msc_arg_region(s, c->pos[0], region) ||
	    msc_arg_number(s, c->pos[1], "offset", false, &offset) ||
	    msc_arg_number(s, c->pos[2], "size", false, &size) ||
	    msc_opt_number(s, c, "data", &data))
		return 1;
	if (size != 0 && size != 1 && size != 2 && size != 4 && size != 8)
		return msc_error(s, c->pos[2]->col, "eventfd: size must be 0 (any), 1, 2, 4 or 8");
	*out = (ms_ioeventfd){.offset = offset,
			      .size = (unsigned)size,
			      .match_data = msc_opt_word(c, "data") != NULL,
			      .data = data,
			      .fd = -1};
	return 0;
}

int msc_do_eventfd(msc_session *s, msc_call *c)
{
	msc_eventfd_ent *ent;
	msc_region_ent *region;
	ms_ioeventfd e;
	int rc;

	if (read_eventfd_args(s, c, &region, &e))
		return 1;
	if (s->nr_eventfds == MSC_MAX_EVENTFDS)
		return msc_error(s, c->word->col, "eventfd: at most %u eventfds at once",
				 MSC_MAX_EVENTFDS);
	if (s->nr_eventfds == s->cap_eventfds) {
		size_t cap = s->cap_eventfds ? 2 * s->cap_eventfds : 8;
		msc_eventfd_ent *grown = realloc(s->eventfds, cap * sizeof(*grown));

		if (!grown)
			return msc_lib_error(s, c->word->col, "eventfd", -ENOMEM, NULL);
		s->eventfds = grown;
		s->cap_eventfds = cap;
	}
	e.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e.fd < 0)
		return msc_lib_error(s, c->word->col, "eventfd", -errno, NULL);
	rc = ms_region_add_eventfd(region->r, &e);
	if (rc) {
		close(e.fd);
		return msc_lib_error(s, c->word->col, "eventfd", rc,
				     rc == -EINVAL ? "not a device region, or outside it" : NULL);
	}
	ent = &s->eventfds[s->nr_eventfds++];
	ent->region = region;
	ent->e = e;
	return 0;
}

/* The session's eventfd like @want (fd aside), or SIZE_MAX. */
static size_t find_eventfd(const msc_session *s, const msc_region_ent *region,
			   const ms_ioeventfd *want)
{
	for (size_t i = 0; i < s->nr_eventfds; i++) {
		const ms_ioeventfd *e = &s->eventfds[i].e;

		if (s->eventfds[i].region == region && e->offset == want->offset &&
		    e->size == want->size && e->match_data == want->match_data &&
		    e->data == want->data)
			return i;
	}
	return SIZE_MAX;
}

int msc_do_eventfd_del(msc_session *s, msc_call *c)
{
	msc_region_ent *region;
	ms_ioeventfd e;
	size_t i;
	int rc;

	if (read_eventfd_args(s, c, &region, &e))
		return 1;
	i = find_eventfd(s, region, &e);
	if (i == SIZE_MAX)
		return msc_lib_error(s, c->word->col, "eventfd-del", -ENOENT, "no such eventfd");
	rc = ms_region_del_eventfd(region->r, &s->eventfds[i].e);
	if (rc)
		return msc_lib_error(s, c->word->col, "eventfd-del", rc, NULL);
	close(s->eventfds[i].e.fd);
	s->eventfds[i] = s->eventfds[--s->nr_eventfds];
	return 0;
}

/* "REGION @0xOFFSET size N [data=0xD]: K" per eventfd, counters reset. */
int msc_do_eventfds(msc_session *s, msc_call *c)
{
	FILE *o = s->o.out;

	(void)c;
	for (size_t i = 0; i < s->nr_eventfds; i++) {
		const ms_ioeventfd *e = &s->eventfds[i].e;
		uint64_t count = 0;

		if (read(e->fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
			count = 0; /* EAGAIN: not signalled since the last look */
		fprintf(o, "%s @0x%" PRIx64 " size %u", s->eventfds[i].region->name, e->offset,
			e->size);
		if (e->match_data)
			fprintf(o, " data=0x%" PRIx64, e->data);
		fprintf(o, ": %" PRIu64 "\n", count);
	}
	return 0;
}

void msc_eventfds_close(msc_session *s)
{
	for (size_t i = 0; i < s->nr_eventfds; i++)
		close(s->eventfds[i].e.fd);
	free(s->eventfds);
	s->eventfds = NULL;
	s->nr_eventfds = s->cap_eventfds = 0;
}
