/*
 * memspace: library version, at compile time and at run time.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_VERSION_H
#define MEMSPACE_VERSION_H

#include "types.h"

/*
 * The one place the version is written: CMakeLists.txt reads these three
 * lines, and MS_VERSION_STRING is derived from them.
 */
/** MS_VERSION_MAJOR - the major version of these headers. */
#define MS_VERSION_MAJOR 0
/** MS_VERSION_MINOR - the minor version of these headers. */
#define MS_VERSION_MINOR 3
/** MS_VERSION_PATCH - the patch level of these headers. */
#define MS_VERSION_PATCH 0
#define MS__VERSION_STR(x) #x
#define MS__VERSION_XSTR(x) MS__VERSION_STR(x)
/** MS_VERSION_STRING - the headers' version as a string, "MAJOR.MINOR.PATCH". */
#define MS_VERSION_STRING                  \
	MS__VERSION_XSTR(MS_VERSION_MAJOR) \
	"." MS__VERSION_XSTR(MS_VERSION_MINOR) "." MS__VERSION_XSTR(MS_VERSION_PATCH)
/** MS_VERSION_HEX - (major << 16) | (minor << 8) | patch, for compile-time comparisons. */
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
