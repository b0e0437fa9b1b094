/*
 * vfio_user.h: the vfio-user wire format (protocol 0.1, as specified in
 * QEMU's docs/interop/vfio-user.rst) as pure functions, so the fuzz target
 * and the tests drive the decoder without sockets (vfio_user_proto.c), and
 * the client's internals (vfio_user.c).
 *
 * Every message starts with a 16-byte header, integers little-endian (the
 * protocol uses the host's order; memspace supports little-endian hosts
 * for it):
 *
 *   offset  size  field
 *        0     2  msg_id    echoed by the reply
 *        2     2  command   MS__VFU_CMD_*
 *        4     4  size      of the whole message, header included
 *        8     4  flags     bits 0-3 type (0 command, 1 reply),
 *                           bit 4 no reply wanted, bit 5 error
 *       12     4  error     errno of a failed command (with bit 5)
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_VFIO_USER_INT_H
#define MEMSPACE_VFIO_USER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memspace/vfio_user.h>

#define MS__VFU_HDR_LEN 16u
#define MS__VFU_MAJOR 0u
#define MS__VFU_MINOR 1u

#define MS__VFU_CMD_VERSION 1u
#define MS__VFU_CMD_DMA_MAP 2u
#define MS__VFU_CMD_DMA_UNMAP 3u
#define MS__VFU_CMD_DEVICE_GET_INFO 4u
#define MS__VFU_CMD_DEVICE_GET_REGION_INFO 5u
#define MS__VFU_CMD_DEVICE_GET_IRQ_INFO 7u
#define MS__VFU_CMD_REGION_READ 9u
#define MS__VFU_CMD_REGION_WRITE 10u
#define MS__VFU_CMD_DMA_READ 11u
#define MS__VFU_CMD_DMA_WRITE 12u
#define MS__VFU_CMD_DEVICE_RESET 13u

#define MS__VFU_TYPE_MASK 0xfu
#define MS__VFU_TYPE_COMMAND 0u
#define MS__VFU_TYPE_REPLY 1u
#define MS__VFU_F_NO_REPLY 0x10u
#define MS__VFU_F_ERROR 0x20u

/* Our limits: the data of one transfer, and a whole message. */
#define MS__VFU_MAX_XFER (1u << 20)
#define MS__VFU_MAX_MSG (MS__VFU_MAX_XFER + 4096u)
/* fds one received message may carry (more is a protocol error). */
#define MS__VFU_MAX_FDS 8u

/* Payload sizes. */
#define MS__VFU_REGION_ACCESS_LEN 16u /* offset 8, region 4, count 4 */
#define MS__VFU_DMA_ACCESS_LEN 16u    /* address 8, count 8 */
#define MS__VFU_DEVICE_INFO_LEN 16u   /* argsz, flags, num_regions, num_irqs */
#define MS__VFU_REGION_INFO_LEN 32u   /* argsz flags index cap_offset size offset */
#define MS__VFU_IRQ_INFO_LEN 16u      /* argsz flags index count */
#define MS__VFU_DMA_MAP_LEN 32u       /* argsz flags offset address size */
#define MS__VFU_DMA_UNMAP_LEN 24u     /* argsz flags address size */

typedef struct ms__vfio_user_hdr {
	uint16_t id;
	uint16_t cmd;
	uint32_t size;
	uint32_t flags;
	uint32_t error;
} ms__vfio_user_hdr;

/* Little-endian helpers. */
uint64_t ms__vfio_user_get(const uint8_t *p, unsigned bytes);
void ms__vfio_user_put(uint8_t *p, uint64_t v, unsigned bytes);

/* ms__vfio_user_hdr_encode - write a header into @p (16 bytes). */
void ms__vfio_user_hdr_encode(uint8_t *p, const ms__vfio_user_hdr *h);

/*
 * ms__vfio_user_hdr_decode - read a header; 0, or -EPROTO when @len < 16, the size
 * is below 16 or above MS__VFU_MAX_MSG, or the type is neither command nor
 * reply.
 */
int ms__vfio_user_hdr_decode(const uint8_t *p, size_t len, ms__vfio_user_hdr *h);

/*
 * ms__vfio_user_check_reply - a reply (@msg, @len bytes with header) to request
 * @id of command @cmd: 0, and the payload in *@payload / *@plen; the
 * server's errno negated for an error reply (-EIO when it gave 0); -EPROTO
 * for a header that does not match, a size that disagrees with @len.
 */
int ms__vfio_user_check_reply(const uint8_t *msg, size_t len, uint16_t id, uint16_t cmd,
			      const uint8_t **payload, size_t *plen);

/*
 * ms__vfio_user_version_encode - our VERSION payload into @buf (@cap bytes):
 * its length, or -ENOSPC.
 */
int ms__vfio_user_version_encode(uint8_t *buf, size_t cap);

/*
 * ms__vfio_user_version_decode - the server's VERSION payload: 0 and the
 * capabilities in @info (fields not given keep the defaults: 1 fd,
 * 1 MiB); -EPROTO another major version, a minor version of 0, a JSON
 * string that is not NUL-terminated or does not parse, a capability of
 * the wrong type.
 */
int ms__vfio_user_version_decode(const uint8_t *p, size_t len, ms_vfio_user_info *info);

/* ms__vfio_user_device_info_decode - DEVICE_GET_INFO reply payload: 0 or -EPROTO. */
int ms__vfio_user_device_info_decode(const uint8_t *p, size_t len, ms_vfio_user_info *info);

/*
 * ms__vfio_user_region_info_decode - DEVICE_GET_REGION_INFO reply payload for
 * @index with @nfds fds attached: 0 or -EPROTO (short, argsz beyond the
 * payload, another index, a capability chain that leaves the payload,
 * loops or is too long, sparse areas outside the region, more than one fd).
 * *@file_offset receives where the region starts in the fd's file.
 */
int ms__vfio_user_region_info_decode(const uint8_t *p, size_t len, uint32_t index, unsigned nfds,
				     ms_vfio_user_region_info *info, uint64_t *file_offset);

/* ms__vfio_user_irq_info_decode - DEVICE_GET_IRQ_INFO reply payload: 0 or -EPROTO. */
int ms__vfio_user_irq_info_decode(const uint8_t *p, size_t len, uint32_t index, uint32_t *count,
				  uint32_t *flags);

/*
 * ms__vfio_user_region_read_decode - REGION_READ reply: 0 and the data in
 * *@data, or -EPROTO unless it echoes @index, @offset and @count and holds
 * exactly @count bytes.
 */
int ms__vfio_user_region_read_decode(const uint8_t *p, size_t len, uint32_t index, uint64_t offset,
				     uint32_t count, const uint8_t **data);

#endif /* MEMSPACE_VFIO_USER_INT_H */
