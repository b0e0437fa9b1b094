/*
 * memspace: memory regions.
 *
 * A region is a node of the memory tree: a pure container, an I/O region
 * with a device ops table, RAM, ROM, a ROM device, a RAM device, RAM at a
 * caller's pointer, an alias (a window onto another region) or an IOMMU.
 * Regions are placed inside other regions (subregions) at an address and
 * with a signed priority; address spaces render a root region into a flat
 * view (as.h).
 *
 * Ownership: ms_region_new_*() returns a region holding one reference for
 * the caller. A container holds a reference on each subregion, an alias on
 * its target, an address space on its root, and a published flat view on
 * every region it maps, so a region is freed only when nothing can reach it
 * any more (and never under an RCU reader). Drop the caller's reference with
 * ms_region_unref() once the region is in place. An alias placed inside its
 * own target's subtree forms a reference cycle: both stay alive until the
 * alias is removed from its container or the context is freed.
 *
 * Every function here takes the context's topology lock itself; mutations
 * made outside a transaction commit immediately (ctx.h). Regions of one
 * context must never be combined with those of another.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_REGION_H
#define MEMSPACE_REGION_H

#include "flatview.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/** MS_REGION_OPS_VERSION - the version of struct ms_region_ops this header declares. */
#define MS_REGION_OPS_VERSION 2u

/**
 * struct ms_region_ops - the callbacks and access rules of an I/O device.
 *
 * Provide read or read_with_attrs (at least one), and write or
 * write_with_attrs (at least one). When both forms are given the
 * *_with_attrs one is used. @addr is the offset inside the region; @size is
 * 1, 2, 4 or 8 bytes; data is in host order, already converted from the
 * device's @endianness. @opaque is the pointer given at region creation.
 * Callbacks run in the accessing thread (access.h) and may change the
 * topology.
 *
 * @valid says what the guest may do: an access outside it fails with
 * MS_RESULT_DECODE_ERROR (as in QEMU) before any callback runs, and a read
 * returns 0. As in QEMU, a valid.max_access_size of 0 accepts every size
 * (valid.min_access_size is then not looked at), a valid.min_access_size of
 * 0 is no lower bound, and the alignment rule (valid.unaligned) applies
 * either way. Byte accesses (ms_as_read(), ms_as_write()) are cut into
 * pieces of at most valid.max_access_size, or 4 bytes when it is 0. @impl
 * says what the callbacks accept: the core splits wider accesses and widens
 * narrower ones; an impl min/max of 0 means 1 and 4 (as in QEMU). So an
 * 8-byte load from a device whose @valid and @impl are all 0 is two 4-byte
 * callbacks.
 *
 * @version must be MS_REGION_OPS_VERSION: fields added in later versions
 * are appended, and the library reads only those of the version given, so
 * a table built against an older header keeps working (version 1 tables
 * are accepted, and their @request_ptr is never read).
 *
 * Version 2 adds:
 * @request_ptr: execute-from-MMIO (QEMU 2.x's request_ptr): asked by
 *     ms_region_request_ptr() for host memory that holds the device's bytes
 *     around offset @addr, so that a CPU emulator can fetch instructions
 *     from it instead of issuing device reads. Return a host pointer to the
 *     byte at region offset *@offset, valid for *@size bytes, with @addr in
 *     [*@offset, *@offset + *@size); or NULL to decline. NULL: no such
 *     support. Called without the topology lock, in the requesting thread.
 *
 * The table is not copied: it must outlive every region that uses it.
 *
 * @version: MS_REGION_OPS_VERSION.
 * @read: read @size bytes at @addr; returns the value.
 * @write: write the low @size bytes of @data at @addr.
 * @read_with_attrs: read with the transaction's attributes into *@data;
 *     returns the result (MS_RESULT_OK or error bits).
 * @write_with_attrs: write with the transaction's attributes; returns the
 *     result.
 * @endianness: the byte order of the device's registers.
 * @valid: what the guest may do (sizes, alignment, optional veto).
 * @impl: what the callbacks accept; the core splits or widens to it.
 */
typedef struct ms_region_ops {
	unsigned int version;
	uint64_t (*read)(uint64_t addr, unsigned size, void *opaque);
	void (*write)(uint64_t addr, uint64_t data, unsigned size, void *opaque);
	ms_result (*read_with_attrs)(uint64_t addr, uint64_t *data, unsigned size, ms_attrs attrs,
				     void *opaque);
	ms_result (*write_with_attrs)(uint64_t addr, uint64_t data, unsigned size,
				      ms_attrs attrs, void *opaque);
	ms_endian endianness;
	struct {
		unsigned min_access_size;
		unsigned max_access_size;
		bool unaligned;
		/* Optional veto, called for every guest access after the size checks. */
		bool (*accepts)(uint64_t addr, unsigned size, bool is_write, ms_attrs attrs,
				void *opaque);
	} valid;
	struct {
		unsigned min_access_size;
		unsigned max_access_size;
		bool unaligned;
	} impl;
	/* version 2 */
	void *(*request_ptr)(uint64_t addr, uint64_t *offset, uint64_t *size, void *opaque);
} ms_region_ops;

/** enum ms_region_kind - what a region is. */
typedef enum ms_region_kind {
	MS_REGION_CONTAINER,  /* pure container: holes fall through */
	MS_REGION_IO,         /* device with ops, or a reservation (no ops) */
	MS_REGION_RAM,        /* anonymous RAM owned by the region */
	MS_REGION_ROM,        /* RAM that ignores writes (readonly) */
	MS_REGION_ROM_DEVICE, /* RAM reads in romd mode, writes through ops */
	MS_REGION_RAM_DEVICE, /* caller's memory, exact-width accesses only */
	MS_REGION_RAM_PTR,    /* RAM at a caller's pointer */
	MS_REGION_ALIAS,      /* window onto another region */
	MS_REGION_IOMMU,      /* translating region (iommu.h) */
} ms_region_kind;

/*
 * Constructors. Each returns 0 and stores a new region (one reference, the
 * caller's) in *@out, or a negative errno and stores NULL:
 *   -EINVAL  a NULL argument, an invalid ops table (or one of another
 *            version), a size of 0 where the kind needs memory (RAM, ROM,
 *            ROM device, RAM device, RAM pointer, IOMMU);
 *   -EXDEV   (aliases) the target belongs to another context;
 *   -ENOMEM  out of memory (also for RAM too large to allocate).
 * @name is copied; it need not be unique. @size follows MS_SIZE_2_64.
 * Context: any thread; takes the topology lock.
 */

/** ms_region_new_container - a pure container: renders only its subregions. */
MS_API int ms_region_new_container(ms_region **out, ms_ctx *ctx, const char *name,
				   uint64_t size);

/**
 * struct ms_region_io_opts - a device region (ms_region_new_io(),
 * ms_region_new_rom_device()).
 * @name: copied; need not be unique.
 * @size: follows MS_SIZE_2_64.
 * @ops: the device's callbacks; for an I/O region NULL makes a reservation
 *       where every access is a decode error.
 * @opaque: passed to every callback.
 *
 * Later versions may append fields: zero-initialise the struct (a
 * designated initializer does) and set what you need.
 */
typedef struct ms_region_io_opts {
	const char *name;
	uint64_t size;
	const ms_region_ops *ops;
	void *opaque;
} ms_region_io_opts;

/** ms_region_new_io - a terminating I/O region (@opts is copied). */
MS_API int ms_region_new_io(ms_region **out, ms_ctx *ctx, const ms_region_io_opts *opts);

/** ms_region_new_ram - RAM allocated (zeroed) and owned by the region. */
MS_API int ms_region_new_ram(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size);

/** ms_region_new_rom - ROM: RAM with the readonly flag; loaders fill it. */
MS_API int ms_region_new_rom(ms_region **out, ms_ctx *ctx, const char *name, uint64_t size);

/**
 * ms_region_new_rom_device - RAM-backed device: in romd mode (the default)
 * reads come from the RAM, otherwise from @opts->ops; writes always go to
 * @opts->ops, which must not be NULL.
 */
MS_API int ms_region_new_rom_device(ms_region **out, ms_ctx *ctx, const ms_region_io_opts *opts);

/**
 * ms_region_new_ram_device - device memory at @ptr (for example a mapped
 * BAR): accessed only with exact-width loads and stores, never memcpy.
 * @ptr must stay valid until the region is freed.
 */
MS_API int ms_region_new_ram_device(ms_region **out, ms_ctx *ctx, const char *name,
				    uint64_t size, void *ptr);

/** ms_region_new_ram_ptr - RAM at @ptr, owned by the caller (valid until freed). */
MS_API int ms_region_new_ram_ptr(ms_region **out, ms_ctx *ctx, const char *name,
				 uint64_t size, void *ptr);

/**
 * struct ms_region_alias_opts - an alias (ms_region_new_alias()).
 * @name: copied; need not be unique.
 * @target: the region shown (a reference is taken).
 * @offset: where in @target the window starts.
 * @size: the window's size (MS_SIZE_2_64 convention).
 *
 * Later versions may append fields: zero-initialise the struct.
 */
typedef struct ms_region_alias_opts {
	const char *name;
	ms_region *target;
	uint64_t offset;
	uint64_t size;
} ms_region_alias_opts;

/**
 * ms_region_new_alias - a window of @opts->size bytes onto @opts->target
 * from @opts->offset (@opts is copied).
 *
 * The alias holds a reference on the target; the target is fixed for the
 * alias's life (so alias chains cannot form cycles). The window may extend
 * past the target; it renders only what the target renders.
 */
MS_API int ms_region_new_alias(ms_region **out, ms_ctx *ctx, const ms_region_alias_opts *opts);

/**
 * ms_region_ref - take a reference.
 * @r: the region, or NULL (no-op).
 * Return: @r. Context: any thread.
 */
MS_API ms_region *ms_region_ref(ms_region *r);

/**
 * ms_region_unref - drop a reference; the region is freed when none remain.
 * @r: the region, or NULL (no-op).
 *
 * Freeing a container drops its references on its subregions, an alias its
 * reference on its target. A region still inside a container, rooted in an
 * address space or mapped by a published view is kept alive by those.
 * Context: any thread; not inside an RCU read-side section that uses @r.
 */
MS_API void ms_region_unref(ms_region *r);

/*
 * Tree mutations. Each returns 0 or a negative errno and, on error, changes
 * nothing. Common errors:
 *   -EINVAL  NULL argument, or a rule of the call below is broken;
 *   -EXDEV   the regions belong to different contexts;
 *   -EBUSY   called from a listener callback during a commit;
 *   -ENOMEM, -ELOOP  the implicit commit failed (outside a transaction the
 *            change is then undone); see ms_transaction_commit() and
 *            MS_RENDER_MAX_DEPTH.
 * Context: any thread; takes the topology lock.
 */

/**
 * ms_region_add_subregion - place @sub inside @container at @addr, priority 0.
 *
 * Errors: -EBUSY when @sub already has a container; -EINVAL when @container
 * is an alias, or @sub is @container; -ELOOP when @container lies inside
 * @sub's subtree.
 */
MS_API int ms_region_add_subregion(ms_region *container, uint64_t addr, ms_region *sub);

/**
 * ms_region_add_subregion_overlap - same, with a signed @priority.
 *
 * Among siblings the higher priority wins where they overlap; among equal
 * priorities the one added later wins.
 */
MS_API int ms_region_add_subregion_overlap(ms_region *container, uint64_t addr,
					   ms_region *sub, int priority);

/**
 * ms_region_del_subregion - remove @sub from @container.
 *
 * The container's reference on @sub is dropped. If it was the last one
 * (you gave yours up after adding, as the guide's "the container keeps it"
 * pattern does), @sub is freed once no published view shows it any more:
 * do not add it again later. To unplug a device you mean to plug back,
 * use ms_region_take_subregion(), or keep a reference of your own.
 * Errors: -ENOENT when @sub is not a subregion of @container.
 */
MS_API int ms_region_del_subregion(ms_region *container, ms_region *sub);

/**
 * ms_region_take_subregion - remove @sub from @container and hand the
 * container's reference on @sub to the caller.
 *
 * The hot-unplug call: after it the caller owns one reference more, so
 * @sub stays alive (and can be added again, here or elsewhere) until the
 * caller drops it with ms_region_unref(). Otherwise as
 * ms_region_del_subregion(): the same errors, and a failed call changes
 * nothing and hands over nothing.
 */
MS_API int ms_region_take_subregion(ms_region *container, ms_region *sub);

/** ms_region_set_address - move @r inside its container (or set its address). */
MS_API int ms_region_set_address(ms_region *r, uint64_t addr);

/**
 * ms_region_set_size - resize @r.
 * Errors: -EINVAL for 0 on kinds that need memory, or any change of a RAM,
 * ROM, ROM device, RAM device or RAM pointer region (their memory is fixed).
 */
MS_API int ms_region_set_size(ms_region *r, uint64_t size);

/** ms_region_set_enabled - show or hide @r (a disabled region renders nothing). */
MS_API int ms_region_set_enabled(ms_region *r, bool enabled);

/**
 * ms_region_set_readonly - set @r's own readonly flag.
 *
 * The flag is inherited down the rendering path, through containers and
 * aliases, with two exceptions that QEMU shares, both where an address
 * space's view is the view of another region: the flag of an address
 * space's root is not inherited when the root only passes through (a
 * container whose one enabled child sits at 0 and fits, or a full-size
 * alias at offset 0 used as a root); the view is then the child's or the
 * target's own, shared with every space that renders it.
 */
MS_API int ms_region_set_readonly(ms_region *r, bool readonly);

/** ms_region_set_nonvolatile - set @r's own nonvolatile flag (inherited). */
MS_API int ms_region_set_nonvolatile(ms_region *r, bool nonvolatile);

/**
 * ms_region_set_unmergeable - forbid merging of the flat ranges rendered
 * through @r (inherited).
 */
MS_API int ms_region_set_unmergeable(ms_region *r, bool unmergeable);

/** ms_region_set_alias_offset - move an alias's window. -EINVAL unless an alias. */
MS_API int ms_region_set_alias_offset(ms_region *r, uint64_t offset);

/** ms_region_set_romd - switch a ROM device into or out of romd mode. -EINVAL unless a ROM device. */
MS_API int ms_region_set_romd(ms_region *r, bool romd);

/**
 * ms_region_set_priority - change @r's priority among its siblings.
 *
 * @r counts as added again (as in QEMU): among the siblings of its new
 * priority it goes first, so it wins their overlaps. ms_region_set_address()
 * re-adds it the same way. Setting the priority (or address) it already
 * has changes nothing.
 * Errors: -EINVAL when @r has no container.
 */
MS_API int ms_region_set_priority(ms_region *r, int priority);

/**
 * ms_region_set_owner - the owner name shown by `mtree -o` dumps.
 * @r: the region.
 * @owner: copied; NULL clears it.
 * Errors: -EINVAL when @r is NULL, -ENOMEM. Not a topology change: nothing
 * is rendered, no listener is called, and it may be called from a listener
 * callback (it never returns -EBUSY).
 */
MS_API int ms_region_set_owner(ms_region *r, const char *owner);

/*
 * Getters. They read the region's current (possibly uncommitted) state.
 * Context: any thread holding a reference; consistent only under the
 * topology lock when other threads mutate the region.
 */
/** ms_region_ctx - the context the region belongs to. */
MS_API ms_ctx *ms_region_ctx(const ms_region *r);
/** ms_region_get_kind - what the region is (enum ms_region_kind). */
MS_API ms_region_kind ms_region_get_kind(const ms_region *r);
/** ms_region_name - the region's name; valid while @r lives. */
MS_API const char *ms_region_name(const ms_region *r);
/** ms_region_owner - the owner name, or NULL. Valid until the next ms_region_set_owner(). */
MS_API const char *ms_region_owner(const ms_region *r);
/** ms_region_size - the size, with MS_SIZE_2_64 for 2^64. */
MS_API uint64_t ms_region_size(const ms_region *r);
/** ms_region_addr - the offset in its container where the region is (last) placed. */
MS_API uint64_t ms_region_addr(const ms_region *r);
/** ms_region_priority - the priority among its container's subregions. */
MS_API int ms_region_priority(const ms_region *r);
/** ms_region_enabled - whether the region renders (ms_region_set_enabled()). */
MS_API bool ms_region_enabled(const ms_region *r);
/** ms_region_readonly - whether guest writes to its memory are ignored. */
MS_API bool ms_region_readonly(const ms_region *r);
/** ms_region_nonvolatile - whether its memory is marked non-volatile. */
MS_API bool ms_region_nonvolatile(const ms_region *r);
/** ms_region_unmergeable - whether its ranges are kept apart from equal neighbours in views. */
MS_API bool ms_region_unmergeable(const ms_region *r);
/** ms_region_romd - whether a ROM device reads its memory directly (romd mode). */
MS_API bool ms_region_romd(const ms_region *r);
/** Whether the region fills the gaps under its children (all kinds but container and alias). */
MS_API bool ms_region_is_terminating(const ms_region *r);
/** The container, or NULL. */
MS_API ms_region *ms_region_container(const ms_region *r);
/** ms_region_alias_target - an alias's target (NULL for other kinds). */
MS_API ms_region *ms_region_alias_target(const ms_region *r);
/** ms_region_alias_offset - an alias's window offset in its target (0 for other kinds). */
MS_API uint64_t ms_region_alias_offset(const ms_region *r);
/**
 * ms_region_find - what answers at @addr of @mr (QEMU's memory_region_find()).
 * @out: receives the section, with a reference on @out->region that the
 *       caller drops with ms_region_unref().
 * @mr: the region; @addr is an offset in it.
 * @addr: the offset.
 * @len: bytes of interest (at least 1): @out is clipped to [@addr, @addr +
 *       @len) and its size says how many of them answer there.
 *
 * The answer is seen from the top of the tree @mr is in (its container's
 * container, and so on), as QEMU sees it from the root: a higher-priority
 * sibling that overlaps @mr answers instead of @mr. @out->start and
 * @out->last are addresses as that top region renders them (shifted by its
 * own address, as an address space's root is); @out->offset_in_region is
 * the offset of @out->start in @out->region. Only that window is rendered.
 * Return: 0; -ENOENT when nothing answers at @addr (a hole); -EINVAL for a
 * NULL argument or @len 0; -ENOMEM, -ELOOP, -E2BIG from rendering.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_region_find(ms_section *out, ms_region *mr, uint64_t addr, uint64_t len);

/**
 * ms_region_ram_ptr - host memory behind a RAM, ROM, ROM device, RAM device
 * or RAM pointer region; NULL for other kinds. Valid while @r lives.
 */
MS_API void *ms_region_ram_ptr(const ms_region *r);

/**
 * ms_region_nr_subregions / ms_region_subregion - the subregion list in
 * rendering order (priority descending, later-added first among equals).
 * The pointer is valid while the topology is unchanged. Indexing costs
 * O(log n) in the number of subregions (an ordered set, not an array).
 */
MS_API size_t ms_region_nr_subregions(const ms_region *r);
MS_API ms_region *ms_region_subregion(const ms_region *r, size_t index);

/**
 * ms_region_set_dirty_log - turn dirty logging of @r on or off for one client.
 * @r: the region (one with memory).
 * @client: client number 0..7 (one bit of the ranges' dirty_log_mask).
 * @enable: true to start logging, false to stop.
 *
 * A topology change: listeners of the affected views see region_nop
 * followed by log_start or log_stop.
 * Return: 0; -EINVAL for a bad client or a region that is not RAM-backed;
 * the errors of the implicit commit.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_region_set_dirty_log(ms_region *r, unsigned client, bool enable);

/*
 * Coalesced MMIO and ioeventfds (QEMU's memory_region_add_coalescing() and
 * memory_region_add_eventfd()). Both belong to a device region (an I/O
 * region with ops, not a reservation, or a ROM device) and are rendered into every flat range that shows the part of the
 * region they cover, at the address that range gives it. Listeners (version
 * 3 tables, listener.h) hear of them at each commit: coalesced_io_del /
 * eventfd_del for what went away, then coalesced_io_add / eventfd_add for
 * what appeared. A change here is a topology change: outside a transaction it
 * commits at once.
 */

/**
 * ms_region_add_coalescing - mark [@offset, @offset + @size) of @r as
 * coalesced MMIO: a hypervisor may buffer guest writes there and hand them
 * to the device later. memspace's own accesses are unaffected (they reach
 * the device at once); the range is information for listeners.
 * @r: an I/O or ROM device region.
 * @offset: first byte, an offset in @r.
 * @size: bytes (at least 1, within @r).
 *
 * Return: 0; -EINVAL for a NULL or non-device region or an empty or
 * out-of-range window; -ENOMEM; -EBUSY from inside a listener callback.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_region_add_coalescing(ms_region *r, uint64_t offset, uint64_t size);

/**
 * ms_region_clear_coalescing - forget every coalesced range of @r.
 * Return: 0 (also when there was none); -EINVAL for a NULL region; -EBUSY
 * from inside a listener callback.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_region_clear_coalescing(ms_region *r);

/**
 * struct ms_ioeventfd - one ioeventfd of a device region.
 * @offset: offset in the region of the watched address.
 * @size: width of the watched writes: 1, 2, 4 or 8, or 0 for any width.
 * @match_data: only writes of the value @data match.
 * @data: the value, as the device's write callback would receive it (host
 *        order, after the device's endianness was applied).
 * @fd: the eventfd (or any descriptor that accepts an 8-byte write); the
 *      caller owns it.
 */
typedef struct ms_ioeventfd {
	uint64_t offset;
	unsigned size;
	bool match_data;
	uint64_t data;
	int fd;
} ms_ioeventfd;

/**
 * ms_region_add_eventfd - register an ioeventfd on @r.
 * @r: an I/O or ROM device region.
 * @e: the ioeventfd (copied).
 *
 * A guest write that reaches @r at @e->offset, of width @e->size (any
 * width when 0) and, with @e->match_data, of value @e->data, passes its
 * device checks (valid rules) and then, instead of calling the device's
 * write callback, writes the 8-byte value 1 to @e->fd and completes with
 * MS_RESULT_OK (QEMU does this in the hypervisor; memspace does it in the
 * access path). A write that matches no ioeventfd reaches the device as
 * before; reads are never affected. Regions without ioeventfds pay one
 * pointer test per device write.
 * Return: 0; -EINVAL for NULL arguments, a non-device region, a size other
 * than 0, 1, 2, 4 or 8, a negative fd, or a watched window outside @r;
 * -EEXIST when an equal ioeventfd (all five fields) is registered; -ENOMEM;
 * -EBUSY from inside a listener callback.
 * Context: any thread; takes the topology lock. The access path sees the
 * change as soon as the call returns (or the enclosing transaction commits).
 */
MS_API int ms_region_add_eventfd(ms_region *r, const ms_ioeventfd *e);

/**
 * ms_region_del_eventfd - unregister the ioeventfd equal to @e (all five
 * fields).
 * Return: 0; -EINVAL for NULL arguments; -ENOENT when none is equal;
 * -ENOMEM; -EBUSY from inside a listener callback.
 * Context: any thread; takes the topology lock. Accesses that were already
 * running may still signal the descriptor until they end; later ones do not.
 */
MS_API int ms_region_del_eventfd(ms_region *r, const ms_ioeventfd *e);

/**
 * struct ms_mmio_ptr - host memory a device offered to execute from.
 * @host: the byte at region offset @offset.
 * @offset: offset in the region of @host.
 * @size: bytes valid from @host (at least 1).
 */
typedef struct ms_mmio_ptr {
	void *host;
	uint64_t offset;
	uint64_t size;
} ms_mmio_ptr;

/**
 * ms_region_request_ptr - execute from MMIO: ask @r's device for host
 * memory holding its bytes at @offset (ms_region_ops.request_ptr, version 2).
 * @out: receives the window; unchanged on error.
 * @r: the device region (I/O or ROM device).
 * @offset: the offset in @r an instruction fetch wants.
 *
 * The call is the caller's statement that it fetches instructions: it is
 * not an access (no attributes, valid rules or reentrancy guard apply), and
 * a CPU emulator reaches it by translating a fetch address with
 * ms_as_translate() and passing the section's region and offset. The window
 * is clipped to @r; it lies in the device's memory and stays valid as the
 * device decides (QEMU's devices kept it until they changed the contents;
 * re-request after such a change or a topology change).
 * Return: 0; -EINVAL for NULL arguments, @offset outside @r, or a device
 * that returned a window not holding @offset; -EOPNOTSUPP when @r is not a
 * device region with a version 2 ops table providing request_ptr (RAM needs
 * none: use ms_region_ram_ptr()); -ENODATA when the device declined.
 * Context: any thread, no lock held; the callback runs in the calling thread.
 */
MS_API int ms_region_request_ptr(ms_mmio_ptr *out, ms_region *r, uint64_t offset);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_REGION_H */
