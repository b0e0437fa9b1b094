/*
 * Tests for src/mtree.c's JSON form (MS_MTREE_JSON, with and without
 * MS_MTREE_FLAT): the dumps are valid JSON (RFC 8259), carry the tree, the
 * alias targets and the flat views of the x86_64-pc machine, escape names
 * and owners, and are well-formed for an empty context.
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
#include "ms_unit.h"
#include "test_mtree_support.h"
#include "test_mtree_pc.h"

/* ---- tests: JSON ----------------------------------------------------------- */

static void json_dumps_parse_and_carry_the_tree(void **state)
{
	static const unsigned forms[] = {
		MS_MTREE_JSON,
		MS_MTREE_JSON | MS_MTREE_DISABLED | MS_MTREE_OWNER,
		MS_MTREE_JSON | MS_MTREE_FLAT,
	};
	ms_ctx *ctx = new_ctx();
	char *text;
	size_t i;

	(void)state;
	build_pc(ctx, pc_tree_order, NR(pc_tree_order));
	for (i = 0; i < NR(forms); i++) {
		text = dump(ctx, forms[i]);
		if (!json_valid(text))
			fail_msg("invalid JSON for flags %#x:\n%s", forms[i], text);
		free(text);
	}

	text = dump(ctx, MS_MTREE_JSON);
	assert_non_null(strstr(text, "{\"format\":\"memspace-mtree\",\"version\":1,\"roots\":["
				     "{\"address_spaces\":[\"I/O\"],\"region\":{\"name\":\"io\","));
	assert_non_null(strstr(text, "{\"address_spaces\":[\"cpu-memory-0\",\"memory\"],"
				     "\"region\":{\"name\":\"system\",\"kind\":\"container\","
				     "\"type\":\"i/o\",\"addr\":\"0x0\","
				     "\"size\":\"0x10000000000000000\",\"start\":\"0x0\","
				     "\"end\":\"0xffffffffffffffff\",\"overflow\":false,"
				     "\"priority\":0,\"enabled\":true,\"readonly\":false,"
				     "\"nonvolatile\":false,\"unmergeable\":false,\"romd\":false,"
				     "\"owner\":null,\"alias\":null,\"children\":[{"));
	/* Alias targets in queue order: system, smram, pc.ram, pc.bios, pci. */
	assert_non_null(strstr(text, "{\"name\":\"ram-below-4g\",\"kind\":\"alias\","
				     "\"type\":\"ram\",\"addr\":\"0x0\",\"size\":\"0x8000000\","
				     "\"start\":\"0x0\",\"end\":\"0x7ffffff\",\"overflow\":false,"
				     "\"priority\":0,\"enabled\":true,\"readonly\":false,"
				     "\"nonvolatile\":false,\"unmergeable\":false,\"romd\":false,"
				     "\"owner\":null,\"alias\":{\"target\":\"pc.ram\","
				     "\"target_index\":2,\"offset\":\"0x0\"},\"children\":[]}"));
	assert_non_null(strstr(text, "\"name\":\"pam-rom\",\"kind\":\"alias\",\"type\":\"ram\","
				     "\"addr\":\"0xc0000\",\"size\":\"0x4000\",\"start\":"
				     "\"0xc0000\",\"end\":\"0xc3fff\",\"overflow\":false,"
				     "\"priority\":1,\"enabled\":false,\"readonly\":true,"));
	assert_non_null(strstr(text, "],\"alias_targets\":[{\"name\":\"system\","));
	assert_non_null(strstr(text, "{\"name\":\"pc.bios\",\"kind\":\"rom\",\"type\":\"rom\","
				     "\"addr\":\"0xfffc0000\",\"size\":\"0x40000\","
				     "\"start\":\"0xfffc0000\",\"end\":\"0xffffffff\""));
	assert_string_equal(text + strlen(text) - 3, "]}\n");
	free(text);

	text = dump(ctx, MS_MTREE_JSON | MS_MTREE_FLAT);
	assert_non_null(strstr(text,
			       "{\"format\":\"memspace-mtree-flat\",\"version\":1,"
			       "\"flatviews\":[{\"address_spaces\":[{\"name\":\"I/O\","
			       "\"root\":\"io\",\"root_alias_target\":null}],\"root\":\"io\","
			       "\"ranges\":[{\"start\":\"0x0\",\"last\":\"0x7\","
			       "\"offset\":\"0x0\",\"region\":\"dma-chan\",\"kind\":\"io\","
			       "\"priority\":0,\"type\":\"i/o\",\"readonly\":false,"
			       "\"nonvolatile\":false,\"unmergeable\":false,\"owner\":null}"));
	assert_non_null(strstr(text, "{\"start\":\"0xe0000\",\"last\":\"0xfffff\","
				     "\"offset\":\"0x20000\",\"region\":\"pc.bios\","
				     "\"kind\":\"rom\",\"priority\":0,\"type\":\"rom\","
				     "\"readonly\":true,"));
	assert_non_null(strstr(text, "{\"address_spaces\":[{\"name\":\"piix3-ide\","
				     "\"root\":\"bus master container\","
				     "\"root_alias_target\":null},"));
	assert_non_null(strstr(text, "\"root\":null,\"ranges\":[]}"));
	free(text);
	ms_ctx_free(ctx);
}

static void json_escapes_names(void **state)
{
	ms_ctx *ctx = new_ctx();
	ms_region *sys = new_container(ctx, "sys \"main\"", MS_SIZE_2_64);
	ms_region *odd = new_ram(ctx, "we\"ird\\name\tx\ny\x01\xff\xc3\xa9", 0x1000);
	unsigned flags[] = {MS_MTREE_JSON, MS_MTREE_JSON | MS_MTREE_FLAT};
	size_t i;

	(void)state;
	assert_int_equal(ms_region_set_owner(odd, "o\\wn\"er"), 0);
	put(sys, odd, 0, 0);
	put(sys, new_io(ctx, "x", 1), 0x2000, 0);
	new_as(ctx, sys, "as \"q\"");
	ms_region_unref(sys);

	for (i = 0; i < NR(flags); i++) {
		char *text = dump(ctx, flags[i]);

		if (!json_valid(text))
			fail_msg("invalid JSON:\n%s", text);
		assert_non_null(
			strstr(text, "\"we\\\"ird\\\\name\\tx\\ny\\u0001\\ufffd\xc3\xa9\""));
		assert_non_null(strstr(text, "\"owner\":\"o\\\\wn\\\"er\""));
		assert_non_null(strstr(text, "\"as \\\"q\\\"\""));
		free(text);
	}
	ms_ctx_free(ctx);
}

static void json_of_an_empty_context_is_valid(void **state)
{
	ms_ctx *ctx = new_ctx();

	(void)state;
	assert_dump(ctx, MS_MTREE_JSON,
		    "{\"format\":\"memspace-mtree\",\"version\":1,\"roots\":[],"
		    "\"alias_targets\":[]}\n");
	assert_dump(ctx, MS_MTREE_JSON | MS_MTREE_FLAT,
		    "{\"format\":\"memspace-mtree-flat\",\"version\":1,\"flatviews\":[]}\n");
	assert_dump(ctx, 0, "");
	assert_dump(ctx, MS_MTREE_FLAT, "");
	ms_ctx_free(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_dumps_parse_and_carry_the_tree),
		cmocka_unit_test(json_escapes_names),
		cmocka_unit_test(json_of_an_empty_context_is_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
