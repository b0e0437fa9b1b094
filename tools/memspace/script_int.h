/*
 * memspace CLI: what the interpreter's files share (private to script*.c,
 * args.c and cmd_*.c).
 *
 * A session (struct msc_session) owns one ms_ctx and tables naming what the
 * script created. A line is split into words (lex.c), its command found in
 * the table (cmd_table.c), its words sorted into arguments and options
 * against the command's parameter list (script.c), and its handler, an
 * msc_do_*() function of a cmd_*.c file, runs with the call. Handlers
 * return 0, or 1 after reporting an error with msc_error() or
 * msc_lib_error(); a handler that fails has changed nothing.
 *
 * Adding a command: a handler in the cmd_*.c file of its feature (or a new
 * one), its prototype below, and a row in cmd_table.c.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_SCRIPT_INT_H
#define MEMSPACE_CLI_SCRIPT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <memspace.h>
#include <memspace/models/tce.h>
#include <memspace/models/vtd.h>
#include <memspace/models/vfio.h>
#include <memspace/models/mpc.h>
#include <memspace/models/devtlb.h>

#include "devices.h"
#include "iommu_model.h"
#include "lex.h"
#include "names.h"
#include "script.h"

/* ---- the session -------------------------------------------------------- */

/*
 * The session's tables map names to these entries. An entry's first member
 * is its @name, the table's copy, valid while the entry is in its table
 * (msc_new_entry() relies on the order).
 */
typedef struct msc_region_ent {
	const char *name;
	ms_region *r;
	msc_device *dev;
	msc_iommu *mmu; /* the page-table model of an iommu made with target= */
} msc_region_ent;

/* An eventfd the session registered (cmd_ioevent.c). */
typedef struct msc_eventfd_ent {
	msc_region_ent *region;
	ms_ioeventfd e;
} msc_eventfd_ent;

typedef struct msc_listener_ent {
	const char *name;
	ms_listener_ops ops; /* must outlive the registration */
	msc_session *s;
	ms_listener *l;
	ms_as *as;
	bool show_nop;
} msc_listener_ent;

typedef struct msc_mapping {
	unsigned long id;
	ms_as *as;
	void *p;
	uint64_t addr, len;
	bool is_write;
} msc_mapping;

typedef struct msc_client_ent {
	const char *name;
	msc_session *s;
	ms_map_client *c;
	ms_as *as;
} msc_client_ent;

typedef struct msc_notifier_ent {
	const char *name;
	msc_session *s;
	ms_iommu_notifier *n;
	ms_region *iommu; /* the region it was registered on (it holds a reference) */
	unsigned idx;
	bool fail; /* refuse every event with -EIO */
} msc_notifier_ent;

typedef struct msc_cache_ent {
	const char *name;
	ms_as *as;
	bool is_write;
	ms_cache c;
} msc_cache_ent;

/*
 * An sPAPR TCE table (models/tce.h). Its root region is also in the
 * regions table, under the same name, with a reference of the session.
 */
typedef struct msc_tce_ent {
	const char *name;
	ms_tce_table *t;
	ms_as *target;
} msc_tce_ent;

/* A VFIO-like container (models/vfio.h) and the group it holds, if any. */
typedef struct msc_container_ent {
	const char *name;
	ms_vfio_container *c;
	ms_as *group;
} msc_container_ent;

/*
 * A TZ-MPC-like filter (models/mpc.h). Its IOMMU region is also in the
 * regions table, under the same name, with a reference of the session.
 */
typedef struct msc_mpc_ent {
	const char *name;
	ms_mpc *m;
	ms_region *downstream;
} msc_mpc_ent;

/* A vhost-like device IOTLB (models/devtlb.h) and the address space it follows. */
typedef struct msc_devtlb_ent {
	const char *name;
	ms_devtlb *d;
	ms_as *as;
} msc_devtlb_ent;

/*
 * A device in another process over vfio-user (cmd_vfio_user.c). Its BARs'
 * container is also in the regions table, under the same name; the entry
 * holds a reference of its own on it until the session ends.
 */
#define MSC_MAX_VFIO_USERS 16  /* vfio-user devices a session may connect */
#define MSC_VFU_MAX_VECTORS 64 /* interrupts counted per index */
typedef struct msc_vfu_ent {
	const char *name;
	ms_vfio_user *dev;
	char *socket;
	ms_as *dma_as;
	ms_region *iommu;  /* the IOMMU it follows, or NULL */
	ms_region *region; /* the container of the BARs */
	bool closed;
	unsigned maps_by_fd, maps_by_msg; /* RAM ranges mapped without an IOMMU */
	unsigned nr_bars;
	struct {
		uint32_t index;
		uint64_t offset; /* in the container */
		ms_vfio_user_region_info info;
	} bars[6];
	uint32_t irq_routed[3]; /* vectors 0..n-1 of INTx, MSI, MSI-X go to the counters */
	uint64_t irq_hits[3][MSC_VFU_MAX_VECTORS]; /* atomic: the interrupt thread adds */
	uint64_t irq_seen[3][MSC_VFU_MAX_VECTORS]; /* what vfio-user-wait-irq saw last */
} msc_vfu_ent;

/* A VT-d-like unit (models/vtd.h) and the table writer its commands use (cmd_vtd.c). */
#define MSC_MAX_VTD_UNITS 8        /* VT-d units a session may create */
#define MSC_MAX_VTD_DEVICES 64     /* VT-d devices, every unit together */
#define MSC_MAX_VTD_MAP_PAGES 4096 /* pages one vtd-map writes */
#define MSC_VTD_WALK_TABLES 64     /* tables one replay or invalidation walk reads */
typedef struct msc_vtd_ent {
	const char *name;
	ms_vtd *v;
	ms_vtd_pt *pt;
	ms_as *memory;
} msc_vtd_ent;

/* A device of a unit: its name is also an address space and a region (its IOMMU). */
typedef struct msc_vtd_dev_ent {
	const char *name;
	msc_vtd_ent *unit;
	uint16_t bdf, did;
	ms_as *as;
} msc_vtd_dev_ent;

/*
 * Guest RAM remapped into one host range (ms_as_remap()), and the pieces it
 * is made of as the script prints them: one per region a range crosses,
 * each with a reference of the session on its region (for dirty marking).
 */
typedef struct msc_remap_piece {
	ms_region *r;
	uint64_t offset; /* in @r */
	uint64_t addr;   /* the guest address it was found at */
	uint64_t len;
} msc_remap_piece;

typedef struct msc_remap_ent {
	const char *name;
	ms_remap *m;
	msc_remap_piece *pieces; /* in host-range order */
	size_t nr_pieces, cap_pieces;
} msc_remap_ent;

/* Memory a ramdevice or ramptr region points at (mmap()ed by the session). */
typedef struct msc_memory_block {
	void *p;
	size_t len;
} msc_memory_block;

struct msc_session {
	msc_options o;
	ms_ctx *ctx;

	/* The line being run, for error messages. */
	const char *file;
	unsigned long lineno;
	const char *line;
	size_t line_len;
	unsigned long errors;
	msc_line *words;
	char names[4][200]; /* quoted names for messages (msc_quote()) */
	unsigned next_name;

	/* Named things: the items are msc_region_ent, ms_as, msc_listener_ent, ... */
	msc_table regions, spaces, listeners, clients, notifiers, caches, tces, containers;
	msc_table mpcs, devtlbs; /* live until the session ends */
	msc_table remaps;
	uint64_t remap_bytes; /* host bytes of the remaps alive */
	size_t remap_pieces;  /* their pieces (msc_remap_piece) */

	msc_table vtds, vtd_devs; /* VT-d units and their devices (cmd_vtd.c) */

	msc_table vfio_users;        /* cmd_vfio_user.c */
	ms_vfio_user **retired_vfus; /* connections of failed vfio-user commands */
	size_t nr_retired_vfus, cap_retired_vfus;

	size_t created_regions;
	uint64_t memory_used;
	msc_device **devices;
	size_t nr_devices, cap_devices;
	msc_memory_block *blocks;
	size_t nr_blocks, cap_blocks;
	msc_iommu **models;
	size_t nr_models, cap_models;
	size_t iommu_entries; /* page-table entries of every model */
	uint64_t tce_entries; /* TCEs of every window created (kept until the end) */

	ms_as *current;

	msc_eventfd_ent *eventfds; /* cmd_ioevent.c: closed after the context is freed */
	size_t nr_eventfds, cap_eventfds;

	msc_mapping mappings[MSC_MAX_MAPPINGS];
	size_t nr_mappings;
	unsigned long next_map_id;

	unsigned txn_depth;
	unsigned long txn_line;
	bool quit;
	bool had_heading; /* every heading but the first follows an empty line */
	bool closing;     /* msc_session_free() runs: listeners print nothing */
};

/* ---- commands and their parameters -------------------------------------- */

typedef struct msc_command msc_command;

/* One command being run: its words split into positional arguments and options. */
typedef struct msc_call {
	const msc_command *cmd;
	msc_word *word; /* the command word */
	msc_word *pos[MSC_MAX_WORDS];
	size_t npos;
	msc_word *opt[MSC_MAX_WORDS];
	size_t nopt;
} msc_call;

/*
 * The parameters of a command, declared once (cmd_table.c): the dispatcher
 * sorts words into arguments and options by them, the usage line is
 * generated from them, and the option getters read values as they say.
 */
enum msc_param_kind {
	MSC_P_END,     /* ends a list */
	MSC_P_ARG,     /* a positional argument, shown as @name */
	MSC_P_FLAG,    /* an option without a value, @name */
	MSC_P_VALUE,   /* an option @name=VALUE, shown as @name=@meta */
	MSC_P_GROUP,   /* the options of @group, shown as @name */
	MSC_P_INCLUDE, /* the parameters of @group, shown one by one */
};

/* How the value of an MSC_P_VALUE option is read. */
enum msc_value_type {
	MSC_V_TEXT,     /* as written */
	MSC_V_NUMBER,   /* msc_parse_u64() */
	MSC_V_SIZE,     /* the same, 2^64 allowed */
	MSC_V_PRIO,     /* a signed priority */
	MSC_V_BOOL,     /* on or off (yes/no, true/false, 1/0) */
	MSC_V_KEYWORD,  /* one of @names */
	MSC_V_KEYWORDS, /* some of @names joined by commas, their values or-ed */
	MSC_V_SIZES,    /* access sizes MIN-MAX */
	MSC_V_REGION,   /* a region's name */
	MSC_V_AS,       /* an address space's name */
};

/* Layout of a parameter in the usage line. */
#define MSC_L_OPTIONAL (1u << 0) /* an argument or group that may be left out: [NAME] */
#define MSC_L_REPEAT (1u << 1)   /* NAME... */
#define MSC_L_JOIN (1u << 2)     /* inside the brackets of the one before: [in=C at=ADDR] */
#define MSC_L_NEST (1u << 3)     /* bracketed inside the brackets before: [MODEL [model options]] */
#define MSC_L_ALT (1u << 4)      /* an alternative to the one before: [be|le] */

typedef struct msc_param {
	enum msc_param_kind kind;
	const char *name;
	const char *meta;              /* MSC_P_VALUE: the value's placeholder */
	unsigned layout;               /* MSC_L_* (options are always optional) */
	enum msc_value_type type;      /* MSC_P_VALUE */
	const char *what;              /* numbers: the value in messages ("bad page size ...") */
	const msc_name *names;         /* MSC_V_KEYWORD(S) */
	const struct msc_param *group; /* MSC_P_GROUP, MSC_P_INCLUDE */
	int arg;                       /* what the handler makes of it */
} msc_param;

/* Flags of a command. */
#define MSC_CMD_RAW (1u << 0) /* every word is an argument, kept as written (no options) */

/* What the arg of write and load, the iommu-map family and set's properties say. */
enum {
	MSC_WRITE_GUEST,
	MSC_WRITE_LOADER
};
enum {
	MSC_IOMMU_MAP,
	MSC_IOMMU_UNMAP,
	MSC_IOMMU_INVALIDATE
};
enum {
	MSC_SET_ADDR,
	MSC_SET_SIZE,
	MSC_SET_PRIO,
	MSC_SET_ENABLED,
	MSC_SET_READONLY,
	MSC_SET_NONVOLATILE,
	MSC_SET_UNMERGEABLE,
	MSC_SET_ROMD,
	MSC_SET_ALIAS_OFFSET,
	MSC_SET_OWNER
};

struct msc_command {
	const char *name;
	int (*fn)(msc_session *s, msc_call *c);
	const msc_param *params;
	const char *help; /* one line for the help summary */
	unsigned flags;   /* MSC_CMD_* */
	/*
	 * What the handler needs to know about this command of its family: the
	 * region kind, the access width, true for enable, MSC_WRITE_*, MSC_IOMMU_*.
	 */
	int arg;
};

/* No upper bound on the number of arguments (msc_arg_counts()). */
#define MSC_ANY 0xffffu

/* cmd_table.c: the command table and what it knows. */
extern const msc_param msc_attr_params[], msc_model_params[];
extern const msc_name msc_perm_names[], msc_tce_perm_names[];
const msc_command *msc_find_command(const char *name, size_t len);
const char *msc_suggest_command(const char *text, size_t len);
const char *msc_usage(char *buf, size_t size, const msc_command *cmd);
void msc_arg_counts(const msc_command *cmd, unsigned *min, unsigned *max);

/* ---- named entries (script.c) ------------------------------------------ */

/*
 * msc_new_entry - a zeroed entry of @size bytes (a struct whose first member
 * is its const char *name) entered in @t under the call's first argument,
 * which the caller has checked with msc_check_new_name(). The table may
 * hold @limit entries; what it holds are @what ("listeners").
 * Return: the entry, or NULL after reporting the limit or -ENOMEM.
 */
void *msc_new_entry(msc_session *s, msc_call *c, msc_table *t, size_t size, size_t limit,
		    const char *what);
/* msc_drop_new_entry - take back the entry msc_new_entry() just made in @t, and free it. */
void msc_drop_new_entry(msc_table *t);

/* ---- output and errors (script_out.c) ----------------------------------- */

/*
 * msc_quote - a printable, quoted, truncated rendering of @text for
 * messages; valid until four more have been made.
 */
const char *msc_quote(msc_session *s, const char *text, size_t len);
const char *msc_quote_word(msc_session *s, const msc_word *w);
const char *msc_quote_str(msc_session *s, const char *str);

/*
 * msc_error - report "FILE:LINE:COL: message" on the session's error
 * stream (with the line and a caret in the shell). Return: 1.
 */
__attribute__((format(printf, 3, 4))) int msc_error(msc_session *s, unsigned col, const char *fmt,
						    ...);

/*
 * msc_lib_error - report a library error as "WHAT: ENAME: EXPLANATION"; a
 * NULL @explain says what @rc means in general. Return: 1.
 */
int msc_lib_error(msc_session *s, unsigned col, const char *what, int rc, const char *explain);

/* msc_errno_name - "ENOENT" for -ENOENT; "error" for a value it does not know. */
const char *msc_errno_name(int rc);

/* msc_hexdump - print @len bytes of @buf as lines of 16, addressed from @addr. */
void msc_hexdump(msc_session *s, uint64_t addr, const uint8_t *buf, size_t len);

/*
 * msc_print_bytes - end a line that announced @len bytes read from @addr:
 * up to 16 follow on it (" -> de ad (RESULT)"), more go into a hex dump
 * after " (RESULT)".
 */
void msc_print_bytes(msc_session *s, uint64_t addr, const uint8_t *buf, size_t len,
		     const char *result);

/* msc_section_type - what a section is as flat views print it: ram, rom, i/o, romd, ... */
const char *msc_section_type(const ms_section *sec);

/* msc_print_section_flags - " readonly nonvolatile unmergeable", as far as they hold. */
void msc_print_section_flags(FILE *o, const ms_section *sec);

/* ---- arguments and options (args.c) ------------------------------------- */

/* A value read as its declaration says (msc_read_value()). */
typedef union msc_value {
	msc_word text;
	uint64_t number;
	int prio, keyword;
	unsigned keywords;
	bool on;
	unsigned sizes[2]; /* min, max */
	msc_region_ent *region;
	ms_as *as;
} msc_value;

/* msc_find_region - the region named @text (@len bytes), or NULL. */
msc_region_ent *msc_find_region(msc_session *s, const char *text, size_t len);

/*
 * Words: each msc_arg_*() reads one word into *@out; it returns 0, or 1
 * after reporting what is wrong with the word.
 */
int msc_arg_number(msc_session *s, const msc_word *w, const char *what, bool allow_2_64,
		   uint64_t *out);
int msc_arg_bool(msc_session *s, const msc_word *w, bool *out);
int msc_arg_prio(msc_session *s, const msc_word *w, int *out);
/*
 * msc_arg_entry - the item of @t that @w names, or NULL after reporting
 * "unknown WHAT 'x'", with a did-you-mean hint when @suggest.
 */
void *msc_arg_entry(msc_session *s, const msc_word *w, const msc_table *t, const char *what,
		    bool suggest);
int msc_arg_region(msc_session *s, const msc_word *w, msc_region_ent **out);
int msc_arg_as(msc_session *s, const msc_word *w, ms_as **out);
/* Write data from argument @first on: quoted words as bytes, others as hex digits. */
int msc_arg_data(msc_session *s, msc_call *c, size_t first, uint8_t *buf, size_t cap, size_t *len);
/*
 * The buffer of a read/write command pair (argument 2 on: DATA... to write,
 * or LEN to read, at most MSC_MAX_PRINT): *@buf is @data (MSC_MAX_LINE
 * bytes) for a write, a new allocation for a read (free it when it is not
 * @data). 0, or 1 after reporting.
 */
int msc_arg_transfer(msc_session *s, msc_call *c, bool is_write, uint8_t *data, uint8_t **buf,
		     uint64_t *len);
/* msc_check_length - report a length @len (argument @w) over @limit bytes. */
int msc_check_length(msc_session *s, msc_call *c, const msc_word *w, uint64_t len, unsigned limit);
/* msc_check_fits - report a @value (argument @w) that does not fit in @size bytes. */
int msc_check_fits(msc_session *s, msc_call *c, const msc_word *w, uint64_t value, unsigned size);
/* A name for a new @what in table @t: not empty, no NUL, not taken. */
int msc_check_new_name(msc_session *s, const msc_word *w, const char *what, const msc_table *t);

/* msc_value_of - the value part of option word key=VALUE, as a word of its own. */
msc_word msc_value_of(const msc_word *w);
/* msc_opt_word - the option @key ("in" for in=VALUE, or a flag) as given, or NULL. */
msc_word *msc_opt_word(msc_call *c, const char *key);
/* msc_option_of - the declaration of option word @w in @cmd's parameters, or NULL. */
const msc_param *msc_option_of(const msc_command *cmd, const msc_word *w);
/*
 * msc_read_value - read option word @w as @p declares into *@out (of the
 * type of the msc_value member for @p->type); 0, or 1 after reporting.
 */
int msc_read_value(msc_session *s, const msc_param *p, const msc_word *w, void *out);

/*
 * Options: each msc_opt_*() reads option @key of the call as its declaration
 * says; *@out keeps its value when the option was not given. Return 0, or 1
 * after reporting a bad value.
 */
int msc_opt_number(msc_session *s, msc_call *c, const char *key, uint64_t *out);
int msc_opt_prio(msc_session *s, msc_call *c, const char *key, int *out);
int msc_opt_bool(msc_session *s, msc_call *c, const char *key, bool *out);
int msc_opt_keyword(msc_session *s, msc_call *c, const char *key, int *out);
int msc_opt_keywords(msc_session *s, msc_call *c, const char *key, unsigned *out);
int msc_opt_region(msc_session *s, msc_call *c, const char *key, msc_region_ent **out);
int msc_opt_as(msc_session *s, msc_call *c, const char *key, ms_as **out);
int msc_opt_sizes(msc_session *s, msc_call *c, const char *key, unsigned *min, unsigned *max);
/* msc_opt_big_endian - be or le (little-endian when neither is given). */
int msc_opt_big_endian(msc_session *s, msc_call *c, bool *be);

/* msc_access_as - the address space of an access: as=NAME, else the current one. */
int msc_access_as(msc_session *s, msc_call *c, ms_as **out);
/* msc_access_attrs - the ATTRS options of an access (unspecified when none is given). */
int msc_access_attrs(msc_session *s, msc_call *c, ms_attrs *out);
/* msc_access_range - ADDR LEN (the first two arguments), the address space and ATTRS. */
int msc_access_range(msc_session *s, msc_call *c, uint64_t *addr, uint64_t *len, ms_as **as,
		     ms_attrs *attrs);

/* ---- regions (cmd_region.c) --------------------------------------------- */

/* Where a new region goes (in=C at=ADDR prio=N) and its owner. */
typedef struct msc_placement {
	msc_region_ent *container;
	uint64_t addr;
	int prio;
	bool present;
	const msc_word *owner;
} msc_placement;

int msc_check_region_budget(msc_session *s, msc_call *c);
int msc_parse_placement(msc_session *s, msc_call *c, msc_placement *p);
/*
 * msc_finish_region - name a new region after the call's first argument and
 * place it; on failure (reported) free it, its device and its memory.
 */
int msc_finish_region(msc_session *s, msc_call *c, ms_region *r, msc_device *dev,
		      const msc_placement *p, msc_memory_block *block);
/* msc_add_error - what an error of ms_region_add_subregion*() means. */
const char *msc_add_error(int rc, ms_region *container, ms_region *sub);

/* ---- the handlers, one per command family ------------------------------- */

/* cmd_region.c: making regions. */
int msc_do_region(msc_session *s, msc_call *c);
int msc_do_resize(msc_session *s, msc_call *c);
int msc_do_raminfo(msc_session *s, msc_call *c);
int msc_do_alias(msc_session *s, msc_call *c);
/* cmd_topology.c: changing the region tree, address spaces, transactions. */
int msc_do_add(msc_session *s, msc_call *c);
int msc_do_del(msc_session *s, msc_call *c);
int msc_do_set(msc_session *s, msc_call *c);
int msc_do_enable(msc_session *s, msc_call *c);
int msc_do_drop(msc_session *s, msc_call *c);
int msc_do_show(msc_session *s, msc_call *c);
int msc_do_as(msc_session *s, msc_call *c);
int msc_do_as_free(msc_session *s, msc_call *c);
int msc_do_use(msc_session *s, msc_call *c);
int msc_do_begin(msc_session *s, msc_call *c);
int msc_do_commit(msc_session *s, msc_call *c);
/* cmd_access.c: reads, writes, loads, stores and questions about an address. */
int msc_do_read(msc_session *s, msc_call *c);
int msc_do_write(msc_session *s, msc_call *c);
int msc_do_fill(msc_session *s, msc_call *c);
int msc_do_ld(msc_session *s, msc_call *c);
int msc_do_st(msc_session *s, msc_call *c);
int msc_do_translate(msc_session *s, msc_call *c);
int msc_do_valid(msc_session *s, msc_call *c);
int msc_do_access_depth(msc_session *s, msc_call *c);
/* cmd_dma.c: DMA mappings, bounce buffers, map clients. */
int msc_do_map(msc_session *s, msc_call *c);
int msc_do_map_read(msc_session *s, msc_call *c);
int msc_do_map_write(msc_session *s, msc_call *c);
int msc_do_unmap(msc_session *s, msc_call *c);
int msc_do_bounce_budget(msc_session *s, msc_call *c);
int msc_do_map_client(msc_session *s, msc_call *c);
int msc_do_map_client_free(msc_session *s, msc_call *c);
/* cmd_listener.c: listeners and dirty logging. */
int msc_do_listen(msc_session *s, msc_call *c);
int msc_do_unlisten(msc_session *s, msc_call *c);
int msc_do_dirty_log(msc_session *s, msc_call *c);
int msc_do_coalesce(msc_session *s, msc_call *c);
int msc_do_coalesce_clear(msc_session *s, msc_call *c);
int msc_do_eventfd(msc_session *s, msc_call *c);
int msc_do_eventfd_del(msc_session *s, msc_call *c);
int msc_do_eventfds(msc_session *s, msc_call *c);
/* Close the session's eventfds (after its context is freed). */
void msc_eventfds_close(msc_session *s);
int msc_do_log_global(msc_session *s, msc_call *c);
int msc_do_log_sync(msc_session *s, msc_call *c);
/* cmd_dirty.c: dirty bitmaps and snapshots. */
int msc_do_dirty(msc_session *s, msc_call *c);
int msc_do_dirty_set(msc_session *s, msc_call *c);
int msc_do_dirty_reset(msc_session *s, msc_call *c);
int msc_do_snapshot(msc_session *s, msc_call *c);
int msc_do_dirty_page_size(msc_session *s, msc_call *c);
/* A dirty-logging client: 0-7, or vga, code, migration. 0, or 1 after reporting. */
int msc_arg_dirty_client(msc_session *s, const msc_word *w, unsigned *out);
/* cmd_migrate.c: the RAM stream. */
int msc_do_ram_save(msc_session *s, msc_call *c);
int msc_do_map_picture(msc_session *s, msc_call *c); /* cmd_map.c */
int msc_do_ram_load(msc_session *s, msc_call *c);
/* cmd_iommu.c: IOMMU regions, their page tables, notifiers and IOTLB lookups. */
int msc_do_iommu(msc_session *s, msc_call *c);
int msc_do_iommu_range(msc_session *s, msc_call *c);
int msc_do_notifier(msc_session *s, msc_call *c);
int msc_do_notifier_free(msc_session *s, msc_call *c);
int msc_do_replay(msc_session *s, msc_call *c);
int msc_do_iotlb(msc_session *s, msc_call *c);
/* cmd_cache.c: region caches. */
int msc_do_cache(msc_session *s, msc_call *c);
int msc_do_cache_read(msc_session *s, msc_call *c);
int msc_do_cache_write(msc_session *s, msc_call *c);
int msc_do_cache_ld(msc_session *s, msc_call *c);
int msc_do_cache_st(msc_session *s, msc_call *c);
int msc_do_cache_invalidate(msc_session *s, msc_call *c);
int msc_do_cache_free(msc_session *s, msc_call *c);
/* cmd_tce.c: sPAPR TCE tables and their windows. */
int msc_do_tce_table(msc_session *s, msc_call *c);
int msc_do_tce_window(msc_session *s, msc_call *c);
int msc_do_tce_window_remove(msc_session *s, msc_call *c);
int msc_do_tce_info(msc_session *s, msc_call *c);
int msc_do_tce_put(msc_session *s, msc_call *c);
int msc_do_tce_stuff(msc_session *s, msc_call *c);
int msc_do_tce_put_indirect(msc_session *s, msc_call *c);
int msc_do_tce_get(msc_session *s, msc_call *c);
/* cmd_vtd.c: VT-d-like units, their devices and tables. */
int msc_do_vtd(msc_session *s, msc_call *c);
int msc_do_vtd_device(msc_session *s, msc_call *c);
int msc_do_vtd_map(msc_session *s, msc_call *c);
int msc_do_vtd_unmap(msc_session *s, msc_call *c);
int msc_do_vtd_dmar(msc_session *s, msc_call *c);
int msc_do_vtd_invalidate(msc_session *s, msc_call *c);
int msc_do_vtd_faults(msc_session *s, msc_call *c);
int msc_do_vtd_info(msc_session *s, msc_call *c);
/* msc_vtd_uses_as - whether @as is a unit's device view or memory (for as-free). */
bool msc_vtd_uses_as(msc_session *s, const ms_as *as, const char **unit, bool *is_memory);
/* msc_vtd_free_all - free every unit (their devices' address spaces go with them). */
void msc_vtd_free_all(msc_session *s);
/* msc_tce_present - TCEs set now, over every table of the session. */
uint64_t msc_tce_present(msc_session *s);
/* cmd_vfio.c: VFIO-like containers. */
int msc_do_vfio_container(msc_session *s, msc_call *c);
int msc_do_vfio_container_free(msc_session *s, msc_call *c);
int msc_do_vfio_attach(msc_session *s, msc_call *c);
int msc_do_vfio_detach(msc_session *s, msc_call *c);
int msc_do_vfio_info(msc_session *s, msc_call *c);
int msc_do_vfio_rw(msc_session *s, msc_call *c);
int msc_do_vfio_check(msc_session *s, msc_call *c);
/* cmd_mpc.c: TZ-MPC-like filters and device IOTLBs. */
int msc_do_mpc(msc_session *s, msc_call *c);
int msc_do_mpc_lut_set(msc_session *s, msc_call *c);
int msc_do_mpc_lut_get(msc_session *s, msc_call *c);
int msc_do_mpc_info(msc_session *s, msc_call *c);
int msc_do_devtlb(msc_session *s, msc_call *c);
int msc_do_devtlb_rw(msc_session *s, msc_call *c);
int msc_do_devtlb_flush(msc_session *s, msc_call *c);
int msc_do_devtlb_info(msc_session *s, msc_call *c);
/* cmd_remap.c: sharing RAM over a socket, remapping guest RAM into one host range. */
int msc_do_share(msc_session *s, msc_call *c);
int msc_do_remap(msc_session *s, msc_call *c);
int msc_do_remap_read(msc_session *s, msc_call *c);
int msc_do_remap_write(msc_session *s, msc_call *c);
int msc_do_remap_free(msc_session *s, msc_call *c);
/* msc_remap_release - unmap a remap and drop its references (session end, remap-free). */
void msc_remap_release(msc_remap_ent *e);
/* msc_any_attached - is a container of the session holding a group? */
bool msc_any_attached(msc_session *s);
/* msc_session_iommu_pages - pages the page-table IOMMUs of the session map (every index). */
uint64_t msc_session_iommu_pages(msc_session *s);
/* cmd_vfio_user.c: devices in another process over vfio-user. */
int msc_do_vfio_user(msc_session *s, msc_call *c);
int msc_do_vfio_user_info(msc_session *s, msc_call *c);
int msc_do_vfio_user_irq(msc_session *s, msc_call *c);
int msc_do_vfio_user_wait_irq(msc_session *s, msc_call *c);
int msc_do_vfio_user_reset(msc_session *s, msc_call *c);
int msc_do_vfio_user_close(msc_session *s, msc_call *c);
/* msc_vfio_user_uses_as - whether a connected device's DMA works in @as (for as-free). */
bool msc_vfio_user_uses_as(msc_session *s, const ms_as *as, const char **name);
/* msc_vfio_user_disconnect_all - end every connection (before the context is freed). */
void msc_vfio_user_disconnect_all(msc_session *s);
/* msc_vfio_user_free_all - free every connection (after the context: the regions used them). */
void msc_vfio_user_free_all(msc_session *s);
/* cmd_session.c: the session itself: list, mtree, echo, heading, help, quit. */
int msc_do_list(msc_session *s, msc_call *c);
int msc_do_mtree(msc_session *s, msc_call *c);
int msc_do_echo(msc_session *s, msc_call *c);
int msc_do_heading(msc_session *s, msc_call *c);
int msc_do_help(msc_session *s, msc_call *c);
int msc_do_quit(msc_session *s, msc_call *c);

#endif /* MEMSPACE_CLI_SCRIPT_INT_H */
