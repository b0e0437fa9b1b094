/*
 * tce-dma: the smallest program that uses libmemspace-models. A device's DMA
 * goes through an sPAPR TCE window (memspace/models/tce.h) into 64 KiB of
 * guest RAM: the guest maps bus page 1 onto RAM page 3, the device writes
 * through the window and the guest reads its bytes back from RAM. A bus
 * page without an entry fails the access.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/tce.h>

#define PAGE 4096u

int main(void)
{
	ms_ctx *ctx;
	ms_region *sysmem, *ram;
	ms_as *memory, *dma = NULL;
	ms_tce_table *tce = NULL;
	char buf[16] = "";
	ms_result unmapped = MS_RESULT_OK;
	int err;

	if ((err = ms_ctx_new(&ctx)))
		goto fail;
	if ((err = ms_region_new_container(&sysmem, ctx, "system", MS_SIZE_2_64)) ||
	    (err = ms_region_new_ram(&ram, ctx, "ram", 16 * PAGE)) ||
	    (err = ms_region_add_subregion(sysmem, 0, ram)) ||
	    (err = ms_as_new(&memory, ctx, sysmem, "memory")) ||
	    (err = ms_tce_new(&tce, ctx, "tce", memory)) ||
	    (err = ms_tce_window_create(tce, 0, 16 * PAGE, 12)) ||
	    (err = ms_as_new(&dma, ctx, ms_tce_root(tce), "dma")) ||
	    (err = ms_tce_put(tce, 1 * PAGE, 3 * PAGE | MS_TCE_RW)))
		goto fail;
	if (ms_as_write(dma, 1 * PAGE + 8, MS_ATTRS_UNSPECIFIED, "via TCE", 8) != MS_RESULT_OK ||
	    ms_as_read(memory, 3 * PAGE + 8, MS_ATTRS_UNSPECIFIED, buf, 8) != MS_RESULT_OK) {
		fprintf(stderr, "tce-dma: the DMA through the window failed\n");
		err = -1;
	} else {
		(void)ms_as_ldub(dma, 2 * PAGE, MS_ATTRS_UNSPECIFIED, &unmapped);
		printf("RAM 0x%x: %s\nbus 0x%x without an entry: %s\n", 3 * PAGE + 8, buf, 2 * PAGE,
		       unmapped == MS_RESULT_OK ? "answered" : "refused");
		if (unmapped == MS_RESULT_OK)
			err = -1;
	}
	goto out;
fail:
	fprintf(stderr, "tce-dma: %s\n", strerror(-err));
out:
	/* No access may run through the windows once the table is freed. */
	ms_as_free(dma);
	ms_tce_free(tce);
	ms_ctx_free(ctx); /* frees every other region and address space */
	return err ? 1 : 0;
}
