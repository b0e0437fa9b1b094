/*
 * Property test: the renderer against a brute-force reference model.
 *
 * Each case is a random program of public API calls (create regions of every
 * kind, nest them, alias them, set flags, open transactions, mutate) built
 * from a 64-bit seed. The program runs against the library and, in lockstep,
 * against a tiny model of the tree kept here. After every commit the
 * published flat view of each address space must agree with the model:
 *
 *   - per address: a resolver that walks the tree for one address exactly as
 *     the rendering rules R1-R8 of qemu-mtree/README.md say (first child in
 *     list order that answers wins, a terminating region answers for itself
 *     where no child does), with flags inherited along the path;
 *   - per view: the ranges are sorted, disjoint, non-empty and merged as R9
 *     says; when all region edges could be enumerated the expected range list
 *     is rebuilt from the resolver and compared exactly;
 *   - per address space: the flatview root follows rule F4, and address
 *     spaces share one view exactly when their flatview roots are the same.
 *
 * The model never looks at the library's rendering: it keeps its own
 * subregion lists (priority descending, the later added first among equals)
 * and checks the library's lists against them. The model and the reference
 * live in tests/support/refmodel.c, the runner in runner.c and the generator
 * in progen.c; the topology fuzzer (tests/fuzz/fuzz_topology.c) shares the first two.
 *
 * On a failure the program is shrunk (ops are removed while it still fails)
 * and printed as C code, with the model's tree, both range lists and the
 * first differing address.
 *
 * Environment: MS_PROP_SEED (one seed instead of the default list),
 * MS_PROP_COUNT (topologies per seed), MS_PROP_TOPO (run one topology seed as
 * printed in a failure report), MS_PROP_VERBOSE=1 (print every program),
 * MS_PROP_FORK=1 (run programs in child processes, so that a crash or an
 * assertion inside the library is shrunk and reported like a mismatch),
 * MS_PROP_KEEP_GOING=1 (one line per failing topology, no shrinking, then
 * fail at the end: a survey of everything a long run finds).
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <memspace.h>

#include "ms_rng.h"
#include "progen.h"
#include "refmodel.h"
#include "runner.h"

#define PROGRAMS_PER_CTX 200

/* ------------------------------------------------------------------------ */
/* Shrinking and the drivers.                                                */

/*
 * With MS_PROP_FORK=1 each run happens in a child process (this binary run
 * again with MS_PROP_RUN_FILE naming the program), so a library assertion or
 * crash counts as a failure that can be shrunk like any other. A plain fork()
 * would not do: liburcu's call_rcu worker does not survive it.
 */
static bool fork_mode(void)
{
	const char *s = getenv("MS_PROP_FORK");

	return s && *s && strcmp(s, "0") != 0;
}

extern char **environ;

static bool run_isolated(const struct program *p, struct stats *stats)
{
	char path[] = "/tmp/ms_prop_XXXXXX";
	char env_var[64];
	char *argv[] = {(char *)"test_render_property", NULL};
	char **envp;
	size_t nenv = 0;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int fd, status, rc;
	bool ok = false;

	if (!fork_mode())
		return run_program(p, NULL, stats);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, p, sizeof(*p)) == (ssize_t)sizeof(*p));
	close(fd);
	snprintf(env_var, sizeof(env_var), "MS_PROP_RUN_FILE=%s", path);
	while (environ[nenv])
		nenv++;
	envp = calloc(nenv + 2, sizeof(*envp));
	assert_non_null(envp);
	memcpy(envp, environ, nenv * sizeof(*envp));
	envp[nenv] = env_var;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	stats->programs++;
	if (rc == 0 && waitpid(pid, &status, 0) == pid)
		ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	unlink(path);
	return ok;
}

/* The child side of run_isolated(). */
static int run_program_file(const char *path)
{
	struct program *p = malloc(sizeof(*p));
	struct stats stats = {0};
	FILE *f = fopen(path, "rb");
	bool ok;

	if (!p || !f || fread(p, sizeof(*p), 1, f) != 1)
		return 2;
	fclose(f);
	ok = run_program(p, NULL, &stats);
	free(p);
	return ok ? 0 : 1;
}

/* Remove ops while the program still fails; returns the number of runs. */
static unsigned shrink(struct program *p, struct stats *stats)
{
	struct program *cand = malloc(sizeof(*cand));
	unsigned runs = 0;
	bool progress = true;

	assert_non_null(cand);
	while (progress && runs < 4000) {
		progress = false;
		for (int chunk = p->nops / 2; chunk >= 1; chunk /= 2) {
			for (int start = 0; start + chunk <= p->nops;) {
				*cand = *p;
				memmove(&cand->ops[start], &cand->ops[start + chunk],
					sizeof(struct op) * (size_t)(p->nops - start - chunk));
				cand->nops -= chunk;
				runs++;
				if (!run_isolated(cand, stats)) {
					*p = *cand;
					progress = true;
				} else {
					start += chunk;
				}
			}
		}
	}
	free(cand);
	return runs;
}

static bool env_u64(const char *name, uint64_t *out)
{
	const char *s = getenv(name);
	char *end;

	if (!s || !*s)
		return false;
	*out = strtoull(s, &end, 0);
	return *end == '\0';
}

static uint64_t topology_seed(uint64_t seed, uint64_t index)
{
	uint64_t s = seed ^ (index * 0xd1342543de82ef95ull);

	return ms_rng_splitmix64(&s);
}

/*
 * Run one topology (in @shared_ctx, which earlier programs left empty, or in
 * a context of its own); on failure shrink it, print everything and return
 * false. Shrinking always uses fresh contexts. With MS_PROP_KEEP_GOING a
 * failure is one line and counted in @stats.
 */
static bool run_topology(uint64_t tseed, bool full64, const char *origin, ms_ctx *shared_ctx,
			 struct stats *stats)
{
	struct program *p = malloc(sizeof(*p));
	struct report why = {0};

	assert_non_null(p);
	gen_program(p, tseed, full64);
	if (getenv("MS_PROP_VERBOSE")) {
		struct report r = {0};

		dump_program(&r, p);
		printf("topology 0x%016" PRIx64 ":\n%s", tseed, r.buf ? r.buf : "");
		rep_free(&r);
	}
	if (fork_mode() ? !run_isolated(p, stats) : !run_program_in(p, shared_ctx, &why, stats)) {
		struct report full = {0};

		if (getenv("MS_PROP_KEEP_GOING")) {
			const char *line = why.buf ? strstr(why.buf, "FAILED at") : NULL;
			const char *end = line ? strchr(line, '\n') : NULL;

			stats->failures++;
			fprintf(stderr, "MS_PROP_TOPO=0x%016" PRIx64 " %s: %.*s\n", tseed, origin,
				line ? (int)(end ? end - line : (ptrdiff_t)strlen(line)) : 7,
				line ? line : "crashed");
			rep_free(&why);
			free(p);
			return true;
		}
		struct program *orig = malloc(sizeof(*orig));
		unsigned runs;

		assert_non_null(orig);
		*orig = *p;
		rep(&full,
		    "render property failed: %s, topology seed 0x%016" PRIx64
		    " (rerun with MS_PROP_TOPO=0x%016" PRIx64 ")\n",
		    origin, tseed, tseed);
		rep(&full, "--- original program ---\n");
		dump_program(&full, orig);
		rep(&full, "%s", why.buf ? why.buf : "");
		rep_free(&why);
		if (shared_ctx && run_isolated(p, stats))
			rep(&full, "NOTE: the program passes in a fresh context: the failure needs "
				   "the earlier programs run in the same context\n");
		runs = shrink(p, stats);
		rep(&full, "--- shrunk program (%u shrink runs) ---\n", runs);
		dump_program(&full, p);
		/* Print before the last run: it may crash inside the library. */
		fputs(full.buf ? full.buf : "", stderr);
		fflush(stderr);
		fflush(stdout);
		rep_free(&full);
		run_program(p, &why, stats);
		rep(&full, "%s", why.buf ? why.buf : "");
		fputs(full.buf ? full.buf : "", stderr);
		fflush(stderr);
		rep_free(&why);
		rep_free(&full);
		free(orig);
		free(p);
		return false;
	}
	rep_free(&why);
	free(p);
	return true;
}

static void run_property(bool full64, const uint64_t *seeds, size_t nseeds, uint64_t default_count)
{
	struct stats stats = {0};
	uint64_t count = default_count, one_seed, topo;
	struct timespec t0, t1;
	char origin[96];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (env_u64("MS_PROP_TOPO", &topo)) {
		snprintf(origin, sizeof(origin), "MS_PROP_TOPO");
		if (!run_topology(topo, full64, origin, NULL, &stats))
			fail_msg("render property failed for topology seed 0x%016" PRIx64, topo);
		return;
	}
	env_u64("MS_PROP_COUNT", &count);
	if (env_u64("MS_PROP_SEED", &one_seed)) {
		seeds = &one_seed;
		nseeds = 1;
	}
	/*
	 * Programs share a context in batches: freeing a context waits for an
	 * RCU barrier (milliseconds), which would dominate the run time.
	 */
	for (size_t i = 0; i < nseeds; i++) {
		ms_ctx *ctx = NULL;

		for (uint64_t k = 0; k < count; k++) {
			if (k % PROGRAMS_PER_CTX == 0) {
				ms_ctx_free(ctx);
				assert_int_equal(ms_ctx_new(&ctx), 0);
			}
			snprintf(origin, sizeof(origin),
				 "MS_PROP_SEED=0x%" PRIx64 " topology #%" PRIu64, seeds[i], k);
			if (!run_topology(topology_seed(seeds[i], k), full64, origin, ctx,
					  &stats)) {
				ms_ctx_free(ctx);
				fail_msg("render property failed for topology seed 0x%016" PRIx64,
					 topology_seed(seeds[i], k));
			}
		}
		ms_ctx_free(ctx);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("[ render  ] %s: %zu seed(s) x %" PRIu64 " topologies: %" PRIu64
	       " programs, %" PRIu64 " checks, %" PRIu64 " views, %" PRIu64 " ranges, %" PRIu64
	       " addresses compared in %.2f s\n"
	       "[ render  ]   %" PRIu64 " non-empty views, %" PRIu64
	       " with >= 5 ranges, at most %" PRIu64 " ranges; %" PRIu64
	       " views not fully enumerated; %" PRIu64 " range splits kept by unmergeable; %" PRIu64
	       " views shared by address spaces with different roots\n",
	       full64 ? "64-bit universes" : "small universes", nseeds, count, stats.programs,
	       stats.checks, stats.views, stats.ranges, stats.addresses,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	       stats.nonempty_views, stats.views_ge5, stats.max_ranges, stats.incomplete,
	       stats.unmergeable_splits, stats.shared_across_roots);
	if (stats.failures)
		fail_msg("%" PRIu64 " topologies failed", stats.failures);
}

/*
 * The default run: 6000 topologies in about 2 s in a Debug build and under a
 * minute under valgrind. Long runs: MS_PROP_SEED=<any> MS_PROP_COUNT=100000.
 */
static const uint64_t small_seeds[] = {1, 2, 3, 4, 0x5eed, 0xc0ffee, 0xdeadbeef, 0x1badb002};
static const uint64_t full_seeds[] = {7, 0xfeedface, 0x2545f4914f6cdd1d, 0x64};

#define SMALL_COUNT 500
#define FULL_COUNT 500

static void render_matches_reference_in_small_universes(void **state)
{
	(void)state;
	run_property(false, small_seeds, sizeof(small_seeds) / sizeof(small_seeds[0]), SMALL_COUNT);
}

static void render_matches_reference_in_64bit_universes(void **state)
{
	(void)state;
	run_property(true, full_seeds, sizeof(full_seeds) / sizeof(full_seeds[0]), FULL_COUNT);
}

/* ------------------------------------------------------------------------ */
/* Directed cases: the reference itself against answers from the rules.      */

struct builder {
	struct program p;
	struct model m;
};

static int b_new(struct builder *b, ms_region_kind kind, uint64_t size, int target, uint64_t offset)
{
	struct op op = {.kind = OP_NEW,
			.rkind = kind,
			.slot = 0,
			.value = size,
			.other = target,
			.value2 = offset};

	while (b->m.r[op.slot].exists)
		op.slot++;
	assert_true(model_valid(&b->m, &op));
	model_apply(&b->m, &op);
	b->p.ops[b->p.nops++] = op;
	return op.slot;
}

static void b_op(struct builder *b, struct op op)
{
	assert_true(model_valid(&b->m, &op));
	model_apply(&b->m, &op);
	b->p.ops[b->p.nops++] = op;
}

static void b_add(struct builder *b, int parent, uint64_t addr, int sub, int prio)
{
	b_op(b, (struct op){.kind = OP_ADD,
			    .slot = sub,
			    .other = parent,
			    .value = addr,
			    .priority = prio});
}

static void expect_at(const struct builder *b, int root, uint64_t addr, int leaf, uint64_t offset,
		      bool ro)
{
	struct answer a = ref_lookup(&b->m, ref_flatview_root(&b->m, root), addr);

	if (leaf < 0) {
		assert_false(a.mapped);
		return;
	}
	assert_true(a.mapped);
	assert_int_equal(a.leaf, leaf);
	assert_int_equal(a.offset, offset);
	assert_int_equal(a.readonly, ro);
}

/* R5, R8 and the priority rules on the README's examples; then the library too. */
static void reference_follows_readme_examples(void **state)
{
	struct builder *b = calloc(1, sizeof(*b));
	struct stats stats = {0};
	struct report why = {0};
	int sys, bios, isa, io, rtc, idx, pa, pb, ro_alias, ram;

	(void)state;
	assert_non_null(b);
	model_init(&b->m);
	sys = b_new(b, MS_REGION_CONTAINER, MS_SIZE_2_64, -1, 0);
	bios = b_new(b, MS_REGION_ROM, 0x4000, -1, 0); /* pc.bios, scaled down */
	b_add(b, sys, 0xfffc0000, bios, 0);
	isa = b_new(b, MS_REGION_ALIAS, 0x2000, bios, 0x2000);
	b_add(b, sys, 0xe0000, isa, 1);
	io = b_new(b, MS_REGION_IO, 0x10000, -1, 0);
	b_add(b, sys, 0x100000000ull, io, 0);
	rtc = b_new(b, MS_REGION_IO, 2, -1, 0);
	b_add(b, io, 0x70, rtc, 0);
	idx = b_new(b, MS_REGION_IO, 1, -1, 0);
	b_add(b, rtc, 0, idx, 0);
	/* Two equal-priority siblings: the later one wins. */
	pa = b_new(b, MS_REGION_IO, 0x100, -1, 0);
	b_add(b, sys, 0x1000, pa, 0);
	pb = b_new(b, MS_REGION_IO, 0x100, -1, 0);
	b_add(b, sys, 0x1080, pb, 0);
	/* A read-only alias makes its RAM target read-only (R3). */
	ram = b_new(b, MS_REGION_RAM, 0x1000, -1, 0);
	b_add(b, sys, 0x20000, ram, 0);
	ro_alias = b_new(b, MS_REGION_ALIAS, 0x100, ram, 0x800);
	b_op(b, (struct op){.kind = OP_SET_READONLY, .slot = ro_alias, .flag = true});
	b_add(b, sys, 0x30000, ro_alias, 0);
	b_op(b, (struct op){.kind = OP_NEW_AS, .slot = sys});
	b_op(b, (struct op){.kind = OP_CHECK});

	expect_at(b, sys, 0xe0000, bios, 0x2000, true);
	expect_at(b, sys, 0xe1fff, bios, 0x3fff, true);
	expect_at(b, sys, 0xe2000, -1, 0, false);
	expect_at(b, sys, 0xfffc0000, bios, 0, true);
	expect_at(b, sys, 0x100000070, idx, 0, false);
	expect_at(b, sys, 0x100000071, rtc, 1, false);
	expect_at(b, sys, 0x100000072, io, 0x72, false);
	expect_at(b, sys, 0x107f, pa, 0x7f, false);
	expect_at(b, sys, 0x1080, pb, 0, false);
	expect_at(b, sys, 0x10ff, pb, 0x7f, false);
	expect_at(b, sys, 0x1100, pb, 0x80, false);
	expect_at(b, sys, 0x30000, ram, 0x800, true);
	expect_at(b, sys, 0x20800, ram, 0x800, false);

	b->p.seed = 42;
	if (!run_program(&b->p, &why, &stats)) {
		struct report full = {0};

		dump_program(&full, &b->p);
		fprintf(stderr, "%s%s", full.buf ? full.buf : "", why.buf ? why.buf : "");
		rep_free(&full);
		rep_free(&why);
		free(b);
		fail_msg("the README examples do not render as the rules say");
	}
	rep_free(&why);
	free(b);
}

/* F4 and view sharing: a wrapper container and a full alias share the root's view. */
static void flatview_root_and_sharing_follow_f4(void **state)
{
	struct builder *b = calloc(1, sizeof(*b));
	struct stats stats = {0};
	struct report why = {0};
	int sys, ram, wrap, full, part, empty, one_disabled;

	(void)state;
	assert_non_null(b);
	model_init(&b->m);
	sys = b_new(b, MS_REGION_CONTAINER, MS_SIZE_2_64, -1, 0);
	ram = b_new(b, MS_REGION_RAM, 0x1000, -1, 0);
	b_add(b, sys, 0x1000, ram, 0);
	wrap = b_new(b, MS_REGION_CONTAINER, MS_SIZE_2_64, -1, 0);
	b_add(b, wrap, 0, sys, 0);
	full = b_new(b, MS_REGION_ALIAS, MS_SIZE_2_64, sys, 0);
	part = b_new(b, MS_REGION_ALIAS, 0x10000, sys, 0); /* smaller than the target */
	empty = b_new(b, MS_REGION_CONTAINER, 0x1000, -1, 0);
	one_disabled = b_new(b, MS_REGION_CONTAINER, MS_SIZE_2_64, -1, 0);
	{
		int a = b_new(b, MS_REGION_ALIAS, MS_SIZE_2_64, sys, 0);

		b_add(b, one_disabled, 0, a, 0);
		b_op(b, (struct op){.kind = OP_SET_ENABLED, .slot = a, .flag = false});
	}
	b_op(b, (struct op){.kind = OP_NEW_AS, .slot = sys});
	b_op(b, (struct op){.kind = OP_NEW_AS, .slot = wrap});
	b_op(b, (struct op){.kind = OP_NEW_AS, .slot = full});
	b_op(b, (struct op){.kind = OP_NEW_AS, .slot = part});
	b_op(b, (struct op){.kind = OP_NEW_AS, .slot = empty});
	b_op(b, (struct op){.kind = OP_NEW_AS, .slot = one_disabled});
	b_op(b, (struct op){.kind = OP_CHECK});

	assert_int_equal(ref_flatview_root(&b->m, sys), sys);
	assert_int_equal(ref_flatview_root(&b->m, wrap), sys);
	assert_int_equal(ref_flatview_root(&b->m, full), sys);
	assert_int_equal(ref_flatview_root(&b->m, part), part);
	assert_int_equal(ref_flatview_root(&b->m, empty), -1);
	assert_int_equal(ref_flatview_root(&b->m, one_disabled), -1);

	/* Disable the RAM's container path: the wrapper still resolves to sys. */
	b_op(b, (struct op){.kind = OP_SET_ENABLED, .slot = ram, .flag = false});
	b_op(b, (struct op){.kind = OP_CHECK});
	b_op(b, (struct op){.kind = OP_SET_ENABLED, .slot = sys, .flag = false});
	b_op(b, (struct op){.kind = OP_CHECK});
	assert_int_equal(ref_flatview_root(&b->m, wrap), -1);

	b->p.seed = 43;
	if (!run_program(&b->p, &why, &stats)) {
		struct report full_text = {0};

		dump_program(&full_text, &b->p);
		fprintf(stderr, "%s%s", full_text.buf ? full_text.buf : "", why.buf ? why.buf : "");
		rep_free(&full_text);
		rep_free(&why);
		free(b);
		fail_msg("flatview roots or view sharing do not follow rule F4");
	}
	rep_free(&why);
	free(b);
}

/*
 * Two windows onto a 2^64 region: the first ends at the region's last byte,
 * the second starts at its offset 0 right after. Offsets are not contiguous
 * (2^64 != 0), so the ranges must not merge (QEMU compares with Int128).
 */
static void offsets_do_not_wrap_when_merging(void **state)
{
	struct builder *b = calloc(1, sizeof(*b));
	struct stats stats = {0};
	struct report why = {0};
	int sys, big, high, low;

	(void)state;
	assert_non_null(b);
	model_init(&b->m);
	sys = b_new(b, MS_REGION_CONTAINER, MS_SIZE_2_64, -1, 0);
	big = b_new(b, MS_REGION_IO, MS_SIZE_2_64, -1, 0);
	high = b_new(b, MS_REGION_ALIAS, 0x1000, big, 0xfffffffffffff000ull);
	low = b_new(b, MS_REGION_ALIAS, 0x1000, big, 0);
	b_add(b, sys, 0, high, 0);
	b_add(b, sys, 0x1000, low, 0);
	b_op(b, (struct op){.kind = OP_NEW_AS, .slot = sys});
	b_op(b, (struct op){.kind = OP_CHECK});
	expect_at(b, sys, 0xfff, big, 0xffffffffffffffffull, false);
	expect_at(b, sys, 0x1000, big, 0, false);

	b->p.seed = 44;
	if (!run_program(&b->p, &why, &stats)) {
		struct report text = {0};

		dump_program(&text, &b->p);
		fprintf(stderr, "%s%s", text.buf ? text.buf : "", why.buf ? why.buf : "");
		rep_free(&text);
		rep_free(&why);
		free(b);
		fail_msg("ranges merged across an offset wrap at 2^64");
	}
	rep_free(&why);
	free(b);
}

int main(void)
{
	const char *program_file = getenv("MS_PROP_RUN_FILE");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reference_follows_readme_examples),
		cmocka_unit_test(flatview_root_and_sharing_follow_f4),
		cmocka_unit_test(offsets_do_not_wrap_when_merging),
		cmocka_unit_test(render_matches_reference_in_small_universes),
		cmocka_unit_test(render_matches_reference_in_64bit_universes),
	};

	if (program_file)
		return run_program_file(program_file);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
