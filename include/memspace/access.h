/*
 * memspace: accesses through an address space.
 *
 * Every call here reads or writes guest-physical memory the way a bus master
 * would: it looks the address up in the address space's current flat view
 * and hands each piece to whatever answers there. RAM, ROM and RAM at a
 * caller's pointer are copied directly; RAM devices get exact-width loads
 * and stores; I/O devices and ROM devices (outside romd mode) get their
 * ms_region_ops callbacks, split and widened as the ops' @valid and @impl
 * rules say. docs/access.md states every rule with its QEMU counterpart.
 *
 * Results: each call returns an ms_result; when an access spans several
 * targets, their results are ORed. Nothing answering (a hole, an I/O
 * reservation, an IOMMU region without a translation class, bytes past
 * the top of the 64-bit space) gives MS_RESULT_DECODE_ERROR; an access a
 * device's @valid rules refuse gives MS_RESULT_DECODE_ERROR too (QEMU's
 * choice); a non-RAM target under attrs.memory, a device reentered from its
 * own access chain, a chain nested too deeply, or an IOMMU translation that
 * fails (no mapping, a missing permission, a malformed entry, a cycle of
 * IOMMUs: iommu.h) gives MS_RESULT_ACCESS_ERROR;
 * a device callback reports MS_RESULT_ERROR. A read returns zero in every
 * byte that failed before reaching a device. Writes to readonly RAM (ROM,
 * or RAM reached through a readonly region) are ignored and succeed.
 *
 * Concurrency: accesses take no lock. Each runs inside an RCU read-side
 * section of its own (the kind ms_rcu_read_lock() opens) and uses the one
 * flat view it found at its start from beginning to end, even if a device
 * callback changes the topology meanwhile (the change shows in the next
 * access).
 * Any number of threads may access one address space, and one device,
 * at the same time.
 *
 * Device callbacks run in the accessing thread, inside that read-side
 * section, with no memspace lock held. Device models own their locking:
 * two threads may be in one device's callbacks at once. A callback may issue
 * accesses of its own (DMA) and may change the topology; it must not wait
 * for an RCU grace period (synchronize_rcu, rcu_barrier, ms_ctx_free). An
 * access that would reach a device whose callback is already running on the
 * same thread's access chain (directly or through nested DMA) fails with
 * MS_RESULT_ACCESS_ERROR instead of recursing; other threads are not
 * affected. The nesting depth of device callbacks on one thread is bounded
 * (ms_ctx_set_max_access_depth()). Callbacks must return normally: leaving
 * one with longjmp() leaves it on the thread's access chain.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_ACCESS_H
#define MEMSPACE_ACCESS_H

#include "as.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct ms_access_opts - the access a query is about (ms_as_translate()).
 * @is_write: a write rather than a read.
 * @attrs: transaction attributes.
 *
 * Later versions may append fields: zero-initialise the struct.
 */
typedef struct ms_access_opts {
	bool is_write;
	ms_attrs attrs;
} ms_access_opts;

/**
 * ms_as_read - read guest memory.
 * @as: the address space.
 * @addr: first address.
 * @attrs: transaction attributes, passed to *_with_attrs callbacks.
 * @buf: receives @len bytes, in bus order (a device's value appears in its
 *       own byte order).
 * @len: number of bytes; 0 does nothing.
 *
 * Any length and alignment; the access may span any number of ranges.
 * Pieces that go to a device are split into the largest naturally aligned
 * power-of-two sizes the device's @valid.max_access_size allows.
 *
 * Return: the ORed results of the pieces (MS_RESULT_OK when all succeeded);
 * MS_RESULT_ACCESS_ERROR with nothing read when @as is NULL, or @buf is NULL
 * and @len is not 0.
 * Context: any thread, including device callbacks.
 */
MS_API ms_result ms_as_read(ms_as *as, uint64_t addr, ms_attrs attrs, void *buf, size_t len);

/**
 * ms_as_write - write guest memory.
 * @as: the address space.
 * @addr: first address.
 * @attrs: transaction attributes. With @attrs.debug, readonly RAM and ROM
 *         devices in romd mode are written (what a debugger's "poke" needs):
 *         the write goes to their memory only, with no callback. Devices
 *         outside romd mode still get it through their callbacks.
 * @buf: @len bytes to write, in bus order.
 * @len: number of bytes; 0 does nothing.
 *
 * Splitting and results as for ms_as_read(). Writes to readonly RAM are
 * ignored and succeed; bytes that reach nothing are dropped with
 * MS_RESULT_DECODE_ERROR.
 *
 * Return: the ORed results of the pieces; MS_RESULT_ACCESS_ERROR with nothing
 * written when @as is NULL, or @buf is NULL and @len is not 0.
 * Context: any thread, including device callbacks.
 */
MS_API ms_result ms_as_write(ms_as *as, uint64_t addr, ms_attrs attrs, const void *buf, size_t len);

/**
 * ms_as_set - fill guest memory with one byte value.
 * @as: the address space.
 * @addr: first address.
 * @attrs: transaction attributes (as for ms_as_write()).
 * @byte: the value of every byte.
 * @len: number of bytes; 0 does nothing.
 *
 * Behaves exactly like ms_as_write() of @len bytes equal to @byte, without
 * the caller building that buffer.
 *
 * Return: the ORed results of the pieces; MS_RESULT_ACCESS_ERROR when @as is
 * NULL.
 * Context: any thread, including device callbacks.
 */
MS_API ms_result ms_as_set(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t byte, size_t len);

/**
 * ms_as_write_rom - loader write: put an image into RAM and ROM.
 * @as: the address space.
 * @addr: first address.
 * @buf: @len bytes to store.
 * @len: number of bytes; 0 does nothing.
 *
 * Writes every piece backed by host memory, ignoring readonly flags: RAM,
 * ROM, RAM at a pointer, RAM devices (with exact-width stores) and ROM
 * devices in romd mode (their RAM). Every other piece (I/O devices, ROM
 * devices outside romd mode, reservations, IOMMU regions without a class or
 * whose translation refuses the write, holes, bytes past
 * the top of the address space) is skipped silently, as QEMU's
 * address_space_write_rom() does. When an IOMMU refuses one page, the rest
 * of that IOMMU region's range in this write is skipped with it, not just
 * the page. No device callback is ever called.
 *
 * Return: MS_RESULT_OK; MS_RESULT_ACCESS_ERROR with nothing written when @as
 * is NULL, or @buf is NULL and @len is not 0.
 * Context: any thread, including device callbacks.
 */
MS_API ms_result ms_as_write_rom(ms_as *as, uint64_t addr, const void *buf, size_t len);

/*
 * Scalar loads and stores: one access of 1, 2, 4 or 8 bytes, read or written
 * in little- (_le) or big-endian (_be) byte order. Inside one range a device
 * sees a single guest access of that width (checked against its @valid rules,
 * then split or widened to its @impl rules); an access that crosses ranges
 * is carried out like ms_as_read() / ms_as_write() of the same bytes. Any
 * alignment.
 *
 * Loads return the value (0 in the bytes that failed before reaching a
 * device) and store the result in *@result unless @result is NULL. Stores
 * return the result. A NULL @as gives MS_RESULT_ACCESS_ERROR and the value 0.
 * Context: any thread, including device callbacks.
 */
MS_API uint8_t ms_as_ldub(ms_as *as, uint64_t addr, ms_attrs attrs, ms_result *result);
MS_API uint16_t ms_as_lduw_le(ms_as *as, uint64_t addr, ms_attrs attrs, ms_result *result);
MS_API uint16_t ms_as_lduw_be(ms_as *as, uint64_t addr, ms_attrs attrs, ms_result *result);
MS_API uint32_t ms_as_ldl_le(ms_as *as, uint64_t addr, ms_attrs attrs, ms_result *result);
MS_API uint32_t ms_as_ldl_be(ms_as *as, uint64_t addr, ms_attrs attrs, ms_result *result);
MS_API uint64_t ms_as_ldq_le(ms_as *as, uint64_t addr, ms_attrs attrs, ms_result *result);
MS_API uint64_t ms_as_ldq_be(ms_as *as, uint64_t addr, ms_attrs attrs, ms_result *result);

MS_API ms_result ms_as_stb(ms_as *as, uint64_t addr, ms_attrs attrs, uint8_t val);
MS_API ms_result ms_as_stw_le(ms_as *as, uint64_t addr, ms_attrs attrs, uint16_t val);
MS_API ms_result ms_as_stw_be(ms_as *as, uint64_t addr, ms_attrs attrs, uint16_t val);
MS_API ms_result ms_as_stl_le(ms_as *as, uint64_t addr, ms_attrs attrs, uint32_t val);
MS_API ms_result ms_as_stl_be(ms_as *as, uint64_t addr, ms_attrs attrs, uint32_t val);
MS_API ms_result ms_as_stq_le(ms_as *as, uint64_t addr, ms_attrs attrs, uint64_t val);
MS_API ms_result ms_as_stq_be(ms_as *as, uint64_t addr, ms_attrs attrs, uint64_t val);

/**
 * ms_as_translate - what answers at @addr, and for how many bytes.
 * @out: receives the section of the current view at @addr, clipped: its
 *       @start is @addr, its @last is @addr + *@len - 1, its
 *       @offset_in_region is the offset of @addr inside its @region, and its
 *       flags are the range's. Cleared when nothing answers.
 * @len: in: the number of bytes wanted (at least 1); out: how many of them,
 *       from @addr on, lie in the flat range found (clamped to the range, as
 *       in QEMU, even where the next range continues the same region; and to
 *       every IOMMU page on the way), or, on -ENOENT, in the hole.
 * @as: the address space.
 * @addr: the address.
 * @opts: the access the caller means to make (direction and attributes
 *        choose the permissions and translation regime of IOMMUs); NULL
 *        means a read with MS_ATTRS_UNSPECIFIED.
 *
 * IOMMU regions (iommu.h) are followed into their target address spaces
 * (through chains of them), *@len is clamped to every translated page on
 * the way as well, and @out describes the final target; @out->start and
 * @out->last stay addresses of @as. An IOMMU region without a translation
 * class is reported as it is. @out->region is otherwise always a
 * terminating region, never an alias or a container.
 *
 * Return: 0; -ENOENT when nothing answers at @addr (where the path ends);
 * -EINVAL when an argument is NULL or *@len is 0 (nothing is changed);
 * -EACCES, -EIO or -ELOOP when an IOMMU translation on the way fails (no
 * mapping or a missing permission; a malformed entry or index; a cycle or
 * a chain longer than MS_IOMMU_MAX_CHAIN): @out is cleared, *@len unchanged.
 * Context: any thread. @out->region is borrowed from the view: call inside an
 * RCU read-side section (ms_rcu_read_lock(), as.h) and use it only until that
 * section ends, or take a reference with ms_region_ref() before it ends.
 */
MS_API int ms_as_translate(ms_section *out, uint64_t *len, ms_as *as, uint64_t addr,
			   const ms_access_opts *opts);

/**
 * ms_region_dispatch_read / ms_region_dispatch_write - one access of @size
 * bytes at @offset of @mr itself, without an address space (QEMU's
 * memory_region_dispatch_read/write()).
 * @mr: the region.
 * @offset: the offset in @mr.
 * @data: the value read (0 where nothing answers) / the value to write.
 * @size: 1, 2, 4 or 8.
 * @attrs: transaction attributes, passed to the device.
 *
 * An I/O device or a ROM device (in or out of romd mode) gets the access
 * through its ops, with its valid rules (a refusal is a decode error and
 * calls nothing), its impl splitting and the reentrancy guard of access.h;
 * the value is the device's, in its endianness. RAM-backed regions read and
 * write their memory in host byte order (a RAM device with one access of
 * that width; writes to ROM are ignored).
 * Return: the device's result; MS_RESULT_DECODE_ERROR past the end of @mr
 * or for regions where nothing answers (reservations, containers, aliases,
 * IOMMUs); MS_RESULT_ACCESS_ERROR for a NULL @mr or @data or another
 * @size.
 * Context: any thread, including device callbacks.
 */
MS_API ms_result ms_region_dispatch_read(ms_region *mr, uint64_t offset, uint64_t *data,
					 unsigned size, ms_attrs attrs);
MS_API ms_result ms_region_dispatch_write(ms_region *mr, uint64_t offset, uint64_t data,
					  unsigned size, ms_attrs attrs);

/**
 * ms_as_access_valid - would an access of @len bytes at @addr be accepted?
 * @as: the address space.
 * @addr: first address.
 * @len: number of bytes; 0 is always valid.
 * @is_write: probe a write rather than a read.
 * @attrs: transaction attributes.
 *
 * True when every byte reaches something that takes the access: RAM-backed
 * memory (a write to readonly RAM counts as accepted, since it succeeds), or
 * a device whose @valid rules (including its accepts callback) accept every
 * piece ms_as_read() / ms_as_write() would send it. False for holes, I/O
 * reservations, IOMMU regions without a class, failed IOMMU translations,
 * non-RAM targets under attrs.memory, and bytes past the top of the address
 * space. IOMMUs on the way translate (their translate method runs); device
 * read and write callbacks are never called; their results, and the reentrancy and depth
 * checks, which depend on the calling thread, are not predicted.
 *
 * Return: true or false; false when @as is NULL.
 * Context: any thread, including device callbacks.
 */
MS_API bool ms_as_access_valid(ms_as *as, uint64_t addr, size_t len, bool is_write, ms_attrs attrs);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_ACCESS_H */
