/*
 * Fuzz target: the TZ-MPC-like filter and a device IOTLB over it
 * (include/memspace/models/mpc.h, devtlb.h), operations as bytes.
 *
 * Every input builds the same machine: RAM "sram" of NB blocks of BLK
 * bytes behind MPC "mpc" at BASE of address space "sys", and two device
 * IOTLBs following "sys", one secure and one non-secure (4 slots each, so
 * they evict too). The input is a sequence of operations with arguments
 * from the following bytes: LUT changes (also out of range), mode changes,
 * interrupt clears, cache flushes, and reads and writes of any length
 * (up to 3 blocks), in either world, directly or through a device IOTLB.
 * A reference (a bit per block, the RAM's bytes, the blocked-access count)
 * predicts every result, every byte read, the RAM after every write, every
 * LUT change count and the counters; any difference aborts. A device IOTLB
 * that kept a translation after a LUT change would read or write the wrong
 * world.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memspace.h>
#include <memspace/models/devtlb.h>
#include <memspace/models/mpc.h>

#include "fuzz_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 512
#define BLK 64u
#define NB 32u
#define BASE 0x1000u

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "fuzz_mpc_devtlb: %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                                     \
			abort();                                                            \
		}                                                                           \
	} while (0)

typedef struct machine {
	ms_ctx *ctx;
	ms_region *sys, *sram;
	ms_as *as;
	ms_mpc *m;
	ms_devtlb *dev[2]; /* [0] non-secure, [1] secure */
	bool ns[NB];
	bool raz;
	uint8_t ref[NB * BLK];
	uint64_t blocked; /* blocked pieces: reads and writes */
} machine;

static void build(machine *m)
{
	memset(m, 0, sizeof(*m));
	CHECK(ms_ctx_new(&m->ctx) == 0);
	CHECK(ms_region_new_container(&m->sys, m->ctx, "sys", MS_SIZE_2_64) == 0);
	CHECK(ms_region_new_ram(&m->sram, m->ctx, "sram", NB * BLK) == 0);
	CHECK(ms_as_new(&m->as, m->ctx, m->sys, "sys") == 0);
	CHECK(ms_mpc_new(&m->m, m->ctx,
			 &(ms_mpc_opts){.name = "mpc", .downstream = m->sram, .block_size = BLK}) ==
	      0);
	CHECK(ms_region_add_subregion(m->sys, BASE, ms_mpc_region(m->m)) == 0);
	for (unsigned i = 0; i < 2; i++)
		CHECK(ms_devtlb_new(&m->dev[i], m->ctx,
				    &(ms_devtlb_opts){.as = m->as,
						      .attrs = {.secure = i},
						      .nr_entries = 4}) == 0);
	for (unsigned i = 0; i < NB * BLK; i++)
		m->ref[i] = (uint8_t)(i * 7 + 1);
	memcpy(ms_region_ram_ptr(m->sram), m->ref, sizeof(m->ref));
}

static void destroy(machine *m)
{
	ms_devtlb_free(m->dev[0]);
	ms_devtlb_free(m->dev[1]);
	ms_mpc_free(m->m);
	ms_as_free(m->as);
	ms_region_unref(m->sram);
	ms_region_unref(m->sys);
	ms_ctx_free(m->ctx);
}

/*
 * Pieces the blocked region sees for @len bytes: the widest power of two up
 * to 8 each time; the region takes unaligned pieces (impl.unaligned), so
 * the offset does not matter.
 */
static uint64_t pieces(uint64_t len)
{
	uint64_t n = 0;

	while (len) {
		uint64_t sz = 8;

		while (sz > len)
			sz /= 2;
		len -= sz;
		n++;
	}
	return n;
}

static void do_access(machine *m, struct reader *r)
{
	uint8_t flags = rd8(r), buf[3 * BLK], want[3 * BLK];
	bool secure = flags & 1, write = flags & 2, via = flags & 4;
	uint64_t len = 1 + rd8(r) % (3 * BLK), addr = rd16(r) % (NB * BLK + 2 * BLK);
	ms_result res, want_res = MS_RESULT_OK;
	bool hole = false;

	if (addr + len > NB * BLK)
		hole = true; /* runs past the MPC: a decode error there */
	/* Blocked runs: per block, the blocked region sees naturally aligned pieces. */
	for (uint64_t a = addr; a < addr + len && a < NB * BLK;) {
		uint64_t b = a / BLK, end = (b + 1) * BLK < addr + len ? (b + 1) * BLK : addr + len;
		bool ok = m->ns[b] != secure;

		for (uint64_t i = a; i < end; i++) {
			if (write) {
				buf[i - addr] = (uint8_t)(i ^ flags);
				if (ok)
					m->ref[i] = buf[i - addr];
			} else {
				want[i - addr] = ok ? m->ref[i] : 0;
			}
		}
		if (!ok) {
			m->blocked += pieces(end - a);
			if (!m->raz)
				want_res |= MS_RESULT_ERROR;
		}
		a = end;
	}
	if (hole) {
		for (uint64_t i = addr > NB * BLK ? addr : NB * BLK; i < addr + len; i++) {
			buf[i - addr] = 0;
			want[i - addr] = 0;
		}
		want_res |= MS_RESULT_DECODE_ERROR;
	}
	if (via)
		res = write ? ms_devtlb_write(m->dev[secure], BASE + addr, buf, len)
			    : ms_devtlb_read(m->dev[secure], BASE + addr, buf, len);
	else
		res = write ? ms_as_write(m->as, BASE + addr, (ms_attrs){.secure = secure}, buf,
					  len)
			    : ms_as_read(m->as, BASE + addr, (ms_attrs){.secure = secure}, buf,
					 len);
	CHECK(res == want_res);
	if (!write)
		CHECK(memcmp(buf, want, len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	machine m;

	build(&m);
	for (unsigned op = 0; op < MAX_OPS && r.n; op++) {
		uint8_t kind = rd8(&r) % 8;
		ms_mpc_stats st;
		ms_devtlb_stats ds;

		switch (kind) {
		case 0: { /* LUT change, possibly out of range */
			uint64_t first = rd8(&r) % (NB + 2), count = rd8(&r) % (NB + 2);
			bool ns = rd8(&r) & 1;
			int want = 0, rc;

			rc = ms_mpc_lut_set(m.m, first, count, ns);
			if (count == 0 || first >= NB || count > NB - first) {
				CHECK(rc == -EINVAL);
				break;
			}
			for (uint64_t b = first; b < first + count; b++) {
				want += m.ns[b] != ns;
				m.ns[b] = ns;
			}
			CHECK(rc == want);
			break;
		}
		case 1:
			m.raz = rd8(&r) & 1;
			CHECK(ms_mpc_set_raz_wi(m.m, m.raz) == 0);
			break;
		case 2:
			CHECK(ms_mpc_irq_clear(m.m) == 0);
			break;
		case 3:
			CHECK(ms_devtlb_flush(m.dev[rd8(&r) & 1]) == 0);
			break;
		default:
			do_access(&m, &r);
			break;
		}
		/* The RAM, the LUT and the counters match the reference. */
		CHECK(memcmp(ms_region_ram_ptr(m.sram), m.ref, sizeof(m.ref)) == 0);
		for (uint64_t b = 0; b < NB; b++) {
			bool ns = !m.ns[b];

			CHECK(ms_mpc_lut_get(&ns, m.m, b) == 0 && ns == m.ns[b]);
		}
		CHECK(ms_mpc_get_stats(&st, m.m) == 0);
		CHECK(st.blocked_reads + st.blocked_writes == m.blocked);
		CHECK(st.blocked_secure + st.blocked_nonsecure == m.blocked);
		CHECK(kind != 2 || !st.irq_pending);
		for (unsigned i = 0; i < 2; i++) {
			CHECK(ms_devtlb_get_stats(&ds, m.dev[i]) == 0);
			CHECK(ds.nr_cached <= ds.nr_entries);
		}
	}
	destroy(&m);
	return 0;
}
