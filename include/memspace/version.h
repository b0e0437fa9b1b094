/*
 * memspace: library version, at compile time and at run time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_VERSION_H
#define MEMSPACE_VERSION_H

#include "types.h"

#define MS_VERSION_MAJOR 0
#define MS_VERSION_MINOR 1
#define MS_VERSION_PATCH 0
#define MS_VERSION_STRING "0.1.0"
/* (major << 16) | (minor << 8) | patch, for compile-time comparisons. */
#define MS_VERSION_HEX ((MS_VERSION_MAJOR << 16) | (MS_VERSION_MINOR << 8) | MS_VERSION_PATCH)

#ifdef __cplusplus
extern "C" {
#endif

/**
 * ms_version - the version of the library actually linked.
 *
 * Return: MS_VERSION_HEX of the library binary, which may differ from the
 * headers a program was compiled with.
 * Context: any thread.
 */
MS_API unsigned int ms_version(void);

/**
 * ms_version_string - the version of the linked library as "MAJOR.MINOR.PATCH".
 *
 * Return: a static string. Context: any thread.
 */
MS_API const char *ms_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* MEMSPACE_VERSION_H */
