// SPDX-License-Identifier: MIT
/*
 * run-igt RUN_UNDER_SHIM SHIM TEST [ARG...]: run the igt test TEST against the
 * mock device (RUN_UNDER_SHIM SHIM TEST ...), without root.
 *
 * libigt run as root changes the machine (igt-abi.md section 5.4): it unbinds
 * the framebuffer console through /sys/class/vtconsole, writes to /dev/kmsg,
 * calls sync() and tries to mount debugfs. None of that belongs in a test of
 * a mock device, so when started as root this launcher first becomes the
 * unprivileged user "nobody" (uid and gid 65534, the kernel's overflow ids).
 * The build directory must then be readable by everyone, as it is by default.
 */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NOBODY 65534

static int drop_root(void)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
		perror("run-igt: cannot drop root");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s RUN_UNDER_SHIM SHIM TEST [ARG...]\n", argv[0]);
		return 2;
	}
	if (drop_root())
		return 99;
	if (access(argv[1], X_OK) || access(argv[2], R_OK) || access(argv[3], X_OK)) {
		fprintf(stderr,
			"run-igt: user %u cannot run %s: %s (make the build tree readable)\n",
			(unsigned int)getuid(), argv[3], strerror(errno));
		return 99;
	}
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 99;
}
