/*
 * test_region_support.h: the device of the region tests (not a test itself),
 * shared by test_region.c, test_region_edit.c and test_region_cycles.c.
 *
 * good_ops is a valid little-endian device that reads zeros and ignores
 * writes (nop_read() and nop_write() of ms_unit.h).
 *
 * Include after <cmocka.h> and ms_unit.h.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef TEST_REGION_SUPPORT_H
#define TEST_REGION_SUPPORT_H

static const ms_region_ops good_ops = {
	.version = MS_REGION_OPS_VERSION,
	.read = nop_read,
	.write = nop_write,
	.endianness = MS_ENDIAN_LITTLE,
};

#endif /* TEST_REGION_SUPPORT_H */
