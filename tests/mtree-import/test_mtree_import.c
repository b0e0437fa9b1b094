/*
 * Tests of the dump importer's C API (tools/memspace/mtree_import.h) on
 * in-memory buffers: every truncation of a real dump, random bytes and
 * mutated lines (an error or a machine, never a crash or a leak: run under
 * ASan and valgrind), allocation failures inside the library (rolled back),
 * the nesting limit, and the handle's getters. The command-line behaviour is
 * covered by the golden tests driven by run.sh.
 *
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "memspace.h"
#include "ms_rng.h"
#include <memspace/backend.h>
#include "mtree_import.h"

#ifndef MTREE_CASES_DIR
#error "MTREE_CASES_DIR must name tests/mtree-import/cases"
#endif

static char *read_case(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s/input.txt", MTREE_CASES_DIR, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/*
 * Import into one long-lived context (freeing a context waits for an RCU
 * grace period, too slow for thousands of inputs): a failed import must leave
 * it empty and usable, a successful one is followed by a fresh context.
 */
static ms_ctx *shared_ctx;

static int import_once(const char *text, size_t len, msc_mtree_diag *diag)
{
	msc_mtree *imp = NULL;
	ms_ctx *ctx;
	int rc;

	if (!shared_ctx)
		assert_int_equal(ms_ctx_new(&shared_ctx), 0);
	ctx = shared_ctx;
	memset(diag, 0, sizeof(*diag));
	rc = msc_mtree_import(&imp, diag, ctx, text, len, NULL, NULL);
	if (rc < 0) {
		assert_null(imp);
		assert_true(diag->message[0] != '\0');
		assert_true(strlen(diag->message) < sizeof(diag->message));
		assert_int_equal(ms_ctx_nr_as(ctx), 0);
		return rc;
	}
	assert_non_null(imp);
	assert_int_equal(msc_mtree_import_nr_as(imp), ms_ctx_nr_as(ctx));
	msc_mtree_import_free(imp);
	ms_ctx_free(ctx);
	shared_ctx = NULL;
	return rc;
}

static void every_line_truncation_is_an_error_or_a_machine(void **state)
{
	static const char *const cases[] = {"x86_64-pc", "x86_64-q35-bridges", "arm-mps2-an505",
					    "ppc64-pseries"};
	size_t c;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t len, cut, errors = 0;
		char *text = read_case(cases[c], &len);
		msc_mtree_diag d;

		/* Cut after every line and in the middle of every 7th line. */
		for (cut = 0; cut <= len; cut++) {
			bool at_line = cut == len || (cut > 0 && text[cut - 1] == '\n');

			if (!at_line && cut % 7 != 0)
				continue;
			if (import_once(text, cut, &d) < 0)
				errors++;
		}
		assert_int_equal(import_once(text, len, &d), 0);
		assert_true(errors > 0);
		free(text);
	}
}

static void truncated_line_reports_its_position(void **state)
{
	static const char text[] = "address-space: memory\n"
				   "  0000000000000000-ffffffffffffffff (prio 0, i/o): system\n"
				   "    0000000000000000-0000000000000fff (prio 0, ra";
	msc_mtree_diag d;

	(void)state;
	assert_int_equal(import_once(text, sizeof(text) - 1, &d), -EINVAL);
	assert_int_equal(d.line, 3);
	assert_int_equal(d.col, 48);
	assert_string_equal(d.message, "unknown kind: expected ram, rom, romd, ramd or i/o");
}

static void random_bytes_and_mutations_never_crash(void **state)
{
	size_t len, i, j;
	char *text = read_case("x86_64-pc", &len);
	char *buf = malloc(len);
	msc_mtree_diag d;
	ms_rng rng;

	(void)state;
	assert_non_null(buf);
	ms_rng_seed(&rng, 0x9e3779b97f4a7c15ull);
	for (i = 0; i < 200; i++) {
		size_t n = ms_rng_below(&rng, 512);

		for (j = 0; j < n; j++)
			buf[j] = (char)ms_rng_next(&rng);
		import_once(buf, n, &d);
	}
	/* Flip, delete or duplicate single bytes of a real dump. */
	for (i = 0; i < 300; i++) {
		size_t at = ms_rng_below(&rng, len);

		memcpy(buf, text, len);
		switch (i % 3) {
		case 0:
			buf[at] = (char)ms_rng_next(&rng);
			import_once(buf, len, &d);
			break;
		case 1:
			memmove(buf + at, buf + at + 1, len - at - 1);
			import_once(buf, len - 1, &d);
			break;
		default:
			buf[at] = text[(at + ms_rng_below(&rng, 64)) % len];
			import_once(buf, len, &d);
			break;
		}
	}
	free(buf);
	free(text);
}

static void library_allocation_failures_roll_back(void **state)
{
	size_t len;
	char *text = read_case("x86_64-q35-iommu", &len);
	uint64_t countdown;
	int failures = 0;
	ms_ctx *ctx;

	(void)state;
	/* One context for all the failures: each must leave it empty and usable. */
	assert_int_equal(ms_ctx_new(&ctx), 0);
	for (countdown = 1;; countdown++) {
		msc_mtree *imp = NULL;
		msc_mtree_diag d;
		int rc;

		ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, countdown);
		rc = msc_mtree_import(&imp, &d, ctx, text, len, NULL, NULL);
		ms_ctx_test_control(ctx, MS_TEST_FAIL_ALLOC_AFTER, 0);
		if (rc == 0) {
			assert_true(msc_mtree_import_nr_as(imp) > 0);
			msc_mtree_import_free(imp);
			break;
		}
		assert_int_equal(rc, -ENOMEM);
		assert_null(imp);
		assert_int_equal(ms_ctx_nr_as(ctx), 0);
		failures++;
	}
	ms_ctx_free(ctx);
	assert_true(failures > 100);
	free(text);
}

static void nesting_deeper_than_the_render_limit_is_refused(void **state)
{
	size_t depth, cap = 0, len = 0;
	char *text = NULL;
	msc_mtree_diag d;

	(void)state;
	for (depth = 1; depth <= MS_RENDER_MAX_DEPTH + 1; depth++) {
		size_t need = len + 2 * depth + 128;

		if (need > cap) {
			cap = need * 2;
			text = realloc(text, cap);
			assert_non_null(text);
		}
		if (depth == 1)
			len += (size_t)sprintf(text + len, "address-space: memory\n");
		memset(text + len, ' ', 2 * depth);
		len += 2 * depth;
		len += (size_t)sprintf(text + len,
				       "0000000000000000-ffffffffffffffff (prio 0, i/o): c%zu\n",
				       depth);
	}
	assert_int_equal(import_once(text, len, &d), -EINVAL);
	assert_int_equal(d.line, MS_RENDER_MAX_DEPTH + 2);
	assert_string_equal(d.message, "tree nested deeper than 1024 levels");
	free(text);
}

static void warning_cb(const msc_mtree_diag *d, void *payload)
{
	int *count = payload;

	assert_int_equal(d->line, 3);
	(*count)++;
}

static void handle_lists_address_spaces_in_file_order(void **state)
{
	static const char text[] =
		"address-space: I/O\n"
		"  0000000000000000-000000000000ffff (prio 0, i/o): io\n"
		"    0000000000000000-0000000000000fff (prio 0, i/o): alias a @ram0 0000000000000000-0000000000000fff\n"
		"\n"
		"address-space: cpu-memory-0\n"
		"address-space: memory\n"
		"  0000000000000000-0000000000000fff (prio 0, ram): ram0\n"
		"\n"
		"memory-region: ram0\n"
		"  0000000000000000-0000000000000fff (prio 0, ram): ram0\n";
	msc_mtree *imp = NULL;
	msc_mtree_diag d;
	ms_ctx *ctx;
	int warnings = 0;

	(void)state;
	assert_int_equal(ms_ctx_new(&ctx), 0);
	assert_int_equal(
		msc_mtree_import(&imp, &d, ctx, text, sizeof(text) - 1, warning_cb, &warnings), 0);
	assert_int_equal(warnings, 1); /* alias 'a' prints i/o, its target is ram */
	assert_int_equal(msc_mtree_import_nr_as(imp), 3);
	assert_string_equal(ms_as_name(msc_mtree_import_as(imp, 0)), "I/O");
	assert_string_equal(ms_as_name(msc_mtree_import_as(imp, 1)), "cpu-memory-0");
	assert_string_equal(ms_as_name(msc_mtree_import_as(imp, 2)), "memory");
	assert_null(msc_mtree_import_as(imp, 3));
	assert_ptr_equal(msc_mtree_import_find_as(imp, "memory"), msc_mtree_import_as(imp, 2));
	assert_null(msc_mtree_import_find_as(imp, "nvme"));
	/* The trailer is the AS root (rule I4): one region, the alias's target. */
	assert_ptr_equal(ms_as_root(msc_mtree_import_as(imp, 2)),
			 ms_region_alias_target(
				 ms_region_subregion(ms_as_root(msc_mtree_import_as(imp, 0)), 0)));
	msc_mtree_import_free(imp);
	/* The machine outlives the handle. */
	assert_int_equal(ms_ctx_nr_as(ctx), 3);
	ms_ctx_free(ctx);
	msc_mtree_import_free(NULL);
	assert_int_equal(msc_mtree_import_nr_as(NULL), 0);
}

static void bad_arguments_are_einval(void **state)
{
	msc_mtree *imp = (msc_mtree *)&imp;
	msc_mtree_diag d;
	ms_ctx *ctx;

	(void)state;
	assert_int_equal(ms_ctx_new(&ctx), 0);
	assert_int_equal(msc_mtree_import(&imp, &d, NULL, "", 0, NULL, NULL), -EINVAL);
	assert_null(imp);
	assert_int_equal(msc_mtree_import(NULL, &d, ctx, "", 0, NULL, NULL), -EINVAL);
	assert_int_equal(msc_mtree_import(&imp, NULL, ctx, NULL, 5, NULL, NULL), -EINVAL);
	assert_int_equal(msc_mtree_import(&imp, &d, ctx, "", 0, NULL, NULL), -EINVAL);
	assert_string_equal(d.message, "no 'address-space:' block in the input");
	ms_ctx_free(ctx);
}

/* Warnings of one import, as "LINE:COL: message" lines. */
static void collect_warning(const msc_mtree_diag *d, void *payload)
{
	char *log = payload;
	size_t n = strlen(log);

	snprintf(log + n, 1024 - n, "%lu:%lu: %s\n", d->line, d->col, d->message);
}

/*
 * RAM the host cannot map (rules/layout-only-huge-ram, its pc.ram made 2^60 bytes):
 * without flags the import fails and leaves nothing; MSC_MTREE_LAYOUT_ONLY
 * loads every RAM and ROM without memory; MSC_MTREE_LAYOUT_FALLBACK backs
 * what it can and warns about what it loads layout only.
 */
static void ram_the_host_cannot_map_loads_layout_only(void **state)
{
	char path[512], log[1024], *text, *at;
	msc_mtree *imp = NULL;
	msc_mtree_diag d;
	uint8_t b[4];
	ms_ctx *ctx;
	ms_as *as;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "../rules/layout-only-huge-ram");
	text = read_case(path, &len);
	/* 2^60 bytes: more than even a 57-bit (5-level paging) host can map. */
	at = memmem(text, len, "0000ffffffffffff (prio 0, ram): pc.ram", 38);
	assert_non_null(at);
	memcpy(at, "0fff", 4);
	assert_int_equal(ms_ctx_new(&ctx), 0);

	assert_int_equal(msc_mtree_import(&imp, &d, ctx, text, len, NULL, NULL), -ENOMEM);
	assert_null(imp);
	assert_int_equal(d.line, 202);
	assert_string_equal(d.message, "cannot create region 'pc.ram': out of memory");
	assert_int_equal(ms_ctx_nr_as(ctx), 0);
	assert_int_equal(msc_mtree_import_with(&imp, &d, ctx, text, len, 1u << 5, NULL, NULL),
			 -EINVAL);

	log[0] = '\0';
	assert_int_equal(msc_mtree_import_with(&imp, &d, ctx, text, len, MSC_MTREE_LAYOUT_FALLBACK,
					       collect_warning, log),
			 0);
	assert_string_equal(log, "202:52: region 'pc.ram': this host cannot back its "
				 "0x1000000000000000 bytes of memory; loaded layout only (accesses "
				 "to it fail)\n");
	as = msc_mtree_import_find_as(imp, "memory");
	assert_non_null(as);
	/* pc.ram (through ram-below-4g) has no memory; the BIOS ROM has. */
	assert_int_equal(ms_as_read(as, 0x1000, MS_ATTRS_UNSPECIFIED, b, 4),
			 MS_RESULT_ACCESS_ERROR);
	assert_int_equal(ms_as_read(as, 0xfffffff0, MS_ATTRS_UNSPECIFIED, b, 4), MS_RESULT_OK);
	msc_mtree_import_free(imp);
	ms_ctx_free(ctx);

	assert_int_equal(ms_ctx_new(&ctx), 0);
	log[0] = '\0';
	assert_int_equal(msc_mtree_import_with(&imp, &d, ctx, text, len, MSC_MTREE_LAYOUT_ONLY,
					       collect_warning, log),
			 0);
	assert_string_equal(log, ""); /* asked for: no warning */
	as = msc_mtree_import_find_as(imp, "memory");
	assert_int_equal(ms_as_read(as, 0xfffffff0, MS_ATTRS_UNSPECIFIED, b, 4),
			 MS_RESULT_ACCESS_ERROR);
	msc_mtree_import_free(imp);
	ms_ctx_free(ctx);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_line_truncation_is_an_error_or_a_machine),
		cmocka_unit_test(truncated_line_reports_its_position),
		cmocka_unit_test(random_bytes_and_mutations_never_crash),
		cmocka_unit_test(library_allocation_failures_roll_back),
		cmocka_unit_test(nesting_deeper_than_the_render_limit_is_refused),
		cmocka_unit_test(handle_lists_address_spaces_in_file_order),
		cmocka_unit_test(bad_arguments_are_einval),
		cmocka_unit_test(ram_the_host_cannot_map_loads_layout_only),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	ms_ctx_free(shared_ctx);
	return failed;
}
