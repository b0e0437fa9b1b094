/*
 * memspace: IOMMU regions, translation entries and notifiers.
 *
 * An IOMMU region is a terminating region whose accesses are translated:
 * every access that reaches it asks the region's class (struct
 * ms_iommu_ops) where the address goes, and continues in the address space
 * the answer names, possibly through further IOMMUs. Consumers that keep
 * their own copy of the mappings (VFIO-style shadow page tables,
 * vhost-style device IOTLBs) register notifiers and are told of every
 * change; replay announces the current mappings to one of them.
 * docs/iommu.md states every rule with its QEMU counterpart.
 *
 * Locking: translation runs in the accessing thread, lock-free, inside the
 * access's RCU read-side section. Notifier registration, notification and
 * replay take the context's topology lock; notifier callbacks and the class
 * methods called from those paths (notify_flag_changed, replay, and
 * translate from the default replay) run with it held, in the calling
 * thread. They may access memory, register and unregister notifiers, and
 * notify, but must not wait for another thread that takes the topology lock.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_IOMMU_H
#define MEMSPACE_IOMMU_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * enum ms_iommu_perm - access permissions, and the access flags of a
 * translation request.
 *
 * As a request: MS_IOMMU_RO for a read, MS_IOMMU_WO for a write,
 * MS_IOMMU_NONE for "no access in particular: report every permission the
 * mapping grants" (replay, IOTLB fills). MS_IOMMU_RW as a request asks for
 * both. As a result: what the mapping allows; MS_IOMMU_NONE = no mapping.
 */
typedef enum ms_iommu_perm {
	MS_IOMMU_NONE = 0,
	MS_IOMMU_RO = 1,
	MS_IOMMU_WO = 2,
	MS_IOMMU_RW = 3,
} ms_iommu_perm;

/**
 * struct ms_iotlb_entry - one translation.
 * @target_as: the address space the translated address lives in (not
 *             owned; see the lifetime rule of ms_iommu_ops). NULL is a
 *             failed translation, as is @perm MS_IOMMU_NONE.
 * @iova: first input address of the mapping (inside the IOMMU region).
 * @translated_addr: where @iova goes in @target_as.
 * @addr_mask: the page offset mask: the mapping covers
 *             [@iova, @iova + @addr_mask]. Returned by translate, it must
 *             be 2^k - 1 (a page of 2^k bytes, k = 0 .. 64). In delivered
 *             notifier events the range may have been cropped (see
 *             ms_iommu_notify()) and is then any length.
 * @perm: what the mapping allows.
 *
 * An address @addr inside the page translates to
 * (@translated_addr & ~@addr_mask) | (@addr & @addr_mask).
 */
typedef struct ms_iotlb_entry {
	ms_as *target_as;
	uint64_t iova;
	uint64_t translated_addr;
	uint64_t addr_mask;
	ms_iommu_perm perm;
} ms_iotlb_entry;

/**
 * typedef ms_iommu_notifier_flags - notifier flags (a bit set) and event
 * types (exactly one bit):
 *   MAP             a mapping appeared (entry with its permissions);
 *   UNMAP           a mapping went away (entry with MS_IOMMU_NONE);
 *   DEVIOTLB_UNMAP  a device-IOTLB invalidation (entry with MS_IOMMU_NONE),
 *                   for consumers that cache translations themselves.
 */
typedef unsigned ms_iommu_notifier_flags;
#define MS_IOMMU_NOTIFIER_NONE 0u                  /* no event */
#define MS_IOMMU_NOTIFIER_MAP (1u << 0)            /* a mapping appeared */
#define MS_IOMMU_NOTIFIER_UNMAP (1u << 1)          /* a mapping went away */
#define MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP (1u << 2) /* a device-IOTLB invalidation */
/* MAP and UNMAP: what a consumer that shadows the mappings wants */
#define MS_IOMMU_NOTIFIER_IOTLB_EVENTS (MS_IOMMU_NOTIFIER_MAP | MS_IOMMU_NOTIFIER_UNMAP)
/* every event type */
#define MS_IOMMU_NOTIFIER_ALL (MS_IOMMU_NOTIFIER_IOTLB_EVENTS | MS_IOMMU_NOTIFIER_DEVIOTLB_UNMAP)

/**
 * struct ms_iommu_event - one change of an IOMMU's mappings.
 * @type: MS_IOMMU_NOTIFIER_MAP, _UNMAP or _DEVIOTLB_UNMAP (one bit).
 * @entry: the mapping; for the unmap types @entry.perm is MS_IOMMU_NONE.
 */
typedef struct ms_iommu_event {
	ms_iommu_notifier_flags type;
	ms_iotlb_entry entry;
} ms_iommu_event;

/**
 * enum ms_iommu_attr - attributes an IOMMU class may answer (get_attr).
 * @MS_IOMMU_ATTR_SPAPR_TCE_FD: int: fd of an in-kernel TCE table.
 * @MS_IOMMU_ATTR_MODEL_BASE: the first of the numbers left to IOMMU models
 *	for attributes of their own (MS_IOMMU_ATTR_MODEL_BASE + n); the
 *	library never defines one there.
 */
typedef enum ms_iommu_attr {
	MS_IOMMU_ATTR_SPAPR_TCE_FD = 0,
	MS_IOMMU_ATTR_MODEL_BASE = 0x10000,
} ms_iommu_attr;

/** struct ms_iommu_notifier - a notifier registration (opaque). */
typedef struct ms_iommu_notifier ms_iommu_notifier;

/**
 * MS_IOMMU_MAX_INDEXES - the most translation regimes one IOMMU may have.
 */
#define MS_IOMMU_MAX_INDEXES 64u

/**
 * MS_IOMMU_MAX_CHAIN - the most IOMMU translations one access may go
 * through (an IOMMU whose target address space holds another IOMMU is a
 * chain of two). A longer chain, or one that comes back to an IOMMU at the
 * same address and index (a cycle), fails the access.
 */
#define MS_IOMMU_MAX_CHAIN 16u

/**
 * MS_IOMMU_REPLAY_MAX_PAGES - the most pages the default replay walks.
 *
 * The default replay translates every minimum-size page of the
 * intersection of the IOMMU region and the notifier's range. Beyond this
 * many pages it refuses with -ERANGE instead of running for hours: an IOMMU
 * with a large input space must implement replay itself (walking its page
 * tables: cost proportional to the mappings, not to the space).
 */
#define MS_IOMMU_REPLAY_MAX_PAGES ((uint64_t)1 << 20)

/** MS_IOMMU_PAGE_SIZE_DEFAULT - the minimum page size of a class without get_min_page_size. */
#define MS_IOMMU_PAGE_SIZE_DEFAULT ((uint64_t)4096)

/** MS_IOMMU_OPS_VERSION - the version of struct ms_iommu_ops this header declares. */
#define MS_IOMMU_OPS_VERSION 1u

/**
 * struct ms_iommu_ops - an IOMMU class. Only @translate is required.
 *
 * Every method gets the IOMMU region (as created by ms_iommu_new()) and the
 * @opaque pointer given there. The table is not copied: it must outlive
 * every region that uses it.
 *
 * @translate: fill *@out with the mapping of @addr (an offset inside the
 *   region) for index @iommu_idx and access flags @flags. Contract:
 *   - The answer may depend on @addr and @iommu_idx only (and on the
 *     IOMMU's own state), never on the caller or on @flags: @flags says
 *     which permission the access needs, so a model may record a fault,
 *     but the entry must be the same. With @flags MS_IOMMU_NONE the entry
 *     must report every permission the mapping grants.
 *   - @out->addr_mask must be 2^k - 1 and @addr must lie in
 *     [@out->iova, @out->iova + @out->addr_mask]; @out->target_as must be
 *     an address space of the same context that lives as long as the
 *     IOMMU region can return it. A malformed entry fails the access.
 *     No mapping: perm MS_IOMMU_NONE (target_as may then be NULL).
 *   - A returned entry stays valid until the IOMMU announces its removal
 *     with an MS_IOMMU_NOTIFIER_UNMAP event covering it; callers (region
 *     caches, shadow tables) may keep using it until then.
 *   - Every change of a mapping must be announced with ms_iommu_notify(),
 *     whether or not any notifier is registered (region caches rely on
 *     the UNMAP events): a new mapping as MAP, a removed one as UNMAP, and
 *     an in-place change (new target or permissions) as UNMAP of the old
 *     entry followed by MAP of the new one, never as a bare MAP.
 *   Called from any thread, concurrently, inside an RCU read-side section,
 *   with the region on the calling thread's access chain (access.h): it may
 *   read memory (page tables) through address spaces, but an access that
 *   comes back to this same IOMMU fails instead of recursing. It must not
 *   wait for an RCU grace period.
 * @get_min_page_size: the smallest page the IOMMU maps (a power of two);
 *   NULL means MS_IOMMU_PAGE_SIZE_DEFAULT. The default replay steps by it.
 * @notify_flag_changed: the union of the flags of the registered notifiers
 *   is changing from @old_flags to @new_flags. Return 0, or a negative
 *   errno to refuse (for example a model that cannot send MAP events): the
 *   registration that caused it then fails with that error and nothing
 *   changes. A refusal when a notifier is unregistered is ignored (the
 *   notifier goes away anyway). Topology lock held.
 * @replay: announce every current mapping in @n's range to @n, with
 *   ms_iommu_notify_one() (MAP events). Return 0 or a negative errno (the
 *   first failure of a delivery, say). NULL selects the default replay
 *   (ms_iommu_replay()). Topology lock held.
 * @get_attr: fill @data for @attr; return 0, or a negative errno (-EINVAL
 *   when the attribute is not supported). NULL: every attribute -EINVAL.
 * @attrs_to_index: the translation index for transactions with @attrs
 *   (secure / non-secure, say); NULL means index 0. An index out of range
 *   fails the access.
 * @num_indexes: how many indexes the IOMMU has, 1 .. MS_IOMMU_MAX_INDEXES;
 *   NULL means 1. Asked once, by ms_iommu_new().
 * @version: MS_IOMMU_OPS_VERSION (fields of later versions are appended, and
 *   the library reads only those of the version given).
 */
typedef struct ms_iommu_ops {
	unsigned int version;
	void (*translate)(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr, ms_iommu_perm flags,
			  unsigned iommu_idx, void *opaque);
	uint64_t (*get_min_page_size)(ms_region *iommu, void *opaque);
	int (*notify_flag_changed)(ms_region *iommu, ms_iommu_notifier_flags old_flags,
				   ms_iommu_notifier_flags new_flags, void *opaque);
	int (*replay)(ms_region *iommu, ms_iommu_notifier *n, void *opaque);
	int (*get_attr)(ms_region *iommu, ms_iommu_attr attr, void *data, void *opaque);
	unsigned (*attrs_to_index)(ms_region *iommu, ms_attrs attrs, void *opaque);
	unsigned (*num_indexes)(ms_region *iommu, void *opaque);
} ms_iommu_ops;

/**
 * struct ms_iommu_opts - an IOMMU region (ms_iommu_new()).
 * @name: copied; need not be unique.
 * @size: the input space (MS_SIZE_2_64 convention); not 0.
 * @ops: the translation class, or NULL for an IOMMU region that translates
 *       nothing (it renders like any IOMMU region and answers like an I/O
 *       reservation: every access behind it is a decode error; dumps of
 *       machines use it).
 * @opaque: passed to every method.
 *
 * Later versions may append fields: zero-initialise the struct.
 */
typedef struct ms_iommu_opts {
	const char *name;
	uint64_t size;
	const ms_iommu_ops *ops;
	void *opaque;
} ms_iommu_opts;

/**
 * ms_iommu_new - create an IOMMU region.
 * @out: receives the region (one reference, the caller's), or NULL on error.
 * @ctx: the context.
 * @opts: what to create; copied.
 *
 * The region is a terminating region like any other (region.h): place it
 * in a container, alias it, give it to an address space.
 *
 * Return: 0; -EINVAL for a NULL @out, @ctx, @opts or name, a size of 0, a
 * class of another version or without a translate method, or num_indexes()
 * outside 1 .. MS_IOMMU_MAX_INDEXES; -ENOMEM.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_iommu_new(ms_region **out, ms_ctx *ctx, const ms_iommu_opts *opts);

/*
 * The calls below take an IOMMU region made by ms_iommu_new(), or an alias
 * (or chain of aliases) of one. Anything else is -EINVAL (0 for the calls
 * that return a count or size).
 */

/**
 * ms_iommu_translate - ask the class directly for the mapping of @addr.
 * @out: receives the entry as the class returned it.
 * @iommu: the IOMMU region.
 * @addr: offset inside the region (below its size).
 * @flags: the access flags (MS_IOMMU_NONE: report full permissions).
 * @iommu_idx: below ms_iommu_num_indexes().
 *
 * No permission check and no chain: what translate said, for models and
 * consumers that walk the IOMMU themselves.
 * Return: 0; -EINVAL for a bad region, address, flags or index (*@out is
 * cleared). Context: any thread.
 */
MS_API int ms_iommu_translate(ms_iotlb_entry *out, ms_region *iommu, uint64_t addr,
			      ms_iommu_perm flags, unsigned iommu_idx);

/**
 * ms_iommu_get_min_page_size - the class's minimum page size.
 * Return: a power of two; 0 when @iommu is not an IOMMU with a class or the
 * class answered something that is not a power of two.
 * Context: any thread.
 */
MS_API uint64_t ms_iommu_get_min_page_size(ms_region *iommu);

/**
 * ms_iommu_num_indexes - how many translation indexes @iommu has.
 * Return: 1 .. MS_IOMMU_MAX_INDEXES; 0 when @iommu is not an IOMMU with a
 * class. Context: any thread.
 */
MS_API unsigned ms_iommu_num_indexes(ms_region *iommu);

/**
 * ms_iommu_attrs_to_index - the index transactions with @attrs use.
 * Return: the index (0 without attrs_to_index); -EINVAL when @iommu is not
 * an IOMMU with a class, or the class answered an index out of range.
 * Context: any thread.
 */
MS_API int ms_iommu_attrs_to_index(ms_region *iommu, ms_attrs attrs);

/**
 * ms_iommu_get_attr - ask the class for an attribute.
 * @iommu: the IOMMU region.
 * @attr: the attribute asked for.
 * @data: where the class stores the value (its type depends on @attr).
 * Return: what get_attr returned; -EINVAL when the class has no get_attr,
 * or for a bad region or a NULL @data.
 * Context: any thread.
 */
MS_API int ms_iommu_get_attr(ms_region *iommu, ms_iommu_attr attr, void *data);

/**
 * ms_iommu_notify_flags - the union of the flags of @iommu's notifiers, as
 * last accepted by notify_flag_changed. Return: the flags (0 for a bad
 * region). Context: any thread; exact under the topology lock.
 */
MS_API ms_iommu_notifier_flags ms_iommu_notify_flags(ms_region *iommu);

/**
 * typedef ms_iommu_notify_fn - a notifier callback.
 * @n: the registration.
 * @event: the event, cropped to @n's range (see ms_iommu_notify()).
 *         Borrowed for the call.
 * @opaque: as registered.
 *
 * Return: 0, or a negative errno when the consumer could not follow the
 * change (a shadow map that failed, say): the notifying call reports it.
 * Runs with the topology lock held (see the header comment). The callback
 * may unregister @n or any other notifier.
 */
typedef int (*ms_iommu_notify_fn)(ms_iommu_notifier *n, const ms_iommu_event *event, void *opaque);

/**
 * struct ms_iommu_notifier_opts - what a notifier listens to.
 * @flags: the event types wanted (at least one of MS_IOMMU_NOTIFIER_ALL).
 * @start: first IOVA of interest.
 * @end: last IOVA of interest (inclusive), at least @start.
 * @iommu_idx: the translation index followed, below ms_iommu_num_indexes().
 * @notify: the callback (required).
 * @opaque: passed to @notify.
 *
 * Start from MS_IOMMU_NOTIFIER_OPTS_INIT (the whole 64-bit range), or put
 * MS_IOMMU_NOTIFIER_OPTS_DEFAULTS first in a designated initializer:
 *
 *	ms_iommu_notifier_opts opts = {MS_IOMMU_NOTIFIER_OPTS_DEFAULTS,
 *				       .flags = MS_IOMMU_NOTIFIER_MAP, .notify = on_map};
 *
 * The defaults set only @end, so every other field may follow them.
 */
typedef struct ms_iommu_notifier_opts {
	ms_iommu_notifier_flags flags;
	uint64_t start;
	uint64_t end;
	unsigned iommu_idx;
	ms_iommu_notify_fn notify;
	void *opaque;
} ms_iommu_notifier_opts;

/** MS_IOMMU_NOTIFIER_OPTS_DEFAULTS - the defaults, to start a designated initialiser with. */
#define MS_IOMMU_NOTIFIER_OPTS_DEFAULTS .end = UINT64_MAX
/** MS_IOMMU_NOTIFIER_OPTS_INIT - an initialiser with the defaults (the whole range). */
#define MS_IOMMU_NOTIFIER_OPTS_INIT             \
	{                                       \
		MS_IOMMU_NOTIFIER_OPTS_DEFAULTS \
	}

/**
 * ms_iommu_register_notifier - follow the mappings of an IOMMU.
 * @out: receives the registration (NULL on error).
 * @iommu: the IOMMU region, or an alias of it (the registration belongs to
 *         the IOMMU region itself and holds a reference on it).
 * @opts: what to follow; copied.
 *
 * If the union of the flags of @iommu's notifiers grows, the class's
 * notify_flag_changed is called first; when it refuses, nothing is
 * registered and its error is returned. Registration does not replay the
 * current mappings: call ms_iommu_replay() for that.
 *
 * Return: 0; -EINVAL for a bad region, NULL @out, @opts or @opts->notify,
 * no flags or unknown flags, @opts->start > @opts->end, or an index out of
 * range; -ENOMEM; the error of notify_flag_changed.
 * Context: any thread, including notifier callbacks; takes the topology lock.
 */
MS_API int ms_iommu_register_notifier(ms_iommu_notifier **out, ms_region *iommu,
				      const ms_iommu_notifier_opts *opts);

/**
 * ms_iommu_unregister_notifier - stop following; frees the registration.
 * @n: the registration, or NULL (no-op).
 *
 * If the union of the flags shrinks, notify_flag_changed is told (its
 * answer is ignored). The callback is never called after this returns,
 * except that a callback running on this thread (the caller's own) finishes.
 * Context: any thread, including notifier callbacks (also @n's own); takes
 * the topology lock.
 */
MS_API void ms_iommu_unregister_notifier(ms_iommu_notifier *n);

/**
 * ms_iommu_notify - announce a change of @iommu's mappings.
 * @iommu: the IOMMU region (or an alias of it).
 * @iommu_idx: the index whose mappings changed.
 * @event: the change: @event->type one event flag; the range
 *         [iova, iova + addr_mask] must not wrap past 2^64 - 1; an UNMAP
 *         or DEVIOTLB_UNMAP event has perm MS_IOMMU_NONE and a MAP event
 *         has a permission.
 *
 * Delivered, in increasing order of range start, to every notifier of
 * index @iommu_idx whose flags include @event->type and whose range
 * intersects the event's, cropped to that range: the notifier sees iova
 * and addr_mask describing the intersection, and translated_addr moved by
 * the same amount as iova. Finding them costs O(log n + matches) for n
 * notifiers of that index whose ranges do not nest (see docs/iommu.md).
 *
 * Every event, delivered or not, also makes region caches (cache.h) that
 * translated through @iommu translate again before their next access.
 *
 * A consumer that fails does not stop the delivery: every matching
 * notifier is called, and the first error is returned. A notifier
 * registered by a callback during the delivery may or may not see the
 * event; one unregistered during it is not called after that.
 *
 * Return: 0; the first error a callback returned; -EINVAL for a bad region,
 * index or event (nothing is delivered). A bad event: not exactly one type
 * bit; an addr_mask that is not 2^n - 1, or an iova not aligned to it; a
 * MAP without a permission or without a target address space of this
 * context (such an entry is a failed translation, not a mapping); an
 * unmap with a permission.
 * Context: any thread, including translate and notifier callbacks; takes
 * the topology lock.
 */
MS_API int ms_iommu_notify(ms_region *iommu, unsigned iommu_idx, const ms_iommu_event *event);

/**
 * ms_iommu_notify_one - deliver @event to @n alone (cropped and filtered by
 * flags as ms_iommu_notify() does; the index is not checked). For replay
 * implementations.
 * Return: 0 (also when filtered out); the callback's error; -EINVAL for a
 * NULL argument or a bad event (as for ms_iommu_notify()).
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_iommu_notify_one(ms_iommu_notifier *n, const ms_iommu_event *event);

/**
 * ms_iommu_unmap_notifier_range - tell @n that everything in its range is
 * unmapped: one UNMAP event for [start, end] (target_as NULL, perm NONE),
 * if @n follows UNMAP. The IOMMU's mappings do not change; a consumer uses
 * this to drop its shadow state (before unregistering, say).
 * Return: 0; the callback's error; -EINVAL when @n is NULL.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_iommu_unmap_notifier_range(ms_iommu_notifier *n);

/**
 * ms_iommu_replay - announce every current mapping of @iommu in @n's range
 * to @n (MAP events; nothing if @n does not follow MAP).
 * @iommu: the IOMMU region @n is registered on (or an alias of it).
 * @n: the registration.
 *
 * Uses the class's replay method when it has one. Otherwise walks the
 * intersection of the region and @n's range in steps of the minimum page
 * size, translating each page with MS_IOMMU_NONE and @n's index, and
 * announces the entries that have a permission (a page mapping larger than
 * the step is announced once). That walk refuses intersections of more
 * than MS_IOMMU_REPLAY_MAX_PAGES pages. Replay stops at the first error a
 * delivery returns.
 *
 * Return: 0; -EINVAL for a bad region, a NULL @n, or an @n registered on
 * another IOMMU, or a class whose minimum page size is not a power of two;
 * -ERANGE when the default walk would exceed MS_IOMMU_REPLAY_MAX_PAGES
 * (nothing is delivered); the first error of a delivery or of the class's
 * replay.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_iommu_replay(ms_region *iommu, ms_iommu_notifier *n);

/**
 * ms_as_get_iotlb_entry - the mapping an access at @addr would use,
 * resolved through every IOMMU on its path.
 * @out: receives the entry: @target_as is the address space where the path
 *       ends, @iova = @addr & ~mask, @translated_addr the translation of
 *       @iova there, @addr_mask the smallest page mask on the path
 *       (MS_IOMMU_PAGE_SIZE_DEFAULT - 1 when there is no IOMMU on it, like
 *       QEMU's target page), @perm the permissions every IOMMU on the path
 *       grants (MS_IOMMU_RW without IOMMUs). Cleared on error.
 * @as: the address space.
 * @addr: the address.
 * @is_write: translate for a write (otherwise a read); the permission
 *            needed is checked at every hop.
 * @attrs: choose the IOMMU indexes.
 *
 * Return: 0; -EINVAL for NULL arguments; -ENOENT when nothing answers where
 * the path ends (a hole, or an IOMMU region without a class); -EACCES when
 * an IOMMU refuses the access; -EIO when an IOMMU returned a malformed
 * entry or an index out of range; -ELOOP for a cycle or a chain longer
 * than MS_IOMMU_MAX_CHAIN.
 * Context: any thread, including device callbacks.
 */
MS_API int ms_as_get_iotlb_entry(ms_iotlb_entry *out, ms_as *as, uint64_t addr, bool is_write,
				 ms_attrs attrs);

/**
 * ms_iotlb_ram_ptr - the host memory behind an IOTLB entry, for a consumer
 * that maps it (QEMU's memory_get_xlat_addr(), what VFIO and vhost do with
 * a MAP notification).
 * @out: receives the host address of @e->translated_addr.
 * @region: receives the RAM region, with a reference the caller drops with
 *          ms_region_unref(); NULL when not wanted.
 * @readonly: receives whether writes to that memory are ignored (ROM, a
 *            readonly path); NULL when not wanted.
 * @e: the entry (from translate, a MAP notification or
 *     ms_as_get_iotlb_entry()).
 *
 * @e->translated_addr is followed in @e->target_as (through IOMMUs there
 * too, with the permission @e grants), and all @e->addr_mask + 1 bytes must
 * land contiguously in one RAM-backed region (RAM, ROM, RAM at a pointer or
 * a RAM device).
 * Return: 0; -EINVAL for a NULL @out or @e, or an entry without a target
 * address space; -ENOENT when nothing answers there; -EFAULT when what
 * answers is not RAM-backed (an I/O device, a ROM device), or the entry is
 * larger than the memory behind it; a translation error of an IOMMU on the
 * way (-EACCES, -EIO, -ELOOP). *@out is NULL on error.
 * Context: any thread. Without @region, the pointer is valid only inside
 * the caller's RCU read-side section (ms_rcu_read_lock()); with it, while
 * the reference is held.
 */
MS_API int ms_iotlb_ram_ptr(void **out, ms_region **region, bool *readonly,
			    const ms_iotlb_entry *e);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_IOMMU_H */
