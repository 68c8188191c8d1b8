// SPDX-License-Identifier: MIT
/*
 * run-under-shim SHIM PROGRAM [ARG...]: run PROGRAM with the mock device
 * preloaded, so that it finds a panthor device at /dev/dri/renderD128. Tests
 * that speak to the device through libdrm (as igt and Mesa do) run this way,
 * each in its own process and so with its own device.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim-preload.h"

int main(int argc, char **argv)
{
	char preload[2 * PATH_MAX + 2];

	if (argc < 3) {
		fprintf(stderr, "usage: %s SHIM PROGRAM [ARG...]\n", argv[0]);
		return 2;
	}
	shim_preload_value(argv[1], preload, sizeof(preload));
	if (setenv("LD_PRELOAD", preload, 1))
		return 99;
	execv(argv[2], argv + 2);
	perror(argv[2]);
	return 99;
}
