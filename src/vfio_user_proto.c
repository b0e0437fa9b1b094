/*
 * vfio_user_proto.c: encoding and decoding vfio-user messages (vfio_user.h)
 * as pure functions of their bytes. Nothing here trusts the peer: every
 * length is checked against the bytes present before it is used, and the
 * JSON of VERSION is read by a small bounded parser that only looks at the
 * capabilities it knows and skips the rest.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vfio_user.h"

uint64_t ms__vfio_user_get(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void ms__vfio_user_put(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void ms__vfio_user_hdr_encode(uint8_t *p, const ms__vfio_user_hdr *h)
{
	ms__vfio_user_put(p, h->id, 2);
	ms__vfio_user_put(p + 2, h->cmd, 2);
	ms__vfio_user_put(p + 4, h->size, 4);
	ms__vfio_user_put(p + 8, h->flags, 4);
	ms__vfio_user_put(p + 12, h->error, 4);
}

int ms__vfio_user_hdr_decode(const uint8_t *p, size_t len, ms__vfio_user_hdr *h)
{
	if (len < MS__VFU_HDR_LEN)
		return -EPROTO;
	h->id = (uint16_t)ms__vfio_user_get(p, 2);
	h->cmd = (uint16_t)ms__vfio_user_get(p + 2, 2);
	h->size = (uint32_t)ms__vfio_user_get(p + 4, 4);
	h->flags = (uint32_t)ms__vfio_user_get(p + 8, 4);
	h->error = (uint32_t)ms__vfio_user_get(p + 12, 4);
	if (h->size < MS__VFU_HDR_LEN || h->size > MS__VFU_MAX_MSG)
		return -EPROTO;
	if ((h->flags & MS__VFU_TYPE_MASK) != MS__VFU_TYPE_COMMAND &&
	    (h->flags & MS__VFU_TYPE_MASK) != MS__VFU_TYPE_REPLY)
		return -EPROTO;
	return 0;
}

int ms__vfio_user_check_reply(const uint8_t *msg, size_t len, uint16_t id, uint16_t cmd,
			      const uint8_t **payload, size_t *plen)
{
	ms__vfio_user_hdr h;

	if (ms__vfio_user_hdr_decode(msg, len, &h) < 0 || h.size != len)
		return -EPROTO;
	if ((h.flags & MS__VFU_TYPE_MASK) != MS__VFU_TYPE_REPLY || h.id != id || h.cmd != cmd)
		return -EPROTO;
	if (h.flags & MS__VFU_F_ERROR) {
		/* errno values are small positive numbers; anything else is EIO. */
		if (h.error == 0 || h.error > 4095)
			return -EIO;
		return -(int)h.error;
	}
	*payload = msg + MS__VFU_HDR_LEN;
	*plen = len - MS__VFU_HDR_LEN;
	return 0;
}

/* ---- VERSION ---- */

int ms__vfio_user_version_encode(uint8_t *buf, size_t cap)
{
	char json[160];
	int n = snprintf(json, sizeof(json),
			 "{\"capabilities\":{\"max_msg_fds\":%u,\"max_data_xfer_size\":%u}}",
			 MS__VFU_MAX_FDS, MS__VFU_MAX_XFER);

	if (n < 0 || (size_t)n + 1 + 4 > cap)
		return -ENOSPC;
	ms__vfio_user_put(buf, MS__VFU_MAJOR, 2);
	ms__vfio_user_put(buf + 2, MS__VFU_MINOR, 2);
	memcpy(buf + 4, json, (size_t)n + 1);
	return n + 1 + 4;
}

/* A cursor over a NUL-terminated JSON text. */
typedef struct json {
	const char *p;
	unsigned depth;
} json;

#define JSON_MAX_DEPTH 16

static void json_ws(json *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static bool json_lit(json *j, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

/* A string: copies up to @cap-1 bytes of it (escapes kept raw) into @out. */
static int json_string(json *j, char *out, size_t cap)
{
	size_t n = 0;

	if (*j->p != '"')
		return -EPROTO;
	j->p++;
	for (;;) {
		char c = *j->p;
		if (c == '\0' || (unsigned char)c < 0x20)
			return -EPROTO;
		j->p++;
		if (c == '"')
			break;
		if (c == '\\') {
			if (*j->p == '\0')
				return -EPROTO;
			j->p++;
		}
		if (out && n + 1 < cap)
			out[n++] = c;
	}
	if (out)
		out[n] = '\0';
	return 0;
}

/* An unsigned integer (no sign, fraction or exponent). */
static int json_uint(json *j, uint64_t *v)
{
	uint64_t x = 0;

	if (*j->p < '0' || *j->p > '9')
		return -EPROTO;
	while (*j->p >= '0' && *j->p <= '9') {
		unsigned d = (unsigned)(*j->p - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -EPROTO;
		x = x * 10 + d;
		j->p++;
	}
	if (*j->p == '.' || *j->p == 'e' || *j->p == 'E')
		return -EPROTO;
	*v = x;
	return 0;
}

static int json_skip(json *j);

/*
 * An object; @member is called on each key with the cursor on its value and
 * must consume the value.
 */
static int json_object(json *j, int (*member)(json *j, const char *key, void *arg), void *arg)
{
	if (*j->p != '{' || ++j->depth > JSON_MAX_DEPTH)
		return -EPROTO;
	j->p++;
	json_ws(j);
	if (*j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		char key[64];
		int ret;

		json_ws(j);
		if ((ret = json_string(j, key, sizeof(key))) < 0)
			return ret;
		json_ws(j);
		if (*j->p != ':')
			return -EPROTO;
		j->p++;
		json_ws(j);
		ret = member ? member(j, key, arg) : json_skip(j);
		if (ret < 0)
			return ret;
		json_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p != '}')
			return -EPROTO;
		j->p++;
		j->depth--;
		return 0;
	}
}

static int json_skip(json *j)
{
	switch (*j->p) {
	case '{':
		return json_object(j, NULL, NULL);
	case '[':
		if (++j->depth > JSON_MAX_DEPTH)
			return -EPROTO;
		j->p++;
		json_ws(j);
		if (*j->p == ']') {
			j->p++;
			j->depth--;
			return 0;
		}
		for (;;) {
			int ret;
			json_ws(j);
			if ((ret = json_skip(j)) < 0)
				return ret;
			json_ws(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p != ']')
				return -EPROTO;
			j->p++;
			j->depth--;
			return 0;
		}
	case '"':
		return json_string(j, NULL, 0);
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
			/* Any number, signs and fractions included. */
			if (*j->p == '-')
				j->p++;
			if (*j->p < '0' || *j->p > '9')
				return -EPROTO;
			while ((*j->p >= '0' && *j->p <= '9') || *j->p == '.' || *j->p == 'e' ||
			       *j->p == 'E' || *j->p == '+' || *j->p == '-')
				j->p++;
			return 0;
		}
		if (json_lit(j, "true") || json_lit(j, "false") || json_lit(j, "null"))
			return 0;
		return -EPROTO;
	}
}

static int migration_member(json *j, const char *key, void *arg)
{
	ms_vfio_user_info *info = arg;

	if (strcmp(key, "pgsize") == 0)
		return json_uint(j, &info->migration_pgsize);
	return json_skip(j);
}

static int caps_member(json *j, const char *key, void *arg)
{
	ms_vfio_user_info *info = arg;

	if (strcmp(key, "max_msg_fds") == 0)
		return json_uint(j, &info->max_msg_fds);
	if (strcmp(key, "max_data_xfer_size") == 0)
		return json_uint(j, &info->max_data_xfer_size);
	if (strcmp(key, "migration") == 0) {
		info->migration = true;
		return json_object(j, migration_member, info);
	}
	return json_skip(j);
}

static int top_member(json *j, const char *key, void *arg)
{
	if (strcmp(key, "capabilities") == 0)
		return json_object(j, caps_member, arg);
	return json_skip(j);
}

int ms__vfio_user_version_decode(const uint8_t *p, size_t len, ms_vfio_user_info *info)
{
	json j;

	info->max_msg_fds = 1;
	info->max_data_xfer_size = MS__VFU_MAX_XFER;
	info->migration = false;
	info->migration_pgsize = 0;
	if (len < 4)
		return -EPROTO;
	info->major = (uint16_t)ms__vfio_user_get(p, 2);
	info->minor = (uint16_t)ms__vfio_user_get(p + 2, 2);
	if (info->major != MS__VFU_MAJOR || info->minor == 0)
		return -EPROTO;
	if (len == 4)
		return 0; /* no capabilities: the defaults */
	/* The JSON text ends with its NUL, the payload's last byte. */
	if (p[len - 1] != '\0' || memchr(p + 4, '\0', len - 4) != p + len - 1)
		return -EPROTO;
	j.p = (const char *)p + 4;
	j.depth = 0;
	json_ws(&j);
	if (json_object(&j, top_member, info) < 0)
		return -EPROTO;
	json_ws(&j);
	if (*j.p != '\0')
		return -EPROTO;
	if (info->max_data_xfer_size == 0 || info->max_msg_fds == 0)
		return -EPROTO;
	return 0;
}

/* ---- device, region and IRQ info ---- */

int ms__vfio_user_device_info_decode(const uint8_t *p, size_t len, ms_vfio_user_info *info)
{
	if (len < MS__VFU_DEVICE_INFO_LEN || ms__vfio_user_get(p, 4) < MS__VFU_DEVICE_INFO_LEN)
		return -EPROTO;
	info->flags = (uint32_t)ms__vfio_user_get(p + 4, 4);
	info->num_regions = (uint32_t)ms__vfio_user_get(p + 8, 4);
	info->num_irqs = (uint32_t)ms__vfio_user_get(p + 12, 4);
	/* VFIO PCI devices have at most 9 regions and 5 IRQ indexes, plus
	 * device-specific ones; refuse absurd counts. */
	if (info->num_regions > 1024 || info->num_irqs > 1024)
		return -EPROTO;
	return 0;
}

#define CAP_SPARSE_MMAP 1u
#define CAP_MAX_CHAIN 16u

int ms__vfio_user_region_info_decode(const uint8_t *p, size_t len, uint32_t index, unsigned nfds,
				     ms_vfio_user_region_info *info, uint64_t *file_offset)
{
	uint64_t argsz, cap_off;
	uint32_t rflags;
	bool sparse = false;

	memset(info, 0, sizeof(*info));
	if (len < MS__VFU_REGION_INFO_LEN || nfds > 1)
		return -EPROTO;
	argsz = ms__vfio_user_get(p, 4);
	rflags = (uint32_t)ms__vfio_user_get(p + 4, 4);
	if (argsz < MS__VFU_REGION_INFO_LEN || argsz > len || ms__vfio_user_get(p + 8, 4) != index)
		return -EPROTO;
	cap_off = ms__vfio_user_get(p + 12, 4);
	info->size = ms__vfio_user_get(p + 16, 8);
	*file_offset = ms__vfio_user_get(p + 24, 8);
	info->flags = rflags & (MS_VFIO_USER_REGION_READ | MS_VFIO_USER_REGION_WRITE |
				MS_VFIO_USER_REGION_MMAP);
	info->mmappable = nfds == 1 && (rflags & MS_VFIO_USER_REGION_MMAP) && info->size;
	/* Capabilities (flag bit 3): a chain of {id 2, version 2, next 4}. */
	if ((rflags & 0x8u) && cap_off) {
		unsigned hops = 0;
		while (cap_off) {
			uint32_t id, next;
			if (++hops > CAP_MAX_CHAIN || cap_off < MS__VFU_REGION_INFO_LEN ||
			    cap_off > argsz || argsz - cap_off < 8)
				return -EPROTO;
			id = (uint32_t)ms__vfio_user_get(p + cap_off, 2);
			next = (uint32_t)ms__vfio_user_get(p + cap_off + 4, 4);
			if (id == CAP_SPARSE_MMAP) {
				uint64_t nr;
				if (argsz - cap_off < 16 || sparse)
					return -EPROTO;
				nr = ms__vfio_user_get(p + cap_off + 8, 4);
				if (nr > MS_VFIO_USER_MAX_AREAS || (argsz - cap_off - 16) / 16 < nr)
					return -EPROTO;
				for (uint64_t i = 0; i < nr; i++) {
					const uint8_t *a = p + cap_off + 16 + 16 * i;
					uint64_t off = ms__vfio_user_get(a, 8),
						 sz = ms__vfio_user_get(a + 8, 8);
					if (sz == 0 || off > info->size || sz > info->size - off)
						return -EPROTO;
					info->areas[i].offset = off;
					info->areas[i].size = sz;
				}
				info->nr_areas = (uint32_t)nr;
				sparse = true;
			}
			if (next != 0 && next <= cap_off)
				return -EPROTO; /* chains go forward: no loops */
			cap_off = next;
		}
	}
	if (!info->mmappable) {
		info->nr_areas = 0;
	} else if (!sparse) {
		info->nr_areas = 1;
		info->areas[0].offset = 0;
		info->areas[0].size = info->size;
	}
	return 0;
}

int ms__vfio_user_irq_info_decode(const uint8_t *p, size_t len, uint32_t index, uint32_t *count,
				  uint32_t *flags)
{
	if (len < MS__VFU_IRQ_INFO_LEN || ms__vfio_user_get(p, 4) < MS__VFU_IRQ_INFO_LEN ||
	    ms__vfio_user_get(p + 8, 4) != index)
		return -EPROTO;
	if (flags)
		*flags = (uint32_t)ms__vfio_user_get(p + 4, 4);
	*count = (uint32_t)ms__vfio_user_get(p + 12, 4);
	return 0;
}

int ms__vfio_user_region_read_decode(const uint8_t *p, size_t len, uint32_t index, uint64_t offset,
				     uint32_t count, const uint8_t **data)
{
	if (len < MS__VFU_REGION_ACCESS_LEN || ms__vfio_user_get(p, 8) != offset ||
	    ms__vfio_user_get(p + 8, 4) != index || ms__vfio_user_get(p + 12, 4) != count ||
	    len - MS__VFU_REGION_ACCESS_LEN != count)
		return -EPROTO;
	*data = p + MS__VFU_REGION_ACCESS_LEN;
	return 0;
}
