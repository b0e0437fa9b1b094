/*
 * memspace-bench: measures the performance targets of DESIGN.md §5.
 *
 *   memspace-bench [--json] [--quick] [--samples N] SUBCOMMAND
 *
 * Subcommands: lookup (address -> range index against a binary search and a
 * QEMU-style radix table), commit (transaction and per-commit costs),
 * access (when built with access.h), iommu (notifier delivery: interval index
 * against a linear scan), cache (region-cache loads against uncached ones),
 * all. Every figure is a median over
 * repeated samples; docs/bench.md explains each one.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memspace.h"

#include "bench.h"
#include "tce.h"
#include "vtd.h"

static void usage(FILE *out)
{
	fputs("usage: memspace-bench [--json] [--quick] [--samples N] SUBCOMMAND\n"
	      "\n"
	      "subcommands:\n"
	      "  lookup   ns per address lookup: library index vs binary search vs QEMU-style radix\n"
	      "  commit   one big transaction, one commit per region, unreachable mutations\n"
#ifdef MS_BENCH_HAVE_ACCESS
	      "  access   RAM and MMIO access paths against raw loads, memcpy and direct calls\n"
#endif
	      "  iommu    ns per IOMMU notification: notifier index vs linear scan\n"
	      "  cache    ns per 4-byte load: region cache vs uncached, plain and via an IOMMU\n"
	      "  tce      sPAPR TCE model: H_PUT_TCE rate with a container, replay by occupancy\n"
	      "  vtd      VT-d-like model: replay by mappings, page invalidation, DMA via the unit\n"
	      "  all      everything above\n"
	      "\n"
	      "options:\n"
	      "  --json        print one JSON object with every figure instead of tables\n"
	      "  --quick       fewer samples and smaller sizes (a smoke test, not a measurement)\n"
	      "  --samples N   samples per figure, median reported (default 7; 3 with --quick)\n"
	      "  --help        this text\n",
	      out);
}

/* The host's CPU model from /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];

	snprintf(buf, size, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon) {
			colon += strspn(colon + 1, " \t") + 1;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(buf, size, "%s", colon);
			break;
		}
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	bench_opts opts = {.samples = 0};
	bench_json json = {.out = NULL};
	const char *command = NULL;
	bool run_lookup, run_commit, run_access, run_iommu, run_cache, run_tce, run_vtd;
	char cpu[128];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			opts.json = true;
		} else if (strcmp(argv[i], "--quick") == 0) {
			opts.quick = true;
		} else if (strcmp(argv[i], "--samples") == 0 && i + 1 < argc) {
			char *end;
			long value = strtol(argv[++i], &end, 10);

			if (*end || value < 1 || value > 1000) {
				fprintf(stderr, "memspace-bench: --samples wants 1..1000\n");
				return 2;
			}
			opts.samples = (unsigned)value;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] != '-' && !command) {
			command = argv[i];
		} else {
			fprintf(stderr, "memspace-bench: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!command) {
		usage(stderr);
		return 2;
	}
	run_lookup = strcmp(command, "lookup") == 0 || strcmp(command, "all") == 0;
	run_commit = strcmp(command, "commit") == 0 || strcmp(command, "all") == 0;
#ifdef MS_BENCH_HAVE_ACCESS
	run_access = strcmp(command, "access") == 0 || strcmp(command, "all") == 0;
#else
	run_access = false;
#endif
	run_iommu = strcmp(command, "iommu") == 0 || strcmp(command, "all") == 0;
	run_cache = strcmp(command, "cache") == 0 || strcmp(command, "all") == 0;
	run_tce = strcmp(command, "tce") == 0 || strcmp(command, "all") == 0;
	run_vtd = strcmp(command, "vtd") == 0 || strcmp(command, "all") == 0;
	if (!run_lookup && !run_commit && !run_access && !run_iommu && !run_cache && !run_tce &&
	    !run_vtd) {
		fprintf(stderr, "memspace-bench: unknown subcommand '%s'\n", command);
		usage(stderr);
		return 2;
	}
	if (opts.samples == 0)
		opts.samples = opts.quick ? 3 : 7;

	cpu_model(cpu, sizeof(cpu));
	if (opts.json) {
		json.out = stdout;
		bench_json_open(&json, NULL);
		bench_json_string(&json, "memspace_version", ms_version_string());
		bench_json_bool(&json, "quick", opts.quick);
		bench_json_uint(&json, "samples", opts.samples);
		bench_json_open(&json, "host");
		bench_json_string(&json, "cpu", cpu);
		bench_json_uint(&json, "online_cpus", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
		bench_json_close(&json);
	} else {
		printf("memspace-bench %s%s: %s, %ld online CPUs\n\n", ms_version_string(),
		       opts.quick ? " (--quick: smoke test, figures not meaningful)" : "", cpu,
		       sysconf(_SC_NPROCESSORS_ONLN));
	}

	if (run_lookup) {
		bench_lookup(&opts, &json);
		if (!opts.json)
			putchar('\n');
	}
	if (run_commit) {
		bench_commit(&opts, &json);
		if (!opts.json)
			putchar('\n');
	}
#ifdef MS_BENCH_HAVE_ACCESS
	if (run_access) {
		bench_access(&opts, &json);
		if (!opts.json)
			putchar('\n');
	}
#endif
	if (run_iommu) {
		bench_iommu(&opts, &json);
		if (!opts.json)
			putchar('\n');
	}
	if (run_cache) {
		bench_cache(&opts, &json);
		if (!opts.json && run_tce)
			putchar('\n');
	}
	if (run_tce)
		bench_tce(&opts, &json);
	if (run_vtd) {
		if (!opts.json && (run_tce || run_cache))
			putchar('\n');
		bench_vtd(&opts, &json);
	}
	bench_json_close(&json);
	return 0;
}
