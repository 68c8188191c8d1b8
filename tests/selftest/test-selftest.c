// SPDX-License-Identifier: MIT
/*
 * The core's self-tests in userspace: the same source gpuvm.ko runs in the
 * kernel (tools/kmod/), printing the same KTAP on stdout.
 * Usage: test-selftest [SEED]
 */
#include <stdio.h>
#include <stdlib.h>

#include <gpuvm/print_file.h>

#include "selftest.h"

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;

	/* Each line as it comes: a test that crashes leaves the lines before it. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	return gpuvm_selftest_run(gpuvm_print_file, stdout, seed) ? 1 : 0;
}
