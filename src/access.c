/*
 * access.c: reads, writes, loads and stores through an address space.
 *
 * An access takes one RCU read-side section and the one flat view published
 * at its start, and gives each piece of it to the handler of its region
 * kind: host memory is copied, RAM devices get exact-width loads and
 * stores, devices get their callbacks through dispatch() (valid check,
 * reentrancy and depth guard, impl split/widen). The pieces come from the
 * resolve walk (resolve.c), which follows IOMMUs into their target address
 * spaces; an access that lies in one range without an IOMMU, the common
 * case, skips the walk and goes to its handler directly.
 * The access path never takes the topology lock and never looks at the
 * address space again after reading its view, so device callbacks may change
 * the topology (or free the address space) under a running access.
 *
 * Device data travels as "bus bytes": a device access of width w at offset
 * o is the w bytes at o..o+w-1, i.e. the callback's value stored in the
 * device's byte order. Scalar loads and stores convert at the edge.
 *
 * No state of its own: the reentrancy and depth guard is the per-thread
 * access chain of chain.c, which a device access enters around its callbacks.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "access.h"
#include "chain.h"
#include "flatview_int.h" /* the inline look-up */

/* Device memory may be any object; these types may alias it. */
typedef uint16_t __attribute__((may_alias)) alias_u16;
typedef uint32_t __attribute__((may_alias)) alias_u32;
typedef uint64_t __attribute__((may_alias)) alias_u64;

/* One access in flight. */
typedef struct access_req {
	ms_attrs attrs;
	bool is_write;
	bool single; /* scalar: a device in one range sees one access of len bytes */
	bool loader; /* ms_as_write_rom(): host memory only, readonly ignored */
	bool probe;  /* ms_as_access_valid(): check only, touch nothing */
	uint64_t len;
	uint8_t *dst;       /* reads: len bytes */
	const uint8_t *src; /* writes: len bytes, or NULL to write @fill */
	uint8_t fill;
	ms_result result; /* run(): what the pieces so far answered, ORed */
} access_req;

/* ---- bytes and values ---------------------------------------------------- */

static bool device_big_endian(const ms_region_ops *ops)
{
	switch (ops->endianness) {
	case MS_ENDIAN_BIG:
		return true;
	case MS_ENDIAN_LITTLE:
		return false;
	default:
		return MS__HOST_BIG_ENDIAN;
	}
}

/* The written bytes [pos, pos + n) of @a, from its buffer or its fill byte. */
static void source_copy(const access_req *a, void *to, uint64_t pos, size_t n)
{
	if (a->src)
		memcpy(to, a->src + pos, n);
	else
		memset(to, a->fill, n);
}

/* A piece that reached nothing usable: reads see zeros. */
static ms_result fail(const access_req *a, uint64_t pos, uint64_t n, ms_result result)
{
	if (!a->is_write && a->dst)
		memset(a->dst + pos, 0, (size_t)n);
	return result;
}

/* ---- devices -------------------------------------------------------------- */

static unsigned size_or(unsigned size, unsigned dflt)
{
	return size ? size : dflt;
}

/*
 * @valid: may the guest make this access? The offset must be aligned to the
 * size unless valid.unaligned; the sizes apply only when valid.max is set,
 * since QEMU reads a valid.max of 0 as "every size" and then ignores
 * valid.min too (a valid.min of 0 is no lower bound); the veto comes last.
 */
static bool device_accepts(const ms_region *mr, uint64_t offset, unsigned size, bool is_write,
			   ms_attrs attrs)
{
	const ms_region_ops *ops = mr->ops;

	if (!ops->valid.unaligned && (offset & (size - 1)))
		return false;
	if (ops->valid.max_access_size &&
	    (size < ops->valid.min_access_size || size > ops->valid.max_access_size))
		return false;
	return !ops->valid.accepts || ops->valid.accepts(offset, size, is_write, attrs, mr->opaque);
}

/*
 * @impl: the next callback access covering bus offset @pos of the guest
 * access [@offset, @end). With impl.unaligned, the guest access is cut into
 * equal pieces of its size clamped to [min, max] (so a narrow one is widened
 * in place). Otherwise each callback access is naturally aligned: the widest
 * power of two up to impl.max that is aligned at @pos and fits; narrower than
 * impl.min becomes the impl.min-sized access containing @pos.
 */
static void impl_next(const ms_region_ops *ops, ms__u128 pos, uint64_t offset, unsigned size,
		      uint64_t *start, unsigned *width)
{
	unsigned min = size_or(ops->impl.min_access_size, 1);
	unsigned max = size_or(ops->impl.max_access_size, 4);
	ms__u128 end = (ms__u128)offset + size;
	unsigned w;

	if (ops->impl.unaligned) {
		w = size < min ? min : size > max ? max : size;
		*start = (uint64_t)pos;
		*width = w;
		return;
	}
	w = max;
	while (w > 1 && ((pos & (w - 1)) || pos + w > end))
		w >>= 1;
	if (w < min) {
		w = min;
		pos &= ~(ms__u128)(min - 1);
	}
	*start = (uint64_t)pos;
	*width = w;
}

static ms_result call_read(const ms_region *mr, uint64_t addr, unsigned width, ms_attrs attrs,
			   uint64_t *value)
{
	const ms_region_ops *ops = mr->ops;

	*value = 0;
	if (ops->read_with_attrs)
		return ops->read_with_attrs(addr, value, width, attrs, mr->opaque);
	*value = ops->read(addr, width, mr->opaque);
	return MS_RESULT_OK;
}

static ms_result call_write(const ms_region *mr, uint64_t addr, uint64_t value, unsigned width,
			    ms_attrs attrs)
{
	const ms_region_ops *ops = mr->ops;

	if (ops->write_with_attrs)
		return ops->write_with_attrs(addr, value, width, attrs, mr->opaque);
	ops->write(addr, value, width, mr->opaque);
	return MS_RESULT_OK;
}

/*
 * Carry out one guest access [offset, offset + size) with callback accesses
 * chosen by impl_next(). Reads keep the overlapping bytes of each callback's
 * value; writes send each callback the overlapping bytes with zeros in the
 * lanes outside the guest access (no read-modify-write, as in QEMU).
 */
static ms_result device_rw(const ms_region *mr, uint64_t offset, unsigned size, ms_attrs attrs,
			   bool is_write, uint8_t *bytes)
{
	bool big_endian = device_big_endian(mr->ops);
	ms__u128 end = (ms__u128)offset + size;
	ms__u128 pos = offset;
	ms_result result = MS_RESULT_OK;

	while (pos < end) {
		uint8_t lane[8] = {0};
		uint64_t start, value;
		unsigned width;
		ms__u128 lo, hi;
		size_t in_lane, in_bytes;

		impl_next(mr->ops, pos, offset, size, &start, &width);
		lo = start > offset ? start : offset;
		hi = (ms__u128)start + width < end ? (ms__u128)start + width : end;
		in_lane = (size_t)(lo - start);
		in_bytes = (size_t)(lo - offset);
		if (is_write) {
			memcpy(lane + in_lane, bytes + in_bytes, (size_t)(hi - lo));
			value = ms__bytes_to_value(lane, width, big_endian);
			result |= call_write(mr, start, value, width, attrs);
		} else {
			result |= call_read(mr, start, width, attrs, &value);
			ms__value_to_bytes(lane, width, value, big_endian);
			memcpy(bytes + in_bytes, lane + in_lane, (size_t)(hi - lo));
		}
		pos = (ms__u128)start + width;
	}
	return result;
}

/*
 * ioeventfds (ioevent.c): when a write of @size bytes at @offset matches one
 * of @t's entries, signal its descriptor (an 8-byte 1, as to an eventfd)
 * instead of calling the device. A full counter (EAGAIN) loses nothing the
 * reader could tell apart, so the write's result is not looked at.
 */
static __attribute__((noinline)) bool eventfd_signal(const struct ms__eventfds *t,
						     const ms_region *mr, uint64_t offset,
						     unsigned size, const uint8_t *bytes)
{
	uint64_t value = ms__bytes_to_value(bytes, size, device_big_endian(mr->ops));

	for (size_t i = 0; i < t->nr; i++) {
		const ms_ioeventfd *e = &t->e[i];

		if (e->offset == offset && (e->size == 0 || e->size == size) &&
		    (!e->match_data || e->data == value)) {
			uint64_t one = 1;
			ssize_t written = write(e->fd, &one, sizeof(one));

			(void)written;
			return true;
		}
	}
	return false;
}

/* One guest access of 1, 2, 4 or 8 bytes to a device (QEMU's dispatch). */
static ms_result dispatch(const access_req *a, const ms_region *mr, uint64_t offset, uint64_t pos,
			  unsigned size)
{
	uint8_t bytes[8];
	ms__chain_frame frame;
	ms_result result;

	/* QEMU answers an access its valid rules refuse with a decode error. */
	if (!device_accepts(mr, offset, size, a->is_write, a->attrs))
		return fail(a, pos, size, MS_RESULT_DECODE_ERROR);
	if (a->probe)
		return MS_RESULT_OK;
	if (a->is_write) {
		/* The one test a region without ioeventfds pays. */
		const struct ms__eventfds *eventfds = ms__deref(mr->eventfds);

		source_copy(a, bytes, pos, size);
		if (__builtin_expect(eventfds != NULL, 0) &&
		    eventfd_signal(eventfds, mr, offset, size, bytes))
			return MS_RESULT_OK;
	}
	/* Reentrancy and depth guard (chain.c). */
	if (!ms__chain_enter(&frame, mr))
		return fail(a, pos, size, MS_RESULT_ACCESS_ERROR);
	if (a->is_write) {
		result = device_rw(mr, offset, size, a->attrs, true, bytes);
	} else {
		result = device_rw(mr, offset, size, a->attrs, false, bytes);
		memcpy(a->dst + pos, bytes, size);
	}
	ms__chain_leave(&frame);
	return result;
}

/*
 * Bulk pieces, as QEMU's memory_access_size(): the largest power of two that
 * fits in @n and in valid.max (4 when it is 0: this path never makes a piece
 * wider than 4 for a device that did not ask for more), naturally aligned
 * unless impl.unaligned. That flag alone decides, as in QEMU, so with
 * impl.unaligned and without valid.unaligned an unaligned piece is made and
 * then refused by the valid check.
 */
static unsigned bulk_size(const ms_region_ops *ops, uint64_t offset, uint64_t n)
{
	unsigned max = size_or(ops->valid.max_access_size, 4);

	if (!ops->impl.unaligned) {
		uint64_t align = offset & -offset;

		if (align != 0 && align < max)
			max = (unsigned)align;
	}
	while (max > n)
		max >>= 1;
	return max;
}

static ms_result device_access(const access_req *a, const ms_region *mr, uint64_t offset,
			       uint64_t pos, uint64_t n)
{
	ms_result result = MS_RESULT_OK;

	if (a->single && n == a->len)
		return dispatch(a, mr, offset, pos, (unsigned)n);
	while (n > 0) {
		unsigned l = bulk_size(mr->ops, offset, n);

		result |= dispatch(a, mr, offset, pos, l);
		offset += l;
		pos += l;
		n -= l;
	}
	return result;
}

/* ---- host memory ---------------------------------------------------------- */

/*
 * Bytes [pos, pos + n) of @a to or from @mr's memory at @offset. A write
 * marks its pages dirty for the clients logging @mr, after the bytes are in
 * place; memory the backend mapped read-only is never written.
 */
static void ram_copy(const access_req *a, const ms_region *mr, uint64_t offset, uint64_t pos,
		     uint64_t n)
{
	uint8_t *mem = (uint8_t *)mr->ram + offset;

	if (a->probe)
		return;
	if (!a->is_write) {
		memcpy(a->dst + pos, mem, (size_t)n);
		return;
	}
	if (mr->rb->readonly)
		return;
	source_copy(a, mem, pos, (size_t)n);
	ms__ramblock_written(mr->rb, offset, n);
}

/* The widest of 8, 4, 2, 1 bytes that is aligned at @p and fits in @n. */
static unsigned exact_width(uintptr_t p, uint64_t n)
{
	unsigned w = 8;

	while (w > 1 && ((p & (w - 1)) || w > n))
		w >>= 1;
	return w;
}

/*
 * RAM devices: only naturally aligned volatile loads and stores, never
 * memcpy. A write marks its pages dirty after its stores, as ram_copy().
 */
static void ram_device_copy(const access_req *a, const ms_region *mr, uint64_t offset, uint64_t pos,
			    uint64_t n)
{
	uint8_t *mem = (uint8_t *)mr->ram + offset; /* callers checked that there is memory */
	uint64_t len = n;

	if (a->probe)
		return;
	while (n > 0) {
		unsigned w = exact_width((uintptr_t)mem, n);
		uint8_t bytes[8];

		if (a->is_write) {
			source_copy(a, bytes, pos, w);
			switch (w) {
			case 8:
				*(volatile alias_u64 *)mem = *(const alias_u64 *)bytes;
				break;
			case 4:
				*(volatile alias_u32 *)mem = *(const alias_u32 *)bytes;
				break;
			case 2:
				*(volatile alias_u16 *)mem = *(const alias_u16 *)bytes;
				break;
			default:
				*(volatile uint8_t *)mem = bytes[0];
				break;
			}
		} else {
			switch (w) {
			case 8:
				*(alias_u64 *)bytes = *(const volatile alias_u64 *)mem;
				break;
			case 4:
				*(alias_u32 *)bytes = *(const volatile alias_u32 *)mem;
				break;
			case 2:
				*(alias_u16 *)bytes = *(const volatile alias_u16 *)mem;
				break;
			default:
				bytes[0] = *(const volatile uint8_t *)mem;
				break;
			}
			memcpy(a->dst + pos, bytes, w);
		}
		mem += w;
		pos += w;
		n -= w;
	}
	if (a->is_write)
		ms__ramblock_written(mr->rb, offset, len);
}

bool ms__access_is_direct(const ms__range *r, bool is_write)
{
	switch (r->region->kind) {
	case MS_REGION_RAM:
	case MS_REGION_ROM:
	case MS_REGION_RAM_PTR:
		return !is_write || !(r->flags & MS__RANGE_READONLY);
	case MS_REGION_ROM_DEVICE:
		return !is_write && (r->flags & MS__RANGE_ROMD);
	default:
		return false;
	}
}

/* ---- pieces ------------------------------------------------------------------- */

/* ms_as_write_rom(): host memory only, whatever the readonly flags say. */
static void load_range(const access_req *a, const ms__range *r, uint64_t offset, uint64_t pos,
		       uint64_t n)
{
	switch (r->region->kind) {
	case MS_REGION_RAM:
	case MS_REGION_ROM:
	case MS_REGION_RAM_PTR:
		ram_copy(a, r->region, offset, pos, n);
		break;
	case MS_REGION_RAM_DEVICE:
		ram_device_copy(a, r->region, offset, pos, n);
		break;
	case MS_REGION_ROM_DEVICE:
		if (r->flags & MS__RANGE_ROMD)
			ram_copy(a, r->region, offset, pos, n);
		break;
	default:
		break; /* devices, ROM devices outside romd mode, reservations: skipped */
	}
}

/*
 * Bytes [pos, pos + n) of @a go to range @r from address @addr on. IOMMU
 * regions with a class never get here: the walk (resolve.c) translates them
 * and hands over what answers behind them, where every rule applies again
 * (attrs.memory included).
 */
static ms_result access_range(const access_req *a, const ms__range *r, uint64_t addr, uint64_t pos,
			      uint64_t n)
{
	const ms_region *mr = r->region;
	uint64_t offset = r->offset_in_region + (addr - r->start);
	bool readonly = r->flags & MS__RANGE_READONLY;

	if (mr->kind == MS_REGION_IOMMU) {
		/* No class (ms_iommu_new() without ops): nothing answers behind it. */
		return a->loader ? MS_RESULT_OK : fail(a, pos, n, MS_RESULT_DECODE_ERROR);
	}
	if (mr->rb && !mr->ram) {
		/* Layout only (MS_RAM_NONE): there is no memory to reach. */
		return a->loader ? MS_RESULT_OK : fail(a, pos, n, MS_RESULT_ACCESS_ERROR);
	}
	if (a->loader) {
		load_range(a, r, offset, pos, n);
		return MS_RESULT_OK;
	}
	if (a->attrs.memory && !ms__region_kind_is_ram(mr->kind))
		return fail(a, pos, n, MS_RESULT_ACCESS_ERROR);
	if (ms__access_is_direct(r, a->is_write)) {
		ram_copy(a, r->region, offset, pos, n);
		return MS_RESULT_OK;
	}
	switch (mr->kind) {
	case MS_REGION_RAM:
	case MS_REGION_ROM:
	case MS_REGION_RAM_PTR:
		/* A write to readonly RAM: ignored, except by a debugger. */
		if (a->attrs.debug)
			ram_copy(a, r->region, offset, pos, n);
		return MS_RESULT_OK;
	case MS_REGION_RAM_DEVICE:
		if (!a->is_write || !readonly || a->attrs.debug)
			ram_device_copy(a, mr, offset, pos, n);
		return MS_RESULT_OK;
	case MS_REGION_ROM_DEVICE:
		if (a->is_write && a->attrs.debug && (r->flags & MS__RANGE_ROMD)) {
			ram_copy(a, r->region, offset, pos, n);
			return MS_RESULT_OK;
		}
		return device_access(a, mr, offset, pos, n);
	case MS_REGION_IO:
		if (!mr->ops)
			return fail(a, pos, n, MS_RESULT_DECODE_ERROR); /* reservation */
		return device_access(a, mr, offset, pos, n);
	default:
		return fail(a, pos, n, MS_RESULT_DECODE_ERROR); /* never rendered */
	}
}

/*
 * One piece of the walk. A hole (or the addresses past the top of the
 * address space) is a decode error, a failed IOMMU translation an access
 * error; the loader skips both silently.
 */
static int access_piece(const ms__piece *p, void *arg)
{
	access_req *a = arg;

	switch (p->kind) {
	case MS__PIECE_RANGE:
		a->result |= access_range(a, p->range, p->addr, p->pos, p->len);
		break;
	case MS__PIECE_HOLE:
		if (!a->loader)
			a->result |= fail(a, p->pos, p->len, MS_RESULT_DECODE_ERROR);
		break;
	case MS__PIECE_FAULT:
		if (!a->loader)
			a->result |= fail(a, p->pos, p->len, MS_RESULT_ACCESS_ERROR);
		break;
	}
	return 0;
}

/*
 * Whether a read of @r is a copy from r->host: what access_range() decides
 * for host memory, from the entry alone (attrs.memory refuses ROM devices).
 */
static inline bool reads_host(const ms__range *r, ms_attrs attrs)
{
	switch (r->kind) {
	case MS_REGION_RAM:
	case MS_REGION_ROM:
	case MS_REGION_RAM_PTR:
		return r->host != NULL;
	case MS_REGION_ROM_DEVICE:
		return r->host != NULL && (r->flags & MS__RANGE_ROMD) && !attrs.memory;
	default:
		return false;
	}
}

/*
 * An access of a->len >= 1 bytes at @addr of @as, inside the read-side
 * section in which @view was read from @as and @r found in it at @addr.
 */
static ms_result run_found(ms_as *as, const ms_flatview *view, const ms__range *r, uint64_t addr,
			   access_req *a)
{
	/*
	 * The common case first: one range that is no IOMMU holds the whole
	 * access, so it is the walk's only piece. Anything else (IOMMUs, holes,
	 * several ranges) takes the walk, which starts from the range found.
	 */
	if (r && a->len - 1 <= r->last - addr && r->kind != MS_REGION_IOMMU) {
		/* Reads of host memory straight from the entry, without touching
		 * the region (a cache miss of its own on big machines). */
		if (!a->is_write && !a->probe && reads_host(r, a->attrs)) {
			memcpy(a->dst, r->host + (addr - r->start), (size_t)a->len);
			a->result = MS_RESULT_OK;
		} else {
			a->result = access_range(a, r, addr, 0, a->len);
		}
	} else {
		ms__piece last;
		ms__walk w = {a->is_write, a->attrs, false, r, access_piece, a, &last};

		a->result = MS_RESULT_OK;
		if (ms__resolve_walk(&w, as, view, addr, a->len) == 0)
			access_piece(&last, a);
	}
	return a->result;
}

/* An access of a->len >= 1 bytes at @addr of @as. */
static ms_result run(ms_as *as, uint64_t addr, access_req *a)
{
	const ms_flatview *view;
	ms_result res;

	ms__rcu_read_lock();
	view = ms__deref(as->view);
	res = run_found(as, view, ms__dispatch_find(view, addr), addr, a);
	ms__rcu_read_unlock();
	return res;
}

/* ---- public entry points ------------------------------------------------------ */

ms_result ms_as_read(ms_as *as, uint64_t addr, ms_attrs attrs, void *buf, size_t len)
{
	access_req a = {.attrs = attrs, .len = len, .dst = buf};

	if (!as || (!buf && len))
		return MS_RESULT_ACCESS_ERROR;
	return len ? run(as, addr, &a) : MS_RESULT_OK;
}

ms_result ms_as_write(ms_as *as, uint64_t addr, ms_attrs attrs, const void *buf, size_t len)
{
	access_req a = {.attrs = attrs, .is_write = true, .len = len, .src = buf};

	if (!as || (!buf && len))
		return MS_RESULT_ACCESS_ERROR;
	return len ? run(as, addr, &a) : MS_RESULT_OK;
}

ms_result ms_as_set(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t byte, size_t len)
{
	access_req a = {.attrs = attrs, .is_write = true, .len = len, .fill = byte};

	if (!as)
		return MS_RESULT_ACCESS_ERROR;
	return len ? run(as, addr, &a) : MS_RESULT_OK;
}

ms_result ms_as_write_rom(ms_as *as, uint64_t addr, const void *buf, size_t len)
{
	access_req a = {
		.attrs = MS_ATTRS_UNSPECIFIED,
		.is_write = true,
		.loader = true,
		.len = len,
		.src = buf,
	};

	if (!as || (!buf && len))
		return MS_RESULT_ACCESS_ERROR;
	return len ? run(as, addr, &a) : MS_RESULT_OK;
}

/*
 * Whether a write of @r is a copy to r->host: RAM and RAM at a caller's
 * pointer with no readonly flag on the path (what ms__access_is_direct()
 * says, from the entry alone).
 */
static inline bool writes_host(const ms__range *r)
{
	return (r->kind == MS_REGION_RAM || r->kind == MS_REGION_RAM_PTR) && r->host &&
	       !(r->flags & MS__RANGE_READONLY);
}

/*
 * The general path of a scalar, in the read-side section of its fast path
 * and with the range it found there (no second look-up); kept out of line,
 * so the fast path builds no request. @bytes is read for a write and
 * filled for a read.
 */
static __attribute__((noinline)) ms_result scalar_slow(ms_as *as, const ms_flatview *view,
						       const ms__range *r, uint64_t addr,
						       ms_attrs attrs, unsigned size,
						       uint8_t *bytes, bool is_write)
{
	access_req a = {.attrs = attrs, .is_write = is_write, .single = true, .len = size};

	if (is_write)
		a.src = bytes;
	else
		a.dst = bytes;
	return run_found(as, view, r, addr, &a);
}

/* Whether a scalar of @size bytes at @addr is a plain load from @r's host memory. */
static inline bool host_load(const ms__range *r, uint64_t addr, unsigned size)
{
	/* One flag test: ROM devices in romd mode go the general way. */
	return r && size - 1 <= r->last - addr && (r->flags & MS__RANGE_HOST_READ);
}

/* The end of a scalar load's general path, where @r (or NULL) was found at
 * @addr in @view: host memory or the general access path, then the end of
 * the read-side section the caller took. */
static inline __attribute__((always_inline)) uint64_t load_found(ms_as *as, const ms_flatview *view,
								 const ms__range *r, uint64_t addr,
								 ms_attrs attrs, ms_result *result,
								 unsigned size, bool big_endian)
{
	uint8_t bytes[8];
	ms_result res;
	uint64_t value;

	if (host_load(r, addr, size)) {
		value = ms__bytes_to_value(r->host + (addr - r->start), size, big_endian);
		res = MS_RESULT_OK;
	} else {
		res = scalar_slow(as, view, r, addr, attrs, size, bytes, false);
		value = ms__bytes_to_value(bytes, size, big_endian);
	}
	ms__rcu_read_unlock();
	if (result)
		*result = res;
	return value;
}

/* A scalar load's general path, out of line: its own read-side section
 * and look-up, then load_found(). */
static __attribute__((noinline)) uint64_t load_slow(ms_as *as, uint64_t addr, ms_attrs attrs,
						    ms_result *result, unsigned size,
						    bool big_endian)
{
	const ms_flatview *view;

	if (!as) {
		if (result)
			*result = MS_RESULT_ACCESS_ERROR;
		return 0;
	}
	ms__rcu_read_lock();
	view = ms__deref(as->view);
	return load_found(as, view, ms__dispatch_find(view, addr), addr, attrs, result, size,
			  big_endian);
}

/* The rest of a scalar load whose fast path stopped inside its read-side
 * section: at @r found in @view (NULL: nothing there), or, when @r is
 * MS__FIND_AGAIN, at what the fast look-up left to the full one. Then
 * load_found(). */
static inline __attribute__((always_inline)) uint64_t load_rest(ms_as *as, const ms_flatview *view,
								const ms__range *r, uint64_t addr,
								ms_attrs attrs, ms_result *result,
								unsigned size, bool big_endian)
{
	if (r == MS__FIND_AGAIN)
		r = ms__dispatch_find(view, addr);
	return load_found(as, view, r, addr, attrs, result, size, big_endian);
}

/* What a scalar load's fast path did, when it did not read the value. */
#define LOAD_SLOW ((const ms__range *)2) /* nothing: load_slow() does it all */
#define LOAD_DONE ((const ms__range *)3) /* read from host memory: the value is out */

/*
 * Scalars: one look-up, and when one host-memory range holds the bytes, a
 * copy of constant size right here (always inlined into each width, so the
 * copy is one load or store). The look-up here is the fast one
 * (MS__FIND_FAST): a direct view's map, the flat table's slot, or in a
 * view without a table the warm hint's range. The rest is a tail call
 * into the width's out-of-line twins of the same arguments: a thread's
 * first read-side section or no address space to load_slow(), which does
 * it all; a walk, a search, a device, a hole or an error to load_rest(),
 * which goes on in the read-side section the fast path took. The fast
 * path makes no call and keeps nothing for the others (4-byte reads at
 * 100,000 regions random: about 160 ns, 220 to 240 when both were one
 * function; at 10 regions about 5.3 ns, 8.0 when the fast path had the
 * whole look-up and called the search).
 */
static inline __attribute__((always_inline)) const ms__range *
load_fast(ms_as *as, uint64_t addr, unsigned size, bool big_endian, uint64_t *value,
	  const ms_flatview **viewp)
{
	const ms_flatview *view;
	const ms__range *r;

	if (__builtin_expect(!as || !ms__rcu_ready(), 0))
		return LOAD_SLOW;
	ms__rcu_read_lock();
	view = ms__deref(as->view);
	r = ms__dispatch_find_counting(view, addr, MS__FIND_FAST);
	if (__builtin_expect(r == MS__FIND_AGAIN || !host_load(r, addr, size), 0)) {
		*viewp = view;
		return r; /* NULL, MS__FIND_AGAIN or a range: load_rest() */
	}
	/* The value is read straight from host memory, not through bytes[]. */
	*value = ms__bytes_to_value(r->host + (addr - r->start), size, big_endian);
	ms__rcu_read_unlock();
	return LOAD_DONE;
}

/* ms_as_<name>() and its out-of-line twins, for a @type of @size bytes. */
#define MS__LOAD(name, type, size, big_endian)                                                  \
	static __attribute__((noinline))                                                        \
	type name##_slow(ms_as *as, uint64_t addr, ms_attrs attrs, ms_result *result)           \
	{                                                                                       \
		return (type)load_slow(as, addr, attrs, result, size, big_endian);              \
	}                                                                                       \
	static __attribute__((noinline))                                                        \
	type name##_rest(ms_as *as, const ms_flatview *view, const ms__range *r, uint64_t addr, \
			 ms_attrs attrs, ms_result *result)                                     \
	{                                                                                       \
		return (type)load_rest(as, view, r, addr, attrs, result, size, big_endian);     \
	}                                                                                       \
	MS__HOT_ENTRY type ms_as_##name(ms_as *as, uint64_t addr, ms_attrs attrs,               \
					ms_result *result)                                      \
	{                                                                                       \
		const ms_flatview *view;                                                        \
		uint64_t value = 0;                                                             \
		const ms__range *r = load_fast(as, addr, size, big_endian, &value, &view);      \
                                                                                                \
		if (__builtin_expect(r != LOAD_DONE, 0)) {                                      \
			if (r == LOAD_SLOW)                                                     \
				return name##_slow(as, addr, attrs, result);                    \
			return name##_rest(as, view, r, addr, attrs, result);                   \
		}                                                                               \
		if (result)                                                                     \
			*result = MS_RESULT_OK;                                                 \
		return (type)value;                                                             \
	}

MS__LOAD(ldub, uint8_t, 1, false)
MS__LOAD(lduw_le, uint16_t, 2, false)
MS__LOAD(lduw_be, uint16_t, 2, true)
MS__LOAD(ldl_le, uint32_t, 4, false)
MS__LOAD(ldl_be, uint32_t, 4, true)
MS__LOAD(ldq_le, uint64_t, 8, false)
MS__LOAD(ldq_be, uint64_t, 8, true)

static inline __attribute__((always_inline)) ms_result
store(ms_as *as, uint64_t addr, ms_attrs attrs, unsigned size, bool big_endian, uint64_t value)
{
	const ms_flatview *view;
	uint8_t bytes[8];
	const ms__range *r;
	ms_result res = MS_RESULT_OK;

	if (!as)
		return MS_RESULT_ACCESS_ERROR;
	ms__value_to_bytes(bytes, size, value, big_endian);
	ms__rcu_read_lock();
	view = ms__deref(as->view);
	r = ms__dispatch_find(view, addr);
	if (r && size - 1 <= r->last - addr && writes_host(r)) {
		const ms_region *mr = r->region;
		uint64_t offset = addr - r->start;

		/* As ram_copy(): the bytes, then the dirty bits. */
		if (!mr->rb->readonly) {
			memcpy(r->host + offset, bytes, size);
			ms__ramblock_written(mr->rb, r->offset_in_region + offset, size);
		}
	} else {
		res = scalar_slow(as, view, r, addr, attrs, size, bytes, true);
	}
	ms__rcu_read_unlock();
	return res;
}

ms_result ms_as_stb(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t val)
{
	return store(as, addr, attrs, 1, false, val);
}

ms_result ms_as_stw_le(ms_as *as, uint64_t addr, ms_attrs attrs, uint16_t val)
{
	return store(as, addr, attrs, 2, false, val);
}

ms_result ms_as_stw_be(ms_as *as, uint64_t addr, ms_attrs attrs, uint16_t val)
{
	return store(as, addr, attrs, 2, true, val);
}

ms_result ms_as_stl_le(ms_as *as, uint64_t addr, ms_attrs attrs, uint32_t val)
{
	return store(as, addr, attrs, 4, false, val);
}

ms_result ms_as_stl_be(ms_as *as, uint64_t addr, ms_attrs attrs, uint32_t val)
{
	return store(as, addr, attrs, 4, true, val);
}

ms_result ms_as_stq_le(ms_as *as, uint64_t addr, ms_attrs attrs, uint64_t val)
{
	return store(as, addr, attrs, 8, false, val);
}

ms_result ms_as_stq_be(ms_as *as, uint64_t addr, ms_attrs attrs, uint64_t val)
{
	return store(as, addr, attrs, 8, true, val);
}

/*
 * QEMU's memory_region_dispatch_read/write(): one access of @size bytes at
 * @offset of @mr itself, with no address space. Devices get it through
 * their valid and impl rules and the reentrancy guard; RAM-backed kinds
 * read and write their memory (RAM devices with an exact-width access;
 * writes to ROM are ignored). @bytes hold the access in memory order.
 */
/* A region whose accesses go to callbacks (ms_region_dispatch_*()). */
static bool is_device(const ms_region *mr)
{
	return (mr->kind == MS_REGION_IO && mr->ops) || mr->kind == MS_REGION_ROM_DEVICE;
}

static bool scalar_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static ms_result region_dispatch(ms_region *mr, uint64_t offset, uint8_t *bytes, unsigned size,
				 ms_attrs attrs, bool is_write)
{
	access_req a = {.attrs = attrs, .is_write = is_write, .single = true, .len = size};

	a.dst = bytes;
	a.src = bytes;
	if ((ms__u128)offset + size > mr->size)
		return fail(&a, 0, size, MS_RESULT_DECODE_ERROR);
	if (is_device(mr))
		return dispatch(&a, mr, offset, 0, size);
	if (!ms__region_kind_is_ram(mr->kind))
		return fail(&a, 0, size, MS_RESULT_DECODE_ERROR); /* reservation, container, ... */
	if (!mr->ram)
		return fail(&a, 0, size, MS_RESULT_ACCESS_ERROR); /* layout only */
	if (mr->kind == MS_REGION_RAM_DEVICE)
		ram_device_copy(&a, mr, offset, 0, size);
	else if (!is_write || !mr->readonly)
		ram_copy(&a, mr, offset, 0, size);
	return MS_RESULT_OK;
}

/* The byte order of a value of @mr: its device's, else the host's. */
static bool value_big_endian(const ms_region *mr)
{
	return is_device(mr) && mr->ops ? device_big_endian(mr->ops) : MS__HOST_BIG_ENDIAN;
}

ms_result ms_region_dispatch_read(ms_region *mr, uint64_t offset, uint64_t *data, unsigned size,
				  ms_attrs attrs)
{
	uint8_t bytes[8] = {0};
	ms_result result;

	if (!data)
		return MS_RESULT_ACCESS_ERROR;
	*data = 0;
	if (!mr || !scalar_size(size))
		return MS_RESULT_ACCESS_ERROR;
	result = region_dispatch(mr, offset, bytes, size, attrs, false);
	*data = ms__bytes_to_value(bytes, size, value_big_endian(mr));
	return result;
}

ms_result ms_region_dispatch_write(ms_region *mr, uint64_t offset, uint64_t data, unsigned size,
				   ms_attrs attrs)
{
	uint8_t bytes[8];
	ms_result result;

	if (!mr || !scalar_size(size))
		return MS_RESULT_ACCESS_ERROR;
	ms__value_to_bytes(bytes, size, data, value_big_endian(mr));
	/* The ioeventfd table is read inside a read-side section, as accesses do. */
	ms__rcu_read_lock();
	result = region_dispatch(mr, offset, bytes, size, attrs, true);
	ms__rcu_read_unlock();
	return result;
}

int ms_as_translate(ms_section *out, uint64_t *len, ms_as *as, uint64_t addr,
		    const ms_access_opts *opts)
{
	bool is_write = opts ? opts->is_write : false;
	ms_attrs attrs = opts ? opts->attrs : MS_ATTRS_UNSPECIFIED;
	ms__resolved res;
	int rc;

	if (!out || !len || !as || *len == 0)
		return -EINVAL;
	ms__rcu_read_lock();
	rc = ms__resolve(&res, as, ms__deref(as->view), addr, *len, is_write, attrs, NULL, 0, NULL);
	if (rc == 0 && res.range) {
		const ms__range *r = res.range;

		ms__flatview_section(out, r);
		*len = ms__clamp_len(res.len, r->last - res.addr);
		out->offset_in_region += res.addr - r->start;
		out->start = addr;
		out->last = addr + (*len - 1);
	} else {
		memset(out, 0, sizeof(*out));
		if (rc == 0) {
			*len = res.len; /* the hole, clamped to the pages on the way */
			rc = -ENOENT;
		}
	}
	ms__rcu_read_unlock();
	return rc;
}

bool ms_as_access_valid(ms_as *as, uint64_t addr, size_t len, bool is_write, ms_attrs attrs)
{
	access_req a = {.attrs = attrs, .is_write = is_write, .probe = true, .len = len};

	if (!as)
		return false;
	return len == 0 || run(as, addr, &a) == MS_RESULT_OK;
}
