/*
 * embed: the smallest program that embeds memspace. It builds a 64 KiB RAM
 * and a 4 KiB I/O reservation inside a 2^64-byte container, renders it as
 * the address space "memory" and prints the flat view as `info mtree -f`.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>

int main(void)
{
	const ms_region_io_opts reserved = {.name = "reserved", .size = 4 * 1024};
	ms_ctx *ctx;
	ms_region *system, *ram, *io;
	ms_as *as;
	char *dump = NULL;
	int err;

	if ((err = ms_ctx_new(&ctx)) ||
	    (err = ms_region_new_container(&system, ctx, "system", MS_SIZE_2_64)) ||
	    (err = ms_region_new_ram(&ram, ctx, "ram", 64 * 1024)) ||
	    (err = ms_region_new_io(&io, ctx, &reserved)) ||
	    (err = ms_region_add_subregion(system, 0, ram)) ||
	    (err = ms_region_add_subregion(system, 0x10000, io)) ||
	    (err = ms_as_new(&as, ctx, system, "memory")) ||
	    (err = ms_mtree_dump(&dump, NULL, ctx, MS_MTREE_FLAT)))
		fprintf(stderr, "embed: %s\n", strerror(-err));
	else
		fputs(dump, stdout);
	free(dump);
	ms_ctx_free(ctx); /* frees every region and address space of ctx */
	return err ? 1 : 0;
}
