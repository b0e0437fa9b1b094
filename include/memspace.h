/*
 * memspace: umbrella header. Include this, or the concept headers you need.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MEMSPACE_H
#define MEMSPACE_H

#include "memspace/types.h"
#include "memspace/version.h"
#include "memspace/ctx.h"
#include "memspace/transaction.h"
#include "memspace/region.h"
#include "memspace/backend.h"
#include "memspace/dirty.h"
#include "memspace/flatview.h"
#include "memspace/as.h"
#include "memspace/listener.h"
#include "memspace/access.h"
#include "memspace/map.h"
#include "memspace/iommu.h"
#include "memspace/cache.h"
#include "memspace/mtree.h"
#include "memspace/migrate.h"
#include "memspace/vfio_user.h"

#endif /* MEMSPACE_H */
