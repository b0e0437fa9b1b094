/*
 * memspace-bench: measures the performance targets of DESIGN.md §5.
 *
 *   memspace-bench [--json] [--quick] [--samples N] SUBCOMMAND
 *
 * Subcommands: lookup (address -> range index against a binary search and a
 * QEMU-style radix table), commit (transaction and per-commit costs),
 * access (when built with access.h), iommu (notifier delivery: interval index
 * against a linear scan), cache (region-cache loads against uncached ones),
 * precopy (RAM pre-copy under a dirtying writer), scale (the scale targets' figures at 10 to
 * 100,000 regions against inlined baselines), all. Every figure is a median over
 * repeated samples; docs/bench.md explains each one.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memspace.h"

#include "bench.h"
#include "devtlb.h"
#include "tce.h"
#include "vfio_user.h"
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
	      "  dirty    dirty logging: stores and writes off/on, snapshot vs a plain atomic bitmap\n"
	      "  precopy  RAM pre-copy of 1 GiB while a writer dirties pages: rounds, sent, downtime\n"
	      "  devtlb   ns per 4-byte DMA read through an IOMMU, with and without a device IOTLB\n"
	      "  vtd      VT-d-like model: replay by mappings, page invalidation, DMA via the unit\n"
	      "  vfio-user  a libvfio-user device: BAR reads by message vs mmap, DMA by fd vs messages\n"
#ifdef MS_BENCH_HAVE_ACCESS
	      "  scale    10 to 100,000 regions: look-ups, reads, commits, bulk reads against targets\n"
#endif
	      "  all      everything above\n"
	      "\n"
	      "options:\n"
	      "  --json        print one JSON object with every figure instead of tables\n"
	      "  --quick       fewer samples and smaller sizes (a smoke test, not a measurement)\n"
	      "  --samples N   samples per figure, median reported (default 7; 3 with --quick)\n"
	      "  --rate N      precopy: pages the writer dirties per millisecond (default 16)\n"
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

/* The subcommands, in the order `all` runs them (one row each). */
/* clang-format off */
static const struct subcommand {
	const char *name;
	int (*run)(const bench_opts *opts, bench_json *json);
} subcommands[] = {
	{"lookup", bench_lookup},
	{"commit", bench_commit},
#ifdef MS_BENCH_HAVE_ACCESS
	{"access", bench_access},
#endif
	{"iommu", bench_iommu},
	{"cache", bench_cache},
	{"tce", bench_tce},
	{"dirty", bench_dirty},
	{"precopy", bench_precopy},
	{"devtlb", bench_devtlb},
	{"vtd", bench_vtd},
	{"vfio-user", bench_vfio_user},
#ifdef MS_BENCH_HAVE_ACCESS
	{"scale", bench_scale},
#endif
};
/* clang-format on */
#define NR_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

int main(int argc, char **argv)
{
	bench_opts opts = {.samples = 0};
	bench_json json = {.out = NULL};
	const char *command = NULL;
	bool run[NR_SUBCOMMANDS], any = false, first = true;
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
			opts.samples_given = true;
		} else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
			char *end;
			long value = strtol(argv[++i], &end, 10);

			if (*end || value < 1 || value > 1000000) {
				fprintf(stderr, "memspace-bench: --rate wants 1..1000000\n");
				return 2;
			}
			opts.dirty_rate = (unsigned)value;
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
	for (size_t i = 0; i < NR_SUBCOMMANDS; i++) {
		run[i] = strcmp(command, subcommands[i].name) == 0 || strcmp(command, "all") == 0;
		any |= run[i];
	}
	if (!any) {
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

	for (size_t i = 0; i < NR_SUBCOMMANDS; i++) {
		if (!run[i])
			continue;
		if (!opts.json && !first)
			putchar('\n');
		first = false;
		subcommands[i].run(&opts, &json);
	}
	bench_json_close(&json);
	return 0;
}
