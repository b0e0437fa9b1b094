/*
 * ms_recorder.h: a listener that writes one line of text per callback, and
 * a small machine to listen to, for the unit tests (not a test itself).
 *
 *   "A begin", "A commit", "A add 0000-0fff ram0 @0", "A del ...", "A nop ...",
 *   "A log_start <range> 0->1", "A log_stop <range> 5->4", "A log_sync <range>",
 *   "A log_global_start", "A log_global_stop"
 *
 * where "A" is the recorder's name (no prefix when it is NULL) and <range>
 * is a section as section_append() writes it. Recorders of one test may share
 * a log, so it shows the order of callbacks across listeners; comparing the
 * whole log checks order, arguments and the absence of extra calls. A
 * recorder's on_add hook, when set, runs after each region_add is logged.
 *
 * listen_machine is a cmocka fixture (LISTEN_TEST()): a root container with
 * RAM, an I/O reservation and a ROM, an address space on it, and a log for
 * the recorders of the test.
 *
 * Include after ms_unit.h. Everything is static inline.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MS_RECORDER_H
#define MS_RECORDER_H

#include <stdlib.h>

typedef struct recorder recorder;

struct recorder {
	const char *name; /* line prefix, or NULL */
	strbuf *log;
	ms_listener_ops ops; /* every callback; the priority of recorder_init() */
	ms_listener *l;      /* while registered */
	/* Called after the line of every region_add is logged (may be NULL). */
	void (*on_add)(recorder *rec, const ms_section *s);
	void *data; /* for on_add */
};

/* Start a line: "name what[ range]". */
static inline void rec_line(recorder *rec, const char *what, const ms_section *s)
{
	if (rec->name)
		sb_printf(rec->log, "%s ", rec->name);
	sb_printf(rec->log, "%s", what);
	if (s) {
		sb_printf(rec->log, " ");
		section_append(rec->log, s);
	}
}

static inline void rec_event(void *opaque, const char *what, const ms_section *s)
{
	recorder *rec = opaque;

	rec_line(rec, what, s);
	sb_printf(rec->log, "\n");
}

static inline void rec_mask_event(void *opaque, const char *what, const ms_section *s,
				  uint8_t old_mask, uint8_t new_mask)
{
	recorder *rec = opaque;

	rec_line(rec, what, s);
	sb_printf(rec->log, " %x->%x\n", old_mask, new_mask);
}

static inline void rec_begin(void *opaque)
{
	rec_event(opaque, "begin", NULL);
}

static inline void rec_commit(void *opaque)
{
	rec_event(opaque, "commit", NULL);
}

static inline void rec_add(const ms_section *s, void *opaque)
{
	recorder *rec = opaque;

	rec_event(rec, "add", s);
	if (rec->on_add)
		rec->on_add(rec, s);
}

static inline void rec_del(const ms_section *s, void *opaque)
{
	rec_event(opaque, "del", s);
}

static inline void rec_nop(const ms_section *s, void *opaque)
{
	rec_event(opaque, "nop", s);
}

static inline void rec_log_start(const ms_section *s, uint8_t old_mask, uint8_t new_mask,
				 void *opaque)
{
	rec_mask_event(opaque, "log_start", s, old_mask, new_mask);
}

static inline void rec_log_stop(const ms_section *s, uint8_t old_mask, uint8_t new_mask,
				void *opaque)
{
	rec_mask_event(opaque, "log_stop", s, old_mask, new_mask);
}

static inline void rec_log_sync(const ms_section *s, void *opaque)
{
	rec_event(opaque, "log_sync", s);
}

static inline void rec_global_start(void *opaque)
{
	rec_event(opaque, "log_global_start", NULL);
}

static inline void rec_global_stop(void *opaque)
{
	rec_event(opaque, "log_global_stop", NULL);
}

/* A recorder named @name (NULL: no prefix) writing to @log, not registered yet. */
static inline void recorder_init(recorder *rec, const char *name, strbuf *log, int priority)
{
	memset(rec, 0, sizeof(*rec));
	rec->name = name;
	rec->log = log;
	rec->ops = (ms_listener_ops){
		.version = MS_LISTENER_OPS_VERSION,
		.begin = rec_begin,
		.commit = rec_commit,
		.region_add = rec_add,
		.region_del = rec_del,
		.region_nop = rec_nop,
		.log_start = rec_log_start,
		.log_stop = rec_log_stop,
		.log_sync = rec_log_sync,
		.log_global_start = rec_global_start,
		.log_global_stop = rec_global_stop,
		.priority = priority,
	};
}

/* Register @rec on @as (its replay is logged). */
static inline void rec_listen(recorder *rec, ms_as *as)
{
	assert_int_equal(ms_listener_register(&rec->l, as, &rec->ops, rec), 0);
	assert_non_null(rec->l);
}

/* Unregister @rec (its replay of deletions is logged). */
static inline void rec_unlisten(recorder *rec)
{
	assert_int_equal(ms_listener_unregister(rec->l), 0);
	rec->l = NULL;
}

/*
 * The machine: root (container 0x10000, address space "as") with
 *   ram0  RAM 0x1000 at 0
 *   dev   I/O 0x100 at 0x2000
 *   rom   ROM 0x1000 at 0x8000
 * and one loose RAM "extra" (0x1000) in no container. No listener is
 * registered and the log is empty.
 */
typedef struct listen_machine {
	ms_ctx *ctx;
	ms_region *root, *ram0, *dev, *rom, *extra;
	ms_as *as;
	strbuf log;
} listen_machine;

static inline int listen_machine_setup(void **state)
{
	listen_machine *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = new_ctx();
	f->root = new_container(f->ctx, "root", 0x10000);
	f->ram0 = new_ram(f->ctx, "ram0", 0x1000);
	f->dev = new_io(f->ctx, "dev", 0x100);
	f->rom = new_rom(f->ctx, "rom", 0x1000);
	f->extra = new_ram(f->ctx, "extra", 0x1000);
	assert_int_equal(ms_region_add_subregion(f->root, 0, f->ram0), 0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x2000, f->dev), 0);
	assert_int_equal(ms_region_add_subregion(f->root, 0x8000, f->rom), 0);
	f->as = new_as(f->ctx, f->root, "as");
	sb_reset(&f->log);
	*state = f;
	return 0;
}

/* Tests leave the machine as they found it, listeners unregistered. */
static inline int listen_machine_teardown(void **state)
{
	listen_machine *f = *state;

	ms_as_free(f->as);
	ms_region_unref(f->extra);
	ms_region_unref(f->rom);
	ms_region_unref(f->dev);
	ms_region_unref(f->ram0);
	ms_region_unref(f->root);
	assert_int_equal(live_regions(f->ctx), 0);
	ms_ctx_free(f->ctx);
	free(f);
	return 0;
}

/*
 * Register @rec, named @name, on @f's address space and empty the log of its
 * replay: the test then sees only what follows.
 */
static inline void listen_from_now(recorder *rec, listen_machine *f, const char *name, int priority)
{
	recorder_init(rec, name, &f->log, priority);
	rec_listen(rec, f->as);
	sb_reset(&f->log);
}

#define LISTEN_TEST(t) \
	cmocka_unit_test_setup_teardown(t, listen_machine_setup, listen_machine_teardown)

#endif /* MS_RECORDER_H */
