#!/usr/bin/env python3
"""Check that the library's modules only include and call downwards.

usage: check_layers.py SRC_DIR [LIBMEMSPACE.a]

The layer table below is the architecture (CONTRIBUTING.md, "Layers"): a
module may include the headers of, and call, its own layer and the layers
listed before it, never one listed after it. With the static library, the
calls are read from its objects' symbol tables (nm), so calls made through
macros or inline functions count too; without it, only includes are checked.
Every file in SRC_DIR must belong to a layer. Exit status 1 on a violation.
"""
import os
import re
import subprocess
import sys

# Bottom to top. Files of one layer may use each other.
LAYERS = [
    ("ctx", ["base.h", "ctx.h", "ctx.c"]),
    ("interval", ["interval.h", "interval.c"]),
    ("ramblock", ["ramblock.h", "ramblock.c", "bitmap.c"]),
    ("region", ["region.h", "region.c"]),
    ("render", ["render.h", "render.c"]),
    ("flatview", ["flatview.h", "flatview_int.h", "dispatch.c", "flatview.c"]),
    ("as", ["as.h", "as.c"]),
    ("listener", ["listener.h", "listener.c"]),
    ("txn", ["txn.h", "txn.c"]),
    ("region_edit", ["region_edit.c"]),
    ("ioevent", ["ioevent.c"]),
    ("dirty", ["dirty.c"]),
    ("chain", ["chain.h", "chain.c"]),
    ("iommu", ["iommu.h", "iommu.c"]),
    ("resolve", ["resolve.h", "resolve.c"]),
    ("access", ["access.h", "access.c"]),
    ("map", ["map.h", "map.c"]),
    ("cache", ["cache.h", "cache.c"]),
    ("share", ["share.h", "share.c", "remap.c"]),
    ("migrate", ["migrate.c"]),
    ("mtree", ["mtree.c"]),
    ("vfio_user", ["vfio_user.h", "vfio_user_proto.c", "vfio_user.c"]),
]


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    src = sys.argv[1]
    rank = {}
    layer_of = {}
    for i, (name, files) in enumerate(LAYERS):
        for f in files:
            rank[f] = i
            layer_of[f] = name
    errors = []
    present = sorted(f for f in os.listdir(src) if f.endswith((".c", ".h")))
    for f in present:
        if f not in rank:
            errors.append(f"{f}: not in any layer (add it to the table in {sys.argv[0]})")
    # Includes.
    inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    for f in present:
        if f not in rank:
            continue
        with open(os.path.join(src, f), encoding="utf-8") as fh:
            text = fh.read()
        for target in inc.findall(text):
            t = os.path.basename(target)
            if target.startswith("memspace") or t not in rank:
                continue  # public headers: every layer may include them
            if rank[t] > rank[f]:
                errors.append(f"{f} ({layer_of[f]}) includes {t} ({layer_of[t]}), a higher layer")
    # Calls, from the objects of the static library.
    if len(sys.argv) == 3:
        out = subprocess.run(["nm", "-A", sys.argv[2]], capture_output=True, text=True,
                             check=True).stdout
        defined, used = {}, []
        for line in out.splitlines():
            m = re.match(r"^[^:]*:([^:]+)\.o:\s*(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$", line)
            if not m:
                continue
            obj, kind, sym = m.groups()
            obj = os.path.basename(obj)  # e.g. "access.c"
            if not sym.startswith("ms"):
                continue
            if kind == "U":
                used.append((obj, sym))
            elif kind.isupper():
                defined[sym] = obj
        for obj, sym in used:
            owner = defined.get(sym)
            if owner is None or obj not in rank or owner not in rank:
                continue
            if rank[owner] > rank[obj]:
                errors.append(f"{obj} ({layer_of[obj]}) calls {sym} of {owner} "
                              f"({layer_of[owner]}), a higher layer")
    for e in sorted(set(errors)):
        print("layers:", e)
    if errors:
        return 1
    print(f"layers: {len(present)} files, {len(LAYERS)} layers, no upward include or call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
