#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerate the hand-made seed inputs of tests/fuzz/corpus/{topology,access,ram_share,ram_stream}/.

The files are byte strings in each target's input encoding (see the decoders
in fuzz_topology.c and fuzz_access.c); every byte string is a valid input,
these only start the fuzzer from meaningful programs. Run from the source
tree's root: tests/fuzz/make_seeds.py. Deterministic.
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    with open(os.path.join(HERE, 'corpus', target, name), 'wb') as f:
        f.write(bytes(data))


def topology():
    rng = random.Random(6)
    for i in range(12):
        n = rng.choice([16, 48, 128, 400, 1200])
        put('topology', 'random-%02d' % i,
            [i % 8] + [rng.getrandbits(8) for _ in range(n)])
    # Op codes (fuzz_topology.c, decode_op): 0/1 new, 2-4 add, 5 del,
    # 6 set_address, 7 set_size, 8/9 toggle enabled, 10 flags, 11 alias
    # offset, 12 priority, 13 romd, 14/15 new address space, 16 free one,
    # 17 begin, 18/19 commit.
    seed = [0]
    seed += [0, 0, 0, 0, 0]                  # r0: container of 2^64
    seed += [0, 5, 3, 0x00, 0x10, 0]         # r1: RAM of 0x1001 bytes
    seed += [2, 1, 0, 2, 0x00, 0x10, 1, 1]   # add r1 into r0 at 0x1000
    seed += [0, 6, 3, 0x00, 0x08, 0]         # r2: ROM
    seed += [2, 2, 0, 4, 0x00, 0x00, 3, 1]   # add r2 near the top
    seed += [14, 0]                          # an address space on r0
    seed += [17, 6, 1, 2, 0x00, 0x20, 9, 2, 18]  # begin, move, toggle, commit
    put('topology', 'machine-00', seed)
    # Dirty logging (fuzz_topology.c, dirty_op): code 21 or 22 (mod 23), then
    # b (b % 4: 0/1 a client of a region on or off, client (b >> 2) & 7, on
    # when b & 32; 2 global start, or stop when b & 4; 3 log_sync) and a slot
    # or address-space number.
    seed = [0]
    seed += [0, 5, 3, 0x00, 0x10, 0]   # r0: RAM of 0x1001 bytes
    seed += [0, 6, 3, 0x00, 0x08, 0]   # r1: ROM of 0x801 bytes
    seed += [0, 8, 3, 0x00, 0x04, 0]   # r2: RAM device of 0x401 bytes
    seed += [14, 0, 14, 1, 14, 2]      # AS0..AS2 on them
    seed += [21, 32, 0]      # VGA logs r0
    seed += [21, 40, 1]      # MIGRATION logs r1
    seed += [21, 3, 0]       # log_sync of AS0
    seed += [21, 2, 0]       # global logging on: MIGRATION joins r0's mask, not r2's
    seed += [0, 0, 0, 0]     # r3: a container
    seed += [21, 32, 3]      # not RAM-backed: -EINVAL
    seed += [14, 0]          # AS3, registered while on
    seed += [22, 36, 0]      # CODE logs r0 too
    seed += [21, 0, 0]       # VGA off on r0
    seed += [21, 3, 3]       # log_sync of AS3
    seed += [21, 6, 0]       # global logging off: r1 keeps its own MIGRATION
    seed += [21, 8, 1]       # MIGRATION off on r1
    seed += [21, 2, 0]       # on again, and left on at the end
    put('topology', 'dirty-00', seed)
    # Dirty logging inside transactions: per-region changes wait for the
    # outermost commit, global start/stop is refused with -EBUSY (or is a
    # no-op returning 0 when it changes nothing); code 20 then k then a code
    # fails the k-th allocation of that call.
    seed = [0]
    seed += [0, 5, 3, 0x00, 0x10, 0]   # r0: RAM
    seed += [0, 6, 3, 0x00, 0x08, 0]   # r1: ROM
    seed += [0, 8, 3, 0x00, 0x04, 0]   # r2: RAM device
    seed += [14, 0, 14, 1, 14, 2]      # AS0..AS2 on them
    seed += [17]                       # begin
    seed += [21, 32, 0]                # VGA logs r0: no listener hears it yet
    seed += [21, 2, 0]                 # global start: -EBUSY
    seed += [21, 6, 0]                 # global stop while stopped: 0
    seed += [21, 3, 0]                 # log_sync of the published view
    seed += [21, 40, 1]                # MIGRATION logs r1
    seed += [18]                       # commit: log_start on both
    seed += [21, 2, 0]                 # global start, outside
    seed += [17, 21, 6, 0, 21, 2, 0]   # begin; stop: -EBUSY; start while started: 0
    seed += [21, 0, 0, 21, 32, 0]      # VGA off and on again: no change at commit
    seed += [21, 36, 2]                # CODE logs r2
    seed += [17, 21, 8, 1, 18, 18]     # nested: MIGRATION off on r1 (global keeps it)
    seed += [17, 21, 32, 1, 20, 0, 18]  # VGA on r1, the commit's first allocation fails
    seed += [21, 3, 1, 21, 6, 0]       # log_sync of AS1; global stop
    put('topology', 'dirty-txn-00', seed)


R_DMA = 19  # index of the DMA device's segment (R_DMA in fuzz_access.h)
R_IOMMU, R_IOMMU2, R_IOMMU3 = 14, 20, 21  # the IOMMU segments (IOMMUs 0, 1 and 2)


def access():
    rng = random.Random(4)
    for i in range(12):
        n = rng.choice([8, 32, 100, 300, 800])
        put('access', 'random-%02d' % i, [rng.getrandbits(8) for _ in range(n)])
    # Op codes (fuzz_access.c): 0-3 read/write (bit 0 write, bit 1 via
    # ms_as_rw before 0.2.0, now the same), 4 set, 5 write_rom, 6/7 load, 8 store, 9 access_valid,
    # 10 translate, 11/12 map, 13 toggles, 14 IOMMU table change, 15 notifier
    # (un)registration, 16 replay / unmap_notifier_range, 17 region cache.
    seed = []
    for segidx in range(6, 13):
        for delta in (0, 1, 2, 3):
            seed += [0, 0, segidx, delta, 3, 8, 0x80]
            seed += [1, 0, segidx, delta, 3, 5, 0x80, 0x11, 0x22, 0x33, 0x44, 0x55]
            for sz in range(4):
                seed += [6, sz | 4, 0, segidx, delta] + list(range(1, 9)) + [0x80]
                seed += [8, sz, 0, segidx, delta] + list(range(9, 17)) + [0x01]
    put('access', 'devices-00', seed)
    seed = []
    for segidx in range(0, 16):
        seed += [11, 2, segidx, 4, 2, 0x40, 0x80, 0]
        seed += [11, 2, segidx, 4, 2, 0x40, 0x80, 1, 0x20] + list(range(0x20))
        seed += [9, 2, segidx, 0, 2, 0x20, 0x80, 1]
        seed += [10, 2, segidx, 0, 2, 0x20]
        seed += [13, 1]
    put('access', 'maps-00', seed)

    def write_bytes(seg, off, data):
        return [1, 0, seg, off, 1, len(data), 0x80] + [b ^ i for i, b in enumerate(data)]

    def stb(seg, off, val):
        return [8, 0, 0, seg, off, val, 0, 0, 0, 0, 0, 0, 0, 0x80]

    def ldq(seg, off):
        return [6, 3, 0, seg, off] + [0] * 8 + [0x80]

    seed = []
    for addr, n, wr in [(0x100, 16, 0), (0x100, 16, 1), (0x4100, 8, 0), (0x4a00, 4, 0),
                        (0x2000, 8, 1), (0x1800, 4, 0), (0x4300, 6, 1),
                        (0xfffffffffffffffc, 8, 0)]:
        seed += write_bytes(R_DMA, 8, list(struct.pack('<Q', addr)) + [n, wr, 0, 0])
        seed += stb(R_DMA, 0, 1) + ldq(R_DMA, 0x20)
    seed += [13, 7]  # access depth bound 1: the DMA into a device is refused
    seed += write_bytes(R_DMA, 8, list(struct.pack('<Q', 0x4100)) + [8, 0, 0, 0])
    seed += stb(R_DMA, 0, 1)
    put('access', 'dma-00', seed)

    # Device access sizes on d0, whose valid and impl rules are all 0: a
    # valid.max of 0 takes 8-byte loads and stores (two 4-byte callbacks),
    # alignment is still checked, byte accesses are cut into pieces of 4.
    R_D0 = 6
    value = list(range(0x21, 0x29))
    seed = []
    seed += [6, 3, 0, R_D0, 0] + value + [0x80]   # ldq_le at +0
    seed += [6, 7, 0, R_D0, 8] + value + [0x80]   # ldq_be at +8
    seed += [8, 3, 0, R_D0, 8] + value + [0x80]   # stq_le at +8
    seed += [8, 7, 0, R_D0, 0] + value + [0x80]   # stq_be at +0
    seed += [6, 3, 0, R_D0, 4] + value + [0x80]   # ldq_le at +4: unaligned
    seed += [8, 3, 0, 3, 0] + value + [0x80]      # stq_le to the ROM device
    seed += [0, 0, R_D0, 3, 0, 3, 0x80]           # read 8 bytes at +3
    seed += [9, 0, R_D0, 0, 0, 3, 0x80, 0]        # access_valid, 8 bytes at +0
    put('access', 'sizes-00', seed)


def iommu_seeds():
    """IOMMU classes of fuzz_access.c: tables, chains, cycles, notifiers, caches."""
    def at(seg, off):  # rd_addr: segment start + off (off < 0x80 or below its size)
        return [3, seg, off]

    def read(seg, off, n, attrs=0x80):
        return [0] + at(seg, off) + [2, n - 1, attrs]

    def write(seg, off, data, attrs=0x80):
        return [1] + at(seg, off) + [2, len(data) - 1, attrs] + \
            [b ^ i for i, b in enumerate(data)]

    def io_set(iommu, idx, slot, shift_sel, perm, seg, off, broken=False):
        b = shift_sel | perm << 3 | (0xe0 if broken else 0)
        return [iommu | idx << 2 | slot << 4, b] + at(seg, off)

    def notifier(k, iommu, idx, flags, mode, extra=(), fail=False):
        return [15, k | iommu << 3 | idx << 5, flags | mode << 3 | (0xe0 if fail else 0)] + \
            list(extra)

    seed = []
    seed += notifier(0, 0, 0, 3, 0)                    # MAP|UNMAP, everything
    seed += notifier(1, 1, 0, 7, 2, (2, 3))            # slots 2..5 of IOMMU 1
    seed += notifier(2, 0, 1, 1, 1, (0x18, 0x40))      # MAP on index 1, odd range
    seed += notifier(3, 2, 1, 3, 0)                    # IOMMU 2 has one index: refused
    seed += notifier(4, 0, 0, 2, 1, (0x30, 0x20), fail=True)
    seed += read(R_IOMMU, 0x20, 0x41)                  # onto the RAM
    seed += read(R_IOMMU, 0x10, 0x20, attrs=0x41)      # secure: index 1, the ROM
    seed += write(R_IOMMU, 0x10, [1, 2, 3, 4], attrs=0x41)  # read-only there
    seed += read(R_IOMMU2, 0x30, 0x30)                 # a chain of two
    seed += [0] + at(R_IOMMU3, 0) + [1, 8, 0x80]       # onto the devices
    seed += [11] + at(R_IOMMU, 0x10) + [2, 0x3f, 0x80, 0]          # read map across pages
    seed += [11] + at(R_IOMMU, 0x40) + [2, 0x3f, 0x80, 1, 0x10] + list(range(16))
    seed += [10] + at(R_IOMMU, 0x10) + [2, 0x20]                   # translate
    seed += [10] + at(R_IOMMU2, 0x10) + [2, 0x20]
    seed += [14] + io_set(0, 0, 4, 6, 3, 0, 0x40)      # a 64-byte page
    seed += read(R_IOMMU, 0x38, 0x20)
    seed += [14] + io_set(1, 0, 0, 0, 3, R_IOMMU2, 0)  # a cycle
    seed += read(R_IOMMU2, 0, 8)
    seed += [14] + io_set(1, 0, 1, 0, 3, R_IOMMU3, 0)  # a chain of three
    seed += read(R_IOMMU2, 0x10, 4)
    seed += [14] + io_set(0, 0, 8, 0, 3, 0, 0, broken=True)
    seed += read(R_IOMMU, 0x7c, 8)
    seed += [14] + io_set(0, 0, 0, 7, 3, 0, 0)         # the whole IOMMU, one page
    seed += read(R_IOMMU, 0x7c, 0x20)
    seed += [14] + io_set(0, 0, 3, 0, 1, 0, 0x30)      # read-only, splits the big page
    seed += write(R_IOMMU, 0x2c, list(range(8)))
    seed += [16, 0, 16, 1, 16, 2, 16, 4, 16, 0x81, 16, 0x84]
    seed += [17] + at(R_IOMMU, 0) + [0x1f, 0, 5]                   # a cache, 6 steps
    seed += [0, 0, 8]
    seed += [1, 4, 4, 0xa, 0xb, 0xc, 0xd]
    seed += [6, 0, 0] + io_set(0, 0, 0, 0, 3, 0, 0x60)
    seed += [0, 0, 8]
    seed += [4, 0, 0]
    seed += [0, 0x1e, 2]
    seed += [17] + at(R_IOMMU2, 0x10) + [0x3f, 1, 3]               # a write cache, 4 steps
    seed += [1, 0, 8] + list(range(8)) + [6, 0, 0] + io_set(1, 0, 1, 1, 2, R_IOMMU3, 0)
    seed += [1, 0x20, 8] + list(range(8)) + [0, 0, 16]
    seed += [15, 0, 0, 15, 1, 0]                       # unregister two
    seed += [14] + io_set(0, 0, 1, 0, 0, 0, 0)         # an UNMAP nobody but 4 hears
    put('access', 'iommu-00', seed)

    # The DMA device through the IOMMUs: its reads walk the tables too.
    seed = []
    for addr, n, wr in [(0x4900, 16, 0), (0x4b10, 16, 1), (0x4c00, 8, 0), (0x4a00, 4, 0)]:
        seed += [1] + at(R_DMA, 8) + [2, 11, 0x80] + \
            [b ^ i for i, b in enumerate(list(struct.pack('<Q', addr)) + [n, wr, 0, 0])]
        seed += [8, 0, 0] + at(R_DMA, 0)[1:] + [1, 0, 0, 0, 0, 0, 0, 0, 0x80]
    put('access', 'iommu-01', seed)


NSEG = 22  # segments of the access machine (NSEG in fuzz_access.h)
M_RAM, M_ROM, M_ROMD, M_RAMD, M_RAMP, M_TOP, M_PATCH, M_BIG = range(8)


def dirty_seeds():
    """Dirty logging in fuzz_access.c: op codes 252-255, then a selector."""
    def at(seg, off):  # rd_addr: segment start + off
        if off < 0x100:
            return [3, seg, off]
        assert off % 8 == 0 and off < 0x800
        return [4, seg, off // 8]

    def write(seg, off, n, attrs=0x80, code=1):  # code 3: ms_as_dma_write
        return [code] + at(seg, off) + [2, n - 1, attrs] + [(7 * i) & 0xff for i in range(n)]

    def read(seg, off, n, attrs=0x80):
        return [0] + at(seg, off) + [2, n - 1, attrs]

    def log(blk, client, on=True):  # a block's region
        return [252, 8 if on else 0, blk, client]

    def log_seg(seg, client):  # any segment's region: aliases and devices refuse
        return [252, 8, 0x80 + (seg - 0x80) % NSEG, client]

    def glob(on):
        return [252, 2 if on else 10]

    whole = [0, 0, 0]

    def pages(first, count):
        return [1, first, count - 1]

    def sync(*queries):  # each query: (block, client, range)
        out = [252, 3, len(queries)]
        for blk, client, rng in queries:
            out += [blk, client] + rng
        return out

    def snapshot(blk, client, rng=whole):
        return [252, 4, blk, client] + rng + [0x11, 0x22]

    def reset(blk, client, rng):
        return [252, 5, blk, client] + rng

    def set_dirty(blk, rng):
        return [252, 14, blk] + rng

    def behind(blk, off, data):
        return [252, 6, blk, off & 0xff, off >> 8, len(data) - 1] + list(data)

    seed = []
    for blk in range(8):
        seed += log(blk, 0)                             # VGA logs every block
    seed += log(M_RAM, 5) + log(M_BIG, 7)
    seed += log_seg(2, 0) + log_seg(6, 0) + log_seg(14, 1)  # alias, device, IOMMU: -EINVAL
    seed += log(M_RAM, 8)                               # client 8: -EINVAL
    seed += glob(True)                                  # MIGRATION on all but the RAM device
    # Every write path; the ignored writes (ROM, read-only aliases) mark nothing.
    for seg in (0, 1, 2, 4, 5, 15, 16, 17, 18):
        seed += write(seg, 0x13, 8) + read(seg, 0x40, 0x20)
    seed += write(1, 0x210, 4, attrs=0x19)              # debug write to ROM: marks
    seed += write(2, 0x10, 4, attrs=0x19)               # and through the read-only alias
    seed += write(3, 0x20, 4, attrs=0x19)               # ROM device in romd mode
    seed += write(3, 0x30, 4)                           # its callbacks: no mark
    seed += write(0, 0x5f0, 0x20, code=3)               # ms_as_dma_write across pages
    seed += [4] + at(0, 0x3f8) + [2, 15, 0x80, 0x5a]    # ms_as_set
    seed += [5] + at(1, 0x7f0) + [2, 15] + list(range(16))   # the loader into ROM
    seed += [5] + at(4, 0x20) + [2, 3] + [1, 2, 3, 4]   # and into the RAM device
    seed += [8, 3, 0x83, 0, 0] + list(struct.pack('<Q', 0x5fc)) + list(range(8)) + \
        [0x80]                                          # stq_le straddling two pages
    seed += [11] + at(0, 0x1f0) + [2, 0x3f, 0x80, 1, 0x20] + list(range(32))  # direct map
    seed += [11] + at(0, 0x400) + [2, 0x3f, 0x80, 1, 0]  # a write map released with 0 bytes
    seed += [11] + at(1, 0x10) + [2, 0x1f, 0x19, 1, 0x10] + list(range(16))  # bounce, debug
    seed += [17] + at(0, 0x200) + [0x3f, 1, 1] + [1, 0, 16] + list(range(16)) + \
        [1, 0x20, 8] + list(range(8))                   # region cache writes
    # The DMA device through IOMMU 0 (onto the RAM from 0x100) and IOMMU 1.
    for addr in (0x4900, 0x4b20):
        seed += [1] + at(19, 8) + [2, 11, 0x80] + \
            [b ^ i for i, b in enumerate(list(struct.pack('<Q', addr)) + [16, 1, 0, 0])]
        seed += [8, 0, 0] + at(19, 0)[1:] + [1, 0, 0, 0, 0, 0, 0, 0, 0x80]
    seed += sync((M_RAM, 0, pages(0, 2)), (M_ROM, 2, [2, 0x80, 9]), (M_BIG, 8, whole))
    for blk in range(8):
        seed += snapshot(blk, 0) + snapshot(blk, 2, [2, blk * 30, 3])
    seed += snapshot(M_RAM, 8)                          # bad client
    seed += snapshot(M_RAMP, 0, [3, 0, 0, 0x00, 0x01, 0x01, 0x00])  # past the end
    put('access', 'dirty-00', seed)

    # Bits set and taken by the calls themselves: set_dirty, reset, snapshots
    # of the 129-page block in parts (whole 64-page words are taken), memory
    # written behind the library's back and marked at the next log_sync, a
    # region disabled (not synced), the page size fixed once RAM exists.
    seed = []
    seed += log(M_BIG, 3) + log(M_RAMP, 3) + log(M_PATCH, 4) + log(M_RAM, 1)
    seed += set_dirty(M_BIG, pages(0, 1)) + set_dirty(M_BIG, pages(63, 2))
    seed += set_dirty(M_BIG, pages(128, 1))             # the last page, a partial one
    seed += set_dirty(M_BIG, [3, 0, 0, 0x10, 0x00, 0x00, 0x00])      # size 0: -EINVAL
    seed += snapshot(M_BIG, 3, pages(70, 1))            # pages 64..127
    seed += snapshot(M_BIG, 3, pages(0, 1))             # pages 0..63
    seed += snapshot(M_BIG, 3, pages(128, 1))           # the third word
    seed += set_dirty(M_BIG, whole) + reset(M_BIG, 3, [2, 40, 200])
    seed += reset(M_BIG, 8, whole)                      # bad client
    seed += sync((M_BIG, 3, whole), (M_BIG, 3, [2, 0, 64]))
    seed += behind(M_RAMP, 0x10, b'behind') + behind(M_PATCH, 0, b'\x01\x02')
    seed += behind(M_RAM, 0x7fe, b'abcd')               # two pages
    seed += [13, 0x22]                                  # disable patch: not synced
    seed += sync((M_RAMP, 3, whole)) + [13, 0x22] + sync()
    seed += [13, 0x0a] + behind(M_RAMP, 0, b'x') + sync() + [13, 0x0a] + sync()
    for k in range(4):
        seed += [252, 7 | k << 3]                       # page sizes: 0, -EBUSY, -EINVAL
    seed += glob(True) + glob(True) + glob(False) + glob(False)
    seed += log(M_RAM, 1, on=False) + write(0, 0x10, 4) + sync((M_RAM, 1, whole))
    put('access', 'dirty-01', seed)


def share_header(name=b'ram', offset=0, size=0x10000, page=4096, flags=0, magic=0x4853534d,
                 version=1):
    """The 96-byte message of ms_ram_share_send() (src/share.h)."""
    return struct.pack('<IHHQQQ64s', magic, version, flags, offset, size, page, name)


def ram_share():
    # Accepted by the decoder; the last two are refused by the receive (the
    # fuzz target's memfd is 1 MiB).
    put('ram_share', 'valid-memfd', share_header(b'guest-ram'))
    put('ram_share', 'valid-readonly-offset', share_header(b'file-ro', 8192, 16384, flags=1))
    put('ram_share', 'valid-larger-than-file', share_header(size=2 << 20))
    put('ram_share', 'valid-max-extent', share_header(offset=4096, size=(1 << 63) - 1 - 4096))
    # Refused by the decoder.
    put('ram_share', 'bad-magic', share_header(magic=0x4853534e))
    put('ram_share', 'bad-version', share_header(version=2))
    put('ram_share', 'bad-flags', share_header(flags=2))
    put('ram_share', 'bad-size-zero', share_header(size=0))
    put('ram_share', 'bad-page-size', share_header(offset=12288, page=12288))
    put('ram_share', 'bad-name-unterminated', share_header(name=b'x' * 64))
    put('ram_share', 'bad-name-trailing', share_header(name=b'ram\0x'))
    put('ram_share', 'bad-short', share_header()[:95])
    put('ram_share', 'bad-long', share_header() + b'\0')
    put('ram_share', 'empty', b'')


def ram_stream():
    # fuzz_ram_stream.c: byte 0 even = the rest is a stream as is; odd = a
    # program that builds one. The machine: "a" 4096, "b" 5000, "c" 8192
    # bytes, backend page size 4096 (the host's). Format: docs/migration.md.
    import zlib
    blocks = [(b'a', 4096), (b'b', 5000), (b'c', 8192)]

    def stream(chunks, rounds=False, order=(0, 1, 2)):
        out = bytearray(b'MSRAMSTR' + struct.pack('<IQI', 1, 4096, len(order)))
        for i in order:
            name, size = blocks[i]
            out += struct.pack('<H', len(name)) + name + struct.pack('<QQ', size, 4096)
        out += struct.pack('<I', zlib.crc32(out))
        n = 0
        for rnd, recs in enumerate(chunks):
            if rounds:
                rec = struct.pack('<IIQQ', 2, 0, rnd + 1, 0)
                out += rec + struct.pack('<I', zlib.crc32(rec))
            for bi, first, count, fill in recs:
                size = blocks[order[bi]][1]
                length = min(count * 4096, size - first * 4096)
                data = bytes((fill + k * 13) & 0xff for k in range(length))
                rec = struct.pack('<IIQQ', 1, bi, first, count) + data
                out += rec + struct.pack('<I', zlib.crc32(rec))
                n += 1
        out += struct.pack('<IIQQ', 3, 0, 0, n)
        out += struct.pack('<I', zlib.crc32(out))
        return out

    full = [(0, 0, 1, 1), (1, 0, 2, 2), (2, 0, 2, 3)]
    put('ram_stream', 'save-00', b'\0' + stream([full]))
    put('ram_stream', 'precopy-00',
        b'\0' + stream([full, [(1, 1, 1, 9), (2, 0, 1, 7)], [(0, 0, 1, 5)]], rounds=True))
    put('ram_stream', 'order-00', b'\0' + stream([[(2, 0, 1, 4), (0, 0, 2, 6), (1, 0, 2, 8)]],
                                                  order=(2, 1, 0)))
    put('ram_stream', 'truncated-00', (b'\0' + stream([full]))[:300])
    # Programs (odd first byte): ctl 0 = the three blocks in order; then
    # records: op % 8 < 5 chunk of block (op / 8) % 3 with first, count,
    # fill bytes; 5, 6 round marker; 7 end record; op >= 0xe0 takes a
    # damage byte.
    iommu_seeds()
    dirty_seeds()

    put('ram_stream', 'program-00', bytes([1, 0, 5, 0, 0, 0, 1, 8, 0, 1, 2, 16, 0, 1, 3,
                                           6, 8, 1, 0, 4, 7]))
    put('ram_stream', 'program-01', bytes([1, 0x40, 0, 1, 0, 8, 0, 0, 0, 7]))
    put('ram_stream', 'program-02', bytes([1, 0x80, 3, 0, 0, 3, 0, 0, 0, 1, 7]))


if __name__ == '__main__':
    topology()
    access()
    ram_share()
    ram_stream()
