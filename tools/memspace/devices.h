/*
 * memspace CLI: built-in device models for I/O regions and ROM devices.
 *
 *   regs   a register file as large as the region (at most MSC_MAX_REGS
 *          bytes): reads return what was written; logs every access.
 *   const  reads return a constant, writes are ignored; silent by default.
 *   error  every access fails with MS_RESULT_ERROR (a bus error); logs.
 *   dma    a DMA engine that copies inside an address space when its
 *          command register is written (register map in docs/script.md).
 *
 * A device owns its ms_region_ops table (the region points at it), so it
 * must outlive the region: sessions free devices after the context.
 * Callbacks run in the accessing thread; the CLI is single-threaded.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_CLI_DEVICES_H
#define MEMSPACE_CLI_DEVICES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <memspace.h>

/* DMA engine register offsets (each 8 bytes, little-endian). */
#define MSC_DMA_SRC 0x00
#define MSC_DMA_DST 0x08
#define MSC_DMA_LEN 0x10
#define MSC_DMA_CMD 0x18    /* write 1: copy LEN bytes from SRC to DST */
#define MSC_DMA_STATUS 0x20 /* ms_result of the last transfer (read-only) */
#define MSC_DMA_COUNT 0x28  /* number of transfers started (read-only) */
#define MSC_DMA_SIZE 0x30   /* the smallest region a dma device fits in */

typedef struct msc_device msc_device;

/** struct msc_device_config - what to build; zero means default. */
typedef struct msc_device_config {
	const char *model;                                 /* regs, const, error or dma */
	const char *name;                                  /* shown in log lines (copied) */
	uint64_t size;                                     /* the region's size */
	FILE *out;                                         /* log stream */
	int log;                                           /* 1 on, 0 off, -1 the model's default */
	uint64_t value;                                    /* const: the value reads return */
	ms_as *dma_as;                                     /* dma: where transfers go (required) */
	ms_endian endianness;                              /* default little */
	unsigned valid_min, valid_max, impl_min, impl_max; /* 0: the model's default */
	bool unaligned;                                    /* valid.unaligned and impl.unaligned */
	bool secure_only; /* valid.accepts refuses non-secure accesses */
} msc_device_config;

/** msc_device_models - the model names, NULL-terminated. */
const char *const *msc_device_models(void);

/**
 * msc_device_new - build a device.
 * Return: 0; -EINVAL with *@why explaining (unknown model, region too large
 * or too small for the model, missing address space); -ENOMEM.
 */
int msc_device_new(msc_device **out, const msc_device_config *cfg, const char **why);

/** msc_device_ops - the ops table to give the region; lives as long as @dev. */
const ms_region_ops *msc_device_ops(const msc_device *dev);

/** msc_device_dma_as - the address space a dma device uses, or NULL. */
ms_as *msc_device_dma_as(const msc_device *dev);

/** msc_device_name - the device's name. */
const char *msc_device_name(const msc_device *dev);

/**
 * msc_result_name - "OK", or the set bits of @r joined by '|'
 * ("ERROR|DECODE_ERROR"); @len of 48 is always enough.
 */
void msc_result_name(char *buf, size_t len, ms_result r);

/** msc_device_free - free @dev (NULL is a no-op); its region must be gone. */
void msc_device_free(msc_device *dev);

#endif /* MEMSPACE_CLI_DEVICES_H */
