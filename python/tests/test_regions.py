# memspace Python bindings: contexts, regions, accesses, transactions, errors, lifetimes.
#
# SPDX-License-Identifier: MIT
"""Regions of every kind through the bindings, the accesses that reach them,
transactions, the errors raised and the lifetime rules of the objects."""

import ctypes
import errno
import gc
import os
import subprocess
import sys
import textwrap
import unittest

from support import CtxTest  # first: it puts the package on sys.path
import memspace
from memspace import Result, Kind, Endian, UNSPECIFIED


class Regs:
    """A little-endian register file that records its accesses."""

    def __init__(self, size):
        self.mem = bytearray(size)
        self.log = []

    def read(self, addr, size, attrs):
        self.log.append(("r", addr, size, attrs))
        return int.from_bytes(self.mem[addr:addr + size], "little")

    def write(self, addr, data, size, attrs):
        self.log.append(("w", addr, data, size, attrs))
        self.mem[addr:addr + size] = data.to_bytes(size, "little")


class RegionTest(CtxTest):
    def test_kinds(self):
        ctx = self.ctx
        target = ctx.ram("t", 0x1000)
        made = {
            Kind.CONTAINER: ctx.container("c", 0x1000),
            Kind.IO: ctx.io("io", 0x1000),
            Kind.RAM: ctx.ram("ram", 0x1000),
            Kind.ROM: ctx.rom("rom", 0x1000),
            Kind.ROM_DEVICE: ctx.rom_device("romd", 0x1000, read=lambda a, s, at: 0),
            Kind.RAM_DEVICE: ctx.ram_device("ramd", 0x1000),
            Kind.RAM_PTR: ctx.ram_ptr("ptr", 0x1000),
            Kind.ALIAS: ctx.alias("alias", target, 0x10, 0x100),
            Kind.IOMMU: ctx.iommu("iommu", 0x1000),
        }
        for kind, r in made.items():
            with self.subTest(kind=kind):
                self.assertEqual(r.kind, kind)
                self.assertEqual(r.context, ctx)
        self.assertIsInstance(made[Kind.IOMMU], memspace.IOMMURegion)
        self.assertEqual(made[Kind.ALIAS].alias_target, target)
        self.assertEqual(made[Kind.ALIAS].alias_offset, 0x10)
        self.assertEqual(made[Kind.ALIAS].size, 0x100)
        self.assertFalse(made[Kind.CONTAINER].terminating)
        self.assertTrue(made[Kind.RAM].terminating)
        self.assertIsNone(made[Kind.IO].host_address)
        self.assertIsNotNone(made[Kind.RAM].host_address)

    def test_properties_and_tree(self):
        system, ram, mem = self.machine()
        self.assertEqual(ram.name, "ram")
        self.assertEqual(ram.container, system)
        self.assertIs(system.subregions[0], ram)  # one Python object per region
        ram.owner = "board"
        self.assertEqual(ram.owner, "board")
        ram.addr = 0x1000
        self.assertEqual(ram.addr, 0x1000)
        self.assertEqual(mem.translate(0x1000)[0].region, ram)
        ram.enabled = False
        self.assertFalse(ram.enabled)
        self.assertEqual(mem.read(0x1000, 1)[1], Result.DECODE_ERROR)
        ram.enabled = True
        ram.readonly = True
        self.assertEqual(mem.stb(0x1000, 5), Result.OK)  # ignored, succeeds
        self.assertEqual(mem.ldub(0x1000), (0, Result.OK))
        ram.readonly = False
        system.take_subregion(ram)
        self.assertIsNone(ram.container)
        system.add_subregion(0, ram, priority=3)
        self.assertEqual(ram.priority, 3)
        ram.priority = 1
        self.assertEqual(ram.priority, 1)
        system.del_subregion(ram)
        self.assertEqual(system.subregions, [])
        self.assertEqual(ram.size, 0x10000)  # our reference keeps it

    def test_errors(self):
        system, ram, mem = self.machine()
        with self.assertRaises(memspace.Error) as cm:
            self.ctx.ram("zero", 0)
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        self.assertIsInstance(cm.exception, OSError)
        self.assertIn("ms_region_new_ram", str(cm.exception))
        self.assertIn(memspace.strerror(-errno.EINVAL), str(cm.exception))
        other = self.ctx.container("other", 0x1000)
        with self.assertRaises(memspace.Error) as cm:
            other.add_subregion(0, ram)  # ram is already in system
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        with self.assertRaises(memspace.Error) as cm:
            system.del_subregion(other)
        self.assertEqual(cm.exception.errno, errno.ENOENT)
        with self.assertRaises(memspace.Error) as cm:
            ram.size = 0x100  # RAM's memory is fixed
        self.assertEqual(cm.exception.errno, errno.EINVAL)
        with memspace.Context() as ctx2:
            with self.assertRaises(memspace.Error) as cm:
                ctx2.address_space(system, "x")
            self.assertEqual(cm.exception.errno, errno.EXDEV)
        with self.assertRaises(memspace.Error) as cm:
            ram.romd = True
        self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_io_callbacks_and_endianness(self):
        system, ram, mem = self.machine()
        le, be = Regs(0x100), Regs(0x100)
        system.add_subregion(0x10000, self.ctx.io("le", 0x100, le.read, le.write,
                                                  valid=(1, 8), impl=(1, 8)))
        system.add_subregion(0x20000, self.ctx.io("be", 0x100, be.read, be.write,
                                                  endianness=Endian.BIG, valid=(1, 8),
                                                  impl=(1, 8)))
        self.assertEqual(mem.stl_le(0x10000, 0x11223344), Result.OK)
        self.assertEqual(le.log[-1][:4], ("w", 0, 0x11223344, 4))
        self.assertEqual(le.log[-1][4], UNSPECIFIED)
        self.assertEqual(mem.ldl_le(0x10000), (0x11223344, Result.OK))
        self.assertEqual(mem.ldl_be(0x10000), (0x44332211, Result.OK))
        self.assertEqual(mem.lduw_le(0x10002), (0x1122, Result.OK))
        self.assertEqual(mem.ldub(0x10003), (0x11, Result.OK))
        # A big-endian device sees the bus value swapped.
        self.assertEqual(mem.stl_be(0x20000, 0xaabbccdd), Result.OK)
        self.assertEqual(be.log[-1][:4], ("w", 0, 0xaabbccdd, 4))
        self.assertEqual(mem.ldl_be(0x20000), (0xaabbccdd, Result.OK))
        self.assertEqual(mem.ldl_le(0x20000), (0xddccbbaa, Result.OK))
        self.assertEqual(mem.ldq_be(0x20000), (0xaabbccdd, Result.OK))
        self.assertEqual(mem.stq_le(0x10008, 0x0102030405060708), Result.OK)
        self.assertEqual(mem.ldq_le(0x10008), (0x0102030405060708, Result.OK))
        self.assertEqual(mem.stw_be(0x10010, 0x1234), Result.OK)
        self.assertEqual(mem.lduw_be(0x10010), (0x1234, Result.OK))
        self.assertEqual(mem.lduw_le(0x10010), (0x3412, Result.OK))
        self.assertEqual(mem.stw_le(0x10010, 0x1234), Result.OK)
        self.assertEqual(mem.stb(0x10020, 0xff), Result.OK)
        self.assertEqual(mem.stq_be(0x10028, 1), Result.OK)
        self.assertEqual(mem.read(0x10028, 8), (b"\0" * 7 + b"\1", Result.OK))
        self.assertEqual(mem.stl_be(0x10030, 1), Result.OK)
        self.assertEqual(mem.read(0x10030, 4), (b"\0\0\0\1", Result.OK))
        # Attributes reach the device.
        attrs = memspace.Attrs(secure=True, requester_id=0x42)
        mem.ldub(0x10000, attrs)
        self.assertEqual(le.log[-1][3], attrs)
        with self.assertRaises(ValueError):
            mem.stb(0x10000, 0x100)

    def test_device_results_valid_and_accepts(self):
        system, ram, mem = self.machine()
        dev = self.ctx.io("dev", 0x100, read=lambda a, s, at: (0xdead, Result.ERROR),
                          write=lambda a, d, s, at: Result.ERROR, valid=(4, 4),
                          accepts=lambda a, s, w, at: at.secure)
        system.add_subregion(0x10000, dev)
        secure = memspace.Attrs(secure=True)
        self.assertEqual(mem.ldl_le(0x10000, secure), (0xdead, Result.ERROR))
        self.assertEqual(mem.stl_le(0x10000, 1, secure), Result.ERROR)
        # Refused by valid (size) or accepts: decode error, no callback.
        self.assertEqual(mem.ldub(0x10000, secure), (0, Result.DECODE_ERROR))
        self.assertEqual(mem.ldl_le(0x10000), (0, Result.DECODE_ERROR))
        self.assertFalse(mem.access_valid(0x10000, 4))
        self.assertTrue(mem.access_valid(0x10000, 4, attrs=secure))
        # A reservation answers nothing.
        system.add_subregion(0x20000, self.ctx.io("resv", 0x100))
        self.assertEqual(mem.ldub(0x20000), (0, Result.DECODE_ERROR))
        self.assertEqual(dev.dispatch_read(0, 4, secure), (0xdead, Result.ERROR))
        self.assertEqual(ram.dispatch_write(8, 0x55, 1), Result.OK)
        self.assertEqual(ram.dispatch_read(8, 1), (0x55, Result.OK))

    def test_callback_exception_is_raised_by_the_access(self):
        system, ram, mem = self.machine()

        def broken(addr, size, attrs):
            raise KeyError("device bug")

        system.add_subregion(0x10000, self.ctx.io("bad", 0x100, read=broken))
        with self.assertRaises(KeyError):
            mem.ldl_le(0x10000)
        self.assertEqual(mem.ldub(0), (0, Result.OK))  # nothing left pending

    def test_device_dma_from_callback(self):
        system, ram, mem = self.machine()
        mem.write(0x100, b"payload")

        def read(addr, size, attrs):
            data, r = mem.read(0x100, size)  # a nested access from the callback
            return int.from_bytes(data, "little")

        system.add_subregion(0x10000, self.ctx.io("dma", 0x100, read=read, valid=(1, 8),
                                                  impl=(1, 8)))
        self.assertEqual(mem.ldq_le(0x10000), (int.from_bytes(b"payload\0", "little"),
                                               Result.OK))

    def test_rom_romd_and_loader(self):
        system, ram, mem = self.machine()
        rom = self.ctx.rom("rom", 0x1000)
        regs = Regs(0x1000)
        flash = self.ctx.rom_device("flash", 0x1000, regs.read, regs.write)
        system.add_subregion(0x100000, rom)
        system.add_subregion(0x200000, flash)
        self.assertEqual(mem.write_rom(0x100000, b"BIOS"), Result.OK)
        self.assertEqual(mem.write(0x100000, b"XX"), Result.OK)  # ignored
        self.assertEqual(mem.read(0x100000, 4), (b"BIOS", Result.OK))
        self.assertEqual(mem.write(0x100000, b"XX", memspace.Attrs(debug=True)), Result.OK)
        self.assertEqual(mem.read(0x100000, 4), (b"XXOS", Result.OK))
        mem.write_rom(0x200000, b"FLASH")
        self.assertTrue(flash.romd)
        self.assertEqual(mem.read(0x200000, 5), (b"FLASH", Result.OK))
        self.assertEqual(mem.stl_le(0x200000, 0x90), Result.OK)  # to the callback
        self.assertEqual(regs.log[-1][:4], ("w", 0, 0x90, 4))
        flash.romd = False
        self.assertEqual(mem.ldl_le(0x200000), (0x90, Result.OK))
        flash.romd = True
        self.assertEqual(mem.ldl_le(0x200000)[0], int.from_bytes(b"FLAS", "little"))
        mem.fill(0x300, 0xab, 4)
        self.assertEqual(mem.read(0x300, 4)[0], b"\xab" * 4)

    def test_ram_ptr_and_ram_device_buffers(self):
        system, ram, mem = self.machine()
        buf = bytearray(b"\x11" * 0x1000)
        ptr = self.ctx.ram_ptr("ptr", 0x1000, buf)
        dev = self.ctx.ram_device("bar", 0x1000)
        system.add_subregion(0x100000, ptr)
        system.add_subregion(0x200000, dev)
        self.assertEqual(mem.ldub(0x100000), (0x11, Result.OK))
        mem.stl_le(0x100004, 0xcafef00d)
        self.assertEqual(bytes(buf[4:8]), (0xcafef00d).to_bytes(4, "little"))
        mem.stq_le(0x200008, 0x1122334455667788)
        self.assertEqual(bytes(dev.host_buffer()[8:16]),
                         (0x1122334455667788).to_bytes(8, "little"))
        ram.host_buffer()[0:3] = b"abc"
        self.assertEqual(mem.read(0, 3)[0], b"abc")
        with self.assertRaises(ValueError):
            self.ctx.ram_ptr("small", 0x1000, bytearray(10))  # too small a buffer

    def test_alias_window(self):
        system = self.ctx.container("system", memspace.SIZE_2_64)
        ram = self.ctx.ram("pc.ram", 0x4000)
        mem = self.ctx.address_space(system, "memory")
        lo = self.ctx.alias("lo", ram, 0, 0x2000)
        hi = self.ctx.alias("hi", ram, 0x2000, 0x2000)
        system.add_subregion(0, lo)
        system.add_subregion(0x10000, hi)
        mem.stl_le(0x10000, 0x1234)
        self.assertEqual(ram.dispatch_read(0x2000, 4), (0x1234, Result.OK))
        hi.alias_offset = 0
        self.assertEqual(mem.ldl_le(0x10000), (0, Result.OK))
        s, n = mem.translate(0x10004, 0x10)
        self.assertEqual((s.region, s.offset_in_region, n), (ram, 4, 0x10))
        f = system.find(0x10004)
        self.assertEqual((f.region, f.offset_in_region), (ram, 4))

    def test_transaction(self):
        system, ram, mem = self.machine()
        count = self.ctx.render_count
        with self.ctx.transaction():
            self.assertEqual(self.ctx.transaction_depth, 1)
            for i in range(4):
                system.add_subregion(0x100000 * (i + 1), self.ctx.ram("r%d" % i, 0x1000))
            self.assertEqual(len(mem.flatview()), 1)  # nothing published yet
        self.assertEqual(self.ctx.transaction_depth, 0)
        self.assertEqual(len(mem.flatview()), 5)
        self.assertEqual(self.ctx.render_count, count + 1)
        # An exception in the block still commits what was done, then propagates.
        with self.assertRaises(RuntimeError):
            with self.ctx.transaction():
                ram.enabled = False
                raise RuntimeError("stop")
        self.assertEqual(self.ctx.transaction_depth, 0)
        self.assertEqual(len(mem.flatview()), 4)
        with self.assertRaises(memspace.Error) as cm:
            self.ctx.commit()
        self.assertEqual(cm.exception.errno, errno.EPERM)

    def test_mtree(self):
        system, ram, mem = self.machine()
        ram.owner = "me"
        self.assertEqual(self.ctx.mtree(), textwrap.dedent("""\
            address-space: memory
              0000000000000000-ffffffffffffffff (prio 0, i/o): system
                0000000000000000-000000000000ffff (prio 0, ram): ram

            """))
        flat = self.ctx.mtree(flat=True, owner=True)
        self.assertIn("(prio 0, ram): ram owner:{dev id=me}\n", flat)
        self.assertTrue(self.ctx.mtree(flat=True).startswith("FlatView #0\n"))
        self.assertTrue(self.ctx.mtree(json=True).lstrip().startswith("{"))
        ram.enabled = False
        self.assertNotIn("ram", self.ctx.mtree().split("system")[1])
        self.assertIn("[disabled]", self.ctx.mtree(disabled=True))

    def test_ops_version_is_checked(self):
        # A table of another version is refused by the library (-EINVAL).
        ops = memspace._ffi.ms_region_ops()
        ops.version = memspace._ffi.REGION_OPS_VERSION + 1
        fn = memspace._ffi.READ_ATTRS_FN(lambda *a: 0)
        wfn = memspace._ffi.WRITE_ATTRS_FN(lambda *a: 0)
        ops.read_with_attrs, ops.write_with_attrs = fn, wfn
        opts = memspace._ffi.ms_region_io_opts(b"x", 0x100, ctypes.pointer(ops))
        out = ctypes.c_void_p()
        rc = memspace._lib.ms_region_new_io(ctypes.byref(out), self.ctx._p(), ctypes.byref(opts))
        self.assertEqual(rc, -errno.EINVAL)
        ops.version = memspace._ffi.REGION_OPS_VERSION
        rc = memspace._lib.ms_region_new_io(ctypes.byref(out), self.ctx._p(), ctypes.byref(opts))
        self.assertEqual(rc, 0)
        memspace._lib.ms_region_unref(out.value)


class LifetimeTest(unittest.TestCase):
    def test_close_is_idempotent_and_invalidates(self):
        ctx = memspace.Context()
        ram = ctx.ram("ram", 0x1000)
        mem = ctx.address_space(ram, "m")
        ram.close()
        ram.close()
        self.assertTrue(ram.closed)
        with self.assertRaises(memspace.ClosedError) as cm:
            ram.size
        self.assertEqual(cm.exception.errno, errno.EBADF)
        root = mem.root  # a new object, with a reference of its own
        self.assertEqual(root.name, "ram")
        ctx.close()
        ctx.close()
        self.assertTrue(root.closed and mem.closed and ctx.closed)
        with self.assertRaises(memspace.ClosedError):
            mem.ldub(0)
        with self.assertRaises(memspace.ClosedError):
            ctx.ram("x", 1)
        root.close()  # after the context: nothing to do, no crash

    def test_region_keeps_context_alive(self):
        ctx = memspace.Context()
        ram = ctx.ram("ram", 0x1000)
        st = ctx._st
        del ctx
        gc.collect()
        self.assertIsNotNone(st.ptr)
        self.assertEqual(ram.context.ram("b", 1).size, 1)
        ctx = ram.context
        del ram
        del ctx
        gc.collect()
        self.assertIsNone(st.ptr)  # the last object went: the context was freed

    def test_callbacks_outlive_python_objects(self):
        ctx = memspace.Context()
        system = ctx.container("system", memspace.SIZE_2_64)
        mem = ctx.address_space(system, "m")
        system.add_subregion(0, ctx.io("dev", 0x10, read=lambda a, s, at: 0x77))
        # The device's Python object is gone; the container holds the region,
        # the context its callback.
        gc.collect()
        self.assertEqual(mem.ldub(0), (0x77, Result.OK))
        ctx.close()

    def test_interpreter_shutdown(self):
        # Objects left for the interpreter's shutdown, in a cycle with the
        # context and with callbacks: nothing crashes or complains.
        code = textwrap.dedent("""
            import memspace
            ctx = memspace.Context()
            system = ctx.container("system", memspace.SIZE_2_64)
            mem = ctx.address_space(system, "m")
            dev = ctx.io("dev", 0x10, read=lambda a, s, at: 1)
            system.add_subregion(0, dev)
            class L:
                def region_add(self, s): pass
            l = mem.listen(L())
            snap_ram = ctx.ram("ram", 0x2000)
            snap_ram.set_dirty_log(3)
            snap = snap_ram.snapshot_and_clear_dirty(client=3)
            ctx.cycle = [ctx, dev, mem, l, snap]
            dev.cycle = ctx
            print("ok")
            """)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [os.path.dirname(os.path.dirname(memspace.__file__))] +
            ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60, env=env)
        self.assertEqual((out.returncode, out.stdout, out.stderr), (0, "ok\n", ""))

    def test_context_cannot_close_from_callback(self):
        ctx = memspace.Context()
        system = ctx.container("system", memspace.SIZE_2_64)
        mem = ctx.address_space(system, "m")
        system.add_subregion(0, ctx.io("dev", 0x10, read=lambda a, s, at: ctx.close() or 0))
        with self.assertRaises(memspace.Error) as cm:
            mem.ldub(0)
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        self.assertFalse(ctx.closed)
        ctx.close()

    def test_version(self):
        v = memspace.version()
        self.assertEqual(memspace.version_string(), "%d.%d.%d" % (v >> 16, (v >> 8) & 0xff,
                                                                  v & 0xff))


if __name__ == "__main__":
    unittest.main()
