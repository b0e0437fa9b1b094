/*
 * memspace: QEMU-compatible memory API (opt-in, header only).
 *
 * QEMU's names and signatures (MemoryRegion, AddressSpace, MemoryRegionOps,
 * memory_region_init_io(), address_space_rw(), ldl_le_phys(),
 * dma_memory_read(), IOMMUNotifier, MemoryListener, ...) as static inline
 * wrappers over memspace's public API, so that device models written in
 * QEMU's style compile against memspace with few changes. Nothing here is
 * part of the library: the code is compiled into the including program, and
 * <memspace.h> does not include this header. Unlike every other public
 * header, it defines names without the ms_ / MS_ prefix (QEMU's own), so
 * include it only in translation units written against QEMU's API.
 * docs/qemu-compat.md lists, call by call, what maps one to one, what
 * differs and what is missing.
 *
 * The machine. QEMU keeps its memory system in globals; memspace keeps it in
 * an ms_ctx, and this header adds no global either. A QemuCompat (one per
 * machine, in storage the caller owns) binds the QEMU-style objects to one
 * context: qemu_compat_init() sets it up, and every Object made with
 * qemu_compat_object_init() carries it. The owner argument of the
 * memory_region_init_*() calls is that Object (a device's OBJECT(s), or the
 * machine's own object for regions QEMU would create with a NULL owner):
 * it must not be NULL, since it is how the region finds its context. Its
 * name becomes the region's owner in `mtree -o` dumps. The calls that take
 * no argument in QEMU (memory_region_transaction_begin/commit) take the
 * QemuCompat here.
 *
 * Embedding. MemoryRegion, IOMMUMemoryRegion, AddressSpace, IOMMUNotifier
 * and MemoryListener are plain structs meant to be embedded in a device's
 * state, as in QEMU (`MemoryRegion mmio;` then `&s->mmio`). Every field
 * whose name begins with "priv_" is private to this header; the other
 * fields of IOMMUNotifier, MemoryListener, MemoryRegionOps and the class
 * tables are QEMU's and are set by the caller. A region created here holds
 * one reference on its memspace region for as long as the struct is in
 * use; memory_region_destroy() gives it up (QEMU's object_unparent() of the
 * region). qemu_compat_region() and qemu_compat_as() give the memspace
 * objects behind the structs, for code that mixes both APIs.
 *
 * Errors. QEMU asserts or aborts where memspace returns an error, and most
 * of its memory calls return void. Here every call checks its arguments
 * and passes the library's errors on: a call that fails changes nothing,
 * records the error (the first one is kept, with the name of the call: see
 * qemu_compat_error()), calls the machine's on_error hook when one is set
 * (set it to abort to get QEMU's behaviour), and, for the calls that take
 * an Error **errp in QEMU, stores an Error there. Calls that return a value
 * return QEMU's failure value as well (NULL, false, 0, a MemTxResult or a
 * negative errno).
 *
 * Concurrency. The calls that create, change or destroy objects (the
 * memory_region_*, address_space_init/destroy, notifier and listener
 * registration calls) update the QemuCompat's lists of regions and address
 * spaces and must be serialised by the caller, as QEMU runs them under its
 * big lock. Accesses (address_space_*() reads and writes, ld/st, dma_*) and
 * device callbacks follow memspace's rules (access.h): any thread, lock-free.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_QEMU_COMPAT_H
#define MEMSPACE_QEMU_COMPAT_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "as.h"
#include "backend.h"
#include "ctx.h"
#include "dirty.h"
#include "flatview.h"
#include "iommu.h"
#include "listener.h"
#include "map.h"
#include "region.h"
#include "transaction.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Basic types.
 */

typedef uint64_t hwaddr;
typedef uint64_t dma_addr_t;
typedef ms_attrs MemTxAttrs;
typedef ms_result MemTxResult;

#define MEMTX_OK MS_RESULT_OK
#define MEMTX_ERROR MS_RESULT_ERROR
#define MEMTX_DECODE_ERROR MS_RESULT_DECODE_ERROR
#define MEMTX_ACCESS_ERROR MS_RESULT_ACCESS_ERROR

/** qemu_compat_attrs_unspecified - MEMTXATTRS_UNSPECIFIED, in C and C++. */
static inline MemTxAttrs qemu_compat_attrs_unspecified(void)
{
	MemTxAttrs attrs;

	memset(&attrs, 0, sizeof(attrs));
	attrs.unspecified = 1;
	return attrs;
}

#define MEMTXATTRS_UNSPECIFIED (qemu_compat_attrs_unspecified())

/*
 * Device byte order. DEVICE_NATIVE_ENDIAN is the host's order here; in
 * QEMU it is the guest's (target's) order.
 */
enum device_endian {
	DEVICE_NATIVE_ENDIAN = MS_ENDIAN_NATIVE,
	DEVICE_LITTLE_ENDIAN = MS_ENDIAN_LITTLE,
	DEVICE_BIG_ENDIAN = MS_ENDIAN_BIG,
};

/** Int128 - the subset QEMU's memory API uses: sizes up to 2^64. */
typedef struct Int128 {
	uint64_t lo;
	uint64_t hi;
} Int128;

static inline Int128 int128_make64(uint64_t v)
{
	Int128 r;

	r.lo = v;
	r.hi = 0;
	return r;
}

static inline Int128 int128_2_64(void)
{
	Int128 r;

	r.lo = 0;
	r.hi = 1;
	return r;
}

/**
 * int128_get64 - the value as 64 bits. QEMU asserts that it fits; here 2^64
 * (or more) gives UINT64_MAX, memspace's MS_SIZE_2_64 convention.
 */
static inline uint64_t int128_get64(Int128 v)
{
	return v.hi ? UINT64_MAX : v.lo;
}

/**
 * struct Error - what a failed call stores through an Error **errp.
 * @err: the negative errno.
 * @msg: "call: NAME: meaning".
 *
 * Allocated with malloc() when the caller's *errp is NULL (a set *errp is
 * left alone, as in QEMU); free it with error_free(). QEMU's &error_fatal
 * and &error_abort do not exist: use the on_error hook of the QemuCompat.
 */
typedef struct Error {
	int err;
	char msg[160];
} Error;

static inline void error_free(Error *e)
{
	free(e);
}

static inline const char *error_get_pretty(const Error *e)
{
	return e ? e->msg : "";
}

#if defined(__GNUC__) || defined(__clang__)
#define QEMU_COMPAT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define QEMU_COMPAT_PRINTF(f, a)
#endif

QEMU_COMPAT_PRINTF(3, 0)
static inline void qemu_compat__error_vset(Error **errp, int err, const char *fmt, va_list ap)
{
	Error *e;

	if (!errp || *errp)
		return;
	e = (Error *)malloc(sizeof(*e));
	if (e) {
		e->err = err;
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	}
	*errp = e;
}

/**
 * error_setg_errno - store an Error for @os_errno (positive, as in QEMU)
 * in *@errp unless @errp is NULL or *@errp is already set. Class methods
 * and listeners that refuse use it (or error_setg(), which stands for
 * EPERM): the errno becomes the refused call's error.
 */
QEMU_COMPAT_PRINTF(3, 4)
static inline void error_setg_errno(Error **errp, int os_errno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	qemu_compat__error_vset(errp, -os_errno, fmt, ap);
	va_end(ap);
}

QEMU_COMPAT_PRINTF(2, 3) static inline void error_setg(Error **errp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	qemu_compat__error_vset(errp, -EPERM, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------------
 * The machine and its objects.
 */

typedef struct QemuCompat QemuCompat;
typedef struct MemoryRegion MemoryRegion;
typedef struct AddressSpace AddressSpace;

/**
 * struct QemuCompat - the memory system of one machine, as the QEMU-style
 * objects see it.
 * @ctx: the context everything is created in (set by qemu_compat_init()).
 * @on_error: called, when set, with the name of a call and its negative
 *            errno each time a call fails (after the error is recorded);
 *            @opaque is passed on.
 * @opaque: for @on_error.
 *
 * The other fields are private. Zero-initialised storage and one
 * qemu_compat_init() make it usable; it needs no teardown of its own.
 */
struct QemuCompat {
	ms_ctx *ctx;
	void (*on_error)(QemuCompat *qc, const char *call, int err, void *opaque);
	void *opaque;
	int priv_error;
	const char *priv_error_call;
	MemoryRegion *priv_regions;
	AddressSpace *priv_spaces;
};

/**
 * qemu_compat_init - bind @qc to @ctx.
 * Return: 0; -EINVAL when @qc or @ctx is NULL.
 * Context: before any other use of @qc.
 */
static inline int qemu_compat_init(QemuCompat *qc, ms_ctx *ctx)
{
	if (!qc || !ctx)
		return -EINVAL;
	memset(qc, 0, sizeof(*qc));
	qc->ctx = ctx;
	return 0;
}

/**
 * qemu_compat_error - the first error a call on @qc's objects recorded.
 * @call: receives the name of that call (NULL when not wanted, or when
 *        there was no error).
 * Return: the negative errno, 0 when nothing failed.
 */
static inline int qemu_compat_error(const QemuCompat *qc, const char **call)
{
	if (call)
		*call = qc ? qc->priv_error_call : NULL;
	return qc ? qc->priv_error : -EINVAL;
}

/** qemu_compat_clear_error - forget the recorded error. */
static inline void qemu_compat_clear_error(QemuCompat *qc)
{
	if (qc) {
		qc->priv_error = 0;
		qc->priv_error_call = NULL;
	}
}

/* Record a failure of @call; returns @err. */
static inline int qemu_compat__fail(QemuCompat *qc, Error **errp, const char *call, int err)
{
	if (qc) {
		if (!qc->priv_error) {
			qc->priv_error = err;
			qc->priv_error_call = call;
		}
		if (qc->on_error)
			qc->on_error(qc, call, err, qc->opaque);
	}
	if (errp && !*errp) {
		Error *e = (Error *)malloc(sizeof(*e));

		if (e) {
			e->err = err;
			snprintf(e->msg, sizeof(e->msg), "%s: %s", call, ms_strerror(err));
		}
		*errp = e;
	}
	return err;
}

/**
 * struct Object - the owner of regions: a device or the machine. QEMU's
 * QOM object, reduced to what the memory API needs.
 * @compat: the machine the object belongs to.
 * @id: shown as the owner of its regions in `mtree -o` dumps (not copied:
 *      keep it alive as long as the object); may be NULL.
 *
 * Put it first in a device's state (or first in the first member, as
 * QEMU's DeviceState is), so that OBJECT(s) works.
 */
typedef struct Object {
	QemuCompat *compat;
	const char *id;
} Object;

#define OBJECT(obj) ((Object *)(obj))

/** qemu_compat_object_init - make @obj an object of machine @qc. */
static inline void qemu_compat_object_init(Object *obj, QemuCompat *qc, const char *id)
{
	obj->compat = qc;
	obj->id = id;
}

/* ------------------------------------------------------------------------
 * Memory regions.
 */

/**
 * struct MemoryRegionOps - QEMU's device callbacks. @opaque (given at
 * memory_region_init_io()) comes first, as in QEMU. @valid and @impl have
 * QEMU's meaning (and memspace's, region.h). Provide read or
 * read_with_attrs, and write or write_with_attrs: an access to a missing
 * one fails with MEMTX_ERROR (QEMU would crash). A NULL ops table makes a
 * reservation, where every access is a decode error (QEMU's
 * unassigned_mem_ops). The table must outlive the region.
 */
typedef struct MemoryRegionOps {
	uint64_t (*read)(void *opaque, hwaddr addr, unsigned size);
	void (*write)(void *opaque, hwaddr addr, uint64_t data, unsigned size);
	MemTxResult (*read_with_attrs)(void *opaque, hwaddr addr, uint64_t *data, unsigned size,
				       MemTxAttrs attrs);
	MemTxResult (*write_with_attrs)(void *opaque, hwaddr addr, uint64_t data, unsigned size,
					MemTxAttrs attrs);
	enum device_endian endianness;
	struct {
		unsigned min_access_size;
		unsigned max_access_size;
		bool unaligned;
		bool (*accepts)(void *opaque, hwaddr addr, unsigned size, bool is_write,
				MemTxAttrs attrs);
	} valid;
	struct {
		unsigned min_access_size;
		unsigned max_access_size;
		bool unaligned;
	} impl;
} MemoryRegionOps;

/**
 * struct MemoryRegion - a region, embeddable in a device's state.
 *
 * All fields are private. A zeroed struct is "not created yet": calls on
 * it fail with -EINVAL (recorded on the QemuCompat of another argument
 * when there is one). memory_region_init_*() overwrite the whole struct,
 * as QEMU's do, so do not initialise a struct that is still in use.
 */
struct MemoryRegion {
	ms_region *priv_region;
	QemuCompat *priv_compat;
	const MemoryRegionOps *priv_ops;
	void *priv_opaque;
	ms_region_ops priv_ms_ops;
	MemoryRegion *priv_next;
	bool priv_iommu; /* the first member of an IOMMUMemoryRegion */
	void (*priv_resized)(const char *name, uint64_t length, void *host);
};

#define MEMORY_REGION(obj) ((MemoryRegion *)(obj))

/** qemu_compat_region - the memspace region behind @mr (NULL when not created). */
static inline ms_region *qemu_compat_region(const MemoryRegion *mr)
{
	return mr ? mr->priv_region : NULL;
}

/* The region's machine, or NULL when @mr is NULL or not created. */
static inline QemuCompat *qemu_compat__qc(const MemoryRegion *mr)
{
	return mr && mr->priv_region ? mr->priv_compat : NULL;
}

/* The compat region created for @r in @qc, or NULL. O(regions). */
static inline MemoryRegion *qemu_compat__find_region(const QemuCompat *qc, const ms_region *r)
{
	MemoryRegion *mr;

	for (mr = qc ? qc->priv_regions : NULL; mr; mr = mr->priv_next)
		if (mr->priv_region == r)
			return mr;
	return NULL;
}

/*
 * Finish a constructor: @err is the constructor's result. Sets the owner
 * name and links @mr into the machine's list; on any failure @mr stays
 * zeroed and the error is recorded.
 */
static inline int qemu_compat__region_created(MemoryRegion *mr, Object *owner, ms_region *r,
					      int err, Error **errp, const char *call)
{
	QemuCompat *qc = owner->compat;

	if (!err && owner->id)
		err = ms_region_set_owner(r, owner->id);
	if (err) {
		ms_region_unref(r);
		memset(mr, 0, sizeof(*mr));
		return qemu_compat__fail(qc, errp, call, err);
	}
	mr->priv_region = r;
	mr->priv_compat = qc;
	mr->priv_next = qc->priv_regions;
	qc->priv_regions = mr;
	return 0;
}

/*
 * Is @mr a created region of @qc? A constructor must not overwrite one
 * (QEMU forbids it too): the struct is linked into the machine's list.
 * Looking it up in the list, not at its fields, works for uninitialised
 * storage. O(regions).
 */
static inline bool qemu_compat__region_live(const QemuCompat *qc, const MemoryRegion *mr)
{
	const MemoryRegion *it;

	for (it = qc->priv_regions; it; it = it->priv_next)
		if (it == mr)
			return true;
	return false;
}

/*
 * Check a constructor's common arguments; clears @mr. A struct that is
 * already a created region of the machine is refused with -EBUSY and left
 * alone. Return: the machine,
 * or NULL after recording -EINVAL (nowhere when @owner has no machine).
 */
static inline QemuCompat *qemu_compat__region_begin(MemoryRegion *mr, Object *owner,
						    const char *name, Error **errp,
						    const char *call)
{
	QemuCompat *qc = owner ? owner->compat : NULL;

	if (qc && qemu_compat__region_live(qc, mr)) {
		qemu_compat__fail(qc, errp, call, -EBUSY);
		return NULL;
	}
	if (!mr || !qc || !qc->ctx || !name) {
		if (mr)
			memset(mr, 0, sizeof(*mr));
		qemu_compat__fail(qc, errp, call, -EINVAL);
		return NULL;
	}
	memset(mr, 0, sizeof(*mr));
	return qc;
}

/* Trampolines from memspace's callback order (opaque last) to QEMU's. */
static inline ms_result qemu_compat__read(uint64_t addr, uint64_t *data, unsigned size,
					  ms_attrs attrs, void *opaque)
{
	const MemoryRegion *mr = (const MemoryRegion *)opaque;

	if (mr->priv_ops->read_with_attrs)
		return mr->priv_ops->read_with_attrs(mr->priv_opaque, addr, data, size, attrs);
	if (mr->priv_ops->read) {
		*data = mr->priv_ops->read(mr->priv_opaque, addr, size);
		return MEMTX_OK;
	}
	*data = 0;
	return MEMTX_ERROR;
}

static inline ms_result qemu_compat__write(uint64_t addr, uint64_t data, unsigned size,
					   ms_attrs attrs, void *opaque)
{
	const MemoryRegion *mr = (const MemoryRegion *)opaque;

	if (mr->priv_ops->write_with_attrs)
		return mr->priv_ops->write_with_attrs(mr->priv_opaque, addr, data, size, attrs);
	if (mr->priv_ops->write) {
		mr->priv_ops->write(mr->priv_opaque, addr, data, size);
		return MEMTX_OK;
	}
	return MEMTX_ERROR;
}

static inline bool qemu_compat__accepts(uint64_t addr, unsigned size, bool is_write, ms_attrs attrs,
					void *opaque)
{
	const MemoryRegion *mr = (const MemoryRegion *)opaque;

	return mr->priv_ops->valid.accepts(mr->priv_opaque, addr, size, is_write, attrs);
}

/* Translate @ops into @mr's own memspace table. */
static inline void qemu_compat__set_ops(MemoryRegion *mr, const MemoryRegionOps *ops, void *opaque)
{
	ms_region_ops *t = &mr->priv_ms_ops;

	mr->priv_ops = ops;
	mr->priv_opaque = opaque;
	memset(t, 0, sizeof(*t));
	t->version = MS_REGION_OPS_VERSION;
	t->read_with_attrs = qemu_compat__read;
	t->write_with_attrs = qemu_compat__write;
	t->endianness = (ms_endian)ops->endianness;
	t->valid.min_access_size = ops->valid.min_access_size;
	t->valid.max_access_size = ops->valid.max_access_size;
	t->valid.unaligned = ops->valid.unaligned;
	t->valid.accepts = ops->valid.accepts ? qemu_compat__accepts : NULL;
	t->impl.min_access_size = ops->impl.min_access_size;
	t->impl.max_access_size = ops->impl.max_access_size;
	t->impl.unaligned = ops->impl.unaligned;
}

/** memory_region_init - a container (QEMU: memory_region_init()). */
static inline void memory_region_init(MemoryRegion *mr, Object *owner, const char *name,
				      uint64_t size)
{
	static const char call[] = "memory_region_init";
	QemuCompat *qc = qemu_compat__region_begin(mr, owner, name, NULL, call);
	ms_region *r = NULL;

	if (qc) {
		int err = ms_region_new_container(&r, qc->ctx, name, size);

		qemu_compat__region_created(mr, owner, r, err, NULL, call);
	}
}

/**
 * memory_region_init_io - an I/O region with QEMU-style @ops (NULL: a
 * reservation). @mr itself is memspace's opaque, so it must stay where it
 * is while the region lives.
 */
static inline void memory_region_init_io(MemoryRegion *mr, Object *owner,
					 const MemoryRegionOps *ops, void *opaque, const char *name,
					 uint64_t size)
{
	static const char call[] = "memory_region_init_io";
	QemuCompat *qc = qemu_compat__region_begin(mr, owner, name, NULL, call);
	ms_region_io_opts opts;
	ms_region *r = NULL;
	int err;

	if (!qc)
		return;
	memset(&opts, 0, sizeof(opts));
	opts.name = name;
	opts.size = size;
	if (ops) {
		qemu_compat__set_ops(mr, ops, opaque);
		opts.ops = &mr->priv_ms_ops;
		opts.opaque = mr;
	}
	err = ms_region_new_io(&r, qc->ctx, &opts);
	qemu_compat__region_created(mr, owner, r, err, NULL, call);
}

/*
 * The RAM constructors return true on success, as recent QEMU versions do
 * (callers that ignore the result, as older QEMU code does, work too).
 */

/**
 * memory_region_init_ram - zeroed RAM owned by the region. memspace's RAM
 * stream (migrate.h) includes it; QEMU's vmstate registration has no
 * counterpart.
 */
static inline bool memory_region_init_ram(MemoryRegion *mr, Object *owner, const char *name,
					  uint64_t size, Error **errp)
{
	static const char call[] = "memory_region_init_ram";
	QemuCompat *qc = qemu_compat__region_begin(mr, owner, name, errp, call);
	ms_region *r = NULL;
	int err;

	if (!qc)
		return false;
	err = ms_region_new_ram(&r, qc->ctx, name, size);
	return !qemu_compat__region_created(mr, owner, r, err, errp, call);
}

/** memory_region_init_rom - ROM: RAM that ignores guest writes. */
static inline bool memory_region_init_rom(MemoryRegion *mr, Object *owner, const char *name,
					  uint64_t size, Error **errp)
{
	static const char call[] = "memory_region_init_rom";
	QemuCompat *qc = qemu_compat__region_begin(mr, owner, name, errp, call);
	ms_region *r = NULL;
	int err;

	if (!qc)
		return false;
	err = ms_region_new_rom(&r, qc->ctx, name, size);
	return !qemu_compat__region_created(mr, owner, r, err, errp, call);
}

typedef uint64_t ram_addr_t;

/*
 * RAM flags of the backend constructors (QEMU's values). Only these are
 * taken; RAM_READONLY_FD only together with RAM_READONLY (memspace maps a
 * file opened read-only read-only). Others (RAM_NORESERVE, RAM_PMEM, ...)
 * are refused with -EINVAL.
 */
#define RAM_PREALLOC (1u << 0)
#define RAM_SHARED (1u << 1)
#define RAM_READONLY (1u << 10)
#define RAM_READONLY_FD (1u << 11)

static inline int qemu_compat__ram_flags(uint32_t ram_flags, unsigned *out)
{
	if (ram_flags & ~(RAM_PREALLOC | RAM_SHARED | RAM_READONLY | RAM_READONLY_FD))
		return -EINVAL;
	if ((ram_flags & RAM_READONLY_FD) && !(ram_flags & RAM_READONLY))
		return -EINVAL;
	*out = (ram_flags & RAM_PREALLOC ? MS_RAM_PREALLOC : 0u) |
	       (ram_flags & RAM_SHARED ? MS_RAM_SHARED : 0u) |
	       (ram_flags & RAM_READONLY ? MS_RAM_READONLY : 0u);
	return 0;
}

/* Create RAM with @opts (name and size already set) for the constructors below. */
static inline bool qemu_compat__ram_with(MemoryRegion *mr, Object *owner, ms_ram_opts *opts,
					 uint32_t ram_flags, Error **errp, const char *call)
{
	QemuCompat *qc = qemu_compat__region_begin(mr, owner, opts->name, errp, call);
	ms_region *r = NULL;
	int err;

	if (!qc)
		return false;
	err = qemu_compat__ram_flags(ram_flags, &opts->flags);
	if (err)
		return !qemu_compat__fail(qc, errp, call, err);
	err = ms_region_new_ram_with(&r, qc->ctx, opts);
	return !qemu_compat__region_created(mr, owner, r, err, errp, call);
}

/** memory_region_init_ram_from_file - RAM mapped from the file at @path. */
static inline bool memory_region_init_ram_from_file(MemoryRegion *mr, Object *owner,
						    const char *name, uint64_t size, uint64_t align,
						    uint32_t ram_flags, const char *path,
						    ram_addr_t offset, Error **errp)
{
	ms_ram_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.name = name;
	opts.size = size;
	opts.backend = MS_RAM_FILE;
	opts.path = path;
	opts.offset = offset;
	opts.align = align;
	return qemu_compat__ram_with(mr, owner, &opts, ram_flags, errp,
				     "memory_region_init_ram_from_file");
}

/** memory_region_init_ram_from_fd - RAM mapped from @fd (duplicated, as memspace does). */
static inline bool memory_region_init_ram_from_fd(MemoryRegion *mr, Object *owner, const char *name,
						  uint64_t size, uint32_t ram_flags, int fd,
						  ram_addr_t offset, Error **errp)
{
	ms_ram_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.name = name;
	opts.size = size;
	opts.backend = MS_RAM_FD;
	opts.fd = fd;
	opts.offset = offset;
	return qemu_compat__ram_with(mr, owner, &opts, ram_flags, errp,
				     "memory_region_init_ram_from_fd");
}

static inline void qemu_compat__resized(ms_region *r, uint64_t old_size, uint64_t new_size,
					void *opaque)
{
	MemoryRegion *mr = (MemoryRegion *)opaque;

	(void)old_size;
	mr->priv_resized(ms_region_name(r), new_size, ms_region_ram_ptr(r));
}

/**
 * memory_region_init_resizeable_ram - RAM of @size bytes that
 * memory_region_ram_resize() may grow up to @max_size. @resized (may be
 * NULL) is called after every resize with the name, the new length and the
 * host memory; @mr is its context, so it must stay where it is.
 */
static inline bool memory_region_init_resizeable_ram(
	MemoryRegion *mr, Object *owner, const char *name, uint64_t size, uint64_t max_size,
	void (*resized)(const char *, uint64_t length, void *host), Error **errp)
{
	ms_ram_opts opts;

	memset(&opts, 0, sizeof(opts));
	opts.name = name;
	opts.size = size;
	opts.max_size = max_size;
	opts.backend = MS_RAM_ANON;
	if (resized) {
		opts.resized = qemu_compat__resized;
		opts.opaque = mr;
	}
	if (!qemu_compat__ram_with(mr, owner, &opts, 0, errp, "memory_region_init_resizeable_ram"))
		return false;
	mr->priv_resized = resized;
	return true;
}

/** memory_region_ram_resize - change the used length of resizeable RAM. */
static inline void memory_region_ram_resize(MemoryRegion *mr, ram_addr_t newsize, Error **errp)
{
	int err = mr && mr->priv_region ? ms_region_ram_resize(mr->priv_region, newsize) : -EINVAL;

	if (err)
		qemu_compat__fail(qemu_compat__qc(mr), errp, "memory_region_ram_resize", err);
}

/**
 * memory_region_init_rom_device - RAM read in romd mode, writes through
 * @ops (which must not be NULL).
 */
static inline bool memory_region_init_rom_device(MemoryRegion *mr, Object *owner,
						 const MemoryRegionOps *ops, void *opaque,
						 const char *name, uint64_t size, Error **errp)
{
	static const char call[] = "memory_region_init_rom_device";
	QemuCompat *qc = qemu_compat__region_begin(mr, owner, name, errp, call);
	ms_region_io_opts opts;
	ms_region *r = NULL;
	int err;

	if (!qc)
		return false;
	if (!ops)
		return !qemu_compat__fail(qc, errp, call, -EINVAL);
	qemu_compat__set_ops(mr, ops, opaque);
	memset(&opts, 0, sizeof(opts));
	opts.name = name;
	opts.size = size;
	opts.ops = &mr->priv_ms_ops;
	opts.opaque = mr;
	err = ms_region_new_rom_device(&r, qc->ctx, &opts);
	return !qemu_compat__region_created(mr, owner, r, err, errp, call);
}

/** memory_region_init_ram_ptr - RAM at the caller's @ptr. */
static inline void memory_region_init_ram_ptr(MemoryRegion *mr, Object *owner, const char *name,
					      uint64_t size, void *ptr)
{
	static const char call[] = "memory_region_init_ram_ptr";
	QemuCompat *qc = qemu_compat__region_begin(mr, owner, name, NULL, call);
	ms_region *r = NULL;

	if (qc) {
		int err = ms_region_new_ram_ptr(&r, qc->ctx, name, size, ptr);

		qemu_compat__region_created(mr, owner, r, err, NULL, call);
	}
}

/** memory_region_init_ram_device_ptr - device memory at @ptr (exact-width accesses). */
static inline void memory_region_init_ram_device_ptr(MemoryRegion *mr, Object *owner,
						     const char *name, uint64_t size, void *ptr)
{
	static const char call[] = "memory_region_init_ram_device_ptr";
	QemuCompat *qc = qemu_compat__region_begin(mr, owner, name, NULL, call);
	ms_region *r = NULL;

	if (qc) {
		int err = ms_region_new_ram_device(&r, qc->ctx, name, size, ptr);

		qemu_compat__region_created(mr, owner, r, err, NULL, call);
	}
}

/** memory_region_init_alias - a window of @size bytes onto @orig from @offset. */
static inline void memory_region_init_alias(MemoryRegion *mr, Object *owner, const char *name,
					    MemoryRegion *orig, hwaddr offset, uint64_t size)
{
	static const char call[] = "memory_region_init_alias";
	QemuCompat *qc = qemu_compat__region_begin(mr, owner, name, NULL, call);
	ms_region_alias_opts opts;
	ms_region *r = NULL;
	int err;

	if (!qc)
		return;
	if (!qemu_compat__qc(orig)) {
		qemu_compat__fail(qc, NULL, call, -EINVAL);
		return;
	}
	memset(&opts, 0, sizeof(opts));
	opts.name = name;
	opts.target = orig->priv_region;
	opts.offset = offset;
	opts.size = size;
	err = ms_region_new_alias(&r, qc->ctx, &opts);
	qemu_compat__region_created(mr, owner, r, err, NULL, call);
}

/**
 * qemu_compat_wrap_region - make @mr stand for a region created with the
 * memspace API (a model's region, say), taking a reference on @r.
 * Return: 0; -EINVAL for a NULL argument or an @r of another context;
 * -EBUSY when @mr is a created region.
 */
static inline int qemu_compat_wrap_region(MemoryRegion *mr, QemuCompat *qc, ms_region *r)
{
	Object owner;

	if (!mr || !qc || !r || ms_region_ctx(r) != qc->ctx)
		return qemu_compat__fail(qc, NULL, "qemu_compat_wrap_region", -EINVAL);
	if (qemu_compat__region_live(qc, mr))
		return qemu_compat__fail(qc, NULL, "qemu_compat_wrap_region", -EBUSY);
	owner.compat = qc;
	owner.id = NULL;
	memset(mr, 0, sizeof(*mr));
	return qemu_compat__region_created(mr, &owner, ms_region_ref(r), 0, NULL,
					   "qemu_compat_wrap_region");
}

/* Record the result of a void call on @mr: the error of @err, or -EINVAL
 * when @mr is not created. */
static inline void qemu_compat__check(MemoryRegion *mr, QemuCompat *qc, const char *call, int err)
{
	if (err)
		qemu_compat__fail(qc ? qc : qemu_compat__qc(mr), NULL, call, err);
}

/** memory_region_add_subregion - place @sub in @mr at @offset, priority 0. */
static inline void memory_region_add_subregion(MemoryRegion *mr, hwaddr offset, MemoryRegion *sub)
{
	QemuCompat *qc = qemu_compat__qc(mr);

	qemu_compat__check(
		mr, qc ? qc : qemu_compat__qc(sub), "memory_region_add_subregion",
		qc && qemu_compat__qc(sub)
			? ms_region_add_subregion(mr->priv_region, offset, sub->priv_region)
			: -EINVAL);
}

/** memory_region_add_subregion_overlap - the same with a priority. */
static inline void memory_region_add_subregion_overlap(MemoryRegion *mr, hwaddr offset,
						       MemoryRegion *sub, int priority)
{
	QemuCompat *qc = qemu_compat__qc(mr);

	qemu_compat__check(mr, qc ? qc : qemu_compat__qc(sub),
			   "memory_region_add_subregion_overlap",
			   qc && qemu_compat__qc(sub)
				   ? ms_region_add_subregion_overlap(mr->priv_region, offset,
								     sub->priv_region, priority)
				   : -EINVAL);
}

/**
 * memory_region_del_subregion - remove @sub from @mr. @sub keeps its own
 * reference, so it may be added again (hot-unplug and replug).
 */
static inline void memory_region_del_subregion(MemoryRegion *mr, MemoryRegion *sub)
{
	QemuCompat *qc = qemu_compat__qc(mr);

	qemu_compat__check(mr, qc ? qc : qemu_compat__qc(sub), "memory_region_del_subregion",
			   qc && qemu_compat__qc(sub)
				   ? ms_region_del_subregion(mr->priv_region, sub->priv_region)
				   : -EINVAL);
}

static inline void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
	qemu_compat__check(mr, NULL, "memory_region_set_enabled",
			   mr && mr->priv_region ? ms_region_set_enabled(mr->priv_region, enabled)
						 : -EINVAL);
}

static inline void memory_region_set_readonly(MemoryRegion *mr, bool readonly)
{
	qemu_compat__check(mr, NULL, "memory_region_set_readonly",
			   mr && mr->priv_region ? ms_region_set_readonly(mr->priv_region, readonly)
						 : -EINVAL);
}

static inline void memory_region_set_address(MemoryRegion *mr, hwaddr addr)
{
	qemu_compat__check(mr, NULL, "memory_region_set_address",
			   mr && mr->priv_region ? ms_region_set_address(mr->priv_region, addr)
						 : -EINVAL);
}

/**
 * memory_region_set_size - resize. Regions with memory cannot be resized
 * this way (-EINVAL is recorded); QEMU allows it for any region.
 */
static inline void memory_region_set_size(MemoryRegion *mr, uint64_t size)
{
	qemu_compat__check(mr, NULL, "memory_region_set_size",
			   mr && mr->priv_region ? ms_region_set_size(mr->priv_region, size)
						 : -EINVAL);
}

static inline void memory_region_set_alias_offset(MemoryRegion *mr, hwaddr offset)
{
	qemu_compat__check(mr, NULL, "memory_region_set_alias_offset",
			   mr && mr->priv_region
				   ? ms_region_set_alias_offset(mr->priv_region, offset)
				   : -EINVAL);
}

static inline void memory_region_rom_device_set_romd(MemoryRegion *mr, bool romd_mode)
{
	qemu_compat__check(mr, NULL, "memory_region_rom_device_set_romd",
			   mr && mr->priv_region ? ms_region_set_romd(mr->priv_region, romd_mode)
						 : -EINVAL);
}

/** memory_region_size - the size; UINT64_MAX stands for 2^64 (as in QEMU). 0 when not created. */
static inline uint64_t memory_region_size(MemoryRegion *mr)
{
	return mr && mr->priv_region ? ms_region_size(mr->priv_region) : 0;
}

/** memory_region_name - the name; "" when not created. */
static inline const char *memory_region_name(const MemoryRegion *mr)
{
	return mr && mr->priv_region ? ms_region_name(mr->priv_region) : "";
}

/** memory_region_get_ram_ptr - host memory of a RAM-backed region, NULL otherwise. */
static inline void *memory_region_get_ram_ptr(MemoryRegion *mr)
{
	return mr && mr->priv_region ? ms_region_ram_ptr(mr->priv_region) : NULL;
}

static inline bool memory_region_is_ram(MemoryRegion *mr)
{
	ms_region_kind k;

	if (!mr || !mr->priv_region)
		return false;
	k = ms_region_get_kind(mr->priv_region);
	return k == MS_REGION_RAM || k == MS_REGION_ROM || k == MS_REGION_RAM_PTR ||
	       k == MS_REGION_RAM_DEVICE;
}

static inline bool memory_region_is_romd(MemoryRegion *mr)
{
	return mr && mr->priv_region && ms_region_romd(mr->priv_region);
}

static inline bool memory_region_is_iommu(MemoryRegion *mr)
{
	return mr && mr->priv_region && ms_region_get_kind(mr->priv_region) == MS_REGION_IOMMU;
}

/**
 * memory_region_transaction_begin / _commit - batch changes. They take the
 * machine here (QEMU's take nothing and use its global memory system).
 * Begin and commit must pair on one thread; a refused begin records the
 * error and must not be paired.
 */
static inline void memory_region_transaction_begin(QemuCompat *qc)
{
	int err = qc ? ms_transaction_begin(qc->ctx) : -EINVAL;

	if (err)
		qemu_compat__fail(qc, NULL, "memory_region_transaction_begin", err);
}

static inline void memory_region_transaction_commit(QemuCompat *qc)
{
	int err = qc ? ms_transaction_commit(qc->ctx) : -EINVAL;

	if (err)
		qemu_compat__fail(qc, NULL, "memory_region_transaction_commit", err);
}

/* ------------------------------------------------------------------------
 * Dirty memory tracking.
 */

#define DIRTY_MEMORY_VGA MS_DIRTY_VGA
#define DIRTY_MEMORY_CODE MS_DIRTY_CODE
#define DIRTY_MEMORY_MIGRATION MS_DIRTY_MIGRATION
#define DIRTY_MEMORY_NUM 3

typedef ms_dirty_snapshot DirtyBitmapSnapshot;

/** memory_region_set_log - dirty logging of @mr for @client (QEMU allows VGA only). */
static inline void memory_region_set_log(MemoryRegion *mr, bool log, unsigned client)
{
	qemu_compat__check(mr, NULL, "memory_region_set_log",
			   mr && mr->priv_region
				   ? ms_region_set_dirty_log(mr->priv_region, client, log)
				   : -EINVAL);
}

/** memory_region_get_dirty - is a page of [addr, addr + size) dirty for @client? */
static inline bool memory_region_get_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size,
					   unsigned client)
{
	return mr && mr->priv_region && ms_region_get_dirty(mr->priv_region, addr, size, client);
}

static inline void memory_region_set_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size)
{
	qemu_compat__check(mr, NULL, "memory_region_set_dirty",
			   mr && mr->priv_region ? ms_region_set_dirty(mr->priv_region, addr, size)
						 : -EINVAL);
}

static inline void memory_region_reset_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size,
					     unsigned client)
{
	qemu_compat__check(mr, NULL, "memory_region_reset_dirty",
			   mr && mr->priv_region
				   ? ms_region_reset_dirty(mr->priv_region, addr, size, client)
				   : -EINVAL);
}

/**
 * memory_region_snapshot_and_clear_dirty - take and clear @client's bits
 * of a range. Return: the snapshot, freed with dirty_bitmap_snapshot_free()
 * (QEMU: g_free()); NULL on error (recorded).
 */
static inline DirtyBitmapSnapshot *
memory_region_snapshot_and_clear_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size, unsigned client)
{
	ms_dirty_snapshot *snap = NULL;

	qemu_compat__check(mr, NULL, "memory_region_snapshot_and_clear_dirty",
			   mr && mr->priv_region
				   ? ms_region_snapshot_and_clear_dirty(&snap, mr->priv_region,
									addr, size, client)
				   : -EINVAL);
	return snap;
}

/** memory_region_snapshot_get_dirty - is a page of the range dirty in @snap? (@mr unused) */
static inline bool memory_region_snapshot_get_dirty(MemoryRegion *mr, DirtyBitmapSnapshot *snap,
						    hwaddr addr, hwaddr size)
{
	(void)mr;
	return ms_dirty_snapshot_get_dirty(snap, addr, size);
}

static inline void dirty_bitmap_snapshot_free(DirtyBitmapSnapshot *snap)
{
	ms_dirty_snapshot_free(snap);
}

/**
 * memory_region_clear_dirty_bitmap - ask the listeners where @mr is
 * visible to clear their own dirty state of the range (log_clear).
 */
static inline void memory_region_clear_dirty_bitmap(MemoryRegion *mr, hwaddr start, hwaddr len)
{
	qemu_compat__check(mr, NULL, "memory_region_clear_dirty_bitmap",
			   mr && mr->priv_region
				   ? ms_region_clear_dirty(mr->priv_region, start, len)
				   : -EINVAL);
}

/* ------------------------------------------------------------------------
 * Address spaces and accesses.
 */

/**
 * struct AddressSpace - an address space, embeddable. All fields private;
 * a zeroed struct is "not created". Accesses to one that is not created
 * fail with MEMTX_ACCESS_ERROR (nothing is recorded: accesses are
 * lock-free and do not touch the machine).
 */
struct AddressSpace {
	ms_as *priv_as;
	QemuCompat *priv_compat;
	MemoryRegion *priv_root;
	AddressSpace *priv_next;
	struct MemoryListener *priv_listeners;
};

/** qemu_compat_as - the memspace address space behind @as (NULL when not created). */
static inline ms_as *qemu_compat_as(const AddressSpace *as)
{
	return as ? as->priv_as : NULL;
}

static inline AddressSpace *qemu_compat__find_as(const QemuCompat *qc, const ms_as *a)
{
	AddressSpace *as;

	for (as = qc ? qc->priv_spaces : NULL; as; as = as->priv_next)
		if (as->priv_as == a)
			return as;
	return NULL;
}

/** address_space_init - render @root as address space @name. */
static inline void address_space_init(AddressSpace *as, MemoryRegion *root, const char *name)
{
	QemuCompat *qc = qemu_compat__qc(root);
	ms_as *a = NULL;
	int err;

	/* Refuse to overwrite a live address space (looked up, not read). */
	for (AddressSpace *it = qc ? qc->priv_spaces : NULL; it; it = it->priv_next) {
		if (it == as) {
			qemu_compat__fail(qc, NULL, "address_space_init", -EBUSY);
			return;
		}
	}
	if (!as || !qc) {
		if (as)
			memset(as, 0, sizeof(*as));
		qemu_compat__fail(qc, NULL, "address_space_init", -EINVAL);
		return;
	}
	memset(as, 0, sizeof(*as));
	err = ms_as_new(&a, qc->ctx, root->priv_region, name ? name : "");
	if (err) {
		qemu_compat__fail(qc, NULL, "address_space_init", err);
		return;
	}
	as->priv_as = a;
	as->priv_compat = qc;
	as->priv_root = root;
	as->priv_next = qc->priv_spaces;
	qc->priv_spaces = as;
}

static inline MemTxResult address_space_read(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					     void *buf, hwaddr len)
{
	return ms_as_read(qemu_compat_as(as), addr, attrs, buf, (size_t)len);
}

static inline MemTxResult address_space_write(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					      const void *buf, hwaddr len)
{
	return ms_as_write(qemu_compat_as(as), addr, attrs, buf, (size_t)len);
}

static inline MemTxResult address_space_rw(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					   void *buf, hwaddr len, bool is_write)
{
	return is_write ? address_space_write(as, addr, attrs, buf, len)
			: address_space_read(as, addr, attrs, buf, len);
}

/** address_space_write_rom - loader write into RAM and ROM (@attrs unused, as in QEMU). */
static inline MemTxResult address_space_write_rom(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
						  const void *buf, hwaddr len)
{
	(void)attrs;
	return ms_as_write_rom(qemu_compat_as(as), addr, buf, (size_t)len);
}

static inline MemTxResult address_space_set(AddressSpace *as, hwaddr addr, uint8_t c, hwaddr len,
					    MemTxAttrs attrs)
{
	return ms_as_set(qemu_compat_as(as), addr, attrs, c, (size_t)len);
}

static inline bool address_space_access_valid(AddressSpace *as, hwaddr addr, hwaddr len,
					      bool is_write, MemTxAttrs attrs)
{
	return ms_as_access_valid(qemu_compat_as(as), addr, (size_t)len, is_write, attrs);
}

/** address_space_map - a host pointer for DMA; *@plen is shortened as needed. */
static inline void *address_space_map(AddressSpace *as, hwaddr addr, hwaddr *plen, bool is_write,
				      MemTxAttrs attrs)
{
	return ms_as_map(qemu_compat_as(as), addr, plen, is_write, attrs);
}

/**
 * address_space_unmap - release a mapping. An unknown mapping is refused
 * and the error recorded (QEMU asserts).
 */
static inline void address_space_unmap(AddressSpace *as, void *buffer, hwaddr len, bool is_write,
				       hwaddr access_len)
{
	int err = ms_as_unmap(qemu_compat_as(as), buffer, len, is_write, access_len);

	if (err)
		qemu_compat__fail(as ? as->priv_compat : NULL, NULL, "address_space_unmap", err);
}

/* address_space_ld*() / st*(): one access of 1, 2, 4 or 8 bytes. */
static inline uint32_t address_space_ldub(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					  MemTxResult *result)
{
	return ms_as_ldub(qemu_compat_as(as), addr, attrs, result);
}

static inline uint32_t address_space_lduw_le(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					     MemTxResult *result)
{
	return ms_as_lduw_le(qemu_compat_as(as), addr, attrs, result);
}

static inline uint32_t address_space_lduw_be(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					     MemTxResult *result)
{
	return ms_as_lduw_be(qemu_compat_as(as), addr, attrs, result);
}

static inline uint32_t address_space_ldl_le(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					    MemTxResult *result)
{
	return ms_as_ldl_le(qemu_compat_as(as), addr, attrs, result);
}

static inline uint32_t address_space_ldl_be(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					    MemTxResult *result)
{
	return ms_as_ldl_be(qemu_compat_as(as), addr, attrs, result);
}

static inline uint64_t address_space_ldq_le(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					    MemTxResult *result)
{
	return ms_as_ldq_le(qemu_compat_as(as), addr, attrs, result);
}

static inline uint64_t address_space_ldq_be(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
					    MemTxResult *result)
{
	return ms_as_ldq_be(qemu_compat_as(as), addr, attrs, result);
}

/* The stores store the result in *@result unless it is NULL, as in QEMU. */
static inline void qemu_compat__result(MemTxResult *result, MemTxResult r)
{
	if (result)
		*result = r;
}

static inline void address_space_stb(AddressSpace *as, hwaddr addr, uint32_t val, MemTxAttrs attrs,
				     MemTxResult *result)
{
	qemu_compat__result(result, ms_as_stb(qemu_compat_as(as), addr, attrs, (uint8_t)val));
}

static inline void address_space_stw_le(AddressSpace *as, hwaddr addr, uint32_t val,
					MemTxAttrs attrs, MemTxResult *result)
{
	qemu_compat__result(result, ms_as_stw_le(qemu_compat_as(as), addr, attrs, (uint16_t)val));
}

static inline void address_space_stw_be(AddressSpace *as, hwaddr addr, uint32_t val,
					MemTxAttrs attrs, MemTxResult *result)
{
	qemu_compat__result(result, ms_as_stw_be(qemu_compat_as(as), addr, attrs, (uint16_t)val));
}

static inline void address_space_stl_le(AddressSpace *as, hwaddr addr, uint32_t val,
					MemTxAttrs attrs, MemTxResult *result)
{
	qemu_compat__result(result, ms_as_stl_le(qemu_compat_as(as), addr, attrs, val));
}

static inline void address_space_stl_be(AddressSpace *as, hwaddr addr, uint32_t val,
					MemTxAttrs attrs, MemTxResult *result)
{
	qemu_compat__result(result, ms_as_stl_be(qemu_compat_as(as), addr, attrs, val));
}

static inline void address_space_stq_le(AddressSpace *as, hwaddr addr, uint64_t val,
					MemTxAttrs attrs, MemTxResult *result)
{
	qemu_compat__result(result, ms_as_stq_le(qemu_compat_as(as), addr, attrs, val));
}

static inline void address_space_stq_be(AddressSpace *as, hwaddr addr, uint64_t val,
					MemTxAttrs attrs, MemTxResult *result)
{
	qemu_compat__result(result, ms_as_stq_be(qemu_compat_as(as), addr, attrs, val));
}

/*
 * ld*_phys / st*_phys: the same with MEMTXATTRS_UNSPECIFIED and the result
 * ignored (a failed load reads 0 in the bytes that failed), as in QEMU.
 */
static inline uint32_t ldub_phys(AddressSpace *as, hwaddr addr)
{
	return address_space_ldub(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint32_t lduw_le_phys(AddressSpace *as, hwaddr addr)
{
	return address_space_lduw_le(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint32_t lduw_be_phys(AddressSpace *as, hwaddr addr)
{
	return address_space_lduw_be(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint32_t ldl_le_phys(AddressSpace *as, hwaddr addr)
{
	return address_space_ldl_le(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint32_t ldl_be_phys(AddressSpace *as, hwaddr addr)
{
	return address_space_ldl_be(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint64_t ldq_le_phys(AddressSpace *as, hwaddr addr)
{
	return address_space_ldq_le(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline uint64_t ldq_be_phys(AddressSpace *as, hwaddr addr)
{
	return address_space_ldq_be(as, addr, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void stb_phys(AddressSpace *as, hwaddr addr, uint32_t val)
{
	address_space_stb(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void stw_le_phys(AddressSpace *as, hwaddr addr, uint32_t val)
{
	address_space_stw_le(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void stw_be_phys(AddressSpace *as, hwaddr addr, uint32_t val)
{
	address_space_stw_be(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void stl_le_phys(AddressSpace *as, hwaddr addr, uint32_t val)
{
	address_space_stl_le(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void stl_be_phys(AddressSpace *as, hwaddr addr, uint32_t val)
{
	address_space_stl_be(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void stq_le_phys(AddressSpace *as, hwaddr addr, uint64_t val)
{
	address_space_stq_le(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
}

static inline void stq_be_phys(AddressSpace *as, hwaddr addr, uint64_t val)
{
	address_space_stq_be(as, addr, val, MEMTXATTRS_UNSPECIFIED, NULL);
}

/* DMA helpers (QEMU's sysemu/dma.h): a memory barrier, then the access. */
typedef enum DMADirection {
	DMA_DIRECTION_TO_DEVICE = MS_DMA_TO_DEVICE,
	DMA_DIRECTION_FROM_DEVICE = MS_DMA_FROM_DEVICE,
} DMADirection;

static inline MemTxResult dma_memory_read(AddressSpace *as, dma_addr_t addr, void *buf,
					  dma_addr_t len, MemTxAttrs attrs)
{
	return ms_as_dma_read(qemu_compat_as(as), addr, buf, (size_t)len, attrs);
}

static inline MemTxResult dma_memory_write(AddressSpace *as, dma_addr_t addr, const void *buf,
					   dma_addr_t len, MemTxAttrs attrs)
{
	return ms_as_dma_write(qemu_compat_as(as), addr, buf, (size_t)len, attrs);
}

static inline MemTxResult dma_memory_rw(AddressSpace *as, dma_addr_t addr, void *buf,
					dma_addr_t len, DMADirection dir, MemTxAttrs attrs)
{
	if (dir == DMA_DIRECTION_TO_DEVICE)
		return dma_memory_read(as, addr, buf, len, attrs);
	if (dir == DMA_DIRECTION_FROM_DEVICE)
		return dma_memory_write(as, addr, buf, len, attrs);
	return MEMTX_ACCESS_ERROR;
}

static inline MemTxResult dma_memory_set(AddressSpace *as, dma_addr_t addr, uint8_t c,
					 dma_addr_t len, MemTxAttrs attrs)
{
	return ms_as_dma_set(qemu_compat_as(as), addr, c, (size_t)len, attrs);
}

/* ------------------------------------------------------------------------
 * IOMMUs.
 */

typedef enum IOMMUAccessFlags {
	IOMMU_NONE = MS_IOMMU_NONE,
	IOMMU_RO = MS_IOMMU_RO,
	IOMMU_WO = MS_IOMMU_WO,
	IOMMU_RW = MS_IOMMU_RW,
} IOMMUAccessFlags;

/* QEMU's notifier flag values (UNMAP and MAP are swapped against memspace's). */
typedef enum IOMMUNotifierFlag {
	IOMMU_NOTIFIER_NONE = 0,
	IOMMU_NOTIFIER_UNMAP = 0x1,
	IOMMU_NOTIFIER_MAP = 0x2,
	IOMMU_NOTIFIER_DEVIOTLB_UNMAP = 0x4,
} IOMMUNotifierFlag;

#define IOMMU_NOTIFIER_IOTLB_EVENTS ((IOMMUNotifierFlag)(IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP))
#define IOMMU_NOTIFIER_DEVIOTLB_EVENTS IOMMU_NOTIFIER_DEVIOTLB_UNMAP
#define IOMMU_NOTIFIER_ALL \
	((IOMMUNotifierFlag)(IOMMU_NOTIFIER_IOTLB_EVENTS | IOMMU_NOTIFIER_DEVIOTLB_EVENTS))

enum IOMMUMemoryRegionAttr {
	IOMMU_ATTR_SPAPR_TCE_FD = MS_IOMMU_ATTR_SPAPR_TCE_FD,
};

static inline ms_iommu_notifier_flags qemu_compat__flags_to_ms(unsigned f)
{
	return (f & IOMMU_NOTIFIER_MAP ? MS_IOMMU_NOTIFIER_MAP : 0u) |
	       (f & IOMMU_NOTIFIER_UNMAP ? MS_IOMMU_NOTIFIER_UNMAP : 0u) |
	       (f & IOMMU_NOTIFIER_DEVIOTLB_UNMAP ? MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP : 0u) |
	       (f & ~(unsigned)IOMMU_NOTIFIER_ALL ? 0x80000000u : 0u); /* refused as unknown */
}

static inline IOMMUNotifierFlag qemu_compat__flags_from_ms(ms_iommu_notifier_flags f)
{
	return (IOMMUNotifierFlag)((f & MS_IOMMU_NOTIFIER_MAP ? IOMMU_NOTIFIER_MAP : 0) |
				   (f & MS_IOMMU_NOTIFIER_UNMAP ? IOMMU_NOTIFIER_UNMAP : 0) |
				   (f & MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP
					    ? IOMMU_NOTIFIER_DEVIOTLB_UNMAP
					    : 0));
}

/**
 * struct IOMMUTLBEntry - one translation (QEMU's fields). @target_as is a
 * compat AddressSpace: an entry that names a memspace address space not
 * made with address_space_init() shows NULL there.
 */
typedef struct IOMMUTLBEntry {
	AddressSpace *target_as;
	hwaddr iova;
	hwaddr translated_addr;
	hwaddr addr_mask;
	IOMMUAccessFlags perm;
} IOMMUTLBEntry;

typedef struct IOMMUTLBEvent {
	IOMMUNotifierFlag type;
	IOMMUTLBEntry entry;
} IOMMUTLBEvent;

typedef struct IOMMUMemoryRegion IOMMUMemoryRegion;
typedef struct IOMMUNotifier IOMMUNotifier;

/** IOMMUNotify - a notifier callback; an unmap has perm IOMMU_NONE. */
typedef void (*IOMMUNotify)(IOMMUNotifier *notifier, IOMMUTLBEntry *data);

/**
 * struct IOMMUNotifier - QEMU's notifier, embeddable. Set the public
 * fields with iommu_notifier_init(); the priv_ fields are private.
 */
struct IOMMUNotifier {
	IOMMUNotify notify;
	IOMMUNotifierFlag notifier_flags;
	hwaddr start;
	hwaddr end;
	int iommu_idx;
	ms_iommu_notifier *priv_handle;
	IOMMUMemoryRegion *priv_iommu;
	IOMMUNotifier *priv_next;
};

/**
 * struct IOMMUMemoryRegionClass - QEMU's IOMMU class methods (the QOM
 * parent class is not there). Only @translate is required; the others
 * may be NULL, with memspace's defaults (iommu.h). The table must outlive
 * the regions that use it.
 *
 * @translate must keep memspace's contract: the entry may not depend on
 * @flag (with IOMMU_NONE, report every permission), @addr_mask is 2^k - 1,
 * and every change of a mapping is announced with
 * memory_region_notify_iommu(). @notify_flag_changed may refuse a flag
 * change (a negative errno; @errp may be set, it is freed here). @replay
 * announces mappings with memory_region_notify_iommu_one().
 */
typedef struct IOMMUMemoryRegionClass {
	IOMMUTLBEntry (*translate)(IOMMUMemoryRegion *iommu, hwaddr addr, IOMMUAccessFlags flag,
				   int iommu_idx);
	uint64_t (*get_min_page_size)(IOMMUMemoryRegion *iommu);
	int (*notify_flag_changed)(IOMMUMemoryRegion *iommu, IOMMUNotifierFlag old_flags,
				   IOMMUNotifierFlag new_flags, Error **errp);
	void (*replay)(IOMMUMemoryRegion *iommu, IOMMUNotifier *notifier);
	int (*get_attr)(IOMMUMemoryRegion *iommu, enum IOMMUMemoryRegionAttr attr, void *data);
	int (*attrs_to_index)(IOMMUMemoryRegion *iommu, MemTxAttrs attrs);
	int (*num_indexes)(IOMMUMemoryRegion *iommu);
} IOMMUMemoryRegionClass;

/**
 * struct IOMMUMemoryRegion - an IOMMU region, embeddable; its MemoryRegion
 * comes first (MEMORY_REGION(iommu) works). All fields private.
 */
struct IOMMUMemoryRegion {
	MemoryRegion parent_obj;
	const IOMMUMemoryRegionClass *priv_class;
	ms_iommu_ops priv_ms_ops;
	IOMMUNotifier *priv_notifiers;
};

#define IOMMU_MEMORY_REGION(obj) ((IOMMUMemoryRegion *)(obj))

static inline IOMMUTLBEntry qemu_compat__entry_from_ms(const QemuCompat *qc,
						       const ms_iotlb_entry *e)
{
	IOMMUTLBEntry r;

	r.target_as = qemu_compat__find_as(qc, e->target_as);
	r.iova = e->iova;
	r.translated_addr = e->translated_addr;
	r.addr_mask = e->addr_mask;
	r.perm = (IOMMUAccessFlags)e->perm;
	return r;
}

static inline void qemu_compat__entry_to_ms(ms_iotlb_entry *out, const IOMMUTLBEntry *e)
{
	out->target_as = qemu_compat_as(e->target_as);
	out->iova = e->iova;
	out->translated_addr = e->translated_addr;
	out->addr_mask = e->addr_mask;
	out->perm = (ms_iommu_perm)(e->perm & IOMMU_RW);
}

static inline void qemu_compat__iommu_translate(ms_iotlb_entry *out, ms_region *iommu,
						uint64_t addr, ms_iommu_perm flags,
						unsigned iommu_idx, void *opaque)
{
	IOMMUMemoryRegion *im = (IOMMUMemoryRegion *)opaque;
	IOMMUTLBEntry e =
		im->priv_class->translate(im, addr, (IOMMUAccessFlags)flags, (int)iommu_idx);

	(void)iommu;
	qemu_compat__entry_to_ms(out, &e);
}

static inline uint64_t qemu_compat__iommu_min_page(ms_region *iommu, void *opaque)
{
	IOMMUMemoryRegion *im = (IOMMUMemoryRegion *)opaque;

	(void)iommu;
	return im->priv_class->get_min_page_size(im);
}

static inline int qemu_compat__iommu_flag_changed(ms_region *iommu,
						  ms_iommu_notifier_flags old_flags,
						  ms_iommu_notifier_flags new_flags, void *opaque)
{
	IOMMUMemoryRegion *im = (IOMMUMemoryRegion *)opaque;
	Error *err = NULL;
	int ret;

	(void)iommu;
	ret = im->priv_class->notify_flag_changed(im, qemu_compat__flags_from_ms(old_flags),
						  qemu_compat__flags_from_ms(new_flags), &err);
	error_free(err);
	return ret;
}

static inline int qemu_compat__iommu_replay(ms_region *iommu, ms_iommu_notifier *n, void *opaque)
{
	IOMMUMemoryRegion *im = (IOMMUMemoryRegion *)opaque;
	IOMMUNotifier *qn;

	(void)iommu;
	for (qn = im->priv_notifiers; qn; qn = qn->priv_next) {
		if (qn->priv_handle == n) {
			im->priv_class->replay(im, qn);
			return 0;
		}
	}
	return -EINVAL; /* a notifier registered through the memspace API */
}

static inline int qemu_compat__iommu_get_attr(ms_region *iommu, ms_iommu_attr attr, void *data,
					      void *opaque)
{
	IOMMUMemoryRegion *im = (IOMMUMemoryRegion *)opaque;

	(void)iommu;
	return im->priv_class->get_attr(im, (enum IOMMUMemoryRegionAttr)attr, data);
}

static inline unsigned qemu_compat__iommu_attrs_to_index(ms_region *iommu, ms_attrs attrs,
							 void *opaque)
{
	IOMMUMemoryRegion *im = (IOMMUMemoryRegion *)opaque;

	(void)iommu;
	/* A negative index becomes one out of range: the access fails. */
	return (unsigned)im->priv_class->attrs_to_index(im, attrs);
}

static inline unsigned qemu_compat__iommu_num_indexes(ms_region *iommu, void *opaque)
{
	IOMMUMemoryRegion *im = (IOMMUMemoryRegion *)opaque;
	int n;

	(void)iommu;
	n = im->priv_class->num_indexes(im);
	return n > 0 ? (unsigned)n : 0u;
}

/**
 * memory_region_init_iommu - an IOMMU region translating with @klass.
 * @iommu_mr: the IOMMUMemoryRegion (QEMU: void *_iommu_mr).
 * @instance_size: sizeof(IOMMUMemoryRegion) or more (checked).
 * @klass: the class; QEMU takes a QOM type name here and finds the class.
 * @owner, @name, @size: as for the other regions.
 */
static inline void memory_region_init_iommu(void *iommu_mr, size_t instance_size,
					    const IOMMUMemoryRegionClass *klass, Object *owner,
					    const char *name, uint64_t size)
{
	static const char call[] = "memory_region_init_iommu";
	IOMMUMemoryRegion *im = (IOMMUMemoryRegion *)iommu_mr;
	QemuCompat *qc;
	ms_iommu_ops *t;
	ms_iommu_opts opts;
	ms_region *r = NULL;
	int err;

	if (im && instance_size >= sizeof(*im) &&
	    !(owner && owner->compat && qemu_compat__region_live(owner->compat, &im->parent_obj)))
		memset(im, 0, sizeof(*im));
	qc = qemu_compat__region_begin(im ? &im->parent_obj : NULL, owner, name, NULL, call);
	if (!qc)
		return;
	if (instance_size < sizeof(*im) || !klass || !klass->translate) {
		qemu_compat__fail(qc, NULL, call, -EINVAL);
		return;
	}
	im->priv_class = klass;
	t = &im->priv_ms_ops;
	t->version = MS_IOMMU_OPS_VERSION;
	t->translate = qemu_compat__iommu_translate;
	t->get_min_page_size = klass->get_min_page_size ? qemu_compat__iommu_min_page : NULL;
	t->notify_flag_changed =
		klass->notify_flag_changed ? qemu_compat__iommu_flag_changed : NULL;
	t->replay = klass->replay ? qemu_compat__iommu_replay : NULL;
	t->get_attr = klass->get_attr ? qemu_compat__iommu_get_attr : NULL;
	t->attrs_to_index = klass->attrs_to_index ? qemu_compat__iommu_attrs_to_index : NULL;
	t->num_indexes = klass->num_indexes ? qemu_compat__iommu_num_indexes : NULL;
	memset(&opts, 0, sizeof(opts));
	opts.name = name;
	opts.size = size;
	opts.ops = t;
	opts.opaque = im;
	err = ms_iommu_new(&r, qc->ctx, &opts);
	if (!qemu_compat__region_created(&im->parent_obj, owner, r, err, NULL, call))
		im->parent_obj.priv_iommu = true;
}

/*
 * The compat IOMMU region behind @mr (itself, or the target of an alias
 * chain), or NULL.
 */
static inline IOMMUMemoryRegion *qemu_compat__iommu_of(MemoryRegion *mr)
{
	QemuCompat *qc = qemu_compat__qc(mr);
	ms_region *r = qc ? mr->priv_region : NULL;

	while (r && ms_region_get_kind(r) == MS_REGION_ALIAS)
		r = ms_region_alias_target(r);
	if (!r || ms_region_get_kind(r) != MS_REGION_IOMMU)
		return NULL;
	mr = qemu_compat__find_region(qc, r);
	/* Only regions made by memory_region_init_iommu() have a class. */
	return mr && mr->priv_iommu ? (IOMMUMemoryRegion *)mr : NULL;
}

static inline IOMMUMemoryRegion *memory_region_get_iommu(MemoryRegion *mr)
{
	return qemu_compat__iommu_of(mr);
}

static inline void iommu_notifier_init(IOMMUNotifier *n, IOMMUNotify fn, IOMMUNotifierFlag flags,
				       hwaddr start, hwaddr end, int iommu_idx)
{
	memset(n, 0, sizeof(*n));
	n->notify = fn;
	n->notifier_flags = flags;
	n->start = start;
	n->end = end;
	n->iommu_idx = iommu_idx;
}

static inline int qemu_compat__iommu_notify(ms_iommu_notifier *handle, const ms_iommu_event *event,
					    void *opaque)
{
	IOMMUNotifier *n = (IOMMUNotifier *)opaque;
	IOMMUTLBEntry e =
		qemu_compat__entry_from_ms(n->priv_iommu->parent_obj.priv_compat, &event->entry);

	(void)handle;
	n->notify(n, &e);
	return 0;
}

/**
 * memory_region_register_iommu_notifier - follow the mappings of the IOMMU
 * behind @mr (an IOMMU region made here, or an alias of one).
 * Return: 0; -EINVAL for a bad region or notifier, or a notifier already
 * registered; the refusal of the class's notify_flag_changed; -ENOMEM.
 * QEMU's registration also replays nothing.
 */
static inline int memory_region_register_iommu_notifier(MemoryRegion *mr, IOMMUNotifier *n,
							Error **errp)
{
	static const char call[] = "memory_region_register_iommu_notifier";
	IOMMUMemoryRegion *im = qemu_compat__iommu_of(mr);
	QemuCompat *qc = qemu_compat__qc(mr);
	ms_iommu_notifier_opts opts;
	int err;

	if (!im || !n || !n->notify || n->priv_handle || n->iommu_idx < 0)
		return qemu_compat__fail(qc, errp, call, -EINVAL);
	memset(&opts, 0, sizeof(opts));
	opts.flags = qemu_compat__flags_to_ms(n->notifier_flags);
	opts.start = n->start;
	opts.end = n->end;
	opts.iommu_idx = (unsigned)n->iommu_idx;
	opts.notify = qemu_compat__iommu_notify;
	opts.opaque = n;
	n->priv_iommu = im;
	err = ms_iommu_register_notifier(&n->priv_handle, im->parent_obj.priv_region, &opts);
	if (err) {
		n->priv_iommu = NULL;
		return qemu_compat__fail(qc, errp, call, err);
	}
	n->priv_next = im->priv_notifiers;
	im->priv_notifiers = n;
	return 0;
}

/** memory_region_unregister_iommu_notifier - stop following (@mr unused beyond a check). */
static inline void memory_region_unregister_iommu_notifier(MemoryRegion *mr, IOMMUNotifier *n)
{
	IOMMUNotifier **p;

	if (!n || !n->priv_handle || qemu_compat__iommu_of(mr) != n->priv_iommu) {
		qemu_compat__fail(qemu_compat__qc(mr), NULL,
				  "memory_region_unregister_iommu_notifier", -EINVAL);
		return;
	}
	for (p = &n->priv_iommu->priv_notifiers; *p; p = &(*p)->priv_next) {
		if (*p == n) {
			*p = n->priv_next;
			break;
		}
	}
	ms_iommu_unregister_notifier(n->priv_handle);
	n->priv_handle = NULL;
	n->priv_iommu = NULL;
	n->priv_next = NULL;
}

static inline int qemu_compat__event_to_ms(ms_iommu_event *out, const IOMMUTLBEvent *event)
{
	out->type = qemu_compat__flags_to_ms(event->type);
	qemu_compat__entry_to_ms(&out->entry, &event->entry);
	return 0;
}

/**
 * memory_region_unmap_iommu_notifier_range - tell @notifier that its whole
 * range is unmapped (the IOMMU's mappings do not change).
 */
static inline void memory_region_unmap_iommu_notifier_range(IOMMUNotifier *notifier)
{
	int err = notifier && notifier->priv_handle
			  ? ms_iommu_unmap_notifier_range(notifier->priv_handle)
			  : -EINVAL;

	if (err)
		qemu_compat__fail(notifier && notifier->priv_iommu
					  ? qemu_compat__qc(&notifier->priv_iommu->parent_obj)
					  : NULL,
				  NULL, "memory_region_unmap_iommu_notifier_range", err);
}

/**
 * memory_region_notify_iommu - announce a change of @iommu_mr's mappings
 * to its notifiers (and to memspace's region caches). A malformed event
 * or a consumer's error is recorded (QEMU asserts, or ignores the error).
 */
static inline void memory_region_notify_iommu(IOMMUMemoryRegion *iommu_mr, int iommu_idx,
					      IOMMUTLBEvent event)
{
	ms_iommu_event ev;
	int err = -EINVAL;

	if (iommu_mr && iommu_mr->parent_obj.priv_region && iommu_idx >= 0) {
		qemu_compat__event_to_ms(&ev, &event);
		err = ms_iommu_notify(iommu_mr->parent_obj.priv_region, (unsigned)iommu_idx, &ev);
	}
	if (err)
		qemu_compat__fail(iommu_mr ? qemu_compat__qc(&iommu_mr->parent_obj) : NULL, NULL,
				  "memory_region_notify_iommu", err);
}

/** memory_region_notify_iommu_one - deliver @event to @notifier alone (for replay methods). */
static inline void memory_region_notify_iommu_one(IOMMUNotifier *notifier, IOMMUTLBEvent *event)
{
	ms_iommu_event ev;
	int err = -EINVAL;

	if (notifier && notifier->priv_handle && event) {
		qemu_compat__event_to_ms(&ev, event);
		err = ms_iommu_notify_one(notifier->priv_handle, &ev);
	}
	if (err)
		qemu_compat__fail(notifier && notifier->priv_iommu
					  ? qemu_compat__qc(&notifier->priv_iommu->parent_obj)
					  : NULL,
				  NULL, "memory_region_notify_iommu_one", err);
}

/** memory_region_iommu_replay - announce the current mappings to @n. */
static inline void memory_region_iommu_replay(IOMMUMemoryRegion *iommu_mr, IOMMUNotifier *n)
{
	int err = -EINVAL;

	if (iommu_mr && n && n->priv_handle && n->priv_iommu == iommu_mr)
		err = ms_iommu_replay(iommu_mr->parent_obj.priv_region, n->priv_handle);
	if (err)
		qemu_compat__fail(iommu_mr ? qemu_compat__qc(&iommu_mr->parent_obj) : NULL, NULL,
				  "memory_region_iommu_replay", err);
}

static inline uint64_t memory_region_iommu_get_min_page_size(IOMMUMemoryRegion *iommu_mr)
{
	return iommu_mr ? ms_iommu_get_min_page_size(iommu_mr->parent_obj.priv_region) : 0;
}

static inline int memory_region_iommu_num_indexes(IOMMUMemoryRegion *iommu_mr)
{
	return iommu_mr ? (int)ms_iommu_num_indexes(iommu_mr->parent_obj.priv_region) : 0;
}

static inline int memory_region_iommu_attrs_to_index(IOMMUMemoryRegion *iommu_mr, MemTxAttrs attrs)
{
	return iommu_mr ? ms_iommu_attrs_to_index(iommu_mr->parent_obj.priv_region, attrs)
			: -EINVAL;
}

static inline int memory_region_iommu_get_attr(IOMMUMemoryRegion *iommu_mr,
					       enum IOMMUMemoryRegionAttr attr, void *data)
{
	return iommu_mr ? ms_iommu_get_attr(iommu_mr->parent_obj.priv_region, (ms_iommu_attr)attr,
					    data)
			: -EINVAL;
}

/**
 * memory_region_destroy - give the region up: @mr leaves its machine's list
 * and drops its reference (QEMU: object_unparent(OBJECT(mr)); QEMU before
 * 2.2 had this very call). Remove it from its container first, as QEMU
 * requires: a region still in a container, or the root of an address space
 * made here, is refused with -EBUSY (QEMU asserts). Notifiers still
 * registered on an IOMMU region are unregistered. The memspace region
 * lives on while an alias or a published view still holds it, and an
 * access that found it before may still call its callbacks: the struct's
 * callback fields are kept (only its identity is cleared, and calls on it
 * then fail as on one never created), so free the struct's storage only
 * when nothing can reach the region any more (at the latest, after
 * ms_ctx_free()). NULL or a struct not created is a no-op.
 */
static inline void memory_region_destroy(MemoryRegion *mr)
{
	QemuCompat *qc = qemu_compat__qc(mr);
	MemoryRegion **p;
	AddressSpace *as;

	if (!qc)
		return;
	for (as = qc->priv_spaces; as; as = as->priv_next)
		if (as->priv_root == mr)
			break;
	if (as || ms_region_container(mr->priv_region)) {
		qemu_compat__fail(qc, NULL, "memory_region_destroy", -EBUSY);
		return;
	}
	if (mr->priv_iommu) {
		IOMMUMemoryRegion *im = (IOMMUMemoryRegion *)mr;

		while (im->priv_notifiers)
			memory_region_unregister_iommu_notifier(mr, im->priv_notifiers);
	}
	for (p = &qc->priv_regions; *p; p = &(*p)->priv_next) {
		if (*p == mr) {
			*p = mr->priv_next;
			break;
		}
	}
	ms_region_unref(mr->priv_region);
	mr->priv_region = NULL;
	mr->priv_compat = NULL;
	mr->priv_next = NULL;
}

/* ------------------------------------------------------------------------
 * Memory listeners.
 */

/**
 * struct MemoryRegionSection - one range of a view, as a listener sees it.
 * @mr: the compat region, or NULL when the region was not made through
 *      this header (use @ms then).
 * @ms: memspace's section, valid during the callback (QEMU has @fv here).
 */
typedef struct MemoryRegionSection {
	Int128 size;
	MemoryRegion *mr;
	hwaddr offset_within_region;
	hwaddr offset_within_address_space;
	bool readonly;
	bool nonvolatile;
	bool unmergeable;
	const ms_section *ms;
} MemoryRegionSection;

typedef struct MemoryListener MemoryListener;

/**
 * struct MemoryListener - QEMU's listener, embeddable. Set the callbacks
 * (any may be NULL), @priority and @name; the priv_ fields are private.
 * @log_global_start returns false (and may set *@errp) to refuse global
 * dirty logging, as in QEMU 9. @address_space is set while registered.
 * Callbacks run with memspace's topology lock held (listener.h): they
 * must not change the topology.
 */
struct MemoryListener {
	void (*begin)(MemoryListener *listener);
	void (*commit)(MemoryListener *listener);
	void (*region_add)(MemoryListener *listener, MemoryRegionSection *section);
	void (*region_del)(MemoryListener *listener, MemoryRegionSection *section);
	void (*region_nop)(MemoryListener *listener, MemoryRegionSection *section);
	void (*log_start)(MemoryListener *listener, MemoryRegionSection *section, int old_val,
			  int new_val);
	void (*log_stop)(MemoryListener *listener, MemoryRegionSection *section, int old_val,
			 int new_val);
	void (*log_sync)(MemoryListener *listener, MemoryRegionSection *section);
	void (*log_clear)(MemoryListener *listener, MemoryRegionSection *section);
	bool (*log_global_start)(MemoryListener *listener, Error **errp);
	void (*log_global_stop)(MemoryListener *listener);
	const char *name;
	unsigned priority;
	AddressSpace *address_space;
	ms_listener *priv_handle;
	ms_listener_ops priv_ms_ops;
	MemoryListener *priv_next;
};

static inline MemoryRegionSection qemu_compat__section(const MemoryListener *l, const ms_section *s)
{
	MemoryRegionSection r;

	memset(&r, 0, sizeof(r));
	r.size = s->size == MS_SIZE_2_64 && s->start == 0 && s->last == UINT64_MAX
			 ? int128_2_64()
			 : int128_make64(s->size);
	r.mr = qemu_compat__find_region(l->address_space->priv_compat, s->region);
	r.offset_within_region = s->offset_in_region;
	r.offset_within_address_space = s->start;
	r.readonly = s->readonly;
	r.nonvolatile = s->nonvolatile;
	r.unmergeable = s->unmergeable;
	r.ms = s;
	return r;
}

static inline void qemu_compat__l_begin(void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;

	l->begin(l);
}

static inline void qemu_compat__l_commit(void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;

	l->commit(l);
}

static inline void qemu_compat__l_add(const ms_section *s, void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;
	MemoryRegionSection sec = qemu_compat__section(l, s);

	l->region_add(l, &sec);
}

static inline void qemu_compat__l_del(const ms_section *s, void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;
	MemoryRegionSection sec = qemu_compat__section(l, s);

	l->region_del(l, &sec);
}

static inline void qemu_compat__l_nop(const ms_section *s, void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;
	MemoryRegionSection sec = qemu_compat__section(l, s);

	l->region_nop(l, &sec);
}

static inline void qemu_compat__l_log_start(const ms_section *s, uint8_t old_mask, uint8_t new_mask,
					    void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;
	MemoryRegionSection sec = qemu_compat__section(l, s);

	l->log_start(l, &sec, old_mask, new_mask);
}

static inline void qemu_compat__l_log_stop(const ms_section *s, uint8_t old_mask, uint8_t new_mask,
					   void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;
	MemoryRegionSection sec = qemu_compat__section(l, s);

	l->log_stop(l, &sec, old_mask, new_mask);
}

static inline void qemu_compat__l_log_sync(const ms_section *s, void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;
	MemoryRegionSection sec = qemu_compat__section(l, s);

	l->log_sync(l, &sec);
}

static inline void qemu_compat__l_log_clear(const ms_section *s, void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;
	MemoryRegionSection sec = qemu_compat__section(l, s);

	l->log_clear(l, &sec);
}

static inline int qemu_compat__l_global_start(void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;
	Error *err = NULL;
	bool ok = l->log_global_start(l, &err);
	int ret = ok ? 0 : err && err->err < 0 ? err->err : -EPERM;

	error_free(err);
	return ret;
}

static inline void qemu_compat__l_global_stop(void *opaque)
{
	MemoryListener *l = (MemoryListener *)opaque;

	l->log_global_stop(l);
}

/**
 * memory_listener_register - follow @filter (QEMU also accepts NULL for
 * "every address space"; here an address space is required). The current
 * view is replayed to @listener at once, as in QEMU. A failure (a listener
 * already registered, a priority above INT_MAX, a refused replay) is
 * recorded and leaves @listener unregistered.
 */
static inline void memory_listener_register(MemoryListener *listener, AddressSpace *filter)
{
	static const char call[] = "memory_listener_register";
	ms_listener_ops *t;
	int err;

	if (!listener || !filter || !filter->priv_as || listener->priv_handle ||
	    listener->priority > (unsigned)INT32_MAX) {
		qemu_compat__fail(filter ? filter->priv_compat : NULL, NULL, call, -EINVAL);
		return;
	}
	t = &listener->priv_ms_ops;
	memset(t, 0, sizeof(*t));
	t->version = MS_LISTENER_OPS_VERSION;
	t->priority = (int)listener->priority;
	t->begin = listener->begin ? qemu_compat__l_begin : NULL;
	t->commit = listener->commit ? qemu_compat__l_commit : NULL;
	t->region_add = listener->region_add ? qemu_compat__l_add : NULL;
	t->region_del = listener->region_del ? qemu_compat__l_del : NULL;
	t->region_nop = listener->region_nop ? qemu_compat__l_nop : NULL;
	t->log_start = listener->log_start ? qemu_compat__l_log_start : NULL;
	t->log_stop = listener->log_stop ? qemu_compat__l_log_stop : NULL;
	t->log_sync = listener->log_sync ? qemu_compat__l_log_sync : NULL;
	t->log_clear = listener->log_clear ? qemu_compat__l_log_clear : NULL;
	t->log_global_try_start = listener->log_global_start ? qemu_compat__l_global_start : NULL;
	t->log_global_stop = listener->log_global_stop ? qemu_compat__l_global_stop : NULL;
	listener->address_space = filter;
	err = ms_listener_register(&listener->priv_handle, filter->priv_as, t, listener);
	if (err) {
		listener->priv_handle = NULL;
		listener->address_space = NULL;
		qemu_compat__fail(filter->priv_compat, NULL, call, err);
		return;
	}
	listener->priv_next = filter->priv_listeners;
	filter->priv_listeners = listener;
}

/** memory_listener_unregister - stop following (the view is replayed as deletions). */
static inline void memory_listener_unregister(MemoryListener *listener)
{
	MemoryListener **p;
	int err;

	if (!listener || !listener->priv_handle)
		return;
	err = ms_listener_unregister(listener->priv_handle);
	if (err) {
		qemu_compat__fail(listener->address_space->priv_compat, NULL,
				  "memory_listener_unregister", err);
		return;
	}
	for (p = &listener->address_space->priv_listeners; *p; p = &(*p)->priv_next) {
		if (*p == listener) {
			*p = listener->priv_next;
			break;
		}
	}
	listener->priv_handle = NULL;
	listener->address_space = NULL;
	listener->priv_next = NULL;
}

/**
 * address_space_destroy - free the address space. Its listeners are
 * unregistered first (each sees region_del for every range, as
 * ms_as_free() does) and may be registered again later. @as is zeroed;
 * NULL or a zeroed struct is a no-op.
 */
static inline void address_space_destroy(AddressSpace *as)
{
	AddressSpace **p;
	MemoryListener *l;

	if (!as || !as->priv_as)
		return;
	for (p = &as->priv_compat->priv_spaces; *p; p = &(*p)->priv_next) {
		if (*p == as) {
			*p = as->priv_next;
			break;
		}
	}
	ms_as_free(as->priv_as);
	for (l = as->priv_listeners; l; l = l->priv_next) {
		l->priv_handle = NULL;
		l->address_space = NULL;
	}
	memset(as, 0, sizeof(*as));
}

/**
 * memory_global_dirty_log_start / _stop - global dirty logging of the
 * machine (QEMU: with a reason bit set and no machine argument; the
 * reason is not modelled). Return: true when logging is in the wanted state.
 */
static inline bool memory_global_dirty_log_start(QemuCompat *qc, Error **errp)
{
	int err = qc ? ms_ctx_dirty_log_global_start(qc->ctx) : -EINVAL;

	if (err)
		qemu_compat__fail(qc, errp, "memory_global_dirty_log_start", err);
	return !err;
}

static inline void memory_global_dirty_log_stop(QemuCompat *qc)
{
	int err = qc ? ms_ctx_dirty_log_global_stop(qc->ctx) : -EINVAL;

	if (err)
		qemu_compat__fail(qc, NULL, "memory_global_dirty_log_stop", err);
}

/**
 * memory_global_dirty_log_sync - log_sync on the listeners of every address
 * space of the machine made with address_space_init(). @last_stage is not
 * modelled.
 */
static inline void memory_global_dirty_log_sync(QemuCompat *qc, bool last_stage)
{
	AddressSpace *as;
	int err = qc ? 0 : -EINVAL;

	(void)last_stage;
	for (as = qc ? qc->priv_spaces : NULL; as && !err; as = as->priv_next)
		err = ms_as_log_sync(as->priv_as);
	if (err)
		qemu_compat__fail(qc, NULL, "memory_global_dirty_log_sync", err);
}

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_QEMU_COMPAT_H */
