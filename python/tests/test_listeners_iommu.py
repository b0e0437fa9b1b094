# memspace Python bindings: listeners and IOMMUs with Python callbacks.
#
# SPDX-License-Identifier: MIT
"""Listeners (ms_listener_ops version 2 and 1) and IOMMU regions with a Python
translate callback, notifiers and replay."""

import errno
import threading
import unittest

from support import CtxTest  # first: it puts the package on sys.path
import memspace
from memspace import Result, Perm, NotifierFlag, IOTLBEntry, IOMMUEvent


class Recorder:
    """A listener that records every callback with the range it was given."""

    def __init__(self):
        self.log = []

    def _s(self, s):
        return (s.region.name, s.start, s.last)

    def begin(self):
        self.log.append(("begin",))

    def commit(self):
        self.log.append(("commit",))

    def region_add(self, s):
        self.log.append(("add",) + self._s(s))
        assert s.address_space is not None

    def region_del(self, s):
        self.log.append(("del",) + self._s(s))

    def log_start(self, s, old, new):
        self.log.append(("log_start",) + self._s(s) + (old, new))

    def log_stop(self, s, old, new):
        self.log.append(("log_stop",) + self._s(s) + (old, new))

    def log_sync(self, s):
        self.log.append(("log_sync",) + self._s(s))

    def log_global_start(self):
        self.log.append(("global_start",))

    def log_global_stop(self):
        self.log.append(("global_stop",))

    def log_clear(self, s):
        self.log.append(("log_clear",) + self._s(s))


class ListenerTest(CtxTest):
    def test_replay_changes_and_unregister(self):
        system, ram, mem = self.machine(0x1000)
        rec = Recorder()
        listener = mem.listen(rec)
        self.assertEqual(rec.log, [("begin",), ("add", "ram", 0, 0xfff), ("commit",)])
        rec.log.clear()
        dev = self.ctx.io("dev", 0x100)
        system.add_subregion(0x2000, dev)
        self.assertEqual(rec.log, [("begin",), ("add", "dev", 0x2000, 0x20ff), ("commit",)])
        rec.log.clear()
        dev.addr = 0x3000
        self.assertEqual(rec.log, [("begin",), ("del", "dev", 0x2000, 0x20ff),
                                   ("add", "dev", 0x3000, 0x30ff), ("commit",)])
        rec.log.clear()
        self.assertIs(listener.address_space, mem)
        listener.close()
        listener.close()
        self.assertEqual(rec.log, [("begin",), ("del", "ram", 0, 0xfff),
                                   ("del", "dev", 0x3000, 0x30ff), ("commit",)])
        rec.log.clear()
        ram.enabled = False
        self.assertEqual(rec.log, [])

    def test_dirty_log_callbacks(self):
        system, ram, mem = self.machine(0x1000)
        rec = Recorder()
        mem.listen(rec)
        rec.log.clear()
        ram.set_dirty_log(memspace.DIRTY_VGA)
        self.assertIn(("log_start", "ram", 0, 0xfff, 0, 1), rec.log)
        mem.log_sync()
        self.assertIn(("log_sync", "ram", 0, 0xfff), rec.log)
        ram.clear_dirty(0, 0x1000)
        self.assertIn(("log_clear", "ram", 0, 0xfff), rec.log)
        self.ctx.dirty_log_global_start()
        self.assertIn(("global_start",), rec.log)
        self.assertTrue(self.ctx.dirty_log_global)
        self.ctx.dirty_log_global_stop()
        self.assertIn(("global_stop",), rec.log)
        ram.set_dirty_log(memspace.DIRTY_VGA, False)
        self.assertIn(("log_stop", "ram", 0, 0xfff, 1, 0), rec.log)

    def test_try_start_refuses_and_rolls_back(self):
        system, ram, mem = self.machine(0x1000)
        first = Recorder()
        mem.listen(first, priority=0)

        class Refuser:
            calls = 0

            def log_global_try_start(self):
                Refuser.calls += 1
                raise memspace.Error(errno.EBUSY)

        mem.listen(Refuser(), priority=10)
        with self.assertRaises(memspace.Error) as cm:
            self.ctx.dirty_log_global_start()
        self.assertEqual(cm.exception.errno, errno.EBUSY)
        self.assertEqual(Refuser.calls, 1)
        self.assertFalse(self.ctx.dirty_log_global)
        # The listener that had started was stopped again.
        self.assertEqual([e for e in first.log if "global" in e[0]],
                         [("global_start",), ("global_stop",)])

    def test_version_1_table(self):
        system, ram, mem = self.machine(0x1000)
        rec = Recorder()
        with self.assertRaises(ValueError):
            mem.listen(rec, version=1)  # it has log_clear, a version 2 field

        class Old:
            def __init__(self):
                self.adds = []

            def region_add(self, s):
                self.adds.append(s.region.name)

        old = Old()
        mem.listen(old, version=1)
        self.assertEqual(old.adds, ["ram"])

    def test_listener_cannot_change_topology(self):
        system, ram, mem = self.machine(0x1000)
        errors = []

        class Meddler:
            def region_add(self, s):
                try:
                    s.region.enabled = False
                except memspace.Error as exc:
                    errors.append(exc.errno)

        mem.listen(Meddler())
        self.assertEqual(errors, [errno.EBUSY])

    def test_exception_in_listener_is_raised_by_the_change(self):
        system, ram, mem = self.machine(0x1000)

        class Broken:
            armed = False

            def region_add(self, s):
                if Broken.armed:
                    raise ZeroDivisionError("listener bug")

        mem.listen(Broken())
        Broken.armed = True
        with self.assertRaises(ZeroDivisionError):
            system.add_subregion(0x1000, self.ctx.ram("r2", 0x1000))
        self.assertEqual(len(mem.flatview()), 2)  # the change itself was made

    def test_as_close_closes_listeners(self):
        system, ram, mem = self.machine(0x1000)
        rec = Recorder()
        listener = mem.listen(rec)
        mem.close()
        self.assertTrue(listener.closed)
        self.assertIn(("del", "ram", 0, 0xfff), rec.log)
        listener.close()  # nothing to do


class IOMMUTest(CtxTest):
    def setUp(self):
        super().setUp()
        self.system, self.ram, self.mem = self.machine(0x10000)
        self.table = {}  # IOVA page -> (memory page, Perm)
        self.calls = []

        def translate(addr, flags, index):
            self.calls.append((addr, flags, index))
            page = addr & ~0xfff
            if page not in self.table:
                return None
            target, perm = self.table[page]
            return IOTLBEntry(self.mem, page, target, 0xfff, perm)

        self.iommu = self.ctx.iommu("iommu", 1 << 32, translate, min_page_size=0x1000)
        self.dma = self.ctx.address_space(self.iommu, "dma")

    def test_translate_and_access(self):
        self.table[0x10000] = (0x2000, Perm.RO)
        self.table[0x11000] = (0x5000, Perm.RW)
        self.mem.write(0x2004, b"DMA!")
        self.assertEqual(self.dma.read(0x10004, 4), (b"DMA!", Result.OK))
        self.assertEqual(self.dma.write(0x11008, b"xy"), Result.OK)
        self.assertEqual(self.mem.read(0x5008, 2), (b"xy", Result.OK))
        # A write through a read-only mapping, and an unmapped page: refused.
        self.assertEqual(self.dma.stb(0x10000, 1), Result.ACCESS_ERROR)
        self.assertEqual(self.dma.ldub(0x20000), (0, Result.ACCESS_ERROR))
        e = self.dma.get_iotlb_entry(0x10004)
        self.assertEqual((e.target_as, e.iova, e.translated_addr, e.addr_mask, e.perm),
                         (self.mem, 0x10000, 0x2000, 0xfff, Perm.RO))
        self.assertEqual(e.translate(0x10004), 0x2004)
        with self.assertRaises(memspace.Error) as cm:
            self.dma.get_iotlb_entry(0x10004, is_write=True)
        self.assertEqual(cm.exception.errno, errno.EACCES)
        s, n = self.dma.translate(0x11008, 0x100)
        self.assertEqual((s.region, s.offset_in_region, n), (self.ram, 0x5008, 0x100))
        direct = self.iommu.translate(0x11008, Perm.NONE)
        self.assertEqual((direct.translated_addr, direct.perm), (0x5000, Perm.RW))
        self.assertEqual(self.iommu.min_page_size, 0x1000)
        self.assertEqual(self.iommu.num_indexes, 1)
        self.assertEqual(self.iommu.attrs_to_index(memspace.UNSPECIFIED), 0)

    def test_notifiers_and_replay(self):
        events = []
        n = self.iommu.register_notifier(events.append, NotifierFlag.IOTLB_EVENTS,
                                         start=0x10000, end=0x1ffff)
        self.assertEqual(self.iommu.notify_flags, NotifierFlag.IOTLB_EVENTS)
        self.table[0x10000] = (0x2000, Perm.RW)
        entry = IOTLBEntry(self.mem, 0x10000, 0x2000, 0xfff, Perm.RW)
        self.iommu.notify(IOMMUEvent(NotifierFlag.MAP, entry))
        self.iommu.notify(IOMMUEvent(NotifierFlag.MAP,
                                     IOTLBEntry(self.mem, 0x30000, 0x3000, 0xfff, Perm.RW)))
        self.assertEqual(events, [IOMMUEvent(NotifierFlag.MAP, entry)])  # out of range
        events.clear()
        self.iommu.replay(n)
        self.assertEqual(events, [IOMMUEvent(NotifierFlag.MAP, entry)])
        events.clear()
        del self.table[0x10000]
        unmap = IOTLBEntry(None, 0x10000, 0, 0xfff, Perm.NONE)
        self.iommu.notify(IOMMUEvent(NotifierFlag.UNMAP, unmap))
        self.assertEqual(events, [IOMMUEvent(NotifierFlag.UNMAP, unmap)])
        events.clear()
        n.unmap_range()
        self.assertEqual(events[0].type, NotifierFlag.UNMAP)
        self.assertEqual((events[0].entry.iova, events[0].entry.addr_mask), (0x10000, 0xffff))
        n.close()
        n.close()
        self.assertEqual(self.iommu.notify_flags, NotifierFlag.NONE)
        with self.assertRaises(memspace.Error) as cm:  # a MAP without permission
            self.iommu.notify(IOMMUEvent(NotifierFlag.MAP, unmap))
        self.assertEqual(cm.exception.errno, errno.EINVAL)

    def test_notifier_refusal_and_flag_veto(self):
        def refuse(event):
            raise memspace.Error(errno.ENOSPC)

        n = self.iommu.register_notifier(refuse, NotifierFlag.MAP)
        with self.assertRaises(memspace.Error) as cm:
            self.iommu.notify(IOMMUEvent(NotifierFlag.MAP,
                                         IOTLBEntry(self.mem, 0, 0, 0xfff, Perm.RO)))
        self.assertEqual(cm.exception.errno, errno.ENOSPC)
        n.close()

        def veto(old, new):
            if new & NotifierFlag.DEVIOTLB_UNMAP:
                raise memspace.Error(errno.ENOTSUP)

        iommu2 = self.ctx.iommu("iommu2", 0x10000, lambda a, f, i: None,
                                notify_flag_changed=veto, num_indexes=2)
        self.assertEqual(iommu2.num_indexes, 2)
        with self.assertRaises(memspace.Error) as cm:
            iommu2.register_notifier(lambda e: None, NotifierFlag.DEVIOTLB_UNMAP)
        self.assertEqual(cm.exception.errno, errno.ENOTSUP)
        iommu2.register_notifier(lambda e: None, NotifierFlag.MAP, index=1).close()

    def test_translate_exception(self):
        def broken(addr, flags, index):
            raise RuntimeError("translate bug")

        iommu = self.ctx.iommu("broken", 0x10000, broken)
        dma = self.ctx.address_space(iommu, "dma2")
        with self.assertRaises(RuntimeError):
            dma.ldub(0)

    def test_accesses_from_threads(self):
        # Callbacks run in the accessing thread and take the GIL.
        self.table[0] = (0x1000, Perm.RW)
        seen = set()
        dev = self.ctx.io("dev", 0x100, read=lambda a, s, at: seen.add(
            threading.get_ident()) or a)
        self.system.add_subregion(0x100000, dev)
        errors = []
        alive = threading.Barrier(4)  # no thread ends (and frees its id) before all ran

        def worker():
            for i in range(200):
                if self.mem.ldub(0x100000 + (i & 0xff)) != (i & 0xff, Result.OK) or \
                        self.dma.stb(i, i & 0xff) != Result.OK:
                    errors.append(i)
            alive.wait()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(seen), 4)


if __name__ == "__main__":
    unittest.main()
