/*
 * fuzz_access.h: what the access fuzz target (fuzz_access.c) and its
 * reference byte model (fuzz_access_model.c) share: the machine's layout
 * (devices, segments, memory blocks), the model's state, the callback log
 * both sides keep, and the model's entry points.
 *
 * The layout tables are defined once, in fuzz_access_model.c: the harness
 * builds the library's machine from them and the model predicts from them.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MS_FUZZ_ACCESS_H
#define MS_FUZZ_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memspace.h>

#define REG_BYTES 0x410 /* device registers: the largest device plus room for widening */
#define LOG_CAP 1024

/* ---- Devices ------------------------------------------------------------------ */

enum {
	D0,
	D1,
	D2,
	D3,
	D4,
	D5,
	DROMD,
	DDMA,
	NDEV
};

/*
 * The DMA device: a write callback at offset 0 starts a DMA of regs[0x10] % 33
 * bytes between regs[0x20...] and the address in regs[0x08..0x0f] (little
 * endian), a bus write when regs[0x11] & 1, else a read; its result lands in
 * regs[0x12]. Accesses that reach the DMA device from its own DMA are
 * reentrant and refused.
 */
#define DMA_ADDR 0x08
#define DMA_LEN 0x10
#define DMA_DIR 0x11
#define DMA_RESULT 0x12
#define DMA_DATA 0x20

struct call {
	int dev;
	bool is_write;
	uint64_t addr;
	unsigned size;
	uint64_t value;
};

struct calls {
	struct call c[LOG_CAP];
	size_t n;
	bool overflow;
};

struct dev_config {
	ms_endian endian;
	unsigned vmin, vmax, imin, imax;
	bool vunaligned, iunaligned, with_attrs, error_window, veto;
};

/* Each device's valid/impl rules, byte order and callback form. */
extern const struct dev_config configs[NDEV];

/* ---- The machine ---------------------------------------------------------------- */

enum seg_kind {
	S_RAM,   /* RAM, ROM, RAM at a pointer: memory */
	S_ROMD,  /* ROM device: RAM in romd mode, device D_ROMD otherwise */
	S_RAMD,  /* RAM device */
	S_DEV,   /* I/O device */
	S_RESV,  /* I/O reservation */
	S_IOMMU, /* IOMMU region */
};

enum {
	R_RAM,
	R_ROM,
	R_RAMRO,
	R_ROMD,
	R_RAMD,
	R_RAMP,
	R_D0,
	R_D5 = R_D0 + 5,
	R_D4A,
	R_RESV,
	R_IOMMU,
	R_TOP,
	R_RAMNV,
	R_PATCH,
	R_RAMDRO,
	R_DMA,
	R_IOMMU2,
	R_IOMMU3,
	NSEG
};

struct seg {
	const char *name;
	uint64_t start, size;
	enum seg_kind kind;
	int mem;       /* index of the memory block (RAM-backed kinds) */
	int dev;       /* device (S_DEV, S_ROMD); IOMMU number (S_IOMMU) */
	uint64_t base; /* offset in the region of start (aliases) */
	bool readonly;
	bool toggled; /* may be disabled by the fuzzer */
	bool over;    /* placed with priority 1 over the others */
};

enum {
	M_RAM,
	M_ROM,
	M_ROMD,
	M_RAMD,
	M_RAMP,
	M_TOP,
	M_PATCH,
	NMEM
};

/* The size of each memory block. */
extern const uint64_t mem_size[NMEM];
/* The segments of the machine, indexed by R_*. */
extern const struct seg segs[NSEG];

/* ---- The IOMMUs -------------------------------------------------------------------- */

/*
 * The three IOMMU regions (R_IOMMU, R_IOMMU2, R_IOMMU3) have a class whose
 * page table is io_tab, written by the harness (docs/iommu.md's contract:
 * every change announced with UNMAP/MAP) and read by the class's translate
 * and by the model alike. Slots of IO_PAGE bytes; an entry of 2^shift bytes
 * (shift 4 .. 8) fills every slot it covers. IOMMUs 0 and 1 have two
 * indexes (attrs.secure picks 1), IOMMU 2 one. Every entry goes to the
 * machine's own address space, so chains and cycles go through the three.
 */
#define NIOMMU 3
#define IO_PAGE 0x10u
#define IO_SLOTS 16u
#define IO_MAX_IDX 2u

struct io_entry {
	bool set;        /* a mapping (perm is not MS_IOMMU_NONE) */
	bool broken;     /* translate returns a malformed entry (one slot) */
	uint8_t perm;    /* ms_iommu_perm */
	uint8_t shift;   /* the page: 2^shift bytes */
	uint64_t target; /* translated address of the page (aligned to it) */
};

extern struct io_entry io_tab[NIOMMU][IO_MAX_IDX][IO_SLOTS];

/* How many indexes IOMMU @i has, and the one @attrs choose. */
unsigned io_nidx(int i);
unsigned io_index(int i, ms_attrs attrs);

/* ---- Dirty logging ------------------------------------------------------------------ */

/*
 * The machine's dirty page size is the smallest allowed (docs/dirty.md), so
 * that its blocks have several pages: the RAM eight, a RAM device one. Block
 * M_BIG is RAM outside the address space, larger than two bitmap words of 64
 * pages and ending in a partial page, for the rounding of snapshots; only
 * the dirty calls reach it.
 */
#define DIRTY_PAGE 512u
#define M_BIG NMEM
#define NBLK (NMEM + 1)
#define BIG_SIZE 0x10100u /* 128 whole pages and a half one: three words */
#define BLK_WORDS 3

/* The size of block @b (a memory block or M_BIG) and its number of pages. */
uint64_t blk_size(int b);
unsigned blk_pages(int b);
/* Is block @b migratable (global logging logs it)? Everything but the RAM device. */
bool blk_migratable(int b);
/* The clients logging block @b now: its own, plus MIGRATION under global logging. */
uint8_t m_log_mask(int b);
/* A write of @n bytes at @offset of block @b reached memory: mark its pages. */
void m_mark(int b, uint64_t offset, uint64_t n);
/* Page @page of block @b dirty for @client? */
bool m_dirty(int b, unsigned client, uint64_t page);
/* Clear @client's pages [@first, @last] of block @b. */
void m_dirty_clear(int b, unsigned client, uint64_t first, uint64_t last);

/* The model's state. */
struct model {
	uint8_t mem[NMEM][0x1000];
	uint8_t regs[NDEV][REG_BYTES];
	bool romd;
	bool enabled[NSEG];
	unsigned max_depth; /* ms_ctx_set_max_access_depth() */
	unsigned depth;     /* device callbacks running (the access chain) */
	bool dev_busy[NDEV];
	struct calls log;
	/* Dirty logging (docs/dirty.md): bits per block, client and page. */
	uint64_t dirty[NBLK][MS_DIRTY_CLIENTS][BLK_WORDS];
	uint8_t log_own[NBLK];  /* ms_region_set_dirty_log() */
	bool log_global;        /* ms_ctx_dirty_log_global_start() */
	uint8_t log_seen[NBLK]; /* clients that logged the block in this input */
};

extern struct model model;

/* ---- The reference model (fuzz_access_model.c) ---------------------------------- */

/* One call to predict: an access of @len bytes at @addr. */
struct req {
	uint64_t addr, len;
	bool is_write, single, loader, probe;
	ms_attrs attrs;
	uint8_t *data; /* reads: filled; writes: the bytes */
};

/* Byte order of a device's registers. */
bool dev_big_endian(ms_endian e);
/* The @size-byte value at @p in byte order @big, and its inverse. */
uint64_t get_value(const uint8_t *p, unsigned size, bool big);
void put_value(uint8_t *p, unsigned size, uint64_t v, bool big);
/* Append one device callback to @log (sets log->overflow when full). */
void log_call(struct calls *log, int dev, bool is_write, uint64_t addr, unsigned size,
	      uint64_t value);

/* What answers at @addr (and its R_* index in *@index when not NULL), or NULL. */
const struct seg *seg_at(uint64_t addr, int *index);
/* How many of @want bytes from @addr (inside @s) fall in its piece. */
uint64_t piece_len(const struct seg *s, uint64_t addr, uint64_t want);
/* First mapped address above @addr, or 0 when none (the hole runs to 2^64). */
uint64_t next_start(uint64_t addr);
/* RAM and RAM devices: what attrs.memory may reach. */
bool is_ram_target(const struct seg *s);
/* Carry out @q on the model: data, registers, callback log; returns the ms_result. */
ms_result m_access(const struct req *q);
/*
 * Where the byte at @addr ends up, through every IOMMU on the way: 0 with
 * the segment's index in *@index, the address there in *@final and *@len
 * (at most @want) clamped to that segment's piece and to every IOMMU page;
 * -ENOENT when the path ends in a hole (*@final the address there);
 * -EACCES when an IOMMU refuses (no mapping, permission, malformed entry,
 * cycle, chain too long).
 */
int m_resolve(uint64_t addr, uint64_t want, bool is_write, ms_attrs attrs, uint64_t *final,
	      uint64_t *len, int *index);

#endif /* MS_FUZZ_ACCESS_H */
