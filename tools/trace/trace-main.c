// SPDX-License-Identifier: MIT
/*
 * gpuvm-trace: record the DRM ioctls of a program into a gpuvm trace, or
 * print a trace as text. See usage().
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "trace-names.h"
#include "trace-read.h"

static void usage(FILE *out)
{
	fputs("usage: gpuvm-trace [-o FILE] [--mock] [--] PROGRAM [ARG]...\n"
	      "       gpuvm-trace --dump FILE\n"
	      "\n"
	      "Run PROGRAM, unmodified, with libgpuvm-trace.so preloaded: every BO, VM,\n"
	      "VM_BIND, syncobj, PRIME and group ioctl it makes on a DRM device (a real\n"
	      "panthor node, or the gpuvm mock) is recorded with its argument before and\n"
	      "after the call, the arrays it points to, and its result. Replay the trace\n"
	      "on the mock with: gpuvm-exercise --replay FILE\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output FILE  where the trace goes (default gpuvm.trace)\n"
	      "  --mock             run PROGRAM on the gpuvm mock device: preload its shim\n"
	      "                     after the recorder (gpuvm-exercise loads the shim by\n"
	      "                     itself and needs no --mock)\n"
	      "  --dump FILE        print the records of a trace as text\n"
	      "  -h, --help         this text\n"
	      "\n"
	      "The format is versioned and documented in docs/trace-format.md.\n"
	      "Environment: GPUVM_TRACE_LIB, GPUVM_MOCKDRM_SHIM override the libraries.\n",
	      out);
}

static void dump_arrays(const struct trace_record *rec)
{
	struct trace_array_view a;

	for (uint32_t i = 0; trace_record_array(rec, i, &a) == 0; i++)
		printf("    array role %u parent %u: %u x %u bytes\n", a.role, a.parent, a.count,
		       a.stride);
}

static int dump(const char *path)
{
	struct trace_reader *r;
	struct trace_record rec;
	int ret = trace_reader_open(path, &r);

	if (ret) {
		fprintf(stderr, "gpuvm-trace: %s: %s\n", path, strerror(-ret));
		return 1;
	}
	printf("gpuvm trace version %u\n", trace_reader_version(r));
	while ((ret = trace_reader_next(r, &rec)) > 0) {
		if (rec.type == TRACE_REC_OPEN)
			printf("file %u: open %s (minor %u)\n", rec.file, rec.path, rec.rdev_minor);
		else if (rec.type == TRACE_REC_CLOSE)
			printf("file %u: close\n", rec.file);
		else
			printf("#%u file %u: %s = %d\n", rec.seq, rec.file,
			       trace_ioctl_name(rec.request), rec.result);
		if (rec.type == TRACE_REC_IOCTL)
			dump_arrays(&rec);
	}
	if (ret < 0)
		fprintf(stderr, "gpuvm-trace: %s: malformed record\n", path);
	trace_reader_destroy(r);
	return ret < 0 ? 1 : 0;
}

/* Preload @lib (after what is preloaded already). */
static int preload(enum launch_lib lib, const char *what)
{
	char path[PATH_MAX];
	int err = launch_lib_path(lib, path, sizeof(path));

	if (!err)
		err = launch_preload(path);
	if (err)
		fprintf(stderr, "gpuvm-trace: cannot preload %s: %s\n", what, strerror(-err));
	return err;
}

static int record(const char *output, bool mock, char **argv)
{
	char abs[PATH_MAX];

	/* An absolute path: the program may change directory. */
	if (output[0] != '/' && getcwd(abs, sizeof(abs)) &&
	    strlen(abs) + strlen(output) + 2 <= sizeof(abs)) {
		strcat(abs, "/");
		strcat(abs, output);
		output = abs;
	}
	if (setenv("GPUVM_TRACE_FILE", output, 1) || preload(LAUNCH_TRACE, "the recorder") ||
	    (mock && preload(LAUNCH_SHIM, "the mock device's shim")))
		return 2;
	execvp(argv[0], argv);
	fprintf(stderr, "gpuvm-trace: cannot run %s: %s\n", argv[0], strerror(errno));
	return 127;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "mock", no_argument, NULL, 'm' },
		{ "dump", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *output = "gpuvm.trace";
	bool mock = false;
	int c;

	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'm':
			mock = true;
			break;
		case 'd':
			return dump(optarg);
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	return record(output, mock, argv + optind);
}
