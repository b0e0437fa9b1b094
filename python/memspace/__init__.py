# memspace Python bindings: a Pythonic layer over libmemspace through ctypes.
#
# SPDX-License-Identifier: MIT
"""Python bindings of libmemspace, QEMU's memory API as a standalone library.

    import memspace
    with memspace.Context() as ctx:
        system = ctx.container("system", memspace.SIZE_2_64)
        ram = ctx.ram("ram", 0x10000)
        system.add_subregion(0, ram)
        mem = ctx.address_space(system, "memory")
        mem.stl_le(0x100, 0x12345678)
        value, result = mem.ldl_le(0x100)
        print(ctx.mtree(flat=True))

See docs/python.md for the whole API, error handling and lifetimes.
"""

import ctypes
import enum
import os
import errno as _errno
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Optional

from . import _ffi
from ._ffi import SIZE_2_64

_lib = _ffi.load()
_libc = _ffi.load_libc()

__all__ = [
    "SIZE_2_64", "Error", "ClosedError", "Result", "Kind", "Endian", "Perm", "NotifierFlag",
    "Backend", "RamFlag", "Attrs", "UNSPECIFIED", "Section", "IOTLBEntry", "IOMMUEvent",
    "RamInfo", "Context", "Region", "IOMMURegion", "AddressSpace", "Listener", "Notifier",
    "DirtySnapshot", "DIRTY_VGA", "DIRTY_CODE", "DIRTY_MIGRATION", "DIRTY_CLIENTS",
    "version", "version_string", "strerror",
]

DIRTY_VGA = 0
DIRTY_CODE = 1
DIRTY_MIGRATION = 2
DIRTY_CLIENTS = 8

_MASK64 = (1 << 64) - 1


def version():
    """The library's version as MS_VERSION_HEX ((major << 16) | (minor << 8) | patch)."""
    return _lib.ms_version()


def version_string():
    """The library's version as "major.minor.patch"."""
    return _lib.ms_version_string().decode()


def strerror(err):
    """ms_strerror(): the symbolic name and meaning of an error code (either sign)."""
    return _lib.ms_strerror(int(err)).decode()


class Error(OSError):
    """A call of the library failed: `errno` is the (positive) error code,
    `strerror` the library's explanation (ms_strerror()), prefixed with what
    was being done."""

    def __init__(self, err, what=None, message=None):
        err = abs(int(err))
        text = message if message is not None else strerror(err)
        if what:
            text = "%s: %s" % (what, text)
        super().__init__(err, text)


class ClosedError(Error):
    """The object, or its context, was closed (errno EBADF)."""

    def __init__(self, what="object"):
        super().__init__(_errno.EBADF, None, "%s is closed" % what)


class Result(enum.IntFlag):
    """ms_result: the outcome of an access (a bit set; OK is 0, so `if result:` means failure)."""
    OK = 0
    ERROR = 1
    DECODE_ERROR = 2
    ACCESS_ERROR = 4


_RESULTS = tuple(Result(i) for i in range(8))


def _result(r):
    """Result(r), without the enum machinery for the 8 values the library returns."""
    return _RESULTS[r] if r < 8 else Result(r)


class Kind(enum.IntEnum):
    CONTAINER = 0
    IO = 1
    RAM = 2
    ROM = 3
    ROM_DEVICE = 4
    RAM_DEVICE = 5
    RAM_PTR = 6
    ALIAS = 7
    IOMMU = 8


class Endian(enum.IntEnum):
    NATIVE = 0
    LITTLE = 1
    BIG = 2


class Perm(enum.IntFlag):
    NONE = 0
    RO = 1
    WO = 2
    RW = 3


class NotifierFlag(enum.IntFlag):
    NONE = 0
    MAP = 1
    UNMAP = 2
    DEVIOTLB_UNMAP = 4
    IOTLB_EVENTS = 3
    ALL = 7


class Backend(enum.IntEnum):
    ANON = 0
    MEMFD = 1
    FILE = 2
    FD = 3
    PTR = 4
    NONE = 5


class RamFlag(enum.IntFlag):
    NONE = 0
    SHARED = 1
    READONLY = 2
    PREALLOC = 4
    NOT_MIGRATABLE = 8
    ROM = 16


# ---- per-thread callback bookkeeping ---------------------------------------
#
# Python exceptions cannot cross the C library. A callback that raises has its
# exception kept (per thread) and answers the library with an error value;
# the binding call that led to it re-raises it once the library returns.
# References dropped while a callback runs on this thread are released only
# after the outermost call returns, never under the library's feet.

class _Local(threading.local):
    depth = 0  # callbacks of the bindings running on this thread
    errors = None  # exceptions they raised, not yet re-raised


_tls = _Local()


def _depth():
    return _tls.depth


def _stash(exc):
    if _tls.errors is None:
        _tls.errors = []
    _tls.errors.append(exc)


def _guard(default, fn, refusal=False):
    """Wrap a callback: count the nesting, keep exceptions, return @default on one.

    With @refusal, a memspace.Error raised by @fn is an answer, not a bug: the
    callback returns -errno (listeners' log_global_try_start, notifiers,
    notify_flag_changed) and nothing is re-raised.
    """

    def wrapper(*args):
        _tls.depth += 1
        try:
            return fn(*args)
        except Error as exc:
            if refusal:
                return -exc.errno
            _stash(exc)
            return default
        except BaseException as exc:  # noqa: B902 - must never unwind into C
            _stash(exc)
            return default
        finally:
            _tls.depth -= 1

    return wrapper


class _State:
    """What every object of one context shares: the C pointer, the objects the
    library must be able to call (ops tables, callbacks, buffers) and the
    Python wrappers to invalidate when the context goes away."""

    def __init__(self, ptr):
        self.ptr = ptr
        self.keep = []  # alive until ms_ctx_free(): the library may still call them
        self.pending = []  # (function, pointer) releases deferred out of callbacks
        self.lock = threading.RLock()  # a finaliser may run while it is held
        self.children = weakref.WeakSet()
        self.regions = weakref.WeakValueDictionary()
        self.spaces = weakref.WeakValueDictionary()
        self.lib = _lib  # kept here: module globals may be gone at shutdown

    def check(self, what="context"):
        if self.ptr is None:
            raise ClosedError(what)


def _after(st):
    """After a call into the library: deferred releases, then callback errors."""
    if st is not None and st.pending and _depth() == 0:
        with st.lock:
            pending, st.pending = st.pending, []
        if st.ptr is not None:
            for fn, ptr in pending:
                fn(ptr)
    errors = _tls.errors
    if errors:
        _tls.errors = None
        raise errors[0]


def _release(st, fn, ptr):
    """Give @ptr back with @fn now, or after the callback running on this thread."""
    if st.ptr is None:
        return
    if _depth() > 0:
        with st.lock:
            st.pending.append((fn, ptr))
    else:
        fn(ptr)


def _check(st, rc, what):
    _after(st)
    if rc < 0:
        raise Error(-rc, what)
    return rc


def _name(name):
    if isinstance(name, str):
        return name.encode()
    return bytes(name)


# ---- value types -----------------------------------------------------------


@dataclass(frozen=True)
class Attrs:
    """ms_attrs: attributes of one memory transaction."""
    unspecified: bool = False
    secure: bool = False
    user: bool = False
    memory: bool = False
    debug: bool = False
    requester_id: int = 0
    pasid_valid: bool = False
    pasid: int = 0

    def _c(self):
        bits = 0
        for field, (shift, width) in _ffi.ATTR_BITS.items():
            value = int(getattr(self, field))
            if value < 0 or value >= 1 << width:
                raise ValueError("Attrs.%s: %d does not fit in %d bits" % (field, value, width))
            bits |= value << shift
        return _ffi.ms_attrs(bits, self.pasid)

    @classmethod
    def _from_c(cls, a):
        key = (a.bits & _ATTR_MASK, a.pasid)  # the padding bits may be anything
        found = _attrs_seen.get(key)
        if found is not None:
            return found
        kw = {field: (key[0] >> shift) & ((1 << width) - 1)
              for field, (shift, width) in _ffi.ATTR_BITS.items()}
        for field, (_, width) in _ffi.ATTR_BITS.items():
            if width == 1:
                kw[field] = bool(kw[field])
        found = cls(pasid=a.pasid, **kw)
        if len(_attrs_seen) < 4096:  # callbacks see few distinct attributes
            _attrs_seen[key] = found
        return found


_ATTR_MASK = sum(((1 << width) - 1) << shift for shift, width in _ffi.ATTR_BITS.values())
_attrs_seen = {}


UNSPECIFIED = Attrs(unspecified=True)
_UNSPECIFIED_C = UNSPECIFIED._c()


def _attrs(attrs):
    return _UNSPECIFIED_C if attrs is None or attrs is UNSPECIFIED else attrs._c()


@dataclass(frozen=True)
class Section:
    """ms_section: one range of a flat view (or the answer of a lookup)."""
    region: "Region"
    start: int
    last: int
    size: int
    offset_in_region: int
    readonly: bool
    nonvolatile: bool
    unmergeable: bool
    romd: bool
    dirty_log_mask: int
    address_space: Optional["AddressSpace"] = None


@dataclass(frozen=True)
class IOTLBEntry:
    """ms_iotlb_entry: one IOMMU translation. `target_as` None (or perm NONE) is no mapping."""
    target_as: Optional["AddressSpace"]
    iova: int
    translated_addr: int
    addr_mask: int
    perm: Perm = Perm.RW

    def translate(self, addr):
        """Where @addr (inside the page) goes in target_as."""
        return (self.translated_addr & ~self.addr_mask & _MASK64) | (addr & self.addr_mask)


@dataclass(frozen=True)
class IOMMUEvent:
    """ms_iommu_event: one change of an IOMMU's mappings."""
    type: NotifierFlag
    entry: IOTLBEntry


@dataclass(frozen=True)
class RamInfo:
    """ms_ram_info: a RAM-backed region's backend."""
    backend: Backend
    fd: int
    fd_offset: int
    page_size: int
    shared: bool
    readonly: bool
    migratable: bool
    resizeable: bool
    size: int
    max_size: int
    host: int
    align: int


class _Child:
    """Common part of the objects that belong to a context."""

    _what = "object"

    def __init__(self, ctx, ptr):
        self._ctx = ctx  # keeps the context (and its callbacks) alive
        self._st = ctx._st
        self._ptr = ptr
        self._hash = hash(ptr)  # stays the same after close()
        self._st.children.add(self)

    def _p(self):
        if self._ptr is None or self._st.ptr is None:
            raise ClosedError(self._what)
        return self._ptr

    def _invalidate(self):
        """The context is being freed: it frees this object itself."""
        self._ptr = None

    @property
    def closed(self):
        return self._ptr is None or self._st.ptr is None

    @property
    def context(self):
        return self._ctx

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __eq__(self, other):
        if other is self:
            return True
        return type(other) is type(self) and other._ptr is not None and other._ptr == self._ptr

    def __hash__(self):
        return self._hash


# ---- context ---------------------------------------------------------------


class Context:
    """An ms_ctx: one memory system, owning every region, address space and listener in it.

    close() (or leaving a `with` block) frees it and everything in it; every
    Python object of the context is then closed. Each region object keeps its
    context alive, so a context is freed by the garbage collector only when
    nothing of it is referenced any more.
    """

    def __init__(self):
        out = _ffi.ms_ctx_p()
        rc = _lib.ms_ctx_new(ctypes.byref(out))
        if rc < 0:
            raise Error(-rc, "ms_ctx_new")
        self._st = _State(out.value)

    # -- lifetime
    def close(self):
        """Free the context and everything in it (ms_ctx_free()). Idempotent."""
        st = self._st
        if st.ptr is None:
            return
        if _depth() > 0:
            raise Error(_errno.EBUSY, "Context.close",
                        "a context cannot be freed from one of its callbacks")
        with st.lock:
            pending, st.pending = st.pending, []
        for fn, ptr in pending:
            fn(ptr)
        for child in list(st.children):
            child._invalidate()
        st.lib.ms_ctx_free(st.ptr)
        st.ptr = None
        st.keep.clear()

    def __del__(self):
        try:
            st = self._st
        except AttributeError:
            return
        try:
            if st.ptr is not None and _depth() == 0:
                self.close()
        except Exception:  # noqa: BLE001 - never raise at shutdown
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def closed(self):
        return self._st.ptr is None

    def _p(self):
        self._st.check()
        return self._st.ptr

    def _rc(self, rc, what):
        return _check(self._st, rc, what)

    # -- wrappers of C pointers
    def _wrap_region(self, ptr, take_ref=True):
        """The Python object of region @ptr (one per live region), or None."""
        if not ptr:
            return None
        st = self._st
        obj = st.regions.get(ptr)
        if obj is not None and obj._ptr == ptr:
            if not take_ref:
                st.lib.ms_region_unref(ptr)  # the caller's reference is not needed
            return obj
        if take_ref:
            st.lib.ms_region_ref(ptr)
        cls = IOMMURegion if st.lib.ms_region_get_kind(ptr) == Kind.IOMMU else Region
        obj = cls(self, ptr)
        st.regions[ptr] = obj
        return obj

    def _wrap_as(self, ptr):
        if not ptr:
            return None
        obj = self._st.spaces.get(ptr)
        if obj is None:
            obj = AddressSpace(self, ptr)
            self._st.spaces[ptr] = obj
        return obj

    def _section(self, s, as_obj=None):
        space = as_obj
        if space is None and s.as_:
            space = self._wrap_as(s.as_)
        return Section(self._wrap_region(s.region), s.start, s.last, s.size, s.offset_in_region,
                       bool(s.readonly), bool(s.nonvolatile), bool(s.unmergeable), bool(s.romd),
                       s.dirty_log_mask, space)

    def _entry(self, e):
        return IOTLBEntry(self._wrap_as(e.target_as), e.iova, e.translated_addr, e.addr_mask,
                          Perm(e.perm))

    def _new(self, what, fn, *args):
        out = _ffi.ms_region_p()
        rc = fn(ctypes.byref(out), self._p(), *args)
        self._rc(rc, what)
        return self._wrap_region(out.value, take_ref=False)

    # -- region constructors
    def container(self, name, size):
        """A pure container (ms_region_new_container())."""
        return self._new("ms_region_new_container", _lib.ms_region_new_container, _name(name),
                         size)

    def ram(self, name, size):
        """Anonymous RAM owned by the region (ms_region_new_ram())."""
        return self._new("ms_region_new_ram", _lib.ms_region_new_ram, _name(name), size)

    def rom(self, name, size):
        """ROM: readonly RAM that loaders fill (ms_region_new_rom())."""
        return self._new("ms_region_new_rom", _lib.ms_region_new_rom, _name(name), size)

    def io(self, name, size, read=None, write=None, *, endianness=Endian.LITTLE, valid=None,
           impl=None, accepts=None, reservation=False):
        """An I/O device (ms_region_new_io()) with Python callbacks.

        read(addr, size, attrs) returns the value, or (value, Result);
        write(addr, data, size, attrs) returns None or a Result. A missing
        read reads 0, a missing write is ignored. With neither (or
        reservation=True) the region is a reservation: every access is a
        decode error. valid and impl are (min_access_size, max_access_size[,
        unaligned]) tuples (0 as in the C header); accepts(addr, size,
        is_write, attrs) may veto an access.
        """
        opts = _ffi.ms_region_io_opts(_name(name), size)
        keep = None
        if not reservation and (read or write or accepts):
            ops, keep = self._ops(read, write, endianness, valid, impl, accepts)
            opts.ops = ctypes.pointer(ops)
        r = self._new("ms_region_new_io", _lib.ms_region_new_io, ctypes.byref(opts))
        r._keep = keep
        return r

    def rom_device(self, name, size, read=None, write=None, *, endianness=Endian.LITTLE,
                   valid=None, impl=None, accepts=None):
        """A ROM device (ms_region_new_rom_device()): in romd mode reads come from its
        RAM, otherwise from read(); writes always go to write(). Callbacks as io()."""
        ops, keep = self._ops(read, write, endianness, valid, impl, accepts)
        opts = _ffi.ms_region_io_opts(_name(name), size, ctypes.pointer(ops))
        r = self._new("ms_region_new_rom_device", _lib.ms_region_new_rom_device,
                      ctypes.byref(opts))
        r._keep = keep
        return r

    def _buffer(self, size, buffer):
        if buffer is None:
            arr = (ctypes.c_char * size)()
        else:
            arr = (ctypes.c_char * size).from_buffer(buffer)
        self._st.keep.append(arr)
        return arr

    def ram_device(self, name, size, buffer=None):
        """Device memory at a buffer (ms_region_new_ram_device()): exact-width
        accesses only. @buffer is a writable buffer of at least @size bytes
        (bytearray, mmap, ctypes array), or None for a new zeroed one; it is
        kept alive with the context."""
        arr = self._buffer(size, buffer)
        r = self._new("ms_region_new_ram_device", _lib.ms_region_new_ram_device, _name(name),
                      size, ctypes.addressof(arr))
        r._keep = arr
        return r

    def ram_ptr(self, name, size, buffer=None):
        """RAM at a caller's buffer (ms_region_new_ram_ptr()); @buffer as ram_device()."""
        arr = self._buffer(size, buffer)
        r = self._new("ms_region_new_ram_ptr", _lib.ms_region_new_ram_ptr, _name(name), size,
                      ctypes.addressof(arr))
        r._keep = arr
        return r

    def alias(self, name, target, offset, size):
        """A window of @size bytes onto @target from @offset (ms_region_new_alias())."""
        opts = _ffi.ms_region_alias_opts(_name(name), target._p(), offset, size)
        return self._new("ms_region_new_alias", _lib.ms_region_new_alias, ctypes.byref(opts))

    def ram_with(self, name, size, backend=Backend.ANON, *, max_size=0, flags=RamFlag.NONE,
                 path=None, fd=-1, offset=0, buffer=None, align=0, resized=None):
        """RAM on a chosen backend (ms_region_new_ram_with()).

        @backend: a Backend or its name ("anon", "memfd", "file", "fd", "ptr",
        "none"). @flags: RamFlag bits. @path for FILE, @fd for FD, @buffer for
        PTR (as ram_ptr()). @max_size makes the region resizeable
        (Region.ram_resize()); resized(region, old_size, new_size) is then
        called after each resize.
        """
        if isinstance(backend, str):
            backend = Backend[backend.upper()]
        opts = _ffi.ms_ram_opts(_name(name), size, max_size, int(backend), int(flags))
        opts.fd = fd
        opts.offset = offset
        opts.align = align
        keep = []
        if path is not None:
            opts.path = os.fsencode(path)
        if buffer is not None or backend == Backend.PTR:
            arr = self._buffer(size, buffer)
            opts.ptr = ctypes.addressof(arr)
            keep.append(arr)
        if resized is not None:
            def on_resized(rp, old, new, opaque):
                resized(self._wrap_region(rp), old, new)

            cb = _ffi.RESIZED_FN(_guard(None, on_resized))
            opts.resized = cb
            keep.append(cb)
            self._st.keep.append(cb)
        r = self._new("ms_region_new_ram_with", _lib.ms_region_new_ram_with, ctypes.byref(opts))
        r._keep = keep
        return r

    def iommu(self, name, size, translate=None, *, min_page_size=None, num_indexes=None,
              attrs_to_index=None, notify_flag_changed=None):
        """An IOMMU region (ms_iommu_new()).

        translate(addr, flags, index) returns an IOTLBEntry, or None for no
        mapping. min_page_size is an int (or None for 4096); num_indexes an
        int (or None for 1); attrs_to_index(attrs) returns an index;
        notify_flag_changed(old, new) may raise memspace.Error to refuse.
        Without translate, the region translates nothing (an I/O reservation).
        """
        opts = _ffi.ms_iommu_opts(_name(name), size)
        keep = []
        if translate is not None:
            ops = _ffi.ms_iommu_ops()
            ops.version = _ffi.IOMMU_OPS_VERSION
            st = self._st

            def tr(out, rp, addr, flags, idx, opaque):
                o = out[0]
                o.target_as, o.perm = None, 0  # no mapping, also when translate raises
                e = translate(addr, Perm(flags), idx)
                if e is None:
                    return
                o.target_as = e.target_as._p() if e.target_as is not None else None
                o.iova = e.iova
                o.translated_addr = e.translated_addr
                o.addr_mask = e.addr_mask
                o.perm = int(e.perm)

            ops.translate = _ffi.TRANSLATE_FN(_guard(None, tr))
            if min_page_size is not None:
                page = int(min_page_size)
                ops.get_min_page_size = _ffi.MIN_PAGE_FN(lambda rp, opaque: page)
            if num_indexes is not None:
                n = int(num_indexes)
                ops.num_indexes = _ffi.NUM_INDEXES_FN(lambda rp, opaque: n)
            if attrs_to_index is not None:
                ops.attrs_to_index = _ffi.ATTRS_TO_INDEX_FN(_guard(
                    0xFFFFFFFF, lambda rp, a, opaque: attrs_to_index(Attrs._from_c(a))))
            if notify_flag_changed is not None:
                def changed(rp, old, new, opaque):
                    notify_flag_changed(NotifierFlag(old), NotifierFlag(new))
                    return 0

                ops.notify_flag_changed = _ffi.FLAG_CHANGED_FN(
                    _guard(-_errno.EIO, changed, refusal=True))
            keep.append(ops)
            st.keep.append(ops)
            opts.ops = ctypes.pointer(ops)
        r = self._new("ms_iommu_new", _lib.ms_iommu_new, ctypes.byref(opts))
        r._keep = keep
        return r

    def _ops(self, read, write, endianness, valid, impl, accepts):
        """An ms_region_ops table calling Python; kept alive with the context."""
        ops = _ffi.ms_region_ops()
        ops.version = _ffi.REGION_OPS_VERSION
        ops.endianness = int(endianness)

        def rd(addr, data, size, a, opaque):
            if read is None:
                data[0] = 0
                return 0
            value = read(addr, size, Attrs._from_c(a))
            result = 0
            if isinstance(value, tuple):
                value, result = value
            data[0] = int(value) & _MASK64
            return int(result)

        def wr(addr, data, size, a, opaque):
            if write is None:
                return 0
            result = write(addr, data, size, Attrs._from_c(a))
            return 0 if result is None else int(result)

        ops.read_with_attrs = _ffi.READ_ATTRS_FN(_guard(Result.ERROR, rd))
        ops.write_with_attrs = _ffi.WRITE_ATTRS_FN(_guard(Result.ERROR, wr))
        for rules, dst in ((valid, ops.valid), (impl, ops.impl)):
            if rules:
                dst.min_access_size = rules[0]
                dst.max_access_size = rules[1]
                dst.unaligned = bool(rules[2]) if len(rules) > 2 else False
        if accepts is not None:
            ops.valid.accepts = _ffi.ACCEPTS_FN(_guard(
                False, lambda addr, size, w, a, opaque: bool(
                    accepts(addr, size, bool(w), Attrs._from_c(a)))))
        self._st.keep.append(ops)
        return ops, ops

    # -- address spaces
    def address_space(self, root, name):
        """A new address space rendering @root (ms_as_new()). It belongs to the
        context: it lives until AddressSpace.close() or the context's close()."""
        out = _ffi.ms_as_p()
        rc = _lib.ms_as_new(ctypes.byref(out), self._p(), root._p(), _name(name))
        self._rc(rc, "ms_as_new")
        obj = AddressSpace(self, out.value)
        self._st.spaces[out.value] = obj
        return obj

    @property
    def address_spaces(self):
        """The context's address spaces, in creation order."""
        p = self._p()
        return [self._wrap_as(_lib.ms_ctx_as(p, i)) for i in range(_lib.ms_ctx_nr_as(p))]

    # -- transactions
    @contextmanager
    def transaction(self):
        """`with ctx.transaction():` groups changes into one commit.

        The changes are committed when the block ends, also when it raises
        (the library cannot roll them back). A failed commit raises Error;
        the tree keeps the changes, as in C.
        """
        self._rc(_lib.ms_transaction_begin(self._p()), "ms_transaction_begin")
        try:
            yield self
        except BaseException:
            _lib.ms_transaction_commit(self._st.ptr)
            raise
        self._rc(_lib.ms_transaction_commit(self._p()), "ms_transaction_commit")

    def begin(self):
        """ms_transaction_begin() (prefer `with ctx.transaction():`)."""
        self._rc(_lib.ms_transaction_begin(self._p()), "ms_transaction_begin")

    def commit(self):
        """ms_transaction_commit()."""
        self._rc(_lib.ms_transaction_commit(self._p()), "ms_transaction_commit")

    @property
    def transaction_depth(self):
        return _lib.ms_transaction_depth(self._p())

    # -- dumps
    def mtree(self, flat=False, disabled=False, owner=False, json=False):
        """The `info mtree` dump as a string (ms_mtree_dump()): flat is -f,
        disabled -D, owner -o; json gives the JSON form."""
        flags = (1 if flat else 0) | (2 if disabled else 0) | (4 if owner else 0) | \
            (8 if json else 0)
        out = ctypes.c_void_p()
        n = ctypes.c_size_t()
        self._rc(_lib.ms_mtree_dump(ctypes.byref(out), ctypes.byref(n), self._p(), flags),
                 "ms_mtree_dump")
        try:
            return ctypes.string_at(out.value, n.value).decode()
        finally:
            _libc.free(out.value)

    # -- settings and counters
    @property
    def render_count(self):
        return _lib.ms_ctx_render_count(self._p())

    def set_render_limit(self, max_ranges):
        self._rc(_lib.ms_ctx_set_render_limit(self._p(), max_ranges), "ms_ctx_set_render_limit")

    def set_max_access_depth(self, depth):
        self._rc(_lib.ms_ctx_set_max_access_depth(self._p(), depth),
                 "ms_ctx_set_max_access_depth")

    @property
    def dirty_page_size(self):
        return _lib.ms_ctx_dirty_page_size(self._p())

    @dirty_page_size.setter
    def dirty_page_size(self, size):
        self._rc(_lib.ms_ctx_set_dirty_page_size(self._p(), size), "ms_ctx_set_dirty_page_size")

    def dirty_log_global_start(self):
        self._rc(_lib.ms_ctx_dirty_log_global_start(self._p()), "ms_ctx_dirty_log_global_start")

    def dirty_log_global_stop(self):
        self._rc(_lib.ms_ctx_dirty_log_global_stop(self._p()), "ms_ctx_dirty_log_global_stop")

    @property
    def dirty_log_global(self):
        return bool(_lib.ms_ctx_dirty_log_global(self._p()))


# ---- regions ---------------------------------------------------------------


def _bool_prop(getter, setter=None, doc=None):
    g = getattr(_lib, getter)

    def get(self):
        return bool(g(self._p()))

    if setter is None:
        return property(get, doc=doc)
    s = getattr(_lib, setter)

    def put(self, value):
        self._rc(s(self._p(), bool(value)), setter)

    return property(get, put, doc=doc)


class Region(_Child):
    """An ms_region. The object holds one reference on the region, dropped by
    close() or when the object is collected; a container, alias or address
    space using the region holds its own. Callbacks and buffers given at
    creation stay alive as long as the context."""

    _what = "region"

    def __init__(self, ctx, ptr):
        super().__init__(ctx, ptr)
        self._keep = None

    def close(self):
        """Drop this object's reference (ms_region_unref()). Idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            _release(self._st, self._st.lib.ms_region_unref, ptr)
            _after(self._st)

    def __del__(self):
        try:
            ptr, self._ptr = self._ptr, None
            if ptr is not None:
                _release(self._st, self._st.lib.ms_region_unref, ptr)
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass

    def _rc(self, rc, what):
        return _check(self._st, rc, what)

    def __repr__(self):
        if self.closed:
            return "<memspace.Region (closed)>"
        return "<memspace.Region %r %s size=0x%x>" % (self.name, self.kind.name, self.size)

    # -- tree
    def add_subregion(self, addr, sub, priority=None):
        """Place @sub inside this container at @addr (with @priority: the _overlap form)."""
        if priority is None:
            rc = _lib.ms_region_add_subregion(self._p(), addr, sub._p())
        else:
            rc = _lib.ms_region_add_subregion_overlap(self._p(), addr, sub._p(), priority)
        self._rc(rc, "ms_region_add_subregion")
        return sub

    def del_subregion(self, sub):
        self._rc(_lib.ms_region_del_subregion(self._p(), sub._p()), "ms_region_del_subregion")

    def take_subregion(self, sub):
        """Remove @sub; @sub stays alive through its Python object."""
        self._rc(_lib.ms_region_take_subregion(self._p(), sub._p()), "ms_region_take_subregion")
        # The container's reference is handed over: this object already holds one.
        _lib.ms_region_unref(sub._p())

    @property
    def subregions(self):
        """The subregions in rendering order."""
        p = self._p()
        return [self._ctx._wrap_region(_lib.ms_region_subregion(p, i))
                for i in range(_lib.ms_region_nr_subregions(p))]

    @property
    def container(self):
        return self._ctx._wrap_region(_lib.ms_region_container(self._p()))

    @property
    def alias_target(self):
        return self._ctx._wrap_region(_lib.ms_region_alias_target(self._p()))

    # -- properties
    @property
    def kind(self):
        return Kind(_lib.ms_region_get_kind(self._p()))

    @property
    def name(self):
        return _lib.ms_region_name(self._p()).decode()

    @property
    def owner(self):
        o = _lib.ms_region_owner(self._p())
        return None if o is None else o.decode()

    @owner.setter
    def owner(self, owner):
        self._rc(_lib.ms_region_set_owner(self._p(), None if owner is None else _name(owner)),
                 "ms_region_set_owner")

    @property
    def size(self):
        return _lib.ms_region_size(self._p())

    @size.setter
    def size(self, size):
        self._rc(_lib.ms_region_set_size(self._p(), size), "ms_region_set_size")

    @property
    def addr(self):
        return _lib.ms_region_addr(self._p())

    @addr.setter
    def addr(self, addr):
        self._rc(_lib.ms_region_set_address(self._p(), addr), "ms_region_set_address")

    @property
    def priority(self):
        return _lib.ms_region_priority(self._p())

    @priority.setter
    def priority(self, priority):
        self._rc(_lib.ms_region_set_priority(self._p(), priority), "ms_region_set_priority")

    @property
    def alias_offset(self):
        return _lib.ms_region_alias_offset(self._p())

    @alias_offset.setter
    def alias_offset(self, offset):
        self._rc(_lib.ms_region_set_alias_offset(self._p(), offset),
                 "ms_region_set_alias_offset")

    enabled = _bool_prop("ms_region_enabled", "ms_region_set_enabled")
    readonly = _bool_prop("ms_region_readonly", "ms_region_set_readonly")
    nonvolatile = _bool_prop("ms_region_nonvolatile", "ms_region_set_nonvolatile")
    unmergeable = _bool_prop("ms_region_unmergeable", "ms_region_set_unmergeable")
    romd = _bool_prop("ms_region_romd", "ms_region_set_romd")
    terminating = _bool_prop("ms_region_is_terminating")

    # -- lookups and direct access
    def find(self, addr, length=1):
        """What answers at @addr of this region (ms_region_find()): a Section."""
        s = _ffi.ms_section()
        self._rc(_lib.ms_region_find(ctypes.byref(s), self._p(), addr, length), "ms_region_find")
        try:
            return self._ctx._section(s)
        finally:
            _lib.ms_region_unref(s.region)

    def dispatch_read(self, offset, size, attrs=UNSPECIFIED):
        """One access of @size bytes at @offset of this region: (value, Result)."""
        v = ctypes.c_uint64()
        r = _lib.ms_region_dispatch_read(self._p(), offset, ctypes.byref(v), size, _attrs(attrs))
        _after(self._st)
        return v.value, _result(r)

    def dispatch_write(self, offset, value, size, attrs=UNSPECIFIED):
        r = _lib.ms_region_dispatch_write(self._p(), offset, value, size, _attrs(attrs))
        _after(self._st)
        return _result(r)

    @property
    def host_address(self):
        """The host address of the region's memory (ms_region_ram_ptr()), or None."""
        return _lib.ms_region_ram_ptr(self._p())

    def host_buffer(self):
        """The region's memory as a writable memoryview (RAM-backed kinds only).

        Writes through it bypass dirty tracking (use set_dirty()). The view
        must not be used after the region is freed or resized.
        """
        p = self.host_address
        if not p:
            raise Error(_errno.EINVAL, "Region.host_buffer", "the region has no host memory")
        return memoryview((ctypes.c_char * self.size).from_address(p)).cast("B")

    # -- RAM backends and dirty tracking
    def ram_info(self):
        i = _ffi.ms_ram_info()
        self._rc(_lib.ms_region_ram_info(self._p(), ctypes.byref(i)), "ms_region_ram_info")
        return RamInfo(Backend(i.backend), i.fd, i.fd_offset, i.page_size, bool(i.shared),
                       bool(i.readonly), bool(i.migratable), bool(i.resizeable), i.size,
                       i.max_size, i.host or 0, i.align)

    def ram_resize(self, new_size):
        self._rc(_lib.ms_region_ram_resize(self._p(), new_size), "ms_region_ram_resize")

    def set_dirty_log(self, client, enable=True):
        self._rc(_lib.ms_region_set_dirty_log(self._p(), client, bool(enable)),
                 "ms_region_set_dirty_log")

    @property
    def dirty_log_mask(self):
        return _lib.ms_region_dirty_log_mask(self._p())

    def get_dirty(self, offset, size, client):
        return bool(_lib.ms_region_get_dirty(self._p(), offset, size, client))

    def set_dirty(self, offset, size):
        self._rc(_lib.ms_region_set_dirty(self._p(), offset, size), "ms_region_set_dirty")

    def reset_dirty(self, offset, size, client):
        self._rc(_lib.ms_region_reset_dirty(self._p(), offset, size, client),
                 "ms_region_reset_dirty")

    def clear_dirty(self, offset, size):
        self._rc(_lib.ms_region_clear_dirty(self._p(), offset, size), "ms_region_clear_dirty")

    def snapshot_and_clear_dirty(self, offset=0, size=None, client=DIRTY_MIGRATION):
        """Take and clear @client's dirty bits of a range: a DirtySnapshot."""
        if size is None:
            size = self.size - offset
        out = _ffi.ms_snapshot_p()
        self._rc(_lib.ms_region_snapshot_and_clear_dirty(ctypes.byref(out), self._p(), offset,
                                                         size, client),
                 "ms_region_snapshot_and_clear_dirty")
        return DirtySnapshot(self._ctx, out.value)


class IOMMURegion(Region):
    """A region made by Context.iommu() (or an alias of one, for these calls)."""

    def translate(self, addr, flags=Perm.NONE, index=0):
        """Ask the class directly (ms_iommu_translate()): an IOTLBEntry."""
        e = _ffi.ms_iotlb_entry()
        self._rc(_lib.ms_iommu_translate(ctypes.byref(e), self._p(), addr, int(flags), index),
                 "ms_iommu_translate")
        return self._ctx._entry(e)

    @property
    def min_page_size(self):
        return _lib.ms_iommu_get_min_page_size(self._p())

    @property
    def num_indexes(self):
        return _lib.ms_iommu_num_indexes(self._p())

    def attrs_to_index(self, attrs):
        return self._rc(_lib.ms_iommu_attrs_to_index(self._p(), _attrs(attrs)),
                        "ms_iommu_attrs_to_index")

    @property
    def notify_flags(self):
        return NotifierFlag(_lib.ms_iommu_notify_flags(self._p()))

    def register_notifier(self, notify, flags=NotifierFlag.IOTLB_EVENTS, start=0,
                          end=_MASK64, index=0):
        """Follow the mappings: notify(event) is called with an IOMMUEvent; it may
        raise memspace.Error to report that it could not follow the change."""
        ctx = self._ctx

        def cb(n, ev, opaque):
            e = ev[0]
            notify(IOMMUEvent(NotifierFlag(e.type), ctx._entry(e.entry)))
            return 0

        fn = _ffi.NOTIFY_FN(_guard(-_errno.EIO, cb, refusal=True))
        opts = _ffi.ms_iommu_notifier_opts(int(flags), start, end, index, fn)
        out = _ffi.ms_notifier_p()
        rc = _lib.ms_iommu_register_notifier(ctypes.byref(out), self._p(), ctypes.byref(opts))
        self._rc(rc, "ms_iommu_register_notifier")
        self._st.keep.append(fn)
        return Notifier(ctx, out.value, fn)

    def notify(self, event, index=0):
        """Announce a change of the mappings (ms_iommu_notify())."""
        ev = _event(event)
        self._rc(_lib.ms_iommu_notify(self._p(), index, ctypes.byref(ev)), "ms_iommu_notify")

    def replay(self, notifier):
        """Announce every current mapping to @notifier (ms_iommu_replay())."""
        self._rc(_lib.ms_iommu_replay(self._p(), notifier._p()), "ms_iommu_replay")


def _event(event):
    e = event.entry
    entry = _ffi.ms_iotlb_entry(e.target_as._p() if e.target_as is not None else None, e.iova,
                                e.translated_addr, e.addr_mask, int(e.perm))
    return _ffi.ms_iommu_event(int(event.type), entry)


class Notifier(_Child):
    """An IOMMU notifier registration; it lasts until close() or the context's close()."""

    _what = "notifier"

    def __init__(self, ctx, ptr, fn):
        super().__init__(ctx, ptr)
        self._fn = fn

    def close(self):
        """ms_iommu_unregister_notifier(). Idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None and self._st.ptr is not None:
            self._st.lib.ms_iommu_unregister_notifier(ptr)
            _after(self._st)

    def notify(self, event):
        """Deliver @event to this notifier alone (ms_iommu_notify_one())."""
        ev = _event(event)
        _check(self._st, _lib.ms_iommu_notify_one(self._p(), ctypes.byref(ev)),
               "ms_iommu_notify_one")

    def unmap_range(self):
        """ms_iommu_unmap_notifier_range()."""
        _check(self._st, _lib.ms_iommu_unmap_notifier_range(self._p()),
               "ms_iommu_unmap_notifier_range")


class DirtySnapshot(_Child):
    """A copy of part of a dirty bitmap; iterate it for the dirty pages' offsets."""

    _what = "dirty snapshot"

    def close(self):
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            _release(self._st, self._st.lib.ms_dirty_snapshot_free, ptr)

    def _invalidate(self):
        # The snapshot holds a region reference: free it before the context.
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass

    def get_dirty(self, offset, size):
        return bool(_lib.ms_dirty_snapshot_get_dirty(self._p(), offset, size))

    @property
    def count(self):
        return _lib.ms_dirty_snapshot_count(self._p())

    @property
    def range(self):
        """(offset, size) the snapshot covers, rounded to whole bitmap words."""
        off, size = ctypes.c_uint64(), ctypes.c_uint64()
        _lib.ms_dirty_snapshot_range(self._p(), ctypes.byref(off), ctypes.byref(size))
        return off.value, size.value

    def __iter__(self):
        p = self._p()
        nxt = ctypes.c_uint64()
        start, size = self.range
        page = _lib.ms_ctx_dirty_page_size(self._st.ptr)
        at = start
        while at < start + size and _lib.ms_dirty_snapshot_next(p, at, ctypes.byref(nxt)):
            yield nxt.value
            at = nxt.value + page


# ---- address spaces, accesses and listeners -------------------------------


def _scalar_methods(cls):
    for sfx, width, ctype, ld, st in _ffi.SCALARS:
        ldname = ("ldu" + sfx) if width < 4 else ("ld" + sfx)
        ldfn, stfn = getattr(_lib, ld), getattr(_lib, st)

        def load(self, addr, attrs=UNSPECIFIED, _fn=ldfn):
            r = ctypes.c_uint32()
            v = _fn(self._p(), addr, _attrs(attrs), ctypes.byref(r))
            _after(self._st)
            return v, _result(r.value)

        def store(self, addr, value, attrs=UNSPECIFIED, _fn=stfn, _mask=(1 << 8 * width) - 1):
            if value < 0 or value > _mask:
                raise ValueError("value 0x%x does not fit in %d bytes" %
                                 (value, _mask.bit_length() // 8))
            r = _fn(self._p(), addr, _attrs(attrs), value)
            _after(self._st)
            return _result(r)

        load.__name__ = ldname
        load.__doc__ = "%s(): load %d bytes; returns (value, Result)." % (ld, width)
        store.__name__ = "st" + sfx
        store.__doc__ = "%s(): store %d bytes; returns the Result." % (st, width)
        setattr(cls, ldname, load)
        setattr(cls, "st" + sfx, store)
    return cls


@_scalar_methods
class AddressSpace(_Child):
    """An ms_as: what one bus master sees. It belongs to the context: it is freed
    by close() or with the context, not when the Python object goes away.

    Loads: ldub, lduw_le, lduw_be, ldl_le, ldl_be, ldq_le, ldq_be(addr, attrs)
    return (value, Result). Stores: stb, stw_le, stw_be, stl_le, stl_be,
    stq_le, stq_be(addr, value, attrs) return a Result.
    """

    _what = "address space"

    def __init__(self, ctx, ptr):
        super().__init__(ctx, ptr)
        self._listeners = weakref.WeakSet()

    def close(self):
        """ms_as_free(); its listeners are unregistered and closed. Idempotent."""
        ptr, self._ptr = self._ptr, None
        if ptr is None or self._st.ptr is None:
            return
        for listener in list(self._listeners):
            listener._invalidate()
        self._st.lib.ms_as_free(ptr)
        _after(self._st)

    def __repr__(self):
        return "<memspace.AddressSpace %s>" % ("(closed)" if self.closed else repr(self.name))

    @property
    def name(self):
        return _lib.ms_as_name(self._p()).decode()

    @property
    def root(self):
        return self._ctx._wrap_region(_lib.ms_as_root(self._p()))

    # -- accesses
    def read(self, addr, length, attrs=UNSPECIFIED):
        """ms_as_read(): (bytes, Result)."""
        buf = ctypes.create_string_buffer(length)
        r = _lib.ms_as_read(self._p(), addr, _attrs(attrs), buf, length)
        _after(self._st)
        return buf.raw[:length], _result(r)

    def write(self, addr, data, attrs=UNSPECIFIED):
        """ms_as_write() of a bytes-like object: the Result."""
        data = bytes(data)
        r = _lib.ms_as_write(self._p(), addr, _attrs(attrs), data, len(data))
        _after(self._st)
        return _result(r)

    def fill(self, addr, byte, length, attrs=UNSPECIFIED):
        """ms_as_set(): @length bytes of value @byte."""
        r = _lib.ms_as_set(self._p(), addr, _attrs(attrs), byte, length)
        _after(self._st)
        return _result(r)

    def write_rom(self, addr, data):
        """ms_as_write_rom(): the loader's write into RAM and ROM."""
        data = bytes(data)
        r = _lib.ms_as_write_rom(self._p(), addr, data, len(data))
        _after(self._st)
        return _result(r)

    def access_valid(self, addr, length, is_write=False, attrs=UNSPECIFIED):
        v = _lib.ms_as_access_valid(self._p(), addr, length, bool(is_write), _attrs(attrs))
        _after(self._st)
        return bool(v)

    def translate(self, addr, length=1, is_write=False, attrs=UNSPECIFIED):
        """ms_as_translate(): (Section, bytes answering from @addr on)."""
        s = _ffi.ms_section()
        n = ctypes.c_uint64(length)
        opts = _ffi.ms_access_opts(bool(is_write), _attrs(attrs))
        _lib.ms_rcu_read_lock()
        try:
            rc = _lib.ms_as_translate(ctypes.byref(s), ctypes.byref(n), self._p(), addr,
                                      ctypes.byref(opts))
            if rc == 0:
                _lib.ms_region_ref(s.region)  # keep it past the read-side section
        finally:
            _lib.ms_rcu_read_unlock()
        _check(self._st, rc, "ms_as_translate")
        try:
            return self._ctx._section(s), n.value
        finally:
            _lib.ms_region_unref(s.region)

    def get_iotlb_entry(self, addr, is_write=False, attrs=UNSPECIFIED):
        e = _ffi.ms_iotlb_entry()
        rc = _lib.ms_as_get_iotlb_entry(ctypes.byref(e), self._p(), addr, bool(is_write),
                                        _attrs(attrs))
        _check(self._st, rc, "ms_as_get_iotlb_entry")
        return self._ctx._entry(e)

    def flatview(self):
        """The ranges of the current view, as a list of Sections."""
        fv = _lib.ms_as_get_flatview(self._p())
        try:
            out = []
            s = _ffi.ms_section()
            for i in range(_lib.ms_flatview_nr_ranges(fv)):
                if _lib.ms_flatview_range(ctypes.byref(s), fv, i) == 0:
                    out.append(self._ctx._section(s))
            return out
        finally:
            _lib.ms_flatview_unref(fv)

    # -- listeners
    def listen(self, listener, priority=0, version=2):
        """Follow this address space with @listener (ms_listener_register()).

        @listener is any object; each of these methods it has is called
        (the others are left NULL): begin(), commit(), region_add(section),
        region_del(section), region_nop(section), log_start(section, old_mask,
        new_mask), log_stop(...), log_sync(section), log_global_start(),
        log_global_stop(), and with version 2 log_global_try_start() (raise
        memspace.Error to refuse) and log_clear(section). Returns a Listener.
        Version 3's coalesced-MMIO and ioeventfd callbacks are not bound
        (a version 3 table is registered with them NULL).
        """
        if version not in (1, 2, 3):
            raise ValueError("listener ops version must be 1, 2 or 3")
        ctx = self._ctx
        ops = _ffi.ms_listener_ops()
        ops.version = version
        ops.priority = priority
        keep = []

        def void_cb(meth):
            return _ffi.VOID_FN(_guard(None, lambda opaque: meth()))

        def section_cb(meth):
            return _ffi.SECTION_FN(_guard(None, lambda s, opaque: meth(ctx._section(s[0]))))

        def log_cb(meth):
            return _ffi.LOG_FN(_guard(None, lambda s, old, new, opaque: meth(
                ctx._section(s[0]), old, new)))

        def try_start(meth):
            def call(opaque):
                meth()
                return 0

            return _ffi.TRY_START_FN(_guard(-_errno.EIO, call, refusal=True))

        kinds = {"begin": void_cb, "commit": void_cb, "region_add": section_cb,
                 "region_del": section_cb, "region_nop": section_cb, "log_start": log_cb,
                 "log_stop": log_cb, "log_sync": section_cb, "log_global_start": void_cb,
                 "log_global_stop": void_cb}
        v2 = {"log_global_try_start": try_start, "log_clear": section_cb}
        if version >= 2:
            kinds.update(v2)
        else:
            for name in v2:
                if callable(getattr(listener, name, None)):
                    raise ValueError("%s needs listener ops version 2" % name)
        for name, make in kinds.items():
            meth = getattr(listener, name, None)
            if callable(meth):
                fn = make(meth)
                setattr(ops, name, fn)
                keep.append(fn)
        keep.append(ops)
        self._st.keep.append(keep)  # the library may call them until the context is freed
        out = _ffi.ms_listener_p()
        rc = _lib.ms_listener_register(ctypes.byref(out), self._p(), ctypes.byref(ops), None)
        _check(self._st, rc, "ms_listener_register")
        obj = Listener(ctx, out.value, keep, self)
        self._listeners.add(obj)
        return obj

    def log_sync(self):
        _check(self._st, _lib.ms_as_log_sync(self._p()), "ms_as_log_sync")


class Listener(_Child):
    """A listener registration: it lasts until close(), its address space's close()
    or the context's close()."""

    _what = "listener"

    def __init__(self, ctx, ptr, keep, space):
        super().__init__(ctx, ptr)
        self._keep = keep
        self.address_space = space

    def close(self):
        """ms_listener_unregister(). Idempotent."""
        ptr = self._ptr
        if ptr is None or self._st.ptr is None:
            self._ptr = None
            return
        rc = self._st.lib.ms_listener_unregister(ptr)
        if rc == 0:
            self._ptr = None
        _check(self._st, rc, "ms_listener_unregister")
