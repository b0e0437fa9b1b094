/*
 * Fuzz target: the vfio-user client's decoder of the server's messages
 * (src/vfio_user_proto.c), as a hostile server would send them.
 *
 * The first input byte selects what the rest is taken for:
 *   0  a whole reply (header included) to request id 1 of command byte 1;
 *   1  a VERSION reply payload;
 *   2  a DEVICE_GET_INFO reply payload;
 *   3  a DEVICE_GET_REGION_INFO reply payload for index byte 1, with
 *      (byte 2 % 3) fds;
 *   4  a DEVICE_GET_IRQ_INFO reply payload for index byte 1;
 *   5  a REGION_READ reply payload for region byte 1, offset 0, count byte 2.
 * The decoders may accept or refuse; what they accept must hold the rules
 * they promise (payload inside the message, areas inside the region, at
 * most MS_VFIO_USER_MAX_AREAS of them, a NUL-terminated capabilities text).
 * ASan sees any read outside the input (copied to a buffer of exactly its
 * size). Any broken rule aborts.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfio_user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_vfio_user: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static void run(uint8_t sel, uint8_t a, uint8_t b, const uint8_t *p, size_t n)
{
	ms_vfio_user_info info;
	ms_vfio_user_region_info ri;
	const uint8_t *payload, *rd;
	uint32_t count, flags;
	uint64_t foff;
	size_t plen;
	int ret;

	switch (sel % 6) {
	case 0:
		ret = ms__vfio_user_check_reply(p, n, 1, a, &payload, &plen);
		CHECK(ret <= 0);
		if (ret == 0) {
			CHECK(payload == p + MS__VFU_HDR_LEN);
			CHECK(plen == n - MS__VFU_HDR_LEN);
		}
		break;
	case 1:
		ret = ms__vfio_user_version_decode(p, n, &info);
		CHECK(ret == 0 || ret == -EPROTO);
		if (ret == 0) {
			CHECK(info.major == MS__VFU_MAJOR && info.minor > 0);
			CHECK(info.max_msg_fds > 0 && info.max_data_xfer_size > 0);
		}
		break;
	case 2:
		ret = ms__vfio_user_device_info_decode(p, n, &info);
		CHECK(ret == 0 || ret == -EPROTO);
		if (ret == 0)
			CHECK(info.num_regions <= 1024 && info.num_irqs <= 1024);
		break;
	case 3:
		ret = ms__vfio_user_region_info_decode(p, n, a, b % 3, &ri, &foff);
		CHECK(ret == 0 || ret == -EPROTO);
		if (ret == 0) {
			CHECK(ri.nr_areas <= MS_VFIO_USER_MAX_AREAS);
			CHECK(ri.mmappable || ri.nr_areas == 0);
			CHECK(!ri.mmappable || b % 3 == 1);
			for (uint32_t i = 0; i < ri.nr_areas; i++) {
				CHECK(ri.areas[i].size > 0);
				CHECK(ri.areas[i].offset <= ri.size);
				CHECK(ri.areas[i].size <= ri.size - ri.areas[i].offset);
			}
		}
		break;
	case 4:
		ret = ms__vfio_user_irq_info_decode(p, n, a, &count, &flags);
		CHECK(ret == 0 || ret == -EPROTO);
		break;
	case 5:
		ret = ms__vfio_user_region_read_decode(p, n, a, 0, b, &rd);
		CHECK(ret == 0 || ret == -EPROTO);
		if (ret == 0)
			CHECK(rd + b == p + n);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size < 3)
		return 0;
	copy = malloc(size - 3 ? size - 3 : 1);
	if (!copy)
		return 0;
	memcpy(copy, data + 3, size - 3);
	run(data[0], data[1], data[2], copy, size - 3);
	free(copy);
	return 0;
}
