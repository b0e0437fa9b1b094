/*
 * memspace: types shared by every public header.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_TYPES_H
#define MEMSPACE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * MS_API - marks the functions libmemspace exports (it is built with
 * -fvisibility=hidden); empty for the library's users.
 */
#if defined(MS_BUILDING_LIBRARY) && (defined(__GNUC__) || defined(__clang__))
#define MS_API __attribute__((visibility("default")))
#else
#define MS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * MS_SIZE_2_64 - the size of a region that spans the whole 64-bit space.
 *
 * Region sizes are passed as uint64_t; the value UINT64_MAX stands for 2^64
 * (QEMU's convention). A region of exactly 2^64 - 1 bytes cannot be expressed.
 */
#define MS_SIZE_2_64 UINT64_MAX

/** struct ms_ctx - one memory system (opaque). See ctx.h. */
typedef struct ms_ctx ms_ctx;
/** struct ms_region - one memory region (opaque). See region.h. */
typedef struct ms_region ms_region;
/** struct ms_as - one address space (opaque). See as.h. */
typedef struct ms_as ms_as;
/** struct ms_flatview - an immutable rendered view (opaque). See as.h. */
typedef struct ms_flatview ms_flatview;

/**
 * typedef ms_result - the outcome of one memory transaction.
 *
 * A bit set: results of the pieces of an access that spans several targets are
 * ORed together. MS_RESULT_OK is 0.
 */
typedef uint32_t ms_result;
#define MS_RESULT_OK 0u                  /* every byte of the access succeeded */
#define MS_RESULT_ERROR (1u << 0)        /* the device reported an error */
#define MS_RESULT_DECODE_ERROR (1u << 1) /* nothing answers at the address */
#define MS_RESULT_ACCESS_ERROR (1u << 2) /* the access is not allowed */

/**
 * struct ms_attrs - attributes of a memory transaction.
 *
 * Passed to every access and to the *_with_attrs device callbacks. Build one
 * with MS_ATTRS_UNSPECIFIED or a designated initialiser.
 */
typedef struct ms_attrs {
	unsigned int unspecified : 1; /* the issuer gave no attributes */
	unsigned int secure : 1;      /* TrustZone secure / x86 SMM */
	unsigned int user : 1;        /* unprivileged access */
	unsigned int memory : 1;      /* must target RAM, never a device */
	unsigned int debug : 1;       /* debugger access (may write ROM) */
	unsigned int requester_id : 16; /* PCI requester id of a bus master */
	unsigned int pasid_valid : 1;   /* pasid holds a value */
	uint32_t pasid; /* process address space id, when pasid_valid */
} ms_attrs;

/** MS_ATTRS_UNSPECIFIED - the attributes of an issuer that gives none. */
#define MS_ATTRS_UNSPECIFIED ((ms_attrs){.unspecified = 1})

/** enum ms_endian - byte order of a device's registers. */
typedef enum ms_endian {
	MS_ENDIAN_NATIVE = 0, /* the host's byte order */
	MS_ENDIAN_LITTLE = 1,
	MS_ENDIAN_BIG = 2,
} ms_endian;

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_TYPES_H */
