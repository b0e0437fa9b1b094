/*
 * scale.c: `memspace-bench scale`, the scale targets (performance at
 * scale) on one layout, every baseline in the same process on the same
 * addresses, so each ratio comes from one run.
 *
 * Layout: N RAM regions of 4 KiB (ms_region_new_ram()), region i at
 * 4 GiB + i * 8 KiB, so each is followed by a 4 KiB hole, in a 2^64
 * container that an address space renders. Addresses are generated up
 * front (2^20 of them; 2^16 with --quick): "random" picks a uniform region
 * and a uniform 4-byte-aligned offset in it; "sequential" walks the regions
 * in order, one address per region, the offset moving on by 4 bytes at each
 * wrap. Every address is mapped.
 *
 *   lookup  ns per look-up, N = 10, 1,000, 100,000: ms_flatview_find() as
 *           callers compile it (inline over ms_flatview_lookup(), reading
 *           the start, as every loop here does; then reading every field;
 *           then the exported function, whose 56-byte section escapes) and
 *           ms_flatview_lookup() (an out-of-line call into the library)
 *           against a binary search, the QEMU-style radix of radix.h and the
 *           compressed radix of cradix.h, each inlined into its loop;
 *   ldl     ns per 4-byte RAM read, N = 10 and 100,000, random:
 *           ms_as_ldl_le() against a load through the precomputed host
 *           pointer of the same address;
 *   commit  topology changes at N = 10,000 and 100,000: additions one commit
 *           each and in one transaction, deletions one commit each with the
 *           container holding the last reference and with the caller keeping
 *           its own. Regions are created before the clock starts; a run stops
 *           at a time cap and is reported as capped after K commits;
 *   bulk    64 KiB ms_as_read() from RAM against memcpy() of the same bytes.
 *
 * Every loop adds what it found to a checksum, the only dependency between
 * its iterations. A pass times its addresses in chunks of 4,096 and counts
 * the median chunk (the bulk figure: the median of interleaved bursts), so
 * that the time slices a shared machine gives other processes, which land
 * on one chunk or another, do not count. Before timing, all five look-ups
 * (and the exported ms_flatview_find()) must return the layout's range for
 * every address of the run and at both ends of every range and hole, and
 * ms_as_ldl_le() must return what RAM holds; the program aborts at the
 * first disagreement. Only the public API is used.
 *
 * SPDX-License-Identifier: MIT
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "memspace.h"

#include "bench.h"
#include "cradix.h"
#include "radix.h"

#define SCALE_BASE ((uint64_t)1 << 32)
#define REGION_SIZE ((uint64_t)4096)
#define REGION_STRIDE ((uint64_t)8192) /* region, then a hole of the same size */
#define SCALE_SEED 0x7363616c65u       /* "scale" */
#define BULK_SIZE ((size_t)64 << 10)
#define BULK_BURST 16 /* reads (or copies) timed together */

/* One row's samples, summarised. */
typedef struct stat3 {
	double median, min, max;
} stat3;

static stat3 summarize(double *values, size_t n)
{
	stat3 s;

	s.median = bench_median(values, n); /* sorts */
	s.min = values[0];
	s.max = values[n - 1];
	return s;
}

/* A target of the issue: the median must be at most (or at least) @bound. */
typedef struct target {
	const char *text; /* NULL: no target */
	double bound;
	bool at_least;
} target;

static const char *target_met(const target *t, double value, bool applies)
{
	if (!t->text)
		return "";
	if (!applies)
		return "n/a";
	return (t->at_least ? value >= t->bound : value <= t->bound) ? "yes" : "no";
}

static void json_stat(bench_json *json, const char *key, stat3 s)
{
	bench_json_open(json, key);
	bench_json_number(json, "median", s.median);
	bench_json_number(json, "min", s.min);
	bench_json_number(json, "max", s.max);
	bench_json_close(json);
}

static void json_target(bench_json *json, const target *t, double value, bool applies)
{
	if (!t->text)
		return;
	bench_json_string(json, "target", t->text);
	if (applies)
		bench_json_bool(json, "target_met",
				t->at_least ? value >= t->bound : value <= t->bound);
}

/* ---- the layout ------------------------------------------------------- */

typedef struct layout {
	size_t n;
	ms_ctx *ctx;
	ms_as *as;
	ms_flatview *fv;     /* held for the look-ups */
	uint8_t **host;      /* host address of region i */
	bench_range *ranges; /* region i's [start, last] */
	uint64_t *starts;    /* region i's start: the binary search's array */
	radix_table *radix;
	cradix cradix;
} layout;

static uint64_t region_addr(size_t i)
{
	return SCALE_BASE + (uint64_t)i * REGION_STRIDE;
}

/* Build the N RAM regions (one transaction), fill them, check the view. */
static void layout_new(layout *l, size_t n)
{
	ms_region *system;
	ms_rng rng;
	char name[32];

	memset(l, 0, sizeof(*l));
	l->n = n;
	l->host = malloc(n * sizeof(*l->host));
	l->ranges = malloc(n * sizeof(*l->ranges));
	l->starts = malloc(n * sizeof(*l->starts));
	if (!l->host || !l->ranges || !l->starts)
		bench_die("out of memory");
	bench_check(ms_ctx_new(&l->ctx), "ms_ctx_new");
	bench_check(ms_region_new_container(&system, l->ctx, "system", MS_SIZE_2_64),
		    "ms_region_new_container");
	bench_check(ms_as_new(&l->as, l->ctx, system, "memory"), "ms_as_new");
	ms_rng_seed(&rng, SCALE_SEED ^ n);
	ms_transaction_begin(l->ctx);
	for (size_t i = 0; i < n; i++) {
		ms_region *ram;

		snprintf(name, sizeof(name), "ram%zu", i);
		bench_check(ms_region_new_ram(&ram, l->ctx, name, REGION_SIZE),
			    "ms_region_new_ram");
		bench_check(ms_region_add_subregion(system, region_addr(i), ram),
			    "ms_region_add_subregion");
		l->host[i] = ms_region_ram_ptr(ram);
		if (!l->host[i])
			bench_die("RAM region %zu has no host memory", i);
		for (uint64_t off = 0; off < REGION_SIZE; off += 8) {
			uint64_t word = ms_rng_next(&rng);

			memcpy(l->host[i] + off, &word, sizeof(word));
		}
		ms_region_unref(ram); /* the container keeps it */
		l->ranges[i].start = region_addr(i);
		l->ranges[i].last = region_addr(i) + REGION_SIZE - 1;
		l->starts[i] = region_addr(i);
	}
	bench_check(ms_transaction_commit(l->ctx), "ms_transaction_commit");
	ms_region_unref(system); /* the address space keeps it */
	l->fv = ms_as_get_flatview(l->as);

	/* The bench measures the layout it asked for: check the view has exactly it. */
	if (ms_flatview_nr_ranges(l->fv) != n)
		bench_die("view has %zu ranges, expected %zu", ms_flatview_nr_ranges(l->fv), n);
	for (size_t i = 0; i < n; i++) {
		ms_section sec;

		bench_check(ms_flatview_range(&sec, l->fv, i), "ms_flatview_range");
		if (sec.start != l->ranges[i].start || sec.last != l->ranges[i].last)
			bench_die("range %zu is [0x%" PRIx64 ", 0x%" PRIx64 "], expected "
				  "[0x%" PRIx64 ", 0x%" PRIx64 "]",
				  i, sec.start, sec.last, l->ranges[i].start, l->ranges[i].last);
	}
	bench_check(radix_new(&l->radix, l->ranges, n), "radix_new");
	bench_check(cradix_new(&l->cradix, l->ranges, n), "cradix_new");
}

static void layout_free(layout *l)
{
	cradix_free(&l->cradix);
	radix_free(l->radix);
	ms_flatview_unref(l->fv);
	ms_ctx_free(l->ctx);
	free(l->starts);
	free(l->ranges);
	free(l->host);
}

enum {
	PATTERN_RANDOM,
	PATTERN_SEQUENTIAL,
	NR_PATTERNS
};
static const char *const pattern_names[NR_PATTERNS] = {"random", "sequential"};

static void make_addresses(uint64_t *out, size_t count, size_t n, int pattern)
{
	const uint64_t words = REGION_SIZE / 4;
	ms_rng rng;

	ms_rng_seed(&rng, SCALE_SEED ^ n ^ ((uint64_t)pattern << 40));
	for (size_t k = 0; k < count; k++) {
		if (pattern == PATTERN_SEQUENTIAL)
			out[k] = region_addr(k % n) + 4 * ((k / n) % words);
		else
			out[k] = region_addr(ms_rng_below(&rng, n)) + 4 * ms_rng_below(&rng, words);
	}
}

/* ---- timing ---------------------------------------------------------- */

/* Addresses timed together inside a pass. */
#define PASS_CHUNK ((size_t)4096)

/* Part of a pass: implementation @impl over addresses [from, from + n); returns its checksum. */
typedef uint64_t (*pass_part_fn)(const void *env, int impl, size_t from, size_t n);

/*
 * One pass over @count addresses (a multiple of PASS_CHUNK), each chunk of
 * PASS_CHUNK timed alone; @chunk_ns has room for count / PASS_CHUNK values.
 * Return: the median chunk's ns per address, so that the time slices a busy
 * machine gives other processes (each lands on one chunk) do not count.
 * *@sum gets the whole pass's checksum.
 */
static double timed_pass(pass_part_fn part, const void *env, int impl, size_t count, uint64_t *sum,
			 double *chunk_ns)
{
	size_t chunks = count / PASS_CHUNK;

	*sum = 0;
	for (size_t c = 0; c < chunks; c++) {
		uint64_t t0 = bench_now_ns();

		*sum += part(env, impl, c * PASS_CHUNK, PASS_CHUNK);
		chunk_ns[c] = (double)(bench_now_ns() - t0) / (double)PASS_CHUNK;
	}
	return bench_median(chunk_ns, chunks);
}

/* ---- figure 1: look-ups ----------------------------------------------- */

enum {
	L_FIND,
	L_FIND_ALL,
	L_FIND_CALL,
	L_LOOKUP,
	L_BSEARCH,
	L_RADIX,
	L_CRADIX,
	NR_LOOKUPS
};
static const char *const lookup_keys[NR_LOOKUPS] = {"find",    "find_all", "find_call", "lookup",
						    "bsearch", "radix",    "cradix"};
static const char *const lookup_names[NR_LOOKUPS] = {
	"ms_flatview_find",       "  reading every field", "  (ms_flatview_find) call",
	"ms_flatview_lookup",     "bsearch (inlined)",     "radix QEMU-style (inl.)",
	"compressed radix (inl.)"};

/*
 * Binary search over the sorted starts for the last range starting at or
 * below @addr, then its end checked. Branch-free (the halving step is a
 * conditional move), so it pays no mispredictions on random addresses;
 * inlined into its loop.
 */
static inline __attribute__((always_inline)) const bench_range *
bsearch_lookup(const uint64_t *starts, const bench_range *ranges, size_t n, uint64_t addr)
{
	const uint64_t *base = starts;
	size_t len = n;
	const bench_range *r;

	if (n == 0 || addr < starts[0])
		return NULL;
	/* Invariant: *base <= addr, and the answer lies in [base, base + len). */
	while (len > 1) {
		size_t half = len / 2;

		base = base[half] <= addr ? base + half : base;
		len -= half;
	}
	r = &ranges[base - starts];
	return addr <= r->last ? r : NULL;
}

/* The answer by arithmetic on the layout: the oracle the five are checked against. */
static const bench_range *layout_find(const layout *l, uint64_t addr)
{
	uint64_t offset = addr - SCALE_BASE;

	if (addr < SCALE_BASE || offset / REGION_STRIDE >= l->n ||
	    offset % REGION_STRIDE >= REGION_SIZE)
		return NULL;
	return &l->ranges[offset / REGION_STRIDE];
}

/* Where the every-field pass leaves what it read, so that it reads it all. */
static volatile uint64_t lookup_sink;

/* One pass of look-up @impl over @addrs: the sum of the starts found (1 for none). */
static uint64_t lookup_pass(layout *l, int impl, const uint64_t *addrs, size_t count)
{
	uint64_t sum = 0;

	switch (impl) {
	case L_FIND:
		for (size_t k = 0; k < count; k++) {
			ms_section sec;

			sum += ms_flatview_find(&sec, l->fv, addrs[k]) == 0 ? sec.start : 1;
		}
		break;
	case L_FIND_ALL: {
		uint64_t fields = 0;

		for (size_t k = 0; k < count; k++) {
			ms_section sec;

			if (ms_flatview_find(&sec, l->fv, addrs[k]) != 0) {
				sum++;
				continue;
			}
			sum += sec.start;
			fields += (uintptr_t)sec.region + sec.last + sec.offset_in_region +
				  sec.size + sec.readonly + sec.nonvolatile + sec.unmergeable +
				  sec.romd + sec.dirty_log_mask + (uintptr_t)sec.as;
		}
		lookup_sink = fields;
		break;
	}
	case L_FIND_CALL:
		for (size_t k = 0; k < count; k++) {
			ms_section sec;

			sum += (ms_flatview_find)(&sec, l->fv, addrs[k]) == 0 ? sec.start : 1;
		}
		break;
	case L_LOOKUP:
		for (size_t k = 0; k < count; k++) {
			const ms_flat_entry *e = ms_flatview_lookup(l->fv, addrs[k]);

			sum += e ? e->start : 1;
		}
		break;
	case L_BSEARCH:
		for (size_t k = 0; k < count; k++) {
			const bench_range *r = bsearch_lookup(l->starts, l->ranges, l->n, addrs[k]);

			sum += r ? r->start : 1;
		}
		break;
	case L_RADIX:
		for (size_t k = 0; k < count; k++)
			sum += radix_lookup(l->radix, addrs[k])->range_start;
		break;
	default:
		for (size_t k = 0; k < count; k++) {
			const bench_range *r = cradix_lookup(&l->cradix, addrs[k]);

			sum += r ? r->start : 1;
		}
		break;
	}
	return sum;
}

typedef struct lookup_env {
	layout *l;
	const uint64_t *addrs;
} lookup_env;

static uint64_t lookup_part(const void *arg, int impl, size_t from, size_t n)
{
	const lookup_env *env = arg;

	return lookup_pass(env->l, impl, env->addrs + from, n);
}

/* Abort unless all five look-ups return the layout's range (or none) at @addr. */
static void verify_lookup(layout *l, uint64_t addr)
{
	const bench_range *expect = layout_find(l, addr);
	const bench_range *bs = bsearch_lookup(l->starts, l->ranges, l->n, addr);
	const ms_flat_entry *e = ms_flatview_lookup(l->fv, addr);
	const radix_section *rx = radix_lookup(l->radix, addr);
	const bench_range *cr = cradix_lookup(&l->cradix, addr);
	size_t index = expect ? (size_t)(expect - l->ranges) : SIZE_MAX;
	ms_section sec = {0}, called = {0};
	int rc = ms_flatview_find(&sec, l->fv, addr);
	int called_rc = (ms_flatview_find)(&called, l->fv, addr);
	const char *who = NULL;

	if (bs != expect)
		who = "bsearch";
	else if (expect ? rc != 0 || sec.start != expect->start || sec.last != expect->last
			: rc != -ENOENT)
		who = "ms_flatview_find";
	else if (called_rc != rc ||
		 (rc == 0 && (called.start != sec.start || called.last != sec.last ||
			      called.region != sec.region)))
		who = "(ms_flatview_find)";
	else if (expect ? !e || e->start != expect->start || e->last != expect->last : e != NULL)
		who = "ms_flatview_lookup";
	else if (rx->range != index)
		who = "radix";
	else if (cr != expect)
		who = "compressed radix";
	if (who)
		bench_die("%s is wrong at 0x%" PRIx64 " (N = %zu; expected %s range %lld)", who,
			  addr, l->n, expect ? "" : "no", expect ? (long long)index : -1LL);
}

static void verify_lookups(layout *l, const uint64_t *addrs, size_t count)
{
	for (size_t k = 0; k < count; k++)
		verify_lookup(l, addrs[k]);
	/* Both ends of every range and of every hole, and around the layout. */
	for (size_t i = 0; i < l->n; i++) {
		verify_lookup(l, l->ranges[i].start - 1);
		verify_lookup(l, l->ranges[i].start);
		verify_lookup(l, l->ranges[i].last);
		verify_lookup(l, l->ranges[i].last + 1);
	}
	verify_lookup(l, 0);
	verify_lookup(l, UINT64_MAX);
}

/* The look-up targets (ms_flatview_find, random addresses). */
static target lookup_target(size_t n, int pattern)
{
	if (pattern != PATTERN_RANDOM)
		return (target){NULL, 0, false};
	if (n == 10)
		return (target){"<= 2 ns", 2, false};
	if (n == 1000)
		return (target){"<= 4 ns", 4, false};
	return (target){"<= 10 ns", 10, false};
}

static void run_lookups(const bench_opts *opts, bench_json *json, layout *l, uint64_t *addrs,
			size_t count, unsigned samples, double *buf, double *chunk_ns)
{
	lookup_env env = {.l = l, .addrs = addrs};

	for (int pattern = 0; pattern < NR_PATTERNS; pattern++) {
		uint64_t checksum[NR_LOOKUPS];
		stat3 st[NR_LOOKUPS];
		target tg = lookup_target(l->n, pattern);
		bool applies = l->n == 10 || l->n == 1000 || l->n == 100000;

		make_addresses(addrs, count, l->n, pattern);
		verify_lookups(l, addrs, count);
		for (int impl = 0; impl < NR_LOOKUPS; impl++) /* warm-up */
			checksum[impl] = lookup_pass(l, impl, addrs, count);
		for (unsigned s = 0; s < samples; s++) {
			for (int impl = 0; impl < NR_LOOKUPS; impl++) {
				uint64_t sum;

				buf[impl * samples + s] =
					timed_pass(lookup_part, &env, impl, count, &sum, chunk_ns);
				if (sum != checksum[impl])
					bench_die("%s: checksum changed between passes",
						  lookup_keys[impl]);
			}
		}
		for (int impl = 0; impl < NR_LOOKUPS; impl++) {
			if (checksum[impl] != checksum[L_FIND])
				bench_die("%s checksum 0x%" PRIx64
					  " != ms_flatview_find's 0x%" PRIx64,
					  lookup_keys[impl], checksum[impl], checksum[L_FIND]);
			st[impl] = summarize(&buf[impl * samples], samples);
		}

		if (!opts->json) {
			for (int impl = 0; impl < NR_LOOKUPS; impl++) {
				bool lib = impl <= L_LOOKUP;
				char range[32];

				snprintf(range, sizeof(range), "%.2f-%.2f", st[impl].min,
					 st[impl].max);
				printf("  %7zu  %-10s  %-24s %8.2f  %-13s", l->n,
				       pattern_names[pattern], lookup_names[impl], st[impl].median,
				       range);
				if (lib)
					printf("  %6.2fx %6.2fx %6.2fx  %-9s %s\n",
					       st[impl].median / st[L_BSEARCH].median,
					       st[impl].median / st[L_RADIX].median,
					       st[impl].median / st[L_CRADIX].median,
					       tg.text ? tg.text : "",
					       target_met(&tg, st[impl].median, applies));
				else
					printf("\n");
			}
			fflush(stdout);
		}
		bench_json_open(json, NULL);
		bench_json_uint(json, "regions", l->n);
		bench_json_string(json, "pattern", pattern_names[pattern]);
		bench_json_open(json, "ns_per_lookup");
		for (int impl = 0; impl < NR_LOOKUPS; impl++)
			json_stat(json, lookup_keys[impl], st[impl]);
		bench_json_close(json);
		for (int impl = L_FIND; impl <= L_LOOKUP; impl++) {
			char key[32];

			snprintf(key, sizeof(key), "%s_over", lookup_keys[impl]);
			bench_json_open(json, key);
			bench_json_number(json, "bsearch", st[impl].median / st[L_BSEARCH].median);
			bench_json_number(json, "radix", st[impl].median / st[L_RADIX].median);
			bench_json_number(json, "cradix", st[impl].median / st[L_CRADIX].median);
			json_target(json, &tg, st[impl].median, applies);
			bench_json_close(json);
		}
		bench_json_uint(json, "radix_bytes", radix_memory(l->radix));
		bench_json_uint(json, "cradix_bytes", cradix_memory(&l->cradix));
		bench_json_uint(json, "cradix_depth", l->cradix.depth);
		bench_json_close(json);
	}
}

/* ---- figure 2: 4-byte RAM reads --------------------------------------- */

/* One pass: ms_as_ldl_le() at @addrs (@lib) or loads through @hosts. */
static uint64_t ldl_pass(const layout *l, bool lib, const uint64_t *addrs, uint8_t *const *hosts,
			 size_t count)
{
	uint64_t sum = 0;

	if (lib) {
		for (size_t k = 0; k < count; k++)
			sum += ms_as_ldl_le(l->as, addrs[k], MS_ATTRS_UNSPECIFIED, NULL);
	} else {
		for (size_t k = 0; k < count; k++) {
			uint32_t word;

			memcpy(&word, hosts[k], sizeof(word));
			sum += le32toh(word);
		}
	}
	return sum;
}

typedef struct ldl_env {
	const layout *l;
	const uint64_t *addrs;
	uint8_t *const *hosts;
} ldl_env;

/* Variant 0: ms_as_ldl_le(); 1: raw loads. */
static uint64_t ldl_part(const void *arg, int v, size_t from, size_t n)
{
	const ldl_env *env = arg;

	return ldl_pass(env->l, v == 0, env->addrs + from, env->hosts + from, n);
}

static void run_ldl(const bench_opts *opts, bench_json *json, const layout *l, uint64_t *addrs,
		    size_t count, unsigned samples, double *buf, double *chunk_ns)
{
	uint8_t **hosts = malloc(count * sizeof(*hosts));
	ldl_env env = {.l = l, .addrs = addrs, .hosts = hosts};
	uint64_t checksum[2];
	stat3 st[2];
	target tg;
	bool applies = l->n == 10 || l->n == 100000;

	if (!hosts)
		bench_die("out of memory");
	make_addresses(addrs, count, l->n, PATTERN_RANDOM);
	for (size_t k = 0; k < count; k++) {
		uint64_t offset = addrs[k] - SCALE_BASE;
		ms_result rc = MS_RESULT_OK;
		uint32_t raw, got;

		hosts[k] = l->host[offset / REGION_STRIDE] + offset % REGION_STRIDE;
		memcpy(&raw, hosts[k], sizeof(raw));
		raw = le32toh(raw);
		got = ms_as_ldl_le(l->as, addrs[k], MS_ATTRS_UNSPECIFIED, &rc);
		if (rc != MS_RESULT_OK || got != raw)
			bench_die("ms_as_ldl_le at 0x%" PRIx64 " gave 0x%x (result %u), RAM holds "
				  "0x%x",
				  addrs[k], got, rc, raw);
	}
	for (int v = 0; v < 2; v++)
		checksum[v] = ldl_pass(l, v == 0, addrs, hosts, count);
	for (unsigned s = 0; s < samples; s++) {
		for (int v = 0; v < 2; v++) {
			uint64_t sum;

			buf[v * samples + s] = timed_pass(ldl_part, &env, v, count, &sum, chunk_ns);
			if (sum != checksum[v])
				bench_die("4-byte reads: checksum changed between passes");
		}
	}
	for (int v = 0; v < 2; v++)
		st[v] = summarize(&buf[v * samples], samples);
	if (checksum[0] != checksum[1])
		bench_die("ms_as_ldl_le checksum 0x%" PRIx64 " != raw loads' 0x%" PRIx64,
			  checksum[0], checksum[1]);
	/* vm-memory's figure is the issue's, from its own run: not measured here. */
	tg = l->n == 10 ? (target){"<= 6 ns", 6, false}
			: (target){"< 362 ns (vm-memory)", 362, false};

	if (!opts->json) {
		char range[32];

		snprintf(range, sizeof(range), "%.1f-%.1f", st[0].min, st[0].max);
		printf("  %7zu  %-24s %8.2f  %-13s  %6.2fx  %-21s %s\n", l->n, "ms_as_ldl_le",
		       st[0].median, range, st[0].median / st[1].median, tg.text,
		       target_met(&tg, st[0].median, applies));
		snprintf(range, sizeof(range), "%.1f-%.1f", st[1].min, st[1].max);
		printf("  %7zu  %-24s %8.2f  %-13s\n", l->n, "raw load (host pointer)",
		       st[1].median, range);
		fflush(stdout);
	}
	bench_json_open(json, NULL);
	bench_json_uint(json, "regions", l->n);
	bench_json_string(json, "pattern", "random");
	json_stat(json, "ldl_ns", st[0]);
	json_stat(json, "raw_ns", st[1]);
	bench_json_number(json, "ldl_over_raw", st[0].median / st[1].median);
	json_target(json, &tg, st[0].median, applies);
	bench_json_close(json);
	free(hosts);
}

/* ---- figure 3: commits ------------------------------------------------ */

typedef struct commit_env {
	ms_ctx *ctx;
	ms_region *system;
	ms_region **regions;
	size_t n;
} commit_env;

/* A context with a 2^64 container in an address space and @n unplaced RAM regions. */
static void commit_env_new(commit_env *env, size_t n)
{
	char name[32];
	ms_as *as;

	env->n = n;
	env->regions = malloc(n * sizeof(*env->regions));
	if (!env->regions)
		bench_die("out of memory");
	bench_check(ms_ctx_new(&env->ctx), "ms_ctx_new");
	bench_check(ms_region_new_container(&env->system, env->ctx, "system", MS_SIZE_2_64),
		    "ms_region_new_container");
	bench_check(ms_as_new(&as, env->ctx, env->system, "memory"), "ms_as_new");
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "ram%zu", i);
		bench_check(ms_region_new_ram(&env->regions[i], env->ctx, name, REGION_SIZE),
			    "ms_region_new_ram");
	}
}

/* Place the @n regions of @env at their addresses in one transaction. */
static void add_all_in_one_transaction(commit_env *env, size_t n)
{
	ms_transaction_begin(env->ctx);
	for (size_t i = 0; i < n; i++)
		bench_check(ms_region_add_subregion(env->system, region_addr(i), env->regions[i]),
			    "ms_region_add_subregion");
	bench_check(ms_transaction_commit(env->ctx), "ms_transaction_commit");
}

/* ms_ctx_free() frees every region and address space whatever their references. */
static void commit_env_free(commit_env *env)
{
	ms_ctx_free(env->ctx);
	free(env->regions);
}

enum {
	C_ADD_EACH,      /* additions, one commit each */
	C_ADD_TXN,       /* additions in one transaction */
	C_DEL_EACH_LAST, /* deletions one commit each, the container holding the last ref */
	C_DEL_EACH_KEEP, /* the same, the caller keeping a reference */
};

typedef struct commit_run {
	double seconds; /* for the operations done */
	size_t done;    /* operations done before the cap (n when not capped) */
} commit_run;

/* One run of figure @kind over @n regions, stopped after @cap seconds. */
static commit_run run_commit(int kind, size_t n, double cap)
{
	commit_env env;
	commit_run run = {0, 0};
	uint64_t t0, now = 0;

	commit_env_new(&env, n);
	if (kind == C_DEL_EACH_LAST || kind == C_DEL_EACH_KEEP) {
		add_all_in_one_transaction(&env, n);
		if (kind == C_DEL_EACH_LAST) {
			for (size_t i = 0; i < n; i++)
				ms_region_unref(env.regions[i]);
		}
	}
	t0 = bench_now_ns();
	switch (kind) {
	case C_ADD_TXN:
		add_all_in_one_transaction(&env, n);
		now = bench_now_ns();
		run.done = n;
		break;
	default:
		while (run.done < n) {
			size_t i = run.done;

			if (kind == C_ADD_EACH)
				bench_check(ms_region_add_subregion(env.system, region_addr(i),
								    env.regions[i]),
					    "ms_region_add_subregion");
			else
				bench_check(ms_region_del_subregion(env.system, env.regions[i]),
					    "ms_region_del_subregion");
			run.done++;
			now = bench_now_ns();
			if ((double)(now - t0) * 1e-9 > cap)
				break;
		}
		break;
	}
	run.seconds = (double)(now - t0) * 1e-9;
	/* What the figure did must show: all regions in, or all out, of the view. */
	if (run.done == n) {
		ms_flatview *fv = ms_as_get_flatview(ms_ctx_as(env.ctx, 0));
		size_t expect = kind == C_ADD_EACH || kind == C_ADD_TXN ? n : 0;

		if (ms_flatview_nr_ranges(fv) != expect)
			bench_die("after the commits the view has %zu ranges, expected %zu",
				  ms_flatview_nr_ranges(fv), expect);
		ms_flatview_unref(fv);
	}
	commit_env_free(&env);
	return run;
}

static void format_duration(char *buf, size_t size, double seconds)
{
	if (seconds >= 1)
		snprintf(buf, size, "%.2f s", seconds);
	else
		snprintf(buf, size, "%.1f ms", seconds * 1e3);
}

/* Run figure @kind up to @samples times (once only past 10 s or when capped); print a row. */
static double commit_figure(const bench_opts *opts, bench_json *json, const char *label,
			    const char *key, int kind, size_t n, bool applies, const target *tg,
			    unsigned samples, double cap)
{
	double seconds[16];
	unsigned runs = 0;
	commit_run run;
	bool capped;
	stat3 st;

	if (samples > 16)
		samples = 16;
	do {
		run = run_commit(kind, n, cap);
		seconds[runs++] = run.seconds;
		capped = run.done < n;
	} while (!capped && runs < samples && run.seconds < 10);
	st = summarize(seconds, runs);

	if (!opts->json) {
		char text[64];

		snprintf(text, sizeof(text), "%zu %s", n, label);
		char median[24], min[24], max[24];

		format_duration(median, sizeof(median), st.median);
		format_duration(min, sizeof(min), st.min);
		format_duration(max, sizeof(max), st.max);
		printf("  %-50s %4u %10s  %10s - %-10s %10.2f us  %-9s %s", text, runs, median, min,
		       max, st.median * 1e6 / (double)run.done, tg->text ? tg->text : "",
		       capped ? (tg->text ? "no" : "") : target_met(tg, st.median, applies));
		if (capped)
			printf("  CAPPED after %zu of %zu commits (%.0f s cap)", run.done, n, cap);
		printf("\n");
		fflush(stdout);
	}
	bench_json_open(json, key);
	bench_json_uint(json, "regions", n);
	bench_json_uint(json, "runs", runs);
	json_stat(json, "seconds", st);
	bench_json_number(json, "us_per_operation", st.median * 1e6 / (double)run.done);
	bench_json_bool(json, "capped", capped);
	bench_json_uint(json, "operations_done", run.done);
	bench_json_number(json, "cap_seconds", cap);
	if (tg->text) {
		bench_json_string(json, "target", tg->text);
		if (applies)
			bench_json_bool(json, "target_met", !capped && st.median <= tg->bound);
	}
	bench_json_close(json);
	return st.median;
}

static void run_commits(const bench_opts *opts, bench_json *json, unsigned samples)
{
	size_t small = opts->quick ? 500 : 10000, large = opts->quick ? 2000 : 100000;
	double cap = opts->quick ? 5.0 : 60.0;
	const target t_add_small = {"<= 50 ms", 0.05, false}, t_add_large = {"<= 1 s", 1, false},
		     t_txn_large = {"<= 100 ms", 0.1, false}, t_del = {"<= 1 s", 1, false},
		     none = {NULL, 0, false};
	bool applies = !opts->quick;
	double txn_small, txn_large;

	if (!opts->json) {
		printf("\n  commits: %s; regions created before the clock starts; cap %.0f s a run\n",
		       "RAM regions of 4 KiB, 8 KiB apart from 4 GiB", cap);
		printf("  %-50s %4s %10s  %23s %13s  %-9s %s\n", "figure", "runs", "median",
		       "min - max", "per region", "target", "met");
	}
	bench_json_open(json, "commit");
	commit_figure(opts, json, "added, one commit each", "add_each_small", C_ADD_EACH, small,
		      applies, &t_add_small, samples, cap);
	commit_figure(opts, json, "added, one commit each", "add_each_large", C_ADD_EACH, large,
		      applies, &t_add_large, samples, cap);
	txn_small = commit_figure(opts, json, "added in one transaction", "add_txn_small",
				  C_ADD_TXN, small, applies, &none, samples, cap);
	txn_large = commit_figure(opts, json, "added in one transaction", "add_txn_large",
				  C_ADD_TXN, large, applies, &t_txn_large, samples, cap);
	commit_figure(opts, json, "deleted one each, container holds last ref", "del_each_last_ref",
		      C_DEL_EACH_LAST, large, applies, &t_del, samples, cap);
	commit_figure(opts, json, "deleted one each, caller keeps a ref", "del_each_kept",
		      C_DEL_EACH_KEEP, large, applies, &t_del, samples, cap);
	bench_json_number(json, "txn_growth", txn_large / txn_small);
	bench_json_close(json);
	if (!opts->json)
		printf("  one transaction: %zu regions take %.1fx the time of %zu (linear: %.0fx)\n",
		       large, txn_large / txn_small, small, (double)large / (double)small);
}

/* ---- figure 4: bulk reads --------------------------------------------- */

typedef struct bulk_env {
	ms_as *as;
	const uint8_t *ram;
	uint8_t *buf;
} bulk_env;

/* Called through this so the compiler can neither inline nor elide it. */
static void *(*volatile copy_bytes)(void *, const void *, size_t) = memcpy;
/* Where the timed loops' checksums go, so that no loop is optimised away. */
static volatile uint64_t bulk_sink;

static uint64_t bulk_run(const void *arg, int lib, size_t iters)
{
	const bulk_env *env = arg;
	uint64_t sum = 0;

	for (size_t i = 0; i < iters; i++) {
		if (lib)
			sum += ms_as_read(env->as, SCALE_BASE, MS_ATTRS_UNSPECIFIED, env->buf,
					  BULK_SIZE);
		else
			copy_bytes(env->buf, env->ram, BULK_SIZE);
		sum += env->buf[i & (BULK_SIZE - 1)];
	}
	return sum;
}

static void run_bulk(const bench_opts *opts, bench_json *json, unsigned samples, double *buf)
{
	uint64_t target_ns = opts->quick ? 5000000 : 50000000;
	const target tg = {">= 0.97", 0.97, true};
	ms_region *system, *ram;
	bulk_env env;
	double *burst_ns;
	size_t bursts;
	ms_ctx *ctx;
	stat3 st[2];
	ms_rng rng;
	double ratio;
	uint8_t *mem;

	bench_check(ms_ctx_new(&ctx), "ms_ctx_new");
	bench_check(ms_region_new_container(&system, ctx, "system", MS_SIZE_2_64),
		    "ms_region_new_container");
	bench_check(ms_as_new(&env.as, ctx, system, "memory"), "ms_as_new");
	bench_check(ms_region_new_ram(&ram, ctx, "ram", BULK_SIZE), "ms_region_new_ram");
	bench_check(ms_region_add_subregion(system, SCALE_BASE, ram), "ms_region_add_subregion");
	mem = ms_region_ram_ptr(ram);
	ms_rng_seed(&rng, SCALE_SEED);
	for (size_t i = 0; i < BULK_SIZE; i++)
		mem[i] = (uint8_t)ms_rng_next(&rng);
	env.ram = mem;
	env.buf = malloc(BULK_SIZE);
	if (!env.buf)
		bench_die("out of memory");
	if (ms_as_read(env.as, SCALE_BASE, MS_ATTRS_UNSPECIFIED, env.buf, BULK_SIZE) !=
		    MS_RESULT_OK ||
	    memcmp(env.buf, mem, BULK_SIZE) != 0)
		bench_die("64 KiB ms_as_read differs from RAM");

	for (int v = 0; v < 2; v++)
		bulk_sink += bulk_run(&env, v, 100); /* warm up */
	bursts = bench_calibrate(bulk_run, &env, 0, target_ns) / (2 * BULK_BURST) + 1;
	burst_ns = malloc(2 * bursts * sizeof(*burst_ns));
	if (!burst_ns)
		bench_die("out of memory");
	for (unsigned s = 0; s < samples; s++) {
		/*
		 * Bursts of each in turn, the first one alternating, each timed
		 * alone: a sample is the median burst, so the time slices a busy
		 * machine gives to other processes (which land on one burst
		 * or another) do not count.
		 */
		for (size_t b = 0; b < bursts; b++) {
			for (int k = 0; k < 2; k++) {
				int v = k ^ (int)(b & 1);
				uint64_t t0 = bench_now_ns();

				bulk_sink += bulk_run(&env, v, BULK_BURST);
				burst_ns[v * bursts + b] =
					(double)(bench_now_ns() - t0) / BULK_BURST;
			}
		}
		for (int v = 0; v < 2; v++)
			buf[v * samples + s] = bench_median(&burst_ns[v * bursts], bursts);
	}
	free(burst_ns);
	for (int v = 0; v < 2; v++)
		st[v] = summarize(&buf[v * samples], samples);
	ratio = st[0].median / st[1].median; /* memcpy time over library time */

	if (!opts->json) {
		printf("\n  bulk 64 KiB RAM read: ns per read, %u samples of ~%.0f ms, each the "
		       "median of %zu bursts of %d, interleaved\n",
		       samples, (double)target_ns / 1e6, bursts, BULK_BURST);
		printf("  %-24s %9.0f  (%.0f-%.0f)  %.2f GB/s\n", "memcpy", st[0].median, st[0].min,
		       st[0].max, (double)BULK_SIZE / st[0].median);
		printf("  %-24s %9.0f  (%.0f-%.0f)  %.2f GB/s\n", "ms_as_read", st[1].median,
		       st[1].min, st[1].max, (double)BULK_SIZE / st[1].median);
		printf("  memcpy/library %.3f (library throughput over memcpy's; target %s: %s), "
		       "library/memcpy %.3f\n",
		       ratio, tg.text, target_met(&tg, ratio, true), 1 / ratio);
		fflush(stdout);
	}
	bench_json_open(json, "bulk64k");
	json_stat(json, "memcpy_ns", st[0]);
	json_stat(json, "read_ns", st[1]);
	bench_json_number(json, "memcpy_over_library", ratio);
	bench_json_number(json, "library_over_memcpy", 1 / ratio);
	json_target(json, &tg, ratio, true);
	bench_json_close(json);

	ms_region_unref(ram);
	ms_region_unref(system);
	ms_ctx_free(ctx);
	free(env.buf);
}

/* ---- the subcommand --------------------------------------------------- */

int bench_scale(const bench_opts *opts, bench_json *json)
{
	static const size_t full_sizes[] = {10, 1000, 100000};
	static const size_t quick_sizes[] = {10, 1000, 10000};
	const size_t *sizes = opts->quick ? quick_sizes : full_sizes;
	unsigned samples = opts->samples_given ? opts->samples : opts->quick ? 3 : 5;
	size_t count = opts->quick ? (size_t)1 << 16 : (size_t)1 << 20;
	uint64_t *addrs = malloc(count * sizeof(*addrs));
	double *buf = malloc(samples * sizeof(*buf) * NR_LOOKUPS);
	double *chunk_ns = malloc(count / PASS_CHUNK * sizeof(*chunk_ns));
	layout layouts[3];

	if (!addrs || !buf || !chunk_ns)
		bench_die("out of memory");
	if (!opts->json) {
		printf("scale: N RAM regions of 4 KiB, each followed by a 4 KiB hole, from 4 GiB in "
		       "a 2^64 container;\n"
		       "  median (min-max) of %u passes over %zu addresses, a pass counting its "
		       "median chunk of 4096;\n"
		       "  random: uniform region and 4-byte offset; sequential: regions in order, "
		       "one address per region;\n"
		       "  ratios: library time / baseline time\n\n",
		       samples, count);
		printf("  look-up, ns per look-up\n");
		printf("  %7s  %-10s  %-24s %8s  %-13s  %7s %7s %7s  %-9s %s\n", "regions",
		       "pattern", "implementation", "median", "min-max", "/bsearch", "/radix",
		       "/cradix", "target", "met");
	}
	bench_json_open(json, "scale");
	bench_json_uint(json, "addresses", count);
	bench_json_uint(json, "samples", samples);
	bench_json_open_array(json, "lookup");
	for (size_t i = 0; i < 3; i++) {
		layout_new(&layouts[i], sizes[i]);
		run_lookups(opts, json, &layouts[i], addrs, count, samples, buf, chunk_ns);
		/* Only the smallest and the largest layouts serve the 4-byte reads. */
		if (i == 1)
			layout_free(&layouts[i]);
	}
	bench_json_close(json);

	if (!opts->json) {
		printf("\n  4-byte RAM read (random), ns per read\n");
		printf("  %7s  %-24s %8s  %-13s  %7s  %-21s %s\n", "regions", "implementation",
		       "median", "min-max", "/raw", "target", "met");
	}
	bench_json_open_array(json, "ldl");
	run_ldl(opts, json, &layouts[0], addrs, count, samples, buf, chunk_ns);
	run_ldl(opts, json, &layouts[2], addrs, count, samples, buf, chunk_ns);
	bench_json_close(json);
	layout_free(&layouts[0]);
	layout_free(&layouts[2]);

	run_commits(opts, json, samples);
	run_bulk(opts, json, samples, buf);
	bench_json_close(json);
	free(chunk_ns);
	free(buf);
	free(addrs);
	return 0;
}
