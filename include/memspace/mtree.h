/*
 * memspace: `info mtree`-compatible dumps.
 *
 * The text forms are byte-for-byte the output of QEMU 7.2's monitor command
 * `info mtree`: the region tree of every address space followed by the alias
 * targets ("memory-region:" trailers), optionally with disabled regions (-D)
 * and owners (-o); or the flat views (-f). Blocks are printed in
 * address-space creation order (QEMU uses hash order); lines within a block
 * are QEMU's, and the `AS "..."` lines of a -f block come in address-space
 * creation order, as QEMU lists them. A machine rebuilt from a dump (the
 * memspace command's `mtree`) has the dump's order, which need not be the
 * order QEMU created the spaces in, so those lines may differ there. The
 * JSON forms carry the
 * same information in a machine-readable shape documented in docs/mtree.md.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_MTREE_H
#define MEMSPACE_MTREE_H

#include <stdio.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_MTREE_FLAT (1u << 0)     /* -f: flat views instead of the tree */
#define MS_MTREE_DISABLED (1u << 1) /* -D: include disabled regions (tree form) */
#define MS_MTREE_OWNER (1u << 2)    /* -o: show region owners (tree and flat forms) */
#define MS_MTREE_JSON (1u << 3)     /* JSON instead of text */
#define MS_MTREE_DISPATCH (1u << 4) /* -d: each address space's lookup view (docs/mtree.md) */

/**
 * ms_mtree_dump - render a dump of @ctx into a new string.
 * @out: receives a NUL-terminated string; free it with free().
 * @len: receives its length (may be NULL).
 * @ctx: the context.
 * @flags: MS_MTREE_* flags.
 *
 * The flat form shows the views published by the last commit; the tree form
 * the current tree. MS_MTREE_DISPATCH (`info mtree -d`) prints, for each
 * address space in creation order, the sections of its published view as
 * the lookup index holds them (chunk and slot of each), in memspace's own
 * text format (docs/mtree.md); it combines with no other flag but
 * MS_MTREE_OWNER, which it ignores. The JSON forms always include disabled regions and
 * owners, so MS_MTREE_DISABLED and MS_MTREE_OWNER do not change them.
 * Return: 0; -EINVAL for NULL @out/@ctx, unknown flags, or MS_MTREE_DISPATCH
 * with MS_MTREE_FLAT, MS_MTREE_JSON or MS_MTREE_DISABLED; -ENOMEM.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_mtree_dump(char **out, size_t *len, ms_ctx *ctx, unsigned flags);

/**
 * ms_mtree_fprint - write the same dump to @f.
 * @f: the stream.
 * @ctx: the context.
 * @flags: MS_MTREE_* flags.
 *
 * Return: 0; -EINVAL for NULL @f/@ctx or unknown flags; -ENOMEM; -EIO when
 * writing or flushing @f fails.
 * Context: any thread; takes the topology lock.
 */
MS_API int ms_mtree_fprint(FILE *f, ms_ctx *ctx, unsigned flags);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_MTREE_H */
