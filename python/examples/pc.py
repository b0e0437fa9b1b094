#!/usr/bin/env python3
# memspace Python bindings example: the PC-like machine of `memspace demo`.
#
# SPDX-License-Identifier: MIT
"""Build the machine of `memspace demo` with the Python bindings, print its
memory tree and flat views, and make a few accesses.

    MEMSPACE_LIB=build/libmemspace.so PYTHONPATH=python python3 python/examples/pc.py

The tree is the demo script's, region for region: 4 GiB of RAM split by two
aliases around the PCI hole, a BIOS ROM at the top of 4 GiB with its last
128 KiB aliased below 1 MiB, a flash chip (ROM device) in romd mode, an HPET
that reads as a constant, a NIC register file, a DMA engine, a BAR that
answers with bus errors, and a serial port in a separate I/O space.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import memspace  # noqa: E402
from memspace import Result, SIZE_2_64  # noqa: E402

K, M, G = 1 << 10, 1 << 20, 1 << 30


class Registers:
    """A little-endian register file (the demo's "regs" model) that logs accesses."""

    def __init__(self, name, size, log=True):
        self.name, self.mem, self.log = name, bytearray(size), log

    def read(self, addr, size, attrs):
        value = int.from_bytes(self.mem[addr:addr + size], "little")
        if self.log:
            print("[%s] read 0x%x size %d -> 0x%x" % (self.name, addr, size, value))
        return value

    def write(self, addr, data, size, attrs):
        if self.log:
            print("[%s] write 0x%x size %d <- 0x%x" % (self.name, addr, size, data))
        self.mem[addr:addr + size] = data.to_bytes(size, "little")


class DMAEngine(Registers):
    """The demo's "dma" model: SRC, DST, LEN, CMD (write 1 to copy), STATUS, COUNT."""

    SRC, DST, LEN, CMD, STATUS, COUNT = 0x00, 0x08, 0x10, 0x18, 0x20, 0x28

    def __init__(self, name, space):
        super().__init__(name, 0x30)
        self.space = space

    def reg(self, offset):
        return int.from_bytes(self.mem[offset:offset + 8], "little")

    def write(self, addr, data, size, attrs):
        if addr >= self.STATUS:
            return  # read-only
        super().write(addr, data, size, attrs)
        if addr <= self.CMD < addr + size and self.reg(self.CMD) == 1:
            self.mem[self.CMD:self.CMD + 8] = bytes(8)
            src, dst, length = self.reg(self.SRC), self.reg(self.DST), self.reg(self.LEN)
            print("[%s] dma copy 0x%x -> 0x%x, %d bytes" % (self.name, src, dst, length))
            # DMA from inside the device callback: nested accesses are fine.
            data, result = self.space.read(src, length, attrs)
            result |= self.space.write(dst, data, attrs)
            self.mem[self.STATUS:self.STATUS + 8] = int(result).to_bytes(8, "little")
            count = self.reg(self.COUNT) + 1
            self.mem[self.COUNT:self.COUNT + 8] = count.to_bytes(8, "little")
            print("[%s] dma done: %s" % (self.name, result_name(result)))


def result_name(result):
    if result == Result.OK:
        return "OK"
    return "|".join(flag.name for flag in (Result.ERROR, Result.DECODE_ERROR,
                                           Result.ACCESS_ERROR) if result & flag)


def build(ctx):
    """The machine; returns the memory and I/O address spaces and the devices."""
    regs = dict(valid=(1, 8), impl=(1, 8))  # the demo devices' access rules
    with ctx.transaction():
        system = ctx.container("system", SIZE_2_64)
        ram = ctx.ram("pc.ram", 4 * G)
        ram.owner = "pc"
        system.add_subregion(0, ctx.alias("ram-below-4g", ram, 0, 3 * G))
        system.add_subregion(4 * G, ctx.alias("ram-above-4g", ram, 3 * G, 1 * G))
        # PCI sits below RAM (priority -1): it shows in the hole from 3 GiB to 4 GiB.
        pci = ctx.container("pci", SIZE_2_64)
        system.add_subregion(0, pci, priority=-1)
        bios = ctx.rom("pc.bios", 256 * K)
        bios.owner = "pc"
        pci.add_subregion(0xfffc0000, bios)
        # The last 128K of the BIOS also answer below 1 MiB, over RAM.
        system.add_subregion(0xe0000, ctx.alias("isa-bios", bios, 0x20000, 128 * K), priority=1)
        flash_regs = Registers("pflash", 64 * K)
        pflash = ctx.rom_device("pflash", 64 * K, flash_regs.read, flash_regs.write, **regs)
        pflash.owner = "pflash"
        pci.add_subregion(0xff800000, pflash)
        memory = ctx.address_space(system, "memory")
        hpet = ctx.io("hpet", 1 * K, lambda addr, size, attrs: 0x8086a201 & ((1 << 8 * size) - 1),
                      **regs)
        hpet.owner = "hpet"
        system.add_subregion(0xfed00000, hpet)
        nic_regs = Registers("nic.mmio", 4 * K)
        nic = ctx.io("nic.mmio", 4 * K, nic_regs.read, nic_regs.write, **regs)
        nic.owner = "nic"
        pci.add_subregion(0xfebc0000, nic)
        engine = DMAEngine("dma.mmio", memory)
        dma = ctx.io("dma.mmio", 0x100, engine.read, engine.write, **regs)
        dma.owner = "dma"
        pci.add_subregion(0xfebd0000, dma)
        pci.add_subregion(0xfebe0000, ctx.io(
            "broken.bar", 4 * K, lambda addr, size, attrs: (0, Result.ERROR),
            lambda addr, data, size, attrs: Result.ERROR, **regs))
        io = ctx.container("io", 64 * K)
        serial_regs = Registers("serial", 8)
        serial = ctx.io("serial", 8, serial_regs.read, serial_regs.write, **regs)
        serial.owner = "serial0"
        io.add_subregion(0x3f8, serial)
        io_space = ctx.address_space(io, "I/O")
    return memory, io_space, pflash


def main():
    with memspace.Context() as ctx:
        memory, io_space, pflash = build(ctx)
        print("== info mtree")
        print(ctx.mtree(), end="")
        print("== info mtree -f")
        print(ctx.mtree(flat=True), end="")

        print("== RAM below and above 4 GiB")
        print("write 0x1000:", result_name(memory.write(0x1000, b"Hello, memspace!")))
        data, r = memory.read(0x1000, 16)
        print("read 0x1000 16 -> %r (%s)" % (data.decode(), result_name(r)))
        memory.stq_le(0x100000000, 0x1122334455667788)
        value, r = memory.ldq_le(0x100000000)
        print("ldq 0x100000000 -> 0x%016x (%s)" % (value, result_name(r)))
        section, length = memory.translate(0x100000000)
        print("translate 0x100000000 -> %s @0x%x" % (section.region.name,
                                                     section.offset_in_region))
        data, r = memory.read(0xbffffffc, 8)
        print("read 0xbffffffc 8 -> %s (%s)" % (data.hex(" "), result_name(r)))

        print("== The BIOS ROM")
        memory.write_rom(0xfffffff0, bytes([0xea, 0x5b, 0xe0, 0x00, 0xf0]))
        print("write 0xfffffff0 (ignored):", result_name(memory.write(0xfffffff0, b"\x90\x90")))
        print("read 0xfffffff0 5 -> %s" % memory.read(0xfffffff0, 5)[0].hex(" "))
        print("read 0xffff0 5 -> %s" % memory.read(0xffff0, 5)[0].hex(" "))

        print("== The flash chip: a ROM device")
        memory.write_rom(0xff800000, b"FLASH")
        print("read 0xff800000 5 -> %r" % memory.read(0xff800000, 5)[0].decode())
        memory.stl_le(0xff800000, 0x90)
        pflash.romd = False
        print("ldl 0xff800000 (romd off) -> 0x%08x" % memory.ldl_le(0xff800000)[0])
        pflash.romd = True
        print("ldl 0xff800000 (romd on) -> 0x%08x" % memory.ldl_le(0xff800000)[0])

        print("== Devices")
        for addr in (0xfed00000, 0xfebe0000, 0xd0000000):
            value, r = memory.ldl_le(addr)
            print("ldl 0x%x -> 0x%08x (%s)" % (addr, value, result_name(r)))
        memory.stl_le(0xfebc0008, 0x12345678)
        print("ldw 0xfebc000a -> 0x%04x" % memory.lduw_le(0xfebc000a)[0])
        print("stb 0x3f8 (I/O):", result_name(io_space.stb(0x3f8, 0x41)))

        print("== DMA")
        memory.write(0x2000, b"DMA payload!")
        for reg, value in ((0x00, 0x2000), (0x08, 0x100000010), (0x10, 12), (0x18, 1)):
            memory.stq_le(0xfebd0000 + reg, value)
        print("read 0x100000010 12 -> %r" % memory.read(0x100000010, 12)[0].decode())
        print("status -> %d" % memory.ldq_le(0xfebd0020)[0])
        # Into its own registers: refused by the reentrancy guard, ACCESS_ERROR (4).
        memory.stq_le(0xfebd0008, 0xfebd0000)
        memory.stq_le(0xfebd0018, 1)
        print("status -> %d" % memory.ldq_le(0xfebd0020)[0])


if __name__ == "__main__":
    main()
