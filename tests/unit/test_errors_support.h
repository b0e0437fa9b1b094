/*
 * test_errors_support.h: the device of the error tests (not a test itself),
 * shared by test_errors.c and test_errors_access.c.
 *
 * A dev is an MMIO device over 0x100 bytes of its own memory that counts its
 * callbacks, returns a chosen ms_result from each, can veto every access
 * through valid.accepts, and can run a hook inside each callback (nested
 * accesses). dev_init() fills the memory with 0x80, 0x81, ...
 *
 * Include after <cmocka.h> and ms_unit.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_ERRORS_SUPPORT_H
#define TEST_ERRORS_SUPPORT_H

typedef struct dev dev;
struct dev {
	ms_region_ops ops;
	ms_region *region;
	uint8_t mem[0x100];
	unsigned calls;   /* callbacks that ran */
	ms_result result; /* returned by every callback */
	bool refuse_all;  /* the valid.accepts veto refuses everything */
	/* Runs inside every callback (nested accesses). */
	void (*hook)(dev *d);
	void *hook_data;
};

static inline ms_result dev_read(uint64_t addr, uint64_t *data, unsigned size, ms_attrs attrs,
				 void *opaque)
{
	dev *d = opaque;
	uint64_t v = 0;

	(void)attrs;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)d->mem[(addr + i) % sizeof(d->mem)] << 8 * i;
	*data = v;
	d->calls++;
	if (d->hook)
		d->hook(d);
	return d->result;
}

static inline ms_result dev_write(uint64_t addr, uint64_t data, unsigned size, ms_attrs attrs,
				  void *opaque)
{
	dev *d = opaque;

	(void)attrs;
	for (unsigned i = 0; i < size; i++)
		d->mem[(addr + i) % sizeof(d->mem)] = (uint8_t)(data >> 8 * i);
	d->calls++;
	if (d->hook)
		d->hook(d);
	return d->result;
}

static inline bool dev_accepts(uint64_t addr, unsigned size, bool is_write, ms_attrs attrs,
			       void *opaque)
{
	const dev *d = opaque;

	(void)addr;
	(void)size;
	(void)is_write;
	(void)attrs;
	return !d->refuse_all;
}

static inline void dev_init(dev *d)
{
	memset(d, 0, sizeof(*d));
	d->ops.version = MS_REGION_OPS_VERSION;
	d->ops.read_with_attrs = dev_read;
	d->ops.write_with_attrs = dev_write;
	d->ops.endianness = MS_ENDIAN_LITTLE;
	d->ops.valid.max_access_size = 8;
	d->ops.valid.accepts = dev_accepts;
	for (size_t i = 0; i < sizeof(d->mem); i++)
		d->mem[i] = (uint8_t)(0x80 + i);
}

#endif /* TEST_ERRORS_SUPPORT_H */
