# memspace Python bindings: RAM backends and dirty tracking.
#
# SPDX-License-Identifier: MIT
"""ms_region_new_ram_with() backends (anon, memfd, file, fd, ptr, none),
resizeable RAM, and the per-client dirty bitmaps with snapshots."""

import errno
import os
import tempfile
import unittest

from support import CtxTest  # first: it puts the package on sys.path
import memspace
from memspace import Backend, RamFlag, Result, DIRTY_MIGRATION, DIRTY_VGA


PAGE = 4096


class BackendTest(CtxTest):
    def place(self, region, addr=0):
        system = self.ctx.container("system", memspace.SIZE_2_64)
        system.add_subregion(addr, region)
        return self.ctx.address_space(system, "memory")

    def test_anon(self):
        r = self.ctx.ram_with("anon", 4 * PAGE, "anon")
        info = r.ram_info()
        self.assertEqual((info.backend, info.fd, info.size, info.shared, info.resizeable),
                         (Backend.ANON, -1, 4 * PAGE, False, False))
        mem = self.place(r)
        mem.stq_le(8, 42)
        self.assertEqual(mem.ldq_le(8), (42, Result.OK))

    def test_memfd_is_shared(self):
        r = self.ctx.ram_with("shm", 2 * PAGE, Backend.MEMFD)
        info = r.ram_info()
        self.assertEqual(info.backend, Backend.MEMFD)
        self.assertTrue(info.shared)
        self.assertGreaterEqual(info.fd, 0)
        mem = self.place(r)
        mem.write(0x10, b"shared")
        self.assertEqual(os.pread(info.fd, 6, 0x10), b"shared")
        with self.assertRaises(memspace.Error) as cm:
            self.ctx.ram_with("bad", PAGE, Backend.MEMFD, flags=RamFlag.READONLY)
        self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_file_and_fd(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "guest.ram")
            r = self.ctx.ram_with("file", 2 * PAGE, "file", path=path, flags=RamFlag.SHARED)
            mem = self.place(r)
            mem.write(PAGE, b"on disk")
            with open(path, "rb") as f:
                f.seek(PAGE)
                self.assertEqual(f.read(7), b"on disk")
            fd = os.open(path, os.O_RDWR)
            try:
                r2 = self.ctx.ram_with("fd", PAGE, Backend.FD, fd=fd, offset=PAGE,
                                       flags=RamFlag.SHARED)
            finally:
                os.close(fd)  # the region keeps its own duplicate
            self.assertEqual(r2.dispatch_read(0, 1), (ord("o"), Result.OK))
            with self.assertRaises(memspace.Error) as cm:
                self.ctx.ram_with("ro", PAGE, "file", path=os.path.join(d, "missing"),
                                  flags=RamFlag.READONLY)
            self.assertEqual(cm.exception.errno, errno.ENOENT)
            self.assertFalse(os.path.exists(os.path.join(d, "missing")))

    def test_ptr_and_none(self):
        buf = bytearray(PAGE)
        r = self.ctx.ram_with("ptr", PAGE, "ptr", buffer=buf)
        self.assertEqual(r.ram_info().backend, Backend.PTR)
        r.dispatch_write(0, 0x5a, 1)
        self.assertEqual(buf[0], 0x5a)
        layout = self.ctx.ram_with("layout", 1 << 40, "none")
        self.assertEqual(layout.ram_info().backend, Backend.NONE)
        self.assertIsNone(layout.host_address)
        mem = self.place(layout)
        self.assertEqual(mem.ldub(0), (0, Result.ACCESS_ERROR))
        with self.assertRaises(memspace.Error) as cm:
            self.ctx.ram_with("bad", PAGE, "none", flags=RamFlag.SHARED)
        self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_resizeable(self):
        seen = []
        r = self.ctx.ram_with("rs", PAGE, max_size=4 * PAGE,
                              resized=lambda region, old, new: seen.append((region, old, new)))
        self.assertTrue(r.ram_info().resizeable)
        r.ram_resize(3 * PAGE)
        self.assertEqual(r.size, 3 * PAGE)
        self.assertEqual(seen, [(r, PAGE, 3 * PAGE)])
        with self.assertRaises(memspace.Error) as cm:
            r.ram_resize(5 * PAGE)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertEqual(r.size, 3 * PAGE)


class DirtyTest(CtxTest):
    def test_client_log_and_snapshot(self):
        system, ram, mem = self.machine(256 * PAGE)
        self.assertEqual(self.ctx.dirty_page_size, PAGE)
        with self.assertRaises(memspace.Error) as cm:
            self.ctx.dirty_page_size = 512  # RAM exists already
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        mem.stb(0, 1)
        self.assertFalse(ram.get_dirty(0, PAGE, DIRTY_VGA))  # not logged yet
        ram.set_dirty_log(DIRTY_VGA)
        self.assertEqual(ram.dirty_log_mask, 1 << DIRTY_VGA)
        mem.stb(3 * PAGE + 5, 1)
        mem.write(70 * PAGE - 2, b"abcd")  # two pages
        self.assertTrue(ram.get_dirty(3 * PAGE, 1, DIRTY_VGA))
        self.assertFalse(ram.get_dirty(4 * PAGE, PAGE, DIRTY_VGA))
        self.assertFalse(ram.get_dirty(3 * PAGE, 1, DIRTY_MIGRATION))
        ram.host_buffer()[10 * PAGE] = 1  # behind the library's back ...
        self.assertFalse(ram.get_dirty(10 * PAGE, 1, DIRTY_VGA))
        ram.set_dirty(10 * PAGE, 1)  # ... so marked by hand
        with ram.snapshot_and_clear_dirty(client=DIRTY_VGA) as snap:
            self.assertEqual(list(snap), [3 * PAGE, 10 * PAGE, 69 * PAGE, 70 * PAGE])
            self.assertEqual(snap.count, 4)
            self.assertEqual(snap.range, (0, 256 * PAGE))
            self.assertTrue(snap.get_dirty(69 * PAGE, 2 * PAGE))
            self.assertFalse(snap.get_dirty(0, PAGE))
        self.assertTrue(snap.closed)
        self.assertFalse(ram.get_dirty(0, 256 * PAGE, DIRTY_VGA))  # cleared
        mem.stb(PAGE, 1)
        ram.reset_dirty(PAGE, 1, DIRTY_VGA)
        self.assertFalse(ram.get_dirty(PAGE, 1, DIRTY_VGA))
        with self.assertRaises(memspace.Error) as cm:
            ram.set_dirty_log(DIRTY_VGA + 8)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        with self.assertRaises(memspace.Error):
            self.ctx.container("c", PAGE).set_dirty_log(DIRTY_VGA)

    def test_global_logging_marks_migration(self):
        system, ram, mem = self.machine(16 * PAGE)
        self.ctx.dirty_log_global_start()
        self.assertEqual(ram.dirty_log_mask, 1 << DIRTY_MIGRATION)
        mem.stl_le(5 * PAGE, 7)
        snap = ram.snapshot_and_clear_dirty(0, 16 * PAGE, DIRTY_MIGRATION)
        self.assertEqual(list(snap), [5 * PAGE])
        snap.close()
        snap.close()
        self.ctx.dirty_log_global_stop()
        self.assertEqual(ram.dirty_log_mask, 0)

    def test_page_size_before_ram(self):
        with memspace.Context() as ctx:
            ctx.dirty_page_size = 512
            self.assertEqual(ctx.dirty_page_size, 512)
            with self.assertRaises(memspace.Error):
                ctx.dirty_page_size = 1000
            ram = ctx.ram("ram", 4096)
            ram.set_dirty_log(3)
            ram.set_dirty(600, 1)
            snap = ram.snapshot_and_clear_dirty(client=3)
        self.assertTrue(snap.closed)  # freed with its context


if __name__ == "__main__":
    unittest.main()
