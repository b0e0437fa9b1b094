/*
 * map.h: DMA map/unmap (map.c), for region caches and tests.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_MAP_INT_H
#define MEMSPACE_MAP_INT_H

#include "access.h"

/*
 * Record that [offset, offset + len) of @r's memory was written behind the
 * access path's back (through a direct DMA mapping). A no-op until dirty
 * tracking exists; see map.c.
 */
void ms__map_mark_dirty(ms_region *r, uint64_t offset, uint64_t len);
/* Debug checker of the map pool of @as (budget accounting, client lists). 0 or -EINVAL. */
int ms__map_check(ms_as *as);

#endif /* MEMSPACE_MAP_INT_H */
