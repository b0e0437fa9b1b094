/*
 * memspace CLI: import a QEMU 7.2 `info mtree -D` dump into a context.
 *
 * The input format, its annotations (` {io}`, ` {container}`, ` {readonly}`,
 * ` {unmergeable}`, ` {target=K}`, ` {as=K}`) and the import rules I1-I8 are
 * those of ../shared/qemu-mtree/README.md and docs/mtree.md ("Importing QEMU
 * dumps").
 * The importer reads any bytes: malformed input gives one precise error
 * (`LINE:COL: message`), never a crash, a hang or a leak, so a fuzzer may call
 * it directly.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_TOOLS_MTREE_IMPORT_H
#define MEMSPACE_TOOLS_MTREE_IMPORT_H

#include <stddef.h>

#include "memspace.h"

/**
 * struct msc_mtree_diag - one diagnostic of the importer.
 * @line: 1-based line of the input it is about, or 0 for the whole input.
 * @col: 1-based byte column in that line, or 0 when not tied to a column.
 * @message: the message, NUL-terminated, without position or newline. Region
 *           names in it are quoted with '' and their bytes outside printable
 *           ASCII are written as \xNN; long names are shortened with "...".
 */
typedef struct msc_mtree_diag {
	unsigned long line;
	unsigned long col;
	char message[256];
} msc_mtree_diag;

/**
 * typedef msc_mtree_warn_fn - receives a warning (the import goes on).
 * @diag: the warning; valid only during the call.
 * @payload: the pointer given to msc_mtree_import().
 *
 * Warnings flag input that imports but is probably wrong, e.g. an alias whose
 * printed kind differs from the kind at the end of its target chain (a sign of
 * a wrong `{target=K}`).
 */
typedef void (*msc_mtree_warn_fn)(const msc_mtree_diag *diag, void *payload);

/** struct msc_mtree - what one import created (opaque). */
typedef struct msc_mtree msc_mtree;

/**
 * msc_mtree_import - rebuild the regions and address spaces of a dump.
 * @out: receives the import handle (NULL on error).
 * @err: receives the error when the call fails (may be NULL); untouched on
 *       success.
 * @ctx: the context to build into.
 * @text: the dump; need not be NUL-terminated and may hold any bytes.
 * @len: its length in bytes.
 * @warn: called for each warning, or NULL to ignore them.
 * @payload: passed to @warn.
 *
 * Lines may end with "\n" or "\r\n". One address space is created per
 * `address-space: NAME` line, in file order (QEMU's creation order is not in
 * the dump), then committed. The regions of the dump stay in @ctx, owned by
 * their containers and address spaces, until ms_ctx_free() or until the
 * address spaces are freed; msc_mtree_import_free() only drops the handle.
 * Regions printed as `ramd` are backed by an extra RAM region that is in no
 * address space and lives until ms_ctx_free().
 *
 * Return: 0; -EINVAL when the input is malformed or breaks an import rule
 * (@err says where and why); -ENOMEM when memory ran out; another negative
 * errno from the library when it refused the machine (for instance -ELOOP for
 * an alias that leads back into its own subtree without end), also described
 * in @err. On error @ctx holds nothing of the dump: every region and address
 * space created so far has been removed again.
 * Context: any thread; @ctx must not be used by other threads meanwhile.
 */
int msc_mtree_import(msc_mtree **out, msc_mtree_diag *err, ms_ctx *ctx, const char *text,
		     size_t len, msc_mtree_warn_fn warn, void *payload);

/*
 * Flags of msc_mtree_import_with(): how RAM and ROM regions (`ram`, `rom`)
 * get memory. ROM devices and RAM devices (`romd`, `ramd`) always have some.
 */
/* No memory at all (MS_RAM_NONE): any size loads, accesses fail. */
#define MSC_MTREE_LAYOUT_ONLY (1u << 0)
/* Memory where the host can map it; a region it cannot back is loaded
 * layout only and a warning says so. */
#define MSC_MTREE_LAYOUT_FALLBACK (1u << 1)

/**
 * msc_mtree_import_with - msc_mtree_import() with @flags.
 * @flags: 0 (every RAM and ROM region has memory, or the import fails with
 *         -ENOMEM), MSC_MTREE_LAYOUT_ONLY or MSC_MTREE_LAYOUT_FALLBACK.
 *
 * msc_mtree_import() is msc_mtree_import_with(0). `memspace mtree`, which
 * only prints and answers --at, uses MSC_MTREE_LAYOUT_ONLY. With
 * MSC_MTREE_LAYOUT_FALLBACK, any -ENOMEM from creating a RAM or ROM region
 * (an injected allocation failure too) makes it layout only.
 * Return: as msc_mtree_import(); -EINVAL for unknown @flags.
 */
int msc_mtree_import_with(msc_mtree **out, msc_mtree_diag *err, ms_ctx *ctx, const char *text,
			  size_t len, unsigned flags, msc_mtree_warn_fn warn, void *payload);

/**
 * msc_mtree_import_free - drop an import handle.
 * @imp: the handle, or NULL (no-op).
 *
 * Releases the handle's references; the regions and address spaces it
 * created stay in their context.
 */
void msc_mtree_import_free(msc_mtree *imp);

/**
 * msc_mtree_import_nr_as / msc_mtree_import_as - the address spaces created,
 * in file order. Valid until the handle is freed or the address space is.
 */
size_t msc_mtree_import_nr_as(const msc_mtree *imp);
ms_as *msc_mtree_import_as(const msc_mtree *imp, size_t index);

/**
 * msc_mtree_import_find_as - the first imported address space named @name.
 * Return: the address space, or NULL when none has that name.
 */
ms_as *msc_mtree_import_find_as(const msc_mtree *imp, const char *name);

#endif /* MEMSPACE_TOOLS_MTREE_IMPORT_H */
