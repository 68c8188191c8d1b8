// SPDX-License-Identifier: MIT
/*
 * run-igt RUN_UNDER_SHIM SHIM TEST [ARG...]: run the igt test TEST against the
 * mock device (RUN_UNDER_SHIM SHIM TEST ...), without root.
 *
 * libigt run as root changes the machine (igt-abi.md section 5.4): it unbinds
 * the framebuffer console through /sys/class/vtconsole, writes to /dev/kmsg,
 * calls sync() and tries to mount debugfs. None of that belongs in a test of
 * a mock device, so when started as root this launcher runs the test as the
 * unprivileged user "nobody" (uid and gid 65534, the kernel's overflow ids).
 *
 * "nobody" may not be able to reach the build tree: root's home and the
 * directories mktemp -d makes are mode 0700. So as root the three programs
 * (they need nothing else of the build tree) are first copied into a new
 * directory under /tmp that everyone can read; a child drops root and runs
 * them from there, and the parent removes the copies and exits as the test
 * did (128 + the signal if it was killed). The copies keep their names: igt
 * names the test after argv[0].
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534
#define NR_STAGED 3 /* RUN_UNDER_SHIM, SHIM, TEST */

static int drop_root(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
		perror("run-igt: cannot drop root");
		return -1;
	}
	return 0;
}

/* Copy @src to the new file @dst, mode 0755. */
static int copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, err = 0;
	char buf[1 << 16];
	ssize_t n;

	if (in >= 0)
		out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	while (out >= 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 || write(out, buf, (size_t)n) != n) {
			err = -1;
			break;
		}
	}
	if (in < 0 || out < 0 || (out >= 0 && fchmod(out, 0755)))
		err = -1;
	if (err)
		fprintf(stderr, "run-igt: cannot copy %s to %s: %s\n", src, dst, strerror(errno));
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out))
		err = -1;
	return err;
}

/* Copy @argv[0..NR_STAGED) into @dir, replacing them by the copies' paths. */
static int stage(char *dir, char **argv, char copies[NR_STAGED][PATH_MAX])
{
	for (int i = 0; i < NR_STAGED; i++) {
		char name[PATH_MAX];

		snprintf(name, sizeof(name), "%s", argv[i]);
		snprintf(copies[i], PATH_MAX, "%s/%s", dir, basename(name));
		if (copy_file(argv[i], copies[i]))
			return -1;
		argv[i] = copies[i];
	}
	return 0;
}

static void unstage(const char *dir, char copies[NR_STAGED][PATH_MAX])
{
	for (int i = 0; i < NR_STAGED; i++)
		if (copies[i][0])
			unlink(copies[i]);
	rmdir(dir);
}

/* The child: become "nobody" and run the staged programs. */
static void run_as_nobody(char **argv)
{
	if (drop_root())
		_exit(99);
	execv(argv[0], argv);
	perror(argv[0]);
	_exit(99);
}

/* As root: stage, run as "nobody", clean up; the test's exit status. */
static int run_staged(char **argv)
{
	char dir[] = "/tmp/run-igt-XXXXXX", copies[NR_STAGED][PATH_MAX] = { { 0 } };
	int status = 0, ret = 99;
	pid_t child;

	if (!mkdtemp(dir) || chmod(dir, 0755)) {
		perror("run-igt: cannot make a directory in /tmp");
		return 99;
	}
	if (stage(dir, argv, copies) == 0) {
		child = fork();
		if (child == 0)
			run_as_nobody(argv);
		/* A timeout's SIGTERM reaches the test too: wait for it, then clean up. */
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		if (child > 0 && waitpid(child, &status, 0) == child)
			ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		else
			perror("run-igt: fork/wait");
	}
	unstage(dir, copies);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s RUN_UNDER_SHIM SHIM TEST [ARG...]\n", argv[0]);
		return 2;
	}
	if (geteuid() == 0)
		return run_staged(argv + 1);
	execv(argv[1], argv + 1);
	perror(argv[1]);
	return 99;
}
