/*
 * memspace CLI: built-in device models (see devices.h).
 *
 * Every model keeps its state in one struct that also holds the region's
 * ops table. Register storage is a byte array read and written
 * little-endian, so the value a callback sees is independent of the host;
 * the core converts to the device's endianness. Bytes past the end of the
 * storage (a widened access at the end of an odd-sized region) read as 0
 * and ignore writes. The dma model's transfers are bounded by MSC_MAX_BYTES.
 *
 * SPDX-License-Identifier: MIT
 */
#include "devices.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

enum model {
	MODEL_REGS,
	MODEL_CONST,
	MODEL_ERROR,
	MODEL_DMA
};

struct msc_device {
	ms_region_ops ops;
	enum model model;
	char *name;
	FILE *out;
	bool log;
	bool secure_only;
	uint64_t value;
	ms_as *dma_as;
	uint8_t *storage;
	size_t storage_len;
};

static const char *const model_names[] = {"regs", "const", "error", "dma", NULL};

const char *const *msc_device_models(void)
{
	return model_names;
}

static uint64_t load_le(const msc_device *d, uint64_t addr, unsigned size)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < size; i++)
		if (addr + i < d->storage_len)
			v |= (uint64_t)d->storage[addr + i] << (8 * i);
	return v;
}

static void store_le(msc_device *d, uint64_t addr, uint64_t v, unsigned size)
{
	unsigned i;

	for (i = 0; i < size; i++)
		if (addr + i < d->storage_len)
			d->storage[addr + i] = (uint8_t)(v >> (8 * i));
}

static void print_attrs(FILE *out, ms_attrs attrs)
{
	if (attrs.unspecified)
		return;
	fputs(" [", out);
	fputs(attrs.secure ? "secure" : "non-secure", out);
	if (attrs.user)
		fputs(" user", out);
	if (attrs.memory)
		fputs(" memory", out);
	if (attrs.debug)
		fputs(" debug", out);
	if (attrs.requester_id)
		fprintf(out, " requester=0x%x", (unsigned)attrs.requester_id);
	if (attrs.pasid_valid)
		fprintf(out, " pasid=0x%" PRIx32, attrs.pasid);
	fputs("]", out);
}

static void log_access(const msc_device *d, bool is_write, uint64_t addr, unsigned size,
		       uint64_t data, ms_attrs attrs, const char *note)
{
	if (!d->log)
		return;
	fprintf(d->out, "[%s] %s 0x%" PRIx64 " size %u %s 0x%" PRIx64, d->name,
		is_write ? "write" : "read", addr, size, is_write ? "<-" : "->", data);
	print_attrs(d->out, attrs);
	if (note)
		fprintf(d->out, " (%s)", note);
	fputc('\n', d->out);
}

static bool accepts_secure(uint64_t addr, unsigned size, bool is_write, ms_attrs attrs,
			   void *opaque)
{
	(void)addr;
	(void)size;
	(void)is_write;
	(void)opaque;
	return attrs.secure;
}

void msc_result_name(char *buf, size_t len, ms_result r)
{
	static const char *const names[] = {"ERROR", "DECODE_ERROR", "ACCESS_ERROR"};
	size_t used = 0;
	unsigned i;

	if (r == MS_RESULT_OK) {
		snprintf(buf, len, "OK");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < 3; i++)
		if (r & (1u << i))
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "|" : "",
						 names[i]);
}

/* The dma model: copy LEN bytes from SRC to DST through the address space. */
static void dma_transfer(msc_device *d, ms_attrs attrs)
{
	uint64_t src = load_le(d, MSC_DMA_SRC, 8), dst = load_le(d, MSC_DMA_DST, 8);
	uint64_t len = load_le(d, MSC_DMA_LEN, 8);
	ms_result r;
	char name[64];
	uint8_t *buf;

	store_le(d, MSC_DMA_COUNT, load_le(d, MSC_DMA_COUNT, 8) + 1, 8);
	if (len > MSC_MAX_BYTES) {
		r = MS_RESULT_ACCESS_ERROR;
		if (d->log)
			fprintf(d->out,
				"[%s] dma refused: %" PRIu64 " bytes is over the %u-byte limit\n",
				d->name, len, MSC_MAX_BYTES);
		store_le(d, MSC_DMA_STATUS, r, 8);
		return;
	}
	if (d->log)
		fprintf(d->out, "[%s] dma copy 0x%" PRIx64 " -> 0x%" PRIx64 ", %" PRIu64 " bytes\n",
			d->name, src, dst, len);
	buf = malloc(len ? (size_t)len : 1);
	if (!buf) {
		r = MS_RESULT_ERROR;
	} else {
		r = ms_as_read(d->dma_as, src, attrs, buf, (size_t)len);
		r |= ms_as_write(d->dma_as, dst, attrs, buf, (size_t)len);
		free(buf);
	}
	store_le(d, MSC_DMA_STATUS, r, 8);
	if (d->log) {
		msc_result_name(name, sizeof(name), r);
		fprintf(d->out, "[%s] dma done: %s\n", d->name, name);
	}
}

static ms_result dev_read(uint64_t addr, uint64_t *data, unsigned size, ms_attrs attrs,
			  void *opaque)
{
	msc_device *d = opaque;

	switch (d->model) {
	case MODEL_REGS:
	case MODEL_DMA:
		*data = load_le(d, addr, size);
		break;
	case MODEL_CONST:
		*data = size < 8 ? d->value & ((UINT64_C(1) << (8 * size)) - 1) : d->value;
		break;
	case MODEL_ERROR:
		*data = 0;
		log_access(d, false, addr, size, 0, attrs, "bus error");
		return MS_RESULT_ERROR;
	}
	log_access(d, false, addr, size, *data, attrs, NULL);
	return MS_RESULT_OK;
}

static ms_result dev_write(uint64_t addr, uint64_t data, unsigned size, ms_attrs attrs,
			   void *opaque)
{
	msc_device *d = opaque;

	switch (d->model) {
	case MODEL_REGS:
		log_access(d, true, addr, size, data, attrs, NULL);
		store_le(d, addr, data, size);
		break;
	case MODEL_CONST:
		log_access(d, true, addr, size, data, attrs, "ignored");
		break;
	case MODEL_ERROR:
		log_access(d, true, addr, size, data, attrs, "bus error");
		return MS_RESULT_ERROR;
	case MODEL_DMA:
		log_access(d, true, addr, size, data, attrs, NULL);
		/* STATUS and COUNT are read-only. */
		if (addr < MSC_DMA_STATUS) {
			uint64_t end = addr + size < MSC_DMA_STATUS ? addr + size : MSC_DMA_STATUS;

			store_le(d, addr, data, (unsigned)(end - addr));
		}
		if (addr < MSC_DMA_CMD + 8 && addr + size > MSC_DMA_CMD) {
			uint64_t cmd = load_le(d, MSC_DMA_CMD, 8);

			store_le(d, MSC_DMA_CMD, 0, 8);
			if (cmd == 1)
				dma_transfer(d, attrs);
			else if (cmd != 0 && d->log)
				fprintf(d->out, "[%s] unknown command 0x%" PRIx64 " ignored\n",
					d->name, cmd);
		}
		break;
	}
	return MS_RESULT_OK;
}

int msc_device_new(msc_device **out, const msc_device_config *cfg, const char **why)
{
	msc_device *d;
	int model = -1, i;

	*out = NULL;
	for (i = 0; model_names[i]; i++)
		if (strcmp(cfg->model, model_names[i]) == 0)
			model = i;
	if (model < 0) {
		*why = "unknown device model (models: regs, const, error, dma)";
		return -EINVAL;
	}
	if (model == MODEL_REGS && (cfg->size > MSC_MAX_REGS || cfg->size == MS_SIZE_2_64)) {
		*why = "a regs device is at most 64K";
		return -EINVAL;
	}
	if (model == MODEL_DMA && cfg->size < MSC_DMA_SIZE) {
		*why = "a dma device needs at least 0x30 bytes";
		return -EINVAL;
	}
	if (model == MODEL_DMA && !cfg->dma_as) {
		*why = "a dma device needs an address space (as=NAME)";
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->name = strdup(cfg->name)))
		goto nomem;
	d->model = (enum model)model;
	d->out = cfg->out;
	d->log = cfg->log >= 0
			 ? cfg->log
			 : (model == MODEL_REGS || model == MODEL_ERROR || model == MODEL_DMA);
	d->value = cfg->value;
	d->dma_as = model == MODEL_DMA ? cfg->dma_as : NULL;
	if (model == MODEL_REGS || model == MODEL_DMA) {
		d->storage_len = model == MODEL_DMA ? MSC_DMA_SIZE : (size_t)cfg->size;
		d->storage = calloc(d->storage_len ? d->storage_len : 1, 1);
		if (!d->storage)
			goto nomem;
	}
	d->ops.version = MS_REGION_OPS_VERSION;
	d->ops.read_with_attrs = dev_read;
	d->ops.write_with_attrs = dev_write;
	d->ops.endianness = cfg->endianness ? cfg->endianness : MS_ENDIAN_LITTLE;
	d->ops.valid.min_access_size = cfg->valid_min ? cfg->valid_min : 1;
	d->ops.valid.max_access_size = cfg->valid_max ? cfg->valid_max : 8;
	d->ops.impl.min_access_size = cfg->impl_min ? cfg->impl_min : 1;
	d->ops.impl.max_access_size = cfg->impl_max ? cfg->impl_max : 8;
	d->ops.valid.unaligned = cfg->unaligned;
	d->ops.impl.unaligned = cfg->unaligned;
	if (cfg->secure_only)
		d->ops.valid.accepts = accepts_secure;
	*out = d;
	return 0;
nomem:
	msc_device_free(d);
	*why = "out of memory";
	return -ENOMEM;
}

const ms_region_ops *msc_device_ops(const msc_device *dev)
{
	return &dev->ops;
}

ms_as *msc_device_dma_as(const msc_device *dev)
{
	return dev->dma_as;
}

const char *msc_device_name(const msc_device *dev)
{
	return dev->name;
}

void msc_device_free(msc_device *dev)
{
	if (!dev)
		return;
	free(dev->storage);
	free(dev->name);
	free(dev);
}
