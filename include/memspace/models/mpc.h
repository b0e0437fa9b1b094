/*
 * memspace models: a TrustZone memory protection controller (TZ-MPC-like).
 *
 * An MPC sits in front of one downstream region (an SRAM, say) and decides,
 * block by block, whether secure or non-secure transactions may reach it,
 * as ARM's AHB5 TrustZone MPC (CoreLink SIE-200) and QEMU's tz-mpc do. The
 * downstream region is cut into blocks of a power-of-two size; a lookup
 * table (LUT) holds one bit per block: set, the block belongs to the
 * non-secure world; clear, to the secure world. A transaction of the other
 * world is blocked.
 *
 * The MPC is an IOMMU region (ms_mpc_region(), the size of the downstream
 * region) with two translation indexes, MS_MPC_IDX_SECURE and
 * MS_MPC_IDX_NONSECURE, chosen from ms_attrs.secure. Place it where the
 * downstream region would have been. Its translation sends each block, per
 * index, either to the downstream address space (the downstream region as
 * a root) or to the "blocked" address space, whose I/O region counts the
 * access, raises the MPC's interrupt (the callback of ms_mpc_opts) and
 * answers with an error or, in read-as-zero / write-ignored mode, with
 * zeros and a success.
 *
 * A LUT change notifies, for each block whose bit changes, UNMAP of the
 * block on both indexes, then MAP of the block's new target on both.
 *
 * Locking: calls that change the MPC (ms_mpc_lut_set(), ms_mpc_set_raz_wi(),
 * ms_mpc_irq_clear(), ms_mpc_free()) must be serialised by the caller (in a
 * machine, the lock its register writes run under); ms_mpc_lut_set() takes
 * the topology lock to notify. Translation, blocked accesses, ms_mpc_lut_get()
 * and ms_mpc_get_stats() may run on any thread at any time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_MODELS_MPC_H
#define MEMSPACE_MODELS_MPC_H

#include <stdbool.h>
#include <stdint.h>

#include "../iommu.h"
#include "../types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The MPC's IOMMU indexes. */
#define MS_MPC_IDX_SECURE 0u    /* the index of secure transactions */
#define MS_MPC_IDX_NONSECURE 1u /* the index of non-secure transactions */
#define MS_MPC_NR_INDEXES 2u    /* how many indexes the MPC's IOMMU has */

/** MS_MPC_MIN_BLOCK - the smallest block size (32 bytes, the SIE-200's minimum). */
#define MS_MPC_MIN_BLOCK ((uint64_t)32)

/** MS_MPC_MAX_BLOCKS - the most blocks one MPC may have (2^22: a 512 KiB LUT). */
#define MS_MPC_MAX_BLOCKS ((uint64_t)1 << 22)

/** struct ms_mpc - one memory protection controller (opaque). */
typedef struct ms_mpc ms_mpc;

/**
 * struct ms_mpc_fault - one blocked access.
 * @addr: offset of the access inside the downstream region.
 * @size: its size in bytes (1, 2, 4 or 8: a piece of the access).
 * @is_write: a write rather than a read.
 * @secure: the transaction's ms_attrs.secure.
 */
typedef struct ms_mpc_fault {
	uint64_t addr;
	unsigned size;
	bool is_write;
	bool secure;
} ms_mpc_fault;

/**
 * typedef ms_mpc_irq_fn - the MPC's interrupt line.
 * @mpc: the MPC.
 * @fault: the access that was blocked; borrowed for the call.
 * @opaque: as given in ms_mpc_opts.
 *
 * Called for every blocked access, in the accessing thread, inside the
 * access (its RCU read-side section, with the blocked region on the
 * thread's access chain): the rules of an I/O device callback apply
 * (access.h). It may run on several threads at once.
 */
typedef void (*ms_mpc_irq_fn)(ms_mpc *mpc, const ms_mpc_fault *fault, void *opaque);

/**
 * struct ms_mpc_opts - an MPC (ms_mpc_new()).
 * @name: copied; names the IOMMU region; the blocked region and the two
 *        address spaces get it with ".blocked" and ".downstream" appended.
 * @downstream: the protected region (a reference is taken). Its size must
 *        be a non-zero multiple of @block_size; it becomes the root of the
 *        downstream address space, so it must not be placed anywhere else.
 * @block_size: a power of two, at least MS_MPC_MIN_BLOCK; at most
 *        MS_MPC_MAX_BLOCKS blocks.
 * @raz_wi: blocked reads return zero and blocked writes are ignored, both
 *        with MS_RESULT_OK, instead of failing with MS_RESULT_ERROR (the
 *        SIE-200's CTRL.SEC_RESP bit clear).
 * @irq: called for every blocked access; NULL for none.
 * @opaque: passed to @irq.
 *
 * Every block starts secure (LUT bit clear), as after a reset.
 * Later versions may append fields: zero-initialise the struct.
 */
typedef struct ms_mpc_opts {
	const char *name;
	ms_region *downstream;
	uint64_t block_size;
	bool raz_wi;
	ms_mpc_irq_fn irq;
	void *opaque;
} ms_mpc_opts;

/**
 * struct ms_mpc_stats - what ms_mpc_get_stats() reports.
 * @blocked_reads: blocked reads since creation.
 * @blocked_writes: blocked writes since creation.
 * @blocked_secure: blocked accesses of secure transactions.
 * @blocked_nonsecure: blocked accesses of non-secure transactions.
 * @irq_pending: a blocked access happened since the last
 *        ms_mpc_irq_clear() (the SIE-200's INT_STAT).
 * @first_fault: the first blocked access since then (INT_INFO); zero
 *        when @irq_pending is false.
 * @nr_blocks: blocks in the LUT.
 * @block_size: bytes per block.
 * @nr_nonsecure: blocks whose LUT bit is set (a racy snapshot).
 *
 * The counters count pieces of accesses as the blocked region's callbacks
 * see them (an 8-byte blocked read is one read; a 3-byte one is two).
 */
typedef struct ms_mpc_stats {
	uint64_t blocked_reads;
	uint64_t blocked_writes;
	uint64_t blocked_secure;
	uint64_t blocked_nonsecure;
	bool irq_pending;
	ms_mpc_fault first_fault;
	uint64_t nr_blocks;
	uint64_t block_size;
	uint64_t nr_nonsecure;
} ms_mpc_stats;

/**
 * ms_mpc_new - create an MPC with every block secure.
 * @out: receives the MPC (NULL on error).
 * @ctx: the context.
 * @opts: what to create; copied.
 *
 * Return: 0; -EINVAL for a NULL @out, @ctx, @opts, name or downstream
 * region, a downstream region of another context, a block size that is not
 * a power of two or is below MS_MPC_MIN_BLOCK, a downstream size that is
 * not a multiple of it; -E2BIG for more than MS_MPC_MAX_BLOCKS blocks;
 * -ENOMEM; an error of ms_as_new().
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_mpc_new(ms_mpc **out, ms_ctx *ctx, const ms_mpc_opts *opts);

/**
 * ms_mpc_free - free the MPC, its address spaces and its references.
 * @m: the MPC, or NULL (no-op).
 *
 * The IOMMU region loses the MPC's reference but keeps whatever references
 * others hold (a container it is placed in); it then translates nothing,
 * so accesses through it fail. No access may run through the MPC during
 * the call (it frees the address spaces it translates into): remove the
 * region from the address spaces that use it first.
 * Context: any thread; takes the topology lock.
 */
MS_API void ms_mpc_free(ms_mpc *m);

/**
 * ms_mpc_region - the MPC's IOMMU region.
 * Return: the region (the downstream region's size), borrowed: valid while
 * @m lives; take a reference to keep it longer. NULL for a NULL @m.
 * Context: any thread.
 */
MS_API ms_region *ms_mpc_region(ms_mpc *m);

/**
 * ms_mpc_lut_set - give @count blocks from @first to one world.
 * @m: the MPC.
 * @first: the first block (downstream offset / block size).
 * @count: blocks, at least 1, all below the number of blocks.
 * @nonsecure: true: the blocks become non-secure (LUT bit set); false:
 *             secure.
 *
 * For each block whose bit changes, in increasing order: UNMAP of the block
 * on the secure then the non-secure index (the old target), then MAP of
 * the block's new target on the secure then the non-secure index.
 * Notifier errors are ignored: the LUT is a register, it cannot refuse.
 * Return: the number of blocks that changed (0 .. @count); -EINVAL for a
 * NULL @m, @count 0, or blocks past the end (nothing changes).
 * Context: any thread, serialised with the MPC's other changes; takes the
 * topology lock.
 */
MS_API int ms_mpc_lut_set(ms_mpc *m, uint64_t first, uint64_t count, bool nonsecure);

/**
 * ms_mpc_lut_get - the world of one block.
 * @nonsecure: receives true for a non-secure block (LUT bit set).
 * @m: the MPC.
 * @block: the block.
 * Return: 0; -EINVAL for a NULL argument or a block past the end
 * (*@nonsecure is then false).
 * Context: any thread.
 */
MS_API int ms_mpc_lut_get(bool *nonsecure, ms_mpc *m, uint64_t block);

/**
 * ms_mpc_set_raz_wi - choose how blocked accesses answer.
 * @m: the MPC.
 * @raz_wi: as in ms_mpc_opts.
 * Return: 0; -EINVAL for a NULL @m.
 * Context: any thread. Accesses already running may answer either way.
 */
MS_API int ms_mpc_set_raz_wi(ms_mpc *m, bool raz_wi);

/**
 * ms_mpc_get_stats - counters and interrupt state.
 * @out: receives them (cleared on error).
 * @m: the MPC.
 * Return: 0; -EINVAL for a NULL argument.
 * Context: any thread; each counter is exact, the set a snapshot.
 */
MS_API int ms_mpc_get_stats(ms_mpc_stats *out, ms_mpc *m);

/**
 * ms_mpc_irq_clear - clear the pending interrupt and the latched first
 * fault (the SIE-200's INT_CLEAR). The counters keep counting.
 * Return: 0; -EINVAL for a NULL @m.
 * Context: any thread.
 */
MS_API int ms_mpc_irq_clear(ms_mpc *m);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_MODELS_MPC_H */
