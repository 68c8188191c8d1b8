// SPDX-License-Identifier: MIT
/*
 * gpuvm-exercise: run a VM_BIND workload on a panthor device and check every
 * result through the GPU. See usage() and ex.h.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ex.h"
#include "ex_replay.h"
#include "launch.h"

static void usage(FILE *out)
{
	fputs("usage: gpuvm-exercise [OPTION]...\n"
	      "\n"
	      "Run a VM_BIND workload on a panthor device: maps, unmaps, hole punches, 2 MiB\n"
	      "blocks, sparse and repeat binds, multi-op arrays, async chains on timeline\n"
	      "syncobjs and invalid binds that must change nothing, over several VMs and open\n"
	      "files sharing BOs through PRIME. A reference model keeps every VM's expected\n"
	      "layout; after each step the GPU reads (and writes) every page the step touched\n"
	      "and the pages around it, and any difference is a mismatch.\n"
	      "\n"
	      "Without --device it runs on the gpuvm mock device: it re-executes itself with\n"
	      "the mock's LD_PRELOAD shim (found in the build tree, the install directory or\n"
	      "$GPUVM_MOCKDRM_SHIM). There the GPU accesses go through the mock MMU and its\n"
	      "TLB in strict mode, which counts every stale translation.\n"
	      "\n"
	      "Options:\n"
	      "  --seed N           random workload seed (default 1); same seed, same run\n"
	      "  --ops N            random steps (default 2000)\n"
	      "  --files N          open files of the device, 1-8 (default 2)\n"
	      "  --vms N            VMs per file (default 2)\n"
	      "  --bos N            BOs per file, shared with the other files (default 4)\n"
	      "  --script FILE      run the steps of FILE instead of random ones (below)\n"
	      "  --print-script     print each step in script syntax as it runs\n"
	      "  --device PATH      use this panthor node (e.g. /dev/dri/renderD128 of a real\n"
	      "                     GPU) instead of the mock; what the mock alone can check\n"
	      "                     (translations, counters) is then reported as such\n"
	      "  --replay FILE      replay a gpuvm-trace recording on the mock instead: each\n"
	      "                     ioctl's result must be the recorded one and the final VA\n"
	      "                     layout what the recorded binds made; the first divergence\n"
	      "                     is reported with its ioctl index\n"
	      "  --json             print the summary as one JSON object on stdout\n"
	      "  --quiet            print nothing but mismatches (exit status says the rest)\n"
	      "  --no-progress      no progress bar (it is shown only on a terminal anyway)\n"
	      "  --plant-mismatch N after step N (from 1), corrupt the model on purpose: the\n"
	      "                     run must then report mismatches (the checks can fail)\n"
	      "  --help             this text\n"
	      "\n"
	      "Scripts: one step per line, '#' comments, numbers in C syntax with an optional\n"
	      "K/M/G suffix; VM n and BO n count from 0 over all files (VM n is on file\n"
	      "n % files; BO n is created by file n % files and shared with the others;\n"
	      "BOs 0..files-1 are 4 MiB, the others 4 KiB to 1 MiB):\n"
	      "  map VM BO BO_OFFSET VA SIZE [ro] [noexec] [uncached]\n"
	      "  repeat VM BO BO_OFFSET RANGE VA SIZE [ro] [noexec] [uncached]\n"
	      "  sparse VM VA SIZE [ro] [uncached]\n"
	      "  unmap VM VA SIZE\n"
	      "  OP ; OP ; ...              several ops in one VM_BIND (all or nothing)\n"
	      "  async OP ; OP ; ...        one ASYNC VM_BIND per op, chained on a timeline\n"
	      "  expect VM VA fault|sparse|BO:OFFSET   what the GPU must read at VA\n"
	      "Every step is also checked against the model, as in random runs.\n"
	      "\n"
	      "Summary: ops (bind ops issued), ops/s, table pages in use, flushes, faults\n"
	      "(GPU faults the device handled; the model expects those of its own probes of\n"
	      "unmapped and read-only pages), stale TLB translations (must be 0) and\n"
	      "mismatches (must be 0), from the mock's counters.\n"
	      "\n"
	      "Exit status: 0 all checks passed, 1 a mismatch or stale translation, 2 usage\n"
	      "or setup error.\n",
	      out);
}

enum {
	OPT_NO_PROGRESS = 256,
	OPT_PRINT_SCRIPT,
	OPT_PLANT
};

static const struct option long_opts[] = {
	{ "seed", required_argument, NULL, 's' },
	{ "ops", required_argument, NULL, 'n' },
	{ "files", required_argument, NULL, 'f' },
	{ "vms", required_argument, NULL, 'v' },
	{ "bos", required_argument, NULL, 'b' },
	{ "script", required_argument, NULL, 'S' },
	{ "device", required_argument, NULL, 'd' },
	{ "replay", required_argument, NULL, 'r' },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "print-script", no_argument, NULL, OPT_PRINT_SCRIPT },
	{ "plant-mismatch", required_argument, NULL, OPT_PLANT },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return !errno && end != s && !*end && *out >= min && *out <= max;
}

/* One option into @cfg; false on a bad value. */
static bool parse_opt(int c, const char *arg, struct ex_cfg *cfg)
{
	uint64_t v = 0;

	switch (c) {
	case 's':
		return parse_u64(arg, 0, UINT64_MAX, &cfg->seed);
	case 'n':
		return parse_u64(arg, 0, UINT_MAX, &v) && (cfg->ops = (unsigned int)v, true);
	case 'f':
		return parse_u64(arg, 1, EX_MAX_FILES, &v) && (cfg->files = (unsigned int)v, true);
	case 'v':
		return parse_u64(arg, 1, EX_MAX_VMS / EX_MAX_FILES, &v) &&
		       (cfg->vms = (unsigned int)v, true);
	case 'b':
		return parse_u64(arg, 1, EX_MAX_BOS / EX_MAX_FILES, &v) &&
		       (cfg->bos = (unsigned int)v, true);
	case OPT_PLANT:
		return parse_u64(arg, 0, LONG_MAX, &v) && (cfg->plant_mismatch = (long)v, true);
	case 'S':
		cfg->script = arg;
		return true;
	case 'd':
		cfg->device = arg;
		return true;
	case 'r':
		cfg->replay = arg;
		return true;
	case 'j':
		cfg->json = true;
		return true;
	case 'q':
		cfg->quiet = true;
		return true;
	case OPT_NO_PROGRESS:
		cfg->progress = false;
		return true;
	case OPT_PRINT_SCRIPT:
		cfg->print_script = true;
		return true;
	default:
		return false;
	}
}

/* 0, 1 for --help, -EINVAL for a bad command line (message printed). */
static int parse_args(int argc, char **argv, struct ex_cfg *cfg)
{
	int c;

	*cfg = (struct ex_cfg){ .seed = 1,
				.ops = 2000,
				.files = 2,
				.vms = 2,
				.bos = 4,
				.plant_mismatch = -1,
				.progress = isatty(STDERR_FILENO) };
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (!parse_opt(c, optarg, cfg)) {
			fprintf(stderr, "gpuvm-exercise: bad option (try --help)\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gpuvm-exercise: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	cfg->progress = cfg->progress && !cfg->quiet;
	return 0;
}

int main(int argc, char **argv)
{
	static struct ex ex;
	int ret = parse_args(argc, argv, &ex.cfg);

	if (ret) {
		usage(ret > 0 ? stdout : stderr);
		return ret > 0 ? 0 : 2;
	}
	if (!ex.cfg.device && launch_ensure_shim("gpuvm-exercise", argv))
		return 2;
	ex.rng = ex.cfg.seed;
	ex.log = stderr;
	ex.stop_after = -1;
	if (ex.cfg.replay)
		return ex_replay_main(&ex);
	return ex_exercise(&ex);
}
