// SPDX-License-Identifier: MIT
/*
 * gpuvm-ptdump: run a workload on the mock device (an exerciser script, or a
 * trace replayed up to a chosen ioctl), then show the page tables of its VMs
 * as text and as an SVG picture. See usage() and pd.h.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ex.h"
#include "ex_replay.h"
#include "launch.h"
#include "pd.h"

static void usage(FILE *out)
{
	fputs("usage: gpuvm-ptdump (--script FILE | --trace FILE [--at N]) [OPTION]...\n"
	      "\n"
	      "Run a workload on the gpuvm mock device, then dump the page tables of its VMs\n"
	      "as the mock's MMU walks them: the table tree (level, PA, VA span, items used,\n"
	      "tables shared by several items) and the mappings, coalesced into ranges with\n"
	      "their attributes decoded; and, with --svg, the same as a picture.\n"
	      "\n"
	      "  --script FILE   run this gpuvm-exercise script first (see gpuvm-exercise\n"
	      "                  --help; --files/--vms/--bos as there, defaults 2/2/4)\n"
	      "  --trace FILE    replay this gpuvm-trace recording first ...\n"
	      "  --at N          ... up to and including ioctl index N (default: all of it)\n"
	      "  --vm K          only the K-th VM shown (from 0; default: every VM): a\n"
	      "                  script's in creation order, a trace's as each one ends\n"
	      "                  (destroyed, its file closed) and then those still alive\n"
	      "  --svg FILE      draw the first VM dumped (or --vm K) into FILE\n"
	      "  --quiet         no text dump (with --svg)\n"
	      "  --help          this text\n",
	      out);
}

struct dump {
	long only;       /* --vm, or -1 */
	const char *svg; /* --svg */
	bool quiet, drawn;
	unsigned int seen; /* VMs shown to inspect() so far */
	int err;
};

/* ex->inspect: dump one VM of the run. */
static void inspect(struct ex *ex, int fd, uint32_t vm_id, void *ctx)
{
	struct dump *d = ctx;
	struct pd_tree tree;
	unsigned int index = d->seen++;
	FILE *svg;
	int err;

	(void)ex;
	if (d->only >= 0 && index != (unsigned long)d->only)
		return;
	err = pd_tree_read(&tree, fd, vm_id);
	if (err) {
		fprintf(stderr, "gpuvm-ptdump: cannot read VM %u's tables: %s\n", vm_id,
			strerror(-err));
		d->err = err;
		return;
	}
	tree.index = index;
	if (!d->quiet)
		pd_text(&tree, stdout);
	if (d->svg && !d->drawn) {
		svg = fopen(d->svg, "w");
		if (svg) {
			pd_svg(&tree, svg);
			d->err = fclose(svg) ? -errno : d->err;
		} else {
			d->err = -errno;
		}
		d->drawn = true;
	}
	pd_tree_free(&tree);
}

static const struct option opts[] = {
	{ "script", required_argument, NULL, 's' },
	{ "trace", required_argument, NULL, 't' },
	{ "at", required_argument, NULL, 'a' },
	{ "vm", required_argument, NULL, 'v' },
	{ "svg", required_argument, NULL, 'g' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "files", required_argument, NULL, 'F' },
	{ "vms", required_argument, NULL, 'V' },
	{ "bos", required_argument, NULL, 'B' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static bool parse_num(const char *s, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 0);
	return !errno && end != s && !*end && *out >= 0 && *out <= max;
}

/* 0, 1 for --help, -EINVAL. */
static int parse(int argc, char **argv, struct ex *ex, struct dump *d)
{
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		bool ok = true;

		switch (c) {
		case 's':
			ex->cfg.script = optarg;
			break;
		case 't':
			ex->cfg.replay = optarg;
			break;
		case 'a':
			ok = parse_num(optarg, LONG_MAX, &ex->stop_after);
			break;
		case 'v':
			ok = parse_num(optarg, EX_MAX_VMS, &d->only);
			break;
		case 'g':
			d->svg = optarg;
			break;
		case 'q':
			d->quiet = true;
			break;
		case 'F':
			ok = parse_num(optarg, EX_MAX_FILES, &v) && v > 0 &&
			     (ex->cfg.files = (unsigned int)v);
			break;
		case 'V':
			ok = parse_num(optarg, EX_MAX_VMS / EX_MAX_FILES, &v) && v > 0 &&
			     (ex->cfg.vms = (unsigned int)v);
			break;
		case 'B':
			ok = parse_num(optarg, EX_MAX_BOS / EX_MAX_FILES, &v) && v > 0 &&
			     (ex->cfg.bos = (unsigned int)v);
			break;
		case 'h':
			return 1;
		default:
			ok = false;
			break;
		}
		if (!ok)
			return -EINVAL;
	}
	return optind == argc && !ex->cfg.script != !ex->cfg.replay ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	static struct ex ex;
	struct dump d = { .only = -1 };
	int ret;

	ex.cfg = (struct ex_cfg){
		.seed = 1, .files = 2, .vms = 2, .bos = 4, .quiet = true, .plant_mismatch = -1
	};
	ex.stop_after = -1;
	ret = parse(argc, argv, &ex, &d);
	if (ret) {
		usage(ret > 0 ? stdout : stderr);
		return ret > 0 ? 0 : 2;
	}
	if (launch_ensure_shim("gpuvm-ptdump", argv))
		return 2;
	ex.rng = ex.cfg.seed;
	ex.log = stderr;
	ex.inspect = inspect;
	ex.inspect_ctx = &d;
	ret = ex.cfg.replay ? ex_replay_main(&ex) : ex_exercise(&ex);
	if (d.err)
		return 2;
	if (d.svg && !d.drawn) {
		fprintf(stderr, "gpuvm-ptdump: no VM to draw\n");
		return 2;
	}
	return ret;
}
