/*
 * share.h: the wire format of ms_ram_share_send() / ms_ram_share_recv()
 * (share.c), as pure functions so the fuzz target and the tests can drive
 * the decoder without sockets.
 *
 * One message is MS__SHARE_HDR_LEN bytes, every integer little-endian:
 *
 *   offset  size  field
 *        0     4  magic      MS__SHARE_MAGIC ("MSSH" in memory order)
 *        4     2  version    MS__SHARE_VERSION
 *        6     2  flags      MS__SHARE_READONLY; every other bit 0
 *        8     8  offset     where the memory starts in the fd's file
 *       16     8  size       the region's size, not 0
 *       24     8  page size  a power of two; offset is a multiple of it
 *       32    64  name       NUL-terminated, zero-padded to the end
 *
 * with exactly one fd attached (SCM_RIGHTS). The format is canonical:
 * a header that decodes encodes back to the same bytes.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_SHARE_H
#define MEMSPACE_SHARE_H

#include <stddef.h>
#include <stdint.h>

#include <memspace/backend.h>

#define MS__SHARE_MAGIC 0x4853534du
#define MS__SHARE_VERSION 1u
#define MS__SHARE_READONLY (1u << 0)
#define MS__SHARE_HDR_LEN 96u
#define MS__SHARE_NAME_LEN 64u

/*
 * Write @s (fd ignored) as a header into @buf. The name is cut to 63 bytes
 * and zero-padded. @s must be valid (a size that is not 0, a page size that
 * is a power of two dividing the offset, offset + size within INT64_MAX).
 */
void ms__share_encode(uint8_t buf[MS__SHARE_HDR_LEN], const ms_ram_share *s);

/*
 * Read the @len bytes at @buf as a header into @out (fd set to -1).
 * Return: 0; -EPROTO when @len is not MS__SHARE_HDR_LEN or a field is bad
 * (magic, version, unknown flags, a name without its NUL or with bytes
 * after it, size 0, a page size that is not a power of two or does not
 * divide the offset, offset + size past INT64_MAX). @out is zeroed (fd -1)
 * on failure.
 */
int ms__share_decode(ms_ram_share *out, const uint8_t *buf, size_t len);

#endif /* MEMSPACE_SHARE_H */
