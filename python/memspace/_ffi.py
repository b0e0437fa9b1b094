# memspace Python bindings: the ctypes view of the C headers.
#
# Every structure here mirrors one of include/memspace/*.h field for field;
# python/tests/test_layout.py compares their sizes and offsets with what a C
# compiler says (python/tests/layout.c). Keep the two in step when a header
# changes.
#
# SPDX-License-Identifier: MIT
"""Low-level ctypes declarations of libmemspace (internal)."""

import ctypes
import ctypes.util
import os
import sys

from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_int,
    c_size_t,
    c_uint,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)

# Versions of the ops tables these declarations describe (the headers'
# MS_*_OPS_VERSION). The library reads only the fields of the version a
# table says it is.
REGION_OPS_VERSION = 2
LISTENER_OPS_VERSION = 3
IOMMU_OPS_VERSION = 1

SIZE_2_64 = (1 << 64) - 1

# Opaque handles are plain pointers.
ms_ctx_p = c_void_p
ms_region_p = c_void_p
ms_as_p = c_void_p
ms_flatview_p = c_void_p
ms_listener_p = c_void_p
ms_notifier_p = c_void_p
ms_snapshot_p = c_void_p


class ms_attrs(Structure):
    """struct ms_attrs, with its bit-fields in one 32-bit word.

    The C struct is a run of bit-fields in one unsigned int followed by a
    uint32_t; it is declared here as two uint32 so that it can be passed by
    value on every Python version (ctypes refuses some bit-field structs by
    value). ATTR_BITS gives each bit-field's position and width in `bits`
    (the x86-64 / AArch64 System V order: first field in the lowest bits);
    the layout test checks them against the compiler.
    """

    _fields_ = [("bits", c_uint32), ("pasid", c_uint32)]


# name: (shift, width) of each bit-field of struct ms_attrs.
ATTR_BITS = {
    "unspecified": (0, 1),
    "secure": (1, 1),
    "user": (2, 1),
    "memory": (3, 1),
    "debug": (4, 1),
    "requester_id": (5, 16),
    "pasid_valid": (21, 1),
}


class ms_section(Structure):
    _fields_ = [
        ("region", ms_region_p),
        ("start", c_uint64),
        ("last", c_uint64),
        ("offset_in_region", c_uint64),
        ("readonly", c_bool),
        ("nonvolatile", c_bool),
        ("unmergeable", c_bool),
        ("romd", c_bool),
        ("dirty_log_mask", c_uint8),
        ("size", c_uint64),
        ("as_", ms_as_p),
    ]


READ_FN = CFUNCTYPE(c_uint64, c_uint64, c_uint, c_void_p)
WRITE_FN = CFUNCTYPE(None, c_uint64, c_uint64, c_uint, c_void_p)
READ_ATTRS_FN = CFUNCTYPE(c_uint32, c_uint64, POINTER(c_uint64), c_uint, ms_attrs, c_void_p)
WRITE_ATTRS_FN = CFUNCTYPE(c_uint32, c_uint64, c_uint64, c_uint, ms_attrs, c_void_p)
ACCEPTS_FN = CFUNCTYPE(c_bool, c_uint64, c_uint, c_bool, ms_attrs, c_void_p)


class ms_region_ops_valid(Structure):
    _fields_ = [
        ("min_access_size", c_uint),
        ("max_access_size", c_uint),
        ("unaligned", c_bool),
        ("accepts", ACCEPTS_FN),
    ]


class ms_region_ops_impl(Structure):
    _fields_ = [
        ("min_access_size", c_uint),
        ("max_access_size", c_uint),
        ("unaligned", c_bool),
    ]


class ms_region_ops(Structure):
    _fields_ = [
        ("version", c_uint),
        ("read", READ_FN),
        ("write", WRITE_FN),
        ("read_with_attrs", READ_ATTRS_FN),
        ("write_with_attrs", WRITE_ATTRS_FN),
        ("endianness", c_int),
        ("valid", ms_region_ops_valid),
        ("impl", ms_region_ops_impl),
        # version 2 (execute from MMIO; the bindings leave it NULL)
        ("request_ptr", c_void_p),
    ]


class ms_region_io_opts(Structure):
    _fields_ = [
        ("name", c_char_p),
        ("size", c_uint64),
        ("ops", POINTER(ms_region_ops)),
        ("opaque", c_void_p),
    ]


class ms_region_alias_opts(Structure):
    _fields_ = [
        ("name", c_char_p),
        ("target", ms_region_p),
        ("offset", c_uint64),
        ("size", c_uint64),
    ]


class ms_access_opts(Structure):
    _fields_ = [("is_write", c_bool), ("attrs", ms_attrs)]


VOID_FN = CFUNCTYPE(None, c_void_p)
SECTION_FN = CFUNCTYPE(None, POINTER(ms_section), c_void_p)
LOG_FN = CFUNCTYPE(None, POINTER(ms_section), c_uint8, c_uint8, c_void_p)
TRY_START_FN = CFUNCTYPE(c_int, c_void_p)


class ms_listener_ops(Structure):
    _fields_ = [
        ("version", c_uint),
        ("begin", VOID_FN),
        ("commit", VOID_FN),
        ("region_add", SECTION_FN),
        ("region_del", SECTION_FN),
        ("region_nop", SECTION_FN),
        ("log_start", LOG_FN),
        ("log_stop", LOG_FN),
        ("log_sync", SECTION_FN),
        ("log_global_start", VOID_FN),
        ("log_global_stop", VOID_FN),
        ("priority", c_int),
        # version 2
        ("log_global_try_start", TRY_START_FN),
        ("log_clear", SECTION_FN),
        # version 3 (coalesced MMIO and ioeventfds; the bindings leave them NULL)
        ("coalesced_io_add", c_void_p),
        ("coalesced_io_del", c_void_p),
        ("eventfd_add", c_void_p),
        ("eventfd_del", c_void_p),
    ]


class ms_iotlb_entry(Structure):
    _fields_ = [
        ("target_as", ms_as_p),
        ("iova", c_uint64),
        ("translated_addr", c_uint64),
        ("addr_mask", c_uint64),
        ("perm", c_int),
    ]


class ms_iommu_event(Structure):
    _fields_ = [("type", c_uint), ("entry", ms_iotlb_entry)]


TRANSLATE_FN = CFUNCTYPE(None, POINTER(ms_iotlb_entry), ms_region_p, c_uint64, c_int, c_uint,
                         c_void_p)
MIN_PAGE_FN = CFUNCTYPE(c_uint64, ms_region_p, c_void_p)
FLAG_CHANGED_FN = CFUNCTYPE(c_int, ms_region_p, c_uint, c_uint, c_void_p)
REPLAY_FN = CFUNCTYPE(c_int, ms_region_p, ms_notifier_p, c_void_p)
GET_ATTR_FN = CFUNCTYPE(c_int, ms_region_p, c_int, c_void_p, c_void_p)
ATTRS_TO_INDEX_FN = CFUNCTYPE(c_uint, ms_region_p, ms_attrs, c_void_p)
NUM_INDEXES_FN = CFUNCTYPE(c_uint, ms_region_p, c_void_p)


class ms_iommu_ops(Structure):
    _fields_ = [
        ("version", c_uint),
        ("translate", TRANSLATE_FN),
        ("get_min_page_size", MIN_PAGE_FN),
        ("notify_flag_changed", FLAG_CHANGED_FN),
        ("replay", REPLAY_FN),
        ("get_attr", GET_ATTR_FN),
        ("attrs_to_index", ATTRS_TO_INDEX_FN),
        ("num_indexes", NUM_INDEXES_FN),
    ]


class ms_iommu_opts(Structure):
    _fields_ = [
        ("name", c_char_p),
        ("size", c_uint64),
        ("ops", POINTER(ms_iommu_ops)),
        ("opaque", c_void_p),
    ]


NOTIFY_FN = CFUNCTYPE(c_int, ms_notifier_p, POINTER(ms_iommu_event), c_void_p)


class ms_iommu_notifier_opts(Structure):
    _fields_ = [
        ("flags", c_uint),
        ("start", c_uint64),
        ("end", c_uint64),
        ("iommu_idx", c_uint),
        ("notify", NOTIFY_FN),
        ("opaque", c_void_p),
    ]


RESIZED_FN = CFUNCTYPE(None, ms_region_p, c_uint64, c_uint64, c_void_p)


class ms_ram_opts(Structure):
    _fields_ = [
        ("name", c_char_p),
        ("size", c_uint64),
        ("max_size", c_uint64),
        ("backend", c_int),
        ("flags", c_uint),
        ("path", c_char_p),
        ("fd", c_int),
        ("offset", c_uint64),
        ("ptr", c_void_p),
        ("align", c_uint64),
        ("resized", RESIZED_FN),
        ("opaque", c_void_p),
    ]


class ms_ram_info(Structure):
    _fields_ = [
        ("backend", c_int),
        ("fd", c_int),
        ("fd_offset", c_uint64),
        ("page_size", c_uint64),
        ("shared", c_bool),
        ("readonly", c_bool),
        ("migratable", c_bool),
        ("resizeable", c_bool),
        ("size", c_uint64),
        ("max_size", c_uint64),
        ("host", c_void_p),
        ("align", c_uint64),
    ]


# The C name of each structure, for the layout test.
STRUCTS = {
    "ms_attrs": ms_attrs,
    "ms_section": ms_section,
    "ms_region_ops": ms_region_ops,
    "ms_region_io_opts": ms_region_io_opts,
    "ms_region_alias_opts": ms_region_alias_opts,
    "ms_access_opts": ms_access_opts,
    "ms_listener_ops": ms_listener_ops,
    "ms_iotlb_entry": ms_iotlb_entry,
    "ms_iommu_event": ms_iommu_event,
    "ms_iommu_ops": ms_iommu_ops,
    "ms_iommu_opts": ms_iommu_opts,
    "ms_iommu_notifier_opts": ms_iommu_notifier_opts,
    "ms_ram_opts": ms_ram_opts,
    "ms_ram_info": ms_ram_info,
}

# name: (restype, argtypes) of every function the bindings call.
_u64p = POINTER(c_uint64)
_P = POINTER
FUNCTIONS = {
    "ms_version": (c_uint, []),
    "ms_version_string": (c_char_p, []),
    "ms_strerror": (c_char_p, [c_int]),
    # ctx.h
    "ms_ctx_new": (c_int, [_P(ms_ctx_p)]),
    "ms_ctx_free": (None, [ms_ctx_p]),
    "ms_ctx_render_count": (c_uint64, [ms_ctx_p]),
    "ms_ctx_set_render_limit": (c_int, [ms_ctx_p, c_uint64]),
    "ms_ctx_nr_as": (c_size_t, [ms_ctx_p]),
    "ms_ctx_as": (ms_as_p, [ms_ctx_p, c_size_t]),
    "ms_ctx_set_max_access_depth": (c_int, [ms_ctx_p, c_uint]),
    "ms_ctx_dirty_log_global_start": (c_int, [ms_ctx_p]),
    "ms_ctx_dirty_log_global_stop": (c_int, [ms_ctx_p]),
    "ms_ctx_dirty_log_global": (c_bool, [ms_ctx_p]),
    # transaction.h
    "ms_transaction_begin": (c_int, [ms_ctx_p]),
    "ms_transaction_commit": (c_int, [ms_ctx_p]),
    "ms_transaction_depth": (c_uint, [ms_ctx_p]),
    # region.h
    "ms_region_new_container": (c_int, [_P(ms_region_p), ms_ctx_p, c_char_p, c_uint64]),
    "ms_region_new_io": (c_int, [_P(ms_region_p), ms_ctx_p, _P(ms_region_io_opts)]),
    "ms_region_new_ram": (c_int, [_P(ms_region_p), ms_ctx_p, c_char_p, c_uint64]),
    "ms_region_new_rom": (c_int, [_P(ms_region_p), ms_ctx_p, c_char_p, c_uint64]),
    "ms_region_new_rom_device": (c_int, [_P(ms_region_p), ms_ctx_p, _P(ms_region_io_opts)]),
    "ms_region_new_ram_device": (c_int, [_P(ms_region_p), ms_ctx_p, c_char_p, c_uint64,
                                         c_void_p]),
    "ms_region_new_ram_ptr": (c_int, [_P(ms_region_p), ms_ctx_p, c_char_p, c_uint64, c_void_p]),
    "ms_region_new_alias": (c_int, [_P(ms_region_p), ms_ctx_p, _P(ms_region_alias_opts)]),
    "ms_region_ref": (ms_region_p, [ms_region_p]),
    "ms_region_unref": (None, [ms_region_p]),
    "ms_region_add_subregion": (c_int, [ms_region_p, c_uint64, ms_region_p]),
    "ms_region_add_subregion_overlap": (c_int, [ms_region_p, c_uint64, ms_region_p, c_int]),
    "ms_region_del_subregion": (c_int, [ms_region_p, ms_region_p]),
    "ms_region_take_subregion": (c_int, [ms_region_p, ms_region_p]),
    "ms_region_set_address": (c_int, [ms_region_p, c_uint64]),
    "ms_region_set_size": (c_int, [ms_region_p, c_uint64]),
    "ms_region_set_enabled": (c_int, [ms_region_p, c_bool]),
    "ms_region_set_readonly": (c_int, [ms_region_p, c_bool]),
    "ms_region_set_nonvolatile": (c_int, [ms_region_p, c_bool]),
    "ms_region_set_unmergeable": (c_int, [ms_region_p, c_bool]),
    "ms_region_set_alias_offset": (c_int, [ms_region_p, c_uint64]),
    "ms_region_set_romd": (c_int, [ms_region_p, c_bool]),
    "ms_region_set_priority": (c_int, [ms_region_p, c_int]),
    "ms_region_set_owner": (c_int, [ms_region_p, c_char_p]),
    "ms_region_ctx": (ms_ctx_p, [ms_region_p]),
    "ms_region_get_kind": (c_int, [ms_region_p]),
    "ms_region_name": (c_char_p, [ms_region_p]),
    "ms_region_owner": (c_char_p, [ms_region_p]),
    "ms_region_size": (c_uint64, [ms_region_p]),
    "ms_region_addr": (c_uint64, [ms_region_p]),
    "ms_region_priority": (c_int, [ms_region_p]),
    "ms_region_enabled": (c_bool, [ms_region_p]),
    "ms_region_readonly": (c_bool, [ms_region_p]),
    "ms_region_nonvolatile": (c_bool, [ms_region_p]),
    "ms_region_unmergeable": (c_bool, [ms_region_p]),
    "ms_region_romd": (c_bool, [ms_region_p]),
    "ms_region_is_terminating": (c_bool, [ms_region_p]),
    "ms_region_container": (ms_region_p, [ms_region_p]),
    "ms_region_alias_target": (ms_region_p, [ms_region_p]),
    "ms_region_alias_offset": (c_uint64, [ms_region_p]),
    "ms_region_find": (c_int, [_P(ms_section), ms_region_p, c_uint64, c_uint64]),
    "ms_region_ram_ptr": (c_void_p, [ms_region_p]),
    "ms_region_nr_subregions": (c_size_t, [ms_region_p]),
    "ms_region_subregion": (ms_region_p, [ms_region_p, c_size_t]),
    "ms_region_set_dirty_log": (c_int, [ms_region_p, c_uint, c_bool]),
    # flatview.h / as.h
    "ms_flatview_unref": (None, [ms_flatview_p]),
    "ms_flatview_nr_ranges": (c_size_t, [ms_flatview_p]),
    "ms_flatview_range": (c_int, [_P(ms_section), ms_flatview_p, c_size_t]),
    "ms_as_new": (c_int, [_P(ms_as_p), ms_ctx_p, ms_region_p, c_char_p]),
    "ms_as_free": (None, [ms_as_p]),
    "ms_as_name": (c_char_p, [ms_as_p]),
    "ms_as_root": (ms_region_p, [ms_as_p]),
    "ms_as_get_flatview": (ms_flatview_p, [ms_as_p]),
    "ms_rcu_read_lock": (None, []),
    "ms_rcu_read_unlock": (None, []),
    # access.h
    "ms_as_read": (c_uint32, [ms_as_p, c_uint64, ms_attrs, c_void_p, c_size_t]),
    "ms_as_write": (c_uint32, [ms_as_p, c_uint64, ms_attrs, c_void_p, c_size_t]),
    "ms_as_set": (c_uint32, [ms_as_p, c_uint64, ms_attrs, c_uint8, c_size_t]),
    "ms_as_write_rom": (c_uint32, [ms_as_p, c_uint64, c_void_p, c_size_t]),
    "ms_as_translate": (c_int, [_P(ms_section), _u64p, ms_as_p, c_uint64, _P(ms_access_opts)]),
    "ms_as_access_valid": (c_bool, [ms_as_p, c_uint64, c_size_t, c_bool, ms_attrs]),
    "ms_region_dispatch_read": (c_uint32, [ms_region_p, c_uint64, _u64p, c_uint, ms_attrs]),
    "ms_region_dispatch_write": (c_uint32, [ms_region_p, c_uint64, c_uint64, c_uint, ms_attrs]),
    # listener.h
    "ms_listener_register": (c_int, [_P(ms_listener_p), ms_as_p, _P(ms_listener_ops), c_void_p]),
    "ms_listener_unregister": (c_int, [ms_listener_p]),
    "ms_as_log_sync": (c_int, [ms_as_p]),
    # mtree.h
    "ms_mtree_dump": (c_int, [_P(c_void_p), _P(c_size_t), ms_ctx_p, c_uint]),
    # iommu.h
    "ms_iommu_new": (c_int, [_P(ms_region_p), ms_ctx_p, _P(ms_iommu_opts)]),
    "ms_iommu_translate": (c_int, [_P(ms_iotlb_entry), ms_region_p, c_uint64, c_int, c_uint]),
    "ms_iommu_get_min_page_size": (c_uint64, [ms_region_p]),
    "ms_iommu_num_indexes": (c_uint, [ms_region_p]),
    "ms_iommu_attrs_to_index": (c_int, [ms_region_p, ms_attrs]),
    "ms_iommu_notify_flags": (c_uint, [ms_region_p]),
    "ms_iommu_register_notifier": (c_int, [_P(ms_notifier_p), ms_region_p,
                                           _P(ms_iommu_notifier_opts)]),
    "ms_iommu_unregister_notifier": (None, [ms_notifier_p]),
    "ms_iommu_notify": (c_int, [ms_region_p, c_uint, _P(ms_iommu_event)]),
    "ms_iommu_notify_one": (c_int, [ms_notifier_p, _P(ms_iommu_event)]),
    "ms_iommu_unmap_notifier_range": (c_int, [ms_notifier_p]),
    "ms_iommu_replay": (c_int, [ms_region_p, ms_notifier_p]),
    "ms_as_get_iotlb_entry": (c_int, [_P(ms_iotlb_entry), ms_as_p, c_uint64, c_bool, ms_attrs]),
    # backend.h
    "ms_region_new_ram_with": (c_int, [_P(ms_region_p), ms_ctx_p, _P(ms_ram_opts)]),
    "ms_region_ram_info": (c_int, [ms_region_p, _P(ms_ram_info)]),
    "ms_region_ram_resize": (c_int, [ms_region_p, c_uint64]),
    # dirty.h
    "ms_ctx_set_dirty_page_size": (c_int, [ms_ctx_p, c_uint64]),
    "ms_ctx_dirty_page_size": (c_uint64, [ms_ctx_p]),
    "ms_region_dirty_log_mask": (c_uint8, [ms_region_p]),
    "ms_region_get_dirty": (c_bool, [ms_region_p, c_uint64, c_uint64, c_uint]),
    "ms_region_set_dirty": (c_int, [ms_region_p, c_uint64, c_uint64]),
    "ms_region_reset_dirty": (c_int, [ms_region_p, c_uint64, c_uint64, c_uint]),
    "ms_region_clear_dirty": (c_int, [ms_region_p, c_uint64, c_uint64]),
    "ms_region_snapshot_and_clear_dirty": (c_int, [_P(ms_snapshot_p), ms_region_p, c_uint64,
                                                   c_uint64, c_uint]),
    "ms_dirty_snapshot_get_dirty": (c_bool, [ms_snapshot_p, c_uint64, c_uint64]),
    "ms_dirty_snapshot_next": (c_bool, [ms_snapshot_p, c_uint64, _u64p]),
    "ms_dirty_snapshot_count": (c_uint64, [ms_snapshot_p]),
    "ms_dirty_snapshot_range": (None, [ms_snapshot_p, _u64p, _u64p]),
    "ms_dirty_snapshot_free": (None, [ms_snapshot_p]),
}

# The scalar loads and stores: (suffix, width in bytes, ctypes type).
SCALARS = [
    ("b", 1, c_uint8, "ms_as_ldub", "ms_as_stb"),
    ("w_le", 2, c_uint16, "ms_as_lduw_le", "ms_as_stw_le"),
    ("w_be", 2, c_uint16, "ms_as_lduw_be", "ms_as_stw_be"),
    ("l_le", 4, c_uint32, "ms_as_ldl_le", "ms_as_stl_le"),
    ("l_be", 4, c_uint32, "ms_as_ldl_be", "ms_as_stl_be"),
    ("q_le", 8, c_uint64, "ms_as_ldq_le", "ms_as_stq_le"),
    ("q_be", 8, c_uint64, "ms_as_ldq_be", "ms_as_stq_be"),
]
for _sfx, _w, _t, _ld, _st in SCALARS:
    FUNCTIONS[_ld] = (_t, [ms_as_p, c_uint64, ms_attrs, _P(c_uint32)])
    FUNCTIONS[_st] = (c_uint32, [ms_as_p, c_uint64, ms_attrs, _t])

# The libraries' file names, newest ABI first.
_NAMES = ["libmemspace.so.0", "libmemspace.so"]


def _candidates():
    """Where to look for libmemspace, in order (see docs/python.md)."""
    env = os.environ.get("MEMSPACE_LIB")
    if env:
        # An explicit choice is the only one: a wrong path must fail loudly.
        return [env], True
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(os.path.dirname(here))
    out = []
    for build in ("build", "build-test"):
        for name in _NAMES:
            out.append(os.path.join(top, build, name))
    # Installed under the same prefix as the package:
    # PREFIX/LIBDIR/pythonX.Y/site-packages/memspace -> PREFIX/LIBDIR/libmemspace.so.0,
    # and PREFIX/lib/pythonX.Y/... -> PREFIX/lib64 or PREFIX/lib/<multiarch>.
    dirs = []
    if os.path.basename(os.path.dirname(here)) in ("site-packages", "dist-packages"):
        libdir = os.path.dirname(os.path.dirname(os.path.dirname(here)))
        prefix = os.path.dirname(libdir)
        dirs = [libdir, os.path.join(prefix, "lib64")]
        multiarch = getattr(sys.implementation, "_multiarch", None)
        if multiarch:
            dirs.append(os.path.join(prefix, "lib", multiarch))
    for d in dirs:
        for name in _NAMES:
            out.append(os.path.join(d, name))
    found = ctypes.util.find_library("memspace")
    if found:
        out.append(found)
    out.extend(_NAMES)  # the dynamic loader's own search (LD_LIBRARY_PATH, ld.so.cache)
    return out, False


def load():
    """Load libmemspace and declare the functions used. Raises OSError."""
    paths, explicit = _candidates()
    errors = []
    lib = None
    for path in paths:
        if os.sep in path and not os.path.exists(path):
            if explicit:
                raise OSError("MEMSPACE_LIB=%s: no such file" % path)
            continue
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as exc:
            if explicit:
                raise
            errors.append("%s: %s" % (path, exc))
    if lib is None:
        raise OSError("libmemspace not found; set MEMSPACE_LIB to its path (tried: %s)" %
                      "; ".join(errors or paths))
    for name, (restype, argtypes) in FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def load_libc():
    """free(), for the strings the library allocates: the one the process's
    global symbol lookup finds, as the library's own calls do (an interposed
    allocator, a sanitizer's, is then the right one)."""
    libc = ctypes.CDLL(None)
    libc.free.restype = None
    libc.free.argtypes = [c_void_p]
    return libc
